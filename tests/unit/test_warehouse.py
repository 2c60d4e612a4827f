"""The warehouse schema guard and the upserts every idempotent write relies on."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from media_monitoring.records import Source, StagedArticle
from media_monitoring.warehouse import Warehouse, WarehouseSchemaError
from media_monitoring.warehouse import articles as article_store
from media_monitoring.warehouse import schema as s
from media_monitoring.warehouse.store import regions_about

pytestmark = pytest.mark.unit


def test_a_warehouse_of_another_schema_version_is_refused_with_a_clear_message(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.sqlite'}"
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("create table articles (article_id text primary key)"))
    engine.dispose()
    with pytest.raises(WarehouseSchemaError, match=r"schema version unknown, this code needs \d+.*make clean"):
        Warehouse.connect(url)


def test_a_new_warehouse_records_its_version_and_reopens(tmp_path):
    url = f"sqlite:///{tmp_path / 'new.sqlite'}"
    Warehouse.connect(url).close()
    wh = Warehouse.connect(url)
    with wh.engine.connect() as conn:
        assert conn.execute(sa.select(s.schema_info.c.version)).scalars().all() == [s.SCHEMA_VERSION]
    wh.close()


def test_a_version_1_warehouse_is_upgraded_in_place_and_keeps_its_rows(tmp_path, caplog):
    """A warehouse made by the first release: no text_hash/signature columns, no stories tables, the
    narrower indexes, the per-watchlist digest tables of versions 1-2 and none of version 3's. Connecting
    upgrades it; the rows stay (the old digest tables too, untouched), the new columns and indexes appear."""
    url = f"sqlite:///{tmp_path / 'v1.sqlite'}"
    wh = Warehouse.connect(url)
    article = {"article_id": "a1", "canonical_url": "https://x.org/a", "url": "https://x.org/a", "outlet_id": "o",
               "text": "body", "word_count": 1, "sources": [], "countries": [], "regions": []}
    article_store.commit_batch(wh, "r1", [article], [], [], [], None, processed=[], entry_ids=[])
    with wh.engine.begin() as conn:
        conn.execute(s.digest_sends.insert().values(
            digest_date=date(2021, 8, 24), subscription="x", recipients=[], message_id="m", subject="s",
            transport="outbox", run_id="r", status="sent", sent_at=datetime(2021, 8, 24, tzinfo=UTC)))
        for statement in ("DROP TABLE article_stories", "DROP TABLE stories",
                          "DROP INDEX ix_articles_text_hash", "ALTER TABLE articles DROP COLUMN text_hash",
                          "ALTER TABLE articles DROP COLUMN signature",
                          "ALTER TABLE digest_sends DROP COLUMN body_text",
                          "ALTER TABLE digest_sends DROP COLUMN error",
                          "DROP INDEX ix_articles_stored",
                          "ALTER TABLE articles DROP COLUMN stored_at",
                          "ALTER TABLE articles DROP COLUMN first_seen_at",
                          "ALTER TABLE articles DROP COLUMN published_local",
                          "ALTER TABLE fetch_failures DROP COLUMN first_attempt_at",
                          "DROP TABLE digest_entries", "DROP TABLE digest_ledger", "DROP TABLE digests",
                          "DROP TABLE feed_status_log", "DROP TABLE pipeline_runs",
                          "CREATE TABLE daily_digests (digest_date DATE, watchlist TEXT, item_count INTEGER)",
                          "INSERT INTO daily_digests VALUES ('2021-08-24', 'w', 3)",
                          "DROP INDEX ix_articles_published", "DROP INDEX ix_articles_outlet_published",
                          "DROP INDEX ix_article_places_code_article", "DROP INDEX ix_watchlist_hits_article",
                          "CREATE INDEX ix_articles_published_at ON articles (published_at)",
                          "CREATE INDEX ix_articles_outlet_id ON articles (outlet_id)",
                          "CREATE INDEX ix_article_places_code ON article_places (kind, code)",
                          "UPDATE schema_info SET version = 1"):
            conn.exec_driver_sql(statement)
    wh.close()

    caplog.set_level("INFO", logger="media_monitoring.warehouse.store")
    for _ in range(2):  # the second connect finds the current version and changes nothing
        wh = Warehouse.connect(url)
        inspector = sa.inspect(wh.engine)
        assert {c["name"] for c in inspector.get_columns("articles")} >= {"text_hash", "signature"}
        assert {c["name"] for c in inspector.get_columns("articles")} >= {"stored_at", "first_seen_at",
                                                                           "published_local"}
        assert {"stories", "article_stories", "digests", "digest_entries", "digest_ledger", "feed_status_log",
                "pipeline_runs"} <= set(inspector.get_table_names())
        indexes = {i["name"] for t in ("articles", "article_places", "watchlist_hits")
                   for i in inspector.get_indexes(t)}
        assert {"ix_articles_published", "ix_articles_outlet_published", "ix_article_places_code_article",
                "ix_watchlist_hits_article", "ix_articles_text_hash"} <= indexes
        assert not indexes & {"ix_articles_published_at", "ix_articles_outlet_id", "ix_article_places_code"}
        with wh.engine.connect() as conn:
            assert conn.execute(sa.select(s.schema_info.c.version)).scalars().all() == [s.SCHEMA_VERSION]
            assert conn.execute(sa.select(s.articles.c.article_id, s.articles.c.text_hash)).all() == [("a1", None)]
            # a send made before body_text existed reads back with an empty body, not NULL
            assert conn.execute(sa.select(s.digest_sends.c.body_text, s.digest_sends.c.attempts)).all() == [("", 1)]
            assert conn.exec_driver_sql("SELECT item_count FROM daily_digests").scalars().all() == [3]
        wh.close()
    assert sum("upgrading the warehouse" in r.message for r in caplog.records) == 1


def test_staging_is_a_queue_and_commit_is_idempotent(tmp_path):
    wh = Warehouse.connect(f"sqlite:///{tmp_path / 'w.sqlite'}")
    record = StagedArticle(article_id="a1", canonical_url="https://x.org/a", url="https://x.org/a", outlet_id="o",
                           run_id="r1", entry_ids=("a1",))
    article_store.stage(wh, "r1", "o", [record])
    article_store.stage(wh, "r1", "o", [record])  # a retried collect stages the same row again, not twice
    assert [r.article_id for r in article_store.staged(wh)] == ["a1"]
    article = {"article_id": "a1", "canonical_url": "https://x.org/a", "url": "https://x.org/a", "outlet_id": "o",
               "text": "body", "word_count": 1, "sources": [], "countries": [], "regions": []}
    for _ in range(2):
        article_store.commit_batch(wh, "r2", [article], [], [], [], None, processed=[("r1", "a1")], entry_ids=["a1"])
    assert wh.count("articles") == 1 and wh.count("staging") == 0
    wh.close()


def test_sources_staged_by_collect_reach_the_stored_article_once_process_adds_them(tmp_path):
    """Collect stages the feed entries that lead to a stored article; they stay apart from the records to
    validate, and process adds them to the article once, whichever outlets and retries staged them."""
    wh = Warehouse.connect(f"sqlite:///{tmp_path / 'w.sqlite'}")
    first = Source(outlet_id="o", link="https://x.org/a")
    article = {"article_id": "a1", "canonical_url": "https://x.org/a", "url": "https://x.org/a", "outlet_id": "o",
               "text": "body", "word_count": 1, "sources": [first.to_json()], "countries": [], "regions": []}
    article_store.commit_batch(wh, "r1", [article], [], [], [], None)
    mirror = Source(outlet_id="p", link="https://mirror.example/a")
    reposted = Source(outlet_id="o", link="https://x.org/a?utm=feed")
    record = StagedArticle(article_id="b1", canonical_url="https://x.org/b", url="https://x.org/b", outlet_id="o",
                           run_id="r2", entry_ids=("b1",))
    for _ in range(2):  # a retried collect task stages the same rows again
        article_store.stage(wh, "r2", "o", [record], sources={"a1": [first, reposted], "gone": [first]})
        article_store.stage(wh, "r2", "p", [], sources={"a1": [mirror]})
    assert [r.article_id for r in article_store.staged(wh)] == ["b1"]
    assert wh.count("articles") == 1
    with wh.engine.connect() as conn:
        # collect changed nothing
        assert conn.execute(sa.select(s.articles.c.sources)).scalar_one() == [first.to_json()]

    assert article_store.add_staged_sources(wh) == 1
    with wh.engine.connect() as conn:
        sources = conn.execute(sa.select(s.articles.c.sources)).scalar_one()
    assert sorted(sources, key=lambda x: x["link"]) == sorted([first.to_json(), reposted.to_json(), mirror.to_json()],
                                                              key=lambda x: x["link"])
    assert [r.article_id for r in article_store.staged(wh)] == ["b1"] and wh.count("staging") == 1
    assert article_store.add_staged_sources(wh) == 0  # nothing left to add
    wh.close()


def test_drift_sets_its_own_columns_and_logs_the_status_change(tmp_path):
    """Process flags drift on a feed's health row without rewriting what the poll recorded there."""
    from media_monitoring.warehouse import feeds as feed_store

    wh = Warehouse.connect(f"sqlite:///{tmp_path / 'w.sqlite'}")
    polled = datetime(2026, 11, 20, 12, tzinfo=UTC)
    feed_store.save_feed_state(wh, {"outlet_id": "o", "feed_url": "https://x.org/rss", "last_attempt_at": polled,
                                    "new_items": 4, "etag": '"v1"', "status": "ok"})
    feed_store.set_drift(wh, "o", "extraction drift", "drifting", "extraction drift", polled)
    state = feed_store.feed_state(wh, "o")
    assert (state["drift_reason"], state["status"], state["status_reason"]) == (
        "extraction drift", "drifting", "extraction drift")
    assert (state["new_items"], state["etag"], state["last_attempt_at"]) == (4, '"v1"', polled)
    with wh.engine.connect() as conn:
        logged = conn.execute(sa.select(s.feed_status_log.c.status, s.feed_status_log.c.changed_at)).all()
    assert [(status, changed.replace(tzinfo=UTC)) for status, changed in logged] == [("drifting", polled)]
    wh.close()


