"""Benchmark of feed polling: N feeds on a local server with added latency, polled by ``collect``.

    .venv/bin/python bench/poll_feeds.py [--feeds 1000 --latency-ms 100] [--profile] [--what-if] [--json out.json]

What it does, in one process (plus one server process):

* starts a local HTTP server on 127.0.0.1 (asyncio, in a child process so it does not share the
  poller's GIL) serving N distinct RSS feeds at /feed/<i>.xml, ~20 items and 17-31 KB each, gzip on
  request, every response held back by the latency, with ETag / Last-Modified and 304 on a match;
* writes an outlet registry for them (allow_private, one loopback host with max_concurrency 64 and
  min_delay_s 0: politeness is per host, and here one loopback host stands for N different hosts);
* pre-stores every feed entry's article in the warehouse (``articles`` rows whose ``sources``
  already name the feed entry), so ``collect`` finds every entry "already stored" and the benchmark
  measures polling, not page fetching or extraction;
* times ``media_monitoring.pipeline.collect`` (the code the Airflow collect task runs) for a cold
  poll (no feed state: unconditional GETs, every feed parsed) and then an all-304 poll (validators
  sent, the server answers 304, nothing parsed), then a naive baseline of the same fetches (httpx +
  a ThreadPoolExecutor of the same width + ``feedparser.parse``), a server check at 4x the width,
  and the single-thread cost of each piece of a poll;
* with ``--what-if``, in-process variants (the product's files are not touched): keep-alive after a
  304, 32 and 64 outlet threads, no sources staged for stored articles; with ``--profile``, the polls again under a
  wall-clock stack sampler and under cProfile with a thread-CPU timer (every worker thread).

Every request goes to 127.0.0.1, every loop is bounded, and the server exits with its parent (stdin
closes) or after ``SERVER_MAX_LIFETIME_S`` at the latest.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gzip
import hashlib
import importlib
import io
import json
import logging
import os
import platform
import pstats
import random
import re
import resource
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SERVER_MAX_LIFETIME_S = 900  # the server stops itself after this even if its parent vanished
SERVER_START_TIMEOUT_S = 30
HOST = "127.0.0.1"
PROFILED_FEEDS = 200  # outlets in the cProfiled pass
HOST_MAX_CONCURRENCY = 64  # the registry's upper bound (config.HostLimits); >= OUTLET_THREADS
BASE_DATE = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
FIXED_LAST_MODIFIED = format_datetime(BASE_DATE, usegmt=True)
WORDS = (
    "minister government border security talks agreement election parliament president economy trade "
    "energy gas oil pipeline region capital protest court ruling sanctions bank currency inflation "
    "drought harvest water dam river railway corridor summit delegation visit investment reform "
    "opposition coalition budget tariff exports imports customs migration refugees earthquake flood "
    "school hospital vaccine journalists media report statement spokesman ministry defence exercise"
).split()


# --------------------------------------------------------------------------------------------------
# The feeds (deterministic: the server and the pre-store step both derive them from the feed index)


def article_link(base: str, feed: int, item: int) -> str:
    return f"{base}/news/{feed}/{item}-story.html"


def entry_guid(feed: int, item: int) -> str:
    return f"urn:bench:{feed}:{item}"


def feed_path(feed: int) -> str:
    return f"/feed/{feed}.xml"


def _words(rng: random.Random, lo: int, hi: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(lo, hi)))


def render_feed(base: str, feed: int, items: int) -> bytes:
    """One RSS 2.0 feed: ``items`` entries with HTML descriptions, 10-30 KB in all."""
    rng = random.Random(feed)
    out = io.StringIO()
    out.write('<?xml version="1.0" encoding="utf-8"?>\n'
              '<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom" '
              'xmlns:dc="http://purl.org/dc/elements/1.1/">\n<channel>\n'
              f"  <title>Bench Outlet {feed}</title>\n  <link>{base}/</link>\n"
              f"  <description>Synthetic outlet {feed} for the polling benchmark</description>\n"
              f"  <language>en</language>\n  <lastBuildDate>{FIXED_LAST_MODIFIED}</lastBuildDate>\n"
              f'  <atom:link href="{base}{feed_path(feed)}" rel="self" type="application/rss+xml"/>\n'
              "  <ttl>15</ttl>\n")
    # most feeds 10-25 KB, a few up to 30 KB
    para_words = rng.choice((12, 18, 24, 30, 36, 42))
    for item in range(items):
        published = BASE_DATE - timedelta(minutes=37 * item + rng.randint(0, 30))
        paras = "".join(f"&lt;p&gt;{_words(rng, para_words, para_words + 20)}.&lt;/p&gt;"
                        for _ in range(rng.randint(1, 3)))
        out.write(
            "  <item>\n"
            f"    <title>{_words(rng, 6, 12).capitalize()}</title>\n"
            f"    <link>{article_link(base, feed, item)}</link>\n"
            f'    <guid isPermaLink="false">{entry_guid(feed, item)}</guid>\n'
            f"    <pubDate>{format_datetime(published, usegmt=True)}</pubDate>\n"
            f"    <dc:creator>{_words(rng, 2, 2).title()}</dc:creator>\n"
            f"    <category>{rng.choice(WORDS).title()}</category>\n"
            f"    <category>{rng.choice(WORDS).title()}</category>\n"
            f"    <description>{paras}&lt;p&gt;&lt;a href=&quot;{article_link(base, feed, item)}&quot;&gt;"
            "Read more&lt;/a&gt;&lt;/p&gt;</description>\n"
            "  </item>\n")
    out.write("</channel>\n</rss>\n")
    return out.getvalue().encode("utf-8")


# --------------------------------------------------------------------------------------------------
# The server (child process: `poll_feeds.py --serve ...`)


class _Stats:
    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.requests: Counter[str] = Counter()
        self.bytes_out = 0
        self.connections = 0
        self.inflight = 0
        self.max_inflight = 0
        self.late: list[float] = []  # seconds past the intended send time, per delayed response
        self.cpu0 = time.process_time()
        self.wall0 = time.monotonic()

    def snapshot(self) -> dict[str, Any]:
        late = sorted(self.late)

        def q(p: float) -> float:
            return round(late[min(len(late) - 1, int(p * len(late)))] * 1000, 2) if late else 0.0

        return {"requests": dict(self.requests), "bytes_out": self.bytes_out, "connections": self.connections,
                "max_inflight": self.max_inflight, "late_ms_p50": q(0.5), "late_ms_p99": q(0.99),
                "late_ms_max": round(late[-1] * 1000, 2) if late else 0.0,
                "cpu_s": round(time.process_time() - self.cpu0, 3), "wall_s": round(time.monotonic() - self.wall0, 3)}


class _FeedServer(asyncio.Protocol):
    """Minimal HTTP/1.1 with keep-alive; GET only; responses pre-rendered, only the delay is per request."""

    responses: dict[bytes, tuple[bytes, bytes, bytes, bytes]] = {}  # path -> (etag, 200 gzip, 200 plain, 304)
    latency = 0.1
    stats = _Stats()
    loop: asyncio.AbstractEventLoop

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.buf = b""
        self.pending: deque[list[bytes | None]] = deque()
        self.closed = False
        self.stats.connections += 1

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True

    def data_received(self, data: bytes) -> None:
        self.buf += data
        if len(self.buf) > 65536:
            self.transport.close()
            return
        while (end := self.buf.find(b"\r\n\r\n")) >= 0:
            head, self.buf = self.buf[:end], self.buf[end + 4:]
            self._request(head)

    def _request(self, head: bytes) -> None:
        lines = head.split(b"\r\n")
        parts = lines[0].split(b" ")
        target = parts[1] if len(parts) > 2 else b"/"
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            headers[name.strip().lower()] = value.strip()
        path = target.split(b"?", 1)[0]
        delay = self.latency
        if path.startswith(b"/fast/"):  # no added latency: for the single-thread component costs
            path, delay = path[5:], 0.0
        if path.startswith(b"/__"):  # control: stats and reset, answered at once
            body = json.dumps(self.stats.snapshot()).encode()
            if path == b"/__reset":
                self.stats.reset()
            self._send(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s"
                       % (len(body), body))
            return
        found = self.responses.get(path)
        if found is None:
            kind, response = "404", b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"
        else:
            etag, gz, plain, not_modified = found
            if headers.get(b"if-none-match") == etag or (
                    b"if-none-match" not in headers
                    and headers.get(b"if-modified-since") == FIXED_LAST_MODIFIED.encode()):
                kind, response = "feed_304", not_modified
            elif b"gzip" in headers.get(b"accept-encoding", b""):
                kind, response = "feed_200", gz
            else:
                kind, response = "feed_200", plain
        self.stats.requests[kind if delay else kind + " (no delay)"] += 1
        slot: list[bytes | None] = [None]
        self.pending.append(slot)
        self.stats.inflight += 1
        self.stats.max_inflight = max(self.stats.max_inflight, self.stats.inflight)
        due = self.loop.time() + delay
        self.loop.call_at(due, self._ready, slot, response, due)

    def _ready(self, slot: list[bytes | None], response: bytes, due: float) -> None:
        self.stats.late.append(self.loop.time() - due)
        self.stats.inflight -= 1
        slot[0] = response
        while self.pending and self.pending[0][0] is not None:  # keep responses in request order
            self._send(self.pending.popleft()[0])  # type: ignore[arg-type]

    def _send(self, data: bytes) -> None:
        if not self.closed:
            self.transport.write(data)
            self.stats.bytes_out += len(data)


def _prepare_responses(base: str, feeds: int, items: int) -> dict[bytes, tuple[bytes, bytes, bytes, bytes]]:
    responses = {}
    for feed in range(feeds):
        body = render_feed(base, feed, items)
        etag = b'"' + hashlib.sha256(body).hexdigest()[:20].encode() + b'"'
        common = (b"ETag: " + etag + b"\r\nLast-Modified: " + FIXED_LAST_MODIFIED.encode()
                  + b"\r\nCache-Control: max-age=60\r\nVary: Accept-Encoding\r\n")
        ctype = b"Content-Type: application/rss+xml; charset=utf-8\r\n"
        gz = gzip.compress(body, 6, mtime=0)
        responses[feed_path(feed).encode()] = (
            etag,
            b"HTTP/1.1 200 OK\r\n" + ctype + common + b"Content-Encoding: gzip\r\nContent-Length: %d\r\n\r\n"
            % len(gz) + gz,
            b"HTTP/1.1 200 OK\r\n" + ctype + common + b"Content-Length: %d\r\n\r\n" % len(body) + body,
            b"HTTP/1.1 304 Not Modified\r\n" + common + b"\r\n",
        )
    return responses


def serve(feeds: int, items: int, latency_ms: float) -> None:
    """Serve until stdin closes (the parent ended) or SERVER_MAX_LIFETIME_S passes."""
    try:
        import uvloop  # an Airflow dependency; the plain asyncio loop works too
        loop_name = f"uvloop {uvloop.__version__}"
        loop = uvloop.new_event_loop()
    except ImportError:
        loop_name = "asyncio"
        loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    server = loop.run_until_complete(loop.create_server(_FeedServer, HOST, 0, backlog=1024))
    port = server.sockets[0].getsockname()[1]
    _FeedServer.loop = loop
    _FeedServer.latency = latency_ms / 1000
    _FeedServer.responses = _prepare_responses(f"http://{HOST}:{port}", feeds, items)
    _FeedServer.stats.reset()
    stop = threading.Event()

    def watch_stdin() -> None:
        sys.stdin.read()  # returns at EOF: the parent closed the pipe or died
        stop.set()
        loop.call_soon_threadsafe(loop.stop)

    threading.Thread(target=watch_stdin, daemon=True).start()
    loop.call_later(SERVER_MAX_LIFETIME_S, loop.stop)
    print(f"PORT {port} {loop_name}", flush=True)
    loop.run_forever()
    server.close()


class ServerProcess:
    """The feed server in a child process, driven over stdin/stdout and its control URLs."""

    def __init__(self, feeds: int, items: int, latency_ms: float) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, __file__, "--serve", "--feeds", str(feeds), "--items", str(items),
             "--latency-ms", str(latency_ms)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        line = self._readline(SERVER_START_TIMEOUT_S)
        if not line.startswith("PORT "):
            self.stop()
            raise RuntimeError(f"feed server did not start: {line!r}")
        _, port, self.loop_name = line.split(" ", 2)
        self.base = f"http://{HOST}:{int(port)}"

    def _readline(self, timeout: float) -> str:
        result: list[str] = []
        reader = threading.Thread(target=lambda: result.append(self.proc.stdout.readline()), daemon=True)
        reader.start()
        reader.join(timeout)
        return result[0].strip() if result else ""

    def control(self, what: str) -> dict[str, Any]:
        import httpx

        return httpx.get(f"{self.base}/__{what}", timeout=10, trust_env=False).json()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.stdin.close()  # the server's stdin watcher stops its loop
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


# --------------------------------------------------------------------------------------------------
# The product side: registry, settings, warehouse with pre-stored articles


def write_registry(path: Path, base: str, feeds: int) -> list[str]:
    ids = [f"bench-{i:05d}" for i in range(feeds)]
    lines = [
        "# Generated by bench/poll_feeds.py. One loopback host stands for N different hosts: politeness",
        "# limits are per host, so the loopback host gets room for every outlet thread and no spacing.",
        'version: "bench"',
        "hosts:",
        "  default: {max_concurrency: 2, min_delay_s: 1.0}",
        f"  {HOST}: {{max_concurrency: {HOST_MAX_CONCURRENCY}, min_delay_s: 0}}",
        "outlets:",
    ]
    for i, outlet_id in enumerate(ids):
        lines += [f"  - id: {outlet_id}", f'    name: "Bench Outlet {i}"', f'    feed_url: "{base}{feed_path(i)}"',
                  "    country: KZ", "    languages: [en]", "    allow_private: true"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return ids


def prestore_articles(wh: Any, base: str, ids: list[str], items: int, *, with_sources: bool) -> int:
    """Insert one minimal ``articles`` row per feed entry, keyed exactly as the pipeline keys it.

    ``sources`` already holds the feed entry (as ``pipeline._source`` writes it), which is the steady
    state of a feed seen before; with ``with_sources=False`` it is empty, so the poll adds the source
    to every row (one UPDATE per entry).
    """
    from media_monitoring.urls import canonical_url, url_key
    from media_monitoring.warehouse import schema as s

    rows = []
    for feed, outlet_id in enumerate(ids):
        feed_url = f"{base}{feed_path(feed)}"
        for item in range(items):
            link = article_link(base, feed, item)
            source = {"outlet_id": outlet_id, "feed_url": feed_url, "entry_id": entry_guid(feed, item), "link": link}
            rows.append({
                "article_id": url_key(link), "canonical_url": canonical_url(link), "url": link,
                "outlet_id": outlet_id, "outlet_country": "KZ", "title": f"pre-stored {feed}/{item}",
                "text": "", "word_count": 0, "sources": [source] if with_sources else [],
                "countries": [], "regions": [], "first_run_id": "bench-prestore", "fetched_at": BASE_DATE,
            })
    with wh.engine.begin() as conn:
        for start in range(0, len(rows), 2000):
            conn.execute(s.articles.insert(), rows[start:start + 2000])
    return len(rows)


TABLE_RE = re.compile(r'\b(?:FROM|INTO|UPDATE)\s+"?(\w+)', re.IGNORECASE)


class SqlCounters:
    """Connections opened, pool checkouts and statements by kind on the warehouse engine."""

    def __init__(self, engine: Any) -> None:
        import sqlalchemy as sa

        self.counts: Counter[str] = Counter()
        self.exec_s = 0.0
        self._local = threading.local()
        self._lock = threading.Lock()
        sa.event.listen(engine, "connect", lambda *a: self._count("connect"))
        sa.event.listen(engine, "checkout", lambda *a: self._count("checkout"))
        sa.event.listen(engine, "before_cursor_execute", self._before)
        sa.event.listen(engine, "after_cursor_execute", self._after)
        self.pool = f"{type(engine.pool).__name__}(size={getattr(engine.pool, 'size', lambda: '?')()}, " \
                    f"overflow={getattr(engine.pool, '_max_overflow', '?')})"

    def _count(self, key: str) -> None:
        with self._lock:
            self.counts[key] += 1

    def _before(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        self._local.t0 = time.perf_counter()
        word = statement.lstrip().split(None, 1)[0].upper()
        found = TABLE_RE.search(statement)
        self._count(f"sql {word} {found.group(1) if found else ''}".strip())

    def _after(self, *args: Any) -> None:
        elapsed = time.perf_counter() - getattr(self._local, "t0", time.perf_counter())
        with self._lock:
            self.exec_s += elapsed

    def take(self) -> dict[str, Any]:
        with self._lock:
            out = {"counts": dict(sorted(self.counts.items())), "execute_thread_s": round(self.exec_s, 3)}
            self.counts.clear()
            self.exec_s = 0.0
        return out


def machine_busy_s() -> float:
    """CPU seconds the whole machine has been busy (all cores, all processes), from /proc/stat."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


