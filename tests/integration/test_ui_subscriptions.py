"""Subscriptions edited in the view, in headless Chromium against a running Airflow API server.

The warehouse and the server are those of ``test_ui.py`` (the real pipeline over the replayed seed outlets), with
three users of the simple auth manager: ``ana`` and ``ivan`` (role ``user``: analysts; analysts.yaml makes ana the
owner of the Central Asia desk, ivan of the Russia desk) and ``olga`` (role ``op``: an operator). Ana changes her
desk's digest time and regions of interest and sees the change, its history row and the next digest at the new
time; the subscriptions the digest run reads (:func:`media_monitoring.curation.subscriptions.in_force`, over the
same warehouse and config) have it. A bad timezone is shown with what to fix and stores nothing. Ana's POST to the
Russia desk (her session cookie, her valid form token) is refused and audited as refused; olga's edit of it is
stored.

The screenshot goes to the same folder as ``test_ui.py``'s (``docs/screenshots/`` with
``MEDIA_MONITOR_UPDATE_SCREENSHOTS=1``).
"""

from __future__ import annotations

import os
import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from html import unescape
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import browser
import pytest
import test_ui as seeded
from test_ui import Ui, _by, _token, _wait

from media_monitoring.curation import subscriptions as subscription_store
from media_monitoring.digest.windows import next_slot
from media_monitoring.settings import load_settings
from media_monitoring.warehouse import Warehouse

ui = seeded.ui  # the API server over the seed warehouse (a module fixture: this module starts its own)

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

UI_USERS = {"admin": "admin", "ana": "user", "ivan": "user", "olga": "op"}  # read by the ui fixture
ANALYST, OPERATOR = "ana", "olga"
CENTRAL, RUSSIA = "Central Asia desk", "Russia desk"
CENTRAL_CARD, RUSSIA_CARD = "#subscription-central-asia-desk", "#subscription-russia-desk"


@pytest.fixture(scope="module")
def chrome(ui) -> Iterator:
    with browser.chromium(1440, 1000) as driver:
        yield driver


_rows = seeded.warehouse_rows


def _view_versions(ui: Ui) -> list[dict]:
    return _rows(ui, "select name, author from subscription_versions where source = 'view' order by id")


def _in_force(ui: Ui) -> dict:
    """The subscriptions the next digest run reads: analysts.yaml's, each in its newest stored version, with the
    settings the pipeline filled this warehouse with."""
    settings = load_settings({**os.environ, "MEDIA_MONITOR_DATA_DIR": str(ui.data_dir)})
    wh = Warehouse.connect(ui.warehouse_url, create=False)
    try:
        return {s.name: s for s in subscription_store.in_force(settings, wh).subscriptions}
    finally:
        wh.close()


def _log_in_as(ui: Ui, driver, user: str) -> None:
    """A fresh session for ``user`` through Airflow's login page, from the index page's nav to Subscriptions."""
    from selenium.webdriver.common.by import By

    seeded.log_in_as(ui, driver, user, "/media-monitor/")
    _wait(driver, _by(By.ID, "nav-subscriptions")).click()
    intro = _wait(driver, _by(By.ID, "subscriptions-intro"))
    assert f"signed in as {user}" in intro.text


def _fill(card, name: str, value: str) -> None:
    from selenium.webdriver.common.by import By

    field = card.find_element(By.NAME, name)
    field.clear()
    field.send_keys(value)


def _box(card, field: str, value: str):
    from selenium.webdriver.common.by import By

    return card.find_element(By.CSS_SELECTOR, f'input[name="{field}"][value="{value}"]')


def test_an_analyst_edits_her_subscription_and_the_next_digest_reads_it(ui, chrome):
    from selenium.webdriver.common.by import By

    assert _in_force(ui)[CENTRAL].digest_time == "07:00"
    assert _view_versions(ui) == []
    _log_in_as(ui, chrome, ANALYST)
    card = chrome.find_element(By.CSS_SELECTOR, CENTRAL_CARD)
    assert "takes effect at the subscription's next digest" in chrome.find_element(By.ID, "subscriptions-note").text
    assert "07:00 Asia/Almaty" in card.find_element(By.CSS_SELECTOR, ".next-local").text
    assert not chrome.find_elements(By.CSS_SELECTOR, f"{RUSSIA_CARD} form")  # ivan's: read-only for ana
    assert "Only its owners (ivan) or an operator may change it." in chrome.find_element(By.CSS_SELECTOR,
                                                                                       RUSSIA_CARD).text

    _fill(card, "digest_time", "09:15")
    assert _box(card, "regions", "Southern Asia").is_selected()
    _box(card, "regions", "Southern Asia").click()  # off
    _box(card, "regions", "CSTO members").click()  # on: a regions.yaml grouping
    card.find_element(By.CSS_SELECTOR, "button.save").click()

    notice = _wait(chrome, _by(By.ID, "notice"))
    assert "takes effect at its next digest" in notice.text
    assert urlsplit(chrome.current_url).path == "/media-monitor/subscriptions"
    assert urlsplit(chrome.current_url).fragment == CENTRAL_CARD[1:]
    card = chrome.find_element(By.CSS_SELECTOR, CENTRAL_CARD)
    assert card.find_element(By.NAME, "digest_time").get_attribute("value") == "09:15"
    assert _box(card, "regions", "CSTO members").is_selected()
    assert not _box(card, "regions", "Southern Asia").is_selected()
    upcoming = next_slot(_in_force(ui)[CENTRAL], datetime.now(UTC)).astimezone(ZoneInfo("Asia/Almaty"))
    assert card.find_element(By.CSS_SELECTOR, ".next-local").text == f"{upcoming:%a %d %b %Y, %H:%M} Asia/Almaty"
    assert f"{upcoming:%H:%M}" == "09:15"
    newest = card.find_element(By.CSS_SELECTOR, "table.history tr.version")
    assert (newest.get_attribute("data-author"), newest.get_attribute("data-source")) == (ANALYST, "view")
    change = newest.find_element(By.CSS_SELECTOR, "td.diff").text
    assert "digest_time: 07:00 → 09:15" in change
    assert "regions: [Central Asia, Southern Asia] → [Central Asia, CSTO members]" in change
    chrome.get(ui.base + "/media-monitor/subscriptions?notice=subscription_saved")  # from the top, for the README
    _wait(chrome, _by(By.ID, "notice"))
    browser.full_page_png(chrome, ui.shots / "subscriptions.png")

    assert _view_versions(ui) == [{"name": CENTRAL, "author": ANALYST}]
    desk = _in_force(ui)[CENTRAL]  # what the next digest run reads
    assert (desk.digest_time, desk.regions) == ("09:15", ("Central Asia", "CSTO members"))
    assert (desk.owners, desk.timezone, desk.alerts.enabled) == ((ANALYST,), "Asia/Almaty", True)
    [audit] = _rows(ui, "select user_name, role, target, outcome from audit_log where action = 'subscription.save'")
    assert audit == {"user_name": ANALYST, "role": "analyst", "target": CENTRAL, "outcome": "done"}


