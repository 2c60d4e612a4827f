"""The real scheduler runs the ingest DAG on its own schedule (no dag.test), on PostgreSQL metadata.

Starts the production components natively with ``scripts/airflow-native.sh`` (api-server, scheduler,
dag-processor, triggerer; LocalExecutor), unpauses ``media_ingest`` through the REST API, waits for
the scheduled run to succeed, then checks the run through the REST API and the warehouse.
"""

from __future__ import annotations

import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
STARTUP_S = 120  # the dag-processor parses the DAG files
RUN_DEADLINE_S = 240


def test_scheduler_runs_ingest_on_its_schedule_and_every_trigger_works(airflow_stack):
    base, data, log_path, env = airflow_stack
    token = httpx.post(f"{base}/auth/token", json={"username": "admin", "password": "test-admin-pw"},
                       timeout=60).json()["access_token"]
    # Generous timeouts: on a loaded 2-core machine the api-server shares the CPU with the scheduler's tasks.
    with httpx.Client(base_url=f"{base}/api/v2", headers={"Authorization": f"Bearer {token}"}, timeout=60) as api:
        _run_ingest_through_the_scheduler(api, log_path)
        # data-aware scheduling: the ingest's `articles` Asset event started the priority-alert DAG
        alerts = _wait_for_runs(api, "media_alerts", 1, log_path)[-1]
        assert (alerts["run_type"], alerts["state"]) == ("asset_triggered", "success"), alerts
    engine = sa.create_engine(f"sqlite:///{data / 'warehouse.sqlite'}")
    try:
        with engine.connect() as conn:
            articles = conn.execute(sa.text("select count(*) from articles")).scalar()
            quarantined = conn.execute(sa.text("select count(*) from quarantine")).scalar()
            hits = conn.execute(sa.text("select count(distinct article_id) from watchlist_hits")).scalar()
    finally:
        engine.dispose()
    assert (articles, quarantined) == (22, 1)
    assert hits >= 8

    # Every other way users start a run: the REST API without a logical date, the REST API with one (what the
    # UI's Trigger form sends in Airflow 3.3: the time it was opened; test_ui_trigger.py presses the button),
    # and `airflow dags trigger`.
    with httpx.Client(base_url=f"{base}/api/v2", headers={"Authorization": f"Bearer {token}"}, timeout=60) as api:
        for dag_id in ("media_digest", "media_retag"):
            assert api.patch(f"/dags/{dag_id}", json={"is_paused": False}).status_code == 200
        manual = [
            _trigger(api, "media_ingest", {"logical_date": None}),
            _trigger(api, "media_ingest", {"logical_date": datetime.now(UTC).isoformat()}),
            _trigger(api, "media_digest", {"logical_date": None, "conf": {"digest_date": "2021-10-28"}}),
            _trigger(api, "media_digest", {"logical_date": None}),
            _trigger(api, "media_retag", {"logical_date": None}),
        ]
        cli = subprocess.run([str(ROOT / ".venv" / "bin" / "airflow"), "dags", "trigger", "media_retag"], env=env,
                             capture_output=True, text=True, timeout=120)
        assert cli.returncode == 0, cli.stderr[-3000:]
        cli_run = _wait_for_runs(api, "media_retag", 2, log_path)[0]
        for dag_id, run_id in manual:
            run = api.get(f"/dags/{dag_id}/dagRuns/{run_id}").json()
            if run["state"] not in ("success", "failed"):
                run = next(r for r in _wait_for_runs(api, dag_id, 1, log_path, run_id=run_id))
            assert (run["run_type"], run["state"]) == ("manual", "success"), (dag_id, run, log_path.read_text()[-4000:])
        assert cli_run["state"] == "success", log_path.read_text()[-4000:]

    engine = sa.create_engine(f"sqlite:///{data / 'warehouse.sqlite'}")
    try:
        with engine.connect() as conn:
            recorded = conn.execute(sa.text("select dag_id, run_type, state from pipeline_runs")).all()
            digests = conn.execute(sa.text("select subscription, digest_date, kind from digests")).all()
            started = conn.execute(sa.text("select started_at from pipeline_runs where run_id = :r"),
                                   {"r": manual[0][1]}).scalar()
            polled = conn.execute(sa.text("select count(*) from feed_health where last_attempt_at >= :t"),
                                  {"t": started}).scalar()
    finally:
        engine.dispose()
    # the manual ingest polled every outlet (not "0 of 8 due"); the views' pipeline state saw every run
    assert polled == 8
    # (an unpaused media_digest also runs on its own hourly schedule: it may be there too)
    assert {(d, t, s) for d, t, s in recorded} >= {
        ("media_ingest", "scheduled", "success"), ("media_ingest", "manual", "success"),
        ("media_digest", "manual", "success"), ("media_retag", "manual", "success"),
        ("media_alerts", "asset_triggered", "success")}
    assert "failed" not in {s for _d, _t, s in recorded}  # (a scheduled or asset-triggered run may still run)
    # The backfilled day for both desks; the digest run without a date (and the hourly schedule) also composes
    # a desk's scheduled digest when its digest time passed within the first-digest grace: at some hours of
    # the day, so those are allowed but must be scheduled ones.
    day_digests = {(sub, str(day), kind) for sub, day, kind in digests if str(day) == "2021-10-28"}
    assert day_digests == {("Central Asia desk", "2021-10-28", "day"), ("Russia desk", "2021-10-28", "day")}
    assert {kind for _sub, day, kind in digests if str(day) != "2021-10-28"} <= {"scheduled"}
    assert sorted(p.name for p in (data / "outbox" / "2021-10-28").iterdir()) == ["central-asia-desk.eml",
                                                                                   "russia-desk.eml"]


