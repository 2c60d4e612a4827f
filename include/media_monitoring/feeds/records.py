"""What reading a feed gives: its entries (:class:`~media_monitoring.records.FeedEntry`), an account of what
was skipped and why, and the errors.

Every feed format (:mod:`.rss`, :mod:`.json_feed`) makes its entries with :func:`make_entry`, under the
same caps.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from media_monitoring.records import FeedEntry
from media_monitoring.urls import canonical_url

log = logging.getLogger(__name__)

MAX_TITLE_CHARS = 1000  # a longer "title" is a body pasted into the wrong element
MAX_SUMMARY_CHARS = 4000  # the summary is a fallback, the article page is the source
MAX_ENTRY_ID_CHARS = 2000  # ids are keys, not documents
HTTP_SCHEMES = ("http://", "https://")

# Why an entry was skipped (the keys of FeedReading.skipped), in words for logs, the CLI and feed health.
SKIP_NO_LINK = "no_link"
SKIP_NOT_HTTP = "not_http"
SKIP_MALFORMED = "malformed"
SKIP_WORDS = {SKIP_NO_LINK: "without any link or id", SKIP_NOT_HTTP: "whose link and id are not http(s)",
              SKIP_MALFORMED: "that are not objects"}


class FeedParseError(ValueError):
    """The bytes are not a feed (HTML at a feed URL, truncated XML with no entries…)."""


class HostileFeedError(FeedParseError):
    """The feed's entity declarations would expand far beyond its own size: refused before parsing."""

    error_class = "hostile_feed"


@dataclass(frozen=True)
class FeedReading:
    """What one feed document gave: its usable entries and an account of everything else."""

    entries: list[FeedEntry]
    kind: str  # feedparser's version ("rss20", "atom10"…) or "json1", "json1.1"
    skipped: dict[str, int] = field(default_factory=dict)  # reason (SKIP_*) -> entries skipped
    skip_example: dict[str, str] = field(default_factory=dict)  # reason -> one offending link or id
    encoding: str | None = None  # what the body was decoded as (XML only)
    charset_note: str | None = None  # set when the Content-Type charset did not decode the body

    @property
    def skipped_total(self) -> int:
        return sum(self.skipped.values())

    @property
    def skip_note(self) -> str | None:
        """One line for logs and feed health, e.g. ``"3 of 5 entries skipped: 2 without any link or id
        (e.g. 'Untitled'), 1 whose link and id are not http(s) (e.g. 'tag:…')"``."""
        if not self.skipped:
            return None
        parts = []
        for reason, count in sorted(self.skipped.items()):
            example = self.skip_example.get(reason)
            parts.append(f"{count} {SKIP_WORDS[reason]}" + (f" (e.g. {example[:120]!r})" if example else ""))
        total = self.skipped_total + len(self.entries)
        return f"{self.skipped_total} of {total} entries skipped: " + ", ".join(parts)


def make_entry(entry_id: str, link: str, title: Any, published: datetime | None, summary: Any) -> FeedEntry:
    """One entry under the caps every feed format shares."""
    return FeedEntry(
        entry_id=entry_id[:MAX_ENTRY_ID_CHARS],
        link=link,
        canonical_url=canonical_url(link),
        title=" ".join((title if isinstance(title, str) else "").split())[:MAX_TITLE_CHARS],
        published=published,
        summary=(summary if isinstance(summary, str) else "")[:MAX_SUMMARY_CHARS],
    )


def log_reading(reading: FeedReading, feed_url: str) -> None:
    """Warn about the skipped entries and a charset the server got wrong, if any."""
    if reading.skipped:
        log.warning("feed %s: %s", feed_url, reading.skip_note)
    if reading.charset_note:
        log.warning("feed %s: %s", feed_url, reading.charset_note)
