"""The replay server: the snapshot served with the token replaced, nothing outside it, conditional GET."""

from __future__ import annotations

import http.client
from pathlib import Path
from urllib.parse import urlsplit

import pytest

pytestmark = pytest.mark.unit

REPLAY = Path(__file__).resolve().parents[2] / "seeds" / "replay"


def _get(base: str, raw_path: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    """A raw GET, so paths like /../x reach the server unnormalised."""
    parts = urlsplit(base)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        conn.putrequest("GET", raw_path, skip_accept_encoding=True)
        for key, value in (headers or {}).items():
            conn.putheader(key, value)
        conn.endheaders()
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


def test_serves_files_with_the_token_replaced(replay_server: str) -> None:
    status, headers, body = _get(replay_server, "/tass-en/rss.xml")
    assert status == 200
    assert b"{{REPLAY_BASE}}" not in body
    assert f"{replay_server}/tass-en/politics/1354210.html".encode() in body
    assert headers["content-type"].startswith("application/rss+xml")
    assert int(headers["content-length"]) == len(body)
    assert headers["etag"] and headers["last-modified"]
    raw = (REPLAY / "tass-en" / "rss.xml").read_bytes()
    assert body == raw.replace(b"{{REPLAY_BASE}}", replay_server.encode())


def test_content_types(replay_server: str) -> None:
    assert _get(replay_server, "/ria-ru/atom.xml")[1]["content-type"].startswith("application/atom+xml")
    assert _get(replay_server, "/tass-en/politics/1354210.html")[1]["content-type"].startswith("text/html")


@pytest.mark.parametrize(
    "path",
    [
        "/tass-en/nope.html",
        "/tass-en/",  # a folder without index.html
        "/../pyproject.toml",
        "/..%2fpyproject.toml",
        "/%2e%2e/%2e%2e/pyproject.toml",
        "/tass-en/../../pyproject.toml",
        "/../replay/expected.yaml/../../../pyproject.toml",
        "//etc/passwd",
        "/%00",
    ],
)
def test_unknown_and_escaping_paths_are_404(replay_server: str, path: str) -> None:
    status, _headers, body = _get(replay_server, path)
    assert status == 404
    assert b"[tool.pytest" not in body and b"root:" not in body


def test_etag_gives_304(replay_server: str) -> None:
    status, headers, _body = _get(replay_server, "/ria-ru/atom.xml")
    assert status == 200
    etag = headers["etag"]
    status, headers, body = _get(replay_server, "/ria-ru/atom.xml", {"If-None-Match": etag})
    assert status == 304
    assert body == b""
    assert headers["etag"] == etag
    status, _headers, body = _get(replay_server, "/ria-ru/atom.xml", {"If-None-Match": '"stale"'})
    assert status == 200 and body
