"""SQL of stories across languages (:mod:`media_monitoring.pipeline.crosslingual`): an article's story and its
size, the reports in other languages that may be of the same event, with their anchors, and moving an article
into another story."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from media_monitoring.records import COUNTRY, FOCUS_KIND, PLACE
from media_monitoring.warehouse import schema as s
from media_monitoring.warehouse.store import aware

MAX_REPORTS = 200  # reports compared with one article (the newest first): two days' coverage of a country


def story_of(conn: sa.Connection, article_id: str) -> dict[str, Any] | None:
    """The article's story id and how many articles it holds, or None when it has none."""
    st = s.article_stories
    story_id = conn.execute(sa.select(st.c.story_id).where(st.c.article_id == article_id)).scalar()
    if story_id is None:
        return None
    size = conn.execute(sa.select(sa.func.count()).where(st.c.story_id == story_id)).scalar()
    return {"story_id": story_id, "size": size}


def other_language_reports(conn: sa.Connection, article_id: str, language: str, focus: Iterable[str],
                           since: datetime, until: datetime) -> list[dict[str, Any]]:
    """Stored articles in another language than ``language``, published in [since, until], about one of the
    countries ``focus`` (their focus rows, ``ix_article_places_code_article``) and in a story: each with its
    language, publication time, story, countries, watchlist terms and places, the newest first."""
    a, h, st, p = s.articles, s.watchlist_hits, s.article_stories, s.article_places
    about = sa.exists().where(p.c.article_id == a.c.article_id, p.c.kind == FOCUS_KIND[COUNTRY],
                              p.c.code.in_(sorted(set(focus))))
    rows = [dict(r) for r in conn.execute(
        sa.select(a.c.article_id, a.c.language, a.c.countries, a.c.published_at, st.c.story_id)
        .join(st, st.c.article_id == a.c.article_id)
        .where(a.c.published_at >= since, a.c.published_at <= until, a.c.article_id != article_id,
               a.c.language.is_not(None), a.c.language != language, about)
        .order_by(a.c.published_at.desc()).limit(MAX_REPORTS)).mappings()]
    ids = [r["article_id"] for r in rows]
    terms_of: dict[str, set[str]] = defaultdict(set)
    places_of: dict[str, set[str]] = defaultdict(set)
    if ids:
        for article, term in conn.execute(sa.select(h.c.article_id, h.c.term).where(h.c.article_id.in_(ids))):
            terms_of[article].add(term)
        for article, code in conn.execute(sa.select(p.c.article_id, p.c.code)
                                          .where(p.c.article_id.in_(ids), p.c.kind == PLACE)):
            places_of[article].add(code)
    for row in rows:
        row["published_at"] = aware(row["published_at"])
        row["countries"] = row["countries"] or []
        row["terms"] = sorted(terms_of[row["article_id"]])
        row["places"] = sorted(places_of[row["article_id"]])
    return rows


def move_to_story(conn: sa.Connection, article_id: str, old_story: str, new_story: str, *, matched: str,
                  similarity: float) -> None:
    """Put the article in ``new_story`` (joined through ``matched``); its old story goes when it is left empty."""
    st = s.article_stories
    conn.execute(st.update().where(st.c.article_id == article_id)
                 .values(story_id=new_story, matched_article_id=matched, similarity=similarity))
    if not conn.execute(sa.select(st.c.article_id).where(st.c.story_id == old_story).limit(1)).first():
        conn.execute(s.stories.delete().where(s.stories.c.story_id == old_story))
