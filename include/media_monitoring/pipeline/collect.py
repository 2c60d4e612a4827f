"""The collect stage, mapped over outlet batches: poll the feeds, fetch and extract the new pages, stage.

``collect`` is I/O-bound: it polls the feeds of its outlets (conditional GET, guards), fetches new pages
politely, extracts them in bounded worker processes and stages the records in the warehouse keyed by run
id. It writes only the staging rows, the page fetches that failed and the feeds' health (with each outlet's
boilerplate template); everything that changes stored articles is the process stage's. A feed entry that
leads to an article already stored is staged as a new source of that article, for process to add.

Nothing is lost: every feed entry seen ends as a stored article (or a source of one), a quarantined
article, a recorded fetch failure with its reason and next retry time, or (an entry without any http(s)
address) a count and a reason in the feed's health row.
"""

from __future__ import annotations

import hashlib
import logging
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from media_monitoring.boilerplate import OutletTemplate
from media_monitoring.config import Outlet
from media_monitoring.feeds import FeedParseError, FeedReading, HostileFeedError, read_feed
from media_monitoring.net import (
    CHALLENGE_RE,
    CHALLENGE_SNIFF_BYTES,
    FEED_CONTENT_TYPES,
    MAX_FEED_BYTES,
    MAX_PAGE_BYTES,
    PAGE_CONTENT_TYPES,
    FetchError,
    HttpClient,
)
from media_monitoring.pipeline.health import record_page_failure, save_failure, save_success
from media_monitoring.pipeline.plan import feed_host, host_limiter, load_outlets, polling_policy
from media_monitoring.politeness import HostLimiter, RobotsRules
from media_monitoring.records import FeedEntry, Source, StagedArticle
from media_monitoring.sandbox import BoundedExtractor, ExtractionFailed
from media_monitoring.scheduling import FULL_FETCH_EVERY, PollingPolicy
from media_monitoring.settings import Settings
from media_monitoring.text import title_key
from media_monitoring.urls import url_key
from media_monitoring.warehouse import Warehouse
from media_monitoring.warehouse import articles as article_store
from media_monitoring.warehouse import feeds as feed_store

if TYPE_CHECKING:
    from media_monitoring.extract import Extracted

log = logging.getLogger(__name__)

OUTLET_THREADS = 16  # default feeds polled at once in one task (registry fetch.threads overrides)
FEED_ACCEPT = ("application/rss+xml, application/atom+xml, application/feed+json, application/xml;q=0.9, "
               "text/xml;q=0.9, application/json;q=0.8, */*;q=0.1")
PAGE_ACCEPT = "text/html, application/xhtml+xml;q=0.9, */*;q=0.1"
TITLE_FOLD_WINDOW = timedelta(days=3)  # same outlet, same headline within 3 days: one article


@dataclass
class OutletReport:
    outlet_id: str
    status: str = "ok"  # ok, not_modified, unchanged, failed
    entries: int = 0
    new: int = 0
    staged: int = 0
    already_stored: int = 0
    folded: int = 0
    waiting_retry: int = 0
    page_failures: int = 0
    skipped: int = 0  # feed entries without a usable http(s) link
    skipped_reason: str | None = None
    charset_note: str | None = None
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
            "entries_skipped": sum(o.skipped for o in self.outlets),
            "staged": sum(o.staged for o in self.outlets),
            "already_stored": sum(o.already_stored for o in self.outlets),
            "folded": sum(o.folded for o in self.outlets),
            "page_failures": sum(o.page_failures for o in self.outlets),
            "by_outlet": {o.outlet_id: asdict(o) for o in self.outlets},
        }


@dataclass
class _Tools:
    """What one collect task shares across its outlet threads."""

    client: HttpClient
    limiter: HostLimiter
    robots: RobotsRules
    extractor: BoundedExtractor
    policy: PollingPolicy
    wh: Warehouse
    run_id: str
    priority_policy: PollingPolicy | None = None  # for outlets marked priority in the registry

    def policy_for(self, outlet: Outlet) -> PollingPolicy:
        return self.priority_policy if outlet.priority and self.priority_policy else self.policy


@dataclass
class _Found:
    """What one poll found in its feed entries: records to stage, and new sources of stored articles."""

    records: list[StagedArticle] = field(default_factory=list)
    sources: dict[str, list[Source]] = field(default_factory=lambda: defaultdict(list))


