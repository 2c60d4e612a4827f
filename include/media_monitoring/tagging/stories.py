"""Stories: the articles about one news item across outlets, grouped by near-duplicate text.

Agency copy is republished and rewritten: TASS puts out a wire item, Kazinform and AKIpress rewrite its
intro and keep its facts, figures and quotes. Such articles share many word sequences; two different
news items on one topic (the two seed articles: Lavrov on US forces in Central Asia in August and again
in October) share only names and stock phrases. A story is found the way search engines find
near-duplicate pages:

- :func:`signature` is a MinHash (datasketch's permutations) of the article's word shingles: every run
  of :data:`SHINGLE_WORDS` consecutive words of the title and of the body, after folding case,
  punctuation, Unicode forms and Arabic/Persian spelling variants. The estimated Jaccard similarity of
  two signatures is the share of their positions that agree.
- :class:`StoryIndex` holds the recent stored articles (each with its story) in an LSH index of numpy
  arrays, sized for a 3-day lookback of 900,000 articles.
  A new article asks the index for candidates, keeps those published within :data:`WINDOW` of it, in
  stories that began at most :data:`WINDOW` before it, whose estimated similarity is at least
  :data:`THRESHOLD`, and joins the story of the most similar one; with none it starts a story of its
  own, whose id is its own article id.
- :func:`text_hash` finds exact duplicates (the same body, whatever the headline): a copy joins the
  story of its original and counts once among the story's articles, though its outlet counts among
  the outlets that covered the story.

The constants were chosen on the pairs in ``bench/tagging/stories.yaml``, the seed pages, the replay
snapshot and the labelled tagging set; ``bench/tagging/stories_eval.py`` reproduces the numbers and
``bench/RESULTS.md`` (section Tagging) records them. No Airflow, no database; the loops over every
character and every permutation are compiled (:mod:`kernels`).
"""

from __future__ import annotations

import hashlib
import re
import sys
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

import numpy as np
from datasketch import MinHash

from media_monitoring.tagging import kernels
from media_monitoring.tagging.text import (
    ARABIC_BLOCK_RE,
    code_points,
    fold,
    latin_word_kinds,
    space_table,
    strip_arabic_marks,
)

SHINGLE_WORDS = 3  # words per shingle
NUM_PERM = 512  # MinHash permutations: 2 KiB per article (see pack_signature)
SEED = 1  # the permutations' seed: signatures are comparable only under the same one
SCHEME = "affine32"  # datasketch 2.x's default permutation scheme, named so a future default can't change it
THRESHOLD = 0.09  # estimated Jaccard similarity at which an article joins a story
WINDOW = timedelta(days=3)  # of published time: to the article joined, and from the story's first article
# Why these (bench/tagging/stories_eval.py, numbers in bench/RESULTS.md): measured on 3-word shingles,
# rewrites of one wire item have a Jaccard similarity of 0.12 to 0.33, different stories at most 0.064
# (two Russian stories on Lavrov, the CSTO and the Tajik-Afghan border, which share long stock phrases
# such as «Организации Договора о коллективной безопасности»). Shorter shingles bring different stories
# closer, longer ones push rewrites down as fast as they separate them. The MinHash estimate errs by
# sqrt(J(1-J)/NUM_PERM): with 512 permutations and the threshold at 0.09, the hardest rewrite is missed
# with probability 1.0 % and the closest different stories are grouped with 0.9 % (256: 5.6 % and 3.9 %).
#
# LSH banding: 64 bands of one row (the first 64 values). Bands of several rows would miss rewrites this
# dissimilar (with 2 rows a J = 0.12 pair is a candidate in 256 bands with probability 0.98, in 128 with
# 0.86). With one row, a pair at the threshold is a candidate with probability 1 - 0.91**64 = 0.998,
# while the ~80 % of pairs of different stories that share no shingle at all never are; the candidates
# that share a little are dropped by the estimate, one vector comparison each.
LSH_BANDS, LSH_ROWS = 64, 1
# Bump when anything changes a signature (these constants, the shingles, their hashing): signatures of
# different versions can't be compared, so pipeline.assign_stories signs stored articles of another
# version again from their stored text before it compares.
SIGNATURE_VERSION = f"minhash-{SCHEME}-fnvmix-w{SHINGLE_WORDS}-p{NUM_PERM}-s{SEED}"

