"""
### Media re-check

Every 15 minutes: fetch watchlist articles again about **1 hour, 24 hours and 7 days** after they were
first fetched, and record what changed after publication.

* **recheck** gives each newly stored watchlist article its schedule, then makes the checks that are due
  (oldest first, at most 500 a run): robots.txt, the host's spacing and concurrency, a conditional GET
  with the page's validators, extraction as at ingest. A rewritten headline or body is stored as a
  **revision** with a diff (`article_revisions`); a page that answers 404/410 or now redirects to the
  site's front page is recorded as **deleted**. A page that cannot be fetched is tried again at the next
  runs (three tries per check).

The task emits the `article_revisions` asset: `media_alerts` runs and tells each subscription that was
alerted to a changed article ("changed since sent"). The next digest of each subscription that received a
changed article lists it, and the Media Monitor view marks it.
Trigger it by hand to make the checks due now.
"""

from __future__ import annotations

from datetime import UTC, datetime

from airflow.sdk import CronTriggerTimetable, dag, get_current_context, task

from media_monitoring.schedules import RECHECK_CRON, RECHECK_EVERY
from media_monitoring_airflow import (
    DEFAULT_ARGS,
    REVISIONS,
    notify_failure,
    record_start,
    record_success,
    run_clock,
    warehouse_session,
)


@dag(
    dag_id="media_recheck",
    schedule=CronTriggerTimetable(RECHECK_CRON, timezone="UTC", interval=RECHECK_EVERY),
    start_date=datetime(2020, 1, 1, tzinfo=UTC),
    catchup=False,
    max_active_runs=1,  # two runs would fetch the same due pages twice
    default_args={**DEFAULT_ARGS, "on_failure_callback": notify_failure},
    tags=["media-monitoring", "revisions"],
    doc_md=__doc__,
)
def media_recheck():
    @task(outlets=[REVISIONS], multiple_outputs=False)
    def recheck() -> dict:
        """Make the re-checks due at the run's time; returns counts by outcome."""
        from media_monitoring.pipeline.recheck import recheck as run_recheck

        context = get_current_context()
        record_start(context)
        with warehouse_session() as (settings, wh):
            report = run_recheck(settings=settings, warehouse=wh, run_id=context["run_id"], now=run_clock(context))
        record_success(context, report.as_dict())
        return report.as_dict()

    recheck()


dag = media_recheck()

if __name__ == "__main__":
    dag.test()
