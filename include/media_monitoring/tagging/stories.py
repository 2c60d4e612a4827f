"""Stories: the articles about one news item across outlets, grouped by near-duplicate text.

Two rewrites of one wire item share many word sequences; two different news items on one topic (the two
seed articles: Lavrov on US forces in Central Asia in August and again in October) share only names and
stock phrases. :mod:`media_monitoring.tagging.signatures` makes each article's MinHash signature and its
LSH band keys; this module places articles into stories with them:

- :class:`StoryIndex` holds the candidates (each with its story) and the run's articles. A new article
  takes as candidates the indexed articles sharing a band key, keeps those published within :data:`WINDOW`
  of it, in stories that began at most :data:`WINDOW` before it, whose estimated similarity is at least
  :data:`~media_monitoring.tagging.signatures.THRESHOLD`, and joins the story of the most similar one; with
  none it starts a story of its own, whose id is its own article id.
- An exact duplicate (the same :func:`~media_monitoring.tagging.signatures.text_hash`) joins the story of
  its original and counts once among the story's articles, though its outlet counts among the outlets
  that covered the story.

No Airflow, no database.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from media_monitoring.records import Story, utc
from media_monitoring.tagging.signatures import (
    NUM_PERM,
    SIGNATURE_VERSION,
    THRESHOLD,
    band_keys,
    is_empty,
    signature_array,
)

WINDOW = timedelta(days=3)  # of published time: to the article joined, and from the story's first article
INITIAL_ROWS = 1024  # signatures a StoryIndex makes room for at first (2 MiB); it doubles when full


@dataclass(frozen=True)
class StoryArticle:
    """What the story index needs to know of an article; ``story_id`` is None for a new one."""

    article_id: str
    signature: Sequence[int] | np.ndarray  # NUM_PERM values
    published_at: datetime  # the pipeline passes fetched_at where the page gave no date
    outlet_id: str
    outlet_country: str | None = None
    countries: Sequence[str] = ()  # ISO alpha-2 codes the article is tagged with
    text_hash: str | None = None
    story_id: str | None = None
    # The story's first_seen from the stories table, for stored articles of stories that began before the
    # index's lookback (their first articles are not loaded); None: the loaded members tell.
    story_first_seen: datetime | None = None

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> StoryArticle:
        """From a warehouse row (articles joined with article_stories and stories); the signature may be
        packed bytes or a list; optional keys may be missing."""
        return cls(article_id=row["article_id"], signature=signature_array(row["signature"]),
                   published_at=row["published_at"], outlet_id=row["outlet_id"],
                   outlet_country=row.get("outlet_country"), countries=tuple(row.get("countries") or ()),
                   text_hash=row.get("text_hash"), story_id=row.get("story_id"),
                   story_first_seen=row.get("story_first_seen") or row.get("first_seen"))


@dataclass(frozen=True)
class Assignment:
    """Where a new article went, and why."""

    article_id: str
    story_id: str
    matched_article_id: str | None  # the article it joined through; None if it started the story
    similarity: float | None  # estimated Jaccard similarity to that article (1.0 for an exact duplicate)
    duplicate_of: str | None  # the earliest article of the window with the same text_hash, if any

    @property
    def new_story(self) -> bool:
        return self.matched_article_id is None

    def to_row(self) -> dict[str, Any]:
        """The ``article_stories`` row of this assignment."""
        return {"article_id": self.article_id, "story_id": self.story_id,
                "matched_article_id": self.matched_article_id, "similarity": self.similarity,
                "duplicate_of": self.duplicate_of}


def summarise(articles: Iterable[StoryArticle], story_id: str | None = None) -> Story:
    """Summary of one story from its articles (every article given counts as a member)."""
    members = sorted(articles, key=lambda a: (utc(a.published_at), a.article_id))
    if not members:
        raise ValueError("a story has at least one article")
    story_id = story_id or members[0].story_id or members[0].article_id
    texts = {a.text_hash or a.article_id for a in members}
    named = Counter(code for a in members for code in dict.fromkeys(a.countries))
    return Story(
        story_id=story_id,
        first_seen=utc(members[0].published_at),
        last_seen=utc(members[-1].published_at),
        article_count=len(texts),
        copies=len(members),
        outlets=tuple(sorted({a.outlet_id for a in members})),
        outlet_countries=tuple(sorted({a.outlet_country for a in members if a.outlet_country})),
        countries=tuple(code for code, _ in sorted(named.items(), key=lambda kv: (-kv[1], kv[0]))),
    )


def lookback(published: Iterable[datetime], window: timedelta = WINDOW) -> datetime | None:
    """The earliest published time of a stored article that articles published at ``published`` may
    join (a story spans at most ``window``): where their candidates begin. None when there is nothing new."""
    times = [utc(p) for p in published]
    return min(times) - window if times else None


class StoryIndex:
    """Recent articles and their stories; assigns new articles to stories.

    Build it from the stored articles published since :func:`lookback` of the new batch, each with its
    ``story_id``, then call :meth:`assign` with the batch. A new article joins the story of its most
    similar indexed article (estimated Jaccard >= ``threshold``) published within ``window`` of it, if
    that story's first article is also within ``window`` before it, so a story spans at most ``window``
    and a daily report on a template never chains into one endless story. An exact duplicate (same
    ``text_hash``) joins its original's story under the same time rules. Otherwise the article starts
    a story whose id is its own article id.

    Assigned articles are added to the index, so later articles of the batch can join them. The result
    does not depend on the order of the batch: it is taken in order of published time, then article id.
    Candidates are the indexed articles that share a band key
    (:func:`~media_monitoring.tagging.signatures.band_keys`). The pipeline builds it from the run's
    candidates in the warehouse (``warehouse/stories.py``); given every stored article of the lookback it
    places them the same way.
    """

    def __init__(self, articles: Iterable[StoryArticle] = (), *, threshold: float = THRESHOLD,
                 window: timedelta = WINDOW) -> None:
        self.threshold = threshold
        self.window = window
        self._bands: dict[int, list[int]] = {}  # band key -> the rows of the indexed articles with it
        self._articles: dict[str, StoryArticle] = {}
        self._ids: list[str] = []  # row -> article id
        # row -> signature: a new article's candidates are compared with it in one array operation
        self._matrix = np.empty((INITIAL_ROWS, NUM_PERM), dtype=np.uint32)
        self._by_text: dict[str, list[str]] = {}  # text hash -> the articles with that text
        self._stories: dict[str, list[str]] = {}  # story id -> its articles
        self._first_seen: dict[str, datetime] = {}  # story id -> its earliest published time (UTC)
        for article in articles:
            self.add(article)

    def __len__(self) -> int:
        return len(self._articles)

    def __contains__(self, article_id: object) -> bool:
        return article_id in self._articles

    def add(self, article: StoryArticle) -> None:
        """Index a stored article with its story (indexing one article id twice is an error)."""
        if article.story_id is None:
            raise ValueError(f"article {article.article_id} has no story_id: use assign() for new articles")
        if article.article_id in self._articles:
            raise ValueError(f"article {article.article_id} is already indexed")
        vector = self._vector(article)
        self._insert(article, vector, band_keys(vector))

    def _insert(self, article: StoryArticle, vector: np.ndarray, keys: Sequence[int]) -> None:
        """Index an article with a story: its signature as ``vector``, its band keys as ``keys``."""
        story_id = str(article.story_id)  # add() refuses an article without one; assign_detailed() gives one
        row = len(self._ids)
        if row == len(self._matrix):
            self._matrix = np.concatenate([self._matrix, np.empty_like(self._matrix)])
        self._matrix[row] = vector
        self._ids.append(article.article_id)
        self._articles[article.article_id] = article
        self._stories.setdefault(story_id, []).append(article.article_id)
        seen = [utc(article.published_at)] + ([utc(article.story_first_seen)] if article.story_first_seen else [])
        if story_id in self._first_seen:
            seen.append(self._first_seen[story_id])
        self._first_seen[story_id] = min(seen)
        if article.text_hash:
            self._by_text.setdefault(article.text_hash, []).append(article.article_id)
        for key in keys:
            self._bands.setdefault(key, []).append(row)

    def assign(self, articles: Iterable[StoryArticle]) -> list[tuple[str, str]]:
        """(article_id, story_id) of each new article, in the order given."""
        return [(a.article_id, a.story_id) for a in self.assign_detailed(articles)]

    def assign_detailed(self, articles: Iterable[StoryArticle],
                        keys: Mapping[str, Sequence[int]] | None = None) -> list[Assignment]:
        """:meth:`assign` with the article each one joined through, the similarity and exact duplicates.
        An article already in the index (a re-run) keeps its story. ``keys``: the articles' band keys by
        article id where the caller has them already (the pipeline looks candidates up with them); each
        new article's are otherwise computed once, to find its candidates and to index it."""
        batch = list(articles)
        done: dict[str, Assignment] = {}
        for article in sorted(batch, key=lambda a: (utc(a.published_at), a.article_id)):
            if article.article_id in done:
                continue
            if article.article_id in self._articles:
                known = self._articles[article.article_id]
                done[article.article_id] = Assignment(article.article_id, str(known.story_id), None, None, None)
                continue
            vector = self._vector(article)
            article_keys = keys[article.article_id] if keys is not None else band_keys(vector)
            assignment = self._place(article, vector, article_keys)
            done[article.article_id] = assignment
            self._insert(StoryArticle(article.article_id, article.signature, article.published_at,
                                      article.outlet_id, article.outlet_country, tuple(article.countries),
                                      article.text_hash, assignment.story_id), vector, article_keys)
        return [done[a.article_id] for a in batch]

    def members(self, story_id: str) -> list[StoryArticle]:
        """The indexed articles of a story (loaded and assigned), earliest first."""
        return sorted((self._articles[i] for i in self._stories.get(story_id, ())),
                      key=lambda a: (utc(a.published_at), a.article_id))

    def summary(self, story_id: str) -> Story:
        """Summary of a story from its indexed articles. For a story that began before the lookback, the
        index lacks its first articles: summarise all its stored articles for the ``stories`` table."""
        members = self.members(story_id)
        if not members:
            raise KeyError(story_id)
        return summarise(members, story_id)

    @staticmethod
    def _vector(article: StoryArticle) -> np.ndarray:
        vector = np.asarray(article.signature, dtype=np.uint32)
        if vector.shape != (NUM_PERM,):
            raise ValueError(f"article {article.article_id}: signature of {len(vector)} values, expected "
                             f"{NUM_PERM} ({SIGNATURE_VERSION}): recompute it with signature()")
        return vector

    def candidates(self, sig: Sequence[int] | np.ndarray) -> set[str]:
        """The indexed articles that share a band key with ``sig``."""
        return {self._ids[row] for row in self._candidate_rows(band_keys(sig))}

    def _candidate_rows(self, keys: Iterable[int]) -> set[int]:
        return set().union(*(self._bands.get(key, ()) for key in keys))

    def _open(self, article: StoryArticle, other_id: str) -> bool:
        """May ``article`` join ``other_id``'s story? Both within the window, and the story's start too."""
        when = utc(article.published_at)
        other = self._articles[other_id]
        return (abs(when - utc(other.published_at)) <= self.window
                and when - self._first_seen[str(other.story_id)] <= self.window)

    def _order(self, article_id: str) -> tuple[datetime, str]:
        """Earliest first, then the smallest article id: how ties are broken."""
        return utc(self._articles[article_id].published_at), article_id

    def _place(self, article: StoryArticle, vector: np.ndarray, keys: Sequence[int]) -> Assignment:
        if is_empty(vector):  # no words: nothing to compare, not even a text to duplicate
            return Assignment(article.article_id, article.article_id, None, None, None)
        if article.text_hash:
            copies = [i for i in self._by_text.get(article.text_hash, ()) if self._open(article, i)]
            if copies:
                original = min(copies, key=self._order)
                return Assignment(article.article_id, str(self._articles[original].story_id), original, 1.0,
                                  original)
        scored = []
        rows = np.fromiter(self._candidate_rows(keys), dtype=np.intp)
        scores = np.count_nonzero(self._matrix[rows] == vector, axis=1) / NUM_PERM
        close = scores >= self.threshold
        for row, score in zip(rows[close].tolist(), scores[close].tolist(), strict=True):
            other_id = self._ids[row]
            if self._open(article, other_id):
                scored.append((-score, *self._order(other_id)))  # most similar, then earliest, then smallest id
        if not scored:
            return Assignment(article.article_id, article.article_id, None, None, None)
        score, _, other_id = min(scored)
        return Assignment(article.article_id, str(self._articles[other_id].story_id), other_id, -score, None)
