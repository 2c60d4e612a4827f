"""The signals analysts rely on: feed status (quiet, failing, blocked), failure backoff, term spikes
and the extraction worker's time and memory bounds.

Every time is injected (``NOW`` and offsets from it); nothing here reads the clock or waits on it,
except the sandbox tests, which bound a real worker process and assert only on what comes back.
"""

from __future__ import annotations

import os
import textwrap
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from media_monitoring.digest.compose import SPIKE_BASELINE_DAYS, SPIKE_FACTOR, SPIKE_MIN_ARTICLES, spikes
from media_monitoring.extract import extract_article
from media_monitoring.sandbox import BoundedExtractor, ExtractionFailed
from media_monitoring.scheduling import (
    ERROR_WEIGHTS,
    FAILING_AFTER,
    QUIET_FACTOR,
    QUIET_MIN,
    PollingPolicy,
    after_success,
    backoff_after_failure,
    health_status,
)
from media_monitoring.warehouse import Warehouse
from media_monitoring.warehouse import articles as article_store

pytestmark = pytest.mark.unit

NOW = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)
POLICY = PollingPolicy()  # the registry's defaults: 15 min .. 6 h between polls, backoff up to 1 day
MINUTE = timedelta(minutes=1)


def _row(**values: Any) -> dict[str, Any]:
    """A feed_health row as the pipeline builds it: healthy unless told otherwise."""
    row: dict[str, Any] = {"consecutive_failures": 0, "error_class": None, "http_status": 200,
                           "error_message": None, "drift_reason": None, "items_per_day": 0.0,
                           "last_new_item_at": None, "first_polled_at": NOW - timedelta(days=90)}
    row.update(values)
    return row


# -- quiet -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("items_per_day", "threshold"), [
    (1.0, timedelta(days=1) * QUIET_FACTOR),  # a daily feed: quiet after 4 days without an item
    (0.25, timedelta(days=4) * QUIET_FACTOR),  # one item every 4 days: quiet after 16 days
    (24.0, QUIET_MIN),  # hourly: 4 hours would be too jumpy, the 2-day floor applies
], ids=["daily", "every-4-days", "hourly-floor"])
def test_quiet_only_past_four_usual_gaps(items_per_day: float, threshold: timedelta) -> None:
    """Silent just under the threshold is ok; just over it is quiet, and the reason says for how long."""
    under = _row(items_per_day=items_per_day, last_new_item_at=NOW - threshold + MINUTE)
    over = _row(items_per_day=items_per_day, last_new_item_at=NOW - threshold - MINUTE)
    assert health_status(under, NOW) == ("ok", None)
    status, reason = health_status(over, NOW)
    assert status == "quiet"
    assert f"no new item for {threshold.days} days" in reason


def test_feed_that_never_had_items_is_not_quiet() -> None:
    """No rate to compare with: an empty feed is not reported quiet, however long it stays empty."""
    assert health_status(_row(items_per_day=0.0, first_polled_at=NOW - timedelta(days=365)), NOW) == ("ok", None)


def _poll_until(state: dict[str, Any], end: datetime, publish_every: timedelta | None,
                last_item: datetime) -> tuple[list[tuple[datetime, str]], datetime]:
    """Poll a feed on the schedule the product computes, as the pipeline does after each successful poll.

    ``publish_every``: the feed publishes one item per period (None: it is silent). Returns
    (poll time, status) for every poll and the time of the newest item.
    """
    seen: list[tuple[datetime, str]] = []
    now = state["next_poll_at"]
    while now <= end:
        new = 0
        if publish_every is not None:
            while last_item + publish_every <= now:
                last_item += publish_every
                new += 1
        rate, interval = after_success(state["items_per_day"], new, now, state["last_success_at"],
                                       state["last_new_item_at"], state["first_polled_at"], POLICY)
        state.update(items_per_day=rate, last_success_at=now, next_poll_at=now + interval,
                     last_new_item_at=now if new else state["last_new_item_at"])
        status, _reason = health_status(_row(**state), now)
        seen.append((now, status))
        assert POLICY.min_interval <= interval <= POLICY.max_interval
        now = state["next_poll_at"]
    return seen, last_item