_WORD_RE = re.compile(r"\w+")
_MAX_HASH = (1 << 32) - 1  # every position of an empty sketch
# the permutations (a, b) as contiguous uint32 arrays, built once by datasketch
_PERMUTATIONS = tuple(np.ascontiguousarray(p, dtype=np.uint32)
                      for p in MinHash(num_perm=NUM_PERM, seed=SEED, scheme=SCHEME).permutations)


@cache
def _format_characters() -> tuple[re.Pattern[str], re.Pattern[str]]:
    """Patterns for every format character (Unicode category Cf: ZWNJ, bidi marks, soft hyphen...): those
    of the Basic Multilingual Plane, and all of them. Built once per process (~0.1 s) as ranges, which
    ``re`` scans ~20x faster than ``str.translate`` looks each character up."""
    ranges: list[list[int]] = []
    for cp in range(sys.maxunicode + 1):
        if unicodedata.category(chr(cp)) == "Cf":
            if ranges and ranges[-1][1] == cp - 1:
                ranges[-1][1] = cp
            else:
                ranges.append([cp, cp])

    def pattern(spans: list[list[int]]) -> re.Pattern[str]:
        return re.compile("[" + "".join(re.escape(chr(a)) + (f"-{re.escape(chr(b))}" if b > a else "")
                                        for a, b in spans) + "]")

    return pattern([r for r in ranges if r[1] <= 0xFFFF]), pattern(ranges)


_ASTRAL_RE = re.compile("[\U00010000-\U0010ffff]")


def normalise(text: str | None) -> str:
    """Text as the signature sees it: NFKC, no format characters (ZWNJ, bidi marks), no Arabic vowel
    marks, Arabic/Persian letter variants folded (ي/ی, ك/ک, أ/ا), case folded, spaces collapsed."""
    return _normal(text, spaces=True)


def _normal(text: str | None, *, spaces: bool) -> str:
    text = text or ""
    if not text.isascii():  # most of the text we see is: nothing to normalise, drop or fold but case and spaces
        basic, every = _format_characters()
        text = basic.sub("", unicodedata.normalize("NFKC", text))
        if _ASTRAL_RE.search(text):
            text = every.sub("", text)
        if ARABIC_BLOCK_RE.search(text):
            return fold(strip_arabic_marks(text)).casefold()
    return " ".join(text.split()).casefold() if spaces else text.casefold()


def words(text: str | None) -> list[str]:
    """The words of ``text`` after :func:`normalise`; punctuation and symbols are dropped."""
    return _WORD_RE.findall(_normal(text, spaces=False))  # words are the same whatever the spacing


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
    """The article's MinHash: :data:`NUM_PERM` unsigned 32-bit ints, the same on every machine and run.

    The shingles of :func:`shingles`, each hashed by :func:`shingle_hashes`, under datasketch's
    ``affine32`` permutations of seed :data:`SEED` (its MurmurHash3 pre-mix, then ``a * h + b`` mod 2**32),
    minimum per permutation: what ``MinHash.update_batch`` computes for those hashes, in one compiled loop
    (:func:`kernels.min_hash`).
    """
    return sketch(title, text).tolist()


def sketch(title: str | None, text: str | None) -> np.ndarray:
    """:func:`signature` as a ``uint32`` array (what :func:`pack_signature` and the story index take)."""
    hashes = np.concatenate([_shingle_mix(_word_ids(title)), _shingle_mix(_word_ids(text))])
    out = np.full(NUM_PERM, _MAX_HASH, dtype=np.uint32)
    if len(hashes):
        kernels.min_hash(hashes, *_PERMUTATIONS, out)
    return out


