"""The warehouse connection: engine, schema check and upgrade, and the upsert every domain module uses.

The SQL of each domain lives beside this module, as functions taking the :class:`Warehouse` first:
:mod:`~media_monitoring.warehouse.feeds` (feed health, templates, fetch failures),
:mod:`~media_monitoring.warehouse.articles` (staging, articles, sources, hits, quarantine),
:mod:`~media_monitoring.warehouse.quality` (outlet quality), :mod:`~media_monitoring.warehouse.stories`,
:mod:`~media_monitoring.warehouse.digests`, :mod:`~media_monitoring.warehouse.alerts` and
:mod:`~media_monitoring.warehouse.runs`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, overload

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from media_monitoring.warehouse import schema as s
from media_monitoring.warehouse import search_index

log = logging.getLogger(__name__)

SQLITE_BUSY_TIMEOUT_S = 60  # mapped tasks write concurrently; SQLite serialises them with a lock
UPSERT_CHUNK = 500  # rows per executemany call, ids per IN list (well under SQLite's parameter limit)


@overload
def aware(value: datetime) -> datetime: ...


@overload
def aware(value: None) -> None: ...


def aware(value: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; everything we store is UTC."""
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def aware_row(mapping: Any) -> dict[str, Any]:
    """A result row as a dict with every datetime in it timezone-aware (SQLite hands them back naive, in UTC)."""
    return {key: aware(value) if isinstance(value, datetime) else value for key, value in dict(mapping).items()}


def regions_about(articles: sa.Table) -> sa.ColumnElement[Any]:
    """The regions an article is about, as ``regions``: its focus regions, or for an article stored before focus
    was told apart, all its regions. What regions of interest are matched against."""
    return sa.func.coalesce(articles.c.focus_regions, articles.c.regions).label("regions")


def _focus_for_older_articles(conn: sa.Connection) -> None:
    """Articles stored before focus was told apart are taken to be about every country and region they were
    tagged with (as :func:`regions_about` reads them): each such place gets its focus row, so the view's
    default (focus) filters still find them. Re-tagging them is what tells the two apart."""
    from media_monitoring.records import FOCUS_KIND

    p = s.article_places
    for kind, focus_kind in FOCUS_KIND.items():
        done = conn.execute(p.insert().from_select(
            ["article_id", "kind", "code", "name", "mentions", "evidence"],
            sa.select(p.c.article_id, sa.literal(focus_kind), p.c.code, p.c.name, p.c.mentions, p.c.evidence)
            .where(p.c.kind == kind)))
        log.info("%d %s rows for articles stored before focus", done.rowcount, focus_kind)


class WarehouseSchemaError(RuntimeError):
    """The warehouse was created by another version of the schema."""


