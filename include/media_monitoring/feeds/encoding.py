"""What a feed's bytes are before any parser sees them: their character set, and whether their entity
declarations are safe to expand.

The server's charset is authoritative when it decodes the body, a byte-order mark wins over it, and
feed health gets a note when the two disagree (:func:`charset_note`). :func:`check_entity_expansion`
measures the entity declarations, so no parser path (expat, or feedparser's lenient fallback) ever
expands a feed beyond a small multiple of its size.
"""

from __future__ import annotations

import codecs
import functools
import re

from media_monitoring.feeds.records import HostileFeedError

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


def header_charset(content_type: str | None) -> str | None:
    """The ``charset`` parameter of a Content-Type header, lower-cased, or None."""
    match = CHARSET_RE.search(content_type or "")
    return match.group(1).lower() if match else None


@functools.lru_cache(maxsize=256)
def _codec(name: str | None) -> str | None:
    """Python's canonical codec name for a charset label (``latin-1`` and ``iso-8859-1`` are one)."""
    if not name:
        return None
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def sniffed_encoding(body: bytes) -> str | None:
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


def charset_note(charset: str | None, given: str | None, used: str | None) -> str | None:
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
    candidates = {charset, declared.group(1).decode("ascii") if declared else None, sniffed_encoding(body)}
    for encoding in sorted({codec for c in candidates if (codec := _codec(c))}):
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
