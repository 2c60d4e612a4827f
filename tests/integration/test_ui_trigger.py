"""The Airflow UI's Trigger button starts the DAGs, as an analyst or operator starts them.

Against the native production stack (``airflow_stack``: api-server, scheduler, dag-processor,
triggerer on PostgreSQL metadata, the seed outlets replayed), headless Chromium logs in through
Airflow's login page, opens ``media_ingest``'s page, presses **Trigger** and submits the form with its
defaults, waits for the run, then does the same for ``media_digest`` with the ``digest_date`` param set
to 2021-10-28. Checked through the REST API: each run is a manual run triggered from the UI, with the
conf the form sent, and succeeded; the manual ingest polled every outlet. Checked in the warehouse: the
seed articles are stored and both subscriptions have their 2021-10-28 digest, in the outbox.

The form "unpauses the Dag on trigger" by default, so the scheduler may start a scheduled run of the
same DAG next to the manual one (``media_ingest`` runs at once when unpaused): which of the two stores
the seed articles is not fixed, the warehouse's totals are.

Screenshots (the forms, the finished runs) go to the test's temporary folder.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

import browser
import httpx
import pytest
import sqlalchemy as sa

pytestmark = [pytest.mark.integration, pytest.mark.timeout(900)]

USER, PASSWORD = "admin", "test-admin-pw"  # airflow_stack's simple auth manager user
SEED_OUTLETS = 8
DIGEST_DAY = "2021-10-28"
DAG_PARSED_S = 180  # the dag-processor's first parse on a loaded 2-core machine
RUN_DEADLINE_S = 300
UI_WAIT_S = 60


def test_trigger_button_starts_ingest_and_a_past_days_digest(airflow_stack, tmp_path):
    if reason := browser.missing():
        pytest.fail(reason)
    base, data, log_path, _env = airflow_stack
    shots = tmp_path / "screenshots"
    token = httpx.post(f"{base}/auth/token", json={"username": USER, "password": PASSWORD},
                       timeout=60).json()["access_token"]
    with (httpx.Client(base_url=f"{base}/api/v2", headers={"Authorization": f"Bearer {token}"}, timeout=60) as api,
          browser.chromium() as driver):
        for dag_id in ("media_ingest", "media_digest"):
            _wait_until(lambda d=dag_id: api.get(f"/dags/{d}").status_code == 200, DAG_PARSED_S,
                        lambda d=dag_id: f"{d} was never parsed:\n" + log_path.read_text()[-4000:])
        try:
            _log_in(driver, base)

            ingest_id = _trigger(driver, base, "media_ingest", shots, expect_text="Which outlets to poll")
            ingest = _finished(api, "media_ingest", ingest_id, log_path)
            _screenshot_run(driver, base, "media_ingest", ingest, shots)

            # An empty digest_date (the default) must not block the form; the backfill sets it.
            digest_id = _trigger(driver, base, "media_digest", shots, expect_text="that local day's digest",
                                 params={"digest_date": DIGEST_DAY})
            digest = _finished(api, "media_digest", digest_id, log_path)
            _screenshot_run(driver, base, "media_digest", digest, shots)
        except Exception:
            shots.mkdir(parents=True, exist_ok=True)
            driver.save_screenshot(str(shots / "failure.png"))
            (shots / "failure.html").write_text(driver.page_source, encoding="utf-8")
            raise

        for run, conf in ((ingest, {"poll": "auto", "outlets_per_task": 200}), (digest, {"digest_date": DIGEST_DAY})):
            assert (run["run_type"], run["triggered_by"], run["conf"]) == ("manual", "ui", conf), run
            assert run["state"] == "success", (run, log_path.read_text()[-4000:])
            # The form sends the logical date it was opened with (pre-filled with "now"): none later than
            # the request, none from another day.
            if run["logical_date"] is not None:
                logical, after = _ts(run["logical_date"]), _ts(run["run_after"])
                assert timedelta(0) <= after - logical < timedelta(minutes=30), run

        tis = api.get(f"/dags/media_ingest/dagRuns/{ingest_id}/taskInstances").json()["task_instances"]
        assert {t["state"] for t in tis} == {"success"} and {t["task_id"] for t in tis} == {"plan", "collect",
                                                                                            "process"}
        summary = _return_value(api, "media_ingest", ingest_id, "process")
        assert summary["outlets"] == SEED_OUTLETS, summary  # a manual ingest polls every outlet, due or not
        composed = _return_value(api, "media_digest", digest_id, "compose")
        assert sorted((c["subscription"], c["digest_date"]) for c in composed) == [
            ("Central Asia desk", DIGEST_DAY), ("Russia desk", DIGEST_DAY)]

    engine = sa.create_engine(f"sqlite:///{data / 'warehouse.sqlite'}")
    try:
        with engine.connect() as conn:
            articles = conn.execute(sa.text("select count(*) from articles")).scalar()
            quarantined = conn.execute(sa.text("select count(*) from quarantine")).scalar()
            digests = conn.execute(sa.text("select subscription, kind, run_id from digests where digest_date = :d"),
                                   {"d": DIGEST_DAY}).all()
            recorded = conn.execute(sa.text("select run_id, run_type, state from pipeline_runs where run_id in "
                                            "(:i, :d)"), {"i": ingest_id, "d": digest_id}).all()
    finally:
        engine.dispose()
    assert (articles, quarantined) == (22, 1)  # the 23 seed entries: the kazinform consent wall held back
    assert sorted(digests) == [("Central Asia desk", "day", digest_id), ("Russia desk", "day", digest_id)]
    assert sorted(recorded) == sorted([(ingest_id, "manual", "success"), (digest_id, "manual", "success")])
    outbox = data / "outbox" / DIGEST_DAY
    assert sorted(p.name for p in outbox.iterdir()) == ["central-asia-desk.eml", "russia-desk.eml"]


def _wait(driver, condition, timeout: float = UI_WAIT_S, message: str = ""):
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.support.ui import WebDriverWait

    # React re-renders the dialog while its form loads: an element found a moment ago may be replaced.
    return WebDriverWait(driver, timeout, ignored_exceptions=(StaleElementReferenceException,)).until(
        condition, message)


def _wait_until(check, timeout: float, message) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, message()
        time.sleep(2)


def _log_in(driver, base: str) -> None:
    """Airflow's own login page, as a user reaches it: open the UI, get sent to log in, come back."""
    from selenium.webdriver.common.by import By

    driver.get(base + "/")
    _wait(driver, lambda d: d.find_elements(By.NAME, "username"), message="no login form")
    assert urlsplit(driver.current_url).path == "/auth/login"
    driver.find_element(By.NAME, "username").send_keys(USER)
    driver.find_element(By.NAME, "password").send_keys(PASSWORD)
    driver.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    _wait(driver, lambda d: urlsplit(d.current_url).path != "/auth/login", message="login did not go through")


