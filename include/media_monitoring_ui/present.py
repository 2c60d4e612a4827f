"""How the view renders: the Jinja2 environment (autoescaped), its filters, the viewer's timezone, the
security headers, and the suites' expectations as the data-quality report shows them."""

from __future__ import annotations

import contextvars
import json
import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import jinja2
from fastapi import Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import HTMLResponse, JSONResponse
from markupsafe import Markup, escape

from media_monitoring.latency import human_duration

log = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
URL_PREFIX = "/media-monitor"

PAGE_HEADERS = {
    # No script at all; styles and images from this app only; frames: the digest preview (same
    # origin, itself sandboxed). frame-ancestors 'self': Airflow's UI embeds this page in its nav.
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self' data:; frame-src 'self'; "
                               "form-action 'self'; base-uri 'none'; frame-ancestors 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",  # article links must not leak this app's URLs to news sites
    "Cache-Control": "no-store",
}
EMAIL_HEADERS = {
    # The sent HTML as is, in an opaque origin: no script, no same-origin access, no forms; inline
    # styles (emails inline their CSS) and data: images only, so nothing is fetched from outside.
    "Content-Security-Policy": "sandbox allow-popups allow-popups-to-escape-sandbox; default-src 'none'; "
                               "style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


TZ_COOKIE = "mm_tz"  # the viewer's timezone, remembered in the browser; ?tz= in a URL wins
VIEW_TIMEZONES = ("UTC", "Asia/Kabul", "Asia/Almaty", "Asia/Dushanbe", "Asia/Tashkent", "Europe/Moscow",
                  "Europe/London", "Europe/Berlin", "America/New_York")  # offered in the picker; any IANA name works
_viewer_tz: contextvars.ContextVar[str] = contextvars.ContextVar("viewer_tz", default="UTC")


def viewer_timezone(request: Request) -> tuple[str, str | None]:
    """The timezone the viewer picked (``?tz=``, else the cookie, else UTC) and a message if it was unknown."""
    asked = request.query_params.get("tz") or request.cookies.get(TZ_COOKIE) or "UTC"
    try:
        ZoneInfo(asked[:64])
    except (ZoneInfoNotFoundError, ValueError):
        return "UTC", f"Unknown timezone {asked[:64]!r}: times are shown in UTC (use an IANA name such as Asia/Kabul)."
    return asked[:64], None


def _ts(value: datetime | None) -> str:
    """A stored instant on the viewer's clock."""
    if value is None:
        return "—"
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    name = _viewer_tz.get()
    local = value.astimezone(ZoneInfo(name))
    offset = local.strftime("%z")  # "+0430" -> "+04:30", as people write it
    return local.strftime("%Y-%m-%d %H:%M ") + ("UTC" if name == "UTC" else f"{name} (UTC{offset[:3]}:{offset[3:]})")


def _page_clock(value: str | None) -> str:
    """The publisher's own reading of the time ("2021-10-28 00:30 +04:30"), when the page gave one."""
    if not value:
        return ""
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return ""
    return parsed.strftime("%Y-%m-%d %H:%M %z") if parsed.tzinfo else parsed.strftime("%Y-%m-%d")


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.0f}%"


