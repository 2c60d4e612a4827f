"""Watchlists managed in the view: every term with its aliases, scripts, case rules, exclusions and version; a
change proposed, backtested over stored articles, then activated as a new version that the media_retag DAG
replays over a chosen period.

* ``GET /watchlists``: the watchlists in force, their terms (with precision from feedback), their versions
  (who, when, from where, the diff) and the proposals;
* ``GET /watchlists/propose?watchlist=W[&term=T]``: the form for a new term, or a change to term T;
* ``POST /watchlists/propose``: store the proposal (any analyst), then show it;
* ``GET /watchlists/proposals/{id}?start=&end=``: the proposal, its diff and its backtest over the period;
* ``POST /watchlists/proposals/{id}/activate`` (any analyst: analysts manage the watchlists): the new version,
  and a media_retag run queued over the replay period; ``.../withdraw``: close it unchanged.

Each POST goes through :mod:`media_monitoring_ui.writes` (login, CSRF token, validation, one audit row). Where
watchlists live and how watchlists.yaml feeds them: :mod:`media_monitoring.curation`.
"""

from __future__ import annotations

import logging
import unicodedata
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, HTTPException, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import ValidationError

from media_monitoring_ui.auth import HtmlUser, user_name
from media_monitoring_ui.feedback_routes import audited, prepare
from media_monitoring_ui.forms import parse_day
from media_monitoring_ui.present import render
from media_monitoring_ui.roles import ANALYST, product_role
from media_monitoring_ui.source import sources, watchlists_in_force
from media_monitoring_ui.writes import Write, WriteRefused, WriteRequest, token_for

log = logging.getLogger(__name__)

router = APIRouter()

RETAG_DAG = "media_retag"
DEFAULT_DAYS = 30  # the backtest's default period: the last 30 days of stored articles
EXACT_CASE = "="  # an alias line "=CSTO" matches only in that exact case


def script_of(text: str) -> str:
    """The script an alias is written in, for the terms table (Latin, Cyrillic, Arabic…)."""
    for ch in text:
        if ch.isalpha():
            return unicodedata.name(ch, "OTHER").split()[0].title()
    return "—"


def _lines(value: str) -> list[str]:
    return list(dict.fromkeys(line.strip() for line in value.splitlines() if line.strip()))


def alias_lines(term: Any) -> str:
    """A term's aliases as the form's textarea shows them: one a line, exact-case ones with a leading ``=``."""
    return "\n".join((EXACT_CASE if a.case_sensitive else "") + a.text for a in term.aliases)


def term_from_form(write: Write, current: Any) -> Any:
    """The :class:`~media_monitoring.config.Term` the form proposes. An alias kept from ``current`` (the term it
    changes) keeps its endings and inflection settings; a new one gets the defaults (a Cyrillic alias is matched
    in every case). Namesakes and anchors stay as they are."""
    from media_monitoring.config import Alias, Term

    keep = {a.text: a for a in current.aliases} if current is not None else {}
    aliases = []
    for line in _lines(write.value("aliases", required=False, max_chars=4000)):
        exact = line.startswith(EXACT_CASE)
        text = line.removeprefix(EXACT_CASE).strip()
        if len(text) > 200:
            raise ValueError(f"The alias “{text[:40]}…” is longer than 200 characters.")
        aliases.append(keep.get(text, Alias(text=text)).model_copy(update={"case_sensitive": exact}))
    if not aliases:
        raise ValueError("A term needs at least one alias.")
    return Term.model_validate({
        "name": write.value("name", max_chars=200), "aliases": [a.model_dump() for a in aliases],
        "exclude": _lines(write.form.get("exclude", "")), "priority": write.form.get("priority") == "1",
        "namesakes": list(current.namesakes) if current is not None else [],
        "anchors": list(current.anchors) if current is not None else []})


def _in_force(source: Any) -> dict[str, Any]:
    return {w.name: w for w in watchlists_in_force(source.warehouse).watchlists}


def _watchlist(lists: dict[str, Any], name: str) -> Any:
    if name not in lists:
        raise HTTPException(status.HTTP_404_NOT_FOUND,
                            f"There is no watchlist “{name}” (the watchlists: {', '.join(sorted(lists))}).")
    return lists[name]


@router.get("/watchlists", response_class=HTMLResponse, name="watchlists")
def watchlists_page(request: Request, user: HtmlUser) -> HTMLResponse:
    from media_monitoring.curation import watchlists as wl
    from media_monitoring.warehouse import feedback as fb

    source = sources.get()
    wh = prepare(source)
    lists = list(_in_force(source).values())
    precision = {}
    if "hit_feedback" in source.tables:
        terms = [(w.name, t.name) for w in lists for t in w.terms]
        precision = {(r.watchlist, r.term): r for r in fb.term_precision(wh, terms)}
    return render(request, "watchlists.html", user=user_name(user), role=product_role(user), watchlists=lists,
                  history={w.name: wl.history(wh, w.name) for w in lists}, precision=precision,
                  proposals=wl.list_proposals(wh), script_of=script_of)


