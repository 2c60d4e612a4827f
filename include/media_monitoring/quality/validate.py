"""Validate one run's batch of extracted articles in one place, with Great Expectations.

``great_expectations`` takes seconds to import, so it is imported here, inside the call, and the
whole batch is validated at once against the versioned suite files. Rows that fail any expectation
are quarantined with the expectation names and the observed values.
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from importlib import resources
from typing import Any

from media_monitoring.config import ConfigError
from media_monitoring.records import Quarantined, StagedArticle
from media_monitoring.rules import MIN_ARTICLE_WORDS, title_is_site_name

log = logging.getLogger(__name__)

SUITE = "articles"
OUTLET_SUITE = "outlet_batches"
# Phrases of the pages that stand in for an article: consent walls, paywalls, bot checks, errors.
ERROR_PAGE_SIGNALS = tuple(re.compile(p, re.IGNORECASE) for p in (
    r"\bcookies?\b", r"\bconsent\b", r"\bprivacy (?:settings|policy)\b|\bvalue your privacy\b",
    r"\baccept all\b|\bmanage options\b|\breject all\b", r"\benable javascript\b|\bjavascript is disabled\b",
    r"\bsubscribe to (?:continue|read)\b|\balready a subscriber\b|\bsubscribers only\b",
    r"\b(?:page|article) not found\b|\b404\b", r"\baccess denied\b|\bforbidden\b",
    r"\bare you a robot\b|\bverify you are human\b|\bcaptcha\b",
))
ERROR_PAGE_MIN_SIGNALS = 2  # one phrase can occur in news; two kinds of them in a short text do not
ERROR_PAGE_MAX_WORDS = 200  # a long article may mention cookies; a wall is short
SECONDS_PER_DAY = 86_400  # chk_days_after_fetch is in days


class SuiteError(ConfigError):
    """A suite's expectation could not be evaluated at all (a missing column, a bad argument)."""


@dataclass
class Outcome:
    """What validating one batch found: the records accepted, those quarantined (with the expectations they
    failed), the failures by expectation and each outlet's batch checks."""

    accepted: list[StagedArticle] = field(default_factory=list)
    quarantined: list[Quarantined] = field(default_factory=list)
    by_expectation: dict[str, int] = field(default_factory=dict)
    suite_version: str = ""
    outlets: dict[str, dict[str, Any]] = field(default_factory=dict)  # per-outlet stats + failed checks


def load_suite(name: str = SUITE) -> dict[str, Any]:
    text = resources.files("media_monitoring.quality").joinpath(f"suites/{name}.json").read_text("utf-8")
    return json.loads(text)


def prepare_frame(records: Sequence[StagedArticle], run_time: datetime,
                  outlet_languages: dict[str, list[str]]) -> Any:
    """The batch as a DataFrame with the derived ``chk_*`` columns the suite checks."""
    import pandas as pd

    rows = []
    for r in records:
        published = r.published_at
        # an article cannot be published after we fetched it
        reference = r.fetched_at or run_time
        rows.append({
            "article_id": r.article_id,
            "title": r.title,
            "url": r.url or "",
            "word_count": r.word_count,
            "language": r.language,
            "chk_title_is_site_name": title_is_site_name(r.title, r.sitename),
            "chk_days_after_fetch": (published - reference).total_seconds() / SECONDS_PER_DAY if published else None,
            "chk_published_year": published.year if published else None,
            "chk_language_expected": r.language in outlet_languages.get(r.outlet_id, [])
            if r.language else True,  # a missing language is language_present's finding
            "chk_error_page": looks_like_error_page(f"{r.title or ''}\n{r.text}"),
        })
    return pd.DataFrame(rows, columns=["article_id", "title", "url", "word_count", "language",
                                       "chk_title_is_site_name", "chk_days_after_fetch", "chk_published_year",
                                       "chk_language_expected", "chk_error_page"])


