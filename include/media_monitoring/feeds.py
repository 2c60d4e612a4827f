"""Feed bytes to entries, with feedparser. Bytes only: feedparser reads paths and URLs given as str."""

from __future__ import annotations

import calendar
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urljoin

from media_monitoring.urls import canonical_url

log = logging.getLogger(__name__)


class FeedParseError(ValueError):
    """The bytes are not a feed (HTML at a feed URL, truncated XML with no entries…)."""


@dataclass(frozen=True)
class FeedEntry:
    entry_id: str
    link: str
    canonical_url: str
    title: str
    published: datetime | None
    summary: str


def parse_feed(body: bytes, feed_url: str) -> list[FeedEntry]:
    """Parse feed ``body`` fetched from ``feed_url``; relative links are resolved against it.

    Raises:
        FeedParseError: when the document is not a feed at all.
    """
    import feedparser  # heavy-ish; imported where used
    import feedparser.api

    feedparser.api.PREFERRED_XML_PARSERS = []  # expat only: libxml2's driver is absent and probed per parse

    if not isinstance(body, bytes):  # a str would be read as a path or URL by feedparser
        raise TypeError("parse_feed takes the fetched bytes")
    parsed = feedparser.parse(body, sanitize_html=False, resolve_relative_uris=False)
    version = parsed.get("version") or ""
    if not version and not parsed.entries:
        reason = parsed.get("bozo_exception")
        raise FeedParseError(f"not an RSS/Atom feed ({reason or 'no feed elements'})")
    entries: list[FeedEntry] = []
    for raw in parsed.entries:
        link = (raw.get("link") or "").strip()
        if not link:
            continue
        link = urljoin(feed_url, link)  # the feed document's URL is the base (xml:base is applied by feedparser)
        if not link.startswith(("http://", "https://")):
            log.warning("feed %s: skipping entry with non-http link %r", feed_url, link[:200])
            continue
        published = None
        stamp = raw.get("published_parsed") or raw.get("updated_parsed")
        if stamp:
            published = datetime.fromtimestamp(calendar.timegm(stamp), tz=UTC)
        entries.append(
            FeedEntry(
                entry_id=str(raw.get("id") or link)[:2000],
                link=link,
                canonical_url=canonical_url(link),
                title=" ".join((raw.get("title") or "").split())[:1000],
                published=published,
                summary=(raw.get("summary") or "")[:4000],
            )
        )
    return entries