def collect(outlet_ids: list[str], *, run_id: str, settings: Settings, warehouse: Warehouse,
            extractor: BoundedExtractor | None = None) -> CollectReport:
    """Poll the given outlets' feeds and stage every new article for ``run_id``.

    One outlet's failure is recorded in its health row and never stops the others.
    """
    registry = load_outlets(settings)
    by_id = registry.by_id()
    unknown = [i for i in outlet_ids if i not in by_id]
    if unknown:
        log.error("outlets %s are not in %s; skipped", unknown, settings.outlets_file)
    outlets = [by_id[i] for i in outlet_ids if i in by_id]
    report = CollectReport()
    own_extractor = extractor is None
    extractor = extractor or BoundedExtractor()
    try:
        limits = registry.fetch
        # No allowance on the client itself: each request carries its own outlet's allowance only.
        with HttpClient(settings.user_agent, connect_timeout=limits.connect_timeout_s,
                        read_timeout=limits.read_timeout_s, deadline=limits.deadline_s) as client:
            limiter = host_limiter(registry)  # robots.txt requests keep the host's spacing and concurrency too
            tools = _Tools(client, limiter, RobotsRules(client, limiter), extractor, polling_policy(registry),
                           warehouse, run_id, priority_policy=polling_policy(registry, priority=True))
            with ThreadPoolExecutor(max_workers=limits.threads or OUTLET_THREADS) as pool:
                report.outlets = list(pool.map(lambda o: _collect_outlet_safely(o, tools), _interleave_hosts(outlets)))
    finally:
        if own_extractor:
            extractor.close()
    t = report.totals()
    log.info("collected %d outlets (%d failed): %d feed entries, %d staged, %d already stored, %d folded, "
             "%d page failures", t["outlets"], t["outlets_failed"], t["entries"], t["staged"],
             t["already_stored"], t["folded"], t["page_failures"])
    return report


def _interleave_hosts(outlets: list[Outlet]) -> list[Outlet]:
    """Round-robin over hosts, so threads waiting on one host's spacing never hold up the others."""
    by_host: dict[str, list[Outlet]] = defaultdict(list)
    for outlet in outlets:
        by_host[feed_host(outlet)].append(outlet)
    queues = list(by_host.values())
    order: list[Outlet] = []
    while queues:
        order.extend(q.pop(0) for q in queues)
        queues = [q for q in queues if q]
    return order


def allowance(outlet: Outlet) -> tuple[str, ...]:
    """Hosts this outlet's requests may resolve to private addresses: its own feed host, if allowed."""
    return (feed_host(outlet),) if outlet.allow_private else ()


def _collect_outlet_safely(outlet: Outlet, tools: _Tools) -> OutletReport:
    try:
        return collect_outlet(outlet, tools)
    except Exception as exc:  # an outlet's bug must not fail its batch
        log.exception("outlet %s: unexpected failure", outlet.id)
        save_failure(tools.wh, outlet, tools.policy_for(outlet), feed_store.feed_state(tools.wh, outlet.id) or {},
                     "internal", f"{type(exc).__name__}: {exc}", None, None)
        return OutletReport(outlet.id, status="failed", error_class="internal", error=str(exc))