_K = np.array([0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9, 0xD6E8FEB86659FD93],
              dtype=np.uint64)  # odd multipliers: position 1, 2 and 3 of a shingle; a shingle of fewer words
assert len(_K) == SHINGLE_WORDS + 1, "one multiplier per shingle position, and one for short fields"


def shingle_hashes(tokens: Sequence[str]) -> np.ndarray:
    """A 32-bit hash of every run of :data:`SHINGLE_WORDS` consecutive ``tokens`` (one of all of them if
    there are fewer): each word's 64-bit hash (:func:`kernels.word_ids`: FNV-1a of its UTF-8 bytes, then
    MurmurHash3's finaliser), the hashes of a run multiplied by one odd constant per position and added (a
    shorter run adds a constant of its own), the finaliser again, the top 32 bits. Stable across processes
    and machines; equal runs of words hash equal, different ones collide with probability ~2**-32."""
    return _shingle_mix(kernels.word_ids(code_points(" ".join(tokens))))


def _shingle_mix(ids: np.ndarray) -> np.ndarray:
    """:func:`shingle_hashes` of the words whose hashes are ``ids``."""
    if not len(ids):
        return np.empty(0, dtype=np.uint32)
    if len(ids) < SHINGLE_WORDS:
        mixed = (ids * _K[:len(ids)]).sum(keepdims=True) + _K[SHINGLE_WORDS]  # array arithmetic wraps silently
    else:
        n = len(ids) - SHINGLE_WORDS + 1
        mixed = ids[:n] * _K[0]
        for position in range(1, SHINGLE_WORDS):
            mixed += ids[position:position + n] * _K[position]
    return (_fmix64(mixed) >> np.uint64(32)).astype(np.uint32)


_LATIN_TABLES = latin_word_kinds(kernels.WORD, kernels.SEPARATOR, kernels.OTHER)


def _word_ids(text: str | None) -> np.ndarray:
    """The 64-bit hash of each of the :func:`words` of ``text``, in order. Text in Latin-1 letters (with
    any punctuation: most of what we see) has its words taken and hashed in one compiled pass over its
    characters, as :func:`text.latin_words` takes them (the same words); other text through :func:`words`."""
    if not text:
        return np.empty(0, dtype=np.uint64)
    ids, latin = kernels.latin_word_ids(code_points(text), *_LATIN_TABLES)
    return ids if latin else kernels.word_ids(code_points(" ".join(words(text))))


def _fmix64(h: np.ndarray) -> np.ndarray:
    h = h ^ (h >> np.uint64(33))
    h *= np.uint64(0xFF51AFD7ED558CCD)
    h ^= h >> np.uint64(33)
    h *= np.uint64(0xC4CEB9FE1A85EC53)
    h ^= h >> np.uint64(33)
    return h


def text_hash(text: str | None) -> str:
    """Exact-duplicate key of an article body: 32 hex digits of SHA-256 over the text with Unicode
    normalised (NFKC), case folded and whitespace collapsed. Punctuation and words count."""
    folded = code_points(unicodedata.normalize("NFKC", text or "").casefold())
    return hashlib.sha256(kernels.collapsed_utf8(folded, space_table())).hexdigest()[:32]  # spaces collapsed


def pack_signature(sig: Sequence[int]) -> bytes:
    """A signature as bytes for a binary column: little-endian uint32, 4 * NUM_PERM bytes."""
    return np.asarray(sig, dtype="<u4").tobytes()


def signature_array(data: bytes | Sequence[int]) -> np.ndarray:
    """A stored signature as a ``uint32`` array (a view of packed bytes: no copy, no Python ints)."""
    if isinstance(data, bytes | bytearray | memoryview):
        return np.frombuffer(data, dtype="<u4").astype(np.uint32, copy=False)
    return np.asarray(data, dtype=np.uint32)


