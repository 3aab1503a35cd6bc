"""Query evaluation on arrays: one searcher's documents, and a query of ``build_query``'s shapes evaluated
over them top to bottom (the tree, then terms and phrases, then filters). Scores and set operations are
``indexer.ranking``'s: BM25F and recency as ReferenceBM25F gives them, without a call per document."""

from __future__ import annotations

import datetime as dt

import numpy as np
from whoosh import query as Q
from whoosh.searching import Searcher

from .. import ranking
from ..fields import CATEGORY, DUP, SOURCE, TIME_UNIT, time_number
from ..text import fold
from ..ranking import Matches
from .blocks import _Postings
from .querying import Filters
from .scoring import recency_factors
from .segments import _factorized, _Segment

_PHRASE_SPAN = 1 << 32  # above any position
# Documents, best first by their other scores, that optional phrases (proximity) are looked for in.
PROXIMITY_DEPTH = 300
FACETS = (SOURCE, CATEGORY)  # counted over the matches, with the year


class _View:
    """One searcher's documents as arrays, and query evaluation over them."""

    def __init__(self, searcher: Searcher, previous: "_View | None" = None):
        self.searcher = searcher
        reader = searcher.reader()
        self.size = reader.doc_count_all()
        known = {id(seg.reader): seg for seg in previous.segments} if previous else {}
        leaves = reader.leaf_readers() if self.size else []
        self.segments = [known.get(id(r)) or _Segment(r) for r, _ in leaves]
        self.offsets = [offset for _, offset in leaves]

        def joined(values: list[np.ndarray], dtype) -> np.ndarray:
            return np.concatenate(values) if values else np.empty(0, dtype)

        self.live = joined([s.live for s in self.segments], bool)
        self.day = joined([s.day for s in self.segments], np.int64)
        newest = int(self.day[self.live].max()) if self.live.any() else 0
        self.recency = recency_factors(self.day, newest)
        self.facets: dict[str, tuple[np.ndarray, list]] = {}
        for name in FACETS:
            codes, names = _factorized(joined([s.strings[name] for s in self.segments], "S1"))
            self.facets[name] = (codes, [v.decode("utf-8") for v in names.tolist()])
        years, at = np.unique(self.day // (TIME_UNIT * 10000), return_inverse=True)
        self.facets["year"] = (at.reshape(-1).astype(np.int32), years.tolist())
        self._groups()
        self._lengths: dict[str, np.ndarray] = {}
        self._norms: dict[str, np.ndarray] = {}

    def _groups(self) -> None:
        """Number the groups of near duplicates with more than one live article, in order of
        their first live article; -1 for the rest."""
        codes, names = _factorized(np.concatenate([np.zeros(0, "S1"), *(s.strings[DUP] for s in self.segments)]))
        counted = np.flatnonzero(self.live & (codes > 0))  # b"", no group, is 0
        seen, first = np.unique(codes[counted], return_index=True)
        shared = np.bincount(codes[counted], minlength=len(names))[seen] > 1
        number = np.full(len(names), -1, np.int32)
        number[seen[shared][np.argsort(first[shared], kind="stable")]] = np.arange(int(shared.sum()), dtype=np.int32)
        self.groups = number[codes]

    def matches(self, q: Q.Query, within: np.ndarray | None = None, read: dict | None = None) -> Matches:
        """Evaluate a query of build_query's shapes (deleted documents included: the caller drops them).
        ``within``: the only documents an optional phrase is looked for in (sorted); ``read``: the
        positions read in them so far, by (field, word)."""
        if isinstance(q, Q.Term):
            return self.term(q.fieldname, q.text, q.boost)
        if isinstance(q, Q.Phrase):
            return self.phrase(q, within=within, read=read)
        if isinstance(q, Q.AndMaybe):
            required = self.matches(q.a)
            if not len(required):
                return required
            # Optional phrases (proximity) only among the best required documents: reading positions is costly.
            best = np.sort(required.docs[ranking.top(required, PROXIMITY_DEPTH)])
            return ranking.maybe(required, self.matches(q.b, within=best, read={}))
        if isinstance(q, Q.AndNot):
            positive = self.matches(q.a)
            return ranking.without(positive, self.matches(q.b).docs) if len(positive) else positive
        if isinstance(q, Q.And):
            # Phrases last, among the documents the other parts leave: reading positions is the costly part.
            parts: list[Matches | None] = [None] * len(q.subqueries)
            for i in sorted(range(len(parts)), key=lambda i: isinstance(q.subqueries[i], Q.Phrase)):
                sub = q.subqueries[i]
                if isinstance(sub, Q.Phrase):
                    found = [p for p in parts if p is not None]
                    parts[i] = self.phrase(sub, within=ranking.both(found).docs if found else None)
                else:
                    parts[i] = self.matches(sub)
                if not len(parts[i]):
                    return Matches.none()
            return ranking.both(parts)
        if isinstance(q, Q.Or):
            return ranking.either([self.matches(sub, within, read) for sub in q.subqueries], self.size, q.minmatch)
        raise TypeError(f"store.search cannot evaluate {type(q).__name__} queries")

    def term(self, field: str, text: str, boost: float = 1.0) -> Matches:
        """The documents holding a term, BM25F-scored as ReferenceBM25F scores them."""
        docs, tf = self._postings(field, text)[:2]
        if not len(docs):
            return Matches.none()
        return Matches(docs, ranking.bm25(tf, self.length_norms(field)[docs], self._idf(field, text), boost))

    def _idf(self, field: str, text: str) -> float:
        term = self.searcher.schema[field].to_bytes(text)
        return ranking.idf(sum(i.doc_frequency() for s in self.segments if (i := s.info(field, term))), self.size)

    def phrase(self, q: Q.Phrase, within: np.ndarray | None = None, read: dict | None = None) -> Matches:
        """A phrase: the documents holding its words side by side, scored as the sum of its words (as Whoosh does);
        ``within``: the only documents wanted (sorted), whose blocks alone are read."""
        # The documents holding every word first; then each word's positions in them, less its
        # place in the phrase, matched as (document, start) numbers.
        words = list(dict.fromkeys(q.words))
        if within is not None:
            read = {} if read is None else read
            for w in words:
                if (q.fieldname, w) not in read:
                    read[q.fieldname, w] = self._positions(q.fieldname, w, within)
            places = {w: read[q.fieldname, w] for w in words}
            norms = self.length_norms(q.fieldname)
            candidates = ranking.both(
                [Matches(p.docs, ranking.bm25(p.tf, norms[p.docs], self._idf(q.fieldname, w))) for w, p in places.items()]
            )
        else:
            candidates = ranking.both([self.term(q.fieldname, w) for w in words])
            places = {w: self._positions(q.fieldname, w, candidates.docs) for w in words} if len(candidates) else {}
        if not len(candidates):
            return candidates
        # Sorted, as the documents are and each one's positions; len(q.words) keeps them above 0.
        keys = []
        for i, w in enumerate(q.words):
            p = places[w]
            keys.append(np.repeat(p.docs, p.counts) * _PHRASE_SPAN + p.positions + (len(q.words) - i))
        keys.sort(key=len)
        starts = keys[0]
        for found in keys[1:]:
            starts = starts[ranking.among(found, starts)]
        found_matches = candidates.where(ranking.among(np.unique(starts // _PHRASE_SPAN), candidates.docs))
        return Matches(found_matches.docs, found_matches.scores * q.boost)

    def length_norms(self, field: str) -> np.ndarray:
        """BM25's normalisation of every document's length of ``field`` (the average is the index's)."""
        if field not in self._norms:
            avg = self.searcher.reader().field_length(field) / (self.size or 1) or 1
            self._norms[field] = ranking.length_norms(self.lengths(field), avg)
        return self._norms[field]

    def lengths(self, field: str) -> np.ndarray:
        if field not in self._lengths:
            self._lengths[field] = np.concatenate([s.lengths(field) for s in self.segments])
        return self._lengths[field]

    def _postings(self, field: str, text: str) -> _Postings:
        term = self.searcher.schema[field].to_bytes(text)
        return self._joined([seg.postings(field, term) for seg in self.segments])

    def _positions(self, field: str, text: str, docs: np.ndarray) -> _Postings:
        """A term's postings with positions in the sorted ``docs``, decoded from each segment's blocks that hold them."""
        term = self.searcher.schema[field].to_bytes(text)
        parts = []
        for seg, offset in zip(self.segments, self.offsets):
            local = docs[(docs >= offset) & (docs < offset + seg.size)] - offset
            parts.append(seg.positions(field, term, local) if len(local) else _Postings())
        return self._joined(parts)

    def _joined(self, parts: list[_Postings]) -> _Postings:
        found = [(p, offset) for p, offset in zip(parts, self.offsets) if len(p.docs)]
        if len(found) <= 1:  # most terms of a query are in few segments, if any
            return found[0][0]._replace(docs=found[0][0].docs + found[0][1]) if found else _Postings()
        docs = [p.docs + offset for p, offset in found]
        return _Postings(*(np.concatenate(column) for column in (docs, *list(zip(*(p for p, _ in found)))[1:])))

    def allowed(self, filters: Filters, but: str | None = None) -> np.ndarray | None:
        """Which documents the filters let through (None: all); ``but`` names a facet whose filter is left out."""
        mask = None
        for part in self.filter_masks(filters, but):
            mask = part if mask is None else mask & part
        return mask

    def filter_masks(self, filters: Filters, but: str | None = None) -> list[np.ndarray]:
        """One mask per active filter: a facet's values match whatever their case and diacritics."""
        masks = []
        for name, values in ((SOURCE, filters.source), (CATEGORY, filters.category)):
            if values and name != but:
                codes, names = self.facets[name]
                wanted = {fold(v) for v in values}
                chosen = [i for i, n in enumerate(names) if n and fold(n) in wanted]
                masks.append(np.isin(codes, chosen))
        if filters.group:
            hits = np.zeros(self.size, bool)
            hits[self._postings(DUP, filters.group).docs] = True
            masks.append(hits)
        if filters.since or filters.until:
            start = time_number(filters.since) if filters.since else 1  # undated articles are 0
            end = _end_number(filters.until) if filters.until else 99999999 * TIME_UNIT
            masks.append((self.day >= start) & (self.day <= end))
        return masks


def _end_number(until) -> int:
    """The last ``day`` value ``until`` lets through: a date's whole day, a date-time itself."""
    if isinstance(until, dt.datetime):
        return time_number(until)
    return time_number(until) + 235959
