"""SQL of the articles: the staging rows a run collects, the stored articles with their sources, watchlist
hits and places, the lookups that keep one article per page (known ids, headlines, exact texts), and the
quarantine.

The collect step only stages: an extracted page as a :class:`~media_monitoring.records.StagedArticle`, and
a feed entry that leads to an article already stored as a *sources* row (:func:`stage`). The process step
stores the :class:`~media_monitoring.records.Article` records it made of them with the ones quarantined
(:func:`store_batch`) and adds the staged sources to the stored articles (:func:`add_staged_sources`).
Records become JSON payloads and table rows here, and come back from them here, nowhere else.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from media_monitoring.records import Article, Quarantined, Source, StagedArticle, sources_to_json
from media_monitoring.rules import ARTICLE_KEY_CHARS
from media_monitoring.warehouse import schema as s
from media_monitoring.warehouse.store import UPSERT_CHUNK, Warehouse, aware_row

# An article stored again (re-processed, released) keeps when it was first seen and stored.
ARTICLE_UPDATE_COLUMNS = tuple(c.name for c in s.articles.columns
                               if c.name not in ("article_id", "first_seen_at", "stored_at"))
SOURCES_OF = "sources_of"  # the key of a staged record that holds more feed entries of a stored article


# -- staging ---------------------------------------------------------------------------------------


def sources_key(outlet_id: str, article_id: str) -> str:
    """The staging key of one outlet's new sources of a stored article: as long as an article id (a hash of
    a URL, which never holds a line break) and never one, so it stages beside the outlet's records."""
    return hashlib.sha256(f"{SOURCES_OF}\n{outlet_id}\n{article_id}".encode()).hexdigest()[:ARTICLE_KEY_CHARS]


def stage(wh: Warehouse, run_id: str, outlet_id: str, records: Sequence[StagedArticle],
          sources: Mapping[str, Sequence[Source]] | None = None) -> None:
    """Stage one outlet's extracted records and, per stored article id, the feed entries of this poll that
    lead to it (``sources``), in one transaction; a collect task run again stages the same rows."""
    rows = [{"run_id": run_id, "article_id": r.article_id, "outlet_id": outlet_id, "record": r.to_json()}
            for r in records]
    rows += [{"run_id": run_id, "article_id": sources_key(outlet_id, article_id), "outlet_id": outlet_id,
              "record": {SOURCES_OF: article_id, "sources": sources_to_json(found), "run_id": run_id}}
             for article_id, found in (sources or {}).items()]
    with wh.engine.begin() as conn:
        wh.upsert(conn, s.staging, rows)


def _staged_sources() -> sa.ColumnElement[bool]:
    return s.staging.c.record[SOURCES_OF].as_string().is_not(None)


def staged(wh: Warehouse) -> list[StagedArticle]:
    """Every staged article record not yet processed, this run's and any a failed earlier run left behind."""
    with wh.engine.connect() as conn:
        rows = conn.execute(sa.select(s.staging.c.run_id, s.staging.c.record).where(~_staged_sources())
                            .order_by(s.staging.c.run_id, s.staging.c.article_id)).all()
    return [StagedArticle.from_json({**record, "run_id": record.get("run_id") or run_id}) for run_id, record in rows]


def add_staged_sources(wh: Warehouse) -> int:
    """Add every staged sources row to its stored article, without duplicates, and clear those rows, in one
    transaction; returns the articles changed. An article no longer stored (quarantined, say) gets none."""
    st = s.staging
    with wh.engine.begin() as conn:
        rows = conn.execute(sa.select(st.c.run_id, st.c.article_id, st.c.record).where(_staged_sources())
                            .order_by(st.c.run_id, st.c.article_id)).all()
        new: dict[str, list[dict[str, Any]]] = {}
        for _run_id, _key, record in rows:
            new.setdefault(record[SOURCES_OF], []).extend(record["sources"])
        changed = _merge_sources(conn, new)
        if rows:
            conn.execute(st.delete().where(st.c.run_id == sa.bindparam("run"), st.c.article_id == sa.bindparam("key")),
                         [{"run": run_id, "key": key} for run_id, key, _record in rows])
    return changed


# -- stored articles -------------------------------------------------------------------------------


def known_ids(wh: Warehouse, article_ids: Iterable[str]) -> set[str]:
    """Ids already stored as articles or quarantined: their entries are not fetched again."""
    ids = list(set(article_ids))
    found: set[str] = set()
    with wh.engine.connect() as conn:
        for start in range(0, len(ids), UPSERT_CHUNK):
            chunk = ids[start:start + UPSERT_CHUNK]
            for table in (s.articles, s.quarantine):
                found.update(conn.execute(
                    sa.select(table.c.article_id).where(table.c.article_id.in_(chunk))).scalars())
    return found


