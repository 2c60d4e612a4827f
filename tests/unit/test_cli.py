"""The operator CLI, run as the installed ``media-monitor`` command (same code path as the DAGs)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from media_monitoring.warehouse import articles as article_store

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
CLI = str(Path(sys.executable).with_name("media-monitor"))
SEED_PAGE = ROOT / "seeds/replay/almayadeen-en/news/politics/lavrov-russia-does-not-want-us-army-in-central-asia.html"


def _run(*args: str, stdin: str | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([CLI, *args], input=stdin, capture_output=True, text=True, timeout=120,
                          env={**os.environ, **(env or {})})


def test_extract_prints_the_article_as_json():
    out = _run("extract", str(SEED_PAGE), "--url", "https://english.almayadeen.net/news/politics/lavrov")
    assert out.returncode == 0, out.stderr
    article = json.loads(out.stdout)
    assert article["title"] == "Lavrov: Russia Does not want US Army in Central Asia"
    assert article["date"] == "2021-08-24T17:21:00+03:00"  # the page's own clock and offset
    assert article["date_source"] == "page"
    assert article["language"] == "en"
    assert article["author"]
    assert "Collective Security Treaty Organization" in article["text"]
    assert "BREAKING" not in article["text"] and "Most Read" not in article["text"]


def test_tag_reads_stdin_and_explains_each_tag():
    text = (ROOT / "seeds/004_44b952da9092fe42.txt").read_text(encoding="utf-8")
    title, _, body = text.partition("\n")
    out = _run("tag", stdin=json.dumps({"title": title, "text": body}))
    assert out.returncode == 0, out.stderr
    tags = json.loads(out.stdout)
    assert {h["term"] for h in tags["watchlist_hits"]} == {"Afghanistan", "CSTO", "Lavrov"}
    assert {"term": "Lavrov", "alias": "Sergey Lavrov"}.items() <= next(
        h for h in tags["watchlist_hits"] if h["alias"] == "Sergey Lavrov").items()
    assert all(h["snippet"] and h["span"][1] > h["span"][0] for h in tags["watchlist_hits"])
    codes = [c["code"] for c in tags["countries"]]
    assert "AF" in codes and "RU" in codes and all(len(c) == 2 for c in codes)
    assert "Central Asia" in [r["code"] for r in tags["regions"]]


def test_tag_rejects_bad_json_with_a_clear_message():
    out = _run("tag", stdin="not json")
    assert out.returncode != 0
    assert "stdin is not JSON" in out.stderr


def test_poll_lists_entries_and_refuses_loopback_without_the_flag(replay_server, tmp_path):
    env = {"MEDIA_MONITOR_DATA_DIR": str(tmp_path)}
    feed = f"{replay_server}/almayadeen-en/rss.xml"
    refused = _run("poll", feed, env=env)
    assert refused.returncode == 2
    assert "blocked_address" in refused.stderr and "allow" in refused.stderr
    out = _run("poll", feed, "--allow-private", env=env)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result["entries"] == 3 and result["to_ingest"] == 3
    assert any("lavrov-russia-does-not-want-us-army" in item["link"] for item in result["items"])


def test_poll_reports_entries_skipped_for_lack_of_a_link(tmp_path):
    from media_monitoring.replay import ReplayServer

    served = tmp_path / "served"
    served.mkdir()
    items = ("<item><title>With a link</title><link>https://news.example/1.html</link></item>"
             "<item><title>Text only</title></item>"
             '<item><title>Opaque guid</title><guid isPermaLink="false">4711</guid></item>')
    (served / "mixed.xml").write_text(f'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>{items}'
                                      "</channel></rss>", encoding="utf-8")
    (served / "linkless.xml").write_text('<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>'
                                         "<item><title>Text only</title></item></channel></rss>", encoding="utf-8")
    with ReplayServer(served) as server:
        mixed = _run("poll", f"{server.base_url}/mixed.xml", "--allow-private", "--no-warehouse")
        linkless = _run("poll", f"{server.base_url}/linkless.xml", "--allow-private", "--no-warehouse")
    assert mixed.returncode == 0, mixed.stderr
    result = json.loads(mixed.stdout)
    assert (result["entries"], result["skipped"]) == (1, 2)
    assert result["skipped_by_reason"] == {"no_link": 1, "not_http": 1}
    assert result["skipped_reason"].startswith("2 of 3 entries skipped")
    assert linkless.returncode == 1  # entries, but not one usable: not a silent success
    assert "no entry has a usable link" in linkless.stderr
    assert json.loads(linkless.stdout)["entries"] == 0


def test_extract_refuses_file_urls_and_loopback_without_the_flag(replay_server):
    assert _run("extract", "file:///etc/passwd").returncode == 2
    page = (f"{replay_server}/pukhtunnama/2021/10/28/"
            "rain-colder-nights-forecast-for-peshawar-as-westerly-wave-arrives.html")
    assert _run("extract", page).returncode == 2
    out = _run("extract", page, "--allow-private")
    assert out.returncode == 0, out.stderr
    assert "Peshawar" in json.loads(out.stdout)["text"]


def test_batch_modes_load_once_and_answer_per_line(tmp_path):
    pages = tmp_path / "pages.jsonl"
    missing = {"id": "missing", "path": str(tmp_path / "nope.html"), "url": "https://x.org"}
    pages.write_text(json.dumps({"id": "a", "path": str(SEED_PAGE), "url": "https://example.org/a"}) + "\n"
                     + json.dumps(missing) + "\n")
    out = _run("extract", "--batch", str(pages))
    assert out.returncode == 0, out.stderr
    lines = [json.loads(line) for line in out.stdout.splitlines()]
    assert [r["id"] for r in lines] == ["a", "missing"]
    assert lines[0]["title"].startswith("Lavrov") and "error" in lines[1]

    arts = tmp_path / "arts.jsonl"
    arts.write_text(json.dumps({"id": 1, "title": "Лавров в Кабуле", "text": "Встреча ОДКБ."}) + "\n"
                    + json.dumps({"id": 2, "title": "Weather", "text": "Sunny in Paris."}) + "\n")
    out = _run("tag", "--batch", str(arts))
    results = [json.loads(line) for line in out.stdout.splitlines()]
    assert [r["id"] for r in results] == [1, 2]
    assert {h["term"] for h in results[0]["watchlist_hits"]} == {"Afghanistan", "CSTO", "Lavrov"}
    assert results[1]["watchlist_hits"] == []


def test_search_prints_json_lines_and_the_next_page_cursor(tmp_path):
    from datetime import UTC, datetime

    from media_monitoring.warehouse import Warehouse

    url = f"sqlite:///{tmp_path / 'wh.sqlite'}"
    wh = Warehouse.connect(url)
    article_store.commit_batch(wh, "r", [{"article_id": f"a{i}", "canonical_url": f"https://x.org/{i}", "url": f"https://x.org/{i}",
                           "outlet_id": "ria-ru" if i % 2 else "tass-en", "title": f"Путин, день {i}",
                           "text": "Владимир Путин провёл переговоры.", "word_count": 4, "sources": [],
                           "countries": [], "regions": [], "language": "ru",
                           "published_at": datetime(2021, 10, 20 + i, tzinfo=UTC)} for i in range(3)],
                    [], [], [], None)
    wh.close()
    out = _run("search", "путин", "--warehouse", url, "--limit", "2")
    assert out.returncode == 0, out.stderr
    lines = [json.loads(line) for line in out.stdout.splitlines()]
    assert [a["article_id"] for a in lines] == ["a2", "a1"]
    assert lines[0]["matched"] == ["Путин"] and lines[0]["snippet"] == "Владимир Путин провёл переговоры."
    summary = json.loads(out.stderr.strip().splitlines()[-1])
    assert summary["count"] == 3 and summary["next"]
    more = _run("search", "путин", "--warehouse", url, "--limit", "2", "--after", summary["next"])
    assert [json.loads(line)["article_id"] for line in more.stdout.splitlines()] == ["a0"]
    assert json.loads(more.stderr.strip().splitlines()[-1])["next"] is None
    # filters
    only = _run("search", "путин", "--warehouse", url, "--outlet", "ria-ru", "--from", "2021-10-21",
                "--to", "2021-10-21")
    assert [json.loads(line)["article_id"] for line in only.stdout.splitlines()] == ["a1"]
    # a query that cannot be understood: why, and exit 2
    bad = _run("search", '"unclosed', "--warehouse", url)
    assert bad.returncode == 2 and "quotation mark is not closed" in bad.stderr and not bad.stdout
