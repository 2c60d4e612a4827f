"""Politeness and feed status as a site and an analyst see them, against a loopback server.

The package's collect stage (no Airflow) reads outlets served by ``faultserver.py`` on 127.0.0.1.
What is asserted is what the server saw (which paths, when they arrived, how many at once) and what
the warehouse recorded; never how long the run took.
"""

from __future__ import annotations

import os
import textwrap
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import yaml
from faultserver import HTML_TYPE, FaultServer, Item, Route, article_page, respond, rss

from media_monitoring.pipeline import CollectReport, collect, open_warehouse
from media_monitoring.sandbox import BoundedExtractor
from media_monitoring.scheduling import FAILING_AFTER
from media_monitoring.settings import Settings, load_settings
from media_monitoring.warehouse import Warehouse, schema
from media_monitoring.warehouse import articles as article_store
from media_monitoring.warehouse import feeds as feed_store

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

PUBLISHED = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
FETCH = {"connect_timeout_s": 2, "read_timeout_s": 4, "deadline_s": 8, "threads": 8}
POLLING = {"min_interval_minutes": 15, "max_interval_minutes": 360, "max_backoff_hours": 24}
OPEN_HOST = {"max_concurrency": 8, "min_delay_s": 0}


@dataclass
class Env:
    settings: Settings
    wh: Warehouse
    extractor: BoundedExtractor

    def collect(self, ids: list[str], run_id: str) -> CollectReport:
        return collect(ids, run_id=run_id, settings=self.settings, warehouse=self.wh, extractor=self.extractor)

    def failures(self) -> dict[str, dict[str, Any]]:
        with self.wh.engine.connect() as conn:
            return {r["url"]: dict(r) for r in conn.execute(sa.select(schema.fetch_failures)).mappings()}

    def health(self, outlet_id: str) -> dict[str, Any]:
        return next(r for r in feed_store.feed_health_table(self.wh) if r["outlet_id"] == outlet_id)


@pytest.fixture
def srv() -> Iterator[FaultServer]:
    """A fresh server per test: its own robots.txt and its own request log."""
    with FaultServer() as server:
        yield server
    assert server.stats.errors == [], server.stats.errors


@pytest.fixture(scope="module")
def extractor() -> Iterator[BoundedExtractor]:
    with BoundedExtractor(workers=2) as bounded:
        yield bounded


@pytest.fixture
def make_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, extractor: BoundedExtractor) -> Iterator[Any]:
    made: list[Env] = []

    def make(feeds: dict[str, str], host_limits: dict[str, Any] | None = None,
             bounded: BoundedExtractor | None = None) -> Env:
        registry = tmp_path / "outlets.yaml"
        registry.write_text(yaml.safe_dump({
            "version": "signals-1", "polling": POLLING, "fetch": FETCH,
            "hosts": {"default": OPEN_HOST, "127.0.0.1": host_limits or OPEN_HOST},
            "outlets": [{"id": oid, "name": f"Outlet {oid}", "feed_url": url, "country": "US", "languages": ["en"],
                         "allow_private": True} for oid, url in feeds.items()],
        }, sort_keys=False), encoding="utf-8")
        monkeypatch.setenv("MEDIA_MONITOR_OUTLETS", str(registry))
        monkeypatch.setenv("MEDIA_MONITOR_DATA_DIR", str(tmp_path / "data"))
        settings = load_settings()
        env = Env(settings, open_warehouse(settings), bounded or extractor)
        made.append(env)
        return env

    yield make
    for env in made:
        env.wh.close()


def _feed_with_pages(srv: FaultServer, prefix: str, titles: list[str], route: Any = None) -> str:
    """A feed at ``prefix/feed.xml`` whose items link to one article page per title; returns its URL."""
    items = []
    for n, title in enumerate(titles, 1):
        path = f"{prefix}/{n}.html"
        page = article_page(f"{prefix.strip('/')}-{n}", title, PUBLISHED)
        srv.route(path, (route or respond)(page, HTML_TYPE))
        items.append(Item(title, srv.url(path), PUBLISHED))
    srv.route(f"{prefix}/feed.xml", (route or respond)(rss(items, link=srv.base_url)))
    return srv.url(f"{prefix}/feed.xml")


# -- robots.txt --------------------------------------------------------------------------------------

ROBOTS = b"""User-agent: *
Disallow: /news/private/

User-agent: media-monitoring
Disallow: /news/private/
Disallow: /news/press/
"""