def _merge_sources(conn: sa.Connection, new: Mapping[str, Sequence[dict[str, Any]]]) -> int:
    """Append feed entries to the ``sources`` of stored articles, skipping those already there; returns the
    articles changed."""
    a = s.articles
    ids = list(new)
    current: dict[str, list[dict[str, Any]]] = {}
    for start in range(0, len(ids), UPSERT_CHUNK):
        for article_id, sources in conn.execute(sa.select(a.c.article_id, a.c.sources).where(
                a.c.article_id.in_(ids[start:start + UPSERT_CHUNK]))):
            current[article_id] = list(sources or [])
    changed = 0
    for article_id, sources in current.items():
        merged = list(sources)
        for src in new[article_id]:
            if src not in merged:
                merged.append(src)
        if merged != sources:
            conn.execute(a.update().where(a.c.article_id == article_id).values(sources=merged))
            changed += 1
    return changed


def add_sources(wh: Warehouse, article_id: str, sources: Sequence[Source]) -> None:
    """Record more feed entries pointing at a stored article (provenance), without duplicates."""
    with wh.engine.begin() as conn:
        _merge_sources(conn, {article_id: sources_to_json(sources)})


def store_batch(wh: Warehouse, run_id: str, articles: Sequence[Article], *, quarantined: Sequence[Quarantined] = (),
                quarantined_at: datetime | None = None, validation: dict[str, Any] | None = None,
                processed: Sequence[StagedArticle] = ()) -> None:
    """Store what process made of one batch in a single transaction (:func:`commit_batch`): the articles
    with their hits and places, the ``quarantined`` ones with their records (at ``quarantined_at``), the
    run's ``validation`` row; clear the staging rows of the ``processed`` records and the page failures of
    the feed entries they resolve."""
    if quarantined and quarantined_at is None:
        raise ValueError("quarantined articles need the time they were quarantined at")
    held = [{"article_id": q.record.article_id, "canonical_url": q.record.canonical_url, "url": q.record.url,
             "outlet_id": q.record.outlet_id, "run_id": run_id, "failed_expectations": list(q.failed),
             "observed": q.observed, "record": q.record.to_json(), "quarantined_at": quarantined_at}
            for q in quarantined]
    commit_batch(wh, run_id, [a.as_row() for a in articles],
                 [h.as_row(a.article_id) for a in articles for h in a.hits],
                 [row for a in articles for p in a.places for row in p.as_rows(a.article_id)], held, validation,
                 processed=[(r.run_id or run_id, r.article_id) for r in processed],
                 entry_ids=[i for r in processed for i in r.entry_ids])


def commit_batch(
    wh: Warehouse,
    run_id: str,
    articles: Sequence[dict[str, Any]],
    hits: Sequence[dict[str, Any]],
    places: Sequence[dict[str, Any]],
    quarantined: Sequence[dict[str, Any]],
    validation: dict[str, Any] | None,
    processed: Sequence[tuple[str, str]] | None = None,
    entry_ids: Sequence[str] | None = None,
) -> None:
    """Store one processed batch, as table rows, in a single transaction; clear its staging rows
    (``processed``: (run id, article id) pairs) and the page failures of the feed entries it resolves.
    The pipeline stores its records through :func:`store_batch`; rows written straight here (an import, a
    test's fixtures) are stored as given."""
    ids = [a["article_id"] for a in articles]
    with wh.engine.begin() as conn:
        wh.upsert(conn, s.articles, articles, update=ARTICLE_UPDATE_COLUMNS)
        for start in range(0, len(ids), UPSERT_CHUNK):  # tags are replaced, not accumulated
            chunk = ids[start:start + UPSERT_CHUNK]
            conn.execute(s.watchlist_hits.delete().where(s.watchlist_hits.c.article_id.in_(chunk)))
            conn.execute(s.article_places.delete().where(s.article_places.c.article_id.in_(chunk)))
        wh.upsert(conn, s.watchlist_hits, hits)
        wh.upsert(conn, s.article_places, places)
        refresh_hit_places(conn, ids)
        wh.upsert(conn, s.quarantine, quarantined, update=["failed_expectations", "observed", "record", "run_id"])
        if validation:
            wh.upsert(conn, s.validation_runs, [validation])
        done = sorted({*ids, *(q["article_id"] for q in quarantined), *(entry_ids or ())})
        for start in range(0, len(done), UPSERT_CHUNK):  # fetched at last: no longer a failure
            conn.execute(s.fetch_failures.delete().where(
                s.fetch_failures.c.article_id.in_(done[start:start + UPSERT_CHUNK])))
        if processed:  # one statement for every staged row: an executemany, not a round trip each
            conn.execute(s.staging.delete().where(s.staging.c.run_id == sa.bindparam("run"),
                                                  s.staging.c.article_id == sa.bindparam("id")),
                         [{"run": run, "id": article_id} for run, article_id in processed])


