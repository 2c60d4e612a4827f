"""The Media Monitor UI plugin in a real headless browser, against a running Airflow API server.

The warehouse is filled by the real pipeline on the replayed seed outlets (collect, process, then
compose and send both seed digests to the outbox), an ``airflow api-server`` subprocess serves it
on a loopback port, and Debian's Chromium logs in through Airflow's own login page. What an analyst
would check: the view is in Airflow's nav, lists both seed digests as sent, the hit filters narrow
the list, the feed-health table has every outlet, the data-quality pages show the ingest run's
validation (the kazinform consent wall quarantined, and why), and nobody gets in without logging in.

Screenshots go to a temporary folder; with ``MEDIA_MONITOR_UPDATE_SCREENSHOTS=1`` they are also
copied to ``docs/screenshots/`` (the ones the README shows).
"""

from __future__ import annotations

import gc
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from pathlib import Path
from urllib.parse import parse_qs, quote, urlsplit

import browser
import pytest
import sqlalchemy as sa

from media_monitoring.warehouse import articles as article_store
from media_monitoring.warehouse import quality as quality_store

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "docs" / "screenshots"
PASSWORD = secrets.token_urlsafe(12)
SEED_DAYS = (date(2021, 8, 24), date(2021, 10, 28))
SEED_OUTLETS = {"almayadeen-en", "pukhtunnama", "tass-en", "ria-ru", "tolonews", "akipress", "kazinform",
                "asiaplus-tj"}
SERVER_START_TIMEOUT_S = 90
INGEST_RUN = "manual__ui-test-ingest"
FAILED_RUN = "scheduled__2026-12-06T09:00:00+00:00"
FAILED_LOG = "http://127.0.0.1/dags/media_digest/runs/scheduled__2026-12-06T09%3A00%3A00%2B00%3A00/tasks/send"


@dataclass
class Ui:
    base: str  # http://127.0.0.1:<port>
    warehouse_url: str
    data_dir: Path
    shots: Path
    log: Path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


_http = urllib.request.build_opener(_NoRedirect)


def _get(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    """GET without following redirects: (status, headers, body)."""
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with _http.open(req, timeout=20) as resp:
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as err:
        with err:
            return err.code, dict(err.headers), err.read()


def _token(base: str, username: str = "admin", password: str = PASSWORD) -> str:
    req = urllib.request.Request(f"{base}/auth/token", method="POST",
                                 data=json.dumps({"username": username, "password": password}).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=20) as resp:
        return json.loads(resp.read())["access_token"]


def _populate(data_dir: Path, replay_base: str) -> str:
    """The seed warehouse, written by the real pipeline (no Airflow): what the two DAGs would store."""
    from media_monitoring import pipeline
    from media_monitoring.digest.run import compose_digests, send_digests
    from media_monitoring.settings import load_settings
    from media_monitoring.warehouse import runs

    settings = load_settings()
    assert settings.data_dir == data_dir.resolve()
    wh = pipeline.open_warehouse(settings)
    try:
        run_id = INGEST_RUN
        outlets = [o.id for o in pipeline.load_outlets(settings).outlets]
        assert set(outlets) == SEED_OUTLETS
        pipeline.collect(outlets, run_id=run_id, settings=settings, warehouse=wh)
        pipeline.process(run_id, settings=settings, warehouse=wh, run_time=datetime(2026, 11, 22, 12, tzinfo=UTC))
        for day in SEED_DAYS:
            created = datetime.combine(day + timedelta(days=1), clock(6), UTC)  # the digest DAG's run time
            run = f"manual__{day.isoformat()}"
            compose_digests(settings=settings, warehouse=wh, run_id=run, now=created, day=day)
            send_digests(settings=settings, warehouse=wh, run_id=run, now=created, smtp_send=None)
        # The pipeline's state as the DAGs' tasks record it: the last ingest succeeded two hours ago (more
        # than twice its 30-minute schedule), and the latest digest run failed.
        now = datetime.now(UTC)
        runs.started(wh, "media_ingest", run_id, run_type="manual", at=now - timedelta(hours=2, minutes=5))
        runs.succeeded(wh, "media_ingest", run_id, at=now - timedelta(hours=2), summary={"stored": 22})
        runs.succeeded(wh, "media_digest", "manual__2021-10-28", at=now - timedelta(hours=3), summary={})
        runs.failed(wh, "media_digest", FAILED_RUN, at=now - timedelta(minutes=10), task_id="send",
                    error="DigestDeliveryError: 2 digest(s) could not be sent", log_url=FAILED_LOG)
        return wh.engine.url.render_as_string(hide_password=False)
    finally:
        wh.close()


UI_USERS = {"admin": "admin"}  # user -> simple auth manager role; a module reusing ``ui`` may set its own


@pytest.fixture(scope="module")
def ui(request, airflow_db, replay_server, tmp_path_factory) -> Iterator[Ui]:
    """The API server (with the plugin) on a loopback port over a freshly populated warehouse, with the users of
    the requesting module's ``UI_USERS`` (this module's by default), each with the password ``PASSWORD``."""
    if reason := browser.missing():
        pytest.fail(reason)
    users: dict[str, str] = getattr(request.module, "UI_USERS", UI_USERS)
    work = tmp_path_factory.mktemp("ui")
    data_dir, shots, log = work / "data", work / "screenshots", work / "api-server.log"
    passwords = work / "passwords.json"
    passwords.write_text(json.dumps(dict.fromkeys(users, PASSWORD)), encoding="utf-8")
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "AIRFLOW__CORE__AUTH_MANAGER": "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": ",".join(f"{name}:{role}" for name, role in users.items()),
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords),
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "False",
        "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_hex(64),
        "AIRFLOW__API__BASE_URL": base + "/",
        "MEDIA_MONITOR_DATA_DIR": str(data_dir),
        "MEDIA_MONITOR_REPLAY_BASE": replay_server,
    }
    airflow = str(Path(sys.executable).with_name("airflow"))
    # Started first: it boots while the pipeline fills the warehouse.
    with log.open("wb") as out:
        server = subprocess.Popen([airflow, "api-server", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"],
                                  env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        with pytest.MonkeyPatch.context() as mp, warnings.catch_warnings():
            mp.setenv("MEDIA_MONITOR_DATA_DIR", str(data_dir))
            mp.setenv("MEDIA_MONITOR_REPLAY_BASE", replay_server)
            # media_monitoring.sandbox._Worker.close leaves the worker's stdout pipe to the GC, which
            # warns (ResourceWarning); collect it here, where that warning is not an error.
            warnings.simplefilter("ignore", ResourceWarning)
            warehouse_url = _populate(data_dir, replay_server)
            gc.collect()
        deadline = time.monotonic() + SERVER_START_TIMEOUT_S
        while True:
            assert server.poll() is None, "api-server exited:\n" + log.read_text(errors="replace")[-4000:]
            try:
                if _get(f"{base}/api/v2/monitor/health")[0] == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, "api-server did not start:\n" + log.read_text(errors="replace")[-4000:]
            time.sleep(0.5)
        yield Ui(base, warehouse_url, data_dir, shots, log)
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)  # its own session: the server and its worker
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait(timeout=10)
    if os.environ.get("MEDIA_MONITOR_UPDATE_SCREENSHOTS") == "1" and shots.exists():
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        for png in shots.glob("*.png"):
            shutil.copyfile(png, SCREENSHOTS / png.name)


@pytest.fixture(scope="module")
def chrome(ui):
    with browser.chromium(1440, 1000) as driver:
        yield driver


def warehouse_rows(ui: Ui, sql: str, **params) -> list[dict]:
    """The rows of ``sql`` on the warehouse the server reads."""
    engine = sa.create_engine(ui.warehouse_url)
    try:
        with engine.connect() as conn:
            return [dict(r) for r in conn.execute(sa.text(sql), params).mappings()]
    finally:
        engine.dispose()


def log_in_as(ui: Ui, driver, user: str, page: str) -> None:
    """A fresh session for ``user`` through Airflow's login page, which then shows ``page`` of the view."""
    from selenium.webdriver.common.by import By

    driver.get(ui.base + page)
    driver.delete_all_cookies()
    driver.get(ui.base + page)
    _wait(driver, _by(By.NAME, "username"))
    driver.find_element(By.NAME, "username").send_keys(user)
    driver.find_element(By.NAME, "password").send_keys(PASSWORD)
    driver.find_element(By.CSS_SELECTOR, "button[type=submit]").click()


def _wait(driver, condition, timeout: float = 30):
    """``condition`` once it holds; an element the page replaced meanwhile is simply found again."""
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout, ignored_exceptions=(StaleElementReferenceException,)).until(condition)


