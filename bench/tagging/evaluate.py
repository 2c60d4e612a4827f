"""Tagging evaluation: the real tagger against the labelled set in labelled.jsonl.

    .venv/bin/python bench/tagging/evaluate.py                   # scores, per language, every error
    .venv/bin/python bench/tagging/evaluate.py --json out.json   # also the details as JSON
    .venv/bin/python bench/tagging/evaluate.py --write-results   # rewrite the Tagging section of bench/RESULTS.md

labelled.jsonl is a FIXTURE, WRITTEN FOR EVALUATION (see README.md here for how it was labelled): short
news articles in several languages, with the traps (Georgia, Jordan, Turkey, Chad, Niger, Guinea, Congo)
and every form of the watchlist terms, each with its true watchlist terms, countries, regions and
primary country. The labels were written before the tagger was run on them and are not adjusted to it.

Each article goes through ``Tagger(watchlists.yaml, regions.yaml).tag(title, text)``, the call the
pipeline and ``media-monitor tag`` make. Scores are micro-averaged over (article, tag) pairs:
precision = right tags / tags given, recall = right tags / true tags, per tag type:

- watchlist: the set of terms hit (Afghanistan, CSTO, Lavrov);
- countries: ISO alpha-2 codes;
- regions: UN M49 sub-region names (country_converter's UNregion column, as the tagger uses) of the
  countries, plus regions the text names. The analyst groupings of regions.yaml ("CSTO members") are
  not scored: they follow from the countries;
- primary country: accuracy (None = None counts as right).
"""

from __future__ import annotations

import argparse
import json
import platform
import re
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT / "include"))

from media_monitoring.config import load_regions  # noqa: E402
from media_monitoring.tagging import Tagger  # noqa: E402

CONFIG = ROOT / "include" / "config"
LABELLED = HERE / "labelled.jsonl"
RESULTS = ROOT / "bench" / "RESULTS.md"
SECTION = "## Tagging"
SET_TYPES = ("watchlist", "countries", "regions")
# The languages the watchlist aliases and the gazetteer's translations are written for (English plus
# gazetteer.TRANSLATION_LANGUAGES); the set's other languages (fr, de, es, tr, kk, tg) are scored apart too.
TAGGER_LANGUAGES = ("en", "ru", "ar", "fa", "ps")


