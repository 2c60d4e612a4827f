"""When to poll a feed next, and how healthy it is: pure functions over the feed's history.

Better than a fixed period: a busy feed is polled about twice per expected item, a quiet one
rarely; failures back off exponentially with a weight per error class (a 410 Gone waits far longer
than a timeout); ``Retry-After`` is honoured. A feed is never disabled: it always has a next poll.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

ITEMS_PER_DAY_SMOOTHING = 0.3  # weight of the newest observation in the items-per-day average
POLLS_PER_ITEM = 2  # poll about twice per expected new item, so items are picked up within half a gap
FULL_FETCH_EVERY = 12  # every Nth poll ignores validators, to catch servers with stale ETags
QUIET_FACTOR = 4  # "quiet": no new item for 4x the feed's own usual gap between items
QUIET_MIN = timedelta(days=2)  # ...and never before two days, so a slow weekend is not an alarm
FAILING_AFTER = 3  # consecutive failed polls before a feed needs attention
MAX_DOUBLINGS = 40  # 2^40 x any sane min_interval is past any sane max_backoff

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
    """Exponentially weighted items/day, updated when new items arrive.

    Args:
        previous: the feed's items/day so far; None on its first poll (the new items seed it).
        new_items: items this poll found.
        elapsed: time since the previous new item (or since the first poll if there was none).

    A poll without new items leaves the rate as it was: a silence is judged against the rate the feed
    had before it (``health_status``) and stretches the poll interval (``interval_after_success``).
    Lowering the rate at every empty poll would make the "usual gap" grow faster than the silence
    itself, so a feed that stopped publishing would never be reported quiet.
    """
    if previous is None or elapsed is None or elapsed <= timedelta(0):
        return float(previous if previous is not None else new_items)
    if new_items <= 0:
        return float(previous)
    observed = new_items / (elapsed.total_seconds() / 86400)
    return (1 - ITEMS_PER_DAY_SMOOTHING) * previous + ITEMS_PER_DAY_SMOOTHING * observed


def interval_after_success(items_per_day: float, policy: PollingPolicy,
                           silent: timedelta = timedelta(0)) -> timedelta:
    """Poll about POLLS_PER_ITEM times per expected gap between items, within the policy's bounds.

    The expected gap is the feed's usual one, or the current silence (``silent``: time since its last
    new item) once that is longer, so a feed that has gone silent is polled less and less often.
    Computed in float seconds: a tiny rate must give ``max_interval``, not an overflowing timedelta.
    """
    gap_s = max(86400 / items_per_day if items_per_day > 0 else math.inf, silent.total_seconds())
    wanted_s = gap_s / POLLS_PER_ITEM
    return timedelta(seconds=max(policy.min_interval.total_seconds(),
                                 min(policy.max_interval.total_seconds(), wanted_s)))


def after_success(previous_rate: float | None, new_items: int, now: datetime, last_success_at: datetime | None,
                  last_new_item_at: datetime | None, first_polled_at: datetime | None,
                  policy: PollingPolicy) -> tuple[float, timedelta]:
    """(items/day, interval to the next poll) after a successful poll at ``now`` that found ``new_items``."""
    if last_success_at is None:  # first successful poll: its items seed the rate
        rate = update_items_per_day(None, new_items, None)
        return rate, interval_after_success(rate, policy)
    since = last_new_item_at or first_polled_at or last_success_at
    rate = update_items_per_day(previous_rate or 0.0, new_items, now - since)
    return rate, interval_after_success(rate, policy, timedelta(0) if new_items else now - since)


def backoff_after_failure(consecutive_failures: int, error_class: str, retry_after_s: float | None,
                          policy: PollingPolicy) -> timedelta:
    """min_interval x 2^(failures-1) x weight(error class), capped; never shorter than Retry-After."""
    weight = ERROR_WEIGHTS.get(error_class, 1.0)
    cap_s = policy.max_backoff.total_seconds()
    # The exponent is bounded: a feed is never disabled, so its failures can count up for months, and
    # 2^37 x 15 min no longer fits in a timedelta. Any exponent past MAX_DOUBLINGS is at the cap anyway.
    doublings = min(max(0, consecutive_failures - 1), MAX_DOUBLINGS)
    wait_s = min(policy.min_interval.total_seconds() * 2.0**doublings * weight, cap_s)
    if retry_after_s:
        wait_s = max(wait_s, min(retry_after_s, cap_s))
    return timedelta(seconds=wait_s)


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
        usual_gap_s = 86400 / rate  # float seconds: a tiny rate would overflow a timedelta
        silent = now - last_new
        if silent.total_seconds() > max(QUIET_MIN.total_seconds(), usual_gap_s * QUIET_FACTOR):
            return "quiet", f"no new item for {silent.days} days (usually one every {_human(usual_gap_s)})"
    return "ok", None


def _human(seconds: float) -> str:
    hours = seconds / 3600
    return f"{hours:.0f} h" if hours < 48 else f"{hours / 24:.0f} days"
