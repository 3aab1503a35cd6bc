"""Query evaluation on arrays: one searcher's documents, and a query of ``build_query``'s shapes evaluated
over them top to bottom (the tree, then terms and phrases, then filters). Scores and set operations are
``indexer.ranking``'s: BM25F and recency as ReferenceBM25F gives them, without a call per document."""

from __future__ import annotations

import datetime as dt

import numpy as np
from whoosh import query as Q
from whoosh.searching import Searcher

from .. import ranking
from ..fields import CATEGORY, DUP, SOURCE, TEXT_F, TEXT_SEQ, TIME_UNIT, time_number
from ..text import fold
from ..ranking import Matches
from .blocks import DecodedBlocks, _Postings
from .querying import Filters
from .scoring import recency_factors
from .segments import _factorized, _Segment
from .sequences import Sequences
from .whoosh_internals import _FIELD_LENGTHS

_PHRASE_SPAN = 1 << 32  # above any position
_SEQUENCES = (TEXT_SEQ, "")  # where a proximity read keeps its documents' syllable numbers
# Documents, best first by their other scores, that optional phrases (proximity) are looked for in.
PROXIMITY_DEPTH = 300
# Bytes of blocks decoded with their positions (quoted phrases) that a searcher's arrays keep
# across queries: the common syllables' blocks recur from query to query.
POSITION_BLOCKS = 32 << 20
# A bound computed from a block's largest weight and shortest length may round a hair below a
# score computed from the posting itself: bounds are raised by this much.
_BOUND_MARGIN = 1 + 1e-9
SEED_DOCS = 4096  # documents of the best-bounded blocks scored first, for a threshold
# A term in at most this share of the documents is read whole for top(): its exact scores bound
# the documents that hold it (a title syllable's short list, not its blocks' loose maxima).
EXACT_SHARE = 1 / 32
# A term is read only from the blocks holding the documents an AND has left when they are fewer
# than 1/SPARSE_WITHIN of its postings (a block holds up to 1,024).
SPARSE_WITHIN = 64
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
        self._ranges: tuple[np.ndarray, np.ndarray] | None = None  # postings read only in these (top())
        self._readers: dict = {}  # top()'s blocks decoded so far: segment, field, term → BlockReader
        self._decoded = DecodedBlocks(POSITION_BLOCKS)  # positions' blocks, of the segments above

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

    def matches(
        self, q: Q.Query, within: np.ndarray | None = None, near: np.ndarray | None = None, read: dict | None = None
    ) -> Matches:
        """Evaluate a query of build_query's shapes (deleted documents included: the caller drops them).
        With ``within`` (sorted docnums), only the matches among them count: others may be left out,
        and the postings of a long list are read only from the blocks that hold some of them.
        ``near``: the only documents an optional phrase (proximity) is looked for in; ``read``: the
        positions read in them so far, by (field, word)."""
        if isinstance(q, Q.Term):
            return self.term(q.fieldname, q.text, q.boost, within)
        if isinstance(q, Q.Phrase):
            return self.phrase(q, within if near is None else near, read)
        if isinstance(q, Q.AndMaybe):
            required = self.matches(q.a, within)
            if not len(required):
                return required
            # Optional phrases (proximity) only among the best required documents: reading their syllables is costly.
            best = np.sort(required.docs[ranking.top(required, PROXIMITY_DEPTH)])
            return ranking.maybe(required, self.matches(q.b, required.docs, near=best, read={}))
        if isinstance(q, Q.AndNot):
            positive = self.matches(q.a, within)
            return ranking.without(positive, self.matches(q.b, positive.docs).docs) if len(positive) else positive
        if isinstance(q, Q.And):
            # The rarest terms first, each next part read among the documents the ones before leave;
            # phrases last: reading positions is the costly part.
            parts: list[Matches | None] = [None] * len(q.subqueries)
            for i in sorted(range(len(parts)), key=lambda i: self._cost(q.subqueries[i])):
                found = [p for p in parts if p is not None]
                among = ranking.both(found).docs if found else within
                parts[i] = self.matches(q.subqueries[i], among)
                if not len(parts[i]):
                    return Matches.none()
            return ranking.both(parts)
        if isinstance(q, Q.Or):
            return ranking.either([self.matches(sub, within, near, read) for sub in q.subqueries], self.size, q.minmatch)
        raise TypeError(f"store.search cannot evaluate {type(q).__name__} queries")

    def _cost(self, q: Q.Query) -> tuple[bool, int]:
        """The order of an AND's parts: terms by how many documents hold them, other parts after in
        their order, phrases last."""
        if isinstance(q, Q.Term):
            return False, self._frequency(q.fieldname, q.text)
        return isinstance(q, Q.Phrase), self.size + 1

    def _frequency(self, field: str, text: str) -> int:
        term = self.searcher.schema[field].to_bytes(text)
        return sum(i.doc_frequency() for s in self.segments if (i := s.info(field, term)))

    def term(self, field: str, text: str, boost: float = 1.0, within: np.ndarray | None = None) -> Matches:
        """The documents holding a term, BM25F-scored as ReferenceBM25F scores them; with ``within``,
        as ``matches``."""
        frequency = self._frequency(field, text)
        if within is not None and len(within) * SPARSE_WITHIN >= frequency:
            within = None  # most blocks hold one of them: reading them all costs less
        docs, tf = self._postings(field, text, within)[:2]
        if not len(docs):
            return Matches.none()
        return Matches(docs, ranking.bm25(tf, self.length_norms(field)[docs], ranking.idf(frequency, self.size), boost))

    def phrase(self, q: Q.Phrase, within: np.ndarray | None = None, read: dict | None = None) -> Matches:
        """A phrase: the documents holding its words side by side, scored as the sum of its words (as Whoosh does);
        ``within``: the only documents wanted (sorted); with ``read`` (proximity), their syllable numbers
        are read once (``_sequences``) and kept there, or where a segment has none, each word's positions."""
        # The documents holding every word first; then each word's positions in them, less its
        # place in the phrase, matched as (document, start) numbers.
        words = list(dict.fromkeys(q.words))
        if within is not None and read is not None:
            sequences = self._sequences(within, read) if q.fieldname == TEXT_F else None
            if sequences is not None:
                return self._side_by_side(q, within, sequences)
            for w in words:
                if (q.fieldname, w) not in read:
                    read[q.fieldname, w] = self._positions(q.fieldname, w, within)
            places = {w: read[q.fieldname, w] for w in words}
            norms = self.length_norms(q.fieldname)
            candidates = ranking.both(
                [Matches(p.docs, ranking.bm25(p.tf, norms[p.docs], ranking.idf(self._frequency(q.fieldname, w), self.size)))
                 for w, p in places.items()]
            )
        else:
            candidates = ranking.both([self.term(q.fieldname, w, within=within) for w in words])
            if within is not None:
                candidates = candidates.where(ranking.among(within, candidates.docs))
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

    def _sequences(self, docs: np.ndarray, read: dict) -> Sequences | None:
        """The folded text's syllable numbers of the sorted ``docs``, read once into ``read``;
        None when a segment holding some of them has none."""
        if _SEQUENCES not in read:
            cuts = np.searchsorted(docs, self.offsets + [self.size]).tolist()  # each segment's part of ``docs``
            values: list[bytes] | None = []
            for seg, offset, lo, hi in zip(self.segments, self.offsets, cuts, cuts[1:]):
                found = seg.sequences(docs[lo:hi] - offset) if hi > lo else []
                if found is None:
                    values = None
                    break
                values += found
            read[_SEQUENCES] = None if values is None else Sequences(values)
        return read[_SEQUENCES]

    def _side_by_side(self, q: Q.Phrase, docs: np.ndarray, sequences: Sequences) -> Matches:
        """``phrase`` among the sorted ``docs`` from their syllable numbers: the same matches and
        scores as from the positions, each word's frequency counted in the numbers."""
        held = sequences.side_by_side(q.words)
        found = docs[held]
        if not len(found):
            return Matches.none()
        norms = self.length_norms(q.fieldname)[found]
        scores = np.zeros(len(found))
        for w in dict.fromkeys(q.words):  # summed in the words' order, as ranking.both sums them
            idf = ranking.idf(self._frequency(q.fieldname, w), self.size)
            scores += ranking.bm25(sequences.counts(w)[held], norms, idf)
        return Matches(found, scores * q.boost)

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

    def top(self, q: Q.Query, n: int, keep: np.ndarray | None = None) -> Matches:
        """The ``n`` best matches of ``q`` among the documents ``keep`` lets through (None: all), scores
        times recency, best first as ``ranking.top`` orders them: what ``matches`` would give, read
        only from the blocks whose score bounds (largest weight, shortest length) can reach them."""
        if n <= 0:
            return Matches.none()
        try:
            return self._top(q, n, keep)
        finally:
            self._readers = {}

    def _top(self, q: Q.Query, n: int, keep: np.ndarray | None) -> Matches:
        cuts, bound = self._bounds(q)
        if keep is not None and len(cuts):
            bound = np.where(np.logical_or.reduceat(keep, cuts), bound, -np.inf)
        ends = np.append(cuts[1:], self.size)
        order = np.argsort(-bound, kind="stable")
        order = order[np.isfinite(bound[order])]
        spans = np.cumsum(ends[order] - cuts[order])
        # The best-bounded ranges first, more of them until they hold n matches; then every range
        # bounded at least as high as the n-th best score so far (at most the n-th best of all).
        # Each range is read once: a document's score does not depend on the others read with it.
        found: list[Matches] = []
        done, seed = 0, SEED_DOCS
        while done < len(order):
            upto = min(int(np.searchsorted(spans, seed)) + 1, len(order))
            found.append(self._within(q, cuts[order[done:upto]], ends[order[done:upto]], keep))
            done = upto
            if sum(map(len, found)) >= n:
                break
            seed *= 8
        matches = _union(found)
        if done < len(order):
            threshold = matches.scores[ranking.top(matches, n)[-1]]
            rest = order[done:][bound[order[done:]] >= threshold]
            matches = _union([matches, self._within(q, cuts[rest], ends[rest], keep)])
        return matches.where(ranking.top(matches, n))

    def _within(self, q: Q.Query, starts: np.ndarray, ends: np.ndarray, keep: np.ndarray | None) -> Matches:
        """``q``'s matches in the docnum ranges [starts, ends) (any order), scores times recency, ``keep``'s only."""
        order = np.argsort(starts)
        starts, ends = starts[order], ends[order]
        if len(starts):  # ranges that go on from the one before made one
            joined = np.flatnonzero(starts[1:] != ends[:-1]) + 1
            starts, ends = starts[np.concatenate(([0], joined))], ends[np.concatenate((joined - 1, [len(ends) - 1]))]
        self._ranges = (starts, ends)
        try:
            found = self.matches(q)
        finally:
            self._ranges = None
        if keep is not None:
            found = found.where(keep[found.docs])
        return Matches(found.docs, found.scores * self.recency[found.docs])

    def _bounds(self, q: Q.Query) -> tuple[np.ndarray, np.ndarray]:
        """Docnum ranges (the start of each, sorted; each ends where the next starts) that no term
        of ``q`` has a block boundary within, and the highest score a match in each could have
        (-inf: none can match there)."""
        keys = {(t.fieldname, t.text, t.boost) for t in _terms(q)}
        blocks = {key: self._term_blocks(*key) for key in keys}
        cuts = np.unique(np.concatenate([np.zeros(1, np.int64), *(np.concatenate((s, e)) for s, e, _ in blocks.values())]))
        cuts = cuts[cuts < self.size]
        if not len(cuts):
            return cuts, np.empty(0)
        bound = _bound(q, blocks, cuts)
        return cuts, bound * np.maximum.reduceat(self.recency, cuts) * _BOUND_MARGIN

    def _term_blocks(self, field: str, text: str, boost: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """A term's blocks in every segment: docnum ranges [starts, ends) and the highest score of each."""
        term = self.searcher.schema[field].to_bytes(text)
        infos = [(seg, offset, i) for seg, offset in zip(self.segments, self.offsets) if (i := seg.info(field, term))]
        if not infos:
            return np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0)
        frequency = sum(i.doc_frequency() for _, _, i in infos)
        idf = ranking.idf(frequency, self.size)
        avg = self.searcher.reader().field_length(field) / (self.size or 1) or 1
        starts, ends, highest = [], [], []
        for seg, offset, _ in infos:
            b = seg.bounds(field, term)
            if b is None or frequency <= self.size * EXACT_SHARE:  # each document its own range and score
                whole = (np.zeros(1, np.int64), np.full(1, seg.size, np.int64))
                p = seg.postings_in(field, term, whole, self._readers.setdefault(id(seg), {}))
                starts.append(p.docs + offset)
                ends.append(p.docs + offset + 1)
                highest.append(ranking.bm25(p.tf, self.length_norms(field)[p.docs + offset], idf, boost))
                continue
            starts.append(offset + np.concatenate(([0], b.lasts[:-1] + 1)))
            ends.append(offset + b.lasts + 1)
            norms = ranking.length_norms(_FIELD_LENGTHS[b.min_lengths], avg)
            highest.append(ranking.bm25(b.max_weights, norms, idf, boost))
        return tuple(np.concatenate(x) for x in (starts, ends, highest))  # type: ignore[return-value]

    def _postings(self, field: str, text: str, within: np.ndarray | None = None) -> _Postings:
        term = self.searcher.schema[field].to_bytes(text)
        if self._ranges is not None:
            return self._joined([self._segment_postings_in(seg, offset, field, term)
                                 for seg, offset in zip(self.segments, self.offsets)])
        if within is None:
            return self._joined([seg.postings(field, term) for seg in self.segments])
        parts = []
        for seg, offset in zip(self.segments, self.offsets):
            local = within[(within >= offset) & (within < offset + seg.size)] - offset
            parts.append(seg.postings(field, term, local) if len(local) else _Postings())
        return self._joined(parts)

    def _segment_postings_in(self, seg: _Segment, offset: int, field: str, term: bytes) -> _Postings:
        starts, ends = self._ranges
        inside = (ends > offset) & (starts < offset + seg.size)
        if not inside.any():
            return _Postings()
        local = (np.maximum(starts[inside], offset) - offset, np.minimum(ends[inside], offset + seg.size) - offset)
        return seg.postings_in(field, term, local, self._readers.setdefault(id(seg), {}))

    def _positions(self, field: str, text: str, docs: np.ndarray) -> _Postings:
        """A term's postings with positions in the sorted ``docs``, decoded from each segment's blocks that hold them."""
        term = self.searcher.schema[field].to_bytes(text)
        cuts = np.searchsorted(docs, self.offsets + [self.size]).tolist()  # each segment's part of ``docs``
        parts = []
        for seg, offset, lo, hi in zip(self.segments, self.offsets, cuts, cuts[1:]):
            parts.append(seg.positions(field, term, docs[lo:hi] - offset, self._decoded) if hi > lo else _Postings())
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

