"""The reads of Whoosh's private state: the same answers as its public API, a fallback that says
why once, a damaged file reported as such, and the version check."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from whoosh import index as whoosh_index
from whoosh.columns import VarBytesColumn
from whoosh.filedb.filestore import FileStorage

import indexer.store.whoosh_internals as internals
from indexer.errors import IndexUnreadableError
from indexer.fields import TEXT_F, TEXT_SEQ, TITLE_F
from indexer.search import search
from indexer.store import ArticleStore
import indexer.store.segments as segments_module
from indexer.store.segments import _factorized

OLD_INDEX = Path(__file__).resolve().parent / "fixtures" / "index_v7"


def test_without_whooshs_internals_the_arrays_come_from_its_public_api(index_dir, monkeypatch, caplog):
    """Blocks, term entries and columns are read through Whoosh 2.7's internals; with readers of
    other classes, each read falls back to the public API and says so once."""
    queries = ["giá vàng", "gia vang the gioi", '"giá vàng"', "hoa binh vang"]
    with ArticleStore.open(index_dir) as store:
        expected = [search(store, q).to_json()["hits"] for q in queries]
    unknown = type("Unknown", (), {})
    monkeypatch.setattr(internals, "_logged", set())
    monkeypatch.setattr(internals, "W3TermsReader", unknown)
    monkeypatch.setattr(internals, "W3PerDocReader", unknown)
    other = SimpleNamespace(Reader=unknown)  # column readers of classes the fast path does not know
    monkeypatch.setattr(internals, "columns", SimpleNamespace(NumericColumn=other, VarBytesColumn=other))
    with caplog.at_level(logging.WARNING, logger=internals.__name__):
        for _ in range(2):
            with ArticleStore.open(index_dir) as store:
                assert [search(store, q).to_json()["hits"] for q in queries] == expected
    reasons = [r.getMessage() for r in caplog.records]
    prefix = "vnsearch reads the index through Whoosh's public API (slower): "
    assert sorted(reasons) == sorted(
        prefix + why
        for why in [
            "a term table of a class these reads do not know (W3TermsReader)",
            "columns kept by a W3PerDocReader",
            "field lengths kept by a W3PerDocReader",
        ]
    )


def test_a_damaged_block_is_reported_not_skipped(tmp_path):
    ix = Path(shutil.copytree(OLD_INDEX, tmp_path / "ix"))
    with ArticleStore.open(ix) as store:
        assert search(store, "vàng").total == 4
    for postings in ix.glob("*.pst"):
        postings.write_bytes(b"\xff" * postings.stat().st_size)
    with ArticleStore.open(ix) as store:
        with pytest.raises(IndexUnreadableError, match=r"^The index file MAIN_[0-9a-z]{16}\.pst is damaged \(") as caught:
            search(store, "vàng")
    assert str(caught.value).endswith("— rebuild the index: vnsearch index --rebuild --index DIR PATH…")


def test_another_whoosh_is_refused_naming_both_versions():
    internals._check_version((2, 7, 5))
    with pytest.raises(ImportError, match=r"^vnsearch's index code was written for whoosh-reloaded 2\.7\.5, "
                                          r"but 2\.7\.6 is installed — run: pip install whoosh-reloaded==2\.7\.5$"):
        internals._check_version((2, 7, 6))


@pytest.fixture()
def reader(index_dir):
    ix = whoosh_index.open_dir(str(index_dir))
    with ix.reader() as r:
        yield r
    ix.close()


def test_term_entries_are_found_as_whooshs_hash_table_finds_them(reader):
    table = internals.term_table(reader)
    hashed, _ = internals.hash_table(table)
    keys = [key for key, _ in hashed.items()]
    assert len(keys) > 100
    for key in keys:
        assert internals._hashed(hashed, key) == hashed.get(key) is not None
    for key in [keys[0] + b"x", b"\xff\xff" + keys[1][2:], b"", keys[2][:-1]]:
        assert internals._hashed(hashed, key) is hashed.get(key) is None
    for field, term in [(TEXT_F, b"gia"), (TITLE_F, b"gia"), (TEXT_F, b"khong-co"), ("nope", b"gia")]:
        theirs = reader.term_info(field, term) if (field, term) in reader else None
        ours = internals.looked_up(table, field, term)
        assert (ours and (ours.doc_frequency(), ours.extent())) == (theirs and (theirs.doc_frequency(), theirs.extent()))


@pytest.mark.parametrize("cutoff", [2**15, 2], ids=["offsets derived", "offsets stored"])
def test_bytes_columns_read_in_one_go_as_whoosh_reads_them(tmp_path, cutoff):
    values = [b"vietnews", b"", "Thời sự".encode(), b"vietnews", b"x" * 300]
    storage = FileStorage(str(tmp_path))
    column = VarBytesColumn(write_offsets_cutoff=cutoff)
    with storage.create_file("c") as f:
        writer = column.writer(f)
        for n, v in enumerate(values):
            if v:  # Whoosh fills the skipped documents with b""
                writer.add(n, v)
        writer.finish(len(values))
    size = storage.file_length("c")
    with storage.open_file("c") as f:
        assert list(column.reader(f, 0, size, len(values))) == values
    for wide in (1 << 20, 0):  # padded to the widest value, or (past the bound) value by value
        with storage.open_file("c") as f:
            read = internals._var_bytes(f, 0, size, len(values), wide_bytes=wide)
        assert read.tolist() == values
        codes, names = _factorized(read)
        assert (codes.tolist(), names.tolist()) == ([1, 0, 2, 1, 3], [b"", b"vietnews", "Thời sự".encode(), b"x" * 300])


@pytest.mark.parametrize("mapped", [True, False], ids=["mapped", "read"])
def test_some_values_of_a_bytes_column_are_read_as_whoosh_reads_them(reader, monkeypatch, mapped):
    if not mapped:  # a file that cannot be mapped: each value read from the file
        monkeypatch.setattr(internals, "_mapped", lambda colfile: None)
    segments = [r for r, _ in reader.leaf_readers()]
    assert segments
    for segment in segments:
        size = segment.doc_count_all()
        theirs = segment.column_reader(TEXT_SEQ, translate=False)
        some = np.array([size - 1, 0, size // 2, size - 1])
        found = internals.bytes_values(segment, TEXT_SEQ)(some)
        assert found == [theirs[d] for d in some.tolist()]
        assert all(len(v) > 8 and len(v) % 4 == 0 for v in found)  # four bytes a syllable
    assert internals.bytes_values(segments[0], "no_such_column") is None


def test_a_damaged_column_of_syllable_numbers_is_reported_not_searched(tmp_path, monkeypatch):
    ix = Path(shutil.copytree(OLD_INDEX, tmp_path / "ix"))
    monkeypatch.setattr(segments_module, "bytes_values", lambda reader, field: lambda docs: [b"\x01\x02\x03"] * len(docs))
    with ArticleStore.open(ix) as store:
        assert search(store, "vàng").total == 4  # one syllable: no proximity
        with pytest.raises(IndexUnreadableError, match=r"^The index file MAIN_[0-9a-z]{16}\.text_seq\.col is damaged \("):
            search(store, "giá vàng")
