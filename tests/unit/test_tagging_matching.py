"""The shared matching helpers: the names' regex trie finds whole words, longest name first, and the
watchlist screen keeps only the keys it needs."""

from __future__ import annotations

import re

import pytest

from media_monitoring.tagging.matching import trie_pattern, whole_word
from media_monitoring.tagging.watchlists import _screen_keys

pytestmark = pytest.mark.unit

NAMES = ["Guinea", "Guinea-Bissau", "Niger", "Nigeria", "New York", "Sudan", "South Sudan", "Чад", "Чада", "UK"]


def _found(text: str) -> list[str]:
    return [m.group(0) for m in re.finditer(whole_word(trie_pattern(NAMES)), text)]


def test_the_name_trie_finds_whole_words_and_the_longest_name() -> None:
    assert _found("Guinea-Bissau and Guinea.") == ["Guinea-Bissau", "Guinea"]
    assert _found("Nigeria,Niger;Nigerian Niger_ xNiger 9Niger Niger9 (Niger) «Чада» Чадом") == [
        "Nigeria", "Niger", "Niger", "Чада"]
    assert _found("New   York\nNew\tYork NewYork") == ["New   York", "New\tYork"]
    assert _found("South Sudan's Sudan") == ["South Sudan", "Sudan"]
    assert _found("UK UKraine the UK. éSudan Sudané") == ["UK", "UK"]
    assert _found("") == []


def test_screen_keys_drop_keys_that_contain_another() -> None:
    assert _screen_keys(["Афганистан", "Афганистана", "Afghanistan", "Afghan", "Kabul"]) == (
        "afghan", "kabul", "афганистан")
    assert _screen_keys(["Kirill Lavrov", "Кирилла Лаврова"]) == ("kirill", "кирилла")
    assert _screen_keys([]) == ()
