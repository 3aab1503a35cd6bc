"""The byte layout of a block of postings, with numpy and struct only (docs/index-format.md).

A fixed header, then two parts compressed on their own: ids and weights, then positions. Each is
a little-endian array of the narrowest type, read in one call; a search without phrases skips positions."""

from __future__ import annotations

import struct
import sys
import threading
import zlib
from array import array
from collections import OrderedDict
from typing import NamedTuple, Sequence

import numpy as np
from isal import isal_zlib

from .. import ranking

# The mark at the start of a term's list of blocks: Whoosh 2.7's W3 codec writes it too
# (whoosh_internals checks that the two agree).
POSTINGS_MAGIC = b"W3Bl"
_DTYPES = {"B": np.dtype("<u1"), "H": np.dtype("<u2"), "I": np.dtype("<u4"), "f": np.dtype("<f4")}
assert array("I").itemsize == 4 and array("f").itemsize == 4
# After W3's signed block length (negative for the last block): postings, last id, largest
# weight, shortest and longest field length (as bytes), which parts are compressed, the
# array codes of ids, weights, value lengths and values ("-": none), the two parts' sizes.
_BLOCK = struct.Struct("<IIfBBB4sII")
_ZIPPED_IDS, _ZIPPED_VALUES = 1, 2
_NO_VALUES = (("-", b""), ("-", b""))
_SIGNED_SIZE = struct.Struct("!i")  # W3's block length (StructFile.write_int)
_WIDTHS = {1: "B", 2: "H", 4: "I"}  # bytes per number -> array typecode, as ``_packed`` chooses
# No zlib stream of any input is shorter than its 2-byte header, 4-byte checksum and 3 bytes of
# deflate (a block header, a literal and the end code): compressing this little never pays.
_NEVER_SMALLER = 9
# What a damaged block raises while it is decoded.
DECODING_ERRORS = (struct.error, zlib.error, isal_zlib.error, ValueError, IndexError, KeyError)


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


def _encoded_block(
    ids: np.ndarray,
    weights: np.ndarray,
    values: tuple[tuple[str, bytes], tuple[str, bytes]],
    *,
    max_weight: float,
    min_length: int,
    max_length: int,
    compression: int,
    last: bool,
) -> bytes:
    """One block of postings after its size (negative: the term's last block). ``values``: (lengths,
    values) as ``_packed`` gives them, or _NO_VALUES; ``min_length``/``max_length``: Whoosh's length bytes."""
    id_code, id_bytes = _packed(np.diff(ids.astype(np.int64), prepend=0))
    weight_code, weight_bytes = _weights_part(weights)
    (length_code, length_bytes), (value_code, value_bytes) = values
    zipped_ids, ids_part = _squeezed(id_bytes + weight_bytes, compression, _ZIPPED_IDS)
    zipped_values, values_part = _squeezed(length_bytes + value_bytes, compression, _ZIPPED_VALUES)
    header = _BLOCK.pack(
        len(ids),
        int(ids[-1]),
        max_weight,
        min_length,
        max_length,
        zipped_ids | zipped_values,
        (id_code + weight_code + length_code + value_code).encode("ascii"),
        len(ids_part),
        len(values_part),
    )
    size = len(header) + len(ids_part) + len(values_part)
    return _SIGNED_SIZE.pack(-size if last else size) + header + ids_part + values_part


