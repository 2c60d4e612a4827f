"""Feed polling and page fetching that a newsroom and a security review would trust.

The package's collect and process stages (no Airflow) run against a loopback server that misbehaves
on purpose (``faultserver.py``): one outlet per fault, plus two healthy control outlets. For every
fault: the run finishes within its deadlines, the outlet's feed_health row names the fault and
schedules a next poll (never disabled), the controls are untouched, every feed entry seen ends as an
article, a quarantine row or a fetch failure, and a second run adds nothing.

Network: loopback only (127.0.0.1, and ::1 for one SSRF case); every handler is bounded.
"""

from __future__ import annotations

import importlib
import json
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import yaml
from faultserver import (
    HTML_TYPE,
    FaultServer,
    Item,
    article_page,
    drip_body,
    drip_headers,
    endless_redirects,
    gzip_bomb,
    hang,
    iter_text,
    redirect,
    respond,
    rss,
    stale_validators,
    stream,
)

from media_monitoring.net import MAX_FEED_BYTES, MAX_REDIRECTS, guard
from media_monitoring.pipeline import CollectReport, collect, open_warehouse, process
from media_monitoring.sandbox import BoundedExtractor
from media_monitoring.scheduling import FULL_FETCH_EVERY
from media_monitoring.settings import load_settings
from media_monitoring.urls import canonical_url, url_key
from media_monitoring.warehouse import Warehouse, schema
from media_monitoring.warehouse import feeds as feed_store

# The collect stage's module (``pipeline.collect`` is its function), for the names patched in it.
collect_stage = importlib.import_module("media_monitoring.pipeline.collect")

pytestmark = [pytest.mark.integration, pytest.mark.timeout(90)]

DEADLINE_S = 2.0
FETCH = {"connect_timeout_s": 1, "read_timeout_s": 1, "deadline_s": DEADLINE_S}
# min_interval 15 s: a plain failure backs off 15-120 s, so a 429's Retry-After of 120 s must win
POLLING = {"min_interval_minutes": 0.25, "max_interval_minutes": 60, "max_backoff_hours": 2}
SLACK_S = 1.5  # scheduling, a host slot, thread start-up: on top of the request deadline
SWEEP_BOUND_S = 20.0  # the whole first collect of ~25 outlets, extraction workers' start-up included
RETRY_AFTER_S = 120
HUGE_BYTES = 50 * 10**6
BOMB_BYTES = 32 * 2**20
PASSWD_MARKERS = ("root:x:0:0", "/usr/sbin/nologin")


def _aware(value: datetime | None) -> datetime | None:
    return value if value is None or value.tzinfo else value.replace(tzinfo=UTC)


def _outlet(outlet_id: str, feed_url: str, allow_private: bool = True) -> dict[str, Any]:
    return {"id": outlet_id, "name": f"Outlet {outlet_id}", "feed_url": feed_url, "country": "US",
            "languages": ["en"], "allow_private": allow_private}


def _write_registry(path: Path, outlets: list[dict[str, Any]]) -> Path:
    path.write_text(yaml.safe_dump({
        "version": "faults-1", "polling": POLLING, "fetch": FETCH,
        "hosts": {"127.0.0.1": {"max_concurrency": 8, "min_delay_s": 0},
                  "::1": {"max_concurrency": 8, "min_delay_s": 0}},
        "outlets": outlets,
    }, sort_keys=False), encoding="utf-8")
    return path


@dataclass
class Env:
    """One registry, one warehouse; collect and process through the package API."""

    wh: Warehouse
    extractor: BoundedExtractor
    settings: Any = None
    timings: dict[str, float] = field(default_factory=dict)

    def collect(self, ids: list[str], run_id: str) -> tuple[CollectReport, float]:
        started = time.monotonic()
        report = collect(ids, run_id=run_id, settings=self.settings, warehouse=self.wh, extractor=self.extractor)
        return report, time.monotonic() - started

    def process(self, run_id: str):
        return process(run_id, settings=self.settings, warehouse=self.wh, run_time=datetime.now(UTC))

    def health(self) -> dict[str, dict[str, Any]]:
        rows = {}
        for row in feed_store.feed_health_table(self.wh):
            for key in ("last_attempt_at", "last_success_at", "last_new_item_at", "next_poll_at",
                        "first_polled_at"):
                row[key] = _aware(row[key])
            rows[row["outlet_id"]] = row
        return rows

    def rows(self, table: sa.Table) -> list[dict[str, Any]]:
        with self.wh.engine.connect() as conn:
            return [dict(r) for r in conn.execute(sa.select(table)).mappings()]

    def failures(self) -> dict[str, dict[str, Any]]:
        rows = {}
        for row in self.rows(schema.fetch_failures):
            row["next_retry_at"] = _aware(row["next_retry_at"])
            row["last_attempt_at"] = _aware(row["last_attempt_at"])
            rows[row["url"]] = row
        return rows

    def articles(self) -> dict[str, dict[str, Any]]:
        return {r["canonical_url"]: r for r in self.rows(schema.articles)}

    def make_failures_due(self) -> None:
        with self.wh.engine.begin() as conn:
            conn.execute(schema.fetch_failures.update()
                         .where(schema.fetch_failures.c.next_retry_at.is_not(None))
                         .values(next_retry_at=datetime.now(UTC) - timedelta(minutes=1)))


