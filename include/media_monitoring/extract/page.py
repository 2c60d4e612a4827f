"""The page before trafilatura: what we read of it ourselves, and what our rules prune or unwrap in its tree.

trafilatura deletes ZWNJ (U+200C) as non-printable, though Persian, Pashto, Urdu and Kurdish spelling
needs it inside words, so the raw page gets a printable stand-in for it before parsing
(:func:`restore_zwnj` puts it back). Then, on the parsed tree: the facts our rules use (headlines, the
standfirst, JSON-LD authors and timestamps), link lists and "label: <link>" lines marked for pruning,
and layout tables turned into plain blocks. The measured effect of each rule is in the package's docstring.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import lxml.html
from lxml import etree

from media_monitoring.text import compare_form, word_count

log = logging.getLogger(__name__)

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
HEADLINE_XPATH = etree.XPath(
    "//body//*[self::div or self::span or self::p or self::h2 or self::td]"
    "[contains(@class, 'title') or contains(@class, 'headline')][not(ancestor::a)]")
_CLASS_WORD_SEPARATORS_RE = re.compile(r"[-_\s]+")


@dataclass
class PageFacts:
    """What we read from the page ourselves, before trafilatura."""

    standfirst: str | None = None
    headlines: list[str] = field(default_factory=list)
    html_title: str | None = None  # the <title> element, as written (trafilatura may keep only a part of it)
    published: datetime | None = None  # a timezone-aware structured timestamp
    people: list[str] = field(default_factory=list)  # authors named as persons in JSON-LD


def prepare_page(raw: bytes, url: str, *, quiet: bool = False) -> tuple[Any, PageFacts, int]:
    """The page's tree with our rules applied (link blocks marked, layout tables unwrapped), what the rules
    read of it, and the words of its paragraphs; (None, ..., 0) for a page lxml can't parse."""
    tree = load_page(raw)
    facts, paragraph_words = PageFacts(), 0
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


def load_page(raw: bytes) -> Any:
    """The page's tree as trafilatura parses it, with the ZWNJ stand-in, before any of our rules; None for a
    page lxml can't parse."""
    import trafilatura

    return trafilatura.load_html(_protect_zwnj(raw))


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


def restore_zwnj(value: str) -> str:
    """``value`` with the ZWNJ stand-in turned back into ZWNJ."""
    return value.replace(ZWNJ_STAND_IN, ZWNJ) if value else value


def clean_field(value: str | None) -> str | None:
    """A field as stored: ZWNJ restored, spaces collapsed, None when nothing is left."""
    if not value:
        return None
    value = " ".join(restore_zwnj(value).split())
    return value or None


def html_text(value: str | None) -> str:
    """The text of an HTML fragment or of plain text (a feed's summary may be either); "" for none."""
    if not value or not value.strip():
        return ""
    try:
        fragment = lxml.html.fragment_fromstring(value, create_parent="div")
    except (etree.ParserError, ValueError):  # not markup lxml can read: taken as text
        return value
    return " ".join(" ".join(fragment.itertext()).split())  # "<p>one</p><p>two</p>": "one two"


def comparable(value: str | None) -> str:
    """Extraction's comparison form (:func:`media_monitoring.text.compare_form`), without the ZWNJ stand-in."""
    return compare_form(value).replace(ZWNJ_STAND_IN, "")


def _read_page(tree: Any) -> PageFacts:
    facts = PageFacts()
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
    title = tree.find(".//head//title")
    if title is not None:
        facts.html_title = " ".join(title.text_content().split()) or None
    facts.headlines = [t for h1 in tree.iter("h1") if (t := " ".join(h1.text_content().split()))][:3]
    if not facts.headlines:  # old templates: <div class="newstitle">, <span class="headline">
        facts.headlines = [t for el in HEADLINE_XPATH(tree) if 0 < word_count(t := " ".join(el.text_content().split()))
                           <= 40][:5]
    facts.standfirst = _standfirst(tree, description)
    return facts


def _read_json_ld(raw: str, facts: PageFacts) -> None:
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
                name = clean_field(str(author.get("name") or ""))
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


def _standfirst(tree: Any, description: str | None) -> str | None:
    """The visible lead paragraph above the body: a lead/standfirst-like class, or the page description."""
    want = comparable(description).rstrip(".…") if description else ""
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
        n = word_count(text)
        if by_class:
            ok = STANDFIRST_WORDS[0] <= n <= STANDFIRST_WORDS[1]
        else:
            ok = n >= DESCRIPTION_MIN_WORDS and comparable(text).startswith(want)
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
            others = word_count(parent.text_content()) - word_count(target.text_content())
            if others > LINK_BLOCK_HEADING_WORDS:
                break
            target = parent
        target.set(PRUNE_ATTR, "1")
    paragraph_words = 0
    for p in tree.iter("p"):
        total = word_count(p.text_content())
        paragraph_words += total
        if total == 0 or total > LINK_LINE_MAX_WORDS or next(p.iter("a"), None) is None:
            continue
        link_words = sum(word_count(a.text_content()) for a in p.iter("a"))
        if link_words * 2 < total:
            continue
        before, after = _around_links(p)
        label = before.strip()
        if word_count(label) > LINK_LINE_LABEL_WORDS or word_count(after) > 0:
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
        if not any(any(child.tag in BLOCK_TAGS for child in cell)
                   and word_count(cell.text_content()) >= LAYOUT_CELL_WORDS for cell in cells):
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