def _encoded_blocks(
    starts: np.ndarray,
    ids: np.ndarray,
    weights: np.ndarray,
    values: tuple[np.ndarray, np.ndarray] | None,
    *,
    min_lengths: Sequence[int],
    max_lengths: Sequence[int],
    lasts: Sequence[bool],
    compression: int,
) -> list[bytes]:
    """Many blocks at once, each as ``_encoded_block`` encodes it: block i holds postings ``starts[i]``
    up to the next start (the last, to the end). ``values``: None, or (counts, deltas) of positions,
    ``counts[j]`` deltas for posting j, one after another; the rest are per block, as ``_encoded_block``'s."""
    starts = np.asarray(starts, np.int64)
    ids = np.asarray(ids, np.int64)
    bounds = np.append(starts, len(ids)).tolist()
    id_deltas = np.diff(ids, prepend=0)
    id_deltas[starts] = ids[starts]  # a block's first id is whole
    id_parts = _packed_each(id_deltas, starts)
    weight_parts = _weights_each(weights, starts)
    if values is None:
        value_parts = [b""] * len(starts)
        value_codes = ["--"] * len(starts)
    else:
        counts, deltas = np.asarray(values[0], np.int64), values[1]
        count_parts = _packed_each(counts, starts)
        delta_starts = (np.cumsum(counts) - counts)[starts]
        delta_parts = _packed_each(deltas, delta_starts)
        value_parts = [a + b for (_, a), (_, b) in zip(count_parts, delta_parts)]
        value_codes = [a + b for (a, _), (b, _) in zip(count_parts, delta_parts)]
    max_weights = np.maximum.reduceat(weights, starts).tolist()
    last_ids = ids[np.array(bounds[1:]) - 1].tolist()
    blocks = []
    for i, ((id_code, id_bytes), (weight_code, weight_bytes)) in enumerate(zip(id_parts, weight_parts)):
        zipped_ids, ids_part = _squeezed(id_bytes + weight_bytes, compression, _ZIPPED_IDS)
        zipped_values, values_part = _squeezed(value_parts[i], compression, _ZIPPED_VALUES)
        header = _BLOCK.pack(
            bounds[i + 1] - bounds[i],
            last_ids[i],
            max_weights[i],
            min_lengths[i],
            max_lengths[i],
            zipped_ids | zipped_values,
            (id_code + weight_code + value_codes[i]).encode("ascii"),
            len(ids_part),
            len(values_part),
        )
        size = len(header) + len(ids_part) + len(values_part)
        blocks.append(_SIGNED_SIZE.pack(-size if lasts[i] else size) + header + ids_part + values_part)
    return blocks


def _packed_each(numbers: np.ndarray, starts: np.ndarray) -> list[tuple[str, bytes]]:
    """``_packed`` of each part of ``numbers`` that starts at one of ``starts`` (the last goes to the end)."""
    numbers = np.asarray(numbers, np.int64)
    tops = np.maximum.reduceat(numbers, starts)
    widths = np.where(tops < 1 << 8, 1, np.where(tops < 1 << 16, 2, 4))
    sizes = np.diff(np.append(starts, len(numbers)))
    of_number = np.repeat(widths, sizes)
    parts: list = [None] * len(starts)
    for width, code in _WIDTHS.items():  # the parts of one width cast together, then cut apart
        chosen = np.flatnonzero(widths == width)
        if not len(chosen):
            continue
        raw = numbers[of_number == width].astype(_DTYPES[code]).tobytes()
        ends = (np.cumsum(sizes[chosen]) * width).tolist()
        for i, a, b in zip(chosen.tolist(), [0, *ends[:-1]], ends):
            parts[i] = (code, raw[a:b])
    return parts


def _weights_each(weights: np.ndarray, starts: np.ndarray) -> list[tuple[str, bytes]]:
    """``_weights_part`` of each part of ``weights`` that starts at one of ``starts`` (the last goes to the end)."""
    ones = np.logical_and.reduceat(weights == 1.0, starts)
    whole_numbers = weights.astype(np.int64)
    whole = np.logical_and.reduceat(whole_numbers == weights, starts)
    floats = weights.astype(_DTYPES["f"]).tobytes()
    packed = _packed_each(whole_numbers, starts) if whole.any() else None
    bounds = np.append(starts, len(weights)).tolist()
    return [
        ("-", b"") if one else packed[i] if is_whole else ("f", floats[a * 4 : b * 4])
        for i, (one, is_whole, a, b) in enumerate(zip(ones.tolist(), whole.tolist(), bounds[:-1], bounds[1:]))
    ]


def _squeezed(raw: bytes, level: int, flag: int) -> tuple[int, bytes]:
    """``raw`` compressed (with ``flag``), or as it is when compressing would not make it smaller."""
    if len(raw) <= _NEVER_SMALLER:
        return 0, raw
    packed = zlib.compress(raw, level)
    return (flag, packed) if len(packed) < len(raw) else (0, raw)


def _block_arrays(h: _Header, raw: bytes, at: int, values: bool) -> tuple:
    """A block's id deltas, weights (None: all 1) and, if asked and kept, (value lengths, values) as arrays."""
    codes = h.codes.decode("ascii")
    part = raw[at : at + h.ids_size]
    if h.zipped & _ZIPPED_IDS:
        part = isal_zlib.decompress(part)  # ISA-L's inflate gives zlib's output, faster
    ids = np.frombuffer(part, _DTYPES[codes[0]], h.count)
    weights = None if codes[1] == "-" else np.frombuffer(part, _DTYPES[codes[1]], h.count, ids.nbytes)
    if not values or codes[2] == "-":
        return ids, weights, None
    part = raw[at + h.ids_size : at + h.ids_size + h.values_size]
    if h.zipped & _ZIPPED_VALUES:
        part = isal_zlib.decompress(part)
    lengths = np.frombuffer(part, _DTYPES[codes[2]], h.count)
    return ids, weights, (lengths, np.frombuffer(part, _DTYPES[codes[3]], offset=lengths.nbytes))


