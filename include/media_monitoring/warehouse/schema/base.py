"""The metadata every table is defined on, the schema's version and what an upgrade may start from."""

from __future__ import annotations

import sqlalchemy as sa

from media_monitoring.rules import ARTICLE_KEY_CHARS

metadata = sa.MetaData()

# Widths of the columns that hold keys made elsewhere; the view checks what it is asked for against them.
KEY = sa.String(ARTICLE_KEY_CHARS)  # article ids, story ids (an article's), text hashes, title keys
RUN_ID_CHARS = 250  # Airflow's limit on dag, run and task ids (its ID_LEN): they are stored as Airflow names them
RUN_ID = sa.String(RUN_ID_CHARS)

# Bump on every change to the tables of this package. A warehouse of an older version is upgraded in place
# when the change is additive (new tables, nullable columns, indexes: see ``Warehouse._upgrade``); any other
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
#   5: watchlists and subscriptions edited in the view: watchlist_versions, watchlist_proposals,
#      subscription_versions (filled from the YAML files by the first run that reads them); the countries
#      and regions an article is about (articles.focus_countries, focus_regions; article_places rows of
#      the kinds focus_cty, focus_reg) and the places below a country (kind place); a line in English of
#      what each article is about (articles.gist, digest_entries.gist).
SCHEMA_VERSION = 5
UPGRADABLE_FROM = frozenset({1, 2, 3, 4})
# Indexes that version 2 replaced by wider ones with the same leading columns: dropped on upgrade.
RETIRED_INDEXES = {"articles": ("ix_articles_outlet_id", "ix_articles_published_at"),
                   "article_places": ("ix_article_places_code",)}

schema_info = sa.Table(
    "schema_info",
    metadata,
    sa.Column("version", sa.Integer, primary_key=True),
)

TS = sa.DateTime(timezone=True)
