"""Exports: the CSV and JSON writers (escaping, the formula guard, any script, an empty list, rows read only
as they are written) and ``media-monitor export`` on an embedded warehouse."""

from __future__ import annotations

import csv
import io
import itertools
import json
import os
import subprocess
import sys
import tracemalloc
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from media_monitoring import export

pytestmark = pytest.mark.unit

CLI = str(Path(sys.executable).with_name("media-monitor"))
WHEN = datetime(2021, 10, 28, 6, 30, tzinfo=UTC)


def _hit(**values) -> dict:
    row = {"article_id": "a1", "url": "https://tass.com/1", "title": "Lavrov in Dushanbe", "outlet_id": "tass-en",
           "outlet_country": "RU", "language": "en", "published_utc": WHEN,
           "published_local": "2021-10-28T09:30:00+03:00", "primary_country": "TJ",
           "regions": ["Central Asia", "CSTO members"], "watchlist": "central-asia-security", "term": "Lavrov",
           "alias": "Sergey Lavrov", "matched": "Sergey Lavrov", "field": "text", "snippet": "… said Sergey Lavrov …",
           "rule_version": "2026.11.2", "position": 12}
    row.update(values)
    return row


def _csv(rows, *, bom: bool = False) -> tuple[bytes, list[dict[str, str]]]:
    data = b"".join(export.encoded(export.chunks("hits", "csv", rows, bom=bom)))
    return data, list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def test_csv_has_the_documented_header_and_round_trips_quotes_commas_and_line_breaks():
    tricky = 'He said: "no", then, after a pause,\nyes\r\n(twice)'
    data, rows = _csv([_hit(title=tricky), _hit(article_id="a2", regions=[], published_utc=None, published_local=None)])
    header = data.decode("utf-8").split("\r\n", 1)[0]
    assert header.split(",") == [c.name for c in export.HIT_COLUMNS]
    assert {"article_id", "url", "title", "outlet_id", "outlet_country", "language", "published_utc",
            "published_local", "watchlist", "term", "alias", "matched", "field", "snippet", "rule_version",
            "regions"} <= set(header.split(","))
    assert rows[0]["title"] == tricky
    assert rows[0]["published_utc"] == "2021-10-28T06:30:00+00:00"
    assert rows[0]["published_local"] == "2021-10-28T09:30:00+03:00"
    assert rows[0]["regions"] == "Central Asia; CSTO members"
    assert rows[0]["position"] == "12"
    assert (rows[1]["regions"], rows[1]["published_utc"], rows[1]["published_local"]) == ("", "", "")


@pytest.mark.parametrize("dangerous", ["=HYPERLINK(\"http://evil.example\",\"click\")", "+7 (727) 555", "-5% on oil",
                                       "@SUM(A1:A9)", "\t=1+1", "\r=1+1"])
def test_a_text_cell_that_would_start_a_formula_gets_an_apostrophe(dangerous):
    _, [row] = _csv([_hit(title=dangerous, snippet=dangerous, regions=[dangerous])])
    assert row["title"] == row["snippet"] == row["regions"] == "'" + dangerous
    # JSON is not opened by spreadsheets: the text as stored
    [item] = json.loads(b"".join(export.encoded(export.chunks("hits", "json", [_hit(title=dangerous)]))))
    assert item["title"] == dangerous


def test_numbers_and_harmless_text_are_not_altered():
    _, [row] = _csv([_hit(title="Lavrov = CSTO?", snippet="a-b", position=-3)])
    assert (row["title"], row["snippet"], row["position"]) == ("Lavrov = CSTO?", "a-b", "-3")


