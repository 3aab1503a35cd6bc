"""Whoosh's segment writer with the text fields' posting lists made from arrays (``indexer.inversion``)."""

from __future__ import annotations

import itertools
from array import array
from typing import Iterator, Sequence

import numpy as np
from whoosh.writing import SegmentWriter

from ..fields import TEXT_F, TEXT_SEQ
from ..inversion import FieldTokens
from .blocks import _blocks
from .codec import _Codec, _Frequency, _Positions, _tokens
from .sequences import encoded
from .whoosh_internals import _length_column, damaged, fell_back, postings_bytes, term_table

# How much a writer holds in memory before Whoosh sorts postings out to temporary files,
# by Whoosh's own reckoning (about 170 bytes a posting). Its pool only carries the fields
# other than the text fields (about 20 postings an article); spilling is slow.
WRITER_MEMORY_MB = 512


def _postings_of(reader, field: str) -> Iterator[tuple]:
    """A field's postings as Whoosh's ``iter_postings`` gives them (deleted documents left out)."""
    for btext in reader.lexicon(field):
        m = reader.postings(field, btext)
        while m.is_active():
            yield field, btext, m.id(), m.weight(), m.value()
            m.next()


class _Copy:
    """A segment's posting lists of one text field, gathered for ``FieldTokens.add_postings``."""

    def __init__(self, renumbered: np.ndarray, positions: bool):
        self.renumbered, self.positions = renumbered, positions
        self._renumbered = renumbered.tolist()
        self.terms: list[str] = []
        self.sizes, self.docs, self.freqs, self.places = array("q"), array("q"), array("q"), array("q")

    def add(self, btext: bytes, docs: np.ndarray, freqs: np.ndarray, places: np.ndarray | None) -> None:
        new = self.renumbered[docs]  # -1: deleted, left out
        keep = new >= 0
        if not keep.all():
            places = places[np.repeat(keep, freqs)] if places is not None else None
            new, freqs = new[keep], freqs[keep]
        if len(new):
            self.terms.append(btext.decode("utf-8"))
            self.sizes.append(len(new))
            self.docs.frombytes(new.astype(np.int64).tobytes())
            self.freqs.frombytes(np.asarray(freqs, np.int64).tobytes())
            if places is not None:
                self.places.frombytes(np.asarray(places, np.int64).tobytes())

    def add_few(self, btext: bytes, docs: Sequence[int], freqs: Sequence[int], places: Sequence[int]) -> None:
        """``add`` for a list of a few postings, in Python numbers."""
        new = [self._renumbered[d] for d in docs]
        if min(new) < 0:
            return self.add(btext, np.array(docs), np.array(freqs, np.int64), np.array(places) if self.positions else None)
        self.terms.append(btext.decode("utf-8"))
        self.sizes.append(len(new))
        self.docs.extend(new)
        self.freqs.extend(freqs)
        self.places.extend(places)

    def lists(self) -> tuple:
        """(terms, postings per term, documents, frequencies, positions or None)."""
        sizes, docs, freqs, places = (np.frombuffer(a, np.int64) for a in (self.sizes, self.docs, self.freqs, self.places))
        return self.terms, sizes, docs, freqs, places if self.positions else None


def _copied(reader, field: str, fmt, renumbered: np.ndarray) -> tuple:
    """A segment's posting lists of a text field, its documents ``renumbered``: whole blocks read
    as arrays from the entries in its term table; with another codec, through Whoosh's matchers."""
    positions = isinstance(fmt, _Positions)
    table = term_table(reader)
    if table is not None and not isinstance(reader.codec(), _Codec):
        fell_back(f"a segment written with {type(reader.codec()).__name__}")
        table = None
    if table is None:
        return _matched(reader, field, positions, renumbered)
    copy = _Copy(renumbered, positions)
    with damaged(reader.segment().make_filename(_Codec.POSTS_EXT)):
        for (name, btext), info in table.items_from(field, b""):
            if name != field:
                break
            if info.is_inlined():  # a term of one or two postings, kept in its entry
                ids, _, values = info.inlined_postings()
                places = [p for v in values for p in fmt.decode_positions(v)] if positions else []
                copy.add_few(btext, ids, [fmt.decode_frequency(v) for v in values], places)
                continue
            found = _blocks(postings_bytes(table, info), positions)
            freqs = found.counts if positions else np.rint(found.tf / fmt.field_boost).astype(np.int64)
            copy.add(btext, found.docs, freqs, found.positions if positions else None)
    return copy.lists()


