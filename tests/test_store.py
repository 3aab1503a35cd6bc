"""The store: its ranking pieces that are not query building (see test_query for that), and the
index on disk: creating one, rebuilding one beside the old and swapping them, a store open across
the swap."""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

import indexer.store as store_module
from indexer.articles import Article
from indexer.documents import to_document
from indexer.errors import IndexLockedError, IndexWriteError
from indexer.ingest import index_paths
from indexer.query import parse_query
from indexer.search import search
from indexer.store import RECENCY_BOOST, ArticleStore, recency_factor
from indexer.vocabulary import Vocabulary


@pytest.mark.parametrize(
    "day, newest, expected",
    [
        (20240312, 20240312, 1 + RECENCY_BOOST),  # the newest day
        (20240211, 20240312, 1 + RECENCY_BOOST / 2),  # 30 days older: half the bonus
        (20231213, 20240312, 1 + RECENCY_BOOST / 8),  # 90 days
        (0, 20240312, 1.0),  # undated: no bonus
        (20240312, 0, 1.0),  # nothing dated in the index
    ],
)
def test_recency_factor(day, newest, expected):
    assert recency_factor(day, newest) == pytest.approx(expected)


def test_recency_breaks_a_tie_but_not_relevance(tmp_path):
    def article(id_, title, published):
        return {"id": id_, "title": title, "body": "Tin ngắn.", "published": published}

    articles = [
        article("old-same", "Mưa lớn ở miền Trung", "2023-01-10"),
        article("new-same", "Mưa lớn ở miền Trung", "2024-03-12"),
        article("new-weaker", "Mưa ở miền Trung, lớn dần", "2024-03-12"),
        article("old-best", "Mưa lớn, mưa lớn ở miền Trung: mưa lớn kéo dài", "2020-05-01"),
    ]
    src = tmp_path / "a.jsonl"
    src.write_text("\n".join(json.dumps(a, ensure_ascii=False) for a in articles), "utf-8")
    index_paths(tmp_path / "ix", [src])
    with ArticleStore.open(tmp_path / "ix") as store:
        ranked = [h.id for h in search(store, "mưa lớn").hits]
        assert ranked.index("new-same") < ranked.index("old-same")
        assert ranked[0] == "old-best"
        assert [h.id for h in search(store, "mưa lớn", sort="newest").hits][-1] == "old-best"


# -- store.search's arrays against Whoosh's own matchers ---------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "giá vàng",
        "gia vang",
        "Giá vàng thế giới",  # exact AND, then folded AND, then OR
        "hoa binh vang",  # no article has all three: OR
        '"giá vàng thế giới"',
        '"gia vang" the gioi',
        "Đại hội thể thao",
        "dai hoi",
        "vàng miếng trong nước đứng yên xếp hàng",  # long: optional function syllables
        "trường học",
    ],
)
def test_the_arrays_match_and_score_every_level_as_whoosh_does(store, text):
    parsed = store.vocabulary().word_readings(parse_query(text))
    view = store._view()
    found = 0
    for level in store_module.levels(parsed):
        q = store_module.build_query(parsed, level)
        ours = view.matches(q)
        live = view.live[ours.docs]
        ours = {int(d): s * view.recency[d] for d, s in zip(ours.docs[live], ours.scores[live])}
        theirs = {hit.docnum: hit.score for hit in store._searcher.search(q, limit=None)}
        assert sorted(ours) == sorted(theirs), level
        assert [ours[d] for d in sorted(ours)] == pytest.approx([theirs[d] for d in sorted(theirs)]), level
        found += len(ours)
    assert found


@pytest.fixture(scope="module")
def small_blocks(tmp_path_factory, corpus_dir) -> Path:
    """The fixture corpus indexed with two postings per block: its lists span many blocks."""
    d = tmp_path_factory.mktemp("small-blocks") / "ix"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(store_module, "BLOCK_POSTINGS", 2)
        assert index_paths(d, [corpus_dir]).added == 9
    return d


