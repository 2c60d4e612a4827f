"""Helpers shared by the matchers: whole-word patterns in any script, spelling folds, and snippets."""

from __future__ import annotations

import re

SNIPPET_CHARS = 90  # each side of the match: about a line of context in the digest

# A word character in any script: letters, digits, combining marks. Python's \w covers Cyrillic,
# Arabic and the rest, so these lookarounds give whole-word matches beyond ASCII.
WORD_START = r"(?<!\w)"
WORD_END = r"(?![\w])"

# Arabic writes the conjunctions wa-/fa- and the prepositions bi-/li-/ka- as one word with the noun
# ("وأفغانستان" = "and Afghanistan"), so a name in Arabic script may follow one proclitic, or wa-/fa-
# plus one preposition. Persian writes its prepositions apart, so this only widens Persian matches
# by forms that are rare there. Each branch is a fixed-width lookbehind, as Python's re requires, so
# the proclitic stays outside the match and the span still points at the name itself.
ARABIC_WORD_START = r"(?:(?<!\w)|(?<=(?<!\w)[وفبلك])|(?<=(?<!\w)[وف][بلك]))"

# Letters that Arabic and Persian (Dari) spell differently, and the hamza-carrying alefs that writers
# often drop: "أفغانستان" / "افغانستان", "كابول" / "کابول", "آمریکا" / "امریکا". Patterns accept every
# member of a class; lookups fold each member to the first one.
ARABIC_LETTER_CLASSES = ("يیى", "كک", "اأإآ", "هة")
_FOLD = {ch: cls[0] for cls in ARABIC_LETTER_CLASSES for ch in cls[1:]}
_CLASS_OF = {ch: cls for cls in ARABIC_LETTER_CLASSES for ch in cls}
# Short vowels, shadda, sukun, superscript alef and the hamza/madda marks: data files write them
# ("الاتّحاد"), running text almost never does, so names are matched without them.
ARABIC_MARKS_RE = re.compile("[\u064b-\u065f\u0670\u0640]")  # the last one is tatweel (kashida)


def is_arabic_script(text: str) -> bool:
    """True when the first letter of ``text`` is in the Arabic block (Arabic, Persian, Pashto, Urdu)."""
    for ch in text:
        if ch.isalpha():
            return "\u0600" <= ch <= "\u06ff"
    return False


def strip_arabic_marks(text: str) -> str:
    return ARABIC_MARKS_RE.sub("", text)


def fold(text: str) -> str:
    """The lookup key of a name as written: spaces collapsed, Arabic/Persian letter variants folded."""
    return "".join(_FOLD.get(ch, ch) for ch in " ".join(text.split()))


def whole_word(pattern: str, *, arabic: bool = False) -> str:
    """``pattern`` as a whole word; ``arabic`` also lets it follow an attached Arabic proclitic."""
    start = ARABIC_WORD_START if arabic else WORD_START
    return f"{start}(?:{pattern}){WORD_END}"


def snippet(text: str, start: int, end: int, width: int = SNIPPET_CHARS) -> str:
    """The match with about ``width`` characters each side, cut at spaces, on one line."""
    left = max(0, start - width)
    right = min(len(text), end + width)
    if left > 0:
        space = text.find(" ", left, start)
        left = space + 1 if space != -1 else left
    if right < len(text):
        space = text.rfind(" ", end, right)
        right = space if space != -1 else right
    body = " ".join(text[left:right].split())
    return ("…" if left > 0 else "") + body + ("…" if right < len(text) else "")


def _char(ch: str) -> str:
    cls = _CLASS_OF.get(ch)
    return f"[{cls}]" if cls else re.escape(ch)


def literal(text: str) -> str:
    """An alias as a regex: escaped, any run of spaces matching any whitespace, and the Arabic/Persian
    letter variants of :data:`ARABIC_LETTER_CLASSES` matching each other."""
    return r"\s+".join("".join(_char(ch) for ch in part) for part in text.split())