def _matched(reader, field: str, positions: bool, renumbered: np.ndarray) -> tuple:
    """``_copied`` through Whoosh's matchers, a posting at a time."""
    copy = _Copy(renumbered, positions)
    for btext in reader.lexicon(field):
        m, ids, freqs, places = reader.postings(field, btext), [], [], []
        while m.is_active():
            ids.append(m.id())
            found = m.value_as("positions") if positions else []
            freqs.append(len(found) if positions else m.value_as("frequency"))
            places += found
            m.next()
        copy.add(btext, np.array(ids, np.int64), np.array(freqs, np.int64), np.array(places, np.int64) if positions else None)
    return copy.lists()


class _SegmentWriter(SegmentWriter):
    """Whoosh's segment writer, with the text fields' posting lists made from arrays: their tokens
    (and the postings of merged segments) become term numbers, written in one go at commit, in the
    same format as Whoosh's path, which still carries the other fields."""

    def __init__(self, ix, **kwargs):
        super().__init__(ix, **kwargs)
        self._text = {
            name: FieldTokens(positions=isinstance(field.format, _Positions))
            for name, field in self.schema.items()
            if isinstance(field.format, (_Frequency, _Positions))
        }

    def add_document(self, **fields):
        text = {name: fields.pop(name) for name in self._text if fields.get(name) is not None}
        for name, value in text.items():
            if not isinstance(value, str):
                raise ValueError(f"{name}: {value!r} is not a string")
        super().add_document(**fields)
        docnum = self.docnum - 1
        for name, value in text.items():
            tokens = _tokens(value)
            self._text[name].add(docnum, tokens)
            # The document is written but still the per-document writer's current one.
            self.perdocwriter.add_field(name, self.schema[name], None, len(tokens))
            if name == TEXT_F:
                self.perdocwriter.add_column_value(TEXT_SEQ, self.schema[TEXT_SEQ].column_type, encoded(tokens))

    def add_postings_to_pool(self, reader, startdoc, docmap):
        # A merge: the segment's text fields are read a term's list at a time into arrays, the
        # other fields go a posting at a time to Whoosh's pool, as its own add_reader does.
        renumbered = np.arange(startdoc, startdoc + reader.doc_count_all())
        if docmap is not None:  # the segment has deletions: its live documents' new numbers
            renumbered[:] = -1
            renumbered[list(docmap)] = list(docmap.values())
        for fieldname in reader.indexed_field_names():
            if fieldname not in self.schema:
                continue
            if fieldname in self._text:
                self._text[fieldname].add_postings(*_copied(reader, fieldname, self.schema[fieldname].format, renumbered))
                continue
            add = self.pool.add
            for posting in self._process_posts(_postings_of(reader, fieldname), startdoc, docmap):
                add(posting)

    def _flush_segment(self):
        self.perdocwriter.close()
        perdoc = self.per_document_reader()
        try:
            ours = sorted(name for name, tokens in self._text.items() if len(tokens))
            fieldwriter = self.fieldwriter

            def write_ours(before: str | None = None) -> None:
                # The term table is ordered by field: Whoosh's fields and ours, in name order.
                while ours and (before is None or ours[0] < before):
                    name = ours.pop(0)
                    lengths = _length_column(perdoc, name, self.docnum).astype(np.int64)
                    fieldwriter.add_inverted(name, self.schema[name], self._text.pop(name).invert(), lengths)

            for name, postings in itertools.groupby(self.pool.iter_postings(), key=lambda p: p[0]):
                write_ours(before=name)
                fieldwriter.add_postings(self.schema, perdoc, postings)
            write_ours()
            fieldwriter.close()
        finally:
            perdoc.close()
