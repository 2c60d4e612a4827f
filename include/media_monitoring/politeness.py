"""Politeness towards the sites we read: per-host concurrency and spacing, and robots.txt.

Across mapped Airflow tasks the planner puts every feed host in exactly one batch, so these
in-process limits are the whole story for a host: no two tasks hit the same site at once.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from media_monitoring.net import FetchError, HttpClient

log = logging.getLogger(__name__)

ROBOTS_MAX_BYTES = 512 * 2**10  # Google reads the first 500 KiB of a robots.txt
ROBOTS_CONTENT_TYPES = ("text/plain", "text/html", "application/octet-stream", "")
ROBOTS_AGENT = "media-monitoring"  # the product token sites can name in robots.txt


@dataclass(frozen=True)
class HostPolicy:
    max_concurrency: int = 2  # requests in flight to one host
    min_delay_s: float = 1.0  # between the starts of two requests to one host


class HostLimiter:
    """Per-host semaphore plus a minimum spacing between request starts."""

    def __init__(self, default: HostPolicy, overrides: dict[str, HostPolicy] | None = None) -> None:
        self.default = default
        self.overrides = {h.lower(): p for h, p in (overrides or {}).items()}
        self._lock = threading.Lock()
        self._slots: dict[str, threading.Semaphore] = {}
        self._next_start: dict[str, float] = {}

    def policy(self, host: str) -> HostPolicy:
        return self.overrides.get(host, self.default)

    @contextmanager
    def slot(self, url: str) -> Iterator[None]:
        host = (urlsplit(url).hostname or "").lower()
        policy = self.policy(host)
        with self._lock:
            sem = self._slots.setdefault(host, threading.Semaphore(policy.max_concurrency))
        with sem:
            with self._lock:
                now = time.monotonic()
                start = max(now, self._next_start.get(host, now))
                self._next_start[host] = start + policy.min_delay_s
            if start > now:
                time.sleep(start - now)
            yield


class RobotsRules:
    """robots.txt per host (protego), fetched once per task through the guarded client."""

    def __init__(self, client: HttpClient, limiter: HostLimiter | None = None) -> None:
        self.client = client
        self.limiter = limiter  # a robots.txt request is a request to the host: same spacing and concurrency
        self._lock = threading.Lock()
        self._parsers: dict[str, object | None] = {}
        self._key_locks: dict[str, threading.Lock] = {}

    def allowed(self, url: str, allow_private_hosts: tuple[str, ...] = ()) -> bool:
        parts = urlsplit(url)
        key = f"{parts.scheme}://{parts.netloc}"
        with self._lock:
            key_lock = self._key_locks.setdefault(key, threading.Lock())
        with key_lock:  # one fetch per host even when many threads ask at once
            if key not in self._parsers:
                self._parsers[key] = self._fetch(urlunsplit((parts.scheme, parts.netloc, "/robots.txt", "", "")),
                                                 allow_private_hosts)
            parser = self._parsers[key]
        return parser is None or parser.can_fetch(url, ROBOTS_AGENT)  # type: ignore[attr-defined]

    def _fetch(self, robots_url: str, allow_private_hosts: tuple[str, ...]) -> object | None:
        from protego import Protego

        try:
            with self.limiter.slot(robots_url) if self.limiter else nullcontext():
                result = self.client.get(robots_url, allow_private_hosts=allow_private_hosts,
                                         max_bytes=ROBOTS_MAX_BYTES, accept="text/plain",
                                         content_types=ROBOTS_CONTENT_TYPES)
        except FetchError as exc:
            # No robots.txt (4xx) means no restrictions; an unreachable one should not stop news.
            log.info("robots.txt %s unavailable (%s); treating as allow-all", robots_url, exc.error_class)
            return None
        return Protego.parse(result.body.decode("utf-8", "replace"))
