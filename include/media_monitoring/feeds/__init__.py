"""Feed bytes to entries: RSS and Atom with feedparser, JSON Feed 1.0/1.1 with the standard library.

Bytes only: feedparser reads paths and URLs given as str. Before any XML parser sees a document, its
entity declarations are measured (:func:`check_entity_expansion`), so no parser path (expat, or
feedparser's lenient fallback) ever expands a feed beyond a small multiple of its size. The server's
charset is authoritative when it decodes the body; every entry either yields an http(s) address or is
counted with the reason it was skipped.

Where each part lives: :mod:`.records` (the entries, what was skipped, the errors), :mod:`.encoding`
(charset and entity expansion), :mod:`.rss` (RSS and Atom) and :mod:`.json_feed` (JSON Feed).
"""

from __future__ import annotations

import re

from media_monitoring.feeds.encoding import check_entity_expansion, header_charset
from media_monitoring.feeds.json_feed import read_json_feed
from media_monitoring.feeds.records import (
    SKIP_MALFORMED,
    SKIP_NO_LINK,
    SKIP_NOT_HTTP,
    FeedParseError,
    FeedReading,
    HostileFeedError,
)
from media_monitoring.feeds.rss import read_xml_feed
from media_monitoring.records import FeedEntry

__all__ = ["SKIP_MALFORMED", "SKIP_NO_LINK", "SKIP_NOT_HTTP", "FeedEntry", "FeedParseError", "FeedReading",
           "HostileFeedError", "check_entity_expansion", "header_charset", "parse_feed", "read_feed"]

JSON_OBJECT_START_RE = re.compile(rb"\s*(?:\xef\xbb\xbf)?\s*\{")  # a JSON object, maybe after a UTF-8 BOM


def parse_feed(body: bytes, feed_url: str, content_type: str | None = None) -> list[FeedEntry]:
    """The usable entries of feed ``body`` (see :func:`read_feed`, which also says what was skipped)."""
    return read_feed(body, feed_url, content_type).entries


def read_feed(body: bytes, feed_url: str, content_type: str | None = None) -> FeedReading:
    """Parse feed ``body`` fetched from ``feed_url`` with the response's ``content_type``.

    RSS and Atom go to feedparser, JSON Feed (a body that is a JSON object) to :func:`.json_feed.read_json_feed`.
    Relative links are resolved against ``feed_url``.

    Raises:
        HostileFeedError: when entity declarations would expand the document (before any parsing).
        FeedParseError: when the document is not a feed at all.
    """
    if not isinstance(body, bytes):  # a str would be read as a path or URL by feedparser
        raise TypeError("parse_feed takes the fetched bytes")
    if JSON_OBJECT_START_RE.match(body):  # no XML document starts with "{"
        return read_json_feed(body, feed_url)
    charset = header_charset(content_type)
    check_entity_expansion(body, charset)
    return read_xml_feed(body, feed_url, charset)
