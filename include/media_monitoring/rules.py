"""What an article is: the rules that more than one room applies, each written once, here.

Extraction tries its fallback on a page whose text is shorter than the minimum, boilerplate cleaning
never takes a text below it, validation quarantines an article outside the two bounds, and the per-outlet
batch check counts how many of an outlet's pages fall short. Words are counted by
:func:`media_monitoring.text.word_count`. Likewise a title that is only the site's name: extraction
takes another headline instead where there is one, and validation quarantines an article left with it.
And a publication date after the page was seen: extraction sets it aside for a plausible one, validation
quarantines an article left with it.

An article's keys (its id from its URL, its text hash, its headline key) are hashes cut to one width, the
width of the warehouse's key columns; and a digest or an alert quotes at most so much of an article.

The validation suite ``quality/suites/articles.json`` (expectations ``body_word_count`` and
``published_not_future``) is a file and cannot import these: ``tests/unit/test_rules.py`` fails when the
two disagree.
"""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

MIN_ARTICLE_WORDS = 50  # fewer is an empty, teaser or error page, not an article
MAX_ARTICLE_WORDS = 20_000  # more is not one article (an archive, a whole section on one page)
# Below MIN_ARTICLE_WORDS on purpose: an article an operator releases short still folds into its copy.
MIN_WORDS_TO_FOLD = 20  # shorter texts are too alike by chance to call one a copy of another
ARTICLE_KEY_CHARS = 32  # hex digits of SHA-256 kept in a key: 128 bits, no collision in any archive
MAX_TEXT_CHARS = 300  # of a title or snippet in a digest or an alert: the article is one click away
# A publication date later than this after the page was seen is a misreading (time zones and clocks aside).
FUTURE_TOLERANCE = timedelta(days=1)


def title_is_site_name(title: str | None, sitename: str | None, url: str | None = None) -> bool:
    """True when the title is the outlet's name, the page frame's title rather than a headline: its letters
    and digits (case, spaces and punctuation aside) are those of ``sitename``, or of a name in the page's
    address when one is given ("Pamir Herald" at pamirherald.example, "RFE/RL" at www.rferl.org: extraction
    passes it; validation judges by the site name alone)."""
    key = _name_key(title)
    if not key:
        return False
    if key == _name_key(sitename):
        return True
    host = (urlsplit(url).hostname or "") if url else ""
    return key in {_name_key(label) for label in host.split(".")[:-1] if label != "www"}  # not the TLD


def _name_key(value: str | None) -> str:
    return "".join(ch for ch in (value or "").casefold() if ch.isalnum())
