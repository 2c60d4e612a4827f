"""Feed bytes to entries: RSS and Atom with feedparser, JSON Feed 1.0/1.1 with the standard library.

Bytes only: feedparser reads paths and URLs given as str. Before any XML parser sees a document, its
entity declarations are measured (:func:`check_entity_expansion`), so no parser path (expat, or
feedparser's lenient fallback) ever expands a feed beyond a small multiple of its size. The server's
charset is authoritative when it decodes the body; every entry either yields an http(s) address or is
counted with the reason it was skipped.
"""

from __future__ import annotations

import calendar
import codecs
import functools
import json
import logging
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin

from media_monitoring.urls import canonical_url

log = logging.getLogger(__name__)

MAX_TITLE_CHARS = 1000  # a longer "title" is a body pasted into the wrong element
MAX_SUMMARY_CHARS = 4000  # the summary is a fallback, the article page is the source
MAX_ENTRY_ID_CHARS = 2000  # ids are keys, not documents

# Entity bound: the text all references would expand to may be at most this multiple of the feed's own
# size (real feeds declare a few short entities, e.g. nbsp, and expand to less than their size) ...
MAX_ENTITY_EXPANSION_FACTOR = 2
# ... or this much, whichever is larger: an expansion below 1 MiB cannot hurt a worker whatever the feed.
MIN_ENTITY_EXPANSION_BYTES = 2**20
ENTITY_DECL_RE = re.compile(rb"<!ENTITY\s+(%\s+)?([^\s%&;\"'<>]+)\s+")
UTF8_BOM = codecs.BOM_UTF8
# Byte patterns of '<?' in encodings in which '<!ENTITY' is not plain ASCII (as in XML 1.0 appendix F).
SNIFFED_ENCODINGS = ((codecs.BOM_UTF32_BE, "utf-32-be"), (codecs.BOM_UTF32_LE, "utf-32-le"),
                     (b"\x00\x00\x00<", "utf-32-be"), (b"<\x00\x00\x00", "utf-32-le"),
                     (codecs.BOM_UTF16_BE, "utf-16-be"), (codecs.BOM_UTF16_LE, "utf-16-le"),
                     (b"\x00<\x00?", "utf-16-be"), (b"<\x00?\x00", "utf-16-le"), (b"Lo\xa7\x94", "cp037"))
XML_DECL_ENCODING_RE = re.compile(rb"""^<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._:-]+)["']""")
CHARSET_RE = re.compile(r"""charset\s*=\s*["']?([^"';\s]+)""", re.IGNORECASE)
JSON_OBJECT_START_RE = re.compile(rb"\s*(?:\xef\xbb\xbf)?\s*\{")  # a JSON object, maybe after a UTF-8 BOM

JSON_FEED_VERSIONS = ("https://jsonfeed.org/version/1", "https://jsonfeed.org/version/1.1")
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
class FeedEntry:
    entry_id: str
    link: str
    canonical_url: str
    title: str
    published: datetime | None
    summary: str


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


def header_charset(content_type: str | None) -> str | None:
    """The ``charset`` parameter of a Content-Type header, lower-cased, or None."""
    match = CHARSET_RE.search(content_type or "")
    return match.group(1).lower() if match else None


def parse_feed(body: bytes, feed_url: str, content_type: str | None = None) -> list[FeedEntry]:
    """The usable entries of feed ``body`` (see :func:`read_feed`, which also says what was skipped)."""
    return read_feed(body, feed_url, content_type).entries


def read_feed(body: bytes, feed_url: str, content_type: str | None = None) -> FeedReading:
    """Parse feed ``body`` fetched from ``feed_url`` with the response's ``content_type``.

    RSS and Atom go to feedparser, JSON Feed (a body that is a JSON object) to :func:`_read_json_feed`.
    Relative links are resolved against ``feed_url``.

    Raises:
        HostileFeedError: when entity declarations would expand the document (before any parsing).
        FeedParseError: when the document is not a feed at all.
    """
    if not isinstance(body, bytes):  # a str would be read as a path or URL by feedparser
        raise TypeError("parse_feed takes the fetched bytes")
    if JSON_OBJECT_START_RE.match(body):  # no XML document starts with "{"
        return _read_json_feed(body, feed_url)
    charset = header_charset(content_type)
    check_entity_expansion(body, charset)
    return _read_xml_feed(body, feed_url, charset)


