"""Feedback and roles as analysts and operators use them, in headless Chromium against a running Airflow API server.

The warehouse and the server are those of ``test_ui.py`` (the real pipeline over the replayed seed outlets), with
two users of the simple auth manager: ``ana`` (role ``user``: an analyst for the product) and ``olga`` (role ``op``:
an operator). The analyst marks a hit "not relevant" on the hits page, sees her mark there and the term's precision
change on the Feedback page; a POST with her session cookie but without the form's token, or with a wrong one, is
refused and changes nothing; her release of a quarantined article is refused (403, audited as refused); the
operator's release stores the article and is audited.

The screenshots go to the same folder as ``test_ui.py``'s (``docs/screenshots/`` with
``MEDIA_MONITOR_UPDATE_SCREENSHOTS=1``).
"""

from __future__ import annotations

import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from urllib.parse import urlsplit

import browser
import pytest
import test_ui as seeded
from test_ui import Ui, _by, _token, _wait

ui = seeded.ui  # the API server over the seed warehouse (a module fixture: this module starts its own)

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

UI_USERS = {"admin": "admin", "ana": "user", "olga": "op"}  # read by the ui fixture
ANALYST, OPERATOR = "ana", "olga"


@pytest.fixture(scope="module")
def chrome(ui) -> Iterator:
    with browser.chromium(1440, 1000) as driver:
        yield driver


_rows = seeded.warehouse_rows


def _log_in_as(ui: Ui, driver, user: str) -> None:
    """A fresh session for ``user``, landing on the Feedback page."""
    from selenium.webdriver.common.by import By

    seeded.log_in_as(ui, driver, user, "/media-monitor/feedback")
    _wait(driver, _by(By.ID, "precision"))
    assert f"signed in as {user}" in driver.find_element(By.ID, "precision").text


def _precision_row(driver, term: str) -> dict[str, str]:
    from selenium.webdriver.common.by import By

    row = driver.find_element(By.CSS_SELECTOR, f'#precision-table tr.term-precision[data-term="{term}"]')
    return {cell: row.find_element(By.CSS_SELECTOR, f"td.{cell}").text
            for cell in ("hits", "marked", "not-relevant", "wrong", "precision")}


def test_an_analyst_marks_a_hit_not_relevant_and_the_terms_precision_counts_it(ui, chrome):
    from selenium.webdriver.common.by import By

    _log_in_as(ui, chrome, ANALYST)
    chrome.get(ui.base + "/media-monitor/?limit=25#hits")
    row = _wait(chrome, _by(By.CSS_SELECTOR, "#hit-table tr.hit"))
    article = row.get_attribute("data-article")
    term = row.find_element(By.CSS_SELECTOR, ".term").get_attribute("data-term")
    [hit] = _rows(ui, "select distinct version from watchlist_hits where article_id = :a and term = :t",
                  a=article, t=term)
    chrome.get(ui.base + "/media-monitor/feedback")
    before = _precision_row(chrome, term)
    assert (before["marked"], before["wrong"], before["precision"]) == ("0", "0", "—")

    chrome.get(ui.base + "/media-monitor/?limit=25#hits")
    assert not chrome.find_elements(By.ID, "hit-precision")  # nothing marked yet
    box = _wait(chrome, _by(By.CSS_SELECTOR, f'tr.hit[data-article="{article}"] .term[data-term="{term}"]'))
    box.find_element(By.CSS_SELECTOR, "button.mark-not_relevant").click()
    notice = _wait(chrome, _by(By.ID, "notice"))
    assert "feedback on the hit is saved" in notice.text
    assert urlsplit(chrome.current_url).path == "/media-monitor/"
    assert "limit=25" in chrome.current_url  # back on the same page of hits, filters kept
    box = chrome.find_element(By.CSS_SELECTOR, f'tr.hit[data-article="{article}"] .term[data-term="{term}"]')
    shown = chrome.find_element(By.CSS_SELECTOR, f'#hit-precision .term-precision[data-term="{term}"]')
    assert shown.text == f"{term} 0% (0 of 1)"
    [mark] = box.find_elements(By.CSS_SELECTOR, ".badge.mark")
    assert (mark.get_attribute("data-kind"), mark.get_attribute("data-user")) == ("not_relevant", ANALYST)
    assert mark.text == f"not relevant · {ANALYST}"
    ui.shots.mkdir(parents=True, exist_ok=True)
    (ui.shots / "feedback-hit-marked.png").write_bytes(
        chrome.find_element(By.CSS_SELECTOR, f'tr.hit[data-article="{article}"]').screenshot_as_png)

    box.find_element(By.CSS_SELECTOR, "button.mark-not_relevant").click()  # a repeat click: still one mark
    _wait(chrome, _by(By.ID, "notice"))
    stored = _rows(ui, "select * from hit_feedback")
    assert [(r["article_id"], r["term"], r["kind"], r["user_name"], r["rule_version"]) for r in stored] == [
        (article, term, "not_relevant", ANALYST, hit["version"])]

    chrome.get(ui.base + "/media-monitor/feedback")
    after = _precision_row(chrome, term)
    assert (after["hits"], after["marked"], after["not-relevant"], after["wrong"]) == (before["hits"], "1", "1", "1")
    assert after["precision"].startswith("0%") and "(0 of 1)" in after["precision"]
    audit = chrome.find_elements(By.CSS_SELECTOR, "#audit-table tr.audit-row")
    assert [(a.get_attribute("data-action"), a.get_attribute("data-outcome"), a.get_attribute("data-user"))
            for a in audit] == [("feedback", "done", ANALYST)] * 2
    browser.full_page_png(chrome, ui.shots / "feedback.png")


