"""Subscriptions in the view: an analyst edits their own, an operator anyone's; a change takes effect at the next
digest.

* ``GET /subscriptions``: every subscription in force (analysts.yaml's, each in its newest stored version: see
  :mod:`media_monitoring.curation.subscriptions`), with when its next digest goes out and its recent history
  (who changed what, when, from the file or the view); an edit form for each one the user may change, the
  others read-only;
* ``POST /subscriptions/save`` (one of the subscription's ``owners``, or an operator): its address,
  watchlists, regions of interest, regions mode, timezone and digest time, stored as its newest version with
  the diff from the one before.

The name, ``owners`` and ``alerts`` of a subscription are analysts.yaml's: the view keeps them as they are in
force. Who may edit a subscription is a reviewed change to the file, never something granted in the view. The
digest and the priority alerts read the subscriptions in force at each run, so a saved change takes effect at
the subscription's next digest.

Each POST goes through :mod:`media_monitoring_ui.writes` (login, CSRF token, validation, one audit row). Bad
input is a 400: the page again, with the form as it was sent and what to fix, and nothing stored. A form opened
before someone else saved the same subscription is refused (409), so no change is overwritten unseen.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, available_timezones

from fastapi import APIRouter, HTTPException, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from media_monitoring_ui.auth import HtmlUser, user_name
from media_monitoring_ui.feedback_routes import audited
from media_monitoring_ui.present import render
from media_monitoring_ui.roles import ANALYST, OPERATOR, may, product_role
from media_monitoring_ui.source import Source, sources, watchlists_in_force
from media_monitoring_ui.writes import Write, WriteRefused, WriteRequest, back_to, token_for

if TYPE_CHECKING:
    from media_monitoring.config import Subscription
    from media_monitoring.settings import Settings
    from media_monitoring.warehouse import Warehouse

log = logging.getLogger(__name__)

router = APIRouter()

ACTION = "subscription.save"  # the audit log's action for every save asked of the view
HISTORY_ROWS = 10  # the newest versions shown under each subscription
MAX_NAME_CHARS = 200  # subscription_versions.name
MAX_EMAIL_CHARS = 254  # the longest address SMTP carries (RFC 5321)
MAX_TIMEZONE_CHARS = 64  # the longest IANA names are about 30
MAX_CHOICE_CHARS = 100  # a watchlist or region name
LISTS = ("watchlists", "regions")  # the fields sent as groups of checkboxes
EDITABLE = ("email", "watchlists", "regions", "regions_mode", "timezone", "digest_time")
LABELS = {"email": "Address", "watchlists": "Watchlists", "regions": "Regions of interest",
          "regions_mode": "Regions mode", "timezone": "Time zone", "digest_time": "Digest time"}
SOURCES = {"file": "the file", "view": "the view"}  # where a version came from, as the history says it
# The form suggests the Area/Location names (any name zoneinfo knows is accepted), not aliases like "W-SU"
ZONES = ("UTC", *sorted(z for z in available_timezones() if "/" in z and not z.startswith(("Etc/", "SystemV/"))))


@dataclass(frozen=True)
class Choices:
    """What a subscription may name: the watchlists in force, regions.yaml's groupings, the UN M49 sub-regions
    (the regions articles are tagged with)."""

    watchlists: tuple[str, ...]
    groups: tuple[str, ...]
    m49: tuple[str, ...]

    @property
    def regions(self) -> tuple[str, ...]:
        return self.groups + self.m49


def may_edit(user: str, role: str, subscription: Subscription) -> bool:
    """An operator may edit every subscription, an analyst those that name them among their ``owners``."""
    return may(role, OPERATOR) or (may(role, ANALYST) and user in subscription.owners)


def _names(values: list[str]) -> str:
    return ", ".join(f"“{v}”" for v in values)


def _problem(error: Any) -> str:
    """One pydantic error as the form's field and what to fix."""
    field = str(error["loc"][0]) if error.get("loc") else ""
    message = str(error["msg"]).removeprefix("Value error, ")
    given = error.get("input")
    if isinstance(given, str) and given not in message:
        message += f" (the form gave “{given}”)"
    return f"{LABELS.get(field, field or 'The form')}: {message}."


def _in_order(chosen: list[str], before: tuple[str, ...]) -> list[str]:
    """``chosen`` with those kept from ``before`` in their order, the new ones after: the form's own order is no
    change."""
    return [x for x in before if x in chosen] + [x for x in chosen if x not in before]


