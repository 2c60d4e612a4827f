"""The guarded HTTP GET: timeouts and a total deadline, a cap on the decompressed body, redirects hop by
hop under the SSRF guard (:mod:`.guard`), content-type checks, bot-wall detection, conditional GET."""

from __future__ import annotations

import logging
import re
import ssl
import threading
import time
import zlib
from collections.abc import Iterable
from typing import Any
from urllib.parse import urljoin, urlsplit, urlunsplit

import httpcore
import httpx

from media_monitoring.net.guard import resolve_checked
from media_monitoring.net.results import FetchError, FetchResult, parse_retry_after, status_class

log = logging.getLogger(__name__)

CONNECT_TIMEOUT_S = 5.0  # a server that cannot accept a connection in 5 s is down for us
READ_TIMEOUT_S = 10.0  # silence between two chunks
DEADLINE_S = 30.0  # total per request, so a slow drip cannot hold a worker
MAX_FEED_BYTES = 10 * 2**20  # larger feeds are archives, not feeds
MAX_PAGE_BYTES = 5 * 2**20  # larger pages are not articles
MAX_REDIRECTS = 5

CHALLENGE_SNIFF_BYTES = 64 * 2**10  # enough of an error page to recognise a bot challenge
# Bot walls that stand between us and a site: the outlet is blocked, not broken.
CHALLENGE_RE = re.compile(rb"just a moment\.\.\.|cf-challenge|cf_chl_|captcha|are you a robot|"
                          rb"verify you are human|access denied|attention required", re.IGNORECASE)
# "json": JSON Feed (application/feed+json, often served as application/json)
FEED_CONTENT_TYPES = ("xml", "rss", "atom", "rdf", "json", "text/plain", "application/octet-stream")
PAGE_CONTENT_TYPES = ("text/html", "application/xhtml", "text/plain")


class _Enough(Exception):
    """A truncated read has what it needs."""


_request_deadline = threading.local()  # absolute monotonic deadline of the request this thread is making


def _bounded(timeout: float | None) -> float | None:
    """A socket wait never outlasts the current request's total deadline (headers included)."""
    deadline = getattr(_request_deadline, "at", None)
    if deadline is None:
        return timeout
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise httpcore.ReadTimeout("request deadline exceeded")
    return remaining if timeout is None else min(timeout, remaining)


