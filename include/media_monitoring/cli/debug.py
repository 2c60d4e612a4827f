"""The commands that debug one outlet, page or article, and the warehouse's state: poll, extract, tag, health,
quarantine, release, where, replay-server."""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from media_monitoring.settings import load_settings

log = logging.getLogger("media_monitoring.cli")



def print_json(data: Any) -> None:
    """``data`` as indented JSON on stdout (non-ASCII kept as written, anything else as its str)."""
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")


def _client(url: str, allow_private: bool):
    from media_monitoring.net import HttpClient

    settings = load_settings()
    hosts = [urlsplit(url).hostname or ""] if allow_private else []
    return HttpClient(settings.user_agent, allow_private_hosts=hosts)


def cmd_poll(args: argparse.Namespace) -> int:
    """Print the entries a feed would give; exit 1 when it has entries but none with a usable link."""
    from media_monitoring.feeds import read_feed
    from media_monitoring.net import FEED_CONTENT_TYPES, MAX_FEED_BYTES
    from media_monitoring.pipeline import FEED_ACCEPT, open_warehouse
    from media_monitoring.urls import url_key
    from media_monitoring.warehouse import articles

    with _client(args.feed_url, args.allow_private) as client:
        result = client.get(args.feed_url, max_bytes=MAX_FEED_BYTES, accept=FEED_ACCEPT,
                            content_types=FEED_CONTENT_TYPES)
    reading = read_feed(result.body, result.url, result.content_type)
    entries = reading.entries
    known: set[str] = set()
    if not args.no_warehouse:
        wh = open_warehouse(load_settings(), args.warehouse)
        known = articles.known_ids(wh, (url_key(e.canonical_url) for e in entries))
    out = [{"title": e.title, "link": e.link, "canonical_url": e.canonical_url,
            "published": e.published.isoformat() if e.published else None, "entry_id": e.entry_id,
            "article_id": url_key(e.canonical_url),
            "action": "skip: already stored" if url_key(e.canonical_url) in known else "ingest"}
           for e in entries]
    print_json({"feed_url": args.feed_url, "final_url": result.url, "status": result.status,
                 "content_type": result.content_type, "format": reading.kind, "encoding": reading.encoding,
                 "charset_note": reading.charset_note, "entries": len(out),
                 "to_ingest": sum(o["action"] == "ingest" for o in out),
                 "skipped": reading.skipped_total, "skipped_by_reason": reading.skipped,
                 "skipped_reason": reading.skip_note, "items": out})
    if reading.skipped and not entries:
        sys.stderr.write(f"media-monitor poll: no entry has a usable link ({reading.skip_note})\n")
        return 1
    return 0


def _extract_one(source: str, url: str | None, allow_private: bool) -> dict[str, Any]:
    from media_monitoring.extract import extract_article
    from media_monitoring.net import MAX_PAGE_BYTES, PAGE_CONTENT_TYPES
    from media_monitoring.pipeline import PAGE_ACCEPT

    if source.startswith(("http://", "https://")):
        with _client(source, allow_private) as client:
            page = client.get(source, max_bytes=MAX_PAGE_BYTES, accept=PAGE_ACCEPT,
                              content_types=PAGE_CONTENT_TYPES)
        html, page_url = page.body, page.url
    else:
        path = Path(source)
        if not path.is_file():
            raise FileNotFoundError(f"{source}: no such file (give a local HTML file or an http(s) URL)")
        html, page_url = path.read_bytes(), url or path.resolve().as_uri()
    return extract_article(html, url or page_url).to_json()


def _each_line(batch: str, handle: Callable[[dict[str, Any]], dict[str, Any]]) -> None:
    """``handle`` each JSON line of the file ``batch``; print one JSON line per input line, with its ``id``, or the
    error that line met (file and line named): one bad line must not stop a bulk run."""
    with open(batch, encoding="utf-8") as fh:
        for line_no, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            item: dict[str, Any] = {}
            try:
                item = json.loads(line)
                result = {**handle(item), "id": item.get("id")}
            except Exception as exc:  # noqa: BLE001 (reported on its line; the rest goes on)
                result = {"id": item.get("id"), "error": f"{batch}:{line_no}: {exc}"}
            sys.stdout.write(json.dumps(result, ensure_ascii=False, default=str) + "\n")


