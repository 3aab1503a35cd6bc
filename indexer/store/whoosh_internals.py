"""Every read of Whoosh's private state, checked at import against the whoosh-reloaded version it was written for.

A fast read takes its path only for the Whoosh classes it knows, else logs once why and uses the
public API (``fell_back``); a damaged file raises IndexUnreadableError (``damaged``), never falls back."""

from __future__ import annotations

import errno
import hashlib
import logging
import mmap
import struct
from contextlib import contextmanager
from typing import Callable, Iterator

import numpy as np
import whoosh
from whoosh import columns
from whoosh.codec.whoosh3 import LENGTHS_COLUMN, WHOOSH3_HEADER_MAGIC, W3PerDocReader, W3TermInfo, W3TermsReader
from whoosh.filedb.filetables import HashReader, md5_hash
from whoosh.reading import EmptyReader, MultiReader, SegmentReader
from whoosh.util.numeric import byte_to_length

from ..errors import IndexUnreadableError
from ..fields import COLUMNS, SCORED_FIELDS, TEXT_SEQ
from .blocks import DECODING_ERRORS, POSTINGS_MAGIC

# The whoosh-reloaded release these reads were written and tested against (pyproject pins it).
WHOOSH_VERSION = (2, 7, 5)


def _check_version(found: tuple) -> None:
    """Refuse another Whoosh: the private names and file layouts below may have changed."""
    if tuple(found[:3]) != WHOOSH_VERSION:
        raise ImportError(
            f"vnsearch's index code was written for whoosh-reloaded {'.'.join(map(str, WHOOSH_VERSION))}, "
            f"but {'.'.join(map(str, found))} is installed — run: pip install "
            f"whoosh-reloaded=={'.'.join(map(str, WHOOSH_VERSION))}"
        )


_check_version(whoosh.__version__)
assert POSTINGS_MAGIC == WHOOSH3_HEADER_MAGIC

log = logging.getLogger(__name__)
_logged: set[str] = set()


def fell_back(why: str) -> None:
    """Log once per reason that reads go through Whoosh's public API (slower) instead."""
    if why not in _logged:
        _logged.add(why)
        log.warning("vnsearch reads the index through Whoosh's public API (slower): %s", why)


@contextmanager
def damaged(what: str) -> Iterator[None]:
    """Turn a decoding error while reading ``what`` (a file of the index) into IndexUnreadableError."""
    try:
        yield
    except DECODING_ERRORS as e:
        raise IndexUnreadableError(
            f"The index file {what} is damaged ({type(e).__name__}: {e}) — "
            "rebuild the index: vnsearch index --rebuild --index DIR PATH…"
        ) from e


_FIELD_LENGTHS = np.array([byte_to_length(b) for b in range(256)], np.float64)  # Whoosh's length bytes


def term_table(reader) -> W3TermsReader | None:
    """A segment reader's term table (with its postings file) when it is Whoosh 2.7's W3 one."""
    table = getattr(reader, "_terms", None)
    if isinstance(table, W3TermsReader) and hasattr(table, "_postfile"):
        return table
    fell_back(f"a term table of a class these reads do not know ({type(table).__name__})")
    return None


def postings_bytes(table: W3TermsReader, info: W3TermInfo) -> bytes:
    """A term's blocks of postings, all of them, from the postings file."""
    offset, length = info.extent()
    if isinstance(length, tuple):  # W3TermInfo.from_bytes leaves the length in unpack's tuple
        (length,) = length
    return table._postfile.get(offset, length)


def hash_table(table: W3TermsReader) -> tuple[HashReader, object] | None:
    """The term table's on-disk hash table and its key coder, when they are Whoosh 2.7's."""
    tindex, keycoder = getattr(table, "_tindex", None), getattr(table, "_keycoder", None)
    if isinstance(tindex, HashReader) and callable(keycoder):
        return tindex, keycoder
    fell_back(f"a term table whose hash table is of a class these reads do not know ({type(tindex).__name__})")
    return None


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


