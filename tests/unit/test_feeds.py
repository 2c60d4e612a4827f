"""Feed bytes to entries: the replay RSS and Atom feeds, relative links, what is not a feed, and feeds as
they are in the wild: entity expansion, JSON Feed, entries without a usable link, the server's charset."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from media_monitoring.feeds import FeedParseError, HostileFeedError, parse_feed, read_feed

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
    reading = read_feed(CRAFTED_RSS, "https://www.news.example/feeds/main/rss.xml")
    entries = reading.entries
    assert [e.link for e in entries] == [
        "https://www.news.example/feeds/main/a/story-1.html",
        "https://www.news.example/news/story-2.html?utm_source=rss",
        "https://cdn.news.example/story-3.html",
    ]
    assert entries[0].title == "Path relative"
    assert entries[0].published == datetime(2021, 10, 28, 10, 0, tzinfo=UTC)
    assert entries[1].published is None
    assert entries[1].canonical_url == "https://news.example/news/story-2.html"
    assert reading.skipped == {"no_link": 1, "not_http": 1}  # the mailto: item and the link-less one


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


# -- entity expansion: refused before any parser sees it ---------------------------------------------

INCLUDE = Path(__file__).resolve().parents[2] / "include"
PARSE_HEADROOM = 100 * 2**20  # the bound the issue sets: a refused feed costs well under 100 MB


def _quadratic_rss(value_bytes: int = 20 * 1024, references: int = 25_000) -> bytes:
    """One large internal entity referenced many times: passes expat's amplification guard's first
    look, and feedparser's lenient fallback would expand it to value_bytes x references (here 500 MB)."""
    return (b'<?xml version="1.0"?>\n<!DOCTYPE rss [\n<!ENTITY big "' + b"x" * value_bytes + b'">\n]>\n'
            b'<rss version="2.0"><channel><title>t</title><link>https://news.example/</link><description>d'
            b'</description><item><title>Big</title><link>https://news.example/1.html</link><description>'
            + b"&big;" * references + b"</description></item></channel></rss>")


CHILD = """
import json, resource, sys
sys.path.insert(0, sys.argv[1])
import feedparser  # imported before measuring: only the parse counts
from media_monitoring.feeds import HostileFeedError, read_feed

def status_kb(field):  # this process's own memory: ru_maxrss would carry the parent's peak across exec
    line = next(x for x in open("/proc/self/status") if x.startswith(field + ":"))
    return int(line.split()[1])

body = open(sys.argv[2], "rb").read()
page = resource.getpagesize()
size_pages = int(open("/proc/self/statm").read().split()[0])
rss_kb = status_kb("VmRSS")
# a hard ceiling: any allocation past the current address space + the headroom raises MemoryError
resource.setrlimit(resource.RLIMIT_AS, (size_pages * page + int(sys.argv[3]), resource.RLIM_INFINITY))
try:
    read_feed(body, "https://news.example/rss.xml")
    outcome = "parsed"
except HostileFeedError as exc:
    outcome = "hostile_feed: " + str(exc)
except MemoryError:
    outcome = "out of memory"
print(json.dumps({"outcome": outcome, "growth": (status_kb("VmHWM") - rss_kb) * 1024}))
"""


def _parse_in_child(body: bytes, tmp_path: Path) -> dict:
    """Parse ``body`` in a fresh interpreter under an address-space limit: its outcome, and how far its
    peak resident memory (VmHWM) rose above its resident memory before the parse."""
    import json
    import subprocess
    import sys

    feed = tmp_path / "feed.xml"
    feed.write_bytes(body)
    done = subprocess.run([sys.executable, "-c", CHILD, str(INCLUDE), str(feed), str(PARSE_HEADROOM)],
                          capture_output=True, text=True, timeout=120, check=True)
    return json.loads(done.stdout)


def test_quadratic_entity_expansion_is_refused_in_bounded_memory(tmp_path: Path) -> None:
    body = _quadratic_rss()
    assert len(body) < 200_000  # a small feed, far under the 10 MB cap
    result = _parse_in_child(body, tmp_path)
    assert result["outcome"].startswith("hostile_feed: entity declarations would expand this"), result
    assert result["growth"] < PARSE_HEADROOM, result


