"""The Whoosh index: schema, on-disk format, writing, query building, searching.

This is the only module that imports whoosh. Fields hold pre-analyzed text
(space-separated index forms computed by ``indexer.documents``), so the schema
pickled into the index uses Whoosh's own tokenizer only and pyvi never runs
inside Whoosh, at index time or at query time.
"""

from __future__ import annotations

import ctypes
import datetime as dt
import errno
import functools
import hashlib
import itertools
import json
import mmap
import os
import re
import shutil
import struct
import sys
import zlib
from array import array
from collections import Counter
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Iterator, NamedTuple, Sequence

import numpy as np
from isal import isal_zlib
from whoosh import columns, formats
from whoosh import index as whoosh_index
from whoosh import query as Q
from whoosh import scoring
from whoosh.analysis import SpaceSeparatedTokenizer
from whoosh.codec.whoosh3 import (
    LENGTHS_COLUMN,
    WHOOSH3_HEADER_MAGIC,
    W3Codec,
    W3FieldWriter,
    W3LeafMatcher,
    W3PostingsWriter,
    W3TermInfo,
    W3TermsReader,
)
from whoosh.fields import ID, KEYWORD, NUMERIC, STORED, TEXT, Schema
from whoosh.filedb.filestore import FileStorage
from whoosh.filedb.filetables import HashReader, md5_hash
from whoosh.filedb.structfile import StructFile
from whoosh.matching import FilterMatcher
from whoosh.reading import EmptyReader, MultiReader, SegmentReader, TermNotFound
from whoosh.searching import Searcher
from whoosh.writing import SegmentWriter
from whoosh.util.filelock import try_for
from whoosh.system import pack_uint, pack_ushort
from whoosh.util.numeric import byte_to_length, length_to_byte

from . import ranking
from .analysis import syllables
from .fields import COLUMNS, SCORED_FIELDS, day_number, from_day_number
from .errors import IndexLockedError, IndexMissingError, IndexVersionError, IndexWriteError
from .inversion import FieldTokens, Inverted
from .query import LONG_QUERY, ParsedQuery
from .ranking import Matches
from .vocabulary import IndexVocabulary

__all__ = ["FORMAT_VERSION", "ArticleStore", "Filters", "LockHolder", "build_query"]

FORMAT_VERSION = 5
META_FILE = "vnsearch.json"
# Who holds the write lock (Whoosh's MAIN_WRITELOCK, an fcntl lock the OS releases when
# its holder dies): written by each writer when it takes the lock, read to name it.
LOCK_HOLDER_FILE = "writelock.json"
WRITE_LOCK = "MAIN_WRITELOCK"  # the file Whoosh's FileIndex.lock("WRITELOCK") locks
# A rebuild writes its new index to ".<name>.rebuild-<pid>" beside the old one, then swaps
# the two; hidden, so that a scan of the folder holding the index never reads it as articles.
REBUILD_PREFIX = ".{}.rebuild-"
ASIDE_PREFIX = ".{}.old-"  # the old index, where renameat2 cannot swap two directories
SMALL_SEGMENT_DOCS = 1000
# How much a writer holds in memory before Whoosh sorts postings out to temporary files,
# by Whoosh's own reckoning (about 170 bytes a posting). Its pool only carries the fields
# other than the text fields (_SegmentWriter), about 20 postings an article: 512 MB holds a
# batch of 150,000 articles. Spills are dear (at 256 MB for every field, put() took 9.2 ms an
# article on news-eval-20k; without them, 2-3 ms).
WRITER_MEMORY_MB = 512

# Query-time boosts. The text fields already hold the title, so a title syllable
# counts there; the title fields add half as much again. A query's syllables that
# form an indexed pyvi word raise the score as much as one more syllable would.
# Measured with bench/relevance.py (a title boost of 3 cost XQuAD-vi 0.2 nDCG@10:
# news titles outweighed the passages that answer a question; see the README).
TITLE_BOOST = 0.5
WORD_BOOST = {"title_w": 0.5, "text_w": 1.0}
# Matching levels, tried in order until one finds articles. A query typed with
# diacritics first matches exact forms only ("Đà Nẵng" finds the city, not
# "đã nâng"); then folded forms (a mis-typed mark still finds the article),
# ranked with the exact forms as a bonus; then any of its syllables (OR), exact
# forms again when it was typed with diacritics.
EXACT, FOLDED, ANY = "exact", "folded", "any"


def _schema() -> Schema:
    def terms(positions: bool = False):
        field = TEXT(analyzer=SpaceSeparatedTokenizer(), phrase=positions)
        field.format = (_Positions if positions else _Frequency)(field_boost=field.format.field_boost)
        return field

    return Schema(
        id=ID(stored=True, unique=True, sortable=True),
        hash=ID(sortable=True),
        origin=ID(stored=True, sortable=True),
        title=STORED(),
        sapo=STORED(),
        body=STORED(),
        url=STORED(),
        author=STORED(),
        date=STORED(),
        source=ID(stored=True, sortable=True),
        category=ID(stored=True, sortable=True),
        # Publication day as YYYYMMDD, 0 when unknown: filters, newest-first
        # sort (undated last) and the date range in stats.
        day=NUMERIC(int, bits=32, signed=False, sortable=True, default=0),
        # Near duplicates (indexer.duplicates): MinHash signature, its bands, group key.
        minhash=STORED(),
        dup_bands=KEYWORD(),
        dup=ID(stored=True, sortable=True),
        # Only the folded text keeps positions (for phrases): on news-eval-20k the index
        # went from 4.0 to 3.5 times the text.
        title_x=terms(),
        title_f=terms(),
        text_x=terms(),
        text_f=terms(positions=True),
        title_w=terms(),
        text_w=terms(),
    )



# -- the postings format ------------------------------------------------------
# Whoosh's W3 codec with its files and term table as they are; what changes is what a
# block of postings holds. W3 pickles a block's ids, frequencies and positions as tuples
# of Python numbers and compresses the pickle: at 100k articles, unpickling was 86% of
# query time. Here a block is a fixed header (_BLOCK) and two parts, each compressed on
# its own: the ids (deltas) with their frequencies, then the values (for text_f, each
# posting's positions, as deltas from 0). Each is a little-endian array of the narrowest
# unsigned type that holds it, which numpy reads in one call. A search that needs no
# positions never decompresses them, and a phrase decompresses only the blocks that hold
# its candidate documents. W3's own matcher reads the same blocks through _Matcher.
# Terms of one or two postings are kept in the term table, as W3 means to do (its
# writer calls a method its term info lacks, so it never does).

BLOCK_POSTINGS = 1024  # W3 writes 128 per block; ranking reads whole lists, so bigger blocks cost less
_DTYPES = {"B": np.dtype("<u1"), "H": np.dtype("<u2"), "I": np.dtype("<u4"), "f": np.dtype("<f4")}
assert array("I").itemsize == 4 and array("f").itemsize == 4
# After W3's signed block length (negative for the last block): postings, last id, largest
# weight, shortest and longest field length (as bytes), which parts are compressed, the
# array codes of ids, weights, value lengths and values ("-": none), the two parts' sizes.
_BLOCK = struct.Struct("<IIfBBB4sII")
_ZIPPED_IDS, _ZIPPED_VALUES = 1, 2


class _Header(NamedTuple):
    count: int
    last: int
    max_weight: float
    min_length: int
    max_length: int
    zipped: int
    codes: bytes
    ids_size: int
    values_size: int


def _little(a: array) -> array:
    if sys.byteorder == "big":
        a.byteswap()
    return a


def _packed(numbers: Sequence[int] | np.ndarray) -> tuple[str, bytes]:
    """Non-negative integers as (array typecode, little-endian bytes), in the narrowest type that holds them."""
    numbers = np.asarray(numbers, np.int64)
    top = int(numbers.max()) if numbers.size else 0
    code = "B" if top < 1 << 8 else "H" if top < 1 << 16 else "I"
    return code, numbers.astype(_DTYPES[code]).tobytes()


def _weights_part(weights: np.ndarray) -> tuple[str, bytes]:
    """A block's weights: none when all are 1, as whole numbers when they are, else as float32."""
    if np.all(weights == 1.0):
        return "-", b""
    whole = weights.astype(np.int64)
    if np.array_equal(whole, weights):
        return _packed(whole)
    return "f", weights.astype(_DTYPES["f"]).tobytes()


_NO_VALUES = (("-", b""), ("-", b""))
_SIGNED_SIZE = struct.Struct("!i")  # W3's block length (StructFile.write_int)


