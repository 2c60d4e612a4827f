"""The stages the DAGs and the CLI run, one module each:

- :mod:`~media_monitoring.pipeline.plan`: the warehouse, the outlet registry and its bounds, the due
  outlets in batches;
- :mod:`~media_monitoring.pipeline.collect` (mapped over outlet batches): poll, fetch, extract, stage; it
  writes only staging rows, fetch failures and feed health (:mod:`~media_monitoring.pipeline.health`);
- :mod:`~media_monitoring.pipeline.process` (once per run): validate, quarantine, tag, fold duplicates,
  store, outlet quality; with :mod:`~media_monitoring.pipeline.stories` placing the stored articles;
- :mod:`~media_monitoring.pipeline.maintenance`: release from quarantine, re-tag the archive.

The names callers use are re-exported here: ``from media_monitoring import pipeline; pipeline.collect(...)``.
So ``pipeline.collect`` and ``pipeline.process`` are the stage functions, not their modules; code that
needs a stage module itself (a test patching a name in it) imports it with
``importlib.import_module("media_monitoring.pipeline.collect")``.
"""

from __future__ import annotations

from media_monitoring.pipeline.collect import (
    FEED_ACCEPT,
    PAGE_ACCEPT,
    CollectReport,
    OutletReport,
    collect,
    staged_record,
)
from media_monitoring.pipeline.maintenance import release, retag
from media_monitoring.pipeline.plan import load_outlets, open_warehouse, plan_batches, polling_policy
from media_monitoring.pipeline.process import (
    ProcessReport,
    fold_exact_duplicates,
    ingest_summary,
    process,
    tag_records,
)
from media_monitoring.pipeline.stories import assign_stories
from media_monitoring.text import title_key

__all__ = [
    "FEED_ACCEPT",
    "PAGE_ACCEPT",
    "CollectReport",
    "OutletReport",
    "ProcessReport",
    "assign_stories",
    "collect",
    "fold_exact_duplicates",
    "ingest_summary",
    "load_outlets",
    "open_warehouse",
    "plan_batches",
    "polling_policy",
    "process",
    "release",
    "retag",
    "staged_record",
    "tag_records",
    "title_key",
]
