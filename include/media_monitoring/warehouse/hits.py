"""The hit lists' statements: articles with watchlist hits under the analyst's filters, newest first.

Shared by the view's hits page (a page at a time, ``media_monitoring_ui.queries.hits``) and the exports
(every row, streamed: ``warehouse/export.py``). Keyset order on ``(published_at, article_id)``
(``ix_articles_published``), never OFFSET; the filters are indexed lookups: term (``ix_watchlist_hits_term`` /
the hits' primary key), region (the region's hit articles in page order from ``ix_hit_places_code_published``;
with a term, ``ix_article_places_code_article``), outlet (``ix_articles_outlet_published``, in page order), date
range (``published_at``). The hits of a set of articles come in one ``IN`` query on the primary key prefix.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Protocol

import sqlalchemy as sa

from media_monitoring.records import FOCUS_KIND, REGION
from media_monitoring.warehouse import schema as s

DEFAULT_LIMIT = 50  # rows a statement returns unless told (the view's default page size)


@dataclass(frozen=True)
class HitFilter:
    """What the analyst filters hits on. Dates are UTC days, both ends inclusive."""

    term: str | None = None
    watchlists: tuple[str, ...] = ()  # the watchlists defining ``term``: lets the term index be used
    region: str | None = None  # a region name as tagged (UN M49 sub-region or an analyst grouping)
    mentioned: bool = False  # region: also articles that only mention it (default: those about it)
    outlet: str | None = None
    since: date | None = None
    until: date | None = None

    @property
    def active(self) -> bool:
        return any((self.term, self.region, self.outlet, self.since, self.until))


class Keyset(Protocol):
    """Where a walk resumes: after this (published_at, article_id); undated articles come after the dated."""

    @property
    def published_at(self) -> datetime | None: ...

    @property
    def article_id(self) -> str: ...


def region_kind(mentioned: bool) -> str:
    """The ``article_places`` kind a region filter reads: the regions articles are about, or (``mentioned``) every
    region they refer to."""
    return REGION if mentioned else FOCUS_KIND[REGION]


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
        conds.append(sa.exists().where(p.c.article_id == a.c.article_id, p.c.kind == region_kind(flt.mentioned),
                                       p.c.code == flt.region))
    return conds


_ARTICLE_COLUMNS = (s.articles.c.article_id, s.articles.c.published_at, s.articles.c.outlet_id,
                    s.articles.c.outlet_country, s.articles.c.title, s.articles.c.url, s.articles.c.language,
                    s.articles.c.regions, s.articles.c.primary_country, s.articles.c.published_local,
                    s.articles.c.gist)


def hit_articles_query(flt: HitFilter, *, after: Keyset | None = None,
                       limit: int | None = DEFAULT_LIMIT) -> sa.Select:
    """Articles with watchlist hits, newest first: the dated part of the keyset walk."""
    a, hp = s.articles, s.hit_places
    if flt.region and not flt.term:
        # The region's hit articles straight from ix_hit_places_code_published, already in page order.
        published, key = hp.c.published_at, hp.c.article_id
        conds: list[sa.ColumnElement[bool]] = [hp.c.kind == region_kind(flt.mentioned), hp.c.code == flt.region]
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


def undated_hit_articles_query(flt: HitFilter, *, after: Keyset | None = None,
                               limit: int | None = DEFAULT_LIMIT) -> sa.Select:
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
