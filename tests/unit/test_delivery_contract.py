"""The delivery contract, on a real warehouse: every stored article that matches a subscription reaches it in
exactly one digest (stored late, undated, released from quarantine), a digest time missed while the
scheduler was down is sent once by the next run, each digest covers a window in the analyst's timezone,
regions of interest shape it, and a digest that cannot be sent is retried without resending the others."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from media_monitoring.config import ConfigError, load_analysts
from media_monitoring.digest.run import DigestDeliveryError, compose_digests, send_digests
from media_monitoring.settings import load_settings
from media_monitoring.warehouse import Warehouse
from media_monitoring.warehouse import articles as article_store
from media_monitoring.warehouse import digests as store
from media_monitoring.warehouse import feeds as feed_store
from media_monitoring.warehouse import quality as quality_store
from media_monitoring.warehouse import schema as s

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
WATCHLIST = "central-asia-security"
ANALYSTS = f"""\
sender: "Media Monitor <digest@example.org>"
operators: ["ops@example.org"]
subscriptions:
  - name: Kabul desk
    email: kabul@example.org
    watchlists: [{WATCHLIST}]
    timezone: UTC
    digest_time: "07:00"
  - name: New York desk
    email: ny@example.org
    watchlists: [{WATCHLIST}]
    timezone: America/New_York
    digest_time: "08:00"
  - name: Europe only
    email: europe@example.org
    watchlists: [{WATCHLIST}]
    regions: [Eastern Europe]
    regions_mode: only
    timezone: UTC
    digest_time: "07:00"
