"""The stages the DAGs and the CLI run: plan, collect (per outlet batch) and process (per run).

``collect`` is I/O-bound and runs mapped over outlet batches: it polls feeds, fetches new pages,
extracts them and stages the records in the warehouse keyed by run id. ``process`` runs once per run
over everything staged: validation (Great Expectations, imported once), tagging, and the upserts.
XCom between them carries only counts.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from media_monitoring.config import Outlet, Registry, load_registry
from media_monitoring.extract import extract_article
from media_monitoring.feeds import FeedEntry, FeedParseError, parse_feed
from media_monitoring.net import (
    FEED_CONTENT_TYPES,
    MAX_FEED_BYTES,
    MAX_PAGE_BYTES,
    PAGE_CONTENT_TYPES,
    FetchError,
    HttpClient,
)
from media_monitoring.settings import Settings
from media_monitoring.urls import url_key
from media_monitoring.warehouse import Warehouse

log = logging.getLogger(__name__)

OUTLET_THREADS = 8  # outlets polled at once inside one task; each outlet fetches its pages in turn
FEED_ACCEPT = "application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.1"
PAGE_ACCEPT = "text/html, application/xhtml+xml;q=0.9, */*;q=0.1"
# Page failures worth retrying on a later run, and the first wait; it doubles per attempt.
TRANSIENT_ERRORS = frozenset({"timeout", "connect", "dns", "server_error", "rate_limited", "protocol"})
RETRY_FIRST_WAIT = timedelta(minutes=30)
RETRY_MAX_WAIT = timedelta(days=1)
MAX_ATTEMPTS = 8  # then the failure stays recorded as permanent


def open_warehouse(settings: Settings, url: str | None = None) -> Warehouse:
    """The warehouse at ``url``, else the configured one, else the embedded default."""
    return Warehouse.connect(url or settings.warehouse_url or settings.default_warehouse_url)


def load_outlets(settings: Settings) -> Registry:
    return load_registry(settings.outlets_file, settings.replay_base)


def plan_batches(registry: Registry, outlets_per_batch: int) -> list[list[str]]:
    """Outlet ids in batches, one mapped collect task per batch."""
    ids = [o.id for o in registry.outlets]
    size = max(1, outlets_per_batch)
    return [ids[i:i + size] for i in range(0, len(ids), size)]


@dataclass
class OutletReport:
    outlet_id: str
    status: str = "ok"  # ok, not_modified, unchanged, failed
    entries: int = 0
    new: int = 0
    staged: int = 0
    already_stored: int = 0
    page_failures: int = 0
    error_class: str | None = None
    error: str | None = None


@dataclass
class CollectReport:
    outlets: list[OutletReport] = field(default_factory=list)

    def totals(self) -> dict[str, Any]:
        return {
            "outlets": len(self.outlets),
            "outlets_failed": sum(o.status == "failed" for o in self.outlets),
            "entries": sum(o.entries for o in self.outlets),
            "staged": sum(o.staged for o in self.outlets),
            "already_stored": sum(o.already_stored for o in self.outlets),
            "page_failures": sum(o.page_failures for o in self.outlets),
            "by_outlet": {o.outlet_id: asdict(o) for o in self.outlets},
        }


@contextmanager
def _client(settings: Settings, outlets: list[Outlet]) -> Iterator[HttpClient]:
    from urllib.parse import urlsplit

    allowed = {urlsplit(o.feed_url).hostname or "" for o in outlets if o.allow_private}
    with HttpClient(settings.user_agent, allow_private_hosts=allowed) as client:
        yield client


def collect(outlet_ids: list[str], *, run_id: str, settings: Settings, warehouse: Warehouse) -> CollectReport:
    """Poll the given outlets' feeds and stage every new article for ``run_id``.

    One outlet's failure is recorded in its health row and never stops the others.
    """
    registry = load_outlets(settings).by_id()
    unknown = [i for i in outlet_ids if i not in registry]
    if unknown:
        log.error("outlets %s are not in %s; skipped", unknown, settings.outlets_file)
    outlets = [registry[i] for i in outlet_ids if i in registry]
    report = CollectReport()
    with _client(settings, outlets) as client, ThreadPoolExecutor(max_workers=OUTLET_THREADS) as pool:
        futures = [pool.submit(_collect_outlet_safely, o, client, warehouse, run_id) for o in outlets]
        report.outlets = [f.result() for f in futures]
    t = report.totals()
    log.info("collected %d outlets (%d failed): %d feed entries, %d staged, %d already stored, %d page failures",
             t["outlets"], t["outlets_failed"], t["entries"], t["staged"], t["already_stored"], t["page_failures"])
    return report


def _collect_outlet_safely(outlet: Outlet, client: HttpClient, wh: Warehouse, run_id: str) -> OutletReport:
    try:
        return collect_outlet(outlet, client, wh, run_id)
    except Exception as exc:  # an outlet's bug must not fail its batch
        log.exception("outlet %s: unexpected failure", outlet.id)
        _save_health(wh, outlet, ok=False, error_class="internal", error=f"{type(exc).__name__}: {exc}")
        return OutletReport(outlet.id, status="failed", error_class="internal", error=str(exc))


def collect_outlet(outlet: Outlet, client: HttpClient, wh: Warehouse, run_id: str) -> OutletReport:
    report = OutletReport(outlet.id)
    state = wh.feed_state(outlet.id) or {}
    try:
        result = client.get(outlet.feed_url, max_bytes=MAX_FEED_BYTES, accept=FEED_ACCEPT,
                            content_types=FEED_CONTENT_TYPES, etag=state.get("etag"),
                            last_modified=state.get("last_modified"))
    except FetchError as exc:
        log.warning("outlet %s: feed %s failed: %s", outlet.id, outlet.feed_url, exc)
        _save_health(wh, outlet, ok=False, error_class=exc.error_class, error=exc.message, status=exc.status,
                     state=state)
        return OutletReport(outlet.id, status="failed", error_class=exc.error_class, error=exc.message)

    retries = [FeedEntry(**_entry_from_json(e)) for e in wh.due_retries(outlet.id, datetime.now(UTC))]
    body_hash = hashlib.sha256(result.body).hexdigest() if not result.not_modified else state.get("body_hash")
    if result.not_modified or body_hash == state.get("body_hash"):
        report.status = "not_modified" if result.not_modified else "unchanged"
        log.info("outlet %s: feed %s (%d due retries)", outlet.id, report.status.replace("_", " "), len(retries))
        entries: list[FeedEntry] = []
    else:
        try:
            entries = parse_feed(result.body, result.url)
        except FeedParseError as exc:
            log.warning("outlet %s: %s is not a feed: %s", outlet.id, result.url, exc)
            _save_health(wh, outlet, ok=False, error_class="not_a_feed", error=str(exc), status=result.status,
                         state=state)
            return OutletReport(outlet.id, status="failed", error_class="not_a_feed", error=str(exc))
    report.entries = len(entries)
    staged = _fetch_new(outlet, client, wh, run_id, entries + retries, report)
    wh.stage(run_id, outlet.id, staged)
    report.staged = len(staged)
    _save_health(wh, outlet, ok=True, status=result.status, state=state, etag=result.etag,
                 last_modified=result.last_modified, body_hash=body_hash, entries=len(entries),
                 new=len(staged))
    log.info("outlet %s: %d entries, %d new staged, %d already stored, %d page failures",
             outlet.id, report.entries, report.staged, report.already_stored, report.page_failures)
    return report


def _fetch_new(outlet: Outlet, client: HttpClient, wh: Warehouse, run_id: str, entries: list[FeedEntry],
               report: OutletReport) -> list[dict[str, Any]]:
    by_id: dict[str, FeedEntry] = {}
    for entry in entries:
        by_id.setdefault(url_key(entry.canonical_url), entry)
    known = wh.known_ids(by_id)
    staged: dict[str, dict[str, Any]] = {}
    for article_id, entry in by_id.items():
        source = _source(outlet, entry)
        if article_id in known:
            report.already_stored += 1
            wh.add_sources(article_id, [source])
            continue
        report.new += 1
        try:
            page = client.get(entry.link, max_bytes=MAX_PAGE_BYTES, accept=PAGE_ACCEPT,
                              content_types=PAGE_CONTENT_TYPES)
        except FetchError as exc:
            report.page_failures += 1
            _record_page_failure(wh, outlet, article_id, entry, exc)
            continue
        extracted = extract_article(page.body, page.url, feed_title=entry.title, feed_published=entry.published)
        final_id = url_key(extracted.canonical_url)
        if final_id != article_id and (final_id in staged or wh.known_ids([final_id])):
            report.already_stored += 1  # the page's canonical URL names an article we have
            wh.add_sources(final_id, [source])
            continue
        record = staged.get(final_id)
        if record is not None:
            record["sources"].append(source)
            continue
        staged[final_id] = {
            "article_id": final_id,
            "canonical_url": extracted.canonical_url,
            "url": page.url,
            "outlet_id": outlet.id,
            "outlet_country": outlet.country,
            "title": extracted.title,
            "author": extracted.author,
            "published_at": extracted.published.isoformat() if extracted.published else None,
            "date_source": extracted.date_source,
            "language": extracted.language,
            "language_source": extracted.language_source,
            "text": extracted.text,
            "word_count": extracted.word_count,
            "sitename": extracted.sitename,
            "sources": [source],
            "fetched_at": datetime.now(UTC).isoformat(),
            "run_id": run_id,
        }
    return list(staged.values())


def _source(outlet: Outlet, entry: FeedEntry) -> dict[str, Any]:
    return {"outlet_id": outlet.id, "feed_url": outlet.feed_url, "entry_id": entry.entry_id, "link": entry.link}


def _entry_to_json(entry: FeedEntry) -> dict[str, Any]:
    data = asdict(entry)
    data["published"] = entry.published.isoformat() if entry.published else None
    return data


def _entry_from_json(data: dict[str, Any]) -> dict[str, Any]:
    data = dict(data)
    data["published"] = datetime.fromisoformat(data["published"]) if data.get("published") else None
    return data


def _record_page_failure(wh: Warehouse, outlet: Outlet, article_id: str, entry: FeedEntry, exc: FetchError) -> None:
    now = datetime.now(UTC)
    prior = wh.fetch_attempts(article_id)
    transient = exc.error_class in TRANSIENT_ERRORS and prior + 1 < MAX_ATTEMPTS
    wait = min(RETRY_FIRST_WAIT * (2 ** prior), RETRY_MAX_WAIT)
    if exc.retry_after:
        wait = max(wait, timedelta(seconds=exc.retry_after))
    log.warning("outlet %s: page %s failed (%s); %s", outlet.id, entry.link, exc.message,
                f"retry after {now + wait:%Y-%m-%d %H:%M} UTC" if transient else "not retried")
    wh.record_fetch_failure({
        "article_id": article_id, "url": entry.link, "outlet_id": outlet.id, "error_class": exc.error_class,
        "message": exc.message, "http_status": exc.status, "entry": _entry_to_json(entry),
        "last_attempt_at": now, "next_retry_at": now + wait if transient else None,
    })


def _save_health(wh: Warehouse, outlet: Outlet, *, ok: bool, state: dict[str, Any] | None = None,
                 status: int | None = None, error_class: str | None = None, error: str | None = None,
                 etag: str | None = None, last_modified: str | None = None, body_hash: str | None = None,
                 entries: int = 0, new: int = 0) -> None:
    state = state if state is not None else (wh.feed_state(outlet.id) or {})
    now = datetime.now(UTC)
    row = {
        "outlet_id": outlet.id,
        "feed_url": outlet.feed_url,
        "last_attempt_at": now,
        "last_success_at": now if ok else state.get("last_success_at"),
        "last_new_item_at": now if new else state.get("last_new_item_at"),
        "http_status": status,
        "error_class": None if ok else error_class,
        "error_message": None if ok else error,
        "consecutive_failures": 0 if ok else (state.get("consecutive_failures") or 0) + 1,
        "entries_seen": entries if ok else (state.get("entries_seen") or 0),
        "new_items": new,
        "etag": etag if ok else state.get("etag"),
        "last_modified": last_modified if ok else state.get("last_modified"),
        "body_hash": body_hash if ok else state.get("body_hash"),
        "next_poll_at": None,
    }
    wh.save_feed_state(row)


@dataclass
class ProcessReport:
    staged: int = 0
    stored: int = 0
    quarantined: int = 0
    hits: int = 0
    tagged_articles: int = 0
    by_expectation: dict[str, int] = field(default_factory=dict)


def process(run_id: str, *, settings: Settings, warehouse: Warehouse, run_time: datetime) -> ProcessReport:
    """Validate, tag and store everything staged for ``run_id``; clears the staging rows."""
    from media_monitoring.quality.validate import SUITE, validate_batch
    from media_monitoring.tagging import Tagger

    records = warehouse.staged(run_id)
    report = ProcessReport(staged=len(records))
    registry = load_outlets(settings)
    languages = {o.id: list(o.languages) for o in registry.outlets}
    outcome = validate_batch(records, run_time=run_time, outlet_languages=languages)
    tagger = Tagger(settings.watchlists_file, settings.regions_file)
    articles, hits, places = tag_records(tagger, outcome.accepted, run_id)
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
    warehouse.commit_batch(run_id, articles, hits, places, quarantined, validation)
    report.stored, report.quarantined, report.hits = len(articles), len(quarantined), len(hits)
    report.tagged_articles = len({h["article_id"] for h in hits})
    report.by_expectation = outcome.by_expectation
    log.info("run %s: %d staged, %d stored, %d quarantined, %d watchlist hits in %d articles",
             run_id, report.staged, report.stored, report.quarantined, report.hits, report.tagged_articles)
    return report


def tag_records(tagger: Any, records: list[dict[str, Any]], run_id: str
                ) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """Tag validated records into article, hit and place rows for the warehouse."""
    articles, hits, places = [], [], []
    for r in records:
        tags = tagger.tag(r.get("title"), r.get("text"))
        articles.append({
            "article_id": r["article_id"], "canonical_url": r["canonical_url"], "url": r["url"],
            "outlet_id": r["outlet_id"], "outlet_country": r.get("outlet_country"), "title": r.get("title"),
            "author": r.get("author"),
            "published_at": datetime.fromisoformat(r["published_at"]) if r.get("published_at") else None,
            "date_source": r.get("date_source"), "language": r.get("language"),
            "language_source": r.get("language_source"), "text": r.get("text") or "",
            "word_count": r.get("word_count") or 0, "sources": r.get("sources") or [],
            "countries": [c.code for c in tags.countries], "regions": [g.code for g in tags.regions],
            "primary_country": tags.primary_country, "primary_region": tags.primary_region,
            "first_run_id": r.get("run_id") or run_id,
            "fetched_at": datetime.fromisoformat(r["fetched_at"]) if r.get("fetched_at") else None,
        })
        for h in tags.watchlist_hits:
            hits.append({"article_id": r["article_id"], "watchlist": h.watchlist, "term": h.term,
                         "field": h.field, "start": h.start, "end": h.end, "alias": h.alias,
                         "matched": h.matched, "snippet": h.snippet, "version": h.version})
        for tag in tags.countries + tags.regions:
            places.append({"article_id": r["article_id"], "kind": tag.kind, "code": tag.code, "name": tag.name,
                           "mentions": tag.mentions, "evidence": tag.evidence})
    return articles, hits, places


def release(article_ids: list[str], *, settings: Settings, warehouse: Warehouse, force: bool,
            now: datetime) -> dict[str, list[str]]:
    """Re-validate quarantined articles from their stored records (no refetch) and store those that pass.

    With ``force`` an operator stores them even if they still fail.
    """
    from media_monitoring.quality.validate import validate_batch
    from media_monitoring.tagging import Tagger

    rows = {r["article_id"]: r for r in warehouse.quarantined(include_released=False)}
    unknown = [i for i in article_ids if i not in rows]
    records = [rows[i]["record"] for i in article_ids if i in rows]
    languages = {o.id: list(o.languages) for o in load_outlets(settings).outlets}
    outcome = validate_batch(records, run_time=now, outlet_languages=languages)
    passing = records if force else outcome.accepted
    failing = [] if force else [q["record"]["article_id"] for q in outcome.quarantined]
    tagger = Tagger(settings.watchlists_file, settings.regions_file)
    articles, hits, places = tag_records(tagger, passing, run_id=f"release__{now.isoformat()}")
    warehouse.commit_batch("release", articles, hits, places, [], None)
    for record in passing:
        warehouse.release(record["article_id"], now)
    log.info("released %d articles; %d still failing; %d unknown", len(passing), len(failing), len(unknown))
    return {"released": [r["article_id"] for r in passing], "still_failing": failing, "unknown": unknown}
