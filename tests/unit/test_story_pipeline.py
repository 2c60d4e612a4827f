"""Stories through the pipeline's own storage path: rewrites grouped across outlets, the seeds apart,
exact copies folded into one article."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
import yaml

from media_monitoring.pipeline import assign_stories, fold_exact_duplicates, tag_records
from media_monitoring.records import Article, StagedArticle
from media_monitoring.tagging import Tagger
from media_monitoring.tagging.signatures import BAND_VERSION, LSH_BANDS, signature_array
from media_monitoring.urls import url_key
from media_monitoring.warehouse import Warehouse
from media_monitoring.warehouse import articles as article_store
from media_monitoring.warehouse import stories as story_store

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2021, 10, 20, 6, tzinfo=UTC)
CALIBRATION = yaml.safe_load((ROOT / "bench/tagging/stories.yaml").read_text(encoding="utf-8"))["articles"]


def _record(ident: str, outlet: str, country: str, published: str, title: str, text: str) -> StagedArticle:
    url = f"https://{outlet}.example/{ident}"
    return StagedArticle.from_json({
        "article_id": url_key(url), "canonical_url": url, "url": url, "outlet_id": outlet,
        "outlet_country": country, "title": title, "text": text, "word_count": len(text.split()),
        "published_at": published, "fetched_at": published, "language": "en",
        "sources": [{"outlet_id": outlet, "link": url}], "run_id": "r"})


def _store(wh: Warehouse, records: list[StagedArticle]) -> list[Article]:
    tagger = Tagger(ROOT / "include/config/watchlists.yaml", ROOT / "include/config/regions.yaml")
    articles = tag_records(tagger, records, "r", stored_at=NOW)
    articles = fold_exact_duplicates(wh, articles)
    article_store.store_batch(wh, "r", articles)
    assign_stories(wh, articles)
    return articles


@pytest.fixture
def wh(tmp_path):
    warehouse = Warehouse.connect(f"sqlite:///{tmp_path / 'w.sqlite'}")
    yield warehouse
    warehouse.close()


def test_rewrites_of_one_wire_story_are_one_story_covered_by_several_outlets(wh):
    wire = [a for a in CALIBRATION if a["story"] == "csto-drills-announced"]
    assert len({a["outlet"] for a in wire}) >= 2
    _store(wh, [_record(a["id"], a["outlet"], a["outlet_country"], a["published"], a["title"], a["text"])
                for a in wire])
    ids = [url_key(f"https://{a['outlet']}.example/{a['id']}") for a in wire]
    stories = story_store.stories_of(wh, ids)
    assert len({stories[i]["story_id"] for i in ids}) == 1
    story = stories[ids[0]]
    assert sorted(story["outlets"]) == sorted({a["outlet"] for a in wire})
    assert len(story["outlet_countries"]) == len({a["outlet_country"] for a in wire})


def test_the_two_seeds_are_related_coverage_not_one_story(wh):
    seeds = []
    # dated a day apart so the time window cannot be what keeps them apart: their texts must
    for name, outlet, country, published in (
            ("000_906231da9371c19f.txt", "almayadeen", "LB", "2021-08-24T14:21:00+00:00"),
            ("004_44b952da9092fe42.txt", "pukhtunnama", "PK", "2021-08-25T10:00:00+00:00")):
        title, _, text = (ROOT / "seeds" / name).read_text(encoding="utf-8").partition("\n")
        seeds.append(_record(name, outlet, country, published, title, text))
    _store(wh, seeds)
    stories = story_store.stories_of(wh, [r.article_id for r in seeds])
    assert len({s["story_id"] for s in stories.values()}) == 2


def test_an_exact_copy_under_another_url_is_one_article_with_both_sources(wh):
    a = CALIBRATION[0]
    original = _record("x1", "tass-en", "RU", a["published"], a["title"], a["text"])
    copy = _record("x2", "kazinform", "KZ", a["published"], a["title"], a["text"])
    _store(wh, [original])
    _store(wh, [copy])
    assert wh.count("articles") == 1
    rows = article_store.known_ids(wh, [original.article_id, copy.article_id])
    assert rows == {original.article_id}
    with wh.engine.connect() as conn:
        sources = conn.execute(sa.text("select sources from articles")).scalar()
    assert "kazinform" in str(sources) and "tass-en" in str(sources)


def test_the_digest_tells_a_story_once_with_its_coverage(wh):
    from datetime import date

    from media_monitoring.config import load_analysts, load_watchlists
    from media_monitoring.digest import compose
    from media_monitoring.digest.render import render_digest
    from media_monitoring.digest.windows import day_edition

    wire = [a for a in CALIBRATION if a["story"] == "csto-drills-announced"]
    _store(wh, [_record(a["id"], a["outlet"], a["outlet_country"], a["published"], a["title"], a["text"])
                for a in wire])
    watchlist = load_watchlists(ROOT / "include/config/watchlists.yaml").watchlists[0]
    subscription = load_analysts(ROOT / "include/config/analysts.yaml").subscriptions[0].model_copy(
        update={"timezone": "UTC", "regions": ()})
    day = datetime.fromisoformat(wire[0]["published"]).astimezone(UTC).date()
    assert isinstance(day, date)
    compose.compose(wh, day_edition(subscription, day), {watchlist.name: watchlist}, since=None, run_id="run",
                    created_at=datetime(2021, 10, 20, 6, tzinfo=UTC))
    digest = compose.load(wh, subscription, day, {})
    [section] = digest.sections
    [top] = section.context["stories"]
    assert top["coverage"].startswith(f"covered by {len({a['outlet'] for a in wire})} outlets in")
    leaders = [i for i in section.items if i.story and i.story.led_by is None]
    assert len(leaders) == 1 and len(leaders[0].story.also) == len(wire) - 1
    # every copy is delivered (in the ledger), the story is listed once
    assert len(section.items) == len(wire)

    rendered = render_digest(digest)
    assert "Top stories" in rendered.text and top["coverage"] in rendered.text
    assert ": 1 article," in rendered.text  # the story once, not once per outlet's copy
    assert "Same story:" in rendered.text


def test_stored_signatures_of_an_older_version_are_signed_again_before_comparing(wh, caplog):
    """After an upgrade that changed SIGNATURE_VERSION, stored signatures can't be compared with new ones:
    the next run signs the stored articles of its lookback again, from their text, and still groups."""
    from media_monitoring.tagging.signatures import SIGNATURE_VERSION

    wire = [a for a in CALIBRATION if a["story"] == "csto-drills-announced"]
    first, rest = wire[0], wire[1:]
    _store(wh, [_record(first["id"], first["outlet"], first["outlet_country"], first["published"], first["title"],
                        first["text"])])
    with wh.engine.begin() as conn:  # as an older release left it: another scheme's values, or none at all
        conn.execute(sa.text("update articles set signature = :sig, signature_version = 'minhash-affine32-sha1-w3-"
                             "p512-s1'"), {"sig": bytes(4 * 512)})
    caplog.set_level("INFO", logger="media_monitoring")
    _store(wh, [_record(a["id"], a["outlet"], a["outlet_country"], a["published"], a["title"], a["text"])
                for a in rest[:1]])
    ids = [url_key(f"https://{a['outlet']}.example/{a['id']}") for a in wire[:2]]
    assert len({s["story_id"] for s in story_store.stories_of(wh, ids).values()}) == 1
    with wh.engine.connect() as conn:
        versions = set(conn.execute(sa.text("select signature_version from articles")).scalars())
    assert versions == {SIGNATURE_VERSION}
    assert any("signed 1 of 1 stored articles again" in r.message for r in caplog.records)


def test_stored_articles_a_stopped_run_left_without_a_story_get_one_in_the_next(wh):
    """A process run that stopped after storing its articles and before grouping them leaves articles
    without a story; the next run places them with its own instead of failing on them."""
    wire = [a for a in CALIBRATION if a["story"] == "csto-drills-announced"]
    first, second = ([_record(a["id"], a["outlet"], a["outlet_country"], a["published"], a["title"], a["text"])]
                     for a in wire[:2])
    tagger = Tagger(ROOT / "include/config/watchlists.yaml", ROOT / "include/config/regions.yaml")
    articles = tag_records(tagger, first, "r", stored_at=NOW)
    article_store.store_batch(wh, "r", articles)  # ... and the run stops here
    _store(wh, second)
    ids = [first[0].article_id, second[0].article_id]
    stories = story_store.stories_of(wh, ids)
    assert set(stories) == set(ids) and len({s["story_id"] for s in stories.values()}) == 1


def test_a_warehouse_without_story_bands_fills_them_for_the_lookback_and_still_groups(wh, caplog):
    """A warehouse upgraded from a release without the band table has stored articles with stories but no
    band keys: the next run fills the keys of its lookback before it looks for candidates."""
    wire = [a for a in CALIBRATION if a["story"] == "csto-drills-announced"]
    records = [_record(a["id"], a["outlet"], a["outlet_country"], a["published"], a["title"], a["text"])
               for a in wire]
    _store(wh, records[:1])
    with wh.engine.begin() as conn:  # as the upgrade leaves it: the tables exist, empty
        conn.execute(sa.text("delete from story_bands"))
        conn.execute(sa.text("delete from story_index"))
    caplog.set_level("INFO", logger="media_monitoring")
    _store(wh, records[1:])
    stories = story_store.stories_of(wh, [r.article_id for r in records])
    assert len(stories) == len(records) and len({s["story_id"] for s in stories.values()}) == 1
    assert any("story bands filled for 1 stored articles" in r.message for r in caplog.records)
    assert wh.count("story_bands") == LSH_BANDS * len(records)


def test_band_keys_of_another_band_layout_are_made_again_and_the_story_still_groups(wh, caplog):
    """After an upgrade that changed the banding (LSH_BANDS, LSH_ROWS: a new BAND_VERSION), the stored band
    keys match nothing new: the next run replaces them for its lookback before it looks for candidates."""
    wire = [a for a in CALIBRATION if a["story"] == "csto-drills-announced"]
    records = [_record(a["id"], a["outlet"], a["outlet_country"], a["published"], a["title"], a["text"])
               for a in wire]
    [first] = _store(wh, records[:1])
    old_version = BAND_VERSION.replace(f"-b{LSH_BANDS}r", "-b64r")
    with wh.engine.begin() as conn:  # as the release with 64 bands of one row left it
        published = conn.execute(sa.text("select published_at from story_bands")).scalars().first()
        conn.execute(sa.text("delete from story_bands"))
        conn.execute(sa.text("insert into story_bands (band_key, published_at, article_id) values (:k, :p, :a)"),
                     [{"k": band << 32 | int(value), "p": published, "a": first.article_id}
                      for band, value in enumerate(signature_array(first.signature)[:64])])
        conn.execute(sa.text("update story_index set version = :v"), {"v": old_version})
    assert wh.count("story_bands") == 64
    caplog.set_level("INFO", logger="media_monitoring")
    _store(wh, records[1:])
    stories = story_store.stories_of(wh, [r.article_id for r in records])
    assert len(stories) == len(records) and len({s["story_id"] for s in stories.values()}) == 1
    assert any(f"story bands of version {old_version} are replaced by version {BAND_VERSION}" in r.message
               for r in caplog.records)
    assert wh.count("story_bands") == LSH_BANDS * len(records)
    with wh.engine.connect() as conn:
        assert conn.execute(sa.text("select version from story_index")).scalar() == BAND_VERSION


def test_an_article_placed_again_keeps_its_story_and_one_set_of_band_keys(wh):
    wire = [a for a in CALIBRATION if a["story"] == "csto-drills-announced"]
    records = [_record(a["id"], a["outlet"], a["outlet_country"], a["published"], a["title"], a["text"])
               for a in wire]
    _store(wh, records)
    before = story_store.stories_of(wh, [r.article_id for r in records])
    _store(wh, records[1:])  # a retried process task stores and places the same articles again
    assert story_store.stories_of(wh, [r.article_id for r in records]) == before
    assert wh.count("story_bands") == LSH_BANDS * len(records)


def test_band_keys_of_old_articles_are_dropped_and_a_late_rewrite_still_finds_its_story(wh):
    """The band table keeps a week of articles; a rewrite arriving later than that has its story window
    filled again from the stored signatures and joins the story it belongs to."""
    wire = [a for a in CALIBRATION if a["story"] == "csto-drills-announced"]
    first, late = ([_record(a["id"], a["outlet"], a["outlet_country"], a["published"], a["title"], a["text"])]
                   for a in wire[:2])
    other = next(a for a in CALIBRATION if a["story"] != "csto-drills-announced")
    later = (datetime.fromisoformat(wire[0]["published"]) + timedelta(days=10)).isoformat()
    _store(wh, first)
    _store(wh, [_record("later", other["outlet"], other["outlet_country"], later, other["title"], other["text"])])
    assert wh.count("story_bands") == LSH_BANDS  # only the newest article's: the first is more than a week older
    _store(wh, late)
    stories = story_store.stories_of(wh, [first[0].article_id, late[0].article_id])
    assert len(stories) == 2 and len({s["story_id"] for s in stories.values()}) == 1
