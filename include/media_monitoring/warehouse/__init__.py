"""The warehouse: one schema (SQLAlchemy Core), two backends (embedded SQLite, PostgreSQL)."""

from media_monitoring.warehouse.store import Warehouse

__all__ = ["Warehouse"]
