"""The stages the DAGs and the CLI run: plan, collect (per outlet batch) and process (per run).

``collect`` is I/O-bound and runs mapped over outlet batches: it polls the feeds that are due,
fetches new pages politely and under guards, extracts them in bounded worker processes and stages
the records in the warehouse keyed by run id. ``process`` runs once per run over everything staged:
validation (Great Expectations, imported once), tagging, and the upserts. XCom carries only counts.

Nothing is lost: every feed entry seen ends as a stored article, a quarantined article, a
recorded fetch failure with its reason and next retry time, or (an entry without any http(s)
address) a count and a reason in the feed's health row.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from media_monitoring.boilerplate import OutletTemplate
from media_monitoring.config import Outlet, Registry, load_registry, load_watchlists
from media_monitoring.feeds import FeedEntry, FeedParseError, FeedReading, HostileFeedError, read_feed
from media_monitoring.net import (
    FEED_CONTENT_TYPES,
    MAX_FEED_BYTES,
    MAX_PAGE_BYTES,
    PAGE_CONTENT_TYPES,
    FetchError,
    HttpClient,
)
from media_monitoring.politeness import HostLimiter, HostPolicy, RobotsRules
from media_monitoring.sandbox import BoundedExtractor, ExtractionFailed
from media_monitoring.scheduling import (
    FULL_FETCH_EVERY,
    PollingPolicy,
    after_success,
    backoff_after_failure,
    health_status,
)
from media_monitoring.settings import Settings
from media_monitoring.urls import url_key
from media_monitoring.warehouse import Warehouse

if TYPE_CHECKING:
    from media_monitoring.extract import Extracted

log = logging.getLogger(__name__)

OUTLET_THREADS = 16  # default feeds polled at once in one task (registry fetch.threads overrides)
FEED_ACCEPT = ("application/rss+xml, application/atom+xml, application/feed+json, application/xml;q=0.9, "
               "text/xml;q=0.9, application/json;q=0.8, */*;q=0.1")
PAGE_ACCEPT = "text/html, application/xhtml+xml;q=0.9, */*;q=0.1"
# Page failures worth retrying on a later run, and the first wait; it doubles per attempt.
TRANSIENT_ERRORS = frozenset({"timeout", "connect", "dns", "server_error", "rate_limited", "protocol",
                              "robots_disallowed"})
RETRY_FIRST_WAIT = timedelta(minutes=30)
RETRY_MAX_WAIT = timedelta(days=1)
MAX_ATTEMPTS = 8  # then the failure stays recorded as permanent
TITLE_FOLD_WINDOW = timedelta(days=3)  # same outlet, same headline within 3 days: one article
CHALLENGE_RE = re.compile(rb"just a moment\.\.\.|cf-challenge|captcha|are you a robot|access denied",
                          re.IGNORECASE)


def open_warehouse(settings: Settings, url: str | None = None) -> Warehouse:
    """The warehouse at ``url``, else the configured one, else the embedded default."""
    return Warehouse.connect(url or settings.warehouse_url or settings.default_warehouse_url)


def load_outlets(settings: Settings) -> Registry:
    return load_registry(settings.outlets_file, settings.replay_base)


def polling_policy(registry: Registry, *, priority: bool = False) -> PollingPolicy:
    """The registry's bounds; for priority outlets a fixed ``priority_interval_minutes`` (their failures still
    back off from there, and Retry-After is still honoured)."""
    p = registry.polling
    if priority:
        every = timedelta(minutes=p.priority_interval_minutes)
        return PollingPolicy(every, every, timedelta(hours=p.max_backoff_hours))
    return PollingPolicy(timedelta(minutes=p.min_interval_minutes), timedelta(minutes=p.max_interval_minutes),
                         timedelta(hours=p.max_backoff_hours))


def host_limiter(registry: Registry) -> HostLimiter:
    limits = {h: HostPolicy(v.max_concurrency, v.min_delay_s) for h, v in registry.hosts.items()}
    return HostLimiter(limits.pop("default", HostPolicy()), limits)


def feed_host(outlet: Outlet) -> str:
    return (urlsplit(outlet.feed_url).hostname or "").lower()


def _allowance(outlet: Outlet) -> tuple[str, ...]:
    """Hosts this outlet's requests may resolve to private addresses: its own feed host, if allowed."""
    return (feed_host(outlet),) if outlet.allow_private else ()