def outlet_frame(records: Sequence[StagedArticle], quarantined_ids: set[str]) -> Any:
    """One row per outlet: the shares the outlet_batches suite checks."""
    import hashlib

    import pandas as pd

    by_outlet: dict[str, list[StagedArticle]] = {}
    for r in records:
        by_outlet.setdefault(r.outlet_id, []).append(r)
    rows = []
    for outlet_id, items in sorted(by_outlet.items()):
        n = len(items)
        bodies = Counter(hashlib.sha256(r.text.encode()).hexdigest() for r in items if r.text)
        rows.append({
            "outlet_id": outlet_id,
            "articles": n,
            "short_share": sum(r.word_count < MIN_ARTICLE_WORDS for r in items) / n,
            "empty_share": sum(not r.text.strip() for r in items) / n,
            "quarantined_share": sum(r.article_id in quarantined_ids for r in items) / n,
            "duplicate_share": sum(c - 1 for c in bodies.values()) / n,
        })
    return pd.DataFrame(rows, columns=["outlet_id", "articles", "short_share", "empty_share", "quarantined_share",
                                       "duplicate_share"])


def looks_like_error_page(text: str) -> bool:
    """A short text carrying two or more kinds of wall/error phrases is not an article."""
    if len(text.split(maxsplit=ERROR_PAGE_MAX_WORDS - 1)) == ERROR_PAGE_MAX_WORDS:  # that many words or more,
        return False  # found without splitting the whole of a long article
    return sum(1 for signal in ERROR_PAGE_SIGNALS if signal.search(text)) >= ERROR_PAGE_MIN_SIGNALS


def validate_batch(
    records: Sequence[StagedArticle],
    *,
    run_time: datetime,
    outlet_languages: dict[str, list[str]],
) -> Outcome:
    """Validate ``records`` against the articles suite, and each outlet's share of them against the
    outlet_batches suite."""
    suite_def = load_suite()
    outcome = Outcome(suite_version=suite_def.get("meta", {}).get("version", ""))
    if not records:
        return outcome
    frame = prepare_frame(records, run_time, outlet_languages)
    whole = whole_frames()
    failures = _run_suite(whole, suite_def, frame, key="article_id")
    failed: dict[str, list[str]] = {}
    observed: dict[str, dict[str, Any]] = {}
    counts: Counter[str] = Counter()
    for name, article_id, value in failures:
        failed.setdefault(article_id, []).append(name)
        observed.setdefault(article_id, {})[name] = value
        counts[name] += 1
    for record in records:
        names = failed.get(record.article_id)
        if names:
            outcome.quarantined.append(Quarantined(record, tuple(names), observed[record.article_id]))
        else:
            outcome.accepted.append(record)
    outcome.by_expectation = dict(counts)
    outcome.outlets = _validate_outlets(whole, records, {q.record.article_id for q in outcome.quarantined})
    log.info("validated %d articles against suite %s %s: %d accepted, %d quarantined %s",
             len(records), SUITE, outcome.suite_version, len(outcome.accepted), len(outcome.quarantined),
             dict(counts) or "")
    return outcome