@router.get("/watchlists/propose", response_class=HTMLResponse, name="watchlist_propose")
def propose_page(request: Request, user: HtmlUser, watchlist: str = "", term: str = "") -> HTMLResponse:
    source = sources.get()
    prepare(source)
    current = _watchlist(_in_force(source), watchlist)
    changing = next((t for t in current.terms if t.name == term), None) if term else None
    if term and changing is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"{watchlist} has no term “{term}”.")
    return _propose_form(request, user, current, changing, values=None, error=None)


def _propose_form(request: Request, user: Any, watchlist: Any, changing: Any, *, values: dict[str, str] | None,
                  error: str | None, status_code: int = 200) -> HTMLResponse:
    if values is None:
        values = {"name": changing.name if changing else "", "aliases": alias_lines(changing) if changing else "",
                  "exclude": "\n".join(changing.exclude) if changing else "",
                  "priority": "1" if changing is not None and changing.priority else "", "note": ""}
    return render(request, "watchlist_propose.html", status_code=status_code, user=user_name(user),
                  role=product_role(user), watchlist=watchlist, changing=changing, values=values, error=error,
                  csrf=token_for(user))


@router.post("/watchlists/propose", name="watchlist_propose_write")
def propose_write(request: Request, write: WriteRequest, user: HtmlUser) -> Any:
    """Store a proposal (a 400 with the form kept and what to fix when it is not valid), then show it."""
    from media_monitoring.curation import watchlists as wl
    from media_monitoring.warehouse import feedback as fb

    source = sources.get()
    wh = prepare(source)
    lists = _in_force(source)
    name, replaces = write.form.get("watchlist", ""), write.form.get("replaces", "") or None
    target = f"{name}/{replaces or write.form.get('name', '')}"[:300]
    asked = {k: write.form.get(k, "") for k in ("watchlist", "replaces", "name", "aliases", "exclude", "priority")}
    try:
        write.require(ANALYST, "propose a watchlist change")
        current = _watchlist(lists, name)
        changing = next((t for t in current.terms if t.name == replaces), None)
        try:
            term = term_from_form(write, changing)
        except ValidationError as exc:
            raise ValueError("; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}"
                                       for e in exc.errors())) from None
        except WriteRefused as exc:
            raise ValueError(str(exc.detail).removesuffix(" Nothing was changed.")) from None
        if found := wl.problems(current, term, replaces):
            raise ValueError(" ".join(found))
    except WriteRefused as exc:
        audited(wh, write, "watchlist.propose", target, fb.REFUSED, {**asked, "error": exc.detail})
        raise
    except ValueError as exc:
        audited(wh, write, "watchlist.propose", target, fb.INVALID, {**asked, "error": str(exc)})
        return _propose_form(request, user, current, changing, values=write.form, status_code=400,
                             error=f"{exc} Nothing was saved; correct the form and propose again.")
    note = write.value("note", required=False, max_chars=500)
    ids: list[int] = []
    audited(wh, write, "watchlist.propose", target, fb.DONE,
             {"watchlist": name, "base_version": current.version, "replaces": replaces,
              "term": wl.document(term), "note": note},
             also=lambda conn: ids.append(wl.propose(wh, conn, watchlist=current, term=term, replaces=replaces,
                                                     author=write.user, note=note, at=write.at)))
    log.info("%s proposed %s for %s (proposal %d)", write.user, term.name, name, ids[0])
    base = str(request.scope.get("root_path", "")).rstrip("/")
    return RedirectResponse(f"{base}/watchlists/proposals/{ids[0]}?notice=proposed", status_code=303)


def _period(wh: Any, start: str, end: str) -> tuple[date, date, str | None]:
    """The backtest's period from the query, else the last DEFAULT_DAYS days of stored articles."""
    from media_monitoring.warehouse import curation

    first, last = parse_day(start), parse_day(end)
    problem = None
    if (start and first is None) or (end and last is None):
        problem = "A date was not a day such as 2021-10-28; the default period is shown instead."
        first = last = None
    if last is None:
        newest = curation.published_span(wh)[1]
        last = newest.date() if newest is not None else date.today()
    first = first or last - timedelta(days=DEFAULT_DAYS - 1)
    if first > last:
        problem, first = "The period started after it ended; the default period is shown instead.", \
            last - timedelta(days=DEFAULT_DAYS - 1)
    return first, last, problem


