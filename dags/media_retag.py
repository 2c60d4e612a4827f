"""
### Media re-tag

Re-runs watchlist matching over the stored archive after a watchlist changed, so an analyst can see
what a new term or alias would have caught. Triggered by hand with parameters:

* **watchlist**: the watchlist name from `watchlists.yaml`, or `all`;
* **start_date** / **end_date**: publication dates to cover (inclusive).

Idempotent: for every chunk of articles the chosen watchlists' hits are replaced in one transaction,
and each hit records the watchlist version that produced it. Countries and regions are not touched.
"""

from __future__ import annotations

from datetime import UTC, datetime

from airflow.sdk import Param, dag, get_current_context, task

from media_monitoring_airflow import DEFAULT_ARGS, notify_failure, record_start, record_success, warehouse_session


@dag(
    dag_id="media_retag",
    schedule=None,
    start_date=datetime(2020, 1, 1, tzinfo=UTC),
    catchup=False,
    max_active_runs=1,
    default_args={**DEFAULT_ARGS, "on_failure_callback": notify_failure},
    tags=["media-monitoring", "retag"],
    doc_md=__doc__,
    params={
        "watchlist": Param("all", type="string", description="Watchlist name from watchlists.yaml, or 'all'."),
        "start_date": Param("2021-01-01", type="string", format="date", description="First publication day."),
        "end_date": Param("2021-12-31", type="string", format="date", description="Last publication day."),
    },
)
def media_retag():
    @task(multiple_outputs=False)
    def retag() -> dict:
        """Replace the chosen watchlists' hits over the date range; returns counts."""
        from datetime import date, timedelta

        from media_monitoring.pipeline import retag as run_retag

        context = get_current_context()
        params = context["params"]
        start = date.fromisoformat(params["start_date"])
        end = date.fromisoformat(params["end_date"])
        if end < start:
            raise ValueError(f"end_date {end} is before start_date {start}")
        record_start(context)
        with warehouse_session() as (settings, wh):
            result = run_retag(
                settings=settings, warehouse=wh,
                watchlists=None if params["watchlist"] == "all" else (params["watchlist"],),
                start=datetime(start.year, start.month, start.day, tzinfo=UTC),
                end=datetime(end.year, end.month, end.day, tzinfo=UTC) + timedelta(days=1))
        record_success(context, result)
        return result

    retag()


dag = media_retag()

if __name__ == "__main__":
    dag.test()
