"""Full-text search over every stored article: the SQL that reads the search index.

One interface (:func:`search_page`), two real engines, each with the index of
:mod:`media_monitoring.warehouse.search_index`: on SQLite the FTS5 table (relevance: ``bm25()``, a title match
weighing ``TITLE_WEIGHT`` times a body match; snippets: ``snippet()``), on PostgreSQL the generated
``tsvector`` column and its GIN index (relevance: ``ts_rank_cd``; snippets: ``ts_headline``).

Queries are built from the parsed tree of :mod:`media_monitoring.search`, never from the user's text: the
FTS5 ``MATCH`` string and the ``tsquery`` text quote every token (tokens hold only letters, digits and marks)
and reach the database as bind parameters.

Pages are bounded: sorted by time, a keyset walk on ``(published_at, article_id)`` newest first (dated
articles, then the undated ones by id); sorted by relevance, the ``RELEVANCE_POOL`` newest matches are ranked
(news search favours recent articles, and ranking every match of a common word in millions of articles
takes seconds), keyset on ``(score, article_id)``. The result count stops at ``COUNT_CAP`` ("1,000+").
Snippets are read for the page's articles only, in a second query.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from media_monitoring.records import COUNTRY, FOCUS_KIND, REGION
from media_monitoring.search import All, Any_, Match, Node, Not, Query
from media_monitoring.warehouse import schema as s
from media_monitoring.warehouse.search_index import FTS_TABLE, SEARCH_COLUMN
from media_monitoring.warehouse.store import aware

if TYPE_CHECKING:
    from media_monitoring.warehouse import Warehouse

# Highlight markers the engines put around matched words: private-use characters, which extracted article
# text does not carry; the view escapes everything between them (present.marked).
MARK_START, MARK_END = "\ue000", "\ue001"
ELLIPSIS = "…"

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
COUNT_CAP = 1000  # matches counted up to this, then shown as "1,000+": a count never reads every match
RELEVANCE_POOL = 1000  # sorted by relevance: the newest this many matches are ranked
TITLE_WEIGHT = 5.0  # FTS5 bm25 column weight of the title against the body's 1.0 (PostgreSQL: weight A vs B)
SNIPPET_TOKENS = 32  # words in an FTS5 snippet
# ts_headline: about FTS5's snippet length, two fragments; a long body is cut first (ts_headline parses the
# whole document it is given: a 20,000-word article would cost tens of milliseconds per row).
HEADLINE_OPTIONS = (f"StartSel={MARK_START}, StopSel={MARK_END}, MaxWords=30, MinWords=12, MaxFragments=2, "
                    f'FragmentDelimiter=" {ELLIPSIS} "')
TITLE_HEADLINE_OPTIONS = f"StartSel={MARK_START}, StopSel={MARK_END}, HighlightAll=true"
HEADLINE_SOURCE_CHARS = 20_000
SORTS = ("time", "relevance")


# -- queries ---------------------------------------------------------------------------------------


def _fts5_token(token: str) -> str:
    return '"' + token.replace('"', '""') + '"'


def fts5_match(node: Node) -> str:
    """The FTS5 MATCH expression of a parsed query (every token quoted: no FTS5 syntax from the user)."""
    if isinstance(node, Match):
        return '"' + " ".join(t.replace('"', '""') for t in node.tokens) + '"' + (" *" if node.prefix else "")
    if isinstance(node, Any_):
        return "(" + " OR ".join(fts5_match(i) for i in node.items) + ")"
    if isinstance(node, All):
        wanted = [fts5_match(i) for i in node.items if not isinstance(i, Not)]
        excluded = [fts5_match(i.item) for i in node.items if isinstance(i, Not)]
        text = "(" + " AND ".join(wanted) + ")"
        return f"({text} NOT ({' OR '.join(excluded)}))" if excluded else text
    raise ValueError("a NOT outside an AND group")  # the parser refuses these


def _ts_token(token: str) -> str:
    return "'" + token.replace("\\", "\\\\").replace("'", "''") + "'"


def tsquery_text(node: Node) -> str:
    """The ``to_tsquery`` text of a parsed query: tokens quoted, phrases with ``<->``, prefixes ``:*``."""
    if isinstance(node, Match):
        parts = [_ts_token(t) for t in node.tokens]
        if node.prefix:
            parts[-1] += ":*"
        return parts[0] if len(parts) == 1 else "(" + " <-> ".join(parts) + ")"
    if isinstance(node, Any_):
        return "(" + " | ".join(tsquery_text(i) for i in node.items) + ")"
    if isinstance(node, All):
        return "(" + " & ".join(("!" + tsquery_text(i.item)) if isinstance(i, Not) else tsquery_text(i)
                                 for i in node.items) + ")"
    raise ValueError("a NOT outside an AND group")


@dataclass(frozen=True)
class SearchFilter:
    """What a search is narrowed to: published in [since, until), and exact values of the other fields."""

    since: datetime | None = None
    until: datetime | None = None
    outlet: str | None = None
    outlet_country: str | None = None  # the outlet's country (alpha-2)
    country: str | None = None  # a country the article is tagged with (article_places, alpha-2)
    region: str | None = None  # a region the article is tagged with (article_places)
    mentioned: bool = False  # country, region: also articles that only mention it (default: those about it)
    language: str | None = None
    term: str | None = None  # a watchlist term the article has a hit of
    watchlists: tuple[str, ...] = ()  # the watchlists defining ``term``: lets the term index be used


@dataclass(frozen=True)
class SearchCursor:
    """Where the next page starts: after this article in the sort order (``score`` for relevance)."""

    sort: str
    article_id: str
    published_at: datetime | None = None
    score: float | None = None

    def encode(self) -> str:
        if self.sort == "relevance":
            return f"r|{self.score!r}|{self.article_id}"
        stamp = self.published_at.isoformat() if self.published_at else ""
        return f"t|{stamp}|{self.article_id}"

    @classmethod
    def decode(cls, value: str | None) -> SearchCursor | None:
        """The cursor in ``value``, or None if it is missing or malformed (then: first page)."""
        parts = (value or "").split("|")
        if len(parts) != 3 or not (0 < len(parts[2]) <= 32 and parts[2].isalnum()):
            return None
        kind, key, article_id = parts
        try:
            if kind == "r":
                return cls("relevance", article_id, score=float(key))
            if kind == "t":
                stamp = datetime.fromisoformat(key) if key else None
                return cls("time", article_id, published_at=aware(stamp))
        except ValueError:
            return None
        return None


@dataclass
class SearchPage:
    articles: list[dict[str, Any]] = field(default_factory=list)
    count: int = 0  # matches, counted up to COUNT_CAP + 1
    next_cursor: SearchCursor | None = None

    @property
    def count_capped(self) -> bool:
        return self.count > COUNT_CAP


_COLUMNS = (s.articles.c.article_id, s.articles.c.published_at, s.articles.c.published_local,
            s.articles.c.outlet_id, s.articles.c.outlet_country, s.articles.c.title, s.articles.c.url,
            s.articles.c.language, s.articles.c.primary_country, s.articles.c.regions, s.articles.c.gist)
_fts = sa.table(FTS_TABLE, sa.column("rowid"))
_ARTICLE_ROWID: sa.ColumnElement[Any] = sa.literal_column("articles.rowid")
_SIMPLE: sa.ColumnElement[Any] = sa.literal_column("'simple'::regconfig")


def _tsquery(query: Query) -> sa.ColumnElement[Any]:
    return sa.func.to_tsquery(_SIMPLE, sa.func.media_monitor_search_fold(
        sa.bindparam("tsquery", tsquery_text(query.tree))), type_=postgresql.TSQUERY)


def _vector() -> sa.ColumnElement[Any]:
    return sa.literal_column(f"articles.{SEARCH_COLUMN}", type_=postgresql.TSVECTOR)


def _matching(backend: str, query: Query, flt: SearchFilter, *columns: Any) -> sa.Select:
    """SELECT columns FROM the matching articles, filtered (no order, no limit)."""
    a, h, p = s.articles, s.watchlist_hits, s.article_places
    if backend == "sqlite":
        stmt = (sa.select(*columns).select_from(a.join(_fts, _fts.c.rowid == _ARTICLE_ROWID))
                .where(sa.literal_column(FTS_TABLE).op("MATCH")(sa.bindparam("match", fts5_match(query.tree)))))
    else:
        stmt = sa.select(*columns).select_from(a).where(_vector().op("@@")(_tsquery(query)))
    if flt.since:
        stmt = stmt.where(a.c.published_at >= flt.since)
    if flt.until:
        stmt = stmt.where(a.c.published_at < flt.until)
    for column, value in ((a.c.outlet_id, flt.outlet), (a.c.outlet_country, flt.outlet_country),
                          (a.c.language, flt.language)):
        if value:
            stmt = stmt.where(column == value)
    for kind, code in ((COUNTRY, flt.country), (REGION, flt.region)):
        kind = kind if flt.mentioned else FOCUS_KIND[kind]
        if code:
            stmt = stmt.where(sa.exists().where(p.c.article_id == a.c.article_id, p.c.kind == kind, p.c.code == code))
    if flt.term:
        hit = sa.exists().where(h.c.article_id == a.c.article_id, h.c.term == flt.term)
        if flt.watchlists:
            hit = hit.where(h.c.watchlist.in_(flt.watchlists))
        stmt = stmt.where(hit)
    return stmt


def count_query(backend: str, query: Query, flt: SearchFilter, cap: int = COUNT_CAP) -> sa.Select:
    """How many articles match, counted up to ``cap + 1``."""
    bounded = _matching(backend, query, flt, sa.literal(1).label("one")).limit(cap + 1).subquery()
    return sa.select(sa.func.count()).select_from(bounded)


def time_query(backend: str, query: Query, flt: SearchFilter, *, after: SearchCursor | None = None,
               limit: int = DEFAULT_PAGE_SIZE, dated: bool = True, few: bool = False) -> sa.Select:
    """Matching articles newest first: the dated ones (``dated``), else the undated ones by id.

    ``few``: the bounded count found at most COUNT_CAP matches. PostgreSQL then reads the matches from the GIN
    index and sorts them: walking ``ix_articles_published`` newest first, its choice when it guesses a word
    is common enough, reads every article for a rare word (3.4 s on 1M, bench/RESULTS.md). Ordering by an
    expression of ``published_at`` (the same order) rules that walk out.
    """
    a = s.articles
    stmt = _matching(backend, query, flt, *_COLUMNS)
    if not dated:
        stmt = stmt.where(a.c.published_at.is_(None))
        if after is not None and after.published_at is None:
            stmt = stmt.where(a.c.article_id < after.article_id)
        return stmt.order_by(a.c.article_id.desc()).limit(limit)
    stmt = stmt.where(a.c.published_at.is_not(None))
    if after is not None and after.published_at is not None:
        # "<=" bounds the index range scan; the OR breaks ties on the same second by article id.
        stmt = stmt.where(a.c.published_at <= after.published_at,
                          sa.or_(a.c.published_at < after.published_at, a.c.article_id < after.article_id))
    newest: sa.ColumnElement[Any] = a.c.published_at
    if few and backend == "postgresql":
        newest = a.c.published_at + sa.literal_column("interval '0 seconds'")
    return stmt.order_by(newest.desc(), a.c.article_id.desc()).limit(limit)


def relevance_query(backend: str, query: Query, flt: SearchFilter, *, after: SearchCursor | None = None,
                    limit: int = DEFAULT_PAGE_SIZE, pool: int = RELEVANCE_POOL) -> sa.Select:
    """The newest ``pool`` matches, best first (score higher is better; ties newest id first)."""
    a = s.articles
    score: sa.ColumnElement[Any]
    if backend == "sqlite":
        score = -sa.func.bm25(sa.literal_column(FTS_TABLE), TITLE_WEIGHT, 1.0)
        matches = _matching(backend, query, flt, *_COLUMNS, score.label("score"))
    else:
        matches = _matching(backend, query, flt, *_COLUMNS, _vector().label("vector"))
    inner = matches.order_by(a.c.published_at.desc(), a.c.article_id.desc()).limit(pool).subquery("pool")
    if backend == "sqlite":
        ranked = sa.select(*(inner.c[c.name] for c in _COLUMNS), inner.c.score).subquery("ranked")
    else:
        score = sa.cast(sa.func.ts_rank_cd(inner.c.vector, _tsquery(query)), postgresql.DOUBLE_PRECISION)
        ranked = sa.select(*(inner.c[c.name] for c in _COLUMNS), score.label("score")).subquery("ranked")
    stmt = sa.select(ranked)
    if after is not None and after.score is not None:
        stmt = stmt.where(sa.or_(ranked.c.score < after.score,
                                 sa.and_(ranked.c.score == after.score, ranked.c.article_id < after.article_id)))
    return stmt.order_by(ranked.c.score.desc(), ranked.c.article_id.desc()).limit(limit)


def _carries_markers(column: sa.Column) -> sa.ColumnElement[bool]:
    return sa.or_(column.contains(MARK_START, autoescape=True), column.contains(MARK_END, autoescape=True))


def snippets_query(backend: str, query: Query, article_ids: Sequence[str]) -> sa.Select:
    """(article_id, title, snippet) with the matched words between MARK_START and MARK_END, and whether the
    stored title or text carries a marker character itself (then its highlights cannot be told apart)."""
    a = s.articles
    ids = list(article_ids)
    flags = (_carries_markers(a.c.title).label("title_has_markers"),
             _carries_markers(a.c.text).label("text_has_markers"))
    if backend == "sqlite":
        fts: sa.ColumnElement[Any] = sa.literal_column(FTS_TABLE)
        return (_matching(backend, query, SearchFilter(), a.c.article_id,
                          sa.func.highlight(fts, 0, MARK_START, MARK_END).label("title"),
                          sa.func.snippet(fts, 1, MARK_START, MARK_END, ELLIPSIS, SNIPPET_TOKENS).label("snippet"),
                          *flags)
                .where(a.c.article_id.in_(ids)))
    q = _tsquery(query)
    return sa.select(
        a.c.article_id,
        sa.func.ts_headline(_SIMPLE, sa.func.coalesce(a.c.title, ""), q, TITLE_HEADLINE_OPTIONS).label("title"),
        sa.func.ts_headline(_SIMPLE, sa.func.left(a.c.text, HEADLINE_SOURCE_CHARS), q,
                            HEADLINE_OPTIONS).label("snippet"),
        *flags,
    ).where(a.c.article_id.in_(ids))


def search_page(wh: Warehouse, query: Query, flt: SearchFilter, *, sort: str = "time",
                after: SearchCursor | None = None, limit: int = DEFAULT_PAGE_SIZE,
                with_count: bool = True) -> SearchPage:
    """One page of matching articles with highlighted title and snippet, the count, the next cursor."""
    limit = max(1, min(MAX_PAGE_SIZE, limit))
    backend = wh.backend
    if after is not None and after.sort != sort:
        after = None
    with wh.engine.connect() as conn:
        count = conn.execute(count_query(backend, query, flt)).scalar_one() if with_count else COUNT_CAP + 1
        few = count <= COUNT_CAP
        if sort == "relevance":
            rows = [dict(r) for r in conn.execute(relevance_query(backend, query, flt, after=after,
                                                                  limit=limit + 1)).mappings()]
        else:
            rows = []
            if after is None or after.published_at is not None:
                rows = [dict(r) for r in conn.execute(time_query(backend, query, flt, after=after, limit=limit + 1,
                                                                 few=few)).mappings()]
            if len(rows) <= limit and not (flt.since or flt.until):  # undated articles match no date range
                rows += [dict(r) for r in conn.execute(time_query(
                    backend, query, flt, after=after if after is not None and after.published_at is None else None,
                    limit=limit + 1 - len(rows), dated=False)).mappings()]
        more, rows = len(rows) > limit, rows[:limit]
        highlighted: dict[str, dict[str, Any]] = {}
        if rows:
            highlighted = {r["article_id"]: dict(r) for r in conn.execute(
                snippets_query(backend, query, [r["article_id"] for r in rows])).mappings()}
    for row in rows:
        row["published_at"] = aware(row["published_at"])
        marked = highlighted.get(row["article_id"], {})
        title, snippet = marked.get("title") or row["title"] or "", marked.get("snippet") or ""
        # A marker character in the stored text would fake a highlight: such a field is shown unhighlighted.
        row["title_marked"] = plain(title) if marked.get("title_has_markers") else title
        row["snippet"] = plain(snippet) if marked.get("text_has_markers") else snippet
    last = rows[-1] if more and rows else None
    cursor = None
    if last is not None:
        cursor = (SearchCursor("relevance", last["article_id"], score=last["score"]) if sort == "relevance"
                  else SearchCursor("time", last["article_id"], published_at=last["published_at"]))
    return SearchPage(rows, count if with_count else 0, cursor)


def plain(marked: str) -> str:
    """Marked text without the markers (for JSON lines and plain output)."""
    return marked.replace(MARK_START, "").replace(MARK_END, "")


def marked_words(marked: str) -> list[str]:
    """The highlighted words of marked text, in order, each once."""
    out: list[str] = []
    for part in marked.split(MARK_START)[1:]:
        word = part.split(MARK_END, 1)[0]
        if word and word not in out:
            out.append(word)
    return out
