"""Media Monitor: the FastAPI app of the view over the warehouse (no Flask, no FAB).

Airflow's API server mounts it at ``/media-monitor`` (see ``plugins/media_monitor_ui``); an external
view puts it in Airflow's nav. Server-rendered HTML (Jinja2, autoescaped, no JavaScript) plus a small
JSON API, all read-only; the SQL lives in :mod:`media_monitoring.warehouse.views`, who may see it in
:mod:`media_monitoring_ui.auth`, how it renders in :mod:`media_monitoring_ui.present`.

Data quality (``/quality``): every run's validation result (``validation_runs``), a report per run
(``/quality/run?id=RUN_ID``: each expectation of the suites with its reason and how many rows
failed, the outlet batches, the quarantined articles) and the articles still in quarantine.

Digests are shown exactly as they were sent: the stored HTML body is served on its own URL with a
``Content-Security-Policy: sandbox`` header and embedded in a sandboxed iframe, so markup from the
web (headlines, snippets) can never run script in the Airflow origin.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from media_monitoring_ui.auth import ApiUser, HtmlUser, LoginRequired, user_name
from media_monitoring_ui.export_routes import router as export_router
from media_monitoring_ui.present import (
    EMAIL_HEADERS,
    HERE,
    SUITE_UNITS,
    expectations,
    is_api,
    json_response,
    load_suites,
    reasons,
    render,
    suite_version,
    viewer_timezone,
)
from media_monitoring_ui.source import Source, sources

log = logging.getLogger(__name__)

DIGESTS_PER_PAGE = 20
FEEDS_PER_PAGE = 100

app = FastAPI(title="Media Monitor", docs_url=None, redoc_url=None, openapi_url=None)
app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
app.include_router(export_router)  # /export/...: the lists below as CSV or JSON downloads


@app.exception_handler(LoginRequired)
async def _to_login(request: Request, exc: LoginRequired) -> Response:
    return RedirectResponse(exc.login_url, status_code=302, headers={"Cache-Control": "no-store"})


@app.exception_handler(StarletteHTTPException)
async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
    if is_api(request):
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)
    return render(request, "error.html", status_code=exc.status_code, status=exc.status_code, detail=exc.detail,
                   user=None)


# -- query parameters ----------------------------------------------------------------------------


@dataclass
class HitQuery:
    """The hit filters as typed in the form, parsed; ``errors`` says what was ignored and why."""

    term: str = ""
    region: str = ""
    outlet: str = ""
    since: str = ""
    until: str = ""
    limit: int = 50
    after: str = ""
    errors: list[str] = field(default_factory=list)

    def filter(self, source: Source) -> Any:
        from media_monitoring.warehouse.views import HitFilter

        watchlists = tuple(sorted({w for w, t in source.terms if t == self.term}))
        return HitFilter(term=self.term or None, watchlists=watchlists, region=self.region or None,
                         outlet=self.outlet or None, since=_day(self.since), until=_day(self.until))

    def params(self, **override: Any) -> dict[str, Any]:
        values = {"term": self.term, "region": self.region, "outlet": self.outlet, "from": self.since,
                  "to": self.until, "limit": self.limit if self.limit != 50 else None}
        values.update(override)
        return values


def _day(value: str) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _int(value: str, default: int, *, lo: int, hi: int) -> int:
    try:
        return max(lo, min(hi, int(value)))
    except ValueError:
        return default


def hit_query(request: Request) -> HitQuery:
    from media_monitoring.warehouse.views import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE

    q = request.query_params
    parsed = HitQuery(
        term=q.get("term", "").strip()[:200], region=q.get("region", "").strip()[:100],
        outlet=q.get("outlet", "").strip()[:64], since=q.get("from", "").strip()[:10],
        until=q.get("to", "").strip()[:10],
        limit=_int(q.get("limit", ""), DEFAULT_PAGE_SIZE, lo=1, hi=MAX_PAGE_SIZE) if q.get("limit") else 50,
        after=q.get("after", "")[:120],
    )
    for name, value in (("from", parsed.since), ("to", parsed.until)):
        if value and _day(value) is None:
            parsed.errors.append(f"“{value}” is not a date (YYYY-MM-DD); the {name} filter is ignored.")
    if parsed.since and parsed.until and _day(parsed.since) and _day(parsed.until) \
            and _day(parsed.since) > _day(parsed.until):  # type: ignore[operator]
        parsed.errors.append("The from date is after the to date: no article can match.")
    return parsed


def _page_number(request: Request, name: str) -> int:
    return _int(request.query_params.get(name, "1"), 1, lo=1, hi=100_000)


# -- pages ---------------------------------------------------------------------------------------


def _hits(source: Source, hq: HitQuery) -> Any:
    from media_monitoring.warehouse import views

    if source.warehouse is None or not {"articles", "watchlist_hits"} <= source.tables:
        return views.HitPage()
    return views.hit_page(source.warehouse, hq.filter(source), after=views.HitCursor.decode(hq.after),
                          limit=hq.limit)


@app.get("/", response_class=HTMLResponse, name="index")
def index(request: Request, user: HtmlUser) -> HTMLResponse:
    from media_monitoring.warehouse import runs, views

    source = sources.get()
    wh, tables = source.warehouse, source.tables
    hq = hit_query(request)
    dpage, fpage = _page_number(request, "dpage"), _page_number(request, "fpage")
    today = datetime.now(UTC).date()

    latest_day = views.latest_digest_day(wh) if "digest_sends" in tables else None
    latest_sends = views.digest_sends_on(wh, latest_day) if latest_day else []
    composed = views.digests_on(wh, [latest_day]).get(latest_day, []) \
        if latest_day and "digests" in tables else []
    pipeline = runs.state(wh, datetime.now(UTC)) if "pipeline_runs" in tables else {}
    sends_total = views.digest_send_count(wh) if "digest_sends" in tables else 0
    sends = views.digest_sends(wh, limit=DIGESTS_PER_PAGE, offset=(dpage - 1) * DIGESTS_PER_PAGE) \
        if "digest_sends" in tables else []

    has_places = "article_places" in tables
    outlets = views.outlet_choices(wh) if {"articles", "feed_health"} <= tables else []
    regions = views.region_choices(wh) if has_places else []
    hits = _hits(source, hq)

    has_stories = {"stories", "article_stories"} <= tables
    stories = views.story_page(wh, after=views.HitCursor.decode(request.query_params.get("stories_after", "")[:120])) \
        if has_stories else None
    feed_counts = views.feed_status_counts(wh) if "feed_health" in tables else {}
    feeds = views.feed_health(wh, limit=FEEDS_PER_PAGE, offset=(fpage - 1) * FEEDS_PER_PAGE) \
        if "feed_health" in tables else []

    return render(
        request, "index.html", user=user_name(user), warehouse=wh.describe() if wh else source.url,
        backend=wh.backend if wh else None, has_data=wh is not None and bool(tables), today=today,
        latest_day=latest_day, latest_sends=latest_sends, composed=composed, sends=sends,
        sends_total=sends_total, dpage=dpage, digests_per_page=DIGESTS_PER_PAGE,
        hq=hq, hits=hits, terms=source.terms, outlets=outlets, outlet_names=source.outlet_names,
        regions=regions, stories=stories, stories_after=request.query_params.get("stories_after", ""),
        min_group=views.MIN_GROUP_SIZE, feed_counts=feed_counts, feeds=feeds,
        feeds_total=sum(feed_counts.values()), fpage=fpage, feeds_per_page=FEEDS_PER_PAGE,
        statuses=views.STATUS_ORDER, pipeline=pipeline,
    )


def _send_or_404(request: Request, source: Source) -> dict[str, Any]:
    from media_monitoring.warehouse import views

    day = _day(request.query_params.get("date", ""))
    subscription = request.query_params.get("subscription", "")
    send = None
    if day and subscription and source.warehouse is not None and "digest_sends" in source.tables:
        send = views.digest_send(source.warehouse, day, subscription)
    if send is None:
        raise HTTPException(status_code=404, detail="No digest was sent for that date and subscription.")
    return send


@app.get("/digest", response_class=HTMLResponse, name="digest")
def digest(request: Request, user: HtmlUser) -> HTMLResponse:
    from media_monitoring.warehouse import views

    source = sources.get()
    send = _send_or_404(request, source)
    same_day = views.digest_sends_on(source.warehouse, send["digest_date"])
    return render(request, "digest.html", user=user_name(user), send=send, same_day=same_day,
                   view=request.query_params.get("view", "html"))


@app.get("/digest/email.html", response_class=HTMLResponse, name="digest_email")
def digest_email(request: Request, user: HtmlUser) -> HTMLResponse:
    """The HTML body exactly as sent, in a sandbox (see EMAIL_HEADERS)."""
    send = _send_or_404(request, sources.get())
    return HTMLResponse(send["body_html"] or "<p>(this digest was sent as plain text only)</p>",
                        headers=EMAIL_HEADERS)


# -- search --------------------------------------------------------------------------------------

SEARCH_PAGE_SIZES = (20, 50, 100)
SEARCH_PARAMS = ("q", "period", "from", "to", "outlet", "outlet_country", "country", "region", "language", "term",
                 "sort", "limit")


@dataclass
class SearchForm:
    """The search form as typed, parsed; ``errors`` says what is wrong (the query) or was ignored (a filter)."""

    values: dict[str, str]
    query: Any = None  # media_monitoring.search.Query, when the text parses
    filter: Any = None  # media_monitoring.warehouse.search.SearchFilter
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
    form.limit = _int(values["limit"], SEARCH_PAGE_SIZES[0], lo=1, hi=SEARCH_PAGE_SIZES[-1]) \
        if values["limit"] else SEARCH_PAGE_SIZES[0]
    if values["q"]:
        try:
            form.query = parse(values["q"])
        except QueryError as exc:
            form.errors.append(str(exc))
    period = values["period"] if values["period"] in PERIODS else None
    since_text, until_text = values["from"], values["to"]
    for name in ("from", "to"):
        if values[name] and _day(values[name]) is None:
            form.errors.append(f"“{values[name]}” is not a date (YYYY-MM-DD); the {name} filter is ignored.")
    since_text = since_text if _day(since_text) else None
    until_text = until_text if _day(until_text) else None
    tz = ZoneInfo(viewer_timezone(request)[0])  # "today" and the days of the range: on the viewer's clock
    since, until = search_window(period, since_text, until_text, datetime.now(UTC), tz)
    if since and until and since >= until:
        form.errors.append("The from date is after the to date: no article can match.")
    watchlists = tuple(sorted({w for w, t in source.terms if t == values["term"]}))
    form.filter = SearchFilter(
        since=since, until=until, outlet=values["outlet"] or None,
        outlet_country=values["outlet_country"].upper() or None, country=values["country"].upper() or None,
        region=values["region"] or None, language=values["language"].lower() or None, term=values["term"] or None,
        watchlists=watchlists)
    return form


def _search(source: Source, form: SearchForm) -> tuple[Any, str | None]:
    """The page of results (None without a query) and why search is unavailable, if it is."""
    from media_monitoring.warehouse import search

    if form.query is None:
        return None, None
    if source.warehouse is None or "articles" not in source.tables:
        return None, "Nothing has been stored yet: run the media_ingest DAG."
    if not search.search_ready(source.warehouse):
        return None, ("The search index is not built yet: it is created the next time a DAG opens the warehouse "
                      "(or run any media-monitor command against it).")
    return search.search_page(source.warehouse, form.query, form.filter, sort=form.sort,
                              after=search.SearchCursor.decode(form.after), limit=form.limit), None


@app.get("/search", response_class=HTMLResponse, name="search")
def search_view(request: Request, user: HtmlUser) -> HTMLResponse:
    """Full-text search over every stored article (not only those with watchlist hits)."""
    from media_monitoring.search import PERIODS
    from media_monitoring.warehouse import search, views

    source = sources.get()
    wh, tables = source.warehouse, source.tables
    form = search_form(request, source)
    page, unavailable = _search(source, form)
    return render(
        request, "search.html", user=user_name(user), form=form, page=page, unavailable=unavailable,
        count_cap=search.COUNT_CAP, relevance_pool=search.RELEVANCE_POOL, periods=PERIODS,
        page_sizes=SEARCH_PAGE_SIZES, terms=source.terms, outlet_names=source.outlet_names,
        outlets=views.outlet_choices(wh) if {"articles", "feed_health"} <= tables else [],
        regions=views.region_choices(wh) if "article_places" in tables else [],
        warehouse=wh.describe() if wh else source.url, backend=wh.backend if wh else None,
    )


# -- data quality --------------------------------------------------------------------------------


def _cursor(request: Request, name: str, max_key: int) -> tuple[str, Any]:
    from media_monitoring.warehouse import views

    raw = request.query_params.get(name, "")[:max_key + 40]
    return raw, views.TimeCursor.decode(raw, max_key=max_key)


@app.get("/quality", response_class=HTMLResponse, name="quality")
def quality(request: Request, user: HtmlUser) -> HTMLResponse:
    """Every validation run, newest first, and the articles still in quarantine."""
    from media_monitoring.warehouse import views

    source = sources.get()
    wh, tables = source.warehouse, source.tables
    runs_after, runs_cursor = _cursor(request, "runs_after", views.MAX_RUN_ID)
    q_after, q_cursor = _cursor(request, "q_after", 32)
    runs = views.validation_run_page(wh, after=runs_cursor) if "validation_runs" in tables else None
    has_quarantine = "quarantine" in tables
    quarantine = views.quarantine_page(wh, open_only=True, after=q_cursor) if has_quarantine else None
    open_count = views.open_quarantine_count(wh) if has_quarantine else 0
    suites = load_suites()
    return render(
        request, "quality.html", user=user_name(user), warehouse=wh.describe() if wh else source.url,
        backend=wh.backend if wh else None, runs=runs, runs_after=runs_after, quarantine=quarantine,
        q_after=q_after, open_count=open_count, count_cap=views.OPEN_QUARANTINE_COUNT_CAP,
        reasons=reasons(suites), outlet_names=source.outlet_names,
    )


@app.get("/quality/run", response_class=HTMLResponse, name="quality_run")
def quality_run(request: Request, user: HtmlUser) -> HTMLResponse:
    """One run's validation report: the expectations and their failures, outlet batches, quarantine."""
    from media_monitoring.warehouse import views

    source = sources.get()
    wh, tables = source.warehouse, source.tables
    run_id = request.query_params.get("id", "")
    run = views.validation_run(wh, run_id) \
        if run_id and len(run_id) <= views.MAX_RUN_ID and "validation_runs" in tables else None
    if run is None:
        raise HTTPException(status_code=404, detail="No validation result is stored for that run.")
    q_after, q_cursor = _cursor(request, "q_after", 32)
    outlets = views.outlet_quality_of_run(wh, run_id) if "outlet_quality" in tables else []
    quarantine = views.quarantine_page(wh, run_id=run_id, after=q_cursor) if "quarantine" in tables else None
    suites = load_suites()
    suite_name, _, run_version = str(run["suite"]).partition(" ")
    return render(
        request, "quality_run.html", user=user_name(user), run=run, outlets=outlets, quarantine=quarantine,
        q_after=q_after, expectations=expectations(suites, run, outlets), reasons=reasons(suites),
        run_suite=suite_name, run_version=run_version,
        current_versions={name: suite_version(suite) for name, suite in suites.items()},
        units=SUITE_UNITS, outlet_names=source.outlet_names,
    )


