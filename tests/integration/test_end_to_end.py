"""Both DAGs through Airflow on the replayed seed outlets, on each warehouse backend.

What an analyst would check: the seed articles are stored clean and tagged, off-topic articles are
not, the broken page is quarantined with its reason, the digest email arrives with the hits and
links, and running everything again changes nothing and sends nothing.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
import yaml

from media_monitoring.urls import canonical_url
from media_monitoring.warehouse import schema

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
EXPECTED = yaml.safe_load((ROOT / "seeds" / "replay" / "expected.yaml").read_text(encoding="utf-8"))["pages"]
SEED_PATHS = {
    "almayadeen": "/almayadeen-en/news/politics/lavrov-russia-does-not-want-us-army-in-central-asia.html",
    "pukhtunnama": "/pukhtunnama/2021/10/28/"
                   "russia-urges-afghanistans-neighbors-to-keep-out-us-nato-forces-from-region.html",
}
# The seed days' digests, sent to every subscription now through the DAG's digest_date param
# (subscriptions' own digest times and windows: tests/unit/test_delivery_contract.py and test_late_arrival.py).
SEED_DIGEST_RUNS = ((datetime(2021, 8, 25, 6, tzinfo=UTC), "2021-08-24"),
                    (datetime(2021, 10, 29, 6, tzinfo=UTC), "2021-10-28"))
CHROME = ("BREAKING", "Most Read", "Read Next", "Related News", "Donald Trump", "Syria", "Gaza", "Marco Rubio",
          "Al Mayadeen is an Arab Independent Media Satellite Channel")
INGEST_AT = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def _rows(url: str, sql: str | sa.Executable, **params) -> list[dict]:
    """Rows as dicts; pass a Core statement where column types matter (SQLite keeps dates as text)."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            stmt = sa.text(sql) if isinstance(sql, str) else sql
            return [dict(r) for r in conn.execute(stmt, params).mappings()]
    finally:
        engine.dispose()


def _counts(url: str) -> dict[str, int]:
    """Rows per table; pipeline_runs is a log of runs (a rerun is another run), not data."""
    return {t: _rows(url, f"select count(*) as n from {t}")[0]["n"] for t in schema.metadata.tables
            if t != "pipeline_runs"}


def _article(url: str, replay_base: str, path: str) -> dict:
    rows = _rows(url, sa.select(schema.articles).where(
        schema.articles.c.canonical_url == canonical_url(replay_base + path)))
    assert rows, f"{path} was not stored"
    return rows[0]


def _terms(url: str, article_id: str) -> set[str]:
    return {r["term"] for r in _rows(url, "select term from watchlist_hits where article_id = :a", a=article_id)}


def _full_pipeline(run_dag, warehouse_url: str, replay_base: str, mailbox, outbox: Path | None) -> None:
    assert run_dag("media_ingest", INGEST_AT) == "success"

    # Both seed articles: stored with title, date and body; tagged with all three terms.
    for key, path in SEED_PATHS.items():
        article = _article(warehouse_url, replay_base, path)
        expected = next(p for p in EXPECTED if p["path"] == path)
        assert article["title"] == expected["title"]
        published = article["published_at"]
        published = published if published.tzinfo else published.replace(tzinfo=UTC)
        assert published == datetime.fromisoformat(expected["published"]), key
        for phrase in expected["body_must_contain"]:
            assert phrase in article["text"], (key, phrase)
        assert _terms(warehouse_url, article["article_id"]) == {"Afghanistan", "CSTO", "Lavrov"}, key

    # The Al Mayadeen body is the article without the page's chrome.
    body = _article(warehouse_url, replay_base, SEED_PATHS["almayadeen"])["text"]
    assert "Russia does not want US military presence in Central Asia" in body
    for chrome in CHROME:
        assert chrome not in body, chrome

    # Off-topic fixture articles are stored but carry no watchlist hit (true negatives).
    for page in EXPECTED:
        if page["quarantine"] or page["watchlist"]:
            continue
        article = _article(warehouse_url, replay_base, page["path"])
        assert _terms(warehouse_url, article["article_id"]) == set(), page["path"]

    # The consent-wall page failed validation: quarantined with its reason, the run still succeeded.
    quarantined = _rows(warehouse_url, sa.select(schema.quarantine))
    expected_q = [p["path"] for p in EXPECTED if p["quarantine"]]
    assert [canonical_url(replay_base + p) for p in expected_q] == [q["canonical_url"] for q in quarantined]
    assert "not_error_page" in quarantined[0]["failed_expectations"]
    assert quarantined[0]["observed"]["not_error_page"] is True

    stored = len([p for p in EXPECTED if not p["quarantine"]])
    assert _counts(warehouse_url)["articles"] == stored

    for logical_date, day in SEED_DIGEST_RUNS:
        assert run_dag("media_digest", logical_date, {"digest_date": day}) == "success"

    digests = _rows(warehouse_url, sa.select(schema.digests).order_by(schema.digests.c.digest_date,
                                                                        schema.digests.c.subscription))
    assert [(str(d["digest_date"]), d["subscription"], d["kind"]) for d in digests] == [
        ("2021-08-24", "Central Asia desk", "day"), ("2021-08-24", "Russia desk", "day"),
        ("2021-10-28", "Central Asia desk", "day"), ("2021-10-28", "Russia desk", "day")]
    assert all(d["item_count"] > 0 for d in digests)
    # the ledger: no article reaches a subscription twice, and every tagged article of those days reached both
    ledger = _rows(warehouse_url, "select subscription, article_id from digest_ledger")
    assert len(ledger) == len({(r["subscription"], r["article_id"]) for r in ledger})

    first_counts = _counts(warehouse_url)
    first_sent = len(mailbox.messages) if mailbox else len(list(outbox.rglob("*.eml")))

    # Everything again: the same rows, nothing sent twice.
    assert run_dag("media_ingest", INGEST_AT) == "success"
    for logical_date, day in SEED_DIGEST_RUNS:
        assert run_dag("media_digest", logical_date, {"digest_date": day}) == "success"
    assert _counts(warehouse_url) == first_counts
    assert (len(mailbox.messages) if mailbox else len(list(outbox.rglob("*.eml")))) == first_sent
    _assert_stored_digests_reproduce(warehouse_url)