# The errors above reduced to minimal inputs, each with its cause as read in the tagger's code and data
# (2026-11-22). The report shows what the tagger gives for each now, so a fixed one shows as fixed.
# (cause, tag type, text, expected)
PROBES: tuple[tuple[str, str, str, frozenset[str]], ...] = tuple((c, k, t, frozenset(e)) for c, k, t, e in (
    ("country_converter's ISO2 cell for the UK is the regex '^GB$|^UK$' (Greece: '^GR$|^EL$'); "
     "gazetteer._claim_country_names skips it, so GB and GR get no M49 sub-region and no display name",
     "regions", "Talks were held in London and Athens.", {"Northern Europe", "Southern Europe"}),
    ("a capitalised French article before an ambiguous name ('Le Niger') passes for a first name, so "
     "Niger is dropped from the whole article", "countries", "Le Niger a signé un accord avec le Mali.",
     {"NE", "ML"}),
    ("names under MIN_NAME_CHARS (4) are kept only from the supplement: Russian «Чад», Persian «چاد» never "
     "match", "countries", "Чад и Нигер подписали соглашение. سفر به چاد", {"TD", "NE"}),
    ("two-word Russian names are not declined, and the declined second word matches a shorter name: "
     "«Экваториальной Гвинеи» is tagged Guinea, «Республики Конго» DR Congo", "countries",
     "Делегации Экваториальной Гвинеи и Республики Конго", {"GQ", "CG"}),
    ("two-word Russian names are not declined (accusative «Саудовскую Аравию»)", "countries",
     "Он отправится в Саудовскую Аравию.", {"SA"}),
    ("'Niger River' is not in not_places (only 'Niger Delta'), and 'River' after the name makes it no "
     "person", "countries", "Floods along the Niger River displaced thousands in Mali.", {"ML"}),
    ("the common-noun rule drops a sentence-initial 'Turkey' whenever the article also writes 'turkey', "
     "even where it can only be the country", "countries", "Turkey exported 62,000 tonnes of turkey meat to Iraq.",
     {"TR", "IQ"}),
    ("the US state of Georgia is recognised only through the veto phrases (Atlanta, 'Gov. Brian Kemp'...)",
     "countries", "Election workers in Georgia counted the ballots of the US Senate runoff by hand.", {"US"}),
    ("Arabic names the US state and the country alike (جورجيا), the veto phrases are English only, and "
     "Arabic demonyms (الأمريكية) are not in the supplement", "countries",
     "محكمة في ولاية جورجيا الأمريكية", {"US"}),
    ("'Afghan' is a whole-word alias and demonym with no exclusion for the dog breed", "watchlist",
     "An Afghan hound won best in show.", set()),
    ("the watchlist cannot tell Sergey Lavrov from another Lavrov (term excludes are empty)", "watchlist",
     "Фестиваль памяти актера Кирилла Лаврова открылся в Петербурге.", set()),
    ("the Russian noun for Afghans (афганец, афганцы, афганцев) is not an alias; only the adjective "
     "афганск- is", "watchlist", "Студенты-афганцы приехали в Казань.", {"Afghanistan"}),
    ("Arabic adjective and people forms (الأفغاني، الأفغانية، الأفغان) are not aliases", "watchlist",
     "فاز المنتخب الأفغاني على الهند", {"Afghanistan"}),
    ("Persian «افغانستانی» (Iranian usage for Afghan nationals) fails the whole-word match of افغانستان, and "
     "«افغان» is not an alias", "watchlist", "بازگشت اتباع افغانستانی از ایران", {"Afghanistan"}),
    ("the common Persian variant «سازمان پیمان امنیت دسته‌جمعی» (with or without ZWNJ) is not an alias",
     "watchlist", "نشست سازمان پیمان امنیت دسته‌جمعی در دوشنبه", {"CSTO"}),
    ("the CSTO has no Pashto alias («د ټولیز امنیت د تړون سازمان»)", "watchlist",
     "د ټولیز امنیت د تړون سازمان تمرینونه", {"CSTO"}),
    ("Pashto case forms (روسیې, oblique of روسیه) and the spelling قرغیزستان are not in the gazetteer",
     "countries", "د روسیې، قرغیزستان او تاجکستان سرتېري", {"RU", "KG", "TJ"}),
    ("common Arabic spellings بيلاروس and قرغيزستان are not in pycountry's Arabic names, and Gaza "
     "(غزة) is an alias in English only", "countries", "تضم بيلاروس وقرغيزستان. الأوضاع في قطاع غزة",
     {"BY", "KG", "PS"}),
    ("a broadcaster's name: 'France 24' is not in not_places", "countries",
     "Pashinyan told France 24 in an interview.", set()),
    ("German, French, Spanish, Turkish, Kazakh and Tajik forms are outside the aliases and translations "
     "(Lawrow, OVKS, OTSC, KGAÖ, ҰҚШҰ, СААД, Afganistán, Ауғанстан, Афғонистон)", "watchlist",
     "Sergej Lawrow und die OVKS. L'OTSC. Afganistán. Ауғанстан. Афғонистон.", {"Lavrov", "CSTO", "Afghanistan"}),
))


def probes() -> list[dict[str, Any]]:
    """Each PROBE tagged now: what it gives, and whether the error still reproduces."""
    groups = analyst_groups()
    out = []
    for cause, kind, text, expected in PROBES:
        tags = tagger().tag("", text)
        got = {"watchlist": {h.term for h in tags.watchlist_hits}, "countries": {c.code for c in tags.countries},
               "regions": {r.code for r in tags.regions if r.code not in groups}}[kind]
        reproduces = not expected <= got if kind == "regions" else got != expected
        out.append({"cause": cause, "type": kind, "input": text, "expected": sorted(expected), "got": sorted(got),
                    "reproduces": reproduces})
    return out


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

    def add(self, truth: set[str], got: set[str]) -> None:
        self.tp += len(truth & got)
        self.fp += len(got - truth)
        self.fn += len(truth - got)

    def to_json(self) -> dict[str, Any]:
        return {"tp": self.tp, "fp": self.fp, "fn": self.fn, "precision": round(self.precision, 4),
                "recall": round(self.recall, 4), "f1": round(self.f1, 4)}