"""


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2021, 10, day, hour, minute, tzinfo=UTC)


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    config = tmp_path / "config"
    config.mkdir()
    for name in ("watchlists.yaml", "regions.yaml"):
        shutil.copy(ROOT / "include/config" / name, config / name)
    (config / "analysts.yaml").write_text(ANALYSTS, encoding="utf-8")
    return load_settings({"MEDIA_MONITOR_DATA_DIR": str(tmp_path / "data"), "MEDIA_MONITOR_CONFIG_DIR": str(config)})


@pytest.fixture
def wh(tmp_path: Path) -> Iterator[Warehouse]:
    warehouse = Warehouse.connect(f"sqlite:///{tmp_path / 'w.sqlite'}")
    yield warehouse
    warehouse.close()


def store_article(wh: Warehouse, ident: str, *, stored: datetime, published: datetime | None,
                  regions: tuple[str, ...] = ("Central Asia",), first_seen: datetime | None = None) -> None:
    """An article with one Lavrov hit, as the process step stores it at ``stored``."""
    url = f"https://news.example/{ident}"
    article = {"article_id": ident, "canonical_url": url, "url": url, "outlet_id": "tass-en",
               "title": f"Lavrov {ident}",
               "text": "Lavrov said", "word_count": 2, "sources": [], "countries": [], "regions": list(regions),
               "primary_region": regions[0] if regions else None, "published_at": published,
               "published_local": published.isoformat() if published else None, "language": "en",
               "first_seen_at": first_seen or stored, "stored_at": stored}
    hit = {"article_id": ident, "watchlist": WATCHLIST, "term": "Sergey Lavrov", "field": "title", "start": 0, "end": 6,
           "alias": "Lavrov", "matched": "Lavrov", "snippet": f"Lavrov {ident}", "version": "1"}
    article_store.commit_batch(wh, "run", [article], [hit], [], [], None)


def delivered(wh: Warehouse, subscription: str) -> dict[str, date]:
    """article id -> the digest (its date) that delivered it."""
    ledger = s.digest_ledger
    with wh.engine.connect() as conn:
        rows = conn.execute(sa.select(ledger.c.article_id, ledger.c.digest_date)
                            .where(ledger.c.subscription == subscription)).all()
    return dict(rows)


def run(wh: Warehouse, settings, now: datetime, day: date | None = None) -> list[dict]:
    return compose_digests(settings=settings, warehouse=wh, run_id=f"run {now.isoformat()}", now=now, day=day)


def test_late_undated_and_released_articles_each_reach_the_next_digest_once(wh, settings):
    store_article(wh, "on-time", stored=at(27, 12), published=at(27, 9))
    run(wh, settings, at(28, 7, 30))  # Kabul desk's 07:00 slot on the 28th has passed
    assert delivered(wh, "Kabul desk") == {"on-time": date(2021, 10, 27)}

    # after that digest: a page retried late (published before the window), an undated one, a release
    store_article(wh, "late", stored=at(28, 9), published=at(27, 20))
    store_article(wh, "undated", stored=at(28, 10), published=None)
    store_article(wh, "released", stored=at(28, 11), published=at(28, 10))
    run(wh, settings, at(28, 12))  # no slot passed since: nothing composed, nothing lost
    assert set(delivered(wh, "Kabul desk")) == {"on-time"}

    run(wh, settings, at(29, 7))
    got = delivered(wh, "Kabul desk")
    assert got == {"on-time": date(2021, 10, 27), "late": date(2021, 10, 28), "undated": date(2021, 10, 28),
                   "released": date(2021, 10, 28)}
    entries = {e["article_id"]: e for e in store.entries(wh, "Kabul desk", date(2021, 10, 28))}
    assert entries["late"]["late"] and not entries["released"]["late"] and not entries["undated"]["late"]

    # reruns and later runs never deliver an article twice
    for now in (at(29, 7), at(29, 8), at(30, 7)):
        run(wh, settings, now)
    with wh.engine.connect() as conn:
        per_article = conn.execute(sa.select(s.digest_entries.c.article_id, sa.func.count())
                                   .where(s.digest_entries.c.subscription == "Kabul desk")
                                   .group_by(s.digest_entries.c.article_id)).all()
    assert dict(per_article) == {"on-time": 1, "late": 1, "undated": 1, "released": 1}


def test_a_digest_time_missed_while_the_scheduler_was_down_is_sent_once_by_the_next_run(wh, settings):
    store_article(wh, "before", stored=at(27, 12), published=at(27, 11))
    run(wh, settings, at(28, 7))
    store_article(wh, "during", stored=at(28, 20), published=at(28, 19))
    # the scheduler is down from the 28th 21:00 to the 29th 10:00: no run at 07:00 on the 29th
    composed = run(wh, settings, at(29, 10))
    assert {c["subscription"] for c in composed} >= {"Kabul desk"}
    assert delivered(wh, "Kabul desk")["during"] == date(2021, 10, 28)
    row = store.digest(wh, "Kabul desk", date(2021, 10, 28))
    assert (row["window_start"], row["window_end"]) == (at(28, 7), at(29, 7))  # the slot, not the late run
    assert [c for c in run(wh, settings, at(29, 11)) if c["subscription"] == "Kabul desk"] == []


def test_each_window_is_the_analysts_own_day_and_time(wh, settings):
    # New York 08:00 is 12:00 UTC in October (EDT, UTC-4)
    store_article(wh, "ny", stored=at(28, 10), published=at(28, 9))
    assert [c for c in run(wh, settings, at(28, 11)) if c["subscription"] == "New York desk"] == []
    run(wh, settings, at(28, 12))
    row = store.digest(wh, "New York desk", date(2021, 10, 27))
    assert (row["window_start"], row["window_end"], row["timezone"]) == (at(27, 12), at(28, 12), "America/New_York")
    assert delivered(wh, "New York desk") == {"ny": date(2021, 10, 27)}


def test_a_new_subscription_starts_at_its_next_digest_time_not_with_a_missed_one(wh, settings):
    store_article(wh, "a", stored=at(27, 12), published=at(27, 11))
    assert run(wh, settings, at(28, 9)) == []  # 07:00 and 08:00 passed before these subscriptions existed
    assert {c["subscription"] for c in run(wh, settings, at(29, 7))} == {"Kabul desk", "Europe only"}
    # the contract starts with the first window (one day back from the first slot): the archive before it is
    # not pushed on a new subscriber (the view and a digest asked for a day reach it)
    assert delivered(wh, "Kabul desk") == {}
    # an article committed late with a stored time inside a window already sent goes to the next digest
    store_article(wh, "b", stored=at(28, 12), published=at(28, 11))
    run(wh, settings, at(30, 7))
    assert delivered(wh, "Kabul desk") == {"b": date(2021, 10, 29)}
    store_article(wh, "c", stored=at(30, 9), published=at(30, 8))
    run(wh, settings, at(31, 7))
    assert delivered(wh, "Kabul desk") == {"b": date(2021, 10, 29), "c": date(2021, 10, 30)}


def test_regions_of_interest_only_keeps_the_rest_out_and_undelivered(wh, settings):
    store_article(wh, "kabul", stored=at(27, 12), published=at(27, 11), regions=("Southern Asia",))
    store_article(wh, "moscow", stored=at(27, 13), published=at(27, 12), regions=("Eastern Europe",))
    run(wh, settings, at(28, 7))
    assert set(delivered(wh, "Europe only")) == {"moscow"}
    assert set(delivered(wh, "Kabul desk")) == {"kabul", "moscow"}
    row = store.digest(wh, "Europe only", date(2021, 10, 27))
    assert row["versions"]["regions_mode"] == "only" and row["item_count"] == 1


def test_a_day_asked_for_takes_that_days_articles_once_and_undated_ones_by_first_seen(wh, settings):
    store_article(wh, "day", stored=at(29, 1), published=at(27, 9))
    store_article(wh, "other-day", stored=at(29, 1), published=at(26, 9))
    store_article(wh, "undated", stored=at(29, 1), published=None, first_seen=at(27, 22))
    run(wh, settings, at(29, 2), day=date(2021, 10, 27))
    assert set(delivered(wh, "Kabul desk")) == {"day", "undated"}
    run(wh, settings, at(29, 3), day=date(2021, 10, 27))  # frozen: asked again, nothing changes
    assert set(delivered(wh, "Kabul desk")) == {"day", "undated"}
    run(wh, settings, at(29, 7))  # the next scheduled digest takes what no digest has had
    assert set(delivered(wh, "Kabul desk")) == {"day", "undated", "other-day"}


def test_an_old_article_that_matches_only_after_a_retag_is_not_pushed_into_the_next_digest(wh, settings):
    for day in range(10, 21):  # a subscriber since the 10th, a digest every morning
        run(wh, settings, at(day, 7))
    store_article(wh, "recent", stored=at(20, 12), published=at(20, 11))
    store_article(wh, "old", stored=at(11, 12), published=at(11, 11))  # 9 days before the window: a retag
    run(wh, settings, at(21, 7))
    assert set(delivered(wh, "Kabul desk")) == {"recent"}


def test_two_composers_cannot_deliver_one_article_twice(wh, settings):
    store_article(wh, "a", stored=at(27, 12), published=at(27, 11))
    run(wh, settings, at(28, 7))
    row = {**store.digest(wh, "Kabul desk", date(2021, 10, 27)), "digest_date": date(2021, 10, 30)}
    entry = {**store.entries(wh, "Kabul desk", date(2021, 10, 27))[0], "digest_date": date(2021, 10, 30)}
    with pytest.raises(sa.exc.IntegrityError):
        store.store_digest(wh, row, [entry])
    assert store.digest(wh, "Kabul desk", date(2021, 10, 30)) is None  # nothing of it was written


def test_sources_needing_attention_and_quality_are_those_of_the_window(wh, settings):
    def health(status: str, when: datetime) -> None:
        feed_store.save_feed_state(wh, {"outlet_id": "tass-en", "feed_url": "https://tass.com/rss",
                                        "status": status, "status_reason": f"{status} reason",
                                        "last_attempt_at": when})

    health("failing", at(27, 10))
    health("ok", at(27, 18))  # recovered inside the window
    quality_store.record_outlet_quality(wh, [{"run_id": "q1", "outlet_id": "tass-en", "articles": 4,
                                              "short_share": 0.25, "empty_share": 0.0, "quarantined_share": 0.5,
                                              "duplicate_share": 0.0, "failed_expectations": [],
                                              "drift_reason": None, "validated_at": at(27, 12)}])
    run(wh, settings, at(28, 7))
    context = store.digest(wh, "Kabul desk", date(2021, 10, 27))["context"]
    assert [(a["outlet_id"], a["status"], a["recovered"]) for a in context["attention"]] == [
        ("tass-en", "failing", True)]
    assert context["quality"][0]["summary"].startswith("4 articles, 2 quarantined, 1 short")

    health("blocked", at(28, 12))  # today's state does not rewrite yesterday's digest
    run(wh, settings, at(29, 7))
    assert store.digest(wh, "Kabul desk", date(2021, 10, 27))["context"] == context
    later = store.digest(wh, "Kabul desk", date(2021, 10, 28))["context"]
    assert [(a["status"], a["recovered"]) for a in later["attention"]] == [("blocked", False)]
    assert later["quality"] == []  # nothing validated in that window


def test_a_digest_that_cannot_be_sent_is_retried_without_resending_the_others(wh, settings):
    store_article(wh, "a", stored=at(27, 12), published=at(27, 11), regions=("Eastern Europe",))
    run(wh, settings, at(28, 7))
    run(wh, settings, at(28, 12))
    sent: list[list[str]] = []

    def flaky(sender: str, recipients: list[str], data: bytes) -> None:
        if recipients == ["ny@example.org"]:
            raise ConnectionRefusedError("mail server refused")
        sent.append(recipients)

    with pytest.raises(DigestDeliveryError, match="New York desk"):
        send_digests(settings=settings, warehouse=wh, run_id="r1", now=at(28, 12), smtp_send=flaky)
    assert sorted(sent) == [["europe@example.org"], ["kabul@example.org"]]
    assert store.sent(wh, date(2021, 10, 27), "New York desk")["status"] == "failed"

    sent.clear()
    results = send_digests(settings=settings, warehouse=wh, run_id="r2", now=at(28, 13),
                           smtp_send=lambda s_, r, d: sent.append(r))
    assert sent == [["ny@example.org"]] and list(results) == ["2021-10-27 New York desk"]
    assert store.received(wh, "New York desk")[0]["status"] == "sent"


def test_a_bad_timezone_or_digest_time_names_file_line_and_field(tmp_path):
    path = tmp_path / "analysts.yaml"
    path.write_text(ANALYSTS.replace('"08:00"', '"8.00"').replace("America/New_York", "America/Gotham"),
                    encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_analysts(path)
    message = str(err.value)
    assert f"{path}:12: subscriptions.1.timezone: Value error, unknown time zone 'America/Gotham'" in message
    assert f"{path}:13: subscriptions.1.digest_time: Value error, digest_time is HH:MM" in message


def test_the_run_clock_is_not_a_logical_date_so_a_day_has_24_slots_and_one_digest(wh, settings):
    store_article(wh, "a", stored=at(27, 12), published=at(27, 11))
    composed = [c for hour in range(24) for c in run(wh, settings, at(28, 0) + timedelta(hours=hour))
                if c["subscription"] == "Kabul desk"]
    assert [(c["digest_date"], c["articles"]) for c in composed] == [("2021-10-27", 1)]


def test_an_article_changed_after_its_digest_is_reported_once_by_the_next(wh, settings):
    from media_monitoring.digest.compose import load
    from media_monitoring.digest.render import render_digest

    def revise(ident: str, check_no: int, checked: datetime, **values) -> None:
        row = {"article_id": ident, "check_no": check_no, "checked_at": checked, "run_id": "recheck",
               "kind": "edited", "title_before": f"Lavrov {ident}", "title_after": f"Lavrov {ident}",
               "words_added": 0, "words_removed": 0, "diff": "", **values}
        with wh.engine.begin() as conn:
            conn.execute(s.article_revisions.insert(), [row])

    store_article(wh, "sent", stored=at(27, 12), published=at(27, 9))
    store_article(wh, "early", stored=at(27, 12), published=at(27, 9))
    revise("early", 1, at(27, 13), title_after="Lavrov early, corrected")  # before any digest: nothing to report
    run(wh, settings, at(28, 7, 30))
    assert set(delivered(wh, "Kabul desk")) == {"sent", "early"}
    assert store.digest(wh, "Kabul desk", date(2021, 10, 27))["context"]["changed"] == []

    revise("sent", 1, at(28, 9), title_after="Lavrov: CSTO ready to act", words_added=12)
    revise("sent", 2, at(29, 9), kind="deleted", title_after="")  # after the next digest: the one after
    run(wh, settings, at(29, 7, 30))
    changed = store.digest(wh, "Kabul desk", date(2021, 10, 28))["context"]["changed"]
    assert [(c["article_id"], c["title"], c["what"]) for c in changed] == [
        ("sent", "Lavrov: CSTO ready to act", "headline was «Lavrov sent»; text +12/-0 words")]
    assert store.digest(wh, "Europe only", date(2021, 10, 28))["context"]["changed"] == []  # never received it
    kabul = next(x for x in load_analysts(settings.analysts_file).subscriptions if x.name == "Kabul desk")
    text = render_digest(load(wh, kabul, date(2021, 10, 28), {})).text
    assert "== Changed since sent ==" in text and "headline was «Lavrov sent»" in text

    run(wh, settings, at(29, 7, 30))  # a rerun reports nothing twice
    run(wh, settings, at(30, 7, 30))
    later = store.digest(wh, "Kabul desk", date(2021, 10, 29))["context"]["changed"]
    assert [(c["article_id"], c["what"]) for c in later] == [("sent", "taken down")]
