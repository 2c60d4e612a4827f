"""The search query language, parsed into an engine-neutral tree (``warehouse.search`` turns it into SQL).

What an analyst types, as in a web search engine:

* words: ``Putin Tokayev`` (every word must be there: AND is implied), any script;
* ``"exact phrases"``: the words next to each other, in order;
* ``prefix*``: any word starting so (at least ``MIN_PREFIX_CHARS`` letters: shorter ones match too much);
* ``OR`` between alternatives, ``AND`` to be explicit, ``NOT word`` or ``-word`` to exclude (the operators
  in capitals: a lowercase "or" is a word); parentheses group: ``(Putin OR Kremlin) -sport``.

A word is split into tokens as the engines split text (:func:`media_monitoring.text.search_tokens`):
letters, digits and combining marks are word characters, anything else (punctuation, hyphens, the Persian
zero-width non-joiner) separates. So ``al-Qaeda`` is the phrase "al qaeda", and ``می‌خواهد`` (with a ZWNJ)
the phrase "می خواهد", which is how both engines index it. A query that only
excludes (``-sport``) is refused: it would list the whole warehouse.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from media_monitoring.text import search_tokens

MAX_QUERY_CHARS = 500  # longer input is not a search an analyst types
MAX_WORDS = 32  # words and phrases in one query: bounds the work of one search on both engines
MIN_PREFIX_CHARS = 2  # "a*" would expand to most of the vocabulary
OPERATORS = {"AND", "OR", "NOT"}
PERIODS = ("today", "24h", "7d")  # date shortcuts, relative to the time of the request
SEARCH_PERIODS = {"24h": timedelta(hours=24), "7d": timedelta(days=7)}  # "today" depends on the clock's day


class QueryError(ValueError):
    """The query cannot be understood; the message says why, for the analyst."""


@dataclass(frozen=True)
class Match:
    """Tokens in this order, next to each other (one token: a word); ``prefix``: the last is a prefix."""

    tokens: tuple[str, ...]
    prefix: bool = False


@dataclass(frozen=True)
class All:
    """Every item (AND)."""

    items: tuple[Node, ...]


@dataclass(frozen=True)
class Any_:
    """At least one item (OR)."""

    items: tuple[Node, ...]


@dataclass(frozen=True)
class Not:
    """Excludes ``item``: only inside an :class:`All` that has something to look for."""

    item: Node


Node = Match | All | Any_ | Not


# -- lexer ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Lexeme:
    kind: str  # "(", ")", "-", "op", "word", "phrase"
    text: str = ""


def _lex(query: str) -> list[_Lexeme]:
    out: list[_Lexeme] = []
    i, n = 0, len(query)
    while i < n:
        char = query[i]
        if char.isspace():
            i += 1
        elif char in "()":
            out.append(_Lexeme(char))
            i += 1
        elif char == '"':
            end = query.find('"', i + 1)
            if end < 0:
                raise QueryError('A quotation mark is not closed: end the phrase with ".')
            out.append(_Lexeme("phrase", query[i + 1:end]))
            i = end + 1
        elif char == "-" and i + 1 < n and not query[i + 1].isspace() and (not out or query[i - 1].isspace()
                                                                          or query[i - 1] == "("):
            out.append(_Lexeme("-"))  # "-word" at the start of a word: exclude it (but "al-Qaeda" is a word)
            i += 1
        else:
            start = i
            while i < n and not query[i].isspace() and query[i] not in '()"':
                i += 1
            word = query[start:i]
            out.append(_Lexeme("op", word) if word in OPERATORS else _Lexeme("word", word))
    return out


# -- parser --------------------------------------------------------------------------------------


class _Parser:
    def __init__(self, lexemes: list[_Lexeme]) -> None:
        self.lexemes = lexemes
        self.pos = 0
        self.words = 0

    def peek(self) -> _Lexeme | None:
        return self.lexemes[self.pos] if self.pos < len(self.lexemes) else None

    def take(self) -> _Lexeme:
        lexeme = self.lexemes[self.pos]
        self.pos += 1
        return lexeme

    def any_(self) -> Node | None:
        items = [self.all_()]
        while (nxt := self.peek()) is not None and nxt.kind == "op" and nxt.text == "OR":
            self.take()
            if self.peek() is None or self.peek().kind == ")":  # type: ignore[union-attr]
                raise QueryError("OR needs something on both sides.")
            items.append(self.all_())
        if len(items) > 1 and items[0] is None:
            raise QueryError("OR needs something on both sides.")
        kept = [i for i in items if i is not None]
        if len(kept) == 1:
            return kept[0]
        return Any_(tuple(kept)) if kept else None

    def all_(self) -> Node | None:
        items: list[Node] = []
        while (nxt := self.peek()) is not None and nxt.kind != ")" and not (nxt.kind == "op" and nxt.text == "OR"):
            if nxt.kind == "op" and nxt.text == "AND":
                self.take()
                if not items or self.peek() is None or self.peek().kind == ")":  # type: ignore[union-attr]
                    raise QueryError("AND needs something on both sides.")
                continue
            item = self.unary()
            if item is not None:
                items.append(item)
        if not items:
            return None
        return items[0] if len(items) == 1 else All(tuple(items))

    def unary(self) -> Node | None:
        lexeme = self.peek()
        assert lexeme is not None
        if lexeme.kind == "-" or (lexeme.kind == "op" and lexeme.text == "NOT"):
            self.take()
            nxt = self.peek()
            if nxt is None or nxt.kind in (")", "op"):
                raise QueryError(f"{'NOT' if lexeme.kind == 'op' else '-'} needs a word or phrase after it.")
            item = self.unary()
            return Not(item) if item is not None else None
        return self.primary()

    def primary(self) -> Node | None:
        lexeme = self.take()
        if lexeme.kind == "(":
            inner = self.any_()
            if self.peek() is None or self.take().kind != ")":
                raise QueryError("A parenthesis is not closed: add “)”.")
            return inner
        if lexeme.kind == ")":
            raise QueryError("A closing parenthesis “)” has no opening one.")
        prefix = lexeme.kind == "word" and lexeme.text.endswith("*")
        found = search_tokens(lexeme.text)
        if not found:
            return None  # punctuation alone: nothing to look for
        if prefix and len(found[-1]) < MIN_PREFIX_CHARS:
            raise QueryError(f"“{lexeme.text}”: a prefix search needs at least {MIN_PREFIX_CHARS} letters "
                             "before the *.")
        self.words += 1
        if self.words > MAX_WORDS:
            raise QueryError(f"Too many words: a search takes at most {MAX_WORDS} words and phrases.")
        return Match(found, prefix)


def _check(node: Node, *, top: bool = True) -> None:
    """Every part must look for something: NOT only beside a word to find (FTS5's NOT is binary too)."""
    if isinstance(node, Not):
        raise QueryError("A search cannot only exclude: add a word to look for beside the "
                         f"{'NOT' if top else 'excluded'} part.")
    if isinstance(node, All):
        if all(isinstance(i, Not) for i in node.items):
            raise QueryError("A search cannot only exclude: add a word to look for beside the excluded part.")
        for item in node.items:
            _check(item.item if isinstance(item, Not) else item, top=False)
    elif isinstance(node, Any_):
        for item in node.items:
            _check(item, top=False)


@dataclass(frozen=True)
class Query:
    """A parsed query: the text as typed and its tree."""

    text: str
    tree: Node

    def words(self) -> list[str]:
        """The words and phrases looked for (not the excluded ones), for a summary."""
        found: list[str] = []

        def walk(node: Node) -> None:
            if isinstance(node, Match):
                found.append(" ".join(node.tokens) + ("*" if node.prefix else ""))
            elif isinstance(node, All | Any_):
                for item in node.items:
                    walk(item)

        walk(self.tree)
        return found


def parse(text: str) -> Query:
    """Parse what the analyst typed; raises :class:`QueryError` with a message fit to show them."""
    text = text.strip()
    if not text:
        raise QueryError("Type a word or phrase to search for.")
    if len(text) > MAX_QUERY_CHARS:
        raise QueryError(f"The search is too long: at most {MAX_QUERY_CHARS} characters.")
    parser = _Parser(_lex(text))
    tree = parser.any_()
    if parser.peek() is not None:  # only a stray ")" stops the top level early
        raise QueryError("A closing parenthesis “)” has no opening one.")
    if tree is None:
        raise QueryError("Nothing to search for: the query has no letters or digits.")
    _check(tree)
    return Query(text, tree)


def search_window(period: str | None, since: str | None, until: str | None, now: datetime,
                  tz: tzinfo = UTC) -> tuple[datetime | None, datetime | None]:
    """[since, until) of a search: a shortcut relative to ``now`` (today: since midnight in ``tz``, 24h,
    7d), else the dates or instants given (a date alone: that whole day in ``tz``, ``until`` inclusive)."""
    if period == "today":
        local = now.astimezone(tz)
        return datetime.combine(local.date(), time(0), tz).astimezone(UTC), None
    if period in SEARCH_PERIODS:
        return now - SEARCH_PERIODS[period], None

    def instant(value: str | None, end: bool) -> datetime | None:
        if not value:
            return None
        if len(value) == 10:  # YYYY-MM-DD
            day = date.fromisoformat(value) + timedelta(days=1 if end else 0)
            return datetime.combine(day, time(0), tz).astimezone(UTC)
        parsed = datetime.fromisoformat(value)
        return (parsed if parsed.tzinfo else parsed.replace(tzinfo=tz)).astimezone(UTC)

    return instant(since, False), instant(until, True)
