"""Planning a run: the warehouse and the outlet registry it works on, the registry's polling and politeness
bounds, and the outlets that are due, in batches for the mapped collect tasks."""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from media_monitoring.config import Outlet, Registry, load_registry
from media_monitoring.politeness import HostLimiter, HostPolicy
from media_monitoring.scheduling import PollingPolicy
from media_monitoring.settings import Settings
from media_monitoring.warehouse import Warehouse
from media_monitoring.warehouse import feeds as feed_store

log = logging.getLogger(__name__)


def open_warehouse(settings: Settings, url: str | None = None) -> Warehouse:
    """The warehouse at ``url``, else the configured one, else the embedded default."""
    return Warehouse.connect(url or settings.warehouse_url or settings.default_warehouse_url)


def load_outlets(settings: Settings) -> Registry:
    return load_registry(settings.outlets_file, settings.replay_base)


def polling_policy(registry: Registry, *, priority: bool = False) -> PollingPolicy:
    """The registry's bounds; for priority outlets a fixed ``priority_interval_minutes`` (their failures still
    back off from there, and Retry-After is still honoured)."""
    p = registry.polling
    if priority:
        every = timedelta(minutes=p.priority_interval_minutes)
        return PollingPolicy(every, every, timedelta(hours=p.max_backoff_hours))
    return PollingPolicy(timedelta(minutes=p.min_interval_minutes), timedelta(minutes=p.max_interval_minutes),
                         timedelta(hours=p.max_backoff_hours))


def host_limiter(registry: Registry) -> HostLimiter:
    limits = {h: HostPolicy(v.max_concurrency, v.min_delay_s) for h, v in registry.hosts.items()}
    return HostLimiter(limits.pop("default", HostPolicy()), limits)


def feed_host(outlet: Outlet) -> str:
    return (urlsplit(outlet.feed_url).hostname or "").lower()


def plan_batches(registry: Registry, outlets_per_batch: int, *, warehouse: Warehouse | None = None,
                 now: datetime | None = None) -> list[list[str]]:
    """Outlet ids in batches, one mapped collect task per batch.

    With a warehouse, only outlets whose next poll is due are planned. All outlets of one feed host
    go to the same batch, so per-host politeness holds across parallel mapped tasks.
    """
    due = list(registry.outlets)
    if warehouse is not None and now is not None:
        next_polls = feed_store.next_polls(warehouse)
        due = [o for o in due if (next_poll := next_polls.get(o.id)) is None or next_poll <= now]
    by_host: dict[str, list[str]] = defaultdict(list)
    for outlet in due:
        by_host[feed_host(outlet)].append(outlet.id)
    size = max(1, outlets_per_batch)
    batches: list[list[str]] = []
    current: list[str] = []
    for ids in sorted(by_host.values(), key=len, reverse=True):
        if current and len(current) + len(ids) > size:
            batches.append(current)
            current = []
        current.extend(ids)  # a host with more outlets than a batch holds keeps them together
    if current:
        batches.append(current)
    log.info("%d of %d outlets due, in %d batches", len(due), len(registry.outlets), len(batches))
    return batches
