"""The filters' choices: the outlets and regions an analyst can pick on the hits and search pages.

Read with a loose index scan (a recursive CTE that jumps from one distinct value to the next), not
``SELECT DISTINCT`` over millions of rows.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import sqlalchemy as sa

from media_monitoring.warehouse import schema as s

if TYPE_CHECKING:
    from media_monitoring.warehouse import Warehouse

MAX_CHOICES = 2000  # distinct outlets or regions offered as filter choices


def _loose_scan(column: sa.Column, *where: sa.ColumnElement[bool], name: str) -> sa.Select:
    """Distinct values of an indexed column, one index probe per value (a recursive CTE).

    ``SELECT DISTINCT`` would read every row; this jumps from each value to the next larger one.
    """
    first = sa.select(sa.func.min(column).label("value")).where(*where)
    walk = first.cte(name, recursive=True)
    following = (sa.select(sa.func.min(column)).where(*where, column > walk.c.value)
                 .scalar_subquery())
    walk = walk.union_all(sa.select(following).where(walk.c.value.is_not(None)))
    return sa.select(walk.c.value).where(walk.c.value.is_not(None)).limit(MAX_CHOICES)


def outlets_query() -> sa.Select:
    return _loose_scan(s.articles.c.outlet_id, name="outlet_values")


def regions_query() -> sa.Select:
    p = s.article_places
    return _loose_scan(p.c.code, p.c.kind == "region", name="region_values")


def outlet_choices(wh: Warehouse) -> list[str]:
    """Outlets that have stored articles, plus every outlet with a feed-health row."""
    with wh.engine.connect() as conn:
        stored = set(conn.execute(outlets_query()).scalars())
        polled = set(conn.execute(sa.select(s.feed_health.c.outlet_id).limit(MAX_CHOICES)).scalars())
    return sorted(stored | polled)


def region_choices(wh: Warehouse) -> list[str]:
    with wh.engine.connect() as conn:
        return list(conn.execute(regions_query()).scalars())
