"""Page to article: trafilatura with our settings, our rules around it, the fallback for short texts, and
trafilatura's defaults for a text that shares little with what the feed says of the article.

Why each setting and rule: the package's docstring (:mod:`media_monitoring.extract`).
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from media_monitoring.extract import metadata
from media_monitoring.extract.page import (
    PRUNE_XPATH,
    PageFacts,
    clean_field,
    comparable,
    html_text,
    load_page,
    prepare_page,
    restore_zwnj,
)
from media_monitoring.rules import MIN_ARTICLE_WORDS
from media_monitoring.text import story_words, word_count

log = logging.getLogger(__name__)

FALLBACK_GAIN = 1.3  # the fallback's text must be this much longer (and 10+ words longer) to be taken
SHORT_SHARE = 0.25  # ... or a text under this share of the words the page holds in <p> elements
SHORT_SHARE_MIN_PAGE_WORDS = 200  # (only on pages with at least this many)
# The text is checked against the words of the feed's summary and the headline (the evidence):
EVIDENCE_MIN_CHARS = 4  # shorter words are mostly function words ("the", "и", "في") that any text holds
EVIDENCE_MIN_WORDS = 8  # fewer distinct words (a headline alone, mostly) are too few to judge a text by
EVIDENCE_SUSPECT = 0.3  # a text holding a smaller share of them is suspected of being another block ...
EVIDENCE_TAKEN = 0.6  # ... and trafilatura's defaults' text is taken instead if it holds at least this share

PRIMARY: dict[str, Any] = {
    "include_comments": False,
    "include_tables": True,
    "favor_precision": True,
    "fast": True,
    "deduplicate": False,
}
# trafilatura's defaults but for comments (never article text) and deduplication (see the package docstring)
FALLBACK: dict[str, Any] = {"include_comments": False, "include_tables": True, "fast": False, "deduplicate": False}
# keep the time of day and offset when the page gives them, and prefer the original date
DATE_PARAMS = {"extensive_search": True, "original_date": True, "outputformat": "%Y-%m-%dT%H:%M:%S%z"}


@dataclass
class Extracted:
    url: str
    canonical_url: str
    title: str | None
    author: str | None
    published: datetime | None
    date_source: str  # "page", "feed" or "none" (metadata.Published)
    language: str | None
    language_source: str  # "page", "detected" or "none"
    text: str
    word_count: int
    sitename: str | None
    description: str | None
    # "trafilatura", "trafilatura-fallback" (balanced cascade on our prepared page), "trafilatura-defaults"
    # (trafilatura's defaults on the page as fetched, for a text that shared little with the feed) or "none"
    extractor: str = "trafilatura"
    date_set_aside: str | None = None  # why the page's own reading of its date was not taken, if it was not

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
    feed_summary: str | None = None,
    first_seen: datetime | None = None,
) -> Extracted:
    """Extract the article of one page. Never raises on bad HTML: an empty text is returned.

    Args:
        html: the page as fetched.
        url: its address after redirects.
        feed_title, feed_published, feed_summary: what the feed entry says of the article (its summary may
            be HTML); the headline, the date and the text are checked against them.
        first_seen: when the entry was first seen: no date after it is the article's.
    """
    import trafilatura

    raw = html if isinstance(html, bytes) else html.encode("utf-8", "replace")
    doc = None
    facts = PageFacts()
    text, extractor = "", "none"
    try:
        tree, facts, paragraph_words = prepare_page(raw, url)
        if tree is not None:
            # bare_extraction works on its own copy of the tree: ``tree`` stays as prepared, for the fallback
            doc = trafilatura.bare_extraction(tree, url=url, prune_xpath=PRUNE_XPATH, with_metadata=True,
                                              date_extraction_params=DATE_PARAMS, **PRIMARY)
            if doc is None:  # no text at all: the page's metadata still counts
                doc = trafilatura.extract_metadata(tree, default_url=url, date_config=DATE_PARAMS)
        else:
            doc = trafilatura.bare_extraction(raw, url=url, prune_xpath=PRUNE_XPATH, **PRIMARY)
        text = (getattr(doc, "text", None) or "").strip()
        extractor = "trafilatura" if text else "none"
        if tree is not None and _implausibly_short(text, paragraph_words):
            text, extractor = _fallback(tree, url, text, extractor)
    except Exception:  # trafilatura raises assorted lxml errors on hostile markup
        log.warning("extraction failed for %s", url, exc_info=True)
    text = restore_zwnj(text)
    sitename = clean_field(getattr(doc, "sitename", None))
    # the title keeps trafilatura's spelling without ZWNJ (test_extract pins it); the feed's restores it
    title = metadata.headline(metadata.clean_title(getattr(doc, "title", None)), headlines=facts.headlines,
                              html_title=facts.html_title, sitename=sitename, url=url,
                              feed_title=clean_field(feed_title))
    text, extractor = _checked_against_feed(raw, url, text, extractor, title, feed_summary)
    if text:
        text = _with_standfirst(_without_title_line(text, title), facts.standfirst)
    date = metadata.published(getattr(doc, "date", None), facts.published, feed_published, first_seen)
    language, language_source = metadata.language(raw, text)
    return Extracted(
        url=url,
        canonical_url=metadata.canonical(url, getattr(doc, "url", None)),
        title=title,
        author=metadata.author(getattr(doc, "author", None), facts.people),
        published=date.moment,
        date_source=date.source,
        language=language,
        language_source=language_source,
        text=text,
        word_count=word_count(text),
        sitename=sitename,
        description=clean_field(getattr(doc, "description", None)),
        extractor=extractor,
        date_set_aside=date.set_aside,
    )


def _implausibly_short(text: str, paragraph_words: int) -> bool:
    """Under the article minimum, or a small part of a page that holds much paragraph text."""
    words = word_count(text)
    return words < MIN_ARTICLE_WORDS or (paragraph_words >= SHORT_SHARE_MIN_PAGE_WORDS
                                 and words < SHORT_SHARE * paragraph_words)


def _fallback(tree: Any, url: str, text: str, extractor: str) -> tuple[str, str]:
    """trafilatura's balanced cascade, for an implausibly short text; taken only if clearly longer."""
    import trafilatura

    try:
        doc = trafilatura.bare_extraction(tree, url=url, prune_xpath=PRUNE_XPATH, **FALLBACK)
    except Exception:
        log.warning("fallback extraction failed for %s", url, exc_info=True)
        return text, extractor
    candidate = (getattr(doc, "text", None) or "").strip()
    words, gained = word_count(text), word_count(candidate)
    if gained > max(words * FALLBACK_GAIN, words + 10):
        return candidate, "trafilatura-fallback"
    return text, extractor


