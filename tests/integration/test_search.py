"""Search on both engines, the same articles and the same expectations: SQLite FTS5 (the embedded default)
and PostgreSQL full-text search (a real server, a throwaway database), with Latin, Cyrillic and Arabic
script (Arabic and Persian), the query language, the filters, both sorts, keyset pages, the bounded count,
the index kept in step with every write, and created on a warehouse made before it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from media_monitoring.search import parse
from media_monitoring.warehouse import Warehouse, search_index
from media_monitoring.warehouse import articles as article_store
from media_monitoring.warehouse import search as ws

pytestmark = pytest.mark.integration


def _at(day: str, hour: int = 12) -> datetime:
    return datetime.fromisoformat(day).replace(hour=hour, tzinfo=UTC)


def _article(article_id: str, title: str, text: str, *, outlet: str, country: str, language: str,
             published: datetime | None) -> dict:
    return {"article_id": article_id, "canonical_url": f"https://{outlet}.example/{article_id}",
            "url": f"https://{outlet}.example/{article_id}", "outlet_id": outlet, "outlet_country": country,
            "title": title, "text": text, "word_count": len(text.split()), "sources": [], "countries": [],
            "regions": [], "language": language, "published_at": published}


ARTICLES = [
    _article("en1", "Putin meets Tokayev in Astana",
             "President Vladimir Putin held talks with Kassym-Jomart Tokayev over coffee at a café.",
             outlet="tass-en", country="RU", language="en", published=_at("2021-10-28", 6)),
    _article("en2", "Hockey final in Sochi", "Putin watched the hockey final in Sochi with guests.",
             outlet="tass-en", country="RU", language="en", published=_at("2021-10-27")),
    _article("ru1", "Путин провёл переговоры с Токаевым",
             "Президент России Владимир Путин обсудил с Касым-Жомартом Токаевым поставки зерна в Казахстан.",
             outlet="ria-ru", country="RU", language="ru", published=_at("2021-10-28", 9)),
    # harakat on الرئيسُ and الروسيُّ, as a careful text has them: found without them
    _article("ar1", "الرئيسُ بوتين يلتقي أردوغان",
             "قالَ الرئيسُ الروسيُّ فلاديمير بوتين إن المحادثات في سوتشي كانت مثمرة.",
             outlet="almayadeen-en", country="LB", language="ar", published=_at("2021-08-24")),
    # Persian with zero-width non-joiners (می‌خواهد, آسیای‌میانه)
    _article("fa1", "پوتین می‌خواهد با رهبران آسیای میانه دیدار کند",
             "ولادیمیر پوتین می‌خواهد درباره امنیت مرزهای افغانستان گفت‌وگو کند.",
             outlet="tolonews", country="AF", language="fa", published=_at("2021-10-26")),
    _article("en3", "Flights to Astana delayed", "Snow delayed flights; the airport of Astana reopened at noon.",
             outlet="kazinform", country="KZ", language="en", published=_at("2021-10-29")),
    _article("en4", "Lavrov on the CSTO", "Sergey Lavrov said the CSTO is ready to help Tajikistan.",
             outlet="tass-en", country="RU", language="en", published=None),  # no publication date found
]
# Each place with its focus row (the article is about it), as the pipeline writes them, but en3, which only
# mentions Kazakhstan.
PLACES = [{"article_id": a, "kind": kind, "code": code, "name": code, "mentions": 1, "evidence": []}
          for a, kind, code in (("en1", "country", "KZ"), ("ru1", "country", "KZ"), ("en1", "region", "Central Asia"),
                                ("fa1", "region", "Central Asia"), ("en3", "country", "KZ"),
                                ("en1", "focus_cty", "KZ"), ("ru1", "focus_cty", "KZ"),
                                ("en1", "focus_reg", "Central Asia"), ("fa1", "focus_reg", "Central Asia"))]
HITS = [{"article_id": a, "watchlist": "russia", "term": term, "field": "text", "start": 0, "end": 5, "alias": term,
         "matched": term, "snippet": "…", "version": "1"} for a, term in (("en1", "Putin"), ("ru1", "Putin"),
                                                                          ("en4", "CSTO"))]


@pytest.fixture(params=["sqlite", "postgresql"])
def wh(request, tmp_path) -> Iterator[Warehouse]:
    url = (f"sqlite:///{tmp_path / 'search.sqlite'}" if request.param == "sqlite"
           else request.getfixturevalue("postgres_warehouse"))
    warehouse = Warehouse.connect(url)
    article_store.commit_batch(warehouse, "manual__search", ARTICLES, HITS, PLACES, [], None)
    try:
        yield warehouse
    finally:
        warehouse.close()


def _ids(wh: Warehouse, query: str, flt: ws.SearchFilter | None = None, sort: str = "time") -> list[str]:
    return [a["article_id"] for a in ws.search_page(wh, parse(query), flt or ws.SearchFilter(), sort=sort).articles]


def test_words_in_every_script_are_found_newest_first(wh):
    assert _ids(wh, "putin") == ["en1", "en2"]
    assert _ids(wh, "ПУТИН") == ["ru1"]
    assert _ids(wh, "пут*") == ["ru1"]
    assert _ids(wh, "Токаевым") == ["ru1"]
    assert _ids(wh, "بوتين") == ["ar1"]
    assert _ids(wh, "پوتین") == ["fa1"]  # Persian yeh: another word than the Arabic بوتين, on both engines
    # harakat are folded: the query without them finds the text with them, and the other way round
    assert _ids(wh, "الرئيس الروسي") == ["ar1"]
    assert _ids(wh, "الرئيسُ") == ["ar1"]
    assert _ids(wh, "ﺑﻮﺗﻴﻦ") == ["ar1"]  # typed in presentation forms
    # the zero-width non-joiner: with it, with a space, as a phrase
    assert _ids(wh, "می\u200cخواهد") == ["fa1"]
    assert _ids(wh, '"می خواهد"') == ["fa1"]
    assert _ids(wh, "گفت‌وگو") == ["fa1"]
    # Latin accents are folded both ways
    assert _ids(wh, "cafe") == ["en1"]
    assert _ids(wh, "CAFÉ") == ["en1"]
    # undated articles come after the dated ones
    assert _ids(wh, "CSTO OR Astana") == ["en3", "en1", "en4"]


def test_phrases_boolean_operators_and_prefixes(wh):
    assert _ids(wh, '"held talks"') == ["en1"]
    assert _ids(wh, '"talks held"') == []
    assert _ids(wh, "putin -hockey") == ["en1"]
    assert _ids(wh, "Putin NOT (hockey OR coffee)") == []
    assert _ids(wh, "Tokayev OR Токаевым") == ["ru1", "en1"]
    assert _ids(wh, "(sochi OR سوتشي) -hockey") == ["ar1"]
    assert _ids(wh, "Kassym-Jomart") == ["en1"]
    assert _ids(wh, "Касым-Жомартом") == ["ru1"]
    assert _ids(wh, "toka*") == ["en1"]
    assert _ids(wh, "nothing-like-this") == []


def test_filters_narrow_the_search(wh):
    every = "putin OR путин OR بوتين OR پوتین OR lavrov OR astana"
    assert _ids(wh, every) == ["en3", "ru1", "en1", "en2", "fa1", "ar1", "en4"]
    assert _ids(wh, every, ws.SearchFilter(outlet="tass-en")) == ["en1", "en2", "en4"]
    assert _ids(wh, every, ws.SearchFilter(outlet_country="LB")) == ["ar1"]
    assert _ids(wh, every, ws.SearchFilter(language="ru")) == ["ru1"]
    assert _ids(wh, every, ws.SearchFilter(country="KZ")) == ["ru1", "en1"]
    assert _ids(wh, every, ws.SearchFilter(country="KZ", mentioned=True)) == ["en3", "ru1", "en1"]
    assert _ids(wh, every, ws.SearchFilter(region="Central Asia")) == ["en1", "fa1"]
    assert _ids(wh, every, ws.SearchFilter(term="Putin", watchlists=("russia",))) == ["ru1", "en1"]
    assert _ids(wh, every, ws.SearchFilter(term="CSTO")) == ["en4"]
    assert _ids(wh, every, ws.SearchFilter(since=_at("2021-10-27", 0), until=_at("2021-10-28", 8))) == ["en1", "en2"]
    assert _ids(wh, every, ws.SearchFilter(since=_at("2021-10-28", 0), outlet="tass-en", country="KZ",
                                           language="en", term="Putin")) == ["en1"]


def test_relevance_puts_a_title_match_first(wh):
    assert _ids(wh, "astana") == ["en3", "en1"]  # time: the newer one first
    assert _ids(wh, "astana", sort="relevance")[0] in {"en1", "en3"}  # both in the title
    assert _ids(wh, "hockey OR sochi", sort="relevance") == ["en2"]
    assert _ids(wh, "sochi OR tokayev", sort="relevance")[0] in {"en1", "en2"}
    # en2 has Putin in the body only, en1 in the title and the body
    assert _ids(wh, "putin", sort="relevance") == ["en1", "en2"]


@pytest.mark.parametrize("sort", ["time", "relevance"])
def test_keyset_pages_show_every_match_once(wh, sort):
    query, flt = parse("putin OR путин OR بوتين OR پوتین OR lavrov OR astana"), ws.SearchFilter()
    seen, after = [], None
    for _ in range(10):
        page = ws.search_page(wh, query, flt, sort=sort, after=after, limit=2)
        assert page.count == 7 and not page.count_capped
        seen += [a["article_id"] for a in page.articles]
        if page.next_cursor is None:
            break
        after = ws.SearchCursor.decode(page.next_cursor.encode())
    assert sorted(seen) == sorted(a["article_id"] for a in ARTICLES)
    assert len(seen) == len(set(seen))
    if sort == "time":
        assert seen == ["en3", "ru1", "en1", "en2", "fa1", "ar1", "en4"]


def test_the_count_is_bounded(wh):
    with wh.engine.connect() as conn:
        capped = conn.execute(ws.count_query(wh.backend, parse("putin OR путин OR lavrov"), ws.SearchFilter(),
                                             cap=2)).scalar_one()
    assert capped == 3  # cap + 1: "2+"


def test_snippets_mark_the_matched_words_in_the_text_as_stored(wh):
    [article] = ws.search_page(wh, parse("tokayev"), ws.SearchFilter(), sort="time").articles
    assert f"{ws.MARK_START}Tokayev{ws.MARK_END}" in article["title_marked"]
    assert f"{ws.MARK_START}Tokayev{ws.MARK_END}" in article["snippet"]
    assert ws.plain(article["snippet"]).startswith("President Vladimir Putin held talks")
    [article] = ws.search_page(wh, parse("Путин"), ws.SearchFilter()).articles
    assert ws.marked_words(article["snippet"]) == ["Путин"]
    [article] = ws.search_page(wh, parse("بوتين"), ws.SearchFilter()).articles
    assert ws.marked_words(article["snippet"]) == ["بوتين"]


def test_the_index_follows_every_write(wh):
    changed = {**ARTICLES[1], "title": "Curling final in Sochi", "text": "Putin watched the curling final."}
    # re-processed: the upsert's update path
    article_store.commit_batch(wh, "manual__again", [changed], [], [], [], None)
    assert _ids(wh, "hockey") == []
    assert _ids(wh, "curling") == ["en2"]
    with wh.engine.begin() as conn:
        conn.execute(sa.delete(sa.table("articles", sa.column("article_id"))).where(sa.column("article_id") == "en2"))
    assert _ids(wh, "curling") == []
    assert _ids(wh, "putin") == ["en1"]


def test_a_warehouse_made_before_search_gets_the_index_and_its_articles(wh):
    """A version-3 warehouse written before search existed: reconnecting creates the index and fills it."""
    url = wh.engine.url.render_as_string(hide_password=False)
    with wh.engine.begin() as conn:
        if wh.backend == "sqlite":
            for trigger in search_index.FTS_TRIGGERS:
                conn.exec_driver_sql(f"DROP TRIGGER {trigger}")
            conn.exec_driver_sql(f"DROP TABLE {search_index.FTS_TABLE}")
        else:
            conn.exec_driver_sql(f"ALTER TABLE articles DROP COLUMN {search_index.SEARCH_COLUMN}")  # its index goes too
            conn.exec_driver_sql(f"DROP FUNCTION {search_index.FOLD_FUNCTION}(text)")
        assert search_index.missing_parts(conn)
    wh.close()
    again = Warehouse.connect(url)
    try:
        with again.engine.connect() as conn:
            assert search_index.missing_parts(conn) == []
        assert _ids(again, "putin") == ["en1", "en2"]
        assert _ids(again, "الرئيس") == ["ar1"]
        article_store.commit_batch(again, "manual__later", [{**ARTICLES[1], "article_id": "en9", "canonical_url": "https://x/9",
                                              "title": "Putin later"}], [], [], [], None)
        assert _ids(again, "putin") == ["en1", "en9", "en2"]  # same second as en2: the larger id first
    finally:
        again.close()
