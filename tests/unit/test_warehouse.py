"""The warehouse schema guard and the upserts every idempotent write relies on."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from media_monitoring.warehouse import Warehouse, WarehouseSchemaError
from media_monitoring.warehouse import schema as s

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


def test_staging_is_a_queue_and_commit_is_idempotent(tmp_path):
    wh = Warehouse.connect(f"sqlite:///{tmp_path / 'w.sqlite'}")
    record = {"article_id": "a1", "canonical_url": "https://x.org/a", "url": "https://x.org/a", "outlet_id": "o",
              "run_id": "r1", "entry_ids": ["a1"]}
    wh.stage("r1", "o", [record])
    wh.stage("r1", "o", [record])  # a retried collect stages the same row again, not twice
    assert [r["article_id"] for r in wh.staged()] == ["a1"]
    article = {"article_id": "a1", "canonical_url": "https://x.org/a", "url": "https://x.org/a", "outlet_id": "o",
               "text": "body", "word_count": 1, "sources": [], "countries": [], "regions": []}
    for _ in range(2):
        wh.commit_batch("r2", [article], [], [], [], None, processed=[("r1", "a1")], entry_ids=["a1"])
    assert wh.count("articles") == 1 and wh.count("staging") == 0
    wh.close()
