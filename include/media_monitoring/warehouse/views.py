"""Read-only queries behind the Media Monitor UI (``plugins/media_monitor_ui``).

Every query here is bounded and served by an index, so pages stay fast on a warehouse of millions
of articles:

* watchlist hits are listed per article, newest first, with keyset pagination on
  ``(published_at, article_id)`` (``ix_articles_published``), never OFFSET; the filters are
  indexed lookups: term (``ix_watchlist_hits_term`` / the hits' primary key), region (the region's
  hit articles in page order from ``ix_hit_places_code_published``; with a term,
  ``ix_article_places_code_article``), outlet (``ix_articles_outlet_published``, in page order),
  date range (``published_at``);
* the hits of one page's articles come in one ``IN`` query on the primary key prefix;
* filter choices (outlets, regions) are read with a loose index scan (a recursive CTE that jumps
  from one distinct value to the next), not ``SELECT DISTINCT`` over millions of rows;
* story groups are read newest first (``ix_stories_first_seen``), keyset-paginated, their articles
  by ``ix_article_stories_story_id``;
* digests and feed health are small tables (a row per day and subscription, a row per outlet),
  read by primary key order with LIMIT/OFFSET and a page-size cap;
* data quality: validation runs newest first, keyset-paginated on ``(validated_at, run_id)``; one
  run by its primary key, its outlet batches by the ``outlet_quality`` primary key prefix
  (``run_id``); quarantined articles (those of one run, or those not released) newest first,
  keyset-paginated on ``(quarantined_at, article_id)``, the title read out of the stored record
  (not the whole record: it holds the article's text), through ``ix_validation_runs_time``,
  ``ix_quarantine_run`` and ``ix_quarantine_open``.

The statement builders (``*_query``) are public so tests can EXPLAIN exactly what the UI runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from media_monitoring.warehouse import schema as s
from media_monitoring.warehouse.store import Warehouse

MAX_PAGE_SIZE = 200
DEFAULT_PAGE_SIZE = 50
MAX_CHOICES = 2000  # distinct outlets or regions offered as filter choices
MAX_FORMS_SHOWN = 6  # distinct matched surface forms listed per term
STORIES_PER_PAGE = 20
MIN_GROUP_SIZE = 2  # a story group: the same event in at least two stored articles
MEMBERS_SHOWN = 10  # articles listed per story group
STATUS_ORDER = ("blocked", "failing", "no_links", "drifting", "quiet", "ok")  # worst first in the feed-health table


def clamp_page_size(value: int | None, default: int = DEFAULT_PAGE_SIZE) -> int:
    if value is None:
        return default
    return max(1, min(MAX_PAGE_SIZE, int(value)))


def _aware(value: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; everything stored is UTC."""
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _day_start(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


# -- watchlist hits ------------------------------------------------------------------------------


@dataclass(frozen=True)
class HitFilter:
    """What the analyst filters hits on. Dates are UTC days, both ends inclusive."""

    term: str | None = None
    watchlists: tuple[str, ...] = ()  # the watchlists defining ``term``: lets the term index be used
    region: str | None = None  # a region name as tagged (UN M49 sub-region or an analyst grouping)
    outlet: str | None = None
    since: date | None = None
    until: date | None = None

    @property
    def active(self) -> bool:
        return any((self.term, self.region, self.outlet, self.since, self.until))


@dataclass(frozen=True)
class HitCursor:
    """Where the next page starts: after this (published_at, article_id), newest first.

    Articles without a publication date come after every dated one, by article id.
    """

    published_at: datetime | None
    article_id: str

    def encode(self) -> str:
        stamp = _aware(self.published_at).isoformat() if self.published_at else ""
        return f"{stamp}|{self.article_id}"

    @classmethod
    def decode(cls, value: str | None) -> HitCursor | None:
        """The cursor in ``value``, or None if it is missing or malformed (then: first page)."""
        if not value or "|" not in value:
            return None
        stamp, article_id = value.rsplit("|", 1)
        if not (0 < len(article_id) <= 32 and article_id.isalnum()):
            return None
        try:
            published = datetime.fromisoformat(stamp) if stamp else None
        except ValueError:
            return None
        return cls(_aware(published), article_id)


@dataclass
class HitPage:
    articles: list[dict[str, Any]] = field(default_factory=list)
    next_cursor: HitCursor | None = None


def _hit_conditions(flt: HitFilter) -> list[sa.ColumnElement[bool]]:
    a, h, p = s.articles, s.watchlist_hits, s.article_places
    hit = sa.select(sa.literal(1)).where(h.c.article_id == a.c.article_id)
    if flt.term:
        # Flattened into a semi-join: PostgreSQL may start from the term's hits (ix_watchlist_hits_term).
        hit = hit.where(h.c.term == flt.term)
        if flt.watchlists:
            hit = hit.where(h.c.watchlist.in_(flt.watchlists))
    else:
        # "Has any hit": OFFSET 0 (PostgreSQL's optimisation fence) keeps it a per-article probe of
        # the hits' primary key while walking articles newest first (an outlet's through
        # ix_articles_outlet_published), which stops after a page. Flattened into a semi-join,
        # PostgreSQL may hash every hit's article id (a full scan of watchlist_hits) first. (A region
        # filter without a term reads hit_places instead: hit_articles_query.)
        hit = hit.offset(0)
    conds: list[sa.ColumnElement[bool]] = [sa.exists(hit)]
    if flt.outlet:
        conds.append(a.c.outlet_id == flt.outlet)
    if flt.region:
        conds.append(sa.exists().where(p.c.article_id == a.c.article_id, p.c.kind == "region",
                                       p.c.code == flt.region))
    return conds


_ARTICLE_COLUMNS = (s.articles.c.article_id, s.articles.c.published_at, s.articles.c.outlet_id,
                    s.articles.c.outlet_country, s.articles.c.title, s.articles.c.url, s.articles.c.language,
                    s.articles.c.regions, s.articles.c.primary_country)


def hit_articles_query(flt: HitFilter, *, after: HitCursor | None = None,
                       limit: int = DEFAULT_PAGE_SIZE) -> sa.Select:
    """Articles with watchlist hits, newest first: the dated part of the keyset walk."""
    a, hp = s.articles, s.hit_places
    if flt.region and not flt.term:
        # The region's hit articles straight from ix_hit_places_code_published, already in page order.
        published, key = hp.c.published_at, hp.c.article_id
        conds: list[sa.ColumnElement[bool]] = [hp.c.kind == "region", hp.c.code == flt.region]
        if flt.outlet:
            conds.append(a.c.outlet_id == flt.outlet)
        query = sa.select(*_ARTICLE_COLUMNS).select_from(hp.join(a, a.c.article_id == hp.c.article_id))
    else:
        published, key = a.c.published_at, a.c.article_id
        conds = _hit_conditions(flt)
        query = sa.select(*_ARTICLE_COLUMNS)
    conds.append(published.is_not(None))
    if flt.since:
        conds.append(published >= _day_start(flt.since))
    if flt.until:
        conds.append(published < _day_start(flt.until) + timedelta(days=1))
    if after is not None and after.published_at is not None:
        # "<=" bounds the index range scan; the OR breaks ties on the same second by article id.
        conds.append(published <= after.published_at)
        conds.append(sa.or_(published < after.published_at, key < after.article_id))
    return query.where(*conds).order_by(published.desc(), key.desc()).limit(limit)


def undated_hit_articles_query(flt: HitFilter, *, after: HitCursor | None = None,
                               limit: int = DEFAULT_PAGE_SIZE) -> sa.Select:
    """Articles with hits but no publication date (rare): listed after the dated ones."""
    a = s.articles
    conds = _hit_conditions(flt)
    conds.append(a.c.published_at.is_(None))
    if after is not None and after.published_at is None:
        conds.append(a.c.article_id < after.article_id)
    return sa.select(*_ARTICLE_COLUMNS).where(*conds).order_by(a.c.article_id.desc()).limit(limit)


def hits_of_articles_query(article_ids: Sequence[str]) -> sa.Select:
    h = s.watchlist_hits
    return (sa.select(h.c.article_id, h.c.watchlist, h.c.term, h.c.field, h.c.start, h.c.matched, h.c.snippet)
            .where(h.c.article_id.in_(list(article_ids)))
            .order_by(h.c.article_id, h.c.watchlist, h.c.term, h.c.field.desc(), h.c.start))


def hit_page(wh: Warehouse, flt: HitFilter, *, after: HitCursor | None = None,
             limit: int = DEFAULT_PAGE_SIZE) -> HitPage:
    """One page of articles with watchlist hits, each with its terms, mentions and a snippet."""
    limit = clamp_page_size(limit)
    rows: list[dict[str, Any]] = []
    with wh.engine.connect() as conn:
        if after is None or after.published_at is not None:
            rows = [dict(r) for r in conn.execute(hit_articles_query(flt, after=after, limit=limit + 1)).mappings()]
        dated_done = len(rows) <= limit
        # Undated articles match no date range; they follow the dated ones.
        if dated_done and not (flt.since or flt.until):
            rows += [dict(r) for r in conn.execute(undated_hit_articles_query(
                flt, after=after if after is not None and after.published_at is None else None,
                limit=limit + 1 - len(rows))).mappings()]
        more = len(rows) > limit
        rows = rows[:limit]
        hits: dict[str, list[dict[str, Any]]] = {}
        if rows:
            for h in conn.execute(hits_of_articles_query([r["article_id"] for r in rows])).mappings():
                hits.setdefault(h["article_id"], []).append(dict(h))
    for row in rows:
        row["published_at"] = _aware(row["published_at"])
        row["terms"] = _summarise_hits(hits.get(row["article_id"], []))
    last = rows[-1] if rows else None
    cursor = HitCursor(last["published_at"], last["article_id"]) if more and last else None
    return HitPage(rows, cursor)


def _summarise_hits(hits: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per (watchlist, term): mentions, whether the title has it, the forms matched, one snippet.

    The snippet is the first one from the body (it shows context); the title's when only the title
    has the term.
    """
    terms: dict[tuple[str, str], dict[str, Any]] = {}
    for h in hits:  # ordered by term, title before text, then by position
        t = terms.setdefault((h["watchlist"], h["term"]), {
            "watchlist": h["watchlist"], "term": h["term"], "mentions": 0, "in_title": False,
            "forms": [], "snippet": None, "title_snippet": None})
        t["mentions"] += 1
        if h["field"] == "title":
            t["in_title"] = True
            t["title_snippet"] = t["title_snippet"] or h["snippet"]
        elif t["snippet"] is None:
            t["snippet"] = h["snippet"]
        if h["matched"] not in t["forms"] and len(t["forms"]) < MAX_FORMS_SHOWN:
            t["forms"].append(h["matched"])
    for t in terms.values():
        t["snippet"] = t["snippet"] or t.pop("title_snippet")
        t.pop("title_snippet", None)
    return sorted(terms.values(), key=lambda t: (t["watchlist"], t["term"]))


# -- filter choices ------------------------------------------------------------------------------


def _loose_scan(column: sa.Column, *where: sa.ColumnElement[bool], name: str) -> sa.Select:
    """Distinct values of an indexed column, one index probe per value (a recursive CTE).

    ``SELECT DISTINCT`` would read every row; this jumps from each value to the next larger one.
    """
    first = sa.select(sa.func.min(column).label("value")).where(*where)
    walk = first.cte(name, recursive=True)
    following = (sa.select(sa.func.min(column)).where(*where, column > walk.c.value)
                 .scalar_subquery())
    walk = walk.union_all(sa.select(following).where(walk.c.value.is_not(None)))
    return sa.select(walk.c.value).where(walk.c.value.is_not(None)).limit(MAX_CHOICES)


def outlets_query() -> sa.Select:
    return _loose_scan(s.articles.c.outlet_id, name="outlet_values")


def regions_query() -> sa.Select:
    p = s.article_places
    return _loose_scan(p.c.code, p.c.kind == "region", name="region_values")


def outlet_choices(wh: Warehouse) -> list[str]:
    """Outlets that have stored articles, plus every outlet with a feed-health row."""
    with wh.engine.connect() as conn:
        stored = set(conn.execute(outlets_query()).scalars())
        polled = set(conn.execute(sa.select(s.feed_health.c.outlet_id).limit(MAX_CHOICES)).scalars())
    return sorted(stored | polled)


def region_choices(wh: Warehouse) -> list[str]:
    with wh.engine.connect() as conn:
        return list(conn.execute(regions_query()).scalars())


# -- digests as sent -----------------------------------------------------------------------------

_SEND_LIST_COLUMNS = (s.digest_sends.c.digest_date, s.digest_sends.c.subscription, s.digest_sends.c.recipients,
                      s.digest_sends.c.subject, s.digest_sends.c.transport, s.digest_sends.c.status,
                      s.digest_sends.c.sent_at, s.digest_sends.c.message_id)


def _send_row(row: Any) -> dict[str, Any]:
    data = dict(row)
    data["sent_at"] = _aware(data.get("sent_at"))
    if isinstance(data.get("digest_date"), str):  # defensive: raw SQLite text
        data["digest_date"] = date.fromisoformat(data["digest_date"])
    return data


def digest_sends_query(*, limit: int, offset: int = 0) -> sa.Select:
    d = s.digest_sends
    return (sa.select(*_SEND_LIST_COLUMNS).order_by(d.c.digest_date.desc(), d.c.subscription)
            .limit(limit).offset(offset))


def digest_sends(wh: Warehouse, *, limit: int = DEFAULT_PAGE_SIZE, offset: int = 0) -> list[dict[str, Any]]:
    """Sent digests, newest day first (no bodies)."""
    with wh.engine.connect() as conn:
        rows = conn.execute(digest_sends_query(limit=clamp_page_size(limit), offset=max(0, offset))).mappings()
        return [_send_row(r) for r in rows]


def digest_send_count(wh: Warehouse) -> int:
    with wh.engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(s.digest_sends)).scalar_one()


def latest_digest_day(wh: Warehouse) -> date | None:
    with wh.engine.connect() as conn:
        value = conn.execute(sa.select(sa.func.max(s.digest_sends.c.digest_date))).scalar()
    return date.fromisoformat(value) if isinstance(value, str) else value


def digest_sends_on(wh: Warehouse, day: date) -> list[dict[str, Any]]:
    """Every subscription's send of ``day`` (no bodies), by subscription name."""
    d = s.digest_sends
    with wh.engine.connect() as conn:
        rows = conn.execute(sa.select(*_SEND_LIST_COLUMNS).where(d.c.digest_date == day)
                            .order_by(d.c.subscription)).mappings()
        return [_send_row(r) for r in rows]


def digest_send(wh: Warehouse, day: date, subscription: str) -> dict[str, Any] | None:
    """One send with exactly the text and HTML bodies that went out."""
    d = s.digest_sends
    with wh.engine.connect() as conn:
        row = conn.execute(sa.select(d).where(d.c.digest_date == day, d.c.subscription == subscription)
                           ).mappings().first()
    return _send_row(row) if row else None


def digests_on(wh: Warehouse, days: Sequence[date]) -> dict[date, list[dict[str, Any]]]:
    """The composed digests of these days, per subscription: window, item, late and term counts."""
    if not days:
        return {}
    d = s.digests
    out: dict[date, list[dict[str, Any]]] = {}
    with wh.engine.connect() as conn:
        rows = conn.execute(sa.select(d.c.digest_date, d.c.subscription, d.c.kind, d.c.window_start, d.c.window_end,
                                      d.c.timezone, d.c.item_count, d.c.late_count, d.c.term_counts)
                            .where(d.c.digest_date.in_(list(days))).order_by(d.c.digest_date, d.c.subscription))
        for r in rows.mappings():
            row = dict(r)
            row["window_start"], row["window_end"] = _aware(row["window_start"]), _aware(row["window_end"])
            day = date.fromisoformat(r["digest_date"]) if isinstance(r["digest_date"], str) else r["digest_date"]
            out.setdefault(day, []).append(row)
    return out


# -- feed health ---------------------------------------------------------------------------------


def feed_health_query(*, limit: int, offset: int = 0) -> sa.Select:
    f = s.feed_health
    worst_first = sa.case({status: i for i, status in enumerate(STATUS_ORDER)}, value=f.c.status,
                          else_=len(STATUS_ORDER))
    return sa.select(f).order_by(worst_first, f.c.outlet_id).limit(limit).offset(offset)


def feed_health(wh: Warehouse, *, limit: int = MAX_PAGE_SIZE, offset: int = 0) -> list[dict[str, Any]]:
    """Feed-health rows, worst status first (one row per outlet: a small table)."""
    with wh.engine.connect() as conn:
        rows = conn.execute(feed_health_query(limit=clamp_page_size(limit, MAX_PAGE_SIZE),
                                              offset=max(0, offset))).mappings()
        out = []
        for r in rows:
            row = dict(r)
            for key, value in row.items():
                if isinstance(value, datetime):
                    row[key] = _aware(value)
            out.append(row)
        return out


def feed_status_counts(wh: Warehouse) -> dict[str, int]:
    f = s.feed_health
    with wh.engine.connect() as conn:
        rows = conn.execute(sa.select(f.c.status, sa.func.count()).group_by(f.c.status))
        return {status: n for status, n in rows}


# -- warehouse shape -----------------------------------------------------------------------------


def table_names(wh: Warehouse) -> set[str]:
    return set(sa.inspect(wh.engine).get_table_names())


def story_groups_query(*, after: HitCursor | None = None, limit: int = STORIES_PER_PAGE,
                       min_articles: int = MIN_GROUP_SIZE) -> sa.Select:
    """Stories with at least ``min_articles`` stored articles, newest first (``ix_stories_first_seen``)."""
    st = s.stories
    conds = [st.c.copies >= min_articles]
    if after is not None and after.published_at is not None:
        conds.append(st.c.first_seen <= after.published_at)
        conds.append(sa.or_(st.c.first_seen < after.published_at, st.c.story_id < after.article_id))
    return (sa.select(st).where(*conds).order_by(st.c.first_seen.desc(), st.c.story_id.desc()).limit(limit))


def story_members_query(story_ids: Sequence[str], per_story: int = MEMBERS_SHOWN) -> sa.Select:
    """The first ``per_story`` articles of each of these stories (``ix_article_stories_story_id``)."""
    a, m = s.articles, s.article_stories
    rank = sa.func.row_number().over(partition_by=m.c.story_id, order_by=(a.c.published_at, a.c.article_id))
    members = (sa.select(m.c.story_id, m.c.duplicate_of, m.c.similarity, a.c.article_id, a.c.title, a.c.url,
                         a.c.outlet_id, a.c.published_at, a.c.language, rank.label("n"))
               .join(a, a.c.article_id == m.c.article_id).where(m.c.story_id.in_(list(story_ids))).subquery())
    return sa.select(members).where(members.c.n <= per_story).order_by(members.c.story_id, members.c.n)


@dataclass
class StoryPage:
    stories: list[dict[str, Any]] = field(default_factory=list)
    next_cursor: HitCursor | None = None  # (first_seen, story_id) of the last story shown


def story_page(wh: Warehouse, *, after: HitCursor | None = None, limit: int = STORIES_PER_PAGE,
               min_articles: int = MIN_GROUP_SIZE) -> StoryPage:
    """One page of story groups (the same event in several articles), each with its first articles."""
    limit = clamp_page_size(limit, STORIES_PER_PAGE)
    with wh.engine.connect() as conn:
        rows = [dict(r) for r in conn.execute(story_groups_query(after=after, limit=limit + 1,
                                                                 min_articles=min_articles)).mappings()]
        more, rows = len(rows) > limit, rows[:limit]
        members: dict[str, list[dict[str, Any]]] = {}
        if rows:
            for m in conn.execute(story_members_query([r["story_id"] for r in rows])).mappings():
                members.setdefault(m["story_id"], []).append({**m, "published_at": _aware(m["published_at"])})
    for row in rows:
        row["first_seen"], row["last_seen"] = _aware(row["first_seen"]), _aware(row["last_seen"])
        row["members"] = members.get(row["story_id"], [])
    last = rows[-1] if rows and more else None
    return StoryPage(rows, HitCursor(last["first_seen"], last["story_id"]) if last else None)


# -- data quality --------------------------------------------------------------------------------

RUNS_PER_PAGE = 20
QUARANTINE_PER_PAGE = 50
OUTLETS_PER_RUN = MAX_CHOICES  # outlet batches listed in one run's report (one per outlet polled)
MAX_RUN_ID = 250  # validation_runs.run_id / quarantine.run_id: String(250)
OPEN_QUARANTINE_COUNT_CAP = 10_000  # counted up to this, then shown as "10000+"


@dataclass(frozen=True)
class TimeCursor:
    """Where the next page of a newest-first list starts: after this (timestamp, key).

    ``key`` breaks ties on the same timestamp: a run id, or an article id.
    """

    at: datetime
    key: str

    def encode(self) -> str:
        return f"{_aware(self.at).isoformat()}|{self.key}"

    @classmethod
    def decode(cls, value: str | None, *, max_key: int = MAX_RUN_ID) -> TimeCursor | None:
        """The cursor in ``value``, or None if it is missing or malformed (then: first page)."""
        if not value or "|" not in value:
            return None
        stamp, key = value.split("|", 1)  # an ISO timestamp has no "|"; a run id might
        if not 0 < len(key) <= max_key:
            return None
        try:
            at = datetime.fromisoformat(stamp)
        except ValueError:
            return None
        return cls(_aware(at), key)  # type: ignore[arg-type]


def _after(at: sa.Column, key: sa.Column, cursor: TimeCursor | None) -> list[sa.ColumnElement[bool]]:
    if cursor is None:
        return []
    # "<=" bounds an index range scan; the OR breaks ties on the same timestamp by key.
    return [at <= cursor.at, sa.or_(at < cursor.at, key < cursor.key)]


@dataclass
class RunPage:
    runs: list[dict[str, Any]] = field(default_factory=list)
    next_cursor: TimeCursor | None = None  # (validated_at, run_id) of the last run shown


def validation_runs_query(*, after: TimeCursor | None = None, limit: int = RUNS_PER_PAGE) -> sa.Select:
    """Validation runs, newest first."""
    v = s.validation_runs
    return (sa.select(v).where(*_after(v.c.validated_at, v.c.run_id, after))
            .order_by(v.c.validated_at.desc(), v.c.run_id.desc()).limit(limit))


def _run_row(row: Any) -> dict[str, Any]:
    data = dict(row)
    data["validated_at"] = _aware(data.get("validated_at"))
    data["by_expectation"] = dict(data.get("by_expectation") or {})
    return data


def validation_run_page(wh: Warehouse, *, after: TimeCursor | None = None,
                        limit: int = RUNS_PER_PAGE) -> RunPage:
    """One page of validation runs (a row per processing run: counts and failures by expectation)."""
    limit = clamp_page_size(limit, RUNS_PER_PAGE)
    with wh.engine.connect() as conn:
        rows = [_run_row(r) for r in conn.execute(validation_runs_query(after=after, limit=limit + 1)).mappings()]
    more, rows = len(rows) > limit, rows[:limit]
    last = rows[-1] if rows and more else None
    return RunPage(rows, TimeCursor(last["validated_at"], last["run_id"]) if last else None)


def validation_run(wh: Warehouse, run_id: str) -> dict[str, Any] | None:
    """One run's validation result, by its primary key."""
    v = s.validation_runs
    with wh.engine.connect() as conn:
        row = conn.execute(sa.select(v).where(v.c.run_id == run_id)).mappings().first()
    return _run_row(row) if row else None


def outlet_quality_of_run_query(run_id: str, *, limit: int = OUTLETS_PER_RUN) -> sa.Select:
    """The per-outlet batch results of one run (the primary key's prefix), by outlet."""
    q = s.outlet_quality
    return sa.select(q).where(q.c.run_id == run_id).order_by(q.c.outlet_id).limit(limit)


def outlet_quality_of_run(wh: Warehouse, run_id: str) -> list[dict[str, Any]]:
    with wh.engine.connect() as conn:
        rows = [dict(r) for r in conn.execute(outlet_quality_of_run_query(run_id)).mappings()]
    for row in rows:
        row["validated_at"] = _aware(row["validated_at"])
        row["failed_expectations"] = list(row.get("failed_expectations") or [])
    return rows


@dataclass
class QuarantinePage:
    articles: list[dict[str, Any]] = field(default_factory=list)
    next_cursor: TimeCursor | None = None  # (quarantined_at, article_id) of the last article shown


def _quarantine_columns() -> tuple[Any, ...]:
    q = s.quarantine
    # The title and language out of the stored record; the record itself carries the whole text.
    return (q.c.article_id, q.c.url, q.c.outlet_id, q.c.run_id, q.c.failed_expectations, q.c.observed,
            q.c.quarantined_at, q.c.released_at, q.c.record["title"].as_string().label("title"),
            q.c.record["language"].as_string().label("language"))


def quarantine_query(*, run_id: str | None = None, open_only: bool = False, after: TimeCursor | None = None,
                     limit: int = QUARANTINE_PER_PAGE) -> sa.Select:
    """Quarantined articles, newest first: those of one run (released ones too), or those not released."""
    q = s.quarantine
    conds = _after(q.c.quarantined_at, q.c.article_id, after)
    if run_id is not None:
        conds.append(q.c.run_id == run_id)
    if open_only:
        conds.append(q.c.released_at.is_(None))
    return (sa.select(*_quarantine_columns()).where(*conds)
            .order_by(q.c.quarantined_at.desc(), q.c.article_id.desc()).limit(limit))


def quarantine_page(wh: Warehouse, *, run_id: str | None = None, open_only: bool = False,
                    after: TimeCursor | None = None, limit: int = QUARANTINE_PER_PAGE) -> QuarantinePage:
    """One page of quarantined articles with their failed expectations and the values observed."""
    limit = clamp_page_size(limit, QUARANTINE_PER_PAGE)
    with wh.engine.connect() as conn:
        rows = [dict(r) for r in conn.execute(quarantine_query(run_id=run_id, open_only=open_only, after=after,
                                                               limit=limit + 1)).mappings()]
    more, rows = len(rows) > limit, rows[:limit]
    for row in rows:
        row["quarantined_at"], row["released_at"] = _aware(row["quarantined_at"]), _aware(row["released_at"])
        row["failed_expectations"] = list(row.get("failed_expectations") or [])
        row["observed"] = dict(row.get("observed") or {})
    last = rows[-1] if rows and more else None
    return QuarantinePage(rows, TimeCursor(last["quarantined_at"], last["article_id"]) if last else None)


def open_quarantine_count(wh: Warehouse, *, cap: int = OPEN_QUARANTINE_COUNT_CAP) -> int:
    """How many quarantined articles are not released, counted up to ``cap + 1`` at most."""
    q = s.quarantine
    bounded = sa.select(sa.literal(1).label("one")).where(q.c.released_at.is_(None)).limit(cap + 1).subquery()
    with wh.engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(bounded)).scalar_one()
