"""The codec and formats: tokens counted as Whoosh counts them, and the files written from arrays
byte for byte as Whoosh's own writer writes them, for new segments and merges."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from whoosh import index as whoosh_index

import indexer.store.codec as codec_module
import indexer.store.whoosh_internals as internals
from indexer.articles import Article, load_articles
from indexer.documents import to_document
from indexer.fields import TEXT_F, TEXT_SEQ
from indexer.search import search
from indexer.store import ArticleStore, _Codec, _Frequency, _Positions
from indexer.store.segments import _Segment
from indexer.store.sequences import encoded


@pytest.mark.parametrize("text", ["giá vàng giá  vàng\tthế\ngiới", "a\u00a0b a", "", "  ", "đà_nẵng đà nẵng đà"])
def test_the_formats_count_tokens_as_whooshs_own_analysis_does(text):
    from whoosh import formats
    from whoosh.analysis import SpaceSeparatedTokenizer

    pairs = [(_Frequency(), formats.Frequency()), (_Positions(), formats.Positions())]
    for ours, theirs in pairs:
        expected = sorted(theirs.word_values(text, SpaceSeparatedTokenizer()))
        found = sorted(ours.word_values(text, None))
        assert [w[:3] for w in found] == [w[:3] for w in expected]
        assert [ours.decode_positions(w[3]) for w in found if isinstance(ours, formats.Positions)] == [
            theirs.decode_positions(w[3]) for w in expected if isinstance(theirs, formats.Positions)
        ]


def segment_files(ix: Path) -> dict[str, bytes]:
    """The one segment's files by extension (their names hold the segment's random id)."""
    files = [f for f in ix.iterdir() if f.name.startswith("MAIN_") and f.name != "MAIN_WRITELOCK"]
    assert len({f.name.split(".")[0] for f in files}) == 1
    return {f.name.split(".", 1)[1]: f.read_bytes() for f in files}


@pytest.fixture()
def fixture_docs(corpus_dir) -> list[dict]:
    return [to_document(a) for _, a in load_articles([corpus_dir]) if isinstance(a, Article)]


def whooshs_own(path: Path, docs: list[dict]) -> Path:
    """``docs`` written by Whoosh's writer, a posting at a time, with this store's codec (and the
    column of syllable numbers given as a value, which the store's writer makes from the tokens)."""
    ArticleStore.create(path).close()
    ix = whoosh_index.open_dir(str(path))
    w = ix.writer(compound=False, codec=_Codec())
    for doc in docs:
        w.add_document(**doc, **({TEXT_SEQ: encoded(doc[TEXT_F].split())} if TEXT_F in doc else {}))
    w.commit(merge=False)
    ix.close()
    return path


def test_the_writer_writes_the_files_whooshs_own_writer_writes(tmp_path, fixture_docs, monkeypatch):
    """Posting lists made from arrays, byte for byte as W3's writer makes them one posting at a time:
    inlined terms (one or two postings), lists of many blocks (two postings each here), positions."""
    monkeypatch.setattr(codec_module, "BLOCK_POSTINGS", 2)
    ours = tmp_path / "ours"
    with ArticleStore.create(ours) as store, store.writer() as writer:
        for doc in fixture_docs:
            writer.put(doc)
        writer.commit(merge=False)
    expected = segment_files(whooshs_own(tmp_path / "whoosh", fixture_docs))
    found = segment_files(ours)
    assert sorted(found) == sorted(expected) and "pst" in found and "trm" in found
    assert [ext for ext in found if found[ext] != expected[ext]] == []


@pytest.mark.parametrize("deleted", [None, 1], ids=["all kept", "one deleted"])
@pytest.mark.parametrize("read", ["blocks", "matchers"])
def test_a_merge_writes_the_files_one_commit_of_the_same_documents_writes(tmp_path, fixture_docs, monkeypatch, deleted, read):
    """A merge copies the segments' text postings into arrays (read as blocks, or through Whoosh's
    matchers with other internals), the documents renumbered past the deleted ones."""
    monkeypatch.setattr(codec_module, "BLOCK_POSTINGS", 2)
    if read == "matchers":  # a term table of a class the fast path does not know
        monkeypatch.setattr(internals, "W3TermsReader", type("OtherTermsReader", (), {}))
    merged = tmp_path / "merged"
    with ArticleStore.create(merged) as store:
        for part in (fixture_docs[:3], fixture_docs[3:4], fixture_docs[4:]):
            writer = store.writer()
            for doc in part:
                writer.put(doc)
            writer.commit(merge=False)
        store.refresh()
        assert store.segment_count() == 3
        writer = store.writer()
        if deleted is not None:
            assert writer.delete(fixture_docs[deleted]["id"]) == 1
        writer.commit(optimize=True)
    kept = [doc for i, doc in enumerate(fixture_docs) if i != deleted]
    whoosh = whooshs_own(tmp_path / "whoosh", kept)
    expected, found = segment_files(whoosh), segment_files(merged)
    # The stored fields are pickled again from what Whoosh's reader gives back: compared as read.
    assert [ext for ext in found if found[ext] != expected[ext] and ext != "_stored.col"] == []
    with ArticleStore.open(merged) as a, ArticleStore.open(whoosh) as b:
        ids = [doc["id"] for doc in kept]
        assert [a.get(i) for i in ids] == [b.get(i) for i in ids] and a.get(ids[0])["id"] == ids[0]


def test_a_posting_of_many_positions_reads_alike_both_ways_and_survives_a_merge(tmp_path):
    """64 positions and more in one article: their byte count no longer fits the uint8 array of counts."""
    many = " ".join(["vàng"] * 70) + " giá vàng tăng"
    gold = "Giá vàng miếng tăng mạnh trong phiên sáng."
    d = tmp_path / "ix"
    with ArticleStore.create(d) as store:
        for ids in (("m1", "g1", "g2"), ("m2", "g3", "g4")):
            with store.writer() as writer:
                for i in ids:
                    writer.put(to_document(Article(i, f"Tin {i}", None, many if i[0] == "m" else gold, *[None] * 5, "t")))
                writer.commit()
    ix = whoosh_index.open_dir(str(d))
    with ix.reader() as reader:
        seg = _Segment(reader.leaf_readers()[0][0])
        m = seg.reader.postings(TEXT_F, b"vang")
        places = []
        while m.is_active():
            places.append(m.value_as("positions"))
            m.next()
        found = seg.positions(TEXT_F, b"vang")
        assert found.counts.tolist() == [len(p) for p in places] == [71, 1, 1]
        assert found.positions.tolist() == [p for doc in places for p in doc]
    with ArticleStore.open(d) as store:
        before = sorted(h.id for h in search(store, '"vàng tăng"').hits)
        assert before == ["m1", "m2"]
    ix.optimize()  # Whoosh's own merge copies each posting as its matcher reads it
    ix.close()
    with ArticleStore.open(d) as store:
        assert store.segment_count() == 1
        assert sorted(h.id for h in search(store, '"vàng tăng"').hits) == before


def test_arrays_write_whooshs_bytes_for_boosted_fields_and_wide_numbers(tmp_path, monkeypatch):
    """Fields boosted by a fraction (weights and their totals not whole) or a whole number, docnums
    and positions past two bytes, lists of several blocks: the term table and postings as W3 writes them."""
    from whoosh.fields import ID, TEXT, Schema
    from whoosh.writing import SegmentWriter

    from indexer.store.segment_writer import _SegmentWriter

    monkeypatch.setattr(codec_module, "BLOCK_POSTINGS", 7)

    def field(fmt):
        f = TEXT()
        f.format = fmt
        return f

    schema = Schema(id=ID(stored=True), tenth=field(_Frequency(field_boost=0.1)), twice=field(_Frequency(field_boost=2.0)),
                    placed=field(_Positions(field_boost=0.7)))
    words = [f"t{i}" for i in range(40)]
    docs = []
    for n in range(400):
        text = " ".join(words[(n * 7 + k * k) % (1 + n % 40)] for k in range(1 + n % 13))
        docs.append({"id": f"d{n}", "tenth": text, "twice": text, "placed": text})
    for n in range(3):  # a list whose first positions take four bytes
        docs[n]["placed"] = "xa " * 70_000 + "xb"
    docs[399]["twice"] = "t0 t0 t0 xc"  # t0's last docnum far from its previous one
    built = {}
    for name, make in (("ours", _SegmentWriter), ("whoosh", SegmentWriter)):
        path = tmp_path / name
        path.mkdir()
        ix = whoosh_index.create_in(str(path), schema)
        w = make(ix, codec=_Codec(), compound=False)
        for doc in docs:
            w.add_document(**doc)
        w.commit(merge=False)
        ix.close()
        built[name] = segment_files(path)
    assert sorted(built["ours"]) == sorted(built["whoosh"]) and "pst" in built["ours"]
    assert [ext for ext in built["ours"] if built["ours"][ext] != built["whoosh"][ext]] == []


def test_term_totals_add_up_as_pythons_sum_does():
    # numpy adds a long list up pairwise: its total would differ in the last bits.
    weights = np.array([0.1, 0.2, 0.3, 0.7, 1e8, 1.0, 1.0, 0.1, *[0.1] * 1000], np.float32)
    bounds = np.array([0, 3, 7, 8, 1008])
    wide = weights.astype(np.float64).tolist()
    expected = [sum(wide[a:b]) for a, b in zip(bounds[:-1], bounds[1:])]
    assert list(codec_module._term_weights(weights, bounds)) == expected
    whole = np.array([3, 1, 2, 5], np.float32)
    assert codec_module._term_weights(whole, np.array([0, 1, 4])).tolist() == [3.0, 8.0]


def test_the_other_spaces_are_every_space_str_split_splits_on_but_whooshs_four():
    others = {c for c in map(chr, range(sys.maxunicode + 1)) if c.isspace()} - set(" \t\r\n")
    assert {c for c in map(chr, range(sys.maxunicode + 1)) if codec_module._OTHER_SPACE.fullmatch(c)} == others
    assert codec_module._tokens("a\x1fb c\u3000d") == ["a\x1fb", "c\u3000d"]


def test_term_entries_added_all_at_once_are_the_file_added_one_at_a_time(tmp_path):
    """Many keys (the index of their places widens past 16 bits), in one call and in two, and the
    hash tables over them written a table at a time."""
    from whoosh.filedb.filestore import FileStorage
    from whoosh.filedb.filetables import OrderedHashWriter

    keys = [b"\x00\x01" + f"t{i:06}".encode() for i in range(9000)]
    values = [bytes(range(i % 50)) for i in range(9000)]
    storage = FileStorage(str(tmp_path))
    one = OrderedHashWriter(storage.create_file("one"))
    for key, value in zip(keys, values):
        one.add(key, value)
    one.close()
    together = OrderedHashWriter(storage.create_file("together"))
    codec_module._add_all(together, keys[:10], values[:10])
    codec_module._add_all(together, keys[10:], values[10:])
    with pytest.raises(ValueError):
        codec_module._add_all(together, keys[:1], values[:1])
    codec_module._write_hashes(together)
    together._write_hashes = lambda: None
    together.close()
    assert (tmp_path / "together").read_bytes() == (tmp_path / "one").read_bytes()
