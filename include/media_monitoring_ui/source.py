"""The warehouse the view reads and the reference data its pages need, refreshed every ``REFRESH_S``."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

REFRESH_S = 60  # how long the resolved warehouse URL, table list and reference data are reused

def resolve_warehouse_url() -> str:
    """The warehouse the DAGs write: the ``media_warehouse`` connection, else the settings' default."""
    from media_monitoring.settings import load_settings

    settings = load_settings()
    url = None
    try:
        from media_monitoring_airflow import warehouse_url

        url = warehouse_url()
    except Exception:  # noqa: BLE001 (outside the API server, e.g. no secrets backend: use the settings)
        log.warning("media_warehouse connection could not be read; using the settings", exc_info=True)
    return url or settings.warehouse_url or settings.default_warehouse_url


@dataclass
class Source:
    """The open warehouse and the reference data the pages need, refreshed every REFRESH_S."""

    url: str
    warehouse: Any  # media_monitoring.warehouse.Warehouse, or None while there is none to read
    tables: set[str]
    outlet_names: dict[str, str] = field(default_factory=dict)
    terms: list[tuple[str, str]] = field(default_factory=list)  # (watchlist, term) from the config
    watchlist_versions: dict[str, str] = field(default_factory=dict)  # a "missed" mark's rule version
    priority_outlets: list[str] = field(default_factory=list)  # their latency target is the alert's
    priority_terms: list[str] = field(default_factory=list)
    loaded_at: float = 0.0


class _SourceCache:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._source: Source | None = None

    def get(self) -> Source:
        with self._lock:
            current = self._source
            if current is not None and time.monotonic() - current.loaded_at < REFRESH_S:
                return current
            url = resolve_warehouse_url()
            warehouse = current.warehouse if current is not None and current.url == url else None
            if warehouse is None:
                if current is not None and current.warehouse is not None:
                    current.warehouse.close()
                warehouse = _open(url)
            self._source = Source(url=url, warehouse=warehouse, tables=_tables(warehouse),
                                  loaded_at=time.monotonic(), **_reference_data(warehouse))
            return self._source

    def reset(self) -> None:
        with self._lock:
            if self._source is not None and self._source.warehouse is not None:
                self._source.warehouse.close()
            self._source = None


def _open(url: str) -> Any:
    from media_monitoring.warehouse import Warehouse

    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).exists():
        return None  # nothing ingested yet; opening would create an empty file
    return Warehouse.connect(url, create=False)  # read-only: the DAGs own the schema


def _tables(warehouse: Any) -> set[str]:
    """The warehouse's tables: a page shows only what the warehouse it reads already has."""
    if warehouse is None:
        return set()
    import sqlalchemy as sa

    return set(sa.inspect(warehouse.engine).get_table_names())


def watchlists_in_force(warehouse: Any) -> Any:
    """The watchlists in force (the warehouse's, after importing what is new in watchlists.yaml), or the file's
    while there is no warehouse yet."""
    from media_monitoring.config import load_watchlists
    from media_monitoring.curation import watchlists
    from media_monitoring.settings import load_settings
    from media_monitoring.warehouse import curation

    settings = load_settings()
    if warehouse is None:
        return load_watchlists(settings.watchlists_file)
    with warehouse.engine.begin() as conn:
        curation.ensure_tables(conn)
    return watchlists.in_force(settings, warehouse)


def _reference_data(warehouse: Any) -> dict[str, Any]:
    from media_monitoring.config import load_registry
    from media_monitoring.settings import load_settings

    settings = load_settings()
    data: dict[str, Any] = {}
    try:
        registry = load_registry(settings.outlets_file, settings.replay_base)
        data["outlet_names"] = {o.id: o.name for o in registry.outlets}
        data["priority_outlets"] = [o.id for o in registry.outlets if o.priority]
    except Exception:  # noqa: BLE001 (names are a nicety; ids still show)
        log.warning("outlet registry %s could not be read", settings.outlets_file, exc_info=True)
    try:
        watchlists = watchlists_in_force(warehouse).watchlists
        data["terms"] = [(w.name, t.name) for w in watchlists for t in w.terms]
        data["watchlist_versions"] = {w.name: w.version for w in watchlists}
        data["priority_terms"] = sorted({t.name for w in watchlists for t in w.terms if t.priority})
    except Exception:  # noqa: BLE001
        log.warning("the watchlists in force could not be read (%s)", settings.watchlists_file, exc_info=True)
    return data


sources = _SourceCache()
