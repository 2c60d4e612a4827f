"""Priority alerts on a real warehouse: one alert per story and subscription, quiet hours and the rate limit
hold alerts until a later run, the digest supersedes a held alert, a failed channel is retried without
resending the others; the latency table and the config that drives it."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from media_monitoring.config import ConfigError, load_analysts, load_registry
from media_monitoring.latency import latency_table, percentile
from media_monitoring.pipeline import polling_policy
from media_monitoring.priority import AlertDeliveryError, quiet_until, select_alerts, send_alerts
from media_monitoring.settings import load_settings, webhook_url_from_parts
from media_monitoring.warehouse import Warehouse
from media_monitoring.warehouse import alerts as store
from media_monitoring.warehouse import articles as article_store
from media_monitoring.warehouse import schema as s
from media_monitoring.warehouse import stories as story_store

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
WATCHLIST = "central-asia-security"
ANALYSTS = f"""\
sender: "Media Monitor <digest@example.org>"
subscriptions:
  - name: Desk
    email: desk@example.org
    watchlists: [{WATCHLIST}]
    timezone: Europe/Moscow
    alerts:
      enabled: true
      webhooks: [hook]
      quiet_hours: "22:00-07:00"
      max_per_hour: 2
  - name: Digest only
    email: digest@example.org
    watchlists: [{WATCHLIST}]