def test_postings_read_whole_are_what_whooshs_matcher_reads(small_blocks, monkeypatch):
    """Every list of the scored fields, decoded as arrays, against W3's matcher over the same blocks."""
    decoded = []
    blocks = store_module._blocks

    def counted(raw, values, within=None):
        found = blocks(raw, values, within)
        decoded.append(raw)  # only when decoding succeeded: a failure falls back to the matcher
        return found

    monkeypatch.setattr(store_module, "_blocks", counted)
    shapes, listed = set(), []
    with ArticleStore.open(small_blocks) as store:
        seg = store._view().segments[0]
        for field in store_module.SCORED_FIELDS:
            positions = field == "text_f"  # the one field with positions
            for term in seg.reader.lexicon(field):
                found = seg._read(field, term, positions)
                m = seg._matcher(field, term)
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


def test_a_phrase_decodes_positions_only_from_the_blocks_holding_its_candidates(small_blocks, monkeypatch):
    decoded = []
    block_arrays = store_module._block_arrays

    def counted(h, raw, at, values):
        decoded.append(h.last)
        return block_arrays(h, raw, at, values)

    monkeypatch.setattr(store_module, "_block_arrays", counted)
    with ArticleStore.open(small_blocks) as store:
        seg = store._view().segments[0]
        term = next(t for t in seg.reader.lexicon("text_f") if len(seg.postings("text_f", t).docs) >= 5)
        whole = seg.positions("text_f", term)
        decoded.clear()
        last = whole.docs[-1:]
        part = seg.positions("text_f", term, within=last)
        assert decoded == [last[0]]  # two postings a block: the last block only
        assert part.docs.tolist() == last.tolist() and part.tf.tolist() == whole.tf[-1:].tolist()
        assert places(part) == {last[0]: places(whole)[last[0]]} and places(part)[last[0]]
        # Documents of several blocks, and one that holds no such word: theirs only, in order.
        within = np.array(sorted({*whole.docs[::2].tolist(), seg.size + 3}))
        some = seg.positions("text_f", term, within=within)
        assert some.docs.tolist() == whole.docs[::2].tolist()
        assert places(some) == {d: p for d, p in places(whole).items() if d in within}


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


@pytest.mark.parametrize("text", ["giá vàng giá  vàng\tthế\ngiới", "a\u00a0b a", "", "  ", "đà_nẵng đà nẵng đà"])
def test_the_formats_count_tokens_as_whooshs_own_analysis_does(text):
    from whoosh import formats
    from whoosh.analysis import SpaceSeparatedTokenizer

    pairs = [(store_module._Frequency(), formats.Frequency()), (store_module._Positions(), formats.Positions())]
    for ours, theirs in pairs:
        expected = sorted(theirs.word_values(text, SpaceSeparatedTokenizer()))
        found = sorted(ours.word_values(text, None))
        assert [w[:3] for w in found] == [w[:3] for w in expected]
        assert [ours.decode_positions(w[3]) for w in found if isinstance(ours, formats.Positions)] == [
            theirs.decode_positions(w[3]) for w in expected if isinstance(theirs, formats.Positions)
        ]


# -- the index on disk ------------------------------------------------------------------

GOLD = "Giá vàng miếng tăng mạnh trong phiên sáng."
RICE = "Giá lúa gạo xuất khẩu giảm nhẹ."


def article(article_id: str, body: str) -> Article:
    return Article(article_id, f"Tin {article_id}", None, body, None, None, None, None, None, "test")


def put(store: ArticleStore, *articles: Article) -> None:
    writer = store.writer()
    for a in articles:
        writer.put(to_document(a))
    writer.commit()


def generation(ix: Path) -> int:
    return max(int(f.name[len("_MAIN_") : -len(".toc")]) for f in ix.glob("_MAIN_*.toc"))


