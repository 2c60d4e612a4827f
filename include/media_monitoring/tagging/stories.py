"""Stories: the articles about one news item across outlets, grouped by near-duplicate text.

Agency copy is republished and rewritten: TASS puts out a wire item, Kazinform and AKIpress rewrite its
intro and keep its facts, figures and quotes. Such articles share many word sequences; two different
news items on one topic (the two seed articles: Lavrov on US forces in Central Asia in August and again
in October) share only names and stock phrases. A story is found the way search engines find
near-duplicate pages:

- :func:`signature` is a MinHash (datasketch) of the article's word shingles: every run of
  :data:`SHINGLE_WORDS` consecutive words of the title and of the body, after folding case, punctuation,
  Unicode forms and Arabic/Persian spelling variants. The estimated Jaccard similarity of two signatures
  is the share of their positions that agree.
- :class:`StoryIndex` holds the recent stored articles (each with its story) in a MinHash LSH index.
  A new article asks the index for candidates, keeps those published within :data:`WINDOW` of it whose
  estimated similarity is at least :data:`THRESHOLD`, and joins the story of the most similar one;
  with none it starts a story of its own, whose id is its own article id.
- :func:`text_hash` finds exact duplicates (the same body, whatever the headline): a copy joins the
  story of its original and counts once among the story's articles, though its outlet counts among
  the outlets that covered the story.

The constants were chosen on the pairs in ``bench/tagging/stories.yaml``, the seed pages, the replay
snapshot and the labelled tagging set; ``bench/tagging/stories_eval.py`` reproduces the numbers and
``bench/RESULTS.md`` (section Tagging) records them. Pure Python: no Airflow, no database.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
from datasketch import LeanMinHash, MinHash, MinHashLSH

from media_monitoring.tagging.text import fold, strip_arabic_marks

SHINGLE_WORDS = 3  # words per shingle
NUM_PERM = 128  # MinHash permutations: 512 bytes of uint32 per article
SEED = 1  # the permutations' seed: signatures are comparable only under the same one
SCHEME = "affine32"  # datasketch 2.x's default permutation scheme, named so a future default can't change it
THRESHOLD = 0.2  # estimated Jaccard similarity at which an article joins a story
WINDOW = timedelta(days=3)  # of published time between an article and the one it joins
# LSH banding: 64 bands of 2 rows. An article at the threshold (J = 0.2) is a candidate with probability
# 1 - (1 - 0.2**2)**64 = 0.93; at J = 0.3, 0.998. Verification by the estimate then drops the many
# unrelated candidates that banding this loose lets through (at J = 0.05, 15 %), which costs a vector
# comparison each.
LSH_BANDS, LSH_ROWS = 64, 2
# Bump when anything above that changes a signature: signatures of different versions can't be compared,
# so stored ones of an older version must be recomputed from the stored text.
SIGNATURE_VERSION = f"minhash-{SCHEME}-sha1-w{SHINGLE_WORDS}-p{NUM_PERM}-s{SEED}"

_WORD_RE = re.compile(r"\w+")
_MAX_HASH = (1 << 32) - 1  # every position of an empty sketch
_TEMPLATE = MinHash(num_perm=NUM_PERM, seed=SEED, scheme=SCHEME)  # permutations built once, then shared


def normalise(text: str | None) -> str:
    """Text as the signature sees it: NFKC, no format characters (ZWNJ, bidi marks), no Arabic vowel
    marks, Arabic/Persian letter variants folded (ي/ی, ك/ک, أ/ا), case folded, spaces collapsed."""
    text = unicodedata.normalize("NFKC", text or "")
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Cf")
    return fold(strip_arabic_marks(text)).casefold()


def words(text: str | None) -> list[str]:
    """The words of ``text`` after :func:`normalise`; punctuation and symbols are dropped."""
    return _WORD_RE.findall(normalise(text))


def shingles(title: str | None, text: str | None, size: int = SHINGLE_WORDS) -> set[str]:
    """Every run of ``size`` consecutive words in the title and in the body (never across the two); a
    field shorter than ``size`` words gives one shingle of all its words."""
    out: set[str] = set()
    for field in (title, text):
        tokens = words(field)
        if not tokens:
            continue
        if len(tokens) < size:
            out.add(" ".join(tokens))
        else:
            out.update(" ".join(tokens[i:i + size]) for i in range(len(tokens) - size + 1))
    return out


def signature(title: str | None, text: str | None) -> list[int]:
    """The article's MinHash: :data:`NUM_PERM` unsigned 32-bit ints, the same on every machine and run."""
    minhash = MinHash(num_perm=NUM_PERM, seed=SEED, scheme=SCHEME, permutations=_TEMPLATE.permutations)
    minhash.update_batch([s.encode("utf-8") for s in sorted(shingles(title, text))])
    return [int(v) for v in minhash.hashvalues]


