"""Media Monitor: an Airflow 3 UI plugin over the warehouse (no Flask, no FAB).

A FastAPI app mounted by Airflow's API server at ``/media-monitor`` and an external view in
Airflow's nav. Server-rendered HTML (Jinja2, autoescaped, no JavaScript) plus a small JSON API, all
read-only; the SQL lives in :mod:`media_monitoring.warehouse.views`, templates and static files
beside this file.

Authentication: Airflow mounts plugin apps without any, so every route here depends on
:func:`html_user` (pages: no valid token means a redirect to Airflow's login page) or
:func:`api_user` (JSON: 401/403). The token is the one Airflow's UI holds: an explicit
``Authorization: Bearer`` header wins, else the ``_token`` cookie, as the core API reads them; the
configured auth manager validates it (signature, expiry, revocation), and the user must be allowed
to see the Airflow UI (``AccessView.WEBSITE``), the least any UI user has. Airflow's security
imports are deferred to the first request: the scheduler and workers also import plugins.

Data quality (``/quality``): every run's validation result (``validation_runs``), a report per run
(``/quality/run?id=RUN_ID``: each expectation of the suites with its reason and how many rows
failed, the outlet batches, the quarantined articles) and the articles still in quarantine. The
suites' names and reasons come from the suite files (:func:`media_monitoring.quality.validate.load_suite`).

Digests are shown exactly as they were sent: the stored HTML body is served on its own URL with a
``Content-Security-Policy: sandbox`` header and embedded in a sandboxed iframe, so markup from the
web (headlines, snippets) can never run script in the Airflow origin.

This is one module on purpose: Airflow's plugin loader imports every ``.py`` file under the plugins
folder as a top-level module named after the file, so helper modules would be imported twice under
bare names (an ``.airflowignore`` would avoid that, but its glob patterns make Airflow emit a
DeprecationWarning on every plugin scan).
"""

from __future__ import annotations

import contextvars
import json
import logging
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import jinja2
from airflow.plugins_manager import AirflowPlugin
from fastapi import Depends, FastAPI, HTTPException, Request, status
from fastapi.encoders import jsonable_encoder
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger(__name__)

URL_PREFIX = "/media-monitor"
HERE = Path(__file__).resolve().parent
REFRESH_S = 60  # how long the resolved warehouse URL, table list and reference data are reused
DIGESTS_PER_PAGE = 20
FEEDS_PER_PAGE = 100

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

app = FastAPI(title="Media Monitor", docs_url=None, redoc_url=None, openapi_url=None)
app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")


# -- authentication ------------------------------------------------------------------------------

COOKIE_NAME = "_token"  # airflow.api_fastapi.auth.managers.base_auth_manager.COOKIE_NAME_JWT_TOKEN


class LoginRequired(Exception):  # noqa: N818 (a control-flow signal, not an error)
    """A page was asked for without a valid Airflow session: send the browser to the login page."""

    def __init__(self, login_url: str) -> None:
        super().__init__(login_url)
        self.login_url = login_url


class NotAllowed(HTTPException):
    """A valid Airflow user whom the auth manager does not let see the Airflow UI."""

    def __init__(self) -> None:
        super().__init__(status_code=status.HTTP_403_FORBIDDEN, detail="Not allowed to view the Airflow UI")


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, credentials = header.partition(" ")
    if scheme.lower() == "bearer" and credentials.strip():
        return credentials.strip()
    return None


async def authenticate(request: Request) -> Any:
    """The Airflow user of this request.

    Raises:
        HTTPException: 401 without a token or with an expired one, 403 for an invalid or revoked
            token or a user who may not see the Airflow UI.
    """
    from airflow.api_fastapi.app import get_auth_manager
    from airflow.api_fastapi.auth.managers.models.resource_details import AccessView
    from airflow.api_fastapi.core_api import security

    user = None
    bearer = _bearer(request)
    if bearer is not None:
        user = await security.resolve_user_from_token(bearer)
    else:
        # Airflow's JWT refresh middleware (on the root app) may already have validated the cookie
        # and marked the user as trusted; honour it the way the core API's get_user does.
        marker = getattr(security, "USER_INJECTED_BY_TRUSTED_MIDDLEWARE", None)
        cached = getattr(request.state, "user", None)
        trusted = getattr(request.state, "user_authenticated_via", None)
        if cached is not None and marker is not None and trusted is marker:
            user = cached
        else:
            user = await security.resolve_user_from_token(request.cookies.get(COOKIE_NAME))
    if not get_auth_manager().is_authorized_view(access_view=AccessView.WEBSITE, user=user):
        raise NotAllowed()
    return user