@pytest.fixture()
def ix(tmp_path) -> Path:
    """An index of two articles about gold, in one commit."""
    d = tmp_path / "ix"
    with ArticleStore.create(d) as store:
        put(store, article("v1", GOLD), article("v2", GOLD))
    return d


def assert_gold(ix: Path) -> None:
    with ArticleStore.open(ix) as store:
        assert sorted(store.fingerprints()) == ["v1", "v2"]
        assert [h.id for h in search(store, "vàng").hits] == ["v1", "v2"]
        assert store.writer(timeout=0).cancel() is None  # the lock is free


def test_create_makes_an_index_in_a_new_or_empty_directory_only(tmp_path, ix):
    (tmp_path / "empty").mkdir()
    for d in (tmp_path / "new" / "deep", tmp_path / "empty"):
        with ArticleStore.create(d) as store:
            assert len(store) == 0
    with pytest.raises(FileExistsError, match="An index is already there: rebuild it to start again"):
        ArticleStore.create(ix)
    assert_gold(ix)


def test_a_rebuild_takes_the_place_of_the_old_index_and_an_open_store_sees_it(tmp_path, ix):
    Vocabulary(syllables=Counter({"vàng": 2})).add_to(ix)
    with ArticleStore.open(ix) as reader:
        assert len(reader) == 2
        assert reader.vocabulary().syllable_count("vàng") == 2
        with ArticleStore.rebuild(ix) as new:
            put(new, article("g1", RICE))
            Vocabulary(syllables=Counter({"gạo": 1})).add_to(new.path)
            assert new.path == tmp_path / f".ix.rebuild-{os.getpid()}"
            reader.refresh()
            assert len(reader) == 2  # nothing changes before the swap
        # The new index is at the generation the reader last saw: only the swap tells them apart.
        assert generation(ix) == 1
        reader.refresh()
        assert sorted(reader.fingerprints()) == ["g1"]
        assert [h.id for h in search(reader, "lúa gạo").hits] == ["g1"]
        assert search(reader, "vàng").total == 0
        assert [reader.vocabulary().syllable_count(s) for s in ("vàng", "gạo")] == [0, 1]  # the new index's
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ix"]


def test_a_rebuild_where_there_was_no_index_or_an_empty_directory(tmp_path):
    (tmp_path / "empty").mkdir()
    for d in (tmp_path / "new" / "ix", tmp_path / "empty"):
        with ArticleStore.rebuild(d) as new:
            put(new, article("g1", RICE))
        with ArticleStore.open(d) as store:
            assert sorted(store.fingerprints()) == ["g1"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty", "new"]
    assert sorted(p.name for p in (tmp_path / "new").iterdir()) == ["ix"]


class Interrupted(Exception):
    pass


@pytest.mark.parametrize("raised", [KeyboardInterrupt(), Interrupted("boom")])
def test_an_interrupted_rebuild_leaves_the_old_index_as_it_was(tmp_path, ix, raised):
    with pytest.raises(type(raised)):
        with ArticleStore.rebuild(ix) as new:
            put(new, article("g1", RICE))
            raise raised
    assert_gold(ix)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ix"]


# Whoosh leaves the files of a writer that failed open until they are collected: its leak.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_a_full_disk_midway_through_a_rebuild_leaves_the_old_index_as_it_was(tmp_path, ix, monkeypatch):
    from whoosh.filedb.filestore import FileStorage

    real_create, tocs = FileStorage.create_file, []

    def create_file(self, name, *args, **kwargs):
        if ".rebuild-" in self.folder and ".toc" in name:  # a table of contents, written as _MAIN_<n>.toc.<time>
            tocs.append(name)
            if len(tocs) == 3:  # after the new index's creation and first commit, its second commit
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), os.path.join(self.folder, name))
        return real_create(self, name, *args, **kwargs)

    monkeypatch.setattr(FileStorage, "create_file", create_file)
    with pytest.raises(IndexWriteError) as caught:
        with ArticleStore.rebuild(ix) as new:
            put(new, article("g1", RICE))
            put(new, article("g2", RICE))
    monkeypatch.undo()
    assert [t.split(".")[0] for t in tocs] == ["_MAIN_0", "_MAIN_1", "_MAIN_2"]
    assert str(caught.value) == (
        f"Cannot write the new index beside {ix}/: No space left on device — {ix}/ is left as it was; "
        "free some space or make the directory writable, then run the command again"
    )
    assert caught.value.reason == "No space left on device"
    assert_gold(ix)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ix"]


