"""What the pipeline records about its own work: staging and quarantine, fetch failures, feed health and its
log, extraction quality and validation runs, digests and priority alerts with their ledgers and send logs,
and the DAG runs.

Digests and sends are keyed by (subscription, digest date), the delivery ledger by (subscription, article
id), priority alerts by (subscription, story id) and their sends by (subscription, story id, channel),
staging rows by (run id, article id).
"""

from __future__ import annotations

import sqlalchemy as sa

from media_monitoring.warehouse.schema.base import KEY, RUN_ID, TS, metadata

quarantine = sa.Table(
    "quarantine",
    metadata,
    sa.Column("article_id", KEY, primary_key=True),
    sa.Column("canonical_url", sa.Text, nullable=False),
    sa.Column("url", sa.Text, nullable=False),
    sa.Column("outlet_id", sa.String(64), nullable=False, index=True),
    sa.Column("run_id", RUN_ID, nullable=False),
    sa.Column("failed_expectations", sa.JSON, nullable=False),  # names, e.g. "body_word_count"
    sa.Column("observed", sa.JSON, nullable=False),  # the values that failed, by expectation
    sa.Column("record", sa.JSON, nullable=False),  # the extracted article, kept to release it later
    sa.Column("quarantined_at", TS, nullable=False),
    sa.Column("released_at", TS),
    sa.Index("ix_quarantine_run", "run_id", "quarantined_at", "article_id"),  # a run's validation report
    sa.Index("ix_quarantine_open", "released_at", "quarantined_at", "article_id"),  # what is still held
)

staging = sa.Table(
    "staging",
    metadata,
    sa.Column("run_id", RUN_ID, primary_key=True),
    sa.Column("article_id", KEY, primary_key=True),
    sa.Column("outlet_id", sa.String(64), nullable=False),
    sa.Column("record", sa.JSON, nullable=False),
)

fetch_failures = sa.Table(
    "fetch_failures",
    metadata,
    sa.Column("article_id", KEY, primary_key=True),
    sa.Column("url", sa.Text, nullable=False),
    sa.Column("outlet_id", sa.String(64), nullable=False, index=True),
    sa.Column("error_class", sa.String(32), nullable=False),  # a class name ("timeout"), not a key: 32 is room
    sa.Column("message", sa.Text, nullable=False),
    sa.Column("http_status", sa.Integer),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("entry", sa.JSON, nullable=False),  # the feed entry, to retry without the feed
    sa.Column("first_attempt_at", TS),  # the article's first-seen time when a retry finally succeeds
    sa.Column("last_attempt_at", TS, nullable=False),
    sa.Column("next_retry_at", TS),  # null: permanent (404/410), not retried
)

feed_health = sa.Table(
    "feed_health",
    metadata,
    sa.Column("outlet_id", sa.String(64), primary_key=True),
    sa.Column("feed_url", sa.Text, nullable=False),
    sa.Column("last_attempt_at", TS),
    sa.Column("last_success_at", TS),
    sa.Column("last_new_item_at", TS),
    sa.Column("http_status", sa.Integer),
    sa.Column("error_class", sa.String(32)),
    sa.Column("error_message", sa.Text),
    sa.Column("consecutive_failures", sa.Integer, nullable=False, default=0),
    sa.Column("entries_seen", sa.Integer, nullable=False, default=0),
    sa.Column("new_items", sa.Integer, nullable=False, default=0),
    sa.Column("etag", sa.Text),
    sa.Column("last_modified", sa.Text),
    sa.Column("body_hash", sa.String(64)),
    sa.Column("validators_trusted", sa.Boolean, nullable=False, default=True),  # False: a 304 lied once
    sa.Column("polls_since_full", sa.Integer, nullable=False, default=0),
    sa.Column("first_polled_at", TS),
    sa.Column("items_per_day", sa.Float, nullable=False, default=0.0),
    sa.Column("poll_interval_s", sa.Integer),
    sa.Column("next_poll_at", TS),
    sa.Column("status", sa.String(10), nullable=False, default="ok"),  # ok, quiet, failing, blocked, drifting, no_links
    sa.Column("status_reason", sa.Text),
    sa.Column("drift_reason", sa.Text),  # set by the process step when extraction quality jumps
    # the last parse: entries without a usable http(s) link, and why (feeds.FeedReading.skip_note)
    sa.Column("entries_skipped", sa.Integer),
    sa.Column("skipped_reason", sa.Text),
    sa.Column("charset_note", sa.Text),  # the Content-Type charset did not decode the body: what did
)

# One row each time an outlet's feed status changes: a digest's "sources needing attention" is the
# state during its own window, not whatever feed_health says when it is read.
feed_status_log = sa.Table(
    "feed_status_log",
    metadata,
    sa.Column("outlet_id", sa.String(64), primary_key=True),
    sa.Column("changed_at", TS, primary_key=True),
    sa.Column("status", sa.String(10), nullable=False),
    sa.Column("reason", sa.Text),
)

