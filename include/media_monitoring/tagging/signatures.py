"""Story signatures: what two articles about one news item share, as fixed-size numbers to compare.

Agency copy is republished and rewritten: TASS puts out a wire item, Kazinform and AKIpress rewrite its
intro and keep its facts, figures and quotes. Such articles share many word sequences; two different
news items on one topic share only names and stock phrases. Near-duplicates are found the way search
engines find them:

- :func:`signature` is a MinHash (datasketch) of the article's word shingles: every run of
  :data:`SHINGLE_WORDS` consecutive words of the title and of the body, as
  :func:`media_monitoring.text.story_words` gives them (case, punctuation, Unicode forms and
  Arabic/Persian spelling variants folded). The estimated Jaccard similarity of two signatures is the
  share of their positions that agree.
- :func:`band_keys` are the signature's LSH band keys. The warehouse keeps them for every placed article
  (``story_bands``), so a run reads as candidates only the stored articles that share a band key with one
  of its own, not the whole lookback.
- :func:`text_hash` finds exact duplicates (the same body, whatever the headline).

:mod:`media_monitoring.tagging.stories` groups articles into stories with them. The constants were
chosen on the pairs in ``bench/tagging/stories.yaml``, the seed pages, the replay snapshot and the
labelled tagging set; ``bench/tagging/stories_eval.py`` reproduces the numbers and ``bench/RESULTS.md``
(section Tagging) records them. No Airflow, no database.
"""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Sequence

import numpy as np
from datasketch import MinHash

from media_monitoring.text import duplicate_key, story_words

SHINGLE_WORDS = 3  # words per shingle
NUM_PERM = 512  # MinHash permutations: 2 KiB per article (see pack_signature)
SEED = 1  # the permutations' seed: signatures are comparable only under the same one
SCHEME = "affine32"  # datasketch 2.x's default permutation scheme, named so a future default can't change it
THRESHOLD = 0.09  # estimated Jaccard similarity at which an article joins a story
# Why these (bench/tagging/stories_eval.py, numbers in bench/RESULTS.md): measured on 3-word shingles,
# rewrites of one wire item have a Jaccard similarity of 0.12 to 0.33, different stories at most 0.064
# (two Russian stories on Lavrov, the CSTO and the Tajik-Afghan border, which share long stock phrases
# such as «Организации Договора о коллективной безопасности»). Shorter shingles bring different stories
# closer, longer ones push rewrites down as fast as they separate them. The MinHash estimate errs by
# sqrt(J(1-J)/NUM_PERM): with 512 permutations and the threshold at 0.09, the hardest rewrite is missed
# with probability 1.0 % and the closest different stories are grouped with 0.9 % (256: 5.6 % and 3.9 %).
#
# LSH banding: 40 bands of one row (the first 40 values). Bands of several rows would miss rewrites this
# dissimilar (with 2 rows a J = 0.12 pair is a candidate in 256 bands with probability 0.98, in 128 with
# 0.86). With one row, the hardest rewrite measured (J = 0.124) is a candidate with probability
# 1 - 0.876**40 = 0.995 and a pair at the threshold with 1 - 0.91**40 = 0.977, while the ~80 % of pairs
# of different stories that share no shingle at all never are; the candidates that share a little are
# dropped by the estimate, one vector comparison each. Each band is a story_bands row per article and a
# key each new article looks up, and fewer bands make fewer pairs that share only stock phrases
# candidates: 64 bands (0.9998 and 0.998) write 1.6 times the rows to miss the hardest rewrite 1 time in
# 5,000 instead of 1 in 200 (the estimate alone misses it 1 in 100).
LSH_BANDS, LSH_ROWS = 40, 1
# Bump when anything changes a signature (these constants, the words, the shingles, their hashing):
# signatures of different versions can't be compared, so pipeline.assign_stories signs stored articles of
# another version again from their stored text before it compares.
SIGNATURE_VERSION = f"minhash-{SCHEME}-crc32-w{SHINGLE_WORDS}-p{NUM_PERM}-s{SEED}"
# Each shingle's UTF-8 bytes are hashed by CRC-32 (zlib): stable on every machine, a C call that returns
# the int datasketch takes, and distinct for shingles that differ in any run of up to 32 bits. The
# affine32 scheme mixes every input hash with MurmurHash3's finaliser before its permutations, so the
# permutations stay as random as with a cryptographic hash (the stories set groups the same either way).
SHINGLE_HASH = zlib.crc32
# What the warehouse's story_bands rows were made with (it changes with LSH_BANDS and LSH_ROWS as well as
# with the signature): rows of another version are made again (warehouse/stories.ensure_bands).
BAND_VERSION = f"{SIGNATURE_VERSION}-b{LSH_BANDS}r{LSH_ROWS}"

