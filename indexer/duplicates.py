"""Near-duplicate articles: the same story from several outlets, or an edit of it.

Each article long enough gets a MinHash signature of its folded text, seen as
the set of its runs of three syllables (shingles): SIGNATURE_SIZE minima under
as many hash functions, computed where the article is analyzed. The share of
equal minima estimates the Jaccard similarity of two articles' shingles; at
MIN_SIMILARITY or more they are near duplicates. The signature is cut into BANDS
bands held in the index as terms: two near duplicates almost surely share one
(at similarity 0.7, 1 - (1 - 0.7⁴)⁸ = 95%; at 0.8, 99.8%), and a new article's
candidates are the articles sharing a band with it.

At write time each article joins the group of its first near duplicate, or
starts its own: the group key is stored with the article, and search collapses
a group to its best hit ("n similar articles").
"""

from __future__ import annotations

import functools
import hashlib
import operator
from typing import Callable, Iterable, Sequence

import numpy as np

from .fields import DUP, ID, MINHASH

__all__ = ["MIN_SIMILARITY", "MIN_SYLLABLES", "assign_groups", "bands", "fingerprint", "similarity"]

SHINGLE = 3
SIGNATURE_SIZE = 32
BANDS = 8  # of SIGNATURE_SIZE // BANDS minima each
MIN_SIMILARITY = 0.7
# Shorter texts (a headline, a photo caption) say too little to call two of them the same story.
MIN_SYLLABLES = 40

# Hash functions h -> (a·h + b) mod 2^64, top 32 bits: fixed odd multipliers, so
# every process (and every version of the index) computes the same signatures.
_rng = np.random.default_rng(20231228)
_A = _rng.integers(1, 2**63, SIGNATURE_SIZE, dtype=np.uint64) * np.uint64(2) + np.uint64(1)
_B = _rng.integers(0, 2**63, SIGNATURE_SIZE, dtype=np.uint64)


_HASH = functools.partial(hashlib.blake2b, digest_size=8)
_DIGEST = operator.methodcaller("digest")


def fingerprint(folded: str) -> bytes | None:
    """The MinHash signature of space-separated folded syllables, or None for a text too short to tell."""
    syllables = folded.split()
    if len(syllables) < MIN_SYLLABLES:
        return None
    shingles = set(map(" ".join, zip(*(syllables[i:] for i in range(SHINGLE)))))
    digests = b"".join(map(_DIGEST, map(_HASH, map(str.encode, shingles))))
    h = np.frombuffer(digests, dtype=np.uint64)
    with np.errstate(over="ignore"):
        mixed = np.outer(h, _A) + _B  # wraps around 2^64
    return (mixed >> np.uint64(32)).min(axis=0).astype(">u4").tobytes()


def _minima(signature: bytes) -> np.ndarray:
    return np.frombuffer(signature, dtype=">u4")


def bands(signature: bytes) -> list[str]:
    """The signature's bands as index terms: "<band>:<its minima in hex>"."""
    rows = len(signature) // BANDS
    return [f"{i}:{signature[i * rows : (i + 1) * rows].hex()}" for i in range(BANDS)]


def similarity(a: bytes, b: bytes) -> float:
    """The estimated Jaccard similarity of two articles' shingles: the share of equal minima."""
    return float(np.mean(_minima(a) == _minima(b)))


# (id, signature, group) of an indexed article sharing a band with the one looked up
Candidate = tuple[str, bytes, str]


def assign_groups(docs: Sequence[dict], indexed: Callable[[list[str]], Iterable[Candidate]]) -> None:
    """Set each fingerprinted document's group key (DUP), in order: the group of its first near
    duplicate among the documents before it, else among the indexed ones (``indexed`` gives those
    sharing a band), else its own id. An update never matches the version it replaces."""
    seen: dict[str, list[Candidate]] = {}  # band → this batch's documents holding it
    for doc in docs:
        signature = doc.get(MINHASH)
        if signature is None:
            continue
        keys = bands(signature)
        batch = (c for key in keys for c in seen.get(key, ()))
        group = _first_near(doc[ID], signature, batch) or _first_near(doc[ID], signature, indexed(keys))
        doc[DUP] = group or doc[ID]
        for key in keys:
            seen.setdefault(key, []).append((doc[ID], signature, doc[DUP]))


def _first_near(own_id: str, signature: bytes, candidates: Iterable[Candidate]) -> str | None:
    near = (group for i, other, group in candidates if i != own_id and similarity(signature, other) >= MIN_SIMILARITY)
    return next(near, None)
