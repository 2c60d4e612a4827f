"""Page to article: trafilatura with settings chosen for news pages, plus our own rules.

Every choice below was measured on the benchmark in bench/extraction (``evaluate.py``; the numbers are
in bench/RESULTS.md, section "Extraction"). Figures quoted here are shingle F1, micro-averaged over
its 48 article pages (22 replay pages, 26 pages written for evaluation); "-rule" is the score of our
whole path with that one rule switched off, against 0.987 as shipped (bare trafilatura: 0.927).

trafilatura settings (``PRIMARY``):
- ``favor_precision``: drops "Read also"/paywall/label lines that balanced mode keeps. With our rules in
  place: precision 0.987, balanced 0.982, favor_recall 0.979;
- ``include_comments=False``: ``bare_extraction`` keeps comments out of the text anyway, so this only
  spares extracting them (``trafilatura.extract`` appends them: its defaults lose 0.008 F1 to them);
- ``include_tables=True``: data tables are article text (0.982 without); link tables are pruned below;
- ``fast=True``: skips trafilatura's readability/jusText comparison on every page. It changed no text
  on the corpus; without it our path costs 1.31x more CPU. The comparison runs as our fallback instead,
  only where the text is implausibly short;
- ``deduplicate=False``: trafilatura's deduplication keeps a process-wide cache and drops any segment
  seen more than twice in the same worker process: a wire story republished by three outlets, or a page
  re-fetched after an update, lost paragraphs depending on the worker's history. Recurring lines of an
  outlet are handled deterministically by boilerplate.py instead.

What we add:
- fallback (-rule: 0.974, macro 0.943 vs 0.984): when the text is implausibly short - fewer than
  ``MIN_WORDS`` (the validation minimum, 50) words, or under a quarter of the words the page holds in
  <p> elements when those are 200+ - the page is extracted again with trafilatura's full balanced
  cascade (its readability-lxml fork, jusText, the JSON-LD/paragraph baseline, the recall retry), and
  that text is kept if clearly longer; ``Extracted.extractor`` says which produced the text. Each
  candidate alone on the corpus: that cascade F1 0.935, readability-lxml 0.915, trafilatura's baseline
  0.862, jusText 0.729 - hence the choice, and no new dependency. When trafilatura finds no text at
  all, its metadata is still extracted;
- the standfirst (-rule: 0.965): trafilatura drops the lead/standfirst paragraph, which sits above the
  body container (``<p class="lead|standfirst|dek|excerpt|...">``, or an element repeating the page's
  description); it is put back in front of the text when it is visible text outside navigation,
  links, list items and captions;
- link blocks are pruned before extraction (-rule: 0.970): lists and tables made mostly of links
  ("Most read", "Related News", "More from ...") with their short heading, and "label: <link>"
  paragraphs ("Read also: ...", "Lire aussi | ...", "Читайте также: ..."); trafilatura only drops
  link-rich tables of 200+ characters and keeps such lists and lines inside the article container;
- a first line repeating the title is dropped, the title is its own field (-rule: 0.980);
- layout tables (a cell holding 80+ words in block elements) become plain blocks, so an old table
  layout is not extracted as one giant table row with the menu and the footer (-rule: 0.985);
- ZWNJ (U+200C), which Persian, Pashto, Urdu and Kurdish spelling needs inside words, survives in the
  text: trafilatura deletes it as non-printable ("می‌گوید" became "میگوید"), so it is swapped for a
  printable stand-in before parsing and restored after (the metric ignores it; readers and search don't);
- the title falls back to the feed's title when the page's is missing or is just the site name; the
  feed's spelling wins when the two differ only in format characters; a "Site :: Headline" title is cut
  to the part the page shows as its headline (title accuracy 0.98, 0.96 without);
- the publication date comes from the page (htmldate through trafilatura); when htmldate finds only the
  day, the page's own structured timestamp (JSON-LD ``datePublished``, ``article:published_time`` and
  similar meta) gives the time if it falls on that day (minute accuracy 0.92, 0.52 without), else the
  feed's time if it does; a date known only to the day is stored at 12:00 UTC, so it falls on the right
  calendar day from UTC-11 to UTC+11; the source of the date is recorded ("page", "feed" or "none");
- the author: people named in the page's JSON-LD win over trafilatura's guess (which merges the meta
  author, often the publisher, with the byline); labels such as "By", "Von", "Автор:" are stripped
  (author accuracy 0.94, 0.81 without);
- the language comes from the page's own declaration, else from detection on the text;
- the page's ``<link rel=canonical>`` is honoured when it stays on the outlet's site.
"""