def test_the_region_filter_follows_hits_through_retagging(tmp_path):
    """hit_places (what the UI's region filter reads) stays in step with hits and places on every write."""
    from media_monitoring_ui.cursors import HitFilter
    from media_monitoring_ui.queries.hits import hit_page

    wh = Warehouse.connect(f"sqlite:///{tmp_path / 'w.sqlite'}")
    when = datetime(2021, 8, 24, 9, tzinfo=UTC)
    article = {"article_id": "a1", "canonical_url": "https://x.org/a", "url": "https://x.org/a", "outlet_id": "o",
               "text": "Lavrov in Dushanbe", "word_count": 3, "sources": [], "countries": ["TJ"],
               "regions": ["Central Asia"], "published_at": when}
    hit = {"article_id": "a1", "watchlist": "w", "term": "Lavrov", "field": "text", "start": 0, "end": 6,
           "alias": "Lavrov", "matched": "Lavrov", "snippet": "Lavrov in Dushanbe", "version": "1"}
    mention = {"article_id": "a1", "kind": "region", "code": "Central Asia", "name": "Central Asia", "mentions": 1,
               "evidence": []}
    place = [mention, {**mention, "kind": "focus_reg"}]  # the article is about Central Asia

    def listed(mentioned: bool = False) -> list[str]:
        flt = HitFilter(region="Central Asia", mentioned=mentioned)
        return [a["article_id"] for a in hit_page(wh, flt).articles]

    article_store.commit_batch(wh, "r0", [article], [hit], [mention], [], None)
    assert (listed(), listed(mentioned=True)) == ([], ["a1"]), "an article that only mentions the region"
    article_store.commit_batch(wh, "r1", [article], [hit], place, [], None)
    assert listed() == ["a1"]
    article_store.replace_hits(wh, ["a1"], ["w"], [])  # a watchlist change drops the article's only hit
    assert listed() == []
    article_store.replace_hits(wh, ["a1"], ["w"], [hit])
    assert listed() == ["a1"]
    article_store.commit_batch(wh, "r2", [{**article, "published_at": when + timedelta(hours=1)}], [hit], [], [], None)
    assert listed() == []  # re-tagged without the region
    article_store.commit_batch(wh, "r3", [article], [hit], place, [], None)
    assert [a["published_at"] for a in hit_page(wh, HitFilter(region="Central Asia")).articles] == [when]
    assert article_store.rebuild_hit_places(wh) == 2
    wh.close()


