"""Exporting a million watchlist hits from the 1M-article PostgreSQL warehouse, with the process's memory sampled.

    .venv/bin/python bench/export_1m.py [--articles 1000000] [--bound-mib 50] [--json out.json] [--keep]
    .venv/bin/python bench/export_1m.py --url postgresql+psycopg2://postgres@127.0.0.1:5432/NAME   # an existing one

1. Builds the warehouse of ``bench/warehouse_1m.py`` in a throwaway database on the local PostgreSQL
   (127.0.0.1:5432, user postgres): its schema from ``Warehouse.connect``, its generator and COPY load with the
   secondary indexes dropped during the load. That warehouse has hits on ~5% of its articles; here every
   article without one gets one more hit (``Afghanistan`` in its text), so that exporting all hits writes
   more than a million rows. Then the indexes, ``hit_places`` and ``VACUUM ANALYZE``; each step is timed.
2. Exports all hits as CSV and then as JSON to ``/dev/null`` through ``media-monitor export hits``'s own code
   (``media_monitoring.cli.main``, in this process): the rows read with a server-side cursor, a batch at a time,
   and written while they are read. A thread samples the process's resident memory (psutil, ``VmRSS``) every
   ``SAMPLE_S`` seconds.
3. Reports per format rows, seconds, rows per second, the RSS at the start, at 10% and 50% of the export's time
   and at its end, the peak, and checks that the peak stays within ``--bound-mib`` of the start: memory does not
   grow with the number of rows.
4. Drops the database (unless ``--keep``, or ``--url`` was given).

Loopback only; the build takes ~10 minutes for 1M articles on 2 cores, each export a minute or two.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import threading
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
DEFAULT_BOUND_MIB = 50  # allowed growth of the peak over the start: a chunk, a batch, the driver's buffers
EXTRA_TERM = "Afghanistan"
EXTRA_START = 1000  # beyond every generated hit's position: never collides with a hit's primary key
MIB = 2**20


class RssSampler:
    """The process's resident set size every ``SAMPLE_S`` seconds, in a daemon thread, with the time of each."""

    def __init__(self) -> None:
        self.process = psutil.Process()
        self.samples: list[tuple[float, int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.samples.append((time.perf_counter(), self.process.memory_info().rss))
            self._stop.wait(SAMPLE_S)

    def __enter__(self) -> RssSampler:
        self.started = time.perf_counter()
        self._thread.start()
        return self

    def __exit__(self, *_: Any) -> None:
        self._stop.set()
        self._thread.join()
        self.samples.append((time.perf_counter(), self.process.memory_info().rss))
        self.ended = time.perf_counter()

    def at(self, fraction: float) -> int:
        """The RSS sampled closest after ``fraction`` of the elapsed time."""
        when = self.started + fraction * (self.ended - self.started)
        return next(rss for t, rss in self.samples if t >= when)


class RowCount(logging.Handler):
    """The counts ``warehouse.export.hit_rows`` logs when it has written the last row."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.hits = self.articles = 0

    def emit(self, record: logging.LogRecord) -> None:
        if record.getMessage().startswith("exported "):
            self.hits, self.articles = record.args  # type: ignore[misc]


def build(name: str, articles: int) -> dict[str, Any]:
    """The 1M warehouse of bench/warehouse_1m.py, plus a hit on every article that has none; each step timed."""
    from media_monitoring.config import load_analysts
    from media_monitoring.settings import load_settings
    from media_monitoring.warehouse import Warehouse

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
        hit_places = wh.rebuild_hit_places()  # derived from the hits and places loaded above
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


def export_once(url: str, fmt: str, bound_mib: float) -> dict[str, Any]:
    """All hits in ``fmt`` to /dev/null through the CLI's code, with the RSS sampled."""
    from media_monitoring import cli

    counter = RowCount()
    logging.getLogger("media_monitoring.warehouse.export").setLevel(logging.INFO)
    logging.getLogger("media_monitoring.warehouse.export").addHandler(counter)
    try:
        with RssSampler() as rss:
            code = cli.main(["export", "hits", "--format", fmt, "-o", os.devnull, "--warehouse", url])
    finally:
        logging.getLogger("media_monitoring.warehouse.export").removeHandler(counter)
    assert code == 0, f"media-monitor export exited {code}"
    seconds = rss.ended - rss.started
    start, peak = rss.samples[0][1], max(r for _, r in rss.samples)
    result = {"format": fmt, "rows": counter.hits, "articles": counter.articles, "seconds": round(seconds, 1),
              "rows_per_s": round(counter.hits / seconds), "samples": len(rss.samples),
              "rss_mib": {"start": round(start / MIB, 1), "10%": round(rss.at(0.1) / MIB, 1),
                          "50%": round(rss.at(0.5) / MIB, 1), "end": round(rss.samples[-1][1] / MIB, 1),
                          "peak": round(peak / MIB, 1)},
              "growth_mib": round((peak - start) / MIB, 1), "growth_after_10pct_mib":
                  round((peak - rss.at(0.1)) / MIB, 1), "bound_mib": bound_mib, "load_after": loadavg()}
    mib = result["rss_mib"]
    print(f"{fmt}: {result['rows']:,} rows ({result['articles']:,} articles) in {seconds:.1f} s = "
          f"{result['rows_per_s']:,} rows/s; RSS MiB start {mib['start']}, 10% {mib['10%']}, 50% {mib['50%']}, "
          f"end {mib['end']}, peak {mib['peak']} (+{result['growth_mib']} MiB; +{result['growth_after_10pct_mib']} "
          f"after 10%); load {loadavg()}", flush=True)
    return result


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--articles", type=int, default=1_000_000)
    ap.add_argument("--url", help="export from this warehouse instead of building one (it is kept)")
    ap.add_argument("--bound-mib", type=float, default=DEFAULT_BOUND_MIB,
                    help="allowed growth of the peak RSS over the RSS at the export's start (default %(default)s)")
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
        result["exports"] = [export_once(url, fmt, args.bound_mib) for fmt in ("csv", "json")]
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