# -- JSON API ------------------------------------------------------------------------------------


@app.get("/api/hits", name="api_hits")
def api_hits(request: Request, user: ApiUser) -> JSONResponse:
    hq = hit_query(request)
    page = _hits(sources.get(), hq)
    return json_response({"articles": page.articles, "next": page.next_cursor.encode() if page.next_cursor else None,
                  "errors": hq.errors})


@app.get("/api/search", name="api_search")
def api_search(request: Request, user: ApiUser) -> JSONResponse:
    """The search page's results as JSON; 400 with the reason when the query cannot be understood."""
    from media_monitoring.warehouse import search

    source = sources.get()
    form = search_form(request, source)
    if form.query is None:
        detail = form.errors[0] if form.errors else "Give the search as ?q=…"
        return JSONResponse({"detail": detail, "errors": form.errors}, status_code=400,
                            headers={"Cache-Control": "no-store"})
    page, unavailable = _search(source, form)
    if page is None:
        return JSONResponse({"detail": unavailable}, status_code=503, headers={"Cache-Control": "no-store"})
    articles = [{k: v for k, v in a.items() if k not in ("title_marked", "snippet")}
                | {"snippet": search.plain(a["snippet"]),
                   "matched": search.marked_words(a["title_marked"] + a["snippet"])}
                for a in page.articles]
    return json_response({"query": form.query.text, "sort": form.sort, "count": page.count,
                          "count_capped": page.count_capped, "articles": articles,
                          "next": page.next_cursor.encode() if page.next_cursor else None, "errors": form.errors})