def _trigger_dialog(driver, dag_id: str):
    """The open Trigger form of ``dag_id`` (Airflow's page has other, hidden dialogs: popovers)."""
    from selenium.webdriver.common.by import By

    dialogs = [e for e in driver.find_elements(By.CSS_SELECTOR, "[role=dialog]")
               if e.is_displayed() and f"Trigger Dag - {dag_id}" in e.text]
    return dialogs[0] if dialogs else None


def _trigger(driver, base: str, dag_id: str, shots: Path, *, expect_text: str, params: dict | None = None) -> str:
    """Press the DAG page's Trigger button, set ``params``, submit; return the new run's id."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    driver.get(f"{base}/dags/{dag_id}")
    _wait(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "[data-testid=trigger-dag-button]"),
          message=f"{dag_id}: no Trigger button")[0].click()
    # the form is there once the DAG's params are: their descriptions shown under the fields
    _wait(driver, lambda d: (dlg := _trigger_dialog(d, dag_id)) and expect_text in dlg.text,
          message=f"{dag_id}: the Trigger form did not open with its params")
    unpause = _trigger_dialog(driver, dag_id).find_elements(By.CSS_SELECTOR, "input[type=checkbox]")
    # a paused DAG's run would wait forever: the form unpauses it on trigger (its default)
    assert any(c.is_selected() for c in unpause), f"{dag_id}: 'Unpause {dag_id} on trigger' is not ticked"
    submit = _trigger_dialog(driver, dag_id).find_element(By.CSS_SELECTOR, "[data-testid=trigger-dag-submit]")
    assert submit.is_enabled(), f"{dag_id}: the Trigger form cannot be submitted with its defaults"
    for name, value in (params or {}).items():
        field = _trigger_dialog(driver, dag_id).find_element(By.ID, f"element_{name}")
        field.click()
        field.send_keys(Keys.CONTROL, "a")
        field.send_keys(value)
        _wait(driver, lambda d, f=f"element_{name}", v=value: d.find_element(By.ID, f).get_attribute("value") == v)
    _wait(driver, lambda d: _trigger_dialog(d, dag_id).find_element(
        By.CSS_SELECTOR, "[data-testid=trigger-dag-submit]").is_enabled(), message=f"{dag_id}: submit disabled")
    shots.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(shots / f"{dag_id}-trigger-form.png"))
    _trigger_dialog(driver, dag_id).find_element(By.CSS_SELECTOR, "[data-testid=trigger-dag-submit]").click()
    # the UI goes to the new run's page
    prefix = f"/dags/{dag_id}/runs/"
    _wait(driver, lambda d: urlsplit(d.current_url).path.startswith(prefix),
          message=f"{dag_id}: not sent to the new run's page")
    return unquote(urlsplit(driver.current_url).path[len(prefix):].split("/")[0])


def _finished(api: httpx.Client, dag_id: str, run_id: str, log_path: Path) -> dict:
    deadline = time.monotonic() + RUN_DEADLINE_S
    while True:
        response = api.get(f"/dags/{dag_id}/dagRuns/{quote(run_id, safe='')}")
        assert response.status_code == 200, response.text
        run = response.json()
        if run["state"] in ("success", "failed"):
            return run
        assert time.monotonic() < deadline, f"{dag_id} {run_id} not finished: {run}\n" + log_path.read_text()[-4000:]
        time.sleep(3)


def _screenshot_run(driver, base: str, dag_id: str, run: dict, shots: Path) -> None:
    """The run's page as the UI shows it once finished (its state badge)."""
    from selenium.webdriver.common.by import By

    driver.get(f"{base}/dags/{dag_id}/runs/{quote(run['dag_run_id'], safe='')}")
    _wait(driver, lambda d: run["dag_run_id"] in d.find_element(By.TAG_NAME, "body").text
          and run["state"].capitalize() in d.find_element(By.TAG_NAME, "body").text,
          message=f"{dag_id}: the run page does not show the run as {run['state']}")
    driver.save_screenshot(str(shots / f"{dag_id}-run.png"))


def _return_value(api: httpx.Client, dag_id: str, run_id: str, task_id: str):
    response = api.get(f"/dags/{dag_id}/dagRuns/{quote(run_id, safe='')}/taskInstances/{task_id}/xcomEntries/"
                       "return_value")
    assert response.status_code == 200, response.text
    return response.json()["value"]


def _ts(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))
