"""What analysts change in the view: every version of every watchlist, proposed changes to them, and every
version of every subscription. The warehouse is where these live (``media_monitoring.curation`` says why
and how the YAML files feed it)."""

from __future__ import annotations

import sqlalchemy as sa

from media_monitoring.warehouse.schema.base import TS, metadata

# One row per version of a watchlist, never updated or deleted: the one in force is the newest by ``at``.
# ``document`` is the whole watchlist as watchlists.yaml holds it; ``source`` is "file" (imported from
# watchlists.yaml on deploy) or "view" (a proposal activated in the view, ``proposal_id``); ``diff`` is the
# unified diff from the version it replaced, as the audit trail shows it.
watchlist_versions = sa.Table(
    "watchlist_versions",
    metadata,
    sa.Column("watchlist", sa.String(100), primary_key=True),
    sa.Column("version", sa.String(50), primary_key=True),
    sa.Column("at", TS, nullable=False),
    sa.Column("source", sa.String(10), nullable=False),
    sa.Column("author", sa.String(250), nullable=False),
    sa.Column("document", sa.JSON, nullable=False),
    sa.Column("replaces", sa.String(50), nullable=True),
    sa.Column("diff", sa.Text, nullable=False, default=""),
    sa.Column("note", sa.Text, nullable=False, default=""),
    sa.Column("proposal_id", sa.Integer, nullable=True),
    sa.Index("ix_watchlist_versions_at", "watchlist", "at"),
)

# A change to one term of a watchlist (a new term, new aliases, exclusions...), proposed in the view and
# backtested before anyone activates it. ``base_version``: the version it was written against; it can only
# be activated while that version is still in force. ``status``: open, activated or withdrawn.
watchlist_proposals = sa.Table(
    "watchlist_proposals",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("watchlist", sa.String(100), nullable=False),
    sa.Column("base_version", sa.String(50), nullable=False),
    sa.Column("term", sa.String(200), nullable=False),
    sa.Column("replaces_term", sa.String(200), nullable=True),  # the term it edits; None: a new term
    sa.Column("document", sa.JSON, nullable=False),  # the proposed term, as watchlists.yaml writes a term
    sa.Column("note", sa.Text, nullable=False, default=""),
    sa.Column("author", sa.String(250), nullable=False),
    sa.Column("at", TS, nullable=False),
    sa.Column("status", sa.String(12), nullable=False),
    sa.Column("decided_by", sa.String(250), nullable=True),
    sa.Column("decided_at", TS, nullable=True),
    sa.Column("activated_version", sa.String(50), nullable=True),
    # the media_retag run queued on activation: {"run_id", "start", "end"} or {"error"} when none could be queued
    sa.Column("replay", sa.JSON, nullable=True),
    sa.Index("ix_watchlist_proposals_status", "status", "at"),
)

# One row per version of a subscription (its whole entry as analysts.yaml writes it): imported from
# analysts.yaml when the file's entry is new to the warehouse ("file"), or saved in the view ("view"). The
# newest row (by ``id``) of a subscription is the one the digest and the alerts use.
subscription_versions = sa.Table(
    "subscription_versions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("at", TS, nullable=False),
    sa.Column("source", sa.String(10), nullable=False),
    sa.Column("author", sa.String(250), nullable=False),
    sa.Column("document", sa.JSON, nullable=False),
    sa.Column("content_hash", sa.String(64), nullable=False),
    sa.Column("diff", sa.Text, nullable=False, default=""),
    sa.Index("ix_subscription_versions_name", "name", "id"),
)
