"""Watchlist matching: every alias of every term, whole words, in title and body only; each match a
:class:`~media_monitoring.records.Hit`."""

from __future__ import annotations

import re
from dataclasses import dataclass

from media_monitoring.config import Alias, Term, Watchlist
from media_monitoring.records import Hit
from media_monitoring.tagging.inflection import case_forms, is_cyrillic
from media_monitoring.tagging.matching import ARABIC_WORD_START, WORD_END, WORD_START, literal, snippet
from media_monitoring.text import ARABIC_LETTER_CLASSES, fold, fold_letters, is_arabic_script


@dataclass(frozen=True)
class _CompiledTerm:
    watchlist: Watchlist
    term: Term
    patterns: tuple[tuple[re.Pattern[str], tuple[str, ...]], ...]  # (regex, alias per group)
    exclude: re.Pattern[str] | None
    alias_texts: frozenset[str]
    namesakes: re.Pattern[str] | None
    anchors: re.Pattern[str] | None
    # The longest word of each alias, folded and lower-cased: a term none of whose keys occur anywhere in
    # the article cannot match, and its regexes are not run at all.
    keys: tuple[str, ...]
    # The same for the exclusions and the namesakes: without one of their keys their regex finds nothing.
    exclude_keys: tuple[str, ...] = ()
    namesake_keys: tuple[str, ...] = ()


def _screen_key(text: str) -> str:
    return max(fold(text).lower().split() or [""], key=len)


