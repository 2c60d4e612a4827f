"""The warehouse schema, defined once for every backend.

Keys are stable so that every write can be an upsert: articles by the hash of their canonical URL,
digests and sends by (subscription, digest date), the delivery ledger by (subscription, article id),
priority alerts by (subscription, story id) and their sends by (subscription, story id, channel),
staging rows by (run id, article id).
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

# Bump on every change to the tables below. A warehouse of an older version is upgraded in place when
# the change is additive (new tables, nullable columns, indexes: see ``Warehouse._upgrade``); any other
# version is refused with a clear message instead of failing later on a missing column.
#   1: the first schema (the first releases lacked articles.text_hash/signature and stories)
#   2: hit_places and indexes for the UI's outlet and region filters and the digest's spikes, measured
#      on 1M articles (bench/RESULTS.md, "Warehouse at 1M articles")
#   3: per-subscription digests with their windows (digests, digest_entries) and the delivery ledger
#      (digest_ledger) that holds each article to one digest per subscription; articles.stored_at,
#      first_seen_at and published_local; fetch_failures.first_attempt_at; feed_status_log and
#      pipeline_runs. The version-2 tables daily_digests and digest_items stay in an upgraded database
#      untouched (what was sent stays in digest_sends) but nothing reads or writes them any more.
#      Later, still version 3 (additive, added in place by the upgrade): the priority-alert ledger
#      (alerts, one row per subscription and story) and its send log (alert_sends, per channel).
#      story_bands and story_index (the story index kept in the warehouse): created empty by the generic
#      upgrade, filled for the lookback by the first run that places stories (warehouse/stories.py).
#   4: articles that change after publication: article_rechecks (the re-check schedule), article_revisions,
#      revision_notices (what digests reported as "changed since sent") and alerts.revision (an alert that
#      an alerted article changed).
SCHEMA_VERSION = 4
UPGRADABLE_FROM = frozenset({1, 2, 3})
# Indexes that version 2 replaced by wider ones with the same leading columns: dropped on upgrade.
RETIRED_INDEXES = {"articles": ("ix_articles_outlet_id", "ix_articles_published_at"),
                   "article_places": ("ix_article_places_code",)}

schema_info = sa.Table(
    "schema_info",
    metadata,
    sa.Column("version", sa.Integer, primary_key=True),
)

TS = sa.DateTime(timezone=True)

articles = sa.Table(
    "articles",
    metadata,
    sa.Column("article_id", sa.String(32), primary_key=True),
    sa.Column("canonical_url", sa.Text, nullable=False, unique=True),
    sa.Column("url", sa.Text, nullable=False),
    sa.Column("outlet_id", sa.String(64), nullable=False),
    sa.Column("outlet_country", sa.String(2)),
    sa.Column("title", sa.Text),
    sa.Column("title_key", sa.String(32), index=True),  # normalised title hash: same-outlet duplicates fold
    sa.Column("author", sa.Text),
    sa.Column("published_at", TS),  # the instant (UTC)
    # the page's own reading of it, offset kept ("2021-10-28T00:30:00+04:30"): its calendar day and clock
    sa.Column("published_local", sa.String(40)),
    sa.Column("date_source", sa.String(8)),
    sa.Column("language", sa.String(8)),
    sa.Column("language_source", sa.String(10)),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("word_count", sa.Integer, nullable=False),
    sa.Column("sources", sa.JSON, nullable=False),  # every feed entry and outlet that pointed here
    sa.Column("countries", sa.JSON, nullable=False),  # ISO alpha-2 codes, most mentioned first
    sa.Column("regions", sa.JSON, nullable=False),
    sa.Column("primary_country", sa.String(2)),
    sa.Column("primary_region", sa.String(64)),
    sa.Column("first_run_id", sa.String(250)),
    sa.Column("fetched_at", TS),
    sa.Column("first_seen_at", TS),  # when a feed first led us here (a page retried later keeps its first try)
    # when the article became visible to digests (the storing run's time; a release's time): the delivery
    # ledger hands every article to the next digest of each matching subscription after this instant
    sa.Column("stored_at", TS),
    sa.Column("text_hash", sa.String(32), index=True),  # exact duplicates (syndicated copy) are one article
    sa.Column("signature", sa.LargeBinary),  # MinHash for story grouping (tagging/stories.py)
    sa.Column("signature_version", sa.String(40)),
    # Newest first, ties by id: the UI's keyset walk and every date range (digest days, spikes, stories).
    sa.Index("ix_articles_published", "published_at", "article_id"),
    # An outlet's articles newest first: the UI's outlet filter reads them in order, never the whole table.
    sa.Index("ix_articles_outlet_published", "outlet_id", "published_at", "article_id"),
    # what was stored since a subscription's last digest
    sa.Index("ix_articles_stored", "stored_at", "article_id"),
)

stories = sa.Table(
    "stories",
    metadata,
    sa.Column("story_id", sa.String(32), primary_key=True),  # the id of its first article
    sa.Column("title", sa.Text),
    sa.Column("first_seen", TS, nullable=False, index=True),
    sa.Column("last_seen", TS, nullable=False),
    sa.Column("article_count", sa.Integer, nullable=False),
    sa.Column("copies", sa.Integer, nullable=False),
    sa.Column("outlets", sa.JSON, nullable=False),
    sa.Column("outlet_countries", sa.JSON, nullable=False),
    sa.Column("countries", sa.JSON, nullable=False),
)

article_stories = sa.Table(
    "article_stories",
    metadata,
    sa.Column("article_id", sa.String(32), sa.ForeignKey("articles.article_id", ondelete="CASCADE"),
              primary_key=True),
    sa.Column("story_id", sa.String(32), nullable=False, index=True),
    sa.Column("matched_article_id", sa.String(32)),  # the article it joined through
    sa.Column("similarity", sa.Float),
    sa.Column("duplicate_of", sa.String(32)),
)

# The story index, kept in the warehouse so that a run holds only its own articles and candidates: one
# row per LSH band of each placed article's signature (tagging/stories.band_keys), written in the
# transaction that stores the article's story. A new article's candidates are the articles that share a
# band key with it and were published within the story window (warehouse/stories.py).
story_bands = sa.Table(
    "story_bands",
    metadata,
    sa.Column("band_key", sa.BigInteger, primary_key=True),  # band number << 32 | the band's 32-bit hash
    sa.Column("published_at", TS, primary_key=True),  # the article's (fetched_at if it gave none)
    # No foreign key: 64 rows an article, each would look its article up when written; a row whose article
    # is gone matches nothing, as candidates are read joined with their articles. The index on article_id:
    # an article placed again has its rows replaced.
    sa.Column("article_id", sa.String(32), primary_key=True, index=True),
    sqlite_with_rowid=False,  # SQLite keeps the rows in the primary key's tree: one tree less to write
)

# What story_bands holds: the band layout and signature version its keys were made with, and the earliest
# published time from which every placed article has its rows (older ones are filled when a run needs them).
story_index = sa.Table(
    "story_index",
    metadata,
    sa.Column("name", sa.String(32), primary_key=True),  # one row: "story_bands"
    sa.Column("version", sa.String(80), nullable=False),  # tagging/stories.BAND_VERSION
    sa.Column("complete_from", TS, nullable=False),
)

watchlist_hits = sa.Table(
    "watchlist_hits",
    metadata,
    sa.Column("article_id", sa.String(32), sa.ForeignKey("articles.article_id", ondelete="CASCADE"),
              primary_key=True),
    sa.Column("watchlist", sa.String(100), primary_key=True),
    sa.Column("term", sa.String(200), primary_key=True),
    sa.Column("field", sa.String(10), primary_key=True),  # "title" or "text"
    sa.Column("start", sa.Integer, primary_key=True),
    sa.Column("end", sa.Integer, nullable=False),
    sa.Column("alias", sa.Text, nullable=False),
    sa.Column("matched", sa.Text, nullable=False),
    sa.Column("snippet", sa.Text, nullable=False),
    sa.Column("version", sa.String(50), nullable=False),
    sa.Index("ix_watchlist_hits_term", "watchlist", "term"),
    # A watchlist's hit articles without touching the heap: the digest's 14-day spike baseline.
    sa.Index("ix_watchlist_hits_article", "watchlist", "article_id", "term"),
)

article_places = sa.Table(
    "article_places",
    metadata,
    sa.Column("article_id", sa.String(32), sa.ForeignKey("articles.article_id", ondelete="CASCADE"),
              primary_key=True),
    sa.Column("kind", sa.String(10), primary_key=True),  # "country" or "region"
    sa.Column("code", sa.String(100), primary_key=True),  # alpha-2 for countries, name for regions
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("mentions", sa.Integer, nullable=False),
    sa.Column("evidence", sa.JSON, nullable=False),
    # A region's (or country's) articles as an id list: the UI's region filter joins it with the hits.
    sa.Index("ix_article_places_code_article", "kind", "code", "article_id"),
)

# The places of the articles that have watchlist hits, with their published time: what the UI's region
# filter lists, newest first, from one index range. Derived from article_places and watchlist_hits
# (Warehouse._refresh_hit_places keeps it in step on every write of either). Without it, a region
# whose articles rarely have hits makes the database walk every article newest first (7 s on 1M).
hit_places = sa.Table(
    "hit_places",
    metadata,
    sa.Column("article_id", sa.String(32), sa.ForeignKey("articles.article_id", ondelete="CASCADE"),
              primary_key=True),
    sa.Column("kind", sa.String(10), primary_key=True),
    sa.Column("code", sa.String(100), primary_key=True),
    sa.Column("published_at", TS),
    sa.Index("ix_hit_places_code_published", "kind", "code", "published_at", "article_id"),
)

quarantine = sa.Table(
    "quarantine",
    metadata,
    sa.Column("article_id", sa.String(32), primary_key=True),
    sa.Column("canonical_url", sa.Text, nullable=False),
    sa.Column("url", sa.Text, nullable=False),
    sa.Column("outlet_id", sa.String(64), nullable=False, index=True),
    sa.Column("run_id", sa.String(250), nullable=False),
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
    sa.Column("run_id", sa.String(250), primary_key=True),
    sa.Column("article_id", sa.String(32), primary_key=True),
    sa.Column("outlet_id", sa.String(64), nullable=False),
    sa.Column("record", sa.JSON, nullable=False),
)

fetch_failures = sa.Table(
    "fetch_failures",
    metadata,
    sa.Column("article_id", sa.String(32), primary_key=True),
    sa.Column("url", sa.Text, nullable=False),
    sa.Column("outlet_id", sa.String(64), nullable=False, index=True),
    sa.Column("error_class", sa.String(32), nullable=False),
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
    sa.Column("run_id", sa.String(250), primary_key=True),
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
    sa.Column("run_id", sa.String(250), primary_key=True),
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
    sa.Column("run_id", sa.String(250), nullable=False),
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
    sa.Column("article_id", sa.String(32), primary_key=True),
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
)

# The delivery contract in one key: an article reaches each subscription in exactly one digest.
digest_ledger = sa.Table(
    "digest_ledger",
    metadata,
    sa.Column("subscription", sa.String(200), primary_key=True),
    sa.Column("article_id", sa.String(32), primary_key=True),
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
    sa.Column("run_id", sa.String(250), nullable=False),
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
    sa.Column("dag_id", sa.String(250), primary_key=True),
    sa.Column("run_id", sa.String(250), primary_key=True),
    sa.Column("run_type", sa.String(20)),
    sa.Column("state", sa.String(10), nullable=False),  # running, success, failed
    sa.Column("started_at", TS, nullable=False),
    sa.Column("ended_at", TS),
    sa.Column("failed_task", sa.String(250)),
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
    sa.Column("story_id", sa.String(32), primary_key=True),
    sa.Column("article_id", sa.String(32), nullable=False, index=True),  # the article that raised it
    sa.Column("title", sa.Text),
    sa.Column("url", sa.Text, nullable=False),
    sa.Column("outlet_id", sa.String(64), nullable=False),
    sa.Column("language", sa.String(8)),
    sa.Column("published_at", TS),
    sa.Column("published_local", sa.String(40)),
    sa.Column("stored_at", TS),
    sa.Column("terms", sa.JSON, nullable=False),  # [{watchlist, term, alias, matched, field, snippet}]
    sa.Column("run_id", sa.String(250), nullable=False),
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
    sa.Column("story_id", sa.String(32), primary_key=True),
    sa.Column("channel", sa.String(210), primary_key=True),  # "email" or "webhook:<connection id>"
    sa.Column("target", sa.Text, nullable=False),  # the address, or the webhook's connection id (never its URL)
    sa.Column("message_id", sa.Text, nullable=False),  # Message-ID, or the webhook's Idempotency-Key
    sa.Column("transport", sa.String(10), nullable=False),  # "smtp", "outbox" or "webhook"
    sa.Column("location", sa.Text),  # the .eml path for the outbox
    sa.Column("run_id", sa.String(250), nullable=False),
    sa.Column("status", sa.String(10), nullable=False),  # "sending", then "sent" (or "failed"), or "skipped"
    sa.Column("sent_at", TS, nullable=False),
    sa.Column("body", sa.Text, nullable=False, default=""),  # exactly what was sent (text or JSON)
    sa.Column("attempts", sa.Integer, nullable=False, default=1),
    sa.Column("error", sa.Text),
)

# Articles that change after publication (revisions.py). One schedule row per watchlist article: how many of
# its re-checks (about 1 h, 24 h and 7 days after the first fetch) are done, when the next is due, and the
# page's validators from the last fetch for a conditional GET.
article_rechecks = sa.Table(
    "article_rechecks",
    metadata,
    sa.Column("article_id", sa.String(32), primary_key=True),
    sa.Column("first_fetched_at", TS, nullable=False),
    sa.Column("checks_done", sa.Integer, nullable=False, default=0),
    sa.Column("next_check_at", TS),  # null: every check made, or the page is gone
    sa.Column("etag", sa.Text),
    sa.Column("last_modified", sa.Text),
    sa.Column("last_checked_at", TS),
    sa.Column("last_outcome", sa.String(12)),  # edited, deleted, unchanged, not_modified, failed
    sa.Column("last_error", sa.Text),
    sa.Column("failures", sa.Integer, nullable=False, default=0),  # failed tries of the current check
    sa.Index("ix_article_rechecks_due", "next_check_at"),
)

# A headline or body edit, or a deletion, found by a re-check: one row per change, with the diff from the
# version before (the stored article, or the previous revision) and the text as it reads now.
article_revisions = sa.Table(
    "article_revisions",
    metadata,
    sa.Column("article_id", sa.String(32), primary_key=True),
    sa.Column("check_no", sa.Integer, primary_key=True),  # 1, 2, 3: the re-check that found it
    sa.Column("checked_at", TS, nullable=False),
    sa.Column("run_id", sa.String(250), nullable=False),
    sa.Column("kind", sa.String(10), nullable=False),  # edited or deleted
    sa.Column("http_status", sa.Integer),
    sa.Column("final_url", sa.Text),
    sa.Column("title_before", sa.Text),
    sa.Column("title_after", sa.Text),
    sa.Column("words_added", sa.Integer, nullable=False, default=0),
    sa.Column("words_removed", sa.Integer, nullable=False, default=0),
    sa.Column("diff", sa.Text, nullable=False, default=""),
    sa.Column("text_after", sa.Text),  # the body as it reads now (null for a deletion)
    sa.Index("ix_article_revisions_checked", "checked_at", "article_id"),
)

# "Changed since sent" in a digest, once: which revisions each subscription's digests have reported,
# written in the digest's own transaction (like the delivery ledger).
revision_notices = sa.Table(
    "revision_notices",
    metadata,
    sa.Column("subscription", sa.String(200), primary_key=True),
    sa.Column("article_id", sa.String(32), primary_key=True),
    sa.Column("check_no", sa.Integer, primary_key=True),
    sa.Column("digest_date", sa.Date, nullable=False),
)