def test_hostile_feed_message_is_clear() -> None:
    with pytest.raises(HostileFeedError, match=r"would expand this \d+-byte feed by more than \d+ bytes"):
        read_feed(_quadratic_rss(), "https://news.example/rss.xml")
    assert HostileFeedError.error_class == "hostile_feed"


def test_billion_laughs_and_self_reference_are_refused() -> None:
    laughs = "".join(f'<!ENTITY lol{i} "{(f"&lol{i - 1};" if i > 1 else "&lol;") * 10}">\n' for i in range(1, 10))
    body = (f'<?xml version="1.0"?>\n<!DOCTYPE rss [\n<!ENTITY lol "lol">\n{laughs}]>\n'
            '<rss version="2.0"><channel><title>t</title><item><title>&lol9;</title>'
            "<link>https://news.example/1.html</link></item></channel></rss>").encode()
    with pytest.raises(HostileFeedError):
        read_feed(body, "https://news.example/rss.xml")
    loop = (b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY a "&b;"><!ENTITY b "x&a;">]>'
            b'<rss version="2.0"><channel><item><title>&a;</title><link>https://news.example/1</link></item>'
            b"</channel></rss>")
    with pytest.raises(HostileFeedError, match="refers to itself"):
        read_feed(loop, "https://news.example/rss.xml")


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be", "utf-32"])
def test_expansion_hidden_in_a_wide_encoding_is_refused(encoding: str) -> None:
    text = _quadratic_rss(references=2_000).decode().replace(
        '<?xml version="1.0"?>', f'<?xml version="1.0" encoding="{encoding}"?>')
    with pytest.raises(HostileFeedError):
        read_feed(text.encode(encoding), "https://news.example/rss.xml")


def test_expansion_hidden_behind_the_header_charset_is_refused() -> None:
    """The body is plain ASCII only once decoded with the server's charset (UTF-7 encodes '<' as '+ADw-')."""
    body = _quadratic_rss(references=2_000).replace(b"<!ENTITY", b"+ADwAIQ-ENTITY")
    with pytest.raises(HostileFeedError):
        read_feed(body, "https://news.example/rss.xml", "application/rss+xml; charset=utf-7")


def test_small_entity_declarations_still_parse() -> None:
    body = ('<?xml version="1.0" encoding="utf-8"?>\n<!DOCTYPE rss [\n<!ENTITY nbsp "&#160;">\n'
            '<!ENTITY outlet "Riverton Daily">\n]>\n<rss version="2.0"><channel><title>&outlet;</title>'
            "<link>https://news.example/</link><description>d</description>"
            + "".join(f"<item><title>Story&nbsp;{n} from &outlet;</title><link>https://news.example/{n}.html</link>"
                      f"<description>{'word&nbsp;' * 50}</description></item>" for n in range(200))
            + "</channel></rss>").encode()
    entries = parse_feed(body, "https://news.example/rss.xml")
    assert len(entries) == 200
    assert entries[0].title == "Story 0 from Riverton Daily"  # nbsp is whitespace: collapsed


# -- JSON Feed -------------------------------------------------------------------------------------

JSON_FEED = b"""{
  "version": "https://jsonfeed.org/version/1.1",
  "title": "Riverton Daily",
  "home_page_url": "https://news.example/",
  "items": [
    {"id": "1", "url": "https://www.news.example/2026/council.html?utm_source=jsonfeed",
     "title": "  Council backs   the tram line ", "summary": "The vote was 7 to 2.",
     "date_published": "2026-11-02T10:00:00+02:00"},
    {"id": "https://news.example/2026/ferry.html", "content_text": "A second pier.",
     "title": "Harbour gets a second ferry pier", "date_modified": "2026-11-02T09:30:00Z"},
    {"id": "3", "url": "/2026/library.html", "title": "Library hours extended", "content_html": "<p>Longer</p>",
     "date_published": "not a date"},
    {"id": "urn:uuid:4", "title": "Only an opaque id", "external_url": "https://elsewhere.example/x"},
    {"title": "No address at all"},
    "not an item"
  ]
}"""