@contextmanager
def measured() -> Iterator[dict[str, float]]:
    """Wall time and CPU time of this process (all threads) plus reaped children, and the machine's busy time."""
    out: dict[str, float] = {"loadavg_1m_before": os.getloadavg()[0]}
    ch0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    busy0 = machine_busy_s()
    wall0, cpu0 = time.perf_counter(), time.process_time()
    yield out
    out["wall_s"] = time.perf_counter() - wall0
    ch1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    out["cpu_s"] = time.process_time() - cpu0 + (ch1.ru_utime - ch0.ru_utime) + (ch1.ru_stime - ch0.ru_stime)
    out["machine_busy_s"] = machine_busy_s() - busy0


def run_collect(ids: list[str], run_id: str, settings: Any, wh: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    from media_monitoring.pipeline import collect

    with measured() as m:
        report = collect(ids, run_id=run_id, settings=settings, warehouse=wh)
    totals = report.totals()
    totals["by_status"] = dict(Counter(o["status"] for o in totals.pop("by_outlet").values()))
    return m, totals


# --------------------------------------------------------------------------------------------------
# The naive baseline: httpx + a thread pool of the same width + feedparser.parse on the bytes


def baseline_poll(urls: list[str], width: int, etags: dict[str, str] | None
                  ) -> tuple[dict[str, float], dict[str, Any], dict[str, str], list[bytes]]:
    import feedparser
    import httpx

    found_etags: dict[str, str] = {}
    bodies: list[bytes] = []
    statuses: Counter[str] = Counter()
    entries = 0
    lock = threading.Lock()
    with measured() as m, httpx.Client(timeout=30, trust_env=False,
                                       limits=httpx.Limits(max_connections=64, max_keepalive_connections=64)) as http:
        def poll(url: str) -> None:
            nonlocal entries
            headers = {"If-None-Match": etags[url]} if etags and url in etags else {}
            response = http.get(url, headers=headers)
            if response.status_code == 304:
                with lock:
                    statuses["304"] += 1
                return
            parsed = feedparser.parse(response.content)
            with lock:
                statuses[str(response.status_code)] += 1
                entries += len(parsed.entries)
                found_etags[url] = response.headers.get("etag", "")
                bodies.append(response.content)

        with ThreadPoolExecutor(max_workers=width) as pool:
            list(pool.map(poll, urls))
    return m, {"statuses": dict(statuses), "entries": entries}, found_etags, bodies


def component_costs(wh: Any, registry: Path, ids: list[str], base: str, items: int, sample: int
                    ) -> dict[str, dict[str, float]]:
    """What one call of each piece of a poll costs, one thread, no contention: CPU and wall ms per call.

    Run on the warehouse of the timed passes after them (feed state and pre-stored articles in place),
    against the server's no-latency paths. Their per-feed sum, set against the measured CPU per feed,
    shows how much the 16-thread run adds (GIL hand-offs, lock convoys).
    """
    import feedparser
    import httpx
    import yaml

    from media_monitoring.config import Registry, load_registry
    from media_monitoring.feeds import parse_feed
    from media_monitoring.net import FEED_CONTENT_TYPES, MAX_FEED_BYTES, HttpClient
    from media_monitoring.pipeline import FEED_ACCEPT
    from media_monitoring.urls import url_key
    from media_monitoring.warehouse import articles as article_store
    from media_monitoring.warehouse import feeds as feed_store

    out: dict[str, dict[str, float]] = {}

    def cost(name: str, calls: list[Callable[[], Any]]) -> None:
        wall0, cpu0 = time.perf_counter(), time.process_time()
        for call in calls:
            call()
        n = max(1, len(calls))
        out[name] = {"calls": len(calls), "cpu_ms": round(1000 * (time.process_time() - cpu0) / n, 3),
                     "wall_ms": round(1000 * (time.perf_counter() - wall0) / n, 3)}

    text = registry.read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    cost("registry: load_registry (once per collect call)", [lambda: load_registry(registry, "")])
    cost("registry: yaml.safe_load part", [lambda: yaml.safe_load(text)])
    cost("registry: yaml.compose part (line numbers for errors)", [lambda: yaml.compose(text)])
    cost("registry: pydantic validation part", [lambda: Registry.model_validate(data)])
    cost("registry: yaml CSafeLoader instead (what-if)", [lambda: yaml.load(text, Loader=yaml.CSafeLoader)])

    feeds = list(range(min(sample, len(ids))))
    fast = [f"{base}/fast{feed_path(i)}" for i in feeds]
    with HttpClient("bench", allow_private_hosts={HOST}) as client, \
            httpx.Client(trust_env=False, timeout=30) as plain:
        get = client.get
        results = [get(u, max_bytes=MAX_FEED_BYTES, accept=FEED_ACCEPT, content_types=FEED_CONTENT_TYPES)
                   for u in fast[:5]]  # warm: connection open
        cost("http: HttpClient.get 200 (gzip, inflate)",
             [lambda u=u: get(u, max_bytes=MAX_FEED_BYTES, accept=FEED_ACCEPT, content_types=FEED_CONTENT_TYPES)
              for u in fast])
        etag = results[0].etag
        cost("http: HttpClient.get 304",
             [lambda u=fast[0]: get(u, max_bytes=MAX_FEED_BYTES, accept=FEED_ACCEPT, content_types=FEED_CONTENT_TYPES,
                                    etag=etag) for _ in feeds])
        cost("http: plain httpx.Client.get 200 (baseline)", [lambda u=u: plain.get(u).content for u in fast])
        cost("http: plain httpx.Client.get 304 (baseline)",
             [lambda u=fast[0]: plain.get(u, headers={"If-None-Match": etag}) for _ in feeds])
        bodies = [plain.get(u).content for u in fast]
    cost("parse: parse_feed (product options)",
         [lambda b=b, i=i: parse_feed(b, f"{base}{feed_path(i)}") for i, b in zip(feeds, bodies, strict=True)])
    cost("parse: feedparser.parse defaults (baseline)", [lambda b=b: feedparser.parse(b) for b in bodies])
    cost("parse: sha256 of the body", [lambda b=b: hashlib.sha256(b).hexdigest() for b in bodies])

    keys = {i: [url_key(article_link(base, i, j)) for j in range(items)] for i in feeds}
    sources = {i: [{"outlet_id": ids[i], "feed_url": f"{base}{feed_path(i)}", "entry_id": entry_guid(i, j),
                    "link": article_link(base, i, j)} for j in range(items)] for i in feeds}
    now = datetime.now(UTC)
    cost("db: feed_state (per feed)", [lambda i=i: feed_store.feed_state(wh, ids[i]) for i in feeds])
    cost("db: due_retries (per feed)", [lambda i=i: feed_store.due_retries(wh, ids[i], now) for i in feeds])
    cost("db: known_ids of 20 entries (per feed, cold)",
         [lambda i=i: article_store.known_ids(wh, keys[i]) for i in feeds])
    cost("db: known_ids of no entries (per feed, 304)", [lambda: article_store.known_ids(wh, []) for _ in feeds])
    cost("db: failures_not_due of 20 entries (per feed, cold)",
         [lambda i=i: feed_store.failures_not_due(wh, keys[i], now) for i in feeds])
    cost("db: outlet_template (per feed)", [lambda i=i: feed_store.outlet_template(wh, ids[i]) for i in feeds])
    cost("db: add_sources, source already there (per entry, cold)",
         [lambda i=i, j=j: article_store.add_sources(wh, keys[i][j], [sources[i][j]])
          for i in feeds for j in range(items)])
    cost("db: stage of no records (per feed)",
         [lambda i=i: article_store.stage(wh, "bench-components", ids[i], []) for i in feeds])
    states = {i: feed_store.feed_state(wh, ids[i]) for i in feeds}
    cost("db: save_feed_state, one commit (per feed)",
         [lambda i=i: feed_store.save_feed_state(wh, states[i]) for i in feeds])

    # what-ifs for the suggested changes, bench code only (same rows, same results)
    import sqlalchemy as sa
    from sqlalchemy.dialects import sqlite

    from media_monitoring.warehouse import schema as s

    table = s.feed_health
    stmt = sqlite.insert(table)
    stmt = stmt.on_conflict_do_update(index_elements=["outlet_id"], set_={
        c.name: stmt.excluded[c.name] for c in table.columns if c.name != "outlet_id"})

    def save_prebuilt(row: dict[str, Any]) -> None:
        with wh.engine.begin() as conn:
            conn.execute(stmt, [row])

    cost("what-if db: save_feed_state with the upsert built once (per feed)",
         [lambda i=i: save_prebuilt(states[i]) for i in feeds])
    select_sources = sa.select(s.articles.c.article_id, s.articles.c.sources).where(
        s.articles.c.article_id.in_(sa.bindparam("ids", expanding=True)))

    def sources_batched(i: int) -> None:  # one query for the feed's known entries; UPDATE only if one changed
        with wh.engine.begin() as conn:
            current = dict(conn.execute(select_sources, {"ids": keys[i]}).all())
            changed = [k for j, k in enumerate(keys[i]) if sources[i][j] not in current.get(k, [sources[i][j]])]
            assert not changed

    cost("what-if db: add_sources batched, one query per feed (per feed)",
         [lambda i=i: sources_batched(i) for i in feeds])
    return out


def per_feed_estimate(c: dict[str, dict[str, float]], feeds: int, items: int) -> dict[str, float]:
    """Single-thread CPU ms per feed predicted from the component costs, cold and 304."""
    def ms(name: str) -> float:
        return next((v["cpu_ms"] for k, v in c.items() if k.startswith(name)), 0.0)

    common = (ms("registry: load_registry") / feeds + ms("db: feed_state") + ms("db: due_retries")
              + ms("db: stage of no records") + ms("db: save_feed_state") + ms("db: outlet_template"))
    cold = (common + ms("http: HttpClient.get 200") + ms("parse: parse_feed") + ms("parse: sha256")
            + ms("db: known_ids of 20") + ms("db: failures_not_due") + items * ms("db: add_sources"))
    not_modified = common + ms("http: HttpClient.get 304") + ms("db: known_ids of no entries")
    baseline_cold = ms("http: plain httpx.Client.get 200") + ms("parse: feedparser.parse defaults")
    cold_fixed = (cold - items * ms("db: add_sources") + ms("what-if db: add_sources batched")
                  - ms("db: save_feed_state") + ms("what-if db: save_feed_state with"))
    return {"product_cold": round(cold, 2), "product_304": round(not_modified, 2),
            "product_cold_with_both_what_ifs": round(cold_fixed, 2),
            "product_304_with_prebuilt_upsert": round(not_modified - ms("db: save_feed_state")
                                                      + ms("what-if db: save_feed_state with"), 2),
            "baseline_cold": round(baseline_cold, 2), "baseline_304": ms("http: plain httpx.Client.get 304"),
            "of_cold_add_sources": round(items * ms("db: add_sources"), 2),
            "of_cold_parse_feed": ms("parse: parse_feed"),
            "of_cold_and_304_db_per_feed": round(ms("db: feed_state") + ms("db: due_retries")
                                                 + ms("db: outlet_template") + ms("db: stage of no records")
                                                 + ms("db: save_feed_state"), 2)}


# --------------------------------------------------------------------------------------------------
# Profiling: cProfile in every thread, and a wall-clock stack sampler of the worker threads


@contextmanager
def profile_all_threads() -> Iterator[list[cProfile.Profile]]:
    """A cProfile.Profile in every thread started inside the block (and in this one).

    The timer is ``time.thread_time``: times are CPU seconds of the thread, so waits (socket, locks,
    the GIL) count for nothing and the numbers say where the CPU goes; the stack sampler says where
    the wall time goes.
    """
    profiles: list[cProfile.Profile] = []
    lock = threading.Lock()

    def start_in_thread(*_: Any) -> None:
        sys.setprofile(None)
        profile = cProfile.Profile(time.thread_time)
        with lock:
            profiles.append(profile)
        profile.enable()

    main = cProfile.Profile(time.thread_time)
    profiles.append(main)
    threading.setprofile(start_in_thread)
    main.enable()
    try:
        yield profiles
    finally:
        main.disable()
        threading.setprofile(None)


def merged_stats(profiles: list[cProfile.Profile]) -> pstats.Stats:
    stats = pstats.Stats(profiles[0], stream=io.StringIO())
    for p in profiles[1:]:
        stats.add(p)
    return stats


def _func_name(func: tuple[str, int, str]) -> str:
    filename, line, name = func
    return f"{_short(filename)}:{line}({name})"


def top_functions(stats: pstats.Stats, key: str, limit: int, callers: int = 0) -> list[dict[str, Any]]:
    """The top functions by ``key``; with ``callers``, the heaviest callers of each (by cumulative time).

    Times are thread CPU seconds summed over threads (see :func:`profile_all_threads`); cProfile's own
    overhead inflates them about twofold, so read them as shares, not as absolute costs.
    """
    rows = []
    for func, (_cc, nc, tt, ct, by_caller) in stats.stats.items():  # type: ignore[attr-defined]
        row = {"function": _func_name(func), "calls": nc, "tottime_s": round(tt, 3), "cumtime_s": round(ct, 3)}
        if callers:
            heavy = sorted(by_caller.items(), key=lambda kv: kv[1][3], reverse=True)[:callers]
            row["callers"] = [f"{_func_name(c)} {v[3]:.2f}s/{v[1]}" for c, v in heavy]
        rows.append(row)
    rows.sort(key=lambda r: r[key], reverse=True)
    return rows[:limit]


KEY_FUNCTIONS = (  # (file suffix, function): cumulative thread-CPU of the product's stages
    ("pipeline/collect.py", "collect"), ("pipeline/plan.py", "load_outlets"),
    ("pipeline/collect.py", "collect_outlet"), ("net/client.py", "get"), ("feeds/__init__.py", "parse_feed"),
    ("pipeline/collect.py", "_fetch_new"), ("warehouse/articles.py", "known_ids"),
    ("warehouse/feeds.py", "feed_state"), ("warehouse/feeds.py", "due_retries"), ("warehouse/articles.py", "stage"),
    ("warehouse/feeds.py", "save_feed_state"), ("pipeline/health.py", "save_success"),
    ("scheduling.py", "health_status"),
)


def key_functions(stats: pstats.Stats) -> dict[str, float]:
    out = {}
    for (filename, _line, name), (_cc, nc, _tt, ct, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        for suffix, func in KEY_FUNCTIONS:
            if name == func and filename.endswith("media_monitoring/" + suffix):
                out[f"{suffix}:{func} ({nc} calls)"] = round(ct, 3)
    return dict(sorted(out.items(), key=lambda kv: -kv[1]))


def by_package(stats: pstats.Stats) -> dict[str, float]:
    """Self thread-CPU grouped by where the code lives (C functions by what they belong to)."""
    groups: Counter[str] = Counter()
    for (filename, _line, name), (_cc, _nc, tt, _ct, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        if filename == "~":
            label = next((g for k, g in (("sqlite3", "sqlite3 (C)"), ("pyexpat", "expat (C, under feedparser)"),
                                         ("zlib", "zlib (C)"), ("socket", "sockets (C)"), ("select", "sockets (C)"),
                                         ("_ssl", "ssl (C)"), ("lock", "locks (C)"), ("_imp", "import machinery"))
                          if k in name), "other C builtins")
        elif "site-packages/" in filename:
            label = filename.split("site-packages/", 1)[1].split("/", 1)[0]
        elif "media_monitoring/" in filename:
            label = "media_monitoring/" + filename.split("media_monitoring/", 1)[1]
        elif "/bench/" in filename:
            label = "bench harness"
        else:
            label = "stdlib " + _short(filename).split("/", 1)[0].removesuffix(".py")
        groups[label] += tt
    total = sum(groups.values()) or 1.0
    return {k: round(100 * v / total, 1) for k, v in groups.most_common(25)}


def _short(filename: str) -> str:
    for marker in ("site-packages/", "include/", "lib/python3.11/"):
        if marker in filename:
            return filename.split(marker, 1)[1]
    return filename


# Where a worker thread is, by the innermost frame that names a known place (first match wins).
PLACES: tuple[tuple[str, str], ...] = (
    ("politeness.py:slot", "host limiter (waiting for a slot or spacing)"),
    ("sqlalchemy/pool/", "SQLAlchemy pool (checkout/connect/return)"),
    ("sqlalchemy/", "SQLAlchemy + sqlite3 (statements, transactions)"),
    ("feedparser/", "feedparser (parse)"),
    ("media_monitoring/feeds/", "parse_feed (entries to FeedEntry)"),
    ("httpcore/", "httpx/httpcore (send, wait for response, read)"),
    ("httpx/", "httpx/httpcore (send, wait for response, read)"),
    ("media_monitoring/net/", "HttpClient own code (guard, getaddrinfo, inflate)"),
    ("media_monitoring/urls.py", "canonical URLs / url_key"),
    ("media_monitoring/pipeline/", "pipeline own code"),
    ("pydantic", "registry loading"),
    ("yaml/", "registry loading"),
)


class StackSampler:
    """Every ``interval`` s, note where each ThreadPoolExecutor worker is (wall clock, not CPU)."""

    def __init__(self, interval: float = 0.01) -> None:
        self.interval = interval
        self.places: Counter[str] = Counter()
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> StackSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)

    def _run(self) -> None:
        names = {}
        deadline = time.monotonic() + 300  # bounded even if never stopped
        while not self._stop.wait(self.interval) and time.monotonic() < deadline:
            names = {t.ident: t.name for t in threading.enumerate()}
            for ident, frame in sys._current_frames().items():
                if not names.get(ident, "").startswith("ThreadPoolExecutor"):
                    continue
                self.samples += 1
                self.places[self._place(frame)] += 1

    @staticmethod
    def _place(frame: Any) -> str:
        stack = []
        while frame is not None:
            stack.append(f"{frame.f_code.co_filename}:{frame.f_code.co_name}")
            frame = frame.f_back
        for pattern, label in PLACES:
            if any(pattern in entry for entry in stack):
                return label
        if any("concurrent/futures/thread.py:_worker" in e for e in stack[:2]):
            return "idle (waiting for work)"
        return "other: " + _short(stack[0])

    def shares(self) -> dict[str, float]:
        total = max(1, self.samples)
        return {k: round(100 * v / total, 1) for k, v in self.places.most_common()}


# --------------------------------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor())
    mem_kb = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                  if line.startswith("MemTotal"))
    import feedparser
    import httpx
    import sqlalchemy

    from media_monitoring import __version__

    def git(*cmd: str) -> str:
        try:
            return subprocess.run(["git", *cmd], cwd=ROOT, capture_output=True, text=True, timeout=10).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return "?"

    code = {"head": git("rev-parse", "--short", "HEAD"),
            "uncommitted_product_files": git("status", "--porcelain", "--", "include").splitlines()}
    return {"code": code, "nproc": os.cpu_count(), "cpu": model, "ram_gib": round(mem_kb / 2**20, 1),
            "python": platform.python_version(), "os": platform.platform(), "httpx": httpx.__version__,
            "feedparser": feedparser.__version__, "sqlalchemy": sqlalchemy.__version__,
            "media_monitoring": __version__}


def fresh_warehouse(workdir: Path, name: str, registry: Path) -> tuple[Any, Any]:
    from media_monitoring.pipeline import open_warehouse
    from media_monitoring.settings import load_settings

    data_dir = workdir / name
    data_dir.mkdir()
    os.environ["MEDIA_MONITOR_OUTLETS"] = str(registry)
    os.environ["MEDIA_MONITOR_DATA_DIR"] = str(data_dir)
    settings = load_settings()
    return settings, open_warehouse(settings)


def timed_pass(label: str, ids: list[str], settings: Any, wh: Any, server: ServerProcess, counters: SqlCounters,
               wrap: Callable[[], Any] | None = None) -> dict[str, Any]:
    server.control("reset")
    if wrap is None:
        m, totals = run_collect(ids, f"bench-{label}", settings, wh)
        extra = None
    else:
        with wrap() as extra:
            m, totals = run_collect(ids, f"bench-{label}", settings, wh)
    result = {**{k: round(v, 3) for k, v in m.items()}, "totals": totals, "server": server.control("stats"),
              "sql": counters.take()}
    _others(result)
    if extra is not None:
        result["_extra"] = extra
    return result


def baseline_pass(urls: list[str], width: int, etags: dict[str, str] | None, server: ServerProcess
                  ) -> tuple[dict[str, Any], dict[str, str]]:
    server.control("reset")
    m, info, found, _ = baseline_poll(urls, width, etags)
    result = {**{k: round(v, 3) for k, v in m.items()}, "width": width, **info, "server": server.control("stats")}
    _others(result)
    return result, found


def _others(result: dict[str, Any]) -> None:
    """CPU that other processes on the machine used during the pass (a shared machine is noisy)."""
    others = result["machine_busy_s"] - result["cpu_s"] - result["server"]["cpu_s"]
    result["others_cpu_s"] = round(max(0.0, others), 2)
    result["others_cores"] = round(max(0.0, others) / result["wall_s"], 2)


@contextmanager
def patched(obj: Any, name: str, value: Any) -> Iterator[None]:
    """A what-if in this process only: the product's files are not touched."""
    old = getattr(obj, name)
    setattr(obj, name, value)
    try:
        yield
    finally:
        setattr(obj, name, old)


class WarningCount(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--feeds", type=int, default=1000)
    parser.add_argument("--latency-ms", type=float, default=100.0)
    parser.add_argument("--items", type=int, default=20, help="entries per feed")
    parser.add_argument("--new-sources", action="store_true",
                        help="pre-store articles without their feed source, so the cold poll writes one "
                             "UPDATE per entry (a feed whose entries are known from another feed)")
    parser.add_argument("--profile", action="store_true",
                        help="add a stack-sampled and a cProfiled cold+304 pass (about +90 s at 1000 feeds)")
    parser.add_argument("--what-if", action="store_true",
                        help="add in-process what-ifs: 304 poll with connections kept after a 304, with 32 and 64 "
                             "outlet threads; cold poll staging no sources of stored articles (about +50 s at 1000 "
                             "feeds)")
    parser.add_argument("--outlet-threads", type=int, metavar="N",
                        help="what-if: run every pass with pipeline.collect.OUTLET_THREADS set to N in this process "
                             "(the baseline uses the same width)")
    parser.add_argument("--json", type=Path, help="also write the raw results to this file")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if not 1 <= args.feeds <= 20000 or not 1 <= args.items <= 200 or not 0 <= args.latency_ms <= 10000:
        parser.error("--feeds 1..20000, --items 1..200, --latency-ms 0..10000")
    if args.serve:
        serve(args.feeds, args.items, args.latency_ms)
        return 0

    sys.path.insert(0, str(ROOT / "include"))
    for var in ("MEDIA_MONITOR_WAREHOUSE_URL", "AIRFLOW_CONN_MEDIA_WAREHOUSE"):
        os.environ.pop(var, None)  # always the embedded SQLite warehouse in the temp dir
    from media_monitoring.warehouse import articles as article_store

    collect_stage = importlib.import_module("media_monitoring.pipeline.collect")  # pipeline.collect: the function
    if args.outlet_threads:
        if not 1 <= args.outlet_threads <= 256:
            parser.error("--outlet-threads 1..256")
        collect_stage.OUTLET_THREADS = args.outlet_threads  # this process only; the product's file is unchanged
    threads = collect_stage.OUTLET_THREADS
    results: dict[str, Any] = {"date": datetime.now(UTC).isoformat(timespec="seconds"), "machine": machine(),
                               "params": {"feeds": args.feeds, "latency_ms": args.latency_ms, "items": args.items,
                                          "outlet_threads": threads,
                                          "outlet_threads_patched": bool(args.outlet_threads),
                                          "host_max_concurrency": HOST_MAX_CONCURRENCY,
                                          "prestored_sources": not args.new_sources}}
    busy0 = machine_busy_s()
    time.sleep(2)
    results["background_cores_before"] = round((machine_busy_s() - busy0) / 2, 2)  # others, before we start
    started = time.monotonic()
    server = ServerProcess(args.feeds, args.items, args.latency_ms)
    warnings = WarningCount()
    try:
        with tempfile.TemporaryDirectory(prefix="bench-poll-") as tmp:
            workdir = Path(tmp)
            # INFO to a file, as an Airflow task log gets it (the pipeline logs a line or two per outlet)
            logging.basicConfig(level=logging.INFO, filename=workdir / "pipeline.log",
                                format="%(asctime)s %(levelname)s %(name)s %(message)s")
            logging.getLogger().addHandler(warnings)
            registry = workdir / "outlets.yaml"
            ids = write_registry(registry, server.base, args.feeds)
            settings, wh = fresh_warehouse(workdir, "timed", registry)
            results["prestored_articles"] = prestore_articles(wh, server.base, ids, args.items,
                                                              with_sources=not args.new_sources)
            counters = SqlCounters(wh.engine)
            results["params"]["sqlalchemy_pool"] = counters.pool
            results["server"] = {"loop": server.loop_name}
            sizes = [len(render_feed(server.base, i, args.items)) for i in range(min(args.feeds, 200))]
            gz = [len(gzip.compress(render_feed(server.base, i, args.items), 6)) for i in range(min(args.feeds, 50))]
            results["feed_bytes"] = {"min": min(sizes), "mean": round(sum(sizes) / len(sizes)), "max": max(sizes),
                                     "gzip_mean": round(sum(gz) / len(gz))}

            # warm-up outside the timings: feedparser's import and first parse (the product imports it lazily)
            from media_monitoring.feeds import parse_feed

            parse_feed(render_feed(server.base, 0, args.items), server.base + feed_path(0))
            counters.take()
            print(f"code {results['machine']['code']}; machine busy before the run: "
                  f"{results['background_cores_before']} cores (other processes)")
            print(f"feed server {server.base} ({server.loop_name}); {args.feeds} feeds x {args.items} items "
                  f"({results['feed_bytes']}), {args.latency_ms:g} ms latency; {threads} outlet threads; "
                  f"{results['prestored_articles']} articles pre-stored", flush=True)

            results["product_cold"] = timed_pass("cold", ids, settings, wh, server, counters)
            _print_pass("product cold", results["product_cold"], args.feeds)
            results["product_304"] = timed_pass("304", ids, settings, wh, server, counters)
            _print_pass("product 304", results["product_304"], args.feeds)

            urls = [server.base + feed_path(i) for i in range(args.feeds)]
            results["baseline_cold"], etags = baseline_pass(urls, threads, None, server)
            _print_pass("baseline cold", results["baseline_cold"], args.feeds)
            results["baseline_304"], _ = baseline_pass(urls, threads, etags, server)
            _print_pass("baseline 304", results["baseline_304"], args.feeds)
            # the server at 4x the product's concurrency: if it kept up, wall ~ feeds / 64 x latency
            results["server_check_304_width64"], _ = baseline_pass(urls, 64, etags, server)
            _print_pass("server check", results["server_check_304_width64"], args.feeds)

            with measured() as cm:
                results["components"] = component_costs(wh, registry, ids, server.base, args.items,
                                                        min(200, args.feeds))
            results["components_others_cores"] = round(max(0.0, cm["machine_busy_s"] - cm["cpu_s"]) / cm["wall_s"], 2)
            print(f"{'':>14}  single-thread component costs (other processes "
                  f"{results['components_others_cores']} cores):", flush=True)
            results["components_estimate_cpu_ms_per_feed"] = per_feed_estimate(results["components"], args.feeds,
                                                                               args.items)
            for name, v in results["components"].items():
                print(f"{'':>16}{v['cpu_ms']:9.3f} ms cpu {v['wall_ms']:9.3f} ms wall  {name}", flush=True)
            print(f"{'':>16}single-thread estimate, CPU ms per feed: "
                  f"{results['components_estimate_cpu_ms_per_feed']}", flush=True)
            counters.take()

            if args.what_if:
                from media_monitoring.net import HttpClient

                finish = HttpClient._finish

                def finish_reading_304(self: Any, response: Any, *rest: Any) -> Any:
                    if response.status_code == 304:
                        response.read()  # no body; marks the exchange complete so the connection is kept
                    return finish(self, response, *rest)

                with patched(HttpClient, "_finish", finish_reading_304):
                    r = timed_pass("304-keepalive", ids, settings, wh, server, counters)
                results["whatif_304_keepalive"] = r
                _print_pass("304 keepalive", r, args.feeds)
                for width in (32, 64):
                    with patched(collect_stage, "OUTLET_THREADS", width):
                        r = timed_pass(f"304-threads{width}", ids, settings, wh, server, counters)
                    results[f"whatif_304_threads{width}"] = r
                    _print_pass(f"304 {width} thr", r, args.feeds)
            wh.close()
            if args.what_if:
                settings, wh = fresh_warehouse(workdir, "whatif", registry)
                prestore_articles(wh, server.base, ids, args.items, with_sources=not args.new_sources)
                counters = SqlCounters(wh.engine)
                stage = article_store.stage  # staged without the sources of stored articles: none added to them

                def stage_records_only(wh: Any, run_id: str, outlet_id: str, records: Any, sources: Any = None) -> None:
                    stage(wh, run_id, outlet_id, records)

                with patched(article_store, "stage", stage_records_only):
                    r = timed_pass("cold-no-add-sources", ids, settings, wh, server, counters)
                results["whatif_cold_add_sources_skipped"] = r
                _print_pass("cold, no a_s", r, args.feeds)
                wh.close()

            if args.profile:
                subset_registry = workdir / "outlets-subset.yaml"  # registry cost in proportion to the subset
                write_registry(subset_registry, server.base, min(PROFILED_FEEDS, args.feeds))
                for name, wrap in (("sampled", StackSampler), ("profiled", profile_all_threads)):
                    settings, wh = fresh_warehouse(workdir, name, registry if name == "sampled" else subset_registry)
                    prestore_articles(wh, server.base, ids, args.items, with_sources=not args.new_sources)
                    counters = SqlCounters(wh.engine)
                    # cProfile with a thread-CPU timer costs ~6x: profile a subset; shares are what count
                    subset = ids if name == "sampled" else ids[:PROFILED_FEEDS]
                    for label in ("cold", "304"):
                        r = timed_pass(f"{name}-{label}", subset, settings, wh, server, counters, wrap)
                        r["feeds"] = len(subset)
                        extra = r.pop("_extra")
                        if name == "sampled":
                            r["wall_places_pct"] = extra.shares()
                            r["samples"] = extra.samples
                        else:
                            stats = merged_stats(extra)
                            r["top_tottime"] = top_functions(stats, "tottime_s", 30, callers=4)
                            r["self_cpu_by_package_pct"] = by_package(stats)
                            r["key_functions_cum_cpu_s"] = key_functions(stats)
                            r["top_cumtime"] = top_functions(stats, "cumtime_s", 80)
                        results[f"{name}_{label}"] = r
                        _print_pass(f"{name} {label}", r, len(subset))
                    wh.close()
            logging.getLogger().removeHandler(warnings)
            for handler in logging.getLogger().handlers[:]:
                handler.close()
                logging.getLogger().removeHandler(handler)
    finally:
        server.stop()
    results["pipeline_warnings"] = warnings.count
    results["total_runtime_s"] = round(time.monotonic() - started, 1)
    _summary(results, args.feeds)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1, default=str) + "\n", encoding="utf-8")
        print(f"raw results: {args.json}")
    return 0


