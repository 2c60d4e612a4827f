"""The article rules are written once: the validation suite file, which cannot import them, says the same."""

from __future__ import annotations

import pytest

from media_monitoring.quality.validate import load_suite
from media_monitoring.rules import MAX_ARTICLE_WORDS, MIN_ARTICLE_WORDS, title_is_site_name

pytestmark = pytest.mark.unit


def test_the_articles_suite_checks_the_word_limits_of_the_rules() -> None:
    [expectation] = [e for e in load_suite("articles")["expectations"] if e["meta"]["name"] == "body_word_count"]
    assert expectation["kwargs"]["column"] == "word_count"
    assert (expectation["kwargs"]["min_value"], expectation["kwargs"]["max_value"]) == (
        MIN_ARTICLE_WORDS, MAX_ARTICLE_WORDS)
    why = expectation["meta"]["why"]  # shown to analysts beside a quarantined article
    assert f"fewer than {MIN_ARTICLE_WORDS} words" in why and f"more than {MAX_ARTICLE_WORDS:,}" in why


def test_a_title_that_is_the_site_name_is_no_headline() -> None:
    assert title_is_site_name("TASS", "tass")
    assert not title_is_site_name("TASS: Lavrov in Kabul", "TASS")
    assert not title_is_site_name("TASS", None) and not title_is_site_name(None, "")