def looked_up(table: W3TermsReader, field: str, term: bytes):
    """A term's entry in the term table (None: absent), or NotImplemented when the table is not Whoosh 2.7's."""
    found = hash_table(table)
    if found is None:
        return NotImplemented
    tindex, keycoder = found
    raw = _hashed(tindex, keycoder(field, term))
    return None if raw is None else W3TermInfo.from_bytes(raw)


def _numbers(creader, size: int, dtype) -> np.ndarray:
    """Every value of a Whoosh numeric column, read in one go (a column shorter than the segment ends in defaults)."""
    if isinstance(creader, columns.NumericColumn.Reader):
        try:
            default, count, dbfile = creader._default, creader._count, creader._dbfile
            basepos, fixedlen, typecode = creader._basepos, creader._fixedlen, creader._typecode
        except AttributeError as e:
            fell_back(f"a numeric column reader without {e.name}")
        else:
            values = np.full(size, default, dtype)
            count = min(count, size)
            if count:
                values[:count] = np.frombuffer(dbfile.get(basepos, count * fixedlen), np.dtype(">" + typecode))
            return values
    return np.array([creader[n] for n in range(size)], dtype)


def _length_column(perdoc, field: str, size: int) -> np.ndarray:
    """Each document's length in ``field`` as Whoosh keeps it (a byte's worth), read in one go."""
    cached = getattr(perdoc, "_cached_reader", None) if isinstance(perdoc, W3PerDocReader) else None
    if cached is None:
        fell_back(f"field lengths kept by a {type(perdoc).__name__}")
        return np.array([perdoc.doc_field_length(n, field, 0) or 0 for n in range(size)], np.float64)
    creader = cached(f"_{field}_len", LENGTHS_COLUMN)  # Whoosh 2.7's column of length bytes
    codes = _numbers(creader, size, np.uint8) if creader else np.zeros(size, np.uint8)
    return _FIELD_LENGTHS[codes]


def field_lengths(reader: SegmentReader, field: str) -> np.ndarray:
    """Each document's length in ``field`` in one segment."""
    return _length_column(reader._perdoc, field, reader.doc_count_all())


def _strings(creader, size: int) -> list[bytes]:
    """Every value of a Whoosh bytes column, read in one go."""
    if isinstance(creader, columns.VarBytesColumn.Reader) and size:
        try:
            offsets, lengths, dbfile, basepos = creader._offsets, creader._lengths, creader._dbfile, creader._basepos
        except AttributeError as e:
            fell_back(f"a bytes column reader without {e.name}")
        else:
            data = dbfile.get(basepos, offsets[-1] + lengths[-1])
            return [data[o : o + n] for o, n in zip(offsets, lengths)]
    return [creader[n] for n in range(size)]


WIDE_COLUMN_BYTES = 64 << 20  # a segment's bytes column padded to its widest value, at most


def _column_file(reader: SegmentReader, field: str):
    """(file, offset, length) of a segment's column, opened once as Whoosh opens it, without
    making Whoosh's reader (which derives a bytes column's offsets in a Python loop); None when
    the segment has no such column; NotImplemented with other internals."""
    perdoc = reader._perdoc
    if not isinstance(perdoc, W3PerDocReader) or not hasattr(perdoc, "_colfiles"):
        fell_back(f"columns kept by a {type(perdoc).__name__}")
        return NotImplemented
    if not perdoc.has_column(field):
        return None
    if field not in perdoc._colfiles:
        perdoc._colfiles[field] = perdoc._get_column_file(field)
    return perdoc._colfiles[field]


def _byte_strings(reader: SegmentReader, field: str, size: int) -> np.ndarray:
    """Every value of a segment's bytes column as numpy fixed-width bytes, read in one go."""
    found = _column_file(reader, field)
    if found is NotImplemented:
        return np.array(_strings(reader.column_reader(field, translate=False), size), "S")
    if found is None:
        return np.zeros(size, "S1")  # b"" throughout, the default of a bytes column
    colfile, base, length = found
    with damaged(reader.segment().make_filename(f".{field}.col")):
        return _var_bytes(colfile, base, length, size)


