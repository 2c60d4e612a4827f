"""Who may see the Media Monitor: Airflow's own users, through the token Airflow's UI holds.

Airflow mounts plugin apps without any authentication, so every route depends on :func:`html_user`
(pages: no valid token means a redirect to Airflow's login page) or :func:`api_user` (JSON: 401/403).
An explicit ``Authorization: Bearer`` header wins, else the ``_token`` cookie, as the core API reads
them; the configured auth manager validates it (signature, expiry, revocation), and the user must be
allowed to see the Airflow UI (``AccessView.WEBSITE``). Airflow's security imports are deferred to the
first request: the scheduler and workers also import plugins.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import Depends, HTTPException, Request, status

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
