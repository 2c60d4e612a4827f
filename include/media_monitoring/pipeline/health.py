"""What a poll records besides its staged rows: the feed's health row (status, validators, when to poll
next) and the page fetches that failed, with when to try them again."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from media_monitoring.config import Outlet
from media_monitoring.feeds import FeedReading
from media_monitoring.records import FeedEntry
from media_monitoring.scheduling import PollingPolicy, after_success, backoff_after_failure, health_status
from media_monitoring.warehouse import Warehouse
from media_monitoring.warehouse import feeds as feed_store

log = logging.getLogger(__name__)

# Page failures worth retrying on a later run, and the first wait; it doubles per attempt.
TRANSIENT_ERRORS = frozenset({"timeout", "connect", "dns", "server_error", "rate_limited", "protocol",
                              "robots_disallowed"})
RETRY_FIRST_WAIT = timedelta(minutes=30)
RETRY_MAX_WAIT = timedelta(days=1)
MAX_ATTEMPTS = 8  # then the failure stays recorded as permanent


def record_page_failure(wh: Warehouse, outlet: Outlet, article_id: str, entry: FeedEntry, error_class: str,
                        message: str, status: int | None, retry_after: float | None) -> None:
    """Record a page that could not be fetched or extracted, with the feed entry to retry it from and when
    (transient errors only, the wait doubling per attempt; a server's Retry-After is honoured)."""
    now = datetime.now(UTC)
    prior = feed_store.fetch_attempts(wh, article_id)
    transient = error_class in TRANSIENT_ERRORS and prior + 1 < MAX_ATTEMPTS
    wait = min(RETRY_FIRST_WAIT * (2 ** prior), RETRY_MAX_WAIT)
    if retry_after:
        wait = max(wait, timedelta(seconds=min(retry_after, RETRY_MAX_WAIT.total_seconds())))
    log.warning("outlet %s: page %s failed (%s: %s); %s", outlet.id, entry.link, error_class, message,
                f"retry after {now + wait:%Y-%m-%d %H:%M} UTC" if transient else "not retried")
    feed_store.record_fetch_failure(wh, {
        "article_id": article_id, "url": entry.link, "outlet_id": outlet.id, "error_class": error_class,
        "message": message, "http_status": status,
        "last_attempt_at": now, "next_retry_at": now + wait if transient else None,
    }, entry)


def health_row(outlet: Outlet, state: dict[str, Any], now: datetime, **values: Any) -> dict[str, Any]:
    """The outlet's feed health row after a poll at ``now``: its last row (``state``) with ``values`` set and
    the status they give."""
    row = {
        "outlet_id": outlet.id, "feed_url": outlet.feed_url, "last_attempt_at": now,
        "last_success_at": state.get("last_success_at"), "last_new_item_at": state.get("last_new_item_at"),
        "http_status": state.get("http_status"), "error_class": state.get("error_class"),
        "error_message": state.get("error_message"),
        "consecutive_failures": state.get("consecutive_failures") or 0,
        "entries_seen": state.get("entries_seen") or 0, "new_items": 0,
        "etag": state.get("etag"), "last_modified": state.get("last_modified"),
        "body_hash": state.get("body_hash"), "validators_trusted": state.get("validators_trusted", True) is not False,
        "polls_since_full": state.get("polls_since_full") or 0,
        "first_polled_at": state.get("first_polled_at") or now,
        "items_per_day": state.get("items_per_day") or 0.0, "poll_interval_s": state.get("poll_interval_s"),
        "next_poll_at": state.get("next_poll_at"), "drift_reason": state.get("drift_reason"),
        "entries_skipped": state.get("entries_skipped"), "skipped_reason": state.get("skipped_reason"),
        "charset_note": state.get("charset_note"),
    }
    row.update(values)
    row["status"], row["status_reason"] = health_status(row, now)
    return row


def save_success(wh: Warehouse, outlet: Outlet, policy: PollingPolicy, state: dict[str, Any], status: int,
                 etag: str | None, last_modified: str | None, body_hash: str | None, trusted: bool,
                 full_fetch: bool, reading: FeedReading | None, new: int) -> None:
    """Record a successful poll; ``reading`` is None when the feed was not parsed (its last parse stands)."""
    now = datetime.now(UTC)
    rate, interval = after_success(state.get("items_per_day"), new, now, state.get("last_success_at"),
                                   state.get("last_new_item_at"), state.get("first_polled_at"), policy)
    parsed: dict[str, Any] = {}
    if reading is not None:
        parsed = {"entries_seen": len(reading.entries), "entries_skipped": reading.skipped_total,
                  "skipped_reason": reading.skip_note, "charset_note": reading.charset_note}
    row = health_row(
        outlet, state, now, last_success_at=now, last_new_item_at=now if new else state.get("last_new_item_at"),
        http_status=status, error_class=None, error_message=None, consecutive_failures=0,
        new_items=new, etag=etag,
        last_modified=last_modified, body_hash=body_hash, validators_trusted=trusted,
        polls_since_full=0 if full_fetch else (state.get("polls_since_full") or 0) + 1,
        items_per_day=rate, poll_interval_s=int(interval.total_seconds()), next_poll_at=now + interval,
        **parsed)
    feed_store.save_feed_state(wh, row)


def save_failure(wh: Warehouse, outlet: Outlet, policy: PollingPolicy, state: dict[str, Any], error_class: str,
                 message: str, status: int | None, retry_after: float | None) -> None:
    """Record a failed poll: one more failure in a row, and the next poll backed off accordingly."""
    now = datetime.now(UTC)
    failures = (state.get("consecutive_failures") or 0) + 1
    wait = backoff_after_failure(failures, error_class, retry_after, policy)
    row = health_row(outlet, state, now, http_status=status, error_class=error_class, error_message=message,
                     consecutive_failures=failures, poll_interval_s=int(wait.total_seconds()),
                     next_poll_at=now + wait)
    feed_store.save_feed_state(wh, row)
    log.warning("outlet %s: %s; next poll %s UTC (%s)", outlet.id, error_class, f"{now + wait:%Y-%m-%d %H:%M}",
                row["status"])
