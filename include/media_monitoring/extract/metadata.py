"""The article's fields beside its text: title, author, publication date, language, canonical address.

trafilatura reads them from the page; these rules correct what it gets wrong on news pages (the measured
effect of each is in the package's docstring).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from media_monitoring.extract.page import ZWNJ_STAND_IN, clean_field, comparable
from media_monitoring.urls import canonical_url

HTML_LANG_RE = re.compile(rb"<html[^>]*?\slang\s*=\s*[\"']?([a-zA-Z]{2,3})", re.IGNORECASE)
META_LANG_RE = re.compile(
    rb"<meta[^>]+(?:http-equiv=[\"']content-language[\"'][^>]+content|property=[\"']og:locale[\"'][^>]+content)"
    rb"\s*=\s*[\"']([a-zA-Z]{2,3})",
    re.IGNORECASE,
)
LANG_SNIFF_BYTES = 8192  # the declaration sits in the first lines of any real page
MIN_DETECT_CHARS = 40  # below this, language detection is a guess
AUTHOR_LABEL_RE = re.compile(
    r"^(?:by|written by|von|par|por|door|av|автор|авторы|автор материала|текст|author|authors|muallif|"
    r"بقلم|نویسنده|لیکوال|تحریر)\s*[:：]?\s+", re.IGNORECASE)
TITLE_SEPARATORS_RE = re.compile(r"\s+(?:\||::|—|–|-|»|·|/|:)\s+")


def clean_title(value: str | None) -> str | None:
    """The page's title as a field; it keeps trafilatura's spelling, without the ZWNJ stand-in."""
    return clean_field(value.replace(ZWNJ_STAND_IN, "")) if value else None


def page_title(title: str | None, headlines: list[str]) -> str | None:
    """Cut "Site :: Headline" to the headline when the page shows that part as its headline."""
    if not title or not TITLE_SEPARATORS_RE.search(title) or title in headlines:
        return title
    parts = [p.strip() for p in TITLE_SEPARATORS_RE.split(title) if p.strip()]
    for part in sorted(parts, key=len, reverse=True):
        if any(comparable(part) == comparable(h) for h in headlines):
            return part
    return title


def author(value: str | None, people: list[str]) -> str | None:
    """People named in the page's JSON-LD, else trafilatura's byline without its label ("By", "Автор:")."""
    if people:
        return "; ".join(people)
    value = clean_field(value)
    if not value:
        return None
    names = []
    for name in value.split(";"):
        name = AUTHOR_LABEL_RE.sub("", name.strip()).strip()
        if name and name not in names:
            names.append(name)
    return "; ".join(names) or None


def published(page_date: str | None, structured: datetime | None,
               feed_published: datetime | None) -> tuple[datetime | None, str]:
    """The publication time with the publisher's own UTC offset (its calendar day and clock), and where it
    came from; storage keeps the instant in UTC and this reading beside it."""
    parsed = None
    if page_date:
        try:
            parsed = datetime.fromisoformat(page_date)
        except ValueError:
            parsed = None
    if parsed is not None and parsed.tzinfo is not None:
        return parsed, "page"
    if parsed is not None:
        # no offset means htmldate found only a day: take the time from the page's own structured
        # timestamp, else from the feed, when they agree on the day
        if structured and structured.date() == parsed.date():
            return structured, "page"
        if feed_published and feed_published.date() == parsed.date():
            return feed_published, "page"
        # midday UTC keeps the calendar day right in every offset from UTC-11 to UTC+11
        return parsed.replace(tzinfo=UTC) + timedelta(hours=12), "page"
    if structured:
        return structured, "page"
    if feed_published:
        return feed_published, "feed"
    return None, "none"


def language(raw: bytes, text: str) -> tuple[str | None, str]:
    """The page's declared language, else the one detected in its text; and which of the two it is."""
    head = raw[:LANG_SNIFF_BYTES]
    match = HTML_LANG_RE.search(head) or META_LANG_RE.search(head)
    if match:
        return match.group(1).decode("ascii").lower(), "page"
    if len(text) >= MIN_DETECT_CHARS:
        import py3langid

        code, _score = py3langid.classify(text)
        return code, "detected"
    return None, "none"


def canonical(fetched: str, declared: str | None) -> str:
    """Honour the page's canonical link when it stays on the fetched site."""
    if declared and declared.startswith(("http://", "https://")):
        a, b = urlsplit(fetched), urlsplit(declared)
        same_site = (a.hostname or "").removeprefix("www.") == (b.hostname or "").removeprefix("www.")
        if same_site:
            return canonical_url(declared)
    return canonical_url(fetched)
