"""The DAG runs as their tasks recorded them: what the view shows as the pipeline's state.

The first task of a run marks it running, its last task marks it successful with its counts, and the
failure callback marks it failed with the task, the exception and the task log's URL. The view reads
this table, not Airflow's metadata database (the package never touches Airflow's database).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from media_monitoring.schedules import DAG_INTERVALS, STALE_AFTER_INTERVALS
from media_monitoring.warehouse import schema as s
from media_monitoring.warehouse.store import Warehouse, aware

MAX_ERROR_CHARS = 2000  # an exception message, cut: the task log has the rest


def _save(wh: Warehouse, row: dict[str, Any], update: list[str]) -> None:
    with wh.engine.begin() as conn:
        wh.upsert(conn, s.pipeline_runs, [row], update=update)


def started(wh: Warehouse, dag_id: str, run_id: str, *, run_type: str | None, at: datetime) -> None:
    """A run began (a retry of its first task leaves the first start time)."""
    _save(wh, {"dag_id": dag_id, "run_id": run_id, "run_type": run_type, "state": "running", "started_at": at},
          update=["state"])


def succeeded(wh: Warehouse, dag_id: str, run_id: str, *, at: datetime, summary: dict[str, Any] | None,
              run_type: str | None = None) -> None:
    """The run's last task finished: the run succeeded with these counts."""
    _save(wh, {"dag_id": dag_id, "run_id": run_id, "run_type": run_type, "state": "success", "started_at": at,
               "ended_at": at, "summary": summary, "failed_task": None, "error": None, "log_url": None},
          update=["state", "ended_at", "summary", "failed_task", "error", "log_url"])


def failed(wh: Warehouse, dag_id: str, run_id: str, *, at: datetime, task_id: str | None, error: str,
           log_url: str | None, run_type: str | None = None) -> None:
    _save(wh, {"dag_id": dag_id, "run_id": run_id, "run_type": run_type, "state": "failed", "started_at": at,
               "ended_at": at, "failed_task": task_id, "error": str(error)[:MAX_ERROR_CHARS], "log_url": log_url},
          update=["state", "ended_at", "failed_task", "error", "log_url"])


def _latest(wh: Warehouse, dag_id: str, state: str) -> dict[str, Any] | None:
    r = s.pipeline_runs
    with wh.engine.connect() as conn:
        row = conn.execute(sa.select(r).where(r.c.dag_id == dag_id, r.c.state == state)
                           .order_by(r.c.started_at.desc()).limit(1)).first()
    if row is None:
        return None
    data = dict(row._mapping)
    data["started_at"], data["ended_at"] = aware(data["started_at"]), aware(data["ended_at"])
    return data


def state(wh: Warehouse, now: datetime, dags: dict[str, timedelta] = DAG_INTERVALS) -> dict[str, Any]:
    """Per DAG (with its schedule interval): the last successful run, the latest failed run if it is newer,
    and whether the DAG is stale (no success for more than twice its interval)."""
    out: dict[str, Any] = {}
    for dag_id, interval in dags.items():
        ok = _latest(wh, dag_id, "success")
        bad = _latest(wh, dag_id, "failed")
        if bad and ok and bad["started_at"] < ok["started_at"]:
            bad = None  # a later run succeeded: the failure is history
        last_ok = ok["ended_at"] if ok else None
        out[dag_id] = {"last_success": ok, "latest_failure": bad, "interval": interval,
                       "stale": last_ok is None or now - last_ok > STALE_AFTER_INTERVALS * interval}
    return out
