"""Compose one subscription's digest for one window from what it has not received yet, and freeze it.

The delivery contract: every stored article that matches a subscription (a hit of one of its watchlists,
and for ``regions_mode: only`` a place in its regions) reaches it in exactly one digest. A scheduled digest
takes every such article stored since the subscription's first digest and not delivered yet, so an article
stored late (a feed polled every 6 h, a page retried, a release from quarantine) or without a date goes to
the next digest; ``warehouse.digests.store_digest`` writes the ledger that keeps it out of any other.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from media_monitoring.config import Subscription, Watchlist
from media_monitoring.digest.windows import Edition
from media_monitoring.records import DigestItem, DigestStory, DigestTerm, Story, StoryLink
from media_monitoring.revisions import describe
from media_monitoring.warehouse import Warehouse, revisions
from media_monitoring.warehouse import digests as store
from media_monitoring.warehouse import stories as story_store

log = logging.getLogger(__name__)

MAX_ITEMS_SHOWN = 100  # per watchlist in the email; the digest keeps every item and the view shows them all
SPIKE_BASELINE_DAYS = 14  # a term's "usual" volume: its trailing 14-day daily average
SPIKE_MIN_ARTICLES = 3  # fewer articles in a day is noise, not a spike
SPIKE_FACTOR = 2.0  # flagged when the day's volume is at least twice the usual


@dataclass
class WatchlistDigest:
    """One watchlist's section of a subscription's digest."""

    watchlist: str
    version: str
    items: list[DigestItem] = field(default_factory=list)
    term_counts: dict[str, int] = field(default_factory=dict)
    context: dict[str, Any] = field(default_factory=dict)  # stories, spikes, regions


@dataclass
class SubscriptionDigest:
    """What one analyst receives in one digest: its window, its sections, and the sources' state then."""

    day: date
    subscription: Subscription
    kind: str
    window_start: datetime
    window_end: datetime
    sections: list[WatchlistDigest]
    outlet_names: dict[str, str]
    attention: list[dict[str, Any]]
    quality: list[dict[str, Any]] = field(default_factory=list)
    changed: list[dict[str, Any]] = field(default_factory=list)  # received earlier, changed since (revisions)

    @property
    def article_count(self) -> int:
        """Articles listed: a story's other articles ride along with its lead and are not counted again."""
        return len({i.article_id for s in self.sections for i in s.items if i.listed})

    @property
    def hit_count(self) -> int:
        return sum(sum(s.term_counts.values()) for s in self.sections)

    @property
    def late_count(self) -> int:
        return len({i.article_id for s in self.sections for i in s.items if i.late})


def spikes(wh: Warehouse, watchlist: str, day: date, term_counts: dict[str, int]) -> list[dict[str, Any]]:
    """Terms whose article count (``term_counts``, for ``day``) jumps against their daily average over the
    14 days before ``day``."""
    start = datetime(day.year, day.month, day.day, tzinfo=UTC) - timedelta(days=SPIKE_BASELINE_DAYS)
    history: Counter[str] = Counter()
    for row in store.term_article_counts(wh, watchlist, start, start + timedelta(days=SPIKE_BASELINE_DAYS)):
        history[row["term"]] += row["articles"]
    out = []
    for term, today in sorted(term_counts.items()):
        usual = history[term] / SPIKE_BASELINE_DAYS
        flagged = today >= SPIKE_MIN_ARTICLES and today >= SPIKE_FACTOR * usual
        out.append({"term": term, "today": today, "usual": round(usual, 2), "spike": flagged,
                    "ratio": round(today / usual, 1) if usual else None})
    return out


def _candidates(wh: Warehouse, edition: Edition, since: datetime | None) -> list[dict[str, Any]]:
    sub = edition.subscription
    if edition.kind == "day":
        return store.undelivered_hits(wh, sub.name, sub.watchlists, day_start=edition.window_start,
                                      day_end=edition.window_end)
    return store.undelivered_hits(wh, sub.name, sub.watchlists, stored_after=since, stored_until=edition.window_end)


@dataclass
class _Candidate:
    """An article of the window with its hits of one watchlist, while its section is ranked: the item it
    becomes (without its rank, terms and story yet), the first hit of each term, and its hits."""

    item: DigestItem
    terms: list[DigestTerm] = field(default_factory=list)
    hits: int = 0


