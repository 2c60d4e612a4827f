"""A digest that cannot be sent fails the run, sends nothing half-way, and alerts the operator."""

from __future__ import annotations

import json
import socket
from datetime import UTC, datetime
from email import message_from_bytes, policy

import pytest
import sqlalchemy as sa

pytestmark = pytest.mark.integration


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # nothing listens here once the socket is closed


def test_unsendable_digest_alerts_the_operator_once(run_dag, replay_server, data_dir, monkeypatch):
    monkeypatch.setenv("MEDIA_MONITOR_REPLAY_BASE", replay_server)
    assert run_dag("media_ingest", datetime(2026, 11, 22, 12, tzinfo=UTC)) == "success"
    monkeypatch.setenv("AIRFLOW_CONN_MEDIA_SMTP", json.dumps({
        "conn_type": "smtp", "host": "127.0.0.1", "port": _closed_port(),
        "extra": {"disable_ssl": True, "disable_tls": True, "timeout": 2, "retry_limit": 0}}))

    conf = {"digest_date": "2021-10-28"}
    assert run_dag("media_digest", datetime(2021, 10, 29, 6, tzinfo=UTC), conf) == "failed"

    alerts = sorted((data_dir / "alerts").glob("*.eml"))
    assert len(alerts) == 1, "task- and DAG-level callbacks of one run make one alert"
    alert = message_from_bytes(alerts[0].read_bytes(), policy=policy.default)
    assert alert["To"] == "ops@media-monitor.example.org"
    assert alert["Subject"].startswith("[media-monitor] media_digest failed")
    body = alert.get_content()
    assert "Central Asia desk" in body and "Russia desk" in body  # which subscriptions were not sent
    # what an operator needs to act: DAG, task, run, the exception and where the log is
    assert "DAG:   media_digest" in body and "Task:  send" in body and "Run:   " in body
    assert "Error: DigestDeliveryError:" in body and "Log:   http" in body and "/tasks/send" in body

    engine = sa.create_engine(f"sqlite:///{data_dir / 'warehouse.sqlite'}")
    try:
        with engine.connect() as conn:
            sent = conn.execute(sa.text("select count(*) from digest_sends where status = 'sent'")).scalar()
            failed = conn.execute(sa.text("select count(*) from digest_sends where status = 'failed'")).scalar()
            run = conn.execute(sa.text("select state, failed_task, error, log_url from pipeline_runs "
                                       "where dag_id = 'media_digest'")).mappings().one()
    finally:
        engine.dispose()
    assert sent == 0 and failed == 2  # both tried, both recorded with their error, tried again next run
    # the view's pipeline state: the failed run with its task, exception and log link
    assert run["state"] == "failed" and run["failed_task"] == "send"
    assert run["error"].startswith("DigestDeliveryError") and run["log_url"].startswith("http")
