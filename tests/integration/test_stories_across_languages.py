"""Stories across languages on the seed replay, through the real pipeline: TASS in English and RIA Novosti in
Russian report the same Lavrov statement of 28 Oct 2021 (the CSTO ready to help Tajikistan guard its border with
Afghanistan) and are one story; the same day's other reports naming Lavrov, Afghanistan or the CSTO (Pukhtun
Nama on US and NATO troops, TOLOnews in Dari on aid, Asia-Plus on border patrols, AKIpress on Kyrgyzstan's
Security Council) stay stories of their own."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

pytestmark = pytest.mark.integration

SAME_EVENT = {"tass-en": "Lavrov says CSTO ready to help Tajikistan protect border with Afghanistan",
              "ria-ru": "Лавров призвал союзников по ОДКБ укреплять границу с Афганистаном"}


def test_one_statement_in_english_and_russian_is_one_story_and_related_reports_stay_apart(
        replay_server, data_dir, monkeypatch):
    from media_monitoring import pipeline
    from media_monitoring.settings import load_settings

    monkeypatch.setenv("MEDIA_MONITOR_REPLAY_BASE", replay_server)
    settings = load_settings()
    wh = pipeline.open_warehouse(settings)
    try:
        run_id = "manual__stories-across-languages"
        pipeline.collect([o.id for o in pipeline.load_outlets(settings).outlets], run_id=run_id, settings=settings,
                         warehouse=wh)
        pipeline.process(run_id, settings=settings, warehouse=wh, run_time=datetime(2026, 11, 22, 12, tzinfo=UTC))
        with wh.engine.connect() as conn:
            rows = conn.execute(sa.text(
                "select a.article_id, a.outlet_id, a.title, a.language, st.story_id, st.matched_article_id, "
                "st.similarity "
                "from articles a join article_stories st on st.article_id = a.article_id "
                "where exists (select 1 from watchlist_hits h where h.article_id = a.article_id)")).mappings().all()
            stories = {r["story_id"]: r for r in conn.execute(sa.text("select * from stories")).mappings()}
    finally:
        wh.close()
    story_of = {(r["outlet_id"], r["title"]): r["story_id"] for r in rows}
    pair = [story_of[(outlet, title)] for outlet, title in SAME_EVENT.items()]
    assert pair[0] == pair[1], "the English and the Russian report are one story"
    tass = next(r for r in rows if r["outlet_id"] == "tass-en" and r["title"] == SAME_EVENT["tass-en"])
    assert pair[0] == tass["article_id"], "the story's id is its first article's (TASS published first)"
    story = stories[pair[0]]
    assert (story["copies"], sorted(json.loads(story["outlets"]))) == (2, ["ria-ru", "tass-en"])
    joined = next(r for r in rows if r["story_id"] == pair[0] and r["matched_article_id"])
    assert joined["similarity"] >= 0.7, "joined through its anchors, with the score kept"
    others = [sid for (outlet, title), sid in story_of.items() if (outlet, title) not in SAME_EVENT.items()]
    assert len(others) >= 5 and pair[0] not in others, "no other report with hits joined them"
    assert len(set(others)) == len(others), "and none of the others were grouped with each other"
