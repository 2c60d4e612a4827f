"""A loopback HTTP server that misbehaves on purpose, one route per fault (helper, not a test module).

It binds ``127.0.0.1`` (or ``::1``) on port 0 only. Every handler is bounded in time and in bytes and
wakes up as soon as the server stops, so no test waits on it. Each request is recorded (path, request
headers, response status) and counted per path, so tests can assert "no page fetches" or "no request
reached the server".

Also here: builders for the documents the routes serve (RSS feeds and article pages of real prose).
"""

from __future__ import annotations

import socket
import sys
import threading
import time
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit
from xml.sax.saxutils import escape

Route = Callable[[BaseHTTPRequestHandler, "FaultServer"], None]

RSS_TYPE = "application/rss+xml; charset=utf-8"
HTML_TYPE = "text/html; charset=utf-8"
MAX_HANDLER_S = 8.0  # no handler ever keeps a connection longer than this


@dataclass
class Seen:
    path: str
    headers: dict[str, str]
    status: int | None = None


@dataclass
class _Stats:
    hits: Counter[str] = field(default_factory=Counter)
    log: list[Seen] = field(default_factory=list)
    sent: Counter[str] = field(default_factory=Counter)  # body bytes written, for streaming routes
    errors: list[str] = field(default_factory=list)  # unexpected handler exceptions


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # handlers end by themselves (bounded) or when the stop event is set
    request_queue_size = 128  # the default backlog of 5 drops SYNs when the crawler opens many connections at once
    owner: FaultServer

    def handle_error(self, request: object, client_address: object) -> None:
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, TimeoutError)):  # the client hanging up is what we test
            return
        self.owner.stats.errors.append(repr(exc))


class _HTTPServer6(_HTTPServer):
    address_family = socket.AF_INET6


