"""The view's writes and the feedback page.

* ``POST /feedback`` (any analyst): a verdict on a hit ("relevant", "not relevant", "wrong place") from the hits
  page, or "missed article" with the term that should have matched, from the hits or the search page;
* ``POST /quarantine/release`` (operators only): re-validate a quarantined article and store it if it passes (or
  store it anyway, ``force=1``), from the data-quality page (the product's own release, as ``media-monitor
  release [--force]`` runs it);
* ``GET /feedback``: precision from feedback per term, with its counts, and the newest audit rows.

Each POST goes through :mod:`media_monitoring_ui.writes` (login, CSRF token, validation, audit row) and answers
with a 303 back to the page it came from, with a confirmation there.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, HTTPException, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse

from media_monitoring_ui.auth import HtmlUser, user_name
from media_monitoring_ui.cursors import MAX_ARTICLE_ID
from media_monitoring_ui.present import render
from media_monitoring_ui.roles import ANALYST, OPERATOR, product_role
from media_monitoring_ui.source import Source, sources
from media_monitoring_ui.writes import Write, WriteRefused, WriteRequest, back_to, token_for

if TYPE_CHECKING:
    import sqlalchemy as sa

log = logging.getLogger(__name__)

router = APIRouter()

MAX_NOTE_CHARS = 500  # a sentence or two on why; the audit row keeps it too


def _warehouse(source: Source) -> Any:
    if source.warehouse is None or "articles" not in source.tables:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE,
                            "Nothing has been stored yet (run the media_ingest DAG): there is nothing to write to.")
    return source.warehouse


def validated_mark(conn: sa.Connection, write: Write, terms: Sequence[tuple[str, str]],
                   versions: dict[str, str]) -> Any:
    """The :class:`~media_monitoring.warehouse.feedback.Mark` the form asks for, or a 400 that says what is wrong.

    A verdict needs a hit of the term on the article (its rule version is the hit's); "missed" needs a
    configured term the article has no hit of (its rule version is the watchlist's current one).
    """
    from media_monitoring.warehouse import feedback as fb

    def bad(message: str) -> WriteRefused:
        return WriteRefused(status.HTTP_400_BAD_REQUEST, message + " Nothing was changed.")

    kind = write.value("kind", max_chars=20)
    if kind not in fb.KINDS:
        raise bad(f"“{kind}” is no kind of feedback: use one of {', '.join(fb.KIND_LABELS.values())}.")
    article_id = write.value("article", max_chars=MAX_ARTICLE_ID)
    term = write.value("term")
    watchlist = write.value("watchlist", required=False, max_chars=100)
    note = write.value("note", required=False, max_chars=MAX_NOTE_CHARS)
    if not fb.article_exists(conn, article_id):
        raise bad(f"No stored article has the id “{article_id}”.")
    matches = sorted({(w, t) for w, t in terms if t.casefold() == term.casefold() and watchlist in ("", w)})
    if kind == fb.MISSED:
        if not matches:
            known = ", ".join(sorted({t for _, t in terms})) or "none configured"
            raise bad(f"“{term}” is not a term of {'the watchlist ' + watchlist if watchlist else 'any watchlist'} "
                      f"(the terms: {known}).")
        if len({w for w, _ in matches}) > 1:
            raise bad(f"“{term}” is a term of several watchlists: say which one.")
        watchlist, term = matches[0]
        if fb.hit_version(conn, article_id, watchlist, term) is not None:
            raise bad(f"This article already has a hit of “{term}”: mark the hit instead.")
        version = versions.get(watchlist, "")
    else:
        candidates = matches or ([(watchlist, term)] if watchlist else [])  # a hit of a term since removed
        found = [(w, t, v) for w, t in candidates if (v := fb.hit_version(conn, article_id, w, t)) is not None]
        if not found:
            raise bad(f"This article has no hit of “{term}”{' in ' + watchlist if watchlist else ''}: only a hit "
                      "can be marked relevant, not relevant or wrong place (use “missed article” for a term that "
                      "should have matched).")
        watchlist, term, version = found[0]
    return fb.Mark(article_id=article_id, watchlist=watchlist, term=term, kind=kind, user_name=write.user,
                   rule_version=version, at=write.at, note=note)


def audited(wh: Any, write: Write, action: str, target: str, outcome: str, details: dict[str, Any],
             *, also: Any = None) -> None:
    """One transaction: ``also(conn)`` (the write itself, if any) and its audit row."""
    from media_monitoring.warehouse import feedback as fb

    with wh.engine.begin() as conn:
        if also is not None:
            also(conn)
        fb.audit(conn, at=write.at, user_name=write.user, role=write.role, action=action, target=target,
                 details=details, outcome=outcome)


def prepare(source: Source) -> Any:
    """The warehouse to write to, with the feedback tables in it (a warehouse made before them gets them)."""
    from media_monitoring.warehouse import feedback as fb

    wh = _warehouse(source)
    with wh.engine.begin() as conn:
        if fb.ensure_tables(conn):
            log.info("created the feedback tables in %s", wh.describe())
    source.tables.update(t.name for t in fb.FEEDBACK_TABLES)
    return wh


@router.post("/feedback", name="feedback_write")
def feedback_write(request: Request, write: WriteRequest) -> RedirectResponse:
    """Store an analyst's mark on a hit or an article, and go back to the page it was made on."""
    from media_monitoring.warehouse import feedback as fb

    source = sources.get()
    wh = prepare(source)
    asked = {k: v for k, v in write.form.items() if k in ("kind", "article", "watchlist", "term", "note")}
    target = f"{asked.get('article', '')}/{asked.get('term', '')}"[:300]
    try:
        write.require(ANALYST, "give feedback")
        with wh.engine.connect() as conn:
            mark = validated_mark(conn, write, source.terms, source.watchlist_versions)
    except WriteRefused as exc:
        outcome = fb.REFUSED if exc.status_code == status.HTTP_403_FORBIDDEN else fb.INVALID
        audited(wh, write, "feedback", target, outcome, {**asked, "error": exc.detail})
        raise
    audited(wh, write, "feedback", f"{mark.article_id}/{mark.term}", fb.DONE,
             {**asked, "watchlist": mark.watchlist, "term": mark.term, "rule_version": mark.rule_version},
             also=lambda conn: fb.record_mark(wh, conn, mark))
    log.info("%s marked %s %s on %s", write.user, mark.term, mark.kind, mark.article_id)
    notice = "missed" if mark.kind == fb.MISSED else "marked"
    return RedirectResponse(back_to(request, write.form.get("back", ""), notice), status_code=303)


@router.post("/quarantine/release", name="quarantine_release")
def quarantine_release(request: Request, write: WriteRequest) -> RedirectResponse:
    """Operators only: re-validate one quarantined article from its stored record and store it if it passes (with
    ``force=1``: store it whatever the checks say)."""
    from media_monitoring import pipeline
    from media_monitoring.settings import load_settings
    from media_monitoring.warehouse import articles as article_store
    from media_monitoring.warehouse import feedback as fb

    source = sources.get()
    wh = prepare(source)
    article_id = write.form.get("article", "").strip()[:MAX_ARTICLE_ID + 1]
    try:
        write.require(OPERATOR, "release an article from quarantine")
        write.value("article", max_chars=MAX_ARTICLE_ID)
        held = {r["article_id"] for r in article_store.quarantined(wh, include_released=False)
                if r["article_id"] == article_id}
        if not held:
            raise WriteRefused(status.HTTP_400_BAD_REQUEST,
                               f"No article with the id “{article_id}” is in quarantine (already released?). "
                               "Nothing was changed.")
    except WriteRefused as exc:
        outcome = fb.REFUSED if exc.status_code == status.HTTP_403_FORBIDDEN else fb.INVALID
        audited(wh, write, "quarantine.release", article_id, outcome, {"error": exc.detail})
        raise
    force = write.form.get("force") == "1"  # "store it anyway", as ``media-monitor release --force``
    result = pipeline.release([article_id], settings=load_settings(), warehouse=wh, force=force, now=write.at)
    released = article_id in result["released"]
    audited(wh, write, "quarantine.release", article_id, fb.DONE, {"force": force, "result": result})
    log.info("%s released %s from quarantine: %s", write.user, article_id, "stored" if released else "still failing")
    return RedirectResponse(back_to(request, write.form.get("back", ""), "released" if released else "still_failing"),
                            status_code=303)


@router.get("/feedback", response_class=HTMLResponse, name="feedback")
def feedback_page(request: Request, user: HtmlUser) -> HTMLResponse:
    """Precision from feedback per term (with the counts it is read from) and the newest audit rows."""
    from media_monitoring.warehouse import feedback as fb

    source = sources.get()
    wh, tables = source.warehouse, source.tables
    ready = wh is not None and {"watchlist_hits", "hit_feedback", "audit_log"} <= tables
    rows = fb.term_precision(wh, source.terms) if ready else []
    audit = fb.audit_page(wh) if ready else []
    return render(request, "feedback.html", user=user_name(user), role=product_role(user), rows=rows, audit=audit,
                  ready=ready, kind_labels=fb.KIND_LABELS, csrf=token_for(user))