def _encoded_block(
    ids: np.ndarray,
    weights: np.ndarray,
    values: tuple[tuple[str, bytes], tuple[str, bytes]],
    *,
    max_weight: float,
    min_length: int | None,
    max_length: int,
    compression: int,
    last: bool,
) -> bytes:
    """One block of postings as _Matcher reads it, after its size (negative: the term's last block).

    ``ids``: ascending docnums (the first kept whole, the others as deltas); ``weights``: float32,
    one a posting; ``values``: (lengths, values) as ``_packed`` gives them, or _NO_VALUES.
    """
    id_code, id_bytes = _packed(np.diff(ids.astype(np.int64), prepend=0))
    weight_code, weight_bytes = _weights_part(weights)
    (length_code, length_bytes), (value_code, value_bytes) = values
    zipped_ids, ids_part = _squeezed(id_bytes + weight_bytes, compression, _ZIPPED_IDS)
    zipped_values, values_part = _squeezed(length_bytes + value_bytes, compression, _ZIPPED_VALUES)
    header = _BLOCK.pack(
        len(ids),
        int(ids[-1]),
        max_weight,
        length_to_byte(min_length),
        length_to_byte(max_length),
        zipped_ids | zipped_values,
        (id_code + weight_code + length_code + value_code).encode("ascii"),
        len(ids_part),
        len(values_part),
    )
    size = len(header) + len(ids_part) + len(values_part)
    return _SIGNED_SIZE.pack(-size if last else size) + header + ids_part + values_part


def _squeezed(raw: bytes, level: int, flag: int) -> tuple[int, bytes]:
    """``raw`` compressed (with ``flag``), or as it is when compressing would not make it smaller."""
    packed = zlib.compress(raw, level) if raw else raw
    return (flag, packed) if len(packed) < len(raw) else (0, raw)


def _block_arrays(h: _Header, raw: bytes, at: int, values: bool) -> tuple:
    """A block's id deltas, weights (None: all 1) and, if asked and kept, (value lengths, values) as arrays."""
    codes = h.codes.decode("ascii")
    part = raw[at : at + h.ids_size]
    if h.zipped & _ZIPPED_IDS:
        part = isal_zlib.decompress(part)  # ISA-L's inflate: zlib's output, in about 2/3 of its time
    ids = np.frombuffer(part, _DTYPES[codes[0]], h.count)
    weights = None if codes[1] == "-" else np.frombuffer(part, _DTYPES[codes[1]], h.count, ids.nbytes)
    if not values or codes[2] == "-":
        return ids, weights, None
    part = raw[at + h.ids_size : at + h.ids_size + h.values_size]
    if h.zipped & _ZIPPED_VALUES:
        part = isal_zlib.decompress(part)
    lengths = np.frombuffer(part, _DTYPES[codes[2]], h.count)
    return ids, weights, (lengths, np.frombuffer(part, _DTYPES[codes[3]], offset=lengths.nbytes))


_TOKEN = re.compile(r"[^ \t\r\n]+")  # what Whoosh's SpaceSeparatedTokenizer splits on


def _tokens(value: str) -> list[str]:
    """A text field's tokens (its index forms), as the field's analyzer splits them, at str.split()'s speed."""
    tokens = value.split()
    separators = value.count(" ") + value.count("\t") + value.count("\r") + value.count("\n")
    if len(value) - sum(map(len, tokens)) != separators:  # str.split() also split on other spaces
        return _TOKEN.findall(value)
    return tokens


class _Frequency(formats.Frequency):
    """Frequencies, counted from the field's space-separated tokens without making a Whoosh token of each.

    A block keeps them once, as weights (W3 keeps them twice: as weights, and as values).
    """

    def word_values(self, value, analyzer, **kwargs):
        boost = self.field_boost
        return ((w, n, n * boost, pack_uint(n)) for w, n in Counter(_tokens(value)).items())


class _Positions(formats.Positions):
    """A term's positions in one document as a little-endian uint32 array of deltas (W3's format pickles them)."""

    def word_values(self, value, analyzer, **kwargs):
        places: dict[str, list[int]] = {}
        for i, w in enumerate(_tokens(value)):
            places.setdefault(w, []).append(i)
        boost = self.field_boost
        return ((w, len(p), len(p) * boost, self.encode(p)) for w, p in places.items())

    def encode(self, poslist) -> bytes:
        return _little(array("I", [b - a for a, b in zip([0, *poslist], poslist)])).tobytes()

    def decode_positions(self, valuestring: bytes) -> list[int]:
        deltas = array("I")
        deltas.frombytes(valuestring)
        return list(itertools.accumulate(_little(deltas)))

    def decode_frequency(self, valuestring: bytes) -> int:
        return len(valuestring) // 4


