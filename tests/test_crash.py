"""SIGKILL `vnsearch index` at random points: the index opens, answers and keeps every committed batch.

The command runs as a subprocess on a corpus of tiny synthetic articles, with a small batch size
(the CLI with ``indexer.ingest.BATCH_SIZE`` patched, so a run commits many times). The test
watches the index's table-of-contents generation (``_MAIN_N.toc``: one new generation per
committed batch) while the command runs, kills it, then checks that the index holds at least
every batch it saw committed, as a prefix of the corpus in file order, with no duplicate.
Rerunning the same command finishes the job. The kill points are printed (``pytest -s``) and
written to ``test-artifacts/crash-kill-points.txt``.
"""

from __future__ import annotations

import errno
import gc
import json
import os
import random
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from indexer.search import search
from indexer.store import ArticleStore
from support import without_timing

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"
ARTICLES = 1000
BATCH = 50
KILLS = 4
TIMEOUT = 300  # seconds for one uninterrupted run, on a loaded 2-core machine

PLACES = ["Hà Nội", "Đà Nẵng", "Huế", "Cần Thơ", "Hải Phòng", "Nha Trang", "Vũng Tàu", "Đà Lạt"]
THINGS = ["giá vàng", "lúa gạo", "cà phê", "du lịch", "lãi suất", "xăng dầu", "bóng đá", "mưa lũ"]
VERBS = ["tăng mạnh", "giảm nhẹ", "ổn định", "biến động", "được quan tâm"]

# The real CLI, with a small batch size so that a run commits every BATCH articles (a first
# index into an empty directory too).
COMMAND = (
    "import sys, indexer.ingest as ingest; ingest.BATCH_SIZE = ingest.REBUILD_BATCH_SIZE = int(sys.argv.pop(1)); "
    "from indexer.cli import main; sys.argv[0] = 'vnsearch'; main()"
)


def write_corpus(path: Path, n: int) -> list[str]:
    """n tiny Vietnamese articles as JSON Lines; returns their ids in file order."""
    rng = random.Random(6)
    ids = []
    with path.open("w", encoding="utf-8") as f:
        for i in range(n):
            place, thing, verb = rng.choice(PLACES), rng.choice(THINGS), rng.choice(VERBS)
            article = {
                "id": f"tin-{i:05d}",
                "title": f"{thing.capitalize()} ở {place} {verb}",
                "body": f"Sáng nay tại {place}, {thing} {verb}. Bản tin số {i}.",
                "published": f"2024-{1 + i % 12:02d}-{1 + i % 28:02d}",
                "source": "tin-thu",
            }
            f.write(json.dumps(article, ensure_ascii=False) + "\n")
            ids.append(article["id"])
    return ids


def generation(index_dir: Path) -> int:
    """The latest committed generation: its table of contents is renamed into place last."""
    gens = [int(m[1]) for f in os.listdir(index_dir) if (m := re.fullmatch(r"_MAIN_(\d+)\.toc", f))]
    return max(gens, default=-1)


def children_of(pid: int) -> list[int]:
    """Processes whose parent is ``pid`` (segmentation workers)."""
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                out.append(int(entry))
    return out


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def start(corpus: Path, index_dir: Path) -> subprocess.Popen:
    cmd = [sys.executable, "-c", COMMAND, str(BATCH), "index", "--index", str(index_dir), str(corpus)]
    return subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def check_index(index_dir: Path, ids: list[str]) -> tuple[int, int]:
    """Open and search the index; its ids are the first n of the corpus, each once. Returns (n, generation)."""
    with ArticleStore.open(index_dir) as store:
        stored = store.fingerprints()  # id → (hash, origin), from the id column
        n = len(store)
        assert n == len(stored), f"{n} documents but {len(stored)} distinct ids: duplicates"
        assert set(stored) == set(ids[:n]), "the index is not a prefix of the corpus"
        if n:
            page = search(store, "giá vàng", limit=1)
            assert page.total > 0 and page.hits[0].id in stored
    return n, generation(index_dir)