@dataclass
class Evaluation:
    articles: int = 0
    scores: dict[str, Score] = field(default_factory=lambda: {t: Score() for t in SET_TYPES})
    by_language: dict[str, dict[str, Score]] = field(default_factory=dict)
    by_term: dict[str, Score] = field(default_factory=dict)
    primary_right: int = 0
    primary_by_language: dict[str, list[int]] = field(default_factory=dict)  # [right, total]
    errors: list[dict[str, Any]] = field(default_factory=list)
    ms_per_article: float = 0.0
    languages: dict[str, int] = field(default_factory=dict)

    @property
    def primary_accuracy(self) -> float:
        return self.primary_right / self.articles if self.articles else 1.0

    def group(self, languages: tuple[str, ...] | None) -> dict[str, Score]:
        """Scores pooled over ``languages`` (None: every language not in TAGGER_LANGUAGES)."""
        pooled = {t: Score() for t in SET_TYPES}
        for lang, scores in self.by_language.items():
            if (lang in languages) if languages is not None else (lang not in TAGGER_LANGUAGES):
                for t in SET_TYPES:
                    pooled[t].tp += scores[t].tp
                    pooled[t].fp += scores[t].fp
                    pooled[t].fn += scores[t].fn
        return pooled

    def to_json(self) -> dict[str, Any]:
        return {
            "articles": self.articles, "languages": self.languages,
            "scores": {t: s.to_json() for t, s in self.scores.items()},
            "primary_country_accuracy": round(self.primary_accuracy, 4),
            "by_language": {lang: {t: s.to_json() for t, s in scores.items()}
                            for lang, scores in self.by_language.items()},
            "primary_by_language": self.primary_by_language,
            "by_term": {t: s.to_json() for t, s in self.by_term.items()},
            "tagger_languages": {t: s.to_json() for t, s in self.group(TAGGER_LANGUAGES).items()},
            "other_languages": {t: s.to_json() for t, s in self.group(None).items()},
            "errors": self.errors, "ms_per_article": round(self.ms_per_article, 2),
        }


def load_labelled(path: Path = LABELLED) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


@cache
def tagger() -> Tagger:
    return Tagger(CONFIG / "watchlists.yaml", CONFIG / "regions.yaml")


@cache
def analyst_groups() -> frozenset[str]:
    return frozenset(g.name for g in load_regions(CONFIG / "regions.yaml").groups)


def _evidence(tags: list[Any], code: str) -> str:
    for tag in tags:
        if tag.code == code:
            seen = [e.get("matched") or f"via {e.get('via_country')}" for e in tag.evidence]
            return ", ".join(dict.fromkeys(str(s) for s in seen))
    return ""


def evaluate(articles: list[dict[str, Any]] | None = None) -> Evaluation:
    articles = load_labelled() if articles is None else articles
    tg = tagger()
    result = Evaluation(articles=len(articles))
    groups = analyst_groups()
    tg.tag("Lavrov in Kabul", "Lavrov met the CSTO in Kabul.")  # the compiled matchers load on the first call
    started = time.perf_counter()
    tagged = [tg.tag(a["title"], a["text"]) for a in articles]
    result.ms_per_article = 1000 * (time.perf_counter() - started) / max(1, len(articles))
    for a, tags in zip(articles, tagged, strict=True):
        lang = a["lang"]
        result.languages[lang] = result.languages.get(lang, 0) + 1
        got = {
            "watchlist": {h.term for h in tags.watchlist_hits},
            "countries": {c.code for c in tags.countries},
            "regions": {r.code for r in tags.regions if r.code not in groups},
        }
        truth = {t: set(a[t]) for t in SET_TYPES}
        per_lang = result.by_language.setdefault(lang, {t: Score() for t in SET_TYPES})
        for t in SET_TYPES:
            result.scores[t].add(truth[t], got[t])
            per_lang[t].add(truth[t], got[t])
        for term in truth["watchlist"] | got["watchlist"] | {"Afghanistan", "CSTO", "Lavrov"}:
            result.by_term.setdefault(term, Score()).add(truth["watchlist"] & {term}, got["watchlist"] & {term})
        right = tags.primary_country == a["primary_country"]
        result.primary_right += right
        counts = result.primary_by_language.setdefault(lang, [0, 0])
        counts[0] += right
        counts[1] += 1
        for t in SET_TYPES:
            missing, extra = sorted(truth[t] - got[t]), sorted(got[t] - truth[t])
            if not (missing or extra):
                continue
            if t == "watchlist":
                why = {term: ", ".join(dict.fromkeys(f"{h.matched!r} ({h.field})" for h in tags.watchlist_hits
                                                     if h.term == term)) for term in extra}
            elif t == "countries":
                why = {code: _evidence(tags.countries, code) for code in extra}
            else:
                why = {code: _evidence(tags.regions, code) for code in extra}
            result.errors.append({"id": a["id"], "lang": lang, "type": t, "missing": missing, "extra": extra,
                                  "extra_evidence": why, "traps": a.get("traps", [])})
        if not right:
            result.errors.append({"id": a["id"], "lang": lang, "type": "primary_country",
                                  "expected": a["primary_country"], "got": tags.primary_country,
                                  "ranking": [c.code for c in tags.countries], "traps": a.get("traps", [])})
    result.by_language = dict(sorted(result.by_language.items(), key=lambda kv: (-result.languages[kv[0]], kv[0])))
    return result


