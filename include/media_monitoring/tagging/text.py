"""Helpers shared by the matchers: whole-word patterns in any script, spelling folds, and snippets."""

from __future__ import annotations

import re
import string
import sys
import unicodedata
from collections.abc import Iterable, Iterator
from functools import cache
from typing import Any

import numpy as np

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
# The Arabic block: every letter is_arabic_script() looks for, and every character the folds and marks
# above change. Text without one needs neither, and cannot hold an Arabic-script name.
ARABIC_BLOCK_RE = re.compile("[\u0600-\u06ff]")


def _separates_words(ch: str) -> bool:
    """Neither ``ch`` nor its NFKC form holds a word character, and it is no format character (those are
    dropped before words are taken, which joins the letters either side)."""
    return (unicodedata.category(ch) != "Cf" and not re.search(r"\w", ch)
            and not re.search(r"\w", unicodedata.normalize("NFKC", ch)))


# Letters of Latin-1 that every normal form leaves alone and whose case fold is their lower case (not ß,
# ª, º, µ): with ASCII, the letters of most text in Latin script (Müller, Genève, São Tomé).
LATIN_LETTERS = "".join(ch for ch in map(chr, range(0xC0, 0x100)) if ch.isalpha()
                        and unicodedata.normalize("NFKC", ch) == ch and ch.casefold() == ch.lower() <= "\xff")
# Punctuation and spaces outside ASCII that copy in Latin script writes: Latin-1's (no-break space, «»,
# ©, °...) and others (curly quotes, dashes, the ellipsis, thin spaces). Each separates words.
WORD_SEPARATORS = "".join(ch for ch in map(chr, range(0x80, 0x100)) if _separates_words(ch)) + (
    "\u201c\u201d\u2018\u2019\u2013\u2014\u2026\u201e\u201a\u2039\u203a\u2022\u2020\u2021\u2032\u2033\u20ac"
    "\u2009\u202f\u2002\u2003\u2010\u2011\u2012\u2015\u2212")


def _latin_word_table(digit: int | None) -> bytes:
    table = bytearray(b" " * 256)  # every byte but a letter's, a digit's and "_" separates words
    for ch in string.ascii_letters + string.digits + "_" + LATIN_LETTERS:
        table[ord(ch)] = ord(ch.lower())  # casefold() of these is lower()
    if digit is not None:
        table[ord("0"):ord("9") + 1] = bytes([digit]) * 10
    return bytes(table)


_LATIN_WORDS = {False: _latin_word_table(None), True: _latin_word_table(ord("0"))}


def latin_word_kinds(word: int, separator: int, other: int) -> tuple[np.ndarray, np.ndarray]:
    """:func:`latin_words`' alphabet as tables by code point (up to the last of :data:`WORD_SEPARATORS`),
    for a compiled loop: each one's kind (``word`` for a letter, digit or "_"; ``separator``; ``other`` for
    a character that sends the text to the general path), and its lower case."""
    size = max(map(ord, WORD_SEPARATORS)) + 1
    kinds = np.full(size, other, dtype=np.uint8)
    kinds[:0x80] = separator  # every ASCII character but a word's separates words
    for ch in WORD_SEPARATORS:
        kinds[ord(ch)] = separator
    lower = np.zeros(size, dtype=np.uint32)
    for ch in string.ascii_letters + string.digits + "_" + LATIN_LETTERS:
        kinds[ord(ch)] = word
        lower[ord(ch)] = ord(ch.lower())  # casefold() of these is lower(), within Latin-1
    return kinds, lower
_BEYOND_LATIN_1_RE = re.compile("[" + "".join(ch for ch in WORD_SEPARATORS if ch > "\xff") + "]")
_NOT_LATIN_RE = re.compile(f"[^\\x00-\\x7f{re.escape(LATIN_LETTERS + WORD_SEPARATORS)}]")