from __future__ import annotations

import json
import logging
import re
import unicodedata
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from lxml import etree

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
MIN_WORDS = 50  # validation minimum: a text shorter than this is implausible for an article page
FALLBACK_GAIN = 1.3  # the fallback's text must be this much longer (and 10+ words longer) to be taken
SHORT_SHARE = 0.25  # ... or a text under this share of the words the page holds in <p> elements
SHORT_SHARE_MIN_PAGE_WORDS = 200  # (only on pages with at least this many)
LINK_BLOCK_DENSITY = 0.8  # share of a list's or table's text inside links above which it is a link list
LINK_BLOCK_MIN_LINKS = 2
LINK_BLOCK_HEADING_WORDS = 6  # a box holding a link list and at most this many other words goes too
LINK_LINE_MAX_WORDS = 30  # "Read also: <link>" paragraphs: at most this long ...
LINK_LINE_LABEL_WORDS = 4  # ... with at most this many words before the link
LAYOUT_CELL_WORDS = 80  # a table cell holding this many words in block elements makes a layout table
STANDFIRST_WORDS = (8, 120)  # a standfirst found by its class: words, min and max
DESCRIPTION_MIN_WORDS = 5  # a standfirst found because it repeats the page description
PRUNE_ATTR = "data-mm-prune"
PRUNE_XPATH = f"//*[@{PRUNE_ATTR}]"
ZWNJ, ZWNJ_STAND_IN = "\u200c", "\u034f"  # U+034F (combining grapheme joiner) is printable, so kept
ZWNJ_ENTITIES = (b"&zwnj;", b"&#8204;", b"&#x200c;", b"&#x200C;")

PRIMARY: dict[str, Any] = {
    "include_comments": False,
    "include_tables": True,
    "favor_precision": True,
    "fast": True,
    "deduplicate": False,
}
FALLBACK: dict[str, Any] = {"include_comments": False, "include_tables": True, "fast": False, "deduplicate": False}
# keep the time of day and offset when the page gives them, and prefer the original date
DATE_PARAMS = {"extensive_search": True, "original_date": True, "outputformat": "%Y-%m-%dT%H:%M:%S%z"}

STANDFIRST_CLASS_TOKENS = frozenset({
    "lead", "lede", "standfirst", "dek", "deck", "excerpt", "summary", "subtitle", "subheadline", "intro",
    "chapo", "chapeau", "strapline", "sapo", "entradilla", "bajada", "announce", "anons", "desc", "description",
    "abstract",
})
NOT_STANDFIRST_TOKENS = frozenset({
    "site", "footer", "widget", "sidebar", "menu", "nav", "card", "related", "promo", "author", "bio", "comment",
    "comments", "caption", "credit", "copyright", "meta", "byline", "image", "img", "photo", "media", "video",
    "newsletter", "subscribe", "ad", "ads", "teaser", "list", "item", "share",
})
EXCLUDED_ANCESTORS = frozenset({"nav", "aside", "footer", "figure", "figcaption", "a", "button", "form", "label", "li",
                                "noscript", "template", "select"})
MEDIA_TAGS = ("img", "picture", "figure", "video", "iframe", "svg")
BLOCK_TAGS = frozenset({"div", "p", "table", "ul", "ol", "section", "article", "h1", "h2", "h3", "h4", "blockquote",
                        "br"})
