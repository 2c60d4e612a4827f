"""Exports as an analyst makes them, in headless Chromium against a running Airflow API server.

The warehouse and the server are those of ``test_ui.py`` (the real pipeline over the replayed seed outlets,
both seed digests sent). The analyst filters the hits page, clicks "Export CSV" and gets a file that holds
exactly the filtered articles, one row per hit with its evidence; searches, exports the results; opens a digest
and exports its items as JSON. Chromium saves the downloads in a temporary folder; the files are read from there.
A malformed filter is refused with the page's message and nothing is downloaded; nobody downloads without
logging in.

The screenshot of the hits list with its export links goes to the same folder as ``test_ui.py``'s
(``docs/screenshots/`` with ``MEDIA_MONITOR_UPDATE_SCREENSHOTS=1``).
"""

from __future__ import annotations

import csv
import io
import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qs, quote, urlsplit

import browser
import pytest
import sqlalchemy as sa
import test_ui as seeded
from test_ui import (
    Ui,
    _by,
    _expected_hits,
    _expected_search,
    _get,
    _hit_rows,
    _log_in,
    _result_rows,
    _token,
    _wait,
)

ui = seeded.ui  # the API server over the seed warehouse (a module fixture: this module starts its own)

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

DOWNLOAD_TIMEOUT_S = 30
EVIDENCE = ("article_id", "url", "title", "outlet_id", "outlet_country", "language", "published_utc",
            "published_local", "watchlist", "term", "alias", "matched", "field", "snippet", "rule_version", "regions")


@pytest.fixture(scope="module")
def downloads(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("downloads")


@pytest.fixture(scope="module")
def chrome(ui, downloads) -> Iterator:
    """A headless Chromium that saves downloads in ``downloads``, without asking."""
    with browser.chromium(1440, 1000) as driver:
        driver.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)})
        yield driver


def _downloaded(folder: Path, before: set[Path]) -> Path:
    """The file Chromium finished saving in ``folder`` since ``before`` was listed."""
    deadline = time.monotonic() + DOWNLOAD_TIMEOUT_S
    while time.monotonic() < deadline:
        new = [p for p in folder.iterdir() if p not in before]
        done = [p for p in new if not p.name.endswith((".crdownload", ".tmp"))]
        if done and not any(p.name.endswith(".crdownload") for p in new):
            [path] = done
            return path
        time.sleep(0.2)
    raise AssertionError(f"nothing was downloaded to {folder} in {DOWNLOAD_TIMEOUT_S} s")


def _click_and_download(driver, link_id: str, folder: Path) -> Path:
    from selenium.webdriver.common.by import By

    before = set(folder.iterdir())
    driver.find_element(By.ID, link_id).click()
    return _downloaded(folder, before)


