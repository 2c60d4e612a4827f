"""Subscriptions edited in the view: an owner saves theirs and the next digest reads it, another analyst is refused,
an operator may edit any, bad input is a 400 that names the field and stores nothing, a stale form is refused,
every request leaves one audit row; on an embedded warehouse with the repository's analysts.yaml (the Central
Asia desk is ana's, the Russia desk ivan's), the Airflow user stood in by a plain object."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from html import unescape
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from fastapi import Request
from fastapi.testclient import TestClient

from media_monitoring.config import load_analysts
from media_monitoring.curation import subscriptions as subs
from media_monitoring.digest.windows import next_slot
from media_monitoring.settings import load_settings
from media_monitoring.warehouse import Warehouse
from media_monitoring.warehouse import schema as s
from media_monitoring_ui import subscription_routes, writes
from media_monitoring_ui.source import Source
from media_monitoring_ui.writes import csrf_key, csrf_token

pytestmark = pytest.mark.unit

KEY = csrf_key("a server secret")
CENTRAL, RUSSIA = "Central Asia desk", "Russia desk"
ROLES = {"ana": "analyst", "ivan": "analyst", "olga": "operator", "nobody": "none"}


@dataclass
class _User:
    name: str

    def get_name(self) -> str:
        return self.name


@pytest.fixture
def wh(tmp_path):
    warehouse = Warehouse.connect(f"sqlite:///{tmp_path / 'w.sqlite'}")
    yield warehouse
    warehouse.close()


@pytest.fixture
def client(wh, monkeypatch):
    """The view's app over ``wh``, with the Airflow user from the ``X-Test-User`` header and the product role
    from ``ROLES``: what the auth manager would say."""
    from media_monitoring_ui import app, auth

    def test_user(request: Request) -> _User:
        return _User(request.headers["X-Test-User"])

    source = Source(url="test", warehouse=wh, tables=set(sa.inspect(wh.engine).get_table_names()))
    monkeypatch.setattr(subscription_routes.sources, "get", lambda: source)
    monkeypatch.setattr(writes, "server_csrf_key", lambda: KEY)
    monkeypatch.setattr(writes, "product_role", lambda user: ROLES[user.name])
    monkeypatch.setattr(subscription_routes, "product_role", lambda user: ROLES[user.name])
    app.dependency_overrides[auth.html_user] = test_user
    try:
        yield TestClient(app, root_path="/media-monitor")
    finally:
        app.dependency_overrides.clear()


def _in_force(wh: Warehouse, name: str):
    return next(x for x in subs.in_force(load_settings(), wh).subscriptions if x.name == name)


def _form(wh: Warehouse, name: str, **changes: Any) -> dict[str, Any]:
    """The subscription's edit form as the page fills it, with ``changes``."""
    sub = _in_force(wh, name)
    form = {"name": sub.name, "email": sub.email, "watchlists": list(sub.watchlists), "regions": list(sub.regions),
            "regions_mode": sub.regions_mode, "timezone": sub.timezone, "digest_time": sub.digest_time,
            "version": str(subs.history(wh, name)[0]["id"]),
            "back": f"/media-monitor/subscriptions#{subscription_routes._anchor(name)}"}
    return {**form, **changes}


def _post(client: TestClient, user: str, form: dict[str, Any], *, token: str | None = None):
    return client.post("/subscriptions/save", data={**form, "csrf_token": token or csrf_token(user, KEY)},
                       headers={"X-Test-User": user}, follow_redirects=False)


def _rows(wh: Warehouse, table: sa.Table) -> list[dict]:
    with wh.engine.connect() as conn:
        return [dict(r) for r in conn.execute(sa.select(table).order_by(table.c.id)).mappings()]


def _views(wh: Warehouse) -> list[dict]:
    return [r for r in _rows(wh, s.subscription_versions) if r["source"] == "view"]


# -- who may save ----------------------------------------------------------------------------------


