"""SQL of the outlets' batch quality: one row per outlet and run (shares of short, empty, quarantined and
duplicate articles, the expectations that failed, the drift found), written by the process step and read
for drift detection, the digest's source quality and the view."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from media_monitoring.warehouse import schema as s
from media_monitoring.warehouse.store import Warehouse


def outlet_quality_history(wh: Warehouse, outlet_id: str, before: datetime, limit: int) -> list[dict[str, Any]]:
    """The outlet's last ``limit`` quality rows validated before ``before``, newest first."""
    q = s.outlet_quality
    with wh.engine.connect() as conn:
        return [dict(r) for r in conn.execute(sa.select(q).where(
            q.c.outlet_id == outlet_id, q.c.validated_at < before).order_by(q.c.validated_at.desc())
            .limit(limit)).mappings()]


def record_outlet_quality(wh: Warehouse, rows: Sequence[dict[str, Any]]) -> None:
    with wh.engine.begin() as conn:
        wh.upsert(conn, s.outlet_quality, rows)


def latest_outlet_quality(wh: Warehouse) -> dict[str, dict[str, Any]]:
    """The most recent quality row of every outlet (see :func:`latest_outlet_quality_query`)."""
    with wh.engine.connect() as conn:
        return {r["outlet_id"]: dict(r) for r in conn.execute(latest_outlet_quality_query()).mappings()}


def latest_outlet_quality_query() -> sa.Select:
    """The most recent ``outlet_quality`` row of every outlet.

    A year of half-hourly runs is ~500,000 rows for 30 outlets, and a GROUP BY reads them all (100 ms on
    PostgreSQL). This walks ix_outlet_quality_outlet_time instead, two probes per outlet: the next outlet
    id after the last one (a recursive CTE: a loose index scan in PostgreSQL and SQLite alike), then
    that outlet's latest row.
    """
    q = s.outlet_quality
    outlets = sa.select(sa.func.min(q.c.outlet_id).label("outlet_id")).cte("outlets", recursive=True)
    later = q.alias("later")
    following = sa.select(sa.func.min(later.c.outlet_id)).where(later.c.outlet_id > outlets.c.outlet_id)
    outlets = outlets.union_all(sa.select(following.scalar_subquery()).where(outlets.c.outlet_id.is_not(None)))
    newest = q.alias("newest")
    at = (sa.select(newest.c.validated_at).where(newest.c.outlet_id == outlets.c.outlet_id)
          .order_by(newest.c.validated_at.desc()).limit(1).scalar_subquery())
    return sa.select(q).join(outlets, q.c.outlet_id == outlets.c.outlet_id).where(q.c.validated_at == at)