def airflow_root(request: Request) -> str:
    """The path Airflow itself is served under ("" by default), without a trailing slash."""
    return str(request.scope.get("app_root_path", "")).rstrip("/")


def login_url(request: Request) -> str:
    """Airflow's login page, coming back to this very page afterwards."""
    from airflow.api_fastapi.app import get_auth_manager

    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    url = get_auth_manager().get_url_login(next_url=here)
    if url.startswith("/") and not urlsplit(url).netloc:
        url = airflow_root(request) + url
    return url


async def html_user(request: Request) -> Any:
    """Dependency of the HTML pages: the user, or a redirect to log in (a 403 page if not allowed)."""
    try:
        return await authenticate(request)
    except NotAllowed:
        raise
    except HTTPException as exc:  # no token, or an expired, invalid or revoked one
        raise LoginRequired(login_url(request)) from exc


async def api_user(request: Request) -> Any:
    """Dependency of the JSON endpoints: the user, else 401 (no or expired token) or 403."""
    try:
        return await authenticate(request)
    except HTTPException as exc:
        if exc.status_code == status.HTTP_401_UNAUTHORIZED:
            raise HTTPException(exc.status_code, exc.detail, headers={"WWW-Authenticate": "Bearer"}) from exc
        raise


def user_name(user: Any) -> str:
    for attr in ("get_name", "get_id"):
        fn = getattr(user, attr, None)
        if callable(fn):
            try:
                value = fn()
            except Exception:  # noqa: BLE001 (display only)
                continue
            if value:
                return str(value)
    return "?"


HtmlUser = Annotated[Any, Depends(html_user)]
ApiUser = Annotated[Any, Depends(api_user)]


# -- data source ---------------------------------------------------------------------------------


def resolve_warehouse_url() -> str:
    """The warehouse the DAGs write: the ``media_warehouse`` connection, else the settings' default."""
    from media_monitoring.settings import load_settings

    settings = load_settings()
    url = None
    try:
        from media_monitoring_airflow import warehouse_url

        url = warehouse_url()
    except Exception:  # noqa: BLE001 (outside the API server, e.g. no secrets backend: use the settings)
        log.warning("media_warehouse connection could not be read; using the settings", exc_info=True)
    return url or settings.warehouse_url or settings.default_warehouse_url


@dataclass
class Source:
    """The open warehouse and the reference data the pages need, refreshed every REFRESH_S."""

    url: str
    warehouse: Any  # media_monitoring.warehouse.Warehouse, or None while there is none to read
    tables: set[str]
    outlet_names: dict[str, str] = field(default_factory=dict)
    terms: list[tuple[str, str]] = field(default_factory=list)  # (watchlist, term) from the config
    loaded_at: float = 0.0


class _SourceCache:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._source: Source | None = None

    def get(self) -> Source:
        with self._lock:
            current = self._source
            if current is not None and time.monotonic() - current.loaded_at < REFRESH_S:
                return current
            url = resolve_warehouse_url()
            warehouse = current.warehouse if current is not None and current.url == url else None
            if warehouse is None:
                if current is not None and current.warehouse is not None:
                    current.warehouse.close()
                warehouse = _open(url)
            self._source = Source(url=url, warehouse=warehouse, tables=_tables(warehouse),
                                  loaded_at=time.monotonic(), **_reference_data())
            return self._source

    def reset(self) -> None:
        with self._lock:
            if self._source is not None and self._source.warehouse is not None:
                self._source.warehouse.close()
            self._source = None