def whole_frames() -> Any:
    """A batch definition of whole pandas frames in a new ephemeral Great Expectations context: both
    suites' frames are batches of it. One source, asset and batch definition, as each one added
    re-serialises the context's whole configuration as YAML (~2.5 ms), even in an ephemeral context."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    return (context.data_sources.add_pandas("media_monitoring").add_dataframe_asset("frames")
            .add_batch_definition_whole_dataframe("whole"))


def _run_suite(whole: Any, suite_def: dict[str, Any], frame: Any, *, key: str) -> list[tuple[str, Any, Any]]:
    """Validate ``frame`` against a suite file's expectations, as a batch of the batch definition ``whole``.

    Two passes over one batch: every expectation with ``BOOLEAN_ONLY`` (pass or fail, about half the cost
    of listing rows: Great Expectations' cost is per expectation, ~3 ms each, not per row), then again with
    ``COMPLETE``, to list their rows, the ones that failed and any with ``mostly`` below 1 (they can pass
    with failing rows). A clean batch, the usual case, pays the first pass alone; the rows, values and
    order found are those of one ``COMPLETE`` pass of the whole suite.

    Returns one (expectation name, row key, observed value) per failing row and expectation.

    Raises:
        SuiteError: an expectation could not be evaluated, or failed without naming rows (only
            expectations with a verdict per row can quarantine articles).
    """
    import great_expectations as gx

    batch = whole.get_batch(batch_parameters={"dataframe": frame})
    screen = batch.validate(gx.ExpectationSuite(name=suite_def["name"], expectations=suite_def["expectations"]),
                            result_format={"result_format": "BOOLEAN_ONLY"})
    to_list = []
    for res in screen.results:
        _check_evaluated(res, suite_def["name"])
        if not res.success or res.expectation_config.kwargs.get("mostly", 1) < 1:
            to_list.append(res.expectation_config.to_json_dict())
    if not to_list:
        return []
    listed = batch.validate(gx.ExpectationSuite(name=f"{suite_def['name']}_failed", expectations=to_list),
                            result_format={"result_format": "COMPLETE", "unexpected_index_column_names": [key]})
    failures = []
    for res in listed.results:
        _check_evaluated(res, suite_def["name"])
        rows = res.result.get("unexpected_index_list") or []
        if not res.success and not rows:
            raise SuiteError(f"expectation {_name(res.expectation_config)} of suite {suite_def['name']} failed "
                             "without naming the rows that fail it: only expectations with a verdict per row "
                             f"belong in quality/suites/{suite_def['name']}.json; {_NOTHING_STORED}")
        column = res.expectation_config.kwargs.get("column")
        for item in rows:
            failures.append((_name(res.expectation_config), item[key], _plain(item.get(column))))
    return failures


_NOTHING_STORED = "nothing of this batch was stored or quarantined"


def _check_evaluated(res: Any, suite: str) -> None:
    """GX reports an expectation that raised (a missing column, a bad argument) as failed with no rows."""
    if errors := _errors(res.exception_info):
        raise SuiteError(f"expectation {_name(res.expectation_config)} of suite {suite} could not be evaluated "
                         f"({'; '.join(errors)}): fix quality/suites/{suite}.json or the frame's columns; "
                         f"{_NOTHING_STORED}")


def _errors(info: Any) -> list[str]:
    """The messages of an expectation result's ``exception_info``: one dict, or one per metric."""
    if not info:
        return []
    parts = [info] if "raised_exception" in info else list(info.values())
    return [str(p.get("exception_message")) for p in parts if isinstance(p, dict) and p.get("raised_exception")]


def _name(config: Any) -> str:
    """The name a quarantine row records: the expectation's ``meta.name`` in the suite file."""
    return config.meta.get("name", config.type)


def _validate_outlets(whole: Any, records: Sequence[StagedArticle], quarantined_ids: set[str]
                      ) -> dict[str, dict[str, Any]]:
    """Batch-level checks per outlet, with the same ephemeral context's batch definition."""

    suite_def = load_suite(OUTLET_SUITE)
    frame = outlet_frame(records, quarantined_ids)
    outlets = {row["outlet_id"]: {**{k: _plain(v) for k, v in row.items()}, "failed": []}
               for row in frame.to_dict("records")}
    for name, outlet_id, _value in _run_suite(whole, suite_def, frame, key="outlet_id"):
        outlets[outlet_id]["failed"].append(name)
    for outlet_id, stats in outlets.items():
        if stats["failed"]:
            log.warning("outlet %s failed batch checks %s: %d articles, short %.0f%%, empty %.0f%%, "
                        "quarantined %.0f%%, duplicates %.0f%%", outlet_id, stats["failed"], stats["articles"],
                        100 * stats["short_share"], 100 * stats["empty_share"], 100 * stats["quarantined_share"],
                        100 * stats["duplicate_share"])
    return outlets


def _plain(value: Any) -> Any:
    """numpy scalars and NaN to JSON-friendly values."""
    if value is None:
        return None
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and value != value:
        return None
    return value
