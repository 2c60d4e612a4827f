"""The text forms shared by extraction, boilerplate learning, tagging, stories and search: each one
ignores what its room must ignore, and no more."""

from __future__ import annotations

import pytest

from media_monitoring.text import (
    compare_form,
    duplicate_key,
    fold,
    line_form,
    search_tokens,
    story_words,
    strip_format,
    word_count,
)

pytestmark = pytest.mark.unit

ZWNJ = "\u200c"


def test_format_characters_are_dropped_and_nothing_else() -> None:
    assert strip_format(f"می{ZWNJ}گوید \u200frtl\u200e soft\u00adhyphen") == "میگوید rtl softhyphen"
    printable = "Lavrov: «CSTO» 12 km, کابل"
    assert strip_format(printable) == printable
    assert strip_format("two\nlines\tkept") == "two\nlines\tkept"


def test_word_count_counts_runs_of_non_space_characters() -> None:
    assert word_count("MOSCOW, Nov. 12 /TASS/ --  Lavrov's\n1,300-km border") == 8
    assert word_count("") == word_count(" \n\t ") == 0


def test_fold_makes_arabic_and_persian_spellings_of_a_name_one_key() -> None:
    assert fold("كابول") == fold("کابول")  # Arabic and Persian kaf
    assert fold("أفغانستان") == fold("افغانستان")  # the hamza a writer may drop
    assert fold("  New \t York ") == "New York"
    assert fold("Turkey") != fold("turkey")  # case is the matchers' decision


def test_extraction_compares_titles_as_a_reader_sees_them() -> None:
    assert compare_form(f"  Lavrov  SAYS{ZWNJ}\nno ") == compare_form("lavrov says no")
    assert compare_form("Lavrov says no.") != compare_form("Lavrov says no")  # punctuation counts
    assert compare_form(None) == ""


def test_line_form_ignores_case_digits_spacing_and_format_characters() -> None:
    assert line_form("© 2021  Outlet.\u200c All rights reserved") == line_form("© 2024 outlet. ALL RIGHTS RESERVED")


def test_line_form_takes_the_same_words_from_printable_lines_as_from_any_other() -> None:
    """Printable lines skip the pass over format characters; every line gives what the definition gives."""
    import re
    import unicodedata

    def general(line: str) -> str:
        line = "".join(ch for ch in unicodedata.normalize("NFKC", line) if unicodedata.category(ch) != "Cf")
        return " ".join(re.findall(r"\w+", re.sub(r"\d", "0", line.casefold())))

    lines = ["".join(map(chr, range(128))), "Read also: 2026-11-22 \t foo_bar\r\x0bBAZ", "", " ", "__ 9_9",
             "MOSCOW, Nov. 12 /TASS/ -- Lavrov's 1,300-km (CSTO) border", "“Lavrov’s” — 12\u00a0km…",
             *(chr(c) + "Ab1" for c in range(128)), "Лавров: 12", "Kabul é 3"]
    for line in lines:
        assert line_form(line) == general(line), line
    assert line_form("Read ALSO: 12 ") == general("Read ALSO: 12\u200c ") == "read also 00"


def test_story_words_fold_what_two_outlets_spell_differently() -> None:
    assert story_words("كابل") == story_words("کابل")  # Arabic and Persian kaf
    assert story_words("الاتّحاد") == story_words("الاتحاد")  # a shadda written in one copy only
    assert story_words(f"کمک{ZWNJ}های بشردوستانه") == story_words("کمکهای بشردوستانه")
    assert story_words("Lavrov: «We see the RISK», 4,000 troops") == [
        "lavrov", "we", "see", "the", "risk", "4", "000", "troops"]  # figures stay: they tell stories apart
    assert story_words(None) == []


def test_an_exact_duplicate_differs_only_in_unicode_form_case_and_spacing() -> None:
    assert duplicate_key("  The ﬁnal\n\nTEXT ") == duplicate_key("the final text")  # NFKC: the ligature
    assert duplicate_key("4,000 troops") != duplicate_key("4000 troops")  # punctuation counts
    assert duplicate_key(None) == ""


def test_search_splits_where_the_engines_split_unlike_story_words() -> None:
    """A ZWNJ joins a Persian word for stories (one spelling, one word) but separates two tokens for
    search, as the engines index it."""
    assert search_tokens(f"کمک{ZWNJ}های") == ("کمک", "های")
    assert len(story_words(f"کمک{ZWNJ}های")) == 1
    assert search_tokens("Straße") == ("straße",)  # lower-cased as the engines do, not case-folded