"""


def at(hour: int, minute: int = 0, day: int = 22) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


@pytest.fixture
def settings(tmp_path: Path):
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


def store_article(wh: Warehouse, ident: str, *, story: str, stored: datetime, term: str = "Lavrov",
                  published: datetime | None = None) -> None:
    """An article with one hit of ``term``, stored at ``stored`` and placed in ``story``."""
    url = f"https://news.example/{ident}"
    published = published or stored - timedelta(minutes=5)
    article = {"article_id": ident, "canonical_url": url, "url": url, "outlet_id": "tass-en",
               "title": f"{term} {ident}", "text": f"{term} said", "word_count": 2, "sources": [], "countries": [],
               "regions": [],
               "published_at": published, "published_local": published.isoformat(), "language": "en",
               "first_seen_at": published + timedelta(minutes=1), "fetched_at": published + timedelta(minutes=1),
               "stored_at": stored}
    hit = {"article_id": ident, "watchlist": WATCHLIST, "term": term, "field": "title", "start": 0, "end": 6,
           "alias": term, "matched": term, "snippet": f"{term} {ident}", "version": "1"}
    article_store.commit_batch(wh, "run", [article], [hit], [], [], None)
    story_store.save_stories(wh, [{"article_id": ident, "story_id": story, "matched_article_id": None,
                                   "similarity": None, "duplicate_of": None}], [])


class Channels:
    """What was sent: emails (recipients) and webhook POSTs (url, idempotency key); can fail the webhook."""

    def __init__(self) -> None:
        self.emails: list[list[str]] = []
        self.posts: list[tuple[str, str]] = []
        self.webhook_down = False

    def smtp(self, sender: str, recipients: list[str], data: bytes) -> None:
        self.emails.append(recipients)

    def post(self, url: str, payload: dict, key: str) -> None:
        if self.webhook_down:
            raise ConnectionError("receiver down")
        self.posts.append((url, key))


def run(wh: Warehouse, settings, ch: Channels, now: datetime) -> dict[str, int]:
    select_alerts(settings=settings, warehouse=wh, run_id=f"r {now}", now=now)
    return send_alerts(settings=settings, warehouse=wh, run_id=f"r {now}", now=now, smtp_send=ch.smtp,
                       webhook_url=lambda conn_id: f"http://hooks.example/{conn_id}", post=ch.post)


def states(wh: Warehouse) -> dict[str, str]:
    with wh.engine.connect() as conn:
        return dict(conn.execute(sa.select(s.alerts.c.story_id, s.alerts.c.state)).all())


def test_one_alert_per_story_and_only_priority_terms(wh, settings):
    ch = Channels()
    store_article(wh, "a1", story="s1", stored=at(12))
    store_article(wh, "a2", story="s1", stored=at(12))  # the same story in the same batch
    store_article(wh, "afg", story="s2", stored=at(12), term="Afghanistan")  # not a priority term
    assert run(wh, settings, ch, at(12, 1))["sent"] == 1
    assert ch.emails == [["desk@example.org"]]  # the digest-only subscription gets no alert
    assert ch.posts == [("http://hooks.example/hook", "desk.s1")]

    store_article(wh, "a3", story="s1", stored=at(12, 10))  # a later article of the story: no new alert
    assert run(wh, settings, ch, at(12, 11))["sent"] == 0
    assert run(wh, settings, ch, at(12, 1))["sent"] == 0  # a rerun of the first run sends nothing again
    assert len(ch.emails) == 1 and len(ch.posts) == 1
    with wh.engine.connect() as conn:
        lead = conn.execute(sa.select(s.alerts.c.article_id, s.alerts.c.sent_at)).one()
    assert lead[0] == "a1" and lead[1].replace(tzinfo=UTC) == at(12, 1)  # SQLite hands back naive UTC


def test_quiet_hours_hold_alerts_until_they_end(wh, settings):
    ch = Channels()
    store_article(wh, "night", story="n", stored=at(20, 30))  # 23:30 in Moscow
    counts = run(wh, settings, ch, at(20, 31))
    assert counts["quiet_hours"] == 1 and ch.emails == []
    with wh.engine.connect() as conn:
        held = conn.execute(sa.select(s.alerts.c.held)).scalar_one()
    assert held.startswith("quiet hours until 23 Nov 2026 07:00 MSK")
    assert run(wh, settings, ch, at(4, 10, day=23))["sent"] == 1  # 07:10 in Moscow: the next run sends it
    assert len(ch.emails) == 1


def test_quiet_until_windows():
    from media_monitoring.config import Subscription

    sub = Subscription(name="x", email="x@example.org", watchlists=(), timezone="UTC",
                       alerts={"enabled": True, "quiet_hours": "22:00-07:00"})
    assert quiet_until(sub, at(23)) == at(7, day=23)
    assert quiet_until(sub, at(6, 59)) == at(7)
    assert quiet_until(sub, at(7)) is None and quiet_until(sub, at(21, 59)) is None
    day = Subscription(name="x", email="x@example.org", watchlists=(), alerts={"quiet_hours": "12:00-13:30"})
    assert quiet_until(day, at(12, 15)) == at(13, 30) and quiet_until(day, at(14)) is None


def test_rate_limit_holds_the_rest_for_the_next_hour(wh, settings):
    ch = Channels()
    for i in range(3):
        store_article(wh, f"r{i}", story=f"r{i}", stored=at(12))
    counts = run(wh, settings, ch, at(12, 1))
    assert counts["sent"] == 2 and counts["rate_limited"] == 1  # max_per_hour: 2, oldest first
    assert run(wh, settings, ch, at(12, 31))["rate_limited"] == 1  # still 2 in the last hour
    assert run(wh, settings, ch, at(13, 2))["sent"] == 1
    assert len(ch.emails) == 3 and set(states(wh).values()) == {"sent"}


def test_a_held_alert_the_digest_delivered_is_not_sent(wh, settings):
    ch = Channels()
    store_article(wh, "held", story="h", stored=at(20, 30))
    run(wh, settings, ch, at(20, 31))  # quiet hours
    with wh.engine.begin() as conn:
        conn.execute(s.digest_ledger.insert().values(subscription="Desk", article_id="held",
                                                     digest_date=datetime(2026, 11, 23).date()))
    assert run(wh, settings, ch, at(4, 10, day=23))["in_digest"] == 1
    assert ch.emails == [] and states(wh) == {"h": "in_digest"}


def test_a_failed_webhook_is_retried_without_resending_the_email(wh, settings):
    ch = Channels()
    ch.webhook_down = True
    store_article(wh, "w", story="w", stored=at(12))
    with pytest.raises(AlertDeliveryError, match="webhook:hook"):
        run(wh, settings, ch, at(12, 1))
    assert len(ch.emails) == 1 and states(wh) == {"w": "pending"}
    sends = store.send_log(wh, "Desk", "w")
    assert sends["email"]["status"] == "sent" and sends["webhook:hook"]["status"] == "failed"
    ch.webhook_down = False
    assert run(wh, settings, ch, at(12, 1))["sent"] == 1  # the retry
    assert len(ch.emails) == 1 and len(ch.posts) == 1
    assert store.send_log(wh, "Desk", "w")["webhook:hook"]["attempts"] == 2


def test_missing_webhook_connection_is_recorded_as_skipped(wh, settings):
    ch = Channels()
    store_article(wh, "m", story="m", stored=at(12))
    select_alerts(settings=settings, warehouse=wh, run_id="r", now=at(12, 1))
    send_alerts(settings=settings, warehouse=wh, run_id="r", now=at(12, 1), smtp_send=None,
                webhook_url=lambda conn_id: None, post=ch.post)
    sends = store.send_log(wh, "Desk", "m")
    assert sends["webhook:hook"]["status"] == "skipped" and "no Airflow connection" in sends["webhook:hook"]["error"]
    assert sends["email"]["transport"] == "outbox" and Path(sends["email"]["location"]).is_file()


def test_articles_stored_before_the_lookback_do_not_alert(wh, settings):
    ch = Channels()
    store_article(wh, "old", story="o", stored=at(2))
    assert run(wh, settings, ch, at(12))["sent"] == 0 and states(wh) == {}


def test_latency_percentiles_and_flags(wh, settings):
    assert percentile([], 95) is None and percentile([5], 95) == 5
    assert percentile([1, 2, 3, 4], 50) == 2.5 and percentile(list(range(101)), 95) == 95
    ch = Channels()
    store_article(wh, "fast", story="f", stored=at(12), published=at(11, 55))
    store_article(wh, "slow", story="sl", stored=at(12, 30), published=at(11, 0), term="CSTO")
    run(wh, settings, ch, at(12, 1))
    run(wh, settings, ch, at(12, 31))
    rows = store.latency_rows(wh)
    by_term = {r["term"]: r for r in latency_table(rows, by="term", priority_terms=["Lavrov", "CSTO"])}
    assert by_term["Lavrov"]["alert_p50_s"] == 6 * 60 and by_term["Lavrov"]["flags"] == []
    assert by_term["CSTO"]["alert_p95_s"] == 91 * 60 and by_term["CSTO"]["flags"] == ["alert p95 over 15.0m"]
    outlets = latency_table(rows, by="outlet", priority_outlets=[])
    assert outlets[0]["outlet"] == "tass-en" and outlets[0]["flags"] == []  # not a priority outlet: no target
    assert outlets[0]["stored_p50_s"] is not None and outlets[0]["digested"] == 0


def test_alert_options_errors_name_file_and_line(tmp_path):
    bad = tmp_path / "analysts.yaml"
    bad.write_text(ANALYSTS.replace('"22:00-07:00"', '"22-7"'), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"analysts.yaml:10: subscriptions.0.alerts.quiet_hours: .*HH:MM-HH:MM"):
        load_analysts(bad)
    bad.write_text(ANALYSTS.replace("[hook]", "[https://hooks.example/secret]"), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"analysts.yaml:9: subscriptions.0.alerts.webhooks"):
        load_analysts(bad)


def test_priority_outlets_are_polled_at_their_fixed_interval():
    registry = load_registry(ROOT / "seeds/replay/outlets.yaml", "http://127.0.0.1:1")
    assert {o.id for o in registry.outlets if o.priority} == {"tass-en", "ria-ru"}
    fast, normal = polling_policy(registry, priority=True), polling_policy(registry)
    assert fast.min_interval == fast.max_interval == timedelta(minutes=5)
    assert normal.min_interval == timedelta(minutes=15) and normal.max_interval == timedelta(hours=6)


def test_webhook_url_from_connection_fields():
    assert webhook_url_from_parts(host="127.0.0.1", port=9000, schema="http", extra={"endpoint": "/hook"}) \
        == "http://127.0.0.1:9000/hook"
    assert webhook_url_from_parts(host="https://hooks.slack.com/services/T/B/X", port=None, schema=None,
                                  extra={}) == "https://hooks.slack.com/services/T/B/X"
    assert webhook_url_from_parts(host="hooks.example", port=None, schema=None, extra=None) == "https://hooks.example"
    with pytest.raises(ValueError, match="schema"):
        webhook_url_from_parts(host="hooks.example", port=None, schema="ftp", extra=None)


def test_latency_command_prints_the_table_and_fails_on_a_missed_target(wh, settings, tmp_path, capsys, monkeypatch):
    import json

    from media_monitoring.cli import main

    ch = Channels()
    store_article(wh, "late", story="l", stored=at(12, 30), published=at(11, 0))  # alerted 91 min after
    run(wh, settings, ch, at(12, 31))
    url = f"sqlite:///{tmp_path / 'w.sqlite'}"
    monkeypatch.setenv("MEDIA_MONITOR_CONFIG_DIR", str(settings.config_dir))
    assert main(["latency", "--warehouse", url, "--by", "term"]) == 1
    out = capsys.readouterr().out
    assert "Lavrov *" in out and "alert p95 over 15.0m" in out and "1.5h" in out
    assert main(["latency", "--warehouse", url, "--json", "--alert-target-minutes", "120"]) == 0
    table = json.loads(capsys.readouterr().out)
    assert table[0]["outlet"] == "tass-en" and table[0]["alert_p50_s"] == 91 * 60
