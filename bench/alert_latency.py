"""Publication -> priority alert on a replay with a moving clock, at the default ingest schedule.

    .venv/bin/python bench/alert_latency.py                       # 24 simulated hours, ~10-15 min
    .venv/bin/python bench/alert_latency.py --hours 6 --every 30 --json /tmp/lat.json

Synthetic outlets (``bench/synth_news.py`` pages: real layouts and chrome) publish at random times over
the simulated period, every article naming a priority term (CSTO or Lavrov) in its own story. A local
server (127.0.0.1 only) shows each article in its outlet's feed from its publication time on. The clock
then moves from one scheduled ingest slot to the next, and at each slot the product's own functions run
as the DAG tasks run them: ``plan_batches`` (due feeds only, as a scheduled run), ``collect``, ``process``
(stored at the slot time), then ``select_alerts`` / ``send_alerts`` of the Asset-triggered alert run.

Time inside a slot is real: the clock advances by the measured duration of each step, plus what this
in-process loop does not pay and Airflow does, measured or taken from bench/RESULTS.md: each task's
process start (cold imports, measured once here in a fresh interpreter) and Airflow's gaps between tasks
and from the Asset event to the alert run (constants below). The registry's polling bounds are
production's (``include/config/outlets.yaml``): half of the outlets priority, half adaptive.

Prints p50/p95/max of publication -> alert for priority and non-priority outlets and where the time goes:
waiting for the poll (published -> first seen in the feed) and the rest of the slot (first seen -> alerted:
the page fetch, process, the Asset trigger and the alert run), with each step's measured wall time.
"""

from __future__ import annotations

import argparse
import importlib
import json
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "include"), str(ROOT / "bench")]

import synth_news  # noqa: E402

from media_monitoring import pipeline  # noqa: E402
from media_monitoring.latency import percentile  # noqa: E402
from media_monitoring.schedules import INGEST_EVERY  # noqa: E402

# What Airflow adds that this loop does not run (bench/RESULTS.md, "End to end through the scheduler", run B:
# run start -> plan 0.2 s, plan -> collect 0.3-1.1 s, collect -> process 0.3-1.1 s): ~1 s between tasks.
TASK_GAP_S = 1.0
# Asset event -> the consumer run queued and its first task started: one or two scheduler loops (the
# scheduler's loop is ~1 s when idle; assumed, not measured here: see the README of this benchmark).
ASSET_TRIGGER_S = 5.0
PRIORITY_TERMS = ("The Collective Security Treaty Organization (CSTO) said its members followed the situation "
                  "closely.", "Russian Foreign Minister Sergei Lavrov commented on the report on Thursday.")


class SimClock:
    """The simulated now: a base instant that the loop moves, plus real time since it was set."""

    def __init__(self, start: datetime) -> None:
        self.set(start)

    def set(self, at: datetime) -> None:
        self._base, self._real = at, time.perf_counter()

    def now(self) -> datetime:
        return self._base + timedelta(seconds=time.perf_counter() - self._real)

    def advance(self, seconds: float) -> None:
        self.set(self.now() + timedelta(seconds=seconds))


def cold_start_s(code: str) -> float:
    """Wall time of a fresh interpreter running ``code`` (a task process's imports), best of 2."""
    env = {"PYTHONPATH": str(ROOT / "include"), "GX_ANALYTICS_ENABLED": "False", "PATH": "/usr/bin:/bin"}
    best = float("inf")
    for _ in range(2):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True, env=env, capture_output=True)
        best = min(best, time.perf_counter() - started)
    return best


def make_outlets(count: int, hours: float, per_day: float, start: datetime, seed: int) -> list[synth_news.Outlet]:
    rng = random.Random(seed)
    outs = []
    for i in range(count):
        outlet = synth_news.Outlet(i, items=max(4, int(per_day * hours / 24 * 3)), anchor=start, hosts="one")
        arts, t = [], start
        never = start + timedelta(days=365)  # the rest are only "related" links on pages, never in the feed
        for article in outlet.articles():  # Poisson publications over the period
            t += timedelta(hours=rng.expovariate(per_day / 24))
            paragraphs = list(article["paragraphs"])
            paragraphs.insert(1, PRIORITY_TERMS[article["j"] % 2])
            published = t.replace(microsecond=0) if t < start + timedelta(hours=hours) else never
            # the headline too: a synthetic body paragraph may be cut by the page template's mid-body insert
            title = f"{('CSTO', 'Lavrov')[article['j'] % 2]}: {article['title']}"
            arts.append({**article, "title": title, "published": published, "paragraphs": paragraphs})
        outlet._articles = arts
        outs.append(outlet)
    return outs


