"""SQL of re-checks and revisions: which watchlist articles are due to be fetched again, and what changed."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from media_monitoring.warehouse import schema as s
from media_monitoring.warehouse.store import Warehouse, aware_row


def unscheduled(wh: Warehouse, stored_after: datetime, limit: int) -> list[dict[str, Any]]:
    """Articles with a watchlist hit, stored after ``stored_after``, that have no re-check schedule yet."""
    a, h, r = s.articles, s.watchlist_hits, s.article_rechecks
    has_hit = sa.exists().where(h.c.article_id == a.c.article_id)
    scheduled = sa.exists().where(r.c.article_id == a.c.article_id)
    q = (sa.select(a.c.article_id, a.c.fetched_at, a.c.stored_at)
         .where(a.c.stored_at > stored_after, has_hit, ~scheduled)
         .order_by(a.c.stored_at, a.c.article_id).limit(limit))
    with wh.engine.connect() as conn:
        return [aware_row(row) for row in conn.execute(q).mappings()]


def schedule(wh: Warehouse, rows: Sequence[dict[str, Any]]) -> None:
    """Insert schedule rows; an article that has one keeps it (a rerun schedules nothing twice)."""
    if rows:
        with wh.engine.begin() as conn:
            wh.upsert(conn, s.article_rechecks, list(rows), update=())


def due(wh: Warehouse, now: datetime, limit: int) -> list[dict[str, Any]]:
    """Schedule rows due at ``now``, oldest due first, with the article and its latest known version (the
    stored article, or the text of its latest revision)."""
    a, r, rev = s.articles, s.article_rechecks, s.article_revisions
    q = (sa.select(r, a.c.url, a.c.canonical_url, a.c.outlet_id, a.c.title, a.c.text)
         .join(a, a.c.article_id == r.c.article_id)
         .where(r.c.next_check_at.is_not(None), r.c.next_check_at <= now)
         .order_by(r.c.next_check_at, r.c.article_id).limit(limit))
    with wh.engine.connect() as conn:
        rows = [aware_row(row) for row in conn.execute(q).mappings()]
        ids = [row["article_id"] for row in rows]
        latest: dict[str, dict[str, Any]] = {}
        if ids:
            for revision in conn.execute(sa.select(rev.c.article_id, rev.c.kind, rev.c.title_after, rev.c.text_after)
                                         .where(rev.c.article_id.in_(ids), rev.c.kind == "edited")
                                         .order_by(rev.c.article_id, rev.c.check_no)).mappings():
                latest[revision["article_id"]] = dict(revision)  # the last one wins
    for row in rows:
        newer = latest.get(row["article_id"])
        if newer:
            row["title"], row["text"] = newer["title_after"], newer["text_after"]
    return rows


def record_check(wh: Warehouse, article_id: str, changes: dict[str, Any], revision: dict[str, Any] | None) -> None:
    """Update an article's schedule after a check and store the revision it found, in one transaction.
    A revision already stored for this check (a rerun) is kept as it is."""
    r = s.article_rechecks
    with wh.engine.begin() as conn:
        conn.execute(r.update().where(r.c.article_id == article_id).values(**changes))
        if revision is not None:
            wh.upsert(conn, s.article_revisions, [revision], update=())


def revisions_of(wh: Warehouse, article_ids: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
    """Every revision of the given articles, oldest first."""
    rev = s.article_revisions
    found: dict[str, list[dict[str, Any]]] = {}
    if not article_ids:
        return found
    with wh.engine.connect() as conn:
        for row in conn.execute(sa.select(rev).where(rev.c.article_id.in_(list(article_ids)))
                                .order_by(rev.c.article_id, rev.c.check_no)).mappings():
            found.setdefault(row["article_id"], []).append(aware_row(row))
    return found



def changed_since_sent(wh: Warehouse, subscription: str, until: datetime) -> list[dict[str, Any]]:
    """Revisions found up to ``until`` of articles the subscription had received (in a digest composed, or
    an alert sent, before the revision was found) that none of its digests has reported yet, oldest first."""
    rev, a, notice = s.article_revisions, s.articles, s.revision_notices
    ledger, d, al = s.digest_ledger, s.digests, s.alerts
    in_digest = sa.exists().where(ledger.c.subscription == subscription, ledger.c.article_id == rev.c.article_id,
                                  d.c.subscription == ledger.c.subscription, d.c.digest_date == ledger.c.digest_date,
                                  d.c.created_at < rev.c.checked_at)
    alerted = sa.exists().where(al.c.subscription == subscription, al.c.article_id == rev.c.article_id,
                                al.c.state == "sent", al.c.sent_at < rev.c.checked_at)
    reported = sa.exists().where(notice.c.subscription == subscription, notice.c.article_id == rev.c.article_id,
                                 notice.c.check_no == rev.c.check_no)
    q = (sa.select(rev.c.article_id, rev.c.check_no, rev.c.checked_at, rev.c.kind, rev.c.title_before,
                   rev.c.title_after, rev.c.words_added, rev.c.words_removed, a.c.url, a.c.outlet_id, a.c.language)
         .join(a, a.c.article_id == rev.c.article_id)
         .where(rev.c.checked_at <= until, sa.or_(in_digest, alerted), ~reported)
         .order_by(rev.c.checked_at, rev.c.article_id, rev.c.check_no))
    with wh.engine.connect() as conn:
        return [aware_row(row) for row in conn.execute(q).mappings()]


def first_delivered(wh: Warehouse, article_ids: Sequence[str]) -> dict[str, datetime]:
    """When each article first reached an analyst: the earliest digest that delivered it (its composition)
    or priority alert sent about it."""
    ledger, d, al = s.digest_ledger, s.digests, s.alerts
    ids = list(article_ids)
    found: dict[str, datetime] = {}
    if not ids:
        return found
    digested = (sa.select(ledger.c.article_id, sa.func.min(d.c.created_at))
                .join(d, sa.and_(d.c.subscription == ledger.c.subscription, d.c.digest_date == ledger.c.digest_date))
                .where(ledger.c.article_id.in_(ids)).group_by(ledger.c.article_id))
    alerted = (sa.select(al.c.article_id, sa.func.min(al.c.sent_at))
               .where(al.c.article_id.in_(ids), al.c.state == "sent", al.c.revision.is_(None))
               .group_by(al.c.article_id))
    with wh.engine.connect() as conn:
        for query in (digested, alerted):
            for article_id, when in conn.execute(query):
                when = aware_row({"t": when})["t"]
                if when is not None and (article_id not in found or when < found[article_id]):
                    found[article_id] = when
    return found
