"""Digests as sent: the list of sends, one day's sends with what was composed, and one send with its bodies.

``digest_sends`` and ``digests`` are small tables (a row per day and subscription), read in primary key
order with LIMIT/OFFSET and a page-size cap; the list leaves the bodies out.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from media_monitoring.warehouse import schema as s
from media_monitoring.warehouse.store import aware
from media_monitoring_ui.cursors import DEFAULT_PAGE_SIZE, clamp_page_size

if TYPE_CHECKING:
    from media_monitoring.warehouse import Warehouse

_SEND_LIST_COLUMNS = (s.digest_sends.c.digest_date, s.digest_sends.c.subscription, s.digest_sends.c.recipients,
                      s.digest_sends.c.subject, s.digest_sends.c.transport, s.digest_sends.c.status,
                      s.digest_sends.c.sent_at, s.digest_sends.c.message_id)


def _send_row(row: Any) -> dict[str, Any]:
    data = dict(row)
    data["sent_at"] = aware(data.get("sent_at"))
    if isinstance(data.get("digest_date"), str):  # defensive: raw SQLite text
        data["digest_date"] = date.fromisoformat(data["digest_date"])
    return data


def digest_sends_query(*, limit: int, offset: int = 0) -> sa.Select:
    d = s.digest_sends
    return (sa.select(*_SEND_LIST_COLUMNS).order_by(d.c.digest_date.desc(), d.c.subscription)
            .limit(limit).offset(offset))


def digest_sends(wh: Warehouse, *, limit: int = DEFAULT_PAGE_SIZE, offset: int = 0) -> list[dict[str, Any]]:
    """Sent digests, newest day first (no bodies)."""
    with wh.engine.connect() as conn:
        rows = conn.execute(digest_sends_query(limit=clamp_page_size(limit), offset=max(0, offset))).mappings()
        return [_send_row(r) for r in rows]


def digest_send_count(wh: Warehouse) -> int:
    with wh.engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(s.digest_sends)).scalar_one()


def latest_digest_day(wh: Warehouse) -> date | None:
    with wh.engine.connect() as conn:
        value = conn.execute(sa.select(sa.func.max(s.digest_sends.c.digest_date))).scalar()
    return date.fromisoformat(value) if isinstance(value, str) else value


def digest_sends_on(wh: Warehouse, day: date) -> list[dict[str, Any]]:
    """Every subscription's send of ``day`` (no bodies), by subscription name."""
    d = s.digest_sends
    with wh.engine.connect() as conn:
        rows = conn.execute(sa.select(*_SEND_LIST_COLUMNS).where(d.c.digest_date == day)
                            .order_by(d.c.subscription)).mappings()
        return [_send_row(r) for r in rows]


def digest_send(wh: Warehouse, day: date, subscription: str) -> dict[str, Any] | None:
    """One send with exactly the text and HTML bodies that went out."""
    d = s.digest_sends
    with wh.engine.connect() as conn:
        row = conn.execute(sa.select(d).where(d.c.digest_date == day, d.c.subscription == subscription)
                           ).mappings().first()
    return _send_row(row) if row else None


def digests_on(wh: Warehouse, days: Sequence[date]) -> dict[date, list[dict[str, Any]]]:
    """The composed digests of these days, per subscription: window, item, late and term counts."""
    if not days:
        return {}
    d = s.digests
    out: dict[date, list[dict[str, Any]]] = {}
    with wh.engine.connect() as conn:
        rows = conn.execute(sa.select(d.c.digest_date, d.c.subscription, d.c.kind, d.c.window_start, d.c.window_end,
                                      d.c.timezone, d.c.item_count, d.c.late_count, d.c.term_counts)
                            .where(d.c.digest_date.in_(list(days))).order_by(d.c.digest_date, d.c.subscription))
        for r in rows.mappings():
            row = dict(r)
            row["window_start"], row["window_end"] = aware(row["window_start"]), aware(row["window_end"])
            day = date.fromisoformat(r["digest_date"]) if isinstance(r["digest_date"], str) else r["digest_date"]
            out.setdefault(day, []).append(row)
    return out
