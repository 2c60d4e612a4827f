"""The commands on what analysts edit in the view: the watchlists in force as a watchlists.yaml, and every version
of a watchlist with its diff (where they live: :mod:`media_monitoring.curation`)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from media_monitoring.settings import load_settings


def cmd_watchlists(args: argparse.Namespace) -> int:
    from media_monitoring.curation import watchlists as wl
    from media_monitoring.pipeline import open_warehouse

    settings = load_settings()
    wh = open_warehouse(settings, args.warehouse)
    try:
        if args.action == "export":
            text = wl.export(wl.in_force(settings, wh))
            if args.output:
                Path(args.output).write_text(text, encoding="utf-8")
                sys.stderr.write(f"wrote the watchlists in force to {args.output}\n")
            else:
                sys.stdout.write(text)
            return 0
        names = {w.name for w in wl.in_force(settings, wh).watchlists}
        if args.name not in names:
            raise ValueError(f"no watchlist {args.name!r}; the watchlists: {', '.join(sorted(names))}")
        for i, version in enumerate(wl.history(wh, args.name)):
            state = " (in force)" if i == 0 else ""
            print(f"== {version['version']}{state}  {version['at']:%Y-%m-%d %H:%M} UTC  by {version['author']} "
                  f"({version['source']}){'  ' + version['note'] if version['note'] else ''}")
            print(version["diff"].rstrip() or "(no change)")
        return 0
    finally:
        wh.close()