class _PostingsWriter(W3PostingsWriter):
    """Writes this format's blocks (a term vector's, none in this schema, are W3's own)."""

    def _write_block(self, last=False):
        if not self._blockcount:
            self._postfile.write(WHOOSH3_HEADER_MAGIC)
        self._terminfo.add_block(self)
        block = _encoded_block(
            np.asarray(self._ids),
            np.asarray(self._weights),
            self._mini_values(),
            max_weight=self._maxweight,
            min_length=self._minlength,
            max_length=self._maxlength,
            compression=self._compression,
            last=last,
        )
        self._postfile.write(block)
        self._blockcount += 1
        self._new_block()

    def _mini_values(self) -> tuple[tuple[str, bytes], tuple[str, bytes]]:
        """(lengths, values): positions (as counts, deltas) or any other format's value bytes."""
        values = self._values
        if isinstance(self._format, _Frequency) or not any(values):  # frequencies are the weights
            return _NO_VALUES
        if isinstance(self._format, _Positions):
            deltas = np.frombuffer(b"".join(values), _DTYPES["I"])
            return _packed([len(v) // 4 for v in values]), _packed(deltas)
        return _packed([len(v or b"") for v in values]), ("B", b"".join(v or b"" for v in values))

    def finish_postings(self):
        if self.written() or len(self) >= self._inlinelimit:
            return super().finish_postings()
        terminfo, self._terminfo = self._terminfo, None
        terminfo.add_block(self)
        # b"" where the format keeps no values: merging copies each posting's value as bytes.
        terminfo.set_inlined(self._ids, self._weights, self._values or [b""] * len(self._ids))
        return terminfo


class _Matcher(W3LeafMatcher):
    """W3's matcher over this format's blocks: Whoosh's own search, and the public-API reads."""

    def _goto(self, position):
        self._data = self._ids = self._weights = self._values = None
        self._i = 0
        postfile = self._postfile
        postfile.seek(position)
        size = postfile.read_int()
        self._lastblock = size < 0
        self._nextoffset = position + 4 + abs(size)
        self._header = h = _Header._make(_BLOCK.unpack(postfile.read(_BLOCK.size)))
        self._dataoffset = position + 4 + _BLOCK.size
        self._blocklength, self._maxid, self._maxweight = h.count, h.last, h.max_weight
        self._compression = h.zipped
        self._minlength, self._maxlength = byte_to_length(h.min_length), byte_to_length(h.max_length)

    def _read_data(self):
        h = self._header
        self._data = _block_arrays(h, self._postfile.get(self._dataoffset, h.ids_size + h.values_size), 0, True)

    def _read_ids(self):
        if self._data is None:
            self._read_data()
        self._ids = tuple(itertools.accumulate(self._data[0].tolist()))

    def _read_weights(self):
        if self._data is None:
            self._read_data()
        weights = self._data[1]
        self._weights = array("f", [1.0] * self._blocklength if weights is None else weights.tolist())

    def _read_values(self):
        if isinstance(self.format, _Frequency):
            self._read_weights()
            self._values = tuple(pack_uint(round(w / self.format.field_boost)) for w in self._weights)
            return
        if self._data is None:
            self._read_data()
        if self._data[2] is None:
            self._values = (b"",) * self._blocklength
            return
        lengths, values = self._data[2]
        if isinstance(self.format, _Positions):
            values, lengths = values.astype("<u4"), lengths.astype(np.int64) * 4  # bytes (a uint8 count * 4 wraps)
        raw = values.tobytes()
        ends = itertools.accumulate(lengths.tolist())
        self._values = tuple(raw[end - n : end] for n, end in zip(lengths.tolist(), ends))


class _Lengths:
    """A new segment's field lengths, each field's read once (W3 reads them once per posting)."""

    def __init__(self, perdoc):
        self._perdoc = perdoc
        self._fields: dict[str, list[int]] = {}

    def doc_field_length(self, docnum: int, fieldname: str) -> int:
        if fieldname not in self._fields:
            count = self._perdoc.doc_count_all()
            self._fields[fieldname] = [self._perdoc.doc_field_length(n, fieldname) for n in range(count)]
        return self._fields[fieldname][docnum]


class _FieldWriter(W3FieldWriter):
    def add_postings(self, schema, lengths, items):
        super().add_postings(schema, _Lengths(lengths) if lengths else lengths, items)

    def add_inverted(self, fieldname: str, fieldobj, inverted: Inverted, lengths: np.ndarray) -> None:
        """Write a field's posting lists from arrays, as add_postings would write them one by one.

        ``lengths``: each document's length in this field, as Whoosh keeps it (a byte's worth).
        """
        self.start_field(fieldname, fieldobj)
        postfile, table, prefix = self._postfile, self._tindex, pack_ushort(self._fieldid)
        block_size, inline_limit, compression = self._codec._blocklimit, self._codec._inlinelimit, self._codec._compression
        bounds, docs, freqs, deltas = inverted.bounds.tolist(), inverted.docs, inverted.freqs, inverted.deltas
        weights = (freqs * fieldobj.format.field_boost).astype(np.float32)  # as W3 keeps them
        # Each posting as Python numbers (most terms have one or two, kept in the term table).
        doc_list, freq_list, weight_list = docs.tolist(), freqs.tolist(), weights.tolist()
        length_list = lengths[docs].tolist()
        ends = np.cumsum(freqs) if deltas is not None else None  # where each posting's position deltas end
        for i, term in enumerate(inverted.terms):
            a, b = bounds[i], bounds[i + 1]
            term_weights = weight_list[a:b]
            info = W3TermInfo(
                weight=sum(term_weights),
                df=b - a,
                minlength=min(length_list[a:b]),
                maxlength=max(length_list[a:b]),
                maxweight=max(term_weights),
                minid=doc_list[a],
                maxid=doc_list[b - 1],
            )
            if b - a < inline_limit:
                if deltas is None:
                    values = [pack_uint(f) for f in freq_list[a:b]]
                else:
                    values = [deltas[e - f : e].astype(_DTYPES["I"]).tobytes() for e, f in zip(ends[a:b].tolist(), freq_list[a:b])]
                info.set_inlined(doc_list[a:b], term_weights, values)
            else:
                start = postfile.tell()
                postfile.write(WHOOSH3_HEADER_MAGIC)
                for c in range(a, b, block_size):
                    e = min(c + block_size, b)
                    values = _NO_VALUES
                    if deltas is not None:
                        values = (_packed(freqs[c:e]), _packed(deltas[ends[c] - freqs[c] : ends[e - 1]]))
                    block_lengths = length_list[c:e]
                    postfile.write(
                        _encoded_block(
                            docs[c:e], weights[c:e], values,
                            max_weight=max(weight_list[c:e]),
                            min_length=min(block_lengths),
                            max_length=max(block_lengths),
                            compression=compression,
                            last=e == b,
                        )
                    )
                info.set_extent(start, postfile.tell() - start)
            table.add(prefix + term.encode("utf-8"), info.to_bytes())
        self.finish_field()


class _Mapped(StructFile):
    """A read-only file as a memory map: a read is a slice, not a call through buffered I/O."""

    def __init__(self, path: str, name: str):
        with open(path, "rb") as f:
            super().__init__(mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ), name=name)
        self.is_real = False  # no fileno: StructFile reads arrays through read()

    def get(self, position, length):
        return self.file[position : position + length]


def _open_mapped(storage, name: str):
    """``name`` memory-mapped where the storage is a directory (an empty file cannot be mapped)."""
    if isinstance(storage, FileStorage) and storage.file_length(name):
        return _Mapped(os.path.join(storage.folder, name), name)
    return storage.open_file(name)


class _Codec(W3Codec):
    def __init__(self):
        super().__init__(blocklimit=BLOCK_POSTINGS, compression=3, inlinelimit=3)

    def field_writer(self, storage, segment):
        return _FieldWriter(self, storage, segment)

    def postings_writer(self, dbfile, byteids=False):
        if byteids:
            return W3PostingsWriter(dbfile, self._blocklimit, byteids, self._compression, self._inlinelimit)
        return _PostingsWriter(dbfile, self._blocklimit, byteids, self._compression, self._inlinelimit)

    def postings_reader(self, dbfile, terminfo, format_, term=None, scorer=None):
        if terminfo.is_inlined():
            return super().postings_reader(dbfile, terminfo, format_, term, scorer)
        offset, length = terminfo.extent()
        return _Matcher(dbfile, offset, length, format_, term=term, scorer=scorer)

    def terms_reader(self, storage, segment):
        # The term table and the postings are read at random places, a few bytes at a time.
        terms = segment.make_filename(self.TERMS_EXT)
        postings = _open_mapped(storage, segment.make_filename(self.POSTS_EXT))
        return W3TermsReader(self, _open_mapped(storage, terms), storage.file_length(terms), postings)


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
    as arrays from the entries in its term table; with other internals, through Whoosh's matchers."""
    positions = isinstance(fmt, _Positions)
    with suppress(AttributeError, IndexError, TypeError, ValueError, struct.error, isal_zlib.error):
        copy, table = _Copy(renumbered, positions), reader._terms
        if not isinstance(reader.codec(), _Codec) or not isinstance(table, W3TermsReader):
            raise TypeError("another codec")
        for (name, btext), info in table.items_from(field, b""):
            if name != field:
                break
            if info.is_inlined():  # a term of one or two postings, kept in its entry
                ids, _, values = info.inlined_postings()
                places = [p for v in values for p in fmt.decode_positions(v)] if positions else []
                copy.add_few(btext, ids, [fmt.decode_frequency(v) for v in values], places)
                continue
            offset, length = info.extent()
            if isinstance(length, tuple):  # W3TermInfo.from_bytes leaves the length in unpack's tuple
                (length,) = length
            found = _blocks(table._postfile.get(offset, length), positions)
            freqs = found.counts if positions else np.rint(found.tf / fmt.field_boost).astype(np.int64)
            copy.add(btext, found.docs, freqs, found.positions if positions else None)
        return copy.lists()
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
    """Whoosh's segment writer, with the text fields' posting lists made from arrays (indexer.inversion).

    A document's text fields become term numbers as it is added, and so do those fields'
    postings in the segments a commit merges; the commit then writes each field's posting
    lists in one go, in the same format as Whoosh's path, which still carries the other fields.
    """

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


@dataclass(frozen=True)
class Filters:
    """Restrictions applied to a search, all optional."""

    source: str | None = None
    category: str | None = None
    since: dt.date | None = None
    until: dt.date | None = None
    group: str | None = None  # one group of near duplicates (indexer.duplicates)


def _syllable(forms: tuple[str, str], exact: bool) -> Q.Query:
    """One syllable of the article (title included), by its exact or folded form."""
    return Q.Term("text_x", forms[0]) if exact else Q.Term("text_f", forms[1])


def _in_title(forms: tuple[str, str], exact: bool) -> Q.Query:
    return Q.Term("title_x" if exact else "title_f", forms[0] if exact else forms[1], boost=TITLE_BOOST)


def _sequence(forms: Sequence[tuple[str, str]], exact: bool) -> Q.Query:
    """Syllables side by side (a quoted phrase, an abbreviation's long form).

    Positions are kept for folded forms only: an exact phrase is the folded
    phrase in an article that has each exact syllable.
    """
    if len(forms) == 1:
        return _syllable(forms[0], exact)
    phrase = Q.Phrase("text_f", [f for _, f in forms])
    return Q.And([phrase] + [_syllable(f, True) for f in dict.fromkeys(forms)]) if exact else phrase


def levels(parsed: ParsedQuery) -> tuple[str, ...]:
    """The matching levels to try for this query, strictest first.

    A long query typed with diacritics (a sentence, a question) skips the folded
    level: when no article holds all its syllables as typed, ranking articles by
    how many they hold beats requiring them all with the marks ignored, which
    mostly finds other words that happen to fold alike.
    """
    clauses = len(parsed.terms) + len(parsed.alternatives)
    if not parsed.accented:
        first: tuple[str, ...] = (FOLDED,)
    elif clauses + len(parsed.optional) >= LONG_QUERY:
        first = (EXACT,)
    else:
        first = (EXACT, FOLDED)
    return first + ((ANY,) if clauses > 1 else ())


def build_query(parsed: ParsedQuery, level: str = EXACT) -> Q.Query | None:
    """The Whoosh query for a parsed query at one matching level; None when it
    has nothing to match.

    At EXACT and FOLDED every plain syllable is required (AND); at ANY one will
    do (OR). Phrases are always required, exclusions always excluded; pyvi
    words and a long query's function syllables only raise the score.
    """
    exact = parsed.accented and level != FOLDED
    terms = [_syllable(t, exact) for t in parsed.terms]
    for typed, *others in parsed.alternatives:
        # An abbreviation: as typed, or any other variant of its group (folded).
        variants = [_sequence(typed, exact)] + [_sequence(v, False) for v in others]
        terms.append(Q.Or(variants))
    phrases = [_sequence(p, exact) for p in parsed.phrases]
    if not terms and not phrases:
        return None
    if level == ANY and len(terms) > 1:
        terms = [Q.Or(terms)]
    required = Q.And(terms + phrases) if len(terms) + len(phrases) > 1 else (terms + phrases)[0]

    # Only the text fields are required (one posting list per syllable); the
    # title, a long query's function syllables and pyvi words add to the score.
    boosts: list[Q.Query] = [_in_title(t, exact) for t in parsed.terms + tuple(s for p in parsed.phrases for s in p)]
    boosts += [_syllable(t, exact) for t in parsed.optional]
    if parsed.accented and not exact:
        # Matched on folded forms: the exact ones typed still rank first.
        boosts += [_syllable(t, True) for t in parsed.terms]
    boosts += [Q.Term(f, word, boost=b) for word in parsed.words for f, b in WORD_BOOST.items()]
    q = Q.AndMaybe(required, Q.Or(boosts)) if boosts else required

    if parsed.excluded:
        q = Q.AndNot(q, Q.Or([_sequence(e, _is_accented(e)) for e in parsed.excluded]))
    return q


def _is_accented(forms: Sequence[tuple[str, str]]) -> bool:
    return any(exact != folded for exact, folded in forms)


# Recency: an article published on the newest day the index holds scores up to
# RECENCY_BOOST more, halving every RECENCY_HALF_LIFE days older; undated ones get
# nothing. Relative to the newest article, so an archive's latest news counts as recent.
RECENCY_BOOST = 0.1
RECENCY_HALF_LIFE = 30


@functools.lru_cache(maxsize=4096)
def recency_factor(day: int, newest: int) -> float:
    """The score multiplier of an article published on ``day`` (YYYYMMDD, 0 if unknown)."""
    if not day or not newest:
        return 1.0
    age = max((from_day_number(newest) - from_day_number(day)).days, 0)
    return 1.0 + RECENCY_BOOST * 0.5 ** (age / RECENCY_HALF_LIFE)


class Ranking(scoring.BM25F):
    """BM25F over the fields, times the recency factor (one per reader: it reads the dates)."""

    use_final = True

    def __init__(self, reader):
        super().__init__()
        self._reader = reader
        self._days = None
        self._newest = 0

    def final(self, searcher, docnum, score):
        if self._days is None:
            self._days = self._reader.column_reader("day") if self._reader.doc_count_all() else {}
            self._newest = max((self._days[n] for n in self._reader.all_doc_ids()), default=0)
        return score * recency_factor(self._days[docnum], self._newest)


def _searcher(ix, reader) -> Searcher:
    return Searcher(reader, weighting=Ranking(reader), fromindex=ix)


# -- ranking with numpy (indexer.ranking) ---------------------------------------
# store.search reads the posting lists a query needs and the per-document values
# ranking needs (field lengths, day, source, category, near-duplicate group) into
# arrays, and does the rest with indexer.ranking: the same BM25F and recency as
# Ranking above, without a Python call per matching document.

_FIELD_LENGTHS = np.array([byte_to_length(b) for b in range(256)], np.float64)  # Whoosh's length bytes


# Reading a whole column uses Whoosh 2.7's column layout; with other internals, value by value.


def _numbers(creader, size: int, dtype) -> np.ndarray:
    """Every value of a Whoosh numeric column, read in one go (a column shorter than the segment ends in defaults)."""
    if isinstance(creader, columns.NumericColumn.Reader):
        with suppress(AttributeError):
            values = np.full(size, creader._default, dtype)
            count = min(creader._count, size)
            if count:
                raw = creader._dbfile.get(creader._basepos, count * creader._fixedlen)
                values[:count] = np.frombuffer(raw, np.dtype(">" + creader._typecode))
            return values
    return np.array([creader[n] for n in range(size)], dtype)


def _length_column(perdoc, field: str, size: int) -> np.ndarray:
    """Each document's length in ``field`` as Whoosh keeps it (a byte's worth), read in one go."""
    try:  # Whoosh 2.7's column of length bytes
        creader = perdoc._cached_reader(f"_{field}_len", LENGTHS_COLUMN)
        codes = _numbers(creader, size, np.uint8) if creader else np.zeros(size, np.uint8)
        return _FIELD_LENGTHS[codes]
    except AttributeError:
        return np.array([perdoc.doc_field_length(n, field, 0) or 0 for n in range(size)], np.float64)


def _strings(creader, size: int) -> list[bytes]:
    """Every value of a Whoosh bytes column, read in one go."""
    if isinstance(creader, columns.VarBytesColumn.Reader) and size:
        with suppress(AttributeError):
            offsets, lengths = creader._offsets, creader._lengths
            data = creader._dbfile.get(creader._basepos, offsets[-1] + lengths[-1])
            return [data[o : o + n] for o, n in zip(offsets, lengths)]
    return [creader[n] for n in range(size)]


WIDE_COLUMN_BYTES = 64 << 20  # a segment's bytes column padded to its widest value, at most


def _column_file(reader: SegmentReader, field: str):
    """(file, offset, length) of a segment's column, opened once as Whoosh opens it, without
    making Whoosh's reader (which derives a bytes column's offsets in a Python loop); None when
    the segment has no such column (every value the default)."""
    perdoc = reader._perdoc
    if not perdoc.has_column(field):
        return None
    if field not in perdoc._colfiles:
        perdoc._colfiles[field] = perdoc._get_column_file(field)
    return perdoc._colfiles[field]


def _byte_strings(reader: SegmentReader, field: str, size: int) -> np.ndarray:
    """Every value of a segment's bytes column as numpy fixed-width bytes, read in one go."""
    try:
        found = _column_file(reader, field)
    except AttributeError:  # other Whoosh internals: value by value
        return np.array(_strings(reader.column_reader(field, translate=False), size), "S")
    if found is None:
        return np.zeros(size, "S1")  # b"" throughout, the default of a bytes column
    colfile, base, length = found
    return _var_bytes(colfile, base, length, size)


def _var_bytes(colfile, base: int, length: int, size: int, wide_bytes: int = WIDE_COLUMN_BYTES) -> np.ndarray:
    """A Whoosh 2.7 VarBytesColumn: the values, then their lengths (a big-endian array), maybe
    their offsets, then the typecodes: the lengths' last, or the lengths', the offsets' and "X"."""
    end = base + length - 1
    code = chr(colfile.get_byte(end))
    if code == "X":
        code = chr(colfile.get_byte(end - 2))
        end -= 2 + size * struct.calcsize(chr(colfile.get_byte(end - 1)))
    itemsize = struct.calcsize(code)
    lengths = np.frombuffer(colfile.get(end - size * itemsize, size * itemsize), ">" + code).astype(np.int64)
    width = int(lengths.max()) if size else 0
    if not width:
        return np.zeros(size, "S1")
    raw = colfile.get(base, int(lengths.sum()))
    starts = np.cumsum(lengths) - lengths
    if size * width > wide_bytes:  # one very long value would make every row as wide
        values = np.empty(size, object)
        values[:] = [raw[a : a + n] for a, n in zip(starts.tolist(), lengths.tolist())]
        return values
    data = np.frombuffer(raw, np.uint8)
    columns_at = np.arange(width)
    inside = columns_at < lengths[:, None]
    padded = np.zeros((size, width), np.uint8)
    padded[inside] = data[(starts[:, None] + columns_at)[inside]]
    return padded.view(f"S{width}").reshape(size)


def _factorized(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each value's number, b"" first (0) and the others in order of first appearance; and the values so numbered."""
    values = np.concatenate([np.array([b""], values.dtype), values])
    unique, first, inverse = np.unique(values, return_index=True, return_inverse=True)
    order = np.argsort(first, kind="stable")
    number = np.empty(len(unique), np.int32)
    number[order] = np.arange(len(unique), dtype=np.int32)
    return number[inverse.reshape(-1)[1:]], unique[order]


# Term entries a segment keeps once looked up (Whoosh probes its on-disk hash table each time).
TERM_INFOS = 50_000


class _Segment:
    """What ranking reads of one segment, read once for as long as its reader lives."""

    def __init__(self, reader: SegmentReader):
        self.reader = reader
        self.size = size = reader.doc_count_all()
        self.live = np.ones(size, bool)
        if reader.has_deletions():
            self.live[sorted(reader.deleted_docs_set)] = False
        raw = functools.partial(reader.column_reader, translate=False)
        self.day = _numbers(raw("day"), size, np.int64)
        self.source, self.category, self.dup = (_byte_strings(reader, f, size) for f in COLUMNS[1:])
        self._lengths: dict[str, np.ndarray] = {}
        self._infos: dict[tuple[str, bytes], object] = {}

    def lengths(self, field: str) -> np.ndarray:
        if field not in self._lengths:
            self._lengths[field] = _length_column(self.reader._perdoc, field, self.size)
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
        terms = getattr(self.reader, "_terms", None)
        if isinstance(terms, W3TermsReader) and isinstance(terms._tindex, HashReader):
            # Whoosh's term_info without its checks and its exception for an absent term (most
            # terms are absent from most segments): 19 µs a segment, a third of a rare term's cost.
            with suppress(AttributeError, IndexError, TypeError, ValueError, struct.error):
                found = _hashed(terms._tindex, terms._keycoder(field, term))
                return None if found is None else W3TermInfo.from_bytes(found)
        try:
            return self.reader.term_info(field, term)
        except TermNotFound:
            return None

    def postings(self, field: str, term: bytes) -> "_Postings":
        """A term's docnums (in this segment, deleted ones included) and frequencies."""
        if self.info(field, term) is None:
            return _Postings()
        return self._read(field, term)

    def positions(self, field: str, term: bytes, within: np.ndarray | None = None) -> "_Postings":
        """A term's postings with their positions: those of the sorted docnums ``within``
        (None: all), decoded from the blocks holding them."""
        if self.info(field, term) is None:
            return _Postings()
        return self._read(field, term, values=True, within=within)

    def _read(self, field: str, term: bytes, values: bool = False, within: np.ndarray | None = None) -> "_Postings":
        with suppress(AttributeError, IndexError, TypeError, ValueError, struct.error, isal_zlib.error):
            # This format's blocks, found from the entry already looked up and decoded whole;
            # with other internals (or a few postings inlined in the entry), the public API below.
            info = self.info(field, term)
            if isinstance(self.reader.codec(), _Codec) and not info.is_inlined():
                offset, length = info.extent()
                if isinstance(length, tuple):  # W3TermInfo.from_bytes leaves the length in unpack's tuple
                    (length,) = length
                return _blocks(self.reader._terms._postfile.get(offset, length), values, within)
        m = self._matcher(field, term)
        ids, weights, counts, positions = [], [], [], []
        while m.is_active():  # e.g. a few postings inlined in the term's entry
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


_SLOT = struct.Struct("!Iq")  # a slot of Whoosh's hash tables: the key's hash, where its item is
_LENGTHS = struct.Struct("!ii")  # an item's key and value lengths, before them


def _hashed(table: HashReader, key: bytes) -> bytes | None:
    """The value under ``key`` in Whoosh's on-disk hash table, or None: what
    ``HashReader.get`` finds, the same slots probed in the same order."""
    if table.hashfn is md5_hash:  # its low 32 bits, without a hex string on the way
        keyhash = int.from_bytes(hashlib.md5(key, usedforsecurity=False).digest()[-4:], "big")
    else:
        keyhash = table.hashfn(key)
    start, slots = table.tables[keyhash & 255]
    f = table.dbfile
    slot = (keyhash >> 8) % slots if slots else 0
    for _ in range(slots):
        slothash, at = _SLOT.unpack(f.get(start + slot * _SLOT.size, _SLOT.size))
        if not at:
            return None
        if slothash == keyhash:
            keylen, datalen = _LENGTHS.unpack(f.get(at, _LENGTHS.size))
            if keylen == len(key) and f.get(at + _LENGTHS.size, keylen) == key:
                return f.get(at + _LENGTHS.size + keylen, datalen)
        slot = (slot + 1) % slots
    return None


class _Postings(NamedTuple):
    """A posting list as arrays: each document's frequency and, when read, its positions
    (``counts[i]`` of them for ``docs[i]``, one after another in ``positions``)."""

    docs: np.ndarray = np.empty(0, np.int64)
    tf: np.ndarray = np.empty(0)
    counts: np.ndarray = np.empty(0, np.int64)
    positions: np.ndarray = np.empty(0, np.int64)


def _blocks(raw: bytes, values: bool, within: np.ndarray | None = None) -> _Postings:
    """A term's postings from its blocks (``raw``: all of them, as written), with positions if asked.

    A block's first id is whole and the rest deltas: made a delta from the last id of
    the block before, the list is one cumulative sum. Positions too are deltas, each
    document's first one from 0. With ``within`` (sorted docnums), only the postings of
    those documents, from the blocks that hold one of them (the only ones decoded).
    """
    if raw[: len(WHOOSH3_HEADER_MAGIC)] != WHOOSH3_HEADER_MAGIC:
        raise ValueError("not a list of postings")
    blocks = []  # (where its arrays start, its header)
    at = len(WHOOSH3_HEADER_MAGIC)
    while True:
        size = int.from_bytes(raw[at : at + 4], "big", signed=True)
        blocks.append((at + 4 + _BLOCK.size, _Header._make(_BLOCK.unpack_from(raw, at + 4))))
        if size < 0:
            break
        at += 4 + abs(size)
    if within is not None:  # the blocks whose ids (after the last one's last) reach one of ``within``
        lasts = np.array([h.last for _, h in blocks])
        reached = np.searchsorted(within, lasts, "right")
        blocks = [b for b, keep in zip(blocks, np.diff(reached, prepend=0) > 0) if keep]
    ids, weights, counts, deltas = [], [], [], []
    last = 0
    for start, h in blocks:
        block_ids, block_weights, block_values = _block_arrays(h, raw, start, values)
        block = block_ids.astype(np.int64)
        block[0] -= last
        last = h.last
        ids.append(block)
        weights.append(np.ones(h.count) if block_weights is None else block_weights)
        if values:
            lengths, found = block_values or (np.zeros(h.count, np.uint8), np.empty(0, np.uint8))
            counts.append(lengths)
            deltas.append(found)
    if not ids:
        return _Postings()
    found = _Postings(np.cumsum(np.concatenate(ids)), np.concatenate(weights).astype(np.float64))
    keep = None if within is None else ranking.among(within, found.docs)
    if keep is not None:
        found = _Postings(found.docs[keep], found.tf[keep])
    if not values:
        return found
    n = np.concatenate(counts).astype(np.int64)
    deltas = np.concatenate(deltas)
    if keep is not None:  # each document's deltas start from 0: the others' can go before adding up
        deltas, n = deltas[np.repeat(keep, n)], n[keep]
    running = np.cumsum(deltas, dtype=np.int64)
    before = np.concatenate(([0], running[np.cumsum(n)[:-1] - 1]))  # the running sum before each document's first
    return found._replace(counts=n, positions=running - np.repeat(before, n))


_PHRASE_SPAN = 1 << 32  # above any position


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
        days, at = np.unique(self.day, return_inverse=True)
        self.recency = np.array([recency_factor(int(d), newest) for d in days])[at.reshape(-1)]
        self.facets: dict[str, tuple[np.ndarray, list]] = {}
        for name in ("source", "category"):
            codes, names = _factorized(joined([getattr(s, name) for s in self.segments], "S1"))
            self.facets[name] = (codes, [v.decode("utf-8") for v in names.tolist()])
        years, at = np.unique(self.day // 10000, return_inverse=True)
        self.facets["year"] = (at.reshape(-1).astype(np.int32), years.tolist())
        self._groups()
        self._lengths: dict[str, np.ndarray] = {}
        self._norms: dict[str, np.ndarray] = {}

    def _groups(self) -> None:
        """Number the groups of near duplicates with more than one live article, in order of
        their first live article; -1 for the rest."""
        codes, names = _factorized(np.concatenate([np.zeros(0, "S1"), *(s.dup for s in self.segments)]))
        counted = np.flatnonzero(self.live & (codes > 0))  # b"", no group, is 0
        seen, first = np.unique(codes[counted], return_index=True)
        shared = np.bincount(codes[counted], minlength=len(names))[seen] > 1
        number = np.full(len(names), -1, np.int32)
        number[seen[shared][np.argsort(first[shared], kind="stable")]] = np.arange(int(shared.sum()), dtype=np.int32)
        self.groups = number[codes]

    def lengths(self, field: str) -> np.ndarray:
        if field not in self._lengths:
            self._lengths[field] = np.concatenate([s.lengths(field) for s in self.segments])
        return self._lengths[field]

    def length_norms(self, field: str) -> np.ndarray:
        """BM25's normalisation of every document's length of ``field`` (the average is the index's)."""
        if field not in self._norms:
            avg = self.searcher.reader().field_length(field) / (self.size or 1) or 1
            self._norms[field] = ranking.length_norms(self.lengths(field), avg)
        return self._norms[field]

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

    def term(self, field: str, text: str, boost: float = 1.0) -> Matches:
        """The documents holding a term, BM25F-scored as Whoosh's Ranking scores them."""
        docs, tf = self._postings(field, text)[:2]
        if not len(docs):
            return Matches.none()
        term = self.searcher.schema[field].to_bytes(text)
        idf = ranking.idf(sum(i.doc_frequency() for s in self.segments if (i := s.info(field, term))), self.size)
        return Matches(docs, ranking.bm25(tf, self.length_norms(field)[docs], idf, boost))

    def phrase(self, q: Q.Phrase, within: np.ndarray | None = None) -> Matches:
        """A phrase: the documents holding its words side by side, scored as the sum of its words (as Whoosh does).

        The documents holding every word are found first; then each word's positions in
        them (only the blocks holding them are decompressed, and only their positions added
        up), less its place in the phrase, are matched as (document, start) numbers, the
        word with the fewest first.
        """
        words = list(dict.fromkeys(q.words))
        candidates = ranking.both([self.term(q.fieldname, w) for w in words])
        if within is not None:  # the only documents the caller wants (sorted)
            candidates = candidates.where(ranking.among(within, candidates.docs))
        if not len(candidates):
            return candidates
        places = {w: self._positions(q.fieldname, w, candidates.docs) for w in words}
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

    def matches(self, q: Q.Query) -> Matches:
        """Evaluate a query of build_query's shapes (deleted documents included: the caller drops them)."""
        if isinstance(q, Q.Term):
            return self.term(q.fieldname, q.text, q.boost)
        if isinstance(q, Q.Phrase):
            return self.phrase(q)
        if isinstance(q, Q.AndMaybe):
            required = self.matches(q.a)
            return ranking.maybe(required, self.matches(q.b)) if len(required) else required
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
            return ranking.either([self.matches(sub) for sub in q.subqueries], self.size)
        raise TypeError(f"store.search cannot evaluate {type(q).__name__} queries")

    def allowed(self, filters: Filters) -> np.ndarray | None:
        """Which documents the filters let through (None: all)."""
        mask = None
        for field, value in (("source", filters.source), ("category", filters.category), ("dup", filters.group)):
            if value:
                hits = np.zeros(self.size, bool)
                hits[self._postings(field, value).docs] = True
                mask = hits if mask is None else mask & hits
        if filters.since or filters.until:
            start = day_number(filters.since) if filters.since else 1  # undated articles are 0
            end = day_number(filters.until) if filters.until else 99999999
            dated = (self.day >= start) & (self.day <= end)
            mask = dated if mask is None else mask & dated
        return mask


@dataclass(frozen=True)
class StoredHit:
    """One ranked document as stored, before snippets are made."""

    fields: dict
    score: float
    similar: int = 0  # near duplicates that matched too, collapsed into this hit


@dataclass(frozen=True)
class StoredResults:
    total: int
    matched_all: bool
    hits: list[StoredHit]
    facets: dict[str, dict[str, int]]


def _counts(groups: dict) -> dict[str, int]:
    """Facet value → count, most frequent first; empty values (no source, no date) left out."""
    items = [(str(k), n) for k, n in groups.items() if k not in (None, "", 0, b"")]
    return dict(sorted(items, key=lambda kv: (-kv[1], kv[0])))


def _writes(method):
    """Turn an OSError while writing (a full disk, a read-only directory) into IndexWriteError.

    A writer that failed is cancelled, so its lock is released and the index keeps its last
    commit (Whoosh renames a new table of contents into place only once every file is written).
    """

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except OSError as e:
            if isinstance(self, StoreWriter):
                self._abandon()
            path = Path(args[0] if args else kwargs["path"]) if isinstance(self, type) else self.path
            raise IndexWriteError(
                f"Cannot write the index at {path}/: {e.strerror or e} — it keeps its last commit; "
                "free some space or make the directory writable, then run the command again",
                e.strerror or "",
            ) from e

    return wrapper


def _latest_reader(ix, old: dict | None = None):
    """A reader of the index's latest commit, reusing ``old`` (segment id → reader) where a segment is unchanged.

    Old readers not reused are closed. Each new segment reader opens at once the files
    Whoosh would open on first use (``_hold_files``).
    """
    old = old or {}
    for attempt in range(10):
        toc = ix._read_toc()
        readers, opened = [], []
        try:
            for seg in toc.segments:
                reader = old.get(seg.segment_id())
                if reader is None or reader.segment().deleted_count() != seg.deleted_count():
                    reader = SegmentReader(ix.storage, toc.schema, seg, generation=toc.generation)
                    opened.append(reader)
                    _hold_files(reader)
                readers.append(reader)
            break
        except OSError:
            for reader in opened:
                reader.close()
            if attempt == 9:
                raise
            # a writer merged those segments away just now: read the newer table of contents
    kept = {id(r) for r in readers}
    for reader in old.values():
        if id(reader) not in kept:
            reader.close()
    if not readers:
        return EmptyReader(toc.schema)
    return MultiReader(readers, generation=toc.generation)


def _hold_files(reader: SegmentReader) -> None:
    """Open now the files of a segment Whoosh opens on first use: stored fields, lengths, columns.

    Once a merge has committed, the writer deletes the merged segments' files; a reader that
    has them open keeps reading them, one that opens them later finds none (Whoosh then
    returns empty columns, or fails on stored fields). Raises FileNotFoundError when the
    files are already gone, so that the caller reads the newer table of contents.
    """
    if not reader.doc_count_all():
        return
    try:
        reader.stored_fields(0)
    except TypeError:  # Whoosh found no stored-fields file
        raise FileNotFoundError(errno.ENOENT, "segment merged away", reader.segment().segment_id()) from None
    for field in SCORED_FIELDS:
        reader.doc_field_length(0, field)
    for field in COLUMNS:
        try:
            _column_file(reader, field)
        except AttributeError:  # other Whoosh internals
            reader.column_reader(field)


class ArticleStore:
    """An open vnsearch index directory."""

    def __init__(self, path: Path, ix, identity: tuple[int, int] | None = None):
        self.path = path
        self._ix = ix
        self._searcher = _searcher(ix, _latest_reader(ix))
        self._arrays: _View | None = None  # made by _view() for the searcher it names
        self._identity = identity  # of the meta file: another one means the index was replaced
        self._vocabulary: IndexVocabulary | None = None  # opened by the first search

    # -- opening ----------------------------------------------------------
    @classmethod
    def open(cls, path: Path | str) -> "ArticleStore":
        """Open an existing index, refusing a missing one or one of another format."""
        path = Path(path)
        meta = path / META_FILE
        identity = _identity(path)  # before reading: a rebuild swapped in later is seen by refresh()
        if not meta.is_file() or not whoosh_index.exists_in(str(path)):
            raise IndexMissingError(f"No index at {path}/ — run: vnsearch index --index {path} PATH…")
        try:
            version = json.loads(meta.read_text("utf-8")).get("format")
        except (OSError, ValueError, AttributeError):
            version = None
        if version != FORMAT_VERSION:
            raise IndexVersionError(
                f"The index at {path}/ has format {version}, this vnsearch reads format "
                f"{FORMAT_VERSION} — run: vnsearch index --rebuild --index {path} PATH…"
            )
        return cls(path, whoosh_index.open_dir(str(path)), identity)

    @classmethod
    def create(cls, path: Path | str) -> "ArticleStore":
        """Create an empty index in a new or empty directory (``rebuild`` replaces an index)."""
        path = Path(path)
        _refuse_foreign(path)
        if path.exists() and any(path.iterdir()):
            raise FileExistsError(errno.EEXIST, "An index is already there: rebuild it to start again", str(path))
        return cls._create_in(path)

    @classmethod
    @_writes
    def _create_in(cls, path: Path) -> "ArticleStore":
        path.mkdir(parents=True, exist_ok=True)
        ix = whoosh_index.create_in(str(path), _schema())
        (path / META_FILE).write_text(json.dumps({"format": FORMAT_VERSION}) + "\n", "utf-8")
        return cls(path, ix, _identity(path))

    @classmethod
    @contextmanager
    def rebuild(cls, path: Path | str, lock_timeout: float = 10.0) -> Iterator["ArticleStore"]:
        """An empty index that takes the place of the one at ``path`` once the block ends without error.

        It is built beside ``path`` (a hidden sibling directory, on the same file system)
        and swapped in by renaming; on any error or interruption it is removed and ``path``
        is left as it was. The old index's write lock is held until the swap: waits up to
        ``lock_timeout`` seconds for a writer using it, then keeps other writers from
        committing to an index about to be replaced.
        """
        path = Path(path)
        _refuse_foreign(path)
        target = Path(os.path.realpath(path))  # a symlinked index: the directory it points to is replaced
        new = target.with_name(f"{REBUILD_PREFIX.format(target.name)}{os.getpid()}")

        def failed(step: str, e: BaseException) -> IndexWriteError:
            # An IndexWriteError of the new index names it: say what its OSError said instead.
            e = e.__cause__ if isinstance(e, IndexWriteError) and isinstance(e.__cause__, OSError) else e
            reason = getattr(e, "strerror", None) or ""
            if getattr(e, "errno", None) in (errno.EBUSY, errno.EXDEV):
                reason += " (a mount point cannot be replaced: use a directory inside it as the index)"
            return IndexWriteError(
                f"Cannot {step} {path}/: {reason or e} — {path}/ is left as it was; "
                "free some space or make the directory writable, then run the command again",
                reason,
            )

        with ExitStack() as cleanup:
            cleanup.callback(shutil.rmtree, new, ignore_errors=True)  # the unfinished new index, or the old one
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
                cleanup.enter_context(_write_locked(target, path, lock_timeout))
                _remove_stale_builds(target)
                new.mkdir()
                store = cls._create_in(new)
            except (OSError, IndexWriteError) as e:
                raise failed("write the new index beside", e) from e
            with store:
                try:
                    yield store
                except IndexWriteError as e:
                    raise failed("write the new index beside", e) from e
            try:
                _swap(new, target)
            except OSError as e:
                raise failed("put the new index in place of", e) from e

    @classmethod
    def open_or_create(cls, path: Path | str) -> "ArticleStore":
        path = Path(path)
        if not path.exists() or not any(path.iterdir()):
            return cls.create(path)
        return cls.open(path)

    def close(self) -> None:
        if self._vocabulary is not None:
            self._vocabulary.close()
        self._searcher.close()
        self._ix.close()

    def __enter__(self) -> "ArticleStore":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def vocabulary(self) -> IndexVocabulary:
        """The index's vocabulary, opened again when its file was replaced (a rebuild)."""
        if self._vocabulary is None or not self._vocabulary.is_current():
            if self._vocabulary is not None:
                self._vocabulary.close()
            self._vocabulary = IndexVocabulary(self.path)
        return self._vocabulary

    def refresh(self) -> None:
        """See what other writers committed since this store was opened, or the index a rebuild put in its place."""
        identity = _identity(self.path)
        if identity is not None and identity != self._identity:
            self._reopen()
            return
        if self._searcher.up_to_date():
            return
        self._searcher = _searcher(self._ix, self._current_reader())

    def _reopen(self) -> None:
        # Not the generation check below: a rebuilt index counts its commits from 0 again,
        # and may well be at the generation this store last saw.
        fresh = type(self).open(self.path)
        old = self._searcher
        self._ix, self._searcher, self._identity = fresh._ix, fresh._searcher, fresh._identity
        with suppress(Exception):  # its files are gone with the old index: nothing to release but memory
            old.close()

    def _current_reader(self):
        """A reader of the latest commit that reuses this store's readers of unchanged segments.

        Not Searcher.refresh(): whoosh-reloaded 2.7.5 reuses the reader of a segment that
        gained deletions (deleted and replaced articles stay visible) and keeps segments a
        merge removed. Here a reader is reused only when its segment has the same id and the
        same number of deletions (they only grow), so a commit costs the readers of the
        segments it touched, not a cold start over the whole index.
        """
        old = {r.segment().segment_id(): r for r, _ in self._searcher.reader().leaf_readers() if r.segment()}
        return _latest_reader(self._ix, old)


    def segment_count(self) -> int:
        """How many segments the index (as this store last saw it) is made of."""
        return len(self._searcher.reader().leaf_readers())

    def deleted_count(self) -> int:
        """How many deleted (or replaced) articles its segments still hold, until a merge drops them."""
        reader = self._searcher.reader()
        return reader.doc_count_all() - reader.doc_count()

    def small_segment_count(self) -> int:
        """How many of its segments hold fewer than SMALL_SEGMENT_DOCS documents."""
        return sum(1 for r, _ in self._searcher.reader().leaf_readers() if r.doc_count_all() < SMALL_SEGMENT_DOCS)

    def lock_holder(self) -> "LockHolder | None":
        """The process recorded as holding the write lock, if the lock is held."""
        lock = self._ix.lock("WRITELOCK")
        if lock.acquire():
            lock.release()
            return None
        return LockHolder.read(self.path)

    # -- reading ----------------------------------------------------------
    def __len__(self) -> int:
        return self._searcher.doc_count()

    def get(self, article_id: str) -> dict | None:
        """The stored fields of one article, or None."""
        return self._searcher.document(id=article_id)

    def fingerprints(self, ids: Iterable[str] | None = None) -> dict[str, tuple[str, str]]:
        """id → (content hash, origin) of every article (or of those of ``ids`` that are indexed), read from columns."""
        reader = self._searcher.reader()
        if reader.doc_count_all() == 0:
            return {}  # Whoosh's empty reader has no columns
        hashes = reader.column_reader("hash")
        origins = reader.column_reader("origin")
        if ids is not None:
            found = ((i, self._searcher.document_number(id=i)) for i in ids)
            return {i: (hashes[n], origins[n]) for i, n in found if n is not None}
        column = reader.column_reader("id")
        return {column[n]: (hashes[n], origins[n]) for n in reader.all_doc_ids()}

    def ids_from(self, origin: str) -> list[str]:
        """The ids of the articles read from the file ``origin``."""
        return [fields["id"] for fields in self._searcher.documents(origin=origin)]

    def stats(self) -> dict:
        """Article count, per-source counts and the published date range."""
        view = self._view()
        codes, names = view.facets["source"]
        sources = ranking.counts(codes[view.live], names)
        days = view.day[view.live & (view.day > 0)]
        return {
            "articles": self._searcher.doc_count(),
            "sources": {k: n for k, n in sorted(sources.items(), key=lambda kv: (-kv[1], kv[0])) if k},
            "first_published": from_day_number(int(days.min())) if len(days) else None,
            "last_published": from_day_number(int(days.max())) if len(days) else None,
            "size_bytes": sum(f.stat().st_size for f in self.path.iterdir() if f.is_file()),
        }

    def search(
        self,
        parsed: ParsedQuery,
        filters: Filters,
        offset: int,
        limit: int,
        newest_first: bool = False,
        collapse: bool = True,
    ) -> "StoredResults":
        """Run a parsed query: total, matched_all, hits[offset:offset+limit], facets.

        Every plain syllable is required first; if no article has them all, any
        of them will do. With ``collapse``, a group of near duplicates shows as its
        best hit, which counts the others (``similar``). Facets count sources,
        categories and years over the matching articles (filters applied), after
        collapsing, like the total.
        """
        view = self._view()
        allowed = view.allowed(filters)
        matches, level = Matches.none(), EXACT
        for level in levels(parsed):
            q = build_query(parsed, level)
            if q is None:
                break
            matches = view.matches(q)
            keep = view.live[matches.docs]
            if allowed is not None:
                keep &= allowed[matches.docs]
            matches = matches.where(keep)
            if len(matches):
                break
        matches = Matches(matches.docs, matches.scores * view.recency[matches.docs])
        keys = [view.day] if newest_first else []
        collapsed: dict[int, int] = {}
        if collapse and not filters.group:
            matches, collapsed = ranking.collapse(matches, view.groups, keys)
        hits = []
        for i in ranking.top(matches, offset + limit, keys)[offset:]:
            docnum = int(matches.docs[i])
            similar = collapsed.get(int(view.groups[docnum]), 0)  # -1, alone: never a key
            hits.append(StoredHit(self._searcher.stored_fields(docnum), float(matches.scores[i]), similar))
        facets = {}
        for name, (codes, names) in view.facets.items():
            facets[name] = _counts(ranking.counts(codes[matches.docs], names))
        return StoredResults(len(matches), level != ANY, hits, facets)

    def _view(self) -> "_View":
        """The arrays of the current searcher, made on first use after each refresh."""
        if self._arrays is None or self._arrays.searcher is not self._searcher:
            self._arrays = _View(self._searcher, self._arrays)
        return self._arrays

    def near_duplicate_candidates(self, bands: list[str]) -> list[tuple[str, int, str]]:
        """(id, fingerprint, group) of the indexed articles holding any of these fingerprint bands."""
        reader = self._searcher.reader()
        # Most bands are in no other article: a term look-up each, no query to run.
        docnums = {n for b in bands if ("dup_bands", b) in reader for n in Q.Term("dup_bands", b).docs(self._searcher)}
        found = (self._searcher.stored_fields(n) for n in sorted(docnums))
        return [(f["id"], f["minhash"], f.get("dup") or f["id"]) for f in found]

    def related(self, article_id: str, limit: int) -> list[StoredHit]:
        """Articles sharing the most distinctive words of this one (title and text)."""
        docnum = self._searcher.document_number(id=article_id)
        if docnum is None:
            return []
        fields = self._searcher.stored_fields(docnum)
        text = " ".join(
            s.exact for s in syllables(f"{fields.get('title', '')}\n{fields.get('sapo', '')}\n{fields.get('body', '')}")
        )
        # Whoosh's more_like on arrays: an OR of the text's 12 key terms (Bo1 weights), the article left out.
        key_terms = self._searcher.key_terms_from_text("text_x", text, numterms=12, normalize=False)
        if not key_terms:
            return []
        view = self._view()
        matches = view.matches(Q.Or([Q.Term("text_x", word, boost=weight) for word, weight in key_terms]))
        matches = matches.where(view.live[matches.docs] & (matches.docs != docnum))
        matches = Matches(matches.docs, matches.scores * view.recency[matches.docs])
        return [
            StoredHit(self._searcher.stored_fields(int(matches.docs[i])), float(matches.scores[i]))
            for i in ranking.top(matches, limit)
        ]

    # -- writing ----------------------------------------------------------
    @_writes
    def writer(
        self, timeout: float = 10.0, on_wait: Callable[["LockHolder | None"], None] | None = None
    ) -> "StoreWriter":
        """A writer holding the index's lock; commit() or cancel() it.

        When another process holds the lock, calls ``on_wait(holder)`` once and waits
        up to ``timeout`` seconds, then raises IndexLockedError naming the holder.
        """
        # The lock is taken here, not by Whoosh: a Whoosh writer that fails to start
        # (a full disk) would keep its lock until the garbage collector found it.
        lock = self._ix.lock("WRITELOCK")
        if not lock.acquire():
            if on_wait:
                on_wait(LockHolder.read(self.path))
            if not try_for(lock.acquire, timeout=timeout, delay=0.1):
                raise _locked_error(self.path, timeout)
        try:
            LockHolder.record(self.path)
            w = _SegmentWriter(self._ix, _lk=False, limitmb=WRITER_MEMORY_MB, compound=False, codec=_Codec())
        except BaseException:
            lock.release()  # the caller never gets this writer
            raise
        return StoreWriter(w, lock)


@dataclass(frozen=True)
class LockHolder:
    """The process that took an index's write lock, as it recorded itself."""

    pid: int
    command: str
    since: dt.datetime

    def __str__(self) -> str:
        held = (dt.datetime.now() - self.since).total_seconds()
        return f"pid {self.pid} ({self.command}), holding it since {self.since:%Y-%m-%d %H:%M:%S} ({held:.0f} s)"

    @classmethod
    def record(cls, index_dir: Path) -> None:
        """Record this process as the holder (called with the lock held)."""
        argv = sys.argv or [""]
        program = "python -c" if argv[0] == "-c" else Path(argv[0]).name or "python"
        if program == "__main__.py":  # python -m package
            program = f"python -m {Path(argv[0]).parent.name}"
        command = " ".join([program, *argv[1:]])
        data = {"pid": os.getpid(), "command": command[:300], "since": dt.datetime.now().isoformat(timespec="seconds")}
        tmp = Path(index_dir) / (LOCK_HOLDER_FILE + ".tmp")
        tmp.write_text(json.dumps(data, ensure_ascii=False) + "\n", "utf-8")
        os.replace(tmp, Path(index_dir) / LOCK_HOLDER_FILE)

    @classmethod
    def read(cls, index_dir: Path) -> "LockHolder | None":
        """The last recorded holder, or None when there is no record or its process is gone."""
        try:
            data = json.loads((Path(index_dir) / LOCK_HOLDER_FILE).read_text("utf-8"))
            holder = cls(int(data["pid"]), str(data["command"]), dt.datetime.fromisoformat(data["since"]))
        except (OSError, ValueError, KeyError, TypeError):
            return None
        return holder if _alive(holder.pid) else None  # a dead process's record: the lock is not its


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # another user's
    return True


def _locked_error(path: Path, timeout: float) -> IndexLockedError:
    holder = LockHolder.read(path)
    who = f"another writer: {holder}" if holder else "another writer (it left no record of itself)"
    return IndexLockedError(
        f"The index at {path}/ is locked by {who}; waited {timeout:g} s — "
        "try again when it has finished, or stop it",
        holder=holder,
    )


def _identity(index_dir: Path) -> tuple[int, int] | None:
    """Which meta file the index directory holds now (None: none), to tell a replaced index."""
    try:
        st = os.stat(Path(index_dir) / META_FILE)
    except OSError:
        return None
    return (st.st_dev, st.st_ino)


def _refuse_foreign(path: Path) -> None:
    """Refuse a path where no vnsearch index may be written: a file, a folder of other things."""
    if not path.exists():
        return
    if not path.is_dir():
        raise IndexMissingError(f"{path} exists and is not a directory")
    if any(path.iterdir()) and not (path / META_FILE).exists():
        raise IndexMissingError(f"{path}/ is not empty and holds no vnsearch index: refusing to overwrite it")


@contextmanager
def _write_locked(index_dir: Path, shown: Path, timeout: float) -> Iterator[None]:
    """Hold the write lock of the index in ``index_dir``, if there is one, waiting up to ``timeout`` seconds.

    Whoosh's lock file, taken without opening the index: a damaged index can be rebuilt too.
    """
    if not index_dir.is_dir() or not any(index_dir.iterdir()):
        yield
        return
    lock = FileStorage(str(index_dir)).lock(WRITE_LOCK)
    if not try_for(lock.acquire, timeout=timeout, delay=0.1):
        raise _locked_error(shown, timeout)
    try:
        with suppress(OSError):  # only a courtesy to the writers it keeps waiting
            LockHolder.record(index_dir)
        yield
    finally:
        lock.release()


def _remove_stale_builds(index_dir: Path) -> None:
    """Remove what rebuilds killed before they could clean up (SIGKILL, a power cut) left beside the index."""
    prefixes = (REBUILD_PREFIX.format(index_dir.name), ASIDE_PREFIX.format(index_dir.name))
    for entry in index_dir.parent.iterdir():
        for prefix in prefixes:
            pid = entry.name[len(prefix) :] if entry.name.startswith(prefix) else ""
            if pid.isdigit() and not _alive(int(pid)) and not entry.is_symlink() and entry.is_dir():
                shutil.rmtree(entry, ignore_errors=True)


def _swap(new: Path, index_dir: Path) -> None:
    """Put the directory ``new`` in the place of ``index_dir``; the old index ends up at ``new`` or is removed.

    In one step where Linux can swap two directories (renameat2 RENAME_EXCHANGE): a reader
    finds either index there, never none. Elsewhere the old one is renamed aside first and
    back again if the new one cannot follow.
    """
    if not index_dir.exists():
        os.rename(new, index_dir)
        return
    if _exchange(new, index_dir):
        return
    aside = index_dir.with_name(f"{ASIDE_PREFIX.format(index_dir.name)}{os.getpid()}")
    os.rename(index_dir, aside)
    try:
        os.rename(new, index_dir)
    except BaseException:
        os.rename(aside, index_dir)
        raise
    shutil.rmtree(aside, ignore_errors=True)


_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically; False where the C library or the file system cannot."""
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    if renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
        return False
    raise OSError(err, os.strerror(err), str(b))


class StoreWriter:
    """Adds and deletes articles in one Whoosh writer; nothing is visible before commit()."""

    def __init__(self, writer, lock):
        self._w = writer
        self._lock = lock  # the index's write lock, released once this writer is done

    @_writes
    def put(self, doc: dict) -> None:
        """Add or replace the article with ``doc["id"]``."""
        self._w.update_document(**doc)

    def delete(self, article_id: str) -> int:
        """Delete the article with this id; returns how many documents went (0 or 1)."""
        return self._w.delete_by_term("id", article_id)

    def delete_many(self, article_ids: Iterable[str]) -> int:
        """Delete several articles with one searcher; returns how many documents went."""
        article_ids = list(article_ids)
        if not article_ids:
            return 0
        with self._w.searcher() as s:
            return sum(self._w.delete_by_term("id", i, searcher=s) for i in article_ids)

    @_writes
    def commit(self, merge: bool = True, then: Callable[[], None] | None = None, optimize: bool = False) -> None:
        """Make the changes visible; with ``merge``, Whoosh also merges small segments (its
        tiered MERGE_SMALL policy, from five segments up: it re-encodes postings in Python,
        seconds on a loaded machine), else the new segment is only added; with ``optimize``,
        every segment is merged into one. ``then`` runs once the commit is on disk, before
        the lock is released (to update files kept beside the index)."""
        try:
            self._w.commit(merge=merge, optimize=optimize)
            if then is not None:
                then()
        finally:
            self._release()

    def cancel(self) -> None:
        try:
            self._w.cancel()
        finally:
            self._release()

    def abandon(self) -> None:
        """Give up after a failed or interrupted write (even inside commit()): drop what was added, release the lock."""
        self._abandon()

    def _abandon(self) -> None:
        """Give up after a failed write: drop what was added, release the lock."""
        try:
            with suppress(Exception):  # cancelling can meet the same full disk, or a finished writer
                self._w.cancel()
        finally:
            self._release()

    def _release(self) -> None:
        lock, self._lock = self._lock, None
        if lock is not None:
            lock.release()

    @property
    def path(self) -> Path:
        return Path(self._w.storage.folder)