@pytest.mark.parametrize("period", [timedelta(hours=1), timedelta(days=1)], ids=["hourly", "daily"])
def test_feed_that_stops_publishing_becomes_quiet_then_ok_again(period: timedelta) -> None:
    """A feed polled on its own schedule: ok while it publishes, quiet once silent past 4 usual gaps (or
    2 days), never crashing however long the silence lasts, and ok again with the next item."""
    start = NOW - timedelta(days=80)
    state: dict[str, Any] = {"items_per_day": None, "last_success_at": None, "last_new_item_at": None,
                             "first_polled_at": start, "next_poll_at": start}
    busy_until = start + timedelta(days=14)
    polls, last_item = _poll_until(state, busy_until, period, start - period)
    assert {status for _, status in polls} == {"ok"}
    assert state["items_per_day"] == pytest.approx(timedelta(days=1) / period, rel=0.35)

    threshold = max(QUIET_MIN, period * QUIET_FACTOR)
    polls, _ = _poll_until(state, busy_until + timedelta(days=60), None, last_item)
    ok = [when - last_item for when, status in polls if status == "ok"]
    quiet = [when - last_item for when, status in polls if status == "quiet"]
    assert max(ok) <= threshold * 1.1  # not before the threshold (give or take the rate's estimate)...
    assert min(quiet) <= threshold * 1.1 + POLICY.max_interval  # ...and at the first poll after it
    assert quiet[-1] >= timedelta(days=59)  # stays quiet: the silence does not become the new normal
    assert state["next_poll_at"] - state["last_success_at"] == POLICY.max_interval  # polled rarely meanwhile

    appears = state["next_poll_at"]  # an item is published just before the next poll
    polls, _ = _poll_until(state, appears, appears - last_item, last_item)
    assert polls == [(appears, "ok")]


# -- failing and blocked ---------------------------------------------------------------------------


@pytest.mark.parametrize("error_class", ["timeout", "connect", "dns", "server_error", "not_found", "gone",
                                         "not_a_feed", "too_large", "redirect_loop", "internal"])
def test_failing_after_three_failures_in_a_row(error_class: str) -> None:
    """Any error that is not a block: two failed polls are still ok, the third makes the feed failing."""
    before = _row(consecutive_failures=FAILING_AFTER - 1, error_class=error_class, error_message="boom")
    at = _row(consecutive_failures=FAILING_AFTER, error_class=error_class, error_message="boom")
    assert health_status(before, NOW)[0] == "ok"
    status, reason = health_status(at, NOW)
    assert status == "failing"
    assert reason == f"{FAILING_AFTER} failed polls in a row: {error_class}: boom"


@pytest.mark.parametrize(("error_class", "http_status"), [("blocked", 403), ("rate_limited", 429),
                                                          ("challenge", 403), ("challenge", 200)])
def test_blocks_are_reported_at_the_first_failure(error_class: str, http_status: int) -> None:
    """403, 429 or a bot challenge: "blocked" at once (someone must talk to the site), and it stays
    "blocked", not "failing", however many polls fail."""
    for failures in (1, FAILING_AFTER, 50):
        row = _row(consecutive_failures=failures, error_class=error_class, http_status=http_status,
                   error_message="go away")
        status, reason = health_status(row, NOW)
        assert status == "blocked"
        assert reason == f"{error_class} ({http_status}): go away"


def test_a_success_clears_failing_and_blocked() -> None:
    """The pipeline resets the failure count on success: the feed is ok again at once."""
    for error_class in ("server_error", "rate_limited"):
        failed = _row(consecutive_failures=7, error_class=error_class, items_per_day=2.0,
                      last_new_item_at=NOW - timedelta(days=3))
        assert health_status(failed, NOW)[0] in ("failing", "blocked")
        recovered = {**failed, "consecutive_failures": 0, "error_class": None, "error_message": None,
                     "last_new_item_at": NOW}
        assert health_status(recovered, NOW) == ("ok", None)


def test_failing_outranks_quiet() -> None:
    """A feed that cannot be read is failing, not merely quiet."""
    row = _row(consecutive_failures=FAILING_AFTER, error_class="timeout", items_per_day=1.0,
               last_new_item_at=NOW - timedelta(days=30))
    assert health_status(row, NOW)[0] == "failing"


