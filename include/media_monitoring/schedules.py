"""How often each DAG runs: one place for the DAG files (their timetables) and the view (its stale banner)."""

from __future__ import annotations

from datetime import timedelta

# Priority outlets are polled at every run: a publication waits up to this long for its poll, and priority
# alerts aim at 15 minutes from publication (bench/alert_latency.py). Other feeds stay adaptive (15 min-6 h).
INGEST_EVERY = timedelta(minutes=10)
INGEST_CRON = "*/10 * * * *"
DIGEST_EVERY = timedelta(hours=1)  # digests go out within this long after each subscription's digest_time
# Watchlist articles are fetched again about 1 h, 24 h and 7 days after their first fetch (revisions.py);
# a check is made within this long after it falls due.
RECHECK_EVERY = timedelta(minutes=15)
RECHECK_CRON = "*/15 * * * *"
DAG_INTERVALS = {"media_ingest": INGEST_EVERY, "media_digest": DIGEST_EVERY, "media_recheck": RECHECK_EVERY}
STALE_AFTER_INTERVALS = 2  # the view warns when a DAG has not succeeded for this many of its intervals
