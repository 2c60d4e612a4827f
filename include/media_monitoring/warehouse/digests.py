"""SQL of the digests: what is due to a subscription, the frozen digests, the delivery ledger, the send log.

The delivery contract lives in two places here: ``undelivered_hits`` only offers articles the
subscription has not received, and ``store_digest`` writes the digest, its entries and the ledger rows
(primary key: subscription, article) in one transaction, so an article can never be in two of one
subscription's digests, even when two composers race.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa

from media_monitoring.warehouse import schema as s
from media_monitoring.warehouse.store import Warehouse, aware, aware_row, regions_about

_HIT_COLUMNS = (s.articles.c.article_id, s.articles.c.title, s.articles.c.url, s.articles.c.outlet_id,
                s.articles.c.outlet_country, s.articles.c.language, s.articles.c.published_at,
                s.articles.c.published_local, s.articles.c.first_seen_at, s.articles.c.stored_at,
                s.articles.c.primary_country, s.articles.c.primary_region, regions_about(s.articles), s.articles.c.gist,
                s.watchlist_hits.c.watchlist, s.watchlist_hits.c.term, s.watchlist_hits.c.alias,
                s.watchlist_hits.c.matched, s.watchlist_hits.c.snippet, s.watchlist_hits.c.field,
                s.watchlist_hits.c.start, s.watchlist_hits.c.version)



def undelivered_hits(wh: Warehouse, subscription: str, watchlists: Sequence[str], *,
                     stored_after: datetime | None = None, stored_until: datetime | None = None,
                     day_start: datetime | None = None, day_end: datetime | None = None) -> list[dict[str, Any]]:
    """Every hit of ``watchlists`` in articles not yet delivered to ``subscription``, joined with the article.

    A scheduled digest passes the stored-time bounds (what became visible since the subscription's first
    digest, up to its slot); a digest asked for one day passes that day's bounds instead, on the published
    time, or on the first-seen time for an article without a date.
    """
    a, h, ledger = s.articles, s.watchlist_hits, s.digest_ledger
    delivered = sa.exists().where(ledger.c.subscription == subscription, ledger.c.article_id == a.c.article_id)
    q = (sa.select(*_HIT_COLUMNS).join(h, h.c.article_id == a.c.article_id)
         .where(h.c.watchlist.in_(list(watchlists)), ~delivered))
    if stored_after is not None:
        q = q.where(a.c.stored_at > stored_after)
    if stored_until is not None:
        q = q.where(a.c.stored_at <= stored_until)
    if day_start is not None and day_end is not None:
        q = q.where(sa.or_(
            sa.and_(a.c.published_at >= day_start, a.c.published_at < day_end),
            sa.and_(a.c.published_at.is_(None), a.c.first_seen_at >= day_start, a.c.first_seen_at < day_end)))
    q = q.order_by(a.c.published_at, a.c.article_id, h.c.watchlist, h.c.term, h.c.field.desc(), h.c.start)
    with wh.engine.connect() as conn:
        return [aware_row(r) for r in conn.execute(q).mappings()]


def digest(wh: Warehouse, subscription: str, day: date) -> dict[str, Any] | None:
    d = s.digests
    with wh.engine.connect() as conn:
        row = conn.execute(sa.select(d).where(d.c.subscription == subscription, d.c.digest_date == day)).first()
    return aware_row(row._mapping) if row else None


def last_scheduled(wh: Warehouse, subscription: str) -> tuple[datetime | None, datetime | None]:
    """(end of the latest scheduled window, start of the first one) of ``subscription``, or Nones."""
    d = s.digests
    mine = sa.and_(d.c.subscription == subscription, d.c.kind == "scheduled")
    with wh.engine.connect() as conn:
        last, first = conn.execute(sa.select(sa.func.max(d.c.window_end), sa.func.min(d.c.window_start))
                                   .where(mine)).one()
    return aware(last), aware(first)


def entries(wh: Warehouse, subscription: str, day: date) -> list[dict[str, Any]]:
    e = s.digest_entries
    with wh.engine.connect() as conn:
        return [aware_row(r) for r in conn.execute(
            sa.select(e).where(e.c.subscription == subscription, e.c.digest_date == day)
            .order_by(e.c.watchlist, e.c.rank)).mappings()]


def store_digest(wh: Warehouse, row: dict[str, Any], entry_rows: Sequence[dict[str, Any]],
                 notices: Sequence[dict[str, Any]] = ()) -> None:
    """Write a composed digest, its entries, its ledger rows and the revisions it reports at once.

    Raises:
        sqlalchemy.exc.IntegrityError: an article of it was delivered to the subscription meanwhile (or the
            digest exists); nothing is written and the next attempt composes without it.
    """
    ledger = [{"subscription": row["subscription"], "article_id": article_id, "digest_date": row["digest_date"]}
              for article_id in sorted({e["article_id"] for e in entry_rows})]
    with wh.engine.begin() as conn:
        conn.execute(s.digests.insert(), [row])
        if entry_rows:
            conn.execute(s.digest_entries.insert(), list(entry_rows))
        if ledger:
            conn.execute(s.digest_ledger.insert(), ledger)
        if notices:
            conn.execute(s.revision_notices.insert(), list(notices))


def digests_without_send(wh: Warehouse, subscriptions: Sequence[str]) -> list[tuple[str, date]]:
    """(subscription, day) of composed digests not yet sent: a failed send is tried again by the next run."""
    d, sends = s.digests, s.digest_sends
    sent = sa.exists().where(sends.c.subscription == d.c.subscription, sends.c.digest_date == d.c.digest_date,
                             sends.c.status == "sent")
    q = (sa.select(d.c.subscription, d.c.digest_date).where(d.c.subscription.in_(list(subscriptions)), ~sent)
         .order_by(d.c.digest_date, d.c.subscription))
    with wh.engine.connect() as conn:
        return [(sub, day) for sub, day in conn.execute(q)]


def sent(wh: Warehouse, day: date, subscription: str) -> dict[str, Any] | None:
    ds = s.digest_sends
    with wh.engine.connect() as conn:
        row = conn.execute(sa.select(ds).where(ds.c.digest_date == day, ds.c.subscription == subscription)).first()
    return aware_row(row._mapping) if row else None


def record_send(wh: Warehouse, row: dict[str, Any]) -> None:
    with wh.engine.begin() as conn:
        wh.upsert(conn, s.digest_sends, [row])


def received(wh: Warehouse, subscription: str) -> list[dict[str, Any]]:
    """What one analyst received, digest by digest: for an audit."""
    d, ds = s.digests, s.digest_sends
    q = (sa.select(d.c.digest_date, d.c.kind, d.c.window_start, d.c.window_end, d.c.item_count, d.c.late_count,
                   ds.c.status, ds.c.sent_at, ds.c.message_id)
         .outerjoin(ds, sa.and_(ds.c.subscription == d.c.subscription, ds.c.digest_date == d.c.digest_date))
         .where(d.c.subscription == subscription).order_by(d.c.digest_date))
    with wh.engine.connect() as conn:
        return [aware_row(r) for r in conn.execute(q).mappings()]


def feed_status_during(wh: Warehouse, start: datetime, end: datetime) -> list[dict[str, Any]]:
    """Each outlet whose feed was not "ok" at some point of [start, end): its status at the end of the
    window and the worst it had in it, with the reason, from the status log (not today's health)."""
    log_t = s.feed_status_log
    with wh.engine.connect() as conn:
        rows = [aware_row(r) for r in conn.execute(
            sa.select(log_t).where(log_t.c.changed_at < end).order_by(log_t.c.outlet_id, log_t.c.changed_at))
            .mappings()]
    by_outlet: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by_outlet.setdefault(row["outlet_id"], []).append(row)
    out = []
    for outlet_id, changes in sorted(by_outlet.items()):
        before = [c for c in changes if c["changed_at"] <= start]
        inside = [c for c in changes if c["changed_at"] > start]
        states = ([before[-1]] if before else []) + inside
        bad = [c for c in states if c["status"] != "ok"]
        if not bad:
            continue
        at_end = states[-1]
        shown = at_end if at_end["status"] != "ok" else bad[-1]
        out.append({"outlet_id": outlet_id, "status": shown["status"], "reason": shown["reason"],
                    "since": shown["changed_at"].isoformat(), "recovered": at_end["status"] == "ok"})
    return out


def outlet_quality_during(wh: Warehouse, start: datetime, end: datetime) -> dict[str, dict[str, Any]]:
    """Each outlet's validated articles in [start, end), with its short and quarantined shares over them."""
    q = s.outlet_quality
    with wh.engine.connect() as conn:
        rows = conn.execute(sa.select(q).where(q.c.validated_at >= start, q.c.validated_at < end)
                            .order_by(q.c.outlet_id, q.c.validated_at)).mappings().all()
    out: dict[str, dict[str, Any]] = {}
    for r in rows:
        agg = out.setdefault(r["outlet_id"], {"articles": 0, "short": 0.0, "quarantined": 0.0, "failed": []})
        agg["articles"] += r["articles"]
        agg["short"] += r["short_share"] * r["articles"]
        agg["quarantined"] += r["quarantined_share"] * r["articles"]
        agg["failed"] += [f for f in r["failed_expectations"] if f not in agg["failed"]]
    return {oid: {"articles": a["articles"], "short_share": a["short"] / a["articles"] if a["articles"] else 0.0,
                  "quarantined_share": a["quarantined"] / a["articles"] if a["articles"] else 0.0,
                  "failed_expectations": a["failed"]} for oid, a in out.items()}


def term_article_counts(wh: Warehouse, watchlist: str, start: datetime, end: datetime) -> list[dict[str, Any]]:
    """(term, publication day, articles) for hits of ``watchlist`` in articles published in [start, end)."""
    a, h = s.articles, s.watchlist_hits
    q = (sa.select(h.c.term, a.c.article_id, a.c.published_at).distinct()
         .join(a, a.c.article_id == h.c.article_id)
         .where(h.c.watchlist == watchlist, a.c.published_at >= start, a.c.published_at < end))
    counts: dict[tuple[str, date], int] = {}
    with wh.engine.connect() as conn:
        for term, _article, published in conn.execute(q):
            key = (term, aware(published).date())
            counts[key] = counts.get(key, 0) + 1
    return [{"term": t, "day": d, "articles": n} for (t, d), n in sorted(counts.items())]
