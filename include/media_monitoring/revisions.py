"""Articles that change after publication: when to look again, and what changed.

A watchlist article is fetched again about an hour, a day and a week after it was first fetched
(:data:`RECHECKS`), with the page's validators from the last fetch (conditional GET). A rewritten headline
or body is a revision with a diff; a page that answers 404/410, or now redirects to the site's front page,
is a deletion. Analysts see "changed since sent" in the view, in their next digest, and as an alert for
priority terms.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from media_monitoring.text import strip_format

# After the first fetch: most corrections come within the hour, updates of a developing story within
# the day; a week later a page taken down is still worth knowing about.
RECHECKS = (timedelta(hours=1), timedelta(hours=24), timedelta(days=7))
GONE_STATUSES = frozenset({404, 410})
MIN_CHANGED_WORDS = 3  # fewer words added or removed (a typo, a comma) is not a revision worth a note
MAX_DIFF_LINES = 200  # a diff longer than this is cut (the whole new text is kept beside it)
FRONT_PAGE_FILES = frozenset({"index.html", "index.htm", "index.php"})


EDITED, DELETED, UNCHANGED = "edited", "deleted", "unchanged"


def due_check(first_fetched: datetime, checks_done: int, now: datetime) -> int | None:
    """The number (1-based) of the re-check due at ``now``, or None.

    A check that came due while the product was down is not made up for when a later one is also due:
    the latest due check is made once, and the ones before it are skipped.
    """
    due = [n for n, after in enumerate(RECHECKS, start=1) if n > checks_done and now >= first_fetched + after]
    return due[-1] if due else None


def next_due(first_fetched: datetime, checks_done: int) -> datetime | None:
    """When the next re-check falls due, or None when all are done."""
    return first_fetched + RECHECKS[checks_done] if checks_done < len(RECHECKS) else None


def redirected_to_front_page(requested: str, final: str) -> bool:
    """A page that now redirects to its site's front page ("/", or "/index.html"...) was taken down."""
    before, after = urlsplit(requested), urlsplit(final)
    if (before.netloc, before.path) == (after.netloc, after.path) or after.query:
        return False
    segments = [s for s in after.path.lower().split("/") if s]
    # "/", "/index.html", or a language's front page ("/en/")
    return not segments or (len(segments) == 1 and (segments[0] in FRONT_PAGE_FILES
                                                     or (len(segments[0]) == 2 and segments[0].isalpha())))


@dataclass(frozen=True)
class Revision:
    """What changed between the stored article and the page as it reads now."""

    kind: str  # EDITED, DELETED or UNCHANGED
    title_before: str
    title_after: str
    words_added: int = 0
    words_removed: int = 0
    diff: str = ""  # unified diff: the headline first, then the body paragraph by paragraph

    @property
    def title_changed(self) -> bool:
        return _squash(self.title_before) != _squash(self.title_after)

    def summary(self) -> str:
        """One line for a digest, an alert or the view."""
        return describe(self.kind, self.title_before, self.title_after, self.words_added, self.words_removed)


def describe(kind: str, title_before: str | None, title_after: str | None, words_added: int,
             words_removed: int) -> str:
    """What changed, in one line: "headline was «…»; text +12/-3 words", or "taken down"."""
    if kind == DELETED:
        return "taken down"
    parts = [f"headline was «{title_before}»"] if _squash(title_before) != _squash(title_after) else []
    if words_added or words_removed:
        parts.append(f"text +{words_added}/-{words_removed} words")
    return "; ".join(parts) or "unchanged"


def _squash(text: str | None) -> str:
    """Spacing and invisible format characters (ZWNJ, soft hyphen…) are no change."""
    return " ".join(strip_format(text or "").split())


def _paragraphs(text: str | None) -> list[str]:
    return [p for p in (_squash(line) for line in (text or "").splitlines()) if p]


def compare(title_before: str | None, text_before: str | None, title_after: str | None,
            text_after: str | None) -> Revision:
    """The revision from (``title_before``, ``text_before``) to the new reading; whitespace alone is no change."""
    words_before, words_after = _squash(text_before).split(), _squash(text_after).split()
    added = removed = 0
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, words_before, words_after,
                                                      autojunk=False).get_opcodes():
        if op in ("replace", "delete"):
            removed += i2 - i1
        if op in ("replace", "insert"):
            added += j2 - j1
    title_before, title_after = _squash(title_before), _squash(title_after)
    edited = title_before != title_after or added + removed >= MIN_CHANGED_WORDS
    if not edited:
        return Revision(UNCHANGED, title_before, title_after, added, removed)
    lines = list(difflib.unified_diff([title_before, *_paragraphs(text_before)],
                                      [title_after, *_paragraphs(text_after)],
                                      "before", "after", n=1, lineterm=""))
    if len(lines) > MAX_DIFF_LINES:
        lines = [*lines[:MAX_DIFF_LINES], f"… {len(lines) - MAX_DIFF_LINES} more lines"]
    return Revision(EDITED, title_before, title_after, added, removed, "\n".join(lines))


def deletion(title: str | None) -> Revision:
    return Revision(DELETED, _squash(title), "")
