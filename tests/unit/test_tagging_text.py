"""The shared matching helpers: the fast whole-word trie finds exactly what the plain one finds, the
watchlist screen keeps only the keys it needs, and the Latin-1 word shortcut gives the regex's words."""

from __future__ import annotations

import json
import re
import unicodedata
from pathlib import Path

import pytest

from media_monitoring.tagging.places import load_gazetteer
from media_monitoring.tagging.text import (
    LATIN_LETTERS,
    WORD_SEPARATORS,
    SubstringScreen,
    WordTrie,
    is_arabic_script,
    latin_words,
    trie_pattern,
    whole_word,
    whole_word_trie,
)
from media_monitoring.tagging.watchlists import _screen_keys

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
NAMES = ["Guinea", "Guinea-Bissau", "Niger", "Nigeria", "New York", "Sudan", "South Sudan", "Чад", "Чада", "UK"]
EDGES = [
    "Guinea-Bissau and Guinea.", "Nigeria,Niger;Nigerian Niger_ xNiger 9Niger Niger9 (Niger) «Чада» Чадом",
    "New   York\nNew\tYork NewYork", "Guinea", "South Sudan's Sudan", "UK", "UKraine", "the UK.", "",
    "Sudan\nSudan", "éSudan Sudané",
]


def _spans(pattern: re.Pattern[str], text: str) -> list[tuple[int, int]]:
    return [m.span() for m in pattern.finditer(text)]


def test_whole_word_trie_matches_what_the_plain_trie_matches() -> None:
    plain = re.compile(whole_word(trie_pattern(NAMES)))
    fast = re.compile(whole_word_trie(NAMES))
    for text in EDGES:
        assert _spans(fast, text) == _spans(plain, text), text
    assert _spans(fast, EDGES[1])[:2] == [(0, 7), (8, 13)]  # Nigeria, then Niger right after the comma


def test_whole_word_trie_finds_the_gazetteers_names_as_before() -> None:
    names = [n for n in load_gazetteer().entries if not is_arabic_script(n)]
    plain = re.compile(whole_word(trie_pattern(names)))
    fast = re.compile(whole_word_trie(names))
    texts = list(EDGES)
    for line in (ROOT / "bench/tagging/labelled.jsonl").read_text("utf-8").splitlines():
        record = json.loads(line)
        texts += [record["title"] or "", record["text"] or "", (record["text"] or "").upper()]
    found = 0
    for text in texts:
        spans = _spans(fast, text)
        assert spans == _spans(plain, text), text[:80]
        found += len(spans)
    assert found > 500  # the texts do name places


def test_word_trie_finds_what_the_whole_word_trie_regex_finds() -> None:
    """The compiled trie walk the gazetteer scans with: the regex's matches, span for span, in order."""
    names = [n for n in load_gazetteer().entries if not is_arabic_script(n)]
    odd = NAMES + ["A", "Ab", "Ab Cd", "Ab Cd Ef", "Côte d'Ivoire", "U.S.", "São Tomé", "x-y", "Abc", "Кот д'Ивуар",
                   "Saيid", "Qك"]  # letters of the Arabic classes inside a name match their variants
    texts = EDGES + [
        "A Ab Ab Cd Ab  Cd\u3000Ef Ab Cd Eg Abc Abcd A_ _A A", "U.S. U.S.A U.Sx Côte d'Ivoire\u2028x-y-z x-y",
        "Saيid Saیid Saىid Qک Qكx", "𝔘 A 😀Ab Ab😀 Ab\U0001d400", "Ab" * 50, " " * 10 + "Ab",
        "Кот д'Ивуар и Чада", "ab AB aB Ab.", "\nA\n", "A",
    ]
    for line in (ROOT / "bench/tagging/labelled.jsonl").read_text("utf-8").splitlines():
        record = json.loads(line)
        texts += [record["title"] or "", record["text"] or "", (record["text"] or "").upper()]
    found = 0
    for group in (odd, names):
        regex, trie = re.compile(whole_word_trie(group)), WordTrie(group)
        for text in texts:
            spans = [(m.span(), m.group(0)) for m in trie.finditer(text)]
            assert spans == [(m.span(), m.group(0)) for m in regex.finditer(text)], text[:80]
            found += len(spans)
    assert found > 500
    with pytest.raises(ValueError, match="space"):
        WordTrie([" Chad"])