# -- backoff ---------------------------------------------------------------------------------------


def test_backoff_weights_order_the_error_classes() -> None:
    """A 410 Gone waits far longer than a timeout; a 404 or a block in between."""
    wait = {c: backoff_after_failure(1, c, None, POLICY) for c in ("timeout", "server_error", "rate_limited",
                                                                    "blocked", "not_found", "gone")}
    assert wait["timeout"] == wait["server_error"] == POLICY.min_interval  # a plain transient error
    assert wait["timeout"] < wait["rate_limited"] < wait["blocked"] < wait["not_found"] < wait["gone"]
    assert wait["gone"] >= 8 * wait["timeout"]
    assert backoff_after_failure(1, "something_new", None, POLICY) == POLICY.min_interval  # unknown: plain


def test_backoff_doubles_per_failure_up_to_the_cap() -> None:
    waits = [backoff_after_failure(n, "timeout", None, POLICY) for n in range(1, 12)]
    assert waits[:4] == [POLICY.min_interval * f for f in (1, 2, 4, 8)]
    assert all(a <= b for a, b in zip(waits, waits[1:], strict=False))
    assert waits[-1] == POLICY.max_backoff


@pytest.mark.parametrize("failures", [1, 5, 37, 38, 100, 10_000])
def test_backoff_stays_within_the_registry_bounds(failures: int) -> None:
    """Never sooner than min_interval, never later than max_backoff, for any class and any failure count
    (a feed is never disabled, so a dead one counts up for months)."""
    for error_class in [*ERROR_WEIGHTS, "unknown"]:
        for retry_after in (None, 1.0, 3600.0, 10 * 86400.0):
            wait = backoff_after_failure(failures, error_class, retry_after, POLICY)
            assert POLICY.min_interval <= wait <= POLICY.max_backoff, (error_class, retry_after)
    tight = PollingPolicy(timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=30))
    assert backoff_after_failure(failures, "gone", None, tight) <= timedelta(minutes=30)


def test_retry_after_is_honoured_but_bounded() -> None:
    """A 429/503's Retry-After is a floor on the wait (never polled sooner than asked), within max_backoff."""
    two_hours = 2 * 3600.0
    assert backoff_after_failure(1, "rate_limited", two_hours, POLICY) == timedelta(hours=2)
    assert backoff_after_failure(1, "server_error", two_hours, POLICY) == timedelta(hours=2)
    # a short Retry-After does not cut the backoff short
    assert backoff_after_failure(6, "rate_limited", 60.0, POLICY) == backoff_after_failure(6, "rate_limited", None,
                                                                                          POLICY)
    # "come back in ten days" is capped at the registry's max_backoff
    assert backoff_after_failure(1, "rate_limited", 10 * 86400.0, POLICY) == POLICY.max_backoff
    next_poll = NOW + backoff_after_failure(1, "rate_limited", 120.0, POLICY)
    assert next_poll == NOW + timedelta(minutes=30)  # 15 min x weight 2 beats a Retry-After of 2 min


def test_success_interval_within_polling_bounds() -> None:
    """Busy feeds are polled at min_interval, dead ones at max_interval, never outside the bounds."""
    _rate, busy = after_success(500.0, 10, NOW, NOW - MINUTE * 15, NOW - MINUTE * 15, NOW - timedelta(days=9),
                                POLICY)
    assert busy == POLICY.min_interval
    for rate in (0.0, 1e-12, 1e-300):
        assert after_success(rate, 0, NOW, NOW - timedelta(hours=6), None, NOW - timedelta(days=900),
                             POLICY)[1] == POLICY.max_interval


# -- spikes (digest/compose.py spikes(); kept together so they are easy to adapt to a new compose API) --

WATCHLIST = "energy"
DAY = date(2026, 10, 28)
DAY_START = datetime(2026, 10, 28, tzinfo=UTC)


@pytest.fixture
def warehouse(tmp_path: Path) -> Iterator[Warehouse]:
    wh = Warehouse.connect(f"sqlite:///{tmp_path / 'warehouse.db'}")
    yield wh
    wh.close()