def cmd_extract(args: argparse.Namespace) -> int:
    if args.batch:
        _each_line(args.batch, lambda item: _extract_one(item["path"], item.get("url"), args.allow_private))
        return 0
    if not args.source:
        raise SystemExit("extract: give FILE_OR_URL or --batch FILE.jsonl")
    print_json(_extract_one(args.source, args.url, args.allow_private))
    return 0


def cmd_tag(args: argparse.Namespace) -> int:
    from media_monitoring.tagging import Tagger

    settings = load_settings()
    tagger = Tagger(settings.watchlists_file, settings.regions_file)
    if args.batch:
        _each_line(args.batch, lambda item: tagger.tag(item.get("title"), item.get("text"),
                                                       item.get("outlet_country")).to_json())
        return 0
    raw = sys.stdin.read()
    try:
        article = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise SystemExit(f"tag: stdin is not JSON ({exc}); expected {{\"title\": ..., \"text\": ...}}") from None
    print_json(tagger.tag(article.get("title"), article.get("text"), article.get("outlet_country")).to_json())
    return 0


def cmd_health(args: argparse.Namespace) -> int:
    from media_monitoring.pipeline import open_warehouse
    from media_monitoring.warehouse import feeds

    rows = feeds.feed_health_table(open_warehouse(load_settings(), args.warehouse))
    if args.json:
        print_json(rows)
        return 0
    cols = ["outlet_id", "status", "last_attempt_at", "last_success_at", "last_new_item_at", "http_status",
            "error_class", "consecutive_failures", "items_per_day", "next_poll_at", "status_reason"]
    def cell(value: Any) -> str:
        if value is None:
            return ""
        if isinstance(value, float):
            return f"{value:.1f}"
        return str(value)[:19] if isinstance(value, datetime) else str(value)

    table = [[cell(r[c]) for c in cols] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in table)) if table else len(c) for i, c in enumerate(cols)]
    print("  ".join(c.ljust(w) for c, w in zip(cols, widths, strict=True)))
    for row in table:
        print("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)))
    return 0


def cmd_quarantine(args: argparse.Namespace) -> int:
    from media_monitoring.pipeline import open_warehouse
    from media_monitoring.warehouse import articles

    rows = articles.quarantined(open_warehouse(load_settings(), args.warehouse), include_released=args.all)
    print_json([{k: r[k] for k in ("article_id", "outlet_id", "url", "failed_expectations", "observed",
                                    "quarantined_at", "released_at")} for r in rows])
    return 0


def cmd_release(args: argparse.Namespace) -> int:
    from media_monitoring.pipeline import open_warehouse, release

    settings = load_settings()
    result = release(args.article_ids, settings=settings, warehouse=open_warehouse(settings, args.warehouse),
                     force=args.force, now=datetime.now(UTC))
    print_json(result)
    return 0 if not result["still_failing"] and not result["unknown"] else 1


def cmd_where(args: argparse.Namespace) -> int:
    from media_monitoring.pipeline import open_warehouse

    settings = load_settings()
    wh = open_warehouse(settings, args.warehouse)
    emails = sorted(str(p) for p in settings.outbox_dir.rglob("*.eml")) if settings.outbox_dir.exists() else []
    alerts_dir = str(settings.outbox_dir / "alerts") + "/"
    print_json({"warehouse": wh.describe(), "rows": wh.counts(), "outbox": str(settings.outbox_dir),
                 "digest_emails": [e for e in emails if not e.startswith(alerts_dir)],
                 "alert_emails": [e for e in emails if e.startswith(alerts_dir)],
                 "outlets": str(settings.outlets_file)})
    return 0


def cmd_replay_server(args: argparse.Namespace) -> int:
    from media_monitoring.replay import ReplayServer

    server = ReplayServer(Path(args.root), host=args.host, port=args.port, public_base=args.public_base).start()
    log.info("replaying %s at %s (Ctrl-C to stop)", args.root, server.base_url)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        server.stop()
    return 0