def test_an_owner_saves_their_subscription_and_the_next_digest_reads_it(client, wh):
    form = _form(wh, CENTRAL, digest_time="09:15", regions=["CSTO members", "Central Asia"], regions_mode="only")
    response = _post(client, "ana", form)
    assert response.status_code == 303
    assert response.headers["location"] == (
        "/media-monitor/subscriptions?notice=subscription_saved#subscription-central-asia-desk")
    desk = _in_force(wh, CENTRAL)  # what the digest run reads (media_monitoring.digest.run)
    assert (desk.digest_time, desk.regions, desk.regions_mode) == ("09:15", ("Central Asia", "CSTO members"), "only")
    assert (desk.owners, desk.alerts.enabled, desk.email) == (("ana",), True,
                                                              "central-asia-desk@media-monitor.example.org")
    [version] = _views(wh)
    assert (version["name"], version["author"]) == (CENTRAL, "ana")
    assert "digest_time: 07:00 → 09:15" in version["diff"] and "regions_mode: first → only" in version["diff"]
    [audit] = _rows(wh, s.audit_log)
    assert (audit["user_name"], audit["role"], audit["action"], audit["target"], audit["outcome"]) == (
        "ana", "analyst", "subscription.save", CENTRAL, "done")
    assert audit["details"]["diff"] == version["diff"]

    page = client.get("/subscriptions?notice=subscription_saved", headers={"X-Test-User": "ana"})
    assert "takes effect at its next digest" in page.text
    assert 'value="09:15"' in page.text and "digest_time: 07:00 → 09:15" in page.text


def test_another_analysts_subscription_is_refused_and_the_refusal_audited(client, wh):
    before = _in_force(wh, RUSSIA)
    response = _post(client, "ana", _form(wh, RUSSIA, digest_time="06:00"))
    assert response.status_code == 403
    text = unescape(response.text)
    assert "Only an operator may change another analyst's subscription" in text
    assert "Russia desk belongs to ivan" in text and "Nothing was changed" in text
    assert _in_force(wh, RUSSIA) == before and _views(wh) == []
    [audit] = _rows(wh, s.audit_log)
    assert (audit["user_name"], audit["target"], audit["outcome"]) == ("ana", RUSSIA, "refused")
    assert audit["details"]["digest_time"] == "06:00"


def test_a_user_without_a_product_role_is_refused(client, wh):
    response = _post(client, "nobody", _form(wh, CENTRAL, digest_time="06:00"))
    assert response.status_code == 403 and "Only an analyst may change a subscription" in response.text
    assert _views(wh) == []


def test_an_operator_may_edit_any_subscription(client, wh):
    assert _post(client, "olga", _form(wh, RUSSIA, timezone="Asia/Tashkent")).status_code == 303
    assert _post(client, "olga", _form(wh, CENTRAL, email="desk@example.org")).status_code == 303
    assert _in_force(wh, RUSSIA).timezone == "Asia/Tashkent"
    assert _in_force(wh, CENTRAL).email == "desk@example.org"
    assert [(v["name"], v["author"]) for v in _views(wh)] == [(RUSSIA, "olga"), (CENTRAL, "olga")]
    assert [(a["role"], a["outcome"]) for a in _rows(wh, s.audit_log)] == [("operator", "done")] * 2


def test_a_post_without_the_users_token_changes_nothing(client, wh):
    form = _form(wh, CENTRAL, digest_time="09:15")
    assert _post(client, "ana", form, token=csrf_token("olga", KEY)).status_code == 403
    assert _in_force(wh, CENTRAL).digest_time == "07:00" and _views(wh) == []


# -- what is stored --------------------------------------------------------------------------------


@pytest.mark.parametrize(("changes", "message"), [
    ({"timezone": "Mars/Base"}, "Time zone: unknown time zone 'Mars/Base' (use an IANA name such as Asia/Almaty)."),
    ({"digest_time": "25:00"}, "Digest time: digest_time is HH:MM, 24-hour local time (the form gave “25:00”)."),
    ({"digest_time": "7.30"}, "Digest time: digest_time is HH:MM"),
    ({"email": "desk at example"}, "Address: not an email address"),
    ({"regions_mode": "most"}, "Regions mode: Input should be 'first' or 'only'"),
    ({"watchlists": ["central-asia-security", "nuclear"]}, "Watchlists: no watchlist in force is named “nuclear”"),
    ({"watchlists": []}, "Watchlists: choose at least one"),
    ({"regions": ["Atlantis"]}, "Regions of interest: “Atlantis” is no region articles are tagged with"),
])
def test_bad_input_is_a_400_that_names_the_field_and_nothing_is_stored(client, wh, changes, message):
    before = _in_force(wh, CENTRAL)
    response = _post(client, "ana", _form(wh, CENTRAL, **changes))
    assert response.status_code == 400
    assert message in unescape(response.text) and "Nothing was changed" in response.text
    assert 'id="save-error"' in response.text  # the page again, the message above the form as it was sent
    for field, value in changes.items():  # the form as it was sent, to fix
        if field in ("email", "timezone", "digest_time"):
            assert f'name="{field}" value="{value}"' in response.text
        elif field in ("watchlists", "regions"):
            assert all(f'name="{field}" value="{x}" checked' in response.text for x in value)
    assert _in_force(wh, CENTRAL) == before and _views(wh) == []
    [audit] = _rows(wh, s.audit_log)
    assert (audit["action"], audit["target"], audit["outcome"]) == ("subscription.save", CENTRAL, "invalid")
    assert message.split(" (")[0] in audit["details"]["error"]