def test_sigkill_at_random_points_loses_no_committed_batch(tmp_path):
    corpus = tmp_path / "tin.jsonl"
    ids = write_corpus(corpus, ARTICLES)
    index_dir = tmp_path / "ix"
    seed = int(os.environ.get("VNSEARCH_CRASH_SEED") or random.randrange(1 << 30))
    rng = random.Random(seed)
    log = [f"seed {seed}: {ARTICLES} articles, batches of {BATCH}"]
    before = 0
    for k in range(KILLS):
        # Half the kills at a random time from the start (possibly while the index is created or
        # the workers load pyvi), half soon after this run's 1st to 5th commit (often inside the next).
        after_commit = k % 2 == 1
        commits = rng.randint(1, 5)
        delay = rng.uniform(0.0, 1.0) if after_commit else rng.uniform(0.5, 12.0)
        proc = start(corpus, index_dir)
        started = time.monotonic()
        seen = -1
        first = max(generation(index_dir), 0) if index_dir.exists() else 0
        try:
            if after_commit:  # wait for this run's first commits
                while proc.poll() is None and (not index_dir.exists() or generation(index_dir) < first + commits):
                    time.sleep(0.01)
            deadline = time.monotonic() + delay
            while proc.poll() is None and time.monotonic() < deadline:
                if index_dir.exists():
                    seen = max(seen, generation(index_dir))
                time.sleep(0.01)
            if index_dir.exists():
                seen = max(seen, generation(index_dir))
            workers = children_of(proc.pid)
            finished = proc.poll() is not None
            if not finished:
                proc.send_signal(signal.SIGKILL)
            proc.wait(TIMEOUT)
        finally:
            proc.stdout.close()
            proc.stderr.close()
        at = time.monotonic() - started
        # Segmentation workers must not outlive the killed command.
        deadline = time.monotonic() + 10
        while any(alive(w) for w in workers) and time.monotonic() < deadline:
            time.sleep(0.05)
        orphans = [w for w in workers if alive(w)]
        for w in orphans:
            os.kill(w, signal.SIGKILL)
        assert not orphans, f"segmentation workers {orphans} outlived the killed command"
        if not index_dir.exists() or generation(index_dir) < 0:
            log.append(f"kill {k + 1} at {at:.2f}s: before the index was created")
            continue
        n, gen = check_index(index_dir, ids)
        # Generation 0 is the empty index; each later one added one batch of BATCH new articles.
        assert n >= before and n >= BATCH * max(seen, 0), (n, seen)
        log.append(
            f"kill {k + 1} at {at:.2f}s{' (finished first)' if finished else ''}"
            f"{f' ({delay:.2f}s after commit {commits} of this run)' if after_commit else ''}: "
            f"saw generation {seen} committed, index has {n} articles (generation {gen}); "
            f"{len(workers)} segmentation workers, none left"
        )
        before = n

    proc = start(corpus, index_dir)
    out, err = proc.communicate(timeout=TIMEOUT)
    assert proc.returncode == 0, err
    assert without_timing(out.strip()) == f"added {ARTICLES - before}, updated 0, unchanged {before}, deleted 0, failed 0"
    n, gen = check_index(index_dir, ids)
    assert n == ARTICLES
    log.append(f"rerun: {out.strip()}; index has {n} articles")
    report = "\n".join(log)
    print(report)
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "crash-kill-points.txt").write_text(report + "\n", "utf-8")


# -- a full disk, a read-only directory -----------------------------------------------------


def tiny_articles(path: Path, start: int, n: int) -> None:
    with path.open("w", encoding="utf-8") as f:
        for i in range(start, start + n):
            f.write(json.dumps({"id": f"d{i}", "body": f"Giá vàng hôm nay, bản tin số {i}."}, ensure_ascii=False) + "\n")


def assert_index_holds(index_dir: Path, n: int) -> None:
    with ArticleStore.open(index_dir) as store:
        assert len(store) == n == len(store.fingerprints())
        assert search(store, "giá vàng", limit=1).total == n


# Whoosh leaves the files of a writer that failed open until they are collected: its leak.
UNCLOSED = pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")