class Warehouse:
    """A connection pool to the warehouse; the operations on it are in the domain modules."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        self._insert = postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert

    @classmethod
    def connect(cls, url: str, *, create: bool = True) -> Warehouse:
        """Open the warehouse at ``url`` (SQLAlchemy URL) and create missing tables."""
        if url.startswith("sqlite:///"):
            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
            engine = sa.create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S},
                                      json_serializer=json.dumps)

            @sa.event.listens_for(engine, "connect")
            def _pragmas(dbapi_conn: Any, _record: Any) -> None:
                cur = dbapi_conn.cursor()
                cur.execute("PRAGMA journal_mode=WAL")  # readers never block the writer
                cur.execute("PRAGMA foreign_keys=ON")
                cur.close()
        else:
            engine = sa.create_engine(url, pool_pre_ping=True, json_serializer=json.dumps)
        warehouse = cls(engine)
        if create:
            warehouse._check_or_create_schema()
        return warehouse

    def _check_or_create_schema(self) -> None:
        existing = set(sa.inspect(self.engine).get_table_names())
        if not existing:
            s.metadata.create_all(self.engine)
            with self.engine.begin() as conn:
                conn.execute(s.schema_info.insert().values(version=s.SCHEMA_VERSION))
                search_index.ensure_search_index(conn)
            return
        found = None
        if "schema_info" in existing:
            with self.engine.connect() as conn:
                found = conn.execute(sa.select(sa.func.max(s.schema_info.c.version))).scalar()
        if found in s.UPGRADABLE_FROM:
            self._upgrade(found)
        elif found != s.SCHEMA_VERSION:
            raise WarehouseSchemaError(
                f"the warehouse at {self.describe()} has schema version {found or 'unknown'}, this code needs "
                f"{s.SCHEMA_VERSION}: point it at an empty database, or for the embedded demo warehouse remove "
                "the data folder (make clean) and run again")
        s.metadata.create_all(self.engine)  # tables added within a version (none expected) appear
        # The full-text index is no metadata object (an FTS5 table and triggers, a generated tsvector column):
        # added to a version-3 warehouse made before it, and filled from its articles, here.
        with self.engine.begin() as conn:
            search_index.ensure_search_index(conn)

    def _upgrade(self, found: int) -> None:
        """Bring a warehouse of an older version up to this one: the changes since are additive (tables,
        nullable columns, wider indexes), so this adds what is missing and drops retired indexes, in one
        transaction where the backend allows it. Every step checks first: an interrupted upgrade reruns."""
        from media_monitoring.warehouse.articles import refresh_hit_places  # articles imports this module

        log.warning("upgrading the warehouse at %s from schema version %s to %s", self.describe(), found,
                    s.SCHEMA_VERSION)
        started = datetime.now(UTC)
        with self.engine.begin() as conn:
            inspector = sa.inspect(conn)
            tables = set(inspector.get_table_names())
            for table in s.metadata.sorted_tables:
                if table.name not in tables:
                    table.create(conn)
                    log.info("created table %s", table.name)
                    continue
                have = {c["name"] for c in inspector.get_columns(table.name)}
                for column in table.columns:
                    if column.name in have:
                        continue
                    conn.exec_driver_sql(f"ALTER TABLE {table.name} ADD COLUMN {self._column_ddl(conn, column)}")
                    log.info("added %s.%s", table.name, column.name)
                indexes = {i["name"] for i in inspector.get_indexes(table.name)}
                for name in s.RETIRED_INDEXES.get(table.name, ()):
                    if name in indexes:
                        conn.exec_driver_sql(f"DROP INDEX {name}")
                        log.info("dropped index %s (replaced by a wider one)", name)
                for index in table.indexes:
                    if index.name not in indexes:
                        index.create(conn)
                        log.info("created index %s on %s", index.name, table.name)
            if found < 5:
                _focus_for_older_articles(conn)
            if "hit_places" not in tables or found < 5:
                refresh_hit_places(conn, None)
                log.info("filled hit_places from the stored hits and places")
            conn.execute(s.schema_info.delete())
            conn.execute(s.schema_info.insert().values(version=s.SCHEMA_VERSION))
        log.warning("warehouse upgraded to schema version %s in %.1f s", s.SCHEMA_VERSION,
                    (datetime.now(UTC) - started).total_seconds())

    def _column_ddl(self, conn: sa.Connection, column: sa.Column) -> str:
        """``"name" TYPE [NOT NULL DEFAULT x]`` for a column added to an existing table: a required column
        gets its Python default as the value of the rows already there."""
        ddl = f'"{column.name}" {column.type.compile(dialect=conn.dialect)}'
        if column.nullable:
            return ddl
        default: Any = getattr(column.default, "arg", None)  # a value, or a callable making one
        if column.default is not None and column.default.is_callable:
            default = default(None)  # default=dict on a JSON column: every old row gets an empty object
        if isinstance(default, dict | list):
            default = json.dumps(default)
        if not isinstance(default, str | int | float | bool):
            raise WarehouseSchemaError(
                f"cannot upgrade {self.describe()}: {column.table.name}.{column.name} is required and has no "
                "default; point the product at an empty database")
        value = sa.literal(default).compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True})
        return f"{ddl} NOT NULL DEFAULT {value}"

    @property
    def backend(self) -> str:
        return self.engine.dialect.name

    def describe(self) -> str:
        return self.engine.url.render_as_string(hide_password=True)

    def close(self) -> None:
        self.engine.dispose()

    def upsert(self, conn: sa.Connection, table: sa.Table, rows: Sequence[dict[str, Any]],
               update: Iterable[str] | None = None) -> None:
        """Insert ``rows`` into ``table`` in ``conn``'s transaction, or update the ``update`` columns (default:
        every column outside the primary key; empty: leave an existing row as it is) where the key exists."""
        if not rows:
            return
        keys = [c.name for c in table.primary_key.columns]
        cols = list(update) if update is not None else [c.name for c in table.columns if c.name not in keys]
        stmt = self._insert(table)
        if cols:
            stmt = stmt.on_conflict_do_update(index_elements=keys, set_={c: stmt.excluded[c] for c in cols})
        else:
            stmt = stmt.on_conflict_do_nothing(index_elements=keys)
        # One statement, compiled once (SQLAlchemy caches it), executed for many parameter sets: compiling
        # a 500-row multi-VALUES statement instead cost more CPU than the database spent storing the rows.
        # Rows are grouped by the columns they carry, as an executemany needs the same keys in every row.
        groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for row in rows:
            groups.setdefault(tuple(row), []).append(row)
        for group in groups.values():
            for start in range(0, len(group), UPSERT_CHUNK):
                conn.execute(stmt, group[start:start + UPSERT_CHUNK])

    def count(self, table_name: str) -> int:
        table = s.metadata.tables[table_name]
        with self.engine.connect() as conn:
            return conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()

    def counts(self) -> dict[str, int]:
        return {name: self.count(name) for name in s.metadata.tables}
