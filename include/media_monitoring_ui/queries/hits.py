"""The watchlist hits page: articles with hits, newest first, each with its terms, mentions and a snippet.

Listed per article with keyset pagination on ``(published_at, article_id)`` (``ix_articles_published``),
never OFFSET; the filters are indexed lookups: term (``ix_watchlist_hits_term`` / the hits' primary key),
region (the region's hit articles in page order from ``ix_hit_places_code_published``; with a term,
``ix_article_places_code_article``), outlet (``ix_articles_outlet_published``, in page order), date range
(``published_at``). The hits of one page's articles come in one ``IN`` query on the primary key prefix.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from media_monitoring.warehouse import schema as s
from media_monitoring_ui.cursors import DEFAULT_PAGE_SIZE, HitCursor, HitFilter, aware, clamp_page_size

if TYPE_CHECKING:
    from media_monitoring.warehouse import Warehouse

MAX_FORMS_SHOWN = 6  # distinct matched surface forms listed per term


@dataclass
class HitPage:
    articles: list[dict[str, Any]] = field(default_factory=list)
    next_cursor: HitCursor | None = None


def _day_start(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def _hit_conditions(flt: HitFilter) -> list[sa.ColumnElement[bool]]:
    a, h, p = s.articles, s.watchlist_hits, s.article_places
    hit = sa.select(sa.literal(1)).where(h.c.article_id == a.c.article_id)
    if flt.term:
        # Flattened into a semi-join: PostgreSQL may start from the term's hits (ix_watchlist_hits_term).
        hit = hit.where(h.c.term == flt.term)
        if flt.watchlists:
            hit = hit.where(h.c.watchlist.in_(flt.watchlists))
    else:
        # "Has any hit": OFFSET 0 (PostgreSQL's optimisation fence) keeps it a per-article probe of
        # the hits' primary key while walking articles newest first (an outlet's through
        # ix_articles_outlet_published), which stops after a page. Flattened into a semi-join,
        # PostgreSQL may hash every hit's article id (a full scan of watchlist_hits) first. (A region
        # filter without a term reads hit_places instead: hit_articles_query.)
        hit = hit.offset(0)
    conds: list[sa.ColumnElement[bool]] = [sa.exists(hit)]
    if flt.outlet:
        conds.append(a.c.outlet_id == flt.outlet)
    if flt.region:
        conds.append(sa.exists().where(p.c.article_id == a.c.article_id, p.c.kind == "region",
                                       p.c.code == flt.region))
    return conds


_ARTICLE_COLUMNS = (s.articles.c.article_id, s.articles.c.published_at, s.articles.c.outlet_id,
                    s.articles.c.outlet_country, s.articles.c.title, s.articles.c.url, s.articles.c.language,
                    s.articles.c.regions, s.articles.c.primary_country, s.articles.c.published_local)


def hit_articles_query(flt: HitFilter, *, after: HitCursor | None = None,
                       limit: int = DEFAULT_PAGE_SIZE) -> sa.Select:
    """Articles with watchlist hits, newest first: the dated part of the keyset walk."""
    a, hp = s.articles, s.hit_places
    if flt.region and not flt.term:
        # The region's hit articles straight from ix_hit_places_code_published, already in page order.
        published, key = hp.c.published_at, hp.c.article_id
        conds: list[sa.ColumnElement[bool]] = [hp.c.kind == "region", hp.c.code == flt.region]
        if flt.outlet:
            conds.append(a.c.outlet_id == flt.outlet)
        query = sa.select(*_ARTICLE_COLUMNS).select_from(hp.join(a, a.c.article_id == hp.c.article_id))
    else:
        published, key = a.c.published_at, a.c.article_id
        conds = _hit_conditions(flt)
        query = sa.select(*_ARTICLE_COLUMNS)
    conds.append(published.is_not(None))
    if flt.since:
        conds.append(published >= _day_start(flt.since))
    if flt.until:
        conds.append(published < _day_start(flt.until) + timedelta(days=1))
    if after is not None and after.published_at is not None:
        # "<=" bounds the index range scan; the OR breaks ties on the same second by article id.
        conds.append(published <= after.published_at)
        conds.append(sa.or_(published < after.published_at, key < after.article_id))
    return query.where(*conds).order_by(published.desc(), key.desc()).limit(limit)


def undated_hit_articles_query(flt: HitFilter, *, after: HitCursor | None = None,
                               limit: int = DEFAULT_PAGE_SIZE) -> sa.Select:
    """Articles with hits but no publication date (rare): listed after the dated ones."""
    a = s.articles
    conds = _hit_conditions(flt)
    conds.append(a.c.published_at.is_(None))
    if after is not None and after.published_at is None:
        conds.append(a.c.article_id < after.article_id)
    return sa.select(*_ARTICLE_COLUMNS).where(*conds).order_by(a.c.article_id.desc()).limit(limit)


def hits_of_articles_query(article_ids: Sequence[str]) -> sa.Select:
    h = s.watchlist_hits
    return (sa.select(h.c.article_id, h.c.watchlist, h.c.term, h.c.field, h.c.start, h.c.matched, h.c.snippet)
            .where(h.c.article_id.in_(list(article_ids)))
            .order_by(h.c.article_id, h.c.watchlist, h.c.term, h.c.field.desc(), h.c.start))


def hit_page(wh: Warehouse, flt: HitFilter, *, after: HitCursor | None = None,
             limit: int = DEFAULT_PAGE_SIZE) -> HitPage:
    """One page of articles with watchlist hits, each with its terms, mentions and a snippet."""
    limit = clamp_page_size(limit)
    rows: list[dict[str, Any]] = []
    with wh.engine.connect() as conn:
        if after is None or after.published_at is not None:
            rows = [dict(r) for r in conn.execute(hit_articles_query(flt, after=after, limit=limit + 1)).mappings()]
        dated_done = len(rows) <= limit
        # Undated articles match no date range; they follow the dated ones.
        if dated_done and not (flt.since or flt.until):
            rows += [dict(r) for r in conn.execute(undated_hit_articles_query(
                flt, after=after if after is not None and after.published_at is None else None,
                limit=limit + 1 - len(rows))).mappings()]
        more = len(rows) > limit
        rows = rows[:limit]
        hits: dict[str, list[dict[str, Any]]] = {}
        if rows:
            for h in conn.execute(hits_of_articles_query([r["article_id"] for r in rows])).mappings():
                hits.setdefault(h["article_id"], []).append(dict(h))
    for row in rows:
        row["published_at"] = aware(row["published_at"])
        row["terms"] = _summarise_hits(hits.get(row["article_id"], []))
    last = rows[-1] if rows else None
    cursor = HitCursor(last["published_at"], last["article_id"]) if more and last else None
    return HitPage(rows, cursor)


def _summarise_hits(hits: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per (watchlist, term): mentions, whether the title has it, the forms matched, one snippet.

    The snippet is the first one from the body (it shows context); the title's when only the title
    has the term.
    """
    terms: dict[tuple[str, str], dict[str, Any]] = {}
    for h in hits:  # ordered by term, title before text, then by position
        t = terms.setdefault((h["watchlist"], h["term"]), {
            "watchlist": h["watchlist"], "term": h["term"], "mentions": 0, "in_title": False,
            "forms": [], "snippet": None, "title_snippet": None})
        t["mentions"] += 1
        if h["field"] == "title":
            t["in_title"] = True
            t["title_snippet"] = t["title_snippet"] or h["snippet"]
        elif t["snippet"] is None:
            t["snippet"] = h["snippet"]
        if h["matched"] not in t["forms"] and len(t["forms"]) < MAX_FORMS_SHOWN:
            t["forms"].append(h["matched"])
    for t in terms.values():
        t["snippet"] = t["snippet"] or t.pop("title_snippet")
        t.pop("title_snippet", None)
    return sorted(terms.values(), key=lambda t: (t["watchlist"], t["term"]))
