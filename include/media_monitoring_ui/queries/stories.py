"""The story groups panel: the same event in several stored articles, newest first.

Stories are read through ``ix_stories_first_seen``, keyset-paginated on ``(first_seen, story_id)``, and
the first articles of a page's stories through ``ix_article_stories_story_id``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from media_monitoring.warehouse import schema as s
from media_monitoring_ui.cursors import HitCursor, aware, clamp_page_size

if TYPE_CHECKING:
    from media_monitoring.warehouse import Warehouse

STORIES_PER_PAGE = 20
MIN_GROUP_SIZE = 2  # a story group: the same event in at least two stored articles
MEMBERS_SHOWN = 10  # articles listed per story group


@dataclass
class StoryPage:
    stories: list[dict[str, Any]] = field(default_factory=list)
    next_cursor: HitCursor | None = None  # (first_seen, story_id) of the last story shown


def story_groups_query(*, after: HitCursor | None = None, limit: int = STORIES_PER_PAGE,
                       min_articles: int = MIN_GROUP_SIZE) -> sa.Select:
    """Stories with at least ``min_articles`` stored articles, newest first (``ix_stories_first_seen``)."""
    st = s.stories
    conds = [st.c.copies >= min_articles]
    if after is not None and after.published_at is not None:
        conds.append(st.c.first_seen <= after.published_at)
        conds.append(sa.or_(st.c.first_seen < after.published_at, st.c.story_id < after.article_id))
    return (sa.select(st).where(*conds).order_by(st.c.first_seen.desc(), st.c.story_id.desc()).limit(limit))


def story_members_query(story_ids: Sequence[str], per_story: int = MEMBERS_SHOWN) -> sa.Select:
    """The first ``per_story`` articles of each of these stories (``ix_article_stories_story_id``)."""
    a, m = s.articles, s.article_stories
    rank = sa.func.row_number().over(partition_by=m.c.story_id, order_by=(a.c.published_at, a.c.article_id))
    members = (sa.select(m.c.story_id, m.c.duplicate_of, m.c.similarity, a.c.article_id, a.c.title, a.c.url,
                         a.c.outlet_id, a.c.published_at, a.c.language, rank.label("n"))
               .join(a, a.c.article_id == m.c.article_id).where(m.c.story_id.in_(list(story_ids))).subquery())
    return sa.select(members).where(members.c.n <= per_story).order_by(members.c.story_id, members.c.n)


def story_page(wh: Warehouse, *, after: HitCursor | None = None, limit: int = STORIES_PER_PAGE,
               min_articles: int = MIN_GROUP_SIZE) -> StoryPage:
    """One page of story groups (the same event in several articles), each with its first articles."""
    limit = clamp_page_size(limit, STORIES_PER_PAGE)
    with wh.engine.connect() as conn:
        rows = [dict(r) for r in conn.execute(story_groups_query(after=after, limit=limit + 1,
                                                                 min_articles=min_articles)).mappings()]
        more, rows = len(rows) > limit, rows[:limit]
        members: dict[str, list[dict[str, Any]]] = {}
        if rows:
            for m in conn.execute(story_members_query([r["story_id"] for r in rows])).mappings():
                members.setdefault(m["story_id"], []).append({**m, "published_at": aware(m["published_at"])})
    for row in rows:
        row["first_seen"], row["last_seen"] = aware(row["first_seen"]), aware(row["last_seen"])
        row["members"] = members.get(row["story_id"], [])
    last = rows[-1] if rows and more else None
    return StoryPage(rows, HitCursor(last["first_seen"], last["story_id"]) if last else None)
