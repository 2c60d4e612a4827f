"""Glue between Airflow and the media_monitoring package, shared by the DAG files and the plugin.

Only this module and the DAG files know about Airflow Connections and task context; the package
receives plain values (a warehouse URL, a send function).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from airflow.sdk import Asset, BaseNotifier

if TYPE_CHECKING:
    from media_monitoring.settings import Settings
    from media_monitoring.warehouse import Warehouse

log = logging.getLogger(__name__)

# The stored articles: emitted by media_ingest's process task, consumed by media_alerts (data-aware schedule).
ARTICLES = Asset("media-monitoring://warehouse/articles")
# Revisions of stored articles (edits, deletions): emitted by media_recheck, consumed by media_alerts, which
# tells the analysts alerted to an article that it changed.
REVISIONS = Asset("media-monitoring://warehouse/article_revisions")

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


def webhook_resolver():
    """Connection id -> webhook URL (``webhook_url_from_parts``), or None when the connection does not exist."""
    from airflow.sdk import Connection
    from airflow.sdk.exceptions import AirflowNotFoundException

    from media_monitoring.settings import webhook_url_from_parts

    def resolve(conn_id: str) -> str | None:
        try:
            conn = Connection.get(conn_id)
        except AirflowNotFoundException:
            return None
        return webhook_url_from_parts(host=conn.host, port=conn.port, schema=conn.schema,
                                      extra=conn.extra_dejson)

    return resolve


def run_clock(context: dict[str, Any]) -> datetime:
    """The time a run stands for: the end of its data interval when it has one (scheduled runs), else when
    it was asked to run. A manual run from the UI or the REST API has no logical date and no data interval
    in Airflow 3; this never raises for it."""
    end = context.get("data_interval_end")
    if end is None:
        end = context["dag_run"].run_after
    return end if end.tzinfo else end.replace(tzinfo=UTC)


def run_type(context: dict[str, Any]) -> str:
    """"manual", "scheduled", "asset_triggered" or "backfill" (Airflow's DagRunType value)."""
    value = getattr(context.get("dag_run"), "run_type", None)
    return str(getattr(value, "value", value) or "unknown")


@contextmanager
def warehouse_session() -> Iterator[tuple[Settings, Warehouse]]:
    """The settings and an open warehouse for one task, closed however the task ends."""
    from media_monitoring.pipeline import open_warehouse
    from media_monitoring.settings import load_settings

    settings = load_settings()
    wh = open_warehouse(settings, warehouse_url())
    try:
        yield settings, wh
    finally:
        wh.close()


def record_start(context: dict[str, Any]) -> None:
    """Mark the run running in the warehouse (what the view's pipeline state shows)."""
    from media_monitoring.warehouse import runs

    with warehouse_session() as (_settings, wh):
        runs.started(wh, context["dag"].dag_id, context["run_id"], run_type=run_type(context),
                     at=datetime.now(UTC))


def record_success(context: dict[str, Any], summary: dict[str, Any] | None) -> None:
    """Mark the run successful with its counts (called by its last task)."""
    from media_monitoring.warehouse import runs

    with warehouse_session() as (_settings, wh):
        runs.succeeded(wh, context["dag"].dag_id, context["run_id"], at=datetime.now(UTC), summary=summary,
                       run_type=run_type(context))


class OperatorAlert(BaseNotifier):
    """Failure notifier: records the failed run for the view (task, exception, log URL) and records and mails
    one operator alert for the run (``media_monitoring.alerts``). Used as every task's failure callback."""

    def notify(self, context: Any) -> None:
        from media_monitoring.alerts import alert_failure
        from media_monitoring.settings import load_settings
        from media_monitoring.warehouse import runs

        ti = context.get("ti") or context.get("task_instance")
        dag = context.get("dag")
        dag_id = getattr(ti, "dag_id", None) or getattr(dag, "dag_id", "?")
        task_id = getattr(ti, "task_id", None)
        exception = context.get("exception")
        if exception is not None:
            error = f"{type(exception).__name__}: {exception}"
        else:
            error = str(context.get("reason") or "failed (see the task log)")
        try:
            log_url = getattr(ti, "log_url", None)
        except Exception:  # the URL is built from the config; a callback must not fail on it
            log_url = None
        run_id = str(context.get("run_id"))
        try:
            with warehouse_session() as (_settings, wh):
                runs.failed(wh, dag_id, run_id, at=datetime.now(UTC), task_id=task_id, error=error, log_url=log_url,
                            run_type=run_type(context))
        except Exception:
            log.exception("media-monitoring: could not record the failed run %s of %s", run_id, dag_id)
        try:
            send = smtp_sender()
        except Exception:  # connections may be out of reach where a DAG-level callback runs: the file still is
            log.warning("media-monitoring: no SMTP for the failure alert", exc_info=True)
            send = None
        try:
            alert_failure(load_settings(), dag_id=dag_id, run_id=run_id, task_id=task_id, error=error,
                          log_url=log_url, smtp_send=send)
        except Exception:  # a callback must never hide the original failure
            log.exception("media-monitoring: could not record the failure alert of %s", dag_id)


notify_failure = OperatorAlert()