def collect_outlet(outlet: Outlet, tools: _Tools) -> OutletReport:
    report = OutletReport(outlet.id)
    wh = tools.wh
    policy = tools.policy_for(outlet)
    state = feed_store.feed_state(wh, outlet.id) or {}
    trusted = state.get("validators_trusted", True) is not False
    full_fetch = not trusted or (state.get("polls_since_full") or 0) >= FULL_FETCH_EVERY or not state
    try:
        with tools.limiter.slot(outlet.feed_url):
            result = tools.client.get(
                outlet.feed_url, allow_private_hosts=allowance(outlet), max_bytes=MAX_FEED_BYTES,
                accept=FEED_ACCEPT, content_types=FEED_CONTENT_TYPES,
                etag=None if full_fetch else state.get("etag"),
                last_modified=None if full_fetch else state.get("last_modified"))
    except FetchError as exc:
        log.warning("outlet %s: feed %s failed: %s", outlet.id, outlet.feed_url, exc)
        save_failure(wh, outlet, policy, state, exc.error_class, exc.message, exc.status, exc.retry_after)
        return OutletReport(outlet.id, status="failed", error_class=exc.error_class, error=exc.message)

    body_hash = state.get("body_hash") if result.not_modified else hashlib.sha256(result.body).hexdigest()
    same_etag = bool(state.get("etag")) and result.etag == state.get("etag")
    same_date = not result.etag and bool(state.get("last_modified")) and result.last_modified == state.get(
        "last_modified")
    if not result.not_modified and state.get("body_hash") and body_hash != state["body_hash"] and (
            same_etag or same_date):
        trusted = False  # unchanged validator, changed body: this server's 304s cannot be believed
        log.warning("outlet %s: %s sent an unchanged %s for a changed feed; validators no longer used",
                    outlet.id, outlet.feed_url, "ETag" if same_etag else "Last-Modified")
    retries = feed_store.due_retries(wh, outlet.id, datetime.now(UTC))
    entries: list[FeedEntry] = []
    reading: FeedReading | None = None  # None: the feed was not parsed (304, or the same body)
    if result.not_modified or body_hash == state.get("body_hash"):
        report.status = "not_modified" if result.not_modified else "unchanged"
        log.info("outlet %s: feed %s; no parsing (%d due retries)", outlet.id, report.status.replace("_", " "),
                 len(retries))
    else:
        try:
            reading = read_feed(result.body, result.url, result.content_type)
        except HostileFeedError as exc:
            log.warning("outlet %s: %s refused: %s", outlet.id, result.url, exc)
            save_failure(wh, outlet, policy, state, exc.error_class, str(exc), result.status, None)
            return OutletReport(outlet.id, status="failed", error_class=exc.error_class, error=str(exc))
        except FeedParseError as exc:
            error_class = "challenge" if CHALLENGE_RE.search(result.body[:CHALLENGE_SNIFF_BYTES]) else "not_a_feed"
            log.warning("outlet %s: %s is not a feed (%s): %s", outlet.id, result.url, error_class, exc)
            save_failure(wh, outlet, policy, state, error_class, str(exc), result.status, None)
            return OutletReport(outlet.id, status="failed", error_class=error_class, error=str(exc))
        entries = reading.entries
        report.skipped, report.skipped_reason = reading.skipped_total, reading.skip_note
        report.charset_note = reading.charset_note
    report.entries = len(entries)
    stored_template = feed_store.outlet_template(wh, outlet.id) if entries or retries else None  # a 304 needs none
    template = OutletTemplate.from_json(stored_template) if stored_template else OutletTemplate(outlet.id)
    found = _fetch_new(outlet, tools, entries + retries, report, template) if entries or retries else _Found()
    if found.records:
        feed_store.save_outlet_template(wh, outlet.id, template.to_json(), datetime.now(UTC))
    article_store.stage(wh, tools.run_id, outlet.id, found.records, sources=found.sources)
    report.staged = len(found.records)
    save_success(wh, outlet, policy, state, result.status, result.etag or state.get("etag"),
                 result.last_modified or state.get("last_modified"), body_hash, trusted,
                 full_fetch, reading, len(found.records))
    log.info("outlet %s: %d entries (%d skipped), %d staged, %d already stored, %d folded, %d page failures",
             outlet.id, report.entries, report.skipped, report.staged, report.already_stored, report.folded,
             report.page_failures)
    return report


