"""The watchlists in force, their versions, and changes proposed in the view (see :mod:`media_monitoring.curation`).

A proposal changes one term of one watchlist (a new term, or new aliases, exclusions or flags of an existing
one). It is written against the version in force and can only be activated while that version is still in force;
activating it stores the watchlist with the changed term as a new version, with the diff.
"""

from __future__ import annotations

import difflib
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
import yaml

from media_monitoring.config import Term, Watchlist, Watchlists, load_watchlists
from media_monitoring.settings import Settings
from media_monitoring.warehouse import Warehouse
from media_monitoring.warehouse import curation as store

log = logging.getLogger(__name__)

FILE, VIEW = "file", "view"  # where a version came from
OPEN, ACTIVATED, WITHDRAWN = "open", "activated", "withdrawn"  # a proposal's status


class StaleProposal(ValueError):
    """The watchlist changed since the proposal was written: it must be proposed again on the new version."""


def document(model: Watchlist | Term) -> dict[str, Any]:
    """A watchlist or a term as watchlists.yaml writes it (defaults left out)."""
    return model.model_dump(mode="json", exclude_defaults=True)


def yaml_text(doc: Any) -> str:
    return yaml.safe_dump(doc, allow_unicode=True, sort_keys=False, width=1000)


def diff(old: dict[str, Any] | None, new: dict[str, Any], old_label: str, new_label: str) -> str:
    """A unified diff of two watchlist (or term) documents as YAML; everything added when there is no ``old``."""
    before = yaml_text(old).splitlines(keepends=True) if old is not None else []
    return "".join(difflib.unified_diff(before, yaml_text(new).splitlines(keepends=True), old_label, new_label))


