"""The folder watcher: new, changed, deleted, half-written and bad files; locking; the real
`vnsearch watch` beside a real `vnsearch serve`.

The in-process tests call ``Watcher.poll`` by hand, one scan at a time, so they need no
clock: a file is applied by the second scan that sees it unchanged.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
import urllib.parse
from pathlib import Path

import pytest

from indexer.errors import IndexLockedError
from indexer.ingest import index_paths
from indexer.search import search
from indexer.store import ArticleStore
from indexer.vocabulary import Vocabulary
from indexer.watch import Watcher, stop_on_signals
from support import answers, free_port, oversized_post, request, vnsearch, wait_for

ROOT = Path(__file__).resolve().parent.parent

GOLD = "Hà Nội - Ngày 05-03-2024, giá vàng miếng tăng mạnh trong phiên sáng.\n\nNgười mua xếp hàng dài."
COFFEE = "Đắk Lắk - Ngày 06-03-2024, giá cà phê nhân xô lập đỉnh mới.\n\nNông dân phấn khởi."


def line(i: int, body: str) -> str:
    return json.dumps({"id": f"j{i}", "title": f"Tin {i}", "body": body}, ensure_ascii=False) + "\n"


def ids(store: ArticleStore, query: str) -> list[str]:
    store.refresh()
    return sorted(h.id for h in search(store, query, limit=100).hits)


@pytest.fixture()
def setup(tmp_path):
    """(inbox, store, watcher, log): an empty watched folder and its index, polled by hand."""
    inbox, ix = tmp_path / "inbox", tmp_path / "ix"
    inbox.mkdir()
    log: list = []
    watcher = Watcher(inbox, ix, on_failure=log.append, on_retry=log.append, lock_timeout=0.1)
    with ArticleStore.open_or_create(ix) as store:
        yield inbox, store, watcher, log


def test_a_scan_sees_the_files_find_files_lists_with_their_stat(tmp_path):
    root = tmp_path / "inbox"
    for name in ["a.json", "b/2.txt", "c/d/e.jsonl.gz", "Y.TXT", "z.jsonl", "notes.md", ".hidden.txt",
                 ".git/x.txt", "b/.draft/y.txt", "ix/seg.txt"]:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(b"x" * len(name))
    (root / "b" / "loop").symlink_to(root, target_is_directory=True)
    (root / "link.txt").symlink_to(root / "b" / "2.txt")
    (root / "broken.txt").symlink_to(root / "gone.txt")
    watcher = Watcher(root, root / "ix")

    files = dict(watcher._files())

    assert sorted(os.path.relpath(p, root) for p in files) == [
        "Y.TXT", "a.json", "b/2.txt", "c/d/e.jsonl.gz", "link.txt", "z.jsonl",
    ]
    linked = os.stat(root / "b" / "2.txt")
    assert files[str(root / "link.txt")] == (len("b/2.txt"), linked.st_mtime_ns, linked.st_ino)


def test_new_changed_and_deleted_files_are_applied(setup):
    inbox, store, watcher, _ = setup
    (inbox / "vang.txt").write_text(GOLD, "utf-8")
    (inbox / "sub").mkdir()
    (inbox / "sub" / "tin.jsonl").write_text(line(1, "Giá lúa gạo ổn định.") + line(2, "Giá vàng giảm nhẹ."), "utf-8")
    assert watcher.poll(store) is None  # first sight: not known to be complete yet
    batch = watcher.poll(store)
    assert (batch.report.added, len(batch.files)) == (3, 2)
    assert ids(store, "giá vàng") == ["j2", "vang.txt"]  # ids as `vnsearch index inbox/` gives them
    assert watcher.poll(store) is None  # nothing new

    (inbox / "sub" / "tin.jsonl").write_text(line(1, "Giá cà phê tăng.") + line(3, "Giá vàng thế giới."), "utf-8")
    assert watcher.poll(store) is None  # changed: wait for it to settle
    report = watcher.poll(store).report
    assert (report.added, report.updated, report.deleted) == (1, 1, 1)  # j3 new, j1 changed, j2 gone from the file
    assert ids(store, "giá vàng") == ["j3", "vang.txt"]
    assert ids(store, "cà phê") == ["j1"]

    (inbox / "vang.txt").unlink()
    batch = watcher.poll(store)  # a deletion needs no settling
    assert batch.gone == (str(inbox / "vang.txt"),) and batch.report.deleted == 1
    assert ids(store, "giá vàng") == ["j3"]


def test_a_half_written_file_is_never_indexed_half(setup):
    inbox, store, watcher, _ = setup
    path = inbox / "dai.txt"
    parts = ["Giá cà phê tăng.\n\n", "Đoạn hai nói về giá lúa gạo.\n\n", "Đoạn cuối nói về giá hồ tiêu."]
    with path.open("w", encoding="utf-8") as f:
        for part in parts:
            f.write(part)
            f.flush()  # on disk, as a slow writer leaves it between scans
            assert watcher.poll(store) is None
            assert len(store) == 0
    assert watcher.poll(store).report.added == 1  # unchanged since the previous scan: complete
    store.refresh()
    assert store.get("dai.txt")["body"].endswith("Đoạn cuối nói về giá hồ tiêu.")
    assert ids(store, "hồ tiêu") == ["dai.txt"]


def test_a_file_renamed_into_place_is_picked_up(setup):
    inbox, store, watcher, _ = setup
    hidden = inbox / ".cafe.txt.part"  # hidden names are never read
    hidden.write_text(COFFEE[:30], "utf-8")
    assert watcher.poll(store) is None
    hidden.write_text(COFFEE, "utf-8")
    assert watcher.poll(store) is None and len(store) == 0
    hidden.rename(inbox / "cafe.txt")
    assert watcher.poll(store) is None
    assert watcher.poll(store).report.added == 1
    assert ids(store, "cà phê") == ["cafe.txt"]


def test_a_bad_file_is_reported_and_skipped_and_watching_goes_on(setup):
    inbox, store, watcher, log = setup
    (inbox / "hong.txt").write_bytes(b"\xff\xfe not utf-8")
    (inbox / "tot.txt").write_text(GOLD, "utf-8")
    watcher.poll(store)
    batch = watcher.poll(store)
    assert batch.report.added == 1
    assert [str(f) for f in log] == [f"{inbox / 'hong.txt'}: not UTF-8 text"]
    assert watcher.poll(store) is None  # reported once, not at every scan

    (inbox / "hong.txt").write_text(COFFEE, "utf-8")  # fixed
    watcher.poll(store)
    assert watcher.poll(store).report.added == 1
    assert ids(store, "cà phê") == ["hong.txt"]

    (inbox / "hong.txt").write_text("", "utf-8")  # broken again: its article stays
    watcher.poll(store)
    assert watcher.poll(store).report.failed == 1
    assert ids(store, "cà phê") == ["hong.txt"]


def test_a_duplicate_id_is_reported_and_its_file_keeps_its_indexed_articles(setup):
    inbox, store, watcher, log = setup
    (inbox / "a.jsonl").write_text(line(1, "Giá vàng tăng.") + line(2, "Giá lúa ổn định."), "utf-8")
    watcher.poll(store), watcher.poll(store)
    (inbox / "a.jsonl").write_text(line(1, "Giá cà phê tăng.") + line(1, "Giá hồ tiêu giảm."), "utf-8")
    watcher.poll(store)
    report = watcher.poll(store).report
    assert [str(f) for f in log] == [f"{inbox / 'a.jsonl'}:2: duplicate id 'j1' (already read from {inbox / 'a.jsonl'}:1)"]
    assert (report.updated, report.deleted, report.failed) == (1, 0, 1)  # the first j1 is applied, j2 kept
    assert ids(store, "cà phê") == ["j1"] and ids(store, "lúa") == ["j2"] and ids(store, "hồ tiêu") == []


def test_an_article_moved_to_another_file_is_kept(setup):
    inbox, store, watcher, _ = setup
    (inbox / "a.jsonl").write_text(line(1, "Giá vàng tăng.") + line(2, "Giá lúa ổn định."), "utf-8")
    watcher.poll(store), watcher.poll(store)
    (inbox / "a.jsonl").write_text(line(2, "Giá lúa ổn định."), "utf-8")
    (inbox / "b.jsonl").write_text(line(1, "Giá vàng tăng."), "utf-8")
    watcher.poll(store)
    report = watcher.poll(store).report
    assert (report.updated, report.deleted, report.unchanged) == (1, 0, 1)  # j1's origin changed
    assert ids(store, "vàng") == ["j1"] and len(store) == 2


def test_files_deleted_while_nobody_watched_are_removed_at_start(tmp_path):
    inbox, ix = tmp_path / "inbox", tmp_path / "ix"
    inbox.mkdir()
    (inbox / "vang.txt").write_text(GOLD, "utf-8")
    (inbox / "cafe.txt").write_text(COFFEE, "utf-8")
    index_paths(ix, [inbox])
    (inbox / "vang.txt").unlink()
    elsewhere = tmp_path / "other.txt"  # indexed from outside the watched folder: not the watcher's
    elsewhere.write_text(GOLD, "utf-8")
    index_paths(ix, [elsewhere])
    with ArticleStore.open(ix) as store:
        watcher = Watcher(inbox, ix)
        assert watcher.poll(store).report.deleted == 1
        assert watcher.poll(store).report.unchanged == 1  # cafe.txt read, left alone
        assert sorted(store.fingerprints()) == ["cafe.txt", "other.txt"]


def test_a_locked_index_is_reported_and_the_files_are_applied_later(setup):
    inbox, store, watcher, log = setup
    (inbox / "vang.txt").write_text(GOLD, "utf-8")
    watcher.poll(store)
    with ArticleStore.open(store.path) as other:
        writer = other.writer()
        assert watcher.poll(store) is None
        writer.cancel()
    [error] = log
    assert isinstance(error, IndexLockedError)
    assert f"pid {os.getpid()}" in str(error) and "waited 0.1 s" in str(error)
    assert watcher.poll(store).report.added == 1  # the same file, at the next scan


def test_run_stops_when_asked(setup):
    inbox, store, watcher, _ = setup
    watcher.interval = 0.05
    stop = threading.Event()
    thread = threading.Thread(target=watcher.run, args=(stop,))
    thread.start()
    (inbox / "vang.txt").write_text(GOLD, "utf-8")
    deadline = time.monotonic() + 30
    while not ids(store, "vàng") and time.monotonic() < deadline:
        time.sleep(0.05)  # polling, bounded by the deadline
    stop.set()
    thread.join(timeout=30)
    assert not thread.is_alive()
    assert ids(store, "vàng") == ["vang.txt"]


def test_batches_put_merges_and_vocabulary_saves_off_until_idle(setup):
    from indexer.ingest import MAX_SMALL_SEGMENTS, MERGE_MIN_SEGMENTS

    inbox, store, watcher, _ = setup
    counts = []
    for i in range(MAX_SMALL_SEGMENTS + 3):
        (inbox / f"t{i}.jsonl").write_text(line(i, f"Giá lúa gạo phiên {i}."), "utf-8")
        watcher.poll(store)
        assert watcher.poll(store).report.added == 1  # a batch: one commit, no merge unless too many
        store.refresh()
        counts.append(store.small_segment_count())
    assert counts[: MAX_SMALL_SEGMENTS - 1] == list(range(1, MAX_SMALL_SEGMENTS))  # no merge in a batch
    assert max(counts) < MAX_SMALL_SEGMENTS  # at the bound, a merge follows the commit
    assert "gạo" not in Vocabulary.load(store.path).syllables  # not rewritten at each commit
    assert watcher.poll(store) is None  # nothing to apply: merge, save the vocabulary
    store.refresh()
    assert store.small_segment_count() < MERGE_MIN_SEGMENTS and len(store) == MAX_SMALL_SEGMENTS + 3
    assert Vocabulary.load(store.path).syllables["gạo"] == MAX_SMALL_SEGMENTS + 3
    assert len(ids(store, "lúa gạo")) == MAX_SMALL_SEGMENTS + 3


def test_a_first_signal_asks_to_stop_a_second_abandons(setup):
    inbox, store, watcher, _ = setup
    stop = threading.Event()
    before = signal.getsignal(signal.SIGTERM)
    with stop_on_signals(stop):
        os.kill(os.getpid(), signal.SIGTERM)
        assert stop.is_set()  # the batch under way finishes, no other starts
        assert watcher.poll(store) is None
        with pytest.raises(KeyboardInterrupt):
            os.kill(os.getpid(), signal.SIGINT)
    assert signal.getsignal(signal.SIGTERM) is before


def test_an_abandoned_batch_leaves_nothing(setup, monkeypatch):
    inbox, store, watcher, _ = setup
    import indexer.store as store_module

    (inbox / "vang.txt").write_text(GOLD, "utf-8")
    watcher.poll(store)

    def interrupted(self, merge=True, then=None):  # Ctrl-C twice while the batch is being written
        raise KeyboardInterrupt

    monkeypatch.setattr(store_module.StoreWriter, "commit", interrupted)
    with pytest.raises(KeyboardInterrupt):
        watcher.poll(store)
    monkeypatch.undo()
    store.refresh()
    assert len(store) == 0 and store.lock_holder() is None  # nothing committed, the lock released
    assert watcher.poll(store).report.added == 1  # a new watcher (or this one) picks the file up again


def found(port: int, q: str) -> list[str]:
    status, data = request(port, "GET", "/api/search?" + urllib.parse.urlencode({"q": q}))
    assert status == 200, data
    return sorted(h["id"] for h in data["hits"])


def test_watch_and_serve_end_to_end(tmp_path):
    """A file dropped into the watched folder is found through the running server within seconds;
    a changed one updates, a deleted one disappears; the ingest API takes a body over 16 KiB;
    SIGTERM stops the watcher cleanly."""
    inbox, ix = tmp_path / "inbox", tmp_path / "ix"
    inbox.mkdir()
    (inbox / "cafe.txt").write_text(COFFEE, "utf-8")
    index_paths(ix, [inbox])
    port = free_port()
    env = {**os.environ, "VNSEARCH_API_TOKEN": "bi-mat"}
    # The server's log (a line a request) is not read: a pipe nobody drains would fill and stop it.
    server = subprocess.Popen(vnsearch("serve", "--index", str(ix), "--port", str(port)), env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    watch = subprocess.Popen(vnsearch("watch", str(inbox), "--index", str(ix), "--interval", "0.2"),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_for(lambda: answers(port), "vnsearch serve")
        assert found(port, "cà phê") == ["cafe.txt"]

        started = time.monotonic()
        (inbox / "vang.txt").write_text(GOLD, "utf-8")
        wait_for(lambda: found(port, "vàng miếng") == ["vang.txt"], "the new file in /api/search")
        print(f"new file searchable after {time.monotonic() - started:.1f} s")

        (inbox / "vang.txt").write_text(GOLD.replace("tăng mạnh", "giảm sâu"), "utf-8")
        wait_for(lambda: found(port, "giảm sâu") == ["vang.txt"], "the changed file")
        assert found(port, "tăng mạnh") == []

        (inbox / "cafe.txt").unlink()
        wait_for(lambda: found(port, "cà phê") == [], "the deleted file to disappear")

        # The server takes an ingest body over its 16 KiB limit for GETs, and refuses one over 8 MiB.
        auth = {"Authorization": "Bearer bi-mat", "Content-Type": "application/json"}
        big = {"id": "dai", "title": "Bài dài", "body": "Giá hồ tiêu hôm nay ổn định. " * 800}
        status, data = request(port, "POST", "/api/articles", json.dumps(big, ensure_ascii=False).encode(), auth)
        assert (status, data) == (201, {"added": ["dai"], "updated": [], "unchanged": []})
        assert found(port, "hồ tiêu") == ["dai"]
        assert oversized_post(port, 9 << 20, auth) == 413
    finally:
        watch.send_signal(signal.SIGTERM)
        out, err = watch.communicate(timeout=60)
        server.terminate()
        server.communicate(timeout=60)
    assert watch.returncode == 0, err
    assert err.splitlines()[-1] == "Stopped."
    lines = out.splitlines()
    assert any(" added 1, updated 0, " in ln and "failed 0" in ln for ln in lines), out
    assert any("deleted 1" in ln and "1 gone" in ln for ln in lines), out
