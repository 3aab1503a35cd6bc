"""Each article's folded syllables in their order, as numbers: a column written with the article,
read back for a few hundred articles at a time to find a query's syllables side by side in them
(proximity) without decoding the positions in their posting lists.

A syllable's number is the CRC-32 of its UTF-8 bytes: the same in every segment and every
process, so that Whoosh merges the column by copying it. Two syllables with one number (a chance
of one in 2**32 for any two) would be taken for each other."""

from __future__ import annotations

import zlib
from functools import lru_cache
from typing import Sequence

import numpy as np

CODE = np.dtype("<u4")  # one syllable's number in the column's bytes


@lru_cache(maxsize=1 << 16)
def code(syllable: str) -> int:
    """A syllable's number."""
    return zlib.crc32(syllable.encode("utf-8"))


def encoded(syllables: Sequence[str]) -> bytes:
    """A column value: the syllables' numbers in their order (their positions in the field)."""
    return np.fromiter(map(code, syllables), CODE, len(syllables)).tobytes()


class Sequences:
    """Some articles' column values, one after another: which of them hold syllables side by side,
    and how often each holds one."""

    def __init__(self, values: Sequence[bytes]):
        self.size = len(values)
        lengths = np.fromiter(map(len, values), np.int64, len(values)) // CODE.itemsize
        self.codes = np.frombuffer(b"".join(values), CODE)
        self.owner = np.repeat(np.arange(len(values)), lengths)  # the article each number is of
        self._where: dict[str, np.ndarray] = {}

    def _at(self, syllable: str) -> np.ndarray:
        """Where a syllable stands (a mask over ``codes``), worked out once."""
        if syllable not in self._where:
            self._where[syllable] = self.codes == code(syllable)
        return self._where[syllable]

    def counts(self, syllable: str) -> np.ndarray:
        """How many times each article holds the syllable."""
        return np.bincount(self.owner[self._at(syllable)], minlength=self.size)

    def side_by_side(self, syllables: Sequence[str]) -> np.ndarray:
        """Which articles (a mask) hold the syllables one right after another, in this order."""
        n, total = len(syllables), len(self.codes)
        found = np.zeros(self.size, bool)
        if not n or total < n:
            return found
        starts = self._at(syllables[0])[: total - n + 1].copy()
        for i, syllable in enumerate(syllables[1:], 1):
            starts &= self._at(syllable)[i : total - n + 1 + i]
        starts = np.flatnonzero(starts)
        within = self.owner[starts] == self.owner[starts + n - 1]  # not across two articles
        found[self.owner[starts[within]]] = True
        return found