@UNCLOSED
@pytest.mark.parametrize("fail_at", [1, 3, 8, 12])
def test_a_full_disk_gives_a_clear_error_and_keeps_the_last_commit(tmp_path, monkeypatch, fail_at):
    from whoosh.filedb.filestore import FileStorage

    from indexer.errors import IndexWriteError
    from indexer.ingest import index_paths

    index_dir, src = tmp_path / "ix", tmp_path / "a.jsonl"
    tiny_articles(src, 0, 5)
    assert index_paths(index_dir, [src], workers=1).added == 5
    tiny_articles(tmp_path / "b.jsonl", 5, 5)

    # The fail_at-th file Whoosh creates (the new segment's files, its temp files, the new
    # table of contents) meets a full disk.
    real_create, calls = FileStorage.create_file, []

    def create_file(self, name, *args, **kwargs):
        calls.append(name)
        if len(calls) >= fail_at:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), os.path.join(self.folder, name))
        return real_create(self, name, *args, **kwargs)

    monkeypatch.setattr(FileStorage, "create_file", create_file)
    with pytest.raises(IndexWriteError) as failed:
        index_paths(index_dir, [src, tmp_path / "b.jsonl"], workers=1)
    assert str(failed.value) == (
        f"Cannot write the index at {index_dir}/: No space left on device — it keeps its last commit; "
        "free some space or make the directory writable, then run the command again"
    )
    assert len(calls) >= fail_at, calls  # the failure did happen inside Whoosh's writing
    del failed
    gc.collect()  # Whoosh's unclosed files, warned about here rather than in a later test
    monkeypatch.undo()
    assert_index_holds(index_dir, 5)
    # The failed writer let go of the lock: the same process writes again at once.
    started = time.monotonic()
    report = index_paths(index_dir, [src, tmp_path / "b.jsonl"], workers=1)
    assert (report.added, report.unchanged) == (5, 5) and time.monotonic() - started < 5
    assert_index_holds(index_dir, 10)


@UNCLOSED
def test_a_writer_that_cannot_start_lets_go_of_the_lock(tmp_path, monkeypatch):
    """Whoosh takes the lock before creating the new segment's temp folder: a full disk there
    must not leave the lock held by a half-built writer (this process could never write again)."""
    from whoosh.filedb.filestore import FileStorage

    from indexer.errors import IndexWriteError
    from indexer.ingest import index_paths

    index_dir, src = tmp_path / "ix", tmp_path / "a.jsonl"
    tiny_articles(src, 0, 3)
    assert index_paths(index_dir, [src], workers=1).added == 3
    tiny_articles(tmp_path / "b.jsonl", 3, 2)

    def temp_storage(self, name=None):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), os.path.join(self.folder, name or "tmp"))

    monkeypatch.setattr(FileStorage, "temp_storage", temp_storage)
    with pytest.raises(IndexWriteError, match="No space left on device — it keeps its last commit"):
        index_paths(index_dir, [src, tmp_path / "b.jsonl"], workers=1)
    monkeypatch.undo()
    gc.collect()
    assert_index_holds(index_dir, 3)
    started = time.monotonic()
    report = index_paths(index_dir, [src, tmp_path / "b.jsonl"], workers=1)
    assert (report.added, report.unchanged) == (2, 3) and time.monotonic() - started < 5
    assert_index_holds(index_dir, 5)


@pytest.fixture()
def tmpfs(tmp_path):
    """A small tmpfs of our own, when this process may mount one (root in a container, often)."""
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    p = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mnt)], capture_output=True, text=True)
    if p.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({p.stderr.strip() or p.returncode}): the injected ENOSPC test covers it")
    yield mnt
    subprocess.run(["mount", "-o", "remount,rw", str(mnt)], capture_output=True)
    subprocess.run(["umount", str(mnt)], check=True)


def cli_index(runner, index_dir: Path, *paths: Path):
    from indexer.cli import main

    return runner.invoke(main, ["index", "--workers", "1", "--index", str(index_dir), *map(str, paths)])


