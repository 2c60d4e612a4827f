"""``media-monitor``: the operator's tool to debug one outlet, one page or one article without Airflow.

Every command runs the same package code as the DAGs.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from media_monitoring.config import ConfigError
from media_monitoring.settings import load_settings

log = logging.getLogger("media_monitoring.cli")


def _print_json(data: Any) -> None:
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

    with _client(args.feed_url, args.allow_private) as client:
        result = client.get(args.feed_url, max_bytes=MAX_FEED_BYTES, accept=FEED_ACCEPT,
                            content_types=FEED_CONTENT_TYPES)
    reading = read_feed(result.body, result.url, result.content_type)
    entries = reading.entries
    known: set[str] = set()
    if not args.no_warehouse:
        wh = open_warehouse(load_settings(), args.warehouse)
        known = wh.known_ids(url_key(e.canonical_url) for e in entries)
    out = [{"title": e.title, "link": e.link, "canonical_url": e.canonical_url,
            "published": e.published.isoformat() if e.published else None, "entry_id": e.entry_id,
            "article_id": url_key(e.canonical_url),
            "action": "skip: already stored" if url_key(e.canonical_url) in known else "ingest"}
           for e in entries]
    _print_json({"feed_url": args.feed_url, "final_url": result.url, "status": result.status,
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


def cmd_extract(args: argparse.Namespace) -> int:
    if args.batch:
        with open(args.batch, encoding="utf-8") as fh:
            for line_no, line in enumerate(fh, start=1):
                if not line.strip():
                    continue
                item: dict[str, Any] = {}
                try:
                    item = json.loads(line)
                    result = _extract_one(item["path"], item.get("url"), args.allow_private)
                    result["id"] = item.get("id")
                except Exception as exc:  # one bad line must not stop a bulk run
                    result = {"id": item.get("id"), "error": f"{args.batch}:{line_no}: {exc}"}
                sys.stdout.write(json.dumps(result, ensure_ascii=False, default=str) + "\n")
        return 0
    if not args.source:
        raise SystemExit("extract: give FILE_OR_URL or --batch FILE.jsonl")
    _print_json(_extract_one(args.source, args.url, args.allow_private))
    return 0


def cmd_tag(args: argparse.Namespace) -> int:
    from media_monitoring.tagging import Tagger

    settings = load_settings()
    tagger = Tagger(settings.watchlists_file, settings.regions_file)
    if args.batch:
        with open(args.batch, encoding="utf-8") as fh:
            for line_no, line in enumerate(fh, start=1):
                if not line.strip():
                    continue
                item: dict[str, Any] = {}
                try:
                    item = json.loads(line)
                    result = tagger.tag(item.get("title"), item.get("text")).to_json()
                    result["id"] = item.get("id")
                except Exception as exc:
                    result = {"id": item.get("id"), "error": f"{args.batch}:{line_no}: {exc}"}
                sys.stdout.write(json.dumps(result, ensure_ascii=False) + "\n")
        return 0
    raw = sys.stdin.read()
    try:
        article = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise SystemExit(f"tag: stdin is not JSON ({exc}); expected {{\"title\": ..., \"text\": ...}}") from None
    _print_json(tagger.tag(article.get("title"), article.get("text")).to_json())
    return 0


def cmd_health(args: argparse.Namespace) -> int:
    from media_monitoring.pipeline import open_warehouse

    rows = open_warehouse(load_settings(), args.warehouse).feed_health_table()
    if args.json:
        _print_json(rows)
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

    rows = open_warehouse(load_settings(), args.warehouse).quarantined(include_released=args.all)
    _print_json([{k: r[k] for k in ("article_id", "outlet_id", "url", "failed_expectations", "observed",
                                    "quarantined_at", "released_at")} for r in rows])
    return 0


def cmd_release(args: argparse.Namespace) -> int:
    from media_monitoring.pipeline import open_warehouse, release

    settings = load_settings()
    result = release(args.article_ids, settings=settings, warehouse=open_warehouse(settings, args.warehouse),
                     force=args.force, now=datetime.now(UTC))
    _print_json(result)
    return 0 if not result["still_failing"] and not result["unknown"] else 1


def cmd_where(args: argparse.Namespace) -> int:
    from media_monitoring.pipeline import open_warehouse

    settings = load_settings()
    wh = open_warehouse(settings, args.warehouse)
    emails = sorted(str(p) for p in settings.outbox_dir.rglob("*.eml")) if settings.outbox_dir.exists() else []
    alerts_dir = str(settings.outbox_dir / "alerts") + "/"
    _print_json({"warehouse": wh.describe(), "rows": wh.counts(), "outbox": str(settings.outbox_dir),
                 "digest_emails": [e for e in emails if not e.startswith(alerts_dir)],
                 "alert_emails": [e for e in emails if e.startswith(alerts_dir)],
                 "outlets": str(settings.outlets_file)})
    return 0


def _since(value: str | None) -> datetime | None:
    """``7d``, ``12h``, ``30m`` before now, or an ISO date/time (UTC unless it has an offset)."""
    from datetime import timedelta

    if not value:
        return None
    units = {"d": "days", "h": "hours", "m": "minutes"}
    if value[-1:] in units and value[:-1].isdigit():
        return datetime.now(UTC) - timedelta(**{units[value[-1]]: int(value[:-1])})
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def cmd_latency(args: argparse.Namespace) -> int:
    """Publication -> alert and -> digest per outlet or term; exit 1 when a group's p95 misses its target."""
    from datetime import timedelta

    from media_monitoring.config import load_watchlists
    from media_monitoring.latency import format_table, latency_table
    from media_monitoring.pipeline import load_outlets, open_warehouse
    from media_monitoring.warehouse.alerts import latency_rows

    settings = load_settings()
    rows = latency_rows(open_warehouse(settings, args.warehouse), _since(args.since))
    table = latency_table(
        rows, by=args.by,
        priority_outlets=[o.id for o in load_outlets(settings).outlets if o.priority],
        priority_terms=[t.name for w in load_watchlists(settings.watchlists_file).watchlists for t in w.terms
                        if t.priority],
        alert_target=timedelta(minutes=args.alert_target_minutes),
        digest_target=timedelta(hours=args.digest_target_hours))
    if args.json:
        _print_json(table)
    else:
        print(format_table(table, args.by))
        print(f"\n* priority ({'outlet' if args.by == 'outlet' else 'term'}): alert target "
              f"{args.alert_target_minutes:g} min; digest target {args.digest_target_hours:g} h for all")
    return 1 if any(r["flags"] for r in table) else 0