def _read_xml_feed(body: bytes, feed_url: str, charset: str | None) -> FeedReading:
    import feedparser  # heavy-ish; imported where used
    import feedparser.api

    feedparser.api.PREFERRED_XML_PARSERS = []  # expat only: libxml2's driver is absent and probed per parse

    # The header's charset goes to feedparser under a neutral XML media type: for every XML type it
    # then tries that charset first and falls back to its own detection (declaration, BOM, utf-8,
    # windows-1252) only when the body does not decode. The real media type is not passed: RFC 3023
    # would read a text/* feed without charset as us-ascii, and application/octet-stream would hide
    # the charset. A byte-order mark (or UTF-16/32 "<?xml") cannot lie, so it wins over the header.
    sniffed = _sniffed_encoding(body)
    given = sniffed or charset
    headers = {"content-type": f"application/xml; charset={given}"} if given else {}
    parsed = feedparser.parse(body, sanitize_html=False, resolve_relative_uris=False, response_headers=headers)
    version = parsed.get("version") or ""
    if not version and not parsed.entries:
        reason = parsed.get("bozo_exception")
        raise FeedParseError(f"not an RSS/Atom feed ({reason or 'no feed elements'})")
    encoding = parsed.get("encoding") or None
    note = _charset_note(charset, given, encoding)
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
        entries.append(_entry(str(raw.get("id") or link), link, raw.get("title"), published, raw.get("summary")))
    reading = FeedReading(entries, version or "unknown", dict(skipped), examples, encoding, note)
    _log_reading(reading, feed_url)
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


def _entry(entry_id: str, link: str, title: Any, published: datetime | None, summary: Any) -> FeedEntry:
    """One entry under the caps every feed format shares."""
    return FeedEntry(
        entry_id=entry_id[:MAX_ENTRY_ID_CHARS],
        link=link,
        canonical_url=canonical_url(link),
        title=" ".join((title if isinstance(title, str) else "").split())[:MAX_TITLE_CHARS],
        published=published,
        summary=(summary if isinstance(summary, str) else "")[:MAX_SUMMARY_CHARS],
    )


def _log_reading(reading: FeedReading, feed_url: str) -> None:
    if reading.skipped:
        log.warning("feed %s: %s", feed_url, reading.skip_note)
    if reading.charset_note:
        log.warning("feed %s: %s", feed_url, reading.charset_note)


# -- character sets ----------------------------------------------------------------------------------


@functools.lru_cache(maxsize=256)
def _codec(name: str | None) -> str | None:
    """Python's canonical codec name for a charset label (``latin-1`` and ``iso-8859-1`` are one)."""
    if not name:
        return None
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def _sniffed_encoding(body: bytes) -> str | None:
    """The encoding a byte-order mark or the first bytes of ``<?xml`` give away, or None."""
    if body.startswith(UTF8_BOM):
        return "utf-8"
    for marker, encoding in SNIFFED_ENCODINGS:
        if body.startswith(marker):
            return encoding
    return None


def _family(name: str | None) -> str | None:
    """A codec without its byte order: ``utf-16-le`` and ``utf-16`` are one family."""
    codec = _codec(name)
    return re.sub(r"-(le|be)$", "", codec) if codec else None


def _charset_note(charset: str | None, given: str | None, used: str | None) -> str | None:
    """A note for feed health when the header's charset is not what the body was decoded with."""
    if not charset:
        return None
    if _codec(charset) is None:
        return f"Content-Type charset={charset} is unknown; the body was decoded as {used or 'nothing'}"
    if _family(given) != _family(charset):
        return (f"Content-Type says charset={charset} but the body starts with a {given} byte-order mark "
                f"or declaration; decoded as {used or 'nothing'}")
    expected = "gb18030" if _codec(given) == "gb2312" else _codec(given)  # feedparser widens gb2312
    if _codec(used) == expected:
        return None
    return (f"Content-Type says charset={charset} but the body does not decode as {charset}; "
            f"decoded as {used or 'nothing'} (detected)")


# -- entity expansion ------------------------------------------------------------------------------


@functools.lru_cache(maxsize=256)
def _ascii_transparent(encoding: str) -> bool:
    """True when ``encoding`` decodes every ASCII byte to itself (so '<!ENTITY' is found in the raw bytes).

    Multi-byte encodings that pass (utf-8, Shift_JIS, GBK, EUC…) never decode a multi-byte sequence
    to an ASCII character; UTF-16/32, UTF-7 and EBCDIC fail and are scanned decoded.
    """
    sample = bytes(range(128))
    try:
        return sample.decode(encoding) == sample.decode("ascii")
    except (UnicodeDecodeError, LookupError):
        return False


def _scan_views(body: bytes, charset: str | None) -> list[bytes]:
    """The document as each candidate decoding would present it to a parser, as ASCII-compatible bytes.

    The raw bytes stand for every ASCII-compatible encoding (which is what feedparser's fallbacks are);
    an encoding named by the header, the XML declaration or the first bytes that is not is decoded.
    """
    views = [body]
    declared = XML_DECL_ENCODING_RE.match(body.removeprefix(UTF8_BOM))
    candidates = {charset, declared.group(1).decode("ascii") if declared else None, _sniffed_encoding(body)}
    for encoding in sorted({_codec(c) for c in candidates if _codec(c)}):
        if not _ascii_transparent(encoding):
            views.append(body.decode(encoding, errors="replace").encode("utf-8"))
    return views


