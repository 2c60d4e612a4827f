"""All SQL of the product: upserts and queries over :mod:`media_monitoring.warehouse.schema`."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from media_monitoring.warehouse import schema as s
from media_monitoring.warehouse import search

log = logging.getLogger(__name__)

SQLITE_BUSY_TIMEOUT_S = 60  # mapped tasks write concurrently; SQLite serialises them with a lock
UPSERT_CHUNK = 500  # rows per executemany call, ids per IN list (well under SQLite's parameter limit)


def _aware(value: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; everything we store is UTC."""
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def aware_row(mapping: Any) -> dict[str, Any]:
    """A result row as a dict with every datetime in it timezone-aware (SQLite hands them back naive, in UTC)."""
    return {key: _aware(value) if isinstance(value, datetime) else value for key, value in dict(mapping).items()}


ARTICLE_UPDATE_COLUMNS = tuple(c.name for c in s.articles.columns
                               if c.name not in ("article_id", "first_seen_at", "stored_at"))


class WarehouseSchemaError(RuntimeError):
    """The warehouse was created by another version of the schema."""


class Warehouse:
    """A connection pool to the warehouse plus the operations the pipeline needs."""

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
                search.ensure_search_index(conn)
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
            search.ensure_search_index(conn)

    def _upgrade(self, found: int) -> None:
        """Bring a warehouse of an older version up to this one: the changes since are additive (tables,
        nullable columns, wider indexes), so this adds what is missing and drops retired indexes, in one
        transaction where the backend allows it. Every step checks first: an interrupted upgrade reruns."""
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
            if "hit_places" not in tables:
                self._refresh_hit_places(conn, None)
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
        default = getattr(column.default, "arg", None)
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

    # -- generic ---------------------------------------------------------------------------------

    def _upsert(self, conn: sa.Connection, table: sa.Table, rows: Sequence[dict[str, Any]],
                update: Iterable[str] | None = None) -> None:
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

    # -- ingest ----------------------------------------------------------------------------------

    def known_ids(self, article_ids: Iterable[str]) -> set[str]:
        """Ids already stored as articles or quarantined: their entries are not fetched again."""
        ids = list(set(article_ids))
        found: set[str] = set()
        with self.engine.connect() as conn:
            for start in range(0, len(ids), UPSERT_CHUNK):
                chunk = ids[start:start + UPSERT_CHUNK]
                for table in (s.articles, s.quarantine):
                    found.update(conn.execute(
                        sa.select(table.c.article_id).where(table.c.article_id.in_(chunk))).scalars())
        return found

    def add_sources_many(self, new: dict[str, list[dict[str, Any]]]) -> int:
        """Record more feed entries per stored article in one read and one transaction; returns rows changed."""
        if not new:
            return 0
        a = s.articles
        ids = list(new)
        current: dict[str, list[dict[str, Any]]] = {}
        with self.engine.connect() as conn:
            for start in range(0, len(ids), UPSERT_CHUNK):
                for article_id, sources in conn.execute(sa.select(a.c.article_id, a.c.sources).where(
                        a.c.article_id.in_(ids[start:start + UPSERT_CHUNK]))):
                    current[article_id] = list(sources or [])
        changes = {}
        for article_id, sources in current.items():
            merged = list(sources)
            for src in new[article_id]:
                if src not in merged:
                    merged.append(src)
            if merged != sources:
                changes[article_id] = merged
        if changes:
            with self.engine.begin() as conn:
                for article_id, merged in changes.items():
                    conn.execute(a.update().where(a.c.article_id == article_id).values(sources=merged))
        return len(changes)

    def add_sources(self, article_id: str, sources: list[dict[str, Any]]) -> None:
        """Record more feed entries pointing at a stored article (provenance), without duplicates."""
        with self.engine.begin() as conn:
            current = conn.execute(sa.select(s.articles.c.sources)
                                   .where(s.articles.c.article_id == article_id)).scalar_one_or_none()
            if current is None:
                return
            merged = list(current)
            for src in sources:
                if src not in merged:
                    merged.append(src)
            if merged != current:
                conn.execute(s.articles.update().where(s.articles.c.article_id == article_id)
                             .values(sources=merged))

    def stage(self, run_id: str, outlet_id: str, records: Sequence[dict[str, Any]]) -> None:
        rows = [{"run_id": run_id, "article_id": r["article_id"], "outlet_id": outlet_id, "record": r}
                for r in records]
        with self.engine.begin() as conn:
            self._upsert(conn, s.staging, rows)

    def staged(self) -> list[dict[str, Any]]:
        """Every staged record not yet processed, this run's and any a failed earlier run left behind."""
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(s.staging.c.run_id, s.staging.c.record)
                                .order_by(s.staging.c.run_id, s.staging.c.article_id)).all()
        return [{**record, "run_id": record.get("run_id") or run_id} for run_id, record in rows]

    def commit_batch(
        self,
        run_id: str,
        articles: Sequence[dict[str, Any]],
        hits: Sequence[dict[str, Any]],
        places: Sequence[dict[str, Any]],
        quarantined: Sequence[dict[str, Any]],
        validation: dict[str, Any] | None,
        processed: Sequence[tuple[str, str]] | None = None,
        entry_ids: Sequence[str] | None = None,
    ) -> None:
        """Store one processed batch in a single transaction; clear its staging rows (``processed``:
        (run id, article id) pairs) and the page failures of the feed entries it resolves."""
        ids = [a["article_id"] for a in articles]
        with self.engine.begin() as conn:
            # an article stored again (re-processed, released) keeps when it was first seen and stored
            self._upsert(conn, s.articles, articles, update=ARTICLE_UPDATE_COLUMNS)
            for start in range(0, len(ids), UPSERT_CHUNK):  # tags are replaced, not accumulated
                chunk = ids[start:start + UPSERT_CHUNK]
                conn.execute(s.watchlist_hits.delete().where(s.watchlist_hits.c.article_id.in_(chunk)))
                conn.execute(s.article_places.delete().where(s.article_places.c.article_id.in_(chunk)))
            self._upsert(conn, s.watchlist_hits, hits)
            self._upsert(conn, s.article_places, places)
            self._refresh_hit_places(conn, ids)
            self._upsert(conn, s.quarantine, quarantined,
                         update=["failed_expectations", "observed", "record", "run_id"])
            if validation:
                self._upsert(conn, s.validation_runs, [validation])
            done = sorted({*ids, *(q["article_id"] for q in quarantined), *(entry_ids or ())})
            for start in range(0, len(done), UPSERT_CHUNK):  # fetched at last: no longer a failure
                conn.execute(s.fetch_failures.delete().where(
                    s.fetch_failures.c.article_id.in_(done[start:start + UPSERT_CHUNK])))
            if processed:  # one statement for every staged row: an executemany, not a round trip each
                conn.execute(s.staging.delete().where(s.staging.c.run_id == sa.bindparam("run"),
                                                      s.staging.c.article_id == sa.bindparam("id")),
                             [{"run": run, "id": article_id} for run, article_id in processed])

    def failures_not_due(self, article_ids: Iterable[str], now: datetime) -> set[str]:
        """Ids with a recorded page failure that is permanent or not yet due for retry."""
        f = s.fetch_failures
        ids = list(set(article_ids))
        found: set[str] = set()
        with self.engine.connect() as conn:
            for start in range(0, len(ids), UPSERT_CHUNK):
                found.update(conn.execute(sa.select(f.c.article_id).where(
                    f.c.article_id.in_(ids[start:start + UPSERT_CHUNK]),
                    sa.or_(f.c.next_retry_at.is_(None), f.c.next_retry_at > now))).scalars())
        return found

    def clear_fetch_failures(self, article_ids: Sequence[str]) -> None:
        with self.engine.begin() as conn:
            conn.execute(s.fetch_failures.delete().where(s.fetch_failures.c.article_id.in_(list(article_ids))))

    def fetch_attempts(self, article_id: str) -> int:
        with self.engine.connect() as conn:
            return conn.execute(sa.select(s.fetch_failures.c.attempts)
                                .where(s.fetch_failures.c.article_id == article_id)).scalar() or 0

    def outlet_quality_history(self, outlet_id: str, before: datetime, limit: int = 20) -> list[dict[str, Any]]:
        q = s.outlet_quality
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(sa.select(q).where(
                q.c.outlet_id == outlet_id, q.c.validated_at < before).order_by(q.c.validated_at.desc())
                .limit(limit)).mappings()]

    def record_outlet_quality(self, rows: Sequence[dict[str, Any]]) -> None:
        with self.engine.begin() as conn:
            self._upsert(conn, s.outlet_quality, rows)

    def latest_outlet_quality(self) -> dict[str, dict[str, Any]]:
        """The most recent quality row of every outlet (see :func:`latest_outlet_quality_query`)."""
        with self.engine.connect() as conn:
            return {r["outlet_id"]: dict(r) for r in conn.execute(latest_outlet_quality_query()).mappings()}

    def record_fetch_failure(self, row: dict[str, Any]) -> None:
        with self.engine.begin() as conn:
            prior = conn.execute(sa.select(s.fetch_failures.c.attempts)
                                 .where(s.fetch_failures.c.article_id == row["article_id"])).scalar()
            keep_first = [c.name for c in s.fetch_failures.columns if c.name not in ("article_id", "first_attempt_at")]
            self._upsert(conn, s.fetch_failures,
                         [{**row, "attempts": (prior or 0) + 1, "first_attempt_at": row["last_attempt_at"]}],
                         update=keep_first)

    def first_attempts(self, article_ids: Sequence[str]) -> dict[str, datetime]:
        """When the pages of these ids were first tried, for those that failed before."""
        ff = s.fetch_failures
        found: dict[str, datetime] = {}
        with self.engine.connect() as conn:
            for start in range(0, len(article_ids), UPSERT_CHUNK):
                chunk = list(article_ids[start:start + UPSERT_CHUNK])
                for article_id, first, last in conn.execute(sa.select(ff.c.article_id, ff.c.first_attempt_at,
                                                                      ff.c.last_attempt_at)
                                                            .where(ff.c.article_id.in_(chunk))):
                    found[article_id] = _aware(first or last)
        return found

    def due_retries(self, outlet_id: str, now: datetime) -> list[dict[str, Any]]:
        """Feed entries whose page fetch failed transiently and is due again."""
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(s.fetch_failures.c.entry).where(
                s.fetch_failures.c.outlet_id == outlet_id,
                s.fetch_failures.c.next_retry_at.is_not(None),
                s.fetch_failures.c.next_retry_at <= now,
            )).scalars()
            return list(rows)

    def outlet_template(self, outlet_id: str) -> dict[str, Any] | None:
        t = s.outlet_templates
        with self.engine.connect() as conn:
            return conn.execute(sa.select(t.c.state).where(t.c.outlet_id == outlet_id)).scalar()

    def save_outlet_template(self, outlet_id: str, state: dict[str, Any], now: datetime) -> None:
        with self.engine.begin() as conn:
            self._upsert(conn, s.outlet_templates, [{"outlet_id": outlet_id, "state": state, "updated_at": now}])

    def next_polls(self) -> dict[str, datetime | None]:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(s.feed_health.c.outlet_id, s.feed_health.c.next_poll_at))
            return {r.outlet_id: _aware(r.next_poll_at) for r in rows}

    def find_by_title(self, outlet_id: str, title_key: str, start: datetime, end: datetime) -> str | None:
        """An article of ``outlet_id`` with the same normalised headline published in [start, end]."""
        a = s.articles
        with self.engine.connect() as conn:
            return conn.execute(sa.select(a.c.article_id).where(
                a.c.outlet_id == outlet_id, a.c.title_key == title_key,
                a.c.published_at >= start, a.c.published_at <= end).limit(1)).scalar()

    def feed_state(self, outlet_id: str) -> dict[str, Any] | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(s.feed_health).where(s.feed_health.c.outlet_id == outlet_id)).first()
        if row is None:
            return None
        data = dict(row._mapping)
        for key in ("last_attempt_at", "last_success_at", "last_new_item_at", "next_poll_at", "first_polled_at"):
            data[key] = _aware(data[key])
        return data

    def save_feed_state(self, row: dict[str, Any]) -> None:
        """Upsert an outlet's feed health; a change of status is also logged with the time it happened."""
        fh = s.feed_health
        with self.engine.begin() as conn:
            before = conn.execute(sa.select(fh.c.status).where(fh.c.outlet_id == row["outlet_id"])).scalar()
            self._upsert(conn, fh, [row])
            status = row.get("status")
            if status is not None and status != (before or "ok"):
                at = row.get("last_attempt_at") or datetime.now(UTC)
                self._upsert(conn, s.feed_status_log, [{"outlet_id": row["outlet_id"], "changed_at": at,
                                                        "status": status, "reason": row.get("status_reason")}])

    def feed_health_table(self) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(s.feed_health).order_by(s.feed_health.c.outlet_id)).mappings()
            return [dict(r) for r in rows]

    def articles_page(self, start: datetime, end: datetime, after_id: str, limit: int) -> list[dict[str, Any]]:
        """Articles published in [start, end), keyset-paginated by id: (article_id, title, text)."""
        a = s.articles
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(
                sa.select(a.c.article_id, a.c.title, a.c.text).where(
                    a.c.published_at >= start, a.c.published_at < end, a.c.article_id > after_id)
                .order_by(a.c.article_id).limit(limit)).mappings()]

    def replace_hits(self, article_ids: Sequence[str], watchlists: Sequence[str],
                     hits: Sequence[dict[str, Any]]) -> None:
        """Replace the given watchlists' hits of these articles in one transaction."""
        h = s.watchlist_hits
        with self.engine.begin() as conn:
            conn.execute(h.delete().where(h.c.article_id.in_(list(article_ids)), h.c.watchlist.in_(list(watchlists))))
            self._upsert(conn, h, hits)
            self._refresh_hit_places(conn, article_ids)

    def rebuild_hit_places(self) -> int:
        """Recompute all of ``hit_places`` (after rows were written around this class); returns its rows."""
        with self.engine.begin() as conn:
            self._refresh_hit_places(conn, None)
        return self.count("hit_places")

    def _refresh_hit_places(self, conn: sa.Connection, article_ids: Sequence[str] | None) -> None:
        """Recompute ``hit_places`` for these articles (None: all of them) from their places and hits."""
        hp, p, a, h = s.hit_places, s.article_places, s.articles, s.watchlist_hits
        query = (sa.select(p.c.article_id, p.c.kind, p.c.code, a.c.published_at)
                 .join(a, a.c.article_id == p.c.article_id)
                 .where(sa.exists().where(h.c.article_id == p.c.article_id)))
        columns = ["article_id", "kind", "code", "published_at"]
        if article_ids is None:
            conn.execute(hp.delete())
            conn.execute(hp.insert().from_select(columns, query))
            return
        ids = list(article_ids)
        for start in range(0, len(ids), UPSERT_CHUNK):
            chunk = ids[start:start + UPSERT_CHUNK]
            conn.execute(hp.delete().where(hp.c.article_id.in_(chunk)))
            conn.execute(hp.insert().from_select(columns, query.where(p.c.article_id.in_(chunk))))

    # -- stories --------------------------------------------------------------------------------

    def ids_by_text_hash(self, hashes: Iterable[str]) -> dict[str, str]:
        """text_hash -> the stored article with that exact text."""
        a = s.articles
        wanted = list(set(hashes))
        found: dict[str, str] = {}
        with self.engine.connect() as conn:
            for start in range(0, len(wanted), UPSERT_CHUNK):
                for text_hash, article_id in conn.execute(sa.select(a.c.text_hash, a.c.article_id).where(
                        a.c.text_hash.in_(wanted[start:start + UPSERT_CHUNK]))):
                    found.setdefault(text_hash, article_id)
        return found

    def save_stories(self, assignments: Sequence[dict[str, Any]], stories: Sequence[dict[str, Any]]) -> None:
        with self.engine.begin() as conn:
            self._upsert(conn, s.article_stories, assignments)
            self._upsert(conn, s.stories, stories)

    def stories_of(self, article_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """article_id -> its story row."""
        st, sto = s.article_stories, s.stories
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(st.c.article_id, sto).join(sto, sto.c.story_id == st.c.story_id)
                                .where(st.c.article_id.in_(list(article_ids)))).mappings()
            return {r["article_id"]: dict(r) for r in rows}

    # -- quarantine ------------------------------------------------------------------------------

    def quarantined(self, *, include_released: bool = False) -> list[dict[str, Any]]:
        q = sa.select(s.quarantine).order_by(s.quarantine.c.outlet_id, s.quarantine.c.article_id)
        if not include_released:
            q = q.where(s.quarantine.c.released_at.is_(None))
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(q).mappings()]

    def release(self, article_id: str, released_at: datetime) -> dict[str, Any] | None:
        """Mark a quarantined article released and hand back its stored record for re-processing."""
        with self.engine.begin() as conn:
            row = conn.execute(sa.select(s.quarantine).where(s.quarantine.c.article_id == article_id)).first()
            if row is None:
                return None
            conn.execute(s.quarantine.update().where(s.quarantine.c.article_id == article_id)
                         .values(released_at=released_at))
            return dict(row._mapping)

    # -- digest: see media_monitoring.warehouse.digests ---------------------------------------------

    def sources_needing_attention(self) -> list[dict[str, Any]]:
        """Feeds whose health is not "ok": quiet, failing or blocked, with the reason."""
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(s.feed_health).where(
                s.feed_health.c.status != "ok").order_by(s.feed_health.c.outlet_id)).mappings()
            return [dict(r) for r in rows]


def latest_outlet_quality_query() -> sa.Select:
    """The most recent ``outlet_quality`` row of every outlet.

    A year of half-hourly runs is ~500,000 rows for 30 outlets, and a GROUP BY reads them all (100 ms on
    PostgreSQL). This walks ix_outlet_quality_outlet_time instead, two probes per outlet: the next outlet
    id after the last one (a recursive CTE: a loose index scan in PostgreSQL and SQLite alike), then
    that outlet's latest row.
    """
    q = s.outlet_quality
    outlets = sa.select(sa.func.min(q.c.outlet_id).label("outlet_id")).cte("outlets", recursive=True)
    later = q.alias("later")
    following = sa.select(sa.func.min(later.c.outlet_id)).where(later.c.outlet_id > outlets.c.outlet_id)
    outlets = outlets.union_all(sa.select(following.scalar_subquery()).where(outlets.c.outlet_id.is_not(None)))
    newest = q.alias("newest")
    at = (sa.select(newest.c.validated_at).where(newest.c.outlet_id == outlets.c.outlet_id)
          .order_by(newest.c.validated_at.desc()).limit(1).scalar_subquery())
    return sa.select(q).join(outlets, q.c.outlet_id == outlets.c.outlet_id).where(q.c.validated_at == at)
