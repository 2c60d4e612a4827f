"""The process stage, once per run over everything staged: validate, quarantine, tag, fold exact duplicates,
store, place in stories, and record each outlet's batch quality.

Validation (Great Expectations, imported once) and tagging run here rather than in the mapped collect
tasks because they are CPU-bound and costly to start. Process is also where stored articles change: the
sources collect staged for articles already stored are added to them here. XCom carries only counts.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from media_monitoring.config import Registry
from media_monitoring.pipeline.crosslingual import join_across_languages
from media_monitoring.pipeline.plan import load_outlets
from media_monitoring.pipeline.stories import assign_stories
from media_monitoring.records import Article, StagedArticle, utc
from media_monitoring.rules import MIN_WORDS_TO_FOLD
from media_monitoring.scheduling import health_status
from media_monitoring.settings import Settings
from media_monitoring.tagging.gist import english_line
from media_monitoring.text import title_key
from media_monitoring.warehouse import Warehouse
from media_monitoring.warehouse import articles as article_store
from media_monitoring.warehouse import feeds as feed_store
from media_monitoring.warehouse import quality as quality_store

if TYPE_CHECKING:
    from media_monitoring.tagging import Tagger

log = logging.getLogger(__name__)


@dataclass
class ProcessReport:
    staged: int = 0
    stored: int = 0
    quarantined: int = 0
    hits: int = 0
    tagged_articles: int = 0
    by_expectation: dict[str, int] = field(default_factory=dict)


def ingest_summary(collected: list[dict[str, Any]], report: ProcessReport) -> dict[str, Any]:
    """An ingest run's counts (the ``process`` task's return value and the pipeline state's summary), from
    the collect tasks' totals (one dict per mapped batch, :meth:`CollectReport.totals`) and the process
    report: outlets polled and feed entries seen across every batch, then what was stored."""
    return {"collected": sum(c["staged"] for c in collected),
            "outlets": sum(c["outlets"] for c in collected),
            "outlets_failed": sum(c.get("outlets_failed", 0) for c in collected),
            "entries": sum(c.get("entries", 0) for c in collected),
            "batches": len(collected), **asdict(report)}


def process(run_id: str, *, settings: Settings, warehouse: Warehouse, run_time: datetime) -> ProcessReport:
    """Validate, tag and store everything staged (by this run, or left by a failed earlier one)."""
    from media_monitoring.curation.watchlists import in_force as watchlists_in_force
    from media_monitoring.quality.validate import SUITE, validate_batch
    from media_monitoring.tagging import Tagger

    changed = article_store.add_staged_sources(warehouse)
    if changed:
        log.info("run %s: new feed entries recorded as sources of %d stored articles", run_id, changed)
    tagger = Tagger(watchlists_in_force(settings, warehouse), settings.regions_file)
    records = article_store.staged(warehouse)
    report = ProcessReport(staged=len(records))
    registry = load_outlets(settings)
    languages = {o.id: list(o.languages) for o in registry.outlets}
    outcome = validate_batch(records, run_time=run_time, outlet_languages=languages)
    articles = tag_records(tagger, outcome.accepted, run_id, stored_at=run_time)
    for q in outcome.quarantined:
        log.warning("quarantined %s (%s): failed %s, observed %s", q.record.url, q.record.outlet_id,
                    ", ".join(q.failed), q.observed)
    validation = {
        "run_id": run_id, "suite": f"{SUITE} {outcome.suite_version}", "evaluated": len(records),
        "accepted": len(outcome.accepted), "quarantined": len(outcome.quarantined),
        "by_expectation": outcome.by_expectation, "validated_at": run_time,
    } if records else None
    articles = fold_exact_duplicates(warehouse, articles)
    article_store.store_batch(warehouse, run_id, articles, quarantined=outcome.quarantined, quarantined_at=run_time,
                              validation=validation, processed=records)
    assign_stories(warehouse, articles)
    join_across_languages(warehouse, articles)
    _record_quality(warehouse, registry, run_id, run_time, outcome.outlets)
    report.stored, report.quarantined = len(articles), len(outcome.quarantined)
    report.hits = sum(len(a.hits) for a in articles)
    report.tagged_articles = sum(1 for a in articles if a.hits)
    report.by_expectation = outcome.by_expectation
    log.info("run %s: %d staged, %d stored, %d quarantined, %d watchlist hits in %d articles",
             run_id, report.staged, report.stored, report.quarantined, report.hits, report.tagged_articles)
    return report


def _record_quality(wh: Warehouse, registry: Registry, run_id: str, run_time: datetime,
                    outlets: dict[str, dict[str, Any]]) -> None:
    """Store each outlet's batch quality, detect drift against its history, flag it in feed health."""
    from media_monitoring.quality.drift import HISTORY_RUNS, detect_drift

    rows = []
    by_id = registry.by_id()
    for outlet_id, stats in outlets.items():
        drift = detect_drift(stats, quality_store.outlet_quality_history(wh, outlet_id, run_time, HISTORY_RUNS))
        rows.append({"run_id": run_id, "outlet_id": outlet_id, "articles": stats["articles"],
                     "short_share": stats["short_share"], "empty_share": stats["empty_share"],
                     "quarantined_share": stats["quarantined_share"], "duplicate_share": stats["duplicate_share"],
                     "failed_expectations": stats["failed"], "drift_reason": drift, "validated_at": run_time})
        state = feed_store.feed_state(wh, outlet_id)
        if state is not None and outlet_id in by_id and state.get("drift_reason") != drift:
            if drift:
                log.warning("outlet %s: %s", outlet_id, drift)
            # Only the drift and the status it gives: the rest of the row is the last poll's.
            at = state.get("last_attempt_at") or run_time
            status, reason = health_status({**state, "drift_reason": drift,
                                            "first_polled_at": state.get("first_polled_at") or at}, at)
            feed_store.set_drift(wh, outlet_id, drift, status, reason, state.get("last_attempt_at"))
    quality_store.record_outlet_quality(wh, rows)


