"""When an article is looked at again, and what counts as a change an analyst should hear about."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from media_monitoring import revisions as rv

pytestmark = pytest.mark.unit

FETCHED = datetime(2021, 10, 28, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(("after", "done", "due"), [
    (timedelta(minutes=59), 0, None),
    (timedelta(hours=1), 0, 1),
    (timedelta(hours=5), 1, None),
    (timedelta(hours=24), 1, 2),
    # down for two days: the day's check is made once, the hour's is not made up for
    (timedelta(days=2), 0, 2),
    (timedelta(days=8), 1, 3),
    (timedelta(days=30), 3, None),
])
def test_the_latest_due_check_is_made_once(after: timedelta, done: int, due: int | None) -> None:
    assert rv.due_check(FETCHED, done, FETCHED + after) == due


def test_next_due_follows_the_schedule_and_ends() -> None:
    assert rv.next_due(FETCHED, 0) == FETCHED + timedelta(hours=1)
    assert rv.next_due(FETCHED, 2) == FETCHED + timedelta(days=7)
    assert rv.next_due(FETCHED, 3) is None


def test_a_rewritten_headline_is_a_revision_with_a_diff() -> None:
    body = "Lavrov said the CSTO is ready to help Tajikistan.\nThe border runs 1,300 km."
    revision = rv.compare("Lavrov: CSTO ready to help", body, "Lavrov: CSTO will defend Tajik border", body)
    assert revision.kind == rv.EDITED and revision.title_changed
    assert "-Lavrov: CSTO ready to help" in revision.diff and "+Lavrov: CSTO will defend Tajik border" in revision.diff
    assert revision.summary() == "headline was «Lavrov: CSTO ready to help»"


def test_body_edits_are_counted_in_words_and_whitespace_is_no_change() -> None:
    before = "One two three four five.\nSix seven eight."
    assert rv.compare("T", before, "T", "One two  three four five.\n\n  Six seven eight.").kind == rv.UNCHANGED
    assert rv.compare("T", before, "T", "One two three four five!.\nSix seven eight.").kind == rv.UNCHANGED
    edited = rv.compare("T", before, "T", before + "\nA new paragraph of four words.")
    assert edited.kind == rv.EDITED and not edited.title_changed
    assert (edited.words_added, edited.words_removed) == (6, 0)
    assert "+A new paragraph of four words." in edited.diff
    assert edited.summary() == "text +6/-0 words"


def test_a_long_diff_is_cut() -> None:
    before = "\n".join(f"Paragraph {i} says one thing." for i in range(400))
    after = "\n".join(f"Paragraph {i} says another thing entirely." for i in range(400))
    lines = rv.compare("T", before, "T", after).diff.splitlines()
    assert len(lines) == rv.MAX_DIFF_LINES + 1 and lines[-1].startswith("…")


@pytest.mark.parametrize(("requested", "final", "gone"), [
    ("https://tass.com/politics/1356789", "https://tass.com/", True),
    ("https://tass.com/politics/1356789", "https://tass.com/index.html", True),
    ("https://www.tolonews.com/fa/afghanistan-175000", "https://www.tolonews.com/fa", True),
    ("https://tass.com/politics/1356789", "https://tass.com/politics/1356789", False),
    ("https://tass.com/politics/1356789", "https://tass.com/politics/1356789-lavrov", False),
    ("https://tass.com/politics/1356789", "https://tass.com/search?q=1356789", False),
])
def test_a_redirect_to_the_front_page_is_a_deletion(requested: str, final: str, gone: bool) -> None:
    assert rv.redirected_to_front_page(requested, final) is gone
