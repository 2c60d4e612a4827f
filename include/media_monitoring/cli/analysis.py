"""The commands that read what the product stored: latency, search, export."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from media_monitoring.cli.debug import print_json
from media_monitoring.settings import load_settings

log = logging.getLogger("media_monitoring.cli")


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

    from media_monitoring.curation.watchlists import in_force
    from media_monitoring.latency import format_table, latency_table
    from media_monitoring.pipeline import load_outlets, open_warehouse
    from media_monitoring.warehouse.alerts import latency_rows

    settings = load_settings()
    wh = open_warehouse(settings, args.warehouse)
    rows = latency_rows(wh, _since(args.since))
    table = latency_table(
        rows, by=args.by,
        priority_outlets=[o.id for o in load_outlets(settings).outlets if o.priority],
        priority_terms=[t.name for w in in_force(settings, wh).watchlists for t in w.terms if t.priority],
        alert_target=timedelta(minutes=args.alert_target_minutes),
        digest_target=timedelta(hours=args.digest_target_hours))
    if args.json:
        print_json(table)
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
                              country=args.country, region=args.region, mentioned=args.mentioned,
                              language=args.language, term=args.term)
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
        from media_monitoring.curation.watchlists import in_force

        since, until = _day_arg(getattr(args, "from"), "--from"), _day_arg(args.to, "--to")
        if since and until and since > until:
            raise ValueError("--from is after --to: no article can match")
        watchlists = tuple(sorted(w.name for w in in_force(load_settings(), wh).watchlists
                                  if any(t.name == args.term for t in w.terms))) if args.term else ()
        return exported.hit_rows(wh, exported.HitFilter(term=args.term, watchlists=watchlists, region=args.region,
                                                        mentioned=args.mentioned,
                                                        outlet=args.outlet, since=since, until=until))
    if args.kind == "search":
        from media_monitoring.search import parse, search_window
        from media_monitoring.warehouse import search

        query = parse(args.query)  # a QueryError is a ValueError: reported with what is wrong
        since, until = search_window(args.period, getattr(args, "from"), args.to, datetime.now(UTC))
        flt = search.SearchFilter(since=since, until=until, outlet=args.outlet, outlet_country=args.outlet_country,
                                  country=args.country, region=args.region, mentioned=args.mentioned,
                                  language=args.language, term=args.term)
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
