"""The watchlist pages' writes through the view's app on an embedded warehouse (the Airflow user stood in by a
plain object, the media_retag trigger by a recorder): a bad proposal keeps the form and stores nothing, a good
one is backtested on its page and activated as a new version with its replay, a stale one is refused, and every
request leaves its audit row."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi import Request
from fastapi.testclient import TestClient

from media_monitoring.curation import watchlists as wl
from media_monitoring.settings import load_settings
from media_monitoring.warehouse import Warehouse
from media_monitoring.warehouse import articles as article_store
from media_monitoring.warehouse import schema as s
from media_monitoring_ui import roles, watchlist_routes, writes
from media_monitoring_ui.source import Source
from media_monitoring_ui.writes import csrf_key, csrf_token

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
KEY = csrf_key("a server secret")
LIST = "central-asia-security"


@dataclass
class _User:
    name: str

    def get_name(self) -> str:
        return self.name


@pytest.fixture
def wh(tmp_path, monkeypatch):
    shutil.copytree(ROOT / "include" / "config", tmp_path / "config")
    monkeypatch.setenv("MEDIA_MONITOR_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("MEDIA_MONITOR_DATA_DIR", str(tmp_path / "data"))
    warehouse = Warehouse.connect(f"sqlite:///{tmp_path / 'w.sqlite'}")
    article_store.commit_batch(warehouse, "r1", [
        {"article_id": f"a{i}", "canonical_url": f"https://x.org/{i}", "url": f"https://x.org/{i}",
         "outlet_id": "tass-en", "title": title, "text": "Talks went on.", "word_count": 3, "sources": [],
         "countries": [], "regions": [], "published_at": datetime(2021, 10, 20 + i, 9, tzinfo=UTC)}
        for i, title in enumerate(["Summit in Dushanbe", "Kabul airport", "Weather"])], [], [], [], None)
    yield warehouse
    warehouse.close()


@pytest.fixture
def client(wh, monkeypatch):
    from media_monitoring_ui import app, auth

    role_of = {"alice": "analyst", "nobody": "none"}
    source = Source(url="test", warehouse=wh, tables=set(sa.inspect(wh.engine).get_table_names()))
    monkeypatch.setattr(watchlist_routes.sources, "get", lambda: source)
    monkeypatch.setattr(writes, "server_csrf_key", lambda: KEY)
    monkeypatch.setattr(writes, "product_role", lambda user: role_of[user.name])
    monkeypatch.setattr(watchlist_routes, "product_role", lambda user: role_of[user.name])
    monkeypatch.setattr(roles, "product_role", lambda user: role_of[user.name])
    queued: list[tuple] = []

    def replay(watchlist, start, end, user, version):
        queued.append((watchlist, start.isoformat(), end.isoformat(), user, version))
        return {"watchlist": watchlist, "start_date": start.isoformat(), "end_date": end.isoformat(),
                "run_id": "manual__x", "paused": False}

    monkeypatch.setattr(watchlist_routes, "queue_replay", replay)
    def test_user(request: Request) -> _User:
        return _User(request.headers["X-Test-User"])

    app.dependency_overrides[auth.html_user] = test_user
    try:
        test_client = TestClient(app, root_path="/media-monitor")
        test_client.queued = queued
        yield test_client
    finally:
        app.dependency_overrides.clear()


def _post(client, path: str, user: str = "alice", **form: str):
    return client.post(path, data={"csrf_token": csrf_token(user, KEY), **form}, headers={"X-Test-User": user},
                       follow_redirects=False)


def _audit(wh) -> list[tuple]:
    with wh.engine.connect() as conn:
        rows = conn.execute(sa.select(s.audit_log).order_by(s.audit_log.c.id))
        return [(r.action, r.outcome, r.user_name) for r in rows]


def test_a_bad_proposal_keeps_the_form_and_stores_nothing(client, wh):
    response = _post(client, "/watchlists/propose", watchlist=LIST, name="CSTO", aliases="Foo\nBar")
    assert response.status_code == 400
    assert "already has a term “CSTO”" in response.text and "Nothing was saved" in response.text
    assert "Foo\nBar" in response.text, "what the analyst typed is still in the form"
    response = _post(client, "/watchlists/propose", watchlist=LIST, name="Tajikistan", aliases="  \n ")
    assert response.status_code == 400 and "at least one alias" in response.text
    assert wl.list_proposals(wh) == []
    assert _audit(wh) == [("watchlist.propose", "invalid", "alice")] * 2
    assert _post(client, "/watchlists/propose", user="nobody", watchlist=LIST, name="X", aliases="X").status_code == 403


def test_a_proposal_is_backtested_then_activated_with_its_replay(client, wh):
    response = _post(client, "/watchlists/propose", watchlist=LIST, name="Tajikistan", aliases="Dushanbe\n=TJ",
                     note="the border talks")
    assert response.status_code == 303
    assert response.headers["location"] == "/media-monitor/watchlists/proposals/1?notice=proposed"
    page = client.get("/watchlists/proposals/1?start=2021-10-01&end=2021-10-31", headers={"X-Test-User": "alice"})
    assert page.status_code == 200
    assert "adds 1</strong>" in page.text and "removes 0</strong>" in page.text and "Summit in Dushanbe" in page.text
    assert "+name: Tajikistan" in page.text and "+- text: Dushanbe" in page.text

    before = wl.in_force(load_settings(), wh).watchlists[0]
    response = _post(client, "/watchlists/proposals/1/activate", start="2021-10-01", end="2021-10-31")
    assert response.status_code == 303 and response.headers["location"].endswith("?notice=activated")
    after = wl.in_force(load_settings(), wh).watchlists[0]
    assert after.version != before.version and after.terms[-1].name == "Tajikistan"
    assert after.terms[-1].aliases[1].case_sensitive and not after.terms[-1].aliases[0].case_sensitive
    assert client.queued == [(LIST, "2021-10-01", "2021-10-31", "alice", after.version)]
    proposal = wl.get_proposal(wh, 1)
    assert (proposal.status, proposal.activated_version, proposal.replay["run_id"]) == ("activated", after.version,
                                                                                        "manual__x")
    again = _post(client, "/watchlists/proposals/1/activate", start="2021-10-01", end="2021-10-31")
    assert again.status_code == 400 and "activated already" in again.text
    assert [a[:2] for a in _audit(wh)] == [("watchlist.propose", "done"), ("watchlist.activate", "done"),
                                           ("watchlist.activate", "invalid")]


def test_a_proposal_on_an_older_version_and_a_bad_period_are_refused(client, wh):
    for name in ("Dushanbe", "Bishkek"):
        assert _post(client, "/watchlists/propose", watchlist=LIST, name=name, aliases=name).status_code == 303
    bad = _post(client, "/watchlists/proposals/1/activate", start="2021-10-31", end="2021-10-01")
    assert bad.status_code == 400 and "replay period" in bad.text
    assert _post(client, "/watchlists/proposals/1/activate", start="2021-10-01", end="2021-10-31").status_code == 303
    stale = _post(client, "/watchlists/proposals/2/activate", start="2021-10-01", end="2021-10-31")
    assert stale.status_code == 400 and "Propose the change again" in stale.text
    assert "cannot be activated" in client.get("/watchlists/proposals/2", headers={"X-Test-User": "alice"}).text
    assert _post(client, "/watchlists/proposals/2/withdraw").status_code == 303
    assert wl.get_proposal(wh, 2).status == wl.WITHDRAWN
    page = client.get("/watchlists", headers={"X-Test-User": "alice"})
    assert page.status_code == 200 and 'data-term="Dushanbe"' in page.text and "exact case" in page.text