def test_a_version_3_warehouse_without_the_search_index_gets_it_filled(tmp_path, caplog):
    """A warehouse of the current version written before search: connecting creates the FTS5 table and its
    triggers and indexes the articles already stored; later writes are indexed by the triggers."""
    from media_monitoring.search import parse
    from media_monitoring.warehouse import search, search_index

    url = f"sqlite:///{tmp_path / 'v3.sqlite'}"
    wh = Warehouse.connect(url)
    article = {"article_id": "a1", "canonical_url": "https://x.org/a", "url": "https://x.org/a", "outlet_id": "o",
               "title": "Путин в Астане", "text": "body", "word_count": 1, "sources": [], "countries": [],
               "regions": [], "published_at": datetime(2021, 10, 28, tzinfo=UTC)}
    article_store.commit_batch(wh, "r1", [article], [], [], [], None)
    with wh.engine.begin() as conn:
        for trigger in search_index.FTS_TRIGGERS:
            conn.exec_driver_sql(f"DROP TRIGGER {trigger}")
        conn.exec_driver_sql(f"DROP TABLE {search_index.FTS_TABLE}")
    wh.close()

    caplog.clear()  # the first connect created it on the empty warehouse
    for _ in range(2):  # the second connect finds it there and changes nothing
        wh = Warehouse.connect(url)
        assert search_index.search_ready(wh)
        found = search.search_page(wh, parse("путин"), search.SearchFilter())
        assert [a["article_id"] for a in found.articles] == ["a1"]
        wh.close()
    assert sum("search index created" in r.message for r in caplog.records) == 1
    wh = Warehouse.connect(url)
    article_store.commit_batch(wh, "r2", [{**article, "article_id": "a2", "canonical_url": "https://x.org/b",
                                           "title": "Putin"}], [], [], [], None)
    assert [a["article_id"] for a in search.search_page(wh, parse("putin"), search.SearchFilter()).articles] == ["a2"]
    wh.close()