def _env(monkeypatch: pytest.MonkeyPatch, tmp: Path, outlets: list[dict[str, Any]],
         extractor: BoundedExtractor) -> Env:
    tmp.mkdir(parents=True, exist_ok=True)
    monkeypatch.setenv("MEDIA_MONITOR_OUTLETS", str(_write_registry(tmp / "outlets.yaml", outlets)))
    monkeypatch.setenv("MEDIA_MONITOR_DATA_DIR", str(tmp / "data"))
    settings = load_settings()
    env = Env(open_warehouse(settings), extractor, settings)
    real = collect_stage.collect_outlet

    def timed(outlet, tools):  # per-outlet wall time: nothing may hang past its deadline
        started = time.monotonic()
        try:
            return real(outlet, tools)
        finally:
            env.timings[outlet.id] = time.monotonic() - started

    monkeypatch.setattr(collect_stage, "collect_outlet", timed)
    return env


@pytest.fixture(scope="module")
def srv() -> Iterator[FaultServer]:
    with FaultServer() as server:
        yield server
    assert server.stats.errors == [], server.stats.errors


@pytest.fixture(scope="module")
def extractor() -> Iterator[BoundedExtractor]:
    with BoundedExtractor(workers=2) as bounded:
        yield bounded


@pytest.fixture
def env_factory(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, extractor: BoundedExtractor):
    made: list[Env] = []

    def make(outlets: list[dict[str, Any]], name: str = "env") -> Env:
        env = _env(monkeypatch, tmp_path / name, outlets, extractor)
        made.append(env)
        return env

    yield make
    for env in made:
        env.wh.close()


PUBLISHED = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2)


def _page(srv: FaultServer, path: str, title: str | None, **kwargs: Any) -> str:
    """Serve a valid article page at ``path``; returns its URL."""
    slug = path.strip("/").replace("/", "-").replace(".", "-")
    srv.route(path, respond(article_page(slug, title, PUBLISHED, **kwargs), HTML_TYPE))
    return srv.url(path)


def _items(srv: FaultServer, prefix: str, titles: list[str]) -> list[Item]:
    """One valid page per title under ``prefix``, and the feed items pointing at them."""
    items = []
    for n, title in enumerate(titles, 1):
        link = _page(srv, f"{prefix}/{n}.html", title)
        items.append(Item(title, link, PUBLISHED))
    return items


# -- the sweep: every feed-level fault in one collect, beside two healthy controls -------------------


@dataclass(frozen=True)
class Fault:
    outlet: str
    error_class: str | None  # None: the poll succeeds
    http_status: int | None
    status: str = "ok"  # feed_health.status after the first poll (blocked classes are "blocked" at once)
    also: tuple[str, ...] = ()  # other error classes that are just as right


FAULTS = [
    Fault("f-timeout", "timeout", None),
    Fault("f-drip", "timeout", 200),
    Fault("f-500", "server_error", 500),
    Fault("f-404", "not_found", 404),
    Fault("f-410", "gone", 410),
    Fault("f-429", "rate_limited", 429, "blocked"),
    Fault("f-loop", "redirect_loop", None),
    Fault("f-chain", "redirect_loop", None),
    Fault("f-localhost", "blocked_address", None),
    Fault("f-huge", "too_large", 200),
    Fault("f-gzip", "too_large", 200),
    Fault("f-lol", "hostile_feed", 200),  # refused before parsing: no parser path may expand it
    Fault("f-quadratic", "hostile_feed", 200),
    Fault("f-xxe-file", None, 200),
    Fault("f-xxe-http", None, 200),
    Fault("f-charset-decl", None, 200),
    Fault("f-charset-header", None, 200),
    Fault("f-html-xml", "not_a_feed", 200),
    # text/html at a feed URL is refused on its Content-Type before any parsing (a fair "content_type";
    # "not_a_feed" once the body is read to tell challenges apart); mislabelled as XML it is "not_a_feed"
    Fault("f-html", "content_type", 200, also=("not_a_feed",)),
    Fault("f-cf-403", "challenge", 403, "blocked"),
    Fault("f-captcha", "challenge", 200, "blocked"),
    Fault("f-empty", None, 200),
    Fault("f-json", None, 200),
    Fault("f-nolinks", None, 200, "no_links"),  # parsed, but no entry has an http(s) address: flagged
    Fault("f-relative", None, 200),
    Fault("f-pages", None, 200),
]
CONTROLS = ("ctl-alpha", "ctl-beta")


@dataclass
class Sweep:
    env: Env
    srv: FaultServer
    feeds: dict[str, str]  # outlet -> feed URL
    entries: dict[str, list[str]]  # outlet -> absolute links of the feed entries the product must account for
    report1: dict[str, Any]
    elapsed1: float
    after1: datetime
    timings1: dict[str, float]
    health1: dict[str, dict[str, Any]]
    failures1: dict[str, dict[str, Any]]
    hits1: Counter[str]
    sent1: Counter[str]  # body bytes the server managed to write, per streaming route
    counts1: dict[str, int]
    articles1: dict[str, dict[str, Any]]
    quarantine1: list[dict[str, Any]]
    report2: dict[str, Any]
    elapsed2: float
    health2: dict[str, dict[str, Any]]
    hits2: Counter[str]
    counts2: dict[str, int]
    all_text: list[str]


