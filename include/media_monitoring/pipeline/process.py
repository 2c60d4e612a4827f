"""The process stage, once per run over everything staged: validate, quarantine, tag, fold exact duplicates,
store, place in stories, and record each outlet's batch quality.

Validation (Great Expectations, imported once) and tagging run here rather than in the mapped collect
tasks because they are CPU-bound and costly to start. Process is also where stored articles change: the
sources collect staged for articles already stored are added to them here. XCom carries only counts.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from media_monitoring.config import Registry
from media_monitoring.pipeline.collect import title_key
from media_monitoring.pipeline.plan import load_outlets
from media_monitoring.pipeline.stories import assign_stories
from media_monitoring.scheduling import health_status
from media_monitoring.settings import Settings
from media_monitoring.warehouse import Warehouse
from media_monitoring.warehouse import articles as article_store
from media_monitoring.warehouse import feeds as feed_store
from media_monitoring.warehouse import quality as quality_store

log = logging.getLogger(__name__)

MIN_WORDS_TO_FOLD = 20  # shorter texts are too alike by chance to call one a copy of another


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
    from media_monitoring.quality.validate import SUITE, validate_batch
    from media_monitoring.tagging import Tagger

    changed = article_store.add_staged_sources(warehouse)
    if changed:
        log.info("run %s: new feed entries recorded as sources of %d stored articles", run_id, changed)
    tagger = Tagger(settings.watchlists_file, settings.regions_file)
    records = article_store.staged(warehouse)
    report = ProcessReport(staged=len(records))
    registry = load_outlets(settings)
    languages = {o.id: list(o.languages) for o in registry.outlets}
    outcome = validate_batch(records, run_time=run_time, outlet_languages=languages)
    articles, hits, places = tag_records(tagger, outcome.accepted, run_id, stored_at=run_time)
    quarantined = [
        {
            "article_id": q["record"]["article_id"], "canonical_url": q["record"]["canonical_url"],
            "url": q["record"]["url"], "outlet_id": q["record"]["outlet_id"], "run_id": run_id,
            "failed_expectations": q["failed"], "observed": q["observed"], "record": q["record"],
            "quarantined_at": run_time,
        }
        for q in outcome.quarantined
    ]
    for q in quarantined:
        log.warning("quarantined %s (%s): failed %s, observed %s", q["url"], q["outlet_id"],
                    ", ".join(q["failed_expectations"]), q["observed"])
    validation = {
        "run_id": run_id, "suite": f"{SUITE} {outcome.suite_version}", "evaluated": len(records),
        "accepted": len(outcome.accepted), "quarantined": len(quarantined),
        "by_expectation": outcome.by_expectation, "validated_at": run_time,
    } if records else None
    articles, hits, places = fold_exact_duplicates(warehouse, articles, hits, places)
    article_store.commit_batch(warehouse, run_id, articles, hits, places, quarantined, validation,
                               processed=[(r["run_id"], r["article_id"]) for r in records],
                               entry_ids=[i for r in records for i in r.get("entry_ids", ())])
    assign_stories(warehouse, articles)
    _record_quality(warehouse, registry, run_id, run_time, outcome.outlets)
    report.stored, report.quarantined, report.hits = len(articles), len(quarantined), len(hits)
    report.tagged_articles = len({h["article_id"] for h in hits})
    report.by_expectation = outcome.by_expectation
    log.info("run %s: %d staged, %d stored, %d quarantined, %d watchlist hits in %d articles",
             run_id, report.staged, report.stored, report.quarantined, report.hits, report.tagged_articles)
    return report


def _record_quality(wh: Warehouse, registry: Registry, run_id: str, run_time: datetime,
                    outlets: dict[str, dict[str, Any]]) -> None:
    """Store each outlet's batch quality, detect drift against its history, flag it in feed health."""
    from media_monitoring.quality.drift import detect_drift

    rows = []
    by_id = registry.by_id()
    for outlet_id, stats in outlets.items():
        drift = detect_drift(stats, quality_store.outlet_quality_history(wh, outlet_id, run_time))
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