def test_an_unknown_subscription_is_a_400(client, wh):
    response = _post(client, "olga", {**_form(wh, CENTRAL), "name": "Mars desk"})
    assert response.status_code == 400 and "No subscription is named “Mars desk”" in response.text
    assert _views(wh) == []


def test_an_unchanged_form_stores_no_version(client, wh):
    response = _post(client, "ana", _form(wh, CENTRAL, regions=["Southern Asia", "Central Asia"]))  # the form's order
    assert response.status_code == 303 and "notice=subscription_unchanged" in response.headers["location"]
    assert _views(wh) == []
    [audit] = _rows(wh, s.audit_log)
    assert (audit["outcome"], audit["details"]) == ("done", {"diff": "", "unchanged": True})


def test_a_form_opened_before_someone_elses_save_is_refused(client, wh):
    stale = _form(wh, CENTRAL, digest_time="06:00")
    assert _post(client, "olga", _form(wh, CENTRAL, digest_time="08:00")).status_code == 303
    response = _post(client, "ana", stale)
    assert response.status_code == 409 and "was changed by olga" in response.text
    assert _in_force(wh, CENTRAL).digest_time == "08:00"
    assert [a["outcome"] for a in _rows(wh, s.audit_log)] == ["done", "invalid"]


# -- the page --------------------------------------------------------------------------------------


def test_the_page_has_a_form_for_ones_own_and_the_others_read_only(client, wh):
    page = client.get("/subscriptions", headers={"X-Test-User": "ana"}).text
    own, other = page.split('id="subscription-russia-desk"')
    assert 'id="subscription-central-asia-desk"' in own  # one's own first
    assert 'action="/media-monitor/subscriptions/save"' in own and f'value="{csrf_token("ana", KEY)}"' in own
    assert 'name="regions" value="CSTO members"' in own and 'name="regions" value="Southern Asia" checked' in own
    assert 'name="watchlists" value="central-asia-security" checked' in own
    upcoming = next_slot(_in_force(wh, CENTRAL), datetime.now(UTC)).astimezone(ZoneInfo("Asia/Almaty"))
    assert f'Next digest: <strong class="next-local">{upcoming:%a %d %b %Y, %H:%M} Asia/Almaty</strong>' in own
    assert "subscriptions/save" not in other and "Only its owners (ivan) or an operator may change it." in other
    operator = client.get("/subscriptions", headers={"X-Test-User": "olga"}).text
    assert operator.count('action="/media-monitor/subscriptions/save"') == 2


def test_the_next_digest_is_the_first_digest_time_after_now():
    desk = next(x for x in load_analysts(load_settings().analysts_file).subscriptions if x.name == CENTRAL)
    assert (desk.timezone, desk.digest_time) == ("Asia/Almaty", "07:00")  # UTC+5: 02:00 UTC
    assert next_slot(desk, datetime(2026, 3, 1, 1, 59, tzinfo=UTC)) == datetime(2026, 3, 1, 2, tzinfo=UTC)
    assert next_slot(desk, datetime(2026, 3, 1, 2, 0, tzinfo=UTC)) == datetime(2026, 3, 2, 2, tzinfo=UTC)
    berlin = desk.model_copy(update={"timezone": "Europe/Berlin"})  # 07:00 local across the spring change
    assert next_slot(berlin, datetime(2026, 3, 28, 12, tzinfo=UTC)) == datetime(2026, 3, 29, 5, tzinfo=UTC)

