"""Which digests are due, and the window each covers, in the analyst's own timezone.

A subscription's digest goes out at its ``digest_time`` (local). Each hourly run looks for the latest
slot at or before its own time: if no digest was composed for it, it is due now. A scheduler that was
down across a slot therefore sends that digest at its next run, once; a window always starts where the
subscription's previous scheduled window ended, so nothing between two digests falls through.

A subscription that has never had a scheduled digest (new in analysts.yaml, or a new deployment) starts
at its first slot that a run reaches within ``FIRST_DIGEST_GRACE``: it is not sent, out of time, a digest
for a slot that passed before it existed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from media_monitoring.config import Subscription
from media_monitoring.warehouse import Warehouse
from media_monitoring.warehouse import digests as store

FIRST_DIGEST_GRACE = timedelta(hours=1)  # the digest DAG's interval: the run right after the slot
# How far before a window a stored time may lie and the article still be offered: a batch committed after
# the digest was composed carries its run's (earlier) time. Older articles that match only now (a watchlist
# changed and the archive was re-tagged) are for the view, not pushed into the next digest.
LATE_GRACE = timedelta(days=7)


@dataclass(frozen=True)
class Edition:
    """One digest of one subscription.

    ``digest_date`` is the analyst's local day the digest is named after: for a scheduled digest the day
    before its slot (a 07:00 digest reads as "yesterday's news"), for one asked for a day, that day.
    """

    subscription: Subscription
    digest_date: date
    kind: str  # "scheduled" or "day"
    window_start: datetime  # UTC
    window_end: datetime  # UTC


def _local(day: date, hhmm: str, tz: ZoneInfo) -> datetime:
    hour, minute = (int(x) for x in hhmm.split(":"))
    return datetime.combine(day, time(hour, minute), tzinfo=tz).astimezone(UTC)


def latest_slot(sub: Subscription, now: datetime) -> datetime:
    """The subscription's latest digest time at or before ``now`` (UTC)."""
    tz = ZoneInfo(sub.timezone)
    today = now.astimezone(tz).date()
    slot = _local(today, sub.digest_time, tz)
    return slot if slot <= now else _local(today - timedelta(days=1), sub.digest_time, tz)


def next_slot(sub: Subscription, now: datetime) -> datetime:
    """The subscription's first digest time after ``now`` (UTC): the digest a change made now is first in."""
    tz = ZoneInfo(sub.timezone)
    return _local(latest_slot(sub, now).astimezone(tz).date() + timedelta(days=1), sub.digest_time, tz)


def scheduled_edition(wh: Warehouse, sub: Subscription, now: datetime) -> Edition | None:
    """The subscription's digest due at ``now``, or None if its latest slot already has one."""
    tz = ZoneInfo(sub.timezone)
    slot = latest_slot(sub, now)
    digest_date = slot.astimezone(tz).date() - timedelta(days=1)
    if store.digest(wh, sub.name, digest_date) is not None:
        return None
    last_end, _first = store.last_scheduled(wh, sub.name)
    if last_end is not None and last_end >= slot:
        return None
    if last_end is None and now - slot >= FIRST_DIGEST_GRACE:
        return None  # a new subscription waits for its next slot
    start = last_end or _local(digest_date, sub.digest_time, tz)
    return Edition(sub, digest_date, "scheduled", start, slot)


def day_edition(sub: Subscription, day: date) -> Edition:
    """The digest of one local day (a backfill or a regeneration asked for by date)."""
    tz = ZoneInfo(sub.timezone)
    start = datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz).astimezone(UTC)
    return Edition(sub, day, "day", start, end)


def since(wh: Warehouse, edition: Edition) -> datetime:
    """Where a scheduled digest's stored-time range starts: the subscription's first window, or ``LATE_GRACE``
    before this window, whichever is later (every article not yet delivered in that range is offered)."""
    _last, first = store.last_scheduled(wh, edition.subscription.name)
    start = min(first, edition.window_start) if first else edition.window_start
    return max(start, edition.window_start - LATE_GRACE)
