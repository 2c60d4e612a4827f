"""Exports list exactly what their pages list, on both engines: SQLite (the embedded default) and PostgreSQL (a
real server, a throwaway database). For every filter, the hits export holds the articles of the hits page walked
page after page, in its order, with every hit of each; the search export the search's pages; a digest's export
its stored items. Read in small batches, so the cursor's batch boundaries fall inside the list."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from media_monitoring import export
from media_monitoring.search import parse
from media_monitoring.warehouse import Warehouse, digests
from media_monitoring.warehouse import articles as article_store
from media_monitoring.warehouse import export as exported
from media_monitoring.warehouse import schema as s
from media_monitoring.warehouse import search as ws
from media_monitoring.warehouse.hits import HitFilter
from media_monitoring_ui.cursors import HitCursor
from media_monitoring_ui.queries.hits import hit_page

pytestmark = pytest.mark.integration

START = datetime(2021, 10, 20, 6, tzinfo=UTC)
WATCHLISTS = ("central-asia-security",)
OUTLETS = ("tass-en", "ria-ru", "tolonews")
REGIONS = ("Central Asia", "Eastern Europe")
TERMS = ("Lavrov", "CSTO", "Afghanistan")
TITLES = ("Lavrov meets the CSTO in Dushanbe", "Лавров: ОДКБ готова помочь", "لافروف يلتقي نظيره",
          "=cmd|' /C calc'!A0 harvest report", "Afghanistan wheat harvest, \"record\"")


def _articles() -> tuple[list[dict], list[dict], list[dict]]:
    """30 articles over ten days (pairs in the same second, three undated), on three outlets; hits on most."""
    articles, hits, places = [], [], []
    for n in range(30):
        aid = f"{n:02d}" + "f" * 30
        published = None if n % 11 == 5 else START + timedelta(hours=8 * (n // 2))  # pairs share a second
        articles.append({"article_id": aid, "canonical_url": f"https://x.example/{n}", "url": f"https://x.example/{n}",
                         "outlet_id": OUTLETS[n % 3], "outlet_country": "RU", "title": TITLES[n % 5],
                         "text": f"{TITLES[n % 5]} harvest and talks number {n}", "word_count": 8, "sources": [],
                         "countries": ["TJ"], "regions": [REGIONS[n % 2]], "primary_country": "TJ",
                         "language": ("en", "ru", "ar", "en", "en")[n % 5], "published_at": published,
                         "published_local": published.isoformat() if published else None})
        places.append({"article_id": aid, "kind": "region", "code": REGIONS[n % 2], "name": REGIONS[n % 2],
                       "mentions": 1, "evidence": []})
        if n % 7 == 6:
            continue  # no hit: listed by search, never by the hits page
        for k, term in enumerate(TERMS[:1 + n % 3]):
            for field, start in (("title", 0), ("text", 5 + k)) if n % 2 else (("text", 3 + k),):
                hits.append({"article_id": aid, "watchlist": WATCHLISTS[0], "term": term, "field": field,
                             "start": start, "end": start + 4, "alias": term, "matched": f"{term} ({n})",
                             "snippet": f"… {term} said, “{n}” …", "version": "2026.11.2"})
    return articles, hits, places


@pytest.fixture(params=["sqlite", "postgresql"])
def wh(request, tmp_path) -> Iterator[Warehouse]:
    url = (f"sqlite:///{tmp_path / 'export.sqlite'}" if request.param == "sqlite"
           else request.getfixturevalue("postgres_warehouse"))
    warehouse = Warehouse.connect(url)
    articles, hits, places = _articles()
    article_store.commit_batch(warehouse, "manual__export", articles, hits, places, [], None)
    try:
        yield warehouse
    finally:
        warehouse.close()


HIT_FILTERS = {
    "everything": HitFilter(),
    "a term": HitFilter(term="CSTO", watchlists=WATCHLISTS),
    "a term, no watchlist given": HitFilter(term="Afghanistan"),
    "an outlet": HitFilter(outlet="ria-ru"),
    "a region (hit_places)": HitFilter(region="Eastern Europe"),
    "a region and a term": HitFilter(term="CSTO", watchlists=WATCHLISTS, region="Central Asia"),
    "dates": HitFilter(since=date(2021, 10, 21), until=date(2021, 10, 23)),
    "everything at once": HitFilter(term="Lavrov", watchlists=WATCHLISTS, region="Central Asia",
                                          outlet="tass-en", since=date(2021, 10, 20), until=date(2021, 10, 30)),
    "nothing matches": HitFilter(term="Lavrov", outlet="nowhere"),
}


def _paged(wh: Warehouse, flt: HitFilter) -> list[dict]:
    """The hits page walked page after page (pages of 4), as the analyst would click "Next page"."""
    listed, after = [], None
    while True:
        page = hit_page(wh, flt, after=after, limit=4)
        listed += page.articles
        if page.next_cursor is None:
            return listed
        after = HitCursor.decode(page.next_cursor.encode())


@pytest.mark.parametrize("name", HIT_FILTERS)
def test_the_hits_export_is_the_hits_page_walked_to_its_end(wh, name):
    flt = HIT_FILTERS[name]
    paged = _paged(wh, flt)
    rows = list(exported.hit_rows(wh, flt, batch=3))
    assert list(dict.fromkeys(r["article_id"] for r in rows)) == [a["article_id"] for a in paged]
    if name == "everything":
        assert len(paged) == 30 - 4 and paged[-1]["published_at"] is None  # the undated ones come last
    # every hit of each listed article, with its evidence (the page summarises the same hits per term)
    h = s.watchlist_hits
    with wh.engine.connect() as conn:
        stored = {tuple(r) for r in conn.execute(
            sa.select(h.c.article_id, h.c.watchlist, h.c.term, h.c.field, h.c.start, h.c.alias, h.c.matched,
                      h.c.snippet, h.c.version).where(h.c.article_id.in_([a["article_id"] for a in paged])))}
    assert {(r["article_id"], r["watchlist"], r["term"], r["field"], r["position"], r["alias"], r["matched"],
             r["snippet"], r["rule_version"]) for r in rows} == stored
    assert len(rows) == len(stored)
    by_id = {a["article_id"]: a for a in paged}
    for row in rows:
        article = by_id[row["article_id"]]
        assert row["term"] in {t["term"] for t in article["terms"]}
        assert (row["title"], row["url"], row["outlet_id"], row["published_utc"], row["regions"]) == (
            article["title"], article["url"], article["outlet_id"], article["published_at"], article["regions"])


def test_the_written_files_hold_the_same_rows(wh):
    flt = HIT_FILTERS["a term"]
    rows = list(exported.hit_rows(wh, flt))
    text = "".join(export.chunks("hits", "csv", exported.hit_rows(wh, flt, batch=2)))
    parsed = list(csv.DictReader(io.StringIO(text, newline="")))
    assert [(p["article_id"], p["term"], p["field"], p["position"]) for p in parsed] == [
        (r["article_id"], r["term"], r["field"], str(r["position"])) for r in rows]
    assert {p["title"] for p in parsed} >= {"'=cmd|' /C calc'!A0 harvest report"}  # the formula guard
    items = json.loads("".join(export.chunks("hits", "json", exported.hit_rows(wh, flt, batch=2))))
    assert [(i["article_id"], i["term"], i["matched"]) for i in items] == [
        (r["article_id"], r["term"], r["matched"]) for r in rows]


SEARCHES = [
    ("harvest OR Лавров OR لافروف", ws.SearchFilter()),
    ("harvest", ws.SearchFilter(outlet="tass-en")),
    ("talks", ws.SearchFilter(region="Central Asia", language="en")),
    ("talks", ws.SearchFilter(term="CSTO", watchlists=WATCHLISTS)),
    ("talks", ws.SearchFilter(since=START + timedelta(days=1), until=START + timedelta(days=4))),
    ("nothing-like-this", ws.SearchFilter()),
]


@pytest.mark.parametrize("sort", ws.SORTS)
@pytest.mark.parametrize("case", range(len(SEARCHES)))
def test_the_search_export_is_the_search_walked_to_its_end(wh, case, sort):
    text, flt = SEARCHES[case]
    query = parse(text)
    paged, after = [], None
    while True:
        page = ws.search_page(wh, query, flt, sort=sort, after=after, limit=4)
        paged += page.articles
        if page.next_cursor is None:
            break
        after = ws.SearchCursor.decode(page.next_cursor.encode())
    rows = list(exported.search_rows(wh, query, flt, sort=sort, batch=3))
    assert [r["article_id"] for r in rows] == [a["article_id"] for a in paged]
    for row, article in zip(rows, paged, strict=True):
        assert row["snippet"] == ws.plain(article["snippet"])
        assert row["matched_words"] == ws.marked_words(article["title_marked"] + article["snippet"])
        assert row["score"] == (article["score"] if sort == "relevance" else None)
    if case == 0:
        assert len(rows) == 30
        assert sort == "relevance" or rows[-1]["published_utc"] is None  # by time, the undated come last


def test_a_digest_export_holds_its_stored_items(wh):
    window_end = datetime(2021, 10, 28, 2, tzinfo=UTC)
    day = date(2021, 10, 28)
    entries = [{"subscription": "Central Asia desk", "digest_date": day, "watchlist": WATCHLISTS[0],
                "article_id": f"{n:02d}" + "f" * 30, "rank": rank, "title": TITLES[n % 5],
                "url": f"https://x.example/{n}", "outlet_id": OUTLETS[n % 3], "language": "en",
                "published_at": START, "published_local": "2021-10-20T10:00:00+04:00", "first_seen_at": START,
                "stored_at": START, "late": n == 4, "in_regions": n % 2 == 0,
                "terms": [{"term": t, "alias": t, "matched": t.upper(), "field": "text", "snippet": f"… {t} …"}
                          for t in TERMS[:1 + n % 3]],
                "outlet_country": "RU", "primary_country": "TJ", "primary_region": "Central Asia", "story": None}
               for rank, n in enumerate((4, 1, 2), start=1)]
    digests.store_digest(wh, {"subscription": "Central Asia desk", "digest_date": day, "kind": "scheduled",
                              "window_start": window_end - timedelta(days=1), "window_end": window_end,
                              "timezone": "Asia/Almaty", "run_id": "scheduled__x",
                              "versions": {"watchlists": {WATCHLISTS[0]: "2026.11.2"}, "regions": [],
                                           "regions_mode": "first"},
                              "item_count": 3, "late_count": 1, "term_counts": {}, "context": {},
                              "created_at": window_end}, entries)
    rows = list(exported.digest_rows(wh, "Central Asia desk", day))
    assert [(r["rank"], r["article_id"][:2], r["term"]) for r in rows] == [
        (1, "04", "Lavrov"), (1, "04", "CSTO"), (2, "01", "Lavrov"), (2, "01", "CSTO"), (3, "02", "Lavrov"),
        (3, "02", "CSTO"), (3, "02", "Afghanistan")]
    first = rows[0]
    assert (first["digest_date"], first["subscription"], first["window_start"], first["window_end"],
            first["window_timezone"], first["rule_version"], first["late"], first["in_focus"]) == (
        day, "Central Asia desk", window_end - timedelta(days=1), window_end, "Asia/Almaty", "2026.11.2", True, True)
    assert first["regions"] == [REGIONS[0]] and first["matched"] == "LAVROV"  # regions: from the stored article
    assert list(exported.digest_rows(wh, "Central Asia desk", day - timedelta(days=1))) == []