def _observed(value: Any, limit: int = 160) -> str:
    """A value a quarantined article failed on, as JSON (strings quoted), shortened."""
    try:
        text = json.dumps(value, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _web_link(url: str | None) -> str | None:
    """Only http(s) links from the web are rendered as links (never javascript: or data:)."""
    if not url:
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    return url if parts.scheme in ("http", "https") and parts.netloc else None


def _marked(value: str | None) -> Markup:
    """Search-engine text with its highlight markers as ``<mark>``: every other character escaped, so a
    hostile title or body stays text; a stray or unbalanced marker only ends or starts a highlight."""
    from media_monitoring.warehouse.search import MARK_END, MARK_START

    out, inside = [], False
    for part in re.split(f"({MARK_START}|{MARK_END})", value or ""):
        if part in (MARK_START, MARK_END):
            if (part == MARK_START) != inside:
                out.append(Markup("<mark>") if part == MARK_START else Markup("</mark>"))
                inside = part == MARK_START
            continue
        out.append(escape(part))
    if inside:
        out.append(Markup("</mark>"))
    return Markup("").join(out)


templates = jinja2.Environment(
    loader=jinja2.FileSystemLoader(HERE / "templates"),
    autoescape=True,  # every value is escaped: titles, snippets and outlet data come from the web
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
def _diffstat(diff: str) -> str:
    """"3 added, 1 removed lines" of a unified diff (its two header lines not counted)."""
    lines = diff.splitlines()
    added = sum(line.startswith("+") and not line.startswith("+++") for line in lines)
    removed = sum(line.startswith("-") and not line.startswith("---") for line in lines)
    return f"{added} added, {removed} removed lines"


templates.filters["ts"] = _ts
templates.filters["diffstat"] = _diffstat
templates.filters["duration"] = human_duration
templates.filters["page_clock"] = _page_clock
templates.filters["web_link"] = _web_link
templates.filters["pct"] = _pct
templates.filters["observed"] = _observed
templates.filters["marked"] = _marked
templates.globals["query"] = lambda **params: urlencode({k: v for k, v in params.items() if v not in (None, "")})


NOTICES = {  # ?notice= after a write (media_monitoring_ui.writes.back_to): the confirmation the page shows
    "marked": "Your feedback on the hit is saved; the term's precision on the Feedback page counts it.",
    "missed": "Saved: the article is marked as one the term should have matched.",
    "released": "Released: the article is stored (it passed its checks again, or was stored anyway).",
    "still_failing": "Not released: the article still fails its checks (it stays in quarantine).",
    "proposed": "Proposed. Check the backtest below, then activate it (or withdraw it).",
    "activated": "Activated as a new version: new articles are tagged with it from the next ingest, and the "
                 "media_retag run below replays it over the period you chose.",
    "activated_no_replay": "Activated as a new version, but no media_retag run could be queued (see below): run "
                           "media_retag with this watchlist and period from the Airflow UI.",
    "withdrawn": "Withdrawn: the proposal is closed and nothing changed.",
    "subscription_saved": "Saved: the subscription's new version is in force and takes effect at its next digest "
                          "(the change is in its history below).",
    "subscription_unchanged": "Nothing to save: the form was the same as the subscription in force.",
}


def render(request: Request, name: str, *, status_code: int = 200, **context: Any) -> HTMLResponse:
    base = str(request.scope.get("root_path", "")).rstrip("/") or URL_PREFIX
    tz, tz_error = viewer_timezone(request)
    token = _viewer_tz.set(tz)
    page_url = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    try:
        html = templates.get_template(name).render(base=base, viewer_tz=tz, tz_error=tz_error,
                                                   timezones=VIEW_TIMEZONES, path=request.url.path, page_url=page_url,
                                                   notice=NOTICES.get(request.query_params.get("notice", "")),
                                                   **context)
    finally:
        _viewer_tz.reset(token)
    response = HTMLResponse(html, status_code=status_code, headers=PAGE_HEADERS)
    if request.query_params.get("tz") and not tz_error:
        response.set_cookie(TZ_COOKIE, tz, max_age=365 * 24 * 3600, httponly=True, samesite="lax",
                            path=base or "/")
    return response


def json_response(data: Any) -> JSONResponse:
    return JSONResponse(jsonable_encoder(data), headers={"Cache-Control": "no-store"})


def is_api(request: Request) -> bool:
    return request.url.path.startswith(str(request.scope.get("root_path", "")).rstrip("/") + "/api/")


# -- data quality --------------------------------------------------------------------------------

SUITE_NAMES = ("articles", "outlet_batches")  # row-level checks, then the per-outlet batch checks
SUITE_UNITS = {"articles": ("article", "articles"), "outlet_batches": ("outlet batch", "outlet batches")}


@dataclass
class Expectation:
    """One expectation of a suite file, as the report shows it."""

    suite: str
    name: str
    why: str
    rule: str
    failed: int = 0
    in_suite: bool = True  # False: failed in the run, but no longer in the current suite file


def load_suites() -> dict[str, dict[str, Any]]:
    """The expectation suites as versioned in the package (read on each request: two small files)."""
    from media_monitoring.quality.validate import load_suite

    suites = {}
    for name in SUITE_NAMES:
        try:
            suites[name] = load_suite(name)
        except Exception:  # noqa: BLE001 (the report still shows the stored counts)
            log.warning("expectation suite %s could not be read", name, exc_info=True)
    return suites


def reasons(suites: dict[str, dict[str, Any]]) -> dict[str, str]:
    """Expectation name -> its human reason (``meta.why``), across the suites."""
    return {e.get("meta", {}).get("name", e.get("type", "")): e.get("meta", {}).get("why", "")
            for suite in suites.values() for e in suite.get("expectations", [])}


def _rule(expectation: dict[str, Any]) -> str:
    """What an expectation checks, in a few words: ``word_count from 50 to 20000``."""
    kind = str(expectation.get("type", ""))
    kwargs = dict(expectation.get("kwargs") or {})
    column = str(kwargs.pop("column", ""))
    lo, hi = kwargs.pop("min_value", None), kwargs.pop("max_value", None)
    if kind == "expect_column_values_to_not_be_null":
        text = f"{column} is present"
    elif kind == "expect_column_values_to_be_between":
        text = (f"{column} from {lo} to {hi}" if lo is not None and hi is not None
                else f"{column} ≥ {lo}" if lo is not None else f"{column} ≤ {hi}")
    elif kind == "expect_column_values_to_be_in_set":
        text = f"{column} in {json.dumps(kwargs.pop('value_set', []))}"
    elif kind == "expect_column_values_to_match_regex":
        text = f"{column} matches {kwargs.pop('regex', '')}"
    else:
        text = " ".join(filter(None, (column, kind.removeprefix("expect_column_values_to_").replace("_", " "))))
    extra = ", ".join(f"{k}={json.dumps(v, default=str)}" for k, v in kwargs.items())
    return f"{text} ({extra})" if extra else text


def suite_version(suite: dict[str, Any]) -> str:
    return str(suite.get("meta", {}).get("version", ""))


def expectations(suites: dict[str, dict[str, Any]], run: dict[str, Any],
                  outlets: list[dict[str, Any]]) -> list[Expectation]:
    """Every expectation of both suites with the rows that failed it in this run.

    Row-level failures are the run's ``by_expectation`` counts (articles); batch-level ones are
    counted from the run's ``outlet_quality`` rows (outlets). A name that failed in the run but is
    no longer in the suite file is listed too, so no stored failure goes unshown.
    """
    failed = {"articles": dict(run["by_expectation"]), "outlet_batches": {}}
    for outlet in outlets:
        for name in outlet["failed_expectations"]:
            failed["outlet_batches"][name] = failed["outlet_batches"].get(name, 0) + 1
    rows: list[Expectation] = []
    for suite_name in SUITE_NAMES:
        counts, seen = failed[suite_name], set()
        for e in suites.get(suite_name, {}).get("expectations", []):
            meta = e.get("meta", {})
            name = str(meta.get("name", e.get("type", "")))
            seen.add(name)
            rows.append(Expectation(suite_name, name, str(meta.get("why", "")), _rule(e), int(counts.get(name, 0))))
        rows += [Expectation(suite_name, name, "", "", int(n), in_suite=False)
                 for name, n in sorted(counts.items()) if name not in seen]
    return rows