def find_by_title(wh: Warehouse, outlet_id: str, title_key: str, start: datetime, end: datetime) -> str | None:
    """An article of ``outlet_id`` with the same normalised headline published in [start, end]."""
    a = s.articles
    with wh.engine.connect() as conn:
        return conn.execute(sa.select(a.c.article_id).where(
            a.c.outlet_id == outlet_id, a.c.title_key == title_key,
            a.c.published_at >= start, a.c.published_at <= end).limit(1)).scalar()


def ids_by_text_hash(wh: Warehouse, hashes: Iterable[str]) -> dict[str, str]:
    """text_hash -> the stored article with that exact text."""
    a = s.articles
    wanted = list(set(hashes))
    found: dict[str, str] = {}
    with wh.engine.connect() as conn:
        for start in range(0, len(wanted), UPSERT_CHUNK):
            for text_hash, article_id in conn.execute(sa.select(a.c.text_hash, a.c.article_id).where(
                    a.c.text_hash.in_(wanted[start:start + UPSERT_CHUNK]))):
                found.setdefault(text_hash, article_id)
    return found


def articles_page(wh: Warehouse, start: datetime, end: datetime, after_id: str, limit: int) -> list[dict[str, Any]]:
    """Articles published in [start, end), keyset-paginated by id: their id, title, text, outlet, URL and
    publication time (re-tagging reads the first three, a backtest shows the rest)."""
    a = s.articles
    with wh.engine.connect() as conn:
        return [aware_row(r) for r in conn.execute(
            sa.select(a.c.article_id, a.c.title, a.c.text, a.c.outlet_id, a.c.url, a.c.published_at).where(
                a.c.published_at >= start, a.c.published_at < end, a.c.article_id > after_id)
            .order_by(a.c.article_id).limit(limit)).mappings()]


# -- hits ------------------------------------------------------------------------------------------


def replace_hits(wh: Warehouse, article_ids: Sequence[str], watchlists: Sequence[str],
                 hits: Sequence[dict[str, Any]]) -> None:
    """Replace the given watchlists' hits of these articles in one transaction."""
    h = s.watchlist_hits
    with wh.engine.begin() as conn:
        conn.execute(h.delete().where(h.c.article_id.in_(list(article_ids)), h.c.watchlist.in_(list(watchlists))))
        wh.upsert(conn, h, hits)
        refresh_hit_places(conn, article_ids)


def rebuild_hit_places(wh: Warehouse) -> int:
    """Recompute all of ``hit_places`` (after rows were written around this module); returns its rows."""
    with wh.engine.begin() as conn:
        refresh_hit_places(conn, None)
    return wh.count("hit_places")


def refresh_hit_places(conn: sa.Connection, article_ids: Sequence[str] | None) -> None:
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


# -- quarantine ------------------------------------------------------------------------------------


def quarantined(wh: Warehouse, *, include_released: bool = False) -> list[dict[str, Any]]:
    q = sa.select(s.quarantine).order_by(s.quarantine.c.outlet_id, s.quarantine.c.article_id)
    if not include_released:
        q = q.where(s.quarantine.c.released_at.is_(None))
    with wh.engine.connect() as conn:
        return [dict(r) for r in conn.execute(q).mappings()]


def held_records(wh: Warehouse) -> dict[str, StagedArticle]:
    """The staged records of the articles still in quarantine, by article id: what a release validates again."""
    q = s.quarantine
    with wh.engine.connect() as conn:
        rows = conn.execute(sa.select(q.c.article_id, q.c.record).where(q.c.released_at.is_(None))
                            .order_by(q.c.outlet_id, q.c.article_id)).all()
    return {article_id: StagedArticle.from_json(record) for article_id, record in rows}


def release(wh: Warehouse, article_id: str, released_at: datetime) -> dict[str, Any] | None:
    """Mark a quarantined article released and hand back its stored record for re-processing."""
    with wh.engine.begin() as conn:
        row = conn.execute(sa.select(s.quarantine).where(s.quarantine.c.article_id == article_id)).first()
        if row is None:
            return None
        conn.execute(s.quarantine.update().where(s.quarantine.c.article_id == article_id)
                     .values(released_at=released_at))
        return dict(row._mapping)
