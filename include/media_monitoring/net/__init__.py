"""The one HTTP client of the product: every feed and page request goes through :class:`HttpClient`.

It enforces what a security review and a newsroom expect of a crawler: connect/read timeouts and a
total deadline per request, a cap on the (decompressed) body size, a redirect limit, content-type
checks, an honest User-Agent, conditional GET, and an SSRF guard that refuses URLs and redirect
hops resolving to loopback, private, link-local, multicast or reserved addresses unless the outlet
registry allows the host. The guard resolves the name itself and connects to the vetted address, so
a second DNS answer cannot swap in an internal one.

Where each part lives: :mod:`.client` (:class:`HttpClient` and its limits), :mod:`.guard` (the SSRF
guard) and :mod:`.results` (:class:`FetchResult`, :class:`FetchError`).
"""

from __future__ import annotations

from media_monitoring.net.client import (
    CHALLENGE_RE,
    CHALLENGE_SNIFF_BYTES,
    CONNECT_TIMEOUT_S,
    DEADLINE_S,
    FEED_CONTENT_TYPES,
    MAX_FEED_BYTES,
    MAX_PAGE_BYTES,
    MAX_REDIRECTS,
    PAGE_CONTENT_TYPES,
    READ_TIMEOUT_S,
    HttpClient,
)
from media_monitoring.net.guard import resolve_checked
from media_monitoring.net.results import FetchError, FetchResult, parse_retry_after

__all__ = ["CHALLENGE_RE", "CHALLENGE_SNIFF_BYTES", "CONNECT_TIMEOUT_S", "DEADLINE_S", "FEED_CONTENT_TYPES",
           "MAX_FEED_BYTES", "MAX_PAGE_BYTES", "MAX_REDIRECTS", "PAGE_CONTENT_TYPES", "READ_TIMEOUT_S", "FetchError",
           "FetchResult", "HttpClient", "parse_retry_after", "resolve_checked"]