def test_non_latin_text_is_utf8_and_the_bom_is_asked_for():
    texts = {"ru": "Лавров: ОДКБ готова помочь Таджикистану", "ar": "لافروف: روسيا لا تريد الجيش الأمريكي",
             "fa": "پوتین می\u200cخواهد با رهبران آسیای میانه دیدار کند", "kk": "Тоқаев Астанада"}
    rows = [_hit(article_id=lang, title=text, matched=text.split()[0]) for lang, text in texts.items()]
    data, parsed = _csv(rows)
    assert not data.startswith(export.BOM.encode())
    assert [r["title"] for r in parsed] == list(texts.values())
    with_bom, parsed = _csv(rows, bom=True)
    assert with_bom.startswith(b"\xef\xbb\xbf") and with_bom[3:] == data
    assert [r["title"] for r in parsed] == list(texts.values())
    items = json.loads(b"".join(export.encoded(export.chunks("hits", "json", rows))).decode("utf-8"))
    assert [i["title"] for i in items] == list(texts.values())
    assert "\\u" not in b"".join(export.encoded(export.chunks("hits", "json", rows))).decode()  # readable as is


def test_an_empty_list_is_a_header_alone_or_an_empty_array():
    data, rows = _csv([])
    assert rows == [] and data.decode() == ",".join(c.name for c in export.HIT_COLUMNS) + "\r\n"
    for kind in export.COLUMNS:
        assert json.loads(b"".join(export.encoded(export.chunks(kind, "json", iter(()))))) == []


def test_json_objects_have_exactly_the_columns_in_order_with_typed_values():
    items = json.loads("".join(export.chunks("hits", "json", [_hit(), _hit(article_id="a2", late=True)])))
    assert [list(i) for i in items] == [[c.name for c in export.HIT_COLUMNS]] * 2  # nothing else leaks in
    assert items[0]["published_utc"] == "2021-10-28T06:30:00+00:00"
    assert items[0]["regions"] == ["Central Asia", "CSTO members"] and items[0]["position"] == 12
    digest = json.loads("".join(export.chunks("digest", "json", [{**_hit(), "digest_date": date(2021, 10, 28),
                                                                   "late": False, "in_focus": True}])))
    assert (digest[0]["digest_date"], digest[0]["late"], digest[0]["in_focus"]) == ("2021-10-28", False, True)


def test_an_unknown_format_is_refused():
    with pytest.raises(ValueError, match="unknown export format 'xlsx'"):
        export.chunks("hits", "xlsx", [])


@pytest.mark.parametrize("fmt", export.FORMATS)
def test_rows_are_read_only_as_the_file_is_written(fmt):
    """An endless list: the first chunks come out after reading what they hold, not the whole list."""
    pulled = 0

    def endless() -> Iterator[dict]:
        nonlocal pulled
        for n in itertools.count():
            pulled += 1
            yield _hit(article_id=f"a{n}")

    first = "".join(itertools.islice(export.chunks("hits", fmt, endless()), 3))
    written = first.count("\n") - 1  # a line per row, after the header (CSV) or the "[" (JSON)
    assert 3 * export.CHUNK_CHARS <= len(first) < 4 * export.CHUNK_CHARS
    assert written <= pulled <= written + 1


@pytest.mark.parametrize("fmt", export.FORMATS)
def test_a_long_export_holds_one_chunk_at_a_time(fmt):
    rows = (_hit(article_id=f"a{n}", title=f"Headline {n} " * 8) for n in range(20_000))  # ~7 MB written
    tracemalloc.start()
    try:
        written = sum(len(chunk) for chunk in export.encoded(export.chunks("hits", fmt, rows)))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert written > 6 * 2**20
    assert peak < 2**20  # a chunk or two and a row, never the file


# -- media-monitor export on an embedded warehouse --------------------------------------------------