def _print_pass(label: str, r: dict[str, Any], feeds: int) -> None:
    srv = r["server"]
    print(f"{label:>14}: wall {r['wall_s']:7.2f} s  cpu {r['cpu_s']:7.2f} s"
          f"  cpu/feed {1000 * r['cpu_s'] / feeds:6.2f} ms"
          f"  served {srv['requests']}  server cpu {srv['cpu_s']} s  late p99 {srv['late_ms_p99']} ms"
          f" max {srv['late_ms_max']} ms  max in flight {srv['max_inflight']}  connections {srv['connections']}"
          f"  | other processes {r['others_cores']} cores, load {r['loadavg_1m_before']:.1f}", flush=True)
    if "totals" in r:
        print(f"{'':>14}  totals {r['totals']}", flush=True)
        print(f"{'':>14}  sql {r['sql']}", flush=True)
    if "wall_places_pct" in r:
        print(f"{'':>14}  worker wall time by place (% of samples): {r['wall_places_pct']}", flush=True)
    if "self_cpu_by_package_pct" in r:
        print(f"{'':>14}  self CPU by package (%): {r['self_cpu_by_package_pct']}", flush=True)
        print(f"{'':>14}  cumulative CPU of product stages (s, profiled): {r['key_functions_cum_cpu_s']}", flush=True)
    if "top_tottime" in r:
        for row in r["top_tottime"][:15]:
            print(f"{'':>16}{row['tottime_s']:8.3f} s self {row['cumtime_s']:8.3f} s cum {row['calls']:>8} "
                  f"{row['function']}", flush=True)