def text_hash(text: str | None) -> str:
    """Exact-duplicate key of an article body: 32 hex digits of SHA-256 over the text with Unicode
    normalised (NFKC), case folded and whitespace collapsed. Punctuation and words count."""
    key = " ".join(unicodedata.normalize("NFKC", text or "").casefold().split())
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]


def similarity(a: Sequence[int], b: Sequence[int]) -> float:
    """Estimated Jaccard similarity of the shingle sets behind two signatures (0.0 if either is empty)."""
    x, y = np.asarray(a, dtype=np.uint32), np.asarray(b, dtype=np.uint32)
    if len(x) != len(y):
        raise ValueError(f"signatures of different lengths ({len(x)}, {len(y)}): different SIGNATURE_VERSION")
    if is_empty(x) or is_empty(y):
        return 0.0
    return float(np.count_nonzero(x == y)) / len(x)


def is_empty(sig: Sequence[int] | np.ndarray) -> bool:
    """True for the signature of an article without a single word."""
    return bool(np.all(np.asarray(sig) == _MAX_HASH))


def _utc(moment: datetime) -> datetime:
    """Aware UTC datetimes compare with each other; naive ones are taken as UTC (as the warehouse stores)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


@dataclass(frozen=True)
class StoryArticle:
    """What the story index needs to know of an article; ``story_id`` is None for a new one."""

    article_id: str
    signature: Sequence[int]
    published_at: datetime  # the pipeline passes fetched_at where the page gave no date
    outlet_id: str
    outlet_country: str | None = None
    countries: Sequence[str] = ()  # ISO alpha-2 codes the article is tagged with
    text_hash: str | None = None
    story_id: str | None = None

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> StoryArticle:
        """From a warehouse row (articles joined with article_stories); missing optional keys are fine."""
        return cls(article_id=row["article_id"], signature=list(row["signature"]),
                   published_at=row["published_at"], outlet_id=row["outlet_id"],
                   outlet_country=row.get("outlet_country"), countries=tuple(row.get("countries") or ()),
                   text_hash=row.get("text_hash"), story_id=row.get("story_id"))


@dataclass(frozen=True)
class Assignment:
    """Where a new article went, and why."""

    article_id: str
    story_id: str
    matched_article_id: str | None  # the article it was found most similar to; None if it founded the story
    similarity: float | None  # estimated Jaccard similarity to that article (1.0 for an exact duplicate)
    duplicate_of: str | None  # the earliest article with the same text_hash in the window, if any

    @property
    def new_story(self) -> bool:
        return self.matched_article_id is None

    def to_row(self) -> dict[str, Any]:
        """The ``article_stories`` row of this assignment."""
        return {"article_id": self.article_id, "story_id": self.story_id,
                "matched_article_id": self.matched_article_id, "similarity": self.similarity,
                "duplicate_of": self.duplicate_of}


@dataclass(frozen=True)
class StorySummary:
    """A story as the digest tells it: "covered by 4 outlets in 3 countries", first seen at ..."""

    story_id: str
    first_seen: datetime  # earliest published_at of its articles (UTC)
    last_seen: datetime
    article_count: int  # distinct texts: exact duplicates count once
    copies: int  # all its articles, exact duplicates included
    outlets: tuple[str, ...]  # outlet ids, sorted
    outlet_countries: tuple[str, ...]  # where those outlets are, sorted
    countries: tuple[str, ...]  # countries its articles are about, most articles first, then by code

    @property
    def coverage(self) -> str:
        outlets, countries = len(self.outlets), len(self.outlet_countries)
        text = f"covered by {outlets} outlet{'s' * (outlets != 1)}"
        return text + (f" in {countries} countr{'ies' if countries != 1 else 'y'}" if countries else "")

    def to_row(self) -> dict[str, Any]:
        """The ``stories`` row of this story."""
        return {"story_id": self.story_id, "first_seen": self.first_seen, "last_seen": self.last_seen,
                "article_count": self.article_count, "copies": self.copies, "outlets": list(self.outlets),
                "outlet_countries": list(self.outlet_countries), "countries": list(self.countries)}


def summarise(articles: Iterable[StoryArticle], story_id: str | None = None) -> StorySummary:
    """Summary of one story's articles (every article given is taken as a member)."""
    members = sorted(articles, key=lambda a: (_utc(a.published_at), a.article_id))
    if not members:
        raise ValueError("a story has at least one article")
    story_id = story_id or members[0].story_id or members[0].article_id
    texts = {a.text_hash or a.article_id for a in members}
    named = Counter(code for a in members for code in dict.fromkeys(a.countries))
    return StorySummary(
        story_id=story_id,
        first_seen=_utc(members[0].published_at),
        last_seen=max(_utc(a.published_at) for a in members),
        article_count=len(texts),
        copies=len(members),
        outlets=tuple(sorted({a.outlet_id for a in members})),
        outlet_countries=tuple(sorted({a.outlet_country for a in members if a.outlet_country})),
        countries=tuple(code for code, _ in sorted(named.items(), key=lambda kv: (-kv[1], kv[0]))),
    )