outlet_quality = sa.Table(
    "outlet_quality",
    metadata,
    sa.Column("run_id", RUN_ID, primary_key=True),
    sa.Column("outlet_id", sa.String(64), primary_key=True),
    sa.Column("articles", sa.Integer, nullable=False),
    sa.Column("short_share", sa.Float, nullable=False),
    sa.Column("empty_share", sa.Float, nullable=False),
    sa.Column("quarantined_share", sa.Float, nullable=False),
    sa.Column("duplicate_share", sa.Float, nullable=False),
    sa.Column("failed_expectations", sa.JSON, nullable=False),
    sa.Column("drift_reason", sa.Text),
    sa.Column("validated_at", TS, nullable=False),
    sa.Index("ix_outlet_quality_outlet_time", "outlet_id", "validated_at"),
    sa.Index("ix_outlet_quality_time", "validated_at"),  # a digest window's source quality
)

outlet_templates = sa.Table(
    "outlet_templates",
    metadata,
    sa.Column("outlet_id", sa.String(64), primary_key=True),
    sa.Column("state", sa.JSON, nullable=False),  # media_monitoring.boilerplate.OutletTemplate.to_json()
    sa.Column("updated_at", TS, nullable=False),
)

validation_runs = sa.Table(
    "validation_runs",
    metadata,
    sa.Column("run_id", RUN_ID, primary_key=True),
    sa.Column("suite", sa.String(100), nullable=False),
    sa.Column("evaluated", sa.Integer, nullable=False),
    sa.Column("accepted", sa.Integer, nullable=False),
    sa.Column("quarantined", sa.Integer, nullable=False),
    sa.Column("by_expectation", sa.JSON, nullable=False),
    sa.Column("validated_at", TS, nullable=False),
    sa.Index("ix_validation_runs_time", "validated_at", "run_id"),
)

# One row per digest actually composed: one subscription's edition for one local day, with the window it
# covers and the versions it was composed with. Frozen once written: re-rendering it later gives the email
# that was sent, and an auditor lists what each analyst received from here and digest_entries.
digests = sa.Table(
    "digests",
    metadata,
    sa.Column("subscription", sa.String(200), primary_key=True),
    sa.Column("digest_date", sa.Date, primary_key=True),  # the analyst's local day it is the digest of
    sa.Column("kind", sa.String(10), nullable=False),  # "scheduled" (at digest_time) or "day" (asked for a day)
    sa.Column("window_start", TS, nullable=False),
    sa.Column("window_end", TS, nullable=False),
    sa.Column("timezone", sa.String(64), nullable=False),
    sa.Column("run_id", RUN_ID, nullable=False),
    sa.Column("versions", sa.JSON, nullable=False),  # watchlist versions, regions and their mode
    sa.Column("item_count", sa.Integer, nullable=False),
    sa.Column("late_count", sa.Integer, nullable=False, default=0),  # published before the window
    sa.Column("term_counts", sa.JSON, nullable=False),  # {watchlist: {term: articles}}
    # spikes, region breakdown, sources needing attention and source quality of the window, as composed
    sa.Column("context", sa.JSON, nullable=False, default=dict),
    sa.Column("created_at", TS, nullable=False),
    sa.Index("ix_digests_created", "created_at"),
)

digest_entries = sa.Table(
    "digest_entries",
    metadata,
    sa.Column("subscription", sa.String(200), primary_key=True),
    sa.Column("digest_date", sa.Date, primary_key=True),
    sa.Column("watchlist", sa.String(100), primary_key=True),
    sa.Column("article_id", KEY, primary_key=True),
    sa.Column("rank", sa.Integer, nullable=False),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("url", sa.Text, nullable=False),
    sa.Column("outlet_id", sa.String(64), nullable=False),
    sa.Column("language", sa.String(8)),
    sa.Column("published_at", TS),
    sa.Column("published_local", sa.String(40)),
    sa.Column("first_seen_at", TS),
    sa.Column("stored_at", TS),
    sa.Column("late", sa.Boolean, nullable=False, default=False),  # published earlier, first seen now
    sa.Column("in_regions", sa.Boolean, nullable=False, default=False),  # in the subscription's regions
    sa.Column("terms", sa.JSON, nullable=False),  # [{term, alias, matched, field, snippet}]
    sa.Column("outlet_country", sa.String(2)),
    sa.Column("primary_country", sa.String(2)),
    sa.Column("primary_region", sa.String(64)),
    # the story this article leads in the digest: {story_id, coverage, first_seen, also: [other articles]}
    sa.Column("story", sa.JSON),
    sa.Column("gist", sa.Text),  # the article's line in English, as sent
)

# The delivery contract in one key: an article reaches each subscription in exactly one digest.
digest_ledger = sa.Table(
    "digest_ledger",
    metadata,
    sa.Column("subscription", sa.String(200), primary_key=True),
    sa.Column("article_id", KEY, primary_key=True),
    sa.Column("digest_date", sa.Date, nullable=False),
)