def plan_batches(registry: Registry, outlets_per_batch: int, *, warehouse: Warehouse | None = None,
                 now: datetime | None = None) -> list[list[str]]:
    """Outlet ids in batches, one mapped collect task per batch.

    With a warehouse, only outlets whose next poll is due are planned. All outlets of one feed host
    go to the same batch, so per-host politeness holds across parallel mapped tasks.
    """
    due = list(registry.outlets)
    if warehouse is not None and now is not None:
        next_polls = warehouse.next_polls()
        due = [o for o in due if next_polls.get(o.id) is None or next_polls[o.id] <= now]
    by_host: dict[str, list[str]] = defaultdict(list)
    for outlet in due:
        by_host[feed_host(outlet)].append(outlet.id)
    size = max(1, outlets_per_batch)
    batches: list[list[str]] = []
    current: list[str] = []
    for ids in sorted(by_host.values(), key=len, reverse=True):
        if current and len(current) + len(ids) > size:
            batches.append(current)
            current = []
        current.extend(ids)  # a host with more outlets than a batch holds keeps them together
    if current:
        batches.append(current)
    log.info("%d of %d outlets due, in %d batches", len(due), len(registry.outlets), len(batches))
    return batches


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
    order = []
    while queues:
        order.extend(q.pop(0) for q in queues)
        queues = [q for q in queues if q]
    return order


def _collect_outlet_safely(outlet: Outlet, tools: _Tools) -> OutletReport:
    try:
        return collect_outlet(outlet, tools)
    except Exception as exc:  # an outlet's bug must not fail its batch
        log.exception("outlet %s: unexpected failure", outlet.id)
        _save_failure(tools, outlet, tools.wh.feed_state(outlet.id) or {}, "internal",
                      f"{type(exc).__name__}: {exc}", None, None)
        return OutletReport(outlet.id, status="failed", error_class="internal", error=str(exc))


def collect_outlet(outlet: Outlet, tools: _Tools) -> OutletReport:
    report = OutletReport(outlet.id)
    wh = tools.wh
    state = wh.feed_state(outlet.id) or {}
    trusted = state.get("validators_trusted", True) is not False
    full_fetch = not trusted or (state.get("polls_since_full") or 0) >= FULL_FETCH_EVERY or not state
    try:
        with tools.limiter.slot(outlet.feed_url):
            result = tools.client.get(
                outlet.feed_url, allow_private_hosts=_allowance(outlet), max_bytes=MAX_FEED_BYTES,
                accept=FEED_ACCEPT, content_types=FEED_CONTENT_TYPES,
                etag=None if full_fetch else state.get("etag"),
                last_modified=None if full_fetch else state.get("last_modified"))
    except FetchError as exc:
        log.warning("outlet %s: feed %s failed: %s", outlet.id, outlet.feed_url, exc)
        _save_failure(tools, outlet, state, exc.error_class, exc.message, exc.status, exc.retry_after)
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
    retries = [FeedEntry(**_entry_from_json(e)) for e in wh.due_retries(outlet.id, datetime.now(UTC))]
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
            _save_failure(tools, outlet, state, exc.error_class, str(exc), result.status, None)
            return OutletReport(outlet.id, status="failed", error_class=exc.error_class, error=str(exc))
        except FeedParseError as exc:
            error_class = "challenge" if CHALLENGE_RE.search(result.body[:65536]) else "not_a_feed"
            log.warning("outlet %s: %s is not a feed (%s): %s", outlet.id, result.url, error_class, exc)
            _save_failure(tools, outlet, state, error_class, str(exc), result.status, None)
            return OutletReport(outlet.id, status="failed", error_class=error_class, error=str(exc))
        entries = reading.entries
        report.skipped, report.skipped_reason = reading.skipped_total, reading.skip_note
        report.charset_note = reading.charset_note
    report.entries = len(entries)
    stored_template = wh.outlet_template(outlet.id) if entries or retries else None  # a 304 needs none
    template = OutletTemplate.from_json(stored_template) if stored_template else OutletTemplate(outlet.id)
    staged = _fetch_new(outlet, tools, entries + retries, report, template) if entries or retries else []
    if staged:
        wh.save_outlet_template(outlet.id, template.to_json(), datetime.now(UTC))
    wh.stage(tools.run_id, outlet.id, staged)
    report.staged = len(staged)
    _save_success(tools, outlet, state, result.status, result.etag or state.get("etag"),
                  result.last_modified or state.get("last_modified"), body_hash, trusted,
                  full_fetch, reading, len(staged))
    log.info("outlet %s: %d entries (%d skipped), %d staged, %d already stored, %d folded, %d page failures",
             outlet.id, report.entries, report.skipped, report.staged, report.already_stored, report.folded,
             report.page_failures)
    return report