def _store(wh: Warehouse, term: str, published: list[datetime], watchlist: str = WATCHLIST,
           fields: tuple[str, ...] = ("text",)) -> None:
    """Articles published at the given times, each with a hit of ``term`` (one per field)."""
    articles, hits = [], []
    for published_at in published:
        article_id = f"{watchlist}-{term}-{published_at:%Y%m%d%H%M%S}-{len(articles)}"[:32]
        articles.append({
            "article_id": article_id, "canonical_url": f"https://news.example/{article_id}",
            "url": f"https://news.example/{article_id}", "outlet_id": "example", "title": f"{term} news",
            "published_at": published_at, "text": f"Something about {term}.", "word_count": 3,
            "sources": [], "countries": [], "regions": []})
        hits += [{"article_id": article_id, "watchlist": watchlist, "term": term, "field": field, "start": 0,
                  "end": len(term), "alias": term, "matched": term, "snippet": term, "version": "1"}
                 for field in fields]
    article_store.commit_batch(wh, "spike-test", articles, hits, [], [], None)


def _daily(per_day: int, days: int = SPIKE_BASELINE_DAYS) -> list[datetime]:
    """``per_day`` articles on each of the ``days`` days before DAY."""
    return [DAY_START - timedelta(days=d) + timedelta(hours=1 + n) for d in range(1, days + 1)
            for n in range(per_day)]


def _spike(wh: Warehouse, term: str, today: int) -> dict[str, Any]:
    (row,) = spikes(wh, WATCHLIST, DAY, {term: today})
    return row


def test_spike_factor_both_sides(warehouse: Warehouse) -> None:
    """Usual 2 a day: twice that is a spike, one article fewer is not."""
    _store(warehouse, "pipeline", _daily(2))
    at = int(SPIKE_FACTOR * 2)
    assert at - 1 >= SPIKE_MIN_ARTICLES  # so only the factor decides here
    assert _spike(warehouse, "pipeline", at) == {"term": "pipeline", "today": at, "usual": 2.0, "spike": True,
                                                 "ratio": SPIKE_FACTOR}
    below = _spike(warehouse, "pipeline", at - 1)
    assert (below["spike"], below["usual"]) == (False, 2.0)


def test_spike_minimum_articles_both_sides(warehouse: Warehouse) -> None:
    """A term never seen before: SPIKE_MIN_ARTICLES articles are a spike, one fewer is noise."""
    first = _spike(warehouse, "hydrogen", SPIKE_MIN_ARTICLES)
    assert (first["spike"], first["usual"], first["ratio"]) == (True, 0.0, None)
    assert _spike(warehouse, "hydrogen", SPIKE_MIN_ARTICLES - 1)["spike"] is False
    _store(warehouse, "coal", _daily(1, days=2))  # usual 2/14 a day: any jump is far above the factor
    assert _spike(warehouse, "coal", SPIKE_MIN_ARTICLES - 1)["spike"] is False
    assert _spike(warehouse, "coal", SPIKE_MIN_ARTICLES)["spike"] is True


def test_spike_baseline_is_the_trailing_fourteen_days(warehouse: Warehouse) -> None:
    """Only articles published in the 14 days before the day count towards "usual": not the day itself,
    not older ones; other watchlists' hits do not count; an article with several hits counts once."""
    inside = [DAY_START - timedelta(days=SPIKE_BASELINE_DAYS), DAY_START - timedelta(seconds=1)]
    outside = [DAY_START - timedelta(days=SPIKE_BASELINE_DAYS, seconds=1), DAY_START, DAY_START + timedelta(hours=5)]
    _store(warehouse, "grid", inside + outside, fields=("title", "text"))
    _store(warehouse, "grid", _daily(5), watchlist="other-desk")
    row = _spike(warehouse, "grid", 3)
    assert row["usual"] == round(len(inside) / SPIKE_BASELINE_DAYS, 2)
    assert row["spike"] is True