def _summary(results: dict[str, Any], feeds: int) -> None:
    pc, p3, bc, b3 = (results[k] for k in ("product_cold", "product_304", "baseline_cold", "baseline_304"))
    ratios = {
        "product_304_over_cold_wall": round(p3["wall_s"] / pc["wall_s"], 3),
        "product_304_over_cold_cpu": round(p3["cpu_s"] / pc["cpu_s"], 3),
        "baseline_304_over_cold_wall": round(b3["wall_s"] / bc["wall_s"], 3),
        "product_over_baseline_cold_wall": round(pc["wall_s"] / bc["wall_s"], 2),
        "product_over_baseline_cold_cpu": round(pc["cpu_s"] / bc["cpu_s"], 2),
        "product_over_baseline_304_wall": round(p3["wall_s"] / b3["wall_s"], 2),
        "product_over_baseline_304_cpu": round(p3["cpu_s"] / b3["cpu_s"], 2),
    }
    results["ratios"] = ratios
    results["cpu_ms_per_feed"] = {k: round(1000 * results[k]["cpu_s"] / feeds, 2)
                                  for k in ("product_cold", "product_304", "baseline_cold", "baseline_304")}
    results["cpu_cores_used"] = {k: round(results[k]["cpu_s"] / results[k]["wall_s"], 2)
                                 for k in ("product_cold", "product_304", "baseline_cold", "baseline_304")}
    p = results["params"]
    results["io_floor_s"] = round(feeds / p["outlet_threads"] * p["latency_ms"] / 1000, 2)
    results["goal_cold_under_30s"] = pc["wall_s"] < 30
    print("ratios:", ratios)
    print("cpu ms per feed:", results["cpu_ms_per_feed"], " cores used:", results["cpu_cores_used"])
    print(f"I/O floor at {p['outlet_threads']} threads: {results['io_floor_s']} s; pipeline warnings logged: "
          f"{results['pipeline_warnings']}")
    print(f"goal (cold poll of {feeds} feeds under 30 s wall): {'met' if pc['wall_s'] < 30 else 'NOT met'} "
          f"({pc['wall_s']:.1f} s); total runtime {results['total_runtime_s']} s")


if __name__ == "__main__":
    sys.exit(main())