def _install_sweep(srv: FaultServer) -> tuple[dict[str, str], dict[str, list[str]]]:
    feeds: dict[str, str] = {}
    entries: dict[str, list[str]] = {}
    base = srv.base_url

    def feed(outlet: str, route, path: str | None = None, items: list[Item] | None = None) -> None:
        path = path or f"/{outlet}/feed.xml"
        srv.route(path, route)
        feeds[outlet] = srv.url(path)
        if items is not None:
            entries[outlet] = [i.link for i in items]

    # controls: validators honoured, valid pages
    for outlet, titles in (("ctl-alpha", ["Riverton council backs a new tram line",
                                          "Harbour district gets a second ferry pier"]),
                           ("ctl-beta", ["Library hours extended across the northern suburbs",
                                         "Regional rail timetable changes from next week"])):
        items = _items(srv, f"/{outlet}", titles)
        feed(outlet, respond(rss(items, link=base), etag=f'"{outlet}-v1"',
                             last_modified="Mon, 02 Nov 2026 10:00:00 GMT"), items=items)

    feed("f-timeout", hang(5.0))
    feed("f-drip", drip_body(0.5, 6.0))
    feed("f-500", respond(b"internal error", "text/plain", status=500))
    feed("f-404", respond(b"no such feed", "text/plain", status=404))
    feed("f-410", respond(b"feed retired", "text/plain", status=410))
    feed("f-429", respond(b"slow down", "text/plain", status=429, headers=[("Retry-After", str(RETRY_AFTER_S))]))
    srv.route("/f-loop/other.xml", redirect("/f-loop/feed.xml"))
    feed("f-loop", redirect("/f-loop/other.xml"))
    feed("f-chain", endless_redirects("/f-chain/feed.xml"))
    srv.route("/f-localhost/target.xml", respond(rss([], link=base)))
    feed("f-localhost", redirect(srv.url("/f-localhost/target.xml", host="localhost")))
    feed("f-huge", stream(HUGE_BYTES))
    feed("f-gzip", gzip_bomb(BOMB_BYTES))

    # billion laughs: nine levels of ten, 10^9 "lol"s if anything expanded it
    laughs = "".join(f'<!ENTITY lol{i} "{(f"&lol{i - 1};" if i > 1 else "&lol;") * 10}">\n' for i in range(1, 10))
    items = [Item("Boom &lol9; boom", _page(srv, "/f-lol/1.html", "Bridge repairs start on the old canal"),
                  PUBLISHED, "&lol9;", raw=True)]
    feed("f-lol", respond(rss(items, link=base, doctype=f'<!DOCTYPE rss [\n<!ENTITY lol "lol">\n{laughs}]>')))
    # quadratic: one 20 KB entity referenced 5,000 times (100 MB if expanded; feedparser's lenient parser would)
    items = [Item("Quadratic", _page(srv, "/f-quadratic/1.html", "Quay wall repairs begin"), PUBLISHED,
                  "&big;" * 5000, raw=True)]
    feed("f-quadratic", respond(rss(items, link=base, doctype=f'<!DOCTYPE rss [<!ENTITY big "{"x" * 20480}">]>')))

    # external entities: a local file, and a URL on this very server (whose counters must stay 0)
    srv.route("/f-xxe-file/2.html", respond(b"gone", "text/plain", status=404))
    items = [Item("Leak &xxe; check", _page(srv, "/f-xxe-file/1.html", None), PUBLISHED, "Body &xxe; end", raw=True),
             Item("Second &xxe; probe", srv.url("/f-xxe-file/2.html"), PUBLISHED, "&xxe;", raw=True)]
    feed("f-xxe-file", respond(rss(items, link=base, doctype='<!DOCTYPE rss [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'),
                               etag='"xxe-file"'), items=items)
    srv.route("/f-xxe-http/evil.dtd", respond(b'<!ENTITY dtdleak "from the dtd">', "application/xml-dtd"))
    srv.route("/f-xxe-http/xxe", respond(b"SECRET-FROM-XXE-URL", "text/plain"))
    items = [Item("Remote &xxe; entity", _page(srv, "/f-xxe-http/1.html", None), PUBLISHED, "&xxe; &dtdleak;",
                  raw=True)]
    doctype = (f'<!DOCTYPE rss SYSTEM "{srv.url("/f-xxe-http/evil.dtd")}" '
               f'[<!ENTITY xxe SYSTEM "{srv.url("/f-xxe-http/xxe")}">]>')
    feed("f-xxe-http", respond(rss(items, link=base, doctype=doctype), etag='"xxe-http"'), items=items)

    # wrong charsets: the titles come from the feed (the pages have none)
    cyrillic = "Городской совет одобрил новый бюджет"
    items = [Item(cyrillic, _page(srv, "/f-charset-decl/1.html", None), PUBLISHED)]
    feed("f-charset-decl", respond(rss(items, link=base, declaration='<?xml version="1.0" encoding="iso-8859-1"?>'),
                                   "application/rss+xml"), items=items)
    items = [Item(cyrillic + " снова", _page(srv, "/f-charset-header/1.html", None), PUBLISHED)]
    feed("f-charset-header", respond(rss(items, link=base, declaration='<?xml version="1.0"?>', encoding="cp1251"),
                                     "application/rss+xml; charset=utf-8"), items=items)

    homepage = (b'<!DOCTYPE html><html lang="en"><head><title>Riverton Daily</title></head><body>'
                b'<h1>Riverton Daily</h1><ul><li><a href="/news/1">News</a></li><li><a href="/sport">Sport</a></li>'
                b"</ul></body></html>")
    feed("f-html-xml", respond(homepage, "application/xml"))
    feed("f-html", respond(homepage, HTML_TYPE))
    feed("f-cf-403", respond(b"<!DOCTYPE html><html><head><title>Just a moment...</title></head><body>"
                             b"Checking your browser before accessing the site.</body></html>", HTML_TYPE, status=403))
    feed("f-captcha", respond(b"<!DOCTYPE html><html><head><title>Are you a robot?</title></head><body>"
                              b'<div class="g-recaptcha">Please complete the captcha to continue.</div></body></html>',
                              HTML_TYPE))
    feed("f-empty", respond(rss([], link=base), etag='"empty"'), items=[])

    # JSON Feed 1.1, and a feed whose items have no address at all (no link, no guid)
    json_link = _page(srv, "/f-json/1.html", "Tram depot opens to the public")
    json_feed = {"version": "https://jsonfeed.org/version/1.1", "title": "JSON outlet", "items": [
        {"id": "j1", "url": json_link, "title": "Tram depot opens to the public",
         "date_published": PUBLISHED.isoformat()}]}
    feed("f-json", respond(json.dumps(json_feed).encode(), "application/feed+json", etag='"json"'),
         path="/f-json/feed.json")
    entries["f-json"] = [json_link]
    nolinks = (b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title><link>' + base.encode()
               + b"</link><description>d</description>"
               + b"<item><title>Untitled update</title><description>text only</description></item>" * 3
               + b"</channel></rss>")
    feed("f-nolinks", respond(nolinks, etag='"nolinks"'), items=[])

    # relative links: root-relative and path-relative, against the feed document's URL
    _page(srv, "/f-relative/a/1.html", "Dock workers agree a new pay deal")
    _page(srv, "/f-relative/feeds/story/2.html", "New cycle lanes open on the ring road")
    rel_items = [Item("Dock workers agree a new pay deal", "/f-relative/a/1.html", PUBLISHED),
                 Item("New cycle lanes open on the ring road", "story/2.html", PUBLISHED)]
    feed("f-relative", respond(rss(rel_items, link=base), etag='"rel"'), path="/f-relative/feeds/main.xml")
    entries["f-relative"] = [srv.url("/f-relative/a/1.html"), srv.url("/f-relative/feeds/story/2.html")]

    # page-level faults beside a good page
    srv.route("/f-pages/p500.html", respond(b"upstream error", "text/plain", status=500))
    srv.route("/f-pages/p404.html", respond(b"no such page", "text/plain", status=404))
    items = [Item("Ferry service resumes after the storm", _page(srv, "/f-pages/ok.html",
                                                                   "Ferry service resumes after the storm"), PUBLISHED),
             Item("Budget talks stall over school repairs", srv.url("/f-pages/p500.html"), PUBLISHED),
             Item("Museum reopens its east wing to visitors", srv.url("/f-pages/p404.html"), PUBLISHED)]
    feed("f-pages", respond(rss(items, link=base), etag='"pages"'), items=items)
    return feeds, entries