def _by(kind: str, value: str):
    from selenium.webdriver.support import expected_conditions as ec

    return ec.presence_of_element_located((kind, value))


def _hit_rows(driver) -> list[tuple[str, str]]:
    from selenium.webdriver.common.by import By

    return [(r.get_attribute("data-article"), r.get_attribute("data-outlet"))
            for r in driver.find_elements(By.CSS_SELECTOR, "#hit-table tr.hit")]


def _expected_hits(warehouse_url: str, where: str = "1=1", **params) -> list[str]:
    """Article ids with watchlist hits, newest first, straight from the warehouse."""
    engine = sa.create_engine(warehouse_url)
    try:
        with engine.connect() as conn:
            return list(conn.execute(sa.text(
                "select a.article_id from articles a where exists "
                "(select 1 from watchlist_hits h where h.article_id = a.article_id) and " + where +
                " order by a.published_at desc, a.article_id desc"), params).scalars())
    finally:
        engine.dispose()


def _json_value(value):
    """A JSON column read with plain SQL: text on SQLite, already decoded on PostgreSQL."""
    return json.loads(value) if isinstance(value, str) else value


# -- tests, in the order an analyst would meet them ------------------------------------------------


def test_nobody_gets_in_without_logging_in(ui):
    # A page: redirected to Airflow's login page, which sends the browser back afterwards.
    for path in ("/media-monitor/", "/media-monitor/?term=CSTO",
                 "/media-monitor/digest/email.html?date=2021-10-28&subscription=Russia%20desk",
                 "/media-monitor/quality", f"/media-monitor/quality/run?id={INGEST_RUN}",
                 "/media-monitor/quality/run?id=no-such-run"):
        status, headers, body = _get(ui.base + path)
        assert status == 302, path
        location = urlsplit(headers["location"])
        assert location.path == "/auth/login"
        assert parse_qs(location.query)["next"] == [path]  # back to this very page after login
        assert b"digest" not in body.lower() and b"quarantin" not in body.lower()
    # The JSON API: 401 without a token, 403 with a forged one, 401 with an expired one.
    status, headers, _ = _get(ui.base + "/media-monitor/api/hits")
    assert status == 401 and headers["www-authenticate"] == "Bearer"
    good = _token(ui.base)
    import jwt

    claims = jwt.decode(good, options={"verify_signature": False})
    forged = jwt.encode({**claims, "role": "ADMIN"}, "not-the-secret-" * 5, algorithm="HS512")
    assert _get(ui.base + "/media-monitor/api/hits", {"Authorization": f"Bearer {forged}"})[0] == 403
    assert _get(ui.base + "/media-monitor/", {"Cookie": f"_token={forged}"})[0] == 302
    assert _get(ui.base + f"/media-monitor/quality/run?id={INGEST_RUN}", {"Cookie": f"_token={forged}"})[0] == 302
    assert _get(ui.base + "/media-monitor/api/digests", {"Cookie": "_token=garbage"})[0] == 403
    # A wrong password gets no token at all.
    with pytest.raises(urllib.error.HTTPError) as refused:
        _token(ui.base, password="wrong")
    assert refused.value.code == 401
    refused.value.close()
    # With Airflow's token (header or cookie), the same requests are served.
    status, _, body = _get(ui.base + "/media-monitor/api/digests", {"Authorization": f"Bearer {good}"})
    assert status == 200
    assert {(d["digest_date"], d["subscription"]) for d in json.loads(body)["digests"]} == {
        (day.isoformat(), sub) for day in SEED_DAYS for sub in ("Central Asia desk", "Russia desk")}
    status, headers, body = _get(ui.base + "/media-monitor/", {"Cookie": f"_token={good}"})
    assert status == 200 and b"Media Monitor" in body
    assert "script-src" not in headers["content-security-policy"]  # default-src 'none': no script at all
    assert "frame-ancestors 'self'" in headers["content-security-policy"]
    for path in ("/media-monitor/quality", f"/media-monitor/quality/run?id={INGEST_RUN}"):
        status, headers, body = _get(ui.base + path, {"Cookie": f"_token={good}"})
        assert status == 200 and INGEST_RUN.encode() in body, path
        assert "script-src" not in headers["content-security-policy"]
    assert _get(ui.base + "/media-monitor/quality/run?id=no-such-run", {"Cookie": f"_token={good}"})[0] == 404


def test_login_through_airflow_and_see_the_digests(ui, chrome):
    from selenium.webdriver.common.by import By

    chrome.get(ui.base + "/media-monitor/")
    _wait(chrome, _by(By.NAME, "username"))
    login = urlsplit(chrome.current_url)
    assert login.path == "/auth/login" and parse_qs(login.query)["next"] == ["/media-monitor/"]
    chrome.find_element(By.NAME, "username").send_keys("admin")
    chrome.find_element(By.NAME, "password").send_keys(PASSWORD)
    chrome.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    _wait(chrome, _by(By.ID, "digest-table"))
    assert urlsplit(chrome.current_url).path == "/media-monitor/"
    assert chrome.find_element(By.CSS_SELECTOR, "header .user").text.endswith("admin")

    # Both seed days, both subscriptions, as sent (newest first).
    sends = [(r.get_attribute("data-date"), r.get_attribute("data-subscription"))
             for r in chrome.find_elements(By.CSS_SELECTOR, "#digest-table tr.digest-send")]
    assert sends == [("2021-10-28", "Central Asia desk"), ("2021-10-28", "Russia desk"),
                     ("2021-08-24", "Central Asia desk"), ("2021-08-24", "Russia desk")]
    latest = chrome.find_element(By.CSS_SELECTOR, "#digests .latest h3").text
    assert "2021-10-28" in latest

    # The latest digest's HTML body, exactly as sent, in a sandbox without script.
    frame = chrome.find_element(By.ID, "latest-email")
    assert frame.get_attribute("sandbox") == "allow-popups allow-popups-to-escape-sandbox"
    chrome.switch_to.frame(frame)
    try:
        _wait(chrome, _by(By.TAG_NAME, "h1"))
        email_text = chrome.find_element(By.TAG_NAME, "body").text
    finally:
        chrome.switch_to.default_content()
    assert "Media Monitor digest: 2021-10-28" in email_text
    assert "Lavrov says CSTO ready to help Tajikistan protect border with Afghanistan" in email_text

    # Feed health: every outlet of the registry, with its status.
    feeds = {r.get_attribute("data-outlet"): r.find_element(By.CSS_SELECTOR, ".status").text.lower()
             for r in chrome.find_elements(By.CSS_SELECTOR, "#feed-table tr.feed")}
    assert set(feeds) == SEED_OUTLETS
    assert set(feeds.values()) <= {"ok", "quiet", "failing", "blocked", "drifting"}

    # Story groups: exactly the stories of two or more articles the pipeline stored (none in the seed).
    engine = sa.create_engine(ui.warehouse_url)
    with engine.connect() as conn:
        groups = list(conn.execute(sa.text("select story_id from stories where copies >= 2 "
                                           "order by first_seen desc, story_id desc")).scalars())
    engine.dispose()
    shown = [r.get_attribute("data-story") for r in chrome.find_elements(By.CSS_SELECTOR, "#story-table tr.story")]
    assert shown == groups[:20]
    assert bool(chrome.find_elements(By.ID, "no-stories")) == (not groups)

    # Every article with a watchlist hit, newest first.
    assert [a for a, _ in _hit_rows(chrome)] == _expected_hits(ui.warehouse_url)


