"""Watchlists and subscriptions in the warehouse: what the YAML files import and when, that a change made in the
view survives a redeploy, proposals (stale ones refused), the backtest's counts, and subscriptions edited in the
view, on an embedded warehouse."""

from __future__ import annotations

import logging
import shutil
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import yaml

from media_monitoring.config import Alias, Term
from media_monitoring.curation import backtest
from media_monitoring.curation import subscriptions as subs
from media_monitoring.curation import watchlists as wl
from media_monitoring.settings import load_settings
from media_monitoring.warehouse import Warehouse
from media_monitoring.warehouse import articles as article_store
from media_monitoring.warehouse import feedback as fb

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
WHEN = datetime(2021, 10, 28, 6, 30, tzinfo=UTC)
LIST = "central-asia-security"


@pytest.fixture
def settings(tmp_path):
    shutil.copytree(ROOT / "include" / "config", tmp_path / "config")
    return load_settings({"MEDIA_MONITOR_DATA_DIR": str(tmp_path / "data"),
                          "MEDIA_MONITOR_CONFIG_DIR": str(tmp_path / "config")})


@pytest.fixture
def wh(tmp_path):
    warehouse = Warehouse.connect(f"sqlite:///{tmp_path / 'w.sqlite'}")
    yield warehouse
    warehouse.close()


def _edit_file(path: Path, change) -> None:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")


def _propose(wh, current, term: Term, replaces: str | None = None) -> wl.Proposal:
    with wh.engine.begin() as conn:
        pid = wl.propose(wh, conn, watchlist=current, term=term, replaces=replaces, author="ana", note="why",
                         at=WHEN)
    proposal = wl.get_proposal(wh, pid)
    assert proposal is not None and proposal.status == wl.OPEN
    return proposal


def _activate(wh, proposal, current) -> dict:
    with wh.engine.begin() as conn:
        return wl.activate(wh, conn, proposal, current=current, author="ana", at=datetime.now(UTC))


def test_the_file_is_imported_once_and_a_view_change_survives_a_redeploy(settings, wh, caplog):
    first = wl.in_force(settings, wh).watchlists[0]
    [row] = wl.history(wh, LIST)
    assert (row["source"], row["version"], row["author"]) == ("file", first.version, "watchlists.yaml")
    assert wl.in_force(settings, wh).watchlists[0] == first and len(wl.history(wh, LIST)) == 1  # a redeploy

    tajik = Term(name="Tajikistan", aliases=(Alias(text="Tajikistan"), Alias(text="Dushanbe")))
    row = _activate(wh, _propose(wh, first, tajik), first)
    now = wl.in_force(settings, wh).watchlists[0]
    assert now.version == row["version"] != first.version and now.terms[-1] == tajik
    assert "+- name: Tajikistan" in row["diff"] and "+  - text: Dushanbe" in row["diff"]
    assert wl.in_force(settings, wh).watchlists[0] == now, "the same file again: the view's version stays"

    # The file changed without a new version: ignored, with a warning.
    _edit_file(settings.watchlists_file, lambda d: d["watchlists"][0]["terms"].pop())
    with caplog.at_level(logging.WARNING):
        assert wl.in_force(settings, wh).watchlists[0] == now
    assert "ignored until its version is bumped" in caplog.text

    # A reviewed change with a new version is imported and replaces the view's version, which stays in history.
    _edit_file(settings.watchlists_file, lambda d: d["watchlists"][0].update(version="2099.1.1"))
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        latest = wl.in_force(settings, wh).watchlists[0]
    assert latest.version == "2099.1.1" and "made in the view by ana" in caplog.text
    assert [r["version"] for r in wl.history(wh, LIST)] == ["2099.1.1", now.version, first.version]
    assert yaml.safe_load(wl.export(wl.in_force(settings, wh)))["watchlists"][0]["version"] == "2099.1.1"


def test_a_proposal_written_against_an_older_version_is_refused(settings, wh):
    current = wl.in_force(settings, wh).watchlists[0]
    one = _propose(wh, current, Term(name="Dushanbe", aliases=(Alias(text="Dushanbe"),)))
    two = _propose(wh, current, Term(name="Bishkek", aliases=(Alias(text="Bishkek"),)))
    _activate(wh, one, current)
    with pytest.raises(wl.StaleProposal, match="Propose the change again"):
        _activate(wh, two, wl.in_force(settings, wh).watchlists[0])
    with pytest.raises(wl.StaleProposal, match="activated already"):
        _activate(wh, wl.get_proposal(wh, one.id), wl.in_force(settings, wh).watchlists[0])
    assert wl.get_proposal(wh, two.id).status == wl.OPEN


def test_problems_name_what_to_fix(settings, wh):
    current = wl.in_force(settings, wh).watchlists[0]
    csto = next(t for t in current.terms if t.name == "CSTO")
    assert wl.problems(current, Term(name="csto", aliases=(Alias(text="x"),)), None) == [
        f"{LIST} already has a term “csto”: change that term instead."]
    assert wl.problems(current, csto, "CSTO") == [
        "The proposal is the same as the term “CSTO” in force: nothing would change."]
    twice = Term(name="New", aliases=(Alias(text="Foo"), Alias(text="foo")), exclude=("Foo",))
    assert wl.problems(current, twice, None) == ["Each alias once: “foo” appear twice.",
                                                 "An alias cannot also be an exclusion: “foo”."]