def title_key(title: str | None) -> str | None:
    """Headline identity for folding: case, punctuation and spacing ignored."""
    words = re.findall(r"\w+", (title or "").casefold())
    return hashlib.sha256(" ".join(words).encode()).hexdigest()[:32] if len(words) >= 3 else None


def _fetch_new(outlet: Outlet, tools: _Tools, entries: list[FeedEntry], report: OutletReport,
               template: OutletTemplate) -> list[dict[str, Any]]:
    wh = tools.wh
    by_id: dict[str, FeedEntry] = {}
    for entry in entries:
        by_id.setdefault(url_key(entry.canonical_url), entry)
    known = wh.known_ids(by_id)
    # A page that failed is retried on its own schedule (due retries come in with the entries),
    # not every time its feed changes.
    waiting = wh.failures_not_due(by_id, datetime.now(UTC))
    staged: dict[str, dict[str, Any]] = {}
    staged_titles: dict[str, str] = {}
    provenance: dict[str, list[dict[str, Any]]] = defaultdict(list)  # stored articles seen again
    for article_id, entry in by_id.items():
        source = _source(outlet, entry)
        if article_id in known:
            report.already_stored += 1
            provenance[article_id].append(source)
            continue
        if article_id in waiting:
            report.waiting_retry += 1
            continue
        key = title_key(entry.title)
        when = entry.published or datetime.now(UTC)
        twin = staged_titles.get(key) if key else None
        twin = twin or (wh.find_by_title(outlet.id, key, when - TITLE_FOLD_WINDOW, when + TITLE_FOLD_WINDOW)
                        if key else None)
        if twin:
            report.folded += 1  # the same headline again (a re-post or a changed URL): keep one article
            if twin in staged:
                staged[twin]["sources"].append(source)
            else:
                wh.add_sources(twin, [source])
            continue
        report.new += 1
        try:
            if not tools.robots.allowed(entry.link, _allowance(outlet)):
                raise FetchError("robots_disallowed", "robots.txt disallows this page for us", url=entry.link)
            with tools.limiter.slot(entry.link):
                page = tools.client.get(entry.link, allow_private_hosts=_allowance(outlet),
                                        max_bytes=MAX_PAGE_BYTES, accept=PAGE_ACCEPT,
                                        content_types=PAGE_CONTENT_TYPES)
            extracted = tools.extractor.extract(page.body, page.url, feed_title=entry.title,
                                                feed_published=entry.published)
        except FetchError as exc:
            report.page_failures += 1
            _record_page_failure(wh, outlet, article_id, entry, exc.error_class, exc.message, exc.status,
                                 exc.retry_after)
            continue
        except ExtractionFailed as exc:
            report.page_failures += 1
            _record_page_failure(wh, outlet, article_id, entry, exc.error_class, exc.message, None, None)
            continue
        final_id = url_key(extracted.canonical_url)
        if final_id != article_id and (final_id in staged or wh.known_ids([final_id])):
            report.already_stored += 1  # the page's canonical URL names an article we have
            if final_id in staged:
                staged[final_id]["sources"].append(source)
                staged[final_id]["entry_ids"] = sorted({*staged[final_id]["entry_ids"], article_id})
            else:
                wh.add_sources(final_id, [source])
                wh.clear_fetch_failures([article_id])
            continue
        if key:
            staged_titles[key] = final_id
        staged[final_id] = staged_record(outlet, extracted, page.url, template=template, source=source,
                                         feed_title_key=key, run_id=tools.run_id,
                                         entry_ids=sorted({article_id, final_id}))
    wh.add_sources_many(provenance)  # one transaction for every already-stored entry of the feed
    tried_before = wh.first_attempts([i for r in staged.values() for i in r["entry_ids"]])
    for record in staged.values():  # a page retried later was first seen at its first try
        firsts = [tried_before[i] for i in record["entry_ids"] if i in tried_before]
        if firsts:
            record["first_seen_at"] = min(firsts).isoformat()
    return list(staged.values())


