"""The ingest run's summary (the process task's return value, the pipeline state) counts outlets, not
mapped collect batches: 8 outlets polled in one batch are 8 outlets."""

from __future__ import annotations

import pytest

from media_monitoring.pipeline import CollectReport, OutletReport, ProcessReport, ingest_summary

pytestmark = pytest.mark.unit


def _batch(*outlets: tuple[str, int, int]) -> dict:
    report = CollectReport(outlets=[OutletReport(outlet_id=o, entries=e, staged=s) for o, e, s in outlets])
    return {k: v for k, v in report.totals().items() if k != "by_outlet"}  # what a collect task returns


def test_outlets_and_entries_are_summed_over_the_batches() -> None:
    one_host = _batch(("tass-en", 3, 3), ("ria-ru", 3, 2))
    other = _batch(("tolonews", 3, 3), ("akipress", 2, 0), ("kazinform", 3, 3))
    summary = ingest_summary([one_host, other], ProcessReport(staged=8, stored=7, quarantined=1))
    assert (summary["outlets"], summary["entries"], summary["collected"], summary["batches"]) == (5, 14, 11, 2)
    assert (summary["stored"], summary["quarantined"]) == (7, 1)


def test_every_outlet_in_a_single_batch_counts() -> None:
    batch = _batch(*((f"o{i}", 3, 0) for i in range(8)))
    assert ingest_summary([batch], ProcessReport())["outlets"] == 8


def test_nothing_to_poll() -> None:
    assert ingest_summary([], ProcessReport())["outlets"] == 0
