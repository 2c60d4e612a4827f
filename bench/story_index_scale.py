"""Placing a run's new articles in stories against a busy deployment's 3-day lookback, in PostgreSQL.

    .venv/bin/python bench/story_index_scale.py --postgres 900000          # ~900,000 stored, ~20 min
    .venv/bin/python bench/story_index_scale.py --postgres 100000 --json /tmp/story.json

``pipeline.assign_stories`` reads as candidates only the stored articles that share an LSH band key
(``story_bands``) or an exact text with the run's articles, published within the story window, then places
the run's articles among them and writes their stories and band keys (``warehouse/stories.py``). At
300,000 articles/day the lookback holds ~900,000 articles and a 30-minute run brings ~6,250 new ones.

1. **Load** (not timed against the goal): a throwaway PostgreSQL database with the warehouse schema; N
   stored articles over 3 days with random packed signatures, their ``article_stories``, ``stories`` and
   ``LSH_BANDS`` ``story_bands`` rows each (COPY, the band table's indexes built after), the band table marked
   complete; then ``--new`` synthetic articles (real signatures of ``bench/synth_news.py`` text) stored as
   a run's ``store_batch`` leaves them. Random stored signatures share almost no band key with anything,
   so this measures the index's own cost at this size: the key lookups, the lookback scan for articles
   left without a story, the writes; the cost per real candidate is the same scoring as before plus
   reading its row (printed as candidates per article).
2. **Place**: ``assign_stories`` on the new articles, in this process: wall and CPU time (and its parts),
   RSS before and the peak during it (``VmHWM``, reset first through ``/proc/self/clear_refs``).

The database is dropped at the end. Loopback only (the local PostgreSQL); bounded work.
"""

from __future__ import annotations

import argparse
import io
import json
import logging
import os
import platform
import sys
import time
import uuid
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from media_monitoring.records import Article

sys.path.insert(0, str(Path(__file__).resolve().parent))
import synth_news  # noqa: E402

LOOKBACK = 900_000  # 300,000 articles/day x 3 days
RUN_ARTICLES = 6_250  # 300,000 a day in 48 half-hour runs
PG_ADMIN = {"host": "127.0.0.1", "port": 5432, "user": "postgres", "dbname": "postgres"}
LOAD_CHUNK = 50_000  # stored articles per COPY round