def test_pipeline_state_and_times_on_the_viewers_clock(ui, chrome):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    from media_monitoring.schedules import INGEST_EVERY

    def pipeline_state(driver) -> dict:
        """The banner and the panel as text, read in one go (found again if the page was replaced meanwhile)."""
        rows = {r.get_attribute("data-dag"): r for r in driver.find_elements(By.CSS_SELECTOR, "tr.pipeline-dag")}
        failure = rows["media_digest"].find_element(By.CSS_SELECTOR, ".failure")
        return {"banner": driver.find_element(By.ID, "stale-banner").text, "dags": set(rows),
                "digest_failure": failure.text,
                "log": failure.find_element(By.LINK_TEXT, "task log").get_attribute("href"),
                "ingest_failure": rows["media_ingest"].find_element(By.CSS_SELECTOR, ".failure").text}

    def first_time(driver) -> tuple[str, str]:
        """The first hit's time on the viewer's clock and the publisher's own reading of it."""
        cell = driver.find_element(By.CSS_SELECTOR, "#hit-table tr.hit td")
        clocks = cell.find_elements(By.CSS_SELECTOR, ".page-clock")
        return cell.text.splitlines()[0], clocks[0].text if clocks else ""

    chrome.get(ui.base + "/media-monitor/?tz=UTC")
    _wait(chrome, _by(By.ID, "pipeline-table"))
    state = _wait(chrome, lambda d: pipeline_state(d) if d.find_elements(By.CSS_SELECTOR, "tr.pipeline-dag") else None)
    minutes = int(INGEST_EVERY.total_seconds() // 60)
    assert state["banner"].startswith("Ingest has not succeeded since")
    assert f"{minutes}-minute schedule" in state["banner"]
    assert state["dags"] == {"media_ingest", "media_digest", "media_recheck"}  # every DAG on a clock
    assert "DigestDeliveryError: 2 digest(s) could not be sent" in state["digest_failure"]
    assert "send" in state["digest_failure"] and state["log"] == FAILED_LOG
    assert state["ingest_failure"] == "—"

    # Times: UTC by default; the viewer picks Kabul (UTC+04:30) and the choice is remembered.
    first, page_clock = _wait(chrome, first_time)
    assert first.endswith(" UTC")
    # beside it, the time as the publisher gave it, with its own offset
    local = datetime.strptime(page_clock, "%Y-%m-%d %H:%M %z")
    assert local.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") == first
    Select(chrome.find_element(By.ID, "tz")).select_by_value("Asia/Kabul")
    chrome.find_element(By.CSS_SELECTOR, "#tz-form button").click()
    _wait(chrome, lambda d: "Asia/Kabul" in first_time(d)[0])
    kabul = _wait(chrome, first_time)[0]
    utc_time = datetime.strptime(first.removesuffix(" UTC"), "%Y-%m-%d %H:%M").replace(tzinfo=UTC)
    assert kabul == (utc_time + timedelta(hours=4, minutes=30)).strftime("%Y-%m-%d %H:%M") + " Asia/Kabul (UTC+04:30)"
    chrome.get(ui.base + "/media-monitor/")  # no ?tz=: the cookie remembers
    assert "Asia/Kabul" in _wait(chrome, first_time)[0]
    chrome.get(ui.base + "/media-monitor/?tz=Mars/Olympus")
    assert "Unknown timezone 'Mars/Olympus'" in _wait(chrome, _by(By.ID, "tz-error")).text
    assert _wait(chrome, first_time)[0].endswith(" UTC")
    chrome.get(ui.base + "/media-monitor/?tz=UTC")  # back to UTC for the tests after this one


def test_hit_filters(ui, chrome):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    chrome.get(ui.base + "/media-monitor/")
    everything = _hit_rows(chrome)
    assert len(everything) == len(_expected_hits(ui.warehouse_url)) > 2

    # Term: the form, as an analyst uses it.
    Select(chrome.find_element(By.ID, "f-term")).select_by_value("CSTO")
    chrome.find_element(By.ID, "f-apply").click()
    _wait(chrome, lambda d: "term=CSTO" in d.current_url)
    csto = _expected_hits(ui.warehouse_url, "exists (select 1 from watchlist_hits h2 where "
                          "h2.article_id = a.article_id and h2.term = :t)", t="CSTO")
    assert [a for a, _ in _hit_rows(chrome)] == csto
    assert 0 < len(csto) < len(everything)
    for row in chrome.find_elements(By.CSS_SELECTOR, "#hit-table tr.hit"):
        assert row.find_elements(By.CSS_SELECTOR, '.term[data-term="CSTO"]')

    # Term and outlet together.
    Select(chrome.find_element(By.ID, "f-outlet")).select_by_value("tass-en")
    chrome.find_element(By.ID, "f-apply").click()
    _wait(chrome, lambda d: "outlet=tass-en" in d.current_url)
    rows = _hit_rows(chrome)
    assert len(rows) == 1 and rows[0][1] == "tass-en"

    # A date range: only the August seed article.
    chrome.get(ui.base + "/media-monitor/?from=2021-08-01&to=2021-08-31")
    assert [o for _, o in _hit_rows(chrome)] == ["almayadeen-en"]

    # A region: the articles about it (its focus rows in article_places), and with "also mentioned" every
    # article that refers to it.
    for region in ("Eastern Asia", "Northern America"):
        chrome.get(ui.base + "/media-monitor/?region=" + quote(region))
        about = _expected_hits(ui.warehouse_url, "exists (select 1 from article_places p where p.article_id = "
                               "a.article_id and p.kind = 'focus_reg' and p.code = :r)", r=region)
        assert [a for a, _ in _hit_rows(chrome)] == about
        chrome.get(ui.base + "/media-monitor/?mentioned=1&region=" + quote(region))
        assert [a for a, _ in _hit_rows(chrome)] == _expected_hits(
            ui.warehouse_url, "exists (select 1 from article_places p where p.article_id = a.article_id "
            "and p.kind = 'region' and p.code = :r)", r=region)
    assert len(about) < len(_hit_rows(chrome)), "Northern America: the US named in passing (TOLOnews in Dari)"

    # Nothing matches: said so, no table.
    chrome.get(ui.base + "/media-monitor/?term=CSTO&outlet=tolonews")
    assert not _hit_rows(chrome) and chrome.find_elements(By.ID, "no-hits")

    # Keyset pages of 2: every article exactly once, in order.
    seen: list[str] = []
    chrome.get(ui.base + "/media-monitor/?limit=2")
    for _ in range(20):
        seen += [a for a, _ in _hit_rows(chrome)]
        nxt = chrome.find_elements(By.ID, "hits-next")
        if not nxt:
            break
        chrome.get(nxt[0].get_attribute("href"))
    assert seen == [a for a, _ in everything]


def _log_in(ui: Ui, driver) -> None:
    """Log in through Airflow's page unless this browser already has a session (a test run alone)."""
    from selenium.webdriver.common.by import By

    driver.get(ui.base + "/media-monitor/search")
    if urlsplit(driver.current_url).path != "/auth/login" and not driver.find_elements(By.NAME, "username"):
        return
    _wait(driver, _by(By.NAME, "username"))
    driver.find_element(By.NAME, "username").send_keys("admin")
    driver.find_element(By.NAME, "password").send_keys(PASSWORD)
    driver.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    _wait(driver, _by(By.ID, "search-form"))


def _result_rows(driver) -> list[str]:
    from selenium.webdriver.common.by import By

    return [r.get_attribute("data-article") for r in driver.find_elements(By.CSS_SELECTOR, "#search-results tr.result")]


def _expected_search(warehouse_url: str, pattern: str, where: str = "1=1", **params) -> list[str]:
    """Article ids whose title or text has a word matching ``pattern`` (a regex, any case), newest first
    and the undated last: read straight from the warehouse and matched in Python, not by either engine."""
    import re

    engine = sa.create_engine(warehouse_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(sa.text("select article_id, title, text, published_at from articles where " + where
                                        + " order by published_at desc, article_id desc"), params).all()
    finally:
        engine.dispose()
    word = re.compile(rf"(?<!\w)(?:{pattern})(?!\w)", re.IGNORECASE)
    found = [r for r in rows if word.search(r.title or "") or word.search(r.text or "")]
    return [r.article_id for r in found if r.published_at is not None] + \
        [r.article_id for r in found if r.published_at is None]


def test_search_every_stored_article_with_filters(ui, chrome):
    """The analyst's search: words in any script over every stored article (those without watchlist
    hits too), then narrowed by outlet, language and dates, sorted by relevance, paged, and a query that
    cannot be understood explained."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    _log_in(ui, chrome)
    chrome.get(ui.base + "/media-monitor/?tz=UTC")
    chrome.find_element(By.ID, "nav-search").click()
    _wait(chrome, _by(By.ID, "search-form"))
    assert urlsplit(chrome.current_url).path == "/media-monitor/search"
    assert chrome.find_element(By.ID, "search-empty").text.startswith("Type words")

    # A word most of whose articles have no watchlist hit: the list of hits never shows them.
    harvest = _expected_search(ui.warehouse_url, "harvest")
    with_hits = set(_expected_hits(ui.warehouse_url))
    assert len(harvest) >= 2 and set(harvest) - with_hits
    chrome.find_element(By.ID, "s-q").send_keys("harvest")
    chrome.find_element(By.ID, "s-go").click()
    _wait(chrome, _by(By.ID, "search-count"))
    assert _result_rows(chrome) == harvest
    assert chrome.find_element(By.ID, "search-count").text.startswith(f"{len(harvest)} articles match")
    marks = chrome.find_elements(By.CSS_SELECTOR, "#search-results mark")
    assert marks and {m.text.lower() for m in marks} == {"harvest"}

    # Cyrillic, with a prefix; then only Russian-language articles, as the form does it.
    lavrov_ru = _expected_search(ui.warehouse_url, r"лавров\w*")
    assert lavrov_ru
    field = chrome.find_element(By.ID, "s-q")
    field.clear()
    field.send_keys("Лавров* OR Lavrov")
    chrome.find_element(By.ID, "s-go").click()
    _wait(chrome, lambda d: "Lavrov" in d.current_url or "%D0%9B" in d.current_url)
    every = _expected_search(ui.warehouse_url, r"лавров\w*|lavrov")
    assert _result_rows(chrome) == every and set(lavrov_ru) < set(every)
    chrome.find_element(By.ID, "s-language").send_keys("ru")
    chrome.find_element(By.ID, "s-go").click()
    _wait(chrome, lambda d: "language=ru" in d.current_url)
    assert _result_rows(chrome) == _expected_search(ui.warehouse_url, r"лавров\w*|lavrov", "language = 'ru'")
    assert all(c.text == "ru" for c in chrome.find_elements(By.CSS_SELECTOR, "#search-results td.language"))

    # An outlet and a date range, the rest cleared.
    chrome.find_element(By.ID, "s-language").clear()
    Select(chrome.find_element(By.ID, "s-outlet")).select_by_value("tass-en")
    chrome.find_element(By.ID, "s-go").click()
    _wait(chrome, lambda d: "outlet=tass-en" in d.current_url)
    tass = _expected_search(ui.warehouse_url, r"лавров\w*|lavrov", "outlet_id = 'tass-en'")
    assert tass and _result_rows(chrome) == tass
    chrome.get(ui.base + "/media-monitor/search?" + "q=Lavrov&from=2021-08-01&to=2021-08-31")
    august = _expected_search(ui.warehouse_url, "lavrov",
                              "published_at < '2021-09-01' and published_at >= '2021-08-01'")
    assert august and _result_rows(chrome) == august

    # Relevance: the same articles, another order; keyset pages of 2 show each once.
    chrome.get(ui.base + "/media-monitor/search?q=Lavrov&sort=relevance")
    assert sorted(_result_rows(chrome)) == sorted(_expected_search(ui.warehouse_url, "lavrov"))
    for sort in ("time", "relevance"):
        seen: list[str] = []
        chrome.get(ui.base + f"/media-monitor/search?q=harvest+OR+Lavrov+OR+%D0%9B%D0%B0%D0%B2%D1%80%D0%BE%D0%B2*"
                             f"&sort={sort}&limit=2")
        for _ in range(20):
            seen += _result_rows(chrome)
            nxt = chrome.find_elements(By.ID, "search-next")
            if not nxt:
                break
            nxt[0].click()
            _wait(chrome, _by(By.ID, "search-first"))
        wanted = _expected_search(ui.warehouse_url, r"harvest|lavrov|лавров\w*")
        assert sorted(seen) == sorted(wanted) and len(seen) == len(set(seen)), sort
        if sort == "time":
            assert seen == wanted

    # A query that cannot be understood: said why; nothing breaks.
    chrome.get(ui.base + "/media-monitor/search?q=" + quote('"Lavrov said'))
    assert "quotation mark is not closed" in chrome.find_element(By.ID, "search-errors").text
    assert not _result_rows(chrome)
    chrome.get(ui.base + "/media-monitor/search?q=-sport")
    assert "cannot only exclude" in chrome.find_element(By.ID, "search-errors").text
    chrome.get(ui.base + "/media-monitor/search?q=harvest&outlet=tass-en")
    assert chrome.find_element(By.ID, "no-results").text == "No stored article matches these words and filters."
    chrome.get(ui.base + "/media-monitor/search?q=harvest")
    ui.shots.mkdir(parents=True, exist_ok=True)
    browser.full_page_png(chrome, ui.shots / "search.png")

    # The JSON API: the same articles; 400 with the reason for a bad query.
    token = _token(ui.base)
    status, _, body = _get(ui.base + "/media-monitor/api/search?q=harvest", {"Authorization": f"Bearer {token}"})
    assert status == 200 and [a["article_id"] for a in json.loads(body)["articles"]] == harvest
    status, _, body = _get(ui.base + "/media-monitor/api/search?q=%28harvest", {"Authorization": f"Bearer {token}"})
    assert status == 400 and "parenthesis" in json.loads(body)["detail"]
    assert _get(ui.base + "/media-monitor/api/search?q=harvest")[0] == 401


def test_hostile_article_in_search_stays_text(ui, chrome):
    """A title and body carrying markup and the highlight marker characters: shown as text, no fake mark."""
    from selenium.webdriver.common.by import By

    from media_monitoring.warehouse import Warehouse
    from media_monitoring.warehouse.search import MARK_END, MARK_START

    payload = '<img src=x onerror="document.title=\'pwned\'"><script>document.title="pwned"</script>'
    wh = Warehouse.connect(ui.warehouse_url)  # create=True: as a DAG opens it (the search index exists)
    try:
        article_store.commit_batch(wh, "manual__hostile-search", [{
            "article_id": "e" * 32, "canonical_url": "https://evil.example/s", "url": "javascript:alert(1)",
            "outlet_id": "evil-outlet", "outlet_country": "ZZ", "title": f"Zyzzogeton {payload}",
            "published_at": datetime(2020, 1, 2, tzinfo=UTC), "language": "en",
            "text": f"Zyzzogeton {MARK_START}fake{MARK_END} {payload}", "word_count": 3, "sources": [],
            "countries": [], "regions": []}], [], [], [], None)
    finally:
        wh.close()
    chrome.get(ui.base + "/media-monitor/search?q=zyzzogeton")
    [row] = chrome.find_elements(By.CSS_SELECTOR, "#search-results tr.result")
    title = row.find_element(By.CSS_SELECTOR, "td.title")
    assert payload in title.text and not title.find_elements(By.TAG_NAME, "a")  # javascript: URL: no link
    assert not chrome.find_elements(By.CSS_SELECTOR, "#search-results script, #search-results img")
    # the text's own marker characters would fake a highlight: that field is shown unhighlighted
    assert [m.text for m in row.find_elements(By.CSS_SELECTOR, ".snippet mark")] == []
    assert [m.text for m in title.find_elements(By.CSS_SELECTOR, "td.title > mark")] == ["Zyzzogeton"]
    assert chrome.title != "pwned"


def test_digest_as_sent_and_its_screenshot(ui, chrome):
    from selenium.webdriver.common.by import By

    chrome.get(ui.base + "/media-monitor/")
    row = '#digest-table tr[data-date="2021-08-24"][data-subscription="Russia desk"]'
    chrome.find_element(By.CSS_SELECTOR, row + " a").click()
    _wait(chrome, _by(By.ID, "email-html"))
    assert "Media Monitor 2021-08-24" in chrome.find_element(By.CSS_SELECTOR, "#digest h2").text
    assert "russia-desk@media-monitor.example.org" in chrome.find_element(By.CSS_SELECTOR, "dl.meta").text
    chrome.find_element(By.LINK_TEXT, "Plain text").click()
    text = _wait(chrome, _by(By.ID, "email-text")).text
    assert "Lavrov: Russia Does not want US Army in Central Asia" in text

    # The HTML body on its own URL: the bytes stored at send time, served in a CSP sandbox.
    token = _token(ui.base)
    status, headers, body = _get(ui.base + "/media-monitor/digest/email.html?date=2021-10-28&subscription="
                                 + quote("Central Asia desk"), {"Authorization": f"Bearer {token}"})
    assert status == 200
    assert headers["content-security-policy"].startswith("sandbox ")
    engine = sa.create_engine(ui.warehouse_url)
    with engine.connect() as conn:
        sent = conn.execute(sa.text("select body_html from digest_sends where digest_date = :d and "
                                    "subscription = :s"), {"d": "2021-10-28", "s": "Central Asia desk"}).scalar_one()
    engine.dispose()
    assert body.decode() == sent

    chrome.get(ui.base + "/media-monitor/digest/email.html?date=2021-10-28&subscription=" + quote("Central Asia desk"))
    assert "Media Monitor digest: 2021-10-28" in _wait(chrome, _by(By.TAG_NAME, "h1")).text
    browser.full_page_png(chrome, ui.shots / "digest-email.png", width=760)
    assert (ui.shots / "digest-email.png").stat().st_size > 20_000


def test_data_quality_pages(ui, chrome):
    """The ingest run's validation: listed, reported expectation by expectation, its quarantine shown."""
    from selenium.webdriver.common.by import By

    from media_monitoring.quality.validate import load_suite

    engine = sa.create_engine(ui.warehouse_url)
    with engine.connect() as conn:
        run = conn.execute(sa.text("select * from validation_runs")).mappings().one()
        batches = {r["outlet_id"]: _json_value(r["failed_expectations"]) for r in conn.execute(sa.text(
            "select outlet_id, failed_expectations from outlet_quality where run_id = :r"), {"r": INGEST_RUN}
        ).mappings()}
        wall = conn.execute(sa.text("select article_id, url, outlet_id, failed_expectations from quarantine"
                                    )).mappings().one()
    engine.dispose()
    suites = {name: load_suite(name) for name in ("articles", "outlet_batches")}
    why = {e["meta"]["name"]: e["meta"]["why"] for suite in suites.values() for e in suite["expectations"]}
    row_level = {e["meta"]["name"] for e in suites["articles"]["expectations"]}
    failures = _json_value(run["by_expectation"])  # row-level failures (articles); batch-level: outlets
    failures.update({name: sum(name in failed for failed in batches.values()) for name in set(why) - row_level})
    assert (run["run_id"], run["quarantined"], wall["outlet_id"]) == (INGEST_RUN, 1, "kazinform")
    assert "not_error_page" in _json_value(wall["failed_expectations"])

    # From the plugin's nav: the runs, newest first, with their counts and failures.
    chrome.get(ui.base + "/media-monitor/")
    chrome.find_element(By.ID, "nav-quality").click()
    _wait(chrome, _by(By.ID, "run-table"))
    runs = chrome.find_elements(By.CSS_SELECTOR, "#run-table tr.run")
    assert [(r.get_attribute("data-run"), r.get_attribute("data-quarantined")) for r in runs] == [(INGEST_RUN, "1")]
    cells = [c.text for c in runs[0].find_elements(By.TAG_NAME, "td")]
    assert cells[2] == f"articles {suites['articles']['meta']['version']}"
    assert cells[3:6] == [str(run["evaluated"]), str(run["accepted"]), "1"]
    assert "not_error_page ×1" in cells[6]

    # The current quarantine: the consent wall, with how to release it.
    held = chrome.find_elements(By.CSS_SELECTOR, "#quarantine-table tr.quarantined-article")
    assert [(r.get_attribute("data-article"), r.get_attribute("data-outlet")) for r in held] == [
        (wall["article_id"], "kazinform")]
    assert "media-monitor release ARTICLE_ID" in chrome.find_element(By.ID, "release-note").text

    # The run's report: every expectation of both suites, its reason and its failures in the run.
    runs[0].find_element(By.TAG_NAME, "a").click()
    _wait(chrome, _by(By.ID, "expectation-table"))
    assert parse_qs(urlsplit(chrome.current_url).query)["id"] == [INGEST_RUN]
    assert chrome.find_element(By.ID, "run-quarantined").text == "1"
    rows = {r.get_attribute("data-expectation"): r
            for r in chrome.find_elements(By.CSS_SELECTOR, "#expectation-table tr.expectation")}
    assert set(rows) == set(why)
    for name, row in rows.items():
        assert row.get_attribute("data-failed") == str(failures.get(name, 0)), name
        assert row.find_element(By.CSS_SELECTOR, ".reason").text == why[name]
    assert rows["not_error_page"].get_attribute("data-failed") == "1"
    assert "cookie walls, paywalls" in rows["not_error_page"].text

    # Every outlet's batch of the run, then the quarantined page: its URL a link, what it failed and why.
    assert {r.get_attribute("data-outlet") for r in chrome.find_elements(By.CSS_SELECTOR, "#outlet-table tr")
            if r.get_attribute("data-outlet")} == set(batches)
    held = chrome.find_elements(By.CSS_SELECTOR, "#quarantine-table tr.quarantined-article")
    assert [r.get_attribute("data-article") for r in held] == [wall["article_id"]]
    assert held[0].find_element(By.CSS_SELECTOR, ".url a").get_attribute("href") == wall["url"]
    failed = held[0].find_element(By.CSS_SELECTOR, '.failed-expectation[data-expectation="not_error_page"]')
    assert failed.text.startswith("not_error_page: true") and why["not_error_page"] in failed.text
    assert "in quarantine" in held[0].text
    browser.full_page_png(chrome, ui.shots / "data-quality-report.png")
    assert (ui.shots / "data-quality-report.png").stat().st_size > 20_000


def test_the_view_in_airflows_nav(ui, chrome):
    from selenium.webdriver.common.by import By

    chrome.set_window_size(1440, 1300)
    chrome.get(ui.base + "/")
    link = _wait(chrome, _by(By.CSS_SELECTOR, 'a[href$="plugin/media-monitor"]'))
    link.click()
    frame = _wait(chrome, _by(By.CSS_SELECTOR, 'iframe[src*="media-monitor"]'))
    chrome.switch_to.frame(frame)
    try:
        _wait(chrome, _by(By.ID, "digest-table"))
        assert len(_hit_rows(chrome)) > 0
    finally:
        chrome.switch_to.default_content()
    time.sleep(1)  # let the nested digest preview paint
    ui.shots.mkdir(parents=True, exist_ok=True)
    chrome.save_screenshot(str(ui.shots / "media-monitor-view.png"))
    assert (ui.shots / "media-monitor-view.png").stat().st_size > 50_000
    chrome.set_window_size(1440, 1000)


def test_story_groups(ui, chrome):
    """A story reported by two outlets is listed once, with both articles: TASS in English and RIA Novosti in
    Russian on the same Lavrov statement, grouped across languages by the pipeline itself."""
    from selenium.webdriver.common.by import By

    engine = sa.create_engine(ui.warehouse_url)
    with engine.connect() as conn:
        members = conn.execute(sa.text(
            "select article_id, outlet_id from articles "
            "where outlet_id in ('tass-en', 'ria-ru') and exists (select 1 from watchlist_hits h where "
            "h.article_id = articles.article_id and h.term = 'CSTO') order by published_at")).mappings().all()
    engine.dispose()
    assert [m["outlet_id"] for m in members] == ["tass-en", "ria-ru"]
    story_id = members[0]["article_id"]  # a story's id is its first article's
    chrome.get(ui.base + "/media-monitor/")
    rows = chrome.find_elements(By.CSS_SELECTOR, "#story-table tr.story")
    assert [r.get_attribute("data-story") for r in rows] == [story_id]
    assert [m.get_attribute("data-outlet") for m in rows[0].find_elements(By.CSS_SELECTOR, "li.member")] == [
        "tass-en", "ria-ru"]
    assert "Lavrov says CSTO ready" in rows[0].text


def test_an_article_changed_since_sent_and_the_latency_page(ui, chrome):
    """A re-check found the TASS Lavrov headline rewritten after the seed digests sent it: the hit is marked
    "changed since sent", its page shows the diff; the latency page has the outlets and terms."""
    from selenium.webdriver.common.by import By

    from media_monitoring import revisions as rv
    from media_monitoring.warehouse import schema as s

    engine = sa.create_engine(ui.warehouse_url)
    with engine.begin() as conn:
        article = conn.execute(sa.text("select article_id, title, text from articles where url like "
                                       "'%tass-en/politics/1354210.html'")).mappings().one()
        new_title = "Lavrov: CSTO will help Tajikistan guard Afghan border"
        change = rv.compare(article["title"], article["text"], new_title, article["text"])
        conn.execute(s.article_revisions.insert().values(
            article_id=article["article_id"], check_no=1, checked_at=datetime.now(UTC) - timedelta(minutes=5),
            run_id="scheduled__recheck", kind=change.kind, http_status=200, title_before=change.title_before,
            title_after=change.title_after, words_added=0, words_removed=0, diff=change.diff,
            text_after=article["text"]))
    engine.dispose()

    chrome.get(ui.base + "/media-monitor/?term=Lavrov#hits")
    row = _wait(chrome, _by(By.CSS_SELECTOR, f'tr.hit[data-article="{article["article_id"]}"]'))
    note = row.find_element(By.CSS_SELECTOR, ".changed-note")
    assert "changed since sent" in note.text and f"headline was «{article['title']}»" in note.text
    assert len(chrome.find_elements(By.CSS_SELECTOR, ".changed-note")) == 1, "only the changed article is marked"
    note.find_element(By.CSS_SELECTOR, "a.revisions-link").click()
    revision = _wait(chrome, _by(By.CSS_SELECTOR, '#revisions .revision[data-kind="edited"]'))
    assert "changed since sent" in revision.text
    assert [e.text for e in revision.find_elements(By.CSS_SELECTOR, "pre.diff .del")] == [f"-{article['title']}"]
    assert [e.text for e in revision.find_elements(By.CSS_SELECTOR, "pre.diff .add")] == [f"+{new_title}"]
    assert chrome.find_element(By.ID, "first-sent").text.strip() != ""
    browser.full_page_png(chrome, ui.shots / "revisions.png", width=1100)

    chrome.find_element(By.ID, "nav-latency").click()
    _wait(chrome, _by(By.ID, "latency-days"))  # the seed articles were stored on 2026-11-22
    from selenium.webdriver.support.ui import Select

    Select(chrome.find_element(By.ID, "latency-days")).select_by_value("all")
    chrome.find_element(By.CSS_SELECTOR, "#latency form button").click()
    _wait(chrome, lambda d: "days=all" in d.current_url)
    outlets, terms = ({r.get_attribute("data-key") for r in chrome.find_elements(By.CSS_SELECTOR, f"#{table} tr")}
                      for table in ("latency-outlet", "latency-term"))
    assert {"tass-en", "ria-ru", "tolonews"} <= outlets and {"Lavrov", "CSTO", "Afghanistan"} <= terms
    tass = chrome.find_element(By.CSS_SELECTOR, '#latency-outlet tr.latency-row[data-key="tass-en"]')
    assert "★" in tass.text  # a priority outlet


def test_hostile_headline_stays_text(ui, chrome):
    """A headline from the web carrying markup shows as text, and its javascript: URL is no link."""
    from selenium.webdriver.common.by import By

    from media_monitoring.warehouse import Warehouse

    payload = '<img src=x onerror="document.title=\'pwned\'"><script>document.title="pwned"</script>'
    wh = Warehouse.connect(ui.warehouse_url, create=False)
    try:
        article_id = "f" * 32
        article_store.commit_batch(wh, "manual__hostile", [{
            "article_id": article_id, "canonical_url": "javascript:alert(1)//x", "url": "javascript:alert(1)",
            "outlet_id": "evil-outlet", "outlet_country": "ZZ", "title": payload, "title_key": None, "author": None,
            "published_at": datetime(2020, 1, 1, tzinfo=UTC), "date_source": "meta", "language": "en",
            "language_source": "meta", "text": "CSTO " + payload, "word_count": 3, "sources": [], "countries": [],
            "regions": [payload], "primary_country": None, "primary_region": None, "first_run_id": "manual__hostile",
            "fetched_at": datetime(2020, 1, 1, tzinfo=UTC)}],
            [{"article_id": article_id, "watchlist": "central-asia-security", "term": "CSTO", "field": "text",
              "start": 0, "end": 4, "alias": "CSTO", "matched": "CSTO", "snippet": payload, "version": "x"}],
            [], [], None)
    finally:
        wh.close()
    chrome.get(ui.base + "/media-monitor/?outlet=evil-outlet")
    rows = chrome.find_elements(By.CSS_SELECTOR, "#hit-table tr.hit")
    assert len(rows) == 1
    title_cell = rows[0].find_element(By.CSS_SELECTOR, "td.title")
    assert title_cell.text == payload  # shown literally
    assert not title_cell.find_elements(By.TAG_NAME, "a")  # javascript: URL: not a link
    assert not chrome.find_elements(By.CSS_SELECTOR, "#hit-table script, #hit-table img")
    assert chrome.title != "pwned"


def test_hostile_quarantine_stays_text(ui, chrome):
    """A quarantined page's title, URL and observed values from the web, and an odd run id, stay text."""
    from selenium.webdriver.common.by import By

    from media_monitoring.warehouse import Warehouse

    payload = '<img src=x onerror="document.title=\'pwned\'"><script>document.title="pwned"</script>'
    run_id = 'manual__<b>odd</b>&id=x#"|'
    at = datetime(2030, 1, 1, tzinfo=UTC)  # the newest run
    wh = Warehouse.connect(ui.warehouse_url, create=False)
    try:
        article_store.commit_batch(wh, run_id, [], [], [], [{
            "article_id": "e" * 32, "canonical_url": "javascript:alert(1)//q", "url": "javascript:alert(1)",
            "outlet_id": "evil-outlet", "run_id": run_id, "failed_expectations": ["title_not_site_name"],
            "observed": {"title_not_site_name": payload}, "record": {"title": payload, "language": "en"},
            "quarantined_at": at}],
            {"run_id": run_id, "suite": "articles x", "evaluated": 1, "accepted": 0, "quarantined": 1,
             "by_expectation": {"title_not_site_name": 1, payload: 1}, "validated_at": at})
    finally:
        wh.close()
    chrome.get(ui.base + "/media-monitor/quality")
    assert chrome.find_elements(By.CSS_SELECTOR, "#run-table tr.run")[0].get_attribute("data-run") == run_id
    row = chrome.find_element(By.CSS_SELECTOR, '#quarantine-table tr[data-outlet="evil-outlet"]')
    assert payload in row.find_element(By.CSS_SELECTOR, "td.title").text  # shown literally
    assert not row.find_elements(By.CSS_SELECTOR, "td.title a")  # javascript: URL: not a link
    assert not chrome.find_elements(By.CSS_SELECTOR, "main script, main img")
    row.find_element(By.CSS_SELECTOR, "td:last-child a").click()  # the odd run id survives the round trip
    _wait(chrome, _by(By.ID, "expectation-table"))
    assert chrome.find_element(By.CSS_SELECTOR, "#report h2 code").text == run_id
    assert chrome.find_element(By.CSS_SELECTOR, '#expectation-table tr[data-expectation="title_not_site_name"]'
                               ).get_attribute("data-failed") == "1"
    assert payload in chrome.find_element(By.ID, "expectation-table").text  # a name no longer in the suite
    assert not chrome.find_elements(By.CSS_SELECTOR, "main script, main img")
    assert chrome.title != "pwned"


# -- speed at scale ----------------------------------------------------------------------------------

BENCH_ARTICLES = int(os.environ.get("MEDIA_MONITOR_UI_BENCH_ARTICLES", "200000"))
BIG_TABLES = {"articles", "watchlist_hits", "article_places", "hit_places", "stories", "article_stories"}
QUERY_BUDGET_MS = 1000  # per query: generous for a loaded 2-core CI machine (typically 1-250 ms)


def _fill_synthetic(url: str, n: int) -> None:
    """``n`` articles from 500 outlets, one a minute; hits on 5% / 2% / 0.5% / 0.02% of them (three
    mentions each; the odd-numbered outlets have none), region tags on every article (one region on 0.1%
    only, one on half of them but never on an article with hits), a few undated ones, and
    stories of five articles each, one in ten of them a group."""
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("""
                INSERT INTO articles (article_id, canonical_url, url, outlet_id, outlet_country, title, published_at,
                                      language, text, word_count, sources, countries, regions, primary_region)
                SELECT md5(i::text), 'https://o' || (i % 500) || '.example/a/' || i,
                       'https://o' || (i % 500) || '.example/a/' || i, 'outlet-' || (i % 500), 'RU',
                       'Headline ' || i,
                       CASE WHEN i % 50000 = 7 THEN NULL ELSE timestamptz '2021-01-01' + i * interval '1 minute' END,
                       'en', 'body', 1, '[]', '[]', '["Central Asia"]', 'Central Asia'
                FROM generate_series(1, :n) i"""), {"n": n})
            conn.execute(sa.text("""
                INSERT INTO watchlist_hits (article_id, watchlist, term, field, start, "end", alias, matched,
                                            snippet, version)
                SELECT md5(i::text), 'central-asia-security', t.term, 'text', k, k + 4, t.term, t.term, 's', 'v1'
                FROM generate_series(1, :n) i
                CROSS JOIN (VALUES ('Afghanistan', 20), ('Lavrov', 50), ('CSTO', 200), ('Rare', 5000)) t(term, every)
                CROSS JOIN generate_series(1, 3) k
                WHERE i % t.every = 0"""), {"n": n})
            conn.execute(sa.text("""
                INSERT INTO article_places (article_id, kind, code, name, mentions, evidence)
                SELECT md5(i::text), k.kind, r.code, r.code, 1, '[]'
                FROM generate_series(1, :n) i
                CROSS JOIN (VALUES ('Central Asia', 1), ('Eastern Europe', 3), ('Northern Africa', 997)) r(code, every)
                CROSS JOIN (VALUES ('region'), ('focus_reg')) k(kind)  -- the articles are about these regions
                WHERE i % r.every = 0"""), {"n": n})
            # A region only on odd-numbered articles, which never have hits (every hit term's period is even):
            # the worst case for a region filter, which must not walk every article to find nothing.
            conn.execute(sa.text("""
                INSERT INTO article_places (article_id, kind, code, name, mentions, evidence)
                SELECT md5(i::text), k.kind, 'Polynesia', 'Polynesia', 1, '[]'
                FROM generate_series(1, :n, 2) i
                CROSS JOIN (VALUES ('region'), ('focus_reg')) k(kind)"""), {"n": n})
            # A story per five articles; one in ten of them groups five articles (the rest: one).
            conn.execute(sa.text("""
                INSERT INTO stories (story_id, title, first_seen, last_seen, article_count, copies, outlets,
                                     outlet_countries, countries)
                SELECT md5('s' || i), 'Story ' || i, timestamptz '2021-01-01' + i * interval '1 minute',
                       timestamptz '2021-01-01' + (i + 4) * interval '1 minute',
                       CASE WHEN i % 50 = 0 THEN 5 ELSE 1 END, CASE WHEN i % 50 = 0 THEN 5 ELSE 1 END,
                       '["outlet-1"]', '["RU"]', '["RU"]'
                FROM generate_series(5, :n, 5) i"""), {"n": n})
            conn.execute(sa.text("""
                INSERT INTO article_stories (article_id, story_id, matched_article_id, similarity, duplicate_of)
                SELECT md5(i::text), md5('s' || (i / 5 * 5)), NULL, NULL, NULL
                FROM generate_series(5, :n) i"""), {"n": n})
        from media_monitoring.warehouse import Warehouse

        article_store.rebuild_hit_places(Warehouse(engine))  # derived from the hits and places written above
        with engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("ANALYZE")
    finally:
        engine.dispose()


def _plan_nodes(plan: dict):
    yield plan
    for child in plan.get("Plans", []):
        yield from _plan_nodes(child)


def test_ui_queries_are_index_driven_on_a_large_postgres_warehouse(postgres_warehouse):
    """Every hit-list shape the UI can ask for, EXPLAINed on PostgreSQL over ``BENCH_ARTICLES``
    articles (200,000 by default; ``MEDIA_MONITOR_UI_BENCH_ARTICLES=1000000`` for the million):
    no sequential scan of a big table, each within budget, and keyset pages equal to OFFSET pages."""
    from sqlalchemy.dialects import postgresql

    from media_monitoring.warehouse import Warehouse
    from media_monitoring_ui.cursors import DEFAULT_PAGE_SIZE, HitCursor, HitFilter, TimeCursor
    from media_monitoring_ui.queries import choices, hits, quality, stories

    wh = Warehouse.connect(postgres_warehouse)  # creates the schema, with its indexes, as the DAGs do
    try:
        _fill_synthetic(postgres_warehouse, BENCH_ARTICLES)
        w = ("central-asia-security",)
        with wh.engine.connect() as conn:
            deep = conn.execute(hits.hit_articles_query(HitFilter(), limit=BENCH_ARTICLES // 40)).all()[-1]
        cursor = HitCursor(deep.published_at, deep.article_id)
        cases = {
            "all hits": (HitFilter(), None),
            "common term": (HitFilter(term="Afghanistan", watchlists=w), None),
            "uncommon term": (HitFilter(term="CSTO", watchlists=w), None),
            "rare term": (HitFilter(term="Rare", watchlists=w), None),
            "unknown term": (HitFilter(term="Nobody", watchlists=w), None),
            "outlet": (HitFilter(outlet="outlet-200"), None),
            "common region": (HitFilter(region="Eastern Europe"), None),
            "rare region": (HitFilter(region="Northern Africa"), None),
            "outlet without hits": (HitFilter(outlet="outlet-201"), None),
            "region without hits": (HitFilter(region="Polynesia"), None),
            "one month": (HitFilter(since=date(2021, 2, 1), until=date(2021, 2, 28)), None),
            "term + outlet": (HitFilter(term="CSTO", watchlists=w, outlet="outlet-200"), None),
            "term + rare region": (HitFilter(term="CSTO", watchlists=w, region="Northern Africa"), None),
            "all filters, no match": (HitFilter(term="CSTO", watchlists=w, outlet="outlet-201",
                                                region="Northern Africa", since=date(2021, 1, 1),
                                                until=date(2021, 12, 31)), None),
            "deep page": (HitFilter(), cursor),
            "deep page + term": (HitFilter(term="CSTO", watchlists=w), cursor),
        }
        statements = {name: hits.hit_articles_query(f, after=c, limit=DEFAULT_PAGE_SIZE + 1)
                      for name, (f, c) in cases.items()}
        statements["undated"] = hits.undated_hit_articles_query(HitFilter(), limit=51)
        statements["outlet choices"] = choices.outlets_query()
        statements["region choices"] = choices.regions_query()
        with wh.engine.connect() as conn:
            page_ids = list(conn.execute(statements["all hits"]).scalars())
        statements["hits of a page"] = hits.hits_of_articles_query(page_ids)
        statements["story groups"] = stories.story_groups_query()
        with wh.engine.connect() as conn:
            story_ids = list(conn.execute(statements["story groups"]).scalars())
            deep_story = conn.execute(stories.story_groups_query(limit=BENCH_ARTICLES // 1000)).all()[-1]
        statements["story groups, deep page"] = stories.story_groups_query(
            after=HitCursor(deep_story.first_seen, deep_story.story_id))
        statements["members of a story page"] = stories.story_members_query(story_ids)
        # Data quality: small tables (a row per run, per outlet and run, per quarantined page).
        quality_at = datetime(2021, 6, 1, tzinfo=UTC)
        statements["validation runs"] = quality.validation_runs_query()
        statements["validation runs, next page"] = quality.validation_runs_query(
            after=TimeCursor(quality_at, "scheduled__2021-06-01T00:00:00+00:00"))
        statements["outlet batches of a run"] = quality.outlet_quality_of_run_query("scheduled__2021-06-01")
        statements["quarantine, not released"] = quality.quarantine_query(
            open_only=True, after=TimeCursor(quality_at, "f" * 32))
        statements["quarantine of a run"] = quality.quarantine_query(run_id="scheduled__2021-06-01")

        report, slow = [], []
        with wh.engine.connect() as conn:
            for name, stmt in statements.items():
                sql = str(stmt.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}))
                result = conn.exec_driver_sql("EXPLAIN (ANALYZE, FORMAT JSON) " + sql).scalar()[0]
                scanned = {n.get("Relation Name") for n in _plan_nodes(result["Plan"]) if n["Node Type"] == "Seq Scan"}
                report.append(f"{name}: {result['Execution Time']:.1f} ms, seq scans {sorted(scanned) or 'none'}")
                slow.extend([(name, sorted(scanned), sql)] if scanned & BIG_TABLES else [])
                slow.extend([(name, result["Execution Time"], sql)]
                            if result["Execution Time"] >= QUERY_BUDGET_MS else [])
        print(f"\n{BENCH_ARTICLES} articles:\n  " + "\n  ".join(report))
        assert not slow, slow

        # Keyset pages are exactly the OFFSET pages (a brute-force listing), across page boundaries.
        def walk(flt: HitFilter) -> list[str]:
            """The article ids of the first three pages of 50, page after page."""
            walked, after = [], None
            for _ in range(3):
                page = hits.hit_page(wh, flt, after=after, limit=50)
                walked += [a["article_id"] for a in page.articles]
                after = page.next_cursor
            return walked

        walked = walk(HitFilter(term="CSTO", watchlists=w))
        with wh.engine.connect() as conn:
            expected = list(conn.execute(sa.text(
                "select a.article_id from articles a where exists (select 1 from watchlist_hits h where "
                "h.article_id = a.article_id and h.term = 'CSTO') order by a.published_at desc nulls last, "
                "a.article_id desc limit 150")).scalars())
        assert walked == expected
        # The same through hit_places (a region filter without a term).
        walked = walk(HitFilter(region="Eastern Europe"))
        with wh.engine.connect() as conn:
            expected = list(conn.execute(sa.text(
                "select a.article_id from articles a where exists (select 1 from watchlist_hits h where "
                "h.article_id = a.article_id) and exists (select 1 from article_places p where p.article_id = "
                "a.article_id and p.kind = 'region' and p.code = 'Eastern Europe') "
                "order by a.published_at desc nulls last, a.article_id desc limit 150")).scalars())
        assert walked == expected
        page = hits.hit_page(wh, HitFilter(term="CSTO", watchlists=w), limit=1)
        assert {"watchlist": "central-asia-security", "term": "CSTO", "mentions": 3, "in_title": False,
                "forms": ["CSTO"], "snippet": "s"} in page.articles[0]["terms"]

        # The data-quality reads on PostgreSQL: JSON columns, the title out of the stored record.
        article_store.commit_batch(wh, "scheduled__q", [], [], [], [{
            "article_id": "e" * 32, "canonical_url": "https://q.example/1", "url": "https://q.example/1",
            "outlet_id": "outlet-1", "run_id": "scheduled__q", "failed_expectations": ["body_word_count"],
            "observed": {"body_word_count": 12}, "record": {"title": "Заголовок", "language": "ru", "text": "x"},
            "quarantined_at": quality_at}],
            {"run_id": "scheduled__q", "suite": "articles v", "evaluated": 2, "accepted": 1, "quarantined": 1,
             "by_expectation": {"body_word_count": 1}, "validated_at": quality_at})
        assert [(r["run_id"], r["by_expectation"]) for r in quality.validation_run_page(wh).runs] == [
            ("scheduled__q", {"body_word_count": 1})]
        [held] = quality.quarantine_page(wh, open_only=True).articles
        assert (held["title"], held["language"], held["observed"], held["quarantined_at"]) == (
            "Заголовок", "ru", {"body_word_count": 12}, quality_at)
        assert quality.quarantine_page(wh, run_id="scheduled__q").articles == [held]
        assert quality.open_quarantine_count(wh) == 1
    finally:
        wh.close()


def test_latest_outlet_quality_walks_the_index_on_postgres(postgres_warehouse):
    """The digest's "sources needing attention" reads each outlet's latest quality row: over a year of
    half-hourly runs that must be index probes per outlet, not a scan of every row, and it must give
    what a GROUP BY would."""
    from sqlalchemy.dialects import postgresql

    from media_monitoring.warehouse import Warehouse
    from media_monitoring.warehouse.quality import latest_outlet_quality_query

    wh = Warehouse.connect(postgres_warehouse)
    try:
        with wh.engine.begin() as conn:  # 30 outlets x 17,520 runs; outlet-029 stopped half a year ago
            conn.execute(sa.text("""
                INSERT INTO outlet_quality (run_id, outlet_id, articles, short_share, empty_share,
                                            quarantined_share, duplicate_share, failed_expectations, validated_at)
                SELECT 'run-' || r, 'outlet-' || lpad(o::text, 3, '0'), (r + o) % 40, 0, 0, 0, 0, '[]',
                       timestamptz '2025-11-22' + r * interval '30 minutes'
                FROM generate_series(0, 17519) r CROSS JOIN generate_series(0, 29) o
                WHERE o < 29 OR r < 8760"""))
        with wh.engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("ANALYZE")
            sql = str(latest_outlet_quality_query().compile(dialect=postgresql.dialect(),
                                                            compile_kwargs={"literal_binds": True}))
            plan = conn.exec_driver_sql("EXPLAIN (ANALYZE, FORMAT JSON) " + sql).scalar()[0]
            expected = {r.outlet_id: (r.run_id, r.articles) for r in conn.execute(sa.text(
                "select distinct on (outlet_id) outlet_id, run_id, articles from outlet_quality "
                "order by outlet_id, validated_at desc"))}
        scanned = {n.get("Relation Name") for n in _plan_nodes(plan["Plan"]) if n["Node Type"] == "Seq Scan"}
        assert "outlet_quality" not in scanned, sql
        got = quality_store.latest_outlet_quality(wh)
        assert {k: (v["run_id"], v["articles"]) for k, v in got.items()} == expected
        assert len(got) == 30 and got["outlet-029"]["run_id"] == "run-8759"
        print(f"\nlatest_outlet_quality over 516,360 rows: {plan['Execution Time']:.1f} ms")
    finally:
        wh.engine.dispose()