def edited(write: Write, previous: Subscription, choices: Choices) -> Subscription:
    """The subscription the form asks for (``previous`` with the form's fields), or a 400 that says what to fix.

    A watchlist or region already in ``previous`` may stay even if it is no longer offered (the form shows it).
    """
    from media_monitoring.config import Subscription
    from media_monitoring.curation.subscriptions import document

    def bad(message: str) -> WriteRefused:
        return WriteRefused(status.HTTP_400_BAD_REQUEST, message + " Nothing was changed.")

    watchlists = write.values("watchlists", max_chars=MAX_CHOICE_CHARS)
    if unknown := [w for w in watchlists if w not in choices.watchlists and w not in previous.watchlists]:
        raise bad(f"Watchlists: no watchlist in force is named {_names(unknown)} (the watchlists: "
                  f"{', '.join(choices.watchlists) or 'none'}).")
    if not watchlists:
        raise bad("Watchlists: choose at least one (a digest of no watchlist would always be empty).")
    regions = write.values("regions", max_chars=MAX_CHOICE_CHARS)
    if unknown := [r for r in regions if r not in choices.regions and r not in previous.regions]:
        raise bad(f"Regions of interest: {_names(unknown)} is no region articles are tagged with (choose "
                  "regions.yaml's groupings or UN M49 sub-regions).")
    fields = {
        "email": write.value("email", required=False, max_chars=MAX_EMAIL_CHARS),
        "watchlists": _in_order(watchlists, previous.watchlists),
        "regions": _in_order(regions, previous.regions),
        "regions_mode": write.value("regions_mode", required=False, max_chars=10),
        "timezone": write.value("timezone", required=False, max_chars=MAX_TIMEZONE_CHARS),
        "digest_time": write.value("digest_time", required=False, max_chars=10),
    }
    try:
        return Subscription.model_validate({**document(previous), **fields})
    except ValidationError as exc:
        raise bad(" ".join(_problem(e) for e in exc.errors())) from None


def _prepare(source: Source) -> Warehouse:
    """The warehouse subscriptions are stored in, with the curation tables and the audit log in it (a warehouse
    made before them gets them)."""
    from media_monitoring.warehouse import curation
    from media_monitoring.warehouse import feedback as fb

    wh = source.warehouse
    if wh is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE,
                            "Nothing has been stored yet (run the media_ingest DAG): subscriptions are edited in the "
                            "warehouse, and there is none yet.")
    with wh.engine.begin() as conn:
        created = curation.ensure_tables(conn)
        created = fb.ensure_tables(conn) or created
    if created:
        log.info("created the curation and audit tables in %s", wh.describe())
    source.tables.update(t.name for t in (*curation.CURATION_TABLES, *fb.FEEDBACK_TABLES))
    return wh


def _choices(settings: Settings, wh: Warehouse) -> Choices:
    from media_monitoring.config import load_regions
    from media_monitoring.tagging.gazetteer import m49_subregions

    groups = tuple(g.name for g in load_regions(settings.regions_file).groups)
    return Choices(watchlists=tuple(w.name for w in watchlists_in_force(wh).watchlists), groups=groups,
                   m49=tuple(r for r in m49_subregions() if r not in groups))


def _anchor(name: str) -> str:
    return "subscription-" + (re.sub(r"[^a-z0-9]+", "-", name.casefold()).strip("-") or "x")


def _card(wh: Warehouse, sub: Subscription, choices: Choices, *, editable: bool, now: datetime,
          draft: dict[str, Any] | None, error: str | None) -> dict[str, Any]:
    """What the page shows of one subscription: its values (or the form as sent, after a 400), the choices,
    its next digest, its newest versions."""
    from media_monitoring.curation import subscriptions as store
    from media_monitoring.digest.windows import next_slot

    values = {**store.document(sub), **(draft or {})}
    history = store.history(wh, sub.name)
    upcoming = next_slot(sub, now)
    return {
        "sub": sub, "anchor": _anchor(sub.name), "editable": editable, "form": values, "error": error,
        "version": history[0]["id"] if history else "", "history": history[:HISTORY_ROWS],
        "versions": len(history), "next": upcoming,
        "next_local": f"{upcoming.astimezone(ZoneInfo(sub.timezone)):%a %d %b %Y, %H:%M} {sub.timezone}",
        "watchlists": [*choices.watchlists, *(w for w in values["watchlists"] if w not in choices.watchlists)],
        "groups": choices.groups, "m49": choices.m49,
        "other_regions": [r for r in values["regions"] if r not in choices.regions],
    }