def format_error(e: dict[str, Any]) -> str:
    if e["type"] == "primary_country":
        return (f"{e['id']:<6} primary_country: expected {e['expected']}, got {e['got']} "
                f"(ranking {', '.join(e['ranking']) or '-'})")
    parts = []
    if e["missing"]:
        parts.append("missed " + ", ".join(e["missing"]))
    if e["extra"]:
        parts.append("wrongly added " + "; ".join(f"{x} [{e['extra_evidence'].get(x, '')}]" for x in e["extra"]))
    return f"{e['id']:<6} {e['type']}: " + " | ".join(parts)


def report(ev: Evaluation) -> str:
    lines = [f"{ev.articles} articles ({', '.join(f'{k} {v}' for k, v in ev.languages.items())}); "
             f"{ev.ms_per_article:.1f} ms per article", "",
             f"{'tag type':<16} {'P':>6} {'R':>6} {'F1':>6} {'TP':>5} {'FP':>4} {'FN':>4}"]
    for t, s in ev.scores.items():
        lines.append(f"{t:<16} {s.precision:>6.3f} {s.recall:>6.3f} {s.f1:>6.3f} {s.tp:>5} {s.fp:>4} {s.fn:>4}")
    lines.append(f"{'primary country':<16} accuracy {ev.primary_accuracy:.3f} ({ev.primary_right}/{ev.articles})")
    for name, langs in (("tagger languages (" + ", ".join(TAGGER_LANGUAGES) + ")", TAGGER_LANGUAGES),
                        ("other languages", None)):
        pooled = ev.group(langs)
        lines.append(f"  {name}: " + "; ".join(f"{t} P {sc.precision:.3f} R {sc.recall:.3f}"
                                                for t, sc in pooled.items()))
    lines += ["", "Watchlist by term:"]
    for term, s in sorted(ev.by_term.items()):
        lines.append(f"  {term:<12} P {s.precision:.3f} R {s.recall:.3f} (TP {s.tp}, FP {s.fp}, FN {s.fn})")
    lines += ["", "By language (P/R; primary accuracy):",
              f"  {'lang':<5} {'n':>3} {'watchlist':>13} {'countries':>13} {'regions':>13} {'primary':>8}"]
    for lang, scores in ev.by_language.items():
        right, total = ev.primary_by_language[lang]
        cells = " ".join(f"{scores[t].precision:>6.2f}/{scores[t].recall:<6.2f}" for t in SET_TYPES)
        lines.append(f"  {lang:<5} {ev.languages[lang]:>3} {cells} {right:>4}/{total:<3}")
    lines += ["", f"Errors ({len(ev.errors)}):"]
    lines += ["  " + format_error(e) for e in ev.errors]
    lines += ["", "Causes, each on a minimal input (got / expected):"]
    for p in probes():
        state = "REPRODUCES" if p["reproduces"] else "fixed"
        lines.append(f"  [{state}] {p['type']}: {p['input']!r} -> {p['got']} / {p['expected']}: {p['cause']}")
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
    import os

    return (f"{cpu} ({os.cpu_count()} CPUs), Python {platform.python_version()}, "
            f"{platform.system()} {platform.release()}")