class _Postings(NamedTuple):
    """A posting list as arrays: each document's frequency and, when read, its positions
    (``counts[i]`` of them for ``docs[i]``, one after another in ``positions``)."""

    docs: np.ndarray = np.empty(0, np.int64)
    tf: np.ndarray = np.empty(0)
    counts: np.ndarray = np.empty(0, np.int64)
    positions: np.ndarray = np.empty(0, np.int64)


def _headers(raw: bytes) -> list[tuple[int, _Header]]:
    """A term's blocks (``raw``: all of them, as written): where each one's arrays start, and its header."""
    if raw[: len(POSTINGS_MAGIC)] != POSTINGS_MAGIC:
        raise ValueError("not a list of postings")
    blocks = []
    at = len(POSTINGS_MAGIC)
    while True:
        size = int.from_bytes(raw[at : at + 4], "big", signed=True)
        blocks.append((at + 4 + _BLOCK.size, _Header._make(_BLOCK.unpack_from(raw, at + 4))))
        if size < 0:
            return blocks
        at += 4 + abs(size)


class BlockBounds(NamedTuple):
    """What a term's block headers say of each block: its last docnum, largest weight and shortest
    field length (Whoosh's length byte), without decoding a posting."""

    lasts: np.ndarray  # int64
    max_weights: np.ndarray  # float64
    min_lengths: np.ndarray  # uint8


def block_bounds(raw: bytes) -> BlockBounds:
    """The headers of a term's blocks (``raw``: all of them, as written), as arrays."""
    headers = [h for _, h in _headers(raw)]
    return BlockBounds(
        np.array([h.last for h in headers], np.int64),
        np.array([h.max_weight for h in headers], np.float64),
        np.array([h.min_length for h in headers], np.uint8),
    )


def in_ranges(docs: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Which of ``docs`` lie in one of the ranges [starts[i], ends[i]) (sorted, not overlapping)."""
    at = np.searchsorted(ends, docs, "right")
    inside = at < len(ends)
    inside[inside] = starts[at[inside]] <= docs[inside]
    return inside


def meeting(lasts: np.ndarray, ranges: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """The indexes of the blocks (each one's ids after the last one's ``lasts``) that meet one of
    ``ranges`` ((starts, ends) as ``in_ranges`` takes them)."""
    firsts = np.concatenate(([0], lasts[:-1] + 1))
    starts, ends = ranges
    at = np.searchsorted(ends, firsts, "right")  # the first range ending past the block's first id
    meets = at < len(ends)
    meets[meets] = starts[at[meets]] <= lasts[meets]
    return np.flatnonzero(meets)


class BlockReader:
    """A term's blocks, each decoded once however many times it is asked for (``top``'s rounds)."""

    def __init__(self, raw: bytes):
        self.raw = raw
        self.blocks = _headers(raw)
        self.lasts = np.array([h.last for _, h in self.blocks], np.int64)
        self._decoded: dict[int, tuple[np.ndarray, np.ndarray]] = {}

    def postings_in(self, ranges: tuple[np.ndarray, np.ndarray]) -> _Postings:
        """The docnums and frequencies of the postings in ``ranges``."""
        parts = [self._block(int(i)) for i in meeting(self.lasts, ranges)]
        if not parts:
            return _Postings()
        docs = np.concatenate([d for d, _ in parts])
        tf = np.concatenate([w for _, w in parts])
        keep = in_ranges(docs, *ranges)
        return _Postings(docs[keep], tf[keep])

    def _block(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        if i not in self._decoded:
            start, h = self.blocks[i]
            ids, weights, _ = _block_arrays(h, self.raw, start, False)
            # A block's first id is whole, the rest deltas: its ids alone are one cumulative sum.
            docs = np.cumsum(ids.astype(np.int64))
            self._decoded[i] = (docs, np.ones(h.count) if weights is None else weights.astype(np.float64))
        return self._decoded[i]


class DecodedBlocks:
    """Blocks decoded with their positions, kept across reads up to ``limit`` bytes, the least
    recently read dropped first: the common syllables' blocks are read by query after query."""

    def __init__(self, limit: int):
        self.limit, self.size = limit, 0
        self._blocks: OrderedDict[tuple, tuple] = OrderedDict()
        self._lock = threading.Lock()  # searches of several threads share a segment

    def get(self, key: tuple, h: _Header, raw: bytes, at: int) -> tuple:
        """A block's docnums, weights (None: all 1), value lengths and values, decoded on its first read."""
        with self._lock:
            found = self._blocks.get(key)
            if found is not None:
                self._blocks.move_to_end(key)
                return found
        ids, weights, values = _block_arrays(h, raw, at, True)
        lengths, places = values or (np.zeros(h.count, np.uint8), np.empty(0, np.uint8))
        # A block's first id is whole, the rest deltas.
        found = (np.cumsum(ids, dtype=np.int64 if h.last >> 31 else np.int32), weights, lengths, places)
        size = sum(a.nbytes for a in found if a is not None)
        with self._lock:
            if key not in self._blocks and size <= self.limit:
                self._blocks[key] = found
                self.size += size
                while self.size > self.limit:
                    _, dropped = self._blocks.popitem(last=False)
                    self.size -= sum(a.nbytes for a in dropped if a is not None)
        return found