def test_json_feed_gives_the_same_entries_as_rss() -> None:
    reading = read_feed(JSON_FEED, "https://news.example/feed.json", "application/feed+json")
    assert reading.kind == "json1.1"
    council, ferry, library = reading.entries
    assert council.link == "https://www.news.example/2026/council.html?utm_source=jsonfeed"
    assert council.canonical_url == "https://news.example/2026/council.html"  # same canonical form as RSS
    assert council.title == "Council backs the tram line"
    assert council.published == datetime(2026, 11, 2, 8, 0, tzinfo=UTC)
    assert (council.entry_id, council.summary) == ("1", "The vote was 7 to 2.")
    assert ferry.link == "https://news.example/2026/ferry.html"  # an http(s) id is the address
    assert ferry.published == datetime(2026, 11, 2, 9, 30, tzinfo=UTC) and ferry.summary == "A second pier."
    assert library.link == "https://news.example/2026/library.html" and library.published is None
    assert reading.skipped == {"not_http": 1, "no_link": 1, "malformed": 1}
    assert "3 of 6 entries skipped" in reading.skip_note and "urn:uuid:4" in reading.skip_note


def test_json_feed_1_0_and_caps() -> None:
    body = ('{"version": "https://jsonfeed.org/version/1", "title": "t", "items": [{"id": 7, '
            '"url": "https://news.example/a.html", "title": "' + "T" * 5000 + '", "content_text": "'
            + "s" * 9000 + '"}]}').encode()
    reading = read_feed(body, "https://news.example/feed.json")
    assert reading.kind == "json1"
    [entry] = reading.entries
    assert (entry.entry_id, len(entry.title), len(entry.summary)) == ("7", 1000, 4000)


@pytest.mark.parametrize("body", [b'{"title": "no version", "items": []}', b'{"version": "https://jsonfeed.org/version/1"',
                                  b'{"items": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
                                  b'{"version": "https://jsonfeed.org/version/1.1"}',
                                  b'{"version": "https://example.org/other", "items": []}'])
def test_json_that_is_not_a_json_feed_is_not_a_feed(body: bytes) -> None:
    with pytest.raises(FeedParseError, match="not a JSON Feed"):
        read_feed(body, "https://news.example/feed.json")


# -- entries without a usable link -----------------------------------------------------------------


def test_rss_items_without_a_link_use_an_http_guid_or_are_counted() -> None:
    rss = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>
<link>https://news.example/</link><description>d</description>
<item><title>Permalink guid</title><guid>https://news.example/a.html</guid></item>
<item><title>Http guid, not a permalink</title><guid isPermaLink="false">https://news.example/?p=2</guid></item>
<item><title>Opaque guid</title><guid isPermaLink="false">12345</guid></item>
<item><title>Nothing</title><description>text only</description></item>
<item><title>Nothing either</title></item>
</channel></rss>"""
    reading = read_feed(rss, "https://news.example/rss.xml")
    assert [e.link for e in reading.entries] == ["https://news.example/a.html", "https://news.example/?p=2"]
    assert reading.skipped == {"not_http": 1, "no_link": 2}
    assert reading.skip_note == ("3 of 5 entries skipped: 2 without any link or id (e.g. 'Nothing'), "
                                 "1 whose link and id are not http(s) (e.g. '12345')")


def test_atom_entries_use_an_alternate_link_or_http_id_never_self() -> None:
    atom = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title><id>urn:x</id><updated>2026-11-02T10:00:00Z</updated>
<entry><title>Self only</title><id>tag:news.example,2026:1</id><link rel="self" href="https://news.example/api/1"/>
  <updated>2026-11-02T10:00:00Z</updated></entry>
<entry><title>Self and http id</title><id>https://news.example/2.html</id>
  <link rel="self" href="https://news.example/api/2"/><updated>2026-11-02T10:00:00Z</updated></entry>
<entry><title>Second alternate</title><id>urn:3</id><link rel="alternate" href="mailto:desk@news.example"/>
  <link rel="alternate" type="text/html" href="https://news.example/3.html"/><updated>2026-11-02T10:00:00Z</updated></entry>
<entry><title>Related only</title><id>urn:uuid:4</id><link rel="related" href="https://other.example/4"/>
  <updated>2026-11-02T10:00:00Z</updated></entry>
</feed>"""
    reading = read_feed(atom, "https://news.example/atom.xml")
    assert [(e.link, e.entry_id) for e in reading.entries] == [
        ("https://news.example/2.html", "https://news.example/2.html"),
        ("https://news.example/3.html", "urn:3")]
    assert reading.skipped == {"not_http": 2}
    assert "tag:news.example,2026:1" in reading.skip_note