def _commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                              check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def results_section(ev: Evaluation, stories_text: str | None) -> str:
    """The Markdown of the Tagging section of bench/RESULTS.md."""
    s = ev.scores
    out = [SECTION, "",
           f"Measured {datetime.now(UTC):%Y-%m-%d} on {_machine()}, at commit {_commit()} plus the working tree.",
           "", "### Tagger on the labelled set", "",
           f"Method: `.venv/bin/python bench/tagging/evaluate.py` runs the real tagger "
           "(`Tagger(include/config/watchlists.yaml, include/config/regions.yaml).tag(title, text)`, as the "
           f"pipeline does) on the {ev.articles} articles of `bench/tagging/labelled.jsonl` (fixture, written "
           "for evaluation; labelling rules in `bench/tagging/README.md`; labels written before the tagger was "
           "run and not adjusted to it). Micro-averaged precision/recall over (article, tag) pairs; regions are "
           "UN M49 sub-regions of the countries plus regions the text names (analyst groupings not scored).", "",
           "| tag type | precision | recall | F1 | TP | FP | FN |", "|---|---|---|---|---|---|---|"]
    for t in SET_TYPES:
        out.append(f"| {t} | {s[t].precision:.3f} | {s[t].recall:.3f} | {s[t].f1:.3f} | {s[t].tp} | {s[t].fp} | "
                   f"{s[t].fn} |")
    out.append(f"| primary country (accuracy) | {ev.primary_accuracy:.3f} | | | {ev.primary_right}/{ev.articles} "
               "| | |")
    for name, langs in (("In the languages the tagger is written for (" + ", ".join(TAGGER_LANGUAGES) + ")",
                         TAGGER_LANGUAGES), ("In the other languages of the set", None)):
        pooled = ev.group(langs)
        out += ["", f"{name}: " + "; ".join(f"{t} P {sc.precision:.3f} R {sc.recall:.3f}"
                                             for t, sc in pooled.items()) + "."]
    out += ["", "Watchlist by term: " + "; ".join(
        f"{term} P {sc.precision:.3f} R {sc.recall:.3f}" for term, sc in sorted(ev.by_term.items())) + ".", "",
        "| language | articles | watchlist P / R | countries P / R | regions P / R | primary |",
        "|---|---|---|---|---|---|"]
    for lang, scores in ev.by_language.items():
        right, total = ev.primary_by_language[lang]
        cells = " | ".join(f"{scores[t].precision:.2f} / {scores[t].recall:.2f}" for t in SET_TYPES)
        out.append(f"| {lang} | {ev.languages[lang]} | {cells} | {right}/{total} |")
    out += ["", f"Every error ({len(ev.errors)}), as `evaluate.py` lists them:", "", "```"]
    out += [format_error(e) for e in ev.errors]
    out += ["```", "", "Causes of these errors, each reduced to a minimal input (tag type, input, what the tagger "
            "gives, what is right, whether it still reproduces):", "",
            "| cause | type | input | got | expected | reproduces |", "|---|---|---|---|---|---|"]
    for p in probes():
        cells = [p["cause"], p["type"], f"`{p['input']}`", ", ".join(p["got"]) or "-",
                 ", ".join(p["expected"]) or "-", "yes" if p["reproduces"] else "no (fixed)"]
        out.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    out += ["", "Disagreements that follow from the labelling rules rather than from a defect: 'Brussels' "
            "standing for the EU tagged BE (en-04), 'Turkish coffee' TR (en-26), 'ethnic Uzbeks' UZ (en-29), "
            "nationality demonyms missing from the supplement ('бразильский', 'englische', 'الأمريكي'). Several "
            "primary-country misses are judgement calls between two countries (ar-01, fa-01, ru-09, ar-05, "
            "de-02); see the notes in labelled.jsonl.", ""]
    if stories_text:
        out += ["### Stories (near-duplicate grouping)", "", stories_text.rstrip(), ""]
    return "\n".join(out)


def write_results(section: str, path: Path = RESULTS) -> None:
    """Replace this file's Tagging section (from its heading to the next '## ' heading), or append it."""
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmark results\n"
    match = re.search(rf"^{re.escape(SECTION)}[ \t]*$", text, flags=re.M)
    if match:
        nxt = re.search(r"^## ", text[match.end():], flags=re.M)
        end = match.end() + nxt.start() if nxt else len(text)
        text = text[:match.start()] + section.rstrip() + "\n\n" + text[end:].lstrip("\n")
    else:
        text = text.rstrip() + "\n\n" + section.rstrip() + "\n"
    path.write_text(text.rstrip() + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", type=Path, help="write the details here")
    parser.add_argument("--write-results", action="store_true",
                        help=f"rewrite the '{SECTION}' section of {RESULTS.relative_to(ROOT)} (stories included)")
    args = parser.parse_args(argv)
    ev = evaluate()
    print(report(ev))
    if args.json:
        args.json.write_text(json.dumps(ev.to_json(), ensure_ascii=False, indent=2), encoding="utf-8")
    if args.write_results:
        import stories_eval

        write_results(results_section(ev, stories_eval.markdown()))
        print(f"\nwrote the {SECTION!r} section of {RESULTS}")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(HERE))
    raise SystemExit(main())
