"""Countries and world regions mentioned in an article, with the names of the gazetteer
(:mod:`media_monitoring.tagging.gazetteer`). Every mention keeps its evidence: the matched text, where it
is, a snippet and the gazetteer entry.

Names that are also something else are handled by general rules, each driven by the supplement:
people (Jordan Ellis, Chad Morrison), common nouns (turkey), US states (Georgia), treaties named after
a city (Paris Agreement), and cities that share a name with a smaller city elsewhere (Tripoli).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from media_monitoring.config import Regions
from media_monitoring.records import PLACE, PlaceTag
from media_monitoring.tagging.gazetteer import Entry, load_gazetteer
from media_monitoring.tagging.localities import load_localities
from media_monitoring.tagging.matching import snippet, whole_word
from media_monitoring.text import fold

TITLE_WEIGHT = 2  # a country in the headline counts double towards the primary country
# What an article is about, as opposed to what it mentions: each country scores FOCUS_POINTS per mention by
# where the mention is (the headline, the lead, the rest; a dateline counts as the rest: it says where the
# reporter was), and the countries scoring at least FOCUS_SHARE of the best one's score are its focus (at most
# MAX_FOCUS). A country named once in passing ("unlike the US") never reaches half of the subject's score
# unless the article names nothing else.
FOCUS_POINTS = {"title": 3, "lead": 2, "body": 1}
FOCUS_SHARE = 0.5
MAX_FOCUS = 4
LEAD_CHARS = 200  # the lead: the body's first characters (about its first sentence)
MAX_EVIDENCE = 5  # evidence kept per tag; the count keeps the rest
# Headlines in Title Case capitalise every word, so "a capitalised neighbour makes a person's name"
# says nothing there. A title counts as Title Case when this share of its longer words is capitalised.
TITLE_CASE_SHARE = 0.6
TITLE_CASE_MIN_WORD = 4  # short words (a, of, in, the) stay lower case even in Title Case
# Words capitalised at the start of a sentence, so "In Jordan" or "From Chad" is no first name.
FUNCTION_WORDS = frozenset(
    "A About Across After Against Along Also Although Among An And Around As At Because Before Between "
    "Both But By Despite During Each Either Even For From How If In Including Inside Into Like "
    "Meanwhile Near Neither Neighbouring Neighboring Nor Of On Only Or Outside Over Since So Than That "
    "The Then Though Through To Toward Towards Under Unlike Until Via Visiting What When Where Whether "
    "While Why With Within Without Yet".split())
POSSESSIVES = ("'s", "’s")
CAPITALISED_RE = re.compile(r"[A-Z][\w'’-]*")
SENTENCE_BOUNDARY = ".!?:;\"“”‘'«»(—–-\n|"  # what may stand just before the first word of a sentence
NOT_SEEN = 10**9  # the offset of a place not mentioned yet: after any mention


@dataclass
class _Tally:
    """A place's mentions counted while one article is read; frozen into a :class:`PlaceTag` at the end."""

    kind: str
    code: str
    name: str
    mentions: int = 0
    weight: int = 0
    first: int = NOT_SEEN
    evidence: list[dict[str, Any]] = field(default_factory=list)
    where: dict[str, int] = field(default_factory=dict)  # mentions per FOCUS_POINTS part
    country: str | None = None  # a place's country

    def count(self, mentions: int, weight: int, first: int, part: str = "body") -> None:
        self.mentions += mentions
        self.weight += weight
        self.first = min(self.first, first)
        self.where[part] = self.where.get(part, 0) + mentions

    @property
    def focus_score(self) -> int:
        return sum(FOCUS_POINTS[part] * n for part, n in self.where.items())

    @property
    def wants_evidence(self) -> bool:
        return len(self.evidence) < MAX_EVIDENCE

    def tag(self, focus: dict[str, Any] | None = None) -> PlaceTag:
        return PlaceTag(self.kind, self.code, self.name, self.mentions, self.weight, self.first, tuple(self.evidence),
                        focus, self.country)


def _ranked(tallies: Iterable[_Tally], focus: dict[str, dict[str, Any]] | None = None) -> list[PlaceTag]:
    """Most weighted first, then the first mentioned; with ``focus``, those in it marked as the article's focus."""
    focus = focus or {}
    return [t.tag(focus.get(t.code)) for t in sorted(tallies, key=lambda t: (-t.weight, t.first))]