def positions_among(raw: bytes, within: np.ndarray, decoded: DecodedBlocks, key: tuple) -> _Postings:
    """A term's postings with positions (``raw``: its blocks, as written) of the sorted docnums
    ``within`` only, from the blocks holding them (``decoded`` keeps them, as ``key`` and their
    number); only those documents' positions are added up."""
    blocks = _headers(raw)
    parts = [decoded.get((*key, i), blocks[i][1], raw, blocks[i][0]) for i in _reaching(blocks, within)]
    if not parts:
        return _Postings()
    docs = _joined([d for d, _, _, _ in parts])
    at = np.minimum(np.searchsorted(docs, within), len(docs) - 1)  # fewer documents wanted than read
    at = at[docs[at] == within]
    if not len(at):
        return _Postings()
    weights = _joined([np.ones(len(d), np.float32) if w is None else w for d, w, _, _ in parts])
    ends = np.cumsum(_joined([n for _, _, n, _ in parts]), dtype=np.int64)
    n = ends[at] - np.where(at > 0, ends[at - 1], 0)
    starts = np.cumsum(n)
    # The wanted documents' values only, one after another: each from its first (its end less its count).
    deltas = _joined([v for _, _, _, v in parts])[np.repeat(ends[at] - starts, n) + np.arange(int(starts[-1]))]
    running = np.cumsum(deltas, dtype=np.int64)  # positions are deltas, each document's first from 0
    first = np.concatenate(([0], running))[starts - n]
    return _Postings(docs[at].astype(np.int64), weights[at].astype(np.float64), n, running - np.repeat(first, n))


def _reaching(blocks: list[tuple[int, _Header]], within: np.ndarray) -> list[int]:
    """The indexes of the blocks holding ids among the sorted docnums ``within`` (each block's ids
    come after the last one's ``last``)."""
    reached = np.searchsorted(within, np.array([h.last for _, h in blocks], np.int64), "right")
    return np.flatnonzero(np.diff(reached, prepend=0) > 0).tolist()


def _joined(arrays: list[np.ndarray]) -> np.ndarray:
    return arrays[0] if len(arrays) == 1 else np.concatenate(arrays)


def _blocks(raw: bytes, values: bool, within: np.ndarray | None = None) -> _Postings:
    """A term's postings from its blocks (``raw``: all of them, as written), with positions if asked;
    or, with ``within`` (sorted docnums), only those documents' docnums and frequencies, from the only
    blocks decoded (``positions_among`` reads positions among given documents)."""
    # A block's first id is whole and the rest deltas: made a delta from the last id of the
    # block before, the list is one cumulative sum. Positions too are deltas, each document's
    # first one from 0.
    blocks = _headers(raw)
    if within is not None:
        blocks = [blocks[i] for i in _reaching(blocks, within)]
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
    if within is not None:
        keep = ranking.among(within, found.docs)
        found = _Postings(found.docs[keep], found.tf[keep])
        return found if len(found.docs) else _Postings()  # the blocks reached may hold none of ``within``
    if not values:
        return found
    n = np.concatenate(counts).astype(np.int64)
    deltas = np.concatenate(deltas)
    running = np.cumsum(deltas, dtype=np.int64)
    before = np.concatenate(([0], running[np.cumsum(n)[:-1] - 1]))  # the running sum before each document's first
    return found._replace(counts=n, positions=running - np.repeat(before, n))