def check_entity_expansion(body: bytes, charset: str | None = None) -> None:
    """Refuse a document whose entity references would expand beyond a small multiple of its size.

    A pre-scan, independent of the parser that runs next: expat's amplification guard stops the
    exponential "billion laughs" but not one large entity referenced many times, and feedparser's
    lenient fallback parser then expands that without limit (a 32 KB feed took 260 MB). Refusing every
    entity declaration (defusedxml's way) would also refuse real feeds that declare ``&nbsp;`` and the
    like, so the declarations are measured instead: each entity's replacement text is sized with its
    nested references expanded, each reference in the document is counted, and the total is compared
    with ``max(MAX_ENTITY_EXPANSION_FACTOR x size, MIN_ENTITY_EXPANSION_BYTES)``. The scan is linear in
    the document and allocates no more than one decoded copy of it.

    Raises:
        HostileFeedError: when the expansion is over the bound, or an entity refers to itself.
    """
    allowed = max(MAX_ENTITY_EXPANSION_FACTOR * len(body), MIN_ENTITY_EXPANSION_BYTES)
    for view in _scan_views(body, charset):
        if b"<!ENTITY" not in view:
            continue
        values = _entity_values(view)
        if not values:
            continue
        sizes = _expanded_sizes(values, allowed)
        reference = re.compile(rb"([&%])(" + b"|".join(re.escape(name) for name in values) + rb");")
        total = 0
        for match in reference.finditer(view):
            total += sizes.get(b"%" + match.group(2) if match.group(1) == b"%" else match.group(2), 0)
            if total > allowed:
                raise HostileFeedError(
                    f"entity declarations would expand this {len(body)}-byte feed by more than {allowed} bytes "
                    f"(the bound: {MAX_ENTITY_EXPANSION_FACTOR}x its size, at least "
                    f"{MIN_ENTITY_EXPANSION_BYTES // 2**20} MiB); refused before parsing")


def _entity_values(view: bytes) -> dict[bytes, bytes]:
    """Internal entity declarations of ``view``: name (``%name`` for parameter entities) -> value.

    External entities (SYSTEM/PUBLIC) have no value here: no parser of ours fetches them.
    """
    values: dict[bytes, bytes] = {}
    pos = 0
    while (match := ENTITY_DECL_RE.search(view, pos)) is not None:
        pos = match.end()
        quote = view[pos:pos + 1]
        if quote not in (b'"', b"'"):
            continue  # SYSTEM/PUBLIC, or not a declaration at all
        end = view.find(quote, pos + 1)
        if end < 0:
            break  # an unterminated literal: the rest of the document is inside it
        name = (b"%" if match.group(1) else b"") + match.group(2)
        values.setdefault(name, view[pos + 1:end])  # XML: the first declaration binds
        pos = end + 1
    return values


def _expanded_sizes(values: dict[bytes, bytes], cap: int) -> dict[bytes, int]:
    """Each entity's fully expanded length, capped at ``cap + 1`` (iterative: no recursion limit).

    Raises:
        HostileFeedError: when an entity refers to itself, directly or through others.
    """
    reference = re.compile(rb"([&%])([^\s%&;\"'<>]+);")
    refs = {name: [(b"%" + m.group(2) if m.group(1) == b"%" else m.group(2), len(m.group(0)))
                   for m in reference.finditer(value)] for name, value in values.items()}
    sizes: dict[bytes, int] = {}
    for root in values:
        stack: list[tuple[bytes, bool]] = [(root, False)]
        active: set[bytes] = set()
        while stack:
            name, children_done = stack.pop()
            if name in sizes:
                continue
            if children_done:
                size = len(values[name])
                for child, ref_len in refs[name]:
                    if child in values:
                        size += sizes[child] - ref_len
                sizes[name] = min(size, cap + 1)
                active.discard(name)
                continue
            if name in active:
                raise HostileFeedError(f"entity {name.decode('utf-8', 'replace')!r} refers to itself")
            active.add(name)
            stack.append((name, True))
            for child, _ in refs[name]:
                if child in values and child not in sizes:
                    if child in active:
                        raise HostileFeedError(f"entity {child.decode('utf-8', 'replace')!r} refers to itself")
                    stack.append((child, False))
    return sizes


# -- JSON Feed -------------------------------------------------------------------------------------


def _read_json_feed(body: bytes, feed_url: str) -> FeedReading:
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
        entries.append(_entry(str(item_id) if isinstance(item_id, (str, int)) and str(item_id) else link,
                              link, item.get("title"), published, summary))
    kind = "json1.1" if version.rstrip("/").endswith("1.1") else "json1"
    reading = FeedReading(entries, kind, dict(skipped), examples, "utf-8", None)
    _log_reading(reading, feed_url)
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
