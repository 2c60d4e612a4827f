"""The two loops of story grouping that run per article over hundreds of thousands of numbers, compiled.

Both are plain loops over ``uint32`` arrays that numpy can only express through large temporaries: the
MinHash of 600 shingles under 512 permutations is a 600 x 512 product (1.2 MB) reduced by a minimum, and
scoring 400 candidates copies their 400 x 512 signatures out of the index before comparing them. numba
compiles each loop once per installation (``cache=True`` keeps the machine code beside this file, or in
numba's user cache where this folder is read-only) and runs it without a temporary: ~8x quicker than
numpy for the permutations, ~4x for the scoring (``bench/RESULTS.md``, run 8). Their results are exactly
those of the numpy expressions in the docstrings; ``tests/unit/test_stories.py`` checks both.
"""

from __future__ import annotations

import numpy as np
from numba import njit

_MASK32 = np.uint64(0xFFFFFFFF)


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
