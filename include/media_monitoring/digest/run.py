"""The digest DAG's two steps: compose and store every watchlist's digest, then send per subscription."""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from media_monitoring.config import Analysts, load_analysts, load_registry, load_watchlists
from media_monitoring.digest.compose import (
    compose_watchlist,
    load_subscription_digest,
    store_watchlist_digest,
)
from media_monitoring.digest.deliver import SmtpSend, build_message, deliver, envelope_sender
from media_monitoring.digest.render import render_digest
from media_monitoring.settings import Settings
from media_monitoring.warehouse import Warehouse

log = logging.getLogger(__name__)


def due_subscriptions(analysts: Analysts, start: datetime, end: datetime) -> dict[date, list[str]]:
    """Subscriptions whose local digest time falls in [start, end), grouped by the day their digest covers
    (the analyst's previous local day)."""
    due: dict[date, list[str]] = {}
    for sub in analysts.subscriptions:
        tz = ZoneInfo(sub.timezone)
        hour, minute = (int(x) for x in sub.digest_time.split(":"))
        local_start = start.astimezone(tz)
        for offset in (0, 1):  # the window may cross local midnight
            day = local_start.date() + timedelta(days=offset)
            moment = datetime(day.year, day.month, day.day, hour, minute, tzinfo=tz)
            if start <= moment < end:
                due.setdefault(day - timedelta(days=1), []).append(sub.name)
    return due


class DigestDeliveryError(RuntimeError):
    """Some subscriptions' digests could not be sent; the others were."""


def compose_digests(day: date, *, settings: Settings, warehouse: Warehouse, run_id: str,
                    created_at: datetime, recompose: bool = False) -> dict[str, int]:
    """Store one ``daily_digests`` row (plus items) per watchlist for ``day``.

    A digest already composed for that day is kept as it is (what was sent stays reproducible)
    unless ``recompose`` is set, e.g. after late articles or a watchlist change.
    """
    counts = {}
    for watchlist in load_watchlists(settings.watchlists_file).watchlists:
        existing = warehouse.daily_digest(day, watchlist.name)
        if existing is not None and not recompose:
            log.info("digest %s %s already composed by run %s; kept (set recompose to rebuild)",
                     day, watchlist.name, existing["run_id"])
            counts[watchlist.name] = existing["item_count"]
            continue
        digest = compose_watchlist(warehouse, day, watchlist)
        store_watchlist_digest(warehouse, digest, run_id, created_at)
        counts[watchlist.name] = len(digest.items)
    return counts


def send_digests(day: date, *, settings: Settings, warehouse: Warehouse, run_id: str, created_at: datetime,
                 smtp_send: SmtpSend | None, only: list[str] | None = None) -> dict[str, Any]:
    """Render and deliver each subscription's digest once; one failure does not stop the others.

    Raises:
        DigestDeliveryError: after trying every subscription, if any failed.
    """
    analysts = load_analysts(settings.analysts_file)
    watchlists = {w.name: w for w in load_watchlists(settings.watchlists_file).watchlists}
    registry = load_registry(settings.outlets_file, settings.replay_base)
    names = {o.id: o.name for o in registry.outlets}
    results: dict[str, Any] = {}
    failures: dict[str, str] = {}
    for sub in analysts.subscriptions:
        if only is not None and sub.name not in only:
            continue
        unknown = [w for w in sub.watchlists if w not in watchlists]
        if unknown:
            failures[sub.name] = f"unknown watchlist(s) {unknown} in {settings.analysts_file}"
            continue
        try:
            digest = load_subscription_digest(warehouse, day, sub, watchlists, names)
            msg = build_message(render_digest(digest), analysts, sub, day, created_at)
            results[sub.name] = deliver(warehouse, msg, day=day, subscription=sub, run_id=run_id,
                                        sender=envelope_sender(analysts), smtp_send=smtp_send,
                                        outbox_dir=settings.outbox_dir, now=created_at)
        except Exception as exc:
            log.exception("digest %s for %s could not be delivered", day, sub.name)
            failures[sub.name] = f"{type(exc).__name__}: {exc}"
    if failures:
        raise DigestDeliveryError(f"digest {day}: {len(failures)} subscription(s) failed: {failures}")
    return results
