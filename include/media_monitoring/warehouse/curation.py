"""SQL of what analysts change in the view: watchlist versions and proposals, subscription versions, and the
span of publication times a backtest's default period is taken from. The rules of what is in force live in
:mod:`media_monitoring.curation`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from media_monitoring.warehouse import schema as s
from media_monitoring.warehouse.store import Warehouse, aware, aware_row

CURATION_TABLES = (s.watchlist_versions, s.watchlist_proposals, s.subscription_versions)


def ensure_tables(conn: sa.Connection) -> bool:
    """Create the curation tables in a warehouse made before them (the view opens the warehouse without
    creating its schema). Returns whether any was created."""
    have = set(sa.inspect(conn).get_table_names())
    missing = [t for t in CURATION_TABLES if t.name not in have]
    for table in missing:
        table.create(conn)
    return bool(missing)


# -- watchlists ------------------------------------------------------------------------------------


def watchlist_versions(conn: sa.Connection, watchlist: str | None = None) -> list[dict[str, Any]]:
    """Every stored version (of ``watchlist``, or of all), oldest first."""
    v = s.watchlist_versions
    q = sa.select(v).order_by(v.c.at, v.c.version)
    if watchlist is not None:
        q = q.where(v.c.watchlist == watchlist)
    return [aware_row(r) for r in conn.execute(q).mappings()]


def add_watchlist_version(wh: Warehouse, conn: sa.Connection, row: dict[str, Any]) -> None:
    """Store a version; a version of that name already stored (another process imported it first) stays."""
    wh.upsert(conn, s.watchlist_versions, [row], update=[])


def add_proposal(conn: sa.Connection, row: dict[str, Any]) -> int:
    key = conn.execute(s.watchlist_proposals.insert().values(**row)).inserted_primary_key
    assert key is not None
    return int(key[0])


def proposal(conn: sa.Connection, proposal_id: int) -> dict[str, Any] | None:
    p = s.watchlist_proposals
    row = conn.execute(sa.select(p).where(p.c.id == proposal_id)).mappings().first()
    return aware_row(row) if row is not None else None


def proposals(conn: sa.Connection, status: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
    """Proposals (with ``status``, or all), newest first."""
    p = s.watchlist_proposals
    q = sa.select(p).order_by(p.c.at.desc(), p.c.id.desc()).limit(limit)
    if status is not None:
        q = q.where(p.c.status == status)
    return [aware_row(r) for r in conn.execute(q).mappings()]


def decide_proposal(conn: sa.Connection, proposal_id: int, *, status: str, by: str, at: datetime,
                    version: str | None = None) -> bool:
    """Close an open proposal; False when it was no longer open (someone else decided first)."""
    p = s.watchlist_proposals
    done = conn.execute(p.update().where(p.c.id == proposal_id, p.c.status == "open")
                        .values(status=status, decided_by=by, decided_at=at, activated_version=version))
    return done.rowcount == 1


def record_replay(conn: sa.Connection, proposal_id: int, replay: dict[str, Any]) -> None:
    p = s.watchlist_proposals
    conn.execute(p.update().where(p.c.id == proposal_id).values(replay=replay))


def published_span(wh: Warehouse) -> tuple[datetime | None, datetime | None]:
    """The first and the last publication time of the stored articles."""
    a = s.articles
    with wh.engine.connect() as conn:
        first, last = conn.execute(sa.select(sa.func.min(a.c.published_at), sa.func.max(a.c.published_at))).one()
    return aware(first), aware(last)


# -- subscriptions ---------------------------------------------------------------------------------


def subscription_versions(conn: sa.Connection, name: str | None = None) -> list[dict[str, Any]]:
    """Every stored version (of subscription ``name``, or of all), oldest first."""
    v = s.subscription_versions
    q = sa.select(v).order_by(v.c.id)
    if name is not None:
        q = q.where(v.c.name == name)
    return [aware_row(r) for r in conn.execute(q).mappings()]


def add_subscription_version(conn: sa.Connection, row: dict[str, Any]) -> None:
    conn.execute(s.subscription_versions.insert().values(**row))