@pytest.fixture(scope="module")
def sweep(srv: FaultServer, extractor: BoundedExtractor, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sweep]:
    feeds, entries = _install_sweep(srv)
    outlets = [_outlet(o, url) for o, url in feeds.items()]
    ids = [o["id"] for o in outlets]
    with pytest.MonkeyPatch.context() as mp:
        env = _env(mp, tmp_path_factory.mktemp("sweep"), outlets, extractor)
        try:
            report1, elapsed1 = env.collect(ids, "sweep-1")
            after1 = datetime.now(UTC)
            timings1 = dict(env.timings)
            health1, failures1, hits1 = env.health(), env.failures(), Counter(srv.stats.hits)
            sent1 = Counter(srv.stats.sent)
            env.process("sweep-1")
            counts1, articles1 = env.wh.counts(), env.articles()
            quarantine1 = env.rows(schema.quarantine)
            report2, elapsed2 = env.collect(ids, "sweep-2")
            env.process("sweep-2")
            health2, hits2, counts2 = env.health(), Counter(srv.stats.hits), env.wh.counts()
            all_text = [text for table in schema.metadata.sorted_tables
                        for text in iter_text(env.rows(table))]
            yield Sweep(env, srv, feeds, entries, report1.totals()["by_outlet"], elapsed1, after1, timings1,
                        health1, failures1, hits1, sent1, counts1, articles1, quarantine1,
                        report2.totals()["by_outlet"], elapsed2, health2, hits2, counts2, all_text)
        finally:
            env.wh.close()


def _path(url: str) -> str:
    return "/" + url.split("/", 3)[3]


@pytest.mark.parametrize("fault", [pytest.param(f, id=f.outlet, marks=())
                                   for f in FAULTS])
def test_feed_fault_is_recorded_and_rescheduled(sweep: Sweep, fault: Fault) -> None:
    row = sweep.health1[fault.outlet]
    report = sweep.report1[fault.outlet]
    expected = (fault.error_class, *fault.also)
    assert (row["error_class"] in expected, row["http_status"]) == (True, fault.http_status), row["error_message"]
    assert row["status"] == fault.status, row["status_reason"]
    assert row["consecutive_failures"] == (1 if fault.error_class else 0)
    assert report["status"] == ("failed" if fault.error_class else "ok")
    assert report["error_class"] == row["error_class"]
    # never disabled: there is always a next poll, and it is in the future
    assert row["next_poll_at"] is not None and row["next_poll_at"] > sweep.after1
    assert row["poll_interval_s"] and row["poll_interval_s"] > 0
    if fault.error_class:
        assert row["last_success_at"] is None
        # the second run failed again: the count goes up and the wait grows; still scheduled
        again = sweep.health2[fault.outlet]
        assert (again["error_class"], again["consecutive_failures"]) == (row["error_class"], 2)
        assert again["next_poll_at"] > sweep.after1 and again["poll_interval_s"] >= row["poll_interval_s"]
        # nothing hangs past its deadline (feed-level failures fetch no pages)
        assert sweep.timings1[fault.outlet] < DEADLINE_S + SLACK_S, sweep.timings1[fault.outlet]
    else:
        assert row["last_success_at"] is not None and row["error_message"] is None


