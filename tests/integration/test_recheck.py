"""Articles that change after publication, through Airflow: the seed archive is ingested, one TASS page's
headline and text are rewritten and another page is taken down on the replay server, and the
``media_recheck`` run an hour later records the revision with its diff and the deletion, once; the
analysts alerted to the TASS article are told it changed, once."""

from __future__ import annotations

import email
import email.policy
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from media_monitoring.replay import ReplayServer

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
EDITED_PAGE = "tass-en/politics/1354210.html"
OLD_TITLE = "Lavrov says CSTO ready to help Tajikistan protect border with Afghanistan"
NEW_TITLE = "Lavrov: CSTO will help Tajikistan guard Afghan border, troops on standby"
ADDED = "The foreign minister added that CSTO rapid reaction forces were on standby in the Khatlon region."
GONE_PAGE = "almayadeen-en/news/politics/lavrov-russia-does-not-want-us-army-in-central-asia.html"


@pytest.fixture
def live_replay(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    root = tmp_path / "replay"
    shutil.copytree(ROOT / "seeds" / "replay", root)
    with ReplayServer(root) as server:
        monkeypatch.setenv("MEDIA_MONITOR_REPLAY_BASE", server.base_url)
        yield root


def _rows(url: str, sql: str) -> list[dict]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return [dict(r) for r in conn.execute(sa.text(sql)).mappings()]
    finally:
        engine.dispose()


def test_a_rewritten_headline_and_a_removed_page_are_recorded_once(run_dag, live_replay, data_dir):
    url = f"sqlite:///{data_dir / 'warehouse.sqlite'}"
    # Pages are fetched at the wall clock's time; the re-check schedule counts from then.
    start = datetime.now(UTC).replace(microsecond=0)
    assert run_dag("media_ingest", start) == "success"
    assert run_dag("media_alerts", start + timedelta(minutes=2)) == "success"
    edited_id = _rows(url, f"select article_id from articles where url like '%{EDITED_PAGE}'")[0]["article_id"]
    gone_id = _rows(url, f"select article_id from articles where url like '%{GONE_PAGE}'")[0]["article_id"]

    # Too early: the articles get their schedule, nothing is fetched again.
    assert run_dag("media_recheck", start + timedelta(minutes=30)) == "success"
    schedule = _rows(url, "select article_id, checks_done from article_rechecks")
    with_hits = _rows(url, "select distinct article_id from watchlist_hits")
    assert {r["article_id"] for r in schedule} == {r["article_id"] for r in with_hits}
    assert all(r["checks_done"] == 0 for r in schedule)

    page = live_replay / EDITED_PAGE
    html = page.read_text(encoding="utf-8").replace(OLD_TITLE, NEW_TITLE)
    html = html.replace("The CSTO includes Armenia", f"{ADDED}</p>\n            <p>The CSTO includes Armenia", 1)
    page.write_text(html, encoding="utf-8")
    (live_replay / GONE_PAGE).unlink()

    assert run_dag("media_recheck", start + timedelta(minutes=61)) == "success"
    revisions = {r["article_id"]: r for r in _rows(url, "select * from article_revisions")}
    assert set(revisions) == {edited_id, gone_id}, revisions
    edited = revisions[edited_id]
    assert (edited["kind"], edited["check_no"], edited["http_status"]) == ("edited", 1, 200)
    assert (edited["title_before"], edited["title_after"]) == (OLD_TITLE, NEW_TITLE)
    assert f"-{OLD_TITLE}" in edited["diff"] and f"+{NEW_TITLE}" in edited["diff"] and ADDED in edited["diff"]
    assert edited["words_added"] >= len(ADDED.split()) and ADDED in edited["text_after"]
    assert (revisions[gone_id]["kind"], revisions[gone_id]["http_status"]) == ("deleted", 404)
    schedule = {r["article_id"]: r for r in _rows(url, "select * from article_rechecks")}
    assert schedule[gone_id]["next_check_at"] is None, "a page that is gone is not fetched again"
    assert all(r["checks_done"] == 1 for r in schedule.values())
    assert sum(r["last_outcome"] == "unchanged" for r in schedule.values()) == len(schedule) - 2

    # A rerun of the same run changes nothing: each check is made once.
    assert run_dag("media_recheck", start + timedelta(minutes=61)) == "success"
    assert len(_rows(url, "select * from article_revisions")) == 2
    assert all(r["checks_done"] == 1 for r in _rows(url, "select checks_done from article_rechecks"))

    # The subscriptions alerted to the TASS article hear that it changed, once (the alert run that the
    # revisions asset triggers; run here by hand, and again as a rerun).
    alerted = {r["subscription"] for r in _rows(
        url, f"select subscription from alerts where article_id = '{edited_id}' and state = 'sent'")}
    assert "Central Asia desk" in alerted
    for _ in range(2):
        assert run_dag("media_alerts", start + timedelta(minutes=62)) == "success"
    changed = _rows(url, f"select subscription, state, revision from alerts where article_id = '{edited_id}' "
                         "and revision is not null")
    assert {r["subscription"] for r in changed} == {"Central Asia desk"} | (alerted - {"Central Asia desk"})
    central = next(r for r in changed if r["subscription"] == "Central Asia desk")
    assert central["state"] == "sent"
    mails = [email.message_from_bytes(p.read_bytes(), policy=email.policy.default)
             for p in (data_dir / "outbox" / "alerts" / "central-asia-desk").glob("*.eml")]
    changed_mail = [m for m in mails if "changed since sent" in m["Subject"]]
    # one per revision (the TASS edit, the Al Mayadeen page taken down), none again on the rerun
    assert len(changed_mail) == 2
    tass = next(m.get_content() for m in changed_mail if "TASS" in m["Subject"])
    assert tass.startswith(NEW_TITLE) and f"headline was «{OLD_TITLE}»" in tass