def test_robots_disallowed_pages_are_never_requested_and_are_recorded(srv: FaultServer, make_env) -> None:
    """Pages robots.txt disallows for us (the group naming our product token) are not fetched: the server
    never sees them; each is recorded as a robots_disallowed fetch failure. Allowed pages are stored."""
    srv.route("/robots.txt", respond(ROBOTS, "text/plain"))
    titles = {"/news/open/1.html": "Council approves new harbour budget",
              "/news/private/2.html": "Staff memo about the canteen rota",
              "/news/press/3.html": "Press release on the annual report",
              "/news/open/4.html": "Tram line extension opens to riders"}
    items = []
    for path, title in titles.items():
        srv.route(path, respond(article_page(path.strip("/").replace("/", "-"), title, PUBLISHED), HTML_TYPE))
        items.append(Item(title, srv.url(path), PUBLISHED))
    srv.route("/news/feed.xml", respond(rss(items, link=srv.base_url)))
    env = make_env({"robots-site": srv.url("/news/feed.xml")})

    report = env.collect(["robots-site"], "robots-1").outlets[0]

    assert {path: srv.hits(path) for path in titles} == {"/news/open/1.html": 1, "/news/private/2.html": 0,
                                                         "/news/press/3.html": 0, "/news/open/4.html": 1}
    assert srv.hits("/robots.txt") == 1  # read once for the host, not per page
    assert (report.status, report.staged, report.page_failures) == ("ok", 2, 2)
    failures = env.failures()
    assert set(failures) == {srv.url("/news/private/2.html"), srv.url("/news/press/3.html")}
    for row in failures.values():
        assert row["error_class"] == "robots_disallowed" and row["http_status"] is None
        assert row["outlet_id"] == "robots-site" and row["entry"]["title"] in titles.values()
    staged = {r.url for r in article_store.staged(env.wh)}
    assert staged == {srv.url("/news/open/1.html"), srv.url("/news/open/4.html")}


def test_missing_robots_txt_allows_everything(srv: FaultServer, make_env) -> None:
    """No robots.txt (404): no restrictions, every page is fetched."""
    feed = _feed_with_pages(srv, "/plain", ["Bridge repairs finish ahead of plan", "Library opens on Sundays"])
    env = make_env({"plain": feed})
    report = env.collect(["plain"], "plain-1").outlets[0]
    assert (report.staged, report.page_failures) == (2, 0)
    assert srv.hits("/robots.txt") == 1 and srv.hits("/plain/1.html") == 1 and srv.hits("/plain/2.html") == 1


# -- per-host concurrency and spacing ----------------------------------------------------------------


