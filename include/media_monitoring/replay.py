"""A local HTTP server replaying the seed snapshot (``seeds/replay``), for the demo and the tests.

Files are served with the ``{{REPLAY_BASE}}`` token replaced by the server's own base URL, with
content types by extension and ETag / Last-Modified validators, like a well-behaved news site.
"""

from __future__ import annotations

import hashlib
import logging
import mimetypes
import threading
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

from media_monitoring.config import REPLAY_TOKEN

log = logging.getLogger(__name__)

CONTENT_TYPES = {
    ".xml": "application/rss+xml; charset=utf-8",
    ".rss": "application/rss+xml; charset=utf-8",
    ".atom": "application/atom+xml; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
}
FIXED_LAST_MODIFIED = formatdate(1635400000, usegmt=True)  # snapshot time; stable across restarts


class ReplayServer:
    """Serve ``root`` on ``host:port`` (port 0 picks a free one) in a background thread."""

    def __init__(self, root: Path, host: str = "127.0.0.1", port: int = 0, public_base: str | None = None) -> None:
        self.root = root.resolve()
        self.public_base = public_base.rstrip("/") if public_base else None
        server = self

        class Handler(BaseHTTPRequestHandler):
            server_version = "replay/1"

            def do_GET(self) -> None:  # noqa: N802 (http.server API)
                server._serve(self)

            def log_message(self, fmt: str, *args: object) -> None:
                log.debug("replay: " + fmt, *args)

        self.httpd = ThreadingHTTPServer((host, port), Handler)
        self.httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        """The URL clients use: ``public_base`` when serving for other hosts (a container name)."""
        if self.public_base:
            return self.public_base
        host, port = self.httpd.server_address[:2]
        return f"http://{host.decode() if isinstance(host, bytes) else host}:{port}"

    def start(self) -> ReplayServer:
        self._thread = threading.Thread(target=self.httpd.serve_forever, name="replay-server", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self) -> ReplayServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _serve(self, handler: BaseHTTPRequestHandler) -> None:
        path = unquote(urlsplit(handler.path).path)
        try:
            target = (self.root / path.lstrip("/")).resolve()
            if target.is_dir():
                target = target / "index.html"
            found = target.is_relative_to(self.root) and target.is_file()
        except (ValueError, OSError):  # a NUL byte or an over-long name in the path
            found = False
        if not found:
            handler.send_error(404, "Not Found")
            return
        body = target.read_bytes().replace(REPLAY_TOKEN.encode(), self.base_url.encode())
        suffix = ".atom" if target.name.startswith("atom") else target.suffix
        ctype = CONTENT_TYPES.get(suffix) or mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        etag = '"' + hashlib.sha256(body).hexdigest()[:20] + '"'
        if handler.headers.get("If-None-Match") == etag:
            handler.send_response(304)
            handler.send_header("ETag", etag)
            handler.end_headers()
            return
        handler.send_response(200)
        handler.send_header("Content-Type", ctype)
        handler.send_header("Content-Length", str(len(body)))
        handler.send_header("ETag", etag)
        handler.send_header("Last-Modified", FIXED_LAST_MODIFIED)
        handler.end_headers()
        handler.wfile.write(body)
