"""
### Media alerts

Runs whenever an ingest run stores articles (data-aware: scheduled on the `articles` Asset that
`media_ingest`'s process task emits, not on a clock): a hit of a **priority** term (`priority: true` in
`watchlists.yaml`) alerts each subscription with `alerts: {enabled: true}` (`analysts.yaml`) within
minutes, by email and JSON webhooks, **once per story**.

* **select** writes one alert per (subscription, story) for the priority hits stored in the last hours
  whose story has no alert yet and that no digest of the subscription delivered: a later article of the
  same story updates the story, it does not alert again. An alerted article that `media_recheck` found
  edited or taken down gets one more alert per revision ("changed since sent"); it also runs on the
  `article_revisions` asset for that.
* **send** delivers every pending alert: email through the `media_smtp` connection (else the outbox
  folder, `alerts/`), and a JSON POST with an `Idempotency-Key` header to each webhook connection the
  subscription names. Quiet hours (local) and `max_per_hour` hold an alert; a later run sends it, unless
  the digest delivered the article first. A send log per channel means retries and reruns send nothing
  twice; a failed channel is tried again by the next run.

Triggered by hand (or `airflow dags test media_alerts`), it does the same for the articles stored
in the few hours before its run time.
"""

from __future__ import annotations

from datetime import UTC, datetime

from airflow.sdk import dag, get_current_context, task

from media_monitoring_airflow import (
    ARTICLES,
    DEFAULT_ARGS,
    REVISIONS,
    notify_failure,
    record_start,
    record_success,
    run_clock,
    smtp_sender,
    warehouse_session,
    webhook_resolver,
)


@dag(
    dag_id="media_alerts",
    schedule=(ARTICLES | REVISIONS),
    start_date=datetime(2020, 1, 1, tzinfo=UTC),
    catchup=False,
    max_active_runs=1,  # two runs racing would only find each other's ledger rows; one at a time is plainer
    default_args={**DEFAULT_ARGS, "on_failure_callback": notify_failure},
    tags=["media-monitoring", "alerts"],
    doc_md=__doc__,
)
def media_alerts():
    @task(multiple_outputs=False)
    def select() -> dict:
        """Record one alert per new priority story and subscription; returns new alerts by subscription."""
        from media_monitoring.priority import select_alerts

        context = get_current_context()
        record_start(context)
        with warehouse_session() as (settings, wh):
            # An Asset-triggered run has no logical date: its clock is when the Asset event queued it.
            return select_alerts(settings=settings, warehouse=wh, run_id=context["run_id"], now=run_clock(context))

    @task(multiple_outputs=False)
    def send(selected: dict) -> dict:
        """Deliver every pending alert (email, webhooks) that quiet hours and the rate limit allow, once."""
        from media_monitoring.priority import send_alerts

        context = get_current_context()
        with warehouse_session() as (settings, wh):
            counts = send_alerts(settings=settings, warehouse=wh, run_id=context["run_id"], now=run_clock(context),
                                 smtp_send=smtp_sender(), webhook_url=webhook_resolver())
        record_success(context, {"selected": selected, **counts})
        return counts

    send(select())


dag = media_alerts()

if __name__ == "__main__":
    dag.test()
