"""Validation over time: a quarantined article released after a config fix, and a simulated redesign
of one outlet flagged as drift in feed health and in the digest."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from media_monitoring.pipeline import collect, open_warehouse, process, release
from media_monitoring.settings import load_settings
from media_monitoring.warehouse import articles as article_store
from media_monitoring.warehouse import feeds as feed_store

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
PARAGRAPH = ("The regional council approved the budget on Tuesday after a long debate about school repairs, "
             "bus routes and the new clinic, officials said, adding that the vote was the first of three. ")


def _page(title: str, body: str) -> str:
    return (f"<!DOCTYPE html><html lang='en'><head><title>{title}</title>"
            f"<meta property='article:published_time' content='2026-11-20T10:00:00+00:00'></head>"
            f"<body><article><h1>{title}</h1>{body}</article></body></html>")


def _write_outlet(root: Path, n_pages: int, start: int, redesigned: bool) -> None:
    site = root / "site"
    site.mkdir(parents=True, exist_ok=True)
    items = []
    for i in range(start, start + n_pages):
        title = f"Council story number {i} on the budget vote"
        body = ("<div id='app'></div><script>render()</script>" if redesigned
                else "".join(f"<p>{PARAGRAPH}Paragraph {k} of story {i}.</p>" for k in range(4)))
        (site / f"{i}.html").write_text(_page(title, body), encoding="utf-8")
        items.append(f"<item><title>{title}</title><link>{{{{REPLAY_BASE}}}}/site/{i}.html</link>"
                     f"<guid>{i}</guid><pubDate>Fri, 20 Nov 2026 10:00:00 GMT</pubDate></item>")
    (site / "rss.xml").write_text("<?xml version='1.0'?><rss version='2.0'><channel><title>Site</title>"
                                  "<link>{{REPLAY_BASE}}/site/</link><description>d</description>"
                                  + "".join(items) + "</channel></rss>", encoding="utf-8")


def test_a_redesign_is_flagged_as_drift(tmp_path, data_dir, monkeypatch):
    from media_monitoring.replay import ReplayServer

    registry = tmp_path / "outlets.yaml"
    registry.write_text(yaml.safe_dump({"version": "t", "hosts": {"127.0.0.1": {"max_concurrency": 8,
                                                                                 "min_delay_s": 0}},
                                        "outlets": [{"id": "site", "name": "Site", "feed_url":
                                                     "{{REPLAY_BASE}}/site/rss.xml", "country": "KZ",
                                                     "languages": ["en"], "allow_private": True}]}))
    monkeypatch.setenv("MEDIA_MONITOR_OUTLETS", str(registry))
    root = tmp_path / "snapshot"
    with ReplayServer(root) as server:
        monkeypatch.setenv("MEDIA_MONITOR_REPLAY_BASE", server.base_url)
        settings = load_settings()
        wh = open_warehouse(settings)
        when = datetime(2026, 11, 20, 12, tzinfo=UTC)
        # Four healthy runs make the outlet's history, then the site is redesigned.
        for run in range(5):
            _write_outlet(root, 4, start=run * 4, redesigned=run == 4)
            collect(["site"], run_id=f"r{run}", settings=settings, warehouse=wh)
            process(f"r{run}", settings=settings, warehouse=wh, run_time=when + timedelta(hours=run))
        health = {h["outlet_id"]: h for h in feed_store.feed_health_table(wh)}["site"]
        assert health["status"] == "drifting", health
        assert "extraction drift" in health["status_reason"] and "100%" in health["status_reason"]
        assert {a["outlet_id"] for a in feed_store.sources_needing_attention(wh)} == {"site"}
        quarantined = article_store.quarantined(wh)
        assert len(quarantined) == 4 and all("body_word_count" in q["failed_expectations"] for q in quarantined)
        wh.close()


def test_release_after_a_config_fix_stores_without_refetching(replay_server, tmp_path, data_dir, monkeypatch):
    """TASS's pages fail 'language_expected_for_outlet' while the registry says the outlet publishes
    only in Russian; after the registry is fixed, releasing it stores it from the quarantined record."""
    monkeypatch.setenv("MEDIA_MONITOR_REPLAY_BASE", replay_server)
    registry = yaml.safe_load((ROOT / "seeds/replay/outlets.yaml").read_text(encoding="utf-8"))
    for outlet in registry["outlets"]:
        if outlet["id"] == "tass-en":
            outlet["languages"] = ["ru"]  # a wrong registry line
    path = tmp_path / "outlets.yaml"
    path.write_text(yaml.safe_dump(registry, allow_unicode=True), encoding="utf-8")
    monkeypatch.setenv("MEDIA_MONITOR_OUTLETS", str(path))
    settings = load_settings()
    wh = open_warehouse(settings)
    collect(["tass-en"], run_id="r1", settings=settings, warehouse=wh)
    process("r1", settings=settings, warehouse=wh, run_time=datetime(2026, 11, 22, tzinfo=UTC))
    held = article_store.quarantined(wh)
    assert len(held) == 3 and all(q["failed_expectations"] == ["language_expected_for_outlet"] for q in held)
    assert wh.count("articles") == 0

    still = release([held[0]["article_id"]], settings=settings, warehouse=wh, force=False,
                    now=datetime(2026, 11, 22, 1, tzinfo=UTC))
    assert still["still_failing"] == [held[0]["article_id"]] and wh.count("articles") == 0
    forced = release([held[0]["article_id"]], settings=settings, warehouse=wh, force=True,
                     now=datetime(2026, 11, 22, 1, 30, tzinfo=UTC))  # an operator overrides the suite
    assert forced == {"released": [held[0]["article_id"]], "still_failing": [], "unknown": []}
    assert wh.count("articles") == 1 and len(article_store.quarantined(wh)) == 2

    shutil.copy(ROOT / "seeds/replay/outlets.yaml", path)  # the fix
    settings = load_settings()
    released = release([q["article_id"] for q in held[1:]], settings=settings, warehouse=wh, force=False,
                        now=datetime(2026, 11, 22, 2, tzinfo=UTC))
    assert sorted(released["released"]) == sorted(q["article_id"] for q in held[1:])
    assert wh.count("articles") == 3 and article_store.quarantined(wh) == []
    from media_monitoring.warehouse import digests

    lavrov = digests.undelivered_hits(wh, "any desk", ["central-asia-security"])
    assert lavrov, "released articles are tagged like any other"
    # and due in the next digest of every subscription: stored at the release, not at the quarantine
    stored = {h["article_id"]: h["stored_at"] for h in lavrov}
    released_ids = {q["article_id"] for q in held[1:]}
    released_at = {at for aid, at in stored.items() if aid in released_ids}
    assert stored and released_at <= {datetime(2026, 11, 22, 2, tzinfo=UTC)}
    assert stored.get(held[0]["article_id"], datetime(2026, 11, 22, 1, 30, tzinfo=UTC)) == datetime(
        2026, 11, 22, 1, 30, tzinfo=UTC)  # the forced release, stored when it was forced
    wh.close()
