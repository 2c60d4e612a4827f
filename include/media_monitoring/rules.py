"""What an article is: the rules that more than one room applies, each written once, here.

Extraction tries its fallback on a page whose text is shorter than the minimum, boilerplate cleaning
never takes a text below it, validation quarantines an article outside the two bounds, and the per-outlet
batch check counts how many of an outlet's pages fall short. Words are counted by
:func:`media_monitoring.text.word_count`. Likewise a title that is only the site's name: extraction
takes the feed's title instead where there is one, and validation quarantines an article left with it.

An article's keys (its id from its URL, its text hash, its headline key) are hashes cut to one width, the
width of the warehouse's key columns; and a digest or an alert quotes at most so much of an article.

The validation suite ``quality/suites/articles.json`` (expectation ``body_word_count``) is a file and
cannot import these: ``tests/unit/test_rules.py`` fails when the two disagree.
"""

from __future__ import annotations

MIN_ARTICLE_WORDS = 50  # fewer is an empty, teaser or error page, not an article
MAX_ARTICLE_WORDS = 20_000  # more is not one article (an archive, a whole section on one page)
# Below MIN_ARTICLE_WORDS on purpose: an article an operator releases short still folds into its copy.
MIN_WORDS_TO_FOLD = 20  # shorter texts are too alike by chance to call one a copy of another
ARTICLE_KEY_CHARS = 32  # hex digits of SHA-256 kept in a key: 128 bits, no collision in any archive
MAX_TEXT_CHARS = 300  # of a title or snippet in a digest or an alert: the article is one click away


def title_is_site_name(title: str | None, sitename: str | None) -> bool:
    """True when the title is the outlet's name (case aside): the page frame's title, not a headline."""
    return bool(sitename) and (title or "").casefold() == (sitename or "").casefold()