def test_sweep_finishes_in_bounded_time(sweep: Sweep) -> None:
    assert sweep.elapsed1 < SWEEP_BOUND_S, sweep.timings1
    assert sweep.elapsed2 < DEADLINE_S * 2 + SLACK_S * 2, sweep.elapsed2  # no extraction the second time
    slowest = max(sweep.timings1, key=sweep.timings1.get)
    assert sweep.timings1[slowest] < SWEEP_BOUND_S, (slowest, sweep.timings1)


def test_controls_are_unaffected(sweep: Sweep) -> None:
    for outlet in CONTROLS:
        row, report = sweep.health1[outlet], sweep.report1[outlet]
        assert (row["status"], row["error_class"], row["http_status"]) == ("ok", None, 200)
        assert (report["status"], report["entries"], report["staged"], report["page_failures"]) == ("ok", 2, 2, 0)
        for link in sweep.entries[outlet]:
            article = sweep.articles1[canonical_url(link)]
            assert article["outlet_id"] == outlet and article["language"] == "en" and article["word_count"] >= 120
            assert sweep.hits1[_path(link)] == 1
        assert sweep.report2[outlet]["status"] == "not_modified"
        assert sweep.health2[outlet]["status"] == "ok" and sweep.health2[outlet]["consecutive_failures"] == 0
    assert sweep.quarantine1 == [], [(q["url"], q["failed_expectations"]) for q in sweep.quarantine1]


def test_every_entry_ends_exactly_once(sweep: Sweep) -> None:
    """No row lost or duplicated: each entry is an article, a quarantined article or a fetch failure."""
    articles = {r["article_id"] for r in sweep.env.rows(schema.articles)}
    quarantined = {r["article_id"] for r in sweep.env.rows(schema.quarantine)}
    failed = {r["article_id"] for r in sweep.env.rows(schema.fetch_failures)}
    seen = 0
    for outlet, links in sweep.entries.items():
        assert sweep.report1[outlet]["entries"] == len(links), outlet
        for link in links:
            key = url_key(link)
            places = [name for name, ids in (("articles", articles), ("quarantine", quarantined),
                                             ("fetch_failures", failed)) if key in ids]
            assert len(places) == 1, (outlet, link, places)
            seen += 1
    assert seen == len(articles) + len(quarantined) + len(failed)
    assert sweep.counts1["staging"] == 0


def test_second_run_adds_no_rows_and_fetches_no_pages(sweep: Sweep) -> None:
    assert sweep.counts2 == sweep.counts1
    pages = {p for p in sweep.hits1 if p.endswith(".html")}
    assert {p: sweep.hits2[p] for p in pages} == {p: sweep.hits1[p] for p in pages}
    for outlet in ("f-xxe-file", "f-xxe-http", "f-relative", "f-pages", "f-empty", "f-json", "f-nolinks"):
        assert sweep.report2[outlet]["status"] == "not_modified", outlet
    for outlet in ("f-charset-decl", "f-charset-header"):  # no validators: same body, no parsing
        assert sweep.report2[outlet]["status"] == "unchanged", outlet


def test_rate_limited_feed_waits_for_retry_after(sweep: Sweep) -> None:
    row = sweep.health1["f-429"]
    assert row["next_poll_at"] - row["last_attempt_at"] >= timedelta(seconds=RETRY_AFTER_S)
    assert row["next_poll_at"] >= sweep.after1 + timedelta(seconds=RETRY_AFTER_S - 10)
    assert sweep.health2["f-429"]["next_poll_at"] - sweep.health2["f-429"]["last_attempt_at"] \
        >= timedelta(seconds=RETRY_AFTER_S)


def test_redirects_are_bounded(sweep: Sweep) -> None:
    assert sweep.hits1["/f-loop/feed.xml"] == 1 and sweep.hits1["/f-loop/other.xml"] == 1
    chain = sum(n for p, n in sweep.hits1.items() if p.startswith("/f-chain/"))
    assert chain == MAX_REDIRECTS + 1


def test_redirect_to_unlisted_loopback_name_refused_before_connecting(sweep: Sweep) -> None:
    row = sweep.health1["f-localhost"]
    assert "localhost" in row["error_message"]
    assert sweep.hits2["/f-localhost/target.xml"] == 0  # the guard refused before any connection
    assert sweep.hits1["/f-localhost/feed.xml"] == 1


def test_oversized_bodies_are_cut_at_the_cap(sweep: Sweep) -> None:
    huge, bomb = sweep.health1["f-huge"], sweep.health1["f-gzip"]
    assert str(MAX_FEED_BYTES) in huge["error_message"] and str(MAX_FEED_BYTES) in bomb["error_message"]
    assert sweep.hits1["/f-huge/feed.xml"] == 1
    assert sweep.sent1["/f-huge/feed.xml"] < HUGE_BYTES // 2  # the client hung up long before the end
    assert sweep.sent1["/f-gzip/feed.xml"] < 2**20  # a few dozen KiB on the wire, > 10 MiB inflated


