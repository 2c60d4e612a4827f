"""The story index in the warehouse: what a run reads and writes to place its articles in stories.

Every placed article has its LSH band keys in ``story_bands``
(:func:`media_monitoring.tagging.signatures.band_keys`), written in the transaction that stores its story.
A run reads as candidates only the stored articles that share a band key (or the exact text) with one of
its own and were published within the story window of them, with their signatures and stories: its
memory is its own batch and those candidates, whatever the size of the lookback. Workers that process
staged partitions at the same time place one after another (:func:`placement`), so the second sees the
first's articles and never opens a story the first opened.

The band table of a warehouse that had none (an upgrade) or whose bands are of another
:data:`~media_monitoring.tagging.signatures.BAND_VERSION` is filled for the lookback by the first run that
needs it (:func:`ensure_bands`), signing stored articles again where their signature is of another version.
"""

from __future__ import annotations

import json
import logging
import zlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from media_monitoring.tagging.signatures import BAND_VERSION, SIGNATURE_VERSION, band_keys, pack_signature, sketch
from media_monitoring.tagging.stories import WINDOW, Assignment, StoryArticle
from media_monitoring.warehouse import schema as s
from media_monitoring.warehouse.store import UPSERT_CHUNK, Warehouse, aware

log = logging.getLogger(__name__)

# Key of the PostgreSQL advisory lock that one placement holds until it commits: candidates are read and
# stories written by one worker at a time. The rest of ``process`` (validation, tags, the article rows)
# runs in parallel; placing a batch is a fraction of it (bench/story_index_scale.py).
PLACEMENT_LOCK = zlib.crc32(b"media_monitoring.stories.placement")
KEYS_PER_QUERY = 20_000  # band keys (or ids) sent in one statement
ARTICLES_PER_INSERT = 1000  # articles whose band rows go in one executemany: a run's 400,000 rows never all at once
FILL_CHUNK = 2000  # stored articles per transaction while the band table is filled
# Band rows are kept for articles published this long before a run's newest article: late arrivals within
# it find their candidates at once; an older one has its own story window filled on demand. The rows cost
# ~7.5 KB per article in PostgreSQL (bench/RESULTS.md), so they are not kept for the whole archive.
BAND_RETENTION = timedelta(days=7)
BANDS_ROW = "story_bands"  # story_index's row for the band table


def _chunks(values: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start:start + size]


def _in(wh: Warehouse, column: sa.Column, values: Sequence[Any]) -> Iterator[sa.ColumnElement[bool]]:
    """``column IN values`` for tens of thousands of values, in a few statements: one array parameter per
    piece on PostgreSQL, one JSON array read by ``json_each`` on SQLite (no limit on parameters either way)."""
    for piece in _chunks(values, KEYS_PER_QUERY):
        if wh.backend == "postgresql":
            yield column == sa.any_(sa.bindparam(None, list(piece), type_=postgresql.ARRAY(column.type)))
        else:
            each = sa.func.json_each(sa.bindparam(None, json.dumps(list(piece)))).table_valued("value")
            yield column.in_(sa.select(each.c.value))


def _not_in(conn: sa.Connection, column: sa.Column, values: Sequence[Any]) -> sa.ColumnElement[bool]:
    """``column NOT IN values`` for any number of values, in one parameter: an array on PostgreSQL, a JSON
    array read by ``json_each`` on SQLite."""
    if not values:
        return sa.true()
    if conn.dialect.name == "postgresql":
        return column != sa.all_(sa.bindparam(None, list(values), type_=postgresql.ARRAY(column.type)))
    each = sa.func.json_each(sa.bindparam(None, json.dumps(list(values)))).table_valued("value")
    return column.not_in(sa.select(each.c.value))


def _with_keys(articles: Iterable[StoryArticle], keys: Mapping[str, Sequence[int]] | None
               ) -> Iterator[tuple[StoryArticle, Sequence[int]]]:
    """Each article with its band keys: from ``keys`` (by article id) if given, else from its signature."""
    for a in articles:
        yield a, keys[a.article_id] if keys is not None else band_keys(a.signature)


def band_rows(articles: Iterable[StoryArticle], keys: Mapping[str, Sequence[int]] | None = None
              ) -> list[dict[str, Any]]:
    """The ``story_bands`` rows of placed articles (``keys``: their band keys by article id, if known)."""
    return [{"band_key": key, "published_at": a.published_at, "article_id": a.article_id}
            for a, article_keys in _with_keys(articles, keys) for key in article_keys]


