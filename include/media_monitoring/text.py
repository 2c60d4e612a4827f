"""Text normalisation shared by extraction, boilerplate learning, tagging, stories and search.

Every room compares text written by different hands: a page's title with the feed's, an outlet's
template line with last week's, a place name as the gazetteer spells it with the article, one agency's
copy with another's rewrite, a query with the index. The building blocks live here once: format
characters, Arabic-script spelling variants and marks, word tokens, word counts. So does each
comparison form, and the forms differ on purpose:

- :func:`fold` (tagging: names): spaces collapsed, Arabic/Persian letter variants folded. Case stays,
  because the matchers decide per name whether case matters ("Turkey" the country, "turkey" the bird).
- :func:`compare_form` (extraction: a title against the page's headline or the feed's title, a
  standfirst against the text): spaces collapsed, format characters dropped, case folded; punctuation
  stays, since these are the same sentence or not at all.
- :func:`line_form` (boilerplate): word tokens only, NFKC, format characters dropped, case folded,
  every digit ``0``, so "© 2021 Outlet." and "© 2024 outlet" are one template line. Arabic spelling is
  not folded: an outlet repeats its own template letter for letter. Learnt templates are stored as
  hashes of these forms, so changing this forgets them.
- :func:`story_words` (story signatures): word tokens, NFKC, format characters and Arabic vowel marks
  dropped, letter variants and case folded: two outlets spell the same words differently. Digits stay,
  since figures tell one news item from the next. Stored signatures depend on it (see
  ``tagging.signatures.SIGNATURE_VERSION``).
- :func:`title_form` (same-outlet headlines, folded into one article by :func:`title_key`): word tokens
  only, case folded; punctuation and spacing do not count, so "Lavrov: CSTO ready" and "Lavrov - CSTO
  Ready" are one headline. Stored as the article's ``title_key``.
- :func:`duplicate_key` (exact duplicates): the text as a reader sees it, ignoring only Unicode form,
  case and spacing: punctuation and every word count. Stored as the article's ``text_hash``.
- :func:`search_tokens` (the search query language): tokens as the search engines index text, not as
  we compare it: a format character (the Persian ZWNJ) separates two tokens rather than joining them.

Pure functions, no Airflow, no I/O.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

import regex

from media_monitoring.rules import ARTICLE_KEY_CHARS

WORD_RE = re.compile(r"\w+")  # a word: what Python calls word characters, in any script
DIGIT_RE = re.compile(r"\d")
# Format characters (Unicode category Cf: ZWNJ, ZWJ, bidi marks, the soft hyphen) join or order the
# letters either side for a reader and show nothing themselves.
FORMAT_CHARACTERS_RE = regex.compile(r"\p{Cf}+")

# Letters that Arabic and Persian (Dari) spell differently, and the hamza-carrying alefs that writers
# often drop: "أفغانستان" / "افغانستان", "كابول" / "کابول", "آمریکا" / "امریکا". Patterns accept every
# member of a class; lookups fold each member to the first one.
ARABIC_LETTER_CLASSES = ("يیى", "كک", "اأإآ", "هة")
_FOLD = {ch: cls[0] for cls in ARABIC_LETTER_CLASSES for ch in cls[1:]}
_FOLD_TABLE = str.maketrans(_FOLD)
_FOLDED_RE = re.compile(f"[{''.join(_FOLD)}]")  # the letters fold_letters changes
# Short vowels, shadda, sukun, superscript alef and the hamza/madda marks: data files write them
# ("الاتّحاد"), running text almost never does, so names are matched without them.
ARABIC_MARKS_RE = re.compile("[\u064b-\u065f\u0670\u0640]")  # the last one is tatweel (kashida)
# The Arabic block: every letter is_arabic_script() looks for, and every character the folds and marks
# above change. Text without one needs neither, and cannot hold an Arabic-script name.
ARABIC_BLOCK_RE = re.compile("[\u0600-\u06ff]")
TITLE_KEY_MIN_WORDS = 3  # shorter headlines ("Live", "Breaking news") are shared by unrelated articles


# --- building blocks ------------------------------------------------------------------------------------


def word_count(text: str) -> int:
    """Words as the article limits count them (:mod:`media_monitoring.rules`): runs of non-space characters."""
    return len(text.split())


def strip_format(text: str) -> str:
    """``text`` without Unicode format characters (ZWNJ, ZWJ, bidi marks, the soft hyphen)."""
    # no format character is printable, and most text is: that text is returned without a pass over it
    return text if text.isprintable() else FORMAT_CHARACTERS_RE.sub("", text)


def is_arabic_script(text: str) -> bool:
    """True when the first letter of ``text`` is in the Arabic block (Arabic, Persian, Pashto, Urdu)."""
    for ch in text:
        if ch.isalpha():
            return "\u0600" <= ch <= "\u06ff"
    return False


def strip_arabic_marks(text: str) -> str:
    """``text`` without Arabic vowel marks and tatweel (:data:`ARABIC_MARKS_RE`)."""
    return ARABIC_MARKS_RE.sub("", text)


def fold(text: str) -> str:
    """The lookup key of a name as written: spaces collapsed, Arabic/Persian letter variants folded."""
    return fold_letters(" ".join(text.split()))


def fold_letters(text: str) -> str:
    """:func:`fold` without collapsing spaces (for a whole article searched for single words)."""
    # most text holds none of these letters; translate looks up every character, so only where one occurs
    return text.translate(_FOLD_TABLE) if _FOLDED_RE.search(text) else text


# --- comparison forms (each differs from the others on purpose: see the module's docstring) -----------------


def compare_form(value: str | None) -> str:
    """Extraction's comparison form of a short string: spaces collapsed, format characters dropped,
    case folded."""
    return strip_format(" ".join((value or "").split())).casefold()


def line_form(line: str) -> str:
    """Boilerplate's comparison form of a line: word tokens, case-folded, without format characters,
    digits as 0."""
    line = strip_format(unicodedata.normalize("NFKC", line))
    return " ".join(WORD_RE.findall(DIGIT_RE.sub("0", line.casefold())))


def story_words(text: str | None) -> list[str]:
    """The words of ``text`` as story signatures see them: NFKC, no format characters, no Arabic vowel
    marks, Arabic/Persian letter variants folded (ي/ی, ك/ک, أ/ا), case folded; punctuation and symbols
    are dropped."""
    text = strip_arabic_marks(strip_format(unicodedata.normalize("NFKC", text or "")))
    return WORD_RE.findall(fold_letters(text).casefold())


def title_form(title: str | None) -> str:
    """The comparison form of a headline: its word tokens, case folded, one space apart."""
    return " ".join(WORD_RE.findall((title or "").casefold()))


def title_key(title: str | None) -> str | None:
    """Headline identity for folding one outlet's re-posts (:func:`title_form`, hashed); None for a
    headline of fewer than :data:`TITLE_KEY_MIN_WORDS` words."""
    form = title_form(title)
    if len(form.split()) < TITLE_KEY_MIN_WORDS:
        return None
    return hashlib.sha256(form.encode()).hexdigest()[:ARTICLE_KEY_CHARS]


def duplicate_key(text: str | None) -> str:
    """The exact-duplicate form of an article body: Unicode normalised (NFKC), case folded, whitespace
    collapsed. Punctuation and words count."""
    return " ".join(unicodedata.normalize("NFKC", text or "").casefold().split())


def _is_search_word_char(char: str) -> bool:
    # Letters, digits and marks (Arabic harakat, Devanagari vowel signs) belong to words. Format characters
    # such as the zero-width non-joiner separate, as in FTS5's unicode61 tokenizer and PostgreSQL's parser.
    return unicodedata.category(char)[0] in "LNM"


def search_tokens(text: str) -> tuple[str, ...]:
    """The lowercase word tokens of ``text`` as the search engines split it (NFKC first: Arabic
    presentation forms become letters)."""
    out: list[str] = []
    current: list[str] = []
    for char in unicodedata.normalize("NFKC", text).lower():
        if _is_search_word_char(char):
            current.append(char)
        elif current:
            out.append("".join(current))
            current = []
    if current:
        out.append("".join(current))
    return tuple(out)
