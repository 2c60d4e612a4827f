"""Digest email: hostile article text stays inert, headers stay clean, and a digest is delivered once."""

from __future__ import annotations

import email
import email.policy
from collections.abc import Iterator
from datetime import UTC, date, datetime
from email.message import EmailMessage
from html.parser import HTMLParser
from pathlib import Path

import pytest

from media_monitoring.config import Analysts, Subscription
from media_monitoring.digest.compose import SubscriptionDigest, WatchlistDigest
from media_monitoring.digest.deliver import SmtpSend, build_message, deliver, envelope_sender
from media_monitoring.digest.render import MAX_TEXT_CHARS, render_digest, subject_for
from media_monitoring.records import DigestItem, DigestTerm
from media_monitoring.warehouse import Warehouse
from media_monitoring.warehouse import digests as store

pytestmark = pytest.mark.unit

DAY = date(2021, 10, 28)
NOW = datetime(2021, 10, 29, 6, 0, tzinfo=UTC)
SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(1)>"
LONG = "Long headline " + "x" * 10_000
ARABIC = "لافروف: روسيا لا تريد وجود الجيش الأمريكي في آسيا الوسطى"
INJECT = "Budget news\r\nBcc: evil@example.com"
SUB = Subscription(name="Central Asia desk", email="desk@media-monitor.example.org",
                   watchlists=["central-asia-security"])
ANALYSTS = Analysts(sender="Media Monitor <digest@media-monitor.example.org>", reply_to="analysts@example.org",
                    subscriptions=[SUB])


def _term(snippet: str, term: str = "Lavrov", field: str = "text") -> DigestTerm:
    return DigestTerm(term=term, alias=term, matched=term, field=field, snippet=snippet)


def _item(rank: int, title: str, snippet: str, url: str | None = None) -> DigestItem:
    return DigestItem(article_id=f"a{rank}", rank=rank, title=title, url=url or f"https://news.example/{rank}",
                      outlet_id="hostile", published_at=datetime(2021, 10, 28, 10, 15, tzinfo=UTC),
                      terms=(_term(snippet),))


@pytest.fixture(scope="module")
def digest() -> SubscriptionDigest:
    items = [
        _item(1, SCRIPT, IMG),
        _item(2, IMG, SCRIPT),
        _item(3, LONG, "snippet " * 2000),
        _item(4, ARABIC, "قال " + ARABIC),
        _item(5, INJECT, "line one\r\nBcc: evil@example.com\nline three"),
        _item(6, "Click me", "javascript link", url="javascript:alert(document.cookie)"),
        _item(7, "Data link", "data link", url="data:text/html,<script>alert(1)</script>"),
    ]
    section = WatchlistDigest("central-asia-security", "2026.11.1", items, {"Lavrov": len(items)})
    empty = WatchlistDigest("<b>empty</b>", "1", [], {})
    attention = [{"outlet_id": "hostile", "name": "<i>Hostile</i>", "status": "blocked",
                  "reason": "blocked (403): HTTP 403 <script>x</script>"}]
    return SubscriptionDigest(DAY, SUB, "scheduled", datetime(2021, 10, 28, 1, tzinfo=UTC), NOW, [section, empty],
                              {"hostile": "<svg onload=alert(1)>"}, attention)


@pytest.fixture(scope="module")
def message(digest: SubscriptionDigest) -> EmailMessage:
    return build_message(render_digest(digest), ANALYSTS, SUB, DAY, NOW)


