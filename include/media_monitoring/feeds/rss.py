"""RSS and Atom entries with feedparser, and the article's address of each."""

from __future__ import annotations

import calendar
from collections import Counter
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin

from media_monitoring.feeds.encoding import charset_note, sniffed_encoding
from media_monitoring.feeds.records import (
    HTTP_SCHEMES,
    SKIP_NO_LINK,
    SKIP_NOT_HTTP,
    FeedParseError,
    FeedReading,
    log_reading,
    make_entry,
)
from media_monitoring.records import FeedEntry


def read_xml_feed(body: bytes, feed_url: str, charset: str | None) -> FeedReading:
    """RSS or Atom ``body`` to entries, read as ``charset`` (the header's) unless its first bytes say otherwise."""
    import feedparser  # heavy-ish; imported where used
    import feedparser.api

    feedparser.api.PREFERRED_XML_PARSERS = []  # expat only: libxml2's driver is absent and probed per parse

    # The header's charset goes to feedparser under a neutral XML media type: for every XML type it
    # then tries that charset first and falls back to its own detection (declaration, BOM, utf-8,
    # windows-1252) only when the body does not decode. The real media type is not passed: RFC 3023
    # would read a text/* feed without charset as us-ascii, and application/octet-stream would hide
    # the charset. A byte-order mark (or UTF-16/32 "<?xml") cannot lie, so it wins over the header.
    sniffed = sniffed_encoding(body)
    given = sniffed or charset
    headers = {"content-type": f"application/xml; charset={given}"} if given else {}
    parsed = feedparser.parse(body, sanitize_html=False, resolve_relative_uris=False, response_headers=headers)
    version = parsed.get("version") or ""
    if not version and not parsed.entries:
        reason = parsed.get("bozo_exception")
        raise FeedParseError(f"not an RSS/Atom feed ({reason or 'no feed elements'})")
    encoding = parsed.get("encoding") or None
    note = charset_note(charset, given, encoding)
    entries: list[FeedEntry] = []
    skipped: Counter[str] = Counter()
    examples: dict[str, str] = {}
    for raw in parsed.entries:
        link, reason, example = _xml_entry_link(raw, feed_url)
        if link is None:
            skipped[reason] += 1
            if example:
                examples.setdefault(reason, example)
            continue
        published = None
        stamp = raw.get("published_parsed") or raw.get("updated_parsed")
        if stamp:
            published = datetime.fromtimestamp(calendar.timegm(stamp), tz=UTC)
        entries.append(make_entry(str(raw.get("id") or link), link, raw.get("title"), published, raw.get("summary")))
    reading = FeedReading(entries, version or "unknown", dict(skipped), examples, encoding, note)
    log_reading(reading, feed_url)
    return reading


def _xml_entry_link(raw: dict[str, Any], feed_url: str) -> tuple[str | None, str, str | None]:
    """The article's address of a feedparser entry: ``(link, "", None)`` or ``(None, reason, example)``.

    In order: feedparser's ``link`` (the first alternate link, or a permalink ``guid``), any other
    alternate link, then the ``id``/``guid`` if it is an absolute http(s) URL (Atom ids and
    ``isPermaLink="false"`` guids often are the article's address). ``rel="self"``, ``related`` and
    enclosures are not the article.
    """
    candidates = [(raw.get("link") or "").strip()]
    candidates += [(link.get("href") or "").strip() for link in raw.get("links") or []
                   if link.get("rel", "alternate") == "alternate"]
    candidates = [urljoin(feed_url, c) for c in candidates if c]  # xml:base is applied by feedparser
    entry_id = str(raw.get("id") or "").strip()
    if entry_id.lower().startswith(HTTP_SCHEMES):
        candidates.append(entry_id)
    for candidate in candidates:
        if candidate.lower().startswith(HTTP_SCHEMES):
            return candidate, "", None
    if candidates or entry_id:
        return None, SKIP_NOT_HTTP, candidates[0] if candidates else entry_id
    return None, SKIP_NO_LINK, (raw.get("title") or "").strip() or None
