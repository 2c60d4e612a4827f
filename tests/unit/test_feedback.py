"""Analysts' feedback and the view's write path: the CSRF token, the validation of a mark, the upsert (a repeat
click never duplicates), precision per term from the marks, the audit rows, and the routes' answers (token,
role, bad input) on an embedded warehouse, with the Airflow user stood in by a plain object."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from fastapi import Request
from fastapi.testclient import TestClient

from media_monitoring.warehouse import Warehouse
from media_monitoring.warehouse import articles as article_store
from media_monitoring.warehouse import feedback as fb
from media_monitoring.warehouse import schema as s
from media_monitoring_ui import feedback_routes, writes
from media_monitoring_ui.source import Source
from media_monitoring_ui.writes import Write, WriteRefused, csrf_key, csrf_token, csrf_valid

pytestmark = pytest.mark.unit

WHEN = datetime(2021, 10, 28, 6, 30, tzinfo=UTC)
TERMS = [("central-asia-security", "Lavrov"), ("central-asia-security", "CSTO")]
VERSIONS = {"central-asia-security": "2026.12.2"}
KEY = csrf_key("a server secret")


def _article(article_id: str) -> dict:
    return {"article_id": article_id, "canonical_url": f"https://x.org/{article_id}",
            "url": f"https://x.org/{article_id}", "outlet_id": "tass-en", "text": "Lavrov met CSTO envoys",
            "word_count": 4, "sources": [], "countries": [], "regions": [], "published_at": WHEN}


def _hit(article_id: str, term: str, version: str = "2026.11.2") -> dict:
    return {"article_id": article_id, "watchlist": "central-asia-security", "term": term, "field": "text",
            "start": 0, "end": 6, "alias": term, "matched": term, "snippet": f"{term} …", "version": version}


@pytest.fixture
def wh(tmp_path):
    warehouse = Warehouse.connect(f"sqlite:///{tmp_path / 'w.sqlite'}")
    article_store.commit_batch(warehouse, "r1", [_article("a1"), _article("a2"), _article("a3")],
                               [_hit("a1", "Lavrov"), _hit("a2", "Lavrov"), _hit("a3", "Lavrov"), _hit("a1", "CSTO")],
                               [], [], None)
    yield warehouse
    warehouse.close()


def _write(user: str = "alice", role: str = "analyst", **form: str) -> Write:
    return Write(user=user, role=role, form=form, at=WHEN)


def _mark(wh: Warehouse, write: Write) -> fb.Mark:
    with wh.engine.connect() as conn:
        mark = feedback_routes.validated_mark(conn, write, TERMS, VERSIONS)
    with wh.engine.begin() as conn:
        fb.record_mark(wh, conn, mark)
    return mark


def _rows(wh: Warehouse, table: sa.Table) -> list[dict]:
    with wh.engine.connect() as conn:
        return [dict(r) for r in conn.execute(sa.select(table)).mappings()]


# -- the CSRF token ------------------------------------------------------------------------------


def test_the_csrf_token_is_the_users_and_the_servers():
    token = csrf_token("alice", KEY)
    assert csrf_valid(token, "alice", KEY)
    assert not csrf_valid(token, "bob", KEY)  # another user's token
    assert not csrf_valid(token, "alice", csrf_key("another secret"))  # another server
    assert not csrf_valid("", "alice", KEY)
    assert not csrf_valid(token[:-1] + ("0" if token[-1] != "0" else "1"), "alice", KEY)
    assert "a server secret" not in token and token != csrf_token("alice", b"a server secret")


# -- validation and the upsert -------------------------------------------------------------------


def test_a_verdict_is_stored_with_the_hits_rule_version_and_a_repeat_click_updates(wh):
    mark = _mark(wh, _write(kind="not_relevant", article="a1", watchlist="central-asia-security", term="Lavrov"))
    assert (mark.rule_version, mark.user_name) == ("2026.11.2", "alice")
    _mark(wh, _write(kind="not_relevant", article="a1", watchlist="central-asia-security", term="Lavrov",
                     note="a namesake"))
    [row] = _rows(wh, s.hit_feedback)
    assert (row["article_id"], row["term"], row["kind"], row["note"]) == ("a1", "Lavrov", "not_relevant", "a namesake")


def test_a_users_new_verdict_replaces_their_earlier_one_and_other_users_keep_theirs(wh):
    _mark(wh, _write(kind="not_relevant", article="a1", term="Lavrov"))
    _mark(wh, _write(user="bob", kind="wrong_place", article="a1", term="Lavrov"))
    _mark(wh, _write(kind="relevant", article="a1", term="Lavrov"))
    assert sorted((r["user_name"], r["kind"]) for r in _rows(wh, s.hit_feedback)) == [
        ("alice", "relevant"), ("bob", "wrong_place")]


def test_missed_takes_a_configured_term_in_any_case_and_the_watchlists_current_version(wh):
    mark = _mark(wh, _write(kind="missed", article="a2", term="csto"))
    assert (mark.term, mark.watchlist, mark.rule_version) == ("CSTO", "central-asia-security", "2026.12.2")


@pytest.mark.parametrize(("form", "message"), [
    ({"kind": "spam", "article": "a1", "term": "Lavrov"}, "no kind of feedback"),
    ({"kind": "not_relevant", "article": "nope", "term": "Lavrov"}, "No stored article"),
    ({"kind": "not_relevant", "article": "a2", "term": "CSTO"}, "has no hit of “CSTO”"),
    ({"kind": "missed", "article": "a2", "term": "Putin"}, "not a term of any watchlist"),
    ({"kind": "missed", "article": "a1", "term": "Lavrov"}, "already has a hit"),
    ({"kind": "not_relevant", "article": "a1"}, "no term"),
    ({"kind": "not_relevant", "article": "a1", "term": "Lavrov", "note": "x" * 501}, "longer than 500"),
])
def test_bad_input_is_a_400_that_says_why_and_nothing_is_stored(wh, form, message):
    with pytest.raises(WriteRefused) as caught, wh.engine.connect() as conn:
        feedback_routes.validated_mark(conn, _write(**form), TERMS, VERSIONS)
    assert caught.value.status_code == 400
    assert message in caught.value.detail and "Nothing was changed" in caught.value.detail
    assert _rows(wh, s.hit_feedback) == []


# -- precision per term --------------------------------------------------------------------------


def test_precision_is_the_share_of_marked_hits_nobody_marked_wrong(wh):
    _mark(wh, _write(kind="not_relevant", article="a1", term="Lavrov"))
    _mark(wh, _write(user="bob", kind="relevant", article="a1", term="Lavrov"))  # disputed: counts as wrong
    _mark(wh, _write(kind="relevant", article="a2", term="Lavrov"))
    _mark(wh, _write(kind="wrong_place", article="a3", term="Lavrov"))
    _mark(wh, _write(kind="missed", article="a2", term="CSTO"))
    rows = {r.term: r for r in fb.term_precision(wh, TERMS)}
    lavrov, csto = rows["Lavrov"], rows["CSTO"]
    assert (lavrov.hits, lavrov.marked, lavrov.not_relevant, lavrov.wrong_place, lavrov.wrong, lavrov.confirmed) \
        == (3, 3, 1, 1, 2, 1)
    assert lavrov.precision == pytest.approx(1 / 3)
    assert lavrov.versions == ["2026.11.2"]
    assert (csto.hits, csto.marked, csto.precision, csto.missed) == (1, 0, None, 1)
    quick = {r.term: r for r in fb.term_precision(wh, TERMS, count_hits=False)}["Lavrov"]
    assert (quick.hits, quick.marked, quick.wrong, quick.precision) == (0, 3, 2, lavrov.precision)
    assert {(r["article_id"], r["kind"]) for r in fb.marked_wrong(wh, "central-asia-security")} == {
        ("a1", "not_relevant"), ("a3", "wrong_place")}


def test_the_feedback_tables_are_added_to_a_warehouse_made_before_them(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.sqlite'}"
    Warehouse.connect(url).close()
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE hit_feedback")
        conn.exec_driver_sql("DROP TABLE audit_log")
        assert fb.ensure_tables(conn) is True
        assert fb.ensure_tables(conn) is False
    assert {"hit_feedback", "audit_log"} <= set(sa.inspect(engine).get_table_names())
    engine.dispose()


# -- the routes: token, role, validation, audit --------------------------------------------------


@dataclass
class _User:
    name: str

    def get_name(self) -> str:
        return self.name


@pytest.fixture
def client(wh, monkeypatch):
    """The view's app over ``wh``, with the Airflow user from the ``X-Test-User`` header and the product role
    from a dict: what the auth manager would say for an analyst (alice) and an operator (olga)."""
    from media_monitoring_ui import app, auth

    def test_user(request: Request) -> _User:
        return _User(request.headers["X-Test-User"])

    roles = {"alice": "analyst", "olga": "operator"}
    source = Source(url="test", warehouse=wh, tables=set(sa.inspect(wh.engine).get_table_names()),
                    terms=TERMS, watchlist_versions=VERSIONS)
    monkeypatch.setattr(feedback_routes.sources, "get", lambda: source)
    monkeypatch.setattr(writes, "server_csrf_key", lambda: KEY)
    monkeypatch.setattr(writes, "product_role", lambda user: roles[user.name])
    app.dependency_overrides[auth.html_user] = test_user
    try:
        yield TestClient(app, root_path="/media-monitor")
    finally:
        app.dependency_overrides.clear()


def _post(client: TestClient, path: str, user: str, **form: str):
    return client.post(path, data=form, headers={"X-Test-User": user}, follow_redirects=False)


def test_a_post_without_or_with_a_wrong_token_is_refused_and_changes_nothing(client, wh):
    form = {"kind": "not_relevant", "article": "a1", "term": "Lavrov", "back": "/media-monitor/"}
    assert _post(client, "/feedback", "alice", **form).status_code == 403
    response = _post(client, "/feedback", "alice", **form, csrf_token=csrf_token("olga", KEY))
    assert response.status_code == 403
    assert "security token" in response.text
    assert _rows(wh, s.hit_feedback) == []


def test_a_mark_redirects_back_with_a_confirmation_and_is_audited(client, wh):
    response = _post(client, "/feedback", "alice", kind="not_relevant", article="a1", term="Lavrov",
                     watchlist="central-asia-security", back="/media-monitor/?term=Lavrov#hits",
                     csrf_token=csrf_token("alice", KEY))
    assert response.status_code == 303
    assert response.headers["location"] == "/media-monitor/?term=Lavrov&notice=marked#hits"
    [row] = _rows(wh, s.hit_feedback)
    assert (row["user_name"], row["kind"], row["rule_version"]) == ("alice", "not_relevant", "2026.11.2")
    [audit] = _rows(wh, s.audit_log)
    assert (audit["user_name"], audit["role"], audit["action"], audit["target"], audit["outcome"]) == (
        "alice", "analyst", "feedback", "a1/Lavrov", "done")
    assert audit["details"]["rule_version"] == "2026.11.2"


def test_a_redirect_never_leaves_the_view(client):
    response = _post(client, "/feedback", "alice", kind="relevant", article="a1", term="Lavrov",
                     back="https://evil.example/media-monitor/", csrf_token=csrf_token("alice", KEY))
    assert response.headers["location"] == "/media-monitor/?notice=marked"
    for back in ("//evil.example/media-monitor/", "/media-monitor/\\evil.example"):
        response = _post(client, "/feedback", "alice", kind="relevant", article="a1", term="Lavrov", back=back,
                         csrf_token=csrf_token("alice", KEY))
        assert response.headers["location"] == "/media-monitor/?notice=marked"


def test_bad_input_is_a_400_page_and_an_invalid_audit_row(client, wh):
    response = _post(client, "/feedback", "alice", kind="missed", article="a2", term="Putin",
                     csrf_token=csrf_token("alice", KEY))
    assert response.status_code == 400
    assert "not a term of any watchlist" in response.text
    assert _rows(wh, s.hit_feedback) == []
    [audit] = _rows(wh, s.audit_log)
    assert (audit["outcome"], audit["target"]) == ("invalid", "a2/Putin")


def test_an_analyst_may_not_release_from_quarantine_and_the_refusal_is_audited(client, wh, monkeypatch):
    from media_monitoring import pipeline

    monkeypatch.setattr(pipeline, "release", lambda *a, **k: pytest.fail("an analyst's release must not run"))
    response = _post(client, "/quarantine/release", "alice", article="q1", csrf_token=csrf_token("alice", KEY))
    assert response.status_code == 403
    assert "Only an operator may release an article from quarantine" in response.text
    [audit] = _rows(wh, s.audit_log)
    assert (audit["user_name"], audit["role"], audit["action"], audit["target"], audit["outcome"]) == (
        "alice", "analyst", "quarantine.release", "q1", "refused")


def test_an_operators_release_of_an_article_not_in_quarantine_is_a_400(client, wh):
    response = _post(client, "/quarantine/release", "olga", article="q1", csrf_token=csrf_token("olga", KEY))
    assert response.status_code == 400
    assert "is in quarantine" in response.text
    [audit] = _rows(wh, s.audit_log)
    assert (audit["role"], audit["outcome"]) == ("operator", "invalid")
