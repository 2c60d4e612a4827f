"""Integration fixtures: real Airflow runs, a real SMTP server on localhost, a real PostgreSQL."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
PG = "postgresql+psycopg2://postgres@127.0.0.1:5432"
STACK_STARTUP_S = 120
PG_ADMIN_DSN = os.environ.get("MEDIA_MONITOR_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Mailbox:
    """What the local SMTP server received."""

    messages: list[tuple[str, list[str], EmailMessage]] = field(default_factory=list)

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd handler API)
        msg = message_from_bytes(envelope.original_content or envelope.content, policy=policy.default)
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), msg))
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[Mailbox]:
    """An aiosmtpd server on a free loopback port, wired in as the ``media_smtp`` connection."""
    from aiosmtpd.controller import Controller

    mailbox = Mailbox()
    port = _free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    monkeypatch.setenv("AIRFLOW_CONN_MEDIA_SMTP", json.dumps({
        "conn_type": "smtp", "host": "127.0.0.1", "port": port,
        "extra": {"disable_ssl": True, "disable_tls": True, "timeout": 10, "retry_limit": 0},
    }))
    try:
        yield mailbox
    finally:
        controller.stop()


@pytest.fixture
def postgres_warehouse(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A throwaway PostgreSQL database wired in as the ``media_warehouse`` connection."""
    import psycopg2

    name = f"mm_it_{uuid.uuid4().hex[:12]}"
    admin = psycopg2.connect(PG_ADMIN_DSN)
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    monkeypatch.setenv("AIRFLOW_CONN_MEDIA_WAREHOUSE", f"postgres://postgres@127.0.0.1:5432/{name}")
    try:
        yield f"postgresql+psycopg2://postgres@127.0.0.1:5432/{name}"
    finally:
        with admin.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


@pytest.fixture(scope="session")
def dags(airflow_db):
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(ROOT / "dags"))
    assert bag.import_errors == {}
    return bag.dags


@pytest.fixture
def run_dag(dags):
    """Run one DAG through Airflow (``dag.test``) and return the finished run's state."""

    def run(dag_id: str, logical_date: datetime, conf: dict | None = None) -> str:
        dag_run = dags[dag_id].test(logical_date=logical_date, run_conf=conf)
        return str(dag_run.state)

    return run


@pytest.fixture
def metadata_db() -> Iterator[str]:
    """A throwaway PostgreSQL database for Airflow's metadata (the native stack's scheduler needs one)."""
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
    """``scripts/airflow-native.sh`` (api-server, scheduler, dag-processor, triggerer) on a free loopback port
    over ``metadata_db``, the seed outlets replayed, a fresh data folder; user admin / test-admin-pw.
    Yields (base URL, data folder, the stack's log, its environment)."""
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
        # the log servers' default ports (8793, 8794) are taken by any other stack running on the machine
        "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(_free_port()),
        "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(_free_port()),
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
        deadline = time.monotonic() + STACK_STARTUP_S
        while True:
            assert proc.poll() is None, log_path.read_text()[-5000:]
            try:
                if httpx.get(f"{base}/api/v2/version", timeout=10).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "api-server did not start:\n" + log_path.read_text()[-5000:]
            time.sleep(1)
        yield base, data, log_path, env
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