def _part(field_name: str, content: str, start: int, end: int) -> str:
    """Where a mention stands, for its focus score: "title", "lead" or "body". A dateline (the body opening with
    the place and a comma: "MOSCOW, October 28", "КАБУЛ, 28 октября") says where the reporter was: "body"."""
    if field_name == "title":
        return "title"
    if start >= LEAD_CHARS:
        return "body"
    if not content[:start].strip() and content[end:end + 2].lstrip().startswith((",", "،")):
        return "body"
    return "lead"


def focus_of(tallies: Iterable[_Tally]) -> dict[str, dict[str, Any]]:
    """The countries an article is about (see FOCUS_POINTS), each with why: its score, where it was named, and
    its share of the best score."""
    scored = sorted(((t.focus_score, t) for t in tallies), key=lambda st: (-st[0], st[1].first))
    if not scored:
        return {}
    best = scored[0][0]
    return {t.code: {"score": score, "share": round(score / best, 2), "in_title": t.where.get("title", 0),
                     "in_lead": t.where.get("lead", 0), "in_body": t.where.get("body", 0)}
            for score, t in scored[:MAX_FOCUS] if score >= FOCUS_SHARE * best}


class _Mention(NamedTuple):
    field: str
    content: str
    offset: int  # of the field in "title\ntext"
    match: re.Match[str]
    entry: Entry


def _is_title_case(title: str) -> bool:
    words = [w for w in re.findall(r"\w+", title) if len(w) >= TITLE_CASE_MIN_WORD and w[0].isalpha()]
    return bool(words) and sum(w[0].isupper() for w in words) >= TITLE_CASE_SHARE * len(words)


def _at_sentence_start(content: str, start: int) -> bool:
    before = content[:start].rstrip(" \t")
    return not before or before[-1] in SENTENCE_BOUNDARY