@contextmanager
def placement(wh: Warehouse) -> Iterator[sa.Connection]:
    """One transaction in which a worker reads candidates and writes stories, alone: on PostgreSQL under a
    transaction-scoped advisory lock, on SQLite under the database's write lock, taken by a first write
    (SQLite serialises writers, but a read before it would see the database as it was before another's)."""
    with wh.engine.begin() as conn:
        if wh.backend == "postgresql":
            conn.execute(sa.select(sa.func.pg_advisory_xact_lock(PLACEMENT_LOCK)))
        else:
            conn.execute(s.story_index.delete().where(sa.false()))
        yield conn


def _article_columns() -> list[sa.ColumnElement[Any]]:
    a, st, sto = s.articles, s.article_stories, s.stories
    return [a.c.article_id, a.c.signature, a.c.signature_version, a.c.published_at, a.c.fetched_at, a.c.outlet_id,
            a.c.outlet_country, a.c.countries, a.c.text_hash, st.c.story_id, sto.c.first_seen.label("story_first_seen")]


def _row(r: Any) -> dict[str, Any]:
    row = dict(r)
    row["published_at"] = aware(row["published_at"] or row["fetched_at"])
    row["story_first_seen"] = aware(row["story_first_seen"])
    return row


def is_current(row: dict[str, Any]) -> bool:
    """Is the stored signature comparable with new ones (present and of this SIGNATURE_VERSION)?"""
    return row["signature"] is not None and row["signature_version"] == SIGNATURE_VERSION


def candidates(wh: Warehouse, conn: sa.Connection, keys: Iterable[int], text_hashes: Iterable[str],
               since: datetime, until: datetime, exclude: Iterable[str] = ()) -> list[dict[str, Any]]:
    """Stored articles with a story, published between ``since`` and ``until``, that share a band key or
    an exact text with the articles being placed: rows for :meth:`StoryArticle.from_row`."""
    a, b, st, sto = s.articles, s.story_bands, s.article_stories, s.stories
    skip = set(exclude)
    ids: set[str] = set()
    for where in _in(wh, b.c.band_key, sorted(set(keys))):
        ids.update(conn.execute(sa.select(b.c.article_id).distinct().where(
            where, b.c.published_at >= since, b.c.published_at <= until)).scalars())
    for where in _in(wh, a.c.text_hash, sorted(set(text_hashes))):
        ids.update(conn.execute(sa.select(a.c.article_id).join(st, st.c.article_id == a.c.article_id).where(
            where, a.c.published_at >= since, a.c.published_at <= until)).scalars())
    rows: list[dict[str, Any]] = []
    for where in _in(wh, a.c.article_id, sorted(ids - skip)):
        q = (sa.select(*_article_columns()).join(st, st.c.article_id == a.c.article_id)
             .outerjoin(sto, sto.c.story_id == st.c.story_id).where(where))
        rows.extend(_row(r) for r in conn.execute(q).mappings())
    return rows


def unassigned(conn: sa.Connection, since: datetime, exclude: Iterable[str] = ()) -> list[dict[str, Any]]:
    """Stored articles published since ``since`` without a story, but those in ``exclude`` (the caller's own,
    which it has at hand): a run stopped between storing them and placing them. The caller places them with
    its own."""
    a, st, sto = s.articles, s.article_stories, s.stories
    q = (sa.select(*_article_columns()).outerjoin(st, st.c.article_id == a.c.article_id)
         .outerjoin(sto, sto.c.story_id == st.c.story_id)
         .where(a.c.published_at >= since, st.c.article_id.is_(None),
                _not_in(conn, a.c.article_id, sorted(exclude))))
    return [_row(r) for r in conn.execute(q).mappings()]


