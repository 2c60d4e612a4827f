"""An analyst changes a watchlist in the view as she would, in headless Chromium against a running Airflow API
server over the seed warehouse (``test_ui.py``'s): she marks a hit not relevant, proposes a change to its term
(drops the alias that made the hit, adds one), reads the backtest (the hit she marked is among the removed, the
per-day counts match a recount), activates it, and the new version is in force with its diff and audit row; the
activation queued a real media_retag run (read back through the REST API), which, run as the scheduler would run
it, re-tags the archive with the new version.

Screenshots: ``watchlists.png`` and ``watchlist-backtest.png`` (``docs/screenshots/`` with
``MEDIA_MONITOR_UPDATE_SCREENSHOTS=1``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import browser
import pytest
import test_ui as seeded
from test_ui import Ui, _by, _token, _wait

ui = seeded.ui

pytestmark = [pytest.mark.integration, pytest.mark.timeout(420)]

UI_USERS = {"admin": "admin", "ana": "user"}
ANALYST = "ana"
TERM = "Afghanistan"
PERIOD = ("2021-08-01", "2021-10-31")  # the seed articles' publication days lie within


@pytest.fixture(scope="module")
def chrome(ui) -> Iterator:
    with browser.chromium(1440, 1000) as driver:
        yield driver


_rows = seeded.warehouse_rows


def _log_in(ui: Ui, driver, user: str) -> None:
    from selenium.webdriver.common.by import By

    seeded.log_in_as(ui, driver, user, "/media-monitor/watchlists")
    _wait(driver, _by(By.ID, "watchlists-intro"))


def _single_alias_article(ui: Ui) -> tuple[str, str]:
    """An article whose hits of TERM all come from one alias other than the term's own name, and that alias."""
    aliases = defaultdict(set)
    for r in _rows(ui, "select article_id, alias from watchlist_hits where term = :t", t=TERM):
        aliases[r["article_id"]].add(r["alias"])
    article, [alias] = min((a, sorted(s)) for a, s in aliases.items() if len(s) == 1 and TERM not in s)
    return article, alias


def _api_get(ui: Ui, path: str) -> dict:
    req = urllib.request.Request(ui.base + path, headers={"Authorization": f"Bearer {_token(ui.base)}"})
    with seeded._http.open(req, timeout=20) as resp:
        return json.loads(resp.read())