def _post(ui: Ui, path: str, form: dict[str, str], token: str) -> int:
    """POST a form as a browser with ``token`` as its session cookie would: the status, no redirect followed."""
    req = urllib.request.Request(ui.base + path, method="POST", data=urllib.parse.urlencode(form).encode(),
                                 headers={"Content-Type": "application/x-www-form-urlencoded",
                                          "Cookie": f"_token={token}"})
    try:
        with seeded._http.open(req, timeout=20) as resp:
            return resp.status
    except urllib.error.HTTPError as err:
        with err:
            return err.code


def test_a_post_without_or_with_a_wrong_token_is_refused_and_changes_nothing(ui):
    token = _token(ui.base, ANALYST)
    [hit] = _rows(ui, "select article_id, watchlist, term from watchlist_hits order by article_id, term limit 1")
    form = {"kind": "wrong_place", "article": hit["article_id"], "watchlist": hit["watchlist"], "term": hit["term"],
            "back": "/media-monitor/"}
    before = (_rows(ui, "select * from hit_feedback"), _rows(ui, "select * from audit_log"))
    assert _post(ui, "/media-monitor/feedback", form, token) == 403
    assert _post(ui, "/media-monitor/feedback", {**form, "csrf_token": "0" * 64}, token) == 403
    assert (_rows(ui, "select * from hit_feedback"), _rows(ui, "select * from audit_log")) == before


def test_an_analysts_release_is_refused_and_an_operators_is_done(ui, chrome):
    from selenium.webdriver.common.by import By

    [held] = _rows(ui, "select article_id from quarantine where released_at is null order by article_id limit 1")
    article = held["article_id"]
    row_css = f'#quarantine-table tr.quarantined-article[data-article="{article}"]'

    _log_in_as(ui, chrome, ANALYST)
    chrome.get(ui.base + "/media-monitor/quality")
    _wait(chrome, _by(By.CSS_SELECTOR, row_css)).find_element(By.CSS_SELECTOR, "button.release").click()
    # the answer replaces the page: wait for its text (an element of the page before it would go stale)
    page = _wait(chrome, lambda d: "Only an operator" in (text := d.find_element(By.TAG_NAME, "main").text) and text)
    assert "Only an operator may release an article from quarantine" in page and "Nothing was changed" in page
    assert _rows(ui, "select released_at from quarantine where article_id = :a", a=article) == [{"released_at": None}]
    assert _rows(ui, "select count(*) as n from articles where article_id = :a", a=article) == [{"n": 0}]

    _log_in_as(ui, chrome, OPERATOR)
    chrome.get(ui.base + "/media-monitor/quality")
    row = _wait(chrome, _by(By.CSS_SELECTOR, row_css))
    row.find_element(By.CSS_SELECTOR, "input.release-force").click()  # the seed's quarantined pages still fail
    row.find_element(By.CSS_SELECTOR, "button.release").click()
    assert "Released: the article is stored" in _wait(chrome, _by(By.ID, "notice")).text
    assert not chrome.find_elements(By.CSS_SELECTOR, row_css)  # no longer listed as held
    [released] = _rows(ui, "select released_at from quarantine where article_id = :a", a=article)
    assert released["released_at"] is not None
    assert _rows(ui, "select count(*) as n from articles where article_id = :a", a=article) == [{"n": 1}]

    audit = _rows(ui, "select user_name, role, action, target, outcome from audit_log "
                      "where action = 'quarantine.release' order by id")
    assert audit == [
        {"user_name": ANALYST, "role": "analyst", "action": "quarantine.release", "target": article,
         "outcome": "refused"},
        {"user_name": OPERATOR, "role": "operator", "action": "quarantine.release", "target": article,
         "outcome": "done"},
    ]
