"""The warehouse schema, defined once for every backend (SQLAlchemy Core), read as ``schema.<table>``.

Keys are stable so that every write can be an upsert: articles by the hash of their canonical URL,
digests and sends by (subscription, digest date), the delivery ledger by (subscription, article id),
priority alerts by (subscription, story id) and their sends by (subscription, story id, channel),
staging rows by (run id, article id).

``base`` holds the metadata and the schema's version, ``content`` the articles and what tagging and story
grouping derive from them, ``curation`` the versions of the watchlists and subscriptions analysts edit in the
view, ``feedback`` what analysts say about hits and articles and the audit log of the view's writes,
``operations`` what the pipeline records about its own work, ``revisions`` the re-checks of articles after
publication and what they found. The tables are defined in that order, which is the order of
``metadata.tables`` (``media-monitor where`` lists them so).
"""

from media_monitoring.warehouse.schema.base import (
    KEY,
    RETIRED_INDEXES,
    RUN_ID,
    RUN_ID_CHARS,
    SCHEMA_VERSION,
    TS,
    UPGRADABLE_FROM,
    metadata,
    schema_info,
)
from media_monitoring.warehouse.schema.content import (
    article_places,
    article_stories,
    articles,
    hit_places,
    stories,
    story_bands,
    story_index,
    watchlist_hits,
)
from media_monitoring.warehouse.schema.curation import subscription_versions, watchlist_proposals, watchlist_versions
from media_monitoring.warehouse.schema.feedback import audit_log, hit_feedback
from media_monitoring.warehouse.schema.operations import (
    alert_sends,
    alerts,
    digest_entries,
    digest_ledger,
    digest_sends,
    digests,
    feed_health,
    feed_status_log,
    fetch_failures,
    outlet_quality,
    outlet_templates,
    pipeline_runs,
    quarantine,
    staging,
    validation_runs,
)
from media_monitoring.warehouse.schema.revisions import article_rechecks, article_revisions, revision_notices

__all__ = [
    "KEY", "RETIRED_INDEXES", "RUN_ID", "RUN_ID_CHARS", "SCHEMA_VERSION", "TS", "UPGRADABLE_FROM", "metadata",
    "schema_info",
    "article_places", "article_stories", "articles", "hit_places", "stories", "story_bands", "story_index",
    "watchlist_hits",
    "alert_sends", "alerts", "digest_entries", "digest_ledger", "digest_sends", "digests", "feed_health",
    "feed_status_log", "fetch_failures", "outlet_quality", "outlet_templates", "pipeline_runs", "quarantine",
    "staging", "validation_runs",
    "article_rechecks", "article_revisions", "revision_notices",
    "audit_log", "hit_feedback",
    "subscription_versions", "watchlist_proposals", "watchlist_versions",
]