class FaultServer:
    """``with FaultServer() as srv: srv.route("/x", respond(...)); srv.url("/x"); srv.hits("/x")``."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        if host not in ("127.0.0.1", "::1"):
            raise ValueError("the fault server only binds loopback")
        self.host = host
        self.stop_event = threading.Event()
        self.stats = _Stats()
        self._lock = threading.Lock()
        self._routes: dict[str, Route] = {}
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            server_version = "faultserver/1"
            timeout = MAX_HANDLER_S  # a blocked read or write gives up; no handler outlives this for long

            def log_message(self, fmt: str, *args: object) -> None:
                pass

            def send_response(self, code: int, message: str | None = None) -> None:
                owner._record_status(self, code)
                super().send_response(code, message)

            def do_GET(self) -> None:  # noqa: N802 (http.server API)
                self.close_connection = True
                seen = Seen(self.path, {k.lower(): v for k, v in self.headers.items()})
                with owner._lock:
                    owner.stats.hits[self.path] += 1
                    owner.stats.log.append(seen)
                    self._seen = seen
                route = owner._find(self.path)
                try:
                    if route is None:
                        send(self, 404, b"not here", "text/plain")
                    else:
                        route(self, owner)
                except (ConnectionError, TimeoutError):
                    pass

        cls = _HTTPServer6 if host == "::1" else _HTTPServer
        self.httpd = cls((host, 0), Handler)
        self.httpd.owner = self
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------------------

    @property
    def port(self) -> int:
        return self.httpd.server_address[1]

    @property
    def base_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def url(self, path: str, host: str | None = None) -> str:
        if host is None:
            return self.base_url + path
        return f"http://{host}:{self.port}{path}"

    def start(self) -> FaultServer:
        self._thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.1},
                                        name=f"faultserver-{self.port}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stop_event.set()  # wakes every sleeping handler
        self.httpd.shutdown()
        self.httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> FaultServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- routes and what was seen -------------------------------------------------------------------

    def route(self, path: str, handler: Route) -> None:
        """Serve ``path`` (exact, with query; else without query) with ``handler``; replaces an old one."""
        with self._lock:
            self._routes[path] = handler

    def _find(self, path: str) -> Route | None:
        with self._lock:
            return self._routes.get(path) or self._routes.get(urlsplit(path).path)

    def _record_status(self, h: BaseHTTPRequestHandler, code: int) -> None:
        seen = getattr(h, "_seen", None)
        if seen is not None and seen.status is None:
            seen.status = code

    def hits(self, path: str) -> int:
        with self._lock:
            return self.stats.hits[path]

    def requests(self, path: str) -> list[Seen]:
        with self._lock:
            return [s for s in self.stats.log if s.path == path]

    def total_hits(self, prefix: str = "") -> int:
        with self._lock:
            return sum(n for p, n in self.stats.hits.items() if p.startswith(prefix))

    def sent(self, path: str) -> int:
        with self._lock:
            return self.stats.sent[path]

    def _add_sent(self, path: str, n: int) -> None:
        with self._lock:
            self.stats.sent[path] += n

    def sleep(self, seconds: float) -> bool:
        """Sleep up to ``seconds``; False when the server is stopping."""
        return not self.stop_event.wait(seconds)


# -- responses -------------------------------------------------------------------------------------


def send(h: BaseHTTPRequestHandler, status: int, body: bytes = b"", ctype: str | None = HTML_TYPE,
         headers: Iterable[tuple[str, str]] = ()) -> None:
    h.send_response(status)
    if ctype:
        h.send_header("Content-Type", ctype)
    if status != 304:
        h.send_header("Content-Length", str(len(body)))
    h.send_header("Connection", "close")
    for name, value in headers:
        h.send_header(name, value)
    h.end_headers()
    if body and status != 304:
        h.wfile.write(body)


def respond(body: bytes, ctype: str | None = RSS_TYPE, *, status: int = 200, etag: str | None = None,
            last_modified: str | None = None, headers: Sequence[tuple[str, str]] = ()) -> Route:
    """A fixed document; with validators it answers matching conditional requests with 304."""

    def route(h: BaseHTTPRequestHandler, srv: FaultServer) -> None:
        validators = [("ETag", etag)] if etag else []
        validators += [("Last-Modified", last_modified)] if last_modified else []
        inm, ims = h.headers.get("If-None-Match"), h.headers.get("If-Modified-Since")
        if status == 200 and ((etag and inm == etag) or (not inm and last_modified and ims == last_modified)):
            send(h, 304, ctype=None, headers=validators)
            return
        send(h, status, body, ctype, [*validators, *headers])

    return route


def stale_validators(state: dict[str, bytes], *, etag: str | None = None, last_modified: str | None = None,
                     ctype: str = RSS_TYPE) -> Route:
    """Fixed validators for whatever ``state["body"]`` is now: a conditional request naming them gets a
    304 (a lie once the body has changed); an unconditional one gets the current body, same validators."""
    validators = [("ETag", etag)] if etag else []
    validators += [("Last-Modified", last_modified)] if last_modified else []

    def route(h: BaseHTTPRequestHandler, srv: FaultServer) -> None:
        if (etag and h.headers.get("If-None-Match") == etag) or (
                last_modified and h.headers.get("If-Modified-Since") == last_modified):
            send(h, 304, ctype=None, headers=validators)
        else:
            send(h, 200, state["body"], ctype, validators)

    return route


def redirect(location: str, status: int = 302) -> Route:
    def route(h: BaseHTTPRequestHandler, srv: FaultServer) -> None:
        send(h, status, b"", None, [("Location", location)])

    return route


def endless_redirects(prefix: str) -> Route:
    """``prefix?n=k`` redirects to ``prefix?n=k+1``: never a repeated URL, never an end."""

    def route(h: BaseHTTPRequestHandler, srv: FaultServer) -> None:
        query = urlsplit(h.path).query
        n = int(query[2:]) if query.startswith("n=") and query[2:].isdigit() else 0
        send(h, 302, b"", None, [("Location", f"{prefix}?n={n + 1}")])

    return route


def hang(max_s: float = 5.0) -> Route:
    """Accept and read the request, then say nothing until ``max_s`` has passed; then hang up."""

    def route(h: BaseHTTPRequestHandler, srv: FaultServer) -> None:
        srv.sleep(min(max_s, MAX_HANDLER_S))

    return route


def drip_body(interval: float = 0.5, max_s: float = 6.0, ctype: str = RSS_TYPE) -> Route:
    """Headers at once, then one body byte every ``interval`` seconds for at most ``max_s``."""

    def route(h: BaseHTTPRequestHandler, srv: FaultServer) -> None:
        h.send_response(200)
        h.send_header("Content-Type", ctype)
        h.send_header("Content-Length", "100000")
        h.send_header("Connection", "close")
        h.end_headers()
        h.wfile.flush()
        started = time.monotonic()
        body = b'<?xml version="1.0"?><rss version="2.0"><channel>' + b" " * 100000
        for byte in body:
            if time.monotonic() - started > min(max_s, MAX_HANDLER_S):
                return
            h.wfile.write(bytes([byte]))
            h.wfile.flush()
            srv._add_sent(h.path, 1)
            if not srv.sleep(interval):
                return

    return route


def drip_headers(interval: float = 0.5, max_s: float = 6.0) -> Route:
    """The status line and headers one byte every ``interval`` seconds, for at most ``max_s``."""

    def route(h: BaseHTTPRequestHandler, srv: FaultServer) -> None:
        srv._record_status(h, 200)
        head = b"HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\nX-Slow: " + b"x" * 10000
        started = time.monotonic()
        for byte in head:
            if time.monotonic() - started > min(max_s, MAX_HANDLER_S):
                return
            h.wfile.write(bytes([byte]))
            h.wfile.flush()
            if not srv.sleep(interval):
                return

    return route


def stream(total: int, ctype: str = RSS_TYPE, chunk: int = 64 * 2**10) -> Route:
    """A ``total``-byte body written in chunks (never held in memory); stops when the client hangs up."""

    def route(h: BaseHTTPRequestHandler, srv: FaultServer) -> None:
        send_head = [("Content-Type", ctype), ("Content-Length", str(total)), ("Connection", "close")]
        h.send_response(200)
        for name, value in send_head:
            h.send_header(name, value)
        h.end_headers()
        block = b'<?xml version="1.0"?><rss version="2.0"><channel><title>' + b"A" * chunk
        block = block[:chunk]
        started = time.monotonic()
        left = total
        while left > 0 and not srv.stop_event.is_set() and time.monotonic() - started < MAX_HANDLER_S:
            piece = block[:min(chunk, left)]
            h.wfile.write(piece)
            srv._add_sent(h.path, len(piece))
            left -= len(piece)

    return route


def gzip_bomb(decoded_size: int, ctype: str = RSS_TYPE) -> Route:
    """``Content-Encoding: gzip`` of ``decoded_size`` zero bytes (about a thousandth of that on the wire)."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    block = bytes(2**20)
    wire = b"".join([*(compressor.compress(block) for _ in range(decoded_size // len(block))),
                     compressor.flush()])

    def route(h: BaseHTTPRequestHandler, srv: FaultServer) -> None:
        send(h, 200, wire, ctype, [("Content-Encoding", "gzip")])
        srv._add_sent(h.path, len(wire))

    return route


# -- documents -------------------------------------------------------------------------------------

_SENTENCES = (
    "Officials in {place} said on {day} that the {topic} plan for {slug} would be reviewed by a panel of "
    "independent engineers before the end of the season.",
    "Residents who attended the meeting about {slug} asked how the {topic} budget would be shared between "
    "the older districts and the new housing estates near the river.",
    "The mayor of {place} told reporters that the council had received more than four hundred written "
    "comments on {slug} and would publish a summary of them next month.",
    "According to the regional statistics office, spending on {topic} in {place} grew steadily over the "
    "last decade, which is one reason why {slug} drew so much attention.",
    "Local businesses were divided on {slug}: several shop owners welcomed the {topic} investment, while "
    "others worried about months of construction on the main street.",
    "A spokesperson for the transport authority said the timetable for {slug} depended on the weather and "
    "on deliveries of materials from suppliers outside {place}.",
    "Teachers at two schools in {place} said they hoped {slug} would also bring safer crossings and better "
    "lighting on the routes that children take every morning.",
    "Opposition members argued that the {topic} proposals behind {slug} had been rushed and called for an "
    "open hearing in the town hall before any contract is signed.",
)


def prose(slug: str, words: int = 140, place: str = "Riverton", topic: str = "transport") -> list[str]:
    """Paragraphs of plain news prose, unique to ``slug`` (the extractor drops repeated paragraphs)."""
    paragraphs: list[str] = []
    count = 0
    days = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday")
    i = 0
    while count < words:
        pair = [_SENTENCES[(i + k) % len(_SENTENCES)].format(place=place, topic=topic, slug=f"the {slug} project",
                                                             day=days[(i + k) % len(days)]) for k in (0, 1)]
        text = " ".join(pair)
        paragraphs.append(text)
        count += len(text.split())
        i += 2
    return paragraphs


def article_page(slug: str, title: str | None, published: datetime, *, lang: str = "en", words: int = 140,
                 canonical: str | None = None) -> bytes:
    """An article page; ``title=None`` gives a page with no <title> and no <h1> (the feed's title is used)."""
    head = [f'<meta property="article:published_time" content="{published.isoformat()}">']
    if title is not None:
        head.insert(0, f"<title>{escape(title)}</title>")
    if canonical:
        head.append(f'<link rel="canonical" href="{escape(canonical)}">')
    body = "".join(f"<p>{escape(p)}</p>\n" for p in prose(slug, words))
    h1 = f"<h1>{escape(title)}</h1>\n" if title is not None else ""
    return (f'<!DOCTYPE html>\n<html lang="{lang}">\n<head>\n<meta charset="utf-8">\n' + "\n".join(head)
            + f"\n</head>\n<body>\n<article>\n{h1}{body}</article>\n</body>\n</html>\n").encode("utf-8")


@dataclass(frozen=True)
class Item:
    title: str
    link: str
    published: datetime | None = None
    description: str = ""
    raw: bool = False  # title and description go in unescaped (entity references)


def rss(items: Iterable[Item], *, title: str = "Test feed", link: str = "http://127.0.0.1/",
        declaration: str = '<?xml version="1.0" encoding="utf-8"?>', doctype: str = "",
        encoding: str = "utf-8") -> bytes:
    parts = [declaration, doctype, '<rss version="2.0"><channel>', f"<title>{escape(title)}</title>",
             f"<link>{escape(link)}</link>", "<description>Fault injection feed</description>"]
    for item in items:
        t = item.title if item.raw else escape(item.title)
        d = item.description if item.raw else escape(item.description)
        parts.append("<item>")
        parts.append(f"<title>{t}</title><link>{escape(item.link)}</link><guid>{escape(item.link)}</guid>")
        if item.published:
            parts.append(f"<pubDate>{format_datetime(item.published, usegmt=True)}</pubDate>")
        if d:
            parts.append(f"<description>{d}</description>")
        parts.append("</item>")
    parts.append("</channel></rss>\n")
    return "\n".join(p for p in parts if p).encode(encoding)


def iter_text(values: Iterable[object]) -> Iterator[str]:
    """Every string inside nested rows (dicts, lists), for leak scans over warehouse rows."""
    for value in values:
        if isinstance(value, str):
            yield value
        elif isinstance(value, dict):
            yield from iter_text(value.keys())
            yield from iter_text(value.values())
        elif isinstance(value, (list, tuple)):
            yield from iter_text(value)