def cmd_search(args: argparse.Namespace) -> int:
    """One page of search results as JSON lines; the count and the cursor of the next page on stderr."""
    from media_monitoring.pipeline import open_warehouse
    from media_monitoring.search import QueryError, parse, search_window
    from media_monitoring.warehouse import search

    try:
        query = parse(args.query)
    except QueryError as exc:
        sys.stderr.write(f"media-monitor search: {exc}\n")
        return 2
    since, until = search_window(args.period, getattr(args, "from"), args.to, datetime.now(UTC))
    flt = search.SearchFilter(since=since, until=until, outlet=args.outlet, outlet_country=args.outlet_country,
                              country=args.country, region=args.region, language=args.language, term=args.term)
    wh = open_warehouse(load_settings(), args.warehouse)
    page = search.search_page(wh, query, flt, sort=args.sort, after=search.SearchCursor.decode(args.after),
                              limit=args.limit)
    for a in page.articles:
        sys.stdout.write(json.dumps({
            "article_id": a["article_id"], "published_at": a["published_at"], "outlet_id": a["outlet_id"],
            "outlet_country": a["outlet_country"], "language": a["language"], "title": a["title"], "url": a["url"],
            "snippet": search.plain(a["snippet"]), "matched": search.marked_words(a["title_marked"] + a["snippet"]),
            **({"score": a["score"]} if args.sort == "relevance" else {}),
        }, ensure_ascii=False, default=str) + "\n")
    count = f"{search.COUNT_CAP}+" if page.count_capped else page.count
    sys.stderr.write(json.dumps({"count": count, "shown": len(page.articles),
                                 "next": page.next_cursor.encode() if page.next_cursor else None}) + "\n")
    return 0


