"""Compose a day's digest per watchlist from stored hits, and store exactly what will be sent."""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from media_monitoring.config import Subscription, Watchlist
from media_monitoring.tagging.stories import coverage_text
from media_monitoring.warehouse import Warehouse

log = logging.getLogger(__name__)

MAX_ITEMS_PER_WATCHLIST = 100  # a digest is read in a morning; the UI holds the rest
SPIKE_BASELINE_DAYS = 14  # a term's "usual" volume: its trailing 14-day daily average
SPIKE_MIN_ARTICLES = 3  # fewer articles in a day is noise, not a spike
SPIKE_FACTOR = 2.0  # flagged when the day's volume is at least twice the usual


@dataclass
class WatchlistDigest:
    day: date
    watchlist: str
    version: str
    items: list[dict[str, Any]] = field(default_factory=list)
    term_counts: dict[str, int] = field(default_factory=dict)
    context: dict[str, Any] = field(default_factory=dict)  # spikes, regions, attention, quality


def spikes(wh: Warehouse, watchlist: str, day: date, term_counts: dict[str, int]) -> list[dict[str, Any]]:
    """Terms whose article count on ``day`` jumps against their trailing 14-day daily average."""
    start = datetime(day.year, day.month, day.day, tzinfo=UTC) - timedelta(days=SPIKE_BASELINE_DAYS)
    history: Counter[str] = Counter()
    for row in wh.term_article_counts(watchlist, start, start + timedelta(days=SPIKE_BASELINE_DAYS)):
        history[row["term"]] += row["articles"]
    out = []
    for term, today in sorted(term_counts.items()):
        usual = history[term] / SPIKE_BASELINE_DAYS
        flagged = today >= SPIKE_MIN_ARTICLES and today >= SPIKE_FACTOR * usual
        out.append({"term": term, "today": today, "usual": round(usual, 2), "spike": flagged,
                    "ratio": round(today / usual, 1) if usual else None})
    return out


def compose_watchlist(wh: Warehouse, day: date, watchlist: Watchlist) -> WatchlistDigest:
    """Articles published on ``day`` with hits of ``watchlist``, most terms first.

    Each item carries, per term, the first hit (headline first) as its "why this is here".
    """
    by_article: dict[str, dict[str, Any]] = {}
    for row in wh.hits_for_day(watchlist.name, day):
        item = by_article.setdefault(row["article_id"], {
            "article_id": row["article_id"], "title": row["title"] or row["url"], "url": row["url"],
            "outlet_id": row["outlet_id"], "published_at": row["published_at"], "terms": [], "_hits": 0,
            "outlet_country": row["outlet_country"], "primary_country": row["primary_country"],
            "primary_region": row["primary_region"],
        })
        item["_hits"] += 1
        if all(t["term"] != row["term"] for t in item["terms"]):
            item["terms"].append({"term": row["term"], "alias": row["alias"], "matched": row["matched"],
                                  "field": row["field"], "snippet": row["snippet"]})
    ranked = sorted(by_article.values(),
                    key=lambda i: (-len(i["terms"]), -i["_hits"], i["published_at"] or datetime.max, i["url"]))
    ranked, top_stories = _group_stories(wh, ranked)
    counts: Counter[str] = Counter()
    items = []
    for rank, item in enumerate(ranked[:MAX_ITEMS_PER_WATCHLIST], start=1):
        item.pop("_hits")
        item["rank"] = rank
        counts.update(t["term"] for t in item["terms"])
        items.append(item)
    term_counts = dict(sorted(counts.items()))
    regions = Counter(i["primary_region"] or "unknown" for i in items)
    context = {
        "stories": top_stories,
        "spikes": spikes(wh, watchlist.name, day, term_counts),
        "regions": [{"region": r, "articles": n} for r, n in sorted(regions.items(), key=lambda x: (-x[1], x[0]))],
        "attention": [{"outlet_id": h["outlet_id"], "status": h["status"], "reason": h["status_reason"]}
                      for h in wh.sources_needing_attention()],
        "quality": [{"outlet_id": oid, "summary": quality_line(q), "articles": q["articles"]}
                    for oid, q in sorted(wh.latest_outlet_quality().items())],
    }
    return WatchlistDigest(day, watchlist.name, watchlist.version, items, term_counts, _json_safe(context))