def _items_by_watchlist(rows: list[dict[str, Any]], edition: Edition) -> dict[str, list[_Candidate]]:
    """Group hit rows into one item per (watchlist, article), with the first hit of each term as its "why"."""
    sub = edition.subscription
    interest = set(sub.regions)
    grouped: dict[str, dict[str, _Candidate]] = {}
    for row in rows:
        in_regions = bool(interest & set(row["regions"] or ()))
        if sub.regions_mode == "only" and interest and not in_regions:
            continue
        by_article = grouped.setdefault(row["watchlist"], {})
        candidate = by_article.get(row["article_id"])
        if candidate is None:
            published = row["published_at"]
            candidate = by_article[row["article_id"]] = _Candidate(DigestItem(
                article_id=row["article_id"], rank=0, title=row["title"] or row["url"], url=row["url"],
                outlet_id=row["outlet_id"], language=row["language"], published_at=published,
                published_local=row["published_local"], first_seen_at=row["first_seen_at"],
                stored_at=row["stored_at"], outlet_country=row["outlet_country"],
                primary_country=row["primary_country"], primary_region=row["primary_region"], gist=row["gist"],
                # published before the window it arrives in: the analyst is told it is not today's news
                late=edition.kind == "scheduled" and published is not None and published < edition.window_start,
                in_regions=in_regions))
        candidate.hits += 1
        if all(t.term != row["term"] for t in candidate.terms):
            candidate.terms.append(DigestTerm(term=row["term"], alias=row["alias"], matched=row["matched"],
                                              field=row["field"], snippet=row["snippet"]))
    return {name: list(items.values()) for name, items in grouped.items()}


def _rank(candidates: list[_Candidate], regions_first: bool) -> list[_Candidate]:
    never = datetime.max.replace(tzinfo=UTC)
    return sorted(candidates, key=lambda c: (regions_first and not c.item.in_regions, -len(c.terms), -c.hits,
                                             c.item.published_at or never, c.item.url))


def coverage_text(outlets: int, countries: int) -> str:
    """"covered by 3 outlets in 2 countries"; the countries part is left out when none is known."""
    text = f"covered by {outlets} outlet{'s' if outlets != 1 else ''}"
    return text + (f" in {countries} countr{'ies' if countries != 1 else 'y'}" if countries else "")


def _group_stories(wh: Warehouse, ranked: list[_Candidate]) -> tuple[list[DigestItem], list[dict[str, Any]]]:
    """The section's items in rank order, one entry per story: the best-ranked article leads, the others of
    the window ride along ("also").

    Returns the items and the window's top stories (covered by several outlets), widest first.
    """
    stories = {article_id: Story.from_row(row)
               for article_id, row in story_store.stories_of(wh, [c.item.article_id for c in ranked]).items()}
    leads: dict[str, str] = {}  # story id -> the article leading it here
    also: dict[str, list[StoryLink]] = {}  # story id -> the other articles of it here, in rank order
    for c in ranked:
        story = stories.get(c.item.article_id)
        if story is None:
            continue
        if leads.setdefault(story.story_id, c.item.article_id) != c.item.article_id:
            also.setdefault(story.story_id, []).append(
                StoryLink(c.item.article_id, c.item.title, c.item.url, c.item.outlet_id))
    items = []
    for rank, c in enumerate(ranked, start=1):
        story = stories.get(c.item.article_id)
        told: DigestStory | None = None
        if story is not None and leads[story.story_id] == c.item.article_id:
            told = DigestStory(story.story_id, coverage=coverage_text(len(story.outlets), len(story.outlet_countries)),
                               first_seen=story.first_seen, outlets=story.outlets,
                               also=tuple(also.get(story.story_id, ())))
        elif story is not None:
            told = DigestStory(story.story_id, led_by=leads[story.story_id])
        items.append(replace(c.item, rank=rank, terms=tuple(c.terms), story=told))
    top: list[dict[str, Any]] = [
        {"story_id": i.story.story_id, "title": i.title, "url": i.url, "coverage": i.story.coverage,
         "first_seen": i.story.first_seen, "outlets": list(i.story.outlets)}
        for i in items if i.story and i.story.led_by is None and len(i.story.outlets) > 1]
    top.sort(key=lambda t: (-len(t["outlets"]), str(t["first_seen"])))
    return items, top


def _json_safe(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_safe(v) for v in value]
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return value


def quality_line(q: dict[str, Any]) -> str:
    """"12 articles, 1 quarantined, 0 short" for the outlet's articles validated in the digest's window."""
    n = q["articles"]
    quarantined = round(q["quarantined_share"] * n)
    short = round(q["short_share"] * n)
    line = f"{n} article{'' if n == 1 else 's'}, {quarantined} quarantined, {short} short"
    if q.get("failed_expectations"):
        line += "; failed batch checks: " + ", ".join(q["failed_expectations"])
    return line


def revision_line(r: dict[str, Any]) -> dict[str, Any]:
    """A revision as a digest lists it: the headline as it reads now, and what changed."""
    what = describe(r["kind"], r["title_before"], r["title_after"], r["words_added"], r["words_removed"])
    return {"article_id": r["article_id"], "title": r["title_after"] or r["title_before"] or r["url"],
            "url": r["url"], "outlet_id": r["outlet_id"], "language": r["language"], "kind": r["kind"],
            "what": what, "checked_at": r["checked_at"].isoformat()}


