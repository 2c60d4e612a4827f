"""The guarded HTTP client against a small loopback server started here (never any other address)."""

from __future__ import annotations

import gzip
import socket
import sys
import threading
import time
import tracemalloc
import zlib
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from media_monitoring.net import FEED_CONTENT_TYPES, PAGE_CONTENT_TYPES, FetchError, HttpClient, parse_retry_after

pytestmark = [pytest.mark.unit, pytest.mark.timeout(60)]

UA = "media-monitor-tests/1 (+https://media-monitor.example.org)"
PAGE = b"<html><body><h1>Hello</h1><p>" + b"word " * 200 + b"</p></body></html>"
BOMB_SIZE = 512 * 2**20  # decompressed size of the gzip bomb
DRIP_SECONDS = 15.0  # how long the slow-drip handler would keep going if nobody hung up


def _gzip_bomb() -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)  # gzip container
    block = bytes(2**20)
    parts = [compressor.compress(block) for _ in range(BOMB_SIZE // len(block))]
    parts.append(compressor.flush())
    return b"".join(parts)


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):  # clients hanging up is what we test
            super().handle_error(request, client_address)


class _Server:
    def __init__(self) -> None:
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.bomb = b""
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, fmt: str, *args: object) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802
                server.requests.append((self.path, {k.lower(): v for k, v in self.headers.items()}))
                try:
                    server.route(self)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        self.httpd = _QuietServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    def paths(self) -> list[str]:
        return [p for p, _h in self.requests]

    @staticmethod
    def send(h: BaseHTTPRequestHandler, status: int, body: bytes = b"", ctype: str = "text/html; charset=utf-8",
             headers: dict[str, str] | None = None) -> None:
        h.send_response(status)
        h.send_header("Content-Type", ctype)
        h.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            h.send_header(key, value)
        h.end_headers()
        h.wfile.write(body)

    def route(self, h: BaseHTTPRequestHandler) -> None:
        path = h.path.split("?", 1)[0]
        if path == "/page":
            self.send(h, 200, PAGE)
        elif path == "/feed":
            self.send(h, 200, b"<rss version='2.0'><channel><title>t</title></channel></rss>", "application/rss+xml")
        elif path == "/etag":
            if h.headers.get("If-None-Match") == '"v1"':
                h.send_response(304)
                h.send_header("ETag", '"v1"')
                h.end_headers()
            else:
                self.send(h, 200, PAGE, headers={"ETag": '"v1"', "Last-Modified": "Thu, 28 Oct 2021 10:00:00 GMT"})
        elif path in ("/404", "/410", "/500", "/503"):
            self.send(h, int(path[1:]), b"error")
        elif path == "/429":
            self.send(h, 429, b"slow down", headers={"Retry-After": "120"})
        elif path == "/loop-a":
            self.send(h, 302, headers={"Location": "/loop-b"})
        elif path == "/loop-b":
            self.send(h, 301, headers={"Location": self.url("/loop-a")})
        elif path.startswith("/chain/"):
            n = int(path.rsplit("/", 1)[1])
            if n == 0:
                self.send(h, 200, PAGE)
            else:
                self.send(h, 302, headers={"Location": f"/chain/{n - 1}"})
        elif path == "/to-localhost":
            self.send(h, 302, headers={"Location": self.url("/page", host="localhost")})
        elif path == "/to-file":
            self.send(h, 302, headers={"Location": "file:///etc/passwd"})
        elif path == "/big":
            self.send(h, 200, b"x" * (3 * 2**20))
        elif path == "/big-unsized":  # no Content-Length: the client must count while reading
            h.send_response(200)
            h.send_header("Content-Type", "text/html")
            h.send_header("Connection", "close")
            h.end_headers()
            for _ in range(48):
                h.wfile.write(b"y" * 2**16)
        elif path == "/bomb":
            self.send(h, 200, self.bomb, headers={"Content-Encoding": "gzip"})
        elif path == "/gzip-page":
            self.send(h, 200, gzip.compress(PAGE), headers={"Content-Encoding": "gzip"})
        elif path == "/deflate-zlib":
            self.send(h, 200, zlib.compress(PAGE), headers={"Content-Encoding": "deflate"})
        elif path == "/deflate-raw":
            raw = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
            self.send(h, 200, raw.compress(PAGE) + raw.flush(), headers={"Content-Encoding": "deflate"})
        elif path == "/brotli":
            self.send(h, 200, b"\x1b\x00\x00", headers={"Content-Encoding": "br"})
        elif path == "/corrupt-gzip":
            self.send(h, 200, gzip.compress(PAGE)[:10] + b"garbage!" * 10, headers={"Content-Encoding": "gzip"})
        elif path == "/300":
            self.send(h, 300, b"choices")
        elif path == "/pdf":
            self.send(h, 200, b"%PDF-1.4", "application/pdf")
        elif path == "/drip":
            h.send_response(200)
            h.send_header("Content-Type", "text/html")
            h.send_header("Content-Length", str(10**6))
            h.end_headers()
            h.wfile.flush()
            stop = time.monotonic() + DRIP_SECONDS
            while time.monotonic() < stop:
                h.wfile.write(b"a")
                h.wfile.flush()
                time.sleep(0.05)
        elif path == "/stall":  # headers, then silence
            h.send_response(200)
            h.send_header("Content-Type", "text/html")
            h.send_header("Content-Length", "100")
            h.end_headers()
            h.wfile.flush()
            time.sleep(DRIP_SECONDS)
        else:
            self.send(h, 404, b"no route")