class PlaceTagger:
    """Countries and regions of one article."""

    def __init__(self, regions: Regions) -> None:
        self.gazetteer = load_gazetteer()
        self.localities = load_localities()
        self.groups = regions.groups
        self._groups_of: dict[str, list[str]] = {}  # country code -> the regions.yaml groups that hold it
        for group in self.groups:
            for code in dict.fromkeys(group.countries):
                self._groups_of.setdefault(code, []).append(group.name)

    def tag(self, title: str, text: str, home: str | None = None) -> tuple[list[PlaceTag], list[PlaceTag],
                                                                             list[PlaceTag]]:
        """Return (countries, regions, places), each most-weighted first; ``home``: the outlet's country."""
        title, text = title or "", text or ""
        full = f"{title}\n{text}"
        vetoed: set[tuple[str, int, int]] = set()
        mentions = list(self._mentions(title, text, vetoed))
        people = self._people(mentions, title)
        accepted = [m for m in mentions if m.entry.kind == "region" or self._accept(m, full, title, people)]
        # Countries the article names unambiguously settle the names with alternatives (Tripoli).
        named = {m.entry.code for m in accepted if m.entry.kind == "country" and not m.entry.alternatives}
        countries: dict[str, _Tally] = {}
        mentioned_regions: dict[str, _Tally] = {}
        for m in accepted:
            entry, (start, end) = m.entry, m.match.span()
            code, note = entry.code, None
            if entry.alternatives and entry.code not in named:
                code = next((alt for alt in entry.alternatives if alt in named), entry.code)
                if code != entry.code:
                    note = f"{m.match.group(0)} read as the one in {code}: the article names {code}"
            if entry.kind == "country":
                bucket, label = countries, self.gazetteer.country_names.get(code, code)
            else:
                bucket, label = mentioned_regions, code
            tally = bucket.setdefault(code, _Tally(entry.kind, code, label))
            tally.count(1, TITLE_WEIGHT if m.field == "title" else 1, m.offset + start,
                        _part(m.field, m.content, start, end))
            if tally.wants_evidence:
                evidence: dict[str, Any] = {"matched": m.match.group(0), "field": m.field, "span": [start, end],
                                            "offset": m.offset + start, "snippet": snippet(m.content, start, end),
                                            "entry": entry.source, "via": entry.via}
                if note:
                    evidence["resolved"] = note
                tally.evidence.append(evidence)
        seen = {(m.field, *m.match.span()): m.entry.via for m in mentions}
        places = self._places(title, text, countries, seen, vetoed, people, home)
        ranked = _ranked(countries.values(), focus_of(countries.values()))
        return ranked, self._regions(ranked, mentioned_regions), _ranked(places.values())

    def _places(self, title: str, text: str, countries: dict[str, _Tally], seen: dict[tuple[str, int, int], str],
                vetoed: set[tuple[str, int, int]], people: set[str], home: str | None) -> dict[str, _Tally]:
        """Cities and first-level regions (:mod:`media_monitoring.tagging.localities`), each read in the light of
        the countries the article names; a place also counts towards its country (for the focus), unless the
        same words already counted as the country's capital or city. ``seen``: the spans the country gazetteer
        matched with how (a place on the same words is the same place when they are a capital or a city, and no
        place when they name a country: "Armenia" is not the Colombian city), ``vetoed``: what is no place
        ("Shanghai Cooperation Organisation", "Paris Agreement"), which no place may overlap."""
        named = set(countries)
        title_case = _is_title_case(title)
        places: dict[str, _Tally] = {}
        for field_name, content, offset in (("title", title, 0), ("text", text, len(title) + 1)):
            spans = {(a, b): via for (f, a, b), via in seen.items() if f == field_name}
            blocked = [(a, b) for f, a, b in vetoed if f == field_name]
            for start, end, name in self.localities.find(content):
                same = (start, end) in spans
                if same and spans[(start, end)] not in ("capital", "city"):
                    continue  # a country's name, alias or demonym
                if any(a < end and start < b for a, b in blocked) or (
                        not same and any(a < end and start < b for a, b in spans)):
                    continue  # part of a name that is no place, or of a longer one the gazetteer read ("Lake Chad")
                typed = self.localities.has_region_word(content, start, end)
                if name.casefold() in people or (
                        not typed and not same and name.isascii() and not (field_name == "title" and title_case)
                        and self._is_person_context(content, start, end)):
                    continue  # "Sydney Smith", "Florence Nightingale"
                place = self.localities.resolve(name, named, typed=typed, home=home)
                if place is None:
                    continue
                reason = ("in a country the article names" if place.country in named else
                          "in the outlet's country" if place.country == home else
                          "written with its type" if place.kind == "admin1" else "the best-known place of this name")
                named.add(place.country)  # its other places are read in its country too
                tally = places.setdefault(place.id, _Tally(PLACE, place.id, place.name))
                tally.country = place.country
                part = _part(field_name, content, start, end)
                tally.count(1, TITLE_WEIGHT if field_name == "title" else 1, offset + start, part)
                if not same:
                    its_country = countries.setdefault(place.country, _Tally(
                        "country", place.country, self.gazetteer.country_names.get(place.country, place.country)))
                    its_country.count(1, TITLE_WEIGHT if field_name == "title" else 1, offset + start, part)
                    if its_country.wants_evidence:
                        its_country.evidence.append({"matched": name, "field": field_name, "span": [start, end],
                                              "offset": offset + start, "snippet": snippet(content, start, end),
                                              "entry": f"{place.kind}:{place.id}", "via": "place"})
                if tally.wants_evidence:
                    tally.evidence.append({"matched": name, "field": field_name, "span": [start, end],
                                           "offset": offset + start, "snippet": snippet(content, start, end),
                                           "kind": place.kind, "country": place.country,
                                           "population": place.population or None, "resolved": reason})
        return places

    def _mentions(self, title: str, text: str, vetoed: set[tuple[str, int, int]]) -> Iterator[_Mention]:
        """The gazetteer's names in the article; the spans of those that are no place ("Shanghai Cooperation
        Organisation", "Paris Agreement") go to ``vetoed`` instead."""
        gz = self.gazetteer
        for field_name, content, offset in (("title", title, 0), ("text", text, len(title) + 1)):
            for m in sorted(gz.finditer(content), key=lambda m: m.start()):
                entry = self._entry(m.group(0))
                if entry is None:
                    continue
                if entry.kind == "none" or (entry.via in ("capital", "city") and gz.document_re
                                            and gz.document_re.match(content, m.end())):
                    vetoed.add((field_name, *m.span()))  # "Paris Agreement": a treaty, not the city
                    continue
                yield _Mention(field_name, content, offset, m, entry)

    def _entry(self, matched: str) -> Entry | None:
        """The gazetteer's entry for a name as the article writes it."""
        return self.gazetteer.entries.get(fold(matched))

    def _people(self, mentions: list[_Mention], title: str) -> set[str]:
        """Ambiguous names this article uses as part of a person's name ("Jordan Ellis", "Chad Morrison").

        Copy introduces a person by full name and then says "Jordan" alone, so one such use makes every
        mention of that name in the article the person, the headline's included.
        """
        people = set()
        title_case = _is_title_case(title)
        for m in mentions:
            name = m.match.group(0).casefold()
            rule = self.gazetteer.rules.get(name)
            if rule and rule.person and not (m.field == "title" and title_case) \
                    and self._is_person_context(m.content, *m.match.span()):
                people.add(name)
        return people

    def _is_person_context(self, content: str, start: int, end: int) -> bool:
        """Jordan in "Michael Jordan", Chad in "Chad Smith": a capitalised neighbour makes a name,
        unless it is a sentence's first word ("In Jordan") or a title, institution or geographic word
        ("Jordan Valley", "Lake Chad", "Jordan Foreign Minister")."""
        before = content[max(0, start - 40):start].rstrip()
        after = content[end:end + 40].lstrip()
        prev_word = before.split()[-1] if before.split() else ""
        next_word = (after.split()[0] if after.split() else "").rstrip(".,;:!?)”’\"")
        prev_is_name = (bool(CAPITALISED_RE.fullmatch(prev_word)) and prev_word not in FUNCTION_WORDS
                        and prev_word not in self.gazetteer.not_name_words
                        and not before.endswith((".", ":", "!", "?")))
        next_is_name = (bool(CAPITALISED_RE.fullmatch(next_word)) and not next_word.endswith(POSSESSIVES)
                        and next_word not in self.gazetteer.not_name_words and content[end:end + 1] == " ")
        return prev_is_name or next_is_name

    def _accept(self, m: _Mention, full: str, title: str, people: set[str]) -> bool:
        name = m.match.group(0)
        rule = self.gazetteer.rules.get(name.casefold())
        if rule is None:
            return True
        if any(word in full for word in rule.veto) or name.casefold() in people:
            return False
        if rule.common_noun and re.search(whole_word(re.escape(name.lower())), full):
            # The article uses the common noun, so only a capital mid-sentence ("in Turkey") or a
            # possessive ("Turkey's president") is sure to be the country.
            if m.content.startswith(POSSESSIVES, m.match.end()):
                return True
            ambiguous_position = (name.isupper() or _at_sentence_start(m.content, m.match.start())
                                  or (m.field == "title" and _is_title_case(title)))
            return not ambiguous_position
        return True

    def _regions(self, countries: list[PlaceTag], mentioned: dict[str, _Tally]) -> list[PlaceTag]:
        """Regions named in the article and those of its countries; the focus ones: named in the headline, or
        holding a country the article is about."""
        regions: dict[str, _Tally] = {}
        focus: dict[str, dict[str, Any]] = {}
        for region in mentioned.values():
            regions[region.code] = region
            if region.where.get("title"):
                focus[region.code] = {"named_in_title": True}
        for country in countries:
            names = []
            if country.code in self.gazetteer.m49:
                names.append(self.gazetteer.m49[country.code])
            names.extend(self._groups_of.get(country.code, ()))
            for name in names:
                tally = regions.setdefault(name, _Tally("region", name, name))
                tally.count(country.mentions, country.weight, country.first)
                if country.focus is not None:
                    focus.setdefault(name, {}).setdefault("focus_countries", []).append(country.code)
                if tally.wants_evidence:
                    tally.evidence.append({"via_country": country.code, "entry": "m49" if name ==
                                           self.gazetteer.m49.get(country.code) else "regions.yaml"})
        return _ranked(regions.values(), focus)

    def m49_of(self, code: str | None) -> str | None:
        return self.gazetteer.m49.get(code or "")

    @staticmethod
    def primary_region(regions: list[PlaceTag], m49: str | None) -> str | None:
        """The region a headline names ("... US Army in Central Asia"), else the primary country's UN
        M49 sub-region, else the most-weighted region."""
        for region in regions:
            if any(e.get("field") == "title" for e in region.evidence):
                return region.code
        return m49 or (regions[0].code if regions else None)
