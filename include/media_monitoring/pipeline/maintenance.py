"""Operator work on what is stored: release quarantined articles, re-tag the archive with changed
watchlists. Neither fetches anything: both work from the warehouse's own rows."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from media_monitoring.curation.watchlists import in_force as watchlists_in_force
from media_monitoring.pipeline.crosslingual import join_across_languages
from media_monitoring.pipeline.plan import load_outlets
from media_monitoring.pipeline.process import fold_exact_duplicates, tag_records
from media_monitoring.pipeline.stories import assign_stories
from media_monitoring.records import StagedArticle
from media_monitoring.settings import Settings
from media_monitoring.warehouse import Warehouse
from media_monitoring.warehouse import articles as article_store

log = logging.getLogger(__name__)

RETAG_CHUNK = 1000  # articles per transaction when re-tagging the archive


def release(article_ids: list[str], *, settings: Settings, warehouse: Warehouse, force: bool,
            now: datetime) -> dict[str, list[str]]:
    """Re-validate quarantined articles from their stored records (no refetch) and store those that pass.

    With ``force`` an operator stores them without validating them again (even if they would still fail).
    """
    from media_monitoring.quality.validate import validate_batch
    from media_monitoring.tagging import Tagger

    held = article_store.held_records(warehouse)
    unknown = [i for i in article_ids if i not in held]
    records = [held[i] for i in article_ids if i in held]
    passing: list[StagedArticle]
    if force:  # stored whatever the suites say (a broken suite does not stop an operator's release)
        passing, failing = records, []
    else:
        languages = {o.id: list(o.languages) for o in load_outlets(settings).outlets}
        outcome = validate_batch(records, run_time=now, outlet_languages=languages)
        passing, failing = outcome.accepted, [q.record.article_id for q in outcome.quarantined]
    tagger = Tagger(watchlists_in_force(settings, warehouse), settings.regions_file)
    articles = tag_records(tagger, passing, run_id=f"release__{now.isoformat()}", stored_at=now)
    articles = fold_exact_duplicates(warehouse, articles)
    article_store.store_batch(warehouse, "release", articles)
    assign_stories(warehouse, articles)
    join_across_languages(warehouse, articles)
    for record in passing:
        article_store.release(warehouse, record.article_id, now)
    log.info("released %d articles; %d still failing; %d unknown", len(passing), len(failing), len(unknown))
    return {"released": [r.article_id for r in passing], "still_failing": failing, "unknown": unknown}


def retag(*, settings: Settings, warehouse: Warehouse, watchlists: tuple[str, ...] | None, start: datetime,
          end: datetime) -> dict[str, Any]:
    """Re-run watchlist matching over stored articles published in [start, end).

    Idempotent: each chunk's hits for the chosen watchlists are replaced in one transaction, so a rerun
    leaves the same rows and an analyst sees what a changed watchlist would have caught.
    """
    from media_monitoring.tagging.watchlists import WatchlistMatcher

    available = {w.name: w for w in watchlists_in_force(settings, warehouse).watchlists}
    chosen = tuple(available) if not watchlists else watchlists
    unknown = sorted(set(chosen) - set(available))
    if unknown:
        raise ValueError(f"unknown watchlist(s) {unknown}; the watchlists in force are {sorted(available)}")
    matcher = WatchlistMatcher(tuple(available[n] for n in chosen))
    articles = hits = tagged = 0
    after = ""
    while True:
        page = article_store.articles_page(warehouse, start, end, after, RETAG_CHUNK)
        if not page:
            break
        rows: list[dict[str, Any]] = []
        for article in page:
            found = matcher.match(article["title"] or "", article["text"] or "")
            tagged += bool(found)
            rows.extend(h.as_row(article["article_id"]) for h in found)
        article_store.replace_hits(warehouse, [a["article_id"] for a in page], chosen, rows)
        articles += len(page)
        hits += len(rows)
        after = page[-1]["article_id"]
        log.info("re-tagged %d articles so far (%d hits)", articles, hits)
    versions = {n: available[n].version for n in chosen}
    log.info("re-tagged %d articles published %s to %s with %s: %d hits in %d articles",
             articles, start.date(), end.date(), versions, hits, tagged)
    return {"articles": articles, "hits": hits, "tagged_articles": tagged, "versions": versions}