@app.get("/api/digests", name="api_digests")
def api_digests(request: Request, user: ApiUser) -> JSONResponse:
    from media_monitoring.warehouse import views

    source = sources.get()
    if "digest_sends" not in source.tables:
        return json_response({"digests": [], "total": 0})
    limit = _int(request.query_params.get("limit", ""), views.DEFAULT_PAGE_SIZE, lo=1, hi=views.MAX_PAGE_SIZE)
    offset = _int(request.query_params.get("offset", "0"), 0, lo=0, hi=10**9)
    return json_response({"digests": views.digest_sends(source.warehouse, limit=limit, offset=offset),
                  "total": views.digest_send_count(source.warehouse)})


@app.get("/api/feed-health", name="api_feed_health")
def api_feed_health(request: Request, user: ApiUser) -> JSONResponse:
    from media_monitoring.warehouse import views

    source = sources.get()
    if "feed_health" not in source.tables:
        return json_response({"feeds": []})
    offset = _int(request.query_params.get("offset", "0"), 0, lo=0, hi=10**9)
    rows = views.feed_health(source.warehouse, offset=offset)
    drop = ("etag", "last_modified", "body_hash")  # cache validators: noise for a reader
    return json_response({"feeds": [{k: v for k, v in r.items() if k not in drop} for r in rows]})
