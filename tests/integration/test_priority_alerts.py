"""The fast lane through Airflow: a new priority item in a feed -> the next ingest stores it -> the
``media_alerts`` run alerts once by email (a real SMTP server) and webhook (a local receiver); a second
article of the same story does not alert again; a retry after a failed webhook sends nothing twice."""

from __future__ import annotations

import json
import re
import shutil
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import sqlalchemy as sa

from media_monitoring.replay import ReplayServer

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "seeds" / "replay" / "tass-en" / "politics" / "1354210.html"
T0 = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)  # 15:00 in Moscow, 17:00 in Almaty: outside quiet hours
STORY = [
    "The Collective Security Treaty Organization (CSTO) will hold unscheduled command-staff drills in the "
    "Khatlon region of Tajikistan next week, the organization's joint staff said on Sunday, citing a rise in "
    "armed incidents along the mountain passes of the Pamir.",
    "Around four thousand troops from Russia, Kazakhstan and Kyrgyzstan are expected to take part, together with "
    "transport aviation, drone units and field hospitals that would be deployed at two training grounds near "
    "the town of Kulob for the first time since the organization was founded.",
    "Officers from the joint staff said the drills would rehearse the closure of river crossings, the evacuation "
    "of villages and the delivery of fuel and medicine to remote border posts during the first snowfall.",
    "The announcement came hours after the defense ministers of the member states held a video conference on "
    "the security of the southern frontier and the supply routes that run through the Rasht valley.",
]
REWORDED = [STORY[0].replace("said on Sunday", "announced on Sunday")] + STORY[1:3] + [
    "Observers in Bishkek said the announcement followed a video conference of the member states' defense "
    "ministers on the security of the southern frontier and the supply routes through the Rasht valley."]


def _page(title: str, url_path: str, published: datetime, paragraphs: list[str]) -> str:
    html = TEMPLATE.read_text(encoding="utf-8")
    old_title = "Lavrov says CSTO ready to help Tajikistan protect border with Afghanistan"
    html = html.replace(old_title, title).replace("/tass-en/politics/1354210.html", url_path)
    html = html.replace("2021-10-28T13:50:00+03:00", published.isoformat())
    body = "\n".join(f"            <p>{p}</p>" for p in paragraphs)
    return re.sub(r"(?s)            <p>MOSCOW, October 28\..*?The CSTO includes Armenia[^<]*</p>", body, html, count=1)


def _add_item(root: Path, outlet: str, feed: str, url_path: str, title: str, published: datetime,
              paragraphs: list[str]) -> None:
    (root / url_path.lstrip("/")).parent.mkdir(parents=True, exist_ok=True)
    (root / url_path.lstrip("/")).write_text(_page(title, url_path, published, paragraphs), encoding="utf-8")
    feed_path = root / outlet / feed
    item = (f"    <item>\n      <title>{title}</title>\n      <link>{{{{REPLAY_BASE}}}}{url_path}</link>\n"
            f"      <guid isPermaLink=\"false\">{url_path}</guid>\n"
            f"      <pubDate>{published.strftime('%a, %d %b %Y %H:%M:%S +0000')}</pubDate>\n"
            f"      <description>{paragraphs[0][:120]}</description>\n    </item>\n")
    text = feed_path.read_text(encoding="utf-8")
    feed_path.write_text(text.replace("    <item>", item + "    <item>", 1), encoding="utf-8")


class Receiver:
    """A webhook receiver on loopback: records every POST; answers 500 to the first ``fail_first``."""

    def __init__(self, fail_first: int = 0) -> None:
        self.posts: list[dict] = []
        self.fail_first = fail_first
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server API)
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                receiver.posts.append({"path": self.path, "key": self.headers.get("Idempotency-Key"),
                                       "type": self.headers.get("Content-Type"), "json": json.loads(body)})
                failing = len(receiver.posts) <= receiver.fail_first
                self.send_response(500 if failing else 200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, fmt: str, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def accepted(self) -> list[dict]:
        return self.posts[self.fail_first:]


@pytest.fixture
def receiver(monkeypatch: pytest.MonkeyPatch) -> Iterator[Receiver]:
    rec = Receiver(fail_first=1)
    rec.thread.start()
    port = rec.httpd.server_address[1]
    monkeypatch.setenv("AIRFLOW_CONN_MEDIA_WEBHOOK", json.dumps({
        "conn_type": "http", "host": "127.0.0.1", "port": port, "schema": "http", "extra": {"endpoint": "/hook"}}))
    try:
        yield rec
    finally:
        rec.httpd.shutdown()
        rec.httpd.server_close()


@pytest.fixture
def live_replay(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Path, str]]:
    """The seed snapshot copied to a folder the test edits while it is served (feeds that change)."""
    root = tmp_path / "replay"
    shutil.copytree(ROOT / "seeds" / "replay", root)
    with ReplayServer(root) as server:
        monkeypatch.setenv("MEDIA_MONITOR_REPLAY_BASE", server.base_url)
        yield root, server.base_url


