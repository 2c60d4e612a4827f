"""When to poll a feed next, and how healthy it is: pure functions over the feed's history.

Better than a fixed period: a busy feed is polled about twice per expected item, a quiet one
rarely; failures back off exponentially with a weight per error class (a 410 Gone waits far longer
than a timeout); ``Retry-After`` is honoured. A feed is never disabled: it always has a next poll.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

ITEMS_PER_DAY_SMOOTHING = 0.3  # weight of the newest observation in the items-per-day average
POLLS_PER_ITEM = 2  # poll about twice per expected new item, so items are picked up within half a gap
FULL_FETCH_EVERY = 12  # every Nth poll ignores validators, to catch servers with stale ETags
QUIET_FACTOR = 4  # "quiet": no new item for 4x the feed's own usual gap between items
QUIET_MIN = timedelta(days=2)  # ...and never before two days, so a slow weekend is not an alarm
FAILING_AFTER = 3  # consecutive failed polls before a feed needs attention

# How much longer than a plain transient error each error class waits before the next try.
ERROR_WEIGHTS: dict[str, float] = {
    "timeout": 1.0, "connect": 1.0, "dns": 1.5, "server_error": 1.0, "protocol": 1.5,
    "rate_limited": 2.0, "blocked": 3.0, "challenge": 3.0, "not_found": 4.0, "gone": 8.0,
    "not_a_feed": 2.0, "content_type": 2.0, "too_large": 4.0, "redirect_loop": 4.0,
    "blocked_address": 8.0, "bad_url": 8.0, "internal": 1.0, "hostile_feed": 4.0,
}
BLOCKED_CLASSES = frozenset({"blocked", "rate_limited", "challenge"})


@dataclass(frozen=True)
class PollingPolicy:
    """Bounds from the outlet registry (``polling:``), in minutes."""

    min_interval: timedelta = timedelta(minutes=15)
    max_interval: timedelta = timedelta(hours=6)
    max_backoff: timedelta = timedelta(days=1)


def update_items_per_day(previous: float | None, new_items: int, elapsed: timedelta | None) -> float:
    """Exponentially weighted items/day from this poll's new items over the time since the last poll."""
    if previous is None or elapsed is None or elapsed <= timedelta(0):
        return float(previous if previous is not None else new_items)
    observed = new_items / (elapsed.total_seconds() / 86400)
    return (1 - ITEMS_PER_DAY_SMOOTHING) * previous + ITEMS_PER_DAY_SMOOTHING * observed


def interval_after_success(items_per_day: float, policy: PollingPolicy) -> timedelta:
    """Poll about POLLS_PER_ITEM times per expected item, within the policy's bounds."""
    if items_per_day <= 0:
        return policy.max_interval
    wanted = timedelta(days=1) / (items_per_day * POLLS_PER_ITEM)
    return max(policy.min_interval, min(policy.max_interval, wanted))


def backoff_after_failure(consecutive_failures: int, error_class: str, retry_after_s: float | None,
                          policy: PollingPolicy) -> timedelta:
    """min_interval x 2^(failures-1) x weight(error class), capped; never shorter than Retry-After."""
    weight = ERROR_WEIGHTS.get(error_class, 1.0)
    wait = policy.min_interval * (2 ** max(0, consecutive_failures - 1)) * weight
    wait = min(wait, policy.max_backoff)
    if retry_after_s:
        wait = max(wait, timedelta(seconds=min(retry_after_s, policy.max_backoff.total_seconds())))
    return wait


def health_status(row: dict, now: datetime) -> tuple[str, str | None]:
    """("ok" | "failing" | "blocked" | "no_links" | "drifting" | "quiet", reason) for a feed_health row."""
    failures = row.get("consecutive_failures") or 0
    error_class = row.get("error_class")
    if failures and error_class in BLOCKED_CLASSES:
        return "blocked", f"{error_class} ({row.get('http_status') or 'no status'}): {row.get('error_message')}"
    if failures >= FAILING_AFTER:
        return "failing", f"{failures} failed polls in a row: {error_class}: {row.get('error_message')}"
    if row.get("entries_skipped") and not row.get("entries_seen"):
        return "no_links", f"no entry has a usable link: {row.get('skipped_reason')}"
    if row.get("drift_reason"):
        return "drifting", row["drift_reason"]
    rate = row.get("items_per_day") or 0
    last_new = row.get("last_new_item_at") or row.get("first_polled_at")
    if rate > 0 and last_new is not None:
        usual_gap = timedelta(days=1) / rate
        silent = now - last_new
        if silent > max(QUIET_MIN, usual_gap * QUIET_FACTOR):
            return "quiet", f"no new item for {silent.days} days (usually one every {_human(usual_gap)})"
    return "ok", None


def _human(delta: timedelta) -> str:
    hours = delta.total_seconds() / 3600
    return f"{hours:.0f} h" if hours < 48 else f"{hours / 24:.0f} days"
