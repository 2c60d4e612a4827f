"""Feed bytes to entries: the replay RSS and Atom feeds, relative links, and what is not a feed."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from media_monitoring.feeds import FeedParseError, parse_feed

pytestmark = pytest.mark.unit

REPLAY = Path(__file__).resolve().parents[2] / "seeds" / "replay"
BASE = "http://127.0.0.1:8765"
TOKEN = "{{REPLAY_BASE}}"
EXPECTED = yaml.safe_load((REPLAY / "expected.yaml").read_text(encoding="utf-8"))["pages"]
OUTLETS = yaml.safe_load((REPLAY / "outlets.yaml").read_text(encoding="utf-8"))["outlets"]


def _feed(outlet: dict) -> tuple[bytes, str]:
    relative = outlet["feed_url"].removeprefix(TOKEN + "/")
    body = (REPLAY / relative).read_bytes().replace(TOKEN.encode(), BASE.encode())
    return body, outlet["feed_url"].replace(TOKEN, BASE)


@pytest.mark.parametrize("outlet", OUTLETS, ids=[o["id"] for o in OUTLETS])
def test_replay_feed_entries_match_ground_truth(outlet: dict) -> None:
    body, url = _feed(outlet)
    entries = parse_feed(body, url)
    expected = {BASE + p["path"]: p for p in EXPECTED if p["outlet"] == outlet["id"]}
    assert {e.link for e in entries} == set(expected)
    for entry in entries:
        page = expected[entry.link]
        assert entry.title == page["title"]
        assert entry.published == datetime.fromisoformat(page["published"])
        assert entry.published.tzinfo is not None and entry.published.utcoffset().total_seconds() == 0
        assert entry.canonical_url == entry.link  # the replay links carry no tracking
        assert entry.entry_id
        assert entry.summary


def test_atom_feed_is_parsed() -> None:
    ria = next(o for o in OUTLETS if o["id"] == "ria-ru")
    assert ria["feed_url"].endswith("atom.xml")
    body, url = _feed(ria)
    entries = parse_feed(body, url)
    assert len(entries) == 3
    first = entries[0]
    assert first.title == "Лавров призвал союзников по ОДКБ укреплять границу с Афганистаном"
    assert first.published == datetime(2021, 10, 28, 11, 32, tzinfo=UTC)
    assert first.entry_id == "tag:ria.ru,2021-10-28:1756731208"


CRAFTED_RSS = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel>
  <title>Crafted</title>
  <link>https://www.news.example/site/</link>
  <description>d</description>
  <item><title>  Path   relative </title><link>a/story-1.html</link>
    <pubDate>Thu, 28 Oct 2021 10:00:00 GMT</pubDate></item>
  <item><title>Root relative</title><link>/news/story-2.html?utm_source=rss</link></item>
  <item><title>Absolute</title><link>https://cdn.news.example/story-3.html</link></item>
  <item><title>Not web</title><link>mailto:editor@news.example</link></item>
  <item><title>No link</title></item>
</channel></rss>"""


def test_relative_links_resolve_against_the_feed_url() -> None:
    entries = parse_feed(CRAFTED_RSS, "https://www.news.example/feeds/main/rss.xml")
    assert [e.link for e in entries] == [
        "https://www.news.example/feeds/main/a/story-1.html",
        "https://www.news.example/news/story-2.html?utm_source=rss",
        "https://cdn.news.example/story-3.html",
    ]
    assert entries[0].title == "Path relative"
    assert entries[0].published == datetime(2021, 10, 28, 10, 0, tzinfo=UTC)
    assert entries[1].published is None
    assert entries[1].canonical_url == "https://news.example/news/story-2.html"


def test_atom_xml_base_is_honoured() -> None:
    atom = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:base="https://news.example/archive/">
  <title>t</title><id>urn:x</id><updated>2021-10-28T10:00:00Z</updated>
  <entry><title>A</title><id>urn:a</id><link href="2021/a.html"/><updated>2021-10-28T10:00:00+03:00</updated></entry>
</feed>"""
    [entry] = parse_feed(atom, "https://news.example/feeds/atom.xml")
    assert entry.link == "https://news.example/archive/2021/a.html"
    assert entry.published == datetime(2021, 10, 28, 7, 0, tzinfo=UTC)


def test_html_page_is_not_a_feed() -> None:
    html = (REPLAY / "tass-en" / "politics" / "1354210.html").read_bytes()
    with pytest.raises(FeedParseError):
        parse_feed(html, "http://127.0.0.1:8765/tass-en/rss.xml")


@pytest.mark.parametrize("body", [b"", b"not a feed at all", b"<html><body><p>Moved</p></body></html>"])
def test_garbage_is_not_a_feed(body: bytes) -> None:
    with pytest.raises(FeedParseError):
        parse_feed(body, "https://news.example/rss.xml")


def test_empty_valid_feeds_give_no_entries() -> None:
    rss = b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title><link>https://x.example/</link>' \
          b"<description>d</description></channel></rss>"
    atom = b'<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>t</title><id>urn:x</id>' \
           b"<updated>2021-10-28T10:00:00Z</updated></feed>"
    assert parse_feed(rss, "https://x.example/rss.xml") == []
    assert parse_feed(atom, "https://x.example/atom.xml") == []


def test_str_is_refused(tmp_path: Path) -> None:
    # feedparser would read a str as a path or URL: a feed body that names a local file must not be opened
    secret = tmp_path / "feed.xml"
    secret.write_bytes(CRAFTED_RSS)
    with pytest.raises(TypeError):
        parse_feed(str(secret), "https://news.example/rss.xml")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        parse_feed(CRAFTED_RSS.decode(), "https://news.example/rss.xml")  # type: ignore[arg-type]