def _current(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The newest row of each watchlist (``rows`` oldest first)."""
    newest: dict[str, dict[str, Any]] = {}
    for row in rows:
        newest[row["watchlist"]] = row
    return newest


def import_file(wh: Warehouse, conn: sa.Connection, file: Watchlists, source_name: str, now: datetime) -> list[str]:
    """Store each watchlist version of the file that the warehouse does not have yet; returns what was imported."""
    rows = store.watchlist_versions(conn)
    known = {(r["watchlist"], r["version"]): r for r in rows}
    current = _current(rows)
    imported = []
    for watchlist in file.watchlists:
        stored = known.get((watchlist.name, watchlist.version))
        if stored is not None:
            if Watchlist.model_validate(stored["document"]) != watchlist:
                log.warning("%s: watchlist %r changed but still says version %s, which is already stored with "
                            "other content; the file's change is ignored until its version is bumped",
                            source_name, watchlist.name, watchlist.version)
            continue
        base = current.get(watchlist.name)
        doc = document(watchlist)
        store.add_watchlist_version(wh, conn, {
            "watchlist": watchlist.name, "version": watchlist.version, "at": now, "source": FILE,
            "author": source_name, "document": doc, "replaces": base["version"] if base else None,
            "diff": diff(base["document"] if base else None, doc, base["version"] if base else "(none)",
                         watchlist.version),
            "note": f"imported from {source_name}"})
        imported.append(f"{watchlist.name} {watchlist.version}")
        if base is not None and base["source"] == VIEW:
            log.warning("%s: watchlist %r version %s replaces version %s, made in the view by %s; that version "
                        "stays in the history (media-monitor watchlists history %s)", source_name, watchlist.name,
                        watchlist.version, base["version"], base["author"], watchlist.name)
        log.info("imported watchlist %r version %s from %s", watchlist.name, watchlist.version, source_name)
    return imported


def in_force(settings: Settings, warehouse: Warehouse) -> Watchlists:
    """The watchlists in force: the newest stored version of each, after importing what is new in the file."""
    file = load_watchlists(settings.watchlists_file)
    with warehouse.engine.begin() as conn:
        # the clock, not a run's logical time: versions are ordered by when they were stored
        import_file(warehouse, conn, file, settings.watchlists_file.name, datetime.now(UTC))
        current = _current(store.watchlist_versions(conn))
    order = [w.name for w in file.watchlists] + sorted(set(current) - {w.name for w in file.watchlists})
    return Watchlists(watchlists=tuple(Watchlist.model_validate(current[name]["document"]) for name in order))


def history(warehouse: Warehouse, name: str) -> list[dict[str, Any]]:
    """Every version of watchlist ``name``, newest first, each with its diff from the one before."""
    with warehouse.engine.connect() as conn:
        return list(reversed(store.watchlist_versions(conn, name)))


# -- proposals -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Proposal:
    id: int
    watchlist: str
    base_version: str
    term: Term
    replaces_term: str | None  # the term it changes; None: a new term
    note: str
    author: str
    at: datetime
    status: str
    decided_by: str | None
    decided_at: datetime | None
    activated_version: str | None
    replay: dict[str, Any] | None = None  # the media_retag run queued on activation (or why none was)

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Proposal:
        return cls(id=row["id"], watchlist=row["watchlist"], base_version=row["base_version"],
                   term=Term.model_validate(row["document"]), replaces_term=row["replaces_term"], note=row["note"],
                   author=row["author"], at=row["at"], status=row["status"], decided_by=row["decided_by"],
                   decided_at=row["decided_at"], activated_version=row["activated_version"],
                   replay=row.get("replay"))

    def applied_to(self, watchlist: Watchlist, version: str) -> Watchlist:
        """``watchlist`` with this proposal's term in place of the one it changes (or added), as ``version``."""
        terms = list(watchlist.terms)
        at = next((i for i, t in enumerate(terms) if t.name == self.replaces_term), None)
        if at is None:
            terms.append(self.term)
        else:
            terms[at] = self.term
        return watchlist.model_copy(update={"terms": tuple(terms), "version": version})


def problems(watchlist: Watchlist, term: Term, replaces: str | None) -> list[str]:
    """What is wrong with proposing ``term`` for ``watchlist`` (in place of ``replaces``), in words for the form."""
    found = []
    names = {t.name.casefold() for t in watchlist.terms if t.name != replaces}
    if replaces is not None and replaces not in {t.name for t in watchlist.terms}:
        found.append(f"{watchlist.name} has no term “{replaces}” to change.")
    if term.name.casefold() in names:
        found.append(f"{watchlist.name} already has a term “{term.name}”: change that term instead.")
    texts = [a.text.casefold() for a in term.aliases]
    if duplicates := sorted({t for t in texts if texts.count(t) > 1}):
        found.append("Each alias once: " + ", ".join(f"“{t}”" for t in duplicates) + " appear twice.")
    excluded = {x.casefold() for x in term.exclude}
    if same := sorted(excluded & set(texts)):
        found.append("An alias cannot also be an exclusion: " + ", ".join(f"“{t}”" for t in same) + ".")
    if replaces is not None:
        old = next(t for t in watchlist.terms if t.name == replaces)
        if old == term:
            found.append(f"The proposal is the same as the term “{replaces}” in force: nothing would change.")
    return found


def propose(warehouse: Warehouse, conn: sa.Connection, *, watchlist: Watchlist, term: Term, replaces: str | None,
            author: str, note: str, at: datetime) -> int:
    """Store a proposal against ``watchlist`` (the version in force); returns its id."""
    return store.add_proposal(conn, {
        "watchlist": watchlist.name, "base_version": watchlist.version, "term": term.name,
        "replaces_term": replaces, "document": document(term), "note": note, "author": author, "at": at,
        "status": OPEN})


def get_proposal(warehouse: Warehouse, proposal_id: int) -> Proposal | None:
    with warehouse.engine.connect() as conn:
        row = store.proposal(conn, proposal_id)
    return Proposal.from_row(row) if row is not None else None


def list_proposals(warehouse: Warehouse, status: str | None = None) -> list[Proposal]:
    with warehouse.engine.connect() as conn:
        return [Proposal.from_row(r) for r in store.proposals(conn, status)]


def next_version(taken: set[str], at: datetime) -> str:
    """A new version name for a change made in the view: the day, then a count (``2026.12.07.1``)."""
    n = 1
    while f"{at:%Y.%m.%d}.{n}" in taken:
        n += 1
    return f"{at:%Y.%m.%d}.{n}"


def activate(warehouse: Warehouse, conn: sa.Connection, proposal: Proposal, *, current: Watchlist, author: str,
             at: datetime) -> dict[str, Any]:
    """Store ``proposal`` applied to ``current`` (the version in force) as the new version, in ``conn``'s
    transaction, and close the proposal. Returns the new version's row (with its diff).

    Raises :class:`StaleProposal` when the proposal is no longer open or was written against another version."""
    if proposal.status != OPEN:
        raise StaleProposal(f"Proposal {proposal.id} is {proposal.status} already.")
    if current.version != proposal.base_version:
        raise StaleProposal(f"{current.name} is at version {current.version} now; the proposal was written against "
                            f"{proposal.base_version}. Propose the change again on the version in force.")
    taken = {r["version"] for r in store.watchlist_versions(conn, current.name)}
    version = next_version(taken, at)
    new = proposal.applied_to(current, version)
    before, after = document(current), document(new)
    row = {"watchlist": current.name, "version": version, "at": at, "source": VIEW, "author": author,
           "document": after, "replaces": current.version, "diff": diff(before, after, current.version, version),
           "note": proposal.note, "proposal_id": proposal.id}
    if not store.decide_proposal(conn, proposal.id, status=ACTIVATED, by=author, at=at, version=version):
        raise StaleProposal(f"Proposal {proposal.id} was decided by someone else meanwhile.")
    store.add_watchlist_version(warehouse, conn, row)
    log.info("%s activated proposal %d: watchlist %r version %s (was %s)", author, proposal.id, current.name,
             version, current.version)
    return row


def withdraw(conn: sa.Connection, proposal: Proposal, *, author: str, at: datetime) -> None:
    if proposal.status != OPEN or not store.decide_proposal(conn, proposal.id, status=WITHDRAWN, by=author, at=at):
        raise StaleProposal(f"Proposal {proposal.id} is not open (it is {proposal.status}).")


def export(watchlists: Watchlists) -> str:
    """The watchlists as a watchlists.yaml file."""
    return ("# Exported from the warehouse (media-monitor watchlists export): the versions in force.\n"
            + yaml_text({"watchlists": [document(w) for w in watchlists.watchlists]}))
