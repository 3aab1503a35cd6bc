"""The on-disk format: an index written before the store became a package opens, answers and
takes writes, and the same documents indexed now give the same files byte for byte."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from whoosh import index as whoosh_index

from indexer.articles import Article
from indexer.errors import IndexVersionError
from indexer.documents import to_document
from indexer.search import search
import indexer.store as store_package
from indexer.fields import ID, TEXT_SEQ
from indexer.store import FORMAT_VERSION, ArticleStore, _Codec, _Frequency, _Positions
from indexer.store.sequences import encoded
from indexer.text import fold

FIXTURES = Path(__file__).resolve().parent / "fixtures"
OLD_INDEX = FIXTURES / "index_v7"
BUILDER = FIXTURES / "build_index_v7.py"
PREVIOUS_FORMAT = FIXTURES / "index_v6"  # no syllable numbers column: refused with the rebuild message

PINNED = {
    "vàng": [("vang-dai", 6.220598), ("gia-vang-trong-nuoc", 4.707579), ("gia-vang-the-gioi", 4.702345), ("khong-ngay", 2.786379)],
    "gia vang": [("gia-vang-trong-nuoc", 13.753676), ("gia-vang-the-gioi", 13.738384), ("vang-dai", 12.396516), ("khong-ngay", 8.916413)],
    '"vàng tăng"': [("vang-dai", 15.546936)],
    "Đà Nẵng": [("dn-du-lich", 24.207279)],
    "hoa binh vang": [
        ("hoa-binh-moi", 23.244967), ("thuy-dien-cu", 21.142094), ("vang-dai", 6.220598),
        ("gia-vang-trong-nuoc", 4.707579), ("gia-vang-the-gioi", 4.702345), ("khong-ngay", 2.786379),
    ],
}
ARTICLES = [
    "000_5a0c9058e2d22930.txt", "dai-hoi-eth", "dn-du-lich", "gia-vang-the-gioi", "gia-vang-trong-nuoc",
    "hoa-binh-moi", "khong-ngay", "lai-suat", "thuy-dien-cu", "truong-hoc-nfd", "vang-dai",
]


def answers(store: ArticleStore) -> dict[str, list[tuple[str, float]]]:
    return {q: [(h.id, round(h.score, 6)) for h in search(store, q).hits] for q in PINNED}


@pytest.fixture()
def old_copy(tmp_path) -> Path:
    return Path(shutil.copytree(OLD_INDEX, tmp_path / "ix"))


def test_the_format_version_is_the_fixtures(old_copy):
    assert FORMAT_VERSION == 7 and (OLD_INDEX / "vnsearch.json").read_text("utf-8") == '{"format": 7}\n'


def test_an_index_of_the_previous_format_asks_for_a_rebuild(tmp_path):
    old = Path(shutil.copytree(PREVIOUS_FORMAT, tmp_path / "ix"))
    with pytest.raises(IndexVersionError) as e:
        ArticleStore.open(old)
    assert str(e.value) == (
        f"The index at {old}/ has format 6, this vnsearch reads format 7"
        f" — run: vnsearch index --rebuild --index {old} PATH…"
    )


def test_the_pickled_classes_keep_their_path():
    """Every TOC names these classes by module path: moving one would break every index."""
    for cls in (_Codec, _Frequency, _Positions):
        assert cls.__module__ == "indexer.store" and getattr(store_package, cls.__name__) is cls
    toc = next(OLD_INDEX.glob("_MAIN_*.toc")).read_bytes()
    assert b"\x8c\rindexer.store\x94\x8c\x06_Codec" in toc  # the segments' codec (a newer pickle protocol)
    assert b"cindexer.store\n_Frequency\n" in toc and b"cindexer.store\n_Positions\n" in toc  # the schema's formats


def test_an_old_index_opens_and_answers_as_it_did(old_copy):
    with ArticleStore.open(old_copy) as store:
        assert (len(store), store.segment_count(), store.deleted_count()) == (11, 2, 1)
        assert sorted(store.fingerprints()) == ARTICLES
        assert answers(store) == PINNED
        assert store.stats()["sources"] == {
            "baomoi.com": 3, "dantri.com.vn": 2, "vnexpress.net": 2, "TCCS": 1, "example.vn": 1, "vietnews": 1,
        }


def syllable_numbers(index_dir: Path) -> dict[str, bytes]:
    """Each live article's value in the column of syllable numbers, by id."""
    ix = whoosh_index.open_dir(str(index_dir))
    with ix.reader() as reader:
        numbers, ids = reader.column_reader(TEXT_SEQ), reader.column_reader(ID)
        found = {ids[d]: numbers[d] for d in reader.all_doc_ids()}
    ix.close()
    return found


def test_an_old_index_takes_writes_and_a_merge(old_copy):
    gold = Article("moi", "Giá vàng lại tăng", None, "Hôm nay giá vàng tăng thêm.", None, None, None, None, None, "t")
    numbers = syllable_numbers(old_copy)
    assert sorted(numbers) == ARTICLES and all(numbers.values())
    with ArticleStore.open(old_copy) as store:
        writer = store.writer()
        writer.put(to_document(gold))
        writer.delete("khong-ngay")
        writer.commit(merge=False)
        store.refresh()
        assert store.segment_count() == 3
        found = [h.id for h in search(store, "giá vàng").hits]
        assert found == ["moi", "gia-vang-trong-nuoc", "gia-vang-the-gioi", "vang-dai"]  # khong-ngay deleted
        writer = store.writer()
        writer.commit(optimize=True)
        store.refresh()
        assert store.segment_count() == 1 and store.deleted_count() == 0
        assert sorted(store.fingerprints()) == sorted({*ARTICLES, "moi"} - {"khong-ngay"})
        assert [h.id for h in search(store, "giá vàng").hits] == found
        assert [h.id for h in search(store, '"vàng tăng"').hits] == ["moi", "vang-dai"]
    merged = syllable_numbers(old_copy)  # the merge copied each article's numbers
    assert merged == {k: v for k, v in numbers.items() if k != "khong-ngay"} | {"moi": encoded(fold("giá vàng lại tăng hôm nay giá vàng tăng thêm").split())}


def normalized(index_dir: Path) -> dict[str, bytes]:
    """The index's files by name, Whoosh's random segment ids replaced by their place in the TOC."""
    (toc,) = index_dir.glob("_MAIN_*.toc")
    toc_bytes = toc.read_bytes()
    ids = {m.group(1) for f in index_dir.iterdir() if (m := re.match(r"MAIN_([0-9a-z]{16})\.", f.name))}
    order = sorted(ids, key=lambda s: toc_bytes.index(s.encode()))
    files = {}
    for f in index_dir.iterdir():
        name, data = f.name, f.read_bytes()
        for i, segment in enumerate(order):
            name = name.replace(segment, f"segment{i:09d}")
            data = data.replace(segment.encode(), f"segment{i:09d}".encode())
        files[name] = data
    return files


def test_the_same_documents_indexed_now_give_the_same_files(tmp_path):
    env = {**os.environ, "PYTHONHASHSEED": "0"}  # the vocabulary file's row order follows str hashing
    subprocess.run([sys.executable, str(BUILDER), str(tmp_path / "ix")], check=True, env=env)
    expected, found = normalized(OLD_INDEX), normalized(tmp_path / "ix")
    assert sorted(found) == sorted(expected)
    assert [name for name in found if found[name] != expected[name]] == []
