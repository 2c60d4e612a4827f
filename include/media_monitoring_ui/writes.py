"""What every write of the view goes through: the logged-in user, a CSRF token, validated input, one audit row.

A write is an HTML form POSTed by the view's own pages. The user is the one the pages see
(:data:`media_monitoring_ui.auth.HtmlUser`); the form carries a CSRF token, an HMAC of the user's name under a
key derived from Airflow's JWT secret (``[api_auth] jwt_secret``, the same on every API-server worker), so a
page on another site cannot make the browser post one: the session cookie alone (SameSite or not) is not enough.
The token is checked before the form is read any further; a missing or wrong token is a 403 and changes nothing.

Bad input is a 400 with a message that says what to fix, and nothing is changed. Every request that gets past
the login and the token check leaves one row in the audit log, whatever its outcome (done, refused to the role,
invalid input): who, in which product role, what, on what.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from fastapi import Depends, HTTPException, Request, status

from media_monitoring_ui.auth import HtmlUser, user_name
from media_monitoring_ui.roles import may, product_role

log = logging.getLogger(__name__)

CSRF_FIELD = "csrf_token"
CSRF_CONTEXT = b"media-monitor csrf v1"  # derives the CSRF key from the JWT secret, never the secret itself
MAX_FORM_FIELDS = 80  # a subscription's form has a checkbox per watchlist and per region (two dozen regions)
MAX_FIELD_CHARS = 4000  # a watchlist term's alias list is the longest value a form sends
NOTICE_PARAM = "notice"  # the query parameter the page after a write shows its confirmation from


class WriteRefused(HTTPException):
    """A write that was not done: 400 (bad input), 403 (token or role); the detail says why."""


def csrf_key(secret: str) -> bytes:
    return hmac.new(secret.encode(), CSRF_CONTEXT, hashlib.sha256).digest()


def csrf_token(user: str, key: bytes) -> str:
    """The token the user's forms carry: the same on every page and worker until the secret changes."""
    return hmac.new(key, user.encode(), hashlib.sha256).hexdigest()


def csrf_valid(token: str, user: str, key: bytes) -> bool:
    return bool(token) and hmac.compare_digest(token, csrf_token(user, key))


def server_csrf_key() -> bytes:
    from airflow.configuration import conf

    return csrf_key(conf.get("api_auth", "jwt_secret"))


def token_for(user: Any) -> str:
    """The CSRF token for the logged-in ``user``, for the pages' forms."""
    return csrf_token(user_name(user), server_csrf_key())


def back_to(request: Request, back: str, notice: str) -> str:
    """Where to send the browser after a write: ``back`` (a page of this view, as the form gave it) with the
    confirmation ``notice``; the index page for anything else, so a form cannot redirect off the view."""
    base = str(request.scope.get("root_path", "")).rstrip("/")
    parts = urlsplit(back)
    local = not parts.scheme and not parts.netloc and parts.path.startswith(base + "/") \
        and not parts.path.startswith("//") and "\\" not in parts.path  # browsers read "/\host" as "//host"
    path = parts.path if local else base + "/"
    query = [(k, v) for k, v in parse_qsl(parts.query) if k != NOTICE_PARAM] + [(NOTICE_PARAM, notice)]
    return f"{path}?{urlencode(query)}" + (f"#{parts.fragment}" if parts.fragment else "")


@dataclass
class Write:
    """A write request that passed the login and the CSRF check: who asks, in which role, with which form."""

    user: str
    role: str
    form: dict[str, str]  # each field's (last) value
    lists: dict[str, list[str]] = field(default_factory=dict)  # every value of each field (checkboxes)
    at: datetime = field(default_factory=lambda: datetime.now(UTC))
    audited: bool = False

    def value(self, name: str, *, required: bool = True, max_chars: int = 200) -> str:
        value = self.form.get(name, "").strip()
        if required and not value:
            raise WriteRefused(status.HTTP_400_BAD_REQUEST, f"The form has no {name}. Nothing was changed.")
        if len(value) > max_chars:
            raise WriteRefused(status.HTTP_400_BAD_REQUEST,
                               f"The {name} is longer than {max_chars} characters. Nothing was changed.")
        return value

    def values(self, name: str, *, max_chars: int = 200) -> list[str]:
        """Every value of the field ``name`` (a group of checkboxes), stripped, without blanks or repeats."""
        values = list(dict.fromkeys(v.strip() for v in self.lists.get(name, []) if v.strip()))
        if any(len(v) > max_chars for v in values):
            raise WriteRefused(status.HTTP_400_BAD_REQUEST,
                               f"A {name} value is longer than {max_chars} characters. Nothing was changed.")
        return values

    def require(self, needed: str, action: str) -> None:
        """Refuse (403) a user whose role may not do ``action``."""
        if not may(self.role, needed):
            raise WriteRefused(status.HTTP_403_FORBIDDEN,
                               f"Only an {needed} may {action}; you are signed in as {self.user} "
                               f"({self.role}). Nothing was changed.")


async def write_request(request: Request, user: HtmlUser) -> Write:
    """Dependency of every POST route: the user, their role and the form, once its CSRF token checks out."""
    name = user_name(user)
    form = await request.form(max_files=0, max_fields=MAX_FORM_FIELDS)
    lists: dict[str, list[str]] = {}
    for key, value in form.multi_items():
        if isinstance(value, str):
            lists.setdefault(key, []).append(value)
    values = {k: v[-1] for k, v in lists.items()}
    if any(len(v) > MAX_FIELD_CHARS for vs in lists.values() for v in vs):
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "A form field is too long. Nothing was changed.")
    if not csrf_valid(values.get(CSRF_FIELD, ""), name, server_csrf_key()):
        log.warning("write refused: missing or wrong CSRF token for %s on %s", name, request.url.path)
        raise HTTPException(status.HTTP_403_FORBIDDEN,
                            "The form's security token is missing or wrong (a form from an old session or another "
                            "site): reload the page and try again. Nothing was changed.")
    return Write(user=name, role=product_role(user), form=values, lists=lists)


WriteRequest = Annotated[Write, Depends(write_request)]