def _fetch_new(outlet: Outlet, tools: _Tools, entries: list[FeedEntry], report: OutletReport,
               template: OutletTemplate) -> _Found:
    """Fetch and extract the pages of the entries not seen before; an entry that leads to a stored article
    (its URL, its page's canonical URL, or the same headline of this outlet) becomes a source of it."""
    wh = tools.wh
    by_id: dict[str, FeedEntry] = {}
    for entry in entries:
        by_id.setdefault(url_key(entry.canonical_url), entry)
    known = article_store.known_ids(wh, by_id)
    # A page that failed is retried on its own schedule (due retries come in with the entries),
    # not every time its feed changes.
    waiting = feed_store.failures_not_due(wh, by_id, datetime.now(UTC))
    # when the pages retried now were first tried: extraction weighs the page's date against it
    tried_first = feed_store.first_attempts(wh, [i for i in by_id if i not in known and i not in waiting])
    found = _Found()
    staged: dict[str, StagedArticle] = {}
    staged_titles: dict[str, str] = {}
    for article_id, entry in by_id.items():
        source = _source(outlet, entry)
        if article_id in known:
            report.already_stored += 1
            found.sources[article_id].append(source)
            continue
        if article_id in waiting:
            report.waiting_retry += 1
            continue
        key = title_key(entry.title)
        when = entry.published or datetime.now(UTC)
        twin = staged_titles.get(key) if key else None
        twin = twin or (article_store.find_by_title(wh, outlet.id, key, when - TITLE_FOLD_WINDOW,
                                                    when + TITLE_FOLD_WINDOW) if key else None)
        if twin:
            report.folded += 1  # the same headline again (a re-post or a changed URL): keep one article
            if twin in staged:
                staged[twin] = replace(staged[twin], sources=(*staged[twin].sources, source))
            else:
                found.sources[twin].append(source)
            continue
        report.new += 1
        try:
            if not tools.robots.allowed(entry.link, allowance(outlet)):
                raise FetchError("robots_disallowed", "robots.txt disallows this page for us", url=entry.link)
            with tools.limiter.slot(entry.link):
                page = tools.client.get(entry.link, allow_private_hosts=allowance(outlet),
                                        max_bytes=MAX_PAGE_BYTES, accept=PAGE_ACCEPT,
                                        content_types=PAGE_CONTENT_TYPES)
            extracted = tools.extractor.extract(page.body, page.url, feed_title=entry.title,
                                                feed_published=entry.published, feed_summary=entry.summary,
                                                first_seen=tried_first.get(article_id, datetime.now(UTC)))
        except FetchError as exc:
            report.page_failures += 1
            record_page_failure(wh, outlet, article_id, entry, exc.error_class, exc.message, exc.status,
                                exc.retry_after)
            continue
        except ExtractionFailed as exc:
            report.page_failures += 1
            record_page_failure(wh, outlet, article_id, entry, exc.error_class, exc.message, None, None)
            continue
        if extracted.date_set_aside:
            log.info("outlet %s: %s: %s", outlet.id, page.url, extracted.date_set_aside)
        final_id = url_key(extracted.canonical_url)
        if final_id != article_id and (final_id in staged or article_store.known_ids(wh, [final_id])):
            report.already_stored += 1  # the page's canonical URL names an article we have
            if final_id in staged:
                known_record = staged[final_id]
                staged[final_id] = replace(known_record, sources=(*known_record.sources, source),
                                           entry_ids=tuple(sorted({*known_record.entry_ids, article_id})))
            else:
                found.sources[final_id].append(source)
                feed_store.clear_fetch_failures(wh, [article_id])
            continue
        if key:
            staged_titles[key] = final_id
        staged[final_id] = staged_record(outlet, extracted, page.url, template=template, source=source,
                                         feed_title_key=key, run_id=tools.run_id,
                                         entry_ids=sorted({article_id, final_id}))
    tried_before = feed_store.first_attempts(wh, [i for r in staged.values() for i in r.entry_ids])
    for record in staged.values():  # a page retried later was first seen at its first try
        firsts = [tried_before[i] for i in record.entry_ids if i in tried_before]
        found.records.append(replace(record, first_seen_at=min(firsts)) if firsts else record)
    return found


def staged_record(outlet: Outlet, extracted: Extracted, page_url: str, *, template: OutletTemplate,
                  source: Source, feed_title_key: str | None, run_id: str,
                  entry_ids: list[str]) -> StagedArticle:
    """The staged article of one extracted page, its text cleaned of the outlet's recurring lines (bylines,
    "Related News", newsletter prompts) that ``template`` has learnt from the pages it observed."""
    article_id = url_key(extracted.canonical_url)
    cleaned = template.observe_and_clean(extracted.text, article_key=article_id, words=extracted.word_count)
    fetched_at = datetime.now(UTC)
    return StagedArticle(
        article_id=article_id,
        canonical_url=extracted.canonical_url,
        url=page_url,
        outlet_id=outlet.id,
        outlet_country=outlet.country,
        title=extracted.title,
        title_key=title_key(extracted.title) or feed_title_key,
        author=extracted.author,
        published_at=extracted.published,
        date_source=extracted.date_source,
        date_set_aside=extracted.date_set_aside,
        language=extracted.language,
        language_source=extracted.language_source,
        text=cleaned.text,
        word_count=cleaned.word_count,
        boilerplate_removed=len(cleaned.removed),
        extractor=extracted.extractor,
        sitename=extracted.sitename,
        sources=(source,),
        fetched_at=fetched_at,
        first_seen_at=fetched_at,
        run_id=run_id,
        entry_ids=tuple(entry_ids),
    )


def _source(outlet: Outlet, entry: FeedEntry) -> Source:
    return Source(outlet_id=outlet.id, feed_url=outlet.feed_url, entry_id=entry.entry_id, link=entry.link)