def _var_bytes_lengths(colfile, base: int, length: int, size: int) -> np.ndarray:
    """A Whoosh 2.7 VarBytesColumn: the values, then their lengths (a big-endian array), maybe
    their offsets, then the typecodes: the lengths' last, or the lengths', the offsets' and "X"."""
    end = base + length - 1
    code = chr(colfile.get_byte(end))
    if code == "X":
        code = chr(colfile.get_byte(end - 2))
        end -= 2 + size * struct.calcsize(chr(colfile.get_byte(end - 1)))
    itemsize = struct.calcsize(code)
    return np.frombuffer(colfile.get(end - size * itemsize, size * itemsize), ">" + code).astype(np.int64)


def _var_bytes(colfile, base: int, length: int, size: int, wide_bytes: int = WIDE_COLUMN_BYTES) -> np.ndarray:
    """Every value of a Whoosh 2.7 VarBytesColumn (``_var_bytes_lengths``) as numpy fixed-width bytes."""
    lengths = _var_bytes_lengths(colfile, base, length, size)
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


def bytes_values(reader: SegmentReader, field: str) -> Callable[[np.ndarray], list[bytes]] | None:
    """The values of some documents of a segment's bytes column, by docnum (Whoosh 2.7's layout
    read once, each value read on its own); None when the segment has no such column."""
    found = _column_file(reader, field)
    if found is NotImplemented:
        creader = reader.column_reader(field, translate=False)
        return lambda docs: [creader[d] for d in docs.tolist()]
    if found is None:
        return None
    colfile, base, length = found
    name = reader.segment().make_filename(f".{field}.col")
    with damaged(name):
        lengths = _var_bytes_lengths(colfile, base, length, reader.doc_count_all())
        starts = base + np.cumsum(lengths) - lengths
        if len(lengths) and starts[-1] + lengths[-1] > base + length:
            raise ValueError(f"values past the column's {length} bytes")
    data = _mapped(colfile)
    if data is not None:  # a slice of the mapped file: no seek and read per value
        return lambda docs: [data[a : a + n] for a, n in zip(starts[docs].tolist(), lengths[docs].tolist())]

    def values(docs: np.ndarray) -> list[bytes]:
        with damaged(name):
            return [colfile.get(at, n) for at, n in zip(starts[docs].tolist(), lengths[docs].tolist())]

    return values


def _mapped(colfile) -> mmap.mmap | None:
    """The whole file under a StructFile, mapped read-only; None when it is no real file."""
    try:
        return mmap.mmap(colfile.file.fileno(), 0, access=mmap.ACCESS_READ)
    except (AttributeError, OSError, ValueError):  # in memory, or an empty file
        return None


def latest_reader(ix, old: dict | None = None):
    """A reader of the index's latest commit, reusing ``old`` (segment id → reader) where a segment is
    unchanged and closing the others; new segment readers open their files at once (``_hold_files``)."""
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
    """Open now the files of a segment Whoosh opens on first use (stored fields, lengths, columns);
    FileNotFoundError when they are gone already, so that the caller reads the newer TOC."""
    # A committed merge deletes the merged segments' files: a reader that has them open keeps
    # reading them, one that opens them later finds none.
    if not reader.doc_count_all():
        return
    try:
        reader.stored_fields(0)
    except TypeError:  # Whoosh found no stored-fields file
        raise FileNotFoundError(errno.ENOENT, "segment merged away", reader.segment().segment_id()) from None
    for field in SCORED_FIELDS:
        reader.doc_field_length(0, field)
    for field in COLUMNS + (TEXT_SEQ,):
        if _column_file(reader, field) is NotImplemented:
            reader.column_reader(field)
