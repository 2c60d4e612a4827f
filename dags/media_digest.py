"""
### Media digest

Hourly: each analyst subscription (`analysts.yaml`) gets the digest of its previous local day at its
own `digest_time` in its own `timezone`. For every day due, one `daily_digests` row per watchlist is
stored with its items, then each due subscription's email (HTML + plain text) is rendered and sent.

* **digest_date** (param): compose and send that day's digest to every subscription now, whatever
  their digest time: for a rerun, a regeneration or a backfill of a past day.
* Delivery goes through the Airflow connection `media_smtp` when it exists; otherwise the `.eml`
  files are written to the outbox folder (`MEDIA_MONITOR_OUTBOX`).
* A send log keyed by (date, subscription) makes reruns, retries and backfills send nothing twice,
  and keeps the exact text and HTML that went out.
* A day's digest, once composed, is frozen with its context (spikes, regions, sources needing
  attention, source quality), so re-rendering it later gives the same email; param `recompose`
  rebuilds it on purpose.
* A failure alerts the operators (one alert per run) and fails the run; subscriptions already sent
  are not sent again when it is retried.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import CronTriggerTimetable, Param, dag, get_current_context, task

from media_monitoring_airflow import DEFAULT_ARGS, notify_failure, smtp_sender, warehouse_url


@dag(
    dag_id="media_digest",
    schedule=CronTriggerTimetable("0 * * * *", timezone="UTC", interval=timedelta(hours=1)),
    start_date=datetime(2020, 1, 1),  # early enough to regenerate past digests
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    on_failure_callback=notify_failure,
    tags=["media-monitoring", "digest"],
    doc_md=__doc__,
    params={
        "digest_date": Param("", type="string",
                             description="YYYY-MM-DD: send that day's digest to every subscription now. "
                                         "Empty: the subscriptions whose digest time falls in this hour."),
        "recompose": Param(False, type="boolean",
                           description="Rebuild a day's digest that was already composed (late articles, a "
                                       "watchlist change). Sent digests are never sent again either way."),
    },
)
def media_digest():
    @task(multiple_outputs=False)
    def compose() -> dict:
        """Decide which (day, subscriptions) are due and store those days' digests per watchlist."""
        from datetime import date

        from media_monitoring.config import load_analysts
        from media_monitoring.digest.run import compose_digests, due_subscriptions
        from media_monitoring.pipeline import open_warehouse
        from media_monitoring.settings import load_settings

        context = get_current_context()
        params = context["params"]
        settings = load_settings()
        analysts = load_analysts(settings.analysts_file)
        if params["digest_date"]:
            due = {date.fromisoformat(params["digest_date"]): [s.name for s in analysts.subscriptions]}
        else:
            due = due_subscriptions(analysts, context["data_interval_start"], context["data_interval_end"])
        wh = open_warehouse(settings, warehouse_url())
        try:
            for day in due:
                compose_digests(day, settings=settings, warehouse=wh, run_id=context["run_id"],
                                created_at=context["data_interval_end"], recompose=params["recompose"])
        finally:
            wh.close()
        return {day.isoformat(): names for day, names in sorted(due.items())}

    @task(multiple_outputs=False, on_failure_callback=notify_failure)
    def send(due: dict) -> dict:
        """Render and deliver each due subscription's digest once (SMTP or outbox)."""
        from datetime import date

        from media_monitoring.digest.run import send_digests
        from media_monitoring.pipeline import open_warehouse
        from media_monitoring.settings import load_settings

        context = get_current_context()
        settings = load_settings()
        wh = open_warehouse(settings, warehouse_url())
        results = {}
        try:
            for day, names in due.items():
                results[day] = send_digests(date.fromisoformat(day), settings=settings, warehouse=wh,
                                            run_id=context["run_id"], created_at=context["data_interval_end"],
                                            smtp_send=smtp_sender(), only=names)
        finally:
            wh.close()
        return results

    send(compose())


media_digest()