def fold_exact_duplicates(wh: Warehouse, articles: list[dict[str, Any]], hits: list[dict[str, Any]],
                          places: list[dict[str, Any]]
                          ) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """Exact duplicates (the same text under another URL: syndicated agency copy) are one article: the
    copy's feed entries become sources of the article first stored, and the copy is not stored again."""
    foldable = [a for a in articles if a["word_count"] >= MIN_WORDS_TO_FOLD]
    stored = article_store.ids_by_text_hash(wh, (a["text_hash"] for a in foldable))
    keep: dict[str, dict[str, Any]] = {}
    dropped: set[str] = set()
    for article in sorted(foldable, key=lambda a: (a["published_at"] or datetime.max.replace(tzinfo=UTC),
                                                   a["article_id"])):
        original = stored.get(article["text_hash"])
        if original is None and article["text_hash"] in keep:
            keep[article["text_hash"]]["sources"].extend(article["sources"])
            dropped.add(article["article_id"])
        elif original is not None and original != article["article_id"]:
            article_store.add_sources(wh, original, article["sources"])
            dropped.add(article["article_id"])
        else:
            keep.setdefault(article["text_hash"], article)
    if dropped:
        log.info("folded %d exact duplicates into the articles they copy", len(dropped))
    return ([a for a in articles if a["article_id"] not in dropped],
            [h for h in hits if h["article_id"] not in dropped],
            [p for p in places if p["article_id"] not in dropped])


def _instant(value: str | None) -> datetime | None:
    """A stored ISO time as a UTC instant (the page's own offset is kept apart, in ``published_local``)."""
    if not value:
        return None
    parsed = datetime.fromisoformat(value)
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).astimezone(UTC)


def tag_records(tagger: Any, records: list[dict[str, Any]], run_id: str, *, stored_at: datetime
                ) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """Tag validated records into article, hit and place rows for the warehouse.

    ``stored_at`` is the storing run's time: from then on the article is due in the next digest of every
    subscription it matches (a warehouse row stored again keeps its first value).
    """
    from media_monitoring.tagging import signatures

    articles, hits, places = [], [], []
    for r in records:
        tags = tagger.tag(r.get("title"), r.get("text"))
        articles.append({
            "article_id": r["article_id"], "canonical_url": r["canonical_url"], "url": r["url"],
            "outlet_id": r["outlet_id"], "outlet_country": r.get("outlet_country"), "title": r.get("title"),
            "title_key": r.get("title_key") or title_key(r.get("title")),
            "author": r.get("author"),
            "published_at": _instant(r.get("published_at")), "published_local": r.get("published_at"),
            "date_source": r.get("date_source"), "language": r.get("language"),
            "language_source": r.get("language_source"), "text": r.get("text") or "",
            "word_count": r.get("word_count") or 0, "sources": r.get("sources") or [],
            "countries": [c.code for c in tags.countries], "regions": [g.code for g in tags.regions],
            "primary_country": tags.primary_country, "primary_region": tags.primary_region,
            "first_run_id": r.get("run_id") or run_id,
            "fetched_at": _instant(r.get("fetched_at")),
            "first_seen_at": _instant(r.get("first_seen_at") or r.get("fetched_at")) or stored_at,
            "stored_at": stored_at,
            "text_hash": signatures.text_hash(r.get("text")),
            "signature": signatures.pack_signature(signatures.sketch(r.get("title"), r.get("text"))),
            "signature_version": signatures.SIGNATURE_VERSION,
        })
        for h in tags.watchlist_hits:
            hits.append({"article_id": r["article_id"], "watchlist": h.watchlist, "term": h.term,
                         "field": h.field, "start": h.start, "end": h.end, "alias": h.alias,
                         "matched": h.matched, "snippet": h.snippet, "version": h.version})
        for tag in tags.countries + tags.regions:
            places.append({"article_id": r["article_id"], "kind": tag.kind, "code": tag.code, "name": tag.name,
                           "mentions": tag.mentions, "evidence": tag.evidence})
    return articles, hits, places