def test_entity_expansion_and_external_entities_are_inert(sweep: Sweep) -> None:
    for outlet in ("f-lol", "f-quadratic"):  # refused whole, with the reason, before any parser ran
        assert sweep.timings1[outlet] < 10
        assert sweep.report1[outlet]["error_class"] == "hostile_feed"
        assert "entity declarations would expand" in sweep.health1[outlet]["error_message"]
        assert sweep.hits1[f"/{outlet}/1.html"] == 0
    for outlet in ("f-xxe-file", "f-xxe-http"):
        assert sweep.report1[outlet]["status"] == "ok"
    assert sweep.hits2["/f-xxe-http/xxe"] == 0 and sweep.hits2["/f-xxe-http/evil.dtd"] == 0
    passwd = Path("/etc/passwd").read_text(encoding="utf-8", errors="replace").splitlines()[:3]
    markers = [*PASSWD_MARKERS, *(line for line in passwd if len(line) > 8), "SECRET-FROM-XXE-URL", "from the dtd",
               "lollollollol"]
    leaks = [(m, t[:200]) for t in sweep.all_text for m in markers if m in t]
    assert leaks == []
    # the feed's own text survived, unexpanded: the title fell back to the feed title (page has none)
    stored = sweep.articles1[canonical_url(sweep.srv.url("/f-xxe-file/1.html"))]
    assert stored["title"].startswith("Leak") and stored["title"].endswith("check")
    assert sweep.failures1[sweep.srv.url("/f-xxe-file/2.html")]["error_class"] == "not_found"


def test_wrong_charset_feeds_store_titles(sweep: Sweep) -> None:
    """No crash, the run finishes, a title is stored. (UTF-8 declared as ISO-8859-1 comes out right;
    windows-1251 sent as "charset=utf-8" does not decode as UTF-8: it falls back to detection, which
    gives windows-1252 mojibake, and feed health says so.)"""
    for outlet in ("f-charset-decl", "f-charset-header"):
        assert sweep.report1[outlet]["status"] == "ok"
        (link,) = sweep.entries[outlet]
        article = sweep.articles1[canonical_url(link)]
        assert isinstance(article["title"], str) and len(article["title"]) >= 10, (outlet, article["title"])
    decl = sweep.articles1[canonical_url(sweep.entries["f-charset-decl"][0])]
    assert decl["title"] == "Городской совет одобрил новый бюджет"
    assert sweep.health1["f-charset-decl"]["charset_note"] is None  # no charset in the header: nothing to contradict
    note = sweep.health1["f-charset-header"]["charset_note"]
    assert note.startswith("Content-Type says charset=utf-8 but the body does not decode as utf-8"), note
    assert sweep.health2["f-charset-header"]["charset_note"] == note  # an unchanged body keeps the note


def test_json_feed_is_stored_like_rss(sweep: Sweep) -> None:
    (link,) = sweep.entries["f-json"]
    article = sweep.articles1[canonical_url(link)]
    assert article["outlet_id"] == "f-json" and article["title"] == "Tram depot opens to the public"
    assert sweep.report1["f-json"]["entries"] == 1 and sweep.report1["f-json"]["staged"] == 1


def test_feed_of_linkless_entries_is_counted_and_flagged(sweep: Sweep) -> None:
    row, report = sweep.health1["f-nolinks"], sweep.report1["f-nolinks"]
    assert (report["entries"], report["skipped"]) == (0, 3)
    assert (row["entries_seen"], row["entries_skipped"]) == (0, 3)
    assert row["status"] == "no_links" and "3 of 3 entries skipped" in row["status_reason"]
    assert sweep.health2["f-nolinks"]["status"] == "no_links"  # a 304 keeps the flag


def test_relative_links_resolve_against_the_feed_url(sweep: Sweep) -> None:
    for path in ("/f-relative/a/1.html", "/f-relative/feeds/story/2.html"):
        assert sweep.hits1[path] == 1
        assert sweep.articles1[canonical_url(sweep.srv.url(path))]["outlet_id"] == "f-relative"


def test_page_failures_are_recorded_with_their_retry(sweep: Sweep) -> None:
    report = sweep.report1["f-pages"]
    assert (report["status"], report["entries"], report["staged"], report["page_failures"]) == ("ok", 3, 1, 2)
    transient = sweep.failures1[sweep.srv.url("/f-pages/p500.html")]
    assert (transient["error_class"], transient["http_status"], transient["attempts"]) == ("server_error", 500, 1)
    wait = transient["next_retry_at"] - transient["last_attempt_at"]
    assert timedelta(minutes=29) <= wait <= timedelta(minutes=31)
    permanent = sweep.failures1[sweep.srv.url("/f-pages/p404.html")]
    assert (permanent["error_class"], permanent["http_status"], permanent["next_retry_at"]) == ("not_found", 404, None)
    assert permanent["entry"]["title"] == "Museum reopens its east wing to visitors"  # kept to retry without the feed


# -- polls of an unchanged feed ---------------------------------------------------------------------


@pytest.mark.parametrize("validators", [True, False], ids=["etag", "no-validators"])
def test_second_poll_of_unchanged_feed_parses_nothing_and_fetches_no_pages(
        srv: FaultServer, env_factory, monkeypatch: pytest.MonkeyPatch, validators: bool) -> None:
    prefix = f"/poll-{'etag' if validators else 'plain'}"
    items = _items(srv, prefix, [f"Night trains return to {prefix[6:]} line", f"Port expansion vote in {prefix[6:]}"])
    srv.route(f"{prefix}/feed.xml", respond(rss(items), etag='"same"' if validators else None))
    env = env_factory([_outlet("poller", srv.url(f"{prefix}/feed.xml"))])

    first, _ = env.collect(["poller"], "poll-1")
    assert first.outlets[0].status == "ok" and first.outlets[0].staged == 2
    pages = {p: srv.hits(p) for p in (f"{prefix}/1.html", f"{prefix}/2.html")}
    assert pages == {f"{prefix}/1.html": 1, f"{prefix}/2.html": 1}

    calls = []
    real = collect_stage.read_feed
    monkeypatch.setattr(collect_stage, "read_feed",
                        lambda body, url, ctype: calls.append(url) or real(body, url, ctype))
    second, elapsed = env.collect(["poller"], "poll-2")
    assert calls == []
    assert second.outlets[0].status == ("not_modified" if validators else "unchanged")
    assert {p: srv.hits(p) for p in pages} == pages
    last = srv.requests(f"{prefix}/feed.xml")[-1]
    if validators:
        assert (last.headers.get("if-none-match"), last.status) == ('"same"', 304)
    else:
        assert "if-none-match" not in last.headers and last.status == 200
    assert env.health()["poller"]["consecutive_failures"] == 0
    assert elapsed < DEADLINE_S + SLACK_S