@router.get("/watchlists/proposals/{proposal_id}", response_class=HTMLResponse, name="watchlist_proposal")
def proposal_page(request: Request, user: HtmlUser, proposal_id: int, start: str = "", end: str = "") -> HTMLResponse:
    from media_monitoring.curation import backtest
    from media_monitoring.curation import watchlists as wl

    source = sources.get()
    wh = prepare(source)
    proposal = wl.get_proposal(wh, proposal_id)
    if proposal is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"There is no proposal {proposal_id}.")
    current = _watchlist(_in_force(source), proposal.watchlist)
    changing = next((t for t in current.terms if t.name == proposal.replaces_term), None)
    first, last, problem = _period(wh, start, end)
    result, error = None, None
    if proposal.status == wl.OPEN:
        try:
            result = backtest.run(wh, current, proposal.applied_to(current, "proposed"), first, last)
        except ValueError as exc:
            error = str(exc)
    term_diff = wl.diff(wl.document(changing) if changing else None, wl.document(proposal.term),
                        f"{proposal.replaces_term or '(new term)'} in {current.version}", "proposed")
    return render(request, "watchlist_proposal.html", user=user_name(user), role=product_role(user),
                  proposal=proposal, current=current, term_diff=term_diff, result=result, start=first, end=last,
                  period_problem=problem or error, stale=proposal.base_version != current.version,
                  outlet_names=source.outlet_names, csrf=token_for(user))


def queue_replay(watchlist: str, start: date, end: date, user: str, version: str) -> dict[str, Any]:
    """Queue a media_retag run over [start, end] for ``watchlist``; what was queued, or why nothing was."""
    from airflow.api.common.trigger_dag import trigger_dag
    from airflow.utils.types import DagRunTriggeredByType

    conf = {"watchlist": watchlist, "start_date": start.isoformat(), "end_date": end.isoformat()}
    try:
        run = trigger_dag(RETAG_DAG, triggered_by=DagRunTriggeredByType.UI, triggering_user_name=user, conf=conf,
                          note=f"replay of {watchlist} {version}, activated in the Media Monitor view by {user}")
    except Exception as exc:  # noqa: BLE001 (the version is active either way: say why no replay was queued)
        log.warning("could not queue %s for %s: %s", RETAG_DAG, watchlist, exc)
        return {**conf, "error": f"{type(exc).__name__}: {exc}"}
    if run is None:
        return {**conf, "error": f"{RETAG_DAG} queued no run"}
    return {**conf, "run_id": run.run_id}


@router.post("/watchlists/proposals/{proposal_id}/{decision}", name="watchlist_decide")
def decide_write(request: Request, write: WriteRequest, proposal_id: int, decision: str) -> RedirectResponse:
    """Activate a proposal (a new version, and its replay queued) or withdraw it."""
    from media_monitoring.curation import watchlists as wl
    from media_monitoring.warehouse import curation
    from media_monitoring.warehouse import feedback as fb

    source = sources.get()
    wh = prepare(source)
    action = f"watchlist.{decision}"
    target = f"proposal {proposal_id}"
    base = str(request.scope.get("root_path", "")).rstrip("/")
    try:
        if decision not in ("activate", "withdraw"):
            raise WriteRefused(status.HTTP_404_NOT_FOUND, f"“{decision}” is not something a proposal can be.")
        write.require(ANALYST, f"{decision} a watchlist change")
        proposal = wl.get_proposal(wh, proposal_id)
        if proposal is None:
            raise WriteRefused(status.HTTP_400_BAD_REQUEST, f"There is no proposal {proposal_id}. Nothing was changed.")
        current = _watchlist(_in_force(source), proposal.watchlist)
        start, end = parse_day(write.form.get("start", "")), parse_day(write.form.get("end", ""))
        if decision == "activate" and (start is None or end is None or end < start):
            raise WriteRefused(status.HTTP_400_BAD_REQUEST, "The replay period needs a first and a last day "
                               "(YYYY-MM-DD), the first not after the last. Nothing was changed.")
        with wh.engine.begin() as conn:
            if decision == "withdraw":
                wl.withdraw(conn, proposal, author=write.user, at=write.at)
                row: dict[str, Any] = {}
            else:
                row = wl.activate(wh, conn, proposal, current=current, author=write.user, at=write.at)
    except wl.StaleProposal as exc:
        audited(wh, write, action, target, fb.INVALID, {"error": str(exc)})
        raise WriteRefused(status.HTTP_400_BAD_REQUEST, f"{exc} Nothing was changed.") from None
    except WriteRefused as exc:
        outcome = fb.REFUSED if exc.status_code == status.HTTP_403_FORBIDDEN else fb.INVALID
        audited(wh, write, action, target, outcome, {"error": exc.detail})
        raise
    if decision == "withdraw":
        audited(wh, write, action, target, fb.DONE, {"watchlist": proposal.watchlist, "term": proposal.term.name})
        return RedirectResponse(f"{base}/watchlists/proposals/{proposal_id}?notice=withdrawn", status_code=303)
    assert start is not None and end is not None
    replay = queue_replay(proposal.watchlist, start, end, write.user, row["version"])
    audited(wh, write, action, target, fb.DONE,
             {"watchlist": proposal.watchlist, "version": row["version"], "replaces": row["replaces"],
              "diff": row["diff"], "replay": replay},
             also=lambda conn: curation.record_replay(conn, proposal_id, replay))
    query = urlencode({"notice": "activated" if "run_id" in replay else "activated_no_replay"})
    return RedirectResponse(f"{base}/watchlists/proposals/{proposal_id}?{query}", status_code=303)

