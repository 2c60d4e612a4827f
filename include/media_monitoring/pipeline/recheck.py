"""Fetch watchlist articles again after publication and record what changed (see :mod:`revisions`).

Every run first gives each newly stored watchlist article its schedule, then takes the checks due (oldest
first, at most ``limit``), fetches each page politely (robots.txt, the host's spacing and concurrency, a
conditional GET with the validators of the last fetch), extracts it the way ingest did (trafilatura and the
outlet's learnt boilerplate), and compares it with the latest version known. A page that cannot be fetched
is tried again at the next run, up to :data:`MAX_FAILURES` times, then that check is given up.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from media_monitoring import revisions as rv
from media_monitoring.boilerplate import OutletTemplate
from media_monitoring.net import MAX_PAGE_BYTES, PAGE_CONTENT_TYPES, FetchError, HttpClient
from media_monitoring.pipeline.collect import PAGE_ACCEPT, allowance
from media_monitoring.pipeline.plan import host_limiter, load_outlets
from media_monitoring.politeness import RobotsRules
from media_monitoring.sandbox import BoundedExtractor, ExtractionFailed
from media_monitoring.settings import Settings
from media_monitoring.warehouse import Warehouse, feeds
from media_monitoring.warehouse import revisions as store

log = logging.getLogger(__name__)

RECHECKS_PER_RUN = 500  # pages re-fetched in one run at most; the rest wait for the next (oldest due first)
MAX_FAILURES = 3  # failed tries of one check before it is given up and the next one is scheduled
SCHEDULE_LOOKBACK = rv.RECHECKS[-1] + timedelta(days=1)  # older articles are past their last check
RECHECK_THREADS = 8  # pages fetched at once; each host keeps its own spacing and concurrency


@dataclass
class RecheckReport:
    scheduled: int = 0
    checked: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)

    def count(self, outcome: str) -> None:
        self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1

    def as_dict(self) -> dict[str, Any]:
        return {"scheduled": self.scheduled, "checked": self.checked, **self.outcomes}


def schedule_new(wh: Warehouse, now: datetime, limit: int = 10_000) -> int:
    """Give each watchlist article stored in the lookback and not scheduled yet its re-check schedule."""
    rows = [{"article_id": r["article_id"], "first_fetched_at": r["fetched_at"] or r["stored_at"],
             "checks_done": 0, "next_check_at": rv.next_due(r["fetched_at"] or r["stored_at"], 0), "failures": 0}
            for r in store.unscheduled(wh, now - SCHEDULE_LOOKBACK, limit)]
    store.schedule(wh, rows)
    return len(rows)


def recheck(*, settings: Settings, warehouse: Warehouse, run_id: str, now: datetime,
            limit: int = RECHECKS_PER_RUN, extractor: BoundedExtractor | None = None) -> RecheckReport:
    """Schedule new watchlist articles, then make the re-checks due at ``now``."""
    report = RecheckReport(scheduled=schedule_new(warehouse, now))
    due = store.due(warehouse, now, limit)
    if not due:
        log.info("re-checks: %d scheduled, none due", report.scheduled)
        return report
    registry = load_outlets(settings)
    outlets = registry.by_id()
    templates: dict[str, OutletTemplate | None] = {}
    for outlet_id in {row["outlet_id"] for row in due}:
        state = feeds.outlet_template(warehouse, outlet_id)
        templates[outlet_id] = OutletTemplate.from_json(state) if state else None
    own_extractor = extractor is None
    extractor = extractor or BoundedExtractor()
    limits = registry.fetch
    try:
        with HttpClient(settings.user_agent, connect_timeout=limits.connect_timeout_s,
                        read_timeout=limits.read_timeout_s, deadline=limits.deadline_s) as client:
            limiter = host_limiter(registry)
            robots = RobotsRules(client, limiter)

            def check(row: dict[str, Any]) -> str:
                outlet = outlets.get(row["outlet_id"])
                allowed = allowance(outlet) if outlet else ()
                check_no = rv.due_check(row["first_fetched_at"], row["checks_done"], now) or row["checks_done"] + 1
                try:
                    if not robots.allowed(row["url"], allowed):
                        raise FetchError("robots_disallowed", "robots.txt disallows this page for us", url=row["url"])
                    with limiter.slot(row["url"]):
                        page = client.get(row["url"], allow_private_hosts=allowed, max_bytes=MAX_PAGE_BYTES,
                                          accept=PAGE_ACCEPT, content_types=PAGE_CONTENT_TYPES,
                                          etag=row["etag"], last_modified=row["last_modified"])
                except FetchError as exc:
                    if exc.status in rv.GONE_STATUSES:
                        return _finish(warehouse, row, check_no, now, run_id, rv.deletion(row["title"]),
                                       status=exc.status, final_url=row["url"])
                    return _failed(warehouse, row, check_no, now, f"{exc.error_class}: {exc.message}")
                if page.not_modified:
                    return _finish(warehouse, row, check_no, now, run_id, None, status=304, outcome="not_modified")
                if rv.redirected_to_front_page(row["url"], page.url):
                    return _finish(warehouse, row, check_no, now, run_id, rv.deletion(row["title"]),
                                   status=page.status, final_url=page.url)
                try:
                    # the stored headline and text as the feed's: a page that still reads the same keeps its
                    # spelling, and its text is checked against the same article as when it was collected
                    extracted = extractor.extract(page.body, page.url, feed_title=row["title"], feed_published=None,
                                                  feed_summary=row["text"])
                except ExtractionFailed as exc:
                    return _failed(warehouse, row, check_no, now, f"{exc.error_class}: {exc.message}")
                template = templates.get(row["outlet_id"])
                text = template.clean(extracted.text).text if template else extracted.text
                revision = rv.compare(row["title"], row["text"], extracted.title, text)
                return _finish(warehouse, row, check_no, now, run_id, revision, status=page.status,
                               final_url=page.url, text_after=text, etag=page.etag,
                               last_modified=page.last_modified)

            def safely(row: dict[str, Any]) -> str:
                try:
                    return check(row)
                except Exception as exc:  # one page's bug must not stop the others
                    log.exception("re-check of %s (%s) failed", row["article_id"], row["url"])
                    return _failed(warehouse, row, row["checks_done"] + 1, now, f"internal: {exc}")

            with ThreadPoolExecutor(max_workers=limits.threads or RECHECK_THREADS) as pool:
                for outcome in pool.map(safely, due):
                    report.checked += 1
                    report.count(outcome)
    finally:
        if own_extractor:
            extractor.close()
    log.info("re-checks: %d scheduled, %d checked: %s", report.scheduled, report.checked,
             ", ".join(f"{n} {k}" for k, n in sorted(report.outcomes.items())) or "nothing")
    return report


def _finish(wh: Warehouse, row: dict[str, Any], check_no: int, now: datetime, run_id: str,
            revision: rv.Revision | None, *, status: int, final_url: str | None = None,
            text_after: str | None = None, outcome: str | None = None, etag: str | None = None,
            last_modified: str | None = None) -> str:
    outcome = outcome or (revision.kind if revision else rv.UNCHANGED)
    gone = outcome == rv.DELETED
    next_at = None if gone else rv.next_due(row["first_fetched_at"], check_no)
    changes = {"checks_done": check_no, "next_check_at": next_at,
               "last_checked_at": now, "last_outcome": outcome, "last_error": None, "failures": 0,
               "etag": etag or row["etag"], "last_modified": last_modified or row["last_modified"]}
    stored = None
    if revision is not None and revision.kind in (rv.EDITED, rv.DELETED):
        stored = {"article_id": row["article_id"], "check_no": check_no, "checked_at": now, "run_id": run_id,
                  "kind": revision.kind, "http_status": status, "final_url": final_url,
                  "title_before": revision.title_before, "title_after": revision.title_after,
                  "words_added": revision.words_added, "words_removed": revision.words_removed,
                  "diff": revision.diff, "text_after": text_after if revision.kind == rv.EDITED else None}
        log.info("article %s (%s) %s: %s", row["article_id"], row["url"], revision.kind, revision.summary())
    store.record_check(wh, row["article_id"], changes, stored)
    return outcome


def _failed(wh: Warehouse, row: dict[str, Any], check_no: int, now: datetime, error: str) -> str:
    failures = (row["failures"] or 0) + 1
    changes: dict[str, Any] = {"last_checked_at": now, "last_outcome": "failed", "last_error": error,
                               "failures": failures}
    if failures >= MAX_FAILURES:  # give this check up; the next one is still made
        changes.update(checks_done=check_no, failures=0,
                       next_check_at=rv.next_due(row["first_fetched_at"], check_no))
    log.warning("re-check of %s (%s) failed (%d of %d tries): %s", row["article_id"], row["url"], failures,
                MAX_FAILURES, error)
    store.record_check(wh, row["article_id"], changes, None)
    return "failed"
