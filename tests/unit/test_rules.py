"""The article rules are written once: the validation suite file, which cannot import them, says the same."""

from __future__ import annotations

import pytest

from media_monitoring.quality.validate import load_suite
from media_monitoring.rules import FUTURE_TOLERANCE, MAX_ARTICLE_WORDS, MIN_ARTICLE_WORDS, title_is_site_name

pytestmark = pytest.mark.unit


def test_the_articles_suite_checks_the_word_limits_of_the_rules() -> None:
    [expectation] = [e for e in load_suite("articles")["expectations"] if e["meta"]["name"] == "body_word_count"]
    assert expectation["kwargs"]["column"] == "word_count"
    assert (expectation["kwargs"]["min_value"], expectation["kwargs"]["max_value"]) == (
        MIN_ARTICLE_WORDS, MAX_ARTICLE_WORDS)
    why = expectation["meta"]["why"]  # shown to analysts beside a quarantined article
    assert f"fewer than {MIN_ARTICLE_WORDS} words" in why and f"more than {MAX_ARTICLE_WORDS:,}" in why


def test_the_articles_suite_allows_the_dates_the_rules_allow() -> None:
    [expectation] = [e for e in load_suite("articles")["expectations"] if e["meta"]["name"] == "published_not_future"]
    assert expectation["kwargs"] == {"column": "chk_days_after_fetch", "max_value": FUTURE_TOLERANCE.days}
    assert FUTURE_TOLERANCE.total_seconds() == FUTURE_TOLERANCE.days * 86_400


def test_a_title_that_is_the_site_name_is_no_headline() -> None:
    assert title_is_site_name("TASS", "tass")
    assert not title_is_site_name("TASS: Lavrov in Kabul", "TASS")
    assert not title_is_site_name("TASS", None) and not title_is_site_name(None, "")
    # spaces and punctuation aside, and the name in the address where one is given
    assert title_is_site_name("Kabul Daily Voice", "kabul-daily-voice")
    assert title_is_site_name("Pamir Herald", None, "https://pamirherald.example/news.php?id=1")
    assert title_is_site_name("RFE/RL", None, "https://www.rferl.org/a/1.html")
    assert not title_is_site_name("Pamir Herald", None, "https://herald.example/pamir")
    assert not title_is_site_name("Example", None, "https://news.example/")  # not the top-level domain