STALE_LAST_MODIFIED = "Sun, 01 Nov 2026 08:00:00 GMT"


@pytest.mark.parametrize("validator", ["etag", "last-modified"])
def test_stale_validators_are_detected_and_new_items_picked_up(srv: FaultServer, env_factory, validator: str) -> None:
    prefix = f"/stale-{validator}"
    links = [_page(srv, f"{prefix}/{n}.html", f"{title} ({validator})") for n, title in
             enumerate(["Water board raises summer tariffs", "Old mill turned into a concert hall",
                        "Snow closes the mountain pass overnight"], 1)]
    items = [Item(f"Stale item {n}", link, PUBLISHED) for n, link in enumerate(links, 1)]
    state = {"body": rss(items[:2])}
    if validator == "etag":
        srv.route(f"{prefix}/feed.xml", stale_validators(state, etag='"forever"'))
        sent_header, sent_value = "if-none-match", '"forever"'
    else:
        srv.route(f"{prefix}/feed.xml", stale_validators(state, last_modified=STALE_LAST_MODIFIED))
        sent_header, sent_value = "if-modified-since", STALE_LAST_MODIFIED
    env = env_factory([_outlet("stale", srv.url(f"{prefix}/feed.xml"))])

    def poll(run_id: str) -> tuple[str, str | None, int | None]:
        report, _ = env.collect(["stale"], run_id)
        seen = srv.requests(f"{prefix}/feed.xml")[-1]
        return report.outlets[0].status, seen.headers.get(sent_header), seen.status

    assert poll("stale-1") == ("ok", None, 200)  # a fresh feed: unconditional
    env.process("stale-1")
    assert len(env.articles()) == 2

    state["body"] = rss(items)  # a new item, same validators: the server's 304s now lie
    for n in range(FULL_FETCH_EVERY):
        assert poll(f"stale-c{n}") == ("not_modified", sent_value, 304), n
    assert srv.hits(f"{prefix}/3.html") == 0

    assert poll("stale-full") == ("ok", None, 200)  # every FULL_FETCH_EVERY-th poll ignores validators
    assert srv.hits(f"{prefix}/3.html") == 1
    env.process("stale-full")
    assert set(env.articles()) == {canonical_url(link) for link in links}
    assert env.health()["stale"]["validators_trusted"] is False

    assert poll("stale-after") == ("unchanged", None, 200)  # untrusted: no validators sent, no parsing
    assert [srv.hits(_path(link)) for link in links] == [1, 1, 1]


# -- page failures over several runs -----------------------------------------------------------------


def test_transient_page_failure_is_retried_when_due_and_stored(srv: FaultServer, env_factory) -> None:
    srv.route("/retry/flaky.html", respond(b"temporarily broken", "text/plain", status=500))
    srv.route("/retry/gone.html", respond(b"removed", "text/plain", status=404))
    items = [Item("Tram depot fire under control", srv.url("/retry/flaky.html"), PUBLISHED),
             Item("Council archive goes online", srv.url("/retry/gone.html"), PUBLISHED)]
    srv.route("/retry/feed.xml", respond(rss(items), etag='"retry"'))
    env = env_factory([_outlet("retry", srv.url("/retry/feed.xml"))])

    report, _ = env.collect(["retry"], "retry-1")
    assert report.outlets[0].page_failures == 2
    env.process("retry-1")
    failures = env.failures()
    flaky, gone = failures[srv.url("/retry/flaky.html")], failures[srv.url("/retry/gone.html")]
    assert flaky["error_class"] == "server_error" and flaky["next_retry_at"] > datetime.now(UTC)
    assert gone["error_class"] == "not_found" and gone["next_retry_at"] is None

    # the page is fixed, but its retry is not due yet: not fetched
    srv.route("/retry/flaky.html", respond(article_page("retry-flaky", "Tram depot fire under control", PUBLISHED),
                                           HTML_TYPE))
    env.collect(["retry"], "retry-2")
    assert srv.hits("/retry/flaky.html") == 1

    env.make_failures_due()
    report, _ = env.collect(["retry"], "retry-3")
    assert (report.outlets[0].status, report.outlets[0].staged) == ("not_modified", 1)
    env.process("retry-3")
    assert srv.hits("/retry/flaky.html") == 2 and srv.hits("/retry/gone.html") == 1  # permanent: not retried
    article = env.articles()[canonical_url(srv.url("/retry/flaky.html"))]
    assert article["title"] == "Tram depot fire under control"
    assert set(env.failures()) == {srv.url("/retry/gone.html")}

    counts = env.wh.counts()
    env.collect(["retry"], "retry-4")
    env.process("retry-4")
    assert env.wh.counts() == counts
    assert srv.hits("/retry/flaky.html") == 2


