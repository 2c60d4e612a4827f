"""One entry point for tagging an article: watchlist hits, countries, regions and the primaries.

The DAG's process task, the retag DAG and ``media-monitor tag`` all call :meth:`Tagger.tag`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from media_monitoring.config import Watchlists, load_regions, load_watchlists
from media_monitoring.records import Hit, PlaceTag
from media_monitoring.tagging.places import PlaceTagger
from media_monitoring.tagging.watchlists import WatchlistMatcher


@dataclass
class TagResult:
    """What an article is tagged with. ``countries`` and ``regions`` are every one it refers to, most weighted
    first; those it is about have a ``focus`` (why), the others it only mentions."""

    watchlist_hits: list[Hit]
    countries: list[PlaceTag]
    regions: list[PlaceTag]
    primary_country: str | None
    primary_region: str | None
    places: list[PlaceTag] = field(default_factory=list)  # cities and first-level regions, most weighted first

    @property
    def focus_countries(self) -> list[PlaceTag]:
        return [c for c in self.countries if c.focus is not None]

    @property
    def focus_regions(self) -> list[PlaceTag]:
        return [r for r in self.regions if r.focus is not None]

    def to_json(self) -> dict[str, Any]:
        return {
            "watchlist_hits": [h.to_json() for h in self.watchlist_hits],
            "countries": [c.to_json() for c in self.countries],
            "focus_countries": [c.code for c in self.focus_countries],
            "mentioned_countries": [c.code for c in self.countries if c.focus is None],
            "regions": [r.to_json() for r in self.regions],
            "focus_regions": [r.code for r in self.focus_regions],
            "places": [p.to_json() for p in self.places],
            "primary_country": self.primary_country,
            "primary_region": self.primary_region,
        }


class Tagger:
    """Load the gazetteer and the watchlists once; tag many articles."""

    def __init__(self, watchlists: Watchlists | Path, regions_file: Path, only: tuple[str, ...] | None = None) -> None:
        """``watchlists``: those in force (:func:`media_monitoring.curation.watchlists.in_force`), or a
        watchlists.yaml file read as it is (evaluations, ``media-monitor tag``)."""
        lists = (watchlists if isinstance(watchlists, Watchlists) else load_watchlists(watchlists)).watchlists
        if only:
            unknown = set(only) - {w.name for w in lists}
            if unknown:
                raise ValueError(f"unknown watchlist(s) {sorted(unknown)}; there are {sorted(w.name for w in lists)}")
            lists = tuple(w for w in lists if w.name in only)
        self.watchlists = WatchlistMatcher(lists)
        self.places = PlaceTagger(load_regions(regions_file))

    def tag(self, title: str | None, text: str | None, outlet_country: str | None = None) -> TagResult:
        """Tag one article; ``outlet_country`` (the outlet's, alpha-2) reads the towns of local news."""
        title, text = title or "", text or ""
        hits = self.watchlists.match(title, text)
        countries, regions, places = self.places.tag(title, text, outlet_country)
        # the most weighted of the countries the article is about
        primary_country = next((c.code for c in countries if c.focus is not None), None)
        primary_region = self.places.primary_region(regions, self.places.m49_of(primary_country))
        return TagResult(hits, countries, regions, primary_country, primary_region, places)