ARTICLE_TYPES = ("Article", "BlogPosting", "LiveBlogPosting", "Report")
PUBLISHED_META = frozenset({
    "article:published_time", "og:article:published_time", "datepublished", "pubdate", "publishdate",
    "publish-date", "publish_date", "published_time", "dc.date.issued", "dcterms.issued", "sailthru.date",
    "parsely-pub-date", "article.published", "date",
})
AUTHOR_LABEL_RE = re.compile(
    r"^(?:by|written by|von|par|por|door|av|автор|авторы|автор материала|текст|author|authors|muallif|"
    r"بقلم|نویسنده|لیکوال|تحریر)\s*[:：]?\s+", re.IGNORECASE)
TITLE_SEPARATORS_RE = re.compile(r"\s+(?:\||::|—|–|-|»|·|/|:)\s+")
HEADLINE_XPATH = etree.XPath(
    "//body//*[self::div or self::span or self::p or self::h2 or self::td]"
    "[contains(@class, 'title') or contains(@class, 'headline')][not(ancestor::a)]")


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
    extractor: str = "trafilatura"  # "trafilatura", "trafilatura-fallback" (balanced cascade) or "none"

    def to_json(self) -> dict[str, object]:
        data = asdict(self)
        data["date"] = self.published.isoformat() if self.published else None
        data.pop("published")
        return data


@dataclass
class _PageFacts:
    """What we read from the page ourselves, before trafilatura."""

    standfirst: str | None = None
    headlines: list[str] = field(default_factory=list)
    published: datetime | None = None  # a timezone-aware structured timestamp
    people: list[str] = field(default_factory=list)  # authors named as persons in JSON-LD


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
    facts = _PageFacts()
    text, extractor = "", "none"
    try:
        tree, facts, paragraph_words = _prepared(raw, url)
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
    text = _restore_zwnj(text)
    sitename = _clean(getattr(doc, "sitename", None))
    # the title keeps trafilatura's spelling without ZWNJ (test_extract pins it); the feed's restores it
    title = _page_title(_clean_title(getattr(doc, "title", None)), facts.headlines)
    feed_title = _clean(feed_title)
    if not title or (sitename and title.casefold() == sitename.casefold()):
        title = feed_title or title
    elif feed_title and _strip_format(title) == _strip_format(feed_title):
        title = feed_title  # the publisher's spelling, with format characters trafilatura dropped
    if text:
        text = _with_standfirst(_without_title_line(text, title), facts.standfirst)
    published, date_source = _published(getattr(doc, "date", None), facts.published, feed_published)
    language, language_source = _language(raw, text)
    return Extracted(
        url=url,
        canonical_url=_canonical(url, getattr(doc, "url", None)),
        title=title,
        author=_author(getattr(doc, "author", None), facts.people),
        published=published,
        date_source=date_source,
        language=language,
        language_source=language_source,
        text=text,
        word_count=len(text.split()),
        sitename=sitename,
        description=_clean(getattr(doc, "description", None)),
        extractor=extractor,
    )


def _prepared(raw: bytes, url: str, *, quiet: bool = False) -> tuple[Any, _PageFacts, int]:
    """The page's tree with our rules applied (link blocks marked, layout tables unwrapped), what the rules
    read of it, and the words of its paragraphs; (None, ..., 0) for a page lxml can't parse."""
    import trafilatura

    tree = trafilatura.load_html(_protect_zwnj(raw))
    facts, paragraph_words = _PageFacts(), 0
    if tree is None:
        return None, facts, 0
    try:
        facts = _read_page(tree)
        paragraph_words = _mark_link_blocks(tree)
        _unwrap_layout_tables(tree)
    except Exception:  # our rules must never cost the article: go on with plain trafilatura
        if not quiet:
            log.warning("page rules failed for %s", url, exc_info=True)
    return tree, facts, paragraph_words


