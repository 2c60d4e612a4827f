"""The warehouse: one schema (SQLAlchemy Core), two backends (embedded SQLite, PostgreSQL)."""

from media_monitoring.warehouse.store import Warehouse, WarehouseSchemaError

__all__ = ["Warehouse", "WarehouseSchemaError"]
