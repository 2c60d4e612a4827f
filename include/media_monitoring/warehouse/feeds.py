"""SQL of the feeds: each outlet's feed health and status log, its boilerplate template, the page fetches
that failed and when they are due again.

The collect step writes these (and the staging rows, :mod:`media_monitoring.warehouse.articles`); the one
column the process step sets is a feed's ``drift_reason`` (:func:`set_drift`), from the outlet's quality.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from media_monitoring.records import FeedEntry
from media_monitoring.warehouse import schema as s
from media_monitoring.warehouse.store import UPSERT_CHUNK, Warehouse, aware

# feed_health times handed back timezone-aware (SQLite returns them naive; they are UTC)
FEED_STATE_TIMES = ("last_attempt_at", "last_success_at", "last_new_item_at", "next_poll_at", "first_polled_at")


# -- feed health -----------------------------------------------------------------------------------


def feed_state(wh: Warehouse, outlet_id: str) -> dict[str, Any] | None:
    """The outlet's ``feed_health`` row, or None before its first poll."""
    with wh.engine.connect() as conn:
        row = conn.execute(sa.select(s.feed_health).where(s.feed_health.c.outlet_id == outlet_id)).first()
    if row is None:
        return None
    data = dict(row._mapping)
    for key in FEED_STATE_TIMES:
        data[key] = aware(data[key])
    return data


def _log_status_change(wh: Warehouse, conn: sa.Connection, outlet_id: str, before: str | None,
                       status: str | None, reason: str | None, at: datetime | None) -> None:
    if status is not None and status != (before or "ok"):
        wh.upsert(conn, s.feed_status_log, [{"outlet_id": outlet_id, "changed_at": at or datetime.now(UTC),
                                             "status": status, "reason": reason}])


def save_feed_state(wh: Warehouse, row: dict[str, Any]) -> None:
    """Upsert an outlet's feed health; a change of status is also logged with the time it happened."""
    fh = s.feed_health
    with wh.engine.begin() as conn:
        before = conn.execute(sa.select(fh.c.status).where(fh.c.outlet_id == row["outlet_id"])).scalar()
        wh.upsert(conn, fh, [row])
        _log_status_change(wh, conn, row["outlet_id"], before, row.get("status"), row.get("status_reason"),
                           row.get("last_attempt_at"))


def set_drift(wh: Warehouse, outlet_id: str, drift_reason: str | None, status: str, status_reason: str | None,
              at: datetime | None) -> None:
    """Set the drift found in an outlet's latest batch and the status it gives the feed, leaving the rest of
    the row as its last poll wrote it; a change of status is logged at ``at`` (the feed's last attempt)."""
    fh = s.feed_health
    with wh.engine.begin() as conn:
        before = conn.execute(sa.select(fh.c.status).where(fh.c.outlet_id == outlet_id)).scalar()
        conn.execute(fh.update().where(fh.c.outlet_id == outlet_id)
                     .values(drift_reason=drift_reason, status=status, status_reason=status_reason))
        _log_status_change(wh, conn, outlet_id, before, status, status_reason, at)


def feed_health_table(wh: Warehouse) -> list[dict[str, Any]]:
    with wh.engine.connect() as conn:
        rows = conn.execute(sa.select(s.feed_health).order_by(s.feed_health.c.outlet_id)).mappings()
        return [dict(r) for r in rows]


def sources_needing_attention(wh: Warehouse) -> list[dict[str, Any]]:
    """Feeds whose health is not "ok": quiet, failing or blocked, with the reason."""
    with wh.engine.connect() as conn:
        rows = conn.execute(sa.select(s.feed_health).where(
            s.feed_health.c.status != "ok").order_by(s.feed_health.c.outlet_id)).mappings()
        return [dict(r) for r in rows]


def next_polls(wh: Warehouse) -> dict[str, datetime | None]:
    with wh.engine.connect() as conn:
        rows = conn.execute(sa.select(s.feed_health.c.outlet_id, s.feed_health.c.next_poll_at))
        return {r.outlet_id: aware(r.next_poll_at) for r in rows}


# -- boilerplate templates -------------------------------------------------------------------------