@pytest.fixture(scope="module")
def server() -> Iterator[_Server]:
    srv = _Server()
    srv.thread.start()
    try:
        yield srv
    finally:
        srv.httpd.shutdown()
        srv.httpd.server_close()


@pytest.fixture
def client() -> Iterator[HttpClient]:
    with HttpClient(UA, allow_private_hosts=["127.0.0.1"], deadline=10.0) as c:
        yield c


def _page(c: HttpClient, url: str, max_bytes: int = 2**20, **kwargs: object):
    return c.get(url, max_bytes=max_bytes, accept="text/html", content_types=PAGE_CONTENT_TYPES, **kwargs)


def _fails(c: HttpClient, url: str, **kwargs: object) -> FetchError:
    with pytest.raises(FetchError) as info:
        _page(c, url, **kwargs)
    return info.value


def test_loopback_refused_without_allowance(server: _Server) -> None:
    before = len(server.requests)
    with HttpClient(UA) as c:
        for host in ("127.0.0.1", "localhost"):
            err = _fails(c, server.url("/page", host=host))
            assert err.error_class == "blocked_address"
    time.sleep(0.2)
    assert len(server.requests) == before  # the guard refused before connecting


def test_allowance_is_per_host(server: _Server) -> None:
    with HttpClient(UA, allow_private_hosts=["localhost"]) as c:
        assert _page(c, server.url("/page", host="localhost")).body == PAGE
        assert _fails(c, server.url("/page")).error_class == "blocked_address"


def test_allowed_loopback_is_fetched(server: _Server, client: HttpClient) -> None:
    result = _page(client, server.url("/page?x=1"))
    assert result.status == 200
    assert result.body == PAGE
    assert result.content_type.startswith("text/html")
    assert result.url == server.url("/page?x=1")
    _path, headers = server.requests[-1]
    assert headers["user-agent"] == UA
    assert headers["host"] == f"127.0.0.1:{server.port}"


@pytest.mark.parametrize("path", ["/gzip-page", "/deflate-zlib", "/deflate-raw"])
def test_compressed_body_is_decoded(server: _Server, client: HttpClient, path: str) -> None:
    assert _page(client, server.url(path)).body == PAGE
    assert server.requests[-1][1]["accept-encoding"] == "gzip, deflate"


@pytest.mark.parametrize("path", ["/brotli", "/corrupt-gzip", "/300"])
def test_undecodable_or_unexpected_is_protocol(server: _Server, client: HttpClient, path: str) -> None:
    assert _fails(client, server.url(path)).error_class == "protocol"


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://127.0.0.1/x", "gopher://127.0.0.1/", "http:///x",
                                 "javascript:alert(1)", "/relative/path"])
def test_non_http_urls_refused(client: HttpClient, url: str) -> None:
    assert _fails(client, url).error_class == "bad_url"


@pytest.mark.parametrize(("path", "error_class", "status"),
                         [("/404", "not_found", 404), ("/410", "gone", 410), ("/500", "server_error", 500),
                          ("/503", "server_error", 503)])
def test_http_errors_are_classified(server: _Server, client: HttpClient, path: str, error_class: str,
                                    status: int) -> None:
    err = _fails(client, server.url(path))
    assert (err.error_class, err.status) == (error_class, status)


def test_rate_limited_carries_retry_after(server: _Server, client: HttpClient) -> None:
    err = _fails(client, server.url("/429"))
    assert err.error_class == "rate_limited"
    assert err.status == 429
    assert err.retry_after == 120.0