def _union(parts: list[Matches]) -> Matches:
    """Matches of disjoint sets of documents, as one."""
    parts = [p for p in parts if len(p)]
    if len(parts) <= 1:
        return parts[0] if parts else Matches.none()
    docs = np.concatenate([p.docs for p in parts])
    order = np.argsort(docs, kind="stable")
    return Matches(docs[order], np.concatenate([p.scores for p in parts])[order])


def _terms(q: Q.Query) -> list[Q.Query]:
    """The terms a query of build_query's shapes reads (a phrase's words as terms of its field)."""
    if isinstance(q, Q.Term):
        return [q]
    if isinstance(q, Q.Phrase):
        return [Q.Term(q.fieldname, w) for w in dict.fromkeys(q.words)]
    if isinstance(q, (Q.AndMaybe, Q.AndNot)):
        return _terms(q.a) + (_terms(q.b) if isinstance(q, Q.AndMaybe) else [])
    if isinstance(q, (Q.And, Q.Or)):
        return [t for sub in q.subqueries for t in _terms(sub)]
    raise TypeError(f"store.search cannot evaluate {type(q).__name__} queries")


def _bound(q: Q.Query, blocks: dict, cuts: np.ndarray) -> np.ndarray:
    """The highest score ``q`` could give a document in each range starting at ``cuts`` (recency
    aside; -inf where it cannot match), from its terms' ``blocks``: (starts, ends, highest)."""
    if isinstance(q, Q.Term):
        starts, ends, highest = blocks[(q.fieldname, q.text, q.boost)]
        at = np.searchsorted(ends, cuts, "right")
        found = at < len(ends)
        found[found] = starts[at[found]] <= cuts[found]
        return np.where(found, highest[np.minimum(at, max(len(highest) - 1, 0))] if len(highest) else 0.0, -np.inf)
    if isinstance(q, Q.Phrase):
        words = [_bound(Q.Term(q.fieldname, w), blocks, cuts) for w in dict.fromkeys(q.words)]
        return sum(words[1:], words[0]) * q.boost
    if isinstance(q, Q.AndMaybe):
        b = _bound(q.b, blocks, cuts)
        return _bound(q.a, blocks, cuts) + np.where(np.isfinite(b), b, 0.0)
    if isinstance(q, Q.AndNot):
        return _bound(q.a, blocks, cuts)
    parts = [_bound(sub, blocks, cuts) for sub in q.subqueries]
    if isinstance(q, Q.And):
        return sum(parts[1:], parts[0])
    present = [np.isfinite(p) for p in parts]
    total = sum(np.where(f, p, 0.0) for f, p in zip(present, parts))
    return np.where(np.logical_or.reduce(present), total, -np.inf)
