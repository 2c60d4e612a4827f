"""The loops of story grouping that run per article over thousands of characters or hundreds of thousands
of numbers, compiled.

Words and their hashes are a loop over the article's characters that Python runs a word at a time; the
MinHash of 600 shingles under 512 permutations is a 600 x 512 product (1.2 MB) that numpy reduces by a
minimum; scoring 400 candidates copies their 400 x 512 signatures out of the index before comparing them.
numba compiles each loop once per installation (``cache=True`` keeps the machine code beside this file, or
in numba's user cache where this folder is read-only) and runs it in one pass without a temporary
(``bench/RESULTS.md``, run 8). The results are exactly those of the Python and numpy expressions in the
docstrings; ``tests/unit/test_stories.py`` checks each against them.
"""

from __future__ import annotations

import numpy as np
from numba import njit

_MASK32 = np.uint64(0xFFFFFFFF)
_FNV_OFFSET = np.uint64(0xCBF29CE484222325)
_FNV_PRIME = np.uint64(0x100000001B3)
# What latin_word_ids makes of a code point below len(kinds): one of a word's letters, a separator, or a
# character it leaves to the general path (which then takes the whole text)
WORD, SEPARATOR, OTHER = 1, 2, 0


@njit(cache=True, nogil=True)
def _fnv1a_utf8(h: np.uint64, cp: int) -> np.uint64:
    """FNV-1a 64 of ``h`` continued with the UTF-8 bytes of code point ``cp``."""
    if cp < 0x80:
        return (h ^ np.uint64(cp)) * _FNV_PRIME
    if cp < 0x800:
        h = (h ^ np.uint64(0xC0 | (cp >> 6))) * _FNV_PRIME
    else:
        if cp < 0x10000:
            h = (h ^ np.uint64(0xE0 | (cp >> 12))) * _FNV_PRIME
        else:
            h = (h ^ np.uint64(0xF0 | (cp >> 18))) * _FNV_PRIME
            h = (h ^ np.uint64(0x80 | ((cp >> 12) & 0x3F))) * _FNV_PRIME
        h = (h ^ np.uint64(0x80 | ((cp >> 6) & 0x3F))) * _FNV_PRIME
    return (h ^ np.uint64(0x80 | (cp & 0x3F))) * _FNV_PRIME


@njit(cache=True, nogil=True)
def fmix64(h: np.uint64) -> np.uint64:
    """MurmurHash3's 64-bit finaliser."""
    h ^= h >> np.uint64(33)
    h *= np.uint64(0xFF51AFD7ED558CCD)
    h ^= h >> np.uint64(33)
    h *= np.uint64(0xC4CEB9FE1A85EC53)
    h ^= h >> np.uint64(33)
    return h


@njit(cache=True, nogil=True)
def word_ids(cps: np.ndarray) -> np.ndarray:
    """``[fmix64(fnv1a64(word.encode("utf-8"))) for word in text.split(" ") if word]`` for the code points
    ``cps`` of ``text`` (words already normalised, joined by spaces)."""
    return _word_ids(cps, _SPACE_SEPARATES, _AS_THEY_ARE, WORD)[0]


@njit(cache=True, nogil=True)
def latin_word_ids(cps: np.ndarray, kinds: np.ndarray, lower: np.ndarray) -> tuple[np.ndarray, bool]:
    """:func:`word_ids` of the words of text in Latin letters, taken as ``text.latin_words`` takes them:
    runs of :data:`WORD` characters (``kinds[cp]``), each in lower case (``lower[cp]``), between
    :data:`SEPARATOR` characters. (ids, True); (empty, False) as soon as a character is :data:`OTHER` or
    beyond ``kinds``: such text takes the general path."""
    return _word_ids(cps, kinds, lower, OTHER)


_SPACE_SEPARATES = np.array([WORD] * 0x20 + [SEPARATOR], dtype=np.uint8)  # word_ids' kinds: words beyond
_AS_THEY_ARE = np.zeros(0, dtype=np.uint32)  # word_ids' lower case: none, every code point stays


