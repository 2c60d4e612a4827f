"""What a request gives: a :class:`FetchResult`, or a :class:`FetchError` whose ``error_class`` feed health
and backoff understand."""

from __future__ import annotations

import email.utils
from dataclasses import dataclass, field
from datetime import UTC, datetime


class FetchError(Exception):
    """A request that did not produce a usable body.

    ``error_class`` is a short stable name used for health records and backoff weighting.
    """

    def __init__(
        self,
        error_class: str,
        message: str,
        *,
        url: str,
        status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(f"{error_class}: {message} ({url})")
        self.error_class = error_class
        self.message = message
        self.url = url
        self.status = status
        self.retry_after = retry_after


@dataclass
class FetchResult:
    url: str  # final URL after redirects
    status: int
    body: bytes
    content_type: str
    etag: str | None = None
    last_modified: str | None = None
    redirects: list[str] = field(default_factory=list)
    elapsed_s: float = 0.0

    @property
    def not_modified(self) -> bool:
        return self.status == 304


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    now = now or datetime.now(UTC)
    return max(0.0, (when - now).total_seconds())


def status_class(status: int) -> str:
    """The ``error_class`` of an HTTP error status."""
    if status == 404:
        return "not_found"
    if status == 410:
        return "gone"
    if status == 429:
        return "rate_limited"
    if status in (401, 403, 451):
        return "blocked"
    if status >= 500:
        return "server_error"
    return "client_error"
