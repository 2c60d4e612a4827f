"""``media-monitor``: the operator's tool to debug one outlet, one page or one article without Airflow.

Every command runs the same package code as the DAGs: ``debug`` holds the commands on one outlet, page or
article and the warehouse's state, ``analysis`` those that read what the product stored, ``curation`` those on
the watchlists analysts edit in the view.
"""

from __future__ import annotations

import argparse
import logging
import sys

from media_monitoring.cli.analysis import cmd_export, cmd_latency, cmd_search
from media_monitoring.cli.curation import cmd_watchlists
from media_monitoring.cli.debug import (
    cmd_extract,
    cmd_health,
    cmd_poll,
    cmd_quarantine,
    cmd_release,
    cmd_replay_server,
    cmd_tag,
    cmd_where,
)
from media_monitoring.config import ConfigError


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


    # what a search is narrowed to: the same for `search` and `export search`
    searched = argparse.ArgumentParser(add_help=False)
    searched.add_argument("query", help='words, "phrases", prefix*, OR, NOT / -word, (parentheses)')
    searched.add_argument("--from", metavar="DATE",
                          help="published from this day (YYYY-MM-DD, UTC) or instant (ISO 8601)")
    searched.add_argument("--to", metavar="DATE", help="published up to this day (inclusive) or instant")
    searched.add_argument("--period", choices=["today", "24h", "7d"],
                          help="published today (UTC), in the last 24 hours or 7 days (instead of --from/--to)")
    searched.add_argument("--outlet", help="outlet id")
    searched.add_argument("--outlet-country", help="the outlet's country (ISO 3166 alpha-2)")
    searched.add_argument("--country", help="a country the article is about (alpha-2)")
    searched.add_argument("--region", help="a region the article is about")
    searched.add_argument("--mentioned", action="store_true",
                          help="--country/--region: also articles that only mention it")
    searched.add_argument("--language", help="the article's language (ISO 639-1)")
    searched.add_argument("--term", help="a watchlist term the article has a hit of")

    p = sub.add_parser("search", parents=[searched],
                       help="full-text search over every stored article; one JSON line per article")
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
    e.add_argument("--region", help="a region the article is about")
    e.add_argument("--mentioned", action="store_true", help="--region: also articles that only mention it")
    e.add_argument("--outlet", help="outlet id")
    e.add_argument("--from", metavar="DATE", help="published from this day (YYYY-MM-DD, UTC)")
    e.add_argument("--to", metavar="DATE", help="published up to this day (inclusive, UTC)")
    e = kinds.add_parser("search", parents=[formats, searched], help="every article a search finds, with its snippet")
    e.add_argument("--sort", choices=["time", "relevance"], default="time",
                   help="relevance: the 1,000 newest matches, best first")
    e = kinds.add_parser("digest", parents=[formats], help="a digest's items as composed, one row per item and term")
    e.add_argument("--subscription", required=True)
    e.add_argument("--date", required=True, metavar="DATE", help="the digest's date (YYYY-MM-DD)")
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("watchlists", help="the watchlists in force as YAML (export), or a watchlist's versions with "
                                          "their diffs (history)")
    actions = p.add_subparsers(dest="action", required=True)
    w = actions.add_parser("export", help="write the versions in force as a watchlists.yaml (to review in git)")
    w.add_argument("-o", "--output", help="file to write (default: standard output)")
    w.add_argument("--warehouse", help="warehouse URL (default: as the DAGs resolve it)")
    w = actions.add_parser("history", help="every version of one watchlist, newest first, with who, when and the diff")
    w.add_argument("name", help="the watchlist's name")
    w.add_argument("--warehouse", help="warehouse URL (default: as the DAGs resolve it)")
    p.set_defaults(func=cmd_watchlists)

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