def fold_exact_duplicates(wh: Warehouse, articles: Sequence[Article]) -> list[Article]:
    """Exact duplicates (the same text under another URL: syndicated agency copy) are one article: the
    copy's feed entries become sources of the article first stored, and the copy is not stored again."""
    foldable = [a for a in articles if a.word_count >= MIN_WORDS_TO_FOLD and a.text_hash]
    stored = article_store.ids_by_text_hash(wh, (a.text_hash for a in foldable if a.text_hash))
    keep: dict[str, Article] = {}  # text hash -> the article kept, with the sources of its copies
    dropped: set[str] = set()
    never = datetime.max.replace(tzinfo=UTC)
    for article in sorted(foldable, key=lambda a: (a.published_at or never, a.article_id)):
        text_hash = str(article.text_hash)
        original = stored.get(text_hash)
        if original is None and text_hash in keep:
            kept = keep[text_hash]
            keep[text_hash] = replace(kept, sources=kept.sources + article.sources)
            dropped.add(article.article_id)
        elif original is not None and original != article.article_id:
            article_store.add_sources(wh, original, article.sources)
            dropped.add(article.article_id)
        else:
            keep.setdefault(text_hash, article)
    if dropped:
        log.info("folded %d exact duplicates into the articles they copy", len(dropped))
    kept_by_id = {a.article_id: a for a in keep.values()}
    return [kept_by_id.get(a.article_id, a) for a in articles if a.article_id not in dropped]


def tag_records(tagger: Tagger, records: Sequence[StagedArticle], run_id: str, *, stored_at: datetime
                ) -> list[Article]:
    """Tag validated records into the articles to store, each with its watchlist hits and places.

    ``stored_at`` is the storing run's time: from then on the article is due in the next digest of every
    subscription it matches (a warehouse row stored again keeps its first value).
    """
    from media_monitoring.tagging import signatures

    articles = []
    for r in records:
        tags = tagger.tag(r.title, r.text, r.outlet_country)
        published = r.published_at
        first_seen = r.first_seen_at or r.fetched_at
        articles.append(Article(
            article_id=r.article_id, canonical_url=r.canonical_url, url=r.url, outlet_id=r.outlet_id,
            outlet_country=r.outlet_country, title=r.title, title_key=r.title_key or title_key(r.title),
            author=r.author, published_at=utc(published) if published else None, published_local=published,
            date_source=r.date_source, language=r.language, language_source=r.language_source, text=r.text,
            word_count=r.word_count, sources=r.sources,
            countries=tuple(c.code for c in tags.countries), regions=tuple(g.code for g in tags.regions),
            focus_countries=tuple(c.code for c in tags.focus_countries),
            focus_regions=tuple(g.code for g in tags.focus_regions),
            gist=english_line(r.language, tags.focus_countries, tags.places,
                              [h.term for h in tags.watchlist_hits]),
            primary_country=tags.primary_country, primary_region=tags.primary_region,
            first_run_id=r.run_id or run_id,
            fetched_at=utc(r.fetched_at) if r.fetched_at else None,
            first_seen_at=utc(first_seen) if first_seen else stored_at,
            stored_at=stored_at,
            text_hash=signatures.text_hash(r.text),
            signature=signatures.pack_signature(signatures.sketch(r.title, r.text)),
            signature_version=signatures.SIGNATURE_VERSION,
            hits=tuple(tags.watchlist_hits), places=(*tags.countries, *tags.regions, *tags.places),
        ))
    return articles