def _trigger(api: httpx.Client, dag_id: str, body: dict) -> tuple[str, str]:
    response = api.post(f"/dags/{dag_id}/dagRuns", json=body)
    assert response.status_code == 200, response.text
    return dag_id, response.json()["dag_run_id"]


def _wait_for_runs(api: httpx.Client, dag_id: str, count: int, log_path: Path, run_id: str | None = None) -> list:
    """The DAG's runs, newest first, once ``count`` of them (or ``run_id``) have finished."""
    deadline = time.monotonic() + RUN_DEADLINE_S
    while True:
        runs = api.get(f"/dags/{dag_id}/dagRuns", params={"order_by": "-run_after"}).json()["dag_runs"]
        done = [r for r in runs if r["state"] in ("success", "failed")]
        if (run_id and any(r["dag_run_id"] == run_id for r in done)) or (not run_id and len(done) >= count):
            return [r for r in done if not run_id or r["dag_run_id"] == run_id]
        assert time.monotonic() < deadline, f"{dag_id}: runs not finished: {runs}\n" + log_path.read_text()[-4000:]
        time.sleep(3)


def _run_ingest_through_the_scheduler(api: httpx.Client, log_path: Path) -> dict:
    """Unpause media_ingest, wait for the scheduler's own run to finish, check it; return the run."""
    deadline = time.monotonic() + STARTUP_S
    for dag_id in ("media_alerts", "media_ingest"):  # the consumer first: the ingest's Asset event starts it
        while api.get(f"/dags/{dag_id}").status_code != 200:  # the dag-processor has not parsed it yet
            assert time.monotonic() < deadline, f"{dag_id} never appeared:\n" + log_path.read_text()[-5000:]
            time.sleep(2)
        assert api.patch(f"/dags/{dag_id}", json={"is_paused": False}).status_code == 200

    deadline = time.monotonic() + RUN_DEADLINE_S
    run = None
    while True:
        runs = api.get("/dags/media_ingest/dagRuns").json()["dag_runs"]
        run = runs[0] if runs else None
        if run and run["state"] in ("success", "failed"):
            break
        assert time.monotonic() < deadline, f"no finished run: {runs}\n" + log_path.read_text()[-5000:]
        time.sleep(3)
    assert run["run_type"] == "scheduled", run
    assert run["state"] == "success", log_path.read_text()[-5000:]
    assert run["data_interval_end"] > run["data_interval_start"], "a real 10-minute data interval"

    tis = api.get(f"/dags/media_ingest/dagRuns/{run['dag_run_id']}/taskInstances").json()["task_instances"]
    assert {t["task_id"]: t["state"] for t in tis} == {"plan": "success", "collect": "success",
                                                       "process": "success"}
    return run
