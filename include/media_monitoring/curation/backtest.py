"""What a proposed watchlist change would have done over stored articles, before it goes live.

The terms the proposal changes are matched, as they are in force and as proposed, over every stored article
published in the chosen period (the matcher the pipeline uses, on the stored title and text). The result: hits
per day before and after, exactly which articles the change adds or removes (with the evidence), a sample of the
proposed term's hits, and which hits analysts marked wrong it would remove or keep.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from media_monitoring.config import Watchlist
from media_monitoring.records import Hit
from media_monitoring.tagging.watchlists import WatchlistMatcher
from media_monitoring.warehouse import Warehouse, feedback
from media_monitoring.warehouse import articles as article_store

log = logging.getLogger(__name__)

MAX_ARTICLES = 50_000  # a backtest reads at most this many articles (the page says when it stopped there)
MAX_DAYS = 366
PAGE = 1000
SAMPLE = 10
MAX_LISTED = 200  # added and removed articles listed in full (the counts are always complete)


@dataclass(frozen=True)
class Change:
    """An article whose hits of a term the change adds or removes, with the evidence."""

    article_id: str
    title: str
    outlet_id: str
    url: str
    published_at: datetime | None
    term: str
    hit: Hit | None  # the first hit (as proposed for an added article, as in force for a removed one)


@dataclass
class Backtest:
    watchlist: str
    start: date
    end: date  # inclusive
    terms: list[str]  # the terms the change touches
    articles: int = 0  # articles read
    truncated: bool = False  # stopped at MAX_ARTICLES
    days: dict[date, tuple[int, int]] = field(default_factory=dict)  # articles with a hit: (in force, proposed)
    added: list[Change] = field(default_factory=list)
    removed: list[Change] = field(default_factory=list)
    added_count: int = 0
    removed_count: int = 0
    sample: list[Change] = field(default_factory=list)  # hits as proposed
    wrong_removed: list[dict[str, Any]] = field(default_factory=list)  # marked-wrong hits the change removes
    wrong_kept: list[dict[str, Any]] = field(default_factory=list)  # marked-wrong hits it would still make

    @property
    def before_total(self) -> int:
        return sum(b for b, _ in self.days.values())

    @property
    def after_total(self) -> int:
        return sum(a for _, a in self.days.values())

    def summary(self) -> dict[str, Any]:
        """The counts, as the audit log and the CLI record them."""
        return {"watchlist": self.watchlist, "start": self.start.isoformat(), "end": self.end.isoformat(),
                "terms": self.terms, "articles": self.articles, "truncated": self.truncated,
                "hits_in_force": self.before_total, "hits_proposed": self.after_total,
                "added": self.added_count, "removed": self.removed_count,
                "marked_wrong_removed": len(self.wrong_removed), "marked_wrong_kept": len(self.wrong_kept)}


def changed_terms(current: Watchlist, proposed: Watchlist) -> list[str]:
    old = {t.name: t for t in current.terms}
    new = {t.name: t for t in proposed.terms}
    return sorted(name for name in old.keys() | new.keys() if old.get(name) != new.get(name))


def _only(watchlist: Watchlist, terms: list[str]) -> WatchlistMatcher:
    return WatchlistMatcher((watchlist.model_copy(update={"terms": tuple(t for t in watchlist.terms
                                                                         if t.name in terms)}),))


def _first_hits(matcher: WatchlistMatcher, title: str, text: str) -> dict[str, Hit]:
    found: dict[str, Hit] = {}
    for hit in matcher.match(title, text):
        found.setdefault(hit.term, hit)
    return found


def run(warehouse: Warehouse, current: Watchlist, proposed: Watchlist, start: date, end: date,
        *, max_articles: int = MAX_ARTICLES) -> Backtest:
    """Backtest ``proposed`` against ``current`` over articles published from ``start`` to ``end`` (inclusive)."""
    if end < start:
        raise ValueError(f"the period ends ({end}) before it starts ({start})")
    if (end - start).days >= MAX_DAYS:
        raise ValueError(f"a backtest covers at most {MAX_DAYS} days; {start} to {end} is {(end - start).days + 1}")
    terms = changed_terms(current, proposed)
    result = Backtest(current.name, start, end, terms)
    if not terms:
        return result
    before, after = _only(current, terms), _only(proposed, terms)
    begin = datetime(start.year, start.month, start.day, tzinfo=UTC)
    stop = datetime(end.year, end.month, end.day, tzinfo=UTC) + timedelta(days=1)
    per_day_before: Counter[date] = Counter()
    per_day_after: Counter[date] = Counter()
    removed_pairs: set[tuple[str, str]] = set()
    kept_pairs: set[tuple[str, str]] = set()
    after_id = ""
    while result.articles < max_articles:
        page = article_store.articles_page(warehouse, begin, stop, after_id, min(PAGE, max_articles - result.articles))
        if not page:
            break
        for article in page:
            title, text = article["title"] or "", article["text"] or ""
            old, new = _first_hits(before, title, text), _first_hits(after, title, text)
            day = article["published_at"].date()
            per_day_before[day] += bool(old)
            per_day_after[day] += bool(new)
            for term in sorted(old.keys() | new.keys()):
                change = Change(article["article_id"], title, article["outlet_id"], article["url"],
                                article["published_at"], term, new.get(term) or old.get(term))
                if term in new and len(result.sample) < SAMPLE:
                    result.sample.append(change)
                if term in new and term not in old:
                    result.added_count += 1
                    if len(result.added) < MAX_LISTED:
                        result.added.append(change)
                elif term in old and term not in new:
                    result.removed_count += 1
                    removed_pairs.add((article["article_id"], term))
                    if len(result.removed) < MAX_LISTED:
                        result.removed.append(change)
                else:
                    kept_pairs.add((article["article_id"], term))
        result.articles += len(page)
        after_id = page[-1]["article_id"]
    else:
        result.truncated = bool(article_store.articles_page(warehouse, begin, stop, after_id, 1))
    result.days = {d: (per_day_before[d], per_day_after[d]) for d in sorted(per_day_before | per_day_after)}
    for mark in feedback.marked_wrong(warehouse, current.name):
        pair = (mark["article_id"], mark["term"])
        if pair in removed_pairs:
            result.wrong_removed.append(mark)
        elif pair in kept_pairs:
            result.wrong_kept.append(mark)
    log.info("backtest of %s %s over %s..%s: %d articles, %d -> %d with hits, +%d -%d, %d marked-wrong removed",
             current.name, terms, start, end, result.articles, result.before_total, result.after_total,
             result.added_count, result.removed_count, len(result.wrong_removed))
    return result
