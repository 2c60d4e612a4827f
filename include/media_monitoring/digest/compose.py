"""Compose a day's digest per watchlist from stored hits, and store exactly what will be sent."""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from media_monitoring.config import Subscription, Watchlist
from media_monitoring.warehouse import Warehouse

log = logging.getLogger(__name__)

MAX_ITEMS_PER_WATCHLIST = 100  # a digest is read in a morning; the UI holds the rest


@dataclass
class WatchlistDigest:
    day: date
    watchlist: str
    version: str
    items: list[dict[str, Any]] = field(default_factory=list)
    term_counts: dict[str, int] = field(default_factory=dict)


def compose_watchlist(wh: Warehouse, day: date, watchlist: Watchlist) -> WatchlistDigest:
    """Articles published on ``day`` with hits of ``watchlist``, most terms first.

    Each item carries, per term, the first hit (headline first) as its "why this is here".
    """
    by_article: dict[str, dict[str, Any]] = {}
    for row in wh.hits_for_day(watchlist.name, day):
        item = by_article.setdefault(row["article_id"], {
            "article_id": row["article_id"], "title": row["title"] or row["url"], "url": row["url"],
            "outlet_id": row["outlet_id"], "published_at": row["published_at"], "terms": [], "_hits": 0,
        })
        item["_hits"] += 1
        if all(t["term"] != row["term"] for t in item["terms"]):
            item["terms"].append({"term": row["term"], "alias": row["alias"], "matched": row["matched"],
                                  "field": row["field"], "snippet": row["snippet"]})
    ranked = sorted(by_article.values(),
                    key=lambda i: (-len(i["terms"]), -i["_hits"], i["published_at"] or datetime.max, i["url"]))
    counts: Counter[str] = Counter()
    items = []
    for rank, item in enumerate(ranked[:MAX_ITEMS_PER_WATCHLIST], start=1):
        item.pop("_hits")
        item["rank"] = rank
        counts.update(t["term"] for t in item["terms"])
        items.append(item)
    return WatchlistDigest(day, watchlist.name, watchlist.version, items, dict(sorted(counts.items())))


def store_watchlist_digest(wh: Warehouse, digest: WatchlistDigest, run_id: str, created_at: datetime) -> None:
    wh.store_digest(
        {"digest_date": digest.day, "watchlist": digest.watchlist, "watchlist_version": digest.version,
         "run_id": run_id, "item_count": len(digest.items), "term_counts": digest.term_counts,
         "created_at": created_at},
        [{"digest_date": digest.day, "watchlist": digest.watchlist, "article_id": i["article_id"],
          "rank": i["rank"], "title": i["title"], "url": i["url"], "outlet_id": i["outlet_id"],
          "published_at": i["published_at"], "terms": i["terms"]} for i in digest.items],
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
        items = wh.digest_items(day, name)
        counts: Counter[str] = Counter(t["term"] for i in items for t in i["terms"])
        sections.append(WatchlistDigest(day, name, watchlists[name].version, items, dict(sorted(counts.items()))))
    attention = [{"outlet_id": h["outlet_id"], "name": outlet_names.get(h["outlet_id"], h["outlet_id"]),
                  "status": h["status"], "reason": h["status_reason"]}
                 for h in wh.sources_needing_attention()]
    latest = wh.latest_outlet_quality()
    quality = [{"outlet_id": oid, "name": name, "articles": q["articles"],
                "summary": quality_line(q)} for oid, name in sorted(outlet_names.items(), key=lambda x: x[1])
               if (q := latest.get(oid))]
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