def sign_again(wh: Warehouse, conn: sa.Connection, rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """``rows`` with signatures of the current version: those without one (after an upgrade that changed
    :data:`~media_monitoring.tagging.signatures.SIGNATURE_VERSION`, or from before stories) are signed again
    from their stored title and text and stored. Their band keys change too: see :func:`replace_bands`."""
    a = s.articles
    stale = [r for r in rows if not is_current(r)]
    if not stale:
        return list(rows)
    signed: dict[str, dict[str, Any]] = {}
    for part in _chunks(stale, FILL_CHUNK):
        texts = {r["article_id"]: r for r in conn.execute(sa.select(a.c.article_id, a.c.title, a.c.text).where(
            a.c.article_id.in_([r["article_id"] for r in part]))).mappings()}
        for r in part:
            text = texts[r["article_id"]]
            signed[r["article_id"]] = {**r, "signature": pack_signature(sketch(text["title"], text["text"])),
                                       "signature_version": SIGNATURE_VERSION}
        conn.execute(sa.update(a).where(a.c.article_id == sa.bindparam("id"))
                     .values(signature=sa.bindparam("sig"), signature_version=sa.bindparam("version")),
                     [{"id": i, "sig": r["signature"], "version": SIGNATURE_VERSION}
                      for i, r in ((r["article_id"], signed[r["article_id"]]) for r in part)])
        log.info("signed %d of %d stored articles again (signature version %s)", len(signed), len(stale),
                 SIGNATURE_VERSION)
    return [signed.get(r["article_id"], r) for r in rows]


def replace_bands(conn: sa.Connection, articles: Sequence[StoryArticle],
                  keys: Mapping[str, Sequence[int]] | None = None) -> None:
    """Store the band keys of placed articles in place of any they had (``keys``: the articles' band keys by
    article id, where the caller has them already; otherwise they are computed from the signatures)."""
    ids = [a.article_id for a in articles]
    for piece in _chunks(ids, UPSERT_CHUNK):
        conn.execute(s.story_bands.delete().where(s.story_bands.c.article_id.in_(list(piece))))
    if conn.dialect.name == "sqlite":
        # LSH_BANDS rows an article: SQLAlchemy's work per row would cost more than SQLite's, so the rows go
        # to the driver as tuples, the time in the text form SQLAlchemy's DateTime writes (and compares).
        as_text = s.story_bands.c.published_at.type.dialect_impl(conn.dialect).bind_processor(conn.dialect)
        if as_text is None:  # SQLite's DateTime always has one
            raise RuntimeError("no SQLite bind processor for story_bands.published_at")
        rows = [(key, as_text(a.published_at), a.article_id) for a, article_keys in _with_keys(articles, keys)
                for key in article_keys]
        if rows:
            conn.exec_driver_sql("INSERT INTO story_bands (band_key, published_at, article_id) VALUES (?, ?, ?)",
                                 rows)
        return
    for piece in _chunks(articles, ARTICLES_PER_INSERT):
        piece_rows = band_rows(piece, keys)
        if piece_rows:
            conn.execute(s.story_bands.insert(), piece_rows)


def save_placement(wh: Warehouse, conn: sa.Connection, assignments: Sequence[Assignment],
                   articles: Sequence[StoryArticle], keys: Mapping[str, Sequence[int]] | None = None) -> None:
    """Store where the articles went (``article_stories``) and their band keys (``keys`` by article id, if
    the caller has them), replacing earlier ones."""
    wh.upsert(conn, s.article_stories, [a.to_row() for a in assignments])
    replace_bands(conn, articles, keys)


def members(conn: sa.Connection, story_ids: Sequence[str], exclude: Sequence[str] = ()) -> list[dict[str, Any]]:
    """Every stored article of these stories but those in ``exclude`` (the caller's own, which it holds),
    with what their summaries need."""
    a, st = s.articles, s.article_stories
    rows = []
    others = _not_in(conn, st.c.article_id, exclude)
    for piece in _chunks(list(story_ids), UPSERT_CHUNK):
        q = (sa.select(a.c.article_id, a.c.signature, a.c.published_at, a.c.fetched_at, a.c.outlet_id,
                       a.c.outlet_country, a.c.countries, a.c.text_hash, a.c.title, st.c.story_id)
             .join(st, st.c.article_id == a.c.article_id).where(st.c.story_id.in_(list(piece)), others))
        for r in conn.execute(q).mappings():
            row = dict(r)
            row["published_at"] = aware(row["published_at"] or row["fetched_at"])
            rows.append(row)
    return rows


def save_summaries(wh: Warehouse, conn: sa.Connection, rows: Sequence[dict[str, Any]]) -> None:
    """Store the ``stories`` rows of the stories a placement touched."""
    wh.upsert(conn, s.stories, rows)


def save_stories(wh: Warehouse, assignments: Sequence[dict[str, Any]], stories: Sequence[dict[str, Any]]) -> None:
    """Store ``article_stories`` and ``stories`` rows as they are, in one transaction (no band keys: the rows
    of a placement go through :func:`save_placement` and :func:`save_summaries`)."""
    with wh.engine.begin() as conn:
        wh.upsert(conn, s.article_stories, assignments)
        wh.upsert(conn, s.stories, stories)


def stories_of(wh: Warehouse, article_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
    """article_id -> its story row."""
    st, sto = s.article_stories, s.stories
    with wh.engine.connect() as conn:
        rows = conn.execute(sa.select(st.c.article_id, sto).join(sto, sto.c.story_id == st.c.story_id)
                            .where(st.c.article_id.in_(list(article_ids)))).mappings()
        return {r["article_id"]: dict(r) for r in rows}


def _state(conn: sa.Connection) -> tuple[str | None, datetime | None]:
    """(version, complete_from) of the band table; (None, None) before its first fill."""
    row = conn.execute(sa.select(s.story_index).where(s.story_index.c.name == BANDS_ROW)).mappings().first()
    return (row["version"], aware(row["complete_from"])) if row is not None else (None, None)


def _fill(wh: Warehouse, start: datetime, end: datetime | None) -> int:
    """Band keys of the stored articles with a story published in ``[start, end)`` (``end`` None: since
    ``start``), signing again those whose signature is of another version; in transactions of FILL_CHUNK."""
    a, st = s.articles, s.article_stories
    q = (sa.select(*_article_columns()).join(st, st.c.article_id == a.c.article_id)
         .outerjoin(s.stories, s.stories.c.story_id == st.c.story_id).where(a.c.published_at >= start))
    if end is not None:
        q = q.where(a.c.published_at < end)
    filled = 0
    with wh.engine.connect() as reader:
        for part in reader.execution_options(yield_per=FILL_CHUNK).execute(q).mappings().partitions():
            with wh.engine.begin() as conn:
                current = sign_again(wh, conn, [_row(r) for r in part])
                replace_bands(conn, [StoryArticle.from_row(r) for r in current])
            filled += len(part)
    return filled


def _late_windows(published: Iterable[datetime], complete_from: datetime) -> list[tuple[datetime, datetime]]:
    """The story windows of articles published so early that they reach before ``complete_from``, merged."""
    windows: list[tuple[datetime, datetime]] = []
    for moment in sorted(p for p in published if p - WINDOW < complete_from):
        start, end = moment - WINDOW, min(moment + WINDOW, complete_from)
        if windows and start <= windows[-1][1]:
            windows[-1] = (windows[-1][0], max(windows[-1][1], end))
        else:
            windows.append((start, end))
    return windows


def ensure_bands(wh: Warehouse, published: Sequence[datetime]) -> int:
    """Make ``story_bands`` hold every stored article a batch published at ``published`` may join, and
    drop the rows no run is expected to need. Placed articles get their rows when placed; this fills:

    - on a warehouse without bands yet (an upgrade) or with bands of another :data:`BAND_VERSION`: the
      lookback of the batch, once; the table is complete from there on;
    - for a late article, published before the table is complete: its own story window, on demand;

    and drops the rows of articles published more than :data:`BAND_RETENTION` before the batch's newest.
    Returns the number of stored articles filled."""
    since, newest = min(published) - WINDOW, max(published)
    with wh.engine.connect() as conn:
        version, complete_from = _state(conn)
    filled = 0
    if version != BAND_VERSION or complete_from is None:
        if version is not None:
            log.warning("story bands of version %s are replaced by version %s", version, BAND_VERSION)
            with wh.engine.begin() as conn:
                conn.execute(s.story_bands.delete())
        filled, complete_from = _fill(wh, since, None), since
    else:
        for start, end in _late_windows(published, complete_from):
            filled += _fill(wh, start, end)
    keep_from = newest - BAND_RETENTION
    with placement(wh) as conn:  # the state moves under the lock: workers never undo each other's pruning
        version, stored_from = _state(conn)
        if version == BAND_VERSION and stored_from is not None:
            complete_from = max(complete_from, stored_from)
        if keep_from > complete_from:
            a = s.articles
            old = conn.execute(sa.select(a.c.article_id).where(a.c.published_at >= complete_from - WINDOW,
                                                               a.c.published_at < keep_from)).scalars().all()
            for piece in _chunks(old, UPSERT_CHUNK):
                conn.execute(s.story_bands.delete().where(s.story_bands.c.article_id.in_(list(piece))))
            complete_from = keep_from
        wh.upsert(conn, s.story_index, [{"name": BANDS_ROW, "version": BAND_VERSION, "complete_from": complete_from}])
    if filled:
        log.info("story bands filled for %d stored articles", filled)
    return filled
