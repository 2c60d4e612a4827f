"""Articles that changed after publication, as the view shows them: a mark on each changed article ("changed
since sent" when an analyst had received it before the change) and the revisions page with the diffs."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from media_monitoring.revisions import describe
from media_monitoring.warehouse import revisions as store

if TYPE_CHECKING:
    from media_monitoring.warehouse import Warehouse


def with_what(revision: dict[str, Any]) -> dict[str, Any]:
    return {**revision, "what": describe(revision["kind"], revision["title_before"], revision["title_after"],
                                         revision["words_added"], revision["words_removed"])}


def marks(wh: Warehouse, article_ids: list[str]) -> dict[str, dict[str, Any]]:
    """Per changed article: its latest revision (with ``what`` changed), how many there are, and whether
    an analyst had received the article (digest or alert) before the first of them was found."""
    found = store.revisions_of(wh, article_ids)
    delivered = store.first_delivered(wh, list(found))
    out = {}
    for article_id, revisions in found.items():
        sent = delivered.get(article_id)
        out[article_id] = {**with_what(revisions[-1]), "count": len(revisions),
                           "since_sent": sent is not None and any(r["checked_at"] > sent for r in revisions)}
    return out


def article_revisions(wh: Warehouse, article_id: str) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    """The article (title, url, outlet, times) and its revisions, oldest first; (None, []) if unknown."""
    import sqlalchemy as sa

    from media_monitoring.warehouse import schema as s
    from media_monitoring.warehouse.store import aware_row

    a = s.articles
    with wh.engine.connect() as conn:
        row = conn.execute(sa.select(a.c.article_id, a.c.title, a.c.url, a.c.outlet_id, a.c.language,
                                     a.c.published_at, a.c.fetched_at, a.c.stored_at)
                           .where(a.c.article_id == article_id)).first()
    if row is None:
        return None, []
    article = aware_row(row._mapping)
    revisions = [with_what(r) for r in store.revisions_of(wh, [article_id]).get(article_id, [])]
    article["first_delivered"] = store.first_delivered(wh, [article_id]).get(article_id)
    return article, revisions