def _page(request: Request, user: Any, role: str, *, status_code: int = 200, draft: tuple[str, dict[str, Any]] | None
          = None, error: str | None = None) -> HTMLResponse:
    from media_monitoring.curation import subscriptions as store
    from media_monitoring.settings import load_settings

    wh = _prepare(sources.get())
    settings = load_settings()
    name = user_name(user)
    choices = _choices(settings, wh)
    now = datetime.now(UTC)
    cards = []
    for sub in store.in_force(settings, wh).subscriptions:
        drafted = draft is not None and draft[0] == sub.name
        cards.append(_card(wh, sub, choices, editable=may_edit(name, role, sub), now=now,
                           draft=draft[1] if draft is not None and drafted else None,
                           error=error if drafted else None))
    cards.sort(key=lambda c: not c["editable"])  # one's own first
    return render(request, "subscriptions.html", status_code=status_code, user=name, role=role,
                  operator=may(role, OPERATOR), cards=cards, csrf=token_for(user), labels=LABELS,
                  sources=SOURCES, zones=ZONES)


@router.get("/subscriptions", response_class=HTMLResponse, name="subscriptions")
def subscriptions_page(request: Request, user: HtmlUser) -> HTMLResponse:
    """The subscriptions in force: an edit form for each the user may change, the others read-only."""
    return _page(request, user, product_role(user))


@router.post("/subscriptions/save", name="subscription_save")
def subscription_save(request: Request, user: HtmlUser, write: WriteRequest) -> Response:
    """Store the form as the subscription's newest version (it takes effect at its next digest), and go back."""
    from media_monitoring.curation import subscriptions as store
    from media_monitoring.settings import load_settings
    from media_monitoring.warehouse import feedback as fb

    wh = _prepare(sources.get())
    settings = load_settings()
    name = write.form.get("name", "").strip()[:MAX_NAME_CHARS]
    asked: dict[str, Any] = {k: write.lists.get(k, []) if k in LISTS else write.form.get(k, "") for k in EDITABLE}
    previous = None
    try:
        write.require(ANALYST, "change a subscription")
        previous = next((s for s in store.in_force(settings, wh).subscriptions if s.name == name), None)
        if previous is None:
            raise WriteRefused(status.HTTP_400_BAD_REQUEST,
                               f"No subscription is named “{name}” (a subscription is added or renamed in "
                               "analysts.yaml). Nothing was changed.")
        if not may_edit(write.user, write.role, previous):
            owners = ", ".join(previous.owners) or "nobody (no owners in analysts.yaml)"
            raise WriteRefused(status.HTTP_403_FORBIDDEN,
                               f"Only an operator may change another analyst's subscription: {name} belongs to "
                               f"{owners}; you are signed in as {write.user} ({write.role}). Nothing was changed.")
        [current, *_] = store.history(wh, name)
        if write.form.get("version", "").strip() not in ("", str(current["id"])):
            raise WriteRefused(status.HTTP_409_CONFLICT,
                               f"{name} was changed by {current['author']} ({SOURCES.get(current['source'], '')}) "
                               "since this form was opened: reload the page to see that change, then edit again. "
                               "Nothing was changed.")
        subscription = edited(write, previous, _choices(settings, wh))
    except WriteRefused as exc:
        outcome = fb.REFUSED if exc.status_code == status.HTTP_403_FORBIDDEN else fb.INVALID
        audited(wh, write, ACTION, name, outcome, {**asked, "error": exc.detail})
        if exc.status_code == status.HTTP_400_BAD_REQUEST and previous is not None:
            return _page(request, user, write.role, status_code=exc.status_code, draft=(name, asked),
                         error=str(exc.detail))
        raise
    back = write.form.get("back", "")
    change = store.diff(store.document(previous), store.document(subscription))
    if not change:
        audited(wh, write, ACTION, name, fb.DONE, {"diff": "", "unchanged": True})
        return RedirectResponse(back_to(request, back, "subscription_unchanged"), status_code=303)
    audited(wh, write, ACTION, name, fb.DONE, {"diff": change},
            also=lambda conn: store.save(conn, subscription, previous=previous, author=write.user, at=write.at))
    return RedirectResponse(back_to(request, back, "subscription_saved"), status_code=303)
