"""The shared matching helpers: the fast whole-word trie finds exactly what the plain one finds, and the
watchlist screen keeps only the keys it needs."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from media_monitoring.tagging.places import load_gazetteer
from media_monitoring.tagging.text import is_arabic_script, trie_pattern, whole_word, whole_word_trie
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
