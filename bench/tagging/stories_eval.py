"""Story grouping: the evidence for the shingle size, permutations, threshold and window (tagging/signatures.py,
tagging/stories.py).

    .venv/bin/python bench/tagging/stories_eval.py           # sweep + grouping at the chosen constants
    .venv/bin/python bench/tagging/stories_eval.py --pairs   # also every pair above 0.05, by similarity

Articles: the rewrites and same-topic articles of stories.yaml (FIXTURE, WRITTEN FOR EVALUATION), the
two seed articles (seeds/*.txt, article text only, no chrome), every article page of the replay
snapshot (extracted as the pipeline does) and the labelled tagging set (labelled.jsonl). Pairs:

- rewrite: two articles of one `story` in stories.yaml: must be grouped;
- same-topic: one `topic` but different stories (stories.yaml follow-ups, the seed pair, the replay
  pages on Lavrov / the CSTO / Afghanistan): must not be grouped;
- unrelated: everything else: must not be grouped.

For each shingle size the exact Jaccard similarity of the shingle sets is reported (the MinHash
estimates it); for each permutation count, the estimate's worst error against the exact value. Then
the chosen constants are run through StoryIndex itself (LSH candidates, window, verification) on all
articles as one batch, and every wrong grouping is listed. Signature time is the mean wall time of
``signature(title, text)`` per article over all articles, best of 5 rounds.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import platform
import statistics
import sys
import time
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import yaml

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT / "include"))

from datasketch import MinHash  # noqa: E402

from media_monitoring.tagging import signatures, stories  # noqa: E402
from media_monitoring.text import story_words  # noqa: E402

SEEDS = ROOT / "seeds"
REPLAY = SEEDS / "replay"
TOKEN = b"{{REPLAY_BASE}}"
BASE = b"http://127.0.0.1:8765"
REPLAY_TOPIC = "lavrov-csto-afghanistan"  # the replay pages on the watchlist topic, both seeds included
SEED_DATES = {"000": "2021-08-24T17:21:00+03:00", "004": "2021-10-28T16:45:00+05:00"}


def seed_articles() -> list[dict[str, Any]]:
    """The two seed documents' article text (title, standfirst, body; no chrome, no photo caption)."""
    al_mayadeen = (SEEDS / "000_906231da9371c19f.txt").read_text(encoding="utf-8").splitlines()
    title = "Lavrov: Russia Does not want US Army in Central Asia"
    start = next(i for i, line in enumerate(al_mayadeen) if line.startswith("Russian Foreign Minister Sergey"))
    end = next(i for i, line in enumerate(al_mayadeen) if line.startswith("It is worth mentioning"))
    related = {"Related News", "US, Saudi Arabia sign landmark $600bln investment agreement",
               "Hamas' Hamad-US-Palest. Bahbah talks led to Alexander's release: Excl."}
    body = [line.strip() for line in al_mayadeen[start:end + 1]
            if line.strip() and not line.strip().startswith("•") and line.strip() not in related
            and line.strip() != title]
    pukhtun = (SEEDS / "004_44b952da9092fe42.txt").read_text(encoding="utf-8").splitlines()
    p_title = pukhtun[0].strip()
    p_body = [line.strip() for line in pukhtun[1:] if line.strip() and "© REUTERS" not in line]
    return [
        {"id": "seed-000-almayadeen", "story": "seed-000", "topic": REPLAY_TOPIC, "outlet": "almayadeen-en",
         "outlet_country": "LB", "published": SEED_DATES["000"], "title": title, "text": "\n\n".join(body)},
        {"id": "seed-004-pukhtunnama", "story": "seed-004", "topic": REPLAY_TOPIC, "outlet": "pukhtunnama",
         "outlet_country": "PK", "published": SEED_DATES["004"], "title": p_title, "text": "\n\n".join(p_body)},
    ]


