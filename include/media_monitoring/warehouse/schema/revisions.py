"""Articles that change after publication (``revisions.py``, ``recheck.py``): the re-check schedule, the
revisions found, and which revisions each subscription's digests have reported."""

from __future__ import annotations

import sqlalchemy as sa

from media_monitoring.warehouse.schema.base import KEY, RUN_ID, TS, metadata

# Articles that change after publication (revisions.py). One schedule row per watchlist article: how many of
# its re-checks (about 1 h, 24 h and 7 days after the first fetch) are done, when the next is due, and the
# page's validators from the last fetch for a conditional GET.
article_rechecks = sa.Table(
    "article_rechecks",
    metadata,
    sa.Column("article_id", KEY, primary_key=True),
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
    sa.Column("article_id", KEY, primary_key=True),
    sa.Column("check_no", sa.Integer, primary_key=True),  # 1, 2, 3: the re-check that found it
    sa.Column("checked_at", TS, nullable=False),
    sa.Column("run_id", RUN_ID, nullable=False),
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
    sa.Column("article_id", KEY, primary_key=True),
    sa.Column("check_no", sa.Integer, primary_key=True),
    sa.Column("digest_date", sa.Date, nullable=False),
)
