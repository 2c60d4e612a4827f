"""The view's query strings, parsed: the hit filters and the search form, and what each finds.

The HTML pages and the JSON API read the same parameters the same way; a value that does not parse
is ignored with a message in ``errors`` (shown on the page, returned by the API), never an error page.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from fastapi import Request

from media_monitoring_ui.cursors import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, HitCursor, HitFilter
from media_monitoring_ui.present import viewer_timezone
from media_monitoring_ui.source import Source

if TYPE_CHECKING:
    from media_monitoring.search import Query
    from media_monitoring.warehouse.search import SearchFilter, SearchPage
    from media_monitoring_ui.queries.hits import HitPage

MAX_PAGE_NUMBER = 100_000  # ?dpage= / ?fpage=: far past the last page of any list the view shows


@dataclass
class HitQuery:
    """The hit filters as typed in the form, parsed; ``errors`` says what was ignored and why."""

    term: str = ""
    region: str = ""
    mentioned: bool = False  # the region filter: also articles that only mention it
    outlet: str = ""
    since: str = ""
    until: str = ""
    limit: int = 50
    after: str = ""
    errors: list[str] = field(default_factory=list)

    def filter(self, source: Source) -> HitFilter:
        watchlists = tuple(sorted({w for w, t in source.terms if t == self.term}))
        return HitFilter(term=self.term or None, watchlists=watchlists, region=self.region or None,
                         mentioned=self.mentioned, outlet=self.outlet or None, since=parse_day(self.since),
                         until=parse_day(self.until))

    def params(self, **override: Any) -> dict[str, Any]:
        values = {"term": self.term, "region": self.region, "mentioned": "1" if self.mentioned else None,
                  "outlet": self.outlet, "from": self.since,
                  "to": self.until, "limit": self.limit if self.limit != 50 else None}
        values.update(override)
        return values


def parse_day(value: str) -> date | None:
    """The ISO day in ``value``, or None if it is empty or not a date."""
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def bounded_int(value: str, default: int, *, lo: int, hi: int) -> int:
    """``value`` as an integer within lo..hi, or ``default`` if it is not one."""
    try:
        return max(lo, min(hi, int(value)))
    except ValueError:
        return default


def page_number(request: Request, name: str) -> int:
    return bounded_int(request.query_params.get(name, "1"), 1, lo=1, hi=MAX_PAGE_NUMBER)


def hit_query(request: Request) -> HitQuery:
    q = request.query_params
    parsed = HitQuery(
        term=q.get("term", "").strip()[:200], region=q.get("region", "").strip()[:100],
        mentioned=q.get("mentioned") == "1",
        outlet=q.get("outlet", "").strip()[:64], since=q.get("from", "").strip()[:10],
        until=q.get("to", "").strip()[:10],
        limit=bounded_int(q.get("limit", ""), DEFAULT_PAGE_SIZE, lo=1, hi=MAX_PAGE_SIZE) if q.get("limit") else 50,
        after=q.get("after", "")[:120],
    )
    for name, value in (("from", parsed.since), ("to", parsed.until)):
        if value and parse_day(value) is None:
            parsed.errors.append(f"“{value}” is not a date (YYYY-MM-DD); the {name} filter is ignored.")
    if parsed.since and parsed.until and parse_day(parsed.since) and parse_day(parsed.until) \
            and parse_day(parsed.since) > parse_day(parsed.until):  # type: ignore[operator]
        parsed.errors.append("The from date is after the to date: no article can match.")
    return parsed


def hit_results(source: Source, hq: HitQuery) -> HitPage:
    """The page of watchlist hits the filters ask for (empty while nothing is stored)."""
    from media_monitoring_ui.queries.hits import HitPage, hit_page

    if source.warehouse is None or not {"articles", "watchlist_hits"} <= source.tables:
        return HitPage()
    page = hit_page(source.warehouse, hq.filter(source), after=HitCursor.decode(hq.after), limit=hq.limit)
    if "article_revisions" in source.tables and page.articles:
        from media_monitoring_ui.queries.revisions import marks

        changed = marks(source.warehouse, [a["article_id"] for a in page.articles])
        for article in page.articles:
            article["changed"] = changed.get(article["article_id"])
    if "hit_feedback" in source.tables and page.articles:
        from media_monitoring.warehouse.feedback import marks_of_articles

        marks = marks_of_articles(source.warehouse, [a["article_id"] for a in page.articles])
        for article in page.articles:
            article["marks"] = marks.get(article["article_id"], {})
    return page


# -- search --------------------------------------------------------------------------------------

SEARCH_PAGE_SIZES = (20, 50, 100)
SEARCH_PARAMS = ("q", "period", "from", "to", "outlet", "outlet_country", "country", "region", "mentioned",
                 "language", "term", "sort", "limit")


@dataclass
class SearchForm:
    """The search form as typed, parsed; ``errors`` says what is wrong (the query) or was ignored (a filter)."""

    values: dict[str, str]
    query: Query | None = None  # when the text parses
    filter: SearchFilter | None = None
    sort: str = "time"
    limit: int = 20
    after: str = ""
    errors: list[str] = field(default_factory=list)

    def params(self, **override: Any) -> dict[str, Any]:
        values: dict[str, Any] = dict(self.values)
        values.update(override)
        return values


def search_form(request: Request, source: Source) -> SearchForm:
    from zoneinfo import ZoneInfo

    from media_monitoring.search import PERIODS, QueryError, parse, search_window
    from media_monitoring.warehouse.search import SORTS, SearchFilter

    q = request.query_params
    values = {name: q.get(name, "").strip()[:500 if name == "q" else 200] for name in SEARCH_PARAMS}
    form = SearchForm(values, after=q.get("after", "")[:120])
    form.sort = values["sort"] if values["sort"] in SORTS else "time"
    form.limit = bounded_int(values["limit"], SEARCH_PAGE_SIZES[0], lo=1, hi=SEARCH_PAGE_SIZES[-1]) \
        if values["limit"] else SEARCH_PAGE_SIZES[0]
    if values["q"]:
        try:
            form.query = parse(values["q"])
        except QueryError as exc:
            form.errors.append(str(exc))
    period = values["period"] if values["period"] in PERIODS else None
    since_text, until_text = values["from"], values["to"]
    for name in ("from", "to"):
        if values[name] and parse_day(values[name]) is None:
            form.errors.append(f"“{values[name]}” is not a date (YYYY-MM-DD); the {name} filter is ignored.")
    since_text = since_text if parse_day(since_text) else None
    until_text = until_text if parse_day(until_text) else None
    tz = ZoneInfo(viewer_timezone(request)[0])  # "today" and the days of the range: on the viewer's clock
    since, until = search_window(period, since_text, until_text, datetime.now(UTC), tz)
    if since and until and since >= until:
        form.errors.append("The from date is after the to date: no article can match.")
    watchlists = tuple(sorted({w for w, t in source.terms if t == values["term"]}))
    form.filter = SearchFilter(
        since=since, until=until, outlet=values["outlet"] or None,
        outlet_country=values["outlet_country"].upper() or None, country=values["country"].upper() or None,
        region=values["region"] or None, mentioned=values["mentioned"] == "1",
        language=values["language"].lower() or None, term=values["term"] or None, watchlists=watchlists)
    return form


def search_results(source: Source, form: SearchForm) -> tuple[SearchPage | None, str | None]:
    """The page of results (None without a query) and why search is unavailable, if it is."""
    from media_monitoring.warehouse import search
    from media_monitoring.warehouse.search_index import search_ready

    if form.query is None:
        return None, None
    if source.warehouse is None or "articles" not in source.tables:
        return None, "Nothing has been stored yet: run the media_ingest DAG."
    if not search_ready(source.warehouse):
        return None, ("The search index is not built yet: it is created the next time a DAG opens the warehouse "
                      "(or run any media-monitor command against it).")
    return search.search_page(source.warehouse, form.query, form.filter, sort=form.sort,
                              after=search.SearchCursor.decode(form.after), limit=form.limit), None