def replay_articles() -> list[dict[str, Any]]:
    """Every non-quarantined replay page except the two rebuilt from the seeds, extracted with its feed item."""
    from media_monitoring.extract import extract_article
    from media_monitoring.feeds import parse_feed

    pages = yaml.safe_load((REPLAY / "expected.yaml").read_text(encoding="utf-8"))["pages"]
    outlets = {o["id"]: o for o in yaml.safe_load((REPLAY / "outlets.yaml").read_text(encoding="utf-8"))["outlets"]}
    out = []
    for page in pages:
        if page["quarantine"] or "Rebuilt from seed" in page["notes"]:
            continue
        outlet = outlets[page["outlet"]]
        feed_url = outlet["feed_url"]
        feed = (REPLAY / feed_url.removeprefix("{{REPLAY_BASE}}").lstrip("/")).read_bytes().replace(TOKEN, BASE)
        entries = parse_feed(feed, feed_url.replace("{{REPLAY_BASE}}", BASE.decode()))
        url = BASE.decode() + page["path"]
        entry = next(e for e in entries if e.link == url)
        html = (REPLAY / page["path"].lstrip("/")).read_bytes().replace(TOKEN, BASE)
        x = extract_article(html, url, feed_title=entry.title, feed_published=entry.published)
        out.append({"id": "replay:" + page["path"].rsplit("/", 1)[-1][:50], "story": "replay:" + page["path"],
                    "topic": REPLAY_TOPIC if page["watchlist"] else "replay:" + page["path"],
                    "outlet": page["outlet"], "outlet_country": outlet.get("country"),
                    "published": page["published"], "title": x.title or "", "text": x.text or ""})
    return out


def labelled_articles() -> list[dict[str, Any]]:
    path = HERE / "labelled.jsonl"
    if not path.exists():
        return []
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            r = json.loads(line)
            out.append({"id": "labelled:" + r["id"], "story": "labelled:" + r["id"], "topic": "labelled:" + r["id"],
                        "outlet": "labelled", "outlet_country": None, "published": "2021-10-28T12:00:00+00:00",
                        "title": r["title"], "text": r["text"]})
    return out


@cache
def corpus() -> tuple[dict[str, Any], ...]:
    written = yaml.safe_load((HERE / "stories.yaml").read_text(encoding="utf-8"))["articles"]
    return tuple([*written, *seed_articles(), *replay_articles(), *labelled_articles()])


def kind(a: dict[str, Any], b: dict[str, Any]) -> str:
    if a["story"] == b["story"]:
        return "rewrite"
    if a["topic"] == b["topic"]:
        return "same-topic"
    return "unrelated"


def jaccard(x: set[str], y: set[str]) -> float:
    return len(x & y) / len(x | y) if x or y else 0.0


def sweep(articles: tuple[dict[str, Any], ...]) -> list[dict[str, Any]]:
    """Per shingle size: exact Jaccard of the worst rewrite pair and the closest non-rewrite pairs."""
    rows = []
    for size in (1, 2, 3, 4, 5):
        sets = [signatures.shingles(a["title"], a["text"], size) for a in articles]
        by_kind: dict[str, list[float]] = {"rewrite": [], "same-topic": [], "unrelated": []}
        for (i, a), (j, b) in itertools.combinations(enumerate(articles), 2):
            by_kind[kind(a, b)].append(jaccard(sets[i], sets[j]))
        low_rewrite = min(by_kind["rewrite"])
        high_other = max(by_kind["same-topic"] + by_kind["unrelated"])
        rows.append({"shingle_words": size, "rewrite_min": low_rewrite,
                     "rewrite_median": statistics.median(by_kind["rewrite"]),
                     "same_topic_max": max(by_kind["same-topic"]), "unrelated_max": max(by_kind["unrelated"]),
                     "gap": low_rewrite - high_other, "ratio": low_rewrite / high_other if high_other else float("inf"),
                     "pairs": {k: len(v) for k, v in by_kind.items()}})
    return rows


def estimate_error(articles: tuple[dict[str, Any], ...], size: int) -> list[dict[str, Any]]:
    """Per permutation count: largest |MinHash estimate - exact Jaccard| over all pairs above 0.05 exact."""
    sets = [signatures.shingles(a["title"], a["text"], size) for a in articles]
    rows = []
    for num_perm in (64, 128, 256, 512):
        sigs = []
        for s in sets:
            m = MinHash(num_perm=num_perm, seed=signatures.SEED, scheme=signatures.SCHEME)
            m.update_batch([x.encode() for x in sorted(s)])
            sigs.append(m.hashvalues)
        errors = []
        for i, j in itertools.combinations(range(len(sets)), 2):
            exact = jaccard(sets[i], sets[j])
            est = float(np.mean(sigs[i] == sigs[j]))
            if exact >= 0.05 or est >= 0.05:
                errors.append(abs(est - exact))
        rows.append({"num_perm": num_perm, "max_abs_error": max(errors), "mean_abs_error": statistics.mean(errors),
                     "pairs": len(errors)})
    return rows