def test_an_analyst_proposes_backtests_and_activates_a_watchlist_change(ui, chrome, dags, monkeypatch):
    from selenium.webdriver.common.by import By

    # The api-server queues runs of DAGs it knows from the metadata database: parse them there first.
    done = subprocess.run([str(Path(sys.executable).with_name("airflow")), "dags", "reserialize"],
                          capture_output=True, text=True, env=os.environ.copy(), timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    article, alias = _single_alias_article(ui)
    version_before = _rows(ui, "select distinct version from watchlist_hits where term = :t", t=TERM)

    _log_in(ui, chrome, ANALYST)
    chrome.get(ui.base + f"/media-monitor/?term={TERM}&limit=100#hits")
    box = _wait(chrome, _by(By.CSS_SELECTOR, f'tr.hit[data-article="{article}"] .term[data-term="{TERM}"]'))
    box.find_element(By.CSS_SELECTOR, "button.mark-not_relevant").click()
    assert "feedback on the hit is saved" in _wait(chrome, _by(By.ID, "notice")).text

    chrome.get(ui.base + "/media-monitor/watchlists")
    row = _wait(chrome, _by(By.CSS_SELECTOR, f'.watchlist tr.term[data-term="{TERM}"]'))
    assert row.find_elements(By.CSS_SELECTOR, f'.alias[data-alias="{alias}"]')
    assert "Cyrillic" in row.text and "Arabic" in row.text and "Latin" in row.text
    assert chrome.find_element(By.CSS_SELECTOR, 'tr.term[data-term="CSTO"]').find_elements(By.CSS_SELECTOR,
                                                                                          ".badge.exact")
    [in_force] = chrome.find_elements(By.CSS_SELECTOR, ".watchlist tr.version-row")
    assert (in_force.get_attribute("data-source"), "in force" in in_force.text) == ("file", True)
    browser.full_page_png(chrome, ui.shots / "watchlists.png")
    row.find_element(By.CSS_SELECTOR, "a.propose-change").click()

    aliases = _wait(chrome, _by(By.ID, "aliases"))
    lines = aliases.get_attribute("value").splitlines()
    assert alias in [line.lstrip("=") for line in lines]
    proposed = [line for line in lines if line.lstrip("=") != alias] + ["Dushanbe"]
    aliases.clear()
    aliases.send_keys("\n".join(proposed))
    chrome.find_element(By.ID, "note").send_keys(f"{alias} brings in off-topic articles; Dushanbe talks are in scope")
    chrome.find_element(By.ID, "propose-submit").click()
    assert "Proposed." in _wait(chrome, _by(By.ID, "notice")).text
    proposal_url = chrome.current_url.split("?")[0]
    proposal_id = int(proposal_url.rsplit("/", 1)[1])

    chrome.get(f"{proposal_url}?start={PERIOD[0]}&end={PERIOD[1]}")
    _wait(chrome, _by(By.ID, "backtest-summary"))
    removed = [r.get_attribute("data-article") for r in chrome.find_elements(By.CSS_SELECTOR, "#removed tr.change")]
    assert article in removed
    assert [w.get_attribute("data-article") for w in chrome.find_elements(By.CSS_SELECTOR, "#wrong-removed li")] == [
        article]
    # The per-day "in force" column recounts what the stored hits say (the seed was tagged with this version).
    stored = _rows(ui, "select count(distinct h.article_id) as n from watchlist_hits h join articles a "
                       "on a.article_id = h.article_id where h.term = :t and a.published_at >= :s",
                   t=TERM, s=datetime(2021, 8, 1, tzinfo=UTC))
    before = sum(int(c.text) for c in chrome.find_elements(By.CSS_SELECTOR, "#per-day td.before"))
    assert before == stored[0]["n"]
    browser.full_page_png(chrome, ui.shots / "watchlist-backtest.png")

    chrome.find_element(By.ID, "activate").click()  # the replay period defaults to the backtest's
    assert "Activated as a new version" in _wait(chrome, _by(By.ID, "notice")).text
    version = chrome.find_element(By.ID, "activated-version").text
    run_link = chrome.find_element(By.ID, "replay-run")
    [stored_proposal] = _rows(ui, "select status, activated_version, replay from watchlist_proposals where id = :i",
                              i=proposal_id)
    replay = json.loads(stored_proposal["replay"])
    assert (stored_proposal["status"], stored_proposal["activated_version"]) == ("activated", version)
    assert run_link.text.endswith(replay["run_id"])

    # The run is real: Airflow has it, queued, with the watchlist and the period.
    runs = _api_get(ui, "/api/v2/dags/media_retag/dagRuns?order_by=-run_after&limit=5")["dag_runs"]
    [queued] = [r for r in runs if r["dag_run_id"] == replay["run_id"]]
    assert queued["conf"] == {"watchlist": "central-asia-security", "start_date": PERIOD[0], "end_date": PERIOD[1]}
    assert queued["triggered_by"] == "ui" and queued["triggering_user_name"] == ANALYST

    [new] = _rows(ui, "select author, source, replaces, diff from watchlist_versions where version = :v", v=version)
    assert (new["author"], new["source"]) == (ANALYST, "view")
    diff = new["diff"].splitlines()
    assert any(line.startswith("-") and alias in line for line in diff), "the dropped alias is a removed line"
    assert any(line.startswith("+") and "Dushanbe" in line for line in diff), "the new alias an added one"
    audit = _rows(ui, "select action, outcome from audit_log where user_name = :u order by id", u=ANALYST)
    assert [(a["action"], a["outcome"]) for a in audit] == [
        ("feedback", "done"), ("watchlist.propose", "done"), ("watchlist.activate", "done")]

    # The queued run, run as the scheduler runs it: the archive is re-tagged with the new version.
    monkeypatch.setenv("MEDIA_MONITOR_DATA_DIR", str(ui.data_dir))
    monkeypatch.setenv("MEDIA_MONITOR_REPLAY_BASE", "http://127.0.0.1:9")  # the replay fetches nothing
    run = dags["media_retag"].test(logical_date=datetime.now(UTC), run_conf=queued["conf"])
    assert str(run.state) == "success"
    after = _rows(ui, "select article_id, version from watchlist_hits where term = :t", t=TERM)
    assert article not in {r["article_id"] for r in after}, "the dropped alias no longer tags the article"
    assert {r["version"] for r in after} == {version} != {v["version"] for v in version_before}
    chrome.get(ui.base + "/media-monitor/watchlists")
    first = _wait(chrome, _by(By.CSS_SELECTOR, ".watchlist tr.version-row"))
    assert (first.get_attribute("data-version"), first.get_attribute("data-author")) == (version, ANALYST)
