"""The block byte format: postings decoded whole as arrays, positions only from the blocks asked for."""

from __future__ import annotations

import zlib
from pathlib import Path

import numpy as np
import pytest
from whoosh import index as whoosh_index

import indexer.store.blocks as blocks_module
import indexer.store.codec as codec_module
import indexer.store.segments as segments_module
from indexer.fields import SCORED_FIELDS, TEXT_F
from indexer.ingest import index_paths
from indexer.search import search
from indexer.store import ArticleStore
from indexer.store.segments import _Segment


@pytest.fixture(scope="module")
def small_blocks(tmp_path_factory, corpus_dir) -> Path:
    """The fixture corpus indexed with two postings per block: its lists span many blocks."""
    d = tmp_path_factory.mktemp("small-blocks") / "ix"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(codec_module, "BLOCK_POSTINGS", 2)
        assert index_paths(d, [corpus_dir]).added == 9
    return d


@pytest.fixture()
def segment(small_blocks):
    """The small-block index's one segment, as ranking reads it."""
    ix = whoosh_index.open_dir(str(small_blocks))
    with ix.reader() as reader:
        yield _Segment(reader)
    ix.close()


def test_postings_read_whole_are_what_whooshs_matcher_reads(segment, monkeypatch):
    """Every list of the scored fields, decoded as arrays, against W3's matcher over the same blocks."""
    decoded = []
    blocks = blocks_module._blocks

    def counted(raw, values, within=None):
        decoded.append(raw)
        return blocks(raw, values, within)

    monkeypatch.setattr(segments_module, "_blocks", counted)
    shapes, listed = set(), []
    seg = segment
    for field in SCORED_FIELDS:
        positions = field == TEXT_F  # the one field with positions
        for term in seg.reader.lexicon(field):
            found = seg.positions(field, term) if positions else seg.postings(field, term)
            m = seg.reader.postings(field, term)
            shapes.add((type(m).__name__, min(len(found.docs), 5)))
            listed.append((type(m).__name__, term))
            docs, tf, places = [], [], []
            while m.is_active():
                docs.append(m.id())
                tf.append(m.weight())
                places.append(m.value_as("positions") if positions else [])
                m.next()
            assert found.docs.tolist() == docs, (field, term)
            assert found.tf.tolist() == tf, (field, term)
            if positions:
                assert found.counts.tolist() == [len(p) for p in places], term
                assert found.positions.tolist() == [p for doc in places for p in doc], term
    # Lists of one or two postings are kept in the term table; longer ones span two blocks or more,
    # and are decoded as arrays (not through the matcher, as the fallback does).
    assert shapes == {("ListMatcher", 1), ("ListMatcher", 2), ("_Matcher", 3), ("_Matcher", 4), ("_Matcher", 5)}
    assert len(decoded) == sum(1 for name, _ in listed if name == "_Matcher") > 0


def test_a_phrase_decodes_positions_only_from_the_blocks_holding_its_candidates(segment, monkeypatch):
    decoded = []
    block_arrays = blocks_module._block_arrays

    def counted(h, raw, at, values):
        decoded.append(h.last)
        return block_arrays(h, raw, at, values)

    monkeypatch.setattr(blocks_module, "_block_arrays", counted)
    seg = segment
    term = next(t for t in seg.reader.lexicon(TEXT_F) if len(seg.postings(TEXT_F, t).docs) >= 5)
    whole = seg.positions(TEXT_F, term)
    decoded.clear()
    last = whole.docs[-1:]
    part = seg.positions(TEXT_F, term, within=last)
    assert decoded == [last[0]]  # two postings a block: the last block only
    assert part.docs.tolist() == last.tolist() and part.tf.tolist() == whole.tf[-1:].tolist()
    assert places(part) == {last[0]: places(whole)[last[0]]} and places(part)[last[0]]
    # Documents of several blocks, and one that holds no such word: theirs only, in order.
    within = np.array(sorted({*whole.docs[::2].tolist(), seg.size + 3}))
    some = seg.positions(TEXT_F, term, within=within)
    assert some.docs.tolist() == whole.docs[::2].tolist()
    assert places(some) == {d: p for d, p in places(whole).items() if d in within}


def test_positions_among_documents_of_its_blocks_that_lack_the_word(segment):
    term = next(t for t in segment.reader.lexicon(TEXT_F) if len(segment.postings(TEXT_F, t).docs) >= 5)
    whole = segment.postings(TEXT_F, term).docs
    lacking = np.setdiff1d(np.arange(whole[0], whole[-1]), whole)  # inside the blocks' ranges
    assert len(lacking)
    found = segment.positions(TEXT_F, term, within=lacking)
    assert (len(found.docs), len(found.tf), len(found.counts), len(found.positions)) == (0, 0, 0, 0)


def test_positions_among_documents_are_those_of_the_whole_list(segment):
    """Every list with positions, read among every other document and among its ends: as read whole."""
    for term in segment.reader.lexicon(TEXT_F):
        whole = segment.positions(TEXT_F, term)
        for within in (np.arange(0, segment.size, 2), np.arange(1, segment.size, 2), whole.docs[[0, -1]]):
            some = segment.positions(TEXT_F, term, within=within)
            assert some.docs.tolist() == [d for d in whole.docs.tolist() if d in within], term
            assert some.tf.tolist() == [t for d, t in zip(whole.docs, whole.tf) if d in within], term
            assert places(some) == {d: p for d, p in places(whole).items() if d in within}, term