def _open(url: str) -> Any:
    from media_monitoring.warehouse import Warehouse

    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).exists():
        return None  # nothing ingested yet; opening would create an empty file
    return Warehouse.connect(url, create=False)  # read-only: the DAGs own the schema


def _tables(warehouse: Any) -> set[str]:
    if warehouse is None:
        return set()
    from media_monitoring.warehouse import views

    return views.table_names(warehouse)


def _reference_data() -> dict[str, Any]:
    from media_monitoring.config import load_registry, load_watchlists
    from media_monitoring.settings import load_settings

    settings = load_settings()
    data: dict[str, Any] = {}
    try:
        registry = load_registry(settings.outlets_file, settings.replay_base)
        data["outlet_names"] = {o.id: o.name for o in registry.outlets}
    except Exception:  # noqa: BLE001 (names are a nicety; ids still show)
        log.warning("outlet registry %s could not be read", settings.outlets_file, exc_info=True)
    try:
        data["terms"] = [(w.name, t.name) for w in load_watchlists(settings.watchlists_file).watchlists
                         for t in w.terms]
    except Exception:  # noqa: BLE001
        log.warning("watchlists %s could not be read", settings.watchlists_file, exc_info=True)
    return data


sources = _SourceCache()


# -- rendering -----------------------------------------------------------------------------------


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
    return local.strftime("%Y-%m-%d %H:%M ") + ("UTC" if name == "UTC" else f"{name} (UTC{local:%z})")


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


