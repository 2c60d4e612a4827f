"""Where an ingest run's time goes: collect and process through the package API on the e2e data.

    .venv/bin/python bench/profile_ingest.py [--outlets 40 --items 50] [--politeness off|realistic]
                                             [--warehouse sqlite|postgres] [--json out.json]

Same synthetic outlets as ``bench/e2e_scheduler.py`` (``bench/synth_news.py``, one loopback host per
outlet), same code as the Airflow tasks (``media_monitoring.pipeline.collect`` / ``process``), without
Airflow, in one process:

1. **collect**, instrumented: wall-clock seconds spent by the 16 outlet threads in each step (limiter
   waits, feed / robots / page fetches, waiting for an extraction worker's answer, each warehouse call,
   feed parsing), summed over threads; process CPU, and the extraction workers' CPU (RUSAGE_CHILDREN);
2. **extraction** alone: ``extract_article`` on 300 of the pages in this process under cProfile (what
   each worker spends its CPU on);
3. **process** under cProfile (single thread): staged read, Great Expectations validation, tagging,
   the upserts, the outlet-quality step.

Talks to loopback only; the site server stops with this script. Temporary data dir; a PostgreSQL
warehouse (``--warehouse postgres``) is a throwaway database dropped at the end.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import importlib
import io
import json
import os
import pstats
import resource
import sys
import tempfile
import threading
import time
import uuid
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import synth_news  # noqa: E402

PG_ADMIN = {"host": "127.0.0.1", "port": 5432, "user": "postgres", "dbname": "postgres"}


def loadavg() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


class Timers:
    """Wall seconds per label, summed over threads."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.total: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)

    def add(self, label: str, seconds: float) -> None:
        with self.lock:
            self.total[label] += seconds
            self.calls[label] += 1

    def wrap(self, owner: Any, name: str, label: str | Any) -> None:
        original = getattr(owner, name)

        def timed(*args: Any, **kwargs: Any) -> Any:
            t = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self.add(label(args) if callable(label) else label, time.perf_counter() - t)

        setattr(owner, name, timed)


def instrument(timers: Timers) -> None:
    from media_monitoring.net import HttpClient
    from media_monitoring.politeness import HostLimiter, RobotsRules
    from media_monitoring.sandbox import BoundedExtractor
    from media_monitoring.warehouse import articles, feeds

    def fetch_kind(args: tuple) -> str:
        url = args[1]
        return "fetch robots.txt" if url.endswith("robots.txt") else "fetch feed" if url.endswith(".xml") \
            else "fetch page (GET + read)"

    timers.wrap(HttpClient, "get", fetch_kind)
    timers.wrap(BoundedExtractor, "extract", "extraction (wait for worker + extract)")
    timers.wrap(RobotsRules, "allowed", "robots check (incl. first fetch)")
    collect_stage = importlib.import_module("media_monitoring.pipeline.collect")  # pipeline.collect: the function
    timers.wrap(collect_stage, "read_feed", "parse feed (feedparser)")
    for store, names in ((articles, ("known_ids", "find_by_title", "stage")),
                         (feeds, ("failures_not_due", "feed_state", "save_feed_state", "due_retries"))):
        for name in names:
            timers.wrap(store, name, f"warehouse.{name}")
    original_slot = HostLimiter.slot

    @contextlib.contextmanager
    def slot(self: Any, url: str):  # type: ignore[no-untyped-def]
        t = time.perf_counter()
        with original_slot(self, url):
            timers.add("host limiter wait", time.perf_counter() - t)
            yield

    HostLimiter.slot = slot  # type: ignore[method-assign]