def staged_record(outlet: Outlet, extracted: Extracted, page_url: str, *, template: OutletTemplate,
                  source: dict[str, Any], feed_title_key: str | None, run_id: str,
                  entry_ids: list[str]) -> dict[str, Any]:
    """The staging row of one extracted page, its text cleaned of the outlet's recurring lines (bylines,
    "Related News", newsletter prompts) that ``template`` has learnt from the pages it observed."""
    article_id = url_key(extracted.canonical_url)
    cleaned = template.observe_and_clean(extracted.text, article_key=article_id, words=extracted.word_count)
    fetched_at = datetime.now(UTC).isoformat()
    return {
        "article_id": article_id,
        "canonical_url": extracted.canonical_url,
        "url": page_url,
        "outlet_id": outlet.id,
        "outlet_country": outlet.country,
        "title": extracted.title,
        "title_key": title_key(extracted.title) or feed_title_key,
        "author": extracted.author,
        "published_at": extracted.published.isoformat() if extracted.published else None,
        "date_source": extracted.date_source,
        "language": extracted.language,
        "language_source": extracted.language_source,
        "text": cleaned.text,
        "word_count": cleaned.word_count,
        "boilerplate_removed": len(cleaned.removed),
        "extractor": extracted.extractor,
        "sitename": extracted.sitename,
        "sources": [source],
        "fetched_at": fetched_at,
        "first_seen_at": fetched_at,
        "run_id": run_id,
        "entry_ids": entry_ids,  # keys of the feed links that led here
    }


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


def _record_page_failure(wh: Warehouse, outlet: Outlet, article_id: str, entry: FeedEntry, error_class: str,
                         message: str, status: int | None, retry_after: float | None) -> None:
    now = datetime.now(UTC)
    prior = wh.fetch_attempts(article_id)
    transient = error_class in TRANSIENT_ERRORS and prior + 1 < MAX_ATTEMPTS
    wait = min(RETRY_FIRST_WAIT * (2 ** prior), RETRY_MAX_WAIT)
    if retry_after:
        wait = max(wait, timedelta(seconds=min(retry_after, RETRY_MAX_WAIT.total_seconds())))
    log.warning("outlet %s: page %s failed (%s: %s); %s", outlet.id, entry.link, error_class, message,
                f"retry after {now + wait:%Y-%m-%d %H:%M} UTC" if transient else "not retried")
    wh.record_fetch_failure({
        "article_id": article_id, "url": entry.link, "outlet_id": outlet.id, "error_class": error_class,
        "message": message, "http_status": status, "entry": _entry_to_json(entry),
        "last_attempt_at": now, "next_retry_at": now + wait if transient else None,
    })


