"""Scoring and ranking matched articles with numpy, whole posting lists at a time.

Whoosh's matchers score one document per Python call; here BM25F, AND / OR / AND-NOT, collapsing,
facet counts and the page work on whole arrays (``indexer.store.matching`` calls them)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

__all__ = ["Matches", "among", "bm25", "idf", "both", "either", "maybe", "without", "collapse", "ranked", "top", "counts"]

B, K1 = 0.75, 1.2  # Whoosh's BM25F defaults, which the index was tuned with


@dataclass(frozen=True)
class Matches:
    """Matching documents (sorted, unique) and their scores."""

    docs: np.ndarray  # int64
    scores: np.ndarray  # float64

    @classmethod
    def none(cls) -> "Matches":
        return cls(np.empty(0, np.int64), np.empty(0, np.float64))

    def __len__(self) -> int:
        return len(self.docs)

    def where(self, keep: np.ndarray) -> "Matches":
        return Matches(self.docs[keep], self.scores[keep])


def bm25(tf: np.ndarray, norms: np.ndarray, idf: float, boost: float = 1.0) -> np.ndarray:
    """Whoosh's BM25F score of one term in one field, for each posting (``norms``: the
    ``length_norms`` of the postings' documents)."""
    return idf * ((tf * (K1 + 1)) / (tf + norms)) * boost


def length_norms(lengths: np.ndarray, avg_length: float) -> np.ndarray:
    """BM25's normalisation of each document's field length (worked out once per field: each
    value is the same, bit for bit, however many documents are worked out together)."""
    return K1 * ((1 - B) + B * lengths / avg_length)


def idf(doc_frequency: int, doc_count: int) -> float:
    """Whoosh's inverse document frequency."""
    return float(np.log(doc_count / (doc_frequency + 1)) + 1)


# Sets this dense (at least 1/DENSE of the numbers up to their largest) are intersected
# through arrays of that size, not by a binary search per value, which costs more for them.
DENSE = 16


def both(parts: Sequence[Matches]) -> Matches:
    """Documents in every part, scores summed in the caller's order (AND)."""
    if not parts or not all(len(p) for p in parts):
        return Matches.none()
    bound = max(int(p.docs[-1]) for p in parts) + 1
    if min(len(p) for p in parts) * DENSE >= bound:
        total, seen = np.zeros(bound), np.zeros(bound, np.int32)
        for p in parts:
            total[p.docs] += p.scores
            seen[p.docs] += 1
        docs = np.flatnonzero(seen == len(parts))
        return Matches(docs, total[docs])
    shortest_first = sorted(parts, key=len)
    docs = shortest_first[0].docs
    for p in shortest_first[1:]:  # a binary search of each longer part (no merge sort of both)
        docs = docs[among(p.docs, docs)]
        if not len(docs):
            return Matches.none()
    scores = np.zeros(len(docs))
    for p in parts:  # summed in the caller's order, whatever the parts' sizes
        scores += p.scores[np.searchsorted(p.docs, docs)]
    return Matches(docs, scores)


def either(parts: Sequence[Matches], size: int, least: int = 1) -> Matches:
    """Documents in any part (in ``least`` of them at least), the scores of the parts they are in
    summed (OR); ``size`` bounds the docnums."""
    parts = [p for p in parts if len(p)]
    if len(parts) < least:
        return Matches.none()
    if len(parts) <= 1:
        return parts[0] if parts else Matches.none()
    total = np.zeros(size)
    hit = np.zeros(size, np.int32)
    for p in parts:
        total[p.docs] += p.scores
        hit[p.docs] += 1
    docs = np.flatnonzero(hit >= max(least, 1))
    return Matches(docs, total[docs])


def _lookup(sorted_values: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where each of ``values`` is in ``sorted_values`` (non-empty), and whether it is there at all."""
    at = np.minimum(np.searchsorted(sorted_values, values), len(sorted_values) - 1)
    return at, sorted_values[at] == values


def among(sorted_values: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Which of ``values`` are in ``sorted_values`` (non-negative integers, as docnums are)."""
    if not len(sorted_values):
        return np.zeros(len(values), bool)
    bound = int(sorted_values[-1]) + 1
    if bound > DENSE * len(values):
        return _lookup(sorted_values, values)[1]
    # Values as many as the numbers up to the largest: one look-up each in a mask of them.
    held = np.zeros(bound + 1, bool)  # the last one for every value above
    held[sorted_values] = True
    return held[np.minimum(values, bound)]


def maybe(required: Matches, optional: Matches) -> Matches:
    """The required documents; those also in ``optional`` add its score (AND MAYBE)."""
    if not len(required) or not len(optional):
        return required
    at, found = _lookup(optional.docs, required.docs)
    return Matches(required.docs, required.scores + np.where(found, optional.scores[at], 0.0))


def without(matches: Matches, excluded: np.ndarray) -> Matches:
    """The documents not in ``excluded`` (AND NOT)."""
    return matches.where(~np.isin(matches.docs, excluded, assume_unique=True))


def collapse(matches: Matches, groups: np.ndarray, keys: Sequence[np.ndarray] = ()) -> tuple[Matches, dict[int, int]]:
    """Keep the best document of each group (as ``ranked`` orders them): the kept matches and, per
    group, how many were dropped. ``groups``: each document's group, -1 for one alone; ``keys``
    are per document too."""
    g = groups[matches.docs]
    grouped = np.flatnonzero(g >= 0)
    if not len(grouped):
        return matches, {}
    order = grouped[ranked(matches.where(grouped), keys)]
    _, first = np.unique(g[order], return_index=True)
    keep = np.ones(len(matches), bool)
    keep[grouped] = False
    keep[order[first]] = True
    dropped, counted = np.unique(g[~keep], return_counts=True)
    return matches.where(keep), dict(zip(dropped.tolist(), counted.tolist()))


def ranked(matches: Matches, keys: Sequence[np.ndarray] = ()) -> np.ndarray:
    """Positions in ``matches`` best first: by each of ``keys`` (per-document values, indexed by
    docnum; higher first), then score, then document."""
    return np.lexsort((matches.docs, -matches.scores) + tuple(-k[matches.docs] for k in reversed(keys)))


def top(matches: Matches, n: int, keys: Sequence[np.ndarray] = ()) -> np.ndarray:
    """Positions of the ``n`` best matches, best first (as ``ranked``, without sorting them all)."""
    if keys or len(matches) <= n:
        return ranked(matches, keys)[:n]
    threshold = np.partition(matches.scores, len(matches) - n)[len(matches) - n]
    candidates = np.flatnonzero(matches.scores >= threshold)  # ties at the threshold included
    return candidates[ranked(matches.where(candidates))][:n]


def counts(codes: np.ndarray, names: Sequence) -> dict:
    """Name → how many of ``codes`` have it (codes index ``names``)."""
    found = np.bincount(codes, minlength=len(names))
    return {names[i]: int(found[i]) for i in np.flatnonzero(found)}
