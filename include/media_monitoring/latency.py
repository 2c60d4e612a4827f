"""How late the product is: publication -> alert and publication -> digest, per outlet or per term.

The times come from the warehouse (``warehouse.alerts.latency_rows``): published, first seen in a feed,
fetched, stored, first alerted (the alert an article raised) and first digested (the digest send that
delivered it). Percentiles are computed here from the rows; a group whose p95 exceeds its target is flagged.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any, Literal

# Priority outlets and terms: an alert within 15 minutes of publication (issue #26's goal).
ALERT_TARGET = timedelta(minutes=15)
# A daily digest delivers up to a day after publication, plus its hourly run and a slow feed's poll gap.
DIGEST_TARGET = timedelta(hours=26)

Group = Literal["outlet", "term"]


def percentile(values: Sequence[float], q: float) -> float | None:
    """The ``q``-th percentile (0-100) with linear interpolation between closest ranks; None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def _span(start: datetime | None, end: datetime | None) -> float | None:
    """Seconds from ``start`` to ``end``; a negative span (a publisher's clock ahead of ours) counts as 0."""
    if start is None or end is None:
        return None
    return max(0.0, (end - start).total_seconds())


# ``stored_at`` is the storing run's time (a scheduled run's slot, before its polls), so first seen ->
# stored is ~0 for scheduled runs; first seen -> alerted is the whole path after the poll.
STAGES = (("published_at", "first_seen_at", "seen"), ("first_seen_at", "stored_at", "stored"),
          ("first_seen_at", "alerted_at", "after_poll"), ("published_at", "alerted_at", "alert"),
          ("published_at", "digested_at", "digest"))


def latency_table(rows: Iterable[dict[str, Any]], *, by: Group = "outlet", priority_outlets: Iterable[str] = (),
                  priority_terms: Iterable[str] = (), alert_target: timedelta = ALERT_TARGET,
                  digest_target: timedelta = DIGEST_TARGET) -> list[dict[str, Any]]:
    """One row per outlet (or watchlist term): counts and p50/p95 in seconds of each stage, with flags.

    Stages: ``seen`` published -> first seen in a feed, ``stored`` first seen -> stored, ``after_poll``
    first seen -> alerted, ``alert`` published -> alerted, ``digest`` published -> digested. The alert target
    applies to priority outlets (by outlet) and priority terms (by term); the digest target to every group.
    Undated articles have no publication latency.
    """
    priority = set(priority_outlets if by == "outlet" else priority_terms)
    spans: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    articles: dict[str, int] = defaultdict(int)
    for row in rows:
        keys = [row["outlet_id"]] if by == "outlet" else list(row.get("terms") or ())
        for key in keys:
            articles[key] += 1
            for start, end, name in STAGES:
                value = _span(row.get(start), row.get(end))
                if value is not None:
                    spans[key][name].append(value)
    table = []
    for key in sorted(articles):
        out: dict[str, Any] = {by: key, "priority": key in priority, "articles": articles[key],
                               "alerted": len(spans[key]["alert"]), "digested": len(spans[key]["digest"])}
        for _start, _end, name in STAGES:
            out[f"{name}_p50_s"] = percentile(spans[key][name], 50)
            out[f"{name}_p95_s"] = percentile(spans[key][name], 95)
        flags = []
        if key in priority and out["alert_p95_s"] is not None and out["alert_p95_s"] > alert_target.total_seconds():
            flags.append(f"alert p95 over {human_duration(alert_target.total_seconds())}")
        if out["digest_p95_s"] is not None and out["digest_p95_s"] > digest_target.total_seconds():
            flags.append(f"digest p95 over {human_duration(digest_target.total_seconds())}")
        out["flags"] = flags
        table.append(out)
    return table


def human_duration(seconds: float | None) -> str:
    """45s, 7.5m, 23.1h, 12d; "-" for no value."""
    if seconds is None:
        return "-"
    if seconds < 60:
        return f"{seconds:.0f}s"
    if seconds < 3600:
        return f"{seconds / 60:.1f}m"
    if seconds < 72 * 3600:
        return f"{seconds / 3600:.1f}h"
    return f"{seconds / 86400:.0f}d"


def format_table(table: Sequence[dict[str, Any]], by: Group) -> str:
    """A fixed-width text table of :func:`latency_table` (times as 45s, 7.5m, 23.1h, 12d)."""
    cols = [by, "n", "alerted", "alert p50", "alert p95", "digested", "digest p50", "digest p95",
            "seen p50", "seen->alert p50", "flags"]
    lines = []
    for r in table:
        name = r[by] + (" *" if r["priority"] else "")
        t = {key: human_duration(r[f"{key}_s"]) for key in ("alert_p50", "alert_p95", "digest_p50", "digest_p95",
                                                              "seen_p50", "after_poll_p50")}
        lines.append([name, str(r["articles"]), str(r["alerted"]), t["alert_p50"], t["alert_p95"], str(r["digested"]),
                      t["digest_p50"], t["digest_p95"], t["seen_p50"], t["after_poll_p50"],
                      "; ".join(r["flags"]) or "ok"])
    widths = [max(len(c), *(len(line[i]) for line in lines)) if lines else len(c) for i, c in enumerate(cols)]
    out = ["  ".join(c.ljust(w) for c, w in zip(cols, widths, strict=True))]
    out += ["  ".join(v.ljust(w) for v, w in zip(line, widths, strict=True)) for line in lines]
    return "\n".join(out)