def _implausibly_short(text: str, paragraph_words: int) -> bool:
    """Under the validation minimum, or a small part of a page that holds much paragraph text."""
    words = len(text.split())
    return words < MIN_WORDS or (paragraph_words >= SHORT_SHARE_MIN_PAGE_WORDS
                                 and words < SHORT_SHARE * paragraph_words)


def _fallback(tree: Any, url: str, text: str, extractor: str) -> tuple[str, str]:
    """trafilatura's balanced cascade, for a text under MIN_WORDS; taken only if clearly longer."""
    import trafilatura

    try:
        doc = trafilatura.bare_extraction(tree, url=url, prune_xpath=PRUNE_XPATH, **FALLBACK)
    except Exception:
        log.warning("fallback extraction failed for %s", url, exc_info=True)
        return text, extractor
    candidate = (getattr(doc, "text", None) or "").strip()
    words, gained = len(text.split()), len(candidate.split())
    if gained > max(words * FALLBACK_GAIN, words + 10):
        return candidate, "trafilatura-fallback"
    return text, extractor


# --- reading the page --------------------------------------------------------------------------------------

def _clean(value: str | None) -> str | None:
    if not value:
        return None
    value = " ".join(_restore_zwnj(value).split())
    return value or None


def _clean_title(value: str | None) -> str | None:
    return _clean(value.replace(ZWNJ_STAND_IN, "")) if value else None


def _strip_format(value: str | None) -> str:
    """``value`` without Unicode format characters (ZWNJ, ZWJ, bidi marks)."""
    return "".join(ch for ch in value or "" if unicodedata.category(ch) != "Cf")


def _norm(value: str | None) -> str:
    """Comparison form: spaces collapsed, format characters and the ZWNJ stand-in dropped, case-folded."""
    value = " ".join((value or "").split())
    if not value.isprintable():  # format characters are not printable: only then is there one to drop
        value = _strip_format(value)
    return value.replace(ZWNJ_STAND_IN, "").casefold()


def _protect_zwnj(raw: bytes) -> bytes:
    """Swap ZWNJ for a printable stand-in that trafilatura keeps (UTF-8 pages; others are left alone)."""
    if ZWNJ_STAND_IN.encode() in raw:
        return raw
    has_char = ZWNJ.encode() in raw
    has_entity = any(entity in raw for entity in ZWNJ_ENTITIES)  # not just "&#": most pages have &#39;
    if not has_char and not has_entity:
        return raw
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw
    if has_char:
        raw = raw.replace(ZWNJ.encode(), ZWNJ_STAND_IN.encode())
    if has_entity:
        for entity in ZWNJ_ENTITIES:
            raw = raw.replace(entity, b"&#847;")
    return raw


def _restore_zwnj(value: str) -> str:
    return value.replace(ZWNJ_STAND_IN, ZWNJ) if value else value


def _words(value: str) -> int:
    return len(value.split())


def _read_page(tree: Any) -> _PageFacts:
    facts = _PageFacts()
    description = None
    for meta in tree.iter("meta"):
        key = (meta.get("property") or meta.get("name") or meta.get("itemprop") or "").lower()
        if not key:
            continue
        if key in ("og:description", "description", "twitter:description") and not description:
            description = meta.get("content")
        elif key in PUBLISHED_META and facts.published is None:
            facts.published = _aware(meta.get("content"))
    for script in tree.iter("script"):
        if (script.get("type") or "").lower() == "application/ld+json" and script.text:
            _read_json_ld(script.text, facts)
    facts.headlines = [t for h1 in tree.iter("h1") if (t := " ".join(h1.text_content().split()))][:3]
    if not facts.headlines:  # old templates: <div class="newstitle">, <span class="headline">
        facts.headlines = [t for el in HEADLINE_XPATH(tree) if 0 < _words(t := " ".join(el.text_content().split()))
                           <= 40][:5]
    facts.standfirst = _standfirst(tree, description)
    return facts


