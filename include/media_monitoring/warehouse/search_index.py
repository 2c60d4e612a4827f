"""The full-text search index on each backend: what it is made of, and creating what a warehouse lacks.

* **SQLite** (the embedded default): an FTS5 table ``articles_fts`` over ``articles.title`` and ``.text``
  with external content (the text is not stored twice), kept in step by three triggers on ``articles``
  (insert, update of title/text, delete: the pattern of the FTS5 documentation), so every write path,
  ``commit_batch`` included, updates it in the same transaction. Tokenizer ``unicode61 remove_diacritics 2``:
  any script's letters, lowercase, Latin accents and Arabic harakat folded; the ZWNJ separates.
* **PostgreSQL**: a stored generated column ``articles.search_vector`` (``tsvector``, title weighted A, body B)
  with a GIN index ``ix_articles_search``. The text search configuration is ``simple`` (lowercase, no
  stemming, no stop words): the only built-in one that treats every outlet's language alike (English,
  Russian, Persian/Dari, Pashto, Arabic, Kazakh, Uzbek...), where a language's stemmer would mangle the
  others' words. Before it, the immutable function ``media_monitor_search_fold`` folds what FTS5 folds
  (Latin accents, combining marks, Arabic harakat), so a query finds the same articles on both engines.

Neither schema object can be said in SQLAlchemy's metadata (a virtual table, a generated ``tsvector``), so
:func:`ensure_search_index` creates what is missing on every ``Warehouse.connect`` (check first: idempotent,
safe with several processes connecting at once) and fills it from the stored articles once. The queries
that read it are in :mod:`media_monitoring.warehouse.search`.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa

if TYPE_CHECKING:
    from media_monitoring.warehouse import Warehouse

log = logging.getLogger(__name__)

FTS_TABLE = "articles_fts"
FTS_TRIGGERS = ("articles_fts_insert", "articles_fts_delete", "articles_fts_update")
SEARCH_COLUMN = "search_vector"
SEARCH_INDEX = "ix_articles_search"
FOLD_FUNCTION = "media_monitor_search_fold"


def _sqlite_ddl() -> list[str]:
    new = "new.rowid, new.title, new.text"
    old = "'delete', old.rowid, old.title, old.text"
    return [
        f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS_TABLE} USING fts5(title, text, content='articles', "
        "content_rowid='rowid', tokenize='unicode61 remove_diacritics 2')",
        f"CREATE TRIGGER IF NOT EXISTS {FTS_TRIGGERS[0]} AFTER INSERT ON articles BEGIN "
        f"INSERT INTO {FTS_TABLE}(rowid, title, text) VALUES ({new}); END",
        f"CREATE TRIGGER IF NOT EXISTS {FTS_TRIGGERS[1]} AFTER DELETE ON articles BEGIN "
        f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, title, text) VALUES ({old}); END",
        f"CREATE TRIGGER IF NOT EXISTS {FTS_TRIGGERS[2]} AFTER UPDATE OF title, text ON articles BEGIN "
        f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, title, text) VALUES ({old}); "
        f"INSERT INTO {FTS_TABLE}(rowid, title, text) VALUES ({new}); END",
    ]


def _postgres_function_ddl() -> str:
    """The fold: Latin letters lose their accents (NFD, the combining marks after an ASCII letter dropped,
    NFC again: Cyrillic й and ё stay, as FTS5 keeps them), Arabic harakat are dropped. Pure-ASCII text (most
    English articles) skips it: ``translate`` with a table of accented letters cost 1.3 ms per 500 characters,
    this 0.07 ms."""
    latin_marks = f"([A-Za-z])[{chr(0x300)}-{chr(0x36F)}]+"
    harakat = f"[{chr(0x64B)}-{chr(0x65F)}{chr(0x670)}]"
    return (f"CREATE OR REPLACE FUNCTION {FOLD_FUNCTION}(value text) RETURNS text LANGUAGE sql IMMUTABLE STRICT "
            "PARALLEL SAFE AS $$ SELECT CASE WHEN octet_length(value) = length(value) THEN value ELSE "
            f"regexp_replace(normalize(regexp_replace(normalize(value, NFD), '{latin_marks}', '\\1', 'g'), NFC), "
            f"'{harakat}', '', 'g') END $$")


def postgres_vector_expression() -> str:
    """The generated column's expression (the bench builds the same column)."""
    return (f"setweight(to_tsvector('simple'::regconfig, {FOLD_FUNCTION}(coalesce(title, ''))), 'A') || "
            f"setweight(to_tsvector('simple'::regconfig, {FOLD_FUNCTION}(text)), 'B')")


def postgres_index_ddl() -> str:
    return f"CREATE INDEX IF NOT EXISTS {SEARCH_INDEX} ON articles USING gin ({SEARCH_COLUMN})"


def missing_parts(conn: sa.Connection) -> list[str]:
    """The parts of the search index this warehouse lacks (empty: ready)."""
    if conn.dialect.name == "sqlite":
        names = set(conn.exec_driver_sql(
            "SELECT name FROM sqlite_master WHERE type IN ('table', 'trigger')").scalars())
        return [n for n in (FTS_TABLE, *FTS_TRIGGERS) if n not in names]
    missing = []
    if conn.exec_driver_sql(f"SELECT to_regprocedure('{FOLD_FUNCTION}(text)') IS NULL").scalar():
        missing.append(FOLD_FUNCTION)
    if not conn.execute(sa.text("SELECT 1 FROM information_schema.columns WHERE table_schema = current_schema() "
                                "AND table_name = 'articles' AND column_name = :c"), {"c": SEARCH_COLUMN}).first():
        missing.append(SEARCH_COLUMN)
    if conn.execute(sa.text("SELECT to_regclass(:i) IS NULL"), {"i": SEARCH_INDEX}).scalar():
        missing.append(SEARCH_INDEX)
    return missing


def ensure_search_index(conn: sa.Connection) -> list[str]:
    """Create the parts of the search index this warehouse lacks and fill them from the stored articles;
    returns what was created. Every statement is idempotent: a second process doing the same is harmless."""
    missing = missing_parts(conn)
    if not missing:
        return []
    started = datetime.now(UTC)
    if conn.dialect.name == "sqlite":
        for statement in _sqlite_ddl():
            conn.exec_driver_sql(statement)
        if FTS_TABLE in missing:  # a new index over the articles already stored
            conn.exec_driver_sql(f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('rebuild')")
    else:
        if FOLD_FUNCTION in missing:
            conn.exec_driver_sql(_postgres_function_ddl())
        if SEARCH_COLUMN in missing:
            log.warning("adding %s to articles: every stored article is indexed now (the table is rewritten)",
                        SEARCH_COLUMN)
            conn.exec_driver_sql(f"ALTER TABLE articles ADD COLUMN IF NOT EXISTS {SEARCH_COLUMN} tsvector "
                                 f"GENERATED ALWAYS AS ({postgres_vector_expression()}) STORED")
        conn.exec_driver_sql(postgres_index_ddl())
    log.warning("search index created (%s) in %.1f s", ", ".join(missing),
                (datetime.now(UTC) - started).total_seconds())
    return missing


def search_ready(wh: Warehouse) -> bool:
    """Whether this warehouse has its whole search index (the view says so when it does not)."""
    with wh.engine.connect() as conn:
        return not missing_parts(conn)