def test_without_renameat2_the_old_index_is_renamed_aside_then_removed(tmp_path, ix, monkeypatch):
    monkeypatch.setattr(store_module, "_exchange", lambda a, b: False)
    with ArticleStore.rebuild(ix) as new:
        put(new, article("g1", RICE))
    with ArticleStore.open(ix) as store:
        assert sorted(store.fingerprints()) == ["g1"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ix"]


@pytest.mark.parametrize("exchange", [True, False])
def test_a_swap_that_fails_leaves_the_old_index_in_place(tmp_path, ix, monkeypatch, exchange):
    real_rename = os.rename

    def rename(src, dst):
        if Path(src).name.startswith(".ix.rebuild-"):  # the new index cannot be moved in
            raise OSError(errno.EXDEV, os.strerror(errno.EXDEV), str(dst))
        real_rename(src, dst)

    def no_exchange(a, b):
        raise OSError(errno.EBUSY, os.strerror(errno.EBUSY), str(b))

    monkeypatch.setattr(store_module, "_exchange", no_exchange if exchange else lambda a, b: False)
    monkeypatch.setattr(store_module.os, "rename", rename)
    with pytest.raises(IndexWriteError) as caught:
        with ArticleStore.rebuild(ix) as new:
            put(new, article("g1", RICE))
    monkeypatch.undo()
    reason = os.strerror(errno.EBUSY if exchange else errno.EXDEV)
    assert str(caught.value) == (
        f"Cannot put the new index in place of {ix}/: {reason} (a mount point cannot be replaced: use a "
        f"directory inside it as the index) — {ix}/ is left as it was; free some space or make the "
        "directory writable, then run the command again"
    )
    assert_gold(ix)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ix"]


# Holds the write lock of the index given as argv[1] until told anything on stdin.
HOLDER = """
import sys
from indexer.store import ArticleStore
store = ArticleStore.open(sys.argv[1])
writer = store.writer()
print("locked", flush=True)
sys.stdin.readline()
writer.cancel()
"""


def test_a_rebuild_waits_for_the_writer_of_the_old_index_then_keeps_others_out(tmp_path, ix):
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(ix)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline() == "locked\n"
        with pytest.raises(IndexLockedError, match=rf"^The index at {ix}/ is locked by another writer: pid {holder.pid} "):
            with ArticleStore.rebuild(ix, lock_timeout=0.2):
                pass
    finally:
        holder.communicate("go\n", timeout=60)
    assert_gold(ix)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ix"]

    with ArticleStore.rebuild(ix) as new, ArticleStore.open(ix) as old:
        # Whatever a writer committed to the old index now would vanish with it: it waits.
        with pytest.raises(IndexLockedError, match=rf"is locked by another writer: pid {os.getpid()} \("):
            old.writer(timeout=0.1)
        put(new, article("g1", RICE))
    with ArticleStore.open(ix) as store:
        assert sorted(store.fingerprints()) == ["g1"]
        assert store.writer(timeout=0).cancel() is None


def test_a_damaged_index_can_be_rebuilt(tmp_path, ix):
    for toc in ix.glob("*.toc"):
        toc.write_bytes(b"\x00garbage")
    with ArticleStore.rebuild(ix, lock_timeout=0.1) as new:
        put(new, article("g1", RICE))
    with ArticleStore.open(ix) as store:
        assert sorted(store.fingerprints()) == ["g1"]


def test_a_symlinked_index_is_rebuilt_where_it_points(tmp_path, ix):
    link = tmp_path / "link"
    link.symlink_to(ix)
    with ArticleStore.rebuild(link) as new:
        put(new, article("g1", RICE))
    assert link.is_symlink() and link.resolve() == ix
    with ArticleStore.open(ix) as store:
        assert sorted(store.fingerprints()) == ["g1"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ix", "link"]


def test_what_killed_rebuilds_left_is_removed_and_nothing_else(tmp_path, ix):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = int(dead.stdout)
    live_pid = os.getppid()
    for name in (f".ix.rebuild-{dead_pid}", f".ix.old-{dead_pid}", f".ix.rebuild-{live_pid}", ".ix.rebuild-notes"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "_MAIN_1.toc").write_bytes(b"")
    (tmp_path / f".other.rebuild-{dead_pid}").mkdir()
    with ArticleStore.rebuild(ix) as new:
        put(new, article("g1", RICE))
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["ix", f".ix.rebuild-{live_pid}", ".ix.rebuild-notes", f".other.rebuild-{dead_pid}"]
    )


def test_commit_then_runs_after_the_commit_under_the_lock(ix):
    seen = []

    def then():
        with ArticleStore.open(ix) as other:
            seen.append((sorted(other.fingerprints()), other.lock_holder().pid))

    def full_disk():
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(ix / "vocabulary.sqlite"))

    with ArticleStore.open(ix) as store:
        writer = store.writer()
        writer.put(to_document(article("g1", RICE)))
        writer.commit(then=then)
        assert seen == [(["g1", "v1", "v2"], os.getpid())]
        assert store.lock_holder() is None

        writer = store.writer()
        writer.delete("g1")
        with pytest.raises(IndexWriteError, match=rf"^Cannot write the index at {ix}/: No space left on device — it keeps its last commit"):
            writer.commit(then=full_disk)
        store.refresh()
        assert sorted(store.fingerprints()) == ["v1", "v2"]  # committed all the same
        assert store.lock_holder() is None