def test_a_version_3_warehouse_gains_the_revision_and_curation_tables_in_place(tmp_path):
    """Versions 4 and 5 only add: the re-check schedule, revisions, the digests' revision notices and
    alerts.revision; the watchlist and subscription versions. A version-3 warehouse keeps its rows and its
    alerts read back with no revision."""
    url = f"sqlite:///{tmp_path / 'v3.sqlite'}"
    wh = Warehouse.connect(url)
    with wh.engine.begin() as conn:
        conn.execute(s.alerts.insert().values(
            subscription="desk", story_id="s1", article_id="a1", url="https://x.org/a", outlet_id="o",
            terms=[], run_id="r", created_at=datetime(2021, 10, 28, tzinfo=UTC), state="sent"))
        for statement in ("DROP TABLE article_rechecks", "DROP TABLE article_revisions",
                          "DROP TABLE revision_notices", "ALTER TABLE alerts DROP COLUMN revision",
                          "DROP TABLE watchlist_versions", "DROP TABLE watchlist_proposals",
                          "DROP TABLE subscription_versions",
                          "UPDATE schema_info SET version = 3"):
            conn.exec_driver_sql(statement)
    wh.close()

    wh = Warehouse.connect(url)
    inspector = sa.inspect(wh.engine)
    assert {"article_rechecks", "article_revisions", "revision_notices", "watchlist_versions", "watchlist_proposals",
            "subscription_versions"} <= set(inspector.get_table_names())
    with wh.engine.connect() as conn:
        assert conn.execute(sa.select(s.schema_info.c.version)).scalars().all() == [s.SCHEMA_VERSION] == [5]
        assert conn.execute(sa.select(s.alerts.c.story_id, s.alerts.c.revision)).all() == [("s1", None)]
    wh.close()


def test_a_version_4_warehouse_reads_its_articles_as_about_every_place_they_were_tagged_with(tmp_path):
    """Articles stored before focus was told apart get focus rows for their countries and regions on upgrade, so
    the default (focus) region filter still lists them; the regions of interest read all their regions."""
    from media_monitoring.warehouse.hits import HitFilter
    from media_monitoring_ui.queries.hits import hit_page

    url = f"sqlite:///{tmp_path / 'v4.sqlite'}"
    wh = Warehouse.connect(url)
    article = {"article_id": "a1", "canonical_url": "https://x.org/a", "url": "https://x.org/a", "outlet_id": "o",
               "text": "Lavrov in Dushanbe", "word_count": 3, "sources": [], "countries": ["TJ"],
               "regions": ["Central Asia"], "published_at": datetime(2021, 8, 24, 9, tzinfo=UTC)}
    hit = {"article_id": "a1", "watchlist": "w", "term": "Lavrov", "field": "text", "start": 0, "end": 6,
           "alias": "Lavrov", "matched": "Lavrov", "snippet": "Lavrov in Dushanbe", "version": "1"}
    places = [{"article_id": "a1", "kind": kind, "code": code, "name": code, "mentions": 1, "evidence": []}
              for kind, code in (("country", "TJ"), ("region", "Central Asia"))]
    article_store.commit_batch(wh, "r1", [article], [hit], places, [], None)
    with wh.engine.begin() as conn:
        for statement in ("ALTER TABLE articles DROP COLUMN focus_countries",
                          "ALTER TABLE articles DROP COLUMN focus_regions", "DROP TABLE watchlist_versions",
                          "DROP TABLE watchlist_proposals", "DROP TABLE subscription_versions",
                          "UPDATE schema_info SET version = 4"):
            conn.exec_driver_sql(statement)
    wh.close()

    wh = Warehouse.connect(url)
    with wh.engine.connect() as conn:
        kinds = sorted(conn.execute(sa.select(s.article_places.c.kind, s.article_places.c.code)).all())
        about = conn.execute(sa.select(regions_about(s.articles))).scalar()
    assert kinds == [("country", "TJ"), ("focus_cty", "TJ"), ("focus_reg", "Central Asia"),
                     ("region", "Central Asia")]
    assert about == ["Central Asia"]
    assert [a["article_id"] for a in hit_page(wh, HitFilter(region="Central Asia")).articles] == ["a1"]
    wh.close()
