"""A late article, end to end through Airflow: the digest is sent, a new article for that day appears in a feed,
the next ingest stores it, and it arrives in the next digest of every matching subscriber, in no other, and
in none twice (real dag.test runs, the replay server, a real SMTP server)."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from media_monitoring.replay import ReplayServer

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
LATE_PATH = "/tass-en/politics/1354999.html"
SCHEDULED = {"digest_date": ""}  # the DAG's default, given explicitly: dag.test keeps an earlier test's conf
LATE_TITLE = "Lavrov: CSTO to hold extra drills on the Tajik-Afghan border in November"
ANALYSTS = """\
sender: "Media Monitor <digest@example.org>"
operators: ["ops@example.org"]
subscriptions:
  - name: Morning desk
    email: morning@example.org
    watchlists: [central-asia-security]
    timezone: UTC
    digest_time: "12:00"
  - name: Almaty desk
    email: almaty@example.org
    watchlists: [central-asia-security]
    timezone: Asia/Almaty
    digest_time: "18:00"
  - name: Americas only
    email: americas@example.org
    watchlists: [central-asia-security]
    regions: [Northern America]
    regions_mode: only
    timezone: UTC
    digest_time: "12:00"
"""
PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title} - TASS</title>
<meta property="og:site_name" content="TASS"><meta property="og:title" content="{title}">
<link rel="canonical" href="{{{{REPLAY_BASE}}}}{path}">
<meta property="article:published_time" content="2021-10-28T12:00:00+03:00">
</head><body><article><h1>{title}</h1>
<p>MOSCOW, October 28. /TASS/. The Collective Security Treaty Organization (CSTO) will hold additional
exercises near the border between Tajikistan and Afghanistan in November, Russian Foreign Minister Sergey
Lavrov said on Thursday after talks with his Tajik counterpart in Moscow.</p>
<p>"We are following the situation on the Tajik-Afghan border on a daily basis, and the allies agreed that
extra drills will help the border guards," Lavrov told reporters. He added that the CSTO rapid reaction
force would take part and that the Afghan side had been informed through diplomatic channels.</p>
<p>The exercises will involve units from Russia, Kazakhstan, Kyrgyzstan and Tajikistan, according to the
minister, who said the date and the scale would be announced by the defence ministries next week.</p>
</article></body></html>
"""
ITEM = """    <item>
      <title>{title}</title>
      <link>{{{{REPLAY_BASE}}}}{path}</link>
      <guid isPermaLink="false">1354999</guid>
      <pubDate>Thu, 28 Oct 2021 12:00:00 +0300</pubDate>
      <description>Extra CSTO drills on the Tajik-Afghan border.</description>
    </item>
"""


def _ledger(url: str) -> list[tuple[str, str, str]]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return sorted(conn.execute(sa.text(
                "select l.subscription, a.url, l.digest_date from digest_ledger l "
                "join articles a on a.article_id = l.article_id")).all())
    finally:
        engine.dispose()


def _mails_to(mailbox, address: str) -> list[str]:
    return [msg.get_body(preferencelist=("plain",)).get_content()
            for _, rcpts, msg in mailbox.messages if address in rcpts]


def test_an_article_stored_after_its_days_digest_reaches_the_next_digest_of_each_matching_subscriber(
        run_dag, smtp_server, data_dir, tmp_path, monkeypatch):
    replay = tmp_path / "replay"
    shutil.copytree(ROOT / "seeds" / "replay", replay)
    config = tmp_path / "config"
    shutil.copytree(ROOT / "include" / "config", config)
    (config / "analysts.yaml").write_text(ANALYSTS, encoding="utf-8")
    monkeypatch.setenv("MEDIA_MONITOR_CONFIG_DIR", str(config))
    warehouse = f"sqlite:///{data_dir / 'warehouse.sqlite'}"

    with ReplayServer(replay) as server:
        monkeypatch.setenv("MEDIA_MONITOR_REPLAY_BASE", server.base_url)
        late_url = server.base_url + LATE_PATH
        assert run_dag("media_ingest", datetime(2021, 10, 28, 10, tzinfo=UTC)) == "success"
        # 12:00 UTC: the Morning and Almaty desks' digest time (18:00 in Almaty); the first digests go out
        assert run_dag("media_digest", datetime(2021, 10, 28, 12, tzinfo=UTC), SCHEDULED) == "success"
        first = _ledger(warehouse)
        assert {sub for sub, _url, _day in first} >= {"Morning desk", "Almaty desk"}
        assert all(url != late_url for _sub, url, _day in first)
        sent_before = len(smtp_server.messages)
        assert sent_before >= 2

        # TASS publishes an article dated 12:00 Moscow (09:00 UTC, before the digest went out); it is
        # polled and stored only at 13:00
        (replay / LATE_PATH.lstrip("/")).write_text(PAGE.format(title=LATE_TITLE, path=LATE_PATH), encoding="utf-8")
        feed = replay / "tass-en" / "rss.xml"
        rss = feed.read_text(encoding="utf-8")
        feed.write_text(rss.replace("    <item>", ITEM.format(title=LATE_TITLE, path=LATE_PATH) + "    <item>", 1),
                        encoding="utf-8")
        assert run_dag("media_ingest", datetime(2021, 10, 28, 13, tzinfo=UTC)) == "success"
        assert run_dag("media_digest", datetime(2021, 10, 28, 14, tzinfo=UTC), SCHEDULED) == "success"
        assert len(smtp_server.messages) == sent_before, "no digest time passed: nothing is sent"

        assert run_dag("media_digest", datetime(2021, 10, 29, 12, tzinfo=UTC), SCHEDULED) == "success"
        assert run_dag("media_digest", datetime(2021, 10, 29, 12, tzinfo=UTC), SCHEDULED) == "success"  # a rerun

    ledger = _ledger(warehouse)
    late = [(sub, str(day)) for sub, url, day in ledger if url == late_url]
    assert late == [("Almaty desk", "2021-10-28"), ("Morning desk", "2021-10-28")]
    assert len(ledger) == len(set((sub, url) for sub, url, _ in ledger)), "an article reached a subscriber twice"
    assert set(ledger) - set(first) == {(sub, late_url, day) for sub, url, day in ledger if url == late_url}

    for address in ("morning@example.org", "almaty@example.org"):
        first_mail, second_mail = _mails_to(smtp_server, address)
        assert late_url not in first_mail
        assert late_url in second_mail and LATE_TITLE in second_mail
        assert "published earlier, first seen now" in second_mail
        assert "Covers articles stored from" in second_mail
    almaty = _mails_to(smtp_server, "almaty@example.org")[1]
    assert "28 Oct 2021 18:00 to 29 Oct 2021 18:00 (Asia/Almaty)" in almaty  # the window on the analyst's clock
    assert all(late_url not in mail for mail in _mails_to(smtp_server, "americas@example.org"))
