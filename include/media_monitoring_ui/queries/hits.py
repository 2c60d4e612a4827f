"""The watchlist hits page: a page of articles with hits, newest first, each with its terms, mentions and a
snippet. The statements (filters, keyset order, their indexes) are the product's: ``warehouse/hits.py``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from media_monitoring.warehouse.hits import (
    HitFilter,
    hit_articles_query,
    hits_of_articles_query,
    undated_hit_articles_query,
)
from media_monitoring_ui.cursors import DEFAULT_PAGE_SIZE, HitCursor, aware, clamp_page_size

if TYPE_CHECKING:
    from media_monitoring.warehouse import Warehouse

MAX_FORMS_SHOWN = 6  # distinct matched surface forms listed per term


@dataclass
class HitPage:
    articles: list[dict[str, Any]] = field(default_factory=list)
    next_cursor: HitCursor | None = None


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