def _read_json_ld(raw: str, facts: _PageFacts) -> None:
    try:
        data = json.loads(raw, strict=False)
    except ValueError:
        return
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(reversed(item))
            continue
        if not isinstance(item, dict):
            continue
        if "@graph" in item:
            stack.append(item["@graph"])
        kinds = item.get("@type")
        kinds = kinds if isinstance(kinds, list) else [kinds]
        if not any(isinstance(k, str) and k.endswith(ARTICLE_TYPES) for k in kinds):
            continue
        published = _aware(item.get("datePublished"))
        if published and facts.published is None:
            facts.published = published
        authors = item.get("author")
        for author in authors if isinstance(authors, list) else [authors]:
            if isinstance(author, dict) and author.get("@type", "Person") == "Person":
                name = _clean(str(author.get("name") or ""))
                if name and name not in facts.people:
                    facts.people.append(name)


def _aware(value: Any) -> datetime | None:
    """A timezone-aware datetime from an ISO 8601 string, or None (no time zone means unplaceable)."""
    if not isinstance(value, str) or len(value) < 16:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else None


def _class_tokens(el: Any) -> set[str]:
    """The words of an element's class names: "article-lead sub_title" -> {"article", "lead", "sub", "title"}."""
    value = el.get("class")
    if not value:
        return set()
    tokens = set(_CLASS_WORD_SEPARATORS_RE.split(value.lower()))
    tokens.discard("")
    return tokens


_CLASS_WORD_SEPARATORS_RE = re.compile(r"[-_\s]+")


def _standfirst(tree: Any, description: str | None) -> str | None:
    """The visible lead paragraph above the body: a lead/standfirst-like class, or the page description."""
    want = _norm(description).rstrip(".…") if description else ""
    want = want[:-3] if want.endswith("...") else want
    want = want if len(want) >= 20 else ""  # a shorter description is no evidence of a standfirst
    for el in tree.iter("p", "div", "h2", "span"):
        tokens = _class_tokens(el)
        by_class = bool(tokens & STANDFIRST_CLASS_TOKENS) and not tokens & NOT_STANDFIRST_TOKENS
        if not by_class and not want:
            continue
        if el.tag in ("div", "span") and any(child.tag in BLOCK_TAGS and child.tag != "p" for child in el):
            continue  # a container, not a paragraph
        text = " ".join(el.text_content().split())
        n = _words(text)
        if by_class:
            ok = STANDFIRST_WORDS[0] <= n <= STANDFIRST_WORDS[1]
        else:
            ok = n >= DESCRIPTION_MIN_WORDS and _norm(text).startswith(want)
        if not ok or next(el.iter(*MEDIA_TAGS), None) is not None:
            continue
        if any(anc.tag in EXCLUDED_ANCESTORS or _class_tokens(anc) & {"site", "footer", "sidebar", "widget"}
               for anc in el.iterancestors()):
            continue
        return text
    return None


def _mark_link_blocks(tree: Any) -> int:
    """Mark for pruning: link lists and tables (with their short heading), and "label: <link>" lines.

    Returns the number of words in the page's other <p> elements (the fallback's measure of the page).
    """
    for block in tree.iter("table", "ul", "ol"):
        if block.get(PRUNE_ATTR):
            continue
        links = [a for a in block.iter("a") if a.text_content().strip()]
        if len(links) < LINK_BLOCK_MIN_LINKS:
            continue
        text_len = len("".join(block.text_content().split()))
        link_len = sum(len("".join(a.text_content().split())) for a in links)
        if text_len == 0 or link_len < LINK_BLOCK_DENSITY * text_len:
            continue
        target = block
        for _ in range(2):  # a "Related News" box: a short heading and the list, nothing else
            parent = target.getparent()
            if parent is None or parent.tag not in ("div", "section", "aside", "nav") or len(parent) > 4:
                break
            others = _words(parent.text_content()) - _words(target.text_content())
            if others > LINK_BLOCK_HEADING_WORDS:
                break
            target = parent
        target.set(PRUNE_ATTR, "1")
    paragraph_words = 0
    for p in tree.iter("p"):
        total = _words(p.text_content())
        paragraph_words += total
        if total == 0 or total > LINK_LINE_MAX_WORDS or next(p.iter("a"), None) is None:
            continue
        link_words = sum(_words(a.text_content()) for a in p.iter("a"))
        if link_words * 2 < total:
            continue
        before, after = _around_links(p)
        label = before.strip()
        if _words(label) > LINK_LINE_LABEL_WORDS or _words(after) > 0:
            continue
        if label and not label.endswith((":", "|", "–", "—", "-", "»", ">", "：")):
            continue  # "The <a>whole sentence linked</a>." is text, not a label and a link
        p.set(PRUNE_ATTR, "1")
        paragraph_words -= total
    return paragraph_words


