"""The story index that every ``process`` run builds, at the size of a busy deployment's 3-day lookback.

    .venv/bin/python bench/story_index_scale.py                       # ~900,000 stored, in memory, ~3 min
    .venv/bin/python bench/story_index_scale.py --postgres 900000     # + loaded from PostgreSQL, ~15 min
    .venv/bin/python bench/story_index_scale.py --stored 100000 --template 20000 --json /tmp/story.json

``pipeline.assign_stories`` streams every stored article published since (earliest new article - 3 days)
(``Warehouse.story_candidates``) into a ``StoryIndex`` and places the run's new articles in it. At
300,000 articles/day that lookback holds ~900,000 articles. Three parts, in one process:

1. **Scale** (``--stored``, default 900,000): the index built from that many stored articles with random
   signatures (3 days of published times, stories of 1-3 articles), then ``--new`` synthetic articles
   (real signatures of ``bench/synth_news.py`` text) placed in it. Random signatures share almost no band
   value with anything, so this is the cost of the index itself: CPU and RSS per stored article, and the
   fixed cost of one placement at this size.
2. **Candidates** (``--template``, default 20,000): an index of that many synthetic articles with real
   signatures, whose template sentences make ~70 % of all pairs LSH candidates (real news: 1.7 % of
   unrelated pairs, ``bench/tagging/stories_eval.py``), then ``--new`` more placed in it: the cost per
   candidate scored. With (1) this projects the placement cost at 900,000 for any candidate rate.
3. **Load** (``--postgres N``, off by default): a throwaway PostgreSQL database with the warehouse
   schema, N articles over 3 days with packed random signatures, their article_stories and stories rows
   (COPY); then the pipeline's own read, ``StoryIndex(StoryArticle.from_row(r) for r in
   wh.story_candidates(since))``: wall, CPU and RSS. The database is dropped at the end.

Loopback only (the local PostgreSQL); bounded work.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import resource
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import synth_news  # noqa: E402

LOOKBACK = 900_000  # 300,000 articles/day x 3 days
REAL_CANDIDATE_RATE = 101 / 5830  # unrelated pairs that are LSH candidates in bench/tagging/stories_eval.py
PG_ADMIN = {"host": "127.0.0.1", "port": 5432, "user": "postgres", "dbname": "postgres"}


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def machine() -> dict[str, Any]:
    model = next((ln.split(":", 1)[1].strip() for ln in Path("/proc/cpuinfo").read_text().splitlines()
                  if ln.startswith("model name")), platform.processor())
    mem = next(int(ln.split()[1]) for ln in Path("/proc/meminfo").read_text().splitlines() if ln.startswith("MemTotal"))
    return {"nproc": os.cpu_count(), "cpu": model, "ram_gib": round(mem / 2**20, 1),
            "python": platform.python_version(), "numpy": np.__version__,
            "date": datetime.now(UTC).isoformat(timespec="seconds")}


def synthetic(count: int, now: datetime, first: int = 0) -> list[Any]:
    """``count`` new articles of synth_news outlets (50 each) from outlet ``first`` on, signed."""
    from media_monitoring.tagging.stories import StoryArticle, signature

    out = []
    for o in synth_news.outlets(first + -(-count // 50), 50, "one", now)[first:]:
        for a in o.articles():
            out.append(StoryArticle(f"n{o.index:05d}-{a['j']:02d}", signature(a["title"], "\n".join(a["paragraphs"])),
                                    a["published"], o.id))
    return out[:count]


def random_stored(count: int, now: datetime, rng: np.random.Generator) -> Iterator[Any]:
    """``count`` stored articles with random signatures over 3 days, made as they are consumed."""
    from media_monitoring.tagging.stories import NUM_PERM, StoryArticle

    for start in range(0, count, 10_000):
        size = min(10_000, count - start)
        matrix = rng.integers(0, 2**32 - 1, (size, NUM_PERM), dtype=np.uint32)
        seconds = rng.integers(0, 3 * 86400, size)
        for k in range(size):
            i = start + k
            yield StoryArticle(f"s{i:08d}", matrix[k], now - timedelta(seconds=int(seconds[k])), f"o{i % 500}",
                               text_hash=f"{i:032x}", story_id=f"s{i - i % 3:08d}")


def place(index: Any, new: list[Any], *, add: bool) -> dict[str, Any]:
    """Place ``new`` in ``index`` (timed), counting the LSH candidates each one had. With ``add`` they
    join the index in turn, as in a run; without, each is only looked up (the cost of the stored part)."""
    candidates = 0
    original = index._lsh.query

    def counted(minhash: Any) -> list[Any]:
        nonlocal candidates
        found = original(minhash)
        candidates += len(found)
        return found

    index._lsh.query = counted
    t, w = time.process_time(), time.perf_counter()
    assignments = index.assign_detailed(new) if add else [index._place(a) for a in new]
    cpu, wall = time.process_time() - t, time.perf_counter() - w
    index._lsh.query = original
    return {"articles": len(new), "cpu_s": round(cpu, 3), "wall_s": round(wall, 3),
            "ms_per_article": round(cpu / len(new) * 1000, 3),
            "candidates_per_article": round(candidates / len(new), 1),
            "joined": sum(1 for a in assignments if a.matched_article_id is not None)}


def scale(args: argparse.Namespace, now: datetime, new: list[Any]) -> dict[str, Any]:
    from media_monitoring.tagging.stories import StoryIndex

    rss0 = rss_mib()
    t = time.process_time()
    index = StoryIndex(random_stored(args.stored, now, np.random.default_rng(1)))
    build = time.process_time() - t
    rss2 = rss_mib()
    placed = place(index, new, add=False)
    result = {"stored": args.stored, "build_cpu_s": round(build, 2),
              "build_us_per_article": round(build / args.stored * 1e6, 2),
              "rss_index_mib": round(rss2 - rss0, 1),
              "rss_kib_per_article": round((rss2 - rss0) * 1024 / args.stored, 2),
              "placing": placed}
    print(f"scale: {args.stored:,} stored articles indexed in {build:.1f} s CPU ({result['build_us_per_article']} µs "
          f"each); index RSS {rss2 - rss0:,.0f} MiB = "
          f"{result['rss_kib_per_article']} KiB per article")
    print(f"scale: looking up {placed['articles']} new articles: {placed['ms_per_article']} ms CPU each "
          f"({placed['candidates_per_article']} candidates each, {placed['joined']} joined a story)")
    return result


def candidates(args: argparse.Namespace, now: datetime, new: list[Any]) -> dict[str, Any]:
    from media_monitoring.tagging.stories import StoryIndex

    t = time.process_time()
    base = synthetic(args.template, now, first=len(new) // 50 + 1)
    sign = time.process_time() - t
    index = StoryIndex()
    index.assign_detailed(base)  # every article placed in turn: the index grows as in a run
    placed = place(index, new, add=False)
    per_candidate = (placed["cpu_s"] / placed["articles"]) / max(placed["candidates_per_article"], 1) * 1e6
    result = {"indexed": len(index), "sign_ms_per_article": round(sign / len(base) * 1000, 2),
              "placing": placed, "us_per_candidate": round(per_candidate, 3)}
    print(f"candidates: {result['indexed']:,} template-text articles indexed; placing {placed['articles']} more: "
          f"{placed['ms_per_article']} ms each with {placed['candidates_per_article']:,} candidates "
          f"({placed['candidates_per_article'] / result['indexed']:.0%} of the index) = "
          f"{per_candidate:.2f} µs per candidate; signature() {result['sign_ms_per_article']} ms per article")
    return result


def postgres(args: argparse.Namespace, now: datetime) -> dict[str, Any]:
    import psycopg2

    from media_monitoring.tagging.stories import (
        NUM_PERM,
        SIGNATURE_VERSION,
        StoryArticle,
        StoryIndex,
        lookback,
        pack_signature,
    )
    from media_monitoring.warehouse import Warehouse

    n = args.postgres
    name = f"mm_bench_story_{uuid.uuid4().hex[:8]}"
    admin = psycopg2.connect(**PG_ADMIN)
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    result: dict[str, Any] = {"articles": n, "database": name}
    try:
        wh = Warehouse.connect(f"postgresql+psycopg2://postgres@127.0.0.1:5432/{name}")
        raw = psycopg2.connect(**{**PG_ADMIN, "dbname": name})
        rng = np.random.default_rng(2)
        t = time.perf_counter()
        for start in range(0, n, 50_000):
            count = min(50_000, n - start)
            sigs = rng.integers(0, 2**32 - 1, (count, NUM_PERM), dtype=np.uint32)
            seconds = rng.integers(0, 3 * 86400, count)
            articles, links, stories_ = io.StringIO(), io.StringIO(), io.StringIO()
            for k in range(count):
                i = start + k
                aid, story = f"s{i:08d}", f"s{i - i % 3:08d}"
                when = (now - timedelta(seconds=int(seconds[k]))).isoformat()
                articles.write(f"{aid}\thttps://x{i % 500}.example/{i}\thttps://x{i % 500}.example/{i}\to{i % 500}\t"
                               f"KZ\t{when}\tbody {i}\t2\t[]\t[\"KZ\"]\t[]\t{i:032x}\t"
                               f"\\\\x{pack_signature(sigs[k]).hex()}\t{SIGNATURE_VERSION}\n")
                links.write(f"{aid}\t{story}\n")
                if i % 3 == 0:
                    stories_.write(f"{story}\t{when}\t{when}\t1\t1\t[]\t[]\t[]\n")
            with raw.cursor() as cur:
                for table, cols, buf in (
                        ("articles", "article_id, canonical_url, url, outlet_id, outlet_country, published_at, text, "
                                     "word_count, sources, countries, regions, text_hash, signature, signature_version",
                         articles),
                        ("stories", "story_id, first_seen, last_seen, article_count, copies, outlets, "
                                    "outlet_countries, countries", stories_),
                        ("article_stories", "article_id, story_id", links)):
                    buf.seek(0)
                    cur.copy_expert(f"COPY {table} ({cols}) FROM STDIN", buf)
            raw.commit()
        raw.autocommit = True
        with raw.cursor() as cur:
            cur.execute("VACUUM ANALYZE")
        result["load_s"] = round(time.perf_counter() - t, 1)
    except BaseException:
        with admin.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        raise
    try:
        print(f"postgres: {n:,} articles loaded into {name} in {result['load_s']} s")
        since = lookback([now])
        rss0 = rss_mib()
        t, w = time.process_time(), time.perf_counter()
        index = StoryIndex(StoryArticle.from_row(r) for r in wh.story_candidates(since))
        cpu, wall = time.process_time() - t, time.perf_counter() - w
        rss1 = rss_mib()
        result.update({"indexed": len(index), "wall_s": round(wall, 1), "cpu_s": round(cpu, 1),
                       "rss_mib": round(rss1 - rss0, 1),
                       "max_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)})
        print(f"postgres: story_candidates -> StoryIndex: {len(index):,} articles in {wall:.1f} s wall, "
              f"{cpu:.1f} s CPU in this process ({wall / len(index) * 1e6:.0f} µs per article), "
              f"RSS +{rss1 - rss0:,.0f} MiB")
    finally:
        wh.engine.dispose()
        raw.close()
        with admin.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.close()
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--stored", type=int, default=LOOKBACK, help="stored articles of the scale part")
    ap.add_argument("--new", type=int, default=1000, help="new articles placed in each part")
    ap.add_argument("--template", type=int, default=20_000, help="template-text articles of the candidates part")
    ap.add_argument("--postgres", type=int, default=0, help="articles loaded through PostgreSQL (0: skip)")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    result: dict[str, Any] = {"machine": machine(), "load_before": [round(x, 2) for x in os.getloadavg()]}
    print(f"machine: {result['machine']}\nload average before: {result['load_before']}")
    now = datetime.now(UTC)
    t = time.process_time()
    new = synthetic(args.new, now)
    result["new_signature_ms"] = round((time.process_time() - t) / len(new) * 1000, 2)
    result["scale"] = scale(args, now, new)
    if args.template:
        result["candidates"] = candidates(args, now, new)
        fixed = result["scale"]["placing"]["ms_per_article"]
        per = result["candidates"]["us_per_candidate"] / 1000
        result["projection_ms_per_article"] = {
            f"{rate:.1%} candidates": round(fixed + rate * LOOKBACK * per, 2)
            for rate in (REAL_CANDIDATE_RATE, 0.1, 0.7)}
        print("projected placement at a 900,000-article lookback: "
              + ", ".join(f"{k}: {v} ms" for k, v in result["projection_ms_per_article"].items()))
    if args.postgres:
        result["postgres"] = postgres(args, now)
    result["max_rss_mib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    result["load_after"] = [round(x, 2) for x in os.getloadavg()]
    print(f"max RSS {result['max_rss_mib']:,} MiB; load average after: {result['load_after']}")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
