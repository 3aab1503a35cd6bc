"""Incremental indexing: counts, updates, pruning, bad input, format version."""

import gzip
import json
import os
from pathlib import Path

import pytest

from indexer.errors import IndexMissingError, IndexVersionError
from indexer.ingest import index_paths
from indexer.search import search
from indexer.store import META_FILE, ArticleStore
from indexer.vocabulary import VOCABULARY_FILE, Vocabulary
from support import without_timing

ARTICLE = "Hà Nội - Ngày 05-03-2024, thành phố tổ chức lễ hội hoa đào.\n\nNgười dân đến xem rất đông."


def write_jsonl(path: Path, articles: list[dict]) -> None:
    path.write_text("".join(json.dumps(a, ensure_ascii=False) + "\n" for a in articles), "utf-8")


def art(i: int, body: str | None = None) -> dict:
    return {"id": f"a{i}", "title": f"Tin số {i}", "body": body or f"Nội dung bài báo số {i} về giá lúa gạo."}


def counts(report):
    return (report.added, report.updated, report.unchanged, report.deleted, report.failed)


def test_add_update_unchanged_prune(tmp_path):
    src, ix = tmp_path / "src", tmp_path / "ix"
    src.mkdir()
    write_jsonl(src / "a.jsonl", [art(1), art(2)])
    (src / "b.txt").write_text(ARTICLE, "utf-8")
    assert counts(index_paths(ix, [src])) == (3, 0, 0, 0, 0)
    assert counts(index_paths(ix, [src])) == (0, 0, 3, 0, 0)

    write_jsonl(src / "a.jsonl", [art(1, "Bài đã sửa: giá cà phê tăng."), art(2), art(3)])
    assert counts(index_paths(ix, [src])) == (1, 1, 2, 0, 0)
    with ArticleStore.open(ix) as store:
        assert [h.id for h in search(store, "cà phê").hits] == ["a1"]

    (src / "b.txt").unlink()
    write_jsonl(src / "a.jsonl", [art(1, "Bài đã sửa: giá cà phê tăng."), art(3)])
    # Without --prune nothing is deleted; with it, articles gone from their file are.
    assert counts(index_paths(ix, [src])) == (0, 0, 2, 0, 0)
    assert counts(index_paths(ix, [src], prune=True)) == (0, 0, 2, 2, 0)
    with ArticleStore.open(ix) as store:
        assert sorted(store.fingerprints()) == ["a1", "a3"]


def test_prune_only_touches_the_given_paths_and_keeps_articles_of_broken_files(tmp_path):
    one, two, ix = tmp_path / "one", tmp_path / "two", tmp_path / "ix"
    one.mkdir(), two.mkdir()
    write_jsonl(one / "x.jsonl", [art(1)])
    write_jsonl(two / "y.jsonl", [art(2)])
    index_paths(ix, [one, two])
    (one / "x.jsonl").write_bytes(b"\xff\xfe not utf-8")
    report = index_paths(ix, [one, two], prune=True)
    assert counts(report) == (0, 0, 1, 0, 1)
    (one / "x.jsonl").unlink()
    assert counts(index_paths(ix, [two], prune=True)) == (0, 0, 1, 0, 0)
    assert counts(index_paths(ix, [one], prune=True)) == (0, 0, 0, 1, 0)


def test_rebuild_starts_empty(tmp_path):
    src, ix = tmp_path / "src", tmp_path / "ix"
    src.mkdir()
    write_jsonl(src / "a.jsonl", [art(1), art(2)])
    index_paths(ix, [src])
    write_jsonl(src / "a.jsonl", [art(1, "Giá cà phê tăng.")])
    assert counts(index_paths(ix, [src], rebuild=True)) == (1, 0, 0, 0, 0)
    with ArticleStore.open(ix) as store:
        assert sorted(store.fingerprints()) == ["a1"]
        assert [h.id for h in search(store, "cà phê").hits] == ["a1"] and search(store, "lúa gạo").total == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ix", "src"]  # no build left beside it


