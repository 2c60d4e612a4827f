"""The data-quality pages: validation runs, one run's outlet batches, and the quarantined articles.

Validation runs are read newest first, keyset-paginated on ``(validated_at, run_id)``
(``ix_validation_runs_time``); one run by its primary key, its outlet batches by the ``outlet_quality``
primary key prefix (``run_id``). Quarantined articles (those of one run, or those not released) newest
first, keyset-paginated on ``(quarantined_at, article_id)`` through ``ix_quarantine_run`` and
``ix_quarantine_open``, the title read out of the stored record (not the whole record: it holds the
article's text).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from media_monitoring.warehouse import schema as s
from media_monitoring_ui.cursors import TimeCursor, aware, clamp_page_size
from media_monitoring_ui.queries.choices import MAX_CHOICES

if TYPE_CHECKING:
    from media_monitoring.warehouse import Warehouse

RUNS_PER_PAGE = 20
QUARANTINE_PER_PAGE = 50
OUTLETS_PER_RUN = MAX_CHOICES  # outlet batches listed in one run's report (one per outlet polled)
OPEN_QUARANTINE_COUNT_CAP = 10_000  # counted up to this, then shown as "10000+"


def _after(at: sa.Column, key: sa.Column, cursor: TimeCursor | None) -> list[sa.ColumnElement[bool]]:
    if cursor is None:
        return []
    # "<=" bounds an index range scan; the OR breaks ties on the same timestamp by key.
    return [at <= cursor.at, sa.or_(at < cursor.at, key < cursor.key)]


# -- validation runs -------------------------------------------------------------------------------


@dataclass
class RunPage:
    runs: list[dict[str, Any]] = field(default_factory=list)
    next_cursor: TimeCursor | None = None  # (validated_at, run_id) of the last run shown


def validation_runs_query(*, after: TimeCursor | None = None, limit: int = RUNS_PER_PAGE) -> sa.Select:
    """Validation runs, newest first."""
    v = s.validation_runs
    return (sa.select(v).where(*_after(v.c.validated_at, v.c.run_id, after))
            .order_by(v.c.validated_at.desc(), v.c.run_id.desc()).limit(limit))


def _run_row(row: Any) -> dict[str, Any]:
    data = dict(row)
    data["validated_at"] = aware(data.get("validated_at"))
    data["by_expectation"] = dict(data.get("by_expectation") or {})
    return data


def validation_run_page(wh: Warehouse, *, after: TimeCursor | None = None,
                        limit: int = RUNS_PER_PAGE) -> RunPage:
    """One page of validation runs (a row per processing run: counts and failures by expectation)."""
    limit = clamp_page_size(limit, RUNS_PER_PAGE)
    with wh.engine.connect() as conn:
        rows = [_run_row(r) for r in conn.execute(validation_runs_query(after=after, limit=limit + 1)).mappings()]
    more, rows = len(rows) > limit, rows[:limit]
    last = rows[-1] if rows and more else None
    return RunPage(rows, TimeCursor(last["validated_at"], last["run_id"]) if last else None)


def validation_run(wh: Warehouse, run_id: str) -> dict[str, Any] | None:
    """One run's validation result, by its primary key."""
    v = s.validation_runs
    with wh.engine.connect() as conn:
        row = conn.execute(sa.select(v).where(v.c.run_id == run_id)).mappings().first()
    return _run_row(row) if row else None


def outlet_quality_of_run_query(run_id: str, *, limit: int = OUTLETS_PER_RUN) -> sa.Select:
    """The per-outlet batch results of one run (the primary key's prefix), by outlet."""
    q = s.outlet_quality
    return sa.select(q).where(q.c.run_id == run_id).order_by(q.c.outlet_id).limit(limit)


def outlet_quality_of_run(wh: Warehouse, run_id: str) -> list[dict[str, Any]]:
    with wh.engine.connect() as conn:
        rows = [dict(r) for r in conn.execute(outlet_quality_of_run_query(run_id)).mappings()]
    for row in rows:
        row["validated_at"] = aware(row["validated_at"])
        row["failed_expectations"] = list(row.get("failed_expectations") or [])
    return rows


# -- quarantine ------------------------------------------------------------------------------------


@dataclass
class QuarantinePage:
    articles: list[dict[str, Any]] = field(default_factory=list)
    next_cursor: TimeCursor | None = None  # (quarantined_at, article_id) of the last article shown


def _quarantine_columns() -> tuple[Any, ...]:
    q = s.quarantine
    # The title and language out of the stored record; the record itself carries the whole text.
    return (q.c.article_id, q.c.url, q.c.outlet_id, q.c.run_id, q.c.failed_expectations, q.c.observed,
            q.c.quarantined_at, q.c.released_at, q.c.record["title"].as_string().label("title"),
            q.c.record["language"].as_string().label("language"))


def quarantine_query(*, run_id: str | None = None, open_only: bool = False, after: TimeCursor | None = None,
                     limit: int = QUARANTINE_PER_PAGE) -> sa.Select:
    """Quarantined articles, newest first: those of one run (released ones too), or those not released."""
    q = s.quarantine
    conds = _after(q.c.quarantined_at, q.c.article_id, after)
    if run_id is not None:
        conds.append(q.c.run_id == run_id)
    if open_only:
        conds.append(q.c.released_at.is_(None))
    return (sa.select(*_quarantine_columns()).where(*conds)
            .order_by(q.c.quarantined_at.desc(), q.c.article_id.desc()).limit(limit))


def quarantine_page(wh: Warehouse, *, run_id: str | None = None, open_only: bool = False,
                    after: TimeCursor | None = None, limit: int = QUARANTINE_PER_PAGE) -> QuarantinePage:
    """One page of quarantined articles with their failed expectations and the values observed."""
    limit = clamp_page_size(limit, QUARANTINE_PER_PAGE)
    with wh.engine.connect() as conn:
        rows = [dict(r) for r in conn.execute(quarantine_query(run_id=run_id, open_only=open_only, after=after,
                                                               limit=limit + 1)).mappings()]
    more, rows = len(rows) > limit, rows[:limit]
    for row in rows:
        row["quarantined_at"], row["released_at"] = aware(row["quarantined_at"]), aware(row["released_at"])
        row["failed_expectations"] = list(row.get("failed_expectations") or [])
        row["observed"] = dict(row.get("observed") or {})
    last = rows[-1] if rows and more else None
    return QuarantinePage(rows, TimeCursor(last["quarantined_at"], last["article_id"]) if last else None)


def open_quarantine_count(wh: Warehouse, *, cap: int = OPEN_QUARANTINE_COUNT_CAP) -> int:
    """How many quarantined articles are not released, counted up to ``cap + 1`` at most."""
    q = s.quarantine
    bounded = sa.select(sa.literal(1).label("one")).where(q.c.released_at.is_(None)).limit(cap + 1).subquery()
    with wh.engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(bounded)).scalar_one()
