"""SQL of priority alerts: what could raise one, the alert ledger, its send log, and the latency rows.

"One alert per story" is the primary key of ``alerts`` (subscription, story id): ``record_alerts`` inserts
with ON CONFLICT DO NOTHING, so a later article of the same story, a retry and a racing run all find the
row and raise nothing new. ``alert_sends`` says, per channel, what went out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from media_monitoring.warehouse import schema as s
from media_monitoring.warehouse.store import Warehouse, aware_row, regions_about


def candidate_hits(wh: Warehouse, subscription: str, terms: Mapping[str, Sequence[str] | None], *,
                   stored_after: datetime, stored_until: datetime) -> list[dict[str, Any]]:
    """Hits that could raise an alert for ``subscription``: in articles stored in (after, until], of
    ``terms`` ({watchlist: term names, or None for every term}), whose story has no alert of the
    subscription yet and that its digests have not delivered. Articles without a story yet (a run stopped
    between storing and grouping) wait for the run that places them. Joined with the article and its story."""
    a, h, st = s.articles, s.watchlist_hits, s.article_stories
    al, ledger = s.alerts, s.digest_ledger
    matches = []
    for watchlist, names in terms.items():
        cond = h.c.watchlist == watchlist
        if names is not None:
            cond = sa.and_(cond, h.c.term.in_(list(names)))
        matches.append(cond)
    if not matches:
        return []
    alerted = sa.exists().where(al.c.subscription == subscription, al.c.story_id == st.c.story_id)
    digested = sa.exists().where(ledger.c.subscription == subscription, ledger.c.article_id == a.c.article_id)
    q = (sa.select(a.c.article_id, a.c.title, a.c.url, a.c.outlet_id, a.c.language, a.c.published_at,
                   a.c.published_local, a.c.first_seen_at, a.c.stored_at, regions_about(a), st.c.story_id,
                   h.c.watchlist, h.c.term, h.c.alias, h.c.matched, h.c.field, h.c.snippet, h.c.start)
         .join(h, h.c.article_id == a.c.article_id)
         .join(st, st.c.article_id == a.c.article_id)
         .where(sa.or_(*matches), a.c.stored_at > stored_after, a.c.stored_at <= stored_until,
                ~alerted, ~digested)
         .order_by(a.c.stored_at, a.c.published_at, a.c.article_id, h.c.watchlist, h.c.term,
                   h.c.field.desc(), h.c.start))
    with wh.engine.connect() as conn:
        return [aware_row(r) for r in conn.execute(q).mappings()]


def record_alerts(wh: Warehouse, rows: Sequence[dict[str, Any]]) -> int:
    """Insert alert ledger rows; a (subscription, story) that has one keeps it. Returns the rows offered."""
    if rows:
        with wh.engine.begin() as conn:
            wh.upsert(conn, s.alerts, list(rows), update=())
    return len(rows)


def pending(wh: Warehouse, subscription: str) -> list[dict[str, Any]]:
    """The subscription's alerts not sent yet (new, or waiting), oldest first."""
    al = s.alerts
    q = (sa.select(al).where(al.c.subscription == subscription, al.c.state == "pending")
         .order_by(al.c.stored_at, al.c.published_at, al.c.story_id))
    with wh.engine.connect() as conn:
        return [aware_row(r) for r in conn.execute(q).mappings()]


def sent_since(wh: Warehouse, subscription: str, since: datetime) -> int:
    """Alerts of the subscription that went out after ``since``: its rate limit's count."""
    al = s.alerts
    q = sa.select(sa.func.count()).where(al.c.subscription == subscription, al.c.state == "sent",
                                         al.c.sent_at > since)
    with wh.engine.connect() as conn:
        return int(conn.execute(q).scalar_one())


def digested(wh: Warehouse, subscription: str, article_id: str) -> bool:
    ledger = s.digest_ledger
    q = sa.select(ledger.c.article_id).where(ledger.c.subscription == subscription,
                                             ledger.c.article_id == article_id)
    with wh.engine.connect() as conn:
        return conn.execute(q).first() is not None


def set_state(wh: Warehouse, subscription: str, story_id: str, **values: Any) -> None:
    al = s.alerts
    with wh.engine.begin() as conn:
        conn.execute(al.update().where(al.c.subscription == subscription, al.c.story_id == story_id)
                     .values(**values))


