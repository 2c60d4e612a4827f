"""DAG parse time per file (``airflow dags report``) and peak memory (max RSS) per task type.

    .venv/bin/python bench/parse_and_memory.py [--repeat 3] [--synth-outlets 40] [--json out.json]

Parse time: with a temporary AIRFLOW_HOME (SQLite metadata, ``airflow db migrate`` first),
AIRFLOW__CORE__DAGS_FOLDER=dags and LOAD_EXAMPLES False:

* ``airflow dags report -o json`` over the whole folder, ``--repeat`` times: per file, the parse
  duration Airflow reports (files parsed in one process: the later ones find airflow.sdk imported);
* each DAG file alone (a temporary folder holding a symlink to it), ``--repeat`` times: the cold
  per-file figure, as the dag-processor sees a file in a fresh process; plus the wall time of the
  whole command (interpreter + Airflow start-up).

Peak memory: each task type in a fresh subprocess through the package API (the code the DAG's tasks
call), ``resource.getrusage`` ``ru_maxrss`` of the process itself (RUSAGE_SELF) and of its largest
waited-for child (RUSAGE_CHILDREN: an extraction worker, two run at once):

* ``plan`` on the replay registry; ``collect`` one batch of every replay outlet, served by
  ``media_monitoring.replay.ReplayServer(seeds/replay)`` (MEDIA_MONITOR_REPLAY_BASE); ``process`` of
  what that collect staged;
* the same three on ``--synth-outlets`` synthetic outlets x 50 articles (``bench/synth_news.py``, one
  loopback host each, politeness off) to show how collect and process memory grows with a batch;
* the Airflow part of a task process: a fresh interpreter importing the task runner
  (``airflow.sdk.execution_time.task_runner``), which every task process also holds.

Loopback only; temporary directories; bounded.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
from hostinfo import loadavg, machine  # noqa: E402

AIRFLOW = str(ROOT / ".venv" / "bin" / "airflow")


# -- parse time ------------------------------------------------------------------------------------

def airflow_env(home: Path, dags: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    env.update({"AIRFLOW_HOME": str(home), "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
                "AIRFLOW__CORE__LOAD_EXAMPLES": "False", "AIRFLOW__CORE__PLUGINS_FOLDER": str(ROOT / "plugins"),
                "GX_ANALYTICS_ENABLED": "False", "NO_COLOR": "1", "MEDIA_MONITOR_DATA_DIR": str(home / "data")})
    return env


def dags_report(env: dict[str, str]) -> tuple[float, list[dict[str, Any]]]:
    t = time.perf_counter()
    out = subprocess.run([AIRFLOW, "dags", "report", "-o", "json"], env=env, capture_output=True, text=True,
                         timeout=300, cwd=ROOT)
    wall = time.perf_counter() - t
    if out.returncode != 0:
        raise RuntimeError(out.stderr[-3000:])
    line = next((ln for ln in out.stdout.splitlines() if ln.startswith(("[{", "[]"))), None)
    if line is None:
        raise RuntimeError(f"no JSON report in: {out.stdout[-2000:]}")
    return wall, json.loads(line)


def _seconds(value: Any) -> float:
    """`dags report` prints the duration as a timedelta string (0:00:00.123456) or seconds."""
    if isinstance(value, (int, float)):
        return float(value)
    h, m, s = str(value).split(":")
    return int(h) * 3600 + int(m) * 60 + float(s)


def parse_times(repeat: int, tmp: Path) -> dict[str, Any]:
    home = tmp / "airflow-home"
    home.mkdir()
    env = airflow_env(home, ROOT / "dags")
    t = time.perf_counter()
    subprocess.run([AIRFLOW, "db", "migrate"], env=env, capture_output=True, check=True, timeout=600, cwd=ROOT)
    migrate_s = time.perf_counter() - t
    folder: dict[str, list[float]] = {}
    folder_walls = []
    meta: dict[str, Any] = {}
    for _ in range(repeat):
        wall, rows = dags_report(env)
        folder_walls.append(wall)
        for r in rows:
            name = Path(r["file"]).name
            folder.setdefault(name, []).append(_seconds(r["duration"]))
            meta[name] = {"dags": r.get("dag_num"), "tasks": r.get("task_num"), "dag_ids": r.get("dags")}
    alone: dict[str, dict[str, Any]] = {}
    for dag_file in sorted((ROOT / "dags").glob("*.py")):
        one = tmp / f"only-{dag_file.stem}"
        one.mkdir()
        (one / dag_file.name).symlink_to(dag_file)
        durations, walls = [], []
        for _ in range(repeat):
            wall, rows = dags_report(airflow_env(home, one))
            walls.append(wall)
            durations += [_seconds(r["duration"]) for r in rows]
        alone[dag_file.name] = {"parse_s_median": statistics.median(durations) if durations else None,
                                "parse_s_all": durations, "command_wall_s_median": statistics.median(walls)}
    return {"migrate_s": migrate_s, "folder_command_wall_s": folder_walls,
            "folder": {k: {"parse_s_median": statistics.median(v), "parse_s_all": v, **meta.get(k, {})}
                       for k, v in folder.items()},
            "alone": alone}


# -- memory ----------------------------------------------------------------------------------------

def child(task: str, run_id: str, batch_file: Path) -> None:
    """Run one task type through the package API in this (fresh) process; print usage as JSON."""
    t = time.perf_counter()
    info: dict[str, Any] = {}
    if task == "airflow-task-runner":
        import airflow.sdk.execution_time.task_runner  # noqa: F401
    else:
        from media_monitoring import pipeline
        from media_monitoring.settings import load_settings

        settings = load_settings()
        wh = pipeline.open_warehouse(settings)
        if task == "plan":
            batches = pipeline.plan_batches(pipeline.load_outlets(settings), 200, warehouse=wh, now=datetime.now(UTC))
            batch_file.write_text(json.dumps(batches))
            info = {"batches": len(batches), "outlets": sum(len(b) for b in batches)}
        elif task == "collect":
            batch = json.loads(batch_file.read_text())[0]
            totals = pipeline.collect(batch, run_id=run_id, settings=settings, warehouse=wh).totals()
            info = {k: v for k, v in totals.items() if k != "by_outlet"}
        elif task == "process":
            report = pipeline.process(run_id, settings=settings, warehouse=wh, run_time=datetime.now(UTC))
            info = {"staged": report.staged, "stored": report.stored, "quarantined": report.quarantined,
                    "hits": report.hits}
        wh.close()
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    print("RESULT " + json.dumps({"task": task, "wall_s": time.perf_counter() - t,
                                  "maxrss_self_mib": me.ru_maxrss / 1024,
                                  "maxrss_children_mib": kids.ru_maxrss / 1024,
                                  "cpu_self_s": me.ru_utime + me.ru_stime,
                                  "cpu_children_s": kids.ru_utime + kids.ru_stime, **info}))


def run_child(task: str, env: dict[str, str], run_id: str, batch_file: Path) -> dict[str, Any]:
    out = subprocess.run([sys.executable, __file__, "--child", task, "--run-id", run_id, "--batch-file",
                          str(batch_file)], env=env, capture_output=True, text=True, timeout=1800, cwd=ROOT)
    line = next((ln for ln in out.stdout.splitlines() if ln.startswith("RESULT ")), None)
    if out.returncode != 0 or line is None:
        raise RuntimeError(f"{task} failed:\n{out.stderr[-3000:]}")
    return json.loads(line[7:])


def memory(tmp: Path, synth_outlets: int) -> dict[str, Any]:
    from media_monitoring.replay import ReplayServer

    base_env = {k: v for k, v in os.environ.items()
                if k not in ("MEDIA_MONITOR_WAREHOUSE_URL", "AIRFLOW_CONN_MEDIA_WAREHOUSE")}
    base_env["GX_ANALYTICS_ENABLED"] = "False"
    out: dict[str, Any] = {}
    out["airflow-task-runner (import only)"] = run_child("airflow-task-runner", base_env, "-", tmp / "none.json")
    with ReplayServer(ROOT / "seeds" / "replay") as replay:
        env = {**base_env, "MEDIA_MONITOR_DATA_DIR": str(tmp / "replay-data"),
               "MEDIA_MONITOR_REPLAY_BASE": replay.base_url,
               "MEDIA_MONITOR_OUTLETS": str(ROOT / "seeds" / "replay" / "outlets.yaml")}
        run_id = f"bench__{uuid.uuid4().hex[:6]}"
        for task in ("plan", "collect", "process"):
            out[f"replay: {task}"] = run_child(task, env, run_id, tmp / "replay-batches.json")
            print(f"  replay {task}: {out[f'replay: {task}']}", flush=True)
    if synth_outlets:
        import synth_news

        anchor = datetime.now(UTC)
        site = synth_news.SiteServer(synth_outlets, 50, "distinct", anchor, max_lifetime=1800)
        try:
            outs = synth_news.outlets(synth_outlets, 50, "distinct", anchor)
            synth_news.write_registry(tmp / "synth-outlets.yaml", outs, site.port, max_concurrency=8, min_delay_s=0)
            env = {**base_env, "MEDIA_MONITOR_DATA_DIR": str(tmp / "synth-data"),
                   "MEDIA_MONITOR_OUTLETS": str(tmp / "synth-outlets.yaml")}
            run_id = f"bench__{uuid.uuid4().hex[:6]}"
            for task in ("plan", "collect", "process"):
                key = f"synthetic {synth_outlets}x50: {task}"
                out[key] = run_child(task, env, run_id, tmp / "synth-batches.json")
                print(f"  {key}: {out[key]}", flush=True)
        finally:
            site.stop()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--synth-outlets", type=int, default=40, help="0 to skip the synthetic batch")
    ap.add_argument("--skip-parse", action="store_true")
    ap.add_argument("--json", type=Path)
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--run-id", help=argparse.SUPPRESS)
    ap.add_argument("--batch-file", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args.child, args.run_id, args.batch_file)
        return
    tmp = Path(tempfile.mkdtemp(prefix="mm-bench-parse-mem-"))
    result: dict[str, Any] = {"machine": machine(), "load_before": loadavg()}
    print(f"machine: {result['machine']}\nload average before: {result['load_before']}")
    if not args.skip_parse:
        p = result["parse"] = parse_times(args.repeat, tmp)
        result["load_after_parse"] = loadavg()
        print(f"\nairflow db migrate {p['migrate_s']:.1f} s; `airflow dags report` over dags/: command wall "
              f"{[round(w, 1) for w in p['folder_command_wall_s']]} s; load {result['load_after_parse']}")
        print(f"{'file':22s} {'in folder (median s)':>22s} {'alone (median s)':>18s} "
              f"{'alone cmd wall s':>17s}  dags/tasks")
        for name in sorted(set(p["folder"]) | set(p["alone"])):
            f, a = p["folder"].get(name, {}), p["alone"].get(name, {})
            print(f"{name:22s} {f.get('parse_s_median', float('nan')):22.3f} {a.get('parse_s_median') or 0:18.3f} "
                  f"{a.get('command_wall_s_median', 0):17.1f}  {f.get('dags')}/{f.get('tasks')}")
    print("\npeak memory per task (fresh process each):")
    result["memory"] = memory(tmp, args.synth_outlets)
    result["load_after"] = loadavg()
    print(f"\n{'task':42s} {'max RSS self MiB':>17s} {'max RSS child MiB':>18s} {'wall s':>7s} {'cpu s':>6s}")
    for k, v in result["memory"].items():
        print(f"{k:42s} {v['maxrss_self_mib']:17.0f} {v['maxrss_children_mib']:18.0f} {v['wall_s']:7.1f} "
              f"{v['cpu_self_s']:6.1f}")
    print(f"load average after: {result['load_after']}")
    if args.json:
        args.json.write_text(json.dumps(result, indent=1, default=str))
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