def _group_stories(wh: Warehouse, ranked: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """One entry per story: the best-ranked article leads, the others of the day ride along ("also").

    Returns the items to list and the day's top stories (covered by several outlets), widest first.
    """
    stories = wh.stories_of([i["article_id"] for i in ranked])
    leaders: dict[str, dict[str, Any]] = {}
    items = []
    for item in ranked:
        story = stories.get(item["article_id"])
        item["story"] = None
        if story is None:
            items.append(item)
            continue
        lead = leaders.get(story["story_id"])
        if lead is None:
            coverage = coverage_text(len(story["outlets"]), len(story["outlet_countries"]))
            item["story"] = {"story_id": story["story_id"], "coverage": coverage,
                             "first_seen": story["first_seen"], "outlets": story["outlets"], "also": []}
            leaders[story["story_id"]] = item
            items.append(item)
        else:
            lead["story"]["also"].append({"article_id": item["article_id"], "title": item["title"],
                                          "url": item["url"], "outlet_id": item["outlet_id"]})
    top = [{"story_id": i["story"]["story_id"], "title": i["title"], "url": i["url"],
            "coverage": i["story"]["coverage"], "first_seen": i["story"]["first_seen"],
            "outlets": i["story"]["outlets"]}
           for i in items if i["story"] and len(i["story"]["outlets"]) > 1]
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


def store_watchlist_digest(wh: Warehouse, digest: WatchlistDigest, run_id: str, created_at: datetime) -> None:
    wh.store_digest(
        {"digest_date": digest.day, "watchlist": digest.watchlist, "watchlist_version": digest.version,
         "run_id": run_id, "item_count": len(digest.items), "term_counts": digest.term_counts,
         "context": digest.context, "created_at": created_at},
        [{"digest_date": digest.day, "watchlist": digest.watchlist, "article_id": i["article_id"],
          "rank": i["rank"], "title": i["title"], "url": i["url"], "outlet_id": i["outlet_id"],
          "published_at": i["published_at"], "terms": i["terms"], "outlet_country": i["outlet_country"],
          "primary_country": i["primary_country"], "primary_region": i["primary_region"],
          "story": _json_safe(i.get("story"))} for i in digest.items],
    )
    log.info("digest %s %s (v%s): %d articles, terms %s", digest.day, digest.watchlist, digest.version,
             len(digest.items), digest.term_counts or "none")


@dataclass
class SubscriptionDigest:
    """What one analyst receives for one day: their watchlists' stored digests plus context."""

    day: date
    subscription: Subscription
    sections: list[WatchlistDigest]
    outlet_names: dict[str, str]
    attention: list[dict[str, Any]]
    quality: list[dict[str, Any]] = field(default_factory=list)  # one line per outlet, latest run

    @property
    def article_count(self) -> int:
        return len({i["article_id"] for s in self.sections for i in s.items})

    @property
    def hit_count(self) -> int:
        return sum(sum(s.term_counts.values()) for s in self.sections)


def load_subscription_digest(wh: Warehouse, day: date, subscription: Subscription,
                             watchlists: dict[str, Watchlist], outlet_names: dict[str, str]) -> SubscriptionDigest:
    """Rebuild a subscription's digest from the stored rows, so the email shows what was stored."""
    sections = []
    for name in subscription.watchlists:
        stored = wh.daily_digest(day, name)
        if stored is None:
            raise LookupError(f"no digest composed for {day} and watchlist {name!r}; run the compose step first")
        items = wh.digest_items(day, name)
        sections.append(WatchlistDigest(day, name, stored["watchlist_version"], items,
                                        dict(stored["term_counts"]), stored.get("context") or {}))
    context = sections[0].context if sections else {}
    attention = [{**a, "name": outlet_names.get(a["outlet_id"], a["outlet_id"])}
                 for a in context.get("attention", [])]
    quality = [{**q, "name": outlet_names.get(q["outlet_id"], q["outlet_id"])} for q in context.get("quality", [])]
    quality.sort(key=lambda q: q["name"])
    return SubscriptionDigest(day, subscription, sections, outlet_names, attention, quality)


def quality_line(q: dict[str, Any]) -> str:
    """"12 articles, 1 quarantined (8%), 0 short" for the outlet's latest validated run."""
    n = q["articles"]
    quarantined = round(q["quarantined_share"] * n)
    short = round(q["short_share"] * n)
    line = f"{n} article{'' if n == 1 else 's'}, {quarantined} quarantined, {short} short"
    if q.get("failed_expectations"):
        line += "; failed batch checks: " + ", ".join(q["failed_expectations"])
    return line
