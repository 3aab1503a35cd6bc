"""What ranking reads of one segment, as arrays: its columns, field lengths, term entries and postings."""

from __future__ import annotations

import numpy as np
from whoosh.matching import FilterMatcher
from whoosh.reading import SegmentReader, TermNotFound

from .. import ranking
from ..fields import COLUMNS, DAY, TEXT_SEQ
from .blocks import BlockBounds, BlockReader, DecodedBlocks, _blocks, _Postings, block_bounds, in_ranges, positions_among
from .codec import _Codec
from .sequences import CODE
from .whoosh_internals import _byte_strings, _numbers, bytes_values, damaged, fell_back, field_lengths, looked_up, postings_bytes, term_table

# Term entries a segment keeps once looked up (Whoosh probes its on-disk hash table each time).
TERM_INFOS = 50_000


def _factorized(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each value's number, b"" first (0) and the others in order of first appearance; and the values so numbered."""
    values = np.concatenate([np.array([b""], values.dtype), values])
    unique, first, inverse = np.unique(values, return_index=True, return_inverse=True)
    order = np.argsort(first, kind="stable")
    number = np.empty(len(unique), np.int32)
    number[order] = np.arange(len(unique), dtype=np.int32)
    return number[inverse.reshape(-1)[1:]], unique[order]


class _Segment:
    """What ranking reads of one segment, read once for as long as its reader lives."""

    def __init__(self, reader: SegmentReader):
        self.reader = reader
        self.size = size = reader.doc_count_all()
        self.live = np.ones(size, bool)
        if reader.has_deletions():
            self.live[sorted(reader.deleted_docs_set)] = False
        with damaged(reader.segment().make_filename(f".{DAY}.col")):
            self.day = _numbers(reader.column_reader(DAY, translate=False), size, np.int64)
        self.strings = {f: _byte_strings(reader, f, size) for f in COLUMNS if f != DAY}  # source, category, dup
        self._lengths: dict[str, np.ndarray] = {}
        self._infos: dict[tuple[str, bytes], object] = {}
        self._table = term_table(reader)  # None: Whoosh's public API
        if self._table is not None and not isinstance(reader.codec(), _Codec):
            fell_back(f"a segment written with {type(reader.codec()).__name__}")
            self._table = None
        self._postings_file = reader.segment().make_filename(_Codec.POSTS_EXT)
        self._sequences = None  # sequences(): bytes_values' reader, made on first use

    def sequences(self, docs: np.ndarray) -> list[bytes] | None:
        """The folded text's syllable numbers (``sequences.encoded``) of the docnums ``docs``; None
        when the segment has none (written by another codec)."""
        if self._sequences is None:
            self._sequences = bytes_values(self.reader, TEXT_SEQ) or (lambda docs: None)
        found = self._sequences(docs)
        with damaged(self.reader.segment().make_filename(f".{TEXT_SEQ}.col")):
            if found is not None and any(len(v) % CODE.itemsize for v in found):
                raise ValueError("a value is not a whole number of syllables")
        return found

    def lengths(self, field: str) -> np.ndarray:
        if field not in self._lengths:
            self._lengths[field] = field_lengths(self.reader, field)
        return self._lengths[field]

    def info(self, field: str, term: bytes):
        """Whoosh's entry for a term in this segment (None if absent), looked up once."""
        key = (field, term)
        if key not in self._infos:
            if len(self._infos) >= TERM_INFOS:
                self._infos.pop(next(iter(self._infos)))  # the oldest look-up
            self._infos[key] = self._look_up(field, term)
        return self._infos[key]

    def _look_up(self, field: str, term: bytes):
        if self._table is not None:
            # Whoosh's term_info without its checks and its exception for an absent term
            # (most terms are absent from most segments).
            with damaged(self.reader.segment().make_filename(_Codec.TERMS_EXT)):
                found = looked_up(self._table, field, term)
            if found is not NotImplemented:
                return found
        try:
            return self.reader.term_info(field, term)
        except TermNotFound:
            return None

    def postings(self, field: str, term: bytes, within: np.ndarray | None = None) -> _Postings:
        """A term's docnums (in this segment, deleted ones included) and frequencies; with ``within``
        (sorted docnums), only those documents', from the blocks holding them."""
        if self.info(field, term) is None:
            return _Postings()
        return self._read(field, term, within=within)

    def positions(
        self, field: str, term: bytes, within: np.ndarray | None = None, decoded: DecodedBlocks | None = None
    ) -> _Postings:
        """A term's postings with their positions: those of the sorted docnums ``within``
        (None: all), decoded from the blocks holding them (kept in ``decoded``, if given)."""
        if self.info(field, term) is None:
            return _Postings()
        return self._read(field, term, values=True, within=within, decoded=decoded)

    def bounds(self, field: str, term: bytes) -> BlockBounds | None:
        """What the headers of a term's blocks say (``blocks.block_bounds``); None when the term is
        absent, or its few postings are inlined in its entry (or another codec wrote them)."""
        info = self.info(field, term)
        if info is None or self._table is None or info.is_inlined():
            return None
        with damaged(self._postings_file):
            return block_bounds(postings_bytes(self._table, info))

    def postings_in(self, field: str, term: bytes, ranges: tuple[np.ndarray, np.ndarray], readers: dict) -> _Postings:
        """A term's postings of the documents in ``ranges`` ((starts, ends), ``blocks.in_ranges``'s),
        decoded from the blocks that meet them; ``readers`` keeps each term's decoded blocks."""
        info = self.info(field, term)
        if info is None:
            return _Postings()
        if self._table is not None and not info.is_inlined():
            if (field, term) not in readers:
                with damaged(self._postings_file):
                    readers[field, term] = BlockReader(postings_bytes(self._table, info))
            with damaged(self._postings_file):
                return readers[field, term].postings_in(ranges)
        found = self._matched(field, term, False, None)
        keep = in_ranges(found.docs, *ranges)
        return _Postings(found.docs[keep], found.tf[keep])

    def _read(
        self, field: str, term: bytes, values: bool = False, within: np.ndarray | None = None,
        decoded: DecodedBlocks | None = None,
    ) -> _Postings:
        info = self.info(field, term)
        if self._table is not None and not info.is_inlined():
            # This format's blocks, found from the entry already looked up and decoded whole.
            with damaged(self._postings_file):
                raw = postings_bytes(self._table, info)
                if values and within is not None:
                    return positions_among(raw, within, decoded or DecodedBlocks(0), (id(self), field, term))
                return _blocks(raw, values, within)
        return self._matched(field, term, values, within)

    def _matched(self, field: str, term: bytes, values: bool, within: np.ndarray | None) -> _Postings:
        """``_read`` through Whoosh's matcher: a few postings inlined in the term's entry, or another codec."""
        m = self._matcher(field, term)
        ids, weights, counts, positions = [], [], [], []
        while m.is_active():
            if within is not None and not ranking.among(within, np.array([m.id()]))[0]:
                m.next()
                continue
            ids.append(m.id())
            weights.append(m.weight())
            if values:
                found = m.value_as("positions")
                counts.append(len(found))
                positions += found
            m.next()
        return _Postings(
            np.array(ids, np.int64), np.array(weights), np.array(counts, np.int64), np.array(positions, np.int64)
        )

    def _matcher(self, field: str, term: bytes):
        m = self.reader.postings(field, term)
        return m.child if isinstance(m, FilterMatcher) else m  # the deletions, which the caller drops itself