def test_parse_retry_after_forms() -> None:
    from datetime import UTC, datetime

    now = datetime(2021, 10, 28, 10, 0, tzinfo=UTC)
    assert parse_retry_after("30") == 30.0
    assert parse_retry_after("Thu, 28 Oct 2021 10:02:00 GMT", now=now) == 120.0
    assert parse_retry_after("Thu, 28 Oct 2021 09:00:00 GMT", now=now) == 0.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


def test_redirect_loop(server: _Server, client: HttpClient) -> None:
    assert _fails(client, server.url("/loop-a")).error_class == "redirect_loop"


def test_redirects_followed_up_to_the_limit(server: _Server) -> None:
    with HttpClient(UA, allow_private_hosts=["127.0.0.1"], max_redirects=3) as c:
        result = _page(c, server.url("/chain/3"))
        assert result.body == PAGE
        assert result.url == server.url("/chain/0")
        assert result.redirects == [server.url(f"/chain/{n}") for n in (3, 2, 1)]
        assert _fails(c, server.url("/chain/4")).error_class == "redirect_loop"


def test_redirect_to_disallowed_loopback_name_refused(server: _Server, client: HttpClient) -> None:
    before = len(server.requests)
    err = _fails(client, server.url("/to-localhost"))
    assert err.error_class == "blocked_address"
    assert "localhost" in str(err)
    time.sleep(0.2)
    assert server.paths()[before:] == ["/to-localhost"]  # the hop itself was never requested


def test_redirect_to_file_url_refused(server: _Server, client: HttpClient) -> None:
    assert _fails(client, server.url("/to-file")).error_class == "bad_url"


@pytest.mark.parametrize("path", ["/big", "/big-unsized"])
def test_body_over_cap_is_too_large(server: _Server, client: HttpClient, path: str) -> None:
    assert _fails(client, server.url(path), max_bytes=2**20).error_class == "too_large"


def test_gzip_bomb_is_cut_without_inflating_it_all(server: _Server, client: HttpClient) -> None:
    server.bomb = server.bomb or _gzip_bomb()
    assert len(server.bomb) < 2**20  # a small body on the wire...
    tracemalloc.start()
    try:
        started = time.monotonic()
        err = _fails(client, server.url("/bomb"), max_bytes=2**20)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert err.error_class == "too_large"
    # ...and never inflated much past the cap (httpx alone inflates a whole 64 KiB read: ~130 MiB here)
    assert peak < 16 * 2**20, f"peak {peak / 2**20:.0f} MiB: the bomb was inflated"
    assert time.monotonic() - started < 10


def test_conditional_get_gives_304(server: _Server, client: HttpClient) -> None:
    first = _page(client, server.url("/etag"))
    assert first.status == 200 and first.etag == '"v1"'
    assert first.last_modified == "Thu, 28 Oct 2021 10:00:00 GMT"
    second = _page(client, server.url("/etag"), etag=first.etag, last_modified=first.last_modified)
    assert second.status == 304 and second.not_modified and second.body == b""
    _path, headers = server.requests[-1]
    assert headers["if-none-match"] == '"v1"'
    assert headers["if-modified-since"] == "Thu, 28 Oct 2021 10:00:00 GMT"


def test_wrong_content_type(server: _Server, client: HttpClient) -> None:
    assert _fails(client, server.url("/pdf")).error_class == "content_type"
    with pytest.raises(FetchError) as info:
        client.get(server.url("/page"), max_bytes=2**20, accept="application/rss+xml",
                   content_types=FEED_CONTENT_TYPES)
    assert info.value.error_class == "content_type"
    feed = client.get(server.url("/feed"), max_bytes=2**20, accept="application/rss+xml",
                      content_types=FEED_CONTENT_TYPES)
    assert feed.body.startswith(b"<rss")


@pytest.mark.parametrize("path", ["/drip", "/stall"])
def test_slow_server_is_cut_at_the_deadline(server: _Server, path: str) -> None:
    deadline = 1.5
    with HttpClient(UA, allow_private_hosts=["127.0.0.1"], deadline=deadline) as c:
        started = time.monotonic()
        err = _fails(c, server.url(path))
        elapsed = time.monotonic() - started
    assert err.error_class == "timeout"
    assert elapsed < deadline + 2.0, f"cut after {elapsed:.1f}s"


def test_connection_refused_is_classified() -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with HttpClient(UA, allow_private_hosts=["127.0.0.1"], deadline=5) as c:
        assert _fails(c, f"http://127.0.0.1:{port}/").error_class == "connect"