# Whoosh leaves the files of a writer that failed open until they are collected: its leak.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_a_rebuild_that_fails_midway_keeps_the_previous_index(tmp_path, monkeypatch, runner):
    import errno

    from whoosh.filedb.filestore import FileStorage

    import indexer.ingest as ingest
    from indexer.cli import main

    src, ix = tmp_path / "src", tmp_path / "ix"
    src.mkdir()
    write_jsonl(src / "a.jsonl", [art(i) for i in range(5)])
    index_paths(ix, [src], workers=1)
    write_jsonl(src / "b.jsonl", [art(i, "Giá cà phê tăng.") for i in range(5, 12)])

    # Batches of 3: the new index gets two commits in, then the disk is full.
    monkeypatch.setattr(ingest, "REBUILD_BATCH_SIZE", 3)
    real_create, tocs = FileStorage.create_file, []

    def create_file(self, name, *args, **kwargs):
        if ".rebuild-" in self.folder and ".toc" in name:
            tocs.append(name)
            if len(tocs) == 4:  # created, two batches committed, the third one's commit
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), os.path.join(self.folder, name))
        return real_create(self, name, *args, **kwargs)

    monkeypatch.setattr(FileStorage, "create_file", create_file)
    result = runner.invoke(main, ["index", "--rebuild", "--workers", "1", "--index", str(ix), str(src)])
    assert (result.exit_code, result.output) == (
        1,
        f"Error: Cannot write the new index beside {ix}/: No space left on device — {ix}/ is left as it was; "
        "free some space or make the directory writable, then run the command again\n",
    )
    assert len(tocs) == 4
    monkeypatch.setattr(FileStorage, "create_file", real_create)
    with ArticleStore.open(ix) as store:
        assert sorted(store.fingerprints()) == [f"a{i}" for i in range(5)]
        assert search(store, "lúa gạo").total == 5 and search(store, "cà phê").total == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ix", "src"]

    assert counts(index_paths(ix, [src], rebuild=True, workers=1)) == (12, 0, 0, 0, 0)
    with ArticleStore.open(ix) as store:
        assert search(store, "lúa gạo").total == 5 and search(store, "cà phê").total == 7
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ix", "src"]


# -- the vocabulary follows the commit ------------------------------------------------


def dies_in_commit(self, *args, **kwargs):
    raise KeyboardInterrupt  # as if the process were killed while Whoosh commits


def test_a_batch_whose_commit_fails_is_not_counted_and_a_rerun_counts_it_once(tmp_path, monkeypatch):
    from whoosh.writing import SegmentWriter

    src, ix = tmp_path / "src", tmp_path / "ix"
    src.mkdir()
    write_jsonl(src / "a.jsonl", [art(1), art(2)])
    index_paths(ix, [src], workers=1)
    saved = (ix / VOCABULARY_FILE).read_bytes()
    write_jsonl(src / "a.jsonl", [art(1), art(2), art(3, "Giá cà phê tăng.")])
    monkeypatch.setattr(SegmentWriter, "commit", dies_in_commit)
    with pytest.raises(KeyboardInterrupt):
        index_paths(ix, [src], workers=1)
    monkeypatch.undo()
    assert (ix / VOCABULARY_FILE).read_bytes() == saved
    assert counts(index_paths(ix, [src], workers=1)) == (1, 0, 2, 0, 0)
    vocabulary = Vocabulary.load(ix)
    assert (vocabulary.syllables["cà"], vocabulary.syllables["gạo"]) == (1, 2)


