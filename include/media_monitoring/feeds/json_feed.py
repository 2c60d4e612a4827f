"""JSON Feed 1.0/1.1 (https://jsonfeed.org/version/1.1) to the same entries as RSS and Atom."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin

from media_monitoring.feeds.records import (
    HTTP_SCHEMES,
    SKIP_MALFORMED,
    SKIP_NO_LINK,
    SKIP_NOT_HTTP,
    FeedParseError,
    FeedReading,
    log_reading,
    make_entry,
)
from media_monitoring.records import FeedEntry

JSON_FEED_VERSIONS = ("https://jsonfeed.org/version/1", "https://jsonfeed.org/version/1.1")


def read_json_feed(body: bytes, feed_url: str) -> FeedReading:
    """JSON Feed 1.0/1.1 (https://jsonfeed.org/version/1.1) to the same entries as RSS and Atom.

    An item's address is its ``url``, else its ``id`` when that is an http(s) URL; ``external_url``
    names another site's page the item is about, not the outlet's article, and is not used.
    """
    try:
        document = json.loads(body)
    except (ValueError, RecursionError) as exc:  # JSONDecodeError, bad UTF-8, absurd nesting or numbers
        raise FeedParseError(f"not a JSON Feed (invalid JSON: {str(exc)[:200]})") from None
    version = document.get("version") if isinstance(document, dict) else None
    if not isinstance(version, str) or version.rstrip("/") not in JSON_FEED_VERSIONS:
        raise FeedParseError(f"not a JSON Feed (version {str(version)[:100]!r})")
    items = document.get("items")
    if not isinstance(items, list):
        raise FeedParseError("not a JSON Feed (no items list)")
    entries: list[FeedEntry] = []
    skipped: Counter[str] = Counter()
    examples: dict[str, str] = {}
    for item in items:
        if not isinstance(item, dict):
            skipped[SKIP_MALFORMED] += 1
            continue
        link, reason, example = _json_item_link(item, feed_url)
        if link is None:
            skipped[reason] += 1
            if example:
                examples.setdefault(reason, example)
            continue
        item_id = item.get("id")
        summary = next((v for v in (item.get("summary"), item.get("content_text"), item.get("content_html"))
                        if isinstance(v, str) and v.strip()), "")
        published = _json_date(item.get("date_published")) or _json_date(item.get("date_modified"))
        entries.append(make_entry(str(item_id) if isinstance(item_id, (str, int)) and str(item_id) else link,
                              link, item.get("title"), published, summary))
    kind = "json1.1" if version.rstrip("/").endswith("1.1") else "json1"
    reading = FeedReading(entries, kind, dict(skipped), examples, "utf-8", None)
    log_reading(reading, feed_url)
    return reading


def _json_item_link(item: dict[str, Any], feed_url: str) -> tuple[str | None, str, str | None]:
    url = item.get("url")
    url = urljoin(feed_url, url.strip()) if isinstance(url, str) and url.strip() else ""
    item_id = item.get("id")
    item_id = str(item_id).strip() if isinstance(item_id, (str, int)) else ""
    for candidate in (url, item_id):
        if candidate.lower().startswith(HTTP_SCHEMES):
            return candidate, "", None
    if url or item_id:
        return None, SKIP_NOT_HTTP, url or item_id
    title = item.get("title")
    return None, SKIP_NO_LINK, title.strip() if isinstance(title, str) and title.strip() else None


def _json_date(value: Any) -> datetime | None:
    """An RFC 3339 date as an aware UTC datetime (a date without offset is taken as UTC), or None."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        stamp = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return (stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)).astimezone(UTC)
