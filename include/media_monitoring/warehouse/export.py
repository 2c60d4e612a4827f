"""The rows of an export, read from the warehouse as they are written out: memory stays flat.

Each list is read with the statements its page runs (the hit list of :mod:`.hits`, the search of
:mod:`.search`), without their page limit, through a server-side cursor
(``stream_results=True, yield_per=STREAM_BATCH``: a named cursor on PostgreSQL, ``fetchmany`` on SQLite), in the
page's keyset order: newest first on ``(published_at, article_id)``, the undated articles after the dated ones.
For each batch of articles the cursor hands over, one more query reads what the page shows beside them (the
batch's hits by the hits' primary key, or the search snippets), so at most one batch is held at a time, and
an export lists exactly the articles its page would list page after page.

The rows are dicts keyed by the column names of :mod:`media_monitoring.export`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence
from datetime import date
from typing import Any

import sqlalchemy as sa

from media_monitoring.search import Query
from media_monitoring.warehouse import schema as s
from media_monitoring.warehouse import search
from media_monitoring.warehouse.hits import (  # the hits page's statements: an export lists what it lists
    HitFilter,
    hit_articles_query,
    hits_of_articles_query,
    undated_hit_articles_query,
)
from media_monitoring.warehouse.store import Warehouse, aware_row

log = logging.getLogger(__name__)

STREAM_BATCH = 1000  # articles per fetch from the server-side cursor, and ids per follow-up IN query
SEARCH_STREAM_BATCH = 200  # search snippets are computed per article (ts_headline, snippet()): smaller batches


def _streamed(conn: sa.Connection, statement: sa.Select, batch: int) -> Iterator[Sequence[sa.RowMapping]]:
    """The rows of ``statement`` through a server-side cursor, ``batch`` at a time."""
    result = conn.execution_options(stream_results=True, yield_per=batch).execute(statement)
    try:
        yield from result.mappings().partitions()
    finally:
        result.close()


def _article(row: Mapping[Any, Any]) -> dict[str, Any]:
    article = aware_row(row)
    return {"article_id": article["article_id"], "url": article["url"], "title": article["title"],
            "outlet_id": article["outlet_id"], "outlet_country": article["outlet_country"],
            "language": article["language"], "published_utc": article["published_at"],
            "published_local": article["published_local"], "primary_country": article["primary_country"],
            "regions": list(article["regions"] or [])}


# -- hits ------------------------------------------------------------------------------------------


def hit_rows(wh: Warehouse, flt: HitFilter, *, batch: int = STREAM_BATCH) -> Iterator[dict[str, Any]]:
    """Every hit of every article the hits page lists for ``flt``, in the page's order (newest article
    first; an article's hits by watchlist, term, title before text, position): one row per hit."""
    statements = [hit_articles_query(flt).limit(None)]
    if not (flt.since or flt.until):  # undated articles match no date range; they follow the dated ones
        statements.append(undated_hit_articles_query(flt).limit(None))
    h = s.watchlist_hits
    articles = hits = 0
    with wh.engine.connect() as conn:
        for statement in statements:
            for page in _streamed(conn, statement, batch):
                ids = [a["article_id"] for a in page]
                by_article: dict[str, list[dict[str, Any]]] = {}
                for found in conn.execute(hits_of_articles_query(ids).add_columns(h.c.alias, h.c.version)).mappings():
                    by_article.setdefault(found["article_id"], []).append(dict(found))
                for row in page:
                    article = _article(row)
                    articles += 1
                    for hit in by_article.get(row["article_id"], ()):
                        hits += 1
                        yield {**article, "watchlist": hit["watchlist"], "term": hit["term"], "alias": hit["alias"],
                               "matched": hit["matched"], "field": hit["field"], "snippet": hit["snippet"],
                               "rule_version": hit["version"], "position": hit["start"]}
    log.info("exported %d hits of %d articles", hits, articles)


# -- search ----------------------------------------------------------------------------------------


def search_rows(wh: Warehouse, query: Query, flt: search.SearchFilter, *, sort: str = "time",
                batch: int = SEARCH_STREAM_BATCH) -> Iterator[dict[str, Any]]:
    """Every article the search page lists for ``query`` and ``flt``, page after page, in its order: by time
    every match (newest first, the undated last); by relevance the ``RELEVANCE_POOL`` newest matches ranked,
    as the page ranks them. Each with its snippet and the words that matched."""
    backend = wh.backend
    exported = 0
    with wh.engine.connect() as conn:
        if sort == "relevance":
            statements = [search.relevance_query(backend, query, flt, limit=search.RELEVANCE_POOL)]
        else:
            # As the page does: with few matches PostgreSQL reads them from the text index and sorts them.
            few = conn.execute(search.count_query(backend, query, flt)).scalar_one() <= search.COUNT_CAP
            statements = [search.time_query(backend, query, flt, few=few).limit(None)]
            if not (flt.since or flt.until):
                statements.append(search.time_query(backend, query, flt, dated=False).limit(None))
        for statement in statements:
            for page in _streamed(conn, statement, batch):
                marked = {m["article_id"]: m for m in conn.execute(
                    search.snippets_query(backend, query, [a["article_id"] for a in page])).mappings()}
                for row in page:
                    exported += 1
                    yield {**_article(row), **_search_evidence(marked.get(row["article_id"], {})),
                           "score": row["score"] if sort == "relevance" else None}
    log.info("exported %d search results", exported)


def _search_evidence(marked: Mapping[Any, Any]) -> dict[str, Any]:
    """The plain snippet and the matched words; a field that itself carries a highlight marker counts no word."""
    title = "" if marked.get("title_has_markers") else marked.get("title") or ""
    snippet = marked.get("snippet") or ""
    words_in = title + ("" if marked.get("text_has_markers") else snippet)
    return {"snippet": search.plain(snippet), "matched_words": search.marked_words(words_in)}


# -- a digest as sent ------------------------------------------------------------------------------


def digest_rows(wh: Warehouse, subscription: str, day: date) -> Iterator[dict[str, Any]]:
    """The items of one digest as composed (``digest_entries``), by watchlist and rank: one row per item and
    term, with the words that matched as the digest showed them. Nothing when there is no such digest."""
    d, e, a = s.digests, s.digest_entries, s.articles
    with wh.engine.connect() as conn:
        digest = conn.execute(sa.select(d.c.window_start, d.c.window_end, d.c.timezone, d.c.versions)
                              .where(d.c.subscription == subscription, d.c.digest_date == day)).mappings().first()
        if digest is None:
            return
        window = aware_row(digest)
        versions = dict((window["versions"] or {}).get("watchlists") or {})
        head = {"digest_date": day, "subscription": subscription, "window_start": window["window_start"],
                "window_end": window["window_end"], "window_timezone": window["timezone"]}
        entries = (sa.select(e, a.c.regions).outerjoin(a, a.c.article_id == e.c.article_id)
                   .where(e.c.subscription == subscription, e.c.digest_date == day)
                   .order_by(e.c.watchlist, e.c.rank, e.c.article_id))
        for page in _streamed(conn, entries, STREAM_BATCH):
            for entry in page:
                item = _article(entry)
                for term in entry["terms"] or ():
                    yield {**head, "rank": entry["rank"], **item, "watchlist": entry["watchlist"],
                           "term": term.get("term"), "alias": term.get("alias"), "matched": term.get("matched"),
                           "field": term.get("field"), "snippet": term.get("snippet"),
                           "rule_version": versions.get(entry["watchlist"]), "late": entry["late"],
                           "in_focus": entry["in_regions"]}