def outlet_template(wh: Warehouse, outlet_id: str) -> str | None:
    """The outlet's boilerplate template as :meth:`OutletTemplate.to_json` wrote it, or None before its first."""
    t = s.outlet_templates
    with wh.engine.connect() as conn:
        state: str | None = conn.execute(sa.select(t.c.state).where(t.c.outlet_id == outlet_id)).scalar()
    return state


def save_outlet_template(wh: Warehouse, outlet_id: str, state: str, now: datetime) -> None:
    """Keep the outlet's template (``state``: its :meth:`OutletTemplate.to_json` text, a JSON string in the
    JSON column)."""
    with wh.engine.begin() as conn:
        wh.upsert(conn, s.outlet_templates, [{"outlet_id": outlet_id, "state": state, "updated_at": now}])


# -- page fetches that failed ----------------------------------------------------------------------


def record_fetch_failure(wh: Warehouse, row: dict[str, Any], entry: FeedEntry) -> None:
    """Record one failed page fetch (``row``: the ``fetch_failures`` columns but the entry's) with the feed
    entry to retry it from, counting the attempts and keeping the first one's time."""
    row = {**row, "entry": entry.to_json()}
    with wh.engine.begin() as conn:
        prior = conn.execute(sa.select(s.fetch_failures.c.attempts)
                             .where(s.fetch_failures.c.article_id == row["article_id"])).scalar()
        keep_first = [c.name for c in s.fetch_failures.columns if c.name not in ("article_id", "first_attempt_at")]
        wh.upsert(conn, s.fetch_failures,
                  [{**row, "attempts": (prior or 0) + 1, "first_attempt_at": row["last_attempt_at"]}],
                  update=keep_first)


def fetch_attempts(wh: Warehouse, article_id: str) -> int:
    with wh.engine.connect() as conn:
        return conn.execute(sa.select(s.fetch_failures.c.attempts)
                            .where(s.fetch_failures.c.article_id == article_id)).scalar() or 0


def failures_not_due(wh: Warehouse, article_ids: Iterable[str], now: datetime) -> set[str]:
    """Ids with a recorded page failure that is permanent or not yet due for retry."""
    f = s.fetch_failures
    ids = list(set(article_ids))
    found: set[str] = set()
    with wh.engine.connect() as conn:
        for start in range(0, len(ids), UPSERT_CHUNK):
            found.update(conn.execute(sa.select(f.c.article_id).where(
                f.c.article_id.in_(ids[start:start + UPSERT_CHUNK]),
                sa.or_(f.c.next_retry_at.is_(None), f.c.next_retry_at > now))).scalars())
    return found


def clear_fetch_failures(wh: Warehouse, article_ids: Sequence[str]) -> None:
    with wh.engine.begin() as conn:
        conn.execute(s.fetch_failures.delete().where(s.fetch_failures.c.article_id.in_(list(article_ids))))


def due_retries(wh: Warehouse, outlet_id: str, now: datetime) -> list[FeedEntry]:
    """Feed entries whose page fetch failed transiently and is due again."""
    with wh.engine.connect() as conn:
        rows = conn.execute(sa.select(s.fetch_failures.c.entry).where(
            s.fetch_failures.c.outlet_id == outlet_id,
            s.fetch_failures.c.next_retry_at.is_not(None),
            s.fetch_failures.c.next_retry_at <= now,
        )).scalars()
        return [FeedEntry.from_json(entry) for entry in rows]


def first_attempts(wh: Warehouse, article_ids: Sequence[str]) -> dict[str, datetime]:
    """When the pages of these ids were first tried, for those that failed before."""
    ff = s.fetch_failures
    found: dict[str, datetime] = {}
    with wh.engine.connect() as conn:
        for start in range(0, len(article_ids), UPSERT_CHUNK):
            chunk = list(article_ids[start:start + UPSERT_CHUNK])
            for article_id, first, last in conn.execute(sa.select(ff.c.article_id, ff.c.first_attempt_at,
                                                                  ff.c.last_attempt_at)
                                                        .where(ff.c.article_id.in_(chunk))):
                # the last try of a failure recorded before first tries were kept (schema version 3)
                when = aware(first or last)
                if when is not None:
                    found[article_id] = when
    return found