# Whoosh leaves the files of a writer that failed open until they are collected: its leak.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_a_writer_that_fails_to_start_lets_go_of_the_lock_at_once(ix, monkeypatch):
    from whoosh.filedb.filestore import FileStorage

    def create_file(self, name, *args, **kwargs):  # Whoosh's new writer opens its first file
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), os.path.join(self.folder, name))

    with ArticleStore.open(ix) as store:
        monkeypatch.setattr(FileStorage, "create_file", create_file)
        with pytest.raises(IndexWriteError) as failed:
            store.writer()
        monkeypatch.undo()
        # The error is alive, and its traceback with the half-built Whoosh writer: the lock is free all the same.
        assert failed.value.reason == "No space left on device"
        assert store.lock_holder() is None
        store.writer(timeout=0).cancel()


def test_without_whooshs_internals_the_arrays_come_from_its_public_api(index_dir, monkeypatch):
    """Whole blocks and columns are read through Whoosh 2.7's internals; another layout falls back."""

    def changed_internals(*args, **kwargs):
        raise AttributeError("a Whoosh with other internals")

    queries = ["giá vàng", "gia vang the gioi", '"giá vàng"', "hoa binh vang"]
    with ArticleStore.open(index_dir) as store:
        expected = [search(store, q).to_json()["hits"] for q in queries]
    monkeypatch.setattr(store_module, "_blocks", changed_internals)
    monkeypatch.setattr(store_module, "LENGTHS_COLUMN", None)  # as if Whoosh had none: _cached_reader fails
    other = SimpleNamespace(Reader=type("Other", (), {}))  # column readers of classes the fast path does not know
    monkeypatch.setattr(store_module, "columns", SimpleNamespace(NumericColumn=other, VarBytesColumn=other))
    with ArticleStore.open(index_dir) as store:
        assert [search(store, q).to_json()["hits"] for q in queries] == expected
        assert store._view().segments[0]._lengths  # the fallback filled them