def status_mib(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


def reset_peak() -> None:
    """Reset VmHWM to the current RSS (Linux >= 4.0), so the peak read after is the placement's."""
    Path("/proc/self/clear_refs").write_text("5")


def machine() -> dict[str, Any]:
    model = next((ln.split(":", 1)[1].strip() for ln in Path("/proc/cpuinfo").read_text().splitlines()
                  if ln.startswith("model name")), platform.processor())
    mem = next(int(ln.split()[1]) for ln in Path("/proc/meminfo").read_text().splitlines() if ln.startswith("MemTotal"))
    return {"nproc": os.cpu_count(), "cpu": model, "ram_gib": round(mem / 2**20, 1),
            "python": platform.python_version(), "date": datetime.now(UTC).isoformat(timespec="seconds")}


def new_articles(count: int, now: datetime) -> list[Article]:
    """``count`` new articles of synth_news outlets (50 each), as ``tag_records`` leaves them for storing."""
    from media_monitoring.tagging.signatures import pack_signature, sketch, text_hash

    out = []
    for o in synth_news.outlets(-(-count // 50), 50, "one", now):
        for a in o.articles():
            text = "\n".join(a["paragraphs"])
            article_id = f"n{o.index:05d}{a['j']:02d}"
            url = f"https://{o.id}.example/{article_id}"
            out.append(Article(article_id=article_id, canonical_url=url, url=url, outlet_id=o.id,
                               outlet_country=o.country[0], title=a["title"], published_at=a["published"],
                               fetched_at=a["published"], text_hash=text_hash(text),
                               signature=pack_signature(sketch(a["title"], text))))
    return out[:count]


def timed(parts: dict[str, float], module: Any, name: str) -> None:
    """Add the wall time of ``module.name`` calls to ``parts[name]``."""
    original: Callable[..., Any] = getattr(module, name)

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            parts[name] += time.perf_counter() - start

    setattr(module, name, wrapper)


def load(raw: Any, n: int, now: datetime, rng: np.random.Generator) -> None:
    from media_monitoring.tagging.signatures import BAND_VERSION, NUM_PERM, SIGNATURE_VERSION, band_keys, pack_signature

    with raw.cursor() as cur:
        cur.execute("ALTER TABLE story_bands DROP CONSTRAINT story_bands_pkey")
        cur.execute("DROP INDEX ix_story_bands_article_id")
    raw.commit()
    for start in range(0, n, LOAD_CHUNK):
        count = min(LOAD_CHUNK, n - start)
        sigs = rng.integers(0, 2**32 - 1, (count, NUM_PERM), dtype=np.uint32)
        seconds = rng.integers(0, 3 * 86400, count)
        articles, links, stories_, bands = io.StringIO(), io.StringIO(), io.StringIO(), io.StringIO()
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
            bands.write("".join(f"{key}\t{when}\t{aid}\n" for key in band_keys(sigs[k])))
        with raw.cursor() as cur:
            for table, cols, buf in (
                    ("articles", "article_id, canonical_url, url, outlet_id, outlet_country, published_at, text, "
                                 "word_count, sources, countries, regions, text_hash, signature, signature_version",
                     articles),
                    ("stories", "story_id, first_seen, last_seen, article_count, copies, outlets, "
                                "outlet_countries, countries", stories_),
                    ("article_stories", "article_id, story_id", links),
                    ("story_bands", "band_key, published_at, article_id", bands)):
                buf.seek(0)
                cur.copy_expert(f"COPY {table} ({cols}) FROM STDIN", buf)
        raw.commit()
        print(f"  loaded {start + count:,} of {n:,}", flush=True)
    with raw.cursor() as cur:
        cur.execute("ALTER TABLE story_bands ADD CONSTRAINT story_bands_pkey PRIMARY KEY (band_key, published_at, "
                    "article_id)")
        cur.execute("CREATE INDEX ix_story_bands_article_id ON story_bands (article_id)")
        cur.execute("INSERT INTO story_index (name, version, complete_from) VALUES ('story_bands', %s, %s)",
                    (BAND_VERSION, now - timedelta(days=30)))
    raw.commit()


def store_new(raw: Any, new: list[Article]) -> None:
    """The run's articles as its store_batch leaves them: stored, without a story yet."""
    buf = io.StringIO()
    for a in new:
        buf.write(f"{a.article_id}\t{a.canonical_url}\t{a.url}\t{a.outlet_id}\t{a.outlet_country}\t"
                  f"{a.published_at.isoformat()}\t{a.title}\tbody\t2\t[]\t[]\t[]\t{a.text_hash}\t"
                  f"\\\\x{a.signature.hex()}\n")
    buf.seek(0)
    with raw.cursor() as cur:
        cur.copy_expert("COPY articles (article_id, canonical_url, url, outlet_id, outlet_country, published_at, "
                        "title, text, word_count, sources, countries, regions, text_hash, signature) FROM STDIN", buf)
    raw.commit()


def postgres(args: argparse.Namespace, now: datetime) -> dict[str, Any]:
    import psycopg2

    from media_monitoring import pipeline
    from media_monitoring.warehouse import Warehouse
    from media_monitoring.warehouse import stories as store

    n = args.postgres
    name = f"mm_bench_story_{uuid.uuid4().hex[:8]}"
    admin = psycopg2.connect(**PG_ADMIN)
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    result: dict[str, Any] = {"stored": n, "new": args.new}
    wh = raw = None
    try:
        wh = Warehouse.connect(f"postgresql+psycopg2://postgres@127.0.0.1:5432/{name}")
        raw = psycopg2.connect(**{**PG_ADMIN, "dbname": name})
        t = time.perf_counter()
        load(raw, n, now, np.random.default_rng(2))
        new = new_articles(args.new, now)
        store_new(raw, new)
        raw.autocommit = True
        with raw.cursor() as cur:
            cur.execute("VACUUM ANALYZE")
            cur.execute("SELECT pg_total_relation_size('story_bands'), pg_total_relation_size('articles')")
            bands_bytes, articles_bytes = cur.fetchone()
        result.update({"load_s": round(time.perf_counter() - t, 1), "story_bands_mib": round(bands_bytes / 2**20),
                       "articles_mib": round(articles_bytes / 2**20)})
        print(f"postgres: {n:,} stored articles and {len(new):,} new loaded into {name} in {result['load_s']} s; "
              f"story_bands {result['story_bands_mib']:,} MiB ({bands_bytes / n:.0f} B per article), "
              f"articles {result['articles_mib']:,} MiB", flush=True)

        parts: dict[str, float] = defaultdict(float)
        for part in ("ensure_bands", "unassigned", "candidates", "save_placement", "members", "save_summaries"):
            timed(parts, store, part)
        reset_peak()
        rss0 = status_mib("VmRSS")
        t, w = time.process_time(), time.perf_counter()
        touched = pipeline.assign_stories(wh, new)
        cpu, wall = time.process_time() - t, time.perf_counter() - w
        peak = status_mib("VmHWM")
        with raw.cursor() as cur:
            cur.execute("SELECT count(*), count(DISTINCT story_id) FROM article_stories WHERE article_id LIKE 'n%%'")
            placed, stories_ = cur.fetchone()
        result.update({"wall_s": round(wall, 2), "cpu_s": round(cpu, 2), "rss_before_mib": round(rss0),
                       "peak_rss_mib": round(peak), "peak_over_before_mib": round(peak - rss0),
                       "parts_wall_s": {k: round(v, 2) for k, v in parts.items()}, "placed": placed,
                       "stories": stories_, "stories_touched": touched})
        print(f"postgres: placed {placed:,} new articles in {stories_:,} stories in {wall:.1f} s wall, {cpu:.1f} s CPU "
              f"in this process; RSS {rss0:,.0f} MiB before, peak {peak:,.0f} MiB during (+{peak - rss0:,.0f})")
        print("postgres: wall by part: " + ", ".join(f"{k} {v:.2f} s" for k, v in parts.items()))
    finally:
        if wh is not None:
            wh.close()
        if raw is not None:
            raw.close()
        with admin.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--postgres", type=int, default=LOOKBACK, help="stored articles loaded into PostgreSQL")
    ap.add_argument("--new", type=int, default=RUN_ARTICLES, help="new articles placed")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    result: dict[str, Any] = {"machine": machine(), "load_before": [round(x, 2) for x in os.getloadavg()]}
    print(f"machine: {result['machine']}\nload average before: {result['load_before']}")
    result["postgres"] = postgres(args, datetime.now(UTC))
    result["load_after"] = [round(x, 2) for x in os.getloadavg()]
    print(f"load average after: {result['load_after']}")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