def test_the_vocabulary_is_saved_after_the_commit_under_its_lock(tmp_path, monkeypatch):
    src, ix = tmp_path / "src", tmp_path / "ix"
    src.mkdir()
    write_jsonl(src / "a.jsonl", [art(1), art(2)])
    real_add_to, seen = Vocabulary.add_to, []

    def add_to(self, index_dir):
        with ArticleStore.open(index_dir) as store:
            seen.append((len(store), store.lock_holder().pid))
        real_add_to(self, index_dir)

    monkeypatch.setattr(Vocabulary, "add_to", add_to)
    index_paths(ix, [src], workers=1)
    assert seen == [(2, os.getpid())]
    with ArticleStore.open(ix) as store:
        assert store.lock_holder() is None


def test_a_failed_commit_keeps_the_words_of_earlier_batches_awaiting_their_save(tmp_path, monkeypatch):
    from whoosh.writing import SegmentWriter

    from indexer.articles import Article
    from indexer.ingest import apply_changes, tidy

    def article(i, body):
        return Article(f"t{i}", None, None, body, None, None, None, None, None, "api")

    with ArticleStore.create(tmp_path / "ix") as store:
        apply_changes(store, [article(1, "Giá lúa gạo tăng.")], defer_upkeep=True)
        assert not (store.path / VOCABULARY_FILE).exists()  # counted, not saved yet
        monkeypatch.setattr(SegmentWriter, "commit", dies_in_commit)
        with pytest.raises(KeyboardInterrupt):
            apply_changes(store, [article(2, "Giá cà phê giảm.")], defer_upkeep=True)
        monkeypatch.undo()
        assert tidy(store, merge=False)
        vocabulary = Vocabulary.load(store.path)
        assert (vocabulary.syllables["gạo"], vocabulary.syllables["cà"]) == (1, 0)