def _checked_against_feed(raw: bytes, url: str, text: str, extractor: str, title: str | None,
                          feed_summary: str | None) -> tuple[str, str]:
    """``text``, or trafilatura's defaults' text on the page as fetched when ours shares little with the feed's
    summary and the headline and that one shares much: on old table layouts our rules can keep the wrong
    block (an ad, an "Article Tools" box, a comment policy) where trafilatura's defaults find the article.
    A text of ours that holds the article is never given up for a longer one that also does."""
    evidence = {w for w in story_words(f"{title or ''} {html_text(feed_summary)}") if len(w) >= EVIDENCE_MIN_CHARS}
    if len(evidence) < EVIDENCE_MIN_WORDS or _evidence_share(evidence, text, title) >= EVIDENCE_SUSPECT:
        return text, extractor
    import trafilatura

    try:
        tree = load_page(raw)
        doc = trafilatura.bare_extraction(tree, url=url, **FALLBACK) if tree is not None else None
    except Exception:
        log.warning("extraction with trafilatura's defaults failed for %s", url, exc_info=True)
        return text, extractor
    candidate = restore_zwnj((getattr(doc, "text", None) or "").strip())
    if _evidence_share(evidence, candidate, title) >= EVIDENCE_TAKEN:
        return candidate, "trafilatura-defaults"
    return text, extractor


def _evidence_share(evidence: set[str], text: str, title: str | None) -> float:
    """The share of the ``evidence`` words found in ``text`` outside lines that repeat the headline."""
    key = comparable(title)
    body = "\n".join(line for line in text.splitlines() if comparable(line) != key)
    return len(evidence.intersection(story_words(body))) / len(evidence)


def _without_title_line(text: str, title: str | None) -> str:
    """``text`` without a first line that repeats the title (the title is its own field)."""
    first, _, rest = text.partition("\n")
    if title and rest and comparable(first) == comparable(title):
        return rest.lstrip("\n")
    return text


def _with_standfirst(text: str, standfirst: str | None) -> str:
    """The standfirst put back in front of ``text``, unless the text already holds it."""
    if not standfirst:
        return text
    standfirst = restore_zwnj(standfirst)
    key = comparable(standfirst)[:60]
    if key and key not in comparable(text):
        return f"{standfirst}\n{text}"
    return text
