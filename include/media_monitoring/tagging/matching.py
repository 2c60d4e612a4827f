"""Helpers shared by the matchers: whole-word patterns in any script, name tries, Russian case forms and
evidence snippets. How names and text are normalised (spelling folds, Arabic marks) is
:mod:`media_monitoring.text`'s."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from media_monitoring.text import ARABIC_LETTER_CLASSES

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
_CLASS_OF = {ch: cls for cls in ARABIC_LETTER_CLASSES for ch in cls}  # patterns accept every member of a class


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


# Russian declines place names, so "Таджикистан" is also written "Таджикистана", "Таджикистану",
# "Таджикистане"... These endings cover the nouns and adjectives that name countries and cities; a form
# that Russian never uses ("Казахстанем") costs nothing, since it never occurs in text either.
RUSSIAN_CONSONANTS = "бвгджзклмнпрстфхцчшщ"
RUSSIAN_VELARS_SIBILANTS = "гкхжшчщ"  # after these the genitive ending -ы is spelt -и (Америки)
# ...and -о, the first half of a compound adjective: «таджикско-афганская граница».
RUSSIAN_ADJECTIVE_ENDINGS = ("ий", "ая", "ое", "ие", "ого", "ой", "ому", "ую", "им", "ом", "их", "ими", "о")


def russian_forms(name: str) -> tuple[str, ...]:
    """The case forms of a one-word Russian place name or demonym adjective, given its nominative.

    Multi-word names ("Российская Федерация") and indeclinable ones ("Душанбе", "Перу", "США") give
    none: their forms are listed in the data where needed.
    """
    if " " in name or not name[-1:].islower() or not ("а" <= name[-1] <= "я" or name[-1] == "ё"):
        return ()
    if name.endswith(("ский", "цкий")):
        return tuple(name[:-2] + e for e in RUSSIAN_ADJECTIVE_ENDINGS if name[:-2] + e != name)
    stem, last = name[:-1], name[-1]
    if name.endswith(("ия", "ья")):
        endings: tuple[str, ...] = ("и", "ю", "ей", "е")
    elif last == "а":
        endings = ("и" if stem[-1:] in RUSSIAN_VELARS_SIBILANTS else "ы", "е", "у", "ой")
    elif last == "я":
        endings = ("и", "е", "ю", "ей")
    elif last == "й":
        endings = ("я", "ю", "ем", "е")
    elif last == "ь":
        endings = ("я", "ю", "ем", "ём", "е", "и", "ью")
    elif last in RUSSIAN_CONSONANTS:
        stem, endings = name, ("а", "у", "ом", "ем", "е")
    else:
        return ()
    return tuple(stem + e for e in endings)


def _tokens(name: str) -> list[str]:
    """``name`` as regex tokens: one per character (or letter class), one per run of spaces."""
    return [r"\s+" if part.isspace() else _char(part) for part in re.findall(r"\s+|.", name, re.S)]


def trie_pattern(names: Iterable[str]) -> str:
    """One regex for many names, factored by common prefix ("Guinea(?:-Bissau)?").

    A flat alternation of thousands of names makes the regex engine try each one at every position
    of the text; the trie tries only the names that start with the letters actually there, which keeps
    tagging an article at a few milliseconds. Longer continuations are tried before a name ends, so at
    any position the longest name wins, as with a longest-first alternation. Names should already be
    folded (:func:`media_monitoring.text.fold`) so that spelling variants share one path.
    """
    return _emit(_trie(names))


def _trie(names: Iterable[str]) -> dict[str, Any]:
    root: dict[str, Any] = {}
    for name in names:
        node = root
        for token in _tokens(name):
            node = node.setdefault(token, {})
        node[""] = {}  # end of a name
    return root


def _emit(node: dict[str, Any]) -> str:
    branches = [token + _emit(child) for token, child in sorted(node.items()) if token]
    if not branches:
        return ""
    body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
    if "" in node:
        return f"(?:{body})?"
    return body