def test_bad_input_is_reported_and_everything_else_indexed(tmp_path):
    src, ix = tmp_path / "src", tmp_path / "ix"
    src.mkdir()
    (src / "latin1.txt").write_bytes("Hà Nội".encode("cp1258", errors="replace") + b"\xe0\xe1")
    (src / "empty.txt").write_text("", "utf-8")
    (src / "good.txt").write_text(ARTICLE, "utf-8")
    (src / "mixed.jsonl").write_text(
        "\n".join(
            [
                json.dumps(art(1)),
                "{not json",
                json.dumps({"id": "nobody", "title": "Không có nội dung", "body": None}),
                json.dumps(art(2)),
                json.dumps(art(1)),
            ]
        ),
        "utf-8",
    )
    with gzip.open(src / "cut.jsonl.gz", "wb", compresslevel=0) as f:
        f.write("".join(json.dumps(art(i)) + "\n" for i in range(100, 200)).encode())
    data = (src / "cut.jsonl.gz").read_bytes()
    (src / "cut.jsonl.gz").write_bytes(data[: len(data) // 2])
    report = index_paths(ix, [src])
    assert sorted(str(f) for f in report.failures) == sorted(
        [
            f"{src}/cut.jsonl.gz: truncated gzip file",
            f"{src}/empty.txt: empty file",
            f"{src}/latin1.txt: not UTF-8 text",
            f"{src}/mixed.jsonl:2: invalid JSON: Expecting property name enclosed in double quotes (column 2)",
            f"{src}/mixed.jsonl:3: no body",
            f"{src}/mixed.jsonl:5: duplicate id 'a1' (already read from {src}/mixed.jsonl:1)",
        ]
    )
    # The readable half of the truncated gzip file is kept.
    with ArticleStore.open(ix) as store:
        ids = set(store.fingerprints())
    from_gzip = {i for i in ids if i.startswith("a1") and len(i) == 4}
    assert ids - from_gzip == {"a1", "a2", "good.txt"}
    assert 30 < len(from_gzip) < 100 and "a100" in from_gzip
    assert (report.added, report.failed) == (3 + len(from_gzip), 6)


def test_missing_and_foreign_indexes_are_refused(tmp_path):
    with pytest.raises(IndexMissingError, match=f"No index at {tmp_path}/nope/ — run: vnsearch index"):
        ArticleStore.open(tmp_path / "nope")
    src, ix = tmp_path / "src", tmp_path / "ix"
    src.mkdir()
    write_jsonl(src / "a.jsonl", [art(1)])
    index_paths(ix, [src])
    (ix / META_FILE).write_text('{"format": 0}', "utf-8")
    with pytest.raises(IndexVersionError, match="run: vnsearch index --rebuild"):
        ArticleStore.open(ix)
    with pytest.raises(IndexVersionError):
        index_paths(ix, [src])
    assert counts(index_paths(ix, [src], rebuild=True)) == (1, 0, 0, 0, 0)


def test_rebuild_refuses_a_directory_that_is_not_an_index(tmp_path):
    (tmp_path / "notes.txt").write_text("keep me", "utf-8")
    with pytest.raises(IndexMissingError, match="holds no vnsearch index"):
        index_paths(tmp_path, [], rebuild=True)
    assert (tmp_path / "notes.txt").exists()


def test_many_articles_go_through_worker_processes(tmp_path, monkeypatch):
    import indexer.ingest as ingest

    monkeypatch.setattr(ingest, "POOL_THRESHOLD", 5)
    monkeypatch.setattr(ingest, "BATCH_SIZE", 4)
    src, ix = tmp_path / "src", tmp_path / "ix"
    src.mkdir()
    write_jsonl(src / "a.jsonl", [art(i) for i in range(12)])
    assert counts(index_paths(ix, [src], workers=2)) == (12, 0, 0, 0, 0)
    with ArticleStore.open(ix) as store:
        assert len(store) == 12
        assert search(store, "lúa gạo").total == 12


# -- one writer at a time --------------------------------------------------------------

# Holds the index's write lock with one uncommitted article until told "commit" or "cancel"
# on stdin (or until killed).
HOLDER = """
import sys
from indexer.store import ArticleStore
store = ArticleStore.open(sys.argv[1])
writer = store.writer()
# An analyzed document written by hand: this process need not load pyvi.
writer.put({"id": "held", "hash": "0", "origin": "x", "body": "Khinh khí cầu.", "text_x": "khinh khí cầu", "text_f": "khinh khi cau"})
print("locked", flush=True)
command = sys.stdin.readline().strip()
writer.commit() if command == "commit" else writer.cancel()
store.close()
"""


@pytest.fixture()
def indexed(tmp_path):
    src, ix = tmp_path / "src", tmp_path / "ix"
    src.mkdir()
    write_jsonl(src / "a.jsonl", [art(1)])
    index_paths(ix, [src])
    return src, ix


def hold_lock(ix: Path):
    import subprocess
    import sys

    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(ix)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline() == "locked\n"  # blocks until the child holds the lock
    return proc


def release(proc, command: str) -> None:
    proc.stdin.write(command + "\n")
    proc.stdin.close()
    assert proc.wait(timeout=60) == 0
    proc.stdout.close()


def test_a_writer_waits_a_bounded_time_then_names_the_holder(indexed, runner, monkeypatch):
    import indexer.ingest as ingest
    from indexer.cli import main
    from indexer.errors import IndexLockedError

    src, ix = indexed
    write_jsonl(src / "a.jsonl", [art(1), art(2)])
    holder = hold_lock(ix)
    try:
        with pytest.raises(IndexLockedError) as caught:
            index_paths(ix, [src], lock_timeout=0.3)
        message = str(caught.value)
        assert caught.value.holder.pid == holder.pid
        assert message.startswith(f"The index at {ix}/ is locked by another writer: pid {holder.pid} (python -c {ix}), holding it since ")
        assert message.endswith("; waited 0.3 s — try again when it has finished, or stop it")
        with ArticleStore.open(ix) as store:
            assert store.lock_holder().pid == holder.pid

        # The CLI says the same and fails.
        monkeypatch.setattr(ingest, "LOCK_TIMEOUT", 0.2)
        result = runner.invoke(main, ["index", "--index", str(ix), str(src)])
        assert result.exit_code == 1
        assert f"is locked by another writer: pid {holder.pid} (python -c {ix})" in result.output
    finally:
        release(holder, "cancel")
    with ArticleStore.open(ix) as store:
        assert store.lock_holder() is None
        assert sorted(store.fingerprints()) == ["a1"]  # the holder's article was never committed


def test_a_second_writer_goes_ahead_once_the_first_commits(indexed):
    import subprocess
    import sys
    import time

    src, ix = indexed
    write_jsonl(src / "a.jsonl", [art(1), art(2)])
    holder = hold_lock(ix)
    index = subprocess.Popen(
        [sys.executable, "-c", "from indexer.cli import main; main()", "index", "--index", str(ix), str(src)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        deadline = time.monotonic() + 1.5
        while index.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)  # polling, bounded: it must still be waiting for the lock
        assert index.poll() is None
    finally:
        release(holder, "commit")
    out, err = index.communicate(timeout=120)
    assert (index.returncode, without_timing(out), err) == (0, "added 1, updated 0, unchanged 1, deleted 0, failed 0\n", "")
    with ArticleStore.open(ix) as store:
        assert sorted(store.fingerprints()) == ["a1", "a2", "held"]


def test_a_lock_left_by_a_killed_process_is_recovered(indexed):
    import signal

    src, ix = indexed
    holder = hold_lock(ix)
    holder.send_signal(signal.SIGKILL)
    holder.wait(timeout=60)
    holder.stdin.close()
    holder.stdout.close()
    write_jsonl(src / "a.jsonl", [art(1), art(2)])
    assert counts(index_paths(ix, [src], lock_timeout=5)) == (1, 0, 1, 0, 0)
    with ArticleStore.open(ix) as store:
        assert sorted(store.fingerprints()) == ["a1", "a2"]  # nothing of the killed writer's
        assert search(store, "khinh khí cầu").total == 0
        assert search(store, "lúa gạo").total == 2
        assert store.lock_holder() is None


def test_rebuild_never_deletes_an_index_a_writer_is_using(indexed):
    from indexer.errors import IndexLockedError

    src, ix = indexed
    holder = hold_lock(ix)
    try:
        with pytest.raises(IndexLockedError, match=f"pid {holder.pid}"):
            index_paths(ix, [src], rebuild=True, lock_timeout=0.2)
    finally:
        release(holder, "commit")
    with ArticleStore.open(ix) as store:
        assert sorted(store.fingerprints()) == ["a1", "held"]


def test_single_article_commits_keep_the_segment_count_bounded(tmp_path):
    from indexer.articles import Article
    from indexer.ingest import apply_changes

    ix = tmp_path / "ix"
    with ArticleStore.create(ix) as store:
        counts_seen = []
        for i in range(50):
            a = Article(f"s{i}", f"Tin {i}", None, f"Bản tin ngắn số {i} về giá lúa gạo.", None, None, None, None, None, "api")
            assert apply_changes(store, [a]).added == 1  # one commit each
            store.refresh()
            counts_seen.append(store.segment_count())
        assert len(store) == 50
        assert max(counts_seen) <= 6, counts_seen  # Whoosh merges small segments at each commit


def test_a_refreshed_store_sees_updates_and_deletions_and_keeps_untouched_segments(tmp_path):
    from indexer.articles import Article
    from indexer.ingest import apply_changes

    def article(i, body):
        return Article(f"r{i}", f"Tin {i}", None, body, None, None, None, None, None, "api")

    ix = tmp_path / "ix"
    with ArticleStore.create(ix) as writer_store, ArticleStore.open(ix) as reader_store:
        apply_changes(writer_store, [article(1, "Giá lúa gạo tăng."), article(2, "Giá cà phê giảm.")])
        apply_changes(writer_store, [article(3, "Giá hồ tiêu ổn định.")], defer_upkeep=True)
        reader_store.refresh()
        assert len(reader_store) == 3
        leaves = {r.segment().segment_id(): r for r, _ in reader_store._searcher.reader().leaf_readers()}

        apply_changes(writer_store, [article(1, "Giá vàng tăng.")], ["r2"], defer_upkeep=True)  # update + delete
        reader_store.refresh()
        assert len(reader_store) == 2
        assert [h.id for h in search(reader_store, "vàng").hits] == ["r1"]
        assert search(reader_store, "lúa gạo").total == 0 and search(reader_store, "cà phê").total == 0
        after = {r.segment().segment_id(): r for r, _ in reader_store._searcher.reader().leaf_readers()}
        untouched = [sid for sid in leaves if sid in after and after[sid].segment().deleted_count() == 0]
        assert untouched and all(after[sid] is leaves[sid] for sid in untouched)  # reused, not reopened


def test_optimize_merges_every_segment_into_one_and_drops_deleted_articles(tmp_path):
    from indexer.articles import Article
    from indexer.ingest import apply_changes, optimize

    def article(i, body):
        return Article(f"o{i}", f"Tin {i}", None, body, None, None, None, None, None, "api")

    queries = ("lúa gạo", "ca phe", '"gia lua gao"')

    def pages(store):
        return [[(h.id, round(h.score, 9)) for h in search(store, q).hits] for q in queries]

    with ArticleStore.create(tmp_path / "ix") as store:
        for i in range(4):  # a commit each, never merged
            apply_changes(store, [article(i, f"Giá lúa gạo phiên {i} tăng, giá cà phê {i} giảm.")], defer_upkeep=True)
        store.refresh()
        before = pages(store)
        assert optimize(store) == 4
        assert store.segment_count() == 1 and pages(store) == before  # the same documents: the same scores
        assert [len(p) for p in before] == [4, 4, 4]

        apply_changes(store, [article(1, "Giá hồ tiêu ổn định.")], ["o2"], defer_upkeep=True)  # an update, a deletion
        store.refresh()
        assert (store.segment_count(), store.deleted_count()) == (2, 2)
        assert optimize(store) == 2
        assert (store.segment_count(), store.deleted_count(), len(store)) == (1, 0, 3)
        assert [sorted(i for i, _ in p) for p in pages(store)] == [["o0", "o3"]] * 3
        assert optimize(store) == 1  # one segment, nothing deleted: nothing to do
        assert store.segment_count() == 1


def test_a_rebuild_commits_big_batches_never_merges_and_saves_the_vocabulary(tmp_path, monkeypatch):
    import indexer.ingest as ingest

    monkeypatch.setattr(ingest, "REBUILD_BATCH_SIZE", 4)
    monkeypatch.setattr(ingest, "MAX_SMALL_SEGMENTS", 2)  # batches of 4 are not small: no merge either way
    src, ix = tmp_path / "src", tmp_path / "ix"
    src.mkdir()
    write_jsonl(src / "a.jsonl", [art(i) for i in range(12)])
    assert counts(index_paths(ix, [src], rebuild=True, workers=1)) == (12, 0, 0, 0, 0)
    with ArticleStore.open(ix) as store:
        assert store.segment_count() == 3
        assert search(store, "lúa gạo").total == 12
    assert Vocabulary.load(ix).syllables["gạo"] == 12


def segment_sizes(ix: Path) -> list[int]:
    with ArticleStore.open(ix) as store:
        return sorted(r.doc_count_all() for r, _ in store._searcher.reader().leaf_readers())


def test_a_first_index_into_an_empty_directory_is_built_as_a_rebuild_then_commits_as_usual(tmp_path, monkeypatch):
    import indexer.ingest as ingest

    monkeypatch.setattr(ingest, "REBUILD_BATCH_SIZE", 4)
    monkeypatch.setattr(ingest, "BATCH_SIZE", 2)
    src, ix = tmp_path / "src", tmp_path / "ix"
    src.mkdir()
    write_jsonl(src / "a.jsonl", [art(i) for i in range(10)])
    assert counts(index_paths(ix, [src], workers=1)) == (10, 0, 0, 0, 0)
    assert segment_sizes(ix) == [2, 4, 4]  # big batches, each its own commit, never merged
    assert Vocabulary.load(ix).syllables["gạo"] == 10  # saved at the end
    write_jsonl(src / "b.jsonl", [art(i) for i in range(10, 13)])
    assert counts(index_paths(ix, [src], workers=1)) == (3, 0, 10, 0, 0)
    assert segment_sizes(ix) == [1, 2, 2, 4, 4]  # an index with articles: the usual batches


def test_a_batch_ends_at_batch_chars_whatever_its_article_count(tmp_path, monkeypatch):
    import indexer.ingest as ingest
    from indexer.documents import to_document
    from indexer.articles import load_articles

    src, ix = tmp_path / "src", tmp_path / "ix"
    src.mkdir()
    write_jsonl(src / "a.jsonl", [art(i) for i in range(7)])
    one = to_document(next(a for _, a in load_articles([src])))
    monkeypatch.setattr(ingest, "BATCH_CHARS", 2 * sum(len(v) for v in one.values() if isinstance(v, str)))
    index_paths(ix, [src], workers=1)
    assert segment_sizes(ix) == [1, 2, 2, 2]  # 25,000 articles allowed, two articles' characters reached


def test_merges_never_make_a_segment_past_merge_max_docs(tmp_path, monkeypatch):
    from indexer.ingest import apply_changes
    from indexer.store import writer

    monkeypatch.setattr(writer, "MERGE_MAX_DOCS", 6)
    ix = tmp_path / "ix"
    with ArticleStore.create(ix) as store:
        for i in range(20):  # a commit each, merging by Whoosh's policy
            apply_changes(store, [article_from(i)])
    sizes = segment_sizes(ix)
    assert sum(sizes) == 20 and max(sizes) <= 6 and len(sizes) < 20


def article_from(i: int):
    from indexer.articles import Article

    return Article(f"m{i}", f"Tin số {i}", None, f"Nội dung bài báo số {i} về giá lúa gạo.", None, None, None, None, None, "api")


def test_the_window_keeps_the_workers_a_bounded_number_of_articles_ahead(monkeypatch):
    import time

    import indexer.ingest as ingest

    monkeypatch.setattr(ingest, "POOL_THRESHOLD", 3)
    monkeypatch.setattr(ingest, "IN_FLIGHT", 8)
    read = []

    def articles():
        for i in range(40):
            read.append(i)
            yield article_from(i)

    with ingest._analyzed(articles(), 2) as docs:
        first = [next(docs) for _ in range(5)]
        deadline = time.monotonic() + 30
        while len(read) < 14 and time.monotonic() < deadline:
            time.sleep(0.01)  # the pool's thread reads ahead, up to the window
        time.sleep(0.2)  # and no further
        assert len(read) == 5 + 8 + 1  # those taken, the window, and one waiting for a place in it
        rest = list(docs)
    assert [a.id for a, _ in first + rest] == [f"m{i}" for i in range(40)]
    assert all(doc["body"] == a.body and doc["text_x"] for a, doc in first + rest)


def test_leaving_the_analysis_early_frees_the_pool_waiting_on_the_window(monkeypatch):
    import indexer.ingest as ingest

    monkeypatch.setattr(ingest, "POOL_THRESHOLD", 3)
    monkeypatch.setattr(ingest, "IN_FLIGHT", 2)  # less than a chunk: a chunk it is
    with pytest.raises(KeyboardInterrupt):
        with ingest._analyzed((article_from(i) for i in range(100)), 2) as docs:
            next(docs)
            raise KeyboardInterrupt  # Ctrl-C mid-run: the pool ends, its reading thread with it