def test_substring_screen_finds_what_in_finds() -> None:
    """The watchlists' key screen: the keys ``key in text`` finds, whatever overlaps, script or place."""
    keys = ["afghan", "afghanistan", "ghan", "an", "n", "лавров", "лавр", "افغان", "csto", "😀x", "", "zz"]
    screen = SubstringScreen(keys)
    texts = ["", "n", "afghanistan", "Afghan afghan", "лаврова и лавр", "وافغانستان", "csto😀x", "zz", "z z",
             "ghan", "the anthem", "😀", "xafghanx", "a" * 100 + "n"]
    for line in (ROOT / "bench/tagging/labelled.jsonl").read_text("utf-8").splitlines():
        texts.append(json.loads(line)["text"] or "")
    for text in texts:
        assert screen.present(text) == {key for key in keys if key in text}, text[:40]
    assert SubstringScreen([]).present("text") == set()


def test_whole_word_trie_refuses_a_name_it_cannot_anchor() -> None:
    with pytest.raises(ValueError, match="space"):
        whole_word_trie([" Chad"])
    with pytest.raises(ValueError, match="empty"):
        whole_word_trie(["", "Chad"])


def test_screen_keys_drop_keys_that_contain_another() -> None:
    assert _screen_keys(["Афганистан", "Афганистана", "Afghan", "Afghanistan", "Kabul"]) == (
        "afghan", "kabul", "афганистан")
    assert _screen_keys(["Kirill Lavrov", "Кирилла Лаврова"]) == ("kirill", "кирилла")
    assert _screen_keys([]) == ()


LATIN_SAMPLES = [
    "".join(chr(c) for c in range(128)), "Read also: 2026-11-22 \t foo_bar\r\x0b\x0cBAZ", "", "   ", "__", "a",
    "MOSCOW, November 12. /TASS/. Lavrov's 1,300-km border (CSTO) -- 'quoted' [x] {y} ~z^ q@e.org #tag $5 100%",
    "“Lavrov’s visit”—a 12\u00a0km «walk»… ‘CSTO’ – 5×3 €20 ©2026", WORD_SEPARATORS, "x" + "y".join(WORD_SEPARATORS),
    "MÜLLER in Genève, São Tomé and Þórshöfn: ÀÉÎÕÜ àéîõü ÿ", LATIN_LETTERS, "".join(map(chr, range(128, 256))),
]


@pytest.mark.parametrize("zero_digits", [False, True])
def test_latin_words_are_the_regex_words_of_the_normalised_text(zero_digits: bool) -> None:
    texts = LATIN_SAMPLES + [chr(a) + chr(b) + "x" for a in range(256) for b in range(0, 256, 7)]
    for text in texts:
        if latin_words(text) is None:  # ß, ª, µ, the soft hyphen...: left to the regex
            assert set(text) - set(map(chr, range(128))) - set(LATIN_LETTERS + WORD_SEPARATORS), text
            continue
        folded = unicodedata.normalize("NFKC", text).casefold()
        if zero_digits:
            folded = re.sub(r"\d", "0", folded)
        got = latin_words(text, zero_digits=zero_digits)
        assert got is not None and [w.decode("latin-1") for w in got] == re.findall(r"\w+", folded), text


def test_word_separators_separate_words_whatever_the_normal_form() -> None:
    assert "\u201c" in WORD_SEPARATORS and "\xa0" in WORD_SEPARATORS and "\xad" not in WORD_SEPARATORS
    assert "é" in LATIN_LETTERS and "Ü" in LATIN_LETTERS and not set("ßªºµ×÷") & set(LATIN_LETTERS)
    for ch in WORD_SEPARATORS:
        assert unicodedata.category(ch) != "Cf" and ch.casefold() == ch, hex(ord(ch))
        assert not re.search(r"\w", unicodedata.normalize("NFKC", ch)), hex(ord(ch))


def test_latin_words_leave_other_letters_to_the_regex() -> None:
    for text in ("Лавров", "Straße", "ﬁnal", "x\u200cy", "2²", "™", "Afghanistan\u0301", "soft\xadhyphen", "º"):
        assert latin_words(text) is None, text