class _DeadlineStream(httpcore.NetworkStream):
    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, _bounded(timeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _bounded(timeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(self, ssl_context: ssl.SSLContext, server_hostname: str | None = None,
                  timeout: float | None = None) -> httpcore.NetworkStream:
        return _DeadlineStream(self._inner.start_tls(ssl_context, server_hostname, _bounded(timeout)))

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _DeadlineBackend(httpcore.SyncBackend):
    """Every socket read and write of a request checks the request's deadline: a server dripping its
    status line and headers byte by byte is cut like one dripping its body."""

    def connect_tcp(self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
                    socket_options: Iterable[Any] | None = None) -> httpcore.NetworkStream:
        return _DeadlineStream(super().connect_tcp(host, port, _bounded(timeout), local_address, socket_options))


class HttpClient:
    """A guarded HTTP GET. Thread-safe; share one per task."""

    def __init__(
        self,
        user_agent: str,
        *,
        allow_private_hosts: Iterable[str] = (),
        connect_timeout: float = CONNECT_TIMEOUT_S,
        read_timeout: float = READ_TIMEOUT_S,
        deadline: float = DEADLINE_S,
        max_redirects: int = MAX_REDIRECTS,
        max_connections: int = 64,
    ) -> None:
        self.user_agent = user_agent
        self.allow_private_hosts = frozenset(h.lower() for h in allow_private_hosts)
        self.deadline = deadline
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.max_redirects = max_redirects
        limits = httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections)
        transport = httpx.HTTPTransport(limits=limits, trust_env=False)
        transport._pool._network_backend = _DeadlineBackend()  # httpx has no public knob for this
        self._client = httpx.Client(
            timeout=httpx.Timeout(read_timeout, connect=connect_timeout),
            follow_redirects=False,
            trust_env=False,  # never route through a proxy from the environment
            transport=transport,
            headers={"User-Agent": user_agent},
        )

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> HttpClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def get(
        self,
        url: str,
        *,
        max_bytes: int,
        accept: str,
        content_types: tuple[str, ...],
        etag: str | None = None,
        last_modified: str | None = None,
        allow_private_hosts: Iterable[str] | None = None,
    ) -> FetchResult:
        """GET ``url`` following redirects hop by hop under the guard.

        ``allow_private_hosts`` overrides the client's allowance for this request: an outlet's
        allowance must not extend to other outlets fetched through the same client.

        Returns a :class:`FetchResult` for 2xx and 304; raises :class:`FetchError` otherwise.
        """
        started = time.monotonic()
        allowed = self.allow_private_hosts if allow_private_hosts is None else frozenset(
            h.lower() for h in allow_private_hosts)
        _request_deadline.at = started + self.deadline
        try:
            return self._get(url, started, allowed, max_bytes, accept, content_types, etag, last_modified)
        finally:
            _request_deadline.at = None

    def _get(self, url: str, started: float, allowed: frozenset[str], max_bytes: int, accept: str,
             content_types: tuple[str, ...], etag: str | None, last_modified: str | None) -> FetchResult:
        headers = {"Accept": accept, "Accept-Encoding": "gzip, deflate"}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        redirects: list[str] = []
        current = url
        while True:
            host, address = resolve_checked(current, allowed)
            response = self._send(current, host, address, headers, started)
            if response.has_redirect_location:  # is_redirect is true for any 3xx, 304 included
                location = response.headers.get("location", "")
                response.close()
                if len(redirects) >= self.max_redirects:
                    raise FetchError("redirect_loop", f"more than {self.max_redirects} redirects", url=url)
                nxt = urljoin(current, location)
                if nxt in redirects or nxt == current:
                    raise FetchError("redirect_loop", f"redirect loop at {nxt}", url=url)
                redirects.append(current)
                current = nxt
                continue
            return self._finish(response, url, current, redirects, max_bytes, content_types, started)

    def _send(self, url: str, host: str, address: str, headers: dict[str, str], started: float) -> httpx.Response:
        parts = urlsplit(url)
        ip_host = f"[{address}]" if ":" in address else address
        netloc = ip_host + (f":{parts.port}" if parts.port else "")
        pinned = urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, ""))
        send_headers = dict(headers)
        send_headers["Host"] = parts.netloc.rsplit("@", 1)[-1]
        extensions = {"sni_hostname": host} if parts.scheme == "https" else {}
        remaining = self.deadline - (time.monotonic() - started)
        if remaining <= 0:
            raise FetchError("timeout", f"deadline of {self.deadline:.0f}s exceeded", url=url)
        # no single wait (connect, headers, one read) may outlast the deadline
        timeout = httpx.Timeout(min(self.read_timeout, remaining), connect=min(self.connect_timeout, remaining))
        request = self._client.build_request("GET", pinned, headers=send_headers, extensions=extensions,
                                             timeout=timeout)
        try:
            return self._client.send(request, stream=True)
        except httpx.ConnectTimeout:
            raise FetchError("timeout", "connect timed out", url=url) from None
        except httpx.TimeoutException:
            raise FetchError("timeout", "read timed out", url=url) from None
        except httpx.ConnectError as exc:
            raise FetchError("connect", f"cannot connect: {exc}", url=url) from None
        except httpx.HTTPError as exc:
            raise FetchError("protocol", str(exc) or type(exc).__name__, url=url) from None

    def _finish(
        self,
        response: httpx.Response,
        url: str,
        final: str,
        redirects: list[str],
        max_bytes: int,
        content_types: tuple[str, ...],
        started: float,
    ) -> FetchResult:
        try:
            status = response.status_code
            if status == 304:
                response.read()  # drain the (empty) body so the connection goes back to the pool
                return FetchResult(final, 304, b"", "", response.headers.get("etag"),
                                   response.headers.get("last-modified"), redirects,
                                   time.monotonic() - started)
            if status >= 400:
                challenge = status in (403, 429, 503) and self._is_challenge(response, started)
                raise FetchError(
                    "challenge" if challenge else status_class(status),
                    f"HTTP {status}",
                    url=url,
                    status=status,
                    retry_after=parse_retry_after(response.headers.get("retry-after")),
                )
            if not 200 <= status < 300:
                raise FetchError("protocol", f"unexpected HTTP {status}", url=url, status=status)
            content_type = response.headers.get("content-type", "").lower()
            if content_type and not any(t in content_type for t in content_types):
                if self._is_challenge(response, started):
                    raise FetchError("challenge", "a bot challenge page instead of the content", url=url,
                                     status=status)
                raise FetchError("content_type", f"unexpected content type {content_type!r}", url=url,
                                 status=status)
            body = self._read_capped(response, url, max_bytes, started)
            return FetchResult(final, status, body, content_type, response.headers.get("etag"),
                               response.headers.get("last-modified"), redirects, time.monotonic() - started)
        finally:
            response.close()

    def _is_challenge(self, response: httpx.Response, started: float) -> bool:
        """Sniff the start of an unexpected body for a bot wall (Cloudflare & co.)."""
        try:
            head = self._read_capped(response, str(response.url), CHALLENGE_SNIFF_BYTES, started, truncate=True)
        except FetchError:
            return False
        return bool(CHALLENGE_RE.search(head))

    def _read_capped(self, response: httpx.Response, url: str, max_bytes: int, started: float,
                     truncate: bool = False) -> bytes:
        """Read the body one network read at a time, inflating it ourselves with a bounded output.

        httpx would inflate a whole network read at once (64 KiB of gzip can be 64 MiB), so the raw
        stream is read and never more than ``max_bytes + 1`` decoded bytes are produced; the deadline is
        checked after every read, so a server dripping bytes is cut at the deadline.
        """
        status = response.status_code
        coding = _content_coding(response.headers.get("content-encoding", ""), url, status)
        decoder = None
        chunks: list[bytes] = []
        size = 0

        def keep(data: bytes) -> None:
            nonlocal size
            size += len(data)
            if size > max_bytes:
                if truncate:
                    chunks.append(data[:max_bytes - size])
                    raise _Enough
                raise FetchError("too_large", f"body exceeds {max_bytes} bytes", url=url, status=status)
            chunks.append(data)

        try:
            for raw in response.iter_raw():
                if coding is None:
                    keep(raw)
                elif raw:
                    decoder = decoder or _inflater(coding, raw)
                    data = raw
                    while data and not decoder.eof:
                        keep(decoder.decompress(data, max_bytes - size + 1))
                        data = decoder.unconsumed_tail
                if time.monotonic() - started > self.deadline:
                    raise FetchError("timeout", f"deadline of {self.deadline:.0f}s exceeded", url=url,
                                     status=status)
            if decoder is not None:
                keep(decoder.flush())
        except _Enough:
            pass
        except httpx.TimeoutException:
            raise FetchError("timeout", "read timed out", url=url, status=status) from None
        except zlib.error as exc:
            raise FetchError("protocol", f"cannot decode body: {exc}", url=url, status=status) from None
        except httpx.HTTPError as exc:
            raise FetchError("protocol", str(exc) or type(exc).__name__, url=url) from None
        return b"".join(chunks)


def _content_coding(content_encoding: str, url: str, status: int) -> str | None:
    """``gzip`` or ``deflate`` (the codings we ask for), or None for an identity body."""
    codings = [c for c in (c.strip().lower() for c in content_encoding.split(",")) if c not in ("", "identity")]
    if not codings:
        return None
    if len(codings) == 1 and codings[0] in ("gzip", "x-gzip", "deflate"):
        return "deflate" if codings[0] == "deflate" else "gzip"
    raise FetchError("protocol", f"unsupported content encoding {content_encoding!r}", url=url, status=status)


def _inflater(coding: str, first: bytes) -> zlib._Decompress:
    if coding == "gzip":
        return zlib.decompressobj(16 + zlib.MAX_WBITS)
    # "deflate" should be zlib-wrapped, but some servers send a raw deflate stream
    wrapped = len(first) >= 2 and first[0] & 0x0F == 8 and int.from_bytes(first[:2], "big") % 31 == 0
    return zlib.decompressobj(zlib.MAX_WBITS if wrapped else -zlib.MAX_WBITS)