def lookback(published: Iterable[datetime], window: timedelta = WINDOW) -> datetime | None:
    """The earliest published_at of stored articles that new articles published at ``published`` can join:
    load those (with their stories) into :class:`StoryIndex`. None when there is nothing new."""
    times = [_utc(p) for p in published]
    return min(times) - window if times else None


class StoryIndex:
    """Recent articles and their stories; assigns new articles to stories.

    Build it from the stored articles published since :func:`lookback` of the new batch (each with its
    ``story_id``), then call :meth:`assign` once with the batch. Assigned articles are added to the
    index, so later articles of the batch can join them. The same input always gives the same stories:
    a batch is taken in order of published time, then article id.
    """

    def __init__(self, articles: Iterable[StoryArticle] = (), *, threshold: float = THRESHOLD,
                 window: timedelta = WINDOW) -> None:
        self.threshold = threshold
        self.window = window
        self._lsh = MinHashLSH(num_perm=NUM_PERM, params=(LSH_BANDS, LSH_ROWS))
        self._articles: dict[str, StoryArticle] = {}
        self._vectors: dict[str, np.ndarray] = {}
        self._by_text: dict[str, list[str]] = {}
        self._stories: dict[str, list[str]] = {}
        for article in articles:
            self.add(article)

    def __len__(self) -> int:
        return len(self._articles)

    def __contains__(self, article_id: object) -> bool:
        return article_id in self._articles

    def add(self, article: StoryArticle) -> None:
        """Index a stored article with its story (re-adding an indexed article id is an error)."""
        if article.story_id is None:
            raise ValueError(f"article {article.article_id} has no story_id: use assign() for new articles")
        if article.article_id in self._articles:
            raise ValueError(f"article {article.article_id} is already indexed")
        vector = np.asarray(article.signature, dtype=np.uint32)
        if len(vector) != NUM_PERM:
            raise ValueError(f"article {article.article_id}: signature of {len(vector)} values, expected "
                             f"{NUM_PERM} ({SIGNATURE_VERSION}); recompute it with signature()")
        self._articles[article.article_id] = article
        self._vectors[article.article_id] = vector
        self._stories.setdefault(article.story_id, []).append(article.article_id)
        if article.text_hash:
            self._by_text.setdefault(article.text_hash, []).append(article.article_id)
        if not is_empty(vector):
            self._lsh.insert(article.article_id, LeanMinHash(seed=SEED, hashvalues=vector, scheme=SCHEME),
                             check_duplication=False)

    def assign(self, articles: Iterable[StoryArticle]) -> list[tuple[str, str]]:
        """(article_id, story_id) for each new article, in the order given."""
        return [(a.article_id, a.story_id) for a in self.assign_detailed(articles)]

    def assign_detailed(self, articles: Iterable[StoryArticle]) -> list[Assignment]:
        """:meth:`assign` with the article matched, its similarity and the exact duplicate, if any."""
        batch = list(articles)
        done: dict[str, Assignment] = {}
        for article in sorted(batch, key=lambda a: (_utc(a.published_at), a.article_id)):
            if article.article_id in done:
                continue
            if article.article_id in self._articles:  # already stored: keep its story (re-runs)
                known = self._articles[article.article_id]
                done[article.article_id] = Assignment(article.article_id, str(known.story_id), None, None, None)
                continue
            assignment = self._place(article)
            done[article.article_id] = assignment
            self.add(StoryArticle(article.article_id, article.signature, article.published_at, article.outlet_id,
                                  article.outlet_country, tuple(article.countries), article.text_hash,
                                  assignment.story_id))
        return [done[a.article_id] for a in batch]

    def _within(self, article: StoryArticle, other_id: str) -> bool:
        delta = _utc(article.published_at) - _utc(self._articles[other_id].published_at)
        return abs(delta) <= self.window

    def _place(self, article: StoryArticle) -> Assignment:
        def order(other_id: str) -> tuple[datetime, str]:
            return _utc(self._articles[other_id].published_at), other_id

        vector = np.asarray(article.signature, dtype=np.uint32)
        if len(vector) != NUM_PERM:
            raise ValueError(f"article {article.article_id}: signature of {len(vector)} values, expected {NUM_PERM}")
        duplicate = None
        if article.text_hash and not is_empty(vector):
            copies = [i for i in self._by_text.get(article.text_hash, ()) if self._within(article, i)]
            duplicate = min(copies, key=order) if copies else None
        if duplicate is not None:
            return Assignment(article.article_id, str(self._articles[duplicate].story_id), duplicate, 1.0, duplicate)
        best: tuple[float, datetime, str] | None = None
        if not is_empty(vector):
            query = LeanMinHash(seed=SEED, hashvalues=vector, scheme=SCHEME)
            for other_id in self._lsh.query(query):
                if not self._within(article, other_id):
                    continue
                score = float(np.count_nonzero(self._vectors[other_id] == vector)) / NUM_PERM
                if score < self.threshold:
                    continue
                # Most similar first; among equals the earliest, then the smallest id: deterministic.
                key = (-score, *order(other_id))
                if best is None or key < (-best[0], best[1], best[2]):
                    best = (score, *order(other_id))
        if best is None:
            return Assignment(article.article_id, article.article_id, None, None, None)
        score, _, other_id = best
        return Assignment(article.article_id, str(self._articles[other_id].story_id), other_id, score, None)

    def members(self, story_id: str) -> list[StoryArticle]:
        """The indexed articles of a story (those loaded and those assigned), earliest first."""
        return sorted((self._articles[i] for i in self._stories.get(story_id, ())),
                      key=lambda a: (_utc(a.published_at), a.article_id))

    def summary(self, story_id: str) -> StorySummary:
        """Summary of a story from its indexed articles. A story older than the lookback has members the
        index never loaded: for the ``stories`` table, summarise all its stored articles instead."""
        members = self.members(story_id)
        if not members:
            raise KeyError(story_id)
        return summarise(members, story_id)