def _rows(url: str, sql: str) -> list[dict]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return [dict(r) for r in conn.execute(sa.text(sql)).mappings()]
    finally:
        engine.dispose()


def _alert_emails(mailbox) -> list:
    return [msg for _, _, msg in mailbox.messages if msg["X-Media-Monitor-Alert"]]


def test_new_priority_item_alerts_once_per_story(run_dag, live_replay, smtp_server, receiver, data_dir):
    root, base = live_replay
    url = f"sqlite:///{data_dir / 'warehouse.sqlite'}"

    # The seed archive: its priority stories alert too (stored within the alert lookback of the run).
    assert run_dag("media_ingest", T0) == "success"
    state = run_dag("media_alerts", T0 + timedelta(minutes=2))
    # The webhook's first POST got a 500: the send task failed that channel, and Airflow's retry finished it.
    assert state == "success"
    seed_alerts = _rows(url, "select subscription, story_id, state from alerts")
    assert seed_alerts and all(a["state"] == "sent" for a in seed_alerts)
    first_emails = len(_alert_emails(smtp_server))
    assert first_emails == len(seed_alerts), "one email per (subscription, story), none twice after the retry"
    webhook_stories = [p["json"]["story_id"] for p in receiver.accepted]
    central_asia = [a["story_id"] for a in seed_alerts if a["subscription"] == "Central Asia desk"]
    assert sorted(webhook_stories) == sorted(central_asia), "the webhook got each alert once"
    assert len(receiver.posts) == len(receiver.accepted) + 1  # the one failed POST, repeated with the same key
    keys = [p["key"] for p in receiver.posts]
    assert keys.count(keys[0]) == 2, "the failed POST was repeated once, with the same Idempotency-Key"
    sends = _rows(url, "select channel, status, attempts from alert_sends where channel like 'webhook:%'")
    assert sorted(s["attempts"] for s in sends)[-1] == 2 and all(s["status"] == "sent" for s in sends)

    # A new item appears in a priority outlet's feed; the next ingest stores it; the next alert run alerts once.
    published = T0 + timedelta(minutes=5)
    _add_item(root, "tass-en", "rss.xml", "/tass-en/defense/1360001.html",
              "CSTO to hold snap drills in Tajikistan's Khatlon region", published, STORY)
    assert run_dag("media_ingest", T0 + timedelta(minutes=10)) == "success"
    assert run_dag("media_alerts", T0 + timedelta(minutes=11)) == "success"
    new = _alert_emails(smtp_server)[first_emails:]
    assert sorted(m["To"] for m in new) == ["central-asia-desk@media-monitor.example.org",
                                            "russia-desk@media-monitor.example.org"]
    body = new[0].get_content()
    assert "CSTO to hold snap drills in Tajikistan's Khatlon region" in body
    assert f"{base}/tass-en/defense/1360001.html" in body and "CSTO" in new[0]["Subject"]
    hook = receiver.accepted[-1]
    assert hook["path"] == "/hook" and hook["type"] == "application/json"
    assert hook["json"]["article"]["url"] == f"{base}/tass-en/defense/1360001.html"
    assert hook["json"]["terms"][0]["term"] == "CSTO" and hook["key"] == hook["json"]["id"]
    posts = len(receiver.posts)

    # A second article of the same story (another outlet, reworded): stored, same story, no new alert.
    _add_item(root, "akipress", "rss.xml", "/akipress/news/670001-csto-drills-khatlon.html",
              "CSTO announces snap drills in Khatlon", published + timedelta(minutes=12), REWORDED)
    assert run_dag("media_ingest", T0 + timedelta(minutes=20)) == "success"
    assert run_dag("media_alerts", T0 + timedelta(minutes=21)) == "success"
    stories = _rows(url, "select a.outlet_id, s.story_id from articles a join article_stories s "
                         "on s.article_id = a.article_id where a.url like '%1360001%' or a.url like '%670001%'")
    assert len(stories) == 2 and len({s["story_id"] for s in stories}) == 1, stories
    assert len(_alert_emails(smtp_server)) == first_emails + 2
    assert len(receiver.posts) == posts

    # Rerunning an alert run (a cleared run) sends nothing again.
    assert run_dag("media_alerts", T0 + timedelta(minutes=11)) == "success"
    assert len(_alert_emails(smtp_server)) == first_emails + 2 and len(receiver.posts) == posts

    # Latency is measured: the new article's publication -> alert is the alert run's time minus publication.
    from media_monitoring.latency import latency_table
    from media_monitoring.warehouse import Warehouse
    from media_monitoring.warehouse.alerts import latency_rows

    wh = Warehouse.connect(url)
    try:
        rows = [r for r in latency_rows(wh) if r["outlet_id"] == "tass-en" and r["published_at"] == published]
        assert rows and rows[0]["alerted_at"] == T0 + timedelta(minutes=11)
        table = latency_table(rows, by="outlet", priority_outlets=["tass-en"])
        assert table[0]["alert_p50_s"] == 6 * 60 and table[0]["flags"] == []
    finally:
        wh.close()
