"""Exporting a million watchlist hits from the 1M-article PostgreSQL warehouse, with the process's memory sampled.

    .venv/bin/python bench/export_1m.py [--articles 1000000] [--bound-mib 50] [--json out.json] [--keep]
    .venv/bin/python bench/export_1m.py --url postgresql+psycopg2://postgres@127.0.0.1:5432/NAME   # an existing one

1. Builds the warehouse of ``bench/warehouse_1m.py`` in a throwaway database on the local PostgreSQL
   (127.0.0.1:5432, user postgres): its schema from ``Warehouse.connect``, its generator and COPY load with the
   secondary indexes dropped during the load. That warehouse has hits on ~5% of its articles; here every
   article without one gets one more hit (``Afghanistan`` in its text), so that exporting all hits writes
   more than a million rows. Then the indexes, ``hit_places`` and ``VACUUM ANALYZE``; each step is timed.
2. Runs ``media-monitor export hits`` (the CLI, ``python -m media_monitoring.cli``) in a fresh process three
   times, each to ``/dev/null``: once for a term no article has (nothing is exported: the memory of the code and
   its imports), then all hits as CSV and as JSON. The rows are read with a server-side cursor, a batch at a
   time, and written while they are read. The benchmark samples the process's resident memory (psutil, ``VmRSS``)
   every ``SAMPLE_S`` seconds; the row counts are the ones the export logs when it is done.
3. Reports per format rows, seconds, rows per second, the RSS at 10% and 50% of the export's time and at its end,
   the peak, and checks that the peak stays within ``--bound-mib`` of the empty export's peak: memory does not
   grow with the number of rows.
4. Drops the database (unless ``--keep``, or ``--url`` was given).

Loopback only; the build takes ~10 minutes for 1M articles on 2 cores, each export a minute or two.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil
import psycopg2

sys.path.insert(0, str(Path(__file__).resolve().parent))
from hostinfo import loadavg, machine  # noqa: E402
from warehouse_1m import PG_ADMIN, WATCHLIST, Loader, generate  # noqa: E402

SAMPLE_S = 0.5  # how often the resident memory is read
DEFAULT_BOUND_MIB = 50  # allowed growth of the peak over an empty export's: a chunk, a batch, the driver's buffers
NO_SUCH_TERM = "no term has this name"  # the empty export: the CLI's imports and connections, no rows
EXTRA_TERM = "Afghanistan"
EXTRA_START = 1000  # beyond every generated hit's position: never collides with a hit's primary key
MIB = 2**20


def run_sampled(args: list[str]) -> dict[str, Any]:
    """Run ``media-monitor`` with ``args`` in a fresh process; its RSS every ``SAMPLE_S`` seconds and its stderr."""
    command = [sys.executable, "-m", "media_monitoring.cli", *args]
    samples: list[tuple[float, int]] = []
    with tempfile.TemporaryFile() as errors:
        started = time.perf_counter()
        child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=errors)
        process = psutil.Process(child.pid)
        while child.poll() is None:
            try:
                samples.append((time.perf_counter(), process.memory_info().rss))
            except psutil.NoSuchProcess:  # it ended between poll() and the reading
                break
            time.sleep(SAMPLE_S)
        ended = time.perf_counter()
        errors.seek(0)
        stderr = errors.read().decode("utf-8", "replace")
    assert child.returncode == 0, f"media-monitor {' '.join(args)} exited {child.returncode}:\n{stderr[-3000:]}"
    counted = re.search(r"exported (\d+) hits of (\d+) articles", stderr)
    assert counted, stderr[-3000:]

    def at(fraction: float) -> int:
        when = started + fraction * (ended - started)
        return next((rss for t, rss in samples if t >= when), samples[-1][1])

    return {"rows": int(counted[1]), "articles": int(counted[2]), "seconds": ended - started,
            "samples": len(samples), "rss": {"10%": at(0.1), "50%": at(0.5), "end": samples[-1][1],
                                             "peak": max(rss for _, rss in samples)}}


def build(name: str, articles: int) -> dict[str, Any]:
    """The 1M warehouse of bench/warehouse_1m.py, plus a hit on every article that has none; each step timed."""
    from media_monitoring.config import load_analysts
    from media_monitoring.settings import load_settings
    from media_monitoring.warehouse import Warehouse
    from media_monitoring.warehouse import articles as article_store

    subscriptions = [s.name for s in load_analysts(load_settings({}).analysts_file).subscriptions]
    url = f"postgresql+psycopg2://postgres@127.0.0.1:5432/{name}"
    steps: dict[str, float] = {}
    wh = Warehouse.connect(url)  # the schema, its indexes and the search column, as the DAGs create them
    raw = psycopg2.connect(**{**PG_ADMIN, "dbname": name})
    try:
        with raw.cursor() as cur:  # secondary indexes off during the load, back from their own definitions after
            cur.execute("select indexname, indexdef from pg_indexes where schemaname = 'public' and indexname not in "
                        "(select conname from pg_constraint where contype in ('p', 'u'))")
            secondary = cur.fetchall()
            for index_name, _ in secondary:
                cur.execute(f'DROP INDEX "{index_name}"')
            cur.execute("SET synchronous_commit = off")
        raw.commit()
        t = time.perf_counter()
        loader = Loader(raw)
        meta = generate(loader, articles, datetime.now(UTC).date(), subscriptions)
        steps["copy_s"] = time.perf_counter() - t
        t = time.perf_counter()
        with raw.cursor() as cur:
            cur.execute(
                "INSERT INTO watchlist_hits (article_id, watchlist, term, field, start, \"end\", alias, matched, "
                "snippet, version) SELECT a.article_id, %s, %s, 'text', %s, %s, %s, %s, "
                "'... talks on ' || %s || ' and the border ...', '2026.11.2' FROM articles a WHERE NOT EXISTS "
                "(SELECT 1 FROM watchlist_hits h WHERE h.article_id = a.article_id)",
                (WATCHLIST, EXTRA_TERM, EXTRA_START, EXTRA_START + len(EXTRA_TERM), EXTRA_TERM, EXTRA_TERM,
                 EXTRA_TERM))
            extra = cur.rowcount
        raw.commit()
        steps["extra_hits_s"] = time.perf_counter() - t
        t = time.perf_counter()
        with raw.cursor() as cur:
            cur.execute("SET maintenance_work_mem = '256MB'")
            for _, definition in secondary:
                cur.execute(definition)
        raw.commit()
        steps["indexes_s"] = time.perf_counter() - t
        t = time.perf_counter()
        hit_places = article_store.rebuild_hit_places(wh)  # derived from the hits and places loaded above
        steps["hit_places_s"] = time.perf_counter() - t
        t = time.perf_counter()
        raw.autocommit = True
        with raw.cursor() as cur:
            cur.execute("VACUUM ANALYZE")
            steps["vacuum_analyze_s"] = time.perf_counter() - t
            cur.execute("select count(*), count(distinct article_id) from watchlist_hits")
            hits, hit_articles = cur.fetchone()
            cur.execute("select pg_size_pretty(pg_database_size(current_database()))")
            size = cur.fetchone()[0]
    finally:
        raw.close()
        wh.close()
    return {"rows": loader.rows, "generated_hit_articles": meta["hit_articles"], "extra_hits": extra,
            "hits": hits, "hit_articles": hit_articles, "hit_places": hit_places, "database_size": size,
            "steps_s": {k: round(v, 1) for k, v in steps.items()}, "build_s": round(sum(steps.values()), 1)}


def export_once(url: str, fmt: str, empty_peak: int, bound_mib: float) -> dict[str, Any]:
    """All hits in ``fmt`` to /dev/null through the CLI, with its RSS sampled."""
    run = run_sampled(["export", "hits", "--format", fmt, "-o", os.devnull, "--warehouse", url])
    rss = {k: round(v / MIB, 1) for k, v in run["rss"].items()}
    result = {"format": fmt, "rows": run["rows"], "articles": run["articles"], "seconds": round(run["seconds"], 1),
              "rows_per_s": round(run["rows"] / run["seconds"]), "samples": run["samples"], "rss_mib": rss,
              "growth_mib": round((run["rss"]["peak"] - empty_peak) / MIB, 1),
              "growth_after_10pct_mib": round((run["rss"]["peak"] - run["rss"]["10%"]) / MIB, 1),
              "bound_mib": bound_mib, "load_after": loadavg()}
    print(f"{fmt}: {result['rows']:,} rows ({result['articles']:,} articles) in {result['seconds']} s = "
          f"{result['rows_per_s']:,} rows/s; RSS MiB 10% {rss['10%']}, 50% {rss['50%']}, end {rss['end']}, "
          f"peak {rss['peak']}: +{result['growth_mib']} MiB over the empty export, "
          f"+{result['growth_after_10pct_mib']} after 10%; load {loadavg()}", flush=True)
    return result


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--articles", type=int, default=1_000_000)
    ap.add_argument("--url", help="export from this warehouse instead of building one (it is kept)")
    ap.add_argument("--bound-mib", type=float, default=DEFAULT_BOUND_MIB,
                    help="allowed growth of the peak RSS over an empty export's (default %(default)s)")
    ap.add_argument("--keep", action="store_true", help="keep the database (its name is printed)")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s")
    result: dict[str, Any] = {"machine": machine(), "load_before": loadavg()}
    print(f"machine: {result['machine']}\nload average before: {result['load_before']}", flush=True)
    admin = None
    name = None
    url = args.url
    try:
        if url is None:
            name = f"mm_bench_export_{uuid.uuid4().hex[:8]}"
            admin = psycopg2.connect(**PG_ADMIN)
            admin.autocommit = True
            with admin.cursor() as cur:
                cur.execute("show server_version")
                result["postgres"] = cur.fetchone()[0]
                cur.execute(f'CREATE DATABASE "{name}"')
            print(f"database {name}: building {args.articles:,} articles", flush=True)
            result["warehouse"] = build(name, args.articles)
            url = f"postgresql+psycopg2://postgres@127.0.0.1:5432/{name}"
            print(f"built in {result['warehouse']['build_s']} s: {result['warehouse']}", flush=True)
        empty = run_sampled(["export", "hits", "--term", NO_SUCH_TERM, "-o", os.devnull, "--warehouse", url])
        result["empty_export"] = {"rows": empty["rows"], "seconds": round(empty["seconds"], 1),
                                  "peak_rss_mib": round(empty["rss"]["peak"] / MIB, 1)}
        print(f"empty export: {empty['rows']} rows, peak RSS {result['empty_export']['peak_rss_mib']} MiB", flush=True)
        result["exports"] = [export_once(url, fmt, empty["rss"]["peak"], args.bound_mib) for fmt in ("csv", "json")]
    finally:
        if admin is not None:
            if not args.keep:
                with admin.cursor() as cur:
                    cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                print(f"dropped {name}")
            admin.close()
    if args.json:
        args.json.write_text(json.dumps(result, indent=1, default=str))
        print(f"wrote {args.json}")
    over = [e for e in result["exports"] if e["growth_mib"] >= args.bound_mib]
    short = [e for e in result["exports"] if e["rows"] < 1_000_000 and args.url is None and args.articles >= 1_000_000]
    assert not over, f"memory grew by {[e['growth_mib'] for e in over]} MiB (bound {args.bound_mib} MiB)"
    assert not short, f"fewer than 1M rows exported: {[e['rows'] for e in short]}"
    return 0


if __name__ == "__main__":
    sys.exit(main())
