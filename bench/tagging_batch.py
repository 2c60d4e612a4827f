"""Tagging CPU per article on a 10,000-article batch: this tree against a baseline commit, in one run.

    .venv/bin/python bench/tagging_batch.py                       # against cd0e31c (before focus and places)
    .venv/bin/python bench/tagging_batch.py --before REF --articles 10000 --rounds 3

The batch is bench/synth_news.py's synthetic outlets (English articles of 300-800 words naming countries,
capitals and officials; a tenth with watchlist terms), written once to a JSON file. Each side tags the whole
batch in its own process, ``Tagger(watchlists.yaml, regions.yaml).tag(title, text)`` as the pipeline calls it,
rounds alternating; the report is the median CPU time (``time.process_time``) per article, and the process's
fixed cost (building the gazetteer and the place index, once per process) apart. The baseline tree is the
commit's ``include/`` extracted with ``git archive`` into a temporary folder.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

DEFAULT_BEFORE = "cd0e31c"  # the last commit before the focus and the places below a country
CHILD = r"""
import json, sys, time
sys.path.insert(0, sys.argv[1])
started = time.process_time()
from pathlib import Path
from media_monitoring.tagging import Tagger
config = Path(sys.argv[3])
tagger = Tagger(config / "watchlists.yaml", config / "regions.yaml")
tagger.tag("Warm-up in Kabul", "Lavrov met officials in Dushanbe.")
loaded = time.process_time() - started
articles = json.loads(Path(sys.argv[2]).read_text(encoding="utf-8"))
started = time.process_time()
for a in articles:
    tagger.tag(a["title"], a["text"])
print(json.dumps({"load_s": loaded, "per_article_ms": (time.process_time() - started) / len(articles) * 1000}))
"""


def batch(count: int) -> list[dict[str, str]]:
    import synth_news

    out: list[dict[str, str]] = []
    for outlet in synth_news.outlets(max(1, -(-count // 50)), 50, "one", anchor=datetime(2026, 11, 20, 12, tzinfo=UTC)):
        for article in outlet.articles():
            if len(out) < count:
                out.append({"title": article["title"], "text": "\n\n".join(article["paragraphs"])})
    return out


def extract_tree(ref: str, into: Path) -> Path:
    data = subprocess.run(["git", "-C", str(ROOT), "archive", ref, "include"], check=True, capture_output=True).stdout
    with tarfile.open(fileobj=BytesIO(data)) as tar:
        tar.extractall(into, filter="data")
    return into / "include"


def run(include: Path, articles: Path) -> dict[str, float]:
    done = subprocess.run([sys.executable, "-c", CHILD, str(include), str(articles),
                           str(include / "config")], check=True, capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--before", default=DEFAULT_BEFORE, help="baseline commit (default: %(default)s)")
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        articles = work / "batch.json"
        articles.write_text(json.dumps(batch(args.articles)), encoding="utf-8")
        before_tree = extract_tree(args.before, work / "before")
        sides: dict[str, list[dict[str, float]]] = {"before": [], "after": []}
        started = time.monotonic()
        for _ in range(args.rounds):
            sides["before"].append(run(before_tree, articles))
            sides["after"].append(run(ROOT / "include", articles))
    report = {name: {"per_article_ms": statistics.median(r["per_article_ms"] for r in runs),
                     "load_s": statistics.median(r["load_s"] for r in runs)} for name, runs in sides.items()}
    ratio = report["after"]["per_article_ms"] / report["before"]["per_article_ms"]
    print(f"{args.articles} articles, {args.rounds} rounds each, before = {args.before} "
          f"({time.monotonic() - started:.0f} s)")
    for name, r in report.items():
        print(f"  {name:6}  {r['per_article_ms']:.3f} ms CPU per article   process fixed cost {r['load_s']:.2f} s")
    print(f"  ratio after/before: {ratio:.2f}x (goal: at most 2x)")


if __name__ == "__main__":
    main()
