"""Operator alerts: a failed run (a digest not sent, an ingest that broke) is written down and mailed.

The alert file in ``$MEDIA_MONITOR_DATA_DIR/alerts/`` is the record that never depends on the mail
server (which may be the very thing that failed); the email goes to the operators of
``analysts.yaml`` through the same SMTP connection as the digests. One alert per failed run: a
second callback for the same run (task and DAG level) finds the file and sends nothing.
"""

from __future__ import annotations

import email.policy
import logging
import os
import re
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

from media_monitoring.config import ConfigError, load_analysts
from media_monitoring.digest.deliver import SmtpSend, envelope_sender
from media_monitoring.settings import Settings

log = logging.getLogger(__name__)

MAX_DETAIL_CHARS = 4000  # an exception message, cut: the full trace is in the task log


def _one_line(value: str, limit: int) -> str:
    return " ".join(str(value).split())[:limit]


def alert_failure(settings: Settings, *, dag_id: str, run_id: str, task_id: str | None, error: str,
                  smtp_send: SmtpSend | None, log_url: str | None = None, now: datetime | None = None) -> Path:
    """Record and send one alert for a failed run; returns the alert file."""
    now = now or datetime.now(UTC)
    key = re.sub(r"[^A-Za-z0-9_.-]+", "_", f"{dag_id}__{run_id}")[:200]
    folder = settings.data_dir / "alerts"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{key}.eml"
    if path.exists():
        log.info("alert for %s %s already recorded at %s", dag_id, run_id, path)
        return path
    try:
        analysts = load_analysts(settings.analysts_file)
        sender, operators = analysts.sender, list(analysts.operators)
    except ConfigError as exc:
        log.error("cannot read the operators from %s: %s", settings.analysts_file, exc)
        sender, operators = "media-monitor@localhost", []
    msg = EmailMessage()
    msg["Subject"] = _one_line(f"[media-monitor] {dag_id} failed ({task_id or 'run'}): {error}", 200)
    msg["From"] = sender
    msg["To"] = ", ".join(operators) or "operators@localhost"
    msg["Date"] = format_datetime(now)
    msg.set_content(
        f"DAG:   {dag_id}\n"
        f"Task:  {task_id or '(the run)'}\n"
        f"Run:   {run_id}\n"
        f"When:  {now:%Y-%m-%d %H:%M} UTC\n"
        f"Error: {str(error)[:MAX_DETAIL_CHARS]}\n"
        f"Log:   {log_url or 'the task log in the Airflow UI'}\n\n"
        "Digests are sent once: after the cause is fixed, clear the failed task (or let the next run go);\n"
        "only the digests not yet sent will be sent.\n",
        cte="quoted-printable")
    data = msg.as_bytes(policy=email.policy.SMTP)
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)
    log.error("ALERT %s: %s (recorded in %s)", msg["Subject"], error, path)
    if smtp_send and operators:
        try:
            smtp_send(envelope_sender(analysts), operators, data)
            log.info("alert mailed to %s", ", ".join(operators))
        except Exception as exc:  # the mail server may be what failed; the file stands
            log.error("alert could not be mailed (%s); it is in %s", exc, path)
    return path
