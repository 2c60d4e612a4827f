"""End to end through the real scheduler: one ingest run of N outlets x M new articles.

    .venv/bin/python bench/e2e_scheduler.py                       # 200 outlets x 50 articles, SQLite warehouse
    .venv/bin/python bench/e2e_scheduler.py --warehouse postgres  # PostgreSQL warehouse (AIRFLOW_CONN_MEDIA_WAREHOUSE)
    .venv/bin/python bench/e2e_scheduler.py --politeness off      # no per-host spacing: the compute ceiling
    .venv/bin/python bench/e2e_scheduler.py --outlets 20 --items 10 --json /tmp/e2e.json   # a quick check

1. Serves ``--outlets`` synthetic outlets x ``--items`` article pages (``bench/synth_news.py``: varied
   300-800-word articles, ~10% with watchlist terms, realistic page chrome, RSS feeds, robots.txt) from
   an asyncio server in a child process. With ``--hosts distinct`` (default) outlet ``i`` is the host
   ``127.0.0.(2+i)``: 200 outlets are 200 sites, as in production, so the per-host limiter (registry
   ``hosts:``) spaces requests per outlet, not across all of them.
2. Writes the outlet registry: ``--politeness realistic`` (default) uses the production default from
   include/config/outlets.yaml (``max_concurrency: 2, min_delay_s: 1.0`` per host); ``off`` uses
   ``max_concurrency: 8, min_delay_s: 0`` (what the replay registry gives its loopback host).
3. Starts the production components with ``scripts/airflow-native.sh`` (api-server, scheduler,
   dag-processor, triggerer; LocalExecutor) on a throwaway PostgreSQL metadata database, with
   AIRFLOW_HOME and MEDIA_MONITOR_DATA_DIR in a temporary directory (embedded SQLite warehouse there, or
   a throwaway PostgreSQL warehouse database with ``--warehouse postgres``).
4. Unpauses ``media_ingest`` through the REST API; its scheduled run starts at once (run_immediately)
   and is polled until it ends; the DAG is paused again.
5. Reports, from the REST API's dag run and task instances: the run's wall time, each stage's time
   (plan, every mapped collect, process) and the scheduling gaps between them; from the warehouse: what
   was stored; from /proc (psutil, sampled every 2 s): CPU seconds per component (scheduler, api-server,
   dag-processor, triggerer, task processes, extraction workers) and what the rest of the machine used.
   Articles/s overall and per stage, the implied articles/day, against 300,000/day.
6. Stops everything (process group TERM, then KILL) and drops the databases.

Loopback only; every wait is bounded (``--timeout``); the site server stops itself after the timeout.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import psutil
import psycopg2
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent))
import synth_news  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
PG = "postgresql+psycopg2://postgres@127.0.0.1:5432"
PG_ADMIN = {"host": "127.0.0.1", "port": 5432, "user": "postgres", "dbname": "postgres"}
GOAL_PER_DAY = 300_000
STARTUP_S = 180


def loadavg() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def machine() -> dict[str, Any]:
    model = next((ln.split(":", 1)[1].strip() for ln in Path("/proc/cpuinfo").read_text().splitlines()
                  if ln.startswith("model name")), platform.processor())
    return {"nproc": os.cpu_count(), "cpu": model, "ram_gib": round(psutil.virtual_memory().total / 2**30, 1),
            "python": platform.python_version(), "date": datetime.now(UTC).isoformat(timespec="seconds")}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _parse(ts: str | None) -> datetime | None:
    return datetime.fromisoformat(ts.replace("Z", "+00:00")) if ts else None


class CpuSampler:
    """CPU seconds of every process under the Airflow launcher, by role, sampled every ``interval`` s.

    A process that exits between two samples loses at most one interval of CPU; task processes live
    for the whole task, so that is small. The machine's total busy time is sampled alongside.
    """

    def __init__(self, root_pid: int, interval: float = 2.0) -> None:
        self.root_pid = root_pid
        self.interval = interval
        self.seen: dict[int, tuple[str, float]] = {}
        self.stop_event = threading.Event()
        self.cpu0 = psutil.cpu_times()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    @staticmethod
    def role(cmd: str, ancestors: list[str]) -> str:
        chain = " ".join([cmd, *ancestors])
        if "media_monitoring.sandbox" in cmd:
            return "extraction workers (media_monitoring.sandbox)"
        if cmd.startswith("airflow worker -- LocalExecutor"):
            return "LocalExecutor worker processes (idle/dispatch)"
        if cmd.startswith("airflow worker --"):
            return "task processes (supervisor + task runner: plan, collect, process)"
        for name in ("api-server", "dag-processor", "triggerer", "scheduler", "serve-logs", "db migrate"):
            if name in chain or name.replace("-", "_") in chain:
                return name
        return f"other: {cmd[:60]}"

    def _sample(self) -> None:
        try:
            root = psutil.Process(self.root_pid)
            procs = root.children(recursive=True)
        except psutil.Error:
            return
        for p in procs:
            try:
                with p.oneshot():
                    t = p.cpu_times()
                    cmd = " ".join(p.cmdline())
                    ancestors = [" ".join(a.cmdline()) for a in p.parents() if a.pid != self.root_pid][:4]
            except psutil.Error:
                continue
            # label by the latest command line (a forked child shows its parent's until it execs)
            self.seen[p.pid] = (self.role(cmd, ancestors), t.user + t.system)

    def _run(self) -> None:
        while not self.stop_event.is_set():
            self._sample()
            self.stop_event.wait(self.interval)

    def stop(self) -> dict[str, Any]:
        self._sample()
        self.stop_event.set()
        self.thread.join(timeout=10)
        cpu1 = psutil.cpu_times()
        busy = sum(getattr(cpu1, f) - getattr(self.cpu0, f) for f in ("user", "nice", "system", "irq", "softirq",
                                                                        "steal"))
        total = sum(cpu1) - sum(self.cpu0)
        by_role: dict[str, float] = defaultdict(float)
        for label, cpu in self.seen.values():
            by_role[label] += cpu
        return {"by_role_s": dict(sorted(by_role.items(), key=lambda kv: -kv[1])),
                "stack_total_s": sum(by_role.values()), "machine_busy_s": busy, "machine_total_s": total}


def drop_db(name: str) -> None:
    admin = psycopg2.connect(**PG_ADMIN)
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.close()


def create_db(name: str) -> None:
    admin = psycopg2.connect(**PG_ADMIN)
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    admin.close()


def run(args: argparse.Namespace) -> dict[str, Any]:
    tmp = Path(tempfile.mkdtemp(prefix="mm-bench-e2e-"))
    tag = uuid.uuid4().hex[:8]
    meta_db, wh_db = f"mm_bench_af_{tag}", f"mm_bench_wh_{tag}" if args.warehouse == "postgres" else None
    result: dict[str, Any] = {"machine": machine(), "args": {k: str(v) for k, v in vars(args).items()},
                              "load_before": loadavg(), "tmp": str(tmp)}
    print(f"machine: {result['machine']}\nload average before: {result['load_before']}")
    create_db(meta_db)
    if wh_db:
        create_db(wh_db)
    site = proc = sampler = None
    try:
        anchor = datetime.now(UTC)
        t = time.perf_counter()
        site = synth_news.SiteServer(args.outlets, args.items, args.hosts, anchor, max_lifetime=args.timeout + 900)
        outs = synth_news.outlets(args.outlets, args.items, args.hosts, anchor)
        conc, delay = (8, 0.0) if args.politeness == "off" else (2, 1.0)
        synth_news.write_registry(tmp / "outlets.yaml", outs, site.port, max_concurrency=conc, min_delay_s=delay)
        print(f"site: {args.outlets} outlets x {args.items} articles on {args.hosts} loopback host(s), port "
              f"{site.port}; registry hosts.default = max_concurrency {conc}, min_delay_s {delay} "
              f"({time.perf_counter() - t:.1f} s)")

        port = _free_port()
        home = tmp / "airflow-home"
        home.mkdir()
        (home / "passwords.json").write_text(json.dumps({"admin": "bench-admin-pw"}))
        env = {k: v for k, v in os.environ.items()
               if k not in ("MEDIA_MONITOR_WAREHOUSE_URL", "AIRFLOW_CONN_MEDIA_WAREHOUSE", "AIRFLOW_CONN_MEDIA_SMTP")}
        env.update({
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"{PG}/{meta_db}",
            "AIRFLOW_API_PORT": str(port),
            "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
            "AIRFLOW__CORE__PLUGINS_FOLDER": str(ROOT / "plugins"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "admin:admin",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(home / "passwords.json"),
            "GX_ANALYTICS_ENABLED": "False",
            "NO_COLOR": "1",
            "MEDIA_MONITOR_DATA_DIR": str(tmp / "data"),
            "MEDIA_MONITOR_OUTLETS": str(tmp / "outlets.yaml"),
            "MEDIA_MONITOR_RETRY_DELAY_SECONDS": "30",
        })
        if wh_db:
            env["AIRFLOW_CONN_MEDIA_WAREHOUSE"] = f"postgres://postgres@127.0.0.1:5432/{wh_db}"
        log_path = tmp / "airflow-native.log"
        t_launch = time.monotonic()
        with log_path.open("w") as log:
            proc = subprocess.Popen(["bash", str(ROOT / "scripts" / "airflow-native.sh")], env=env, stdout=log,
                                    stderr=subprocess.STDOUT, start_new_session=True, cwd=ROOT)
        sampler = CpuSampler(proc.pid)
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + STARTUP_S
        while True:
            if proc.poll() is not None:
                raise RuntimeError("airflow-native.sh exited:\n" + log_path.read_text()[-4000:])
            try:
                if httpx.get(f"{base}/api/v2/version", timeout=10).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("api-server did not start:\n" + log_path.read_text()[-4000:])
            time.sleep(1)
        result["stack_startup_s"] = round(time.monotonic() - t_launch, 1)
        token = httpx.post(f"{base}/auth/token", json={"username": "admin", "password": "bench-admin-pw"},
                           timeout=60).json()["access_token"]
        with httpx.Client(base_url=f"{base}/api/v2", headers={"Authorization": f"Bearer {token}"}, timeout=60) as api:
            deadline = time.monotonic() + STARTUP_S
            while api.get("/dags/media_ingest").status_code != 200:
                if time.monotonic() > deadline:
                    raise RuntimeError("media_ingest never appeared:\n" + log_path.read_text()[-4000:])
                time.sleep(2)
            result["dag_visible_after_launch_s"] = round(time.monotonic() - t_launch, 1)
            print(f"stack up in {result['stack_startup_s']} s, media_ingest parsed after "
                  f"{result['dag_visible_after_launch_s']} s; load {loadavg()}; unpausing")
            unpaused_at = datetime.now(UTC)
            result["load_at_start"] = loadavg()
            assert api.patch("/dags/media_ingest", json={"is_paused": False}).status_code == 200
            deadline = time.monotonic() + args.timeout
            run_ = None
            last_print = 0.0
            load_samples = []
            while True:
                runs = api.get("/dags/media_ingest/dagRuns").json()["dag_runs"]
                run_ = min(runs, key=lambda x: x.get("queued_at") or "") if runs else None  # the first run
                if run_ and run_["state"] in ("success", "failed"):
                    break
                if time.monotonic() > deadline:
                    raise RuntimeError(f"run did not finish within {args.timeout} s: {run_}")
                if time.monotonic() - last_print > 60:
                    last_print = time.monotonic()
                    load_samples.append(loadavg()[0])
                    if run_:
                        tis = api.get(f"/dags/media_ingest/dagRuns/{run_['dag_run_id']}/taskInstances").json()
                        states = sorted(f"{t['task_id']}[{t['map_index']}]={t['state']}"
                                        for t in tis.get("task_instances", []))
                        print(f"  {datetime.now(UTC):%H:%M:%S} run {run_['state']}: {' '.join(states)}; "
                              f"load {loadavg()}", flush=True)
                time.sleep(2)
            api.patch("/dags/media_ingest", json={"is_paused": True})
            result["load_after"] = loadavg()
            result["load_1min_samples_during_run"] = load_samples
            tis = api.get(f"/dags/media_ingest/dagRuns/{run_['dag_run_id']}/taskInstances").json()["task_instances"]
            xcom = api.get(f"/dags/media_ingest/dagRuns/{run_['dag_run_id']}/taskInstances/process/xcomEntries/"
                           "return_value")
            result["process_xcom"] = xcom.json().get("value") if xcom.status_code == 200 else None
        result["run"] = {k: run_.get(k) for k in ("dag_run_id", "run_type", "state", "queued_at", "start_date",
                                                  "end_date", "data_interval_start", "data_interval_end")}
        result["task_instances"] = [{k: t.get(k) for k in ("task_id", "map_index", "state", "try_number",
                                                           "queued_when", "start_date", "end_date", "duration",
                                                           "rendered_map_index")} for t in tis]
        result["unpaused_at"] = unpaused_at.isoformat()
        result["cpu"] = sampler.stop()
        sampler = None
        result["site_stats"] = site.stats()
        result["site_server_cpu_s"] = site.cpu_s()
        url = f"{PG}/{wh_db}" if wh_db else f"sqlite:///{tmp / 'data' / 'warehouse.sqlite'}"
        engine = sa.create_engine(url)
        with engine.connect() as conn:
            q = {"articles": "select count(*) from articles", "quarantine": "select count(*) from quarantine",
                 "hit_articles": "select count(distinct article_id) from watchlist_hits",
                 "hits": "select count(*) from watchlist_hits", "places": "select count(*) from article_places",
                 "fetch_failures": "select count(*) from fetch_failures",
                 "staging_left": "select count(*) from staging",
                 "feed_health": "select count(*) from feed_health"}
            result["warehouse"] = {k: conn.execute(sa.text(v)).scalar() for k, v in q.items()}
        engine.dispose()
        if args.keep_log:
            result["log_tail"] = log_path.read_text()[-3000:]
    finally:
        if sampler is not None:
            sampler.stop()
        if proc is not None and proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=45)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=15)
        if proc is not None:  # anything of the group still alive (task processes, workers)
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if site is not None:
            site.stop()
        for name in (meta_db, wh_db):
            if name:
                try:
                    drop_db(name)
                except Exception as exc:  # noqa: BLE001
                    print(f"could not drop {name}: {exc}")
    return result


def summarise(r: dict[str, Any]) -> dict[str, Any]:
    run_, tis = r["run"], r["task_instances"]
    start, end = _parse(run_["start_date"]), _parse(run_["end_date"])
    stored = r["warehouse"]["articles"]
    wall = (end - start).total_seconds()
    from_unpause = (end - _parse(r["unpaused_at"])).total_seconds()

    def span(task_id: str) -> tuple[datetime, datetime, list[float]]:
        rows = [t for t in tis if t["task_id"] == task_id]
        return (min(_parse(t["start_date"]) for t in rows), max(_parse(t["end_date"]) for t in rows),
                [t["duration"] for t in rows])

    p0, p1, _ = span("plan")
    c0, c1, cd = span("collect")
    s0, s1, _ = span("process")
    xcom = r.get("process_xcom")
    staged = xcom.get("collected", stored) if isinstance(xcom, dict) else stored
    s = {
        "stored": stored, "quarantined": r["warehouse"]["quarantine"], "run_wall_s": wall,
        "unpause_to_end_s": from_unpause,
        "run_queued_to_start_s": (start - _parse(run_["queued_at"])).total_seconds() if run_.get("queued_at") else None,
        "plan_s": (p1 - p0).total_seconds(), "collect_s": (c1 - c0).total_seconds(), "collect_tasks": len(cd),
        "process_s": (s1 - s0).total_seconds(),
        "gap_run_start_to_plan_s": (p0 - start).total_seconds(), "gap_plan_to_collect_s": (c0 - p1).total_seconds(),
        "gap_collect_to_process_s": (s0 - c1).total_seconds(), "gap_process_to_run_end_s": (end - s1).total_seconds(),
        "articles_per_s": stored / wall, "articles_per_day": stored / wall * 86400,
        "collect_articles_per_s": staged / max(1e-9, (c1 - c0).total_seconds()),
        "process_articles_per_s": stored / max(1e-9, (s1 - s0).total_seconds()),
    }
    s["airflow_overhead_s"] = wall - s["plan_s"] - s["collect_s"] - s["process_s"]
    s["goal_ratio"] = s["articles_per_day"] / GOAL_PER_DAY
    return s


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--outlets", type=int, default=200)
    ap.add_argument("--items", type=int, default=50)
    ap.add_argument("--hosts", choices=("distinct", "one"), default="distinct")
    ap.add_argument("--politeness", choices=("realistic", "off"), default="realistic")
    ap.add_argument("--warehouse", choices=("sqlite", "postgres"), default="sqlite")
    ap.add_argument("--timeout", type=float, default=3600, help="longest wait for the run, seconds")
    ap.add_argument("--keep-log", action="store_true", help="include the tail of the Airflow log in --json")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    r = run(args)
    s = r["summary"] = summarise(r)
    print(f"\n== {args.outlets} outlets x {args.items} articles, hosts {args.hosts}, politeness {args.politeness}, "
          f"warehouse {args.warehouse}")
    print(f"run {r['run']['dag_run_id']} {r['run']['state']} ({r['run']['run_type']}); warehouse {r['warehouse']}")
    print(f"site served: {r['site_stats']}")
    print(f"run wall {s['run_wall_s']:.1f} s (unpause -> end {s['unpause_to_end_s']:.1f} s); "
          f"plan {s['plan_s']:.1f} s, collect {s['collect_s']:.1f} s ({s['collect_tasks']} mapped), "
          f"process {s['process_s']:.1f} s; Airflow gaps {s['airflow_overhead_s']:.1f} s "
          f"(start->plan {s['gap_run_start_to_plan_s']:.1f}, plan->collect {s['gap_plan_to_collect_s']:.1f}, "
          f"collect->process {s['gap_collect_to_process_s']:.1f}, process->end {s['gap_process_to_run_end_s']:.1f})")
    print(f"throughput: {s['articles_per_s']:.2f} articles/s overall = {s['articles_per_day']:,.0f} articles/day "
          f"({s['goal_ratio']:.2f} x the 300,000/day goal); collect {s['collect_articles_per_s']:.1f}/s, "
          f"process {s['process_articles_per_s']:.1f}/s")
    for t in r["task_instances"]:
        print(f"  {t['task_id']}[{t['map_index']}] {t['state']} try {t['try_number']} {t['duration']:.1f} s "
              f"({t['start_date']} -> {t['end_date']})")
    cpu = r["cpu"]
    print(f"CPU seconds during the stack's life: stack {cpu['stack_total_s']:.0f} s, site server "
          f"{r['site_server_cpu_s']:.0f} s, machine busy {cpu['machine_busy_s']:.0f} s of "
          f"{cpu['machine_total_s']:.0f} s")
    for k, v in cpu["by_role_s"].items():
        print(f"  {v:8.1f} s  {k}")
    print(f"load average: before {r['load_before']}, at unpause {r.get('load_at_start')}, after {r.get('load_after')}; "
          f"1-min samples during the run {r.get('load_1min_samples_during_run')}")
    if args.json:
        args.json.write_text(json.dumps(r, indent=1, default=str))
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