digest_sends = sa.Table(
    "digest_sends",
    metadata,
    sa.Column("digest_date", sa.Date, primary_key=True),
    sa.Column("subscription", sa.String(200), primary_key=True),
    sa.Column("recipients", sa.JSON, nullable=False),
    sa.Column("message_id", sa.Text, nullable=False),
    sa.Column("subject", sa.Text, nullable=False),
    sa.Column("transport", sa.String(10), nullable=False),  # "smtp" or "outbox"
    sa.Column("location", sa.Text),  # the .eml path for the outbox
    sa.Column("run_id", RUN_ID, nullable=False),
    sa.Column("status", sa.String(10), nullable=False),  # "sending", then "sent" (or "failed", tried again)
    sa.Column("sent_at", TS, nullable=False),
    sa.Column("body_text", sa.Text, nullable=False, default=""),  # exactly what was sent, for audit and the UI
    sa.Column("body_html", sa.Text, nullable=False, default=""),
    sa.Column("attempts", sa.Integer, nullable=False, default=1),
    sa.Column("error", sa.Text),  # the last failed attempt's error, kept after a later success
)

# The DAG runs as the tasks saw them: the view's "last successful ingest", "latest failure" (with the
# exception and a link to the task log) and the stale-ingest banner read this, not Airflow's database.
pipeline_runs = sa.Table(
    "pipeline_runs",
    metadata,
    sa.Column("dag_id", RUN_ID, primary_key=True),
    sa.Column("run_id", RUN_ID, primary_key=True),
    sa.Column("run_type", sa.String(20)),
    sa.Column("state", sa.String(10), nullable=False),  # running, success, failed
    sa.Column("started_at", TS, nullable=False),
    sa.Column("ended_at", TS),
    sa.Column("failed_task", RUN_ID),
    sa.Column("error", sa.Text),
    sa.Column("log_url", sa.Text),
    sa.Column("summary", sa.JSON),  # the run's counts
    sa.Index("ix_pipeline_runs_dag_state", "dag_id", "state", "started_at"),
)

# Priority alerts: one row per (subscription, story), written before anything is sent. The key is the rule
# "one alert per story": a later article of the same story finds the row and raises nothing, and a retry
# or rerun finds it and only finishes what its send log says is not sent.
alerts = sa.Table(
    "alerts",
    metadata,
    sa.Column("subscription", sa.String(200), primary_key=True),
    sa.Column("story_id", KEY, primary_key=True),
    sa.Column("article_id", KEY, nullable=False, index=True),  # the article that raised it
    sa.Column("title", sa.Text),
    sa.Column("url", sa.Text, nullable=False),
    sa.Column("outlet_id", sa.String(64), nullable=False),
    sa.Column("language", sa.String(8)),
    sa.Column("published_at", TS),
    sa.Column("published_local", sa.String(40)),
    sa.Column("stored_at", TS),
    sa.Column("terms", sa.JSON, nullable=False),  # [{watchlist, term, alias, matched, field, snippet}]
    sa.Column("run_id", RUN_ID, nullable=False),
    sa.Column("created_at", TS, nullable=False),
    # pending (not sent yet, or waiting: quiet hours, rate limit), sent, or in_digest (the subscription's
    # digest delivered the article while the alert waited, so it is not sent)
    sa.Column("state", sa.String(10), nullable=False),
    sa.Column("held", sa.Text),  # why it waits, as of the last run that looked at it
    sa.Column("sent_at", TS),  # when its first channel went out: the "alerted" time of the article
    # An alert that an alerted article changed (story_id is then the revision's own key): {check_no, kind,
    # what, title_before}. Null for a story's alert.
    sa.Column("revision", sa.JSON),
    sa.Index("ix_alerts_state", "subscription", "state", "sent_at"),
)

alert_sends = sa.Table(
    "alert_sends",
    metadata,
    sa.Column("subscription", sa.String(200), primary_key=True),
    sa.Column("story_id", KEY, primary_key=True),
    sa.Column("channel", sa.String(210), primary_key=True),  # "email" or "webhook:<connection id>"
    sa.Column("target", sa.Text, nullable=False),  # the address, or the webhook's connection id (never its URL)
    sa.Column("message_id", sa.Text, nullable=False),  # Message-ID, or the webhook's Idempotency-Key
    sa.Column("transport", sa.String(10), nullable=False),  # "smtp", "outbox" or "webhook"
    sa.Column("location", sa.Text),  # the .eml path for the outbox
    sa.Column("run_id", RUN_ID, nullable=False),
    sa.Column("status", sa.String(10), nullable=False),  # "sending", then "sent" (or "failed"), or "skipped"
    sa.Column("sent_at", TS, nullable=False),
    sa.Column("body", sa.Text, nullable=False, default=""),  # exactly what was sent (text or JSON)
    sa.Column("attempts", sa.Integer, nullable=False, default=1),
    sa.Column("error", sa.Text),
)