@njit(cache=True, nogil=True)
def _word_ids(cps: np.ndarray, kinds: np.ndarray, lower: np.ndarray, beyond: int) -> tuple[np.ndarray, bool]:
    """The hashes of the runs of :data:`WORD` characters between :data:`SEPARATOR` ones (``kinds[cp]``;
    ``beyond`` past its end), each character hashed as ``lower[cp]`` (as itself past its end); (empty,
    False) at the first :data:`OTHER` one."""
    out = np.empty(cps.shape[0] // 2 + 1, dtype=np.uint64)
    n = 0
    h = _FNV_OFFSET
    in_word = False
    for i in range(cps.shape[0]):
        cp = int(cps[i])
        kind = kinds[cp] if cp < kinds.shape[0] else beyond
        if kind == WORD:
            if not in_word:
                h = _FNV_OFFSET
                in_word = True
            h = _fnv1a_utf8(h, int(lower[cp]) if cp < lower.shape[0] else cp)
        elif kind == SEPARATOR:
            if in_word:
                out[n] = fmix64(h)
                n += 1
                in_word = False
        else:
            return out[:0], False
    if in_word:
        out[n] = fmix64(h)
        n += 1
    return out[:n], True


@njit(cache=True, nogil=True)
def min_hash(hashes: np.ndarray, a: np.ndarray, b: np.ndarray, out: np.ndarray) -> None:
    """``out = min(out, (a * fmix32(h) + b) mod 2**32 for h in hashes)``, position by position.

    ``hashes``: the shingles' ``uint32`` hashes; ``a``, ``b``: the permutations' ``uint32`` coefficients;
    ``fmix32``: MurmurHash3's 32-bit finaliser, which datasketch's ``affine32`` scheme applies to every
    input hash first. Every ``uint32`` product is taken modulo 2**32, as numpy's ``uint32`` arithmetic wraps.
    """
    k = a.shape[0]
    for i in range(hashes.shape[0]):
        h = np.uint64(hashes[i])
        h ^= h >> np.uint64(16)
        h = (h * np.uint64(0x85EBCA6B)) & _MASK32
        h ^= h >> np.uint64(13)
        h = (h * np.uint64(0xC2B2AE35)) & _MASK32
        h ^= h >> np.uint64(16)
        mixed = np.uint32(h)
        for j in range(k):
            value = np.uint32(a[j] * mixed + b[j])
            if value < out[j]:
                out[j] = value


@njit(cache=True, nogil=True)
def equal_positions(sig: np.ndarray, rows: np.ndarray, vector: np.ndarray) -> np.ndarray:
    """``np.count_nonzero(sig[rows] == vector, axis=1)``: how many positions of each of ``rows`` of the
    signature matrix ``sig`` equal ``vector``'s, without copying those rows out of it."""
    out = np.zeros(rows.shape[0], dtype=np.int64)
    k = vector.shape[0]
    for i in range(rows.shape[0]):
        row = sig[rows[i]]
        count = 0
        for j in range(k):
            count += row[j] == vector[j]
        out[i] = count
    return out


@njit(cache=True, nogil=True)
def collapsed_utf8(cps: np.ndarray, space: np.ndarray) -> np.ndarray:
    """``" ".join(text.split()).encode("utf-8")`` for the code points ``cps`` of ``text``; ``space[cp]``
    is ``chr(cp).isspace()`` for every code point below its length (none above it is a space)."""
    out = np.empty(cps.shape[0] * 4, dtype=np.uint8)
    n = 0
    pending = False  # a space to write before the next word's first character
    for i in range(cps.shape[0]):
        cp = int(cps[i])
        if cp < space.shape[0] and space[cp]:
            pending = n > 0
            continue
        if pending:
            out[n] = 0x20
            n += 1
            pending = False
        if cp < 0x80:
            out[n] = cp
            n += 1
        elif cp < 0x800:
            out[n] = 0xC0 | (cp >> 6)
            out[n + 1] = 0x80 | (cp & 0x3F)
            n += 2
        elif cp < 0x10000:
            out[n] = 0xE0 | (cp >> 12)
            out[n + 1] = 0x80 | ((cp >> 6) & 0x3F)
            out[n + 2] = 0x80 | (cp & 0x3F)
            n += 3
        else:
            out[n] = 0xF0 | (cp >> 18)
            out[n + 1] = 0x80 | ((cp >> 12) & 0x3F)
            out[n + 2] = 0x80 | ((cp >> 6) & 0x3F)
            out[n + 3] = 0x80 | (cp & 0x3F)
            n += 4
    return out[:n]


@njit(cache=True, nogil=True)
def _child(starts: np.ndarray, tokens: np.ndarray, targets: np.ndarray, node: int, token: int) -> int:
    """The child of ``node`` along ``token``, or -1 (a node's tokens are sorted: binary search)."""
    lo, hi = starts[node], starts[node + 1]
    while lo < hi:
        mid = (lo + hi) >> 1
        if tokens[mid] < token:
            lo = mid + 1
        else:
            hi = mid
    if lo < starts[node + 1] and tokens[lo] == token:
        return targets[lo]
    return -1


@njit(cache=True, nogil=True)
def trie_spans(cps: np.ndarray, root: np.ndarray, starts: np.ndarray, tokens: np.ndarray, targets: np.ndarray,
               terminal: np.ndarray, fold: np.ndarray, word: np.ndarray, space: np.ndarray,
               space_token: int) -> np.ndarray:
    """The (start, end) of each match of ``re.compile(text.whole_word_trie(names)).finditer`` in the text
    of code points ``cps``, for the trie of ``names`` in arrays (``text.WordTrie``): node ``n``'s children
    are ``targets[starts[n]:starts[n + 1]]`` along the sorted ``tokens`` there, a token being a code point
    (after ``fold``, the Arabic letter classes) or ``space_token`` for a run of whitespace; ``root[cp]``
    is the root's child along code point ``cp`` (-1: no name starts with it; none beyond the table).

    As the regex: left to right, a match starts where the character before is no word character
    (``word``: what ``\\w`` matches), follows the one path the text spells from the root (sibling tokens
    are distinct characters, and a run of ``space`` is taken whole), and ends at the deepest name on it
    that no word character follows; the scan goes on after the match.
    """
    n = cps.shape[0]
    out = np.empty((n // 2 + 1, 2), dtype=np.int64)
    found = 0
    i = 0
    while i < n:
        cp = cps[i]
        if cp >= root.shape[0] or root[cp] < 0 or (i > 0 and word[cps[i - 1]]):
            i += 1
            continue
        node = root[cp]
        j = i + 1
        best = j if terminal[node] and (j == n or not word[cps[j]]) else -1
        while j < n:
            cp = cps[j]
            if cp < space.shape[0] and space[cp]:
                node = _child(starts, tokens, targets, node, space_token)
                if node < 0:
                    break
                while j < n and cps[j] < space.shape[0] and space[cps[j]]:
                    j += 1
            else:
                node = _child(starts, tokens, targets, node, fold[cp] if cp < fold.shape[0] else cp)
                if node < 0:
                    break
                j += 1
            if terminal[node] and (j == n or not word[cps[j]]):
                best = j
        if best > 0:
            out[found, 0] = i
            out[found, 1] = best
            found += 1
            i = best
        else:
            i += 1
    return out[:found]


@njit(cache=True, nogil=True)
def keys_present(cps: np.ndarray, root: np.ndarray, starts: np.ndarray, tokens: np.ndarray, targets: np.ndarray,
                 key_of: np.ndarray, keys: int) -> np.ndarray:
    """``[key in text for key in keys]`` for the text of code points ``cps``, the keys in a trie of code
    points (``root[cp]``: the root's child along ``cp``, -1 for none; node ``n``'s children
    ``targets[starts[n]:starts[n + 1]]`` along ``tokens`` there; ``key_of[n]``: the key ending at ``n``,
    or -1): one walk from each position instead of one scan of the text per key."""
    out = np.zeros(keys, dtype=np.bool_)
    n = cps.shape[0]
    for i in range(n):
        cp = cps[i]
        node = root[cp] if cp < root.shape[0] else -1
        j = i + 1
        while node >= 0:
            if key_of[node] >= 0:
                out[key_of[node]] = True
            if j == n:
                break
            node = _child(starts, tokens, targets, node, cps[j])
            j += 1
    return out


@njit(cache=True, nogil=True)
def spaced_without(cps: np.ndarray, space: np.ndarray, drop: np.ndarray) -> tuple[np.ndarray, bool]:
    """The code points of ``" ".join(text.split())`` without the characters ``drop`` marks, for the code
    points ``cps`` of ``text`` (dropped after the spaces are collapsed: "a \\u200c b" gives "a  b").
    (code points, True); (empty, False) as soon as a code point lies beyond ``drop``."""
    out = np.empty(cps.shape[0], dtype=np.uint32)
    n = 0
    in_word = False
    seen = False
    for i in range(cps.shape[0]):
        cp = cps[i]
        if cp >= drop.shape[0]:
            return out[:0], False
        if cp < space.shape[0] and space[cp]:
            in_word = False
            continue
        if not in_word:
            if seen:
                out[n] = 0x20
                n += 1
            in_word = True
            seen = True
        if not drop[cp]:
            out[n] = cp
            n += 1
    return out[:n], True
