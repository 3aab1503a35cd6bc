"""A batch's analyzed text turned into posting lists with numpy, for the segment writer.

Whoosh's writer sorts a Python tuple per posting; here a field keeps its tokens as numbers
while documents are added, and a commit sorts them once (``invert``)."""

from __future__ import annotations

from array import array
from typing import NamedTuple, Sequence

import numpy as np

__all__ = ["FieldTokens", "Inverted"]


class Inverted(NamedTuple):
    """A field's posting lists: term ``terms[i]`` has postings ``bounds[i]`` to ``bounds[i + 1]``; posting j
    is document ``docs[j]``, holding the term ``freqs[j]`` times, at positions given as ``freqs[j]``
    deltas in ``deltas`` (each document's first from 0), or None for a field without positions."""

    terms: list[str]
    bounds: np.ndarray
    docs: np.ndarray
    freqs: np.ndarray
    deltas: np.ndarray | None


class _Numbers(dict):
    """Terms numbered 0, 1, 2… as they are first looked up: ``map(numbers.__getitem__, tokens)``
    numbers a document's tokens at a dict lookup's speed, a Python call only for a new term."""

    def __missing__(self, term: str) -> int:
        number = self[term] = len(self)
        return number


class FieldTokens:
    """One field's tokens over a batch: documents added whole, or postings copied from a segment."""

    def __init__(self, positions: bool):
        self.positions = positions
        self._numbers = _Numbers()  # term -> its number, in the order first seen
        self._tokens = array("I")  # the term number of each token of the documents, one after another
        self._docs = array("I")  # those documents, with how many tokens each has
        self._counts = array("I")
        # Copied postings, a token each (term number, document, position), in chunks.
        self._copied: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self._copied_count = 0

    def __len__(self) -> int:
        return len(self._tokens) + self._copied_count

    def add(self, docnum: int, tokens: Sequence[str]) -> None:
        """A document's tokens, in order (documents come in increasing ``docnum``)."""
        self._tokens.extend(map(self._numbers.__getitem__, tokens))
        self._docs.append(docnum)
        self._counts.append(len(tokens))

    def add_postings(
        self, terms: Sequence[str], sizes: np.ndarray, docs: np.ndarray, freqs: np.ndarray, positions: np.ndarray | None
    ) -> None:
        """Posting lists as a segment holds them, after every document added whole: term ``terms[i]``
        has the next ``sizes[i]`` postings, posting j is ``docs[j]`` with ``freqs[j]`` positions,
        one after another in ``positions`` (None: a field without them), each list in document order."""
        numbers = np.fromiter(map(self._numbers.__getitem__, terms), np.int64, len(terms))
        freqs = np.asarray(freqs, np.int64)
        token_terms = np.repeat(np.repeat(numbers, sizes), freqs)
        places = np.zeros(len(token_terms), np.uint32) if positions is None or not self.positions else positions
        # Kept as uint32 (like the tokens of documents added whole): a merge holds every token.
        self._copied.append(tuple(a.astype(np.uint32) for a in (token_terms, np.repeat(docs, freqs), np.asarray(places))))
        self._copied_count += len(token_terms)

    def invert(self) -> Inverted:
        """The posting lists of everything added, terms in UTF-8 order."""
        if not len(self):
            return Inverted([], np.zeros(1, np.int64), *(np.empty(0, np.int64),) * 2, np.empty(0, np.int64) if self.positions else None)
        terms = sorted(self._numbers)  # code point order is UTF-8 byte order
        # Per token arrays are 32-bit (a batch holds far fewer than 2^31 tokens, terms and
        # documents): a commit's peak memory is a few of them at once.
        rank = np.empty(len(self._numbers), np.int32)  # term number -> place in ``terms``
        rank[np.fromiter(map(self._numbers.__getitem__, terms), np.int64, len(terms))] = np.arange(len(terms), dtype=np.int32)
        counts = np.frombuffer(self._counts, np.uint32).astype(np.int64)
        firsts = np.cumsum(counts) - counts
        copied = [np.concatenate([np.empty(0, np.uint32), *(chunk[i] for chunk in self._copied)]) for i in range(3)]
        self._copied = []
        term = rank[np.concatenate([np.frombuffer(self._tokens, np.uint32), copied[0]])]
        doc = np.concatenate([np.repeat(np.frombuffer(self._docs, np.uint32), counts), copied[1]]).astype(np.int32)
        place = np.arange(counts.sum(), dtype=np.int32)
        place -= np.repeat(firsts.astype(np.int32), counts)
        place = np.concatenate([place, copied[2].astype(np.int32)])
        del copied, rank
        order = np.argsort(term, kind="stable")  # each term's tokens stay in document, then position, order
        term, doc, place = term[order], doc[order], place[order]
        del order
        if not self._in_order(term, doc, place):  # postings copied out of order: sort them all
            order = np.lexsort((place, doc, term))
            term, doc, place = term[order], doc[order], place[order]
            del order
        same_term = term[1:] == term[:-1]
        new_posting = np.concatenate([[True], ~same_term | (doc[1:] != doc[:-1])])
        starts = np.flatnonzero(new_posting)
        del new_posting
        freqs = np.diff(np.append(starts, len(term)))
        new_term = np.concatenate([[True], ~same_term])[starts]
        del same_term, term
        bounds = np.append(np.flatnonzero(new_term), len(starts))
        assert len(bounds) == len(terms) + 1  # every term numbered has a token
        deltas = None
        if self.positions:
            deltas = np.diff(place.astype(np.int64), prepend=0)
            deltas[starts] = place[starts]
        return Inverted(terms, bounds, doc[starts].astype(np.int64), freqs, deltas)

    def _in_order(self, term: np.ndarray, doc: np.ndarray, place: np.ndarray) -> bool:
        """Whether each term's tokens are in document order (and position order within one)."""
        same_term, later, same_doc = term[1:] == term[:-1], doc[1:] > doc[:-1], doc[1:] == doc[:-1]
        after = same_doc & (place[1:] > place[:-1]) if self.positions else same_doc
        return bool(np.all(~same_term | later | after))
