"""CPU of validating one batch with Great Expectations, by batch size: the product's two-pass
``validate_batch`` against one ``COMPLETE`` pass of both suites (what it did before), in one process.

    .venv/bin/python bench/validation_batch.py                 # batches of 10, 48, 200, 1,000; clean and with failures
    .venv/bin/python bench/validation_batch.py --rounds 9 --json /tmp/validation.json

**Why.** Great Expectations' cost is per expectation, not per row: building each expectation's metric
graph costs a few milliseconds whatever the batch holds. A process task validates its whole batch at
once, so this fixed cost is what small, frequent runs pay per article.

**What is timed.** ``validate_batch`` (the articles suite, then the outlet_batches suite over one row per
outlet) and, as the baseline, the same two suites each validated once with ``result_format=COMPLETE``
(every expectation lists its failing rows). Both build their own ephemeral context per call, as a process
task does. ``time.process_time()``, warm (Great Expectations imported and one validation run first), the
two alternating, minimum over ``--rounds``. Two kinds of batch: *clean* (every row passes, the usual
case) and *failing* (one row in ten fails one of three row expectations, another one in ten fails two,
so outlets 3 and 7, which hold those rows, fail their quarantined-share batch check). Both must find the
same findings: for each article the failed expectations in suite order with their observed values, and
for each outlet its failed batch checks; the script checks that before it reports.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from hostinfo import loadavg, machine  # noqa: E402

from media_monitoring.records import StagedArticle  # noqa: E402

os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")

RUN_TIME = datetime(2026, 11, 20, 12, tzinfo=UTC)
OUTLETS = 10
SIZES = (10, 48, 200, 1000)


def batch(n: int, failing: bool) -> list[StagedArticle]:
    """``n`` staged records over :data:`OUTLETS` outlets; with ``failing``, one in ten breaks a row check."""
    records = []
    for i in range(n):
        text = " ".join(f"word{i}x{j}" for j in range(300))
        url = f"https://news.example/{i}"
        record = StagedArticle(article_id=f"a{i}", canonical_url=url, url=url, outlet_id=f"outlet{i % OUTLETS}",
                               title=f"Headline {i}", text=text, word_count=300, language="en", sitename="News",
                               published_at=RUN_TIME - timedelta(hours=2), fetched_at=RUN_TIME - timedelta(hours=1))
        if failing and i % 10 == 3:
            record = replace(record, **({"title": None}, {"word_count": 12, "text": "too short"},
                                        {"language": "de"})[i // 10 % 3])
        if failing and i % 10 == 7:  # two findings on one article
            record = replace(record, title=None, language="de")
        records.append(record)
    return records


Findings = tuple[list[tuple[str, list[tuple[str, Any]]]], list[tuple[str, list[str]]]]


def one_complete_pass(records: list[StagedArticle], languages: dict[str, list[str]]) -> Findings:
    """The baseline: each suite validated once with ``COMPLETE``; findings as :func:`product_pass` gives them."""
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    from media_monitoring.quality.validate import OUTLET_SUITE, _name, _plain, load_suite, outlet_frame, prepare_frame

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    by_key: dict[str, dict[str, list[tuple[str, Any]]]] = {"article_id": {}, "outlet_id": {}}
    for suite_name, key in (("articles", "article_id"), (OUTLET_SUITE, "outlet_id")):
        suite_def = load_suite(suite_name)
        frame = (prepare_frame(records, RUN_TIME, languages) if key == "article_id"
                 else outlet_frame(records, set(by_key["article_id"])))
        result = (context.data_sources.add_pandas(suite_name).add_dataframe_asset("run")
                  .add_batch_definition_whole_dataframe("whole").get_batch(batch_parameters={"dataframe": frame})
                  .validate(gx.ExpectationSuite(name=suite_name, expectations=suite_def["expectations"]),
                            result_format={"result_format": "COMPLETE", "unexpected_index_column_names": [key]}))
        for res in result.results:  # in suite order, so each key's names are too
            column = res.expectation_config.kwargs.get("column")
            for item in res.result.get("unexpected_index_list") or []:
                by_key[key].setdefault(item[key], []).append((_name(res.expectation_config), _plain(item.get(column))))
    articles = [(r.article_id, by_key["article_id"][r.article_id]) for r in records
                if r.article_id in by_key["article_id"]]
    outlets = [(o, [name for name, _ in found]) for o, found in sorted(by_key["outlet_id"].items())]
    return articles, outlets


def product_pass(records: list[StagedArticle], languages: dict[str, list[str]]) -> Findings:
    """``validate_batch``: each quarantined article's failed names and observed values, each outlet's failures."""
    from media_monitoring.quality.validate import validate_batch

    outcome = validate_batch(records, run_time=RUN_TIME, outlet_languages=languages)
    articles = [(q.record.article_id, [(name, q.observed[name]) for name in q.failed])
                for q in outcome.quarantined]
    outlets = [(o, stats["failed"]) for o, stats in sorted(outcome.outlets.items()) if stats["failed"]]
    return articles, outlets


def timed(fn: Any, *args: Any) -> tuple[float, Any]:
    start = time.process_time()
    out = fn(*args)
    return time.process_time() - start, out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    import logging

    logging.disable(logging.WARNING)  # the outlet checks log each failing outlet
    languages = {f"outlet{i}": ["en"] for i in range(OUTLETS)}
    print("machine:", machine(), "load:", loadavg())
    product_pass(batch(48, True), languages)  # warm: imports, the first context
    one_complete_pass(batch(48, True), languages)
    rows = []
    for failing in (False, True):
        for n in SIZES:
            records = batch(n, failing)
            ours, base = [], []
            for r in range(args.rounds):
                order = (product_pass, one_complete_pass) if r % 2 == 0 else (one_complete_pass, product_pass)
                for fn in order:
                    seconds, found = timed(fn, records, languages)
                    (ours if fn is product_pass else base).append((seconds, found))
            if any(found != ours[0][1] for _, found in ours + base):
                raise SystemExit(f"batch {n} failing={failing}: the two passes found different findings")
            found_articles, found_outlets = ours[0][1]
            row = {"batch": n, "kind": "failing" if failing else "clean",
                   "findings": sum(len(f) for _, f in found_articles) + sum(len(f) for _, f in found_outlets),
                   "product_ms": round(min(s for s, _ in ours) * 1000, 1),
                   "one_complete_pass_ms": round(min(s for s, _ in base) * 1000, 1)}
            row["ratio"] = round(row["product_ms"] / row["one_complete_pass_ms"], 2)
            row["product_ms_per_article"] = round(row["product_ms"] / n, 3)
            rows.append(row)
            print(f"{row['kind']:8} batch {n:5}: validate_batch {row['product_ms']:6.1f} ms "
                  f"({row['product_ms_per_article']:.3f} ms/article), one COMPLETE pass "
                  f"{row['one_complete_pass_ms']:6.1f} ms, ratio {row['ratio']:.2f}, {row['findings']} findings")
    print("load:", loadavg())
    if args.json:
        args.json.write_text(json.dumps({"machine": machine(), "rounds": args.rounds, "rows": rows}, indent=2))


if __name__ == "__main__":
    main()
