"""Media Monitor: the FastAPI app of the view over the warehouse (no Flask, no FAB).

Airflow's API server mounts it at ``/media-monitor`` (see ``plugins/media_monitor_ui``); an external
view puts it in Airflow's nav. Server-rendered HTML (Jinja2, autoescaped, no JavaScript) plus a small
JSON API (:mod:`media_monitoring_ui.api`), read-only but for analysts' feedback and an operator's release
from quarantine (:mod:`media_monitoring_ui.feedback_routes`), watchlist proposals
(:mod:`media_monitoring_ui.watchlist_routes`) and the subscriptions analysts edit
(:mod:`media_monitoring_ui.subscription_routes`; every write goes through
:mod:`media_monitoring_ui.writes`, the roles are :mod:`media_monitoring_ui.roles`). The SQL lives in
:mod:`media_monitoring_ui.queries` (a module per page), the query strings are parsed in
:mod:`media_monitoring_ui.forms`, who may see it is decided in :mod:`media_monitoring_ui.auth`, how it
renders in :mod:`media_monitoring_ui.present`.

Data quality (``/quality``): every run's validation result (``validation_runs``), a report per run
(``/quality/run?id=RUN_ID``: each expectation of the suites with its reason and how many rows
failed, the outlet batches, the quarantined articles) and the articles still in quarantine.

Digests are shown exactly as they were sent: the stored HTML body is served on its own URL with a
``Content-Security-Policy: sandbox`` header and embedded in a sandboxed iframe, so markup from the
web (headlines, snippets) can never run script in the Airflow origin.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from media_monitoring_ui import api
from media_monitoring_ui.auth import HtmlUser, LoginRequired, user_name
from media_monitoring_ui.cursors import MAX_ARTICLE_ID, MAX_RUN_ID, HitCursor, TimeCursor
from media_monitoring_ui.export_routes import router as export_router
from media_monitoring_ui.feedback_routes import router as feedback_router
from media_monitoring_ui.forms import (
    SEARCH_PAGE_SIZES,
    hit_query,
    hit_results,
    page_number,
    parse_day,
    search_form,
    search_results,
)
from media_monitoring_ui.present import (
    EMAIL_HEADERS,
    HERE,
    SUITE_UNITS,
    expectations,
    is_api,
    load_suites,
    reasons,
    render,
    suite_version,
)
from media_monitoring_ui.source import Source, sources
from media_monitoring_ui.subscription_routes import router as subscription_router
from media_monitoring_ui.watchlist_routes import router as watchlist_router
from media_monitoring_ui.writes import token_for

log = logging.getLogger(__name__)

DIGESTS_PER_PAGE = 20
FEEDS_PER_PAGE = 100
LATENCY_PERIODS = ("1", "7", "30", "all")  # days of stored articles the latency page measures

app = FastAPI(title="Media Monitor", docs_url=None, redoc_url=None, openapi_url=None)
app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
app.include_router(export_router)  # /export/...: the lists below as CSV or JSON downloads
app.include_router(feedback_router)  # POST /feedback, POST /quarantine/release, the /feedback page
app.include_router(watchlist_router)  # /watchlists: terms, versions, proposals, backtests, activation
app.include_router(subscription_router)  # the /subscriptions page, POST /subscriptions/save


@app.exception_handler(LoginRequired)
async def _to_login(request: Request, exc: LoginRequired) -> Response:
    return RedirectResponse(exc.login_url, status_code=302, headers={"Cache-Control": "no-store"})


@app.exception_handler(StarletteHTTPException)
async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
    if is_api(request):
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)
    return render(request, "error.html", status_code=exc.status_code, status=exc.status_code, detail=exc.detail,
                   user=None)


# -- pages ---------------------------------------------------------------------------------------


@app.get("/", response_class=HTMLResponse, name="index")
def index(request: Request, user: HtmlUser) -> HTMLResponse:
    from media_monitoring.warehouse import runs
    from media_monitoring.warehouse.feedback import KIND_LABELS, term_precision
    from media_monitoring_ui.queries import choices, digests, feeds, stories

    source = sources.get()
    wh, tables = source.warehouse, source.tables
    hq = hit_query(request)
    dpage, fpage = page_number(request, "dpage"), page_number(request, "fpage")
    today = datetime.now(UTC).date()

    latest_day = digests.latest_digest_day(wh) if "digest_sends" in tables else None
    latest_sends = digests.digest_sends_on(wh, latest_day) if latest_day else []
    composed = digests.digests_on(wh, [latest_day]).get(latest_day, []) \
        if latest_day and "digests" in tables else []
    pipeline = runs.state(wh, datetime.now(UTC)) if "pipeline_runs" in tables else {}
    sends_total = digests.digest_send_count(wh) if "digest_sends" in tables else 0
    sends = digests.digest_sends(wh, limit=DIGESTS_PER_PAGE, offset=(dpage - 1) * DIGESTS_PER_PAGE) \
        if "digest_sends" in tables else []

    has_places = "article_places" in tables
    outlets = choices.outlet_choices(wh) if {"articles", "feed_health"} <= tables else []
    regions = choices.region_choices(wh) if has_places else []
    hits = hit_results(source, hq)
    precision = [r for r in term_precision(wh, source.terms, count_hits=False) if r.marked] \
        if "hit_feedback" in tables else []

    has_stories = {"stories", "article_stories"} <= tables
    story_groups = stories.story_page(wh, after=HitCursor.decode(request.query_params.get("stories_after", "")[:120])) \
        if has_stories else None
    feed_counts = feeds.feed_status_counts(wh) if "feed_health" in tables else {}
    feed_rows = feeds.feed_health(wh, limit=FEEDS_PER_PAGE, offset=(fpage - 1) * FEEDS_PER_PAGE) \
        if "feed_health" in tables else []

    return render(
        request, "index.html", user=user_name(user), warehouse=wh.describe() if wh else source.url,
        backend=wh.backend if wh else None, has_data=wh is not None and bool(tables), today=today,
        latest_day=latest_day, latest_sends=latest_sends, composed=composed, sends=sends,
        sends_total=sends_total, dpage=dpage, digests_per_page=DIGESTS_PER_PAGE,
        hq=hq, hits=hits, terms=source.terms, outlets=outlets, outlet_names=source.outlet_names,
        regions=regions, stories=story_groups, stories_after=request.query_params.get("stories_after", ""),
        min_group=stories.MIN_GROUP_SIZE, feed_counts=feed_counts, feeds=feed_rows,
        feeds_total=sum(feed_counts.values()), fpage=fpage, feeds_per_page=FEEDS_PER_PAGE,
        statuses=feeds.STATUS_ORDER, pipeline=pipeline, csrf=token_for(user), kind_labels=KIND_LABELS,
        precision=precision,
    )


def _send_or_404(request: Request, source: Source) -> dict[str, Any]:
    from media_monitoring_ui.queries import digests

    day = parse_day(request.query_params.get("date", ""))
    subscription = request.query_params.get("subscription", "")
    send = None
    if day and subscription and source.warehouse is not None and "digest_sends" in source.tables:
        send = digests.digest_send(source.warehouse, day, subscription)
    if send is None:
        raise HTTPException(status_code=404, detail="No digest was sent for that date and subscription.")
    return send


@app.get("/digest", response_class=HTMLResponse, name="digest")
def digest(request: Request, user: HtmlUser) -> HTMLResponse:
    from media_monitoring_ui.queries import digests

    source = sources.get()
    send = _send_or_404(request, source)
    same_day = digests.digest_sends_on(source.warehouse, send["digest_date"])
    return render(request, "digest.html", user=user_name(user), send=send, same_day=same_day,
                   view=request.query_params.get("view", "html"))


@app.get("/digest/email.html", response_class=HTMLResponse, name="digest_email")
def digest_email(request: Request, user: HtmlUser) -> HTMLResponse:
    """The HTML body exactly as sent, in a sandbox (see EMAIL_HEADERS)."""
    send = _send_or_404(request, sources.get())
    return HTMLResponse(send["body_html"] or "<p>(this digest was sent as plain text only)</p>",
                        headers=EMAIL_HEADERS)


# -- search --------------------------------------------------------------------------------------


@app.get("/search", response_class=HTMLResponse, name="search")
def search_view(request: Request, user: HtmlUser) -> HTMLResponse:
    """Full-text search over every stored article (not only those with watchlist hits)."""
    from media_monitoring.search import PERIODS
    from media_monitoring.warehouse import search
    from media_monitoring.warehouse.feedback import KIND_LABELS
    from media_monitoring_ui.queries import choices

    source = sources.get()
    wh, tables = source.warehouse, source.tables
    form = search_form(request, source)
    page, unavailable = search_results(source, form)
    return render(
        request, "search.html", user=user_name(user), form=form, page=page, unavailable=unavailable,
        count_cap=search.COUNT_CAP, relevance_pool=search.RELEVANCE_POOL, periods=PERIODS,
        page_sizes=SEARCH_PAGE_SIZES, terms=source.terms, outlet_names=source.outlet_names,
        outlets=choices.outlet_choices(wh) if {"articles", "feed_health"} <= tables else [],
        regions=choices.region_choices(wh) if "article_places" in tables else [],
        warehouse=wh.describe() if wh else source.url, backend=wh.backend if wh else None,
        csrf=token_for(user), kind_labels=KIND_LABELS,
    )


# -- data quality --------------------------------------------------------------------------------


def _cursor(request: Request, name: str, max_key: int) -> tuple[str, TimeCursor | None]:
    """The raw ``name`` parameter (kept for the page's links) and the cursor it holds, if any."""
    raw = request.query_params.get(name, "")[:max_key + 40]
    return raw, TimeCursor.decode(raw, max_key=max_key)


@app.get("/quality", response_class=HTMLResponse, name="quality")
def quality(request: Request, user: HtmlUser) -> HTMLResponse:
    """Every validation run, newest first, and the articles still in quarantine."""
    from media_monitoring_ui.queries import quality as q

    source = sources.get()
    wh, tables = source.warehouse, source.tables
    runs_after, runs_cursor = _cursor(request, "runs_after", MAX_RUN_ID)
    q_after, q_cursor = _cursor(request, "q_after", MAX_ARTICLE_ID)
    runs = q.validation_run_page(wh, after=runs_cursor) if "validation_runs" in tables else None
    has_quarantine = "quarantine" in tables
    quarantine = q.quarantine_page(wh, open_only=True, after=q_cursor) if has_quarantine else None
    open_count = q.open_quarantine_count(wh) if has_quarantine else 0
    suites = load_suites()
    return render(
        request, "quality.html", user=user_name(user), warehouse=wh.describe() if wh else source.url,
        backend=wh.backend if wh else None, runs=runs, runs_after=runs_after, quarantine=quarantine,
        q_after=q_after, open_count=open_count, count_cap=q.OPEN_QUARANTINE_COUNT_CAP,
        reasons=reasons(suites), outlet_names=source.outlet_names, csrf=token_for(user),
    )


@app.get("/quality/run", response_class=HTMLResponse, name="quality_run")
def quality_run(request: Request, user: HtmlUser) -> HTMLResponse:
    """One run's validation report: the expectations and their failures, outlet batches, quarantine."""
    from media_monitoring_ui.queries import quality as q

    source = sources.get()
    wh, tables = source.warehouse, source.tables
    run_id = request.query_params.get("id", "")
    run = q.validation_run(wh, run_id) \
        if run_id and len(run_id) <= MAX_RUN_ID and "validation_runs" in tables else None
    if run is None:
        raise HTTPException(status_code=404, detail="No validation result is stored for that run.")
    q_after, q_cursor = _cursor(request, "q_after", MAX_ARTICLE_ID)
    outlets = q.outlet_quality_of_run(wh, run_id) if "outlet_quality" in tables else []
    quarantine = q.quarantine_page(wh, run_id=run_id, after=q_cursor) if "quarantine" in tables else None
    suites = load_suites()
    suite_name, _, run_version = str(run["suite"]).partition(" ")
    return render(
        request, "quality_run.html", user=user_name(user), run=run, outlets=outlets, quarantine=quarantine,
        q_after=q_after, expectations=expectations(suites, run, outlets), reasons=reasons(suites),
        run_suite=suite_name, run_version=run_version,
        current_versions={name: suite_version(suite) for name, suite in suites.items()},
        units=SUITE_UNITS, outlet_names=source.outlet_names,
    )


# -- the fast lane: articles that changed, latency ------------------------------------------------


@app.get("/revisions", response_class=HTMLResponse, name="revisions")
def revisions_view(request: Request, user: HtmlUser) -> HTMLResponse:
    """What changed in one article after publication: each revision with its diff, or its deletion."""
    from media_monitoring_ui.queries.revisions import article_revisions

    source = sources.get()
    article_id = request.query_params.get("article", "")
    article, revisions = (article_revisions(source.warehouse, article_id)
                          if len(article_id) <= MAX_ARTICLE_ID and "article_revisions" in source.tables
                          and source.warehouse is not None else (None, []))
    if article is None:
        raise HTTPException(status_code=404, detail="No stored article has that id.")
    return render(request, "revisions.html", user=user_name(user), article=article, revisions=revisions,
                  outlet_names=source.outlet_names)


@app.get("/latency", response_class=HTMLResponse, name="latency")
def latency_view(request: Request, user: HtmlUser) -> HTMLResponse:
    """Publication -> alert and -> digest, p50/p95 per outlet and per term, flagged against their targets."""
    from media_monitoring.latency import ALERT_TARGET, DIGEST_TARGET, latency_table
    from media_monitoring.warehouse.alerts import latency_rows

    source = sources.get()
    days = request.query_params.get("days", "7")
    if days not in LATENCY_PERIODS:
        raise HTTPException(status_code=400, detail=f"days must be one of {', '.join(LATENCY_PERIODS)}.")
    since = None if days == "all" else datetime.now(UTC) - timedelta(days=int(days))
    rows = latency_rows(source.warehouse, since) \
        if source.warehouse is not None and {"articles", "alerts"} <= source.tables else []
    tables = {by: latency_table(rows, by=by, priority_outlets=source.priority_outlets,
                                priority_terms=source.priority_terms) for by in ("outlet", "term")}
    return render(request, "latency.html", user=user_name(user), tables=tables, days=days,
                  periods=LATENCY_PERIODS, alert_target=ALERT_TARGET, digest_target=DIGEST_TARGET,
                  outlet_names=source.outlet_names, articles=len(rows))


app.include_router(api.router)