def top(stats: pstats.Stats, key: str, n: int) -> list[str]:
    out = io.StringIO()
    stats.stream = out  # type: ignore[attr-defined]
    stats.sort_stats(key).print_stats(n)
    lines = out.getvalue().splitlines()
    start = next((i for i, ln in enumerate(lines) if ln.strip().startswith("ncalls")), 0)
    return [ln.replace(str(Path(sys.prefix)), "<venv>").replace(str(synth_news.__file__).rsplit("/bench", 1)[0], "")
            for ln in lines[start:start + n + 1]]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--outlets", type=int, default=40)
    ap.add_argument("--items", type=int, default=50)
    ap.add_argument("--politeness", choices=("off", "realistic"), default="off",
                    help="off: min_delay_s 0, 8 per host; realistic: the production default (2 per host, 1 s)")
    ap.add_argument("--warehouse", choices=("sqlite", "postgres"), default="sqlite")
    ap.add_argument("--extract-sample", type=int, default=300)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="mm-bench-profile-"))
    os.environ.update({"MEDIA_MONITOR_DATA_DIR": str(tmp / "data"), "GX_ANALYTICS_ENABLED": "False",
                       "MEDIA_MONITOR_OUTLETS": str(tmp / "outlets.yaml")})
    os.environ.pop("MEDIA_MONITOR_WAREHOUSE_URL", None)
    os.environ.pop("AIRFLOW_CONN_MEDIA_WAREHOUSE", None)
    pg_db = None
    if args.warehouse == "postgres":
        import psycopg2

        pg_db = f"mm_bench_prof_{uuid.uuid4().hex[:8]}"
        admin = psycopg2.connect(**PG_ADMIN)
        admin.autocommit = True
        admin.cursor().execute(f'CREATE DATABASE "{pg_db}"')
        admin.close()
        os.environ["MEDIA_MONITOR_WAREHOUSE_URL"] = f"postgresql+psycopg2://postgres@127.0.0.1:5432/{pg_db}"

    anchor = datetime.now(UTC)
    site = synth_news.SiteServer(args.outlets, args.items, "distinct", anchor, max_lifetime=1800)
    outs = synth_news.outlets(args.outlets, args.items, "distinct", anchor)
    conc, delay = (8, 0.0) if args.politeness == "off" else (2, 1.0)
    synth_news.write_registry(tmp / "outlets.yaml", outs, site.port, max_concurrency=conc, min_delay_s=delay)
    result: dict[str, Any] = {"args": vars(args) | {"json": str(args.json)}, "load_before": loadavg()}
    print(f"load average before: {loadavg()}  ({os.cpu_count()} CPUs)")
    try:
        from media_monitoring import pipeline
        from media_monitoring.settings import load_settings

        settings = load_settings()
        wh = pipeline.open_warehouse(settings)
        run_id = f"bench__{uuid.uuid4().hex[:6]}"
        ids = [o.id for o in outs]

        # 1. collect, instrumented
        timers = Timers()
        instrument(timers)
        cpu0, ch0 = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        site_cpu0 = site.cpu_s()
        t = time.perf_counter()
        report = pipeline.collect(ids, run_id=run_id, settings=settings, warehouse=wh)
        wall = time.perf_counter() - t
        cpu1, ch1 = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        totals = report.totals()
        totals.pop("by_outlet")
        own_cpu = cpu1.ru_utime + cpu1.ru_stime - cpu0.ru_utime - cpu0.ru_stime
        workers_cpu = ch1.ru_utime + ch1.ru_stime - ch0.ru_utime - ch0.ru_stime
        collect = {"wall_s": wall, "totals": totals, "task_process_cpu_s": own_cpu,
                   "extraction_workers_cpu_s": workers_cpu, "site_server_cpu_s": site.cpu_s() - site_cpu0,
                   "articles_per_s": totals["staged"] / wall, "load_after": loadavg(),
                   "thread_seconds": {k: {"s": round(v, 2), "calls": timers.calls[k]}
                                      for k, v in sorted(timers.total.items(), key=lambda kv: -kv[1])}}
        result["collect"] = collect
        print(f"\n== collect: {totals['staged']} staged of {totals['entries']} entries from {totals['outlets']} "
              f"outlets "
              f"({totals['outlets_failed']} failed, {totals['page_failures']} page failures) in {wall:.1f} s = "
              f"{totals['staged'] / wall:.1f} articles/s; load {loadavg()}")
        print(f"   CPU: task process {own_cpu:.1f} s, extraction workers {workers_cpu:.1f} s "
              f"({workers_cpu / max(1, totals['staged']) * 1000:.0f} ms/article), site server "
              f"{collect['site_server_cpu_s']:.1f} s")
        print(f"   outlet-thread seconds (16 threads x {wall:.0f} s = {16 * wall:.0f} available):")
        for k, v in collect["thread_seconds"].items():
            per_call = v["s"] / max(1, v["calls"]) * 1000
            print(f"     {k:45s} {v['s']:9.1f} s  {v['calls']:6d} calls  {per_call:8.1f} ms/call")

        # 2. extraction alone, under cProfile
        from media_monitoring.extract import extract_article

        sample = []
        for o in outs:
            for a in o.articles():
                sample.append((o.page(site.port, a["j"]), o.link(site.port, a), a["title"], a["published"]))
                if len(sample) >= args.extract_sample:
                    break
            if len(sample) >= args.extract_sample:
                break
        extract_article(*sample[0][:2], feed_title=sample[0][2], feed_published=sample[0][3])  # warm imports
        prof = cProfile.Profile()
        t = time.perf_counter()
        c0 = time.process_time()
        prof.enable()
        for body, url, title, published in sample:
            extract_article(body, url, feed_title=title, feed_published=published)
        prof.disable()
        ex_wall, ex_cpu = time.perf_counter() - t, time.process_time() - c0
        st = pstats.Stats(prof)
        result["extraction"] = {"pages": len(sample), "wall_s": ex_wall, "cpu_s": ex_cpu,
                                "ms_per_page": ex_cpu / len(sample) * 1000,
                                "top_cumulative": top(st, "cumulative", 25), "top_tottime": top(st, "tottime", 20)}
        print(f"\n== extraction alone (in-process, cProfile on): {len(sample)} pages, "
              f"{ex_cpu / len(sample) * 1000:.1f} ms CPU/page (profiler overhead included)")
        print("\n".join(result["extraction"]["top_cumulative"]))
        print("\n".join(result["extraction"]["top_tottime"]))

        # 3. process under cProfile
        prof = cProfile.Profile()
        t = time.perf_counter()
        c0 = time.process_time()
        prof.enable()
        rep = pipeline.process(run_id, settings=settings, warehouse=wh, run_time=datetime.now(UTC))
        prof.disable()
        p_wall, p_cpu = time.perf_counter() - t, time.process_time() - c0
        st = pstats.Stats(prof)
        phases = {}  # every function process() calls directly, with its cumulative time
        process_key = next(k for k in st.stats if k[2] == "process" and k[0].endswith("pipeline/process.py"))  # type: ignore[attr-defined]
        for fn, (_cc, _nc, _tt, ct, callers) in st.stats.items():  # type: ignore[attr-defined]
            if process_key in callers and ct > 0.01:
                phases[f"{Path(fn[0]).name}:{fn[2]}"] = callers[process_key][3]
        result["process"] = {"wall_s": p_wall, "cpu_s": p_cpu, "report": rep.__dict__, "phases_s": phases,
                             "articles_per_s": rep.stored / p_wall, "load_after": loadavg(),
                             "top_cumulative": top(st, "cumulative", 35), "top_tottime": top(st, "tottime", 25)}
        print(f"\n== process: {rep.staged} staged -> {rep.stored} stored, {rep.quarantined} quarantined, "
              f"{rep.hits} hits in {rep.tagged_articles} articles; {p_wall:.1f} s wall (cProfile on), "
              f"{rep.stored / p_wall:.1f} articles/s; by expectation {rep.by_expectation}; load {loadavg()}")
        for k, v in sorted(phases.items(), key=lambda kv: -kv[1]):
            print(f"     {k:45s} {v:8.2f} s")
        print("\n".join(result["process"]["top_cumulative"]))
        print("\n".join(result["process"]["top_tottime"]))
        result["site_stats"] = site.stats()
        wh.close()
    finally:
        site.stop()
        if pg_db:
            import psycopg2

            admin = psycopg2.connect(**PG_ADMIN)
            admin.autocommit = True
            admin.cursor().execute(f'DROP DATABASE IF EXISTS "{pg_db}" WITH (FORCE)')
            admin.close()
    if args.json:
        args.json.write_text(json.dumps(result, indent=1, default=str))
        print(f"\nwrote {args.json}")


if __name__ == "__main__":
    main()