def _around_links(p: Any) -> tuple[str, str]:
    """The text of ``p`` before its first link and after its last link."""
    before: list[str] = []
    after: list[str] = []
    seen_link = False
    for chunk in p.xpath(".//text()"):
        node = chunk.getparent()
        if chunk.is_tail:
            node = node.getparent()  # a tail belongs to the element's parent
        if node is not None and (node.tag == "a" or any(anc.tag == "a" for anc in node.iterancestors())):
            seen_link = True
            after.clear()
        elif seen_link:
            after.append(chunk)
        else:
            before.append(chunk)
    return "".join(before), "".join(after)


def _unwrap_layout_tables(tree: Any) -> None:
    """Turn layout tables (a cell with 80+ words in block elements) into plain blocks."""
    for table in list(tree.iter("table")):
        if table.get(PRUNE_ATTR) or table.tag != "table":
            continue
        cells = [cell for row in _rows(table) for cell in row if cell.tag in ("td", "th")]
        if not any(any(child.tag in BLOCK_TAGS for child in cell) and _words(cell.text_content()) >= LAYOUT_CELL_WORDS
                   for cell in cells):
            continue
        for row in _rows(table):
            row.tag = "div"
        for el in [*cells, *(c for c in table if c.tag in ("tbody", "thead", "tfoot")), table]:
            el.tag = "div"


def _rows(table: Any) -> list[Any]:
    """The rows of ``table`` itself, not of tables nested in its cells."""
    rows = []
    for child in table:
        if child.tag == "tr":
            rows.append(child)
        elif child.tag in ("tbody", "thead", "tfoot"):
            rows.extend(r for r in child if r.tag == "tr")
    return rows


# --- assembling the result ---------------------------------------------------------------------------------

def _page_title(title: str | None, headlines: list[str]) -> str | None:
    """Cut "Site :: Headline" to the headline when the page shows that part as its headline."""
    if not title or not TITLE_SEPARATORS_RE.search(title) or title in headlines:
        return title
    parts = [p.strip() for p in TITLE_SEPARATORS_RE.split(title) if p.strip()]
    for part in sorted(parts, key=len, reverse=True):
        if any(_norm(part) == _norm(h) for h in headlines):
            return part
    return title


def _without_title_line(text: str, title: str | None) -> str:
    first, _, rest = text.partition("\n")
    if title and rest and _norm(first) == _norm(title):
        return rest.lstrip("\n")
    return text


def _with_standfirst(text: str, standfirst: str | None) -> str:
    if not standfirst:
        return text
    standfirst = _restore_zwnj(standfirst)
    key = _norm(standfirst)[:60]
    if key and key not in _norm(text):
        return f"{standfirst}\n{text}"
    return text


def _author(value: str | None, people: list[str]) -> str | None:
    if people:
        return "; ".join(people)
    value = _clean(value)
    if not value:
        return None
    names = []
    for name in value.split(";"):
        name = AUTHOR_LABEL_RE.sub("", name.strip()).strip()
        if name and name not in names:
            names.append(name)
    return "; ".join(names) or None


def _published(page_date: str | None, structured: datetime | None,
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