def latin_words(text: str, *, zero_digits: bool = False) -> list[bytes] | None:
    r"""``re.findall(r"\w+", unicodedata.normalize("NFKC", text).casefold())``, every digit read as 0 if
    ``zero_digits``, as Latin-1 bytes, for text of ASCII, :data:`LATIN_LETTERS` and
    :data:`WORD_SEPARATORS`: those beyond Latin-1 become spaces, then one ``bytes.translate`` folds case
    and marks the separators, and a split takes the words; ~5x quicker than normalising and the regex.
    None for any other text (Cyrillic, Arabic, "ß", combining accents, format characters)."""
    if not text.isascii():
        if _NOT_LATIN_RE.search(text):
            return None
        text = _BEYOND_LATIN_1_RE.sub(" ", text)
    return text.encode("latin-1").translate(_LATIN_WORDS[zero_digits]).split()


def is_arabic_script(text: str) -> bool:
    """True when the first letter of ``text`` is in the Arabic block (Arabic, Persian, Pashto, Urdu)."""
    for ch in text:
        if ch.isalpha():
            return "\u0600" <= ch <= "\u06ff"
    return False


def strip_arabic_marks(text: str) -> str:
    return ARABIC_MARKS_RE.sub("", text)


_FOLD_TABLE = str.maketrans(_FOLD)
_FOLDED_RE = re.compile(f"[{''.join(_FOLD)}]")  # found in ~20 µs where translate takes ~400 µs per article


def fold(text: str) -> str:
    """The lookup key of a name as written: spaces collapsed, Arabic/Persian letter variants folded."""
    return fold_letters(" ".join(text.split()))


def fold_letters(text: str) -> str:
    """:func:`fold` without collapsing spaces (for a whole article searched for single words)."""
    return text.translate(_FOLD_TABLE) if _FOLDED_RE.search(text) else text


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
    folded (:func:`fold`) so that spelling variants share one path.
    """
    return _emit(_trie(names))


def whole_word_trie(names: Iterable[str]) -> str:
    """``whole_word(trie_pattern(names))``, matching the same text (not for Arabic-script names, which
    take the proclitic-aware start of :data:`ARABIC_WORD_START`).

    The start-of-word test comes after each name's first character instead of before the whole trie:
    a pattern that opens with a test makes ``re`` run it at every position of the text, while one whose
    branches open with characters lets ``re`` skip straight to the positions holding a character some
    name starts with (the capitals, in English text): half the time of scanning an article. (Only when
    every name starts with a plain character, as non-Arabic names do: a letter class opening a branch
    turns the skip off, though the matches stay the same.)
    """
    root = _trie(names)
    branches = []
    for token, child in sorted(root.items()):
        if not token:
            raise ValueError("whole_word_trie: an empty name")
        if token == r"\s+":
            raise ValueError("whole_word_trie: a name starts with a space")
        # (?<!\w.) right after the first character: the character before it is not a word character
        # (at the start of the text there are not two characters to look back on, so the test passes)
        branches.append(token + r"(?<!\w.)" + _emit(child))
    return "(?:" + "|".join(branches) + ")" + WORD_END


class Span:
    """A match of :class:`WordTrie`, read as a ``re.Match`` is (``start``, ``end``, ``span``, ``group(0)``)."""

    __slots__ = ("_end", "_group", "_start")

    def __init__(self, text: str, start: int, end: int) -> None:
        self._group, self._start, self._end = text[start:end], start, end

    def start(self) -> int:
        return self._start

    def end(self) -> int:
        return self._end

    def span(self) -> tuple[int, int]:
        return self._start, self._end

    def group(self, index: int = 0) -> str:
        if index:
            raise IndexError("a WordTrie match has no groups")
        return self._group


class WordTrie:
    """``re.compile(whole_word_trie(names))`` as a trie walked by a compiled loop (``kernels.trie_spans``):
    the same matches, in order, at a tenth of the time on an article (the regex tries a few dozen branches
    at every capital letter). Names as :func:`whole_word_trie` takes them: folded, no Arabic-script ones."""

    _SPACE = sys.maxunicode + 1  # the token of a run of whitespace: beyond every code point

    def __init__(self, names: Iterable[str]) -> None:
        whole_word_trie(names := list(names))  # the same refusals (an empty name, a leading space)
        tokens, ends = _token_trie([self._SPACE if part.isspace() else ord(_FOLD.get(part, part))
                                    for part in re.findall(r"\s+|.", name, re.S)] for name in names)
        terminal = np.zeros(len(tokens), dtype=np.bool_)
        terminal[ends] = True
        fold = _match_tables()[0]
        root = np.full(max(tokens[0]) + 1, -1, dtype=np.int64)  # the root's child along each code point
        for cp in range(len(root)):
            child = tokens[0].get(int(fold[cp]) if cp < len(fold) else cp)
            if child is not None:
                root[cp] = child
        self._arrays = (root, *_flat(tokens), terminal, *_match_tables(), self._SPACE)

    def finditer(self, text: str) -> Iterator[Span]:
        from media_monitoring.tagging import kernels

        if not text:
            return
        for start, end in kernels.trie_spans(code_points(text), *self._arrays).tolist():
            yield Span(text, start, end)


class SubstringScreen:
    """Which of many short ``keys`` occur in a text (as ``key in text``), in one compiled pass over it
    (``kernels.keys_present``) instead of one scan of the text per key."""

    def __init__(self, keys: Iterable[str]) -> None:
        keys = list(keys)
        self.keys = tuple(key for key in dict.fromkeys(keys) if key)
        self._always = {""} if "" in keys else set()  # "" is in every text
        children, ends = _token_trie(map(ord, key) for key in self.keys)
        key_of = np.full(len(children), -1, dtype=np.int64)
        key_of[ends] = np.arange(len(self.keys))
        root = np.full(max(children[0], default=-1) + 1, -1, dtype=np.int64)
        for cp, child in children[0].items():
            root[cp] = child
        self._arrays = (root, *_flat(children), key_of, len(self.keys))

    def present(self, text: str) -> set[str]:
        """The keys that occur in ``text``."""
        from media_monitoring.tagging import kernels

        if not text or not self.keys:
            return set(self._always)
        found = kernels.keys_present(code_points(text), *self._arrays)
        return {key for key, hit in zip(self.keys, found.tolist(), strict=True) if hit} | self._always


def _token_trie(sequences: Iterable[Iterable[int]]) -> tuple[list[dict[int, int]], list[int]]:
    """A trie of token sequences: each node's children by token (node 0 the root), and the node each
    sequence ends at."""
    children: list[dict[int, int]] = [{}]
    ends = []
    for sequence in sequences:
        node = 0
        for token in sequence:
            child = children[node].get(token)
            if child is None:
                child = children[node][token] = len(children)
                children.append({})
            node = child
        ends.append(node)
    return children, ends


def _flat(children: list[dict[int, int]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A trie's children as arrays: node ``n``'s are ``targets[starts[n]:starts[n + 1]]`` along the sorted
    ``tokens`` there."""
    starts = np.zeros(len(children) + 1, dtype=np.int64)
    starts[1:] = np.cumsum([len(c) for c in children])
    pairs = [pair for c in children for pair in sorted(c.items())]
    return (starts, np.array([t for t, _ in pairs], dtype=np.int64),
            np.array([c for _, c in pairs], dtype=np.int64))