def _moment(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def grouping(articles: tuple[dict[str, Any], ...]) -> dict[str, Any]:
    """StoryIndex at the module's constants on all articles as one batch: pairs grouped right and wrong."""
    batch = [stories.StoryArticle(a["id"], signatures.signature(a["title"], a["text"]), _moment(a["published"]),
                                  a["outlet"], a.get("outlet_country"), (), signatures.text_hash(a["text"]))
             for a in articles]
    assigned = dict(stories.StoryIndex().assign(batch))
    sigs = {x.article_id: x.signature for x in batch}
    counts = {"rewrite": [0, 0], "same-topic": [0, 0], "unrelated": [0, 0]}  # [grouped, pairs]
    wrong = []
    for a, b in itertools.combinations(articles, 2):
        k = kind(a, b)
        together = assigned[a["id"]] == assigned[b["id"]]
        counts[k][0] += together
        counts[k][1] += 1
        if together != (k == "rewrite"):
            wrong.append({"a": a["id"], "b": b["id"], "kind": k, "grouped": together,
                          "similarity": signatures.similarity(sigs[a["id"]], sigs[b["id"]])})
    return {"counts": counts, "wrong": wrong, "stories": len(set(assigned.values())), "articles": len(batch)}


def pairs(articles: tuple[dict[str, Any], ...], floor: float = 0.05) -> list[tuple[float, float, str, str, str]]:
    sets = [signatures.shingles(a["title"], a["text"]) for a in articles]
    sigs = [signatures.signature(a["title"], a["text"]) for a in articles]
    out = []
    for (i, a), (j, b) in itertools.combinations(enumerate(articles), 2):
        est = signatures.similarity(sigs[i], sigs[j])
        exact = jaccard(sets[i], sets[j])
        if est >= floor or exact >= floor:
            out.append((est, exact, kind(a, b), a["id"], b["id"]))
    return sorted(out, reverse=True)


def signature_ms(articles: tuple[dict[str, Any], ...], rounds: int = 5) -> dict[str, float]:
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        for a in articles:
            signatures.signature(a["title"], a["text"])
        best = min(best, time.perf_counter() - start)
    words = statistics.mean(len(story_words(a["title"])) + len(story_words(a["text"])) for a in articles)
    return {"ms_per_article": 1000 * best / len(articles), "mean_words": words}


def _binomial_cdf(k: int, n: int, p: float) -> float:
    """P(X <= k) for X ~ Binomial(n, p)."""
    if k < 0:
        return 0.0
    logs = [math.lgamma(n + 1) - math.lgamma(i + 1) - math.lgamma(n - i + 1) + i * math.log(p)
            + (n - i) * math.log1p(-p) for i in range(0, min(k, n) + 1)]
    return min(1.0, sum(math.exp(x) for x in logs))


def risk(hardest_rewrite: float, closest_other: float) -> list[dict[str, Any]]:
    """Chance that the MinHash estimate puts the hardest rewrite below the threshold (missed) and the
    closest pair of different stories at or above it (wrongly grouped), by permutations and threshold."""
    rows = []
    for num_perm in (128, 256, 512, 1024):
        for threshold in (0.08, 0.09, 0.10):
            k = math.ceil(threshold * num_perm - 1e-9)  # the estimate is matches / num_perm >= threshold
            rows.append({"num_perm": num_perm, "threshold": threshold,
                         "miss": _binomial_cdf(k - 1, num_perm, hardest_rewrite),
                         "false_group": 1 - _binomial_cdf(k - 1, num_perm, closest_other)})
    return rows


def lsh_candidates(articles: tuple[dict[str, Any], ...]) -> dict[str, int]:
    """Pairs the LSH index proposes (before the estimate is checked), by kind."""
    from datasketch import LeanMinHash, MinHashLSH

    sigs = {a["id"]: signatures.signature(a["title"], a["text"]) for a in articles}
    lsh = MinHashLSH(num_perm=signatures.NUM_PERM, params=(signatures.LSH_BANDS, signatures.LSH_ROWS))
    for key, sig in sigs.items():
        lsh.insert(key, LeanMinHash(seed=signatures.SEED, hashvalues=sig, scheme=signatures.SCHEME))
    by_id = {a["id"]: a for a in articles}
    found: dict[str, int] = {"rewrite": 0, "same-topic": 0, "unrelated": 0}
    seen = set()
    for key, sig in sigs.items():
        for other in lsh.query(LeanMinHash(seed=signatures.SEED, hashvalues=sig, scheme=signatures.SCHEME)):
            pair = tuple(sorted((key, other)))
            if other != key and pair not in seen:
                seen.add(pair)
                found[kind(by_id[key], by_id[other])] += 1
    return found


@cache
def measure() -> dict[str, Any]:
    articles = corpus()
    rows = sweep(articles)
    chosen = next(r for r in rows if r["shingle_words"] == signatures.SHINGLE_WORDS)
    hardest, closest = chosen["rewrite_min"], max(chosen["same_topic_max"], chosen["unrelated_max"])
    sims = pairs(articles, floor=0.0)
    return {
        "articles": len(articles), "sweep": rows, "estimate_error": estimate_error(articles, signatures.SHINGLE_WORDS),
        "risk": risk(hardest, closest), "hardest_rewrite": hardest, "closest_other": closest,
        "grouping": grouping(articles), "lsh_candidates": lsh_candidates(articles),
        "estimated_rewrite_min": min(e for e, _, k, _, _ in sims if k == "rewrite"),
        "estimated_other_max": max((e for e, _, k, _, _ in sims if k != "rewrite"), default=0.0),
        "timing": signature_ms(articles),
    }


def report(m: dict[str, Any], with_pairs: bool = False) -> str:
    lines = [f"{m['articles']} articles; {platform.processor() or platform.machine()}, "
             f"Python {platform.python_version()}", "",
             "Exact Jaccard of shingle sets by shingle size (words):",
             f"{'w':>2} {'rewrite min':>11} {'median':>7} {'same-topic max':>14} {'unrelated max':>13} "
             f"{'gap':>6} {'ratio':>6}"]
    for r in m["sweep"]:
        lines.append(f"{r['shingle_words']:>2} {r['rewrite_min']:>11.3f} {r['rewrite_median']:>7.3f} "
                     f"{r['same_topic_max']:>14.3f} {r['unrelated_max']:>13.3f} {r['gap']:>6.3f} {r['ratio']:>6.1f}")
    lines.append(f"pairs: {m['sweep'][0]['pairs']}")
    lines += ["", f"MinHash estimate error at {signatures.SHINGLE_WORDS}-word shingles "
              "(pairs with exact J or estimate >= 0.05):"]
    for r in m["estimate_error"]:
        lines.append(f"  num_perm {r['num_perm']:>4}: max |error| {r['max_abs_error']:.3f}, "
                     f"mean {r['mean_abs_error']:.3f} over {r['pairs']} pairs")
    lines += ["", f"Risk at the extremes (hardest rewrite J = {m['hardest_rewrite']:.3f}, closest different "
              f"stories J = {m['closest_other']:.3f}): P(rewrite missed) / P(different stories grouped)"]
    for r in m["risk"]:
        lines.append(f"  num_perm {r['num_perm']:>4} threshold {r['threshold']:.2f}: "
                     f"{r['miss']:.3f} / {r['false_group']:.3f}")
    g = m["grouping"]
    lines += ["", f"StoryIndex (w={signatures.SHINGLE_WORDS}, num_perm={signatures.NUM_PERM}, "
              f"threshold={signatures.THRESHOLD}, window={stories.WINDOW.days} days, LSH {signatures.LSH_BANDS}x"
              f"{signatures.LSH_ROWS}): {g['articles']} articles -> {g['stories']} stories"]
    for k, (grouped, total) in g["counts"].items():
        lines.append(f"  {k:<10} pairs grouped: {grouped}/{total} (LSH candidates {m['lsh_candidates'][k]})")
    for w in g["wrong"]:
        lines.append(f"  WRONG {w['kind']}: {w['a']} / {w['b']} grouped={w['grouped']} "
                     f"similarity={w['similarity']:.3f}")
    lines.append(f"  estimated similarity: rewrites >= {m['estimated_rewrite_min']:.3f}, "
                 f"other pairs <= {m['estimated_other_max']:.3f}")
    t = m["timing"]
    lines += ["", f"signature(): {t['ms_per_article']:.2f} ms per article (mean {t['mean_words']:.0f} words), "
              "best of 5 rounds"]
    if with_pairs:
        lines += ["", "Pairs with estimate or exact J >= 0.05 (estimate, exact, kind):"]
        lines += [f"  {est:.3f} {exact:.3f} {k:<10} {a} / {b}" for est, exact, k, a, b in pairs(corpus())]
    return "\n".join(lines)


def markdown() -> str:
    """The Stories part of the Tagging section of bench/RESULTS.md."""
    m = measure()
    g = m["grouping"]
    chosen = next(r for r in m["risk"]
                  if r["num_perm"] == signatures.NUM_PERM and r["threshold"] == signatures.THRESHOLD)
    articles = corpus()
    written = [a for a in articles if "story" in a and ":" not in a["id"] and not a["id"].startswith("seed-")]
    items = {a["story"] for a in written}
    rewritten = {s for s in items if sum(a["story"] == s for a in written) > 1}
    replay = sum(a["id"].startswith("replay:") for a in articles)
    labelled = sum(a["id"].startswith("labelled:") for a in articles)
    out = [
        "Method: `.venv/bin/python bench/tagging/stories_eval.py` scores every pair of "
        f"{m['articles']} articles: the {len(written)} of `bench/tagging/stories.yaml` (fixture, written for "
        f"evaluation: {len(rewritten)} wire items rewritten by 2-3 outlets each, in "
        f"{', '.join(sorted({a['lang'] for a in written}))}, and {len(items) - len(rewritten)} different stories "
        f"on the same topics), the two seed articles (article text only), the {replay} other article pages of "
        f"the replay snapshot (extracted as the pipeline does) and the {labelled} labelled tagging articles. "
        "A rewrite pair must be grouped, every other pair must not.", "",
        "| shingle (words) | rewrites: min J | median | same topic: max J | unrelated: max J |",
        "|---|---|---|---|---|"]
    for r in m["sweep"]:
        out.append(f"| {r['shingle_words']} | {r['rewrite_min']:.3f} | {r['rewrite_median']:.3f} | "
                   f"{r['same_topic_max']:.3f} | {r['unrelated_max']:.3f} |")
    out += ["", f"Chosen: {signatures.SHINGLE_WORDS}-word shingles, {signatures.NUM_PERM} permutations, threshold "
            f"{signatures.THRESHOLD} on the estimate, window {stories.WINDOW.days} days, "
            f"LSH {signatures.LSH_BANDS} bands of {signatures.LSH_ROWS} row. The MinHash estimate's spread "
            "decides the permutations: at the extremes "
            f"measured (hardest rewrite J = {m['hardest_rewrite']:.3f}, closest different stories "
            f"J = {m['closest_other']:.3f}) the chance of a wrong decision per pair is:", "",
            "| permutations | threshold | P(rewrite missed) | P(different stories grouped) |", "|---|---|---|---|"]
    for r in m["risk"]:
        if r["threshold"] == signatures.THRESHOLD or r["num_perm"] == signatures.NUM_PERM:
            out.append(f"| {r['num_perm']} | {r['threshold']:.2f} | {r['miss']:.3f} | {r['false_group']:.3f} |")
    counts = g["counts"]
    out += ["", f"Result with StoryIndex itself (all {g['articles']} articles as one batch): rewrite pairs grouped "
            f"{counts['rewrite'][0]}/{counts['rewrite'][1]}, same-topic pairs grouped {counts['same-topic'][0]}/"
            f"{counts['same-topic'][1]} (the seed pair included), unrelated pairs grouped {counts['unrelated'][0]}/"
            f"{counts['unrelated'][1]}; estimated similarity of rewrites >= {m['estimated_rewrite_min']:.3f}, of "
            f"other pairs <= {m['estimated_other_max']:.3f}. LSH candidates: "
            + ", ".join(f"{k} {v}" for k, v in m["lsh_candidates"].items())
            + f". At the chosen constants: P(miss) {chosen['miss']:.3f}, P(false group) "
            f"{chosen['false_group']:.3f} for the extreme pairs. `signature()` takes "
            f"{m['timing']['ms_per_article']:.2f} ms per article (mean {m['timing']['mean_words']:.0f} words).",
            "",
            "Limits: articles in different languages are never grouped (a TASS English item and its RIA "
            "Russian version are two stories); a rewrite that keeps the facts but shares almost no wording "
            "(J below ~0.09) is missed; short same-topic briefs built from stock phrases can come close to the "
            "threshold."]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pairs", action="store_true", help="list every pair with similarity >= 0.05")
    args = parser.parse_args(argv)
    print(report(measure(), with_pairs=args.pairs))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
