"""What the view's lists are filtered on and where their next page starts, and how large a page may be.

Every list is newest first and keyset-paginated: a cursor is the sort key of the last row shown, written
into the page's links as text (``encode``) and read back from the query string (``decode``). A cursor
that does not parse means "the first page", never an error: links outlive deployments.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from media_monitoring.rules import ARTICLE_KEY_CHARS
from media_monitoring.warehouse.hits import HitFilter  # noqa: F401  (the view's lists filter on it)
from media_monitoring.warehouse.schema import RUN_ID_CHARS
from media_monitoring.warehouse.store import aware  # noqa: F401  (the view's queries read times through it)

MAX_PAGE_SIZE = 200
DEFAULT_PAGE_SIZE = 50
MAX_ARTICLE_ID = ARTICLE_KEY_CHARS  # the width of articles.article_id
MAX_RUN_ID = RUN_ID_CHARS  # the width of validation_runs.run_id and quarantine.run_id


def clamp_page_size(value: int | None, default: int = DEFAULT_PAGE_SIZE) -> int:
    """``value`` within 1..MAX_PAGE_SIZE, or ``default`` when none was asked for."""
    if value is None:
        return default
    return max(1, min(MAX_PAGE_SIZE, int(value)))


@dataclass(frozen=True)
class HitCursor:
    """Where the next page starts: after this (published_at, article_id), newest first.

    Articles without a publication date come after every dated one, by article id. Story groups page
    the same way on (first_seen, story_id).
    """

    published_at: datetime | None
    article_id: str

    def encode(self) -> str:
        stamp = aware(self.published_at).isoformat() if self.published_at else ""
        return f"{stamp}|{self.article_id}"

    @classmethod
    def decode(cls, value: str | None) -> HitCursor | None:
        """The cursor in ``value``, or None if it is missing or malformed (then: first page)."""
        if not value or "|" not in value:
            return None
        stamp, article_id = value.rsplit("|", 1)
        if not (0 < len(article_id) <= MAX_ARTICLE_ID and article_id.isalnum()):
            return None
        try:
            published = datetime.fromisoformat(stamp) if stamp else None
        except ValueError:
            return None
        return cls(aware(published), article_id)


@dataclass(frozen=True)
class TimeCursor:
    """Where the next page of a newest-first list starts: after this (timestamp, key).

    ``key`` breaks ties on the same timestamp: a run id, or an article id.
    """

    at: datetime
    key: str

    def encode(self) -> str:
        return f"{aware(self.at).isoformat()}|{self.key}"

    @classmethod
    def decode(cls, value: str | None, *, max_key: int = MAX_RUN_ID) -> TimeCursor | None:
        """The cursor in ``value``, or None if it is missing or malformed (then: first page)."""
        if not value or "|" not in value:
            return None
        stamp, key = value.split("|", 1)  # an ISO timestamp has no "|"; a run id might
        if not 0 < len(key) <= max_key:
            return None
        try:
            at = datetime.fromisoformat(stamp)
        except ValueError:
            return None
        return cls(aware(at), key)  # type: ignore[arg-type]