def _screen_keys(phrases: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """The keys of ``phrases``, without those that contain another key: where "афганистана" occurs,
    "афганистан" does too, so testing the shorter one alone says the same."""
    keys = {_screen_key(p) for p in phrases}
    return tuple(sorted(k for k in keys if not any(other != k and other in k for other in keys)))


def alias_forms(alias: Alias) -> tuple[str, ...]:
    """The texts ``alias`` matches besides its suffixes: a Cyrillic alias without listed ``suffixes`` in
    every Russian and Ukrainian case («Организации Договора о коллективной безопасности»), unless the
    watchlist says ``inflect: false``; any other alias as written."""
    inflect = alias.inflect if alias.inflect is not None else (is_cyrillic(alias.text) and not alias.suffixes)
    return case_forms(alias.text) if inflect else (alias.text,)


def phrase_forms(phrases: tuple[str, ...]) -> list[str]:
    """Exclusions, namesakes and anchors in all their case forms (Cyrillic ones inflected as aliases are)."""
    return list(dict.fromkeys(form for phrase in phrases for form in case_forms(phrase)))


def _first_letters(aliases: list[Alias]) -> str:
    """A lookahead on the letters an alias can start with: the regex engine drops most positions of the
    text at this one test instead of trying every alias there."""
    letters: set[str] = set()
    for first in {form.strip()[:1] for alias in aliases for form in alias_forms(alias)}:
        letters.update(next((cls for cls in ARABIC_LETTER_CLASSES if first in cls), first))
    return "(?=[" + "".join(re.escape(ch) for ch in sorted(letters)) + "])"


def _alias_pattern(alias: Alias) -> str:
    """One alias, without its start-of-word test (:func:`_whole_words` adds it), with exactly one capturing
    group (the alias that matched).

    Arabic-script aliases may follow an attached proclitic ("وأفغانستان"), and their Arabic/Persian
    letter variants match each other, so "لاوروف" need not be listed in both alphabets.
    """
    suffix = "(?:" + "|".join(re.escape(x) for x in alias.suffixes) + ")?" if alias.suffixes else ""
    forms = "|".join(literal(form) for form in alias_forms(alias))  # the longest case form first
    return f"((?:{forms}){suffix})"


def _whole_words(phrases: list[tuple[str, str]]) -> tuple[str, list[int]]:
    """``"|".join(whole_word(pattern, arabic=is_arabic_script(text)) for text, pattern in phrases)``, the
    same matches, with each script's start-of-word test made once for all its phrases instead of once per
    phrase: the regex engine leaves a position that starts no word at one test, where it tried every phrase
    (several times quicker on an article). Phrases whose texts all open with a letter are grouped by script
    (a Latin or Cyrillic letter and an Arabic-script one never match at one position, so only the order
    within a script counts); otherwise runs of consecutive phrases of one script share the test.

    Returns the pattern and the order its phrases stand in (their capturing groups come in that order)."""
    scripts = [is_arabic_script(text) for text, _ in phrases]
    order = list(range(len(phrases)))
    if all(text.strip()[:1].isalpha() for text, _ in phrases):
        order.sort(key=lambda i: scripts[i])  # stable: the order within each script stays
    runs: list[tuple[bool, list[str]]] = []
    for i in order:
        if runs and runs[-1][0] == scripts[i]:
            runs[-1][1].append(phrases[i][1])
        else:
            runs.append((scripts[i], [phrases[i][1]]))
    pattern = "|".join((ARABIC_WORD_START if arabic else WORD_START)
                       + "(?:" + "|".join(f"(?:{p}){WORD_END}" for p in run) + ")" for arabic, run in runs)
    return pattern, order


def _compile_term(watchlist: Watchlist, term: Term) -> _CompiledTerm:
    patterns = []
    for case_sensitive in (False, True):
        aliases = sorted((a for a in term.aliases if a.case_sensitive == case_sensitive),
                         key=lambda a: len(a.text), reverse=True)  # longest first wins at a position
        if not aliases:
            continue
        flags = 0 if case_sensitive else re.IGNORECASE
        alternatives, order = _whole_words([(a.text, _alias_pattern(a)) for a in aliases])
        pattern = re.compile(_first_letters(aliases) + "(?:" + alternatives + ")", flags)
        patterns.append((pattern, tuple(aliases[i].text for i in order)))  # in the order of their groups
    exclude, namesakes, anchors = (
        re.compile(_whole_words([(x, literal(x)) for x in phrase_forms(phrases)])[0], re.IGNORECASE)
        if phrases else None
        for phrases in (term.exclude, term.namesakes, term.anchors))
    return _CompiledTerm(watchlist, term, tuple(patterns), exclude, frozenset(a.text for a in term.aliases),
                         namesakes, anchors,
                         _screen_keys([form for a in term.aliases for form in alias_forms(a)]),
                         _screen_keys(phrase_forms(term.exclude)), _screen_keys(phrase_forms(term.namesakes)))


def _about_a_namesake(ct: _CompiledTerm, article: str, present: set[str]) -> bool:
    """The article names a namesake (the actor Kirill Lavrov) and nothing that pins the intended person.
    ``present``: the screen keys that occur in the article."""
    if ct.namesakes is None or not any(key in present for key in ct.namesake_keys) \
            or not ct.namesakes.search(article):
        return False
    return ct.anchors is None or not ct.anchors.search(article)


class WatchlistMatcher:
    """All terms of the given watchlists, compiled once."""

    def __init__(self, watchlists: tuple[Watchlist, ...]) -> None:
        self.watchlists = watchlists
        self._terms = [_compile_term(w, t) for w in watchlists for t in w.terms]
        self._keys = frozenset(key for ct in self._terms for key in (*ct.keys, *ct.exclude_keys, *ct.namesake_keys))

    @property
    def versions(self) -> dict[str, str]:
        return {w.name: w.version for w in self.watchlists}

    def match(self, title: str, text: str) -> list[Hit]:
        hits: list[Hit] = []
        whole = f"{title or ''}\n{text or ''}"
        # the keys are single words, folded and lower-cased: spacing doesn't matter
        folded = fold_letters(whole).lower()
        present = {key for key in self._keys if key in folded}
        terms = [ct for ct in self._terms if any(key in present for key in ct.keys)]
        terms = [ct for ct in terms if not _about_a_namesake(ct, whole, present)]
        may_exclude = [ct.exclude is not None and any(key in present for key in ct.exclude_keys) for ct in terms]
        for field, content in (("title", title or ""), ("text", text or "")):
            if not content:
                continue
            for ct, screened in zip(terms, may_exclude, strict=True):
                excluded = [m.span() for m in ct.exclude.finditer(content)] if screened and ct.exclude else []
                for pattern, aliases in ct.patterns:
                    for m in pattern.finditer(content):
                        start, end = m.span()
                        if any(a <= start and end <= b for a, b in excluded):
                            continue
                        alias = aliases[m.lastindex - 1] if m.lastindex else aliases[0]
                        # Spelling variants (أ/ا, ي/ی) let two aliases match the same text: report
                        # the one written exactly as in the article.
                        alias = m.group(0) if m.group(0) in ct.alias_texts else alias
                        hits.append(Hit(ct.watchlist.name, ct.term.name, alias, m.group(0), field, start, end,
                                        snippet(content, start, end), ct.watchlist.version))
        hits.sort(key=lambda h: (h.watchlist, h.term, h.field != "title", h.start))
        return hits