def send_log(wh: Warehouse, subscription: str, story_id: str) -> dict[str, dict[str, Any]]:
    """The send log of one alert, by channel."""
    sends = s.alert_sends
    with wh.engine.connect() as conn:
        rows = conn.execute(sa.select(sends).where(sends.c.subscription == subscription,
                                                   sends.c.story_id == story_id)).mappings()
        return {r["channel"]: aware_row(r) for r in rows}


def record_send(wh: Warehouse, row: dict[str, Any]) -> None:
    with wh.engine.begin() as conn:
        wh.upsert(conn, s.alert_sends, [row])


def story_coverage(wh: Warehouse, story_id: str) -> dict[str, Any] | None:
    st = s.stories
    with wh.engine.connect() as conn:
        row = conn.execute(sa.select(st.c.article_count, st.c.outlets, st.c.countries)
                           .where(st.c.story_id == story_id)).first()
    return dict(row._mapping) if row else None


def latency_rows(wh: Warehouse, since: datetime | None = None) -> list[dict[str, Any]]:
    """Per stored article: its times along the path (published, first seen in a feed, fetched, stored), when
    it was first alerted (the alert it raised, any subscription) and first digested (any subscription's
    digest that delivered it, as sent), with its watchlist terms. ``since``: articles stored after it."""
    a, h = s.articles, s.watchlist_hits
    al, ledger, ds = s.alerts, s.digest_ledger, s.digest_sends
    alerted = (sa.select(al.c.article_id, sa.func.min(al.c.sent_at).label("alerted_at"))
               .where(al.c.state == "sent", al.c.revision.is_(None)).group_by(al.c.article_id).subquery())
    digested = (sa.select(ledger.c.article_id, sa.func.min(ds.c.sent_at).label("digested_at"))
                .join(ds, sa.and_(ds.c.subscription == ledger.c.subscription,
                                  ds.c.digest_date == ledger.c.digest_date))
                .where(ds.c.status == "sent").group_by(ledger.c.article_id).subquery())
    q = (sa.select(a.c.article_id, a.c.outlet_id, a.c.published_at, a.c.first_seen_at, a.c.fetched_at,
                   a.c.stored_at, alerted.c.alerted_at, digested.c.digested_at)
         .outerjoin(alerted, alerted.c.article_id == a.c.article_id)
         .outerjoin(digested, digested.c.article_id == a.c.article_id)
         .order_by(a.c.stored_at, a.c.article_id))
    terms_q = sa.select(h.c.article_id, h.c.term).distinct()
    if since is not None:
        q = q.where(a.c.stored_at > since)
        terms_q = terms_q.join(a, a.c.article_id == h.c.article_id).where(a.c.stored_at > since)
    with wh.engine.connect() as conn:
        rows = [aware_row(r) for r in conn.execute(q).mappings()]
        terms: dict[str, list[str]] = {}
        for article_id, term in conn.execute(terms_q):
            terms.setdefault(article_id, []).append(term)
    for row in rows:
        row["terms"] = sorted(terms.get(row["article_id"], ()))
    return rows


def changed_after_alert(wh: Warehouse, subscription: str, *, checked_after: datetime,
                        checked_until: datetime) -> list[dict[str, Any]]:
    """Revisions found in (after, until] of articles that raised an alert of ``subscription`` sent before the
    revision was found, with that alert's terms; oldest first."""
    rev, al = s.article_revisions, s.alerts
    q = (sa.select(rev.c.article_id, rev.c.check_no, rev.c.checked_at, rev.c.kind, rev.c.title_before,
                   rev.c.title_after, rev.c.words_added, rev.c.words_removed, al.c.story_id, al.c.url,
                   al.c.outlet_id, al.c.language, al.c.published_at, al.c.published_local, al.c.stored_at,
                   al.c.terms)
         .join(al, sa.and_(al.c.article_id == rev.c.article_id, al.c.subscription == subscription,
                           al.c.state == "sent", al.c.revision.is_(None), al.c.sent_at < rev.c.checked_at))
         .where(rev.c.checked_at > checked_after, rev.c.checked_at <= checked_until)
         .order_by(rev.c.checked_at, rev.c.article_id, rev.c.check_no))
    with wh.engine.connect() as conn:
        return [aware_row(r) for r in conn.execute(q).mappings()]


def revision_reported(wh: Warehouse, subscription: str, article_id: str, check_no: int) -> bool:
    """Whether a digest of ``subscription`` has listed this revision as "changed since sent"."""
    n = s.revision_notices
    q = sa.select(n.c.article_id).where(n.c.subscription == subscription, n.c.article_id == article_id,
                                        n.c.check_no == check_no)
    with wh.engine.connect() as conn:
        return conn.execute(q).first() is not None
