"""The article's fields beside its text: title, author, publication date, language, canonical address.

trafilatura reads them from the page; these rules correct what it gets wrong on news pages (the measured
effect of each is in the package's docstring).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from media_monitoring.extract.page import ZWNJ_STAND_IN, clean_field, comparable
from media_monitoring.rules import FUTURE_TOLERANCE, title_is_site_name
from media_monitoring.text import strip_format
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
# A page's date this far from the feed's is another article's (a related item, an archive link, a copyright
# year). Feeds that stamp an entry with its update (Atom's <updated>, JSON Feed's date_modified, which the
# feed readers fall back to) do so days after the original date, not weeks.
MAX_DAYS_FROM_FEED = 7


def clean_title(value: str | None) -> str | None:
    """The page's title as a field; it keeps trafilatura's spelling, without the ZWNJ stand-in."""
    return clean_field(value.replace(ZWNJ_STAND_IN, "")) if value else None


def headline(title: str | None, *, headlines: list[str], html_title: str | None, sitename: str | None,
             url: str, feed_title: str | None) -> str | None:
    """The article's headline from the title trafilatura read (og:title, JSON-LD, a lone <h1>, <title>).

    A "Site | Headline" title is cut to the part the page shows as its headline or the feed names, else its
    site's name is cut off. A title that is only the site's name gives way to the feed's title, the page's
    own headline, or its <title> without the site's name. The feed's spelling wins when the two differ only
    in format characters (trafilatura drops ZWNJ).

    Args:
        title: trafilatura's title (:func:`clean_title`).
        headlines: the page's <h1> texts, else its headline-like elements (:class:`.page.PageFacts`).
        html_title: the page's <title> as written.
        sitename: trafilatura's site name (og:site_name, else one read from the title or the address).
        url: the page's address, whose host often spells the site's name.
        feed_title: the feed entry's title ("" or None without one).
    """
    evidence = [*headlines, feed_title] if feed_title else headlines
    title = _without_site_name(title, evidence, sitename, url)
    if not title or title_is_site_name(title, sitename, url):
        # the page frame's title: a headline from elsewhere
        others = (feed_title, *(clean_field(h) for h in headlines),
                  _without_site_name(clean_title(html_title), evidence, sitename, url))
        return next((t for t in others if t and not title_is_site_name(t, sitename, url)), title)
    if feed_title and strip_format(title) == strip_format(feed_title):
        return feed_title
    return title


def _without_site_name(title: str | None, evidence: list[str], sitename: str | None, url: str) -> str | None:
    """``title`` cut at its separators to the run of parts that is a headline in ``evidence``, else without
    a first or last part that is the site's name; as it is otherwise ("Lavrov: CSTO ready" keeps its colon,
    "Kaboul - Tachkent : reprise ..." its dash)."""
    if not title:
        return title
    separators = list(TITLE_SEPARATORS_RE.finditer(title))
    if not separators or any(comparable(title) == comparable(e) for e in evidence):
        return title
    starts = [0, *(m.end() for m in separators)]
    ends = [*(m.start() for m in separators), len(title)]
    runs = [title[starts[i]:ends[j]].strip() for i in range(len(starts)) for j in range(i, len(ends))]
    for run in sorted(runs, key=len, reverse=True):
        if any(comparable(run) == comparable(e) for e in evidence):
            return run
    if title_is_site_name(title[starts[-1]:], sitename, url):
        return title[:ends[-2]].strip()
    if title_is_site_name(title[:ends[0]], sitename, url):
        return title[starts[1]:].strip()
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


@dataclass(frozen=True)
class Published:
    """The publication time chosen, where it came from ("page", "feed" or "none"), and why the page's own
    first reading was set aside when it was (None when it was not)."""

    moment: datetime | None
    source: str
    set_aside: str | None = None


def published(page_date: str | None, structured: datetime | None, feed_published: datetime | None,
              first_seen: datetime | None = None) -> Published:
    """The publication time with the publisher's own UTC offset (its calendar day and clock), and where it
    came from; storage keeps the instant in UTC and this reading beside it.

    The page's reading is weighed against the feed's date and the time the entry was first seen: more than
    :data:`MAX_DAYS_FROM_FEED` days from the feed's date, or after the entry was first seen, it is not this
    article's date (a related article's, an archive link's, a copyright year) and gives way to the page's
    structured timestamp if that one is plausible, else to the feed's date. A feed date after the entry was
    first seen is no measure. An old article listed with its old date keeps it: the two agree.
    """
    own = _page_reading(page_date, structured, feed_published)
    if own is None:
        if feed_published:
            return Published(feed_published, "feed")
        return Published(None, "none")
    feed = feed_published if feed_published and _doubt(feed_published, None, first_seen) is None else None
    doubt = _doubt(own, feed, first_seen)
    if doubt is None:
        return Published(own, "page")
    why = f"the page's date {own.date().isoformat()} {doubt}"
    if structured and structured != own and _doubt(structured, feed, first_seen) is None:
        return Published(structured, "page", f"{why}: the page's structured timestamp taken")
    if feed:
        return Published(feed, "feed", f"{why}: the feed's date taken")
    return Published(own, "page")  # nothing better to go by


def _page_reading(page_date: str | None, structured: datetime | None,
                  feed_published: datetime | None) -> datetime | None:
    """The page's own publication time: htmldate's reading, its time of day from the page's structured
    timestamp or the feed when htmldate found only the day and they agree on it; else the structured one."""
    parsed = None
    if page_date:
        try:
            parsed = datetime.fromisoformat(page_date)
        except ValueError:
            parsed = None
    if parsed is not None and parsed.tzinfo is not None:
        return parsed
    if parsed is not None:
        # no offset means htmldate found only a day: take the time from the page's own structured
        # timestamp, else from the feed, when they agree on the day
        if structured and structured.date() == parsed.date():
            return structured
        if feed_published and feed_published.date() == parsed.date():
            return feed_published
        # midday UTC keeps the calendar day right in every offset from UTC-11 to UTC+11
        return parsed.replace(tzinfo=UTC) + timedelta(hours=12)
    return structured


def _doubt(moment: datetime, feed: datetime | None, first_seen: datetime | None) -> str | None:
    """Why ``moment`` cannot be the article's publication time, or None when it can."""
    if first_seen and moment > first_seen + FUTURE_TOLERANCE:
        return f"is after the entry was first seen ({first_seen.date().isoformat()})"
    if feed and abs(moment - feed) > timedelta(days=MAX_DAYS_FROM_FEED):
        return f"is {abs((moment - feed).days)} days from the feed's date ({feed.date().isoformat()})"
    return None


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