def compose(wh: Warehouse, edition: Edition, watchlists: dict[str, Watchlist], *, since: datetime | None,
            run_id: str, created_at: datetime) -> dict[str, Any]:
    """Compose ``edition`` from what its subscription has not received and store it, frozen.

    ``since`` bounds a scheduled digest below: the start of the subscription's first digest window, so a
    new subscription starts with its first window and never receives the whole archive.

    Returns:
        The stored digest row.
    """
    sub = edition.subscription
    by_watchlist = _items_by_watchlist(_candidates(wh, edition, since), edition)
    items: list[DigestItem] = []
    entries: list[dict[str, Any]] = []
    term_counts: dict[str, dict[str, int]] = {}
    contexts: dict[str, dict[str, Any]] = {}
    versions: dict[str, str] = {}
    for name in sub.watchlists:
        ranked = _rank(by_watchlist.get(name, []), regions_first=bool(sub.regions))
        listed, top_stories = _group_stories(wh, ranked)
        counts: Counter[str] = Counter()
        regions: Counter[str] = Counter()
        for item in listed:
            counts.update(t.term for t in item.terms)
            if item.listed:
                regions[item.primary_region or "unknown"] += 1
            items.append(item)
            entries.append(item.as_row(sub.name, edition.digest_date, name))
        term_counts[name] = dict(sorted(counts.items()))
        versions[name] = watchlists[name].version
        contexts[name] = {
            "stories": top_stories,
            "spikes": spikes(wh, name, edition.window_end.date(), term_counts[name]),
            "regions": [{"region": r, "articles": n} for r, n in sorted(regions.items(), key=lambda x: (-x[1], x[0]))],
        }
    context = {
        "sections": contexts,
        "attention": store.feed_status_during(wh, edition.window_start, edition.window_end),
        "quality": [{"outlet_id": oid, "summary": quality_line(q), "articles": q["articles"]}
                    for oid, q in sorted(store.outlet_quality_during(wh, edition.window_start,
                                                                     edition.window_end).items())],
    }
    # Articles this subscription received earlier that were edited or taken down since: reported once,
    # by scheduled digests (a past day's digest looks back at that day, not at what changed since).
    changed = revisions.changed_since_sent(wh, sub.name, edition.window_end) if edition.kind == "scheduled" else []
    context["changed"] = [revision_line(r) for r in changed]
    notices = [{"subscription": sub.name, "article_id": r["article_id"], "check_no": r["check_no"],
                "digest_date": edition.digest_date} for r in changed]
    article_ids = {i.article_id for i in items}
    late = {i.article_id for i in items if i.late}
    row = {
        "subscription": sub.name, "digest_date": edition.digest_date, "kind": edition.kind,
        "window_start": edition.window_start, "window_end": edition.window_end, "timezone": sub.timezone,
        "run_id": run_id, "versions": {"watchlists": versions, "regions": list(sub.regions),
                                       "regions_mode": sub.regions_mode},
        "item_count": len(article_ids), "late_count": len(late), "term_counts": term_counts,
        "context": _json_safe(context), "created_at": created_at,
    }
    store.store_digest(wh, row, entries, notices)
    log.info("digest %s for %s (%s, window %s to %s): %d articles (%d published earlier), terms %s",
             edition.digest_date, sub.name, edition.kind, edition.window_start.isoformat(),
             edition.window_end.isoformat(), len(article_ids), len(late), term_counts)
    return row


def load(wh: Warehouse, subscription: Subscription, day: date, outlet_names: dict[str, str]) -> SubscriptionDigest:
    """Rebuild a stored digest from its rows, so the email shows exactly what was stored."""
    row = store.digest(wh, subscription.name, day)
    if row is None:
        raise LookupError(f"no digest composed for {subscription.name!r} on {day}; run the compose step first")
    by_watchlist: dict[str, list[DigestItem]] = {}
    for entry in store.entries(wh, subscription.name, day):
        by_watchlist.setdefault(entry["watchlist"], []).append(DigestItem.from_row(entry))
    context = row["context"] or {}
    versions = (row["versions"] or {}).get("watchlists", {})
    sections = [WatchlistDigest(name, str(versions.get(name, "?")), by_watchlist.get(name, []),
                                dict(row["term_counts"].get(name, {})), context.get("sections", {}).get(name, {}))
                for name in row["term_counts"]]
    attention = [{**a, "name": outlet_names.get(a["outlet_id"], a["outlet_id"])} for a in context.get("attention", [])]
    quality = [{**q, "name": outlet_names.get(q["outlet_id"], q["outlet_id"])} for q in context.get("quality", [])]
    quality.sort(key=lambda q: q["name"])
    changed = [{**c, "name": outlet_names.get(c["outlet_id"], c["outlet_id"])} for c in context.get("changed", [])]
    return SubscriptionDigest(day, subscription, row["kind"], row["window_start"], row["window_end"], sections,
                              outlet_names, attention, quality, changed)
