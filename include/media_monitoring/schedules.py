"""How often each DAG runs: one place for the DAG files (their timetables) and the view (its stale banner)."""

from __future__ import annotations

from datetime import timedelta

INGEST_EVERY = timedelta(minutes=30)
DIGEST_EVERY = timedelta(hours=1)  # digests go out within this long after each subscription's digest_time
DAG_INTERVALS = {"media_ingest": INGEST_EVERY, "media_digest": DIGEST_EVERY}
STALE_AFTER_INTERVALS = 2  # the view warns when a DAG has not succeeded for this many of its intervals
