"""The subscriptions in force: analysts.yaml's, with the versions saved in the view (see
:mod:`media_monitoring.curation`).

A subscription's entry in analysts.yaml is imported as its newest version when the warehouse has never imported
that exact entry before (a reviewed change to the file wins on the next deploy); otherwise the newest stored
version is in force, so an analyst's edit in the view holds across redeploys. Which subscriptions exist is the
file's to say: the view edits them (never their name), and one removed from the file is gone, its history kept.
"""

from __future__ import annotations

import hashlib
import json
import logging
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
import yaml

from media_monitoring.config import Analysts, Subscription, load_analysts
from media_monitoring.settings import Settings
from media_monitoring.warehouse import Warehouse
from media_monitoring.warehouse import curation as store

log = logging.getLogger(__name__)

FILE, VIEW = "file", "view"


def document(subscription: Subscription) -> dict[str, Any]:
    return subscription.model_dump(mode="json")


def content_hash(doc: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(doc, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def diff(old: dict[str, Any] | None, new: dict[str, Any]) -> str:
    """The fields that changed, one ``field: old → new`` per line."""
    old = old or {}
    lines = []
    for key in dict.fromkeys([*old, *new]):
        if old.get(key) != new.get(key):
            lines.append(f"{key}: {_show(old.get(key))} → {_show(new.get(key))}")
    return "\n".join(lines)


def _show(value: Any) -> str:
    return "—" if value is None else yaml.safe_dump(value, allow_unicode=True, default_flow_style=True,
                                                    width=1000).strip().removesuffix("...").strip()


def _newest(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    newest: dict[str, dict[str, Any]] = {}
    for row in rows:
        newest[row["name"]] = row
    return newest


def import_file(conn: sa.Connection, file: Analysts, source_name: str, now: datetime) -> list[str]:
    """Store each subscription entry of the file the warehouse has not imported before; returns their names."""
    rows = store.subscription_versions(conn)
    from_file = {(r["name"], r["content_hash"]) for r in rows if r["source"] == FILE}
    newest = _newest(rows)
    imported = []
    for sub in file.subscriptions:
        doc = document(sub)
        digest = content_hash(doc)
        if (sub.name, digest) in from_file:
            continue
        base = newest.get(sub.name)
        store.add_subscription_version(conn, {
            "name": sub.name, "at": now, "source": FILE, "author": source_name, "document": doc,
            "content_hash": digest, "diff": diff(base["document"] if base else None, doc)})
        imported.append(sub.name)
        if base is not None and base["source"] == VIEW:
            log.warning("%s: the subscription %r changed in the file and replaces the version saved in the view by "
                        "%s at %s", source_name, sub.name, base["author"], base["at"])
    return imported


def in_force(settings: Settings, warehouse: Warehouse) -> Analysts:
    """analysts.yaml's subscriptions, each in its newest stored version, after importing what is new in the file."""
    file = load_analysts(settings.analysts_file)
    with warehouse.engine.begin() as conn:
        # the clock, not a run's logical time: versions are ordered by when they were stored
        import_file(conn, file, settings.analysts_file.name, datetime.now(UTC))
        newest = _newest(store.subscription_versions(conn))
    subs = tuple(Subscription.model_validate(newest[s.name]["document"]) for s in file.subscriptions)
    return file.model_copy(update={"subscriptions": subs})


def save(conn: sa.Connection, subscription: Subscription, *, previous: Subscription, author: str,
         at: datetime) -> dict[str, Any]:
    """Store ``subscription`` as the newest version of ``previous`` (the one in force); returns the row."""
    doc = document(subscription)
    changes = diff(document(previous), doc)
    row = {"name": subscription.name, "at": at, "source": VIEW, "author": author, "document": doc,
           "content_hash": content_hash(doc), "diff": changes}
    store.add_subscription_version(conn, row)
    log.info("%s saved the subscription %r: %s", author, subscription.name, changes.replace("\n", "; "))
    return row


def history(warehouse: Warehouse, name: str) -> list[dict[str, Any]]:
    """Every version of subscription ``name``, newest first."""
    with warehouse.engine.connect() as conn:
        return list(reversed(store.subscription_versions(conn, name)))