@pytest.fixture
def warehouse(tmp_path) -> str:
    from media_monitoring.warehouse import Warehouse
    from media_monitoring.warehouse import articles as article_store

    url = f"sqlite:///{tmp_path / 'w.sqlite'}"
    wh = Warehouse.connect(url)
    articles = [{"article_id": aid, "canonical_url": f"https://x.example/{aid}", "url": f"https://x.example/{aid}",
                 "outlet_id": outlet, "outlet_country": "RU", "title": title, "text": text, "word_count": 5,
                 "sources": [], "countries": [], "regions": ["Central Asia"], "language": lang, "published_at": at}
                for aid, outlet, title, text, lang, at in (
                    ("a1", "tass-en", "=Lavrov in Dushanbe", "Sergey Lavrov met the CSTO", "en", WHEN),
                    ("a2", "ria-ru", "Лавров в Душанбе", "Сергей Лавров и ОДКБ", "ru",
                     datetime(2021, 10, 27, tzinfo=UTC)),
                    ("a3", "tass-en", "Harvest news", "Wheat harvest", "en", None))]
    hits = [{"article_id": aid, "watchlist": "central-asia-security", "term": term, "field": "text", "start": start,
             "end": start + 5, "alias": alias, "matched": alias, "snippet": f"… {alias} …", "version": "v7"}
            for aid, term, alias, start in (("a1", "Lavrov", "Sergey Lavrov", 0), ("a1", "CSTO", "CSTO", 22),
                                            ("a2", "Lavrov", "Сергей Лавров", 0))]
    article_store.commit_batch(wh, "manual__export", articles, hits, [], [], None)
    wh.close()
    return url


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([CLI, *args], capture_output=True, text=True, timeout=120, env=os.environ.copy())


def test_cli_exports_hits_with_their_evidence(warehouse, tmp_path):
    out = _cli("export", "hits", "--warehouse", warehouse)
    assert out.returncode == 0, out.stderr
    rows = list(csv.DictReader(io.StringIO(out.stdout, newline="")))
    assert [(r["article_id"], r["term"], r["matched"]) for r in rows] == [
        ("a1", "CSTO", "CSTO"), ("a1", "Lavrov", "Sergey Lavrov"), ("a2", "Lavrov", "Сергей Лавров")]
    assert rows[0]["title"] == "'=Lavrov in Dushanbe" and rows[0]["rule_version"] == "v7"
    assert "exported 3 hits of 2 articles" in out.stderr

    target = tmp_path / "lavrov.json"
    out = _cli("export", "hits", "--term", "Lavrov", "--outlet", "ria-ru", "--format", "json", "-o", str(target),
               "--warehouse", warehouse)
    assert out.returncode == 0, out.stderr
    assert out.stdout == "" and not (tmp_path / "lavrov.json.part").exists()
    [item] = json.loads(target.read_text(encoding="utf-8"))
    assert (item["article_id"], item["title"], item["regions"]) == ("a2", "Лавров в Душанбе", ["Central Asia"])

    out = _cli("export", "hits", "-o", os.devnull, "--warehouse", warehouse)  # a device is written, not replaced
    assert out.returncode == 0, out.stderr
    assert Path(os.devnull).is_char_device() and not Path(os.devnull + ".part").exists()

    out = _cli("export", "hits", "--from", "2021-10-28", "--to", "2021-10-27", "--warehouse", warehouse)
    assert out.returncode == 2 and "no article can match" in out.stderr


def test_cli_exports_a_search_and_explains_a_bad_query(warehouse):
    out = _cli("export", "search", "Lavrov OR Лавров OR harvest", "--format", "json", "--warehouse", warehouse)
    assert out.returncode == 0, out.stderr
    items = json.loads(out.stdout)
    assert [i["article_id"] for i in items] == ["a1", "a2", "a3"]  # newest first, the undated last
    assert items[1]["matched_words"] == ["Лавров"] and "Лавров" in items[1]["snippet"]
    out = _cli("export", "search", '"Lavrov said', "--warehouse", warehouse)
    assert out.returncode == 2 and "quotation mark is not closed" in out.stderr and out.stdout == ""
    out = _cli("export", "digest", "--subscription", "Russia desk", "--date", "2021-10-28", "--warehouse", warehouse)
    assert out.returncode == 2 and "no digest was composed" in out.stderr
