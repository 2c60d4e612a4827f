"""Russian and Ukrainian case forms of watchlist names, from pymorphy3's dictionaries.

A name in an article is inflected for its role in the sentence: «Организация Договора о коллективной
безопасности» becomes «Организации Договора…» after "of", «Сергей Лавров» becomes «Сергея Лаврова» or
«Сергеем Лавровым». A watchlist lists each name once, in the nominative; :func:`case_forms` gives every
case of it, singular or plural as written.

Only the name's head is inflected: the leading words that are nouns or adjectives in the nominative
(«Организация», «Сергей Лавров», «Коллективные силы»). The words after the head are already in the case
their grammar fixes («Договора о коллективной безопасности» stays as it is in every case of the head).
A word neither dictionary knows in the nominative (an abbreviation such as «ОДКБ», a Kazakh or Tajik
spelling) leaves the name as written: no guessed forms.
"""

from __future__ import annotations

import functools
import logging
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pymorphy3 import MorphAnalyzer
    from pymorphy3.analyzer import Parse

log = logging.getLogger(__name__)

LANGUAGES = ("ru", "uk")  # pymorphy3's dictionaries shipped as packages: pymorphy3-dicts-ru, -uk
CASES = ("nomn", "gent", "datv", "accs", "ablt", "loct", "voct")  # the vocative: Ukrainian («Лаврове»)
HEAD_PARTS = frozenset({"NOUN", "ADJF"})  # the words of a name that take its case


@functools.cache
def analyzer(language: str) -> MorphAnalyzer:
    """The language's analyser, loaded once per process (about 0.1 s and 15 MB each)."""
    import pymorphy3

    return pymorphy3.MorphAnalyzer(lang=language)


def is_cyrillic(text: str) -> bool:
    return any("\u0400" <= ch <= "\u04ff" for ch in text)


def _nominative(word: str, morph: MorphAnalyzer) -> Parse | None:
    """The dictionary's reading of ``word`` as a noun or adjective in the nominative, if it has one."""
    readings = [p for p in morph.parse(word)
                if p.is_known and p.tag.POS in HEAD_PARTS and p.tag.case == "nomn"]
    return max(readings, key=lambda p: p.score) if readings else None


def _written_like(form: str, original: str) -> str:
    """``form`` with the capitals of ``original`` («Лавров» → «Лаврова», «ОДКБ» stays upper case)."""
    if original.isupper() and len(original) > 1:
        return form.upper()
    if original[:1].isupper():
        return form[:1].upper() + form[1:]
    return form


def _head(words: list[str], morph: MorphAnalyzer) -> list[Parse]:
    """The readings of the name's head: leading adjectives and one noun («Коллективные силы»), or a
    person's first name with the patronymic and surname after it («Сергей Лавров»). A single word may be
    an adjective alone («афганский»)."""
    head: list[Parse] = []
    noun: Parse | None = None
    for word in words:
        parse = _nominative(word, morph)
        if parse is None or word.isupper():
            break
        if parse.tag.POS == "ADJF" and noun is None:
            head.append(parse)
        elif parse.tag.POS == "NOUN" and (noun is None or (
                {"Name", "Patr"} & set(noun.tag.grammemes) and {"Patr", "Surn"} & set(parse.tag.grammemes))):
            head.append(parse)
            noun = parse
        else:
            break
    if noun is None and len(words) > 1:
        return []
    return head


def _takes_animacy(parse: Parse) -> bool:
    """An adjective whose accusative depends on its noun's animacy: masculine singular or plural
    («коллективные силы» in the accusative, not «коллективных»)."""
    return parse.tag.POS == "ADJF" and (parse.tag.number == "plur" or parse.tag.gender == "masc")


def _forms_in(words: list[str], morph: MorphAnalyzer) -> set[str]:
    head = _head(words, morph)
    if not head:
        return set()
    nouns = [p for p in head if p.tag.POS == "NOUN"]
    animacy = {nouns[0].tag.animacy} if nouns and nouns[0].tag.animacy else set()
    tail = words[len(head):]
    forms = set()
    for case in CASES:
        inflected = [p.inflect({case} | (animacy if case == "accs" and _takes_animacy(p) else set()))
                     for p in head]
        if any(p is None for p in inflected):
            continue
        head_words = [_written_like(p.word, w) for p, w in zip(inflected, words, strict=False) if p]
        forms.add(" ".join(head_words + tail))
    return forms


@functools.cache
def case_forms(phrase: str) -> tuple[str, ...]:
    """Every case form of ``phrase`` in Russian and Ukrainian, the phrase itself first.

    Returns just ``(phrase,)`` for a phrase without Cyrillic or whose first word neither dictionary
    knows as a nominative noun or adjective.
    """
    if not is_cyrillic(phrase):
        return (phrase,)
    words = phrase.split()
    forms: set[str] = set()
    for language in LANGUAGES:
        forms |= _forms_in(words, analyzer(language))
    forms.discard(phrase)
    return (phrase, *sorted(forms, key=lambda f: (-len(f), f)))