def _day_arg(value: str | None, name: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{name} {value!r} is not a date (YYYY-MM-DD)") from None


def _export_rows(args: argparse.Namespace, wh: Any) -> Iterator[dict[str, Any]]:
    """The rows of the list ``args.kind`` asks for, read while they are written."""
    from media_monitoring.warehouse import export as exported

    if args.kind == "hits":
        from media_monitoring.config import load_watchlists

        since, until = _day_arg(getattr(args, "from"), "--from"), _day_arg(args.to, "--to")
        if since and until and since > until:
            raise ValueError("--from is after --to: no article can match")
        watchlists = tuple(sorted(w.name for w in load_watchlists(load_settings().watchlists_file).watchlists
                                  if any(t.name == args.term for t in w.terms))) if args.term else ()
        return exported.hit_rows(wh, exported.HitFilter(term=args.term, watchlists=watchlists, region=args.region,
                                                        outlet=args.outlet, since=since, until=until))
    if args.kind == "search":
        from media_monitoring.search import parse, search_window
        from media_monitoring.warehouse import search

        query = parse(args.query)  # a QueryError is a ValueError: reported with what is wrong
        since, until = search_window(args.period, getattr(args, "from"), args.to, datetime.now(UTC))
        flt = search.SearchFilter(since=since, until=until, outlet=args.outlet, outlet_country=args.outlet_country,
                                  country=args.country, region=args.region, language=args.language, term=args.term)
        return exported.search_rows(wh, query, flt, sort=args.sort)
    from media_monitoring.warehouse import digests

    day = _day_arg(args.date, "--date")
    if day is None or digests.digest(wh, args.subscription, day) is None:
        raise ValueError(f"no digest was composed for {args.subscription!r} on {args.date}")
    return exported.digest_rows(wh, args.subscription, day)


def cmd_export(args: argparse.Namespace) -> int:
    """A filtered list as CSV or JSON, written while it is read (a million rows never sit in memory)."""
    from media_monitoring import export
    from media_monitoring.pipeline import open_warehouse

    wh = open_warehouse(load_settings(), args.warehouse)
    body = export.encoded(export.chunks(args.kind, args.format, _export_rows(args, wh), bom=args.bom))
    if args.output and args.output != "-":
        target = Path(args.output)
        as_is = target.exists() and not target.is_file()  # /dev/null, a named pipe
        # A regular file is written beside and renamed when complete: a file cut short never looks like an export.
        written = target if as_is else target.with_name(target.name + ".part")
        with written.open("wb") as out:
            for chunk in body:
                out.write(chunk)
        if not as_is:
            written.replace(target)
        return 0
    try:
        for chunk in body:
            sys.stdout.buffer.write(chunk)
        sys.stdout.buffer.flush()
    except BrokenPipeError:  # the reader stopped early (| head): not an error of the export
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
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


def build_parser() -> argparse.ArgumentParser:
    from media_monitoring.settings import DEFAULT_REPLAY_REGISTRY

    parser = argparse.ArgumentParser(prog="media-monitor", description=__doc__)
    parser.add_argument("-v", "--verbose", action="store_true", help="log at DEBUG")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("poll", help="fetch and parse a feed; print the entries it would ingest")
    p.add_argument("feed_url")
    p.add_argument("--allow-private", action="store_true",
                   help="allow this URL's host to resolve to loopback/private addresses (local testing only)")
    p.add_argument("--warehouse", help="SQLAlchemy URL (default: configured warehouse)")
    p.add_argument("--no-warehouse", action="store_true", help="do not check which entries are stored")
    p.set_defaults(func=cmd_poll)

    p = sub.add_parser("extract", help="extract an article from an HTML file or URL; print JSON")
    p.add_argument("source", nargs="?", metavar="FILE_OR_URL")
    p.add_argument("--url", help="the page's URL, for a local file")
    p.add_argument("--batch", metavar="FILE.jsonl", help='one {"id", "path", "url"} per line; one JSON result per line')
    p.add_argument("--allow-private", action="store_true",
                   help="allow this URL's host to resolve to loopback/private addresses (local testing only)")
    p.set_defaults(func=cmd_extract)

    p = sub.add_parser("tag", help='tag {"title", "text"} JSON from stdin; print tags as JSON')
    p.add_argument("--batch", metavar="FILE.jsonl", help='one {"id", "title", "text"} per line')
    p.set_defaults(func=cmd_tag)

    p = sub.add_parser("health", help="print the feed-health table")
    p.add_argument("--warehouse")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_health)

    p = sub.add_parser("quarantine", help="list quarantined articles with their failed expectations")
    p.add_argument("--warehouse")
    p.add_argument("--all", action="store_true", help="include released ones")
    p.set_defaults(func=cmd_quarantine)

    p = sub.add_parser("release", help="re-validate quarantined articles (after a config fix) and store them")
    p.add_argument("article_ids", nargs="+")
    p.add_argument("--force", action="store_true", help="store even if validation still fails")
    p.add_argument("--warehouse")
    p.set_defaults(func=cmd_release)

    p = sub.add_parser("where", help="print where the warehouse and the digest emails are, with row counts")
    p.add_argument("--warehouse")
    p.set_defaults(func=cmd_where)

    from media_monitoring.latency import ALERT_TARGET, DIGEST_TARGET

    p = sub.add_parser("latency", help="publication -> alert and -> digest, p50/p95 per outlet or term")
    p.add_argument("--since", help="articles stored since: 7d, 12h, 30m or an ISO date/time (default: all)")
    p.add_argument("--by", choices=["outlet", "term"], default="outlet")
    p.add_argument("--alert-target-minutes", type=float, default=ALERT_TARGET.total_seconds() / 60,
                   help="p95 target for priority outlets and terms (default %(default)g)")
    p.add_argument("--digest-target-hours", type=float, default=DIGEST_TARGET.total_seconds() / 3600,
                   help="p95 target for every group (default %(default)g)")
    p.add_argument("--json", action="store_true")
    p.add_argument("--warehouse")
    p.set_defaults(func=cmd_latency)


    p = sub.add_parser("search", help="full-text search over every stored article; one JSON line per article")
    p.add_argument("query", help='words, "phrases", prefix*, OR, NOT / -word, (parentheses)')
    p.add_argument("--from", metavar="DATE", help="published from this day (YYYY-MM-DD, UTC) or instant (ISO 8601)")
    p.add_argument("--to", metavar="DATE", help="published up to this day (inclusive) or instant")
    p.add_argument("--period", choices=["today", "24h", "7d"], help="published today (UTC), in the last 24 hours "
                                                                    "or 7 days (instead of --from/--to)")
    p.add_argument("--outlet", help="outlet id")
    p.add_argument("--outlet-country", help="the outlet's country (ISO 3166 alpha-2)")
    p.add_argument("--country", help="a country the article is tagged with (alpha-2)")
    p.add_argument("--region", help="a region the article is tagged with")
    p.add_argument("--language", help="the article's language (ISO 639-1)")
    p.add_argument("--term", help="a watchlist term the article has a hit of")
    p.add_argument("--sort", choices=["time", "relevance"], default="time")
    p.add_argument("--limit", type=int, default=20, help="articles per page (at most 100)")
    p.add_argument("--after", metavar="CURSOR", help="the cursor printed on stderr: the next page")
    p.add_argument("--warehouse")
    p.set_defaults(func=cmd_search)

    formats = argparse.ArgumentParser(add_help=False)
    formats.add_argument("--format", choices=["csv", "json"], default="csv",
                         help="CSV with a header row, or one JSON array (default %(default)s)")
    formats.add_argument("-o", "--output", metavar="FILE", help="write to FILE (default: stdout)")
    formats.add_argument("--bom", action="store_true",
                         help="start the CSV with a byte-order mark (spreadsheet programs need it for UTF-8)")
    formats.add_argument("--warehouse")
    p = sub.add_parser("export", help="a filtered list as CSV or JSON, streamed: hits, search results, a digest")
    kinds = p.add_subparsers(dest="kind", required=True)
    e = kinds.add_parser("hits", parents=[formats], help="articles with watchlist hits, one row per hit "
                                                         "with its evidence, newest first")
    e.add_argument("--term", help="a watchlist term")
    e.add_argument("--region", help="a region the article is tagged with")
    e.add_argument("--outlet", help="outlet id")
    e.add_argument("--from", metavar="DATE", help="published from this day (YYYY-MM-DD, UTC)")
    e.add_argument("--to", metavar="DATE", help="published up to this day (inclusive, UTC)")
    e = kinds.add_parser("search", parents=[formats], help="every article a search finds, with its snippet")
    e.add_argument("query", help='words, "phrases", prefix*, OR, NOT / -word, (parentheses)')
    e.add_argument("--from", metavar="DATE", help="published from this day (YYYY-MM-DD, UTC) or instant (ISO 8601)")
    e.add_argument("--to", metavar="DATE", help="published up to this day (inclusive) or instant")
    e.add_argument("--period", choices=["today", "24h", "7d"], help="published today (UTC), in the last 24 hours "
                                                                    "or 7 days (instead of --from/--to)")
    e.add_argument("--outlet", help="outlet id")
    e.add_argument("--outlet-country", help="the outlet's country (ISO 3166 alpha-2)")
    e.add_argument("--country", help="a country the article is tagged with (alpha-2)")
    e.add_argument("--region", help="a region the article is tagged with")
    e.add_argument("--language", help="the article's language (ISO 639-1)")
    e.add_argument("--term", help="a watchlist term the article has a hit of")
    e.add_argument("--sort", choices=["time", "relevance"], default="time",
                   help="relevance: the 1,000 newest matches, best first")
    e = kinds.add_parser("digest", parents=[formats], help="a digest's items as composed, one row per item and term")
    e.add_argument("--subscription", required=True)
    e.add_argument("--date", required=True, metavar="DATE", help="the digest's date (YYYY-MM-DD)")
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("replay-server", help="serve the seed snapshot locally")
    p.add_argument("--root", default=str(DEFAULT_REPLAY_REGISTRY.parent))
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8765)
    p.add_argument("--public-base", help="base URL written into served links when clients reach this server "
                                         "under another name, e.g. http://replay:8765 in docker compose")
    p.set_defaults(func=cmd_replay_server)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO, stream=sys.stderr,
                        format="%(levelname)s %(name)s: %(message)s")
    from media_monitoring.net import FetchError
    from media_monitoring.warehouse import WarehouseSchemaError

    try:
        return args.func(args)
    except (FetchError, ConfigError, FileNotFoundError, ValueError, WarehouseSchemaError) as exc:
        sys.stderr.write(f"media-monitor {args.command}: {exc}\n")
        return 2


if __name__ == "__main__":
    sys.exit(main())
