"""Two workers placing rewrites of one wire story at the same moment on PostgreSQL make one story.

``process`` can be mapped over staged partitions on several workers; each stores its articles and places
them with the stored ones through the warehouse's story index. Here two processes each store and place
one rewrite of the same wire item, released together by a barrier, for every wire story of the
calibration set: every wire story must end as one story, whichever worker placed first.
"""

from __future__ import annotations

import multiprocessing
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from media_monitoring.records import StagedArticle
from media_monitoring.urls import url_key
from media_monitoring.warehouse import Warehouse
from media_monitoring.warehouse import articles as article_store
from media_monitoring.warehouse import stories as story_store

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2021, 10, 20, 6, tzinfo=UTC)
ARTICLES = yaml.safe_load((ROOT / "bench/tagging/stories.yaml").read_text(encoding="utf-8"))["articles"]
WORKER_TIMEOUT_S = 300  # a worker imports the tagger and places a handful of articles: well under this


def _record(article: dict) -> StagedArticle:
    url = f"https://{article['outlet']}.example/{article['id']}"
    return StagedArticle.from_json({
        "article_id": url_key(url), "canonical_url": url, "url": url, "outlet_id": article["outlet"],
        "outlet_country": article["outlet_country"], "title": article["title"], "text": article["text"],
        "word_count": len(article["text"].split()), "published_at": article["published"],
        "fetched_at": article["published"], "language": "en",
        "sources": [{"outlet_id": article["outlet"], "link": url}], "run_id": "r"})


def _worker(url: str, batches: list[list[StagedArticle]], barrier: multiprocessing.synchronize.Barrier) -> None:
    """Store and place each batch as a process task does, starting each together with the other worker."""
    from media_monitoring.pipeline import assign_stories, tag_records
    from media_monitoring.tagging import Tagger

    tagger = Tagger(ROOT / "include/config/watchlists.yaml", ROOT / "include/config/regions.yaml")
    wh = Warehouse.connect(url)
    try:
        for records in batches:
            articles = tag_records(tagger, records, "r", stored_at=NOW)
            barrier.wait(WORKER_TIMEOUT_S)
            article_store.store_batch(wh, "r", articles)
            assign_stories(wh, articles)
    finally:
        wh.close()


def test_two_workers_placing_rewrites_at_once_open_one_story(postgres_warehouse):
    wire: dict[str, list[dict]] = {}
    for article in ARTICLES:
        wire.setdefault(article["story"], []).append(article)
    pairs = [rewrites[:2] for rewrites in wire.values() if len(rewrites) >= 2]
    assert len(pairs) >= 5
    Warehouse.connect(postgres_warehouse).close()  # the schema, created once before the workers start
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(2)
    workers = [context.Process(target=_worker, args=(postgres_warehouse, [[_record(p[k])] for p in pairs], barrier))
               for k in (0, 1)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(WORKER_TIMEOUT_S)
    assert [w.exitcode for w in workers] == [0, 0]

    wh = Warehouse.connect(postgres_warehouse)
    try:
        for first, second in pairs:
            ids = [_record(first).article_id, _record(second).article_id]
            stories = story_store.stories_of(wh, ids)
            assert set(stories) == set(ids)
            assert len({row["story_id"] for row in stories.values()}) == 1, first["story"]
            assert sorted(stories[ids[0]]["outlets"]) == sorted({first["outlet"], second["outlet"]})
        assert wh.count("stories") == len(pairs)
    finally:
        wh.close()
