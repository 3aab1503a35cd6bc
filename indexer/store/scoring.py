"""Recency, and Whoosh's own BM25F scorer with it: the reference the array ranking reproduces.

An article of the index's newest day scores up to RECENCY_BOOST more, halving every RECENCY_HALF_LIFE
days older; undated ones get nothing. Relative to the newest, so an archive's latest news counts."""

from __future__ import annotations

import functools

from whoosh import scoring
from whoosh.searching import Searcher

from ..fields import DAY, from_day_number

RECENCY_BOOST = 0.1
RECENCY_HALF_LIFE = 30


@functools.lru_cache(maxsize=4096)
def recency_factor(day: int, newest: int) -> float:
    """The score multiplier of an article published on ``day`` (YYYYMMDD, 0 if unknown)."""
    if not day or not newest:
        return 1.0
    age = max((from_day_number(newest) - from_day_number(day)).days, 0)
    return 1.0 + RECENCY_BOOST * 0.5 ** (age / RECENCY_HALF_LIFE)


class ReferenceBM25F(scoring.BM25F):
    """Whoosh's BM25F over the fields times the recency factor, as Whoosh's searcher applies it
    (one per reader: it reads the dates); the array ranking gives the same scores."""

    use_final = True

    def __init__(self, reader):
        super().__init__()
        self._reader = reader
        self._days = None
        self._newest = 0

    def final(self, searcher, docnum, score):
        if self._days is None:
            self._days = self._reader.column_reader(DAY) if self._reader.doc_count_all() else {}
            self._newest = max((self._days[n] for n in self._reader.all_doc_ids()), default=0)
        return score * recency_factor(self._days[docnum], self._newest)


def reference_searcher(ix, reader) -> Searcher:
    """Whoosh's own searcher over ``reader``, scoring with ReferenceBM25F."""
    return Searcher(reader, weighting=ReferenceBM25F(reader), fromindex=ix)