def test_blocks_kept_decoded_read_as_decoded_anew(segment):
    """Positions read through a store of decoded blocks too small for them all (blocks dropped and
    decoded again) and through a large one (read twice): as read without one."""
    terms = [t for t in segment.reader.lexicon(TEXT_F) if len(segment.postings(TEXT_F, t).docs) >= 3]
    within = np.arange(1, segment.size, 2)
    fresh = [places(segment.positions(TEXT_F, t, within=within)) for t in terms]
    small, large = blocks_module.DecodedBlocks(200), blocks_module.DecodedBlocks(1 << 20)
    for decoded in (small, large, large):
        assert [places(segment.positions(TEXT_F, t, within, decoded)) for t in terms] == fresh
    assert 0 < small.size <= 200 and len(small._blocks) < len(large._blocks)


def places(postings) -> dict[int, list[int]]:
    """Each document's positions."""
    ends = np.cumsum(postings.counts)
    return {int(d): postings.positions[e - n : e].tolist() for d, n, e in zip(postings.docs, postings.counts, ends)}


@pytest.mark.parametrize("text", ["giá vàng", "gia vang the gioi", '"giá vàng thế giới"', '"gia vang"', "Đại hội"])
def test_the_size_of_blocks_changes_no_answer(store, small_blocks, text):
    def answer(s: ArticleStore) -> dict:
        return {k: v for k, v in search(s, text).to_json().items() if k != "took_ms"}

    with ArticleStore.open(small_blocks) as other:
        assert answer(other) == answer(store)
        assert answer(store)["hits"]


@pytest.mark.parametrize("positions", [False, True], ids=["frequencies", "positions"])
def test_blocks_encoded_together_are_the_bytes_of_each_encoded_alone(positions):
    """Ids, counts and positions of one, two and four bytes; weights all 1, whole, fractional; blocks
    of one posting and of many, compressed or too small to compress."""
    rng = np.random.default_rng(7)
    sizes = [1, 2, 3, 40, 1, 200, 5, 7, 1024, 3]
    steps = [1, 1, 300, 2, 70_000, 1, 5, 1, 3, 1]
    ids = np.concatenate([rng.integers(1, step + 1, size).cumsum() for size, step in zip(sizes, steps)])
    ids[sizes[0] + sizes[1] + sizes[2] + sizes[3]] += 100_000  # a block whose one id takes four bytes
    starts = np.cumsum([0, *sizes[:-1]])
    weights = np.ones(len(ids), np.float32)
    weights[starts[3] : starts[4]] = rng.integers(1, 5, sizes[3])  # whole numbers
    weights[starts[5] : starts[6]] = rng.integers(1, 400, sizes[5])  # whole, past a byte
    weights[starts[8] : starts[9]] = rng.integers(1, 9, sizes[8]) * np.float32(0.7)  # fractional
    counts = rng.integers(1, 4, len(ids))
    counts[starts[5]] = 300
    deltas = rng.integers(0, 9, counts.sum())
    deltas[-1] = 80_000
    ends = np.cumsum(counts)
    rows = list(zip(starts.tolist(), [*starts[1:].tolist(), len(ids)]))
    kw = dict(min_lengths=list(range(10)), max_lengths=list(range(10, 20)), lasts=[i % 2 == 0 for i in range(10)])
    values = (counts, deltas) if positions else None
    together = blocks_module._encoded_blocks(starts, ids, weights, values, compression=3, **kw)
    alone = [
        blocks_module._encoded_block(
            ids[a:b],
            weights[a:b],
            (blocks_module._packed(counts[a:b]), blocks_module._packed(deltas[ends[a] - counts[a] : ends[b - 1]]))
            if positions else blocks_module._NO_VALUES,
            max_weight=float(weights[a:b].max()),
            min_length=kw["min_lengths"][i],
            max_length=kw["max_lengths"][i],
            compression=3,
            last=kw["lasts"][i],
        )
        for i, (a, b) in enumerate(rows)
    ]
    assert together == alone
    codes = {blocks_module._Header._make(blocks_module._BLOCK.unpack_from(b, 4)).codes for b in together}
    assert {c[:1] for c in codes} == {b"B", b"H", b"I"} and {c[1:2] for c in codes} == {b"-", b"B", b"H", b"f"}
    assert positions is False or {c[2:] for c in codes} >= {b"BB", b"HB", b"BI"}


def test_so_few_bytes_never_compress_smaller():
    """Why blocks this small are not compressed at all: zlib makes none of them shorter."""
    rng = np.random.default_rng(1)
    raws = [bytes([b]) * n for n in range(1, 10) for b in (0, 1, 255)]
    raws += [rng.integers(0, k, n, dtype=np.uint8).tobytes() for n in range(1, 10) for k in (2, 256)]
    assert all(len(zlib.compress(raw, level)) >= len(raw) for raw in raws for level in range(10))
    assert blocks_module._NEVER_SMALLER == 9