def _article(article_id: str, text: str, day: int) -> dict:
    return {"article_id": article_id, "canonical_url": f"https://x.org/{article_id}", "url": f"https://x.org/{article_id}",
            "outlet_id": "tass-en", "title": f"Story {article_id}", "text": text, "word_count": len(text.split()),
            "sources": [], "countries": [], "regions": [], "published_at": datetime(2021, 10, day, 9, tzinfo=UTC)}


def test_a_backtest_lists_what_the_change_adds_and_removes_and_the_wrong_hits_it_drops(settings, wh):
    current = wl.in_force(settings, wh).watchlists[0]
    article_store.commit_batch(wh, "r1", [
        _article("a1", "Talks in Dushanbe on the Afghan border.", 27),  # Afghanistan in force; + Dushanbe
        _article("a2", "An Afghan hound won the show in Dushanbe.", 27),  # excluded as a dog either way
        _article("a3", "Afghan rugs and Afghan carpets at the market.", 28),  # "Afghan carpets": removed below
        _article("a4", "Nothing about the region.", 28),
    ], [{"article_id": "a3", "watchlist": LIST, "term": "Afghanistan", "field": "text", "start": 21, "end": 27,
         "alias": "Afghan", "matched": "Afghan", "snippet": "Afghan carpets", "version": current.version}],
        [], [], None)
    with wh.engine.begin() as conn:
        fb.record_mark(wh, conn, fb.Mark(article_id="a3", watchlist=LIST, term="Afghanistan", kind=fb.NOT_RELEVANT,
                                         user_name="ana", rule_version=current.version, at=WHEN))
    afghanistan = next(t for t in current.terms if t.name == "Afghanistan")
    changed = afghanistan.model_copy(update={
        "aliases": (*afghanistan.aliases, Alias(text="Dushanbe")),
        "exclude": (*afghanistan.exclude, "Afghan carpets")})
    proposal = _propose(wh, current, changed, "Afghanistan")
    result = backtest.run(wh, current, proposal.applied_to(current, "next"), date(2021, 10, 1), date(2021, 10, 31))
    assert result.terms == ["Afghanistan"] and result.articles == 4 and not result.truncated
    assert result.days == {date(2021, 10, 27): (1, 2), date(2021, 10, 28): (1, 0)}
    assert [(c.article_id, c.hit.matched) for c in result.added] == [("a2", "Dushanbe")]
    assert [(c.article_id, c.hit.matched) for c in result.removed] == [("a3", "Afghan")]
    assert [(m["article_id"], m["user_name"]) for m in result.wrong_removed] == [("a3", "ana")]
    assert result.summary()["marked_wrong_removed"] == 1 and result.summary()["added"] == 1
    with pytest.raises(ValueError, match="ends"):
        backtest.run(wh, current, current, date(2021, 10, 2), date(2021, 10, 1))


def test_a_subscription_saved_in_the_view_is_in_force_until_the_file_changes_it(settings, wh):
    desk = subs.in_force(settings, wh).subscriptions[0]
    edited = desk.model_copy(update={"digest_time": "09:15", "regions": ("Central Asia",)})
    with wh.engine.begin() as conn:
        row = subs.save(conn, edited, previous=desk, author="ana", at=WHEN)
    assert "digest_time: 07:00 → 09:15" in row["diff"]
    assert subs.in_force(settings, wh).subscriptions[0] == edited
    assert subs.in_force(settings, wh).subscriptions[0] == edited, "a redeploy of the same file changes nothing"
    _edit_file(settings.analysts_file, lambda d: d["subscriptions"][0].update(timezone="Asia/Tashkent"))
    now = subs.in_force(settings, wh).subscriptions[0]
    assert (now.timezone, now.digest_time) == ("Asia/Tashkent", "07:00"), "a reviewed change to the file wins"
    assert [r["source"] for r in subs.history(wh, desk.name)] == ["file", "view", "file"]


def test_the_cli_exports_what_is_in_force_and_prints_the_history(settings, wh, tmp_path, monkeypatch, capsys):
    from media_monitoring.cli import main

    monkeypatch.setenv("MEDIA_MONITOR_CONFIG_DIR", str(settings.config_dir))
    current = wl.in_force(settings, wh).watchlists[0]
    _activate(wh, _propose(wh, current, Term(name="Dushanbe", aliases=(Alias(text="Dushanbe"),))), current)
    url = str(wh.engine.url)
    out = tmp_path / "watchlists.yaml"
    assert main(["watchlists", "export", "--warehouse", url, "-o", str(out)]) == 0
    exported = yaml.safe_load(out.read_text(encoding="utf-8"))["watchlists"][0]
    assert exported["terms"][-1] == {"name": "Dushanbe", "aliases": [{"text": "Dushanbe"}]}
    assert exported["version"] != current.version
    assert main(["watchlists", "history", LIST, "--warehouse", url]) == 0
    printed = capsys.readouterr().out
    assert printed.index("(in force)") < printed.index(f"== {current.version}") and "+- name: Dushanbe" in printed
    assert main(["watchlists", "history", "nope", "--warehouse", url]) == 2
