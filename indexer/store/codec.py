"""Whoosh's W3 codec writing and reading this store's posting blocks, and the two text formats.

W3's files and term table as they are; its matcher reads the blocks through ``_Matcher``, so
Whoosh's search and merging keep working. Overrides W3's private hooks (docs/index-format.md)."""

from __future__ import annotations

import functools
import hashlib
import itertools
import mmap
import os
import pickle
import re
import struct
from array import array
from collections import Counter

import numpy as np
from whoosh import formats
from whoosh.codec.whoosh3 import W3Codec, W3FieldWriter, W3LeafMatcher, W3PostingsWriter, W3TermsReader
from whoosh.filedb.filestore import FileStorage
from whoosh.filedb.filetables import OrderedHashWriter, md5_hash
from whoosh.filedb.structfile import StructFile
from whoosh.system import pack_int, pack_long, pack_uint, pack_ushort
from whoosh.util.numeric import byte_to_length, length_to_byte

from ..inversion import Inverted
from .whoosh_internals import _length_column  # importing it checks the Whoosh version
from .blocks import (
    _BLOCK,
    _DTYPES,
    _NO_VALUES,
    POSTINGS_MAGIC,
    _block_arrays,
    _encoded_block,
    _encoded_blocks,
    _Header,
    _little,
    _packed,
)

BLOCK_POSTINGS = 1024  # W3 writes 128 per block; ranking reads whole lists, so bigger blocks cost less
_TOKEN = re.compile(r"[^ \t\r\n]+")  # what Whoosh's SpaceSeparatedTokenizer splits on
# What str.split() splits on besides: the other characters for which str.isspace() holds.
_OTHER_SPACE = re.compile("[\x0b\x0c\x1c-\x1f\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]")


def _tokens(value: str) -> list[str]:
    """A text field's tokens (its index forms), as the field's analyzer splits them, at str.split()'s speed."""
    return _TOKEN.findall(value) if _OTHER_SPACE.search(value) else value.split()


class _Frequency(formats.Frequency):
    """Frequencies, counted from the field's space-separated tokens without making a Whoosh token of each.

    A block keeps them once, as weights (W3 keeps them twice: as weights, and as values).
    """

    __module__ = "indexer.store"  # part of the on-disk format: every index's TOC pickles this path

    def word_values(self, value, analyzer, **kwargs):
        boost = self.field_boost
        return ((w, n, n * boost, pack_uint(n)) for w, n in Counter(_tokens(value)).items())


