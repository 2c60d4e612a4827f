"""Stories across languages: reports of one event in different languages join one story.

MinHash compares words, so an English report and a Russian one of the same statement never share a story
through it. What survives translation are the tags: the countries an article refers to, the watchlist terms it
matched (named in English whatever the script) and the places below a country (GeoNames ids). A new article that
MinHash left alone in its story is compared on these anchors with the stored articles in other languages
published within ANCHOR_WINDOW that are about one of the countries it is about; it joins the story of the closest
one when their anchors overlap enough (MIN_SHARED anchors and a Jaccard index of MIN_JACCARD or more). Same-day articles
on the same subject that report different events share a few anchors (Afghanistan, Russia, Lavrov) but rarely
the rest: the countries listed, the places, the other terms.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from datetime import timedelta
from typing import Any

from media_monitoring.records import Article
from media_monitoring.warehouse import Warehouse

log = logging.getLogger(__name__)

ANCHOR_WINDOW = timedelta(hours=24)
MIN_SHARED = 6
MIN_JACCARD = 0.7


def anchors(countries: Iterable[str], terms: Iterable[str], places: Iterable[str]) -> frozenset[str]:
    """The article's anchors, one namespace per kind ("country:TJ", "term:CSTO", "place:1221874")."""
    return frozenset([*(f"country:{c}" for c in countries), *(f"term:{t}" for t in terms),
                      *(f"place:{p}" for p in places)])


def closeness(a: frozenset[str], b: frozenset[str]) -> tuple[int, float]:
    """(shared anchors, Jaccard index) of two anchor sets."""
    shared = len(a & b)
    return shared, shared / len(a | b) if a or b else 0.0


def close_enough(shared: int, jaccard: float) -> bool:
    return shared >= MIN_SHARED and jaccard >= MIN_JACCARD


def closest(own: frozenset[str], reports: Iterable[tuple[frozenset[str], Any]]) -> tuple[int, float, Any] | None:
    """The report (anchors, what it is) closest to ``own`` among those close enough: (shared, Jaccard, what),
    or None. Ties: the higher Jaccard, then more shared anchors, then the first given."""
    best: tuple[int, float, Any] | None = None
    for theirs, what in reports:
        shared, jaccard = closeness(own, theirs)
        if close_enough(shared, jaccard) and (best is None or (jaccard, shared) > (best[1], best[0])):
            best = (shared, jaccard, what)
    return best


def join_across_languages(wh: Warehouse, articles: Sequence[Article]) -> int:
    """Move each new article that is alone in its story into the story of its closest report in another
    language, if close enough (see the module docstring); returns how many moved. Runs under the story
    placement lock, after :func:`~media_monitoring.pipeline.stories.assign_stories`."""
    from media_monitoring.tagging.stories import StoryArticle, summarise
    from media_monitoring.warehouse import crosslingual as reports
    from media_monitoring.warehouse import stories as store

    new = [a for a in articles if a.focus_countries and a.language and a.published_at]
    if not new:
        return 0
    moved = 0
    with store.placement(wh) as conn:
        for article in sorted(new, key=lambda a: (a.published_at, a.article_id)):
            own = anchors(article.countries, {h.term for h in article.hits},
                          [p.code for p in article.places if p.kind == "place"])
            story = reports.story_of(conn, article.article_id)
            if story is None or story["size"] != 1:
                continue  # grouped already (MinHash), or not placed
            assert article.published_at is not None
            rows = reports.other_language_reports(conn, article.article_id, article.language or "",
                                                  article.focus_countries, article.published_at - ANCHOR_WINDOW,
                                                  article.published_at + ANCHOR_WINDOW)
            best = closest(own, ((anchors(r["countries"], r["terms"], r["places"]), r) for r in rows))
            if best is None:
                continue
            shared, jaccard, match = best
            # Of two reports each alone in its story, the later joins the earlier's: a story's id is its first
            # article's.
            other = reports.story_of(conn, match["article_id"])
            if other is not None and other["size"] == 1 and match["published_at"] > article.published_at:
                mover, old, target, through = match["article_id"], match["story_id"], story["story_id"], \
                    article.article_id
            else:
                mover, old, target, through = article.article_id, story["story_id"], match["story_id"], \
                    match["article_id"]
            reports.move_to_story(conn, mover, old, target, matched=through, similarity=round(jaccard, 3))
            rows = store.members(conn, [target])
            first = min(rows, key=lambda r: (r["published_at"], r["article_id"]))
            summary = summarise([StoryArticle.from_row(r) for r in rows], target)
            store.save_summaries(wh, conn, [{**summary.to_row(), "title": first["title"]}])
            moved += 1
            log.info("%s (%s) and %s (%s) are one story, %s: %d shared anchors, Jaccard %.2f", article.article_id,
                     article.language, match["article_id"], match["language"], target, shared, jaccard)
    if moved:
        log.info("%d articles joined a story in another language", moved)
    return moved
