"""Downloads of the view's lists as CSV or JSON, streamed: the watchlist hits, a search, a digest's items.

Each export takes the query string of the page it exports, so the filters an analyst set carry over through
the page's "Export CSV" / "Export JSON" links:

* ``/export/hits.csv`` and ``.json``: the hits page's filters (``term``, ``region``, ``outlet``, ``from``,
  ``to``); every article the page lists, page after page, one row per hit with its evidence;
* ``/export/search.csv`` and ``.json``: the search page's words and filters (``q``, ``period``, ``from``, ``to``,
  ``outlet``, ``outlet_country``, ``country``, ``region``, ``language``, ``term``, ``sort``);
* ``/export/digest/<date>.csv`` and ``.json`` with ``?subscription=``: the digest page's digest, its items as
  composed.

The parameters are checked before anything is sent: what the page would show as an error is a 400 with the
same message here, and the first rows are read before the response starts, so a failing query is an error
page, not a truncated file. The rows are read and written while they are sent (see
:mod:`media_monitoring.export`); the file is named after the list, its filters and the day of the export.
Who may download is who may see the pages (:data:`media_monitoring_ui.auth.HtmlUser`).
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import StreamingResponse

from media_monitoring_ui.auth import HtmlUser
from media_monitoring_ui.forms import SEARCH_PARAMS, hit_query, search_form
from media_monitoring_ui.source import sources

router = APIRouter()

DOWNLOAD_HEADERS = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}
MAX_NAME_CHARS = 120  # a file name stays readable in a download bar and within every file system's limit
_UNSAFE = re.compile(r"[^\w.]+")  # anything but letters, digits, "_" and "." becomes "-" in a file name


def _format(fmt: str) -> str:
    from media_monitoring.export import FORMATS

    if fmt not in FORMATS:
        raise HTTPException(status_code=404, detail=f"No export as .{fmt[:20]}: use .csv or .json.")
    return fmt


def file_name(kind: str, parts: Iterable[str], fmt: str, today: date) -> str:
    """``hits-term-CSTO-outlet-tass-en-2026-12-07.csv``: the list, its filters, the day of the export."""
    words = [kind, *(_UNSAFE.sub("-", p).strip("-") for p in parts if p), today.isoformat()]
    stem = "-".join(w for w in words if w)
    if len(stem) > MAX_NAME_CHARS:
        stem = stem[:MAX_NAME_CHARS - len(today.isoformat()) - 1].rstrip("-") + "-" + today.isoformat()
    return f"{stem}.{fmt}"


def _disposition(name: str) -> str:
    """An attachment named ``name``: in ASCII for every browser, and in UTF-8 (RFC 6266) for those that read it."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    ascii_name = re.sub(r"-{2,}", "-", _UNSAFE.sub("-", ascii_name)) or "export"
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"


def _download(kind: str, fmt: str, rows: Iterator[dict[str, Any]], name: str) -> StreamingResponse:
    """The streamed file. The first row is read here, before the response starts: a query that fails is an
    error page, not a file cut short."""
    from media_monitoring import export

    first = next(rows, None)
    started = itertools.chain([first], rows) if first is not None else iter(())
    body = export.encoded(export.chunks(kind, fmt, started, bom=fmt == "csv"))
    return StreamingResponse(body, media_type=export.MEDIA_TYPES[fmt],
                             headers={**DOWNLOAD_HEADERS, "Content-Disposition": _disposition(name)})


def _refuse(errors: list[str]) -> None:
    if errors:
        raise HTTPException(status_code=400, detail=" ".join(errors))


@router.get("/export/hits.{fmt}", name="export_hits")
def export_hits(request: Request, fmt: str, user: HtmlUser) -> StreamingResponse:
    """Every article of the hits page for its filters, one row per hit with its evidence."""
    from media_monitoring.warehouse.export import hit_rows

    fmt = _format(fmt)
    hq = hit_query(request)
    _refuse(hq.errors)
    source = sources.get()
    rows: Iterator[dict[str, Any]] = iter(())
    if source.warehouse is not None and {"articles", "watchlist_hits"} <= source.tables:
        rows = hit_rows(source.warehouse, hq.filter(source))
    parts = [f"{name}-{value}" for name, value in (("term", hq.term), ("region", hq.region), ("outlet", hq.outlet),
                                                   ("from", hq.since), ("to", hq.until)) if value]
    return _download("hits", fmt, rows, file_name("hits", parts, fmt, datetime.now(UTC).date()))


@router.get("/export/search.{fmt}", name="export_search")
def export_search(request: Request, fmt: str, user: HtmlUser) -> StreamingResponse:
    """Every article the search page lists for its words and filters, page after page, in its order."""
    from media_monitoring.warehouse.export import search_rows
    from media_monitoring.warehouse.search_index import search_ready

    fmt = _format(fmt)
    source = sources.get()
    form = search_form(request, source)
    if form.query is None and not form.errors:
        form.errors.append("Give the words to search for as ?q=…")
    _refuse(form.errors)
    if source.warehouse is None or "articles" not in source.tables:
        raise HTTPException(status_code=503, detail="Nothing has been stored yet: run the media_ingest DAG.")
    if not search_ready(source.warehouse):
        raise HTTPException(status_code=503, detail="The search index is not built yet: it is created the next "
                                                    "time a DAG opens the warehouse.")
    rows = search_rows(source.warehouse, form.query, form.filter, sort=form.sort)
    parts = [form.values["q"]] + [f"{name}-{form.values[name]}" for name in SEARCH_PARAMS
                                  if name not in ("q", "sort", "limit") and form.values[name]]
    if form.sort != "time":
        parts.append(f"by-{form.sort}")
    return _download("search", fmt, rows, file_name("search", parts, fmt, datetime.now(UTC).date()))


@router.get("/export/digest/{day}.{fmt}", name="export_digest")
def export_digest(request: Request, day: str, fmt: str, user: HtmlUser) -> StreamingResponse:
    """One digest's items as composed (``?subscription=``), one row per item and term."""
    from media_monitoring.warehouse import digests
    from media_monitoring.warehouse.export import digest_rows

    fmt = _format(fmt)
    subscription = request.query_params.get("subscription", "")[:200]
    try:
        digest_date = date.fromisoformat(day)
    except ValueError:
        raise HTTPException(status_code=400, detail=f"“{day[:20]}” is not a date (YYYY-MM-DD).") from None
    if not subscription:
        raise HTTPException(status_code=400, detail="Give the digest's subscription as ?subscription=…")
    source = sources.get()
    if source.warehouse is None or "digests" not in source.tables \
            or digests.digest(source.warehouse, subscription, digest_date) is None:
        raise HTTPException(status_code=404, detail="No digest was composed for that date and subscription.")
    rows = digest_rows(source.warehouse, subscription, digest_date)
    return _download("digest", fmt, rows, file_name("digest", [day, subscription], fmt, datetime.now(UTC).date()))