def is_empty(sig: Sequence[int] | np.ndarray) -> bool:
    """True for the signature of an article without a single word: it is similar to nothing."""
    return bool(np.all(np.asarray(sig) == _MAX_HASH))


def similarity(a: Sequence[int], b: Sequence[int]) -> float:
    """Estimated Jaccard similarity of the shingle sets behind two signatures (0.0 if either is empty)."""
    x, y = np.asarray(a, dtype=np.uint32), np.asarray(b, dtype=np.uint32)
    if len(x) != len(y):
        raise ValueError(f"signatures of different lengths ({len(x)}, {len(y)}): different SIGNATURE_VERSION")
    if is_empty(x) or is_empty(y):
        return 0.0
    return float(np.count_nonzero(x == y)) / len(x)


def _utc(moment: datetime) -> datetime:
    """Aware datetimes in UTC; naive ones are taken as UTC already (as the warehouse stores them)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


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
    countries: tuple[str, ...]  # countries its articles are tagged with, most articles first, then by code

    @property
    def coverage(self) -> str:
        """"covered by 3 outlets in 2 countries" (outlet countries; "in ..." left out if none is known)."""
        return coverage_text(len(self.outlets), len(self.outlet_countries))

    def to_row(self) -> dict[str, Any]:
        """The ``stories`` row of this story."""
        return {"story_id": self.story_id, "first_seen": self.first_seen, "last_seen": self.last_seen,
                "article_count": self.article_count, "copies": self.copies, "outlets": list(self.outlets),
                "outlet_countries": list(self.outlet_countries), "countries": list(self.countries)}


def coverage_text(outlets: int, countries: int) -> str:
    """"covered by 3 outlets in 2 countries"; the countries part is left out when none is known."""
    text = f"covered by {outlets} outlet{'s' if outlets != 1 else ''}"
    return text + (f" in {countries} countr{'ies' if countries != 1 else 'y'}" if countries else "")


def summarise(articles: Iterable[StoryArticle], story_id: str | None = None) -> StorySummary:
    """Summary of one story from its articles (every article given counts as a member)."""
    members = sorted(articles, key=lambda a: (_utc(a.published_at), a.article_id))
    if not members:
        raise ValueError("a story has at least one article")
    story_id = story_id or members[0].story_id or members[0].article_id
    texts = {a.text_hash or a.article_id for a in members}
    named = Counter(code for a in members for code in dict.fromkeys(a.countries))
    return StorySummary(
        story_id=story_id,
        first_seen=_utc(members[0].published_at),
        last_seen=_utc(members[-1].published_at),
        article_count=len(texts),
        copies=len(members),
        outlets=tuple(sorted({a.outlet_id for a in members})),
        outlet_countries=tuple(sorted({a.outlet_country for a in members if a.outlet_country})),
        countries=tuple(code for code, _ in sorted(named.items(), key=lambda kv: (-kv[1], kv[0]))),
    )


def lookback(published: Iterable[datetime], window: timedelta = WINDOW) -> datetime | None:
    """Load the stored articles published since this time (with their stories) into :class:`StoryIndex`
    before assigning articles published at ``published``. None when there is nothing new."""
    times = [_utc(p) for p in published]
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

    Sized for the 3-day lookback of a busy deployment (900,000 articles at 300,000 a day): signatures
    are rows of one ``uint32`` matrix; the LSH bands are one sorted ``uint64`` array of
    ``band | value | row`` keys, searched for all bands of a query at once; candidates are scored against
    the matrix in one comparison. About 3 KiB per indexed article (``bench/story_index_scale.py``).
    """

    resort_after = 10_000  # articles added since the bands were sorted before they are sorted again

    def __init__(self, articles: Iterable[StoryArticle] = (), *, threshold: float = THRESHOLD,
                 window: timedelta = WINDOW) -> None:
        self.threshold = threshold
        self.window = window
        self._window_us = _micros(window)
        # the fewest equal positions whose share reaches the threshold
        self._need = next(k for k in range(NUM_PERM + 1) if k / NUM_PERM >= threshold or k == NUM_PERM)
        self._sig = np.empty((1024, NUM_PERM), dtype=np.uint32)  # row i: the signature of article i
        self._when = np.empty(1024, dtype=np.int64)  # row i: published, µs since the epoch (UTC)
        self._story = np.empty(1024, dtype=np.int32)  # row i: its story's number
        self._first = np.empty(1024, dtype=np.int64)  # story number: first seen, µs
        self._ids: list[str] = []
        self._row: dict[str, int] = {}
        self._meta: list[tuple[Any, ...]] = []  # row i: outlet, outlet country, countries, text hash, first seen
        self._story_ids: list[str] = []
        self._story_no: dict[str, int] = {}
        self._by_text: dict[str, int | list[int]] = {}
        self._shared: dict[Any, Any] = {}  # one object per distinct outlet id, country, tuple of countries
        # The bands of rows indexed before the first query, sorted (built then: loading stays cheap);
        # rows added later are in _recent until there are enough of them to sort everything again.
        self._keys: np.ndarray | None = None
        # band key -> its row, or a list of rows once a second row has the same band value (most have one)
        self._recent: dict[int, int | list[int]] = {}
        self._recent_rows = 0
        for article in articles:
            self.add(article)

    def __len__(self) -> int:
        return len(self._ids)

    def __contains__(self, article_id: object) -> bool:
        return article_id in self._row

    def add(self, article: StoryArticle) -> None:
        """Index a stored article with its story (indexing one article id twice is an error)."""
        if article.story_id is None:
            raise ValueError(f"article {article.article_id} has no story_id: use assign() for new articles")
        if article.article_id in self._row:
            raise ValueError(f"article {article.article_id} is already indexed")
        vector = self._vector(article)
        row = len(self._ids)
        if row == _MAX_ROWS:
            raise ValueError(f"a story index holds at most {_MAX_ROWS:,} articles: shorten the lookback")
        if row == len(self._when):
            self._sig, self._when, self._story = (_grown(a) for a in (self._sig, self._when, self._story))
        when = _micros(article.published_at)
        story = self._story_no.get(article.story_id)
        if story is None:
            story = self._story_no[article.story_id] = len(self._story_ids)
            self._story_ids.append(article.story_id)
            if story == len(self._first):
                self._first = _grown(self._first)
            self._first[story] = when
        self._first[story] = min(int(self._first[story]), when,
                                 *([_micros(article.story_first_seen)] if article.story_first_seen else []))
        self._sig[row] = vector
        self._when[row] = when
        self._story[row] = story
        self._ids.append(article.article_id)
        self._row[article.article_id] = row
        self._meta.append((self._one(article.outlet_id), self._one(article.outlet_country),
                           self._one(tuple(article.countries)), article.text_hash, article.story_first_seen))
        if article.text_hash:
            rows = self._by_text.setdefault(article.text_hash, row)
            if rows != row:
                self._by_text[article.text_hash] = (rows if isinstance(rows, list) else [rows]) + [row]
        if self._keys is not None and not is_empty(vector):
            recent = self._recent
            for key in _band_keys(vector).tolist():
                rows = recent.setdefault(key, row)
                if rows != row:
                    if isinstance(rows, list):
                        rows.append(row)
                    else:
                        recent[key] = [rows, row]
            self._recent_rows += 1

    def assign(self, articles: Iterable[StoryArticle]) -> list[tuple[str, str]]:
        """(article_id, story_id) of each new article, in the order given."""
        return [(a.article_id, a.story_id) for a in self.assign_detailed(articles)]

    def assign_detailed(self, articles: Iterable[StoryArticle]) -> list[Assignment]:
        """:meth:`assign` with the article each one joined through, the similarity and exact duplicates.
        An article already in the index (a re-run) keeps its story."""
        batch = list(articles)
        done: dict[str, Assignment] = {}
        for article in sorted(batch, key=lambda a: (_utc(a.published_at), a.article_id)):
            if article.article_id in done:
                continue
            if article.article_id in self._row:
                story = self._story_ids[self._story[self._row[article.article_id]]]
                done[article.article_id] = Assignment(article.article_id, story, None, None, None)
                continue
            assignment = self._place(article)
            done[article.article_id] = assignment
            self.add(StoryArticle(article.article_id, article.signature, article.published_at, article.outlet_id,
                                  article.outlet_country, tuple(article.countries), article.text_hash,
                                  assignment.story_id))
        return [done[a.article_id] for a in batch]

    def members(self, story_id: str) -> list[StoryArticle]:
        """The indexed articles of a story (loaded and assigned), earliest first."""
        story = self._story_no.get(story_id)
        rows = [] if story is None else np.flatnonzero(self._story[:len(self)] == story).tolist()
        return sorted((self._article(row) for row in rows), key=lambda a: (_utc(a.published_at), a.article_id))

    def summary(self, story_id: str) -> StorySummary:
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

    def _one(self, value: Any) -> Any:
        """One shared object per distinct value: 900,000 rows name a few hundred outlets."""
        return self._shared.setdefault(value, value)

    def _article(self, row: int) -> StoryArticle:
        outlet, country, countries, text, story_first_seen = self._meta[row]
        return StoryArticle(self._ids[row], self._sig[row].tolist(), _from_micros(int(self._when[row])), outlet,
                            country, countries, text, self._story_ids[self._story[row]], story_first_seen)

    def _sort_bands(self) -> None:
        """Sort the band keys of every indexed article (~2 s per 1,000,000 articles, 512 bytes each)."""
        n = len(self)
        rows = np.flatnonzero(~np.all(self._sig[:n] == _MAX_HASH, axis=1)).astype(np.uint64)  # not empty
        keys = self._sig[rows, :LSH_BANDS].astype(np.uint64)
        keys <<= np.uint64(_ROW_BITS)
        keys |= _BAND_KEYS
        keys |= rows[:, None]
        keys = keys.ravel()
        keys.sort()
        self._keys, self._recent, self._recent_rows = keys, {}, 0

    def _candidates(self, vector: np.ndarray) -> np.ndarray:
        """Rows sharing at least one band value with ``vector``, each once, in order."""
        if self._keys is None or self._recent_rows > max(self.resort_after, len(self) // 4):
            self._sort_bands()
        assert self._keys is not None
        keys = _band_keys(vector)
        lo = np.searchsorted(self._keys, keys, side="left")
        hi = np.searchsorted(self._keys, keys | np.uint64(_ROW_MASK), side="right")
        counts = hi - lo
        total = int(counts.sum())
        # the rows of every key from lo to hi of each band, gathered through one index array
        found = np.empty(0, dtype=np.uint64)
        if total:
            at = np.repeat(lo - np.cumsum(counts) + counts, counts) + np.arange(total)
            found = self._keys[at] & np.uint64(_ROW_MASK)
        recent: list[int] = []
        if self._recent:
            get = self._recent.get
            for key in keys.tolist():
                rows = get(key)
                if rows is not None:
                    if isinstance(rows, list):
                        recent.extend(rows)
                    else:
                        recent.append(rows)
        matches = total + len(recent)
        if matches <= _FEW_CANDIDATES:  # the usual case: a set is quicker than numpy's unique
            return np.array(sorted({*found.tolist(), *recent}), dtype=np.intp)
        if len(self) <= _MASK_ROWS_PER_MATCH * matches:  # most rows match (a young index): mark them
            mask = np.zeros(len(self), dtype=bool)
            mask[found.astype(np.intp)] = True
            mask[recent] = True
            return np.flatnonzero(mask)
        return np.unique(np.concatenate([found, np.array(recent, dtype=np.uint64)])).astype(np.intp)

    def _open(self, when: int, rows: np.ndarray) -> np.ndarray:
        """Which of ``rows`` may an article published at ``when`` (µs) join? Both within the window, and
        their story's start too."""
        return ((np.abs(self._when[rows] - when) <= self._window_us)
                & (when - self._first[self._story[rows]] <= self._window_us))

    def _best(self, rows: np.ndarray, scores: np.ndarray) -> int:
        """The row with the highest score, then the earliest, then the smallest article id."""
        return min(zip(scores.tolist(), rows.tolist(), strict=True),
                   key=lambda sr: (-sr[0], int(self._when[sr[1]]), self._ids[sr[1]]))[1]

    def _place(self, article: StoryArticle) -> Assignment:
        vector = self._vector(article)
        if is_empty(vector):  # no words: nothing to compare, not even a text to duplicate
            return Assignment(article.article_id, article.article_id, None, None, None)
        when = _micros(article.published_at)
        copies = self._by_text.get(article.text_hash) if article.text_hash else None
        if copies is not None:
            rows = np.asarray(copies if isinstance(copies, list) else [copies], dtype=np.intp)
            rows = rows[self._open(when, rows)]
            if len(rows):
                original = self._best(rows, np.zeros(len(rows)))
                return Assignment(article.article_id, self._story_ids[self._story[original]], self._ids[original],
                                  1.0, self._ids[original])
        rows = self._candidates(vector)
        equal = kernels.equal_positions(self._sig, rows, vector)
        keep = equal >= self._need
        rows, equal = rows[keep], equal[keep]
        keep = self._open(when, rows)
        rows, equal = rows[keep], equal[keep]
        if not len(rows):
            return Assignment(article.article_id, article.article_id, None, None, None)
        other = self._best(rows, equal)
        return Assignment(article.article_id, self._story_ids[self._story[other]], self._ids[other],
                          int(equal[rows == other][0]) / NUM_PERM, None)


# A band key is (band, value, row) in one uint64: 6 bits of band, 32 of value, 26 of row. One sorted array
# of them finds every row with a value in a band by binary search, without a hash table per band.
_ROW_BITS = 26
_ROW_MASK = (1 << _ROW_BITS) - 1
_FEW_CANDIDATES = 512  # up to this many band matches, candidates are deduplicated in a set
_MASK_ROWS_PER_MATCH = 16  # up to this many rows per band match, a mask over the rows beats sorting them
_MAX_ROWS = 1 << _ROW_BITS  # 67 million articles in one index
assert LSH_ROWS == 1 and LSH_BANDS <= 64, "band keys hold one value of each of at most 64 bands"
_BAND_KEYS = np.arange(LSH_BANDS, dtype=np.uint64) << np.uint64(32 + _ROW_BITS)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _band_keys(vector: np.ndarray) -> np.ndarray:
    """The band keys of a signature with row 0: a query's lower bounds."""
    return _BAND_KEYS | (vector[:LSH_BANDS].astype(np.uint64) << np.uint64(_ROW_BITS))


def _grown(array: np.ndarray) -> np.ndarray:
    """``array`` copied into one twice as long (rows beyond the old length uninitialised)."""
    out = np.empty((2 * len(array), *array.shape[1:]), dtype=array.dtype)
    out[:len(array)] = array
    return out


def _micros(moment: datetime | timedelta) -> int:
    """Microseconds of a duration, or since the epoch of a moment (naive ones are UTC)."""
    if isinstance(moment, timedelta):
        return moment // timedelta(microseconds=1)
    return (_utc(moment) - _EPOCH) // timedelta(microseconds=1)


def _from_micros(value: int) -> datetime:
    return _EPOCH + timedelta(microseconds=value)
