"""
### Media digest

Daily at 06:00 UTC: for the digest date (the day before the run, i.e. the data interval's start
date), store one `daily_digests` row per watchlist with its items, then render and send each analyst
subscription's email (HTML + plain text).

* Delivery goes through the Airflow connection `media_smtp` when it exists; otherwise the `.eml`
  files are written to the outbox folder (`MEDIA_MONITOR_OUTBOX`).
* A send log keyed by (date, subscription) makes reruns, retries and backfills send nothing twice,
  and keeps the exact text and HTML that went out.
* A day's digest, once composed, is frozen with its context (spikes, regions, sources needing
  attention, source quality), so re-rendering it later gives the same email; param `recompose`
  rebuilds it on purpose.
* A past day is regenerated with a backfill or `airflow dags test media_digest <date + 1 day>T06:00`.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from airflow.sdk import CronTriggerTimetable, Param, dag, get_current_context, task

from media_monitoring_airflow import DEFAULT_ARGS, notify_failure, smtp_sender, warehouse_url


def _digest_day(context) -> date:
    """The digest covers the day the data interval starts on (UTC)."""
    return context["data_interval_start"].date()


@dag(
    dag_id="media_digest",
    schedule=CronTriggerTimetable("0 6 * * *", timezone="UTC", interval=timedelta(days=1)),
    start_date=datetime(2020, 1, 1),  # early enough to regenerate past digests
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    on_failure_callback=notify_failure,
    tags=["media-monitoring", "digest"],
    doc_md=__doc__,
    params={
        "recompose": Param(False, type="boolean",
                           description="Rebuild a day's digest that was already composed (late articles, a "
                                       "watchlist change). Sent digests are never sent again either way."),
    },
)
def media_digest():
    @task(multiple_outputs=False)  # one dict of counts per watchlist, kept whole
    def compose() -> dict:
        """Store the day's digest per watchlist (replacing any earlier version of that day)."""
        from media_monitoring.digest.run import compose_digests
        from media_monitoring.pipeline import open_warehouse
        from media_monitoring.settings import load_settings

        context = get_current_context()
        settings = load_settings()
        wh = open_warehouse(settings, warehouse_url())
        try:
            return compose_digests(_digest_day(context), settings=settings, warehouse=wh,
                                   run_id=context["run_id"], created_at=context["data_interval_end"],
                                   recompose=context["params"]["recompose"])
        finally:
            wh.close()

    @task(multiple_outputs=False, on_failure_callback=notify_failure)
    def send(composed: dict) -> dict:
        """Render and deliver each subscription's digest once (SMTP or outbox)."""
        from media_monitoring.digest.run import send_digests
        from media_monitoring.pipeline import open_warehouse
        from media_monitoring.settings import load_settings

        context = get_current_context()
        settings = load_settings()
        wh = open_warehouse(settings, warehouse_url())
        try:
            return send_digests(_digest_day(context), settings=settings, warehouse=wh, run_id=context["run_id"],
                                created_at=context["data_interval_end"], smtp_send=smtp_sender())
        finally:
            wh.close()

    send(compose())


media_digest()