def _health_row(outlet: Outlet, state: dict[str, Any], now: datetime, **values: Any) -> dict[str, Any]:
    row = {
        "outlet_id": outlet.id, "feed_url": outlet.feed_url, "last_attempt_at": now,
        "last_success_at": state.get("last_success_at"), "last_new_item_at": state.get("last_new_item_at"),
        "http_status": state.get("http_status"), "error_class": state.get("error_class"),
        "error_message": state.get("error_message"),
        "consecutive_failures": state.get("consecutive_failures") or 0,
        "entries_seen": state.get("entries_seen") or 0, "new_items": 0,
        "etag": state.get("etag"), "last_modified": state.get("last_modified"),
        "body_hash": state.get("body_hash"), "validators_trusted": state.get("validators_trusted", True) is not False,
        "polls_since_full": state.get("polls_since_full") or 0,
        "first_polled_at": state.get("first_polled_at") or now,
        "items_per_day": state.get("items_per_day") or 0.0, "poll_interval_s": state.get("poll_interval_s"),
        "next_poll_at": state.get("next_poll_at"), "drift_reason": state.get("drift_reason"),
        "entries_skipped": state.get("entries_skipped"), "skipped_reason": state.get("skipped_reason"),
        "charset_note": state.get("charset_note"),
    }
    row.update(values)
    row["status"], row["status_reason"] = health_status(row, now)
    return row


def _save_success(tools: _Tools, outlet: Outlet, state: dict[str, Any], status: int, etag: str | None,
                  last_modified: str | None, body_hash: str | None, trusted: bool, full_fetch: bool,
                  reading: FeedReading | None, new: int) -> None:
    """Record a successful poll; ``reading`` is None when the feed was not parsed (its last parse stands)."""
    now = datetime.now(UTC)
    rate, interval = after_success(state.get("items_per_day"), new, now, state.get("last_success_at"),
                                   state.get("last_new_item_at"), state.get("first_polled_at"),
                                   tools.policy_for(outlet))
    parsed: dict[str, Any] = {}
    if reading is not None:
        parsed = {"entries_seen": len(reading.entries), "entries_skipped": reading.skipped_total,
                  "skipped_reason": reading.skip_note, "charset_note": reading.charset_note}
    row = _health_row(
        outlet, state, now, last_success_at=now, last_new_item_at=now if new else state.get("last_new_item_at"),
        http_status=status, error_class=None, error_message=None, consecutive_failures=0,
        new_items=new, etag=etag,
        last_modified=last_modified, body_hash=body_hash, validators_trusted=trusted,
        polls_since_full=0 if full_fetch else (state.get("polls_since_full") or 0) + 1,
        items_per_day=rate, poll_interval_s=int(interval.total_seconds()), next_poll_at=now + interval,
        **parsed)
    tools.wh.save_feed_state(row)


