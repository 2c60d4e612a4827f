"""Batch validation with Great Expectations: every expectation of the suite, on crafted and real rows.

Importing GX takes seconds, so the whole module validates ONE batch (module-scoped fixture) of more than
1,000 rows: the replay snapshot's extracted pages, one bad row per expectation, edge rows that must pass,
and filler articles.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from media_monitoring.quality.validate import (
    Outcome,
    load_suite,
    looks_like_error_page,
    validate_batch,
    whole_frames,
)
from media_monitoring.records import Quarantined, StagedArticle

pytestmark = pytest.mark.unit

REPLAY = Path(__file__).resolve().parents[2] / "seeds" / "replay"
BASE = "http://127.0.0.1:8765"
TOKEN = "{{REPLAY_BASE}}"
RUN_TIME = datetime(2021, 10, 28, 20, 0, tzinfo=UTC)
FETCHED = datetime(2021, 10, 28, 19, 0, tzinfo=UTC)
LANGUAGES = {"wire": ["en"], "kazinform": ["kk", "ru", "en"]}
WORDS = ("The regional council approved the budget for next year after a long debate on Thursday, officials "
         "said, adding that spending on schools, roads and clinics would rise while administrative costs "
         "would be cut by a tenth. ") * 3
FILLER = 1000


def row(article_id: str, **overrides: Any) -> dict[str, Any]:
    record = {
        "article_id": article_id, "outlet_id": "wire", "url": f"https://wire.example/{article_id}",
        "canonical_url": f"https://wire.example/{article_id}", "title": f"Council approves budget {article_id}",
        "text": WORDS, "word_count": len(WORDS.split()), "language": "en", "sitename": "Wire",
        "published_at": (FETCHED - timedelta(hours=2)).isoformat(), "fetched_at": FETCHED.isoformat(),
    }
    record.update(overrides)
    return record


def staged(article_id: str, **overrides: Any) -> StagedArticle:
    """:func:`row` as the staged record validation takes."""
    return StagedArticle.from_json(row(article_id, **overrides))


# one crafted row per expectation: (article_id, overrides, expectation, observed value)
BAD = [
    ("no-title", {"title": None}, "title_present", None),
    ("site-title", {"title": "WIRE"}, "title_not_site_name", True),
    ("too-short", {"text": "Read more soon.", "word_count": 3}, "body_word_count", 3),
    ("too-long", {"word_count": 25000}, "body_word_count", 25000),
    ("ftp-url", {"url": "ftp://wire.example/a"}, "url_http", "ftp://wire.example/a"),
    ("future", {"published_at": (FETCHED + timedelta(days=3)).isoformat()}, "published_not_future", 3.0),
    ("ancient", {"published_at": "1990-05-01T00:00:00+00:00"}, "published_not_absurdly_old", 1990),
    ("no-language", {"language": None}, "language_present", None),
    ("wrong-language", {"language": "de"}, "language_expected_for_outlet", False),
    ("wall", {"title": "Access denied",
              "text": "Please enable JavaScript to continue. We use cookies. Accept all or manage options."},
     "not_error_page", True),
]
# rows on the safe side of each limit
EDGE = [
    ("fifty-words", {"word_count": 50}),
    ("twenty-thousand", {"word_count": 20000}),
    ("clock-skew", {"published_at": (FETCHED + timedelta(hours=20)).isoformat()}),
    ("year-1995", {"published_at": "1995-01-01T00:00:00+00:00"}),
    ("no-date", {"published_at": None}),
    ("no-fetch-time", {"fetched_at": None}),  # run time is the reference
    ("http-url", {"url": "http://wire.example/plain"}),
    ("no-sitename", {"sitename": None, "title": "Wire"}),
    ("mentions-cookies", {"text": WORDS + " The bakery sold cookies."}),  # one signal is news, not a wall
    ("long-wall-words", {"text": WORDS * 3 + " cookies consent accept all enable javascript"}),
]


def _replay_records() -> list[dict[str, Any]]:
    from media_monitoring.extract import extract_article
    from media_monitoring.feeds import parse_feed

    pages = yaml.safe_load((REPLAY / "expected.yaml").read_text(encoding="utf-8"))["pages"]
    outlets = yaml.safe_load((REPLAY / "outlets.yaml").read_text(encoding="utf-8"))["outlets"]
    entries = {}
    for outlet in outlets:
        LANGUAGES[outlet["id"]] = outlet["languages"]
        url = outlet["feed_url"].replace(TOKEN, BASE)
        body = (REPLAY / outlet["feed_url"].removeprefix(TOKEN + "/")).read_bytes()
        entries.update({e.link: e for e in parse_feed(body.replace(TOKEN.encode(), BASE.encode()), url)})
    records = []
    for page in pages:
        url = BASE + page["path"]
        html = (REPLAY / page["path"].lstrip("/")).read_bytes().replace(TOKEN.encode(), BASE.encode())
        x = extract_article(html, url, feed_title=entries[url].title, feed_published=entries[url].published)
        records.append({"article_id": "replay:" + page["path"], "outlet_id": page["outlet"], "url": url,
                        "canonical_url": x.canonical_url, "title": x.title, "text": x.text,
                        "word_count": x.word_count, "language": x.language, "sitename": x.sitename,
                        "published_at": x.published.isoformat() if x.published else None,
                        "fetched_at": FETCHED.isoformat(), "quarantine_expected": page["quarantine"]})
    return records


@dataclass
class Batch:
    records: list[dict[str, Any]]
    outcome: Outcome

    def quarantined(self, article_id: str) -> Quarantined | None:
        return next((q for q in self.outcome.quarantined if q.record.article_id == article_id), None)


@pytest.fixture(scope="module")
def batch() -> Batch:
    records = _replay_records()
    records += [row(i, **o) for i, o, _name, _value in BAD]
    records.append(row("two-failures", title=None, language="fr"))
    records += [row(i, **o) for i, o in EDGE]
    records += [row(f"filler-{n}") for n in range(FILLER)]
    assert len(records) > 1000
    return Batch(records, validate_batch([StagedArticle.from_json(r) for r in records], run_time=RUN_TIME,
                                         outlet_languages=LANGUAGES))


def test_whole_batch_in_one_call(batch: Batch) -> None:
    outcome = batch.outcome
    assert len(outcome.accepted) + len(outcome.quarantined) == len(batch.records)
    assert outcome.suite_version == load_suite()["meta"]["version"]
    accepted = {r.article_id for r in outcome.accepted}
    assert {f"filler-{n}" for n in range(FILLER)} <= accepted
    assert [r.article_id for r in outcome.accepted] == [
        r["article_id"] for r in batch.records if r["article_id"] in accepted]  # order kept


def test_every_suite_expectation_is_exercised() -> None:
    names = {e["meta"]["name"] for e in load_suite()["expectations"]}
    assert names == {name for _i, _o, name, _v in BAD}


@pytest.mark.parametrize(("article_id", "name", "observed"), [(i, n, v) for i, _o, n, v in BAD],
                         ids=[i for i, *_ in BAD])
def test_bad_row_is_quarantined_by_its_expectation(batch: Batch, article_id: str, name: str, observed: Any) -> None:
    entry = batch.quarantined(article_id)
    assert entry is not None, f"{article_id} was accepted"
    assert entry.failed == (name,)
    value = entry.observed[name]
    if isinstance(observed, float):
        assert value == pytest.approx(observed, abs=0.01)
    else:
        assert value == observed
    assert entry.record.article_id == article_id
    assert batch.outcome.by_expectation[name] >= 1


def test_row_failing_twice_names_both(batch: Batch) -> None:
    entry = batch.quarantined("two-failures")
    assert entry is not None
    assert sorted(entry.failed) == ["language_expected_for_outlet", "title_present"]
    assert entry.observed == {"title_present": None, "language_expected_for_outlet": False}


@pytest.mark.parametrize("article_id", [i for i, _o in EDGE])
def test_edge_rows_pass(batch: Batch, article_id: str) -> None:
    assert batch.quarantined(article_id) is None


def test_counts_per_expectation(batch: Batch) -> None:
    counts = batch.outcome.by_expectation
    assert counts["body_word_count"] == 2
    assert counts["title_present"] == 2
    assert counts["language_expected_for_outlet"] == 2
    assert sum(counts.values()) == sum(len(q.failed) for q in batch.outcome.quarantined)


def test_consent_wall_page_is_quarantined_as_error_page(batch: Batch) -> None:
    walls = [r for r in batch.records if r.get("quarantine_expected")]
    assert len(walls) == 1
    entry = batch.quarantined(walls[0]["article_id"])
    assert entry is not None
    assert "not_error_page" in entry.failed
    assert entry.observed["not_error_page"] is True


def test_replay_articles_are_accepted(batch: Batch) -> None:
    articles = [r["article_id"] for r in batch.records if r.get("quarantine_expected") is False]
    assert len(articles) == 22
    rejected = {i: batch.quarantined(i).failed for i in articles if batch.quarantined(i)}
    assert not rejected


def test_empty_batch() -> None:
    outcome = validate_batch([], run_time=RUN_TIME, outlet_languages=LANGUAGES)
    assert outcome.accepted == [] and outcome.quarantined == []
    assert outcome.suite_version


def _one_complete_pass(suite_def: dict[str, Any], frame: Any) -> list[tuple[str, Any, Any]]:
    """What validation did before the screen: the whole suite once with COMPLETE, every row listed."""
    import great_expectations as gx

    from media_monitoring.quality.validate import _name, _plain

    result = (whole_frames().get_batch(batch_parameters={"dataframe": frame})
              .validate(gx.ExpectationSuite(name="whole", expectations=suite_def["expectations"]),
                        result_format={"result_format": "COMPLETE", "unexpected_index_column_names": ["article_id"]}))
    return [(_name(res.expectation_config), item["article_id"],
             _plain(item.get(res.expectation_config.kwargs["column"])))
            for res in result.results for item in res.result.get("unexpected_index_list") or []]


def test_screened_suite_finds_what_one_complete_pass_finds(batch: Batch) -> None:
    """``_run_suite`` lists rows only for the expectations its BOOLEAN_ONLY screen failed: the same
    findings in the same order (quarantine rows record the failed names in suite order)."""
    from media_monitoring.quality.validate import _run_suite, prepare_frame

    suite_def = load_suite()
    frame = prepare_frame([StagedArticle.from_json(r) for r in batch.records], RUN_TIME, LANGUAGES)
    screened = _run_suite(whole_frames(), suite_def, frame, key="article_id")
    expected = _one_complete_pass(suite_def, frame)
    assert len(expected) >= len(BAD)
    assert screened == expected


def test_expectation_with_mostly_lists_its_rows_when_it_passes() -> None:
    """With ``mostly`` an expectation passes while some rows fail it: those rows are still listed."""
    from media_monitoring.quality.validate import _run_suite, prepare_frame

    suite_def = {"name": "tolerant", "expectations": [
        {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "title", "mostly": 0.5},
         "meta": {"name": "mostly_titled"}}]}
    frame = prepare_frame([staged("a"), staged("b"), staged("c", title=None)], RUN_TIME, LANGUAGES)
    found = _run_suite(whole_frames(), suite_def, frame, key="article_id")
    assert found == [("mostly_titled", "c", None)] == _one_complete_pass(suite_def, frame)


def test_clean_batch_is_validated_once(monkeypatch: pytest.MonkeyPatch) -> None:
    from great_expectations.datasource.fluent.interfaces import Batch as GxBatch

    from media_monitoring.quality.validate import _run_suite, prepare_frame

    calls = []
    validate = GxBatch.validate
    monkeypatch.setattr(GxBatch, "validate", lambda self, *a, **k: calls.append(1) or validate(self, *a, **k))
    frame = prepare_frame([staged(f"clean-{n}") for n in range(20)], RUN_TIME, LANGUAGES)
    assert _run_suite(whole_frames(), load_suite(), frame, key="article_id") == []
    assert len(calls) == 1  # the screen alone: nothing failed, nothing to list
    failing = prepare_frame([staged("ok"), staged("untitled", title=None)], RUN_TIME, LANGUAGES)
    assert _run_suite(whole_frames(), load_suite(), failing, key="article_id") == [("title_present", "untitled", None)]
    assert len(calls) == 3


def test_expectation_that_cannot_run_stops_the_batch() -> None:
    """A suite naming a column the frame lacks: GX reports the expectation failed with an exception and no
    rows; passing the batch would accept every row unchecked, so the run stops and says which and why."""
    from media_monitoring.quality.validate import SuiteError, _run_suite, prepare_frame

    suite_def = {"name": "broken", "expectations": [
        {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "no_such_column"},
         "meta": {"name": "missing_column"}}]}
    frame = prepare_frame([staged("one")], RUN_TIME, LANGUAGES)
    with pytest.raises(SuiteError, match=r"missing_column of suite broken .*no_such_column.* does not exist"):
        _run_suite(whole_frames(), suite_def, frame, key="article_id")


def test_expectation_failing_without_rows_stops_the_batch() -> None:
    """A table-level expectation fails with no rows to quarantine: the batch is not passed unchecked."""
    from media_monitoring.quality.validate import SuiteError, _run_suite, prepare_frame

    suite_def = {"name": "table", "expectations": [
        {"type": "expect_table_row_count_to_be_between", "kwargs": {"max_value": 0}, "meta": {"name": "empty"}}]}
    frame = prepare_frame([staged("one")], RUN_TIME, LANGUAGES)
    with pytest.raises(SuiteError, match=r"empty of suite table failed without naming the rows"):
        _run_suite(whole_frames(), suite_def, frame, key="article_id")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("We value your privacy. We use cookies. Accept all. Manage options.", True),
        ("Please enable JavaScript to continue. Subscribe to continue reading.", True),
        ("404 Page not found. Access denied.", True),
        ("The bakery sold cookies to residents on Thursday.", False),
        ("cookies consent " + "word " * 250, False),
        # the length rule's edge: 199 words are short enough to be a wall, 200 are an article
        ("404 Page not found. Access denied.\n" + "word " * 193, True),
        ("404 Page not found. Access denied.\n" + "word " * 194, False),
    ],
)
def test_looks_like_error_page(text: str, expected: bool) -> None:
    assert looks_like_error_page(text) is expected
