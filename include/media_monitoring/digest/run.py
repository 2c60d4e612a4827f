"""The digest DAG's two steps: compose each due subscription's digest, then send every digest not yet sent."""

from __future__ import annotations

import logging
from datetime import date, datetime
from typing import Any

from media_monitoring.config import Analysts, load_registry
from media_monitoring.curation import subscriptions as subscription_store
from media_monitoring.curation import watchlists as watchlist_store
from media_monitoring.digest import compose as composer
from media_monitoring.digest.deliver import SmtpSend, build_message, deliver, envelope_sender
from media_monitoring.digest.render import render_digest
from media_monitoring.digest.windows import Edition, day_edition, scheduled_edition, since
from media_monitoring.settings import Settings
from media_monitoring.warehouse import Warehouse
from media_monitoring.warehouse import digests as store

log = logging.getLogger(__name__)


class DigestDeliveryError(RuntimeError):
    """Some subscriptions' digests could not be sent; the others were."""


def due_editions(analysts: Analysts, wh: Warehouse, now: datetime, day: date | None = None) -> list[Edition]:
    """The digests to compose now: each subscription's latest slot without a digest, or with ``day``, that
    local day's digest for every subscription that does not have it yet."""
    editions = []
    for sub in analysts.subscriptions:
        if day is not None:
            edition = day_edition(sub, day)
            if store.digest(wh, sub.name, day) is None:
                editions.append(edition)
            continue
        scheduled = scheduled_edition(wh, sub, now)
        if scheduled is not None:
            editions.append(scheduled)
    return editions


def compose_digests(*, settings: Settings, warehouse: Warehouse, run_id: str, now: datetime,
                    day: date | None = None) -> list[dict[str, Any]]:
    """Compose and store every due digest (a digest composed before stays as it was: frozen).

    Raises:
        ConfigError: analysts.yaml or watchlists.yaml is invalid (file, line and field named).
        ValueError: a subscription names a watchlist that does not exist.
    """
    analysts = subscription_store.in_force(settings, warehouse)
    watchlists = {w.name: w for w in watchlist_store.in_force(settings, warehouse).watchlists}
    unknown = {s.name: [w for w in s.watchlists if w not in watchlists] for s in analysts.subscriptions}
    unknown = {name: missing for name, missing in unknown.items() if missing}
    if unknown:
        raise ValueError(f"unknown watchlist(s) in subscriptions: {unknown}; the watchlists in force are "
                         f"{sorted(watchlists)} (fix {settings.analysts_file.name} or the subscription in the view)")
    composed = []
    for edition in due_editions(analysts, warehouse, now, day):
        start = since(warehouse, edition) if edition.kind == "scheduled" else None
        row = composer.compose(warehouse, edition, watchlists, since=start, run_id=run_id, created_at=now)
        composed.append({"subscription": row["subscription"], "digest_date": row["digest_date"].isoformat(),
                         "articles": row["item_count"], "late": row["late_count"]})
    log.info("%d digest(s) composed%s", len(composed), f" for {day}" if day else "")
    return composed


def send_digests(*, settings: Settings, warehouse: Warehouse, run_id: str, now: datetime,
                 smtp_send: SmtpSend | None) -> dict[str, str]:
    """Render and deliver every composed digest not yet sent (this run's, and any an earlier run failed to
    send); one failure does not stop the others, and nothing sent is sent again.

    Raises:
        DigestDeliveryError: after trying every digest, if any failed.
    """
    analysts = subscription_store.in_force(settings, warehouse)
    subs = {s.name: s for s in analysts.subscriptions}
    registry = load_registry(settings.outlets_file, settings.replay_base)
    names = {o.id: o.name for o in registry.outlets}
    results: dict[str, str] = {}
    failures: dict[str, str] = {}
    for name, day in store.digests_without_send(warehouse, list(subs)):
        sub = subs[name]
        key = f"{day.isoformat()} {name}"
        try:
            digest = composer.load(warehouse, sub, day, names)
            msg = build_message(render_digest(digest), analysts, sub, day, now)
            results[key] = deliver(warehouse, msg, day=day, subscription=sub, run_id=run_id,
                                   sender=envelope_sender(analysts), smtp_send=smtp_send,
                                   outbox_dir=settings.outbox_dir, now=now)
        except Exception as exc:
            log.exception("digest %s for %s could not be delivered; the next run tries again", day, name)
            failures[key] = f"{type(exc).__name__}: {exc}"
    log.info("%d digest(s) delivered, %d failed", len(results), len(failures))
    if failures:
        raise DigestDeliveryError(f"{len(failures)} digest(s) could not be sent (tried again by the next run): "
                                  f"{failures}")
    return results