def test_failed_pages_are_not_refetched_early_when_the_feed_changes(srv: FaultServer, env_factory) -> None:
    srv.route("/perm/missing.html", respond(b"removed", "text/plain", status=404))
    srv.route("/perm/flaky.html", respond(b"down", "text/plain", status=503))
    old = [Item("Harbour crane contract signed", srv.url("/perm/missing.html"), PUBLISHED),
           Item("Hospital wing opening delayed", srv.url("/perm/flaky.html"), PUBLISHED)]
    srv.route("/perm/feed.xml", respond(rss(old), etag='"v1"'))
    env = env_factory([_outlet("perm", srv.url("/perm/feed.xml"))])
    env.collect(["perm"], "perm-1")
    env.process("perm-1")

    fresh = Item("Fishing quotas agreed for spring", _page(srv, "/perm/fresh.html", "Fishing quotas agreed for spring"),
                 PUBLISHED)
    srv.route("/perm/feed.xml", respond(rss([fresh, *old]), etag='"v2"'))
    report, _ = env.collect(["perm"], "perm-2")
    assert report.outlets[0].staged == 1 and srv.hits("/perm/fresh.html") == 1
    failures = env.failures()
    assert failures[srv.url("/perm/missing.html")]["attempts"] == 1
    assert srv.hits("/perm/missing.html") == 1  # permanent: never fetched again
    assert srv.hits("/perm/flaky.html") == 1  # transient: not before its next_retry_at


def test_retried_entry_stored_under_another_url_is_cleared(srv: FaultServer, env_factory) -> None:
    srv.route("/canon/r/7", respond(b"down", "text/plain", status=502))
    # the feed's headline differs from the page's, as it often does (so title folding does not mask the retry)
    srv.route("/canon/feed.xml", respond(rss([Item("Airport trains: service restored", srv.url("/canon/r/7"),
                                                    PUBLISHED)]), etag='"canon"'))
    env = env_factory([_outlet("canon", srv.url("/canon/feed.xml"))])
    env.collect(["canon"], "canon-1")
    env.process("canon-1")
    assert set(env.failures()) == {srv.url("/canon/r/7")}

    _page(srv, "/canon/a/7.html", "Airport link trains run again")
    srv.route("/canon/r/7", redirect("/canon/a/7.html", 301))  # the feed's tracking link now redirects
    env.make_failures_due()
    env.collect(["canon"], "canon-2")
    env.process("canon-2")
    assert canonical_url(srv.url("/canon/a/7.html")) in env.articles()
    hits = srv.hits("/canon/r/7")
    env.collect(["canon"], "canon-3")
    env.process("canon-3")
    assert srv.hits("/canon/r/7") == hits  # stored: no retry any more
    assert env.failures() == {}  # the entry is an article now, not also a pending failure


# -- deadlines -----------------------------------------------------------------------------------------


def test_header_drip_is_cut_at_the_deadline(srv: FaultServer, env_factory) -> None:
    srv.route("/drip-head/feed.xml", drip_headers(0.5, 6.0))
    env = env_factory([_outlet("drip-head", srv.url("/drip-head/feed.xml"))])
    report, elapsed = env.collect(["drip-head"], "drip-head-1")
    row = env.health()["drip-head"]
    assert row["next_poll_at"] > datetime.now(UTC)
    assert elapsed < DEADLINE_S + SLACK_S, elapsed
    assert (report.outlets[0].error_class, row["error_class"]) == ("timeout", "timeout")


# -- the SSRF allowance belongs to one outlet ------------------------------------------------------------


@pytest.fixture
def ssrf(srv: FaultServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[FaultServer, list[dict[str, Any]]]]:
    """An intranet outlet on 127.0.0.1 (allow_private) and a "public" outlet on [::1] (not allowed)
    whose feed links into the intranet host. ``::1`` stands in for a public address: the guard is told it
    is public, so nothing but loopback is ever contacted."""
    real = guard._is_public
    monkeypatch.setattr(guard, "_is_public", lambda address: address == "::1" or real(address))
    srv.route("/intranet/secret.html", respond(article_page("intranet-secret", "Internal payroll report", PUBLISHED),
                                               HTML_TYPE))
    intranet = _items(srv, "/intranet", ["Staff canteen menu for the week"])
    srv.route("/intranet/feed.xml", respond(rss(intranet), etag='"intranet"'))
    with FaultServer("::1") as public:
        _page(public, "/pub/1.html", "Coastal road reopens after landslide")
        items = [Item("Coastal road reopens after landslide", public.url("/pub/1.html"), PUBLISHED),
                 Item("An innocent looking headline here", srv.url("/intranet/secret.html"), PUBLISHED)]
        public.route("/pub/feed.xml", respond(rss(items), etag='"pub"'))
        yield public, [_outlet("intranet", srv.url("/intranet/feed.xml"), allow_private=True),
                       _outlet("public-site", public.url("/pub/feed.xml"), allow_private=False)]


def test_public_feed_cannot_point_the_crawler_at_a_private_host(srv: FaultServer, ssrf, env_factory) -> None:
    public, outlets = ssrf
    env = env_factory(outlets)
    report, _ = env.collect(["public-site"], "ssrf-alone")
    assert (report.outlets[0].status, report.outlets[0].staged, report.outlets[0].page_failures) == ("ok", 1, 1)
    assert srv.hits("/intranet/secret.html") == 0
    row = env.failures()[srv.url("/intranet/secret.html")]
    assert (row["error_class"], row["next_retry_at"]) == ("blocked_address", None)


def test_private_allowance_does_not_leak_to_other_outlets_in_the_batch(srv: FaultServer, ssrf, env_factory) -> None:
    public, outlets = ssrf
    env = env_factory(outlets)
    before = srv.hits("/intranet/secret.html")
    report, _ = env.collect(["intranet", "public-site"], "ssrf-batch")
    assert {o.outlet_id: o.status for o in report.outlets} == {"intranet": "ok", "public-site": "ok"}
    assert srv.hits("/intranet/secret.html") == before
    assert env.failures()[srv.url("/intranet/secret.html")]["error_class"] == "blocked_address"
