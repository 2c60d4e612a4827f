"""The search query language: what an analyst types, the tree, the engines' query text, the refusals."""

from __future__ import annotations

import pytest

from media_monitoring.search import All, Any_, Match, Not, QueryError, parse
from media_monitoring.text import search_tokens
from media_monitoring.warehouse.search import SearchCursor, fts5_match, tsquery_text

pytestmark = pytest.mark.unit


def test_words_are_all_required_and_any_script_is_lowercased():
    assert parse("Putin Tokayev").tree == All((Match(("putin",)), Match(("tokayev",))))
    assert parse("ПУТИН").tree == Match(("путин",))
    assert parse("بوتين").tree == Match(("بوتين",))


def test_phrases_prefixes_or_not_and_parentheses():
    assert parse('"Lavrov said" OR Kremlin*').tree == Any_((Match(("lavrov", "said")), Match(("kremlin",), True)))
    assert parse("(Putin OR Kremlin) -sport").tree == All((Any_((Match(("putin",)), Match(("kremlin",)))),
                                                          Not(Match(("sport",)))))
    assert parse("Путин NOT спорт").tree == All((Match(("путин",)), Not(Match(("спорт",)))))
    assert parse("Putin AND Xi").tree == parse("Putin Xi").tree
    assert parse("putin or xi").tree == All((Match(("putin",)), Match(("or",)), Match(("xi",))))  # lowercase: a word


def test_words_split_as_the_engines_split_text():
    assert parse("al-Qaeda").tree == Match(("al", "qaeda"))  # a hyphen inside a word is no NOT
    # Persian with a zero-width non-joiner: both engines index the two parts, so it is the phrase of them
    assert parse("می\u200cخواهد").tree == Match(("می", "خواهد"))
    assert search_tokens("الرئيسُ") == ("الرئيسُ",)  # harakat belong to the word (the engines fold them)
    assert search_tokens("ﺑﻮﺗﻴﻦ") == ("بوتين",)  # Arabic presentation forms: NFKC gives the letters
    assert search_tokens("U.S. — S-400!") == ("u", "s", "s", "400")


@pytest.mark.parametrize(("query", "message"), [
    ("", "Type a word"),
    ("   ", "Type a word"),
    ("-sport", "cannot only exclude"),
    ("NOT sport", "cannot only exclude"),
    ("Putin OR -sport", "cannot only exclude"),
    ("(Putin", "not closed"),
    ("Putin)", "no opening one"),
    ('"Lavrov said', "quotation mark is not closed"),
    ("a*", "at least 2 letters"),
    ("Putin AND", "AND needs something on both sides"),
    ("OR Putin", "OR needs something"),
    ("Putin OR", "OR needs something"),
    ("Putin NOT", "NOT needs a word"),
    ("— ! ?", "no letters or digits"),
    ("x " * 40, "Too many words"),
    ("x" * 501, "too long"),
])
def test_a_query_that_cannot_be_understood_says_why(query, message):
    with pytest.raises(QueryError, match=message):
        parse(query)


def test_engine_query_text_quotes_every_token():
    query = parse('"Lavrov said" OR (Kremlin* -sport)')
    assert fts5_match(query.tree) == '("lavrov said" OR (("kremlin" *) NOT ("sport")))'
    assert tsquery_text(query.tree) == "(('lavrov' <-> 'said') | ('kremlin':* & !'sport'))"
    # FTS5 and tsquery syntax typed by the user is only punctuation between words
    hostile = parse("NEAR(a b) xy:* 'y' \"z\"\"\" {col}:w")
    assert hostile.words() == ["near", "a", "b", "xy*", "y", "z", "col w"]


def test_cursors_round_trip_and_garbage_is_the_first_page():
    from datetime import UTC, datetime

    time = SearchCursor("time", "abc123", published_at=datetime(2021, 10, 28, 6, tzinfo=UTC))
    rel = SearchCursor("relevance", "abc123", score=0.123456789012345)
    undated = SearchCursor("time", "abc123")
    for cursor in (time, rel, undated):
        assert SearchCursor.decode(cursor.encode()) == cursor
    for garbage in ("", "x", "t|notadate|abc", "r|nan-ish|abc", "q|1|abc", "t||" + "a" * 40, "t||a'b"):
        assert SearchCursor.decode(garbage) is None
