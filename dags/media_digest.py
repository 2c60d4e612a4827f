"""
### Media digest

Hourly: every analyst subscription (`analysts.yaml`) whose `digest_time` (in its own `timezone`) has
passed since its last digest gets one now. A digest holds every article that matches the subscription
and that it has not received yet: stored late, undated or released from quarantine, each article
reaches each subscription in exactly one digest (the delivery ledger). If the scheduler was down
across a digest time, the next run sends that digest, once.

* **compose** stores one `digests` row per due subscription with its window, run id and watchlist
  versions, and its items (`digest_entries`); a digest, once composed, is frozen.
* **send** renders and delivers every digest not yet sent (HTML + plain text), through the Airflow
  connection `media_smtp` when it exists, otherwise to the outbox folder (`MEDIA_MONITOR_OUTBOX`).
  A send log keyed by (subscription, date) means retries and reruns send nothing twice; a digest that
  could not be sent is tried again by the next run, the others are not resent.
* **digest_date** (param): compose the digest of that local day (articles published on it) for every
  subscription that does not have one for it yet, and send it now: a backfill.
"""

from __future__ import annotations

from datetime import UTC, datetime

from airflow.sdk import CronTriggerTimetable, Param, dag, get_current_context, task

from media_monitoring.schedules import DIGEST_EVERY
from media_monitoring_airflow import (
    DEFAULT_ARGS,
    notify_failure,
    record_start,
    record_success,
    run_clock,
    smtp_sender,
    warehouse_session,
)


@dag(
    dag_id="media_digest",
    schedule=CronTriggerTimetable("0 * * * *", timezone="UTC", interval=DIGEST_EVERY),
    start_date=datetime(2020, 1, 1, tzinfo=UTC),
    catchup=False,  # a missed digest time is caught by the next run (see compose), not by backfilled runs
    max_active_runs=1,
    default_args={**DEFAULT_ARGS, "on_failure_callback": notify_failure},
    tags=["media-monitoring", "digest"],
    doc_md=__doc__,
    params={
        "digest_date": Param("", type="string", pattern=r"^(\d{4}-\d{2}-\d{2})?$",
                             description="Empty (default): the subscriptions whose digest time has come. "
                                         "YYYY-MM-DD: that local day's digest for every subscription that "
                                         "has none for it yet (articles published that day), sent now."),
    },
)
def media_digest():
    @task(multiple_outputs=False)
    def compose() -> list[dict]:
        """Compose and store the due digests; returns who gets one and how many articles."""
        from datetime import date

        from media_monitoring.digest.run import compose_digests

        context = get_current_context()
        day = context["params"]["digest_date"]
        record_start(context)
        with warehouse_session() as (settings, wh):
            return compose_digests(settings=settings, warehouse=wh, run_id=context["run_id"],
                                   now=run_clock(context), day=date.fromisoformat(day) if day else None)

    @task(multiple_outputs=False)
    def send(composed: list[dict]) -> dict:
        """Render and deliver every digest not yet sent (SMTP or outbox), once each."""
        from media_monitoring.digest.run import send_digests

        context = get_current_context()
        with warehouse_session() as (settings, wh):
            results = send_digests(settings=settings, warehouse=wh, run_id=context["run_id"],
                                   now=run_clock(context), smtp_send=smtp_sender())
        record_success(context, {"composed": len(composed), "sent": results})
        return results

    send(compose())


dag = media_digest()

if __name__ == "__main__":
    dag.test()