class _Markup(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _markup(html: str) -> _Markup:
    parser = _Markup()
    parser.feed(html)
    parser.close()
    return parser


def test_html_has_no_executable_markup(digest: SubscriptionDigest) -> None:
    html = render_digest(digest).html
    markup = _markup(html)
    tags = {tag for tag, _attrs in markup.tags}
    assert tags <= {"html", "head", "meta", "title", "body", "div", "h1", "h2", "h3", "p", "span", "a", "table",
                    "tbody", "tr", "td", "strong"}, tags
    for tag, attrs in markup.tags:
        assert not [a for a in attrs if a.startswith("on")], (tag, attrs)
        if tag == "a":
            href = attrs.get("href") or ""
            assert href == "" or href.startswith("https://"), href
    # the hostile strings are shown to the reader as text, escaped
    text = "".join(markup.text)
    assert SCRIPT in text and IMG in text and "<svg onload=alert(1)>" in text and "<i>Hostile</i>" in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_long_text_is_cut(digest: SubscriptionDigest) -> None:
    rendered = render_digest(digest)
    assert "x" * MAX_TEXT_CHARS not in rendered.html and "x" * MAX_TEXT_CHARS not in rendered.text
    assert ("Long headline " + "x" * 100) in rendered.html and "…" in rendered.html
    assert ("snippet " * (MAX_TEXT_CHARS // 8 + 1)) not in rendered.text
    assert len(rendered.html) < 40_000


def test_rtl_text_survives(digest: SubscriptionDigest) -> None:
    rendered = render_digest(digest)
    assert ARABIC in rendered.html and ARABIC in rendered.text
    anchors = [attrs for tag, attrs in _markup(rendered.html).tags if tag == "a"]
    anchor = next(a for a in anchors if (a.get("href") or "").endswith("/4"))
    assert anchor.get("dir") == "auto"  # an RTL headline is laid out on its own


def test_newlines_in_titles_do_not_make_lines(digest: SubscriptionDigest) -> None:
    rendered = render_digest(digest)
    for line in rendered.text.splitlines():
        assert not line.startswith("Bcc:"), line
    assert "* Budget news Bcc: evil@example.com" in rendered.text
    assert "\r" not in rendered.text and "\r" not in rendered.html


def test_subject_and_headers_are_clean(digest: SubscriptionDigest, message: EmailMessage) -> None:
    assert subject_for(digest) == "Media Monitor 2021-10-28: 7 articles, 7 mentions"
    raw = message.as_bytes()
    head = raw.split(b"\n\n", 1)[0]
    assert b"evil@example.com" not in head
    assert b"<script" not in head
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert parsed["Bcc"] is None and parsed["Cc"] is None
    assert parsed["To"] == SUB.email
    assert parsed["From"] == ANALYSTS.sender
    assert parsed["Reply-To"] == "analysts@example.org"
    assert parsed["Subject"] == subject_for(digest)
    assert parsed["Message-ID"] == "<digest.2021-10-28.central-asia-desk@media-monitor.example.org>"
    assert all("\n" not in v and "\r" not in v for v in parsed.values())


def test_message_is_multipart_alternative(message: EmailMessage) -> None:
    parsed = email.message_from_bytes(message.as_bytes(), policy=email.policy.default)
    assert parsed.get_content_type() == "multipart/alternative"
    parts = list(parsed.iter_parts())
    assert [p.get_content_type() for p in parts] == ["text/plain", "text/html"]
    assert all(p.get_content_charset() == "utf-8" for p in parts)
    assert ARABIC in parts[0].get_content() and ARABIC in parts[1].get_content()
    assert "<script>" not in parts[1].get_content()


def test_header_injection_refused_if_it_ever_reached_a_header(digest: SubscriptionDigest) -> None:
    from dataclasses import replace

    rendered = replace(render_digest(digest), subject=INJECT)
    with pytest.raises(ValueError):
        build_message(rendered, ANALYSTS, SUB, DAY, NOW)


def test_envelope_sender() -> None:
    assert envelope_sender(ANALYSTS) == "digest@media-monitor.example.org"


@pytest.fixture
def warehouse(tmp_path: Path) -> Iterator[Warehouse]:
    wh = Warehouse.connect(f"sqlite:///{tmp_path}/w.sqlite")
    try:
        yield wh
    finally:
        wh.close()


def _deliver(wh: Warehouse, msg: EmailMessage, outbox: Path, smtp_send: SmtpSend | None = None,
             run_id: str = "run-1") -> str:
    return deliver(wh, msg, day=DAY, subscription=SUB, run_id=run_id, sender=envelope_sender(ANALYSTS),
                   smtp_send=smtp_send, outbox_dir=outbox, now=NOW)


def test_outbox_delivery_happens_once(warehouse: Warehouse, message: EmailMessage, digest: SubscriptionDigest,
                                      tmp_path: Path) -> None:
    outbox = tmp_path / "outbox"
    assert _deliver(warehouse, message, outbox) == "sent"
    eml = outbox / "2021-10-28" / "central-asia-desk.eml"
    first = eml.read_bytes()
    assert first == message.as_bytes(policy=email.policy.SMTP)
    assert all(len(line) <= 998 for line in first.split(b"\r\n"))  # SMTP's line limit
    stamp = eml.stat().st_mtime_ns
    # a rerun builds the message again (another Date header) and must still not send
    again = build_message(render_digest(digest), ANALYSTS, SUB, DAY, datetime(2021, 10, 30, tzinfo=UTC))
    assert _deliver(warehouse, again, outbox, run_id="run-2") == "already_sent"
    assert eml.read_bytes() == first and eml.stat().st_mtime_ns == stamp
    assert sorted(p.name for p in eml.parent.iterdir()) == ["central-asia-desk.eml"]  # no temp file left
    row = store.sent(warehouse, DAY, SUB.name)
    assert row["status"] == "sent" and row["transport"] == "outbox" and row["run_id"] == "run-1"
    assert row["message_id"] == message["Message-ID"]


def test_smtp_retry_after_failure_reuses_message_id(warehouse: Warehouse, message: EmailMessage,
                                                    tmp_path: Path) -> None:
    calls: list[tuple[str, list[str], bytes]] = []

    def broken(sender: str, recipients: list[str], data: bytes) -> None:
        raise ConnectionError("smtp down")

    def working(sender: str, recipients: list[str], data: bytes) -> None:
        calls.append((sender, recipients, data))

    with pytest.raises(ConnectionError):
        _deliver(warehouse, message, tmp_path, smtp_send=broken)
    failed = store.sent(warehouse, DAY, SUB.name)
    assert failed["status"] == "failed" and failed["error"] == "ConnectionError: smtp down"
    assert _deliver(warehouse, message, tmp_path, smtp_send=working) == "sent"
    assert _deliver(warehouse, message, tmp_path, smtp_send=working) == "already_sent"
    assert len(calls) == 1
    sender, recipients, data = calls[0]
    assert sender == "digest@media-monitor.example.org" and recipients == [SUB.email]
    assert b"Message-ID: <digest.2021-10-28.central-asia-desk@media-monitor.example.org>" in data
    assert not (tmp_path / "2021-10-28").exists()  # SMTP delivery writes no outbox file
    row = store.sent(warehouse, DAY, SUB.name)
    assert row["attempts"] == 2 and row["error"] == "ConnectionError: smtp down"  # the failure stays on record
