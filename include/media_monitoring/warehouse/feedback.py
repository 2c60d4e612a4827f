"""SQL of analysts' feedback on hits and of the audit log: record a mark, read the marks of a page of articles,
precision per term from the marks, and the audit trail of the view's writes.

Precision from feedback is read per (watchlist, term) over the hits analysts have marked: a marked hit is
*wrong* when anyone marked it "not relevant" or "wrong place", *confirmed* when it was marked only "relevant".
Precision = confirmed / marked; the hits nobody marked do not count either way, so the table always shows the
counts beside the share.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from media_monitoring.warehouse import schema as s
from media_monitoring.warehouse.store import Warehouse, aware_row

RELEVANT = "relevant"
NOT_RELEVANT = "not_relevant"
WRONG_PLACE = "wrong_place"
MISSED = "missed"
VERDICTS = (RELEVANT, NOT_RELEVANT, WRONG_PLACE)  # on a hit; a user's latest verdict replaces their earlier one
WRONG = (NOT_RELEVANT, WRONG_PLACE)  # the verdicts that count a hit as a false positive
KINDS = (*VERDICTS, MISSED)  # MISSED: on an article the term did not match but should have
KIND_LABELS = {RELEVANT: "relevant", NOT_RELEVANT: "not relevant", WRONG_PLACE: "wrong place",
               MISSED: "missed article"}

DONE, REFUSED, INVALID = "done", "refused", "invalid"  # the outcomes an audit row records
FEEDBACK_TABLES = (s.hit_feedback, s.audit_log)
AUDIT_PAGE = 50  # audit rows the feedback page lists, newest first


@dataclass(frozen=True)
class Mark:
    """One analyst's feedback on one (article, term): a verdict on its hit, or a missed article."""

    article_id: str
    watchlist: str
    term: str
    kind: str
    user_name: str
    rule_version: str
    at: datetime
    note: str = ""


@dataclass
class TermPrecision:
    """A term's hits and what feedback says about them; ``precision`` is None while no hit is marked."""

    watchlist: str
    term: str
    hits: int = 0  # articles with a hit of the term
    marked: int = 0  # of those, the ones with any verdict
    not_relevant: int = 0
    wrong_place: int = 0
    wrong: int = 0  # marked not relevant or wrong place (a hit with both counts once)
    missed: int = 0  # articles marked as ones the term should have matched
    versions: list[str] = field(default_factory=list)  # rule versions the verdicts were given on

    @property
    def confirmed(self) -> int:
        return self.marked - self.wrong

    @property
    def precision(self) -> float | None:
        return self.confirmed / self.marked if self.marked else None


def ensure_tables(conn: sa.Connection) -> bool:
    """Create the feedback tables in a warehouse made before them (the view opens the warehouse without
    creating its schema; these are the only tables it writes). Returns whether any was created."""
    have = set(sa.inspect(conn).get_table_names())
    missing = [t for t in FEEDBACK_TABLES if t.name not in have]
    for table in missing:
        table.create(conn)
    return bool(missing)


def hit_version(conn: sa.Connection, article_id: str, watchlist: str, term: str) -> str | None:
    """The watchlist version of the article's hit of ``term``, or None if the article has no such hit."""
    h = s.watchlist_hits
    return conn.execute(sa.select(h.c.version).where(h.c.article_id == article_id, h.c.watchlist == watchlist,
                                                     h.c.term == term).limit(1)).scalar()


def article_exists(conn: sa.Connection, article_id: str) -> bool:
    a = s.articles
    return conn.execute(sa.select(a.c.article_id).where(a.c.article_id == article_id)).first() is not None


def record_mark(wh: Warehouse, conn: sa.Connection, mark: Mark) -> None:
    """Store ``mark`` in ``conn``'s transaction: a repeat updates the user's row for that (article, term, kind);
    a verdict on a hit replaces the user's other verdicts on it (one opinion per person and hit)."""
    f = s.hit_feedback
    if mark.kind in VERDICTS:
        conn.execute(f.delete().where(f.c.article_id == mark.article_id, f.c.term == mark.term,
                                      f.c.user_name == mark.user_name, f.c.kind.in_(VERDICTS),
                                      f.c.kind != mark.kind))
    wh.upsert(conn, f, [{"article_id": mark.article_id, "term": mark.term, "kind": mark.kind,
                         "user_name": mark.user_name, "watchlist": mark.watchlist,
                         "rule_version": mark.rule_version, "at": mark.at, "note": mark.note}])


def audit(conn: sa.Connection, *, at: datetime, user_name: str, role: str, action: str, target: str,
          details: dict[str, Any], outcome: str) -> None:
    """Append one row to the audit log in ``conn``'s transaction (with the write it records, if any)."""
    conn.execute(s.audit_log.insert().values(at=at, user_name=user_name, role=role, action=action, target=target,
                                             details=details, outcome=outcome))