@dataclass
class Arrivals:
    """Every request the server answered through ``timed``: when it arrived, how many were in flight."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    times: list[tuple[float, str]] = field(default_factory=list)
    in_flight: int = 0
    most: int = 0

    def timed(self, route: Route, hold_s: float) -> Route:
        def wrapped(h: BaseHTTPRequestHandler, srv: FaultServer) -> None:
            with self.lock:
                self.times.append((time.monotonic(), h.path))
                self.in_flight += 1
                self.most = max(self.most, self.in_flight)
            try:
                srv.sleep(hold_s)  # a slow server: requests would pile up if the crawler let them
            finally:
                with self.lock:  # counted out before answering, so the client's next request cannot overlap it
                    self.in_flight -= 1
            route(h, srv)

        return wrapped


@pytest.mark.parametrize(("limit", "spacing_s", "hold_s"), [(2, 0.25, 0.6), (1, 0.4, 0.05)],
                         ids=["two-at-once", "one-at-a-time"])
def test_host_limits_hold_as_the_server_sees_them(srv: FaultServer, make_env, limit: int, spacing_s: float,
                                                  hold_s: float) -> None:
    """Three outlets on one host, eight threads: the server never has more than ``max_concurrency``
    requests in flight, and request starts (feeds, robots.txt and pages alike) are ``min_delay_s`` apart."""
    arrivals = Arrivals()

    def timed_respond(body: bytes, ctype: str | None = None) -> Route:
        return arrivals.timed(respond(body, ctype) if ctype else respond(body), hold_s)

    feeds = {f"polite-{n}": _feed_with_pages(srv, f"/polite-{n}", [f"Story {n}a about the harbour works",
                                                                    f"Story {n}b about the new tram depot"],
                                             route=timed_respond) for n in range(3)}
    srv.route("/robots.txt", arrivals.timed(respond(b"User-agent: *\nAllow: /\n", "text/plain"), hold_s))
    env = make_env(feeds, {"max_concurrency": limit, "min_delay_s": spacing_s})

    report = env.collect(list(feeds), "polite-1")

    assert [(o.status, o.staged) for o in report.outlets] == [("ok", 2)] * 3
    expected = 3 * 3 + 1  # three feeds, six pages, one robots.txt
    assert len(arrivals.times) == srv.total_hits() == expected
    assert arrivals.most <= limit
    if limit > 1:
        assert arrivals.most == limit  # the allowance is used: the host is not read one request at a time
    starts = sorted(t for t, _path in arrivals.times)
    gaps = [b - a for a, b in zip(starts, starts[1:], strict=False)]
    tolerance = 0.1  # thread wake-up and connect time on a busy machine, between client and server clocks
    assert min(gaps) >= spacing_s - tolerance, sorted(zip(gaps, [p for _, p in sorted(arrivals.times)][1:],
                                                          strict=False))[:3]


# -- failing, blocked and back to ok, through the pipeline -------------------------------------------


def test_failing_after_three_failed_polls_and_ok_after_a_success(srv: FaultServer, make_env) -> None:
    """A feed answering 500 is still ok after two polls, failing at the third; the next good poll clears it."""
    srv.route("/flaky/feed.xml", respond(b"upstream down", "text/plain", status=500))
    env = make_env({"flaky": srv.url("/flaky/feed.xml")})
    statuses = []
    for n in range(FAILING_AFTER):
        env.collect(["flaky"], f"flaky-{n}")
        row = env.health("flaky")
        statuses.append((row["status"], row["consecutive_failures"], row["error_class"]))
    assert statuses == [("ok", 1, "server_error"), ("ok", 2, "server_error"), ("failing", 3, "server_error")]
    assert "3 failed polls in a row" in env.health("flaky")["status_reason"]

    _feed_with_pages(srv, "/flaky", ["Water main repaired on the high street"])
    env.collect(["flaky"], "flaky-ok")
    row = env.health("flaky")
    assert (row["status"], row["consecutive_failures"], row["error_class"], row["status_reason"]) == ("ok", 0, None,
                                                                                                      None)


def test_forbidden_feed_is_blocked_at_once_then_ok(srv: FaultServer, make_env) -> None:
    """A 403 is "blocked" after one poll (no waiting for three), and clears with the next good poll."""
    srv.route("/wall/feed.xml", respond(b"forbidden", "text/plain", status=403))
    env = make_env({"wall": srv.url("/wall/feed.xml")})
    env.collect(["wall"], "wall-1")
    row = env.health("wall")
    assert (row["status"], row["http_status"], row["consecutive_failures"]) == ("blocked", 403, 1)
    _feed_with_pages(srv, "/wall", ["Harbour ferry returns to its summer timetable"])
    env.collect(["wall"], "wall-2")
    assert env.health("wall")["status"] == "ok"


# -- extraction bounds inside a collect ----------------------------------------------------------------

_MISBEHAVING_EXTRACTION = '''
import time
import media_monitoring.extract as extract

_real = extract.extract_article


def misbehaving(html, url, **kwargs):
    if b"HANG-FOREVER" in html:
        while True:
            time.sleep(1)
    if b"HOG-MEMORY" in html:
        hoard = []
        while True:
            hoard.append(bytearray(64 * 2**20))
    return _real(html, url, **kwargs)


extract.extract_article = misbehaving
'''


def test_bad_pages_are_recorded_and_the_batch_goes_on(srv: FaultServer, make_env, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """In one feed, a page whose extraction hangs and one whose extraction eats memory are recorded as
    extract_timeout and extract_crashed; the good pages around them are staged."""
    hook = tmp_path / "hook"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(textwrap.dedent(_MISBEHAVING_EXTRACTION), encoding="utf-8")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(hook), os.environ.get("PYTHONPATH", "")]))
    pages = {"/bad/1.html": "Harbour works start next Monday",
             "/bad/2.html": "HANG-FOREVER headline",
             "/bad/3.html": "HOG-MEMORY headline",
             "/bad/4.html": "Ferry pier gets a new waiting room"}
    items = []
    for path, title in pages.items():
        srv.route(path, respond(article_page(path.strip("/").replace("/", "-"), title, PUBLISHED), HTML_TYPE))
        items.append(Item(title, srv.url(path), PUBLISHED))
    srv.route("/bad/feed.xml", respond(rss(items, link=srv.base_url)))
    with BoundedExtractor(workers=1, timeout_s=3.0, memory_bytes=512 * 2**20) as bounded:
        env = make_env({"bad": srv.url("/bad/feed.xml")}, bounded=bounded)
        report = env.collect(["bad"], "bad-1").outlets[0]

    assert (report.status, report.entries, report.staged, report.page_failures) == ("ok", 4, 2, 2)
    failures = {url: row["error_class"] for url, row in env.failures().items()}
    assert failures == {srv.url("/bad/2.html"): "extract_timeout", srv.url("/bad/3.html"): "extract_crashed"}
    assert {r.title for r in article_store.staged(env.wh)} == {pages["/bad/1.html"], pages["/bad/4.html"]}
