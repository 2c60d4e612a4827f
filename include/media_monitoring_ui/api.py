"""The view's JSON API (``/api/...``): the hits, search results, digests sent and feed health the pages
show, for scripts and spreadsheets. Read-only; every route needs an Airflow user (401/403, never a redirect).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from media_monitoring_ui.auth import ApiUser
from media_monitoring_ui.cursors import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from media_monitoring_ui.forms import bounded_int, hit_query, hit_results, search_form, search_results
from media_monitoring_ui.present import json_response
from media_monitoring_ui.source import sources

MAX_OFFSET = 10**9  # ?offset=: any real list is far shorter; bounds the number the database is handed

router = APIRouter(prefix="/api")


@router.get("/hits", name="api_hits")
def api_hits(request: Request, user: ApiUser) -> JSONResponse:
    hq = hit_query(request)
    page = hit_results(sources.get(), hq)
    return json_response({"articles": page.articles, "next": page.next_cursor.encode() if page.next_cursor else None,
                          "errors": hq.errors})


@router.get("/search", name="api_search")
def api_search(request: Request, user: ApiUser) -> JSONResponse:
    """The search page's results as JSON; 400 with the reason when the query cannot be understood."""
    from media_monitoring.warehouse import search

    source = sources.get()
    form = search_form(request, source)
    if form.query is None:
        detail = form.errors[0] if form.errors else "Give the search as ?q=…"
        return JSONResponse({"detail": detail, "errors": form.errors}, status_code=400,
                            headers={"Cache-Control": "no-store"})
    page, unavailable = search_results(source, form)
    if page is None:
        return JSONResponse({"detail": unavailable}, status_code=503, headers={"Cache-Control": "no-store"})
    articles = [{k: v for k, v in a.items() if k not in ("title_marked", "snippet")}
                | {"snippet": search.plain(a["snippet"]),
                   "matched": search.marked_words(a["title_marked"] + a["snippet"])}
                for a in page.articles]
    return json_response({"query": form.query.text, "sort": form.sort, "count": page.count,
                          "count_capped": page.count_capped, "articles": articles,
                          "next": page.next_cursor.encode() if page.next_cursor else None, "errors": form.errors})


@router.get("/digests", name="api_digests")
def api_digests(request: Request, user: ApiUser) -> JSONResponse:
    from media_monitoring_ui.queries import digests

    source = sources.get()
    if "digest_sends" not in source.tables:
        return json_response({"digests": [], "total": 0})
    limit = bounded_int(request.query_params.get("limit", ""), DEFAULT_PAGE_SIZE, lo=1, hi=MAX_PAGE_SIZE)
    offset = bounded_int(request.query_params.get("offset", "0"), 0, lo=0, hi=MAX_OFFSET)
    return json_response({"digests": digests.digest_sends(source.warehouse, limit=limit, offset=offset),
                          "total": digests.digest_send_count(source.warehouse)})


@router.get("/feed-health", name="api_feed_health")
def api_feed_health(request: Request, user: ApiUser) -> JSONResponse:
    from media_monitoring_ui.queries import feeds

    source = sources.get()
    if "feed_health" not in source.tables:
        return json_response({"feeds": []})
    offset = bounded_int(request.query_params.get("offset", "0"), 0, lo=0, hi=MAX_OFFSET)
    rows = feeds.feed_health(source.warehouse, offset=offset)
    drop = ("etag", "last_modified", "body_hash")  # cache validators: noise for a reader
    return json_response({"feeds": [{k: v for k, v in r.items() if k not in drop} for r in rows]})