def test_a_store_keeps_searching_the_segments_a_merge_deleted(ix):
    """A merge deletes the merged segments' files once committed; an open store still reads them."""
    with ArticleStore.open(ix) as writing:
        put(writing, article("r1", RICE))  # a second segment
    reader = ArticleStore.open(ix)
    try:
        before = {f.name for f in ix.iterdir()}
        with ArticleStore.open(ix) as writing:
            writing._ix.optimize()  # one segment now; the two old ones' files are deleted
        assert any(name not in {f.name for f in ix.iterdir()} for name in before if name.endswith(".col"))
        page = search(reader, "giá")  # the store has not refreshed: its readers are of the deleted segments
        assert sorted(h.id for h in page.hits) == ["r1", "v1", "v2"]
        assert all(h.title and h.score > 0 for h in page.hits)
        assert page.facets["source"] == {} and page.total == 3
    finally:
        reader.close()


def test_a_segment_looks_each_term_up_once_and_keeps_a_bounded_number(store, monkeypatch):
    seg = store._view().segments[0]
    seg._infos.clear()
    monkeypatch.setattr(store_module, "TERM_INFOS", 3)
    asked = []
    real = seg._look_up
    monkeypatch.setattr(seg, "_look_up", lambda field, term: asked.append(term) or real(field, term))
    for term in [b"gia", b"gia", b"vang", b"khong-co", b"gia"]:
        seg.info("text_f", term)
    assert asked == [b"gia", b"vang", b"khong-co"]
    assert seg.info("text_f", b"khong-co") is None and not len(seg.postings("text_f", b"khong-co").docs)
    assert seg.info("text_f", b"gia").doc_frequency() == len(seg.postings("text_f", b"gia").docs) > 0
    seg.info("text_f", b"the")  # a fourth term: the oldest look-up goes
    assert list(seg._infos) == [("text_f", b"vang"), ("text_f", b"khong-co"), ("text_f", b"the")]


def test_term_entries_are_found_as_whooshs_hash_table_finds_them(store):
    seg = store._view().segments[0]
    table = seg.reader._terms._tindex
    keys = [key for key, _ in table.items()]
    assert len(keys) > 100
    for key in keys:
        assert store_module._hashed(table, key) == table.get(key) is not None
    for key in [keys[0] + b"x", b"\xff\xff" + keys[1][2:], b"", keys[2][:-1]]:
        assert store_module._hashed(table, key) is table.get(key) is None
    for field, term in [("text_f", b"gia"), ("title_f", b"gia"), ("text_f", b"khong-co"), ("nope", b"gia")]:
        theirs = seg.reader.term_info(field, term) if (field, term) in seg.reader else None
        ours = seg._look_up(field, term)
        assert (ours and (ours.doc_frequency(), ours.extent())) == (theirs and (theirs.doc_frequency(), theirs.extent()))


def test_a_phrase_among_given_documents_is_the_phrase_restricted_to_them(store):
    from whoosh import query as Q

    view = store._view()
    q = Q.Phrase("text_f", ["gia", "vang"])
    whole = view.phrase(q)
    assert len(whole) >= 2
    within = whole.docs[::2]
    part = view.phrase(q, within=np.concatenate([within, [view.size + 5]]))  # one document that is none
    assert part.docs.tolist() == within.tolist()
    assert part.scores.tolist() == whole.scores[::2].tolist()


