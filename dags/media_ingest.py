"""
### Media ingest

Every 30 minutes: poll the outlets' feeds, fetch the new articles, extract their text, validate the
run's batch with Great Expectations, tag it (watchlists, countries, regions) and store it.

* **plan** reads the outlet registry (`MEDIA_MONITOR_OUTLETS`) and splits the outlets to poll into
  batches, one host per batch. Which outlets: param `poll`.
* **collect** runs once per batch (mapped): conditional GET of each feed, page fetches under per-host
  limits, robots.txt, the SSRF guard and size/time limits, extraction in bounded worker processes;
  records are staged in the warehouse under the run id. A failing outlet is recorded in `feed_health`
  and never fails the batch.
* **process** runs once: validates everything staged, quarantines failures with the expectation
  names, tags and upserts the rest into `articles`, and emits the `articles` asset.

Trigger it by hand (the Trigger button, the REST API, `airflow dags trigger`) to poll every outlet now.
Rerunning a run leaves the same rows: articles are keyed by the hash of their canonical URL.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from airflow.sdk import Asset, CronTriggerTimetable, Param, dag, get_current_context, task

from media_monitoring.schedules import INGEST_EVERY
from media_monitoring_airflow import (
    DEFAULT_ARGS,
    notify_failure,
    record_start,
    record_success,
    run_clock,
    run_type,
    warehouse_session,
)

log = logging.getLogger(__name__)

ARTICLES = Asset("media-monitoring://warehouse/articles")


@dag(
    dag_id="media_ingest",
    # run_immediately: a freshly deployed or unpaused ingest polls at once instead of waiting for the slot
    schedule=CronTriggerTimetable("*/30 * * * *", timezone="UTC", interval=INGEST_EVERY, run_immediately=True),
    start_date=datetime(2020, 1, 1, tzinfo=UTC),
    catchup=False,
    max_active_runs=1,
    default_args={**DEFAULT_ARGS, "on_failure_callback": notify_failure},
    tags=["media-monitoring", "ingest"],
    doc_md=__doc__,
    params={
        "poll": Param("auto", type="string", enum=["auto", "due", "all"],
                      description="Which outlets to poll. auto: every outlet when triggered by hand, only "
                                  "those whose adaptive next-poll time has come when scheduled. due: only "
                                  "those due. all: every outlet."),
        "outlets_per_task": Param(200, type="integer", minimum=1, maximum=5000,
                                  description="Outlets polled by one mapped collect task (all outlets of "
                                              "a host stay in one batch)."),
    },
)
def media_ingest():
    @task
    def plan() -> list[list[str]]:
        """Split the outlets to poll into batches for the mapped collect tasks."""
        from media_monitoring.pipeline import load_outlets, plan_batches

        context = get_current_context()
        params = context["params"]
        due_only = params["poll"] == "due" or (params["poll"] == "auto" and run_type(context) == "scheduled")
        record_start(context)
        with warehouse_session() as (settings, wh):
            # Politeness is about real time, so "due" is judged against the clock, not the logical date.
            return plan_batches(load_outlets(settings), params["outlets_per_task"],
                                warehouse=wh if due_only else None, now=datetime.now(UTC))

    # Each batch holds all outlets of its hosts, so parallel collect tasks never share a host.
    @task(map_index_template="{{ batch_label }}", max_active_tis_per_dag=4, multiple_outputs=False)
    def collect(batch: list[str]) -> dict:
        """Poll this batch's feeds and stage new articles; returns counts only."""
        from media_monitoring.pipeline import collect as run_collect

        context = get_current_context()
        context["batch_label"] = f"{batch[0]}…{batch[-1]} ({len(batch)})" if len(batch) > 1 else batch[0]
        with warehouse_session() as (settings, wh):
            totals = run_collect(batch, run_id=context["run_id"], settings=settings, warehouse=wh).totals()
        return {k: v for k, v in totals.items() if k != "by_outlet"}

    @task(outlets=[ARTICLES], multiple_outputs=False)
    def process(collected: list[dict]) -> dict:
        """Validate, tag and store the run's staged articles in one place."""
        from dataclasses import asdict

        from media_monitoring.pipeline import process as run_process

        context = get_current_context()
        with warehouse_session() as (settings, wh):
            report = run_process(context["run_id"], settings=settings, warehouse=wh, run_time=run_clock(context))
        summary = {"collected": sum(c["staged"] for c in collected), "outlets": len(collected), **asdict(report)}
        record_success(context, summary)
        return summary

    process(collect.expand(batch=plan()))


dag = media_ingest()

if __name__ == "__main__":
    dag.test()