_MAX_HASH = (1 << 32) - 1  # every position of an empty sketch
_BAND_NUMBERS = np.arange(LSH_BANDS, dtype=np.int64)
# Shingles per MinHash.update_batch call: each call builds a (shingles x NUM_PERM) uint32 array, and at
# 256 (512 KiB) it stays in the CPU cache where a whole article's (~550 x 512, 1.1 MiB) would not; the
# minimum over several calls is the minimum over all, so the signature is the same.
UPDATE_CHUNK = 256
_PERMUTATIONS = MinHash(num_perm=NUM_PERM, seed=SEED, scheme=SCHEME).permutations  # built once, shared


def shingles(title: str | None, text: str | None, size: int = SHINGLE_WORDS) -> set[str]:
    """Every run of ``size`` consecutive words in the title and in the body (never across the two), words
    joined by a space; a field shorter than ``size`` words gives one shingle of all its words."""
    return {s.decode("utf-8") for s in shingle_bytes(title, text, size)}


def shingle_bytes(title: str | None, text: str | None, size: int = SHINGLE_WORDS) -> set[bytes]:
    """:func:`shingles` in UTF-8, as the signature hashes them: each field is encoded once and split at
    the spaces (a word never holds one, and no byte of a multi-byte character is a space)."""
    out: set[bytes] = set()
    for field in (title, text):
        tokens = story_words(field)
        if not tokens:
            continue
        encoded = " ".join(tokens).encode("utf-8").split(b" ")
        if len(encoded) < size:
            out.add(b" ".join(encoded))
        else:  # the runs as tuples of words, joined: (w0, w1, w2), (w1, w2, w3), ...
            out.update(map(b" ".join, zip(*(encoded[i:] for i in range(size)), strict=False)))  # shorter tails end it
    return out


def signature(title: str | None, text: str | None) -> list[int]:
    """The article's MinHash: :data:`NUM_PERM` unsigned 32-bit ints, the same on every machine and run."""
    return sketch(title, text).tolist()


def sketch(title: str | None, text: str | None) -> np.ndarray:
    """:func:`signature` as a ``uint32`` array (what :func:`pack_signature` and the story index take):
    datasketch's ``MinHash`` of the UTF-8 bytes of the :func:`shingles`, each hashed by :data:`SHINGLE_HASH`."""
    minhash = MinHash(num_perm=NUM_PERM, seed=SEED, scheme=SCHEME, hashfunc=SHINGLE_HASH, permutations=_PERMUTATIONS)
    items = list(shingle_bytes(title, text))
    for start in range(0, len(items), UPDATE_CHUNK):
        minhash.update_batch(items[start:start + UPDATE_CHUNK])
    return np.asarray(minhash.hashvalues, dtype=np.uint32)


def band_keys(sig: Sequence[int] | np.ndarray) -> list[int]:
    """The signature's LSH band keys: band ``i`` covers values ``i * LSH_ROWS`` to ``(i + 1) * LSH_ROWS``
    (as datasketch's ``MinHashLSH`` with ``params=(LSH_BANDS, LSH_ROWS)`` lays them out), and its key is
    ``i << 32 | the band's value`` (with several rows, the CRC-32 of their little-endian bytes): a signed
    64-bit int for a database column. Two articles are candidates of each other when they share a key. An
    empty signature has none: it matches nothing."""
    vector = np.asarray(sig, dtype="<u4")
    if is_empty(vector):
        return []
    bands = vector[:LSH_BANDS * LSH_ROWS].reshape(LSH_BANDS, LSH_ROWS)
    values = bands[:, 0] if LSH_ROWS == 1 else [zlib.crc32(band.tobytes()) for band in bands]
    return (_BAND_NUMBERS << 32 | np.asarray(values, dtype=np.int64)).tolist()


def text_hash(text: str | None) -> str:
    """Exact-duplicate key of an article body: 32 hex digits of SHA-256 over the text with Unicode
    normalised (NFKC), case folded and whitespace collapsed (:func:`media_monitoring.text.duplicate_key`).
    Punctuation and words count."""
    return hashlib.sha256(duplicate_key(text).encode("utf-8")).hexdigest()[:32]


def pack_signature(sig: Sequence[int] | np.ndarray) -> bytes:
    """A signature as bytes for a binary column: little-endian uint32, 4 * NUM_PERM bytes."""
    return np.asarray(sig, dtype="<u4").tobytes()


def signature_array(data: bytes | Sequence[int]) -> np.ndarray:
    """A stored signature (packed bytes, or a list from a JSON column) as a ``uint32`` array."""
    if isinstance(data, bytes | bytearray | memoryview):
        return np.frombuffer(data, dtype="<u4").astype(np.uint32)
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