def test_spikes_cover_every_term_of_the_day(warehouse: Warehouse) -> None:
    """One row per term counted today, sorted by term, each judged against its own history."""
    _store(warehouse, "oil", _daily(3))
    _store(warehouse, "gas", _daily(1))
    rows = spikes(warehouse, WATCHLIST, DAY, {"oil": 4, "gas": 4})
    assert [(r["term"], r["spike"]) for r in rows] == [("gas", True), ("oil", False)]


# -- extraction worker bounds ----------------------------------------------------------------------

# Installed in the worker processes only (through PYTHONPATH): a page saying HANG never finishes,
# a page saying HOG allocates until the worker's address-space limit stops it; others are extracted.
_MISBEHAVING_EXTRACTION = '''
import time
import media_monitoring.extract as extract

_real = extract.extract_article


def misbehaving(html, url, **kwargs):
    if b"HANG-FOREVER" in html:
        while True:
            time.sleep(1)
    if b"HOG-MEMORY" in html:
        hoard = []
        while True:
            hoard.append(bytearray(64 * 2**20))
    return _real(html, url, **kwargs)


extract.extract_article = misbehaving
'''
TIMEOUT_S = 3.0  # a healthy page takes ~30 ms in a warm worker and <1 s in a cold one
MEMORY_BYTES = 512 * 2**20  # ~3x what Python, lxml and trafilatura need; far below what HOG-MEMORY asks for


def _page(words: str) -> bytes:
    paragraphs = "".join(f"<p>{words} paragraph {n} says something different about the harbour plan and the "
                         f"council vote that followed a long public consultation.</p>" for n in range(8))
    return (f"<html><head><title>{words}</title></head><body><article><h1>{words}</h1>{paragraphs}"
            "</article></body></html>").encode()


@pytest.fixture
def misbehaving_workers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[BoundedExtractor]:
    """One bounded worker whose extraction misbehaves on request (the parent process is untouched)."""
    hook = tmp_path / "hook"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(textwrap.dedent(_MISBEHAVING_EXTRACTION), encoding="utf-8")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(hook), os.environ.get("PYTHONPATH", "")]))
    with BoundedExtractor(workers=1, timeout_s=TIMEOUT_S, memory_bytes=MEMORY_BYTES) as extractor:
        yield extractor


def _extract(extractor: BoundedExtractor, html: bytes, n: int) -> str:
    return extractor.extract(html, f"https://news.example/{n}", feed_title=None, feed_published=None).title


@pytest.mark.timeout(60)
def test_hung_extraction_is_cut_and_the_next_page_is_extracted(misbehaving_workers: BoundedExtractor) -> None:
    """A page that never finishes is abandoned as extract_timeout; its worker is replaced and the batch
    goes on with the next page."""
    assert _extract(misbehaving_workers, _page("Harbour plan approved"), 1) == "Harbour plan approved"
    with pytest.raises(ExtractionFailed) as failed:
        _extract(misbehaving_workers, _page("HANG-FOREVER"), 2)
    assert failed.value.error_class == "extract_timeout"
    assert _extract(misbehaving_workers, _page("Ferry timetable changes"), 3) == "Ferry timetable changes"


@pytest.mark.timeout(60)
def test_memory_hog_is_stopped_and_the_next_page_is_extracted(misbehaving_workers: BoundedExtractor) -> None:
    """A page that needs more memory than the worker may use kills only that worker: the page is recorded
    as extract_crashed, and the next page is extracted by a fresh worker."""
    with pytest.raises(ExtractionFailed) as failed:
        _extract(misbehaving_workers, _page("HOG-MEMORY"), 1)
    assert failed.value.error_class == "extract_crashed"
    assert _extract(misbehaving_workers, _page("Tram depot reopens"), 2) == "Tram depot reopens"


def test_healthy_page_in_the_worker_equals_extraction_in_process() -> None:
    """The bounds change nothing for a normal page: the worker's answer is the in-process extraction."""
    html = _page("Council backs the bridge")
    with BoundedExtractor(workers=1, timeout_s=TIMEOUT_S * 10) as extractor:
        bounded = extractor.extract(html, "https://news.example/b", feed_title=None, feed_published=None)
    assert bounded == extract_article(html, "https://news.example/b", feed_title=None, feed_published=None)