def _save_failure(tools: _Tools, outlet: Outlet, state: dict[str, Any], error_class: str, message: str,
                  status: int | None, retry_after: float | None) -> None:
    now = datetime.now(UTC)
    failures = (state.get("consecutive_failures") or 0) + 1
    wait = backoff_after_failure(failures, error_class, retry_after, tools.policy_for(outlet))
    row = _health_row(outlet, state, now, http_status=status, error_class=error_class, error_message=message,
                      consecutive_failures=failures, poll_interval_s=int(wait.total_seconds()),
                      next_poll_at=now + wait)
    tools.wh.save_feed_state(row)
    log.warning("outlet %s: %s; next poll %s UTC (%s)", outlet.id, error_class, f"{now + wait:%Y-%m-%d %H:%M}",
                row["status"])


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

    tagger = Tagger(settings.watchlists_file, settings.regions_file)
    records = warehouse.staged()
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
    articles, hits, places = _fold_exact_duplicates(warehouse, articles, hits, places)
    warehouse.commit_batch(run_id, articles, hits, places, quarantined, validation,
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
        drift = detect_drift(stats, wh.outlet_quality_history(outlet_id, run_time))
        rows.append({"run_id": run_id, "outlet_id": outlet_id, "articles": stats["articles"],
                     "short_share": stats["short_share"], "empty_share": stats["empty_share"],
                     "quarantined_share": stats["quarantined_share"], "duplicate_share": stats["duplicate_share"],
                     "failed_expectations": stats["failed"], "drift_reason": drift, "validated_at": run_time})
        state = wh.feed_state(outlet_id)
        if state is not None and outlet_id in by_id and state.get("drift_reason") != drift:
            if drift:
                log.warning("outlet %s: %s", outlet_id, drift)
            row = _health_row(by_id[outlet_id], state, state.get("last_attempt_at") or run_time, drift_reason=drift)
            row["last_attempt_at"] = state.get("last_attempt_at")
            wh.save_feed_state(row)
    wh.record_outlet_quality(rows)


MIN_WORDS_TO_FOLD = 20  # shorter texts are too alike by chance to call one a copy of another


def _fold_exact_duplicates(wh: Warehouse, articles: list[dict[str, Any]], hits: list[dict[str, Any]],
                           places: list[dict[str, Any]]
                           ) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """Exact duplicates (the same text under another URL: syndicated agency copy) are one article: the
    copy's feed entries become sources of the article first stored, and the copy is not stored again."""
    foldable = [a for a in articles if a["word_count"] >= MIN_WORDS_TO_FOLD]
    stored = wh.ids_by_text_hash(a["text_hash"] for a in foldable)
    keep: dict[str, dict[str, Any]] = {}
    dropped: set[str] = set()
    for article in sorted(foldable, key=lambda a: (a["published_at"] or datetime.max.replace(tzinfo=UTC),
                                                   a["article_id"])):
        original = stored.get(article["text_hash"])
        if original is None and article["text_hash"] in keep:
            keep[article["text_hash"]]["sources"].extend(article["sources"])
            dropped.add(article["article_id"])
        elif original is not None and original != article["article_id"]:
            wh.add_sources(original, article["sources"])
            dropped.add(article["article_id"])
        else:
            keep.setdefault(article["text_hash"], article)
    if dropped:
        log.info("folded %d exact duplicates into the articles they copy", len(dropped))
    return ([a for a in articles if a["article_id"] not in dropped],
            [h for h in hits if h["article_id"] not in dropped],
            [p for p in places if p["article_id"] not in dropped])


def assign_stories(wh: Warehouse, articles: list[dict[str, Any]]) -> int:
    """Group new articles into stories with the stored ones (MinHash/LSH band keys kept in the warehouse);
    returns the stories touched. Reads only the stored articles that share a band key or a text with the
    batch, and places them under the warehouse's placement lock: workers processing partitions at once
    place one after another and never open one story twice."""
    from media_monitoring.tagging.stories import (
        WINDOW,
        StoryArticle,
        StoryIndex,
        band_keys,
        lookback,
        signature_array,
        summarise,
    )
    from media_monitoring.warehouse import stories as store

    new = [StoryArticle(a["article_id"], signature_array(a["signature"]), a["published_at"] or a["fetched_at"],
                        a["outlet_id"], a.get("outlet_country"), tuple(a.get("countries") or ()), a["text_hash"])
           for a in articles if a.get("signature") and (a["published_at"] or a["fetched_at"])]
    if not new:
        return 0
    since = lookback([a.published_at for a in new])
    store.ensure_bands(wh, [a.published_at for a in new])
    with store.placement(wh) as conn:
        ids = {a.article_id for a in new}
        left = store.sign_again(wh, conn, store.unassigned(conn, since, exclude=ids))
        if left:  # stored, but a run stopped before giving them a story
            log.info("%d stored articles without a story are placed with this run's", len(left))
            new += [StoryArticle.from_row(r) for r in left]
            ids.update(r["article_id"] for r in left)
        until = max(a.published_at for a in new) + WINDOW
        rows = store.candidates(wh, conn, {k for a in new for k in band_keys(a.signature)},
                                {a.text_hash for a in new if a.text_hash}, since, until, exclude=ids)
        stale = {r["article_id"] for r in rows if not store.is_current(r)}
        stored = [StoryArticle.from_row(r) for r in store.sign_again(wh, conn, rows)]
        store.replace_bands(conn, [a for a in stored if a.article_id in stale])
        index = StoryIndex(stored)
        log.info("story index: %d new articles, %d stored candidates published %s to %s", len(new), len(index),
                 since.isoformat(), until.isoformat())
        assignments = index.assign_detailed(new)
        store.save_placement(wh, conn, assignments, new)
        members: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for row in store.members(conn, sorted({a.story_id for a in assignments})):
            members[row["story_id"]].append(row)
        summaries = []
        for story_id, rows_of in members.items():
            first = min(rows_of, key=lambda r: (r["published_at"], r["article_id"]))
            summary = summarise([StoryArticle.from_row(r) for r in rows_of], story_id)
            summaries.append({**summary.to_row(), "title": first["title"]})
        store.save_summaries(wh, conn, summaries)
    grouped = sum(1 for r in summaries if len(r["outlets"]) > 1)
    log.info("%d new articles in %d stories (%d covered by several outlets)", len(new), len(summaries), grouped)
    return len(summaries)


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
    from media_monitoring.tagging import stories

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
            "text_hash": stories.text_hash(r.get("text")),
            "signature": stories.pack_signature(stories.sketch(r.get("title"), r.get("text"))),
            "signature_version": stories.SIGNATURE_VERSION,
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

    With ``force`` an operator stores them without validating them again (even if they would still fail).
    """
    from media_monitoring.quality.validate import validate_batch
    from media_monitoring.tagging import Tagger

    rows = {r["article_id"]: r for r in warehouse.quarantined(include_released=False)}
    unknown = [i for i in article_ids if i not in rows]
    records = [rows[i]["record"] for i in article_ids if i in rows]
    if force:  # stored whatever the suites say (a broken suite does not stop an operator's release)
        passing, failing = records, []
    else:
        languages = {o.id: list(o.languages) for o in load_outlets(settings).outlets}
        outcome = validate_batch(records, run_time=now, outlet_languages=languages)
        passing, failing = outcome.accepted, [q["record"]["article_id"] for q in outcome.quarantined]
    tagger = Tagger(settings.watchlists_file, settings.regions_file)
    articles, hits, places = tag_records(tagger, passing, run_id=f"release__{now.isoformat()}", stored_at=now)
    articles, hits, places = _fold_exact_duplicates(warehouse, articles, hits, places)
    warehouse.commit_batch("release", articles, hits, places, [], None)
    assign_stories(warehouse, articles)
    for record in passing:
        warehouse.release(record["article_id"], now)
    log.info("released %d articles; %d still failing; %d unknown", len(passing), len(failing), len(unknown))
    return {"released": [r["article_id"] for r in passing], "still_failing": failing, "unknown": unknown}


RETAG_CHUNK = 1000  # articles per transaction when re-tagging the archive


def retag(*, settings: Settings, warehouse: Warehouse, watchlists: tuple[str, ...] | None, start: datetime,
          end: datetime) -> dict[str, Any]:
    """Re-run watchlist matching over stored articles published in [start, end).

    Idempotent: each chunk's hits for the chosen watchlists are replaced in one transaction, so a rerun
    leaves the same rows and an analyst sees what a changed watchlist would have caught.
    """
    from media_monitoring.tagging.watchlists import WatchlistMatcher

    available = {w.name: w for w in load_watchlists(settings.watchlists_file).watchlists}
    chosen = tuple(available) if not watchlists else watchlists
    unknown = sorted(set(chosen) - set(available))
    if unknown:
        raise ValueError(f"unknown watchlist(s) {unknown}; {settings.watchlists_file} has {sorted(available)}")
    matcher = WatchlistMatcher(tuple(available[n] for n in chosen))
    articles = hits = tagged = 0
    after = ""
    while True:
        page = warehouse.articles_page(start, end, after, RETAG_CHUNK)
        if not page:
            break
        rows = []
        for article in page:
            found = matcher.match(article["title"] or "", article["text"] or "")
            tagged += bool(found)
            rows.extend({"article_id": article["article_id"], "watchlist": h.watchlist, "term": h.term,
                         "field": h.field, "start": h.start, "end": h.end, "alias": h.alias, "matched": h.matched,
                         "snippet": h.snippet, "version": h.version} for h in found)
        warehouse.replace_hits([a["article_id"] for a in page], chosen, rows)
        articles += len(page)
        hits += len(rows)
        after = page[-1]["article_id"]
        log.info("re-tagged %d articles so far (%d hits)", articles, hits)
    versions = {n: available[n].version for n in chosen}
    log.info("re-tagged %d articles published %s to %s with %s: %d hits in %d articles",
             articles, start.date(), end.date(), versions, hits, tagged)
    return {"articles": articles, "hits": hits, "tagged_articles": tagged, "versions": versions}
