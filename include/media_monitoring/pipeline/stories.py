"""Placing a run's stored articles in stories, with the stored articles they may join.

Stories are found by MinHash/LSH over the articles' texts (:mod:`media_monitoring.tagging.stories`); the
band keys and the placement lock live in the warehouse (:mod:`media_monitoring.warehouse.stories`), so a run
reads only the stored articles that may share a story with its own, and stored articles signed with an
older signature version are signed again on the way.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence

from media_monitoring.records import Article
from media_monitoring.warehouse import Warehouse

log = logging.getLogger(__name__)


def assign_stories(wh: Warehouse, articles: Sequence[Article]) -> int:
    """Group new articles into stories with the stored ones (MinHash/LSH band keys kept in the warehouse);
    returns the stories touched. Reads only the stored articles that share a band key or a text with the
    batch, and places them under the warehouse's placement lock: workers processing partitions at once
    place one after another and never open one story twice."""
    from media_monitoring.tagging.signatures import band_keys, signature_array
    from media_monitoring.tagging.stories import WINDOW, StoryArticle, StoryIndex, lookback, summarise
    from media_monitoring.warehouse import stories as store

    own = [StoryArticle(a.article_id, signature_array(a.signature), when, a.outlet_id, a.outlet_country,
                        a.countries, a.text_hash)
           for a in articles if a.signature and (when := a.published_at or a.fetched_at)]
    since = lookback([a.published_at for a in own])
    if since is None:  # nothing new to place
        return 0
    store.ensure_bands(wh, [a.published_at for a in own])
    with store.placement(wh) as conn:
        new, ids = list(own), {a.article_id for a in own}
        left = store.sign_again(wh, conn, store.unassigned(conn, since, exclude=ids))
        if left:  # stored, but a run stopped before giving them a story
            log.info("%d stored articles without a story are placed with this run's", len(left))
            new += [StoryArticle.from_row(r) for r in left]
            ids.update(r["article_id"] for r in left)
        # each new article's band keys, once: the candidates are looked up, the index built and the rows
        # written with them
        keys = {a.article_id: band_keys(a.signature) for a in new}
        until = max(a.published_at for a in new) + WINDOW
        rows = store.candidates(wh, conn, {k for article_keys in keys.values() for k in article_keys},
                                {a.text_hash for a in new if a.text_hash}, since, until, exclude=ids)
        stale = {r["article_id"] for r in rows if not store.is_current(r)}
        stored = [StoryArticle.from_row(r) for r in store.sign_again(wh, conn, rows)]
        store.replace_bands(conn, [a for a in stored if a.article_id in stale])
        index = StoryIndex(stored)
        log.info("story index: %d new articles, %d stored candidates published %s to %s", len(new), len(index),
                 since.isoformat(), until.isoformat())
        assignments = index.assign_detailed(new, keys)
        store.save_placement(wh, conn, assignments, new, keys)
        # A summary counts every member of its story: this run's own articles are at hand, the others are read
        members: dict[str, list[StoryArticle]] = defaultdict(list)
        story_of = {a.article_id: a.story_id for a in assignments}
        for article in own:
            members[story_of[article.article_id]].append(article)
        titles = {a.article_id: a.title for a in articles}
        for row in store.members(conn, sorted(set(story_of.values())), exclude=sorted(a.article_id for a in own)):
            members[row["story_id"]].append(StoryArticle.from_row(row))
            titles[row["article_id"]] = row["title"]
        summaries = []
        for story_id, of_story in members.items():
            first = min(of_story, key=lambda a: (a.published_at, a.article_id))
            summaries.append({**summarise(of_story, story_id).to_row(), "title": titles[first.article_id]})
        store.save_summaries(wh, conn, summaries)
    grouped = sum(1 for r in summaries if len(r["outlets"]) > 1)
    log.info("%d new articles in %d stories (%d covered by several outlets)", len(new), len(summaries), grouped)
    return len(summaries)
