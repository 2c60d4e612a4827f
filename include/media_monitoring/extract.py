"""Page to article: trafilatura with settings chosen for news pages, plus our own metadata rules.

What we add to bare trafilatura:
- the title falls back to the feed's title when the page's is missing or is just the site name, and
  the feed's spelling wins when the two differ only in Unicode format characters (trafilatura drops
  ZWNJ/ZWJ, which Persian, Urdu and Indic scripts need);
- tables made mostly of links (a "Most read" box in a layout table) are pruned before extraction:
  trafilatura only drops link-rich tables of 200+ characters, so short ones reached the text;
- the publication date comes from the page (htmldate through trafilatura), else from the feed,
  and its source is recorded;
- the language comes from the page's own declaration, else from detection on the text;
- the page's ``<link rel=canonical>`` is honoured when it stays on the outlet's site.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from media_monitoring.urls import canonical_url

log = logging.getLogger(__name__)

HTML_LANG_RE = re.compile(rb"<html[^>]*?\slang\s*=\s*[\"']?([a-zA-Z]{2,3})", re.IGNORECASE)
META_LANG_RE = re.compile(
    rb"<meta[^>]+(?:http-equiv=[\"']content-language[\"'][^>]+content|property=[\"']og:locale[\"'][^>]+content)"
    rb"\s*=\s*[\"']([a-zA-Z]{2,3})",
    re.IGNORECASE,
)
LANG_SNIFF_BYTES = 8192  # the declaration sits in the first lines of any real page
MIN_DETECT_CHARS = 40  # below this, language detection is a guess
LINK_TABLE_DENSITY = 0.8  # share of a table's text inside links above which it is a link list, not data
LINK_TABLE_MIN_LINKS = 2
PRUNE_ATTR = "data-mm-prune"


@dataclass
class Extracted:
    url: str
    canonical_url: str
    title: str | None
    author: str | None
    published: datetime | None
    date_source: str  # "page", "feed" or "none"
    language: str | None
    language_source: str  # "page", "detected" or "none"
    text: str
    word_count: int
    sitename: str | None
    description: str | None

    def to_json(self) -> dict[str, object]:
        data = asdict(self)
        data["date"] = self.published.isoformat() if self.published else None
        data.pop("published")
        return data


def extract_article(
    html: bytes | str,
    url: str,
    *,
    feed_title: str | None = None,
    feed_published: datetime | None = None,
) -> Extracted:
    """Extract the article of one page. Never raises on bad HTML: an empty text is returned."""
    import trafilatura

    raw = html if isinstance(html, bytes) else html.encode("utf-8", "replace")
    doc = None
    try:
        tree = trafilatura.load_html(raw)
        if tree is not None:
            _mark_link_tables(tree)
        doc = trafilatura.bare_extraction(
            tree if tree is not None else raw,
            url=url,
            with_metadata=True,
            include_comments=False,  # reader comments are not the article
            include_tables=True,
            favor_precision=True,  # chrome inside the article container costs more than a lost line
            deduplicate=True,
            prune_xpath=f"//table[@{PRUNE_ATTR}]",  # after metadata extraction, before the text
            # keep the time of day and offset when the page gives them, and prefer the original date
            date_extraction_params={"extensive_search": True, "original_date": True,
                                    "outputformat": "%Y-%m-%dT%H:%M:%S%z"},
        )
    except Exception:  # trafilatura raises assorted lxml errors on hostile markup
        log.warning("extraction failed for %s", url, exc_info=True)
    text = (getattr(doc, "text", None) or "").strip()
    sitename = getattr(doc, "sitename", None)
    title = _clean(getattr(doc, "title", None))
    feed_title = _clean(feed_title)
    if not title or (sitename and title.casefold() == sitename.casefold()):
        title = feed_title or title
    elif feed_title and _strip_format(title) == _strip_format(feed_title):
        title = feed_title  # the publisher's spelling, with the ZWNJ/ZWJ trafilatura dropped
    published, date_source = _published(getattr(doc, "date", None), feed_published)
    language, language_source = _language(raw, text)
    return Extracted(
        url=url,
        canonical_url=_canonical(url, getattr(doc, "url", None)),
        title=title,
        author=_clean(getattr(doc, "author", None)),
        published=published,
        date_source=date_source,
        language=language,
        language_source=language_source,
        text=text,
        word_count=len(text.split()),
        sitename=sitename,
        description=_clean(getattr(doc, "description", None)),
    )


def _clean(value: str | None) -> str | None:
    if not value:
        return None
    value = " ".join(value.split())
    return value or None


def _strip_format(value: str | None) -> str:
    """``value`` without Unicode format characters (ZWNJ, ZWJ, bidi marks), which trafilatura drops."""
    return "".join(ch for ch in value or "" if unicodedata.category(ch) != "Cf")


def _mark_link_tables(tree: Any) -> None:
    """Mark tables whose text is mostly link text (related / most-read lists) for pruning."""
    for table in tree.iter("table"):
        text_len = len("".join(table.text_content().split()))
        links = [a for a in table.iter("a") if a.text_content().strip()]
        if text_len == 0 or len(links) < LINK_TABLE_MIN_LINKS:
            continue
        link_len = sum(len("".join(a.text_content().split())) for a in links)
        if link_len >= LINK_TABLE_DENSITY * text_len:
            table.set(PRUNE_ATTR, "1")


def _published(page_date: str | None, feed_published: datetime | None) -> tuple[datetime | None, str]:
    if page_date:
        try:
            parsed = datetime.fromisoformat(page_date)
        except ValueError:
            parsed = None
        if parsed is not None:
            if parsed.tzinfo is None:
                # no offset means htmldate found only a day: keep the feed's time when it agrees on the day
                if feed_published and feed_published.date() == parsed.date():
                    return feed_published, "page"
                parsed = parsed.replace(tzinfo=UTC)
            return parsed.astimezone(UTC), "page"
    if feed_published:
        return feed_published.astimezone(UTC), "feed"
    return None, "none"


def _language(raw: bytes, text: str) -> tuple[str | None, str]:
    head = raw[:LANG_SNIFF_BYTES]
    match = HTML_LANG_RE.search(head) or META_LANG_RE.search(head)
    if match:
        return match.group(1).decode("ascii").lower(), "page"
    if len(text) >= MIN_DETECT_CHARS:
        import py3langid

        code, _score = py3langid.classify(text)
        return code, "detected"
    return None, "none"


def _canonical(fetched: str, declared: str | None) -> str:
    """Honour the page's canonical link when it stays on the fetched site."""
    if declared and declared.startswith(("http://", "https://")):
        a, b = urlsplit(fetched), urlsplit(declared)
        same_site = (a.hostname or "").removeprefix("www.") == (b.hostname or "").removeprefix("www.")
        if same_site:
            return canonical_url(declared)
    return canonical_url(fetched)
