"""Recency, and Whoosh's own BM25F scorer with it: the reference the array ranking reproduces.

An article of the index's newest time scores up to RECENCY_BOOST more, halving every RECENCY_HALF_LIFE
days older (to the second); undated ones get nothing. Relative to the newest, so an archive's latest news counts."""

from __future__ import annotations

import numpy as np
from whoosh import scoring
from whoosh.searching import Searcher

from ..fields import DAY, TIME_UNIT

RECENCY_BOOST = 0.1
RECENCY_HALF_LIFE = 30


def _seconds(times: np.ndarray) -> np.ndarray:
    """YYYYMMDDhhmmss numbers as seconds since 1970-01-01 on their own clock (days_from_civil)."""
    day, clock = np.divmod(times.astype(np.int64), TIME_UNIT)
    y, m, d = day // 10000, day // 100 % 100, day % 100
    y = y - (m <= 2)
    doy = (153 * (m + np.where(m > 2, -3, 9)) + 2) // 5 + d - 1
    yoe = y % 400
    days = (y // 400) * 146097 + yoe * 365 + yoe // 4 - yoe // 100 + doy - 719468
    return days * 86400 + clock // 10000 * 3600 + clock // 100 % 100 * 60 + clock % 100


def recency_factors(times: np.ndarray, newest: int) -> np.ndarray:
    """The score multipliers of articles published at ``times`` (``day`` values, 0 if unknown)."""
    times = np.asarray(times, np.int64)
    if not newest:
        return np.ones(len(times))
    age = np.maximum(_seconds(np.array([newest]))[0] - _seconds(times), 0) / 86400
    return np.where(times > 0, 1.0 + RECENCY_BOOST * 0.5 ** (age / RECENCY_HALF_LIFE), 1.0)


class ReferenceBM25F(scoring.BM25F):
    """Whoosh's BM25F over the fields times the recency factor, as Whoosh's searcher applies it
    (one per reader: it reads the dates); the array ranking gives the same scores."""

    use_final = True

    def __init__(self, reader):
        super().__init__()
        self._reader = reader
        self._factors = None

    def final(self, searcher, docnum, score):
        if self._factors is None:
            size = self._reader.doc_count_all()
            days = self._reader.column_reader(DAY) if size else {}
            times = np.array([days[n] for n in range(size)], np.int64)
            newest = max((days[n] for n in self._reader.all_doc_ids()), default=0)
            self._factors = recency_factors(times, newest)
        return score * self._factors[docnum]


def reference_searcher(ix, reader) -> Searcher:
    """Whoosh's own searcher over ``reader``, scoring with ReferenceBM25F."""
    return Searcher(reader, weighting=ReferenceBM25F(reader), fromindex=ix)