def test_a_feed_of_only_linkless_entries_is_flagged_in_feed_health() -> None:
    from media_monitoring.scheduling import health_status

    rss = (b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title><link>https://news.example/</link>'
           b"<description>d</description>" + b"<item><title>Untitled</title><description>x</description></item>" * 4
           + b"</channel></rss>")
    reading = read_feed(rss, "https://news.example/rss.xml")
    assert (reading.entries, reading.skipped_total) == ([], 4)
    now = datetime(2026, 11, 2, tzinfo=UTC)
    row = {"entries_seen": len(reading.entries), "entries_skipped": reading.skipped_total,
           "skipped_reason": reading.skip_note, "first_polled_at": now}
    status, reason = health_status(row, now)
    assert status == "no_links" and "4 of 4 entries skipped" in reason
    assert health_status({**row, "entries_seen": 3}, now) == ("ok", None)  # some usable entries: recorded, not flagged


# -- the server's charset --------------------------------------------------------------------------

CYRILLIC = "Городской совет одобрил новый бюджет"


def _rss_with_title(title: str, declaration: str = '<?xml version="1.0"?>') -> str:
    return (f'{declaration}<rss version="2.0"><channel><title>t</title><link>https://news.example/</link>'
            f"<description>d</description><item><title>{title}</title><link>https://news.example/1.html</link>"
            "</item></channel></rss>")


def test_header_charset_is_given_to_the_parser() -> None:
    body = _rss_with_title(CYRILLIC).encode("cp1251")
    [guessed] = parse_feed(body, "https://news.example/rss.xml")  # without the header: windows-1252 mojibake
    assert guessed.title != CYRILLIC
    reading = read_feed(body, "https://news.example/rss.xml", "application/rss+xml; charset=windows-1251")
    assert reading.entries[0].title == CYRILLIC
    assert (reading.encoding, reading.charset_note) == ("windows-1251", None)


def test_header_charset_wins_over_the_xml_declaration() -> None:
    body = _rss_with_title(CYRILLIC, '<?xml version="1.0" encoding="windows-1251"?>').encode("koi8-r")
    reading = read_feed(body, "https://news.example/rss.xml", "text/xml; charset=KOI8-R")
    assert reading.entries[0].title == CYRILLIC and reading.charset_note is None


def test_body_contradicting_the_header_falls_back_to_detection_and_says_so() -> None:
    body = _rss_with_title(CYRILLIC, '<?xml version="1.0" encoding="windows-1251"?>').encode("cp1251")
    reading = read_feed(body, "https://news.example/rss.xml", "application/rss+xml; charset=utf-8")
    assert reading.entries[0].title == CYRILLIC  # not UTF-8: the declaration is next in line
    assert reading.charset_note == ("Content-Type says charset=utf-8 but the body does not decode as utf-8; "
                                    "decoded as windows-1251 (detected)")
    undeclared = _rss_with_title(CYRILLIC).encode("cp1251")
    reading = read_feed(undeclared, "https://news.example/rss.xml", "application/rss+xml; charset=utf-8")
    assert "does not decode as utf-8" in reading.charset_note and len(reading.entries) == 1


def test_byte_order_mark_wins_over_the_header_and_unknown_charsets_are_noted() -> None:
    body = b"\xef\xbb\xbf" + _rss_with_title(CYRILLIC).encode("utf-8")
    reading = read_feed(body, "https://news.example/rss.xml", "application/rss+xml; charset=windows-1251")
    assert reading.entries[0].title == CYRILLIC
    assert "byte-order mark" in reading.charset_note
    reading = read_feed(_rss_with_title(CYRILLIC).encode(), "https://news.example/rss.xml",
                        "application/rss+xml; charset=x-no-such-charset")
    assert reading.entries[0].title == CYRILLIC
    assert "charset=x-no-such-charset is unknown" in reading.charset_note