def code_points(text: str) -> np.ndarray:
    """``text`` as an array of its code points (``uint32``), what the compiled loops read."""
    return np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)


@cache
def space_table() -> np.ndarray:
    """Whether each code point up to U+3000, the last space, is one: what ``str.split()``, ``str.strip()``
    and re's ``\\s`` take for a space (the same set)."""
    spaces = np.array([ch.isspace() for ch in map(chr, range(0x3001))], dtype=np.bool_)
    assert not any(ch.isspace() for ch in map(chr, range(0x3001, 0x10000))), "a space beyond U+3000"
    return spaces


@cache
def _match_tables() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """What :class:`WordTrie`'s loop reads of a character: its Arabic letter fold (a code point per code
    point up to the last folded letter), whether re's ``\\w`` matches it (every code point, as the regex
    engine itself says) and whether it is a space (:func:`space_table`)."""
    fold = np.arange(max(map(ord, _FOLD)) + 1, dtype=np.int64)
    for ch, to in _FOLD.items():
        fold[ord(ch)] = ord(to)
    every = np.arange(sys.maxunicode + 1, dtype="<u4").tobytes().decode("utf-32-le", "surrogatepass")
    word = np.zeros(len(every), dtype=np.bool_)
    for start, end in (m.span() for m in re.finditer(r"\w+", every)):  # ~700 runs
        word[start:end] = True
    return fold, word, space_table()


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
