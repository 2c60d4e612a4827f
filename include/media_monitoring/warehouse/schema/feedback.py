"""What people do in the view: analysts' feedback on hits and articles, and the audit log of every write.

Both tables are written only by the view (``warehouse/feedback.py``); the pipeline never reads them back into
tagging, so a mark changes what the precision table and a backtest show, never what was stored or sent.
"""

from __future__ import annotations

import sqlalchemy as sa

from media_monitoring.warehouse.schema.base import TS, metadata

# An analyst's verdict on one hit ("relevant", "not_relevant", "wrong_place") or an article a term should have
# matched ("missed"). One row per (article, term, kind, user): a repeat click updates the row, and a user's new
# verdict on a hit replaces their earlier one. ``rule_version`` is the hit's watchlist version (for "missed": the
# watchlist's version when the mark was made), so precision can be read per version of a rule.
hit_feedback = sa.Table(
    "hit_feedback",
    metadata,
    sa.Column("article_id", sa.String(32), primary_key=True),
    sa.Column("term", sa.String(200), primary_key=True),
    sa.Column("kind", sa.String(20), primary_key=True),
    sa.Column("user_name", sa.String(250), primary_key=True),
    sa.Column("watchlist", sa.String(100), nullable=False),
    sa.Column("rule_version", sa.String(50), nullable=False),
    sa.Column("at", TS, nullable=False),
    sa.Column("note", sa.Text, nullable=False, default=""),
    sa.Index("ix_hit_feedback_term", "watchlist", "term", "kind"),
)

# Every write the view is asked for, done or not: who (user and product role), what (action, target and the
# validated details), when, and the outcome ("done", "refused": the role may not, "invalid": bad input).
audit_log = sa.Table(
    "audit_log",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", TS, nullable=False),
    sa.Column("user_name", sa.String(250), nullable=False),
    sa.Column("role", sa.String(20), nullable=False),
    sa.Column("action", sa.String(50), nullable=False),
    sa.Column("target", sa.Text, nullable=False, default=""),
    sa.Column("details", sa.JSON, nullable=False, default=dict),
    sa.Column("outcome", sa.String(12), nullable=False),
    sa.Index("ix_audit_log_at", "at", "id"),
)