def test_a_bad_value_says_what_to_fix_and_stores_nothing(ui, chrome):
    from selenium.webdriver.common.by import By

    _log_in_as(ui, chrome, ANALYST)
    before = (_view_versions(ui), _in_force(ui)[CENTRAL])
    card = chrome.find_element(By.CSS_SELECTOR, CENTRAL_CARD)
    _fill(card, "timezone", "Mars/Base")
    card.find_element(By.CSS_SELECTOR, "button.save").click()
    error = _wait(chrome, _by(By.ID, "save-error"))
    assert "Time zone: unknown time zone 'Mars/Base' (use an IANA name such as Asia/Almaty)." in error.text
    assert "Nothing was changed" in error.text
    card = chrome.find_element(By.CSS_SELECTOR, CENTRAL_CARD)
    assert card.find_element(By.NAME, "timezone").get_attribute("value") == "Mars/Base"  # the form as sent, to fix
    assert (_view_versions(ui), _in_force(ui)[CENTRAL]) == before
    assert _rows(ui, "select outcome from audit_log where action = 'subscription.save' order by id")[-1] == {
        "outcome": "invalid"}


def _post(ui: Ui, form: dict[str, str], token: str) -> tuple[int, str]:
    """POST the save form as a browser with ``token`` as its session cookie would: the status and the page."""
    req = urllib.request.Request(ui.base + "/media-monitor/subscriptions/save", method="POST",
                                 data=urllib.parse.urlencode(form).encode(),
                                 headers={"Content-Type": "application/x-www-form-urlencoded",
                                          "Cookie": f"_token={token}"})
    try:
        with seeded._http.open(req, timeout=20) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as err:
        with err:
            return err.code, err.read().decode()


def test_an_analyst_is_refused_another_desk_and_an_operator_edits_it(ui, chrome):
    from selenium.webdriver.common.by import By

    token = _token(ui.base, ANALYST)
    status, _headers, body = seeded._get(ui.base + "/media-monitor/subscriptions", {"Cookie": f"_token={token}"})
    assert status == 200
    [csrf] = set(re.findall(r'name="csrf_token" value="([0-9a-f]{64})"', body.decode()))  # her own form's token
    russia = _in_force(ui)[RUSSIA]
    [version] = _rows(ui, "select max(id) as id from subscription_versions where name = :n", n=RUSSIA)
    form = {"csrf_token": csrf, "name": RUSSIA, "version": str(version["id"]), "email": russia.email,
            "watchlists": russia.watchlists[0], "regions": "Eastern Europe", "regions_mode": "first",
            "timezone": russia.timezone, "digest_time": "05:00", "back": "/media-monitor/subscriptions"}
    status, page = _post(ui, form, token)
    assert status == 403
    assert "Only an operator may change another analyst's subscription" in unescape(page)
    assert _in_force(ui)[RUSSIA] == russia
    assert [v for v in _view_versions(ui) if v["name"] == RUSSIA] == []
    assert _rows(ui, "select user_name, role, outcome from audit_log where action = 'subscription.save' "
                     "and target = :t", t=RUSSIA) == [{"user_name": ANALYST, "role": "analyst", "outcome": "refused"}]

    _log_in_as(ui, chrome, OPERATOR)
    assert len(chrome.find_elements(By.CSS_SELECTOR, "form.subscription-form")) == 2  # every desk's
    card = chrome.find_element(By.CSS_SELECTOR, RUSSIA_CARD)
    _fill(card, "digest_time", "06:45")
    card.find_element(By.CSS_SELECTOR, "button.save").click()
    assert "takes effect at its next digest" in _wait(chrome, _by(By.ID, "notice")).text
    newest = chrome.find_element(By.CSS_SELECTOR, f"{RUSSIA_CARD} table.history tr.version")
    assert newest.get_attribute("data-author") == OPERATOR
    assert _in_force(ui)[RUSSIA].digest_time == "06:45"
    assert _rows(ui, "select user_name, role, outcome from audit_log where action = 'subscription.save' "
                     "and target = :t order by id", t=RUSSIA) == [
        {"user_name": ANALYST, "role": "analyst", "outcome": "refused"},
        {"user_name": OPERATOR, "role": "operator", "outcome": "done"}]