def _csv_rows(path: Path) -> list[dict[str, str]]:
    data = path.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")  # the BOM: spreadsheets read the file as UTF-8
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def _stored_hits(warehouse_url: str, article_ids: list[str]) -> set[tuple]:
    engine = sa.create_engine(warehouse_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(sa.text(
                "select article_id, watchlist, term, field, start, alias, matched, snippet, version "
                "from watchlist_hits where article_id in :ids").bindparams(sa.bindparam("ids", expanding=True)),
                {"ids": article_ids}).all()
    finally:
        engine.dispose()
    return {(r[0], r[1], r[2], r[3], str(r[4]), r[5], r[6], r[7], r[8]) for r in rows}


def test_an_analyst_exports_the_filtered_hits_as_csv(ui, chrome, downloads):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    _log_in(ui, chrome)
    chrome.get(ui.base + "/media-monitor/?tz=UTC")
    _wait(chrome, _by(By.ID, "hit-filters"))
    everything = _hit_rows(chrome)
    Select(chrome.find_element(By.ID, "f-term")).select_by_value("Lavrov")
    chrome.find_element(By.ID, "f-apply").click()
    _wait(chrome, lambda d: "term=Lavrov" in d.current_url)
    shown = [a for a, _ in _hit_rows(chrome)]
    expected = _expected_hits(ui.warehouse_url, "exists (select 1 from watchlist_hits h2 where "
                              "h2.article_id = a.article_id and h2.term = :t)", t="Lavrov")
    assert shown == expected and 0 < len(shown) < len(everything)

    link = chrome.find_element(By.ID, "export-hits-csv")
    assert parse_qs(urlsplit(link.get_attribute("href")).query) == {"term": ["Lavrov"]}  # the page's filters
    hits = chrome.find_element(By.ID, "hits")
    ui.shots.mkdir(parents=True, exist_ok=True)
    (ui.shots / "hits-export.png").write_bytes(hits.screenshot_as_png)

    path = _click_and_download(chrome, "export-hits-csv", downloads)
    assert path.name == f"hits-term-Lavrov-{datetime.now(UTC).date().isoformat()}.csv"
    rows = _csv_rows(path)
    assert set(EVIDENCE) <= set(rows[0])
    # exactly the filtered articles, in the page's order, each with every one of its hits and their evidence
    assert list(dict.fromkeys(r["article_id"] for r in rows)) == expected
    assert {(r["article_id"], r["watchlist"], r["term"], r["field"], r["position"], r["alias"], r["matched"],
             r["snippet"], r["rule_version"]) for r in rows} == _stored_hits(ui.warehouse_url, expected)
    assert any(r["term"] == "Lavrov" and r["matched"] and r["snippet"] for r in rows)
    assert all(r["published_utc"].endswith("+00:00") for r in rows if r["published_utc"])

    # The JSON export of another filter: the same list as its page.
    chrome.get(ui.base + "/media-monitor/?from=2021-10-01&to=2021-10-31")
    expected = _expected_hits(ui.warehouse_url, "a.published_at >= '2021-10-01' and a.published_at < '2021-11-01'")
    assert [a for a, _ in _hit_rows(chrome)] == expected
    path = _click_and_download(chrome, "export-hits-json", downloads)
    assert path.name.startswith("hits-from-2021-10-01-to-2021-10-31-") and path.suffix == ".json"
    items = json.loads(path.read_text(encoding="utf-8"))
    assert list(dict.fromkeys(i["article_id"] for i in items)) == expected


def test_an_analyst_exports_a_search(ui, chrome, downloads):
    from selenium.webdriver.common.by import By

    _log_in(ui, chrome)
    chrome.get(ui.base + "/media-monitor/search?tz=UTC")
    chrome.find_element(By.ID, "s-q").send_keys("harvest OR Лавров*")
    chrome.find_element(By.ID, "s-go").click()
    _wait(chrome, _by(By.ID, "search-count"))
    expected = _expected_search(ui.warehouse_url, r"harvest|лавров\w*")
    assert _result_rows(chrome) == expected and len(expected) >= 3
    path = _click_and_download(chrome, "export-search-csv", downloads)
    assert path.name == f"search-harvest-OR-Лавров-{datetime.now(UTC).date().isoformat()}.csv"  # RFC 6266 UTF-8
    rows = _csv_rows(path)
    assert [r["article_id"] for r in rows] == expected  # every match, newest first, as the pages list them
    for row in rows:
        words = [w.lower() for w in row["matched_words"].split("; ") if w]
        assert words and all(w == "harvest" or w.startswith("лавров") for w in words)
        assert row["snippet"]

    # A query the page cannot understand: the page's message, and nothing is downloaded.
    before = set(downloads.iterdir())
    chrome.get(ui.base + "/media-monitor/export/search.csv?q=" + quote('"Lavrov said'))
    assert "quotation mark is not closed" in _wait(chrome, _by(By.TAG_NAME, "main")).text
    time.sleep(1)
    assert set(downloads.iterdir()) == before


def test_an_analyst_exports_a_digest_as_json(ui, chrome, downloads):
    from selenium.webdriver.common.by import By

    _log_in(ui, chrome)
    chrome.get(ui.base + "/media-monitor/digest?date=2021-10-28&subscription=" + quote("Russia desk"))
    _wait(chrome, _by(By.ID, "digest-exports"))
    path = _click_and_download(chrome, "export-digest-json", downloads)
    assert path.name.startswith("digest-2021-10-28-Russia-desk-") and path.suffix == ".json"
    items = json.loads(path.read_text(encoding="utf-8"))
    engine = sa.create_engine(ui.warehouse_url)
    try:
        with engine.connect() as conn:
            entries = conn.execute(sa.text(
                "select watchlist, rank, article_id, terms from digest_entries where subscription = 'Russia desk' "
                "and digest_date = '2021-10-28' order by watchlist, rank, article_id")).all()
    finally:
        engine.dispose()
    terms = [(e.rank, e.article_id, t["term"]) for e in entries
             for t in (json.loads(e.terms) if isinstance(e.terms, str) else e.terms)]
    assert [(i["rank"], i["article_id"], i["term"]) for i in items] == terms and terms
    assert {i["subscription"] for i in items} == {"Russia desk"}
    assert all(i["digest_date"] == "2021-10-28" and i["window_start"] and i["rule_version"] for i in items)


def test_exports_are_refused_without_a_login_or_with_a_bad_filter(ui: Ui):
    status, headers, _ = _get(ui.base + "/media-monitor/export/hits.csv?term=CSTO")
    assert status == 302 and urlsplit(headers["location"]).path == "/auth/login"
    cookie = {"Cookie": f"_token={_token(ui.base)}"}
    status, headers, body = _get(ui.base + "/media-monitor/export/hits.csv?from=2021-13-01", cookie)
    assert status == 400 and "content-disposition" not in {k.lower() for k in headers}
    assert "is not a date (YYYY-MM-DD)" in body.decode()
    status, _, body = _get(ui.base + "/media-monitor/export/hits.xlsx", cookie)
    assert status == 404 and "use .csv or .json" in body.decode()
    status, _, body = _get(ui.base + "/media-monitor/export/digest/2021-10-28.csv?subscription=Nobody", cookie)
    assert status == 404 and "No digest was composed" in body.decode()
    status, headers, body = _get(ui.base + "/media-monitor/export/hits.json?term=CSTO&outlet=tolonews", cookie)
    assert status == 200 and json.loads(body) == []  # nothing matches: a valid, empty list
    assert {k.lower(): v for k, v in headers.items()}["content-type"].startswith("application/json")
