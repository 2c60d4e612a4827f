"""The real scheduler runs the ingest DAG on its own schedule (no dag.test), on PostgreSQL metadata.

Starts the production components natively with ``scripts/airflow-native.sh`` (api-server, scheduler,
dag-processor, triggerer; LocalExecutor), unpauses ``media_ingest`` through the REST API, waits for
the scheduled run to succeed, then checks the run through the REST API and the warehouse.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import uuid
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
PG = "postgresql+psycopg2://postgres@127.0.0.1:5432"
STARTUP_S = 120
RUN_DEADLINE_S = 240


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def metadata_db():
    import psycopg2

    name = f"mm_af_{uuid.uuid4().hex[:10]}"
    admin = psycopg2.connect(host="127.0.0.1", user="postgres", dbname="postgres")
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{PG}/{name}"
    finally:
        with admin.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


@pytest.fixture
def airflow_stack(metadata_db, replay_server, tmp_path):
    port = _free_port()
    home = tmp_path / "airflow-home"
    home.mkdir()
    (home / "passwords.json").write_text(json.dumps({"admin": "test-admin-pw"}))
    data = tmp_path / "data"
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": metadata_db,
        "AIRFLOW_API_PORT": str(port),
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "admin:admin",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(home / "passwords.json"),
        "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "2",
        "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "10",
        "MEDIA_MONITOR_DATA_DIR": str(data),
        "MEDIA_MONITOR_REPLAY_BASE": replay_server,
    }
    log_path = tmp_path / "airflow-native.log"
    with log_path.open("w") as log:
        proc = subprocess.Popen(["bash", str(ROOT / "scripts" / "airflow-native.sh")], env=env, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_S
        while True:
            assert proc.poll() is None, log_path.read_text()[-5000:]
            try:
                if httpx.get(f"{base}/api/v2/version", timeout=10).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "api-server did not start:\n" + log_path.read_text()[-5000:]
            time.sleep(1)
        yield base, data, log_path
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


def test_scheduler_runs_ingest_on_its_schedule(airflow_stack):
    base, data, log_path = airflow_stack
    token = httpx.post(f"{base}/auth/token", json={"username": "admin", "password": "test-admin-pw"},
                       timeout=60).json()["access_token"]
    # Generous timeouts: on a loaded 2-core machine the api-server shares the CPU with the scheduler's tasks.
    with httpx.Client(base_url=f"{base}/api/v2", headers={"Authorization": f"Bearer {token}"}, timeout=60) as api:
        _run_ingest_through_the_scheduler(api, log_path)
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


def _run_ingest_through_the_scheduler(api: httpx.Client, log_path: Path) -> dict:
    """Unpause media_ingest, wait for the scheduler's own run to finish, check it; return the run."""
    deadline = time.monotonic() + STARTUP_S
    while api.get("/dags/media_ingest").status_code != 200:  # the dag-processor has not parsed it yet
        assert time.monotonic() < deadline, "media_ingest never appeared:\n" + log_path.read_text()[-5000:]
        time.sleep(2)
    assert api.patch("/dags/media_ingest", json={"is_paused": False}).status_code == 200

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
    assert run["data_interval_end"] > run["data_interval_start"], "a real 30-minute data interval"

    tis = api.get(f"/dags/media_ingest/dagRuns/{run['dag_run_id']}/taskInstances").json()["task_instances"]
    assert {t["task_id"]: t["state"] for t in tis} == {"plan": "success", "collect": "success",
                                                       "process": "success"}
    return run
