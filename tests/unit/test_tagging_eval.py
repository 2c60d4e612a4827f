"""The tagger on the labelled evaluation set (bench/tagging/labelled.jsonl), with floors it reaches.

The set is a fixture written for evaluation: 69 short articles in 11 languages with the traps (Georgia,
Jordan, Turkey, Chad, Niger, Guinea, Congo, "Afghan hound", «лавровый лист», a namesake of Lavrov) and
the watchlist terms in every spelling outlets use. bench/tagging/evaluate.py scores it and writes the
numbers into bench/RESULTS.md; this test keeps them from sliding back.

The floors are the scores reached, rounded down, not the targets: the issue asked for watchlist precision
and recall of 0.95, and the tagger reaches that recall in none of the groups below (see the last test and
bench/RESULTS.md for every error). Raise a floor when a fix lifts a score.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

pytestmark = pytest.mark.unit

BENCH = Path(__file__).resolve().parents[2] / "bench" / "tagging"

# (group, tag type) -> (precision floor, recall floor). Reached on 69 articles: overall watchlist
# 0.955 / 0.712, countries 0.959 / 0.838, regions 0.955 / 0.846; in en, ru, ar, fa, ps watchlist
# 0.946 / 0.875, countries 0.954 / 0.913, regions 0.949 / 0.949; English alone watchlist 0.909 / 1.000,
# countries 0.918 / 1.000.
FLOORS = {
    ("all", "watchlist"): (0.95, 0.70),
    ("all", "countries"): (0.95, 0.83),
    ("all", "regions"): (0.95, 0.84),
    ("tagger languages", "watchlist"): (0.94, 0.87),
    ("tagger languages", "countries"): (0.95, 0.91),
    ("tagger languages", "regions"): (0.94, 0.94),
    ("en", "watchlist"): (0.90, 1.00),
    ("en", "countries"): (0.91, 1.00),
}
MIN_PRIMARY_ACCURACY = 0.75  # reached 0.768


@cache
def _module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("tagging_evaluate", BENCH / "evaluate.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@cache
def _evaluation() -> Any:
    return _module().evaluate()


def _scores(group: str) -> dict[str, Any]:
    ev, module = _evaluation(), _module()
    if group == "all":
        return ev.scores
    if group == "tagger languages":
        return ev.group(module.TAGGER_LANGUAGES)
    return ev.by_language[group]


def _errors(kind: str | None = None, languages: tuple[str, ...] | None = None) -> str:
    ev, module = _evaluation(), _module()
    return "\n".join(module.format_error(e) for e in ev.errors
                     if (kind is None or e["type"] == kind) and (languages is None or e["lang"] in languages))


def test_the_labelled_set_is_what_the_issue_asked_for() -> None:
    rows = _module().load_labelled()
    assert len(rows) >= 60
    assert {r["lang"] for r in rows} >= {"en", "ru", "ar", "fa", "ps", "fr", "de"}
    assert all(r["origin"] == "fixture, written for evaluation" for r in rows)
    assert all(60 <= len(re.findall(r"\w+", r["title"] + " " + r["text"])) <= 250 for r in rows)
    traps = " ".join(t for r in rows for t in r["traps"])
    for trap in ("Georgia (US state)", "Jordan (person)", "Turkey (bird)", "Chad (person)", "Niger vs Nigeria",
                 "Papua New Guinea", "Congo", "Afghan hound", "лавровый лист", "csto in a URL", "namesake"):
        assert trap in traps, trap
    assert any(not r["watchlist"] and not r["countries"] for r in rows)  # a true negative for everything


@pytest.mark.parametrize(("group", "kind"), sorted(FLOORS))
def test_precision_and_recall_floors(group: str, kind: str) -> None:
    score = _scores(group)[kind]
    min_p, min_r = FLOORS[(group, kind)]
    languages = None if group == "all" else _module().TAGGER_LANGUAGES if group == "tagger languages" else (group,)
    assert score.precision >= min_p and score.recall >= min_r, (
        f"{group} {kind}: P {score.precision:.3f} (floor {min_p}), R {score.recall:.3f} (floor {min_r})\n"
        + _errors(kind, languages))


def test_primary_country_accuracy() -> None:
    ev = _evaluation()
    assert ev.primary_accuracy >= MIN_PRIMARY_ACCURACY, (
        f"primary country accuracy {ev.primary_accuracy:.3f}\n" + _errors("primary_country"))


def test_no_watchlist_term_in_the_trap_articles() -> None:
    """«лавровый лист», lower-case csto, the breed "Afghan hound", the actor Kirill Lavrov, Georgia/Jordan/
    Turkey/Chad traps: no watchlist hit in any trap article."""
    ev, rows = _evaluation(), {r["id"]: r for r in _module().load_labelled()}
    false_hits = sorted(e["id"] for e in ev.errors if e["type"] == "watchlist" and e["extra"]
                        and rows[e["id"]].get("traps"))
    assert false_hits == [], _errors("watchlist")
    assert rows["en-20"]["traps"] == ["Afghan hound"]


def test_the_issues_target_of_095_for_the_watchlist_in_the_taggers_languages() -> None:
    score = _scores("tagger languages")["watchlist"]
    assert score.precision >= 0.95 and score.recall >= 0.95, _errors("watchlist", _module().TAGGER_LANGUAGES)
