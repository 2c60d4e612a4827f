"""A changed watchlist replayed over stored articles through the media_retag DAG, idempotently."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
import yaml

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]


def _hits(url: str) -> list[tuple]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return sorted(conn.execute(sa.text(
                "select article_id, term, alias, field, start, version from watchlist_hits")).all())
    finally:
        engine.dispose()


def test_new_term_is_replayed_over_the_archive(run_dag, dags, replay_server, data_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("MEDIA_MONITOR_REPLAY_BASE", replay_server)
    config = tmp_path / "config"
    shutil.copytree(ROOT / "include" / "config", config)
    monkeypatch.setenv("MEDIA_MONITOR_CONFIG_DIR", str(config))
    warehouse = f"sqlite:///{data_dir / 'warehouse.sqlite'}"
    assert run_dag("media_ingest", datetime(2026, 11, 22, 12, tzinfo=UTC)) == "success"
    before = _hits(warehouse)
    assert before and not any(term == "Tajikistan" for _, term, *_ in before)

    # An analyst adds a term and bumps the version.
    lists = yaml.safe_load((config / "watchlists.yaml").read_text(encoding="utf-8"))
    watchlist = lists["watchlists"][0]
    watchlist["version"] = "2099.1.1"
    watchlist["terms"].append({"name": "Tajikistan", "aliases": ["Tajikistan", "Tajik", "Dushanbe"]})
    (config / "watchlists.yaml").write_text(yaml.safe_dump(lists, allow_unicode=True), encoding="utf-8")

    conf = {"watchlist": watchlist["name"], "start_date": "2021-10-01", "end_date": "2021-10-31"}
    dag_run = dags["media_retag"].test(logical_date=datetime(2026, 11, 22, 13, tzinfo=UTC), run_conf=conf)
    assert str(dag_run.state) == "success"
    after = _hits(warehouse)
    tajik = [h for h in after if h[1] == "Tajikistan"]
    assert tajik, "the new term found its articles in October's archive"
    assert all(h[5] == "2099.1.1" for h in after if h[0] in {t[0] for t in tajik}), "hits carry the new version"
    # August was outside the range: the Al Mayadeen seed keeps its hits of the old version.
    august = [h for h in after if h[5] != "2099.1.1"]
    assert august and all(h[1] != "Tajikistan" for h in august)

    again = dags["media_retag"].test(logical_date=datetime(2026, 11, 22, 14, tzinfo=UTC), run_conf=conf)
    assert str(again.state) == "success"
    assert _hits(warehouse) == after, "replaying the same change leaves the same rows"