templates = jinja2.Environment(
    loader=jinja2.FileSystemLoader(HERE / "templates"),
    autoescape=True,  # every value is escaped: titles, snippets and outlet data come from the web
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
templates.filters["ts"] = _ts
templates.filters["page_clock"] = _page_clock
templates.filters["web_link"] = _web_link
templates.filters["pct"] = _pct
templates.filters["observed"] = _observed
templates.globals["query"] = lambda **params: urlencode({k: v for k, v in params.items() if v not in (None, "")})


def _render(request: Request, name: str, *, status_code: int = 200, **context: Any) -> HTMLResponse:
    base = str(request.scope.get("root_path", "")).rstrip("/") or URL_PREFIX
    tz, tz_error = viewer_timezone(request)
    token = _viewer_tz.set(tz)
    try:
        html = templates.get_template(name).render(base=base, viewer_tz=tz, tz_error=tz_error,
                                                   timezones=VIEW_TIMEZONES, path=request.url.path, **context)
    finally:
        _viewer_tz.reset(token)
    response = HTMLResponse(html, status_code=status_code, headers=PAGE_HEADERS)
    if request.query_params.get("tz") and not tz_error:
        response.set_cookie(TZ_COOKIE, tz, max_age=365 * 24 * 3600, httponly=True, samesite="lax",
                            path=base or "/")
    return response


def _json(data: Any) -> JSONResponse:
    return JSONResponse(jsonable_encoder(data), headers={"Cache-Control": "no-store"})


def _is_api(request: Request) -> bool:
    return request.url.path.startswith(str(request.scope.get("root_path", "")).rstrip("/") + "/api/")


@app.exception_handler(LoginRequired)
async def _to_login(request: Request, exc: LoginRequired) -> Response:
    return RedirectResponse(exc.login_url, status_code=302, headers={"Cache-Control": "no-store"})


@app.exception_handler(StarletteHTTPException)
async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
    if _is_api(request):
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)
    return _render(request, "error.html", status_code=exc.status_code, status=exc.status_code, detail=exc.detail,
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

    return _render(
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
    return _render(request, "digest.html", user=user_name(user), send=send, same_day=same_day,
                   view=request.query_params.get("view", "html"))


@app.get("/digest/email.html", response_class=HTMLResponse, name="digest_email")
def digest_email(request: Request, user: HtmlUser) -> HTMLResponse:
    """The HTML body exactly as sent, in a sandbox (see EMAIL_HEADERS)."""
    send = _send_or_404(request, sources.get())
    return HTMLResponse(send["body_html"] or "<p>(this digest was sent as plain text only)</p>",
                        headers=EMAIL_HEADERS)


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


def _suites() -> dict[str, dict[str, Any]]:
    """The expectation suites as versioned in the package (read on each request: two small files)."""
    from media_monitoring.quality.validate import load_suite

    suites = {}
    for name in SUITE_NAMES:
        try:
            suites[name] = load_suite(name)
        except Exception:  # noqa: BLE001 (the report still shows the stored counts)
            log.warning("expectation suite %s could not be read", name, exc_info=True)
    return suites


def _reasons(suites: dict[str, dict[str, Any]]) -> dict[str, str]:
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


def _suite_version(suite: dict[str, Any]) -> str:
    return str(suite.get("meta", {}).get("version", ""))


def _expectations(suites: dict[str, dict[str, Any]], run: dict[str, Any],
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
    suites = _suites()
    return _render(
        request, "quality.html", user=user_name(user), warehouse=wh.describe() if wh else source.url,
        backend=wh.backend if wh else None, runs=runs, runs_after=runs_after, quarantine=quarantine,
        q_after=q_after, open_count=open_count, count_cap=views.OPEN_QUARANTINE_COUNT_CAP,
        reasons=_reasons(suites), outlet_names=source.outlet_names,
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
    suites = _suites()
    suite_name, _, run_version = str(run["suite"]).partition(" ")
    return _render(
        request, "quality_run.html", user=user_name(user), run=run, outlets=outlets, quarantine=quarantine,
        q_after=q_after, expectations=_expectations(suites, run, outlets), reasons=_reasons(suites),
        run_suite=suite_name, run_version=run_version,
        current_versions={name: _suite_version(suite) for name, suite in suites.items()},
        units=SUITE_UNITS, outlet_names=source.outlet_names,
    )


# -- JSON API ------------------------------------------------------------------------------------


@app.get("/api/hits", name="api_hits")
def api_hits(request: Request, user: ApiUser) -> JSONResponse:
    hq = hit_query(request)
    page = _hits(sources.get(), hq)
    return _json({"articles": page.articles, "next": page.next_cursor.encode() if page.next_cursor else None,
                  "errors": hq.errors})


@app.get("/api/digests", name="api_digests")
def api_digests(request: Request, user: ApiUser) -> JSONResponse:
    from media_monitoring.warehouse import views

    source = sources.get()
    if "digest_sends" not in source.tables:
        return _json({"digests": [], "total": 0})
    limit = _int(request.query_params.get("limit", ""), views.DEFAULT_PAGE_SIZE, lo=1, hi=views.MAX_PAGE_SIZE)
    offset = _int(request.query_params.get("offset", "0"), 0, lo=0, hi=10**9)
    return _json({"digests": views.digest_sends(source.warehouse, limit=limit, offset=offset),
                  "total": views.digest_send_count(source.warehouse)})


@app.get("/api/feed-health", name="api_feed_health")
def api_feed_health(request: Request, user: ApiUser) -> JSONResponse:
    from media_monitoring.warehouse import views

    source = sources.get()
    if "feed_health" not in source.tables:
        return _json({"feeds": []})
    offset = _int(request.query_params.get("offset", "0"), 0, lo=0, hi=10**9)
    rows = views.feed_health(source.warehouse, offset=offset)
    drop = ("etag", "last_modified", "body_hash")  # cache validators: noise for a reader
    return _json({"feeds": [{k: v for k, v in r.items() if k not in drop} for r in rows]})


# -- the plugin ----------------------------------------------------------------------------------


class MediaMonitorPlugin(AirflowPlugin):
    name = "media_monitor"
    fastapi_apps = [{"app": app, "url_prefix": URL_PREFIX, "name": "Media Monitor"}]
    external_views = [{
        "name": "Media Monitor",
        # Relative: resolved against the Airflow UI's <base href>, so a base_url sub-path works too.
        "href": URL_PREFIX.lstrip("/") + "/",
        "destination": "nav",
        "url_route": "media-monitor",
        "icon": URL_PREFIX.lstrip("/") + "/static/icon.svg",
    }]
