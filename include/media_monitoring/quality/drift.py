"""Extraction drift: an outlet whose share of short, empty or quarantined articles jumps against its
own history has probably changed its templates (a redesign), and its articles are being lost.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

MIN_BATCH = 3  # fewer articles in a run say nothing about a template
MIN_HISTORY_RUNS = 3  # runs with articles needed before an outlet has a "usual"
HISTORY_RUNS = 20  # how far back "usual" looks
JUMP_ABSOLUTE = 0.4  # the bad share must rise by 40 points...
JUMP_RATIO = 3.0  # ...and to at least three times its usual level


def bad_share(stats: dict[str, Any]) -> float:
    """Share of a run's articles that are short, empty or quarantined (the worst of the three)."""
    return max(stats.get("short_share") or 0.0, stats.get("empty_share") or 0.0,
               stats.get("quarantined_share") or 0.0)


def detect_drift(current: dict[str, Any], history: Sequence[dict[str, Any]]) -> str | None:
    """A reason string when ``current`` (this run's outlet stats) drifted from ``history`` (older runs)."""
    if (current.get("articles") or 0) < MIN_BATCH:
        return None
    past = [h for h in history if (h.get("articles") or 0) > 0][:HISTORY_RUNS]
    if len(past) < MIN_HISTORY_RUNS:
        return None
    usual = sum(bad_share(h) * h["articles"] for h in past) / sum(h["articles"] for h in past)
    now = bad_share(current)
    if now - usual >= JUMP_ABSOLUTE and now >= JUMP_RATIO * max(usual, 0.01):
        return (f"extraction drift: {now:.0%} of this run's {current['articles']} articles short, empty or "
                f"quarantined against {usual:.0%} usually (site redesign?)")
    return None
