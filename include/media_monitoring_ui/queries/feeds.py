"""The feed-health table: one row per outlet (a small table), worst status first, paged by LIMIT/OFFSET."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from media_monitoring.warehouse import schema as s
from media_monitoring_ui.cursors import MAX_PAGE_SIZE, aware, clamp_page_size

if TYPE_CHECKING:
    from media_monitoring.warehouse import Warehouse

STATUS_ORDER = ("blocked", "failing", "no_links", "drifting", "quiet", "ok")  # worst first in the feed-health table


def feed_health_query(*, limit: int, offset: int = 0) -> sa.Select:
    f = s.feed_health
    worst_first = sa.case({status: i for i, status in enumerate(STATUS_ORDER)}, value=f.c.status,
                          else_=len(STATUS_ORDER))
    return sa.select(f).order_by(worst_first, f.c.outlet_id).limit(limit).offset(offset)


def feed_health(wh: Warehouse, *, limit: int = MAX_PAGE_SIZE, offset: int = 0) -> list[dict[str, Any]]:
    """Feed-health rows, worst status first (one row per outlet: a small table)."""
    with wh.engine.connect() as conn:
        rows = conn.execute(feed_health_query(limit=clamp_page_size(limit, MAX_PAGE_SIZE),
                                              offset=max(0, offset))).mappings()
        out = []
        for r in rows:
            row = dict(r)
            for key, value in row.items():
                if isinstance(value, datetime):
                    row[key] = aware(value)
            out.append(row)
        return out


def feed_status_counts(wh: Warehouse) -> dict[str, int]:
    f = s.feed_health
    with wh.engine.connect() as conn:
        rows = conn.execute(sa.select(f.c.status, sa.func.count()).group_by(f.c.status))
        return {status: n for status, n in rows}
