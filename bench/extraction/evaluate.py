"""Extraction benchmark: our extraction path vs bare trafilatura on the pages in manifest.yaml.

    .venv/bin/python bench/extraction/evaluate.py                  # main table + settings sweep
    .venv/bin/python bench/extraction/evaluate.py --pages          # also one line per page
    .venv/bin/python bench/extraction/evaluate.py --json out.json  # per-page details

Body text is scored with 4-gram word shingles against gold/<name>.txt: texts are NFKC-normalised,
case-folded, stripped of Unicode format characters (ZWNJ, bidi marks) and cut into ``\\w+`` tokens; a
page's shingles are a multiset, precision = shared / extracted, recall = shared / gold. Micro averages
pool the shingle counts of all pages, macro averages are means of the per-page values. Non-article
pages (a consent wall) have no gold body: they are left out of the body scores and reported apart.

Metadata: title exact match after whitespace normalisation; author exact match after whitespace and
case normalisation (null matches null); date by day and to the minute (as instants; minute only where
the page shows a time). The bare-trafilatura rows take title/author/date from trafilatura's own
metadata extraction with its defaults, computed apart from the timed call.

Cases (``cases/labels.yaml``): hand-written pages with the feed entry that led to each, for the dates,
headlines and texts that are judged against the feed (issue #24, item 6). Ours is called as collect calls
it, with the entry's title, date and summary and the time it was first seen; bare is
``trafilatura.extract(html)`` with trafilatura's own metadata. Scored per case: body F1, title, date
(minute, or day where the label is a bare day) and, for ours, where the date came from.

Cost: per page, ``time.process_time`` around the one call of each variant (the whole of our path:
``extract_article`` with metadata, dates, language; bare: ``trafilatura.extract(html)``), after a
warm-up pass, the minimum over ``--repeat`` rounds whose variant order rotates; reported as mean
CPU ms per page and as the ratio to bare ``trafilatura.extract``.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import logging
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
import unicodedata
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT / "include"))

import trafilatura  # noqa: E402

from media_monitoring.boilerplate import OutletTemplate  # noqa: E402
from media_monitoring.extract import extract_article  # noqa: E402

REPLAY_TOKEN = b"{{REPLAY_BASE}}"
REPLAY_BASE = b"http://127.0.0.1:8765"
SHINGLE = 4
_WORD_RE = re.compile(r"\w+")


# --- scoring ---------------------------------------------------------------------------------------------

def tokens(text: str) -> list[str]:
    text = unicodedata.normalize("NFKC", text or "")
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Cf")
    return _WORD_RE.findall(text.casefold())


def shingles(text: str, n: int = SHINGLE) -> Counter[tuple[str, ...]]:
    toks = tokens(text)
    if len(toks) < n:
        return Counter([tuple(toks)]) if toks else Counter()
    return Counter(tuple(toks[i:i + n]) for i in range(len(toks) - n + 1))


@dataclass
class BodyScore:
    shared: int
    extracted: int
    gold: int

    @property
    def precision(self) -> float:
        return self.shared / self.extracted if self.extracted else (1.0 if not self.gold else 0.0)

    @property
    def recall(self) -> float:
        return self.shared / self.gold if self.gold else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def score_body(extracted: str, gold: str) -> BodyScore:
    e, g = shingles(extracted), shingles(gold)
    return BodyScore(sum((e & g).values()), sum(e.values()), sum(g.values()))


def _norm_ws(value: str | None) -> str | None:
    return " ".join(value.split()) if value and value.strip() else None


def title_ok(pred: str | None, gold: str) -> bool:
    return _norm_ws(pred) == _norm_ws(gold)


def author_ok(pred: str | None, gold: str | None) -> bool:
    p, g = _norm_ws(pred), _norm_ws(gold)
    return (p.casefold() if p else None) == (g.casefold() if g else None)


def _instant(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def date_ok(pred: Any, gold: str, precision: str) -> tuple[bool, bool | None]:
    """(same day in the gold's own offset, same minute as instants or None when gold has no time)."""
    g = datetime.fromisoformat(gold)
    p = _instant(pred)
    if p is None:
        return False, (False if precision == "minute" else None)
    if isinstance(pred, str) and len(pred) <= 10:  # a bare day: compare days only
        day = p.date() == g.date()
    else:
        day = p.astimezone(g.tzinfo).date() == g.date()
    if precision != "minute":
        return day, None
    return day, abs((p - g).total_seconds()) < 60


# --- variants ----------------------------------------------------------------------------------------------

@dataclass
class Output:
    text: str
    title: str | None = None
    author: str | None = None
    date: Any = None
    extractor: str | None = None


@dataclass
class Variant:
    name: str
    run: Callable[[bytes, str], Output]  # the timed call
    meta: Callable[[bytes, str], Output] | None = None  # untimed metadata for bare trafilatura rows
    post: Callable[[dict, Output], Output] | None = None  # corpus-level step (boilerplate), timed apart
    note: str = ""


def _traf_meta(html: bytes, url: str) -> Output:
    doc = trafilatura.bare_extraction(html, url=url, with_metadata=True)
    return Output("", getattr(doc, "title", None), getattr(doc, "author", None), getattr(doc, "date", None))


def _traf(**kwargs: Any) -> Callable[[bytes, str], Output]:
    def run(html: bytes, url: str) -> Output:
        return Output(trafilatura.extract(html, **kwargs) or "")
    return run


def _ours(fn: Callable[..., Any]) -> Callable[[bytes, str], Output]:
    def run(html: bytes, url: str) -> Output:
        x = fn(html, url)
        return Output(x.text, x.title, x.author, x.published, getattr(x, "extractor", None))
    return run


# extract.py as it was before the benchmark-driven changes (the "before" row)
BEFORE_COMMIT = "7ed4ec70af8d801e041682b6eb21ff493381c215"


def _before_extract_article() -> Callable[..., Any] | None:
    """extract_article as of BEFORE_COMMIT, or None outside a git checkout."""
    try:
        source = subprocess.run(
            ["git", "-C", str(ROOT), "show", f"{BEFORE_COMMIT}:include/media_monitoring/extract.py"],
            capture_output=True, text=True, check=True, timeout=30).stdout
    except (OSError, subprocess.CalledProcessError, subprocess.TimeoutExpired):
        return None
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "extract_before.py"
        path.write_text(source, encoding="utf-8")
        spec = importlib.util.spec_from_file_location("extract_before", path)
        module = importlib.util.module_from_spec(spec)
        sys.modules["extract_before"] = module
        spec.loader.exec_module(module)
    return module.extract_article


def main_variants() -> list[Variant]:
    variants = [
        Variant("trafilatura.extract defaults (bare)", _traf(), _traf_meta),
        Variant("trafilatura favor_precision", _traf(favor_precision=True), _traf_meta),
        Variant("trafilatura favor_recall", _traf(favor_recall=True), _traf_meta),
    ]
    before = _before_extract_article()
    if before is not None:
        variants.append(Variant(f"ours before (extract_article at {BEFORE_COMMIT[:7]})", _ours(before)))
    variants.append(Variant("ours: extract_article (+ fallback)", _ours(extract_article)))
    variants.append(Variant("ours + per-outlet boilerplate learning", _ours(extract_article), post=_boilerplate_step,
                            note="template learnt from the corpus pages of the same outlet"))
    return variants


def sweep_variants() -> list[Variant]:
    """trafilatura settings one at a time, as evidence for the choice in media_monitoring.extract."""
    return [
        Variant("defaults (comments on, tables on, fallbacks on)", _traf()),
        Variant("include_comments=False", _traf(include_comments=False)),
        Variant("include_comments=False, favor_precision", _traf(include_comments=False, favor_precision=True)),
        Variant("include_comments=False, favor_recall", _traf(include_comments=False, favor_recall=True)),
        Variant("include_comments=False, include_tables=False", _traf(include_comments=False, include_tables=False)),
        Variant("include_comments=False, fast (no fallbacks)", _traf(include_comments=False, fast=True)),
        Variant("include_comments=False, favor_precision, fast", _traf(include_comments=False, favor_precision=True,
                                                                       fast=True)),
    ]


def _ours_with(**overrides: Any) -> Callable[[bytes, str], Output]:
    """Our whole path with some of its trafilatura settings (extract.PRIMARY) changed."""
    from media_monitoring.extract import article as module

    def run(html: bytes, url: str) -> Output:
        saved = dict(module.PRIMARY)
        module.PRIMARY.update(overrides)
        try:
            return _ours(extract_article)(html, url)
        finally:
            module.PRIMARY.clear()
            module.PRIMARY.update(saved)
    return run


def ours_sweep_variants() -> list[Variant]:
    """Our path with trafilatura's settings changed one at a time (evidence for extract.PRIMARY)."""
    return [
        Variant("ours as shipped (precision, fast, no comments)", _ours(extract_article)),
        Variant("ours, balanced instead of favor_precision", _ours_with(favor_precision=False)),
        Variant("ours, favor_recall instead of favor_precision", _ours_with(favor_precision=False, favor_recall=True)),
        Variant("ours, fast=False (readability/jusText compared on every page)", _ours_with(fast=False)),
        Variant("ours, include_comments=True", _ours_with(include_comments=True)),
        Variant("ours, include_tables=False", _ours_with(include_tables=False)),
    ]


def _ablated(module: Any, **patches: Callable[..., Any]) -> Callable[[bytes, str], Output]:
    """Our whole path with some of the rules of ``module`` (of media_monitoring.extract) replaced (one rule
    switched off at a time)."""

    def run(html: bytes, url: str) -> Output:
        saved = {name: getattr(module, name) for name in patches}
        for name, fn in patches.items():
            setattr(module, name, fn)
        try:
            return _ours(extract_article)(html, url)
        finally:
            for name, fn in saved.items():
                setattr(module, name, fn)
    return run


def ablation_variants() -> list[Variant]:
    """Each of our rules switched off alone: its measured effect."""
    from media_monitoring.extract import article, metadata, page

    return [
        Variant("ours as shipped", _ours(extract_article)),
        Variant("- standfirst rule", _ablated(article, _with_standfirst=lambda text, standfirst: text)),
        Variant("- link-block pruning (lists, tables, 'Read also:' lines)",
                _ablated(page, _mark_link_blocks=lambda tree: 0)),
        Variant("- layout-table unwrapping", _ablated(page, _unwrap_layout_tables=lambda tree: None)),
        Variant("- title-line removal", _ablated(article, _without_title_line=lambda text, title: text)),
        Variant("- fallback", _ablated(article, _fallback=lambda tree, url, text, extractor: (text, extractor))),
        Variant("- JSON-LD people as authors, label stripping",
                _ablated(metadata, author=lambda value, people: page.clean_field(value))),
        Variant("- structured timestamp for the time of day",
                _ablated(metadata, published=lambda date, structured, feed, seen=None, f=metadata.published:
                         f(date, None, feed, seen))),
        Variant("- title cut (to the headline shown, or without the site's name)",
                _ablated(metadata, _without_site_name=lambda title, evidence, sitename, url: title)),
    ]


JUSTEXT_LANGUAGES = {"en": "English", "ru": "Russian", "ar": "Arabic", "fa": "Persian", "fr": "French", "de": "German",
                     "es": "Spanish", "uk": "Ukrainian", "uz": "Uzbek", "kk": "Kazakh"}


def _justext(html: bytes, language: str) -> str:
    import justext

    name = JUSTEXT_LANGUAGES.get(language)
    if name in justext.get_stoplists():
        stoplist = justext.get_stoplist(name)
    else:  # no stoplist for the language (Pashto): all of them, as trafilatura does
        stoplist = frozenset(w for lang in justext.get_stoplists() for w in justext.get_stoplist(lang))
    return "\n".join(p.text for p in justext.justext(html, stoplist) if not p.is_boilerplate)


def _readability(html: bytes) -> str:
    import lxml.html
    from readability import Document  # readability-lxml, not a dependency: measured when installed

    tree = lxml.html.fromstring(Document(html).summary(html_partial=True))
    for el in tree.iter("p", "div", "h1", "h2", "h3", "li", "br", "tr"):
        el.tail = "\n" + (el.tail or "")
    return "\n".join(line.strip() for line in tree.text_content().split("\n") if line.strip())


def fallback_candidates(pages: list[Page]) -> str:
    """Each fallback candidate alone on every article page: which extractor to fall back to."""
    from media_monitoring.extract import FALLBACK

    candidates: dict[str, Callable[[Page], str]] = {
        "trafilatura balanced cascade (extract.FALLBACK)": lambda p: trafilatura.extract(p.html, **FALLBACK) or "",
        "trafilatura.baseline (JSON-LD body, <article>, <p>)": lambda p: trafilatura.baseline(p.html)[1],
        "jusText (language stoplist)": lambda p: _justext(p.html, p.entry["language"]),
    }
    if importlib.util.find_spec("readability") is not None:
        candidates["readability-lxml"] = lambda p: _readability(p.html)
    articles = [p for p in pages if p.entry["kind"] == "article"]
    lines = ["| extractor alone | P micro | R micro | F1 micro | F1 macro | pages F1 < 0.5 | CPU ms/page |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for name, fn in candidates.items():
        scores, cpu = [], []
        for p in articles:
            fn(p)  # warm-up
            t0 = time.process_time()
            text = fn(p)
            cpu.append(time.process_time() - t0)
            scores.append(score_body(text, p.gold))
        micro = BodyScore(sum(s.shared for s in scores), sum(s.extracted for s in scores), sum(s.gold for s in scores))
        lines.append(f"| {name} | {micro.precision:.3f} | {micro.recall:.3f} | {micro.f1:.3f} | "
                     f"{statistics.mean(s.f1 for s in scores):.3f} | {sum(s.f1 < 0.5 for s in scores)} | "
                     f"{1000 * statistics.mean(cpu):.1f} |")
    return "\n".join(lines)


def _boilerplate_step(corpus: dict, out: Output) -> Output:
    template: OutletTemplate = corpus["template"]
    cleaned = template.clean(out.text)
    return Output(cleaned.text, out.title, out.author, out.date, out.extractor)


# --- corpus ---------------------------------------------------------------------------------------------

@dataclass
class Page:
    entry: dict
    html: bytes
    gold: str

    @property
    def name(self) -> str:
        return self.entry["name"]


def load_pages(only: str | None = None) -> list[Page]:
    manifest = yaml.safe_load((HERE / "manifest.yaml").read_text(encoding="utf-8"))["pages"]
    pages = []
    for entry in manifest:
        if only and entry["set"] != only:
            continue
        html = (ROOT / entry["file"]).read_bytes().replace(REPLAY_TOKEN, REPLAY_BASE)
        gold = (HERE / "gold" / f"{entry['name']}.txt").read_text(encoding="utf-8")
        pages.append(Page(entry, html, gold))
    return pages


@dataclass
class Case:
    """A hand-written page of ``cases/``, its feed entry and its labels."""

    label: dict
    html: bytes

    @property
    def name(self) -> str:
        return self.label["id"]

    def feed_kwargs(self) -> dict[str, Any]:
        """What collect passes to extract_article for this page."""
        feed = self.label["feed"] or {}
        published, seen = feed.get("published"), self.label["first_seen"]
        return {"feed_title": feed.get("title"), "feed_summary": feed.get("summary"),
                "feed_published": datetime.fromisoformat(published) if published else None,
                "first_seen": datetime.fromisoformat(seen) if seen else None}


def load_cases() -> list[Case]:
    labels = yaml.safe_load((HERE / "cases" / "labels.yaml").read_text(encoding="utf-8"))["cases"]
    return [Case(label, (HERE / "cases" / f"{label['id']}.html").read_bytes()) for label in labels]


# --- running -------------------------------------------------------------------------------------------

@dataclass
class Result:
    variant: str
    outputs: dict[str, Output] = field(default_factory=dict)
    cpu: dict[str, float] = field(default_factory=dict)  # seconds, min over rounds
    post_cpu: float = 0.0  # seconds, whole corpus (learning + cleaning)


def run(variants: list[Variant], pages: list[Page], repeat: int) -> list[Result]:
    results = [Result(v.name) for v in variants]
    for v, r in zip(variants, results, strict=True):  # warm-up, and the outputs scored
        for page in pages:
            r.outputs[page.name] = v.run(page.html, page.entry["url"])
    for round_no in range(repeat):
        shift = round_no % len(variants)
        order = list(zip(variants, results, strict=True))
        order = order[shift:] + order[:shift]
        for page in pages:
            for v, r in order:
                t0 = time.process_time()
                v.run(page.html, page.entry["url"])
                spent = time.process_time() - t0
                r.cpu[page.name] = min(spent, r.cpu.get(page.name, float("inf")))
    for v, r in zip(variants, results, strict=True):
        if v.meta:
            for page in pages:
                m = v.meta(page.html, page.entry["url"])
                o = r.outputs[page.name]
                o.title, o.author, o.date = m.title, m.author, m.date
        if v.post:
            t0 = time.process_time()
            by_outlet: dict[str, OutletTemplate] = {}
            for page in pages:  # learn: every page of the outlet, as after one run over them
                by_outlet.setdefault(page.entry["outlet"], OutletTemplate(page.entry["outlet"])).observe(
                    r.outputs[page.name].text, article_key=page.name)
            for page in pages:
                r.outputs[page.name] = v.post({"template": by_outlet[page.entry["outlet"]]}, r.outputs[page.name])
            r.post_cpu = time.process_time() - t0
    return results


@dataclass
class Summary:
    n: int
    micro: BodyScore
    macro_p: float
    macro_r: float
    macro_f1: float
    title: float
    author: float
    date_day: float
    date_minute: float
    cpu_ms: float


def summarise(result: Result, pages: list[Page]) -> Summary:
    articles = [p for p in pages if p.entry["kind"] == "article"]
    scores = [score_body(result.outputs[p.name].text, p.gold) for p in articles]
    micro = BodyScore(sum(s.shared for s in scores), sum(s.extracted for s in scores), sum(s.gold for s in scores))
    titles = [title_ok(result.outputs[p.name].title, p.entry["title"]) for p in articles]
    authors = [author_ok(result.outputs[p.name].author, p.entry["author"]) for p in articles]
    dates = [date_ok(result.outputs[p.name].date, p.entry["date"], p.entry["date_precision"]) for p in articles]
    minutes = [m for _, m in dates if m is not None]
    cpu = [result.cpu[p.name] for p in pages] if result.cpu else [0.0]
    return Summary(
        len(articles), micro,
        statistics.mean(s.precision for s in scores), statistics.mean(s.recall for s in scores),
        statistics.mean(s.f1 for s in scores),
        statistics.mean(titles), statistics.mean(authors), statistics.mean(d for d, _ in dates),
        statistics.mean(minutes) if minutes else float("nan"),
        1000 * (statistics.mean(cpu) + result.post_cpu / max(1, len(pages))),
    )


def machine() -> str:
    cpu = platform.processor() or "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        mem_kb = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                      if line.startswith("MemTotal"))
        mem = f"{mem_kb / 1024 / 1024:.0f} GiB RAM"
    except (OSError, StopIteration):
        mem = "? RAM"
    import os

    return (f"{os.cpu_count()} CPUs ({cpu}), {mem}, Python {platform.python_version()}, "
            f"trafilatura {trafilatura.__version__}, {platform.system()} {platform.release()}")


def table(results: list[Result], pages: list[Page], bare: str, with_meta: bool = True) -> str:
    base = summarise(next(r for r in results if r.variant == bare), pages)
    head = "| variant | P micro | R micro | F1 micro | P macro | R macro | F1 macro |"
    sep = "|---|---:|---:|---:|---:|---:|---:|"
    if with_meta:
        head += " title | author | date (day) | date (min) |"
        sep += "---:|---:|---:|---:|"
    head += " CPU ms/page | × bare |"
    sep += "---:|---:|"
    lines = [head, sep]
    for r in results:
        s = summarise(r, pages)
        row = (f"| {r.variant} | {s.micro.precision:.3f} | {s.micro.recall:.3f} | {s.micro.f1:.3f} | "
               f"{s.macro_p:.3f} | {s.macro_r:.3f} | {s.macro_f1:.3f} |")
        if with_meta:
            row += f" {s.title:.2f} | {s.author:.2f} | {s.date_day:.2f} | {s.date_minute:.2f} |"
        row += f" {s.cpu_ms:.1f} | {s.cpu_ms / base.cpu_ms:.2f} |"
        lines.append(row)
    return "\n".join(lines)


def page_lines(results: list[Result], pages: list[Page]) -> str:
    lines = ["| page | " + " | ".join(f"F1 {i}" for i in range(len(results))) + " | extractor (ours) |",
             "|---|" + "---:|" * len(results) + "---|"]
    for p in pages:
        if p.entry["kind"] != "article":
            continue
        f1s = [score_body(r.outputs[p.name].text, p.gold).f1 for r in results]
        extractor = next((r.outputs[p.name].extractor for r in reversed(results) if r.outputs[p.name].extractor),
                         "")
        lines.append(f"| {p.name} | " + " | ".join(f"{f:.3f}" for f in f1s) + f" | {extractor} |")
    legend = "; ".join(f"{i} = {r.variant}" for i, r in enumerate(results))
    return "\n".join(lines) + "\n\n" + legend


def language_table(results: list[Result], pages: list[Page]) -> str:
    """Body F1 (micro), title and date (day) accuracy per language of the article pages, for each variant."""
    articles = [p for p in pages if p.entry["kind"] == "article"]
    head = "| language | pages | " + " | ".join(f"F1 {i}" for i in range(len(results))) + \
        " | title (last) | date, day (last) |"
    lines = [head, "|---|---:|" + "---:|" * len(results) + "---:|---:|"]
    for language in sorted({p.entry["language"] for p in articles}):
        sub = [p for p in articles if p.entry["language"] == language]
        summaries = [summarise(r, sub) for r in results]
        lines.append(f"| {language} | {len(sub)} | " + " | ".join(f"{s.micro.f1:.3f}" for s in summaries)
                     + f" | {summaries[-1].title:.2f} | {summaries[-1].date_day:.2f} |")
    legend = "; ".join(f"{i} = {r.variant}" for i, r in enumerate(results))
    return "\n".join(lines) + "\n\n" + legend


def case_lines(cases: list[Case]) -> str:
    """Each hand-written case, bare trafilatura and ours (with its feed entry) against its labels."""
    lines = ["| case | F1 bare | F1 ours | extractor (ours) | title bare | title ours | date bare | date ours |"
             " date source (ours, label) |", "|---|---:|---:|---|:-:|:-:|:-:|:-:|---|"]
    totals: Counter[str] = Counter()
    for case in cases:
        expect = case.label["expect"]
        bare = _traf()(case.html, case.label["url"])
        meta = _traf_meta(case.html, case.label["url"])
        ours = extract_article(case.html, case.label["url"], **case.feed_kwargs())
        f1_bare, f1_ours = score_body(bare.text, expect["body"]).f1, score_body(ours.text, expect["body"]).f1
        checks = {"title bare": title_ok(meta.title, expect["title"]),
                  "title ours": title_ok(ours.title, expect["title"]),
                  "date bare": _case_date_ok(meta.date, expect["date"]),
                  "date ours": _case_date_ok(ours.published, expect["date"])
                  and ours.date_source == expect["date_source"]
                  and bool(ours.date_set_aside) == expect["date_set_aside"]}
        totals.update(k for k, ok in checks.items() if ok)
        totals["F1 bare"] += f1_bare
        totals["F1 ours"] += f1_ours
        mark = {True: "✓", False: "✗"}
        lines.append(f"| {case.name} | {f1_bare:.2f} | {f1_ours:.2f} | {ours.extractor} | "
                     + " | ".join(mark[checks[k]] for k in ("title bare", "title ours", "date bare", "date ours"))
                     + f" | {ours.date_source}, {expect['date_source']}"
                     + (f" (set aside: {ours.date_set_aside})" if ours.date_set_aside else "") + " |")
    n = len(cases)
    lines.append(f"| **all {n}** | {totals['F1 bare'] / n:.2f} | {totals['F1 ours'] / n:.2f} | | "
                 + " | ".join(f"{totals[k]}/{n}" for k in ("title bare", "title ours", "date bare", "date ours"))
                 + " | |")
    return "\n".join(lines)


def _case_date_ok(pred: Any, gold: str | None) -> bool:
    """No date where the label has none; else the label's minute, or its day where it is a bare day."""
    if gold is None:
        return pred is None
    day, minute = date_ok(pred, gold, "minute" if len(gold) > 10 else "day")
    return day and minute is not False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=3, help="timed rounds per variant (default 3)")
    parser.add_argument("--pages", action="store_true", help="print per-page F1 too")
    parser.add_argument("--set", choices=["replay", "written"], help="only one half of the corpus")
    parser.add_argument("--no-sweep", action="store_true", help="skip the trafilatura settings sweep")
    parser.add_argument("--json", type=Path, help="write per-page outputs and scores here")
    args = parser.parse_args()
    logging.disable(logging.WARNING)  # trafilatura logs every discarded page

    pages = load_pages(args.set)
    variants = main_variants()
    results = run(variants, pages, args.repeat)
    bare = variants[0].name
    print(f"# Extraction benchmark, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC\n\n{machine()}\n")
    n_articles = sum(p.entry["kind"] == "article" for p in pages)
    by_set = Counter(p.entry["set"] for p in pages)
    langs = Counter(p.entry["language"] for p in pages)
    print(f"{len(pages)} pages ({', '.join(f'{k} {v}' for k, v in sorted(by_set.items()))}; {n_articles} articles; "
          f"languages {', '.join(f'{k} {v}' for k, v in sorted(langs.items()))}; "
          f"{len({p.entry['outlet'] for p in pages})} outlets)\n")
    print("## All pages\n\n" + table(results, pages, bare) + "\n")
    for subset in ("replay", "written"):
        sub = [p for p in pages if p.entry["set"] == subset]
        if sub and len(sub) != len(pages):
            print(f"## {subset} pages only\n\n" + table(results, sub, bare) + "\n")
    walls = [p for p in pages if p.entry["kind"] != "article"]
    if walls:
        print("## Non-article pages (words emitted; 0 is right)\n")
        for p in walls:
            print(f"- {p.name}: " + ", ".join(f"{r.variant}: {len(r.outputs[p.name].text.split())}" for r in results))
        print()
    by_extractor = Counter(r for r in (results[-2].outputs[p.name].extractor for p in pages) if r)
    if by_extractor:
        counts = ", ".join(f"{k} {v}" for k, v in by_extractor.most_common())
        print(f"Extractor that produced our text: {counts}\n")
    if not args.no_sweep:
        sweep = sweep_variants()
        sweep_results = run(sweep, pages, args.repeat)
        print("## trafilatura settings sweep (text only)\n\n" + table(sweep_results, pages, sweep[0].name,
                                                                     with_meta=False) + "\n")
        ours = ours_sweep_variants()
        ours_results = run(ours, pages, args.repeat)
        print("## Our path with other trafilatura settings (CPU ratio to our path as shipped)\n\n"
              + table(ours_results, pages, ours[0].name) + "\n")
    if not args.no_sweep:
        ablations = ablation_variants()
        ablation_results = run(ablations, pages, 1)
        print("## Our rules switched off one at a time\n\n" + table(ablation_results, pages, ablations[0].name) + "\n")
        print("## Fallback candidates, each alone on every article page\n\n" + fallback_candidates(pages) + "\n")
    print("## Body F1 (micro) per language\n\n" + language_table(results, pages) + "\n")
    print("## Hand-written cases, with their feed entries (cases/labels.yaml)\n\n" + case_lines(load_cases()) + "\n")
    if args.pages:
        print("## Per page F1\n\n" + page_lines(results, pages) + "\n")
    if args.json:
        args.json.write_text(json.dumps({
            r.variant: {p.name: {"f1": score_body(r.outputs[p.name].text, p.gold).f1,
                                 "precision": score_body(r.outputs[p.name].text, p.gold).precision,
                                 "recall": score_body(r.outputs[p.name].text, p.gold).recall,
                                 "title": r.outputs[p.name].title, "author": r.outputs[p.name].author,
                                 "date": str(r.outputs[p.name].date), "extractor": r.outputs[p.name].extractor,
                                 "cpu_ms": 1000 * r.cpu.get(p.name, 0.0), "text": r.outputs[p.name].text}
                        for p in pages} for r in results}, ensure_ascii=False, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