class _Positions(formats.Positions):
    """A term's positions in one document as a little-endian uint32 array of deltas (W3's format pickles them)."""

    __module__ = "indexer.store"  # part of the on-disk format: every index's TOC pickles this path

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
            self._postfile.write(POSTINGS_MAGIC)
        self._terminfo.add_block(self)
        block = _encoded_block(
            np.asarray(self._ids),
            np.asarray(self._weights),
            self._mini_values(),
            max_weight=self._maxweight,
            min_length=length_to_byte(self._minlength),
            max_length=length_to_byte(self._maxlength),
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
        if fieldname not in self._fields:  # a field without lengths: zeros (Whoosh writes no length then)
            lengths = _length_column(self._perdoc, fieldname, self._perdoc.doc_count_all())
            self._fields[fieldname] = lengths.astype(np.int64).tolist()
        return self._fields[fieldname][docnum]


class _FieldWriter(W3FieldWriter):
    """W3's, with a field's term entries written in one go once it is finished, and ``add_inverted``."""

    def add_postings(self, schema, lengths, items):
        super().add_postings(schema, _Lengths(lengths) if lengths else lengths, items)

    def start_field(self, fieldname, fieldobj):
        super().start_field(fieldname, fieldobj)
        self._entries: tuple[list[bytes], list[bytes]] = ([], [])  # the field's term keys, their entries

    def finish_term(self):
        terminfo = self._postwriter.finish_postings()
        keys, values = self._entries
        keys.append(pack_ushort(self._fieldid) + self._btext)
        values.append(terminfo.to_bytes())

    def finish_field(self):
        _add_all(self._tindex, *self._entries)
        self._entries = ([], [])
        super().finish_field()

    def close(self):
        table = self._tindex
        if type(table) is OrderedHashWriter:
            table._write_hashes = functools.partial(_write_hashes, table)
        super().close()

    def add_inverted(self, fieldname: str, fieldobj, inverted: Inverted, lengths: np.ndarray) -> None:
        """Write a field's posting lists from arrays, as add_postings would write them one by one.

        ``lengths``: each document's length in this field, as Whoosh keeps it (a byte's worth).
        """
        self.start_field(fieldname, fieldobj)
        terms, bounds, docs, freqs, deltas = inverted
        if terms:
            weights = (freqs * fieldobj.format.field_boost).astype(np.float32)  # as W3 keeps them
            entries = _TermEntries(bounds, docs, weights, lengths[docs], self._codec._inlinelimit)
            inlined = entries.inlined_values(freqs, deltas)
            written = self._write_lists(entries, freqs, deltas)
            heads = entries.heads.tobytes()
            size = _TERM_INFO.itemsize
            prefix = pack_ushort(self._fieldid)
            keys, values = self._entries
            keys += [prefix + term.encode("utf-8") for term in terms]
            tails = [inlined[i] if is_inlined else written[i] for i, is_inlined in enumerate(entries.is_inlined)]
            values += [heads[i * size : (i + 1) * size] + tail for i, tail in enumerate(tails)]
        self.finish_field()

    def _write_lists(self, entries: "_TermEntries", freqs: np.ndarray, deltas: np.ndarray | None) -> dict[int, bytes]:
        """The lists of the terms not inlined written to the postings file, in term order: each term's
        extent (W3TermInfo's offset and length) by its number."""
        terms = np.flatnonzero(~entries.inlined)
        if not len(terms):
            return {}
        codec, bounds = self._codec, entries.bounds
        kept = np.repeat(~entries.inlined, np.diff(bounds))  # the postings of those terms, in order
        sizes = np.diff(bounds)[terms]
        term_starts = np.cumsum(sizes) - sizes
        # Each term's blocks: BLOCK_POSTINGS postings each, its last one what is left.
        per_term = -(-sizes // codec._blocklimit)
        first_block = np.cumsum(per_term) - per_term
        block_of_term = np.repeat(np.arange(len(terms)), per_term)
        starts = term_starts[block_of_term] + (np.arange(per_term.sum()) - first_block[block_of_term]) * codec._blocklimit
        lasts = np.zeros(len(starts), bool)
        lasts[first_block + per_term - 1] = True
        posting_lengths = entries.lengths[kept]
        values = None
        if deltas is not None:
            values = (freqs[kept], deltas[np.repeat(kept, freqs)])
        blocks = _encoded_blocks(
            starts,
            entries.docs[kept],
            entries.weights[kept],
            values,
            min_lengths=_length_bytes(np.minimum.reduceat(posting_lengths, starts)),
            max_lengths=_length_bytes(np.maximum.reduceat(posting_lengths, starts)),
            lasts=lasts.tolist(),
            compression=codec._compression,
        )
        postfile = self._postfile
        extents = {}
        block_bounds = np.append(first_block, len(blocks)).tolist()
        for term, a, b in zip(terms.tolist(), block_bounds[:-1], block_bounds[1:]):
            written = POSTINGS_MAGIC + b"".join(blocks[a:b])
            extents[term] = pack_long(postfile.tell()) + pack_int(len(written))
            postfile.write(written)
        return extents


_ITEM_LENGTHS = struct.Struct("!ii")  # before an item of Whoosh's hash file: its key's and its value's lengths


def _add_all(table: OrderedHashWriter, keys: list[bytes], values: list[bytes]) -> None:
    """``table.add(key, value)`` for each pair (keys in increasing order), written in one go."""
    if type(table) is not OrderedHashWriter or table.hashfn is not md5_hash:
        for key, value in zip(keys, values):
            table.add(key, value)
        return
    if keys and keys[0] <= table.lastkey:
        raise ValueError(f"Keys must increase: {table.lastkey!r}..{keys[0]!r}")
    at = table.dbfile.tell()
    buckets, places, parts = table.buckets, [], []
    for key, value in zip(keys, values):
        places.append(at)
        keyhash = int.from_bytes(hashlib.md5(key, usedforsecurity=False).digest()[-4:], "big")  # md5_hash's low 32 bits
        buckets[keyhash & 255].append((keyhash, at))
        parts += (_ITEM_LENGTHS.pack(len(key), len(value)), key, value)
        at += _ITEM_LENGTHS.size + len(key) + len(value)
    table.dbfile.write(b"".join(parts))
    table.index.extend(places)
    if keys:
        table.lastkey = keys[-1]


_SLOTS = np.dtype([("hash", ">u4"), ("at", ">i8")])  # a slot of Whoosh's hash tables ("!Iq")


def _write_hashes(table: OrderedHashWriter) -> None:
    """``HashWriter._write_hashes``: the same 256 tables, slots probed in the same order, each
    table written in one go (not a slot at a time)."""
    dbfile, null = table.dbfile, (0, 0)
    for entries in table.buckets:
        slots = 2 * len(entries)
        table.directory.append((dbfile.tell(), slots))
        found = [null] * slots
        for keyhash, at in entries:
            slot = (keyhash >> 8) % slots
            while found[slot] != null:
                slot = (slot + 1) % slots
            found[slot] = (keyhash, at)
        dbfile.write(np.array(found, _SLOTS).tobytes())


# W3TermInfo.to_bytes' fixed part ("!BfIBBfII"): inlined or not, total weight, postings, shortest
# and longest field length (as bytes), largest weight, first and last docnum.
_TERM_INFO = np.dtype([
    ("inlined", "u1"), ("weight", ">f4"), ("df", ">u4"), ("min_length", "u1"), ("max_length", "u1"),
    ("max_weight", ">f4"), ("min_id", ">u4"), ("max_id", ">u4"),
])


def _length_bytes(lengths: np.ndarray) -> list[int]:
    """Whoosh's ``length_to_byte`` of each of ``lengths`` (called once per distinct length)."""
    distinct, where = np.unique(lengths, return_inverse=True)
    return np.array([length_to_byte(n) for n in distinct.tolist()], np.uint8)[where].tolist()


class _TermEntries:
    """What the term table says of each of a field's terms (postings ``bounds[i]`` to ``bounds[i + 1]``)
    in W3TermInfo's layout, computed for all of them at once."""

    def __init__(self, bounds: np.ndarray, docs: np.ndarray, weights: np.ndarray, lengths: np.ndarray, inline_limit: int):
        self.bounds, self.docs, self.weights, self.lengths = bounds, docs, weights, lengths
        starts, df = bounds[:-1], np.diff(bounds)
        self.inlined = df < inline_limit
        self.is_inlined = self.inlined.tolist()
        heads = np.zeros(len(df), _TERM_INFO)
        heads["inlined"] = self.inlined
        heads["weight"] = _term_weights(weights, bounds)
        heads["df"] = df
        heads["min_length"] = _length_bytes(np.minimum.reduceat(lengths, starts))
        heads["max_length"] = _length_bytes(np.maximum.reduceat(lengths, starts))
        heads["max_weight"] = np.maximum.reduceat(weights, starts)
        heads["min_id"] = docs[starts]
        heads["max_id"] = docs[bounds[1:] - 1]
        self.heads = heads

    def inlined_values(self, freqs: np.ndarray, deltas: np.ndarray | None) -> dict[int, bytes]:
        """The inlined terms' postings as W3TermInfo pickles them (ids, weights, each posting's
        value bytes), by term number."""
        terms = np.flatnonzero(self.inlined)
        kept = np.repeat(self.inlined, np.diff(self.bounds))
        ids, weights, counts = self.docs[kept].tolist(), self.weights[kept].tolist(), freqs[kept]
        if deltas is None:  # a frequency as pack_uint packs it
            raw, ends = counts.astype(">u4").tobytes(), range(4, 4 * len(ids) + 1, 4)
        else:  # positions as _Positions.encode packs them
            raw, ends = deltas[np.repeat(kept, freqs)].astype(_DTYPES["I"]).tobytes(), np.cumsum(counts * 4).tolist()
        # A bytes object of its own for each posting, as W3 pickles them: pickle writes a second
        # reference to the same object as a back-reference, not as the bytes again.
        values = [raw[a:b] for a, b in zip([0, *ends], ends)]
        sizes = np.diff(self.bounds)[terms].tolist()
        found, at = {}, 0
        for term, n in zip(terms.tolist(), sizes):
            end = at + n
            found[term] = pickle.dumps((tuple(ids[at:end]), tuple(weights[at:end]), tuple(values[at:end])), 2)
            at = end
        return found


def _term_weights(weights: np.ndarray, bounds: np.ndarray) -> np.ndarray | list[float]:
    """Each term's total weight, as W3TermInfo adds its postings' weights up (Python's ``sum``)."""
    wide = weights.astype(np.float64)
    if np.array_equal(wide, np.floor(wide)) and wide.sum() < 2**53:  # whole numbers: exact in any order
        return np.add.reduceat(wide, bounds[:-1])
    listed = wide.tolist()
    return [sum(listed[a:b]) for a, b in zip(bounds[:-1].tolist(), bounds[1:].tolist())]


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
    """W3 with this store's blocks, bigger blocks, and terms of one or two postings inlined."""

    __module__ = "indexer.store"  # part of the on-disk format: every index's TOC pickles this path

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
