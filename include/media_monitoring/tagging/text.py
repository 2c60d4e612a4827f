"""Helpers shared by the matchers: whole-word patterns in any script, and snippets."""

from __future__ import annotations

import re

SNIPPET_CHARS = 90  # each side of the match: about a line of context in the digest

# A word character in any script: letters, digits, combining marks. Python's \w covers Cyrillic,
# Arabic and the rest, so these lookarounds give whole-word matches beyond ASCII.
WORD_START = r"(?<!\w)"
WORD_END = r"(?![\w])"


def whole_word(pattern: str) -> str:
    return f"{WORD_START}(?:{pattern}){WORD_END}"


def snippet(text: str, start: int, end: int, width: int = SNIPPET_CHARS) -> str:
    """The match with about ``width`` characters each side, cut at spaces, on one line."""
    left = max(0, start - width)
    right = min(len(text), end + width)
    if left > 0:
        space = text.find(" ", left, start)
        left = space + 1 if space != -1 else left
    if right < len(text):
        space = text.rfind(" ", end, right)
        right = space if space != -1 else right
    body = " ".join(text[left:right].split())
    return ("…" if left > 0 else "") + body + ("…" if right < len(text) else "")


def literal(text: str) -> str:
    """An alias as a regex: escaped, with any run of spaces matching any whitespace."""
    return r"\s+".join(re.escape(part) for part in text.split())
