"""The index on disk: creating one, rebuilding one beside the old and swapping them, a store open
across the swap, the write lock, full disks, and writers."""

from __future__ import annotations

import errno
import multiprocessing
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

import indexer.store.disk as disk_module
from indexer.articles import Article
from indexer.documents import to_document
from indexer.errors import IndexLockedError, IndexWriteError
from indexer.search import search
from indexer.store import ArticleStore
from indexer.vocabulary import Vocabulary


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


CREATORS = 6


def _open_or_create_then_add(ix: str, n: int, start) -> None:
    start.wait()
    with ArticleStore.open_or_create(ix) as store:
        writer = store.writer(timeout=60)
        writer.put(to_document(article(f"p{n}", GOLD)))
        writer.commit()


def test_processes_that_open_or_create_one_index_at_once_make_it_once_and_keep_every_article(tmp_path):
    """Serving workers taking their first articles: one creates the index, the others wait and open it."""
    to_document(article("p", GOLD))  # pyvi's model loaded once, before the fork
    ctx = multiprocessing.get_context("fork")
    start = ctx.Barrier(CREATORS)
    procs = [ctx.Process(target=_open_or_create_then_add, args=(str(tmp_path / "ix"), n, start)) for n in range(CREATORS)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    assert [p.exitcode for p in procs] == [0] * CREATORS
    with ArticleStore.open(tmp_path / "ix") as store:
        assert sorted(store.fingerprints()) == [f"p{n}" for n in range(CREATORS)]


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
    monkeypatch.setattr(disk_module, "_exchange", lambda a, b: False)
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

    monkeypatch.setattr(disk_module, "_exchange", no_exchange if exchange else lambda a, b: False)
    monkeypatch.setattr(disk_module.os, "rename", rename)
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


def test_a_store_keeps_searching_the_segments_a_merge_deleted(ix):
    """A merge deletes the merged segments' files once committed; an open store still reads them."""
    with ArticleStore.open(ix) as writing:
        put(writing, article("r1", RICE))  # a second segment
    reader = ArticleStore.open(ix)
    try:
        before = {f.name for f in ix.iterdir()}
        with ArticleStore.open(ix) as writing:
            writing.writer().commit(optimize=True)  # one segment now; the two old ones' files are deleted
        assert any(name not in {f.name for f in ix.iterdir()} for name in before if name.endswith(".col"))
        page = search(reader, "giá")  # the store has not refreshed: its readers are of the deleted segments
        assert sorted(h.id for h in page.hits) == ["r1", "v1", "v2"]
        assert all(h.title and h.score > 0 for h in page.hits)
        assert page.facets["source"] == {} and page.total == 3
    finally:
        reader.close()


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


def test_a_writer_as_a_context_manager_is_abandoned_on_an_exception_and_cancelled_without_commit(ix):
    with ArticleStore.open(ix) as store:
        with pytest.raises(Interrupted):
            with store.writer() as writer:
                writer.put(to_document(article("g1", RICE)))
                raise Interrupted("boom")
        assert store.lock_holder() is None
        with store.writer() as writer:
            writer.put(to_document(article("g2", RICE)))
        assert store.lock_holder() is None
        store.refresh()
        assert sorted(store.fingerprints()) == ["v1", "v2"]
        with store.writer() as writer:
            writer.put(to_document(article("g3", RICE)))
            writer.commit()
        store.refresh()
        assert sorted(store.fingerprints()) == ["g3", "v1", "v2"]
