"""Glue between Airflow and the media_monitoring package, shared by the DAG files and the plugin.

Only this module and the DAG files know about Airflow Connections and task context; the package
receives plain values (a warehouse URL, a send function).
"""

from __future__ import annotations

import logging
import os
from datetime import timedelta
from typing import Any

log = logging.getLogger(__name__)

DEFAULT_ARGS: dict[str, Any] = {
    "owner": "media-monitoring",
    "retries": 2,
    # Deploy-time knob (.env.example); tests shorten it so a failing run ends quickly.
    "retry_delay": timedelta(seconds=int(os.environ.get("MEDIA_MONITOR_RETRY_DELAY_SECONDS", "120"))),
    "retry_exponential_backoff": True,
}


def warehouse_url() -> str | None:
    """The ``media_warehouse`` connection as a SQLAlchemy URL, or None for the embedded default."""
    from airflow.sdk import Connection
    from airflow.sdk.exceptions import AirflowNotFoundException

    from media_monitoring.settings import WAREHOUSE_CONN_ID, warehouse_url_from_parts

    try:
        conn = Connection.get(WAREHOUSE_CONN_ID)
    except AirflowNotFoundException:
        return None
    return warehouse_url_from_parts(conn_type=conn.conn_type or "", host=conn.host, port=conn.port,
                                    login=conn.login, password=conn.password, schema=conn.schema)


def smtp_sender():
    """A send function over the ``media_smtp`` connection, or None to write digests to the outbox."""
    from airflow.sdk import Connection
    from airflow.sdk.exceptions import AirflowNotFoundException

    from media_monitoring.settings import SMTP_CONN_ID

    try:
        Connection.get(SMTP_CONN_ID)
    except AirflowNotFoundException:
        return None

    def send(sender: str, recipients: list[str], message: bytes) -> None:
        from airflow.providers.smtp.hooks.smtp import SmtpHook

        with SmtpHook(smtp_conn_id=SMTP_CONN_ID) as hook:
            # The hook logs in per its connection (TLS, auth); we hand it our own MIME message
            # because it builds only single-part HTML messages itself.
            hook._smtp_client.sendmail(sender, recipients, message)

    return send


def notify_failure(context: dict[str, Any]) -> None:
    """Failure callback: record an operator alert for the failed run and mail it (once per run)."""
    from media_monitoring.alerts import alert_failure
    from media_monitoring.settings import load_settings

    ti = context.get("ti") or context.get("task_instance")
    dag = context.get("dag")
    dag_id = getattr(ti, "dag_id", None) or getattr(dag, "dag_id", "?")
    error = context.get("exception") or context.get("reason") or "failed (see the task log)"
    try:
        send = smtp_sender()
    except Exception:  # connections may be out of reach where a DAG-level callback runs: the file still is
        log.warning("media-monitoring: no SMTP for the failure alert", exc_info=True)
        send = None
    try:
        alert_failure(load_settings(), dag_id=dag_id, run_id=str(context.get("run_id")),
                      task_id=getattr(ti, "task_id", None), error=str(error), smtp_send=send)
    except Exception:  # a callback must never hide the original failure
        log.exception("media-monitoring: could not record the failure alert of %s", dag_id)
