"""Exports of a filtered list as CSV or JSON, written while the rows are read.

The writers take an *iterator* of rows (mappings keyed by column name) and yield the file in chunks, so an
export of a million rows holds one chunk in memory, never the list. The rows come from
:mod:`media_monitoring.warehouse.export`, which reads them with server-side cursors; the view streams the
chunks to the browser and ``media-monitor export`` to a file or stdout.

Three kinds of list, each with a fixed column list (the order of the CSV header and of each JSON object's keys):

* ``search``: the articles a full-text search found, one row per article;
* ``hits``: the articles with watchlist hits, one row per hit, with its evidence (the words that matched, where,
  the snippet, the watchlist version that produced it);
* ``digest``: a digest's items as they were sent, one row per item and term, with the digest's key and window.

Formats:

* **CSV**: RFC 4180 (comma, double quotes, CRLF line ends), a header row, UTF-8. A list value (regions, matched
  words) is one cell joined with ``"; "``; an instant is ISO 8601 in UTC; empty means none. *Formula guard*: a
  text cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a leading apostrophe
  (``'``), so a spreadsheet shows a headline such as ``=HYPERLINK(...)`` or ``-5% on oil`` as text instead of
  running it as a formula (CSV injection). Numbers are never altered. With ``bom=True`` the file starts with a
  byte-order mark, which spreadsheet programs need to read UTF-8 (without it Cyrillic and Arabic show as
  mojibake); the view's downloads carry one, ``media-monitor export`` only with ``--bom``.
* **JSON**: one array of objects, written element by element (valid JSON however many rows, ``[]`` for none);
  instants as ISO 8601 strings, lists as arrays, text exactly as stored (no apostrophe: JSON is not opened by
  spreadsheets).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

FORMATS = ("csv", "json")
MEDIA_TYPES = {"csv": "text/csv; charset=utf-8", "json": "application/json"}
CHUNK_CHARS = 64 * 1024  # text gathered before a chunk is handed on: large enough for few writes, small for memory
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")  # what spreadsheets read as the start of a formula
FORMULA_GUARD = "'"  # shown by spreadsheets as the start of a text cell, and hidden
LIST_SEPARATOR = "; "
BOM = "\ufeff"


@dataclass(frozen=True)
class Column:
    """One exported column: its name (the CSV header, the JSON key) and what it holds."""

    name: str
    doc: str


_ARTICLE = (
    Column("article_id", "the article's id in the warehouse (a hash of its canonical URL)"),
    Column("url", "the article's address"),
    Column("title", "the headline"),
    Column("outlet_id", "the outlet's id in the outlet registry"),
    Column("outlet_country", "the outlet's country (ISO 3166 alpha-2)"),
    Column("language", "the article's language (ISO 639-1)"),
    Column("published_utc", "when it was published, in UTC (ISO 8601); empty when the page gave no date"),
    Column("published_local", "the publisher's own reading of that time, with its UTC offset"),
    Column("primary_country", "the country the article is most about (alpha-2)"),
    Column("regions", "the regions it is tagged with (UN M49 sub-regions and the analysts' groupings)"),
)
_HIT = (
    Column("watchlist", "the watchlist of the hit"),
    Column("term", "the watchlist term that matched"),
    Column("alias", "the alias of the term that matched"),
    Column("matched", "the words as they stand in the article"),
    Column("field", "where: title or text"),
    Column("snippet", "the words around the match"),
    Column("rule_version", "the watchlist version that produced the hit"),
)

SEARCH_COLUMNS = (*_ARTICLE,
                  Column("snippet", "the best passage for the query, without highlight marks"),
                  Column("matched_words", "the words of the article that matched the query"),
                  Column("score", "relevance (higher is better); empty when sorted by time"))
HIT_COLUMNS = (*_ARTICLE, *_HIT,
               Column("position", "where the match starts in its field (characters)"))
DIGEST_COLUMNS = (
    Column("digest_date", "the analyst's local day the digest is named after (with subscription: its key)"),
    Column("subscription", "the subscription it was composed for"),
    Column("window_start", "the start of the window it covers (UTC)"),
    Column("window_end", "the end of the window it covers (UTC)"),
    Column("window_timezone", "the subscription's timezone, in which the window was chosen"),
    Column("rank", "the item's place in its watchlist's section"),
    *_ARTICLE, *_HIT,
    Column("late", "published before the window, first seen in it"),
    Column("in_focus", "in one of the subscription's regions of interest"),
)
COLUMNS: dict[str, tuple[Column, ...]] = {"search": SEARCH_COLUMNS, "hits": HIT_COLUMNS, "digest": DIGEST_COLUMNS}


def names(columns: Sequence[Column]) -> list[str]:
    return [c.name for c in columns]


def guard(text: str) -> str:
    """``text`` safe to open in a spreadsheet: a leading apostrophe when it would start a formula."""
    return FORMULA_GUARD + text if text.startswith(FORMULA_STARTS) else text


def csv_cell(value: Any) -> str | int | float:
    """One value as a CSV cell: text guarded against formulas, lists joined, instants in ISO 8601."""
    if isinstance(value, str):  # most cells: checked first
        return guard(value)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return value
    if isinstance(value, date):  # datetime too: ISO 8601, with its offset
        return value.isoformat()
    if isinstance(value, list | tuple):
        return guard(LIST_SEPARATOR.join(str(v) for v in value))
    return guard(str(value))


def csv_chunks(rows: Iterable[Mapping[str, Any]], columns: Sequence[Column], *, bom: bool = False) -> Iterator[str]:
    """The CSV file of ``rows``, header first, in chunks of about ``CHUNK_CHARS`` characters."""
    header = names(columns)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    if bom:
        buffer.write(BOM)
    writer.writerow(header)
    for row in rows:
        writer.writerow([csv_cell(row.get(name)) for name in header])
        if buffer.tell() >= CHUNK_CHARS:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, tuple | set | frozenset):
        return list(value)
    raise TypeError(f"{type(value).__name__} is not exported")


def json_chunks(rows: Iterable[Mapping[str, Any]], columns: Sequence[Column]) -> Iterator[str]:
    """One JSON array of ``rows`` (objects with exactly ``columns``, in order), in chunks of about
    ``CHUNK_CHARS`` characters; valid JSON whatever the number of rows."""
    keys = names(columns)
    parts: list[str] = ["["]
    size, separator = 1, "\n"
    for row in rows:
        item = json.dumps({k: row.get(k) for k in keys}, ensure_ascii=False, default=_json_default)
        parts.append(separator + item)
        size += len(item) + 2
        separator = ",\n"
        if size >= CHUNK_CHARS:
            yield "".join(parts)
            parts, size = [], 0
    parts.append("\n]\n")
    yield "".join(parts)


def chunks(kind: str, fmt: str, rows: Iterable[Mapping[str, Any]], *, bom: bool = False) -> Iterator[str]:
    """The export of ``rows`` as a ``kind`` list (search, hits, digest) in ``fmt`` (csv, json)."""
    columns = COLUMNS[kind]
    if fmt == "csv":
        return csv_chunks(rows, columns, bom=bom)
    if fmt == "json":
        return json_chunks(rows, columns)
    raise ValueError(f"unknown export format {fmt!r}: use one of {', '.join(FORMATS)}")


def encoded(text_chunks: Iterable[str]) -> Iterator[bytes]:
    """The chunks as UTF-8 bytes (what goes over HTTP or into a file)."""
    for chunk in text_chunks:
        if chunk:
            yield chunk.encode("utf-8")
