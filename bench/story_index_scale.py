"""Cost of the story index that every ``process`` run builds, against the size of the 3-day lookback.

    .venv/bin/python bench/story_index_scale.py [--stored 100000] [--new 2000]

``pipeline.assign_stories`` loads every stored article published since (earliest new article - 3 days)
(``Warehouse.story_candidates``) into a ``StoryIndex`` (MinHash LSH, 512 permutations, 64 one-row
bands) and then places the run's new articles. At 300,000 articles/day the lookback holds ~900,000
articles. This measures, in one process, without the database:

* building the index from ``--stored`` articles (CPU seconds and RSS growth per article); their
  signatures are random 512-value vectors (articles sharing no shingle: the cheapest case for LSH);
* placing ``--new`` synthetic articles (real signatures of ``bench/synth_news.py`` text) into it;

and extrapolates both to the 900,000-article lookback of 300,000 articles/day. Loading those rows
from the warehouse (2 KiB of signature each) is not included.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import synth_news  # noqa: E402


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--stored", type=int, default=100_000)
    ap.add_argument("--new", type=int, default=2000)
    args = ap.parse_args()
    from media_monitoring.tagging.stories import NUM_PERM, StoryArticle, StoryIndex, signature

    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    now = datetime.now(UTC)
    rng = np.random.default_rng(1)
    stored = [StoryArticle(f"s{i:08d}", rng.integers(1, 2**32 - 1, NUM_PERM, dtype=np.uint64).tolist(),
                           now - timedelta(seconds=int(rng.integers(0, 3 * 86400))), f"o{i % 500}",
                           story_id=f"s{i:08d}") for i in range(args.stored)]
    outs = synth_news.outlets(max(1, args.new // 50), 50, "distinct", now)
    new = []
    t = time.process_time()
    for o in outs:
        for a in o.articles():
            new.append(StoryArticle(f"n{o.index}-{a['j']}", signature(a["title"], "\n".join(a["paragraphs"])),
                                    a["published"], o.id))
    sig_s = time.process_time() - t
    rss0 = rss_mib()
    t = time.process_time()
    index = StoryIndex(stored)
    build_s = time.process_time() - t
    rss1 = rss_mib()
    t = time.process_time()
    assignments = index.assign_detailed(new)
    place_s = time.process_time() - t
    grouped = sum(1 for a in assignments if a.matched_article_id is not None)
    lookback = 900_000
    per_build_ms = build_s / args.stored * 1000
    per_mib = (rss1 - rss0) / args.stored
    print(f"signature(): {sig_s / len(new) * 1000:.2f} ms CPU per new article ({len(new)})")
    print(f"StoryIndex build: {args.stored:,} stored articles in {build_s:.1f} s CPU = {per_build_ms:.3f} ms each; "
          f"RSS +{rss1 - rss0:.0f} MiB = {per_mib * 1024:.1f} KiB each")
    print(f"placing {len(new)} new articles: {place_s:.1f} s CPU = {place_s / len(new) * 1000:.2f} ms each "
          f"(joined an existing story: {grouped})")
    print(f"at a 900,000-article lookback (300,000/day x 3 days): build ~{per_build_ms * lookback / 1000:.0f} s CPU "
          f"and ~{per_mib * lookback / 1024:.1f} GiB RSS per process run, before the rows are even loaded")
    print(f"max RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB; load average after: "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