def test_a_posting_of_many_positions_reads_alike_both_ways_and_survives_a_merge(tmp_path):
    """64 positions and more in one article: their byte count no longer fits the uint8 array of counts."""
    many = " ".join(["vàng"] * 70) + " giá vàng tăng"
    d = tmp_path / "ix"
    with ArticleStore.create(d) as store:
        put(store, article("m1", many), article("g1", GOLD), article("g2", GOLD))
        put(store, article("m2", many), article("g3", GOLD), article("g4", GOLD))
    with ArticleStore.open(d) as store:
        seg = store._view().segments[0]
        m = seg._matcher("text_f", b"vang")
        places = []
        while m.is_active():
            places.append(m.value_as("positions"))
            m.next()
        found = seg.positions("text_f", b"vang")
        assert found.counts.tolist() == [len(p) for p in places] == [71, 1, 1]
        assert found.positions.tolist() == [p for doc in places for p in doc]
        before = sorted(h.id for h in search(store, '"vàng tăng"').hits)
        assert before == ["m1", "m2"]
        store._ix.optimize()  # Whoosh's merge copies each posting as its matcher reads it
    with ArticleStore.open(d) as store:
        assert store.segment_count() == 1
        assert sorted(h.id for h in search(store, '"vàng tăng"').hits) == before


@pytest.mark.parametrize("cutoff", [2**15, 2], ids=["offsets derived", "offsets stored"])
def test_bytes_columns_read_in_one_go_as_whoosh_reads_them(tmp_path, cutoff):
    from whoosh.columns import VarBytesColumn
    from whoosh.filedb.filestore import FileStorage

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
            read = store_module._var_bytes(f, 0, size, len(values), wide_bytes=wide)
        assert read.tolist() == values
        codes, names = store_module._factorized(read)
        assert (codes.tolist(), names.tolist()) == ([1, 0, 2, 1, 3], [b"", b"vietnews", "Thời sự".encode(), b"x" * 300])


def segment_files(ix: Path) -> dict[str, bytes]:
    """The one segment's files by extension (their names hold the segment's random id)."""
    files = [f for f in ix.iterdir() if f.name.startswith("MAIN_") and f.name != "MAIN_WRITELOCK"]
    assert len({f.name.split(".")[0] for f in files}) == 1
    return {f.name.split(".", 1)[1]: f.read_bytes() for f in files}


@pytest.fixture()
def fixture_docs(corpus_dir) -> list[dict]:
    from indexer.articles import load_articles

    return [to_document(a) for _, a in load_articles([corpus_dir]) if isinstance(a, Article)]


def whooshs_own(path: Path, docs: list[dict]) -> Path:
    """``docs`` written by Whoosh's writer, a posting at a time, with this store's codec."""
    with ArticleStore.create(path) as store:
        w = store._ix.writer(compound=False, codec=store_module._Codec())
        for doc in docs:
            w.add_document(**doc)
        w.commit(merge=False)
    return path


def test_the_writer_writes_the_files_whooshs_own_writer_writes(tmp_path, fixture_docs, monkeypatch):
    """Posting lists made from arrays, byte for byte as W3's writer makes them one posting at a time:
    inlined terms (one or two postings), lists of many blocks (two postings each here), positions."""
    monkeypatch.setattr(store_module, "BLOCK_POSTINGS", 2)
    ours = tmp_path / "ours"
    with ArticleStore.create(ours) as store:
        writer = store.writer()
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
    monkeypatch.setattr(store_module, "BLOCK_POSTINGS", 2)
    if read == "matchers":

        def changed_internals(*args, **kwargs):
            raise AttributeError("a Whoosh with other internals")

        monkeypatch.setattr(store_module, "_blocks", changed_internals)
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


def test_a_text_field_that_is_not_a_string_is_refused_before_anything_is_added(ix):
    with ArticleStore.open(ix) as store:
        writer = store.writer()
        with pytest.raises(ValueError, match="text_x: 12 is not a string"):
            writer.put({"id": "n1", "text_x": 12})
        writer.put(to_document(article("v3", RICE)))
        writer.commit()
        store.refresh()
        assert sorted(store.fingerprints()) == ["v1", "v2", "v3"]
        assert [h.id for h in search(store, "lúa gạo").hits] == ["v3"]