def _assert_stored_digests_reproduce(warehouse_url: str) -> None:
    """Re-rendering any sent digest from the warehouse gives exactly the email that was sent."""
    from media_monitoring.config import load_analysts
    from media_monitoring.digest.compose import load
    from media_monitoring.digest.render import render_digest
    from media_monitoring.settings import load_settings
    from media_monitoring.warehouse import Warehouse

    settings = load_settings()
    subscriptions = {s.name: s for s in load_analysts(settings.analysts_file).subscriptions}
    names = {o["id"]: o["name"] for o in yaml.safe_load(
        (ROOT / "seeds" / "replay" / "outlets.yaml").read_text(encoding="utf-8"))["outlets"]}
    wh = Warehouse.connect(warehouse_url)
    try:
        sends = _rows(warehouse_url, sa.select(schema.digest_sends))
        assert len(sends) == 4 and all(s["status"] == "sent" for s in sends)
        for sent in sends:
            digest = load(wh, subscriptions[sent["subscription"]], sent["digest_date"], names)
            rendered = render_digest(digest)
            assert rendered.text == sent["body_text"] and rendered.subject == sent["subject"]
            assert rendered.html.rstrip("\n") == sent["body_html"].rstrip("\n")  # MIME ends parts with a newline
    finally:
        wh.close()


def _assert_digest_emails(mailbox, replay_base: str) -> None:
    # Two subscriptions (analysts.yaml) x two seed days.
    assert len(mailbox.messages) == 4
    recipients = sorted(r for _, rcpts, _ in mailbox.messages for r in rcpts)
    assert recipients == sorted(["central-asia-desk@media-monitor.example.org"] * 2
                                + ["russia-desk@media-monitor.example.org"] * 2)
    by_day = {}
    for sender, rcpts, msg in mailbox.messages:
        assert sender == "digest@media-monitor.example.org"
        assert msg["To"] in rcpts
        assert msg.get_content_type() == "multipart/alternative"
        text = msg.get_body(preferencelist=("plain",)).get_content()
        html = msg.get_body(preferencelist=("html",)).get_content()
        day = re.search(r"\d{4}-\d{2}-\d{2}", msg["Subject"]).group(0)
        by_day.setdefault(day, []).append((text, html))
    for day, path in (("2021-08-24", SEED_PATHS["almayadeen"]), ("2021-10-28", SEED_PATHS["pukhtunnama"])):
        for text, html in by_day[day]:
            link = replay_base + path
            assert link in text and f'href="{link}"' in html
            for term in ("Afghanistan", "CSTO", "Lavrov"):
                assert term in text and term in html
            assert "matched" in text  # each hit says why it is here
            assert "Regions:" in text and "Source quality" in text and "Source quality" in html


def test_end_to_end_embedded_warehouse_with_real_smtp(run_dag, replay_server, smtp_server, data_dir, monkeypatch):
    monkeypatch.setenv("MEDIA_MONITOR_REPLAY_BASE", replay_server)
    warehouse_url = f"sqlite:///{data_dir / 'warehouse.sqlite'}"
    _full_pipeline(run_dag, warehouse_url, replay_server, smtp_server, None)
    _assert_digest_emails(smtp_server, replay_server)
    assert not (data_dir / "outbox").exists(), "with an SMTP connection nothing goes to the outbox"


def test_end_to_end_postgres_warehouse_with_outbox(run_dag, replay_server, postgres_warehouse, data_dir,
                                                   monkeypatch):
    monkeypatch.setenv("MEDIA_MONITOR_REPLAY_BASE", replay_server)
    _full_pipeline(run_dag, postgres_warehouse, replay_server, None, data_dir / "outbox")
    emails = sorted((data_dir / "outbox").rglob("*.eml"))
    assert [e.relative_to(data_dir / "outbox").as_posix() for e in emails] == [
        "2021-08-24/central-asia-desk.eml", "2021-08-24/russia-desk.eml",
        "2021-10-28/central-asia-desk.eml", "2021-10-28/russia-desk.eml"]
    assert not (data_dir / "warehouse.sqlite").exists(), "the PostgreSQL connection replaced the embedded default"