@UNCLOSED
def test_a_really_full_disk_and_a_read_only_directory(tmpfs, tmp_path, runner):
    index_dir = tmpfs / "ix"
    tiny_articles(tmp_path / "a.jsonl", 0, 5)
    r = cli_index(runner, index_dir, tmp_path / "a.jsonl")
    assert r.exit_code == 0 and without_timing(r.output) == "added 5, updated 0, unchanged 0, deleted 0, failed 0\n", r.output
    # Fill the disk, leaving a few kilobytes: far less than 300 more articles need.
    with (tmpfs / "filler").open("wb", buffering=0) as f, pytest.raises(OSError):
        while True:
            f.write(b"\0" * 4096)
    tiny_articles(tmp_path / "b.jsonl", 5, 300)
    # In a process of its own: the files Whoosh leaves open on failing would keep the
    # file system busy (it could not be remounted read-only below).
    cmd = [sys.executable, "-c", "from indexer.cli import main; main()", "index", "--workers", "1",
           "--index", str(index_dir), str(tmp_path / "a.jsonl"), str(tmp_path / "b.jsonl")]
    p = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=TIMEOUT)
    assert p.returncode == 1 and p.stdout == "" and "Traceback" not in p.stderr
    assert p.stderr.startswith("Error: Cannot write ") and "No space left on device" in p.stderr, p.stderr
    assert_index_holds(index_dir, 5)
    (tmpfs / "filler").unlink()

    subprocess.run(["mount", "-o", "remount,ro", str(tmpfs)], check=True)
    r = cli_index(runner, index_dir, tmp_path / "b.jsonl")
    assert r.exit_code == 1, r.output
    assert r.output == (
        f"Error: Cannot write the index at {index_dir}/: Read-only file system — it keeps its last commit; "
        "free some space or make the directory writable, then run the command again\n"
    )
    assert_index_holds(index_dir, 5)
    subprocess.run(["mount", "-o", "remount,rw", str(tmpfs)], check=True)
    r = cli_index(runner, index_dir, tmp_path / "a.jsonl", tmp_path / "b.jsonl")
    assert without_timing(r.output) == "added 300, updated 0, unchanged 5, deleted 0, failed 0\n", r.output


@UNCLOSED
def test_a_rebuild_on_a_really_full_or_read_only_disk_keeps_the_old_index(tmpfs, tmp_path, runner):
    from indexer.cli import main

    index_dir, a, b = tmpfs / "ix", tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    tiny_articles(a, 0, 5)
    assert cli_index(runner, index_dir, a).exit_code == 0
    with (tmpfs / "filler").open("wb", buffering=0) as f, pytest.raises(OSError):
        while True:
            f.write(b"\0" * 4096)
    tiny_articles(b, 5, 300)
    rebuild = ["index", "--rebuild", "--workers", "1", "--index", str(index_dir), str(a), str(b)]
    p = subprocess.run([sys.executable, "-c", "from indexer.cli import main; main()", *rebuild],
                       cwd=ROOT, capture_output=True, text=True, timeout=TIMEOUT)
    assert p.returncode == 1 and p.stdout == "" and "Traceback" not in p.stderr
    assert p.stderr.startswith(
        f"Error: Cannot write the new index beside {index_dir}/: No space left on device — {index_dir}/ is left as it was"
    ), p.stderr
    assert_index_holds(index_dir, 5)
    assert sorted(os.listdir(tmpfs)) == ["filler", "ix"]
    (tmpfs / "filler").unlink()

    subprocess.run(["mount", "-o", "remount,ro", str(tmpfs)], check=True)
    r = runner.invoke(main, rebuild)
    assert (r.exit_code, r.output) == (
        1,
        f"Error: Cannot write the new index beside {index_dir}/: Read-only file system — {index_dir}/ is left as "
        "it was; free some space or make the directory writable, then run the command again\n",
    )
    assert_index_holds(index_dir, 5)
    subprocess.run(["mount", "-o", "remount,rw", str(tmpfs)], check=True)
    r = runner.invoke(main, rebuild)
    assert without_timing(r.output) == "added 305, updated 0, unchanged 0, deleted 0, failed 0\n", r.output
    assert_index_holds(index_dir, 305)
    assert sorted(os.listdir(tmpfs)) == ["ix"]