def serve(outs: list[synth_news.Outlet], clock: SimClock) -> ThreadingHTTPServer:
    by_index = {o.index: o for o in outs}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server API)
            port = self.server.server_address[1]
            path = unquote(self.path)  # links with non-ASCII slugs arrive percent-encoded
            parts = path.split("/")
            outlet = by_index.get(int(parts[1][1:])) if len(parts) > 2 and parts[1][1:].isdigit() else None
            body, ctype = None, "text/html; charset=utf-8"
            if outlet is not None and parts[2] == "rss.xml":
                now = clock.now()
                items = "".join(
                    f"<item><title>{escape(a['title'])}</title><link>{outlet.link(port, a)}</link>"
                    f"<guid>{outlet.link(port, a)}</guid><pubDate>{format_datetime(a['published'], usegmt=True)}"
                    f"</pubDate></item>" for a in reversed(outlet.articles()) if a["published"] <= now)
                body = (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>{outlet.name}'
                        f"</title><link>{outlet.base(port)}/</link><description>news</description>{items}"
                        "</channel></rss>").encode()
                ctype = "application/rss+xml; charset=utf-8"
            elif outlet is not None:
                for j, a in enumerate(outlet.articles()):
                    if outlet.link(port, a).endswith(path):
                        body = outlet.page(port, j)
                        break
            if body is None:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, fmt: str, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd


def write_config(tmp: Path, outs: list[synth_news.Outlet], port: int, priority: int) -> Path:
    prod = yaml.safe_load((ROOT / "include/config/outlets.yaml").read_text(encoding="utf-8"))
    registry = {"version": "bench", "polling": prod["polling"],
                "hosts": {"default": {"max_concurrency": 8, "min_delay_s": 0}},
                "outlets": [{"id": o.id, "name": o.name, "feed_url": f"{o.base(port)}/rss.xml", "country": o.country[0],
                             "languages": ["en"], "allow_private": True, "priority": o.index < priority}
                            for o in outs]}
    (tmp / "outlets.yaml").write_text(yaml.safe_dump(registry, allow_unicode=True), encoding="utf-8")
    config = tmp / "config"
    config.mkdir()
    for name in ("watchlists.yaml", "regions.yaml"):
        shutil.copy(ROOT / "include/config" / name, config / name)
    (config / "analysts.yaml").write_text(yaml.safe_dump({
        "sender": "bench@example.org", "subscriptions": [{
            "name": "Bench desk", "email": "desk@example.org", "watchlists": ["central-asia-security"],
            "alerts": {"enabled": True, "max_per_hour": 1000}}]}), encoding="utf-8")
    return config


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hours", type=float, default=24.0, help="simulated period (default 24)")
    parser.add_argument("--every", type=float, default=INGEST_EVERY.total_seconds() / 60,
                        help="ingest schedule in minutes (default: the DAG's, %(default)g)")
    parser.add_argument("--outlets", type=int, default=6, help="outlets, the first half priority (default 6)")
    parser.add_argument("--per-day", type=float, default=12.0, help="articles per outlet per day (default 12)")
    parser.add_argument("--seed", type=int, default=26)
    parser.add_argument("--json", help="write every article's times and the summary here")
    parser.add_argument("--keep", help="copy the warehouse (SQLite) here at the end, to look into it")
    args = parser.parse_args()

    from media_monitoring.priority import select_alerts, send_alerts
    from media_monitoring.sandbox import BoundedExtractor
    from media_monitoring.settings import load_settings
    from media_monitoring.warehouse.alerts import latency_rows

    cold = {"plan": cold_start_s("import media_monitoring.pipeline"),
            "collect": cold_start_s("import media_monitoring.pipeline, trafilatura, feedparser"),
            "process": cold_start_s("import great_expectations, media_monitoring.pipeline, media_monitoring.tagging; "
                                    "from media_monitoring.settings import load_settings as l; "
                                    "from media_monitoring.tagging import Tagger; s = l(); "
                                    "Tagger(s.watchlists_file, s.regions_file).tag('Kabul', 'CSTO')"),
            "alerts": cold_start_s("import media_monitoring.priority")}
    print("cold task start (fresh interpreter, s):", {k: round(v, 2) for k, v in cold.items()}, flush=True)

    start = datetime(2026, 12, 1, 0, 0, tzinfo=UTC)
    clock = SimClock(start)
    outs = make_outlets(args.outlets, args.hours, args.per_day, start, args.seed)
    httpd = serve(outs, clock)
    priority = args.outlets // 2
    with tempfile.TemporaryDirectory(prefix="mm-alert-latency-") as tmp_s:
        tmp = Path(tmp_s)
        config = write_config(tmp, outs, httpd.server_address[1], priority)
        settings = load_settings({"MEDIA_MONITOR_DATA_DIR": str(tmp / "data"), "MEDIA_MONITOR_CONFIG_DIR": str(config),
                                  "MEDIA_MONITOR_OUTLETS": str(tmp / "outlets.yaml")})

        class SimDatetime(datetime):
            @classmethod
            def now(cls, tz=None):  # noqa: ANN001, ANN206 (datetime's signature)
                return clock.now() if tz is not None else clock.now().replace(tzinfo=None)

        # The collect step's feed state and first-seen times follow the clock (its modules by name:
        # pipeline.collect is the stage's function).
        for stage in ("collect", "health"):
            importlib.import_module(f"media_monitoring.pipeline.{stage}").datetime = SimDatetime
        wh = pipeline.open_warehouse(settings)
        registry = pipeline.load_outlets(settings)
        extractor = BoundedExtractor()
        steps: dict[str, list[float]] = {"collect": [], "process": [], "alerts": []}
        slot, end, slots = start, start + timedelta(hours=args.hours, minutes=args.every), 0
        try:
            while slot <= end:
                clock.set(slot)  # the scheduled run starts at its slot
                run_id = f"scheduled__{slot.isoformat()}"
                clock.advance(cold["plan"])
                batches = pipeline.plan_batches(registry, 200, warehouse=wh, now=clock.now())
                clock.advance(TASK_GAP_S)
                started = time.perf_counter()
                for batch in batches:
                    clock.advance(cold["collect"])
                    pipeline.collect(batch, run_id=run_id, settings=settings, warehouse=wh, extractor=extractor)
                steps["collect"].append(time.perf_counter() - started)
                clock.advance(TASK_GAP_S + cold["process"])
                started = time.perf_counter()
                report = pipeline.process(run_id, settings=settings, warehouse=wh, run_time=slot)
                steps["process"].append(time.perf_counter() - started)
                clock.advance(ASSET_TRIGGER_S)
                queued = clock.now()  # the alert run's clock: when the Asset event queued it
                clock.advance(cold["alerts"])
                started = time.perf_counter()
                select_alerts(settings=settings, warehouse=wh, run_id=f"asset__{queued}", now=queued)
                clock.advance(TASK_GAP_S + cold["alerts"])
                send_alerts(settings=settings, warehouse=wh, run_id=f"asset__{queued}", now=clock.now(),
                            smtp_send=None, webhook_url=lambda _conn_id: None)
                steps["alerts"].append(time.perf_counter() - started)
                slots += 1
                if report.stored:
                    took = (clock.now() - slot).total_seconds()
                    print(f"{slot:%H:%M} stored {report.stored}, slot took {took:.1f} s simulated", flush=True)
                slot += timedelta(minutes=args.every)
        finally:
            extractor.close()
            httpd.shutdown()
        rows = latency_rows(wh)
        wh.close()
        if args.keep:
            shutil.copy(tmp / "data" / "warehouse.sqlite", args.keep)

    prio_ids = {o.id for o in outs if o.index < priority}
    published = sum(1 for o in outs for a in o.articles() if a["published"] < start + timedelta(hours=args.hours))
    summary: dict[str, object] = {"hours": args.hours, "every_min": args.every, "slots": slots,
                                  "published": published, "stored": len(rows), "cold_start_s": cold,
                                  "step_p50_s": {k: percentile(v, 50) for k, v in steps.items()},
                                  "step_max_s": {k: max(v, default=None) for k, v in steps.items()}}
    print(f"\n{published} published, {len(rows)} stored over {args.hours:g} h, ingest every {args.every:g} min "
          f"({slots} slots)")
    print("step wall time per slot (s): p50", {k: round(v or 0, 2) for k, v in summary["step_p50_s"].items()},
          "max", {k: round(v or 0, 2) for k, v in summary["step_max_s"].items()})
    for label, group in (("priority outlets", [r for r in rows if r["outlet_id"] in prio_ids]),
                         ("adaptive outlets", [r for r in rows if r["outlet_id"] not in prio_ids])):
        def span(r: dict, a: str, b: str) -> float | None:
            return (r[b] - r[a]).total_seconds() / 60 if r.get(a) and r.get(b) else None

        # stored_at is the run's slot time (as in the DAG: its data interval's end), before the poll itself
        stages = {"publication -> alert": ("published_at", "alerted_at"),
                  "  wait for the poll (published -> first seen)": ("published_at", "first_seen_at"),
                  "  fetch, process, alert run (first seen -> alerted)": ("first_seen_at", "alerted_at")}
        alerted = sum(1 for r in group if r.get("alerted_at"))
        print(f"\n{label}: {len(group)} stored, {alerted} alerted (minutes: p50 / p95 / max)")
        summary[label] = {}
        for name, (a, b) in stages.items():
            values = [v for v in (span(r, a, b) for r in group) if v is not None]
            p50, p95 = percentile(values, 50), percentile(values, 95)
            print(f"  {name:48s} {p50 or 0:6.2f} / {p95 or 0:6.2f} / {max(values, default=0):6.2f}")
            summary[label][name.strip()] = {"p50": p50, "p95": p95, "max": max(values, default=None), "n": len(values)}
    if args.json:
        Path(args.json).write_text(json.dumps({"summary": summary, "rows": rows}, default=str, indent=1))


if __name__ == "__main__":
    main()