def marks_of_articles(wh: Warehouse, article_ids: Sequence[str]) -> dict[str, dict[str, list[dict[str, Any]]]]:
    """Per article, per term: its marks (kind, user, rule version, when), oldest first."""
    if not article_ids:
        return {}
    f = s.hit_feedback
    q = (sa.select(f.c.article_id, f.c.term, f.c.kind, f.c.user_name, f.c.rule_version, f.c.at)
         .where(f.c.article_id.in_(list(article_ids))).order_by(f.c.at, f.c.user_name))
    out: dict[str, dict[str, list[dict[str, Any]]]] = {}
    with wh.engine.connect() as conn:
        for row in conn.execute(q).mappings():
            out.setdefault(row["article_id"], {}).setdefault(row["term"], []).append(aware_row(row))
    return out


def term_precision(wh: Warehouse, terms: Sequence[tuple[str, str]], *, count_hits: bool = True) -> list[TermPrecision]:
    """Precision from feedback of every configured (watchlist, term), and of any other term with hits or
    marks, sorted by watchlist and term (see the module docstring for what is counted).

    ``count_hits=False`` leaves ``hits`` at 0 and reads the feedback table only: the hits page shows precision
    on every load, and counting every term's hits is a pass over all of them.
    """
    h, f = s.watchlist_hits, s.hit_feedback
    rows = {key: TermPrecision(*key) for key in terms}
    has_hit = sa.exists().where(h.c.article_id == f.c.article_id, h.c.watchlist == f.c.watchlist,
                                h.c.term == f.c.term)
    wrong_article = sa.case((f.c.kind.in_(WRONG), f.c.article_id))
    with wh.engine.connect() as conn:
        per_term = sa.select(h.c.watchlist, h.c.term, sa.func.count(sa.distinct(h.c.article_id)))
        hit_counts: Iterable[Any] = conn.execute(per_term.group_by(h.c.watchlist, h.c.term)) if count_hits else []
        for r in hit_counts:
            rows.setdefault((r[0], r[1]), TermPrecision(r[0], r[1])).hits = r[2]
        verdicts = (sa.select(f.c.watchlist, f.c.term, sa.func.count(sa.distinct(f.c.article_id)),
                              sa.func.count(sa.distinct(wrong_article)),
                              sa.func.count(sa.distinct(sa.case((f.c.kind == NOT_RELEVANT, f.c.article_id)))),
                              sa.func.count(sa.distinct(sa.case((f.c.kind == WRONG_PLACE, f.c.article_id)))))
                    .where(f.c.kind.in_(VERDICTS), has_hit).group_by(f.c.watchlist, f.c.term))
        for r in conn.execute(verdicts):
            row = rows.setdefault((r[0], r[1]), TermPrecision(r[0], r[1]))
            row.marked, row.wrong, row.not_relevant, row.wrong_place = r[2], r[3], r[4], r[5]
        for r in conn.execute(sa.select(f.c.watchlist, f.c.term, sa.func.count(sa.distinct(f.c.article_id)))
                              .where(f.c.kind == MISSED).group_by(f.c.watchlist, f.c.term)):
            rows.setdefault((r[0], r[1]), TermPrecision(r[0], r[1])).missed = r[2]
        for r in conn.execute(sa.select(f.c.watchlist, f.c.term, f.c.rule_version).distinct()
                              .where(f.c.kind.in_(VERDICTS)).order_by(f.c.rule_version)):
            if (r[0], r[1]) in rows:
                rows[(r[0], r[1])].versions.append(r[2])
    return [rows[key] for key in sorted(rows)]


def marked_wrong(wh: Warehouse, watchlist: str) -> list[dict[str, Any]]:
    """The hits of ``watchlist`` someone marked not relevant or wrong place (article, term, kind, user,
    rule version): what a backtest of a rule change checks it would remove."""
    f = s.hit_feedback
    q = (sa.select(f.c.article_id, f.c.term, f.c.kind, f.c.user_name, f.c.rule_version, f.c.at)
         .where(f.c.watchlist == watchlist, f.c.kind.in_(WRONG)).order_by(f.c.term, f.c.article_id))
    with wh.engine.connect() as conn:
        return [aware_row(row) for row in conn.execute(q).mappings()]


def audit_page(wh: Warehouse, limit: int = AUDIT_PAGE) -> list[dict[str, Any]]:
    """The newest audit rows, newest first."""
    a = s.audit_log
    with wh.engine.connect() as conn:
        return [aware_row(row) for row in
                conn.execute(sa.select(a).order_by(a.c.at.desc(), a.c.id.desc()).limit(limit)).mappings()]
