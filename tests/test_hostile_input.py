"""Hostile files in a folder given to `vnsearch index`: each is reported and skipped, the rest is
indexed, and memory stays bounded.

The big files are real size (``VNSEARCH_HUGE_MB``, 100 by default) but cheap: the huge .txt and
the enormous .json are sparse files refused by their size before any read, the 100 MB JSON line is
skipped in chunks, and the gzip bomb decompresses to 100 MB of zeros read the same way.
"""

from __future__ import annotations

import errno
import gzip
import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

from indexer.articles import MAX_ARTICLE_BYTES, MB, Failure, read_file
from indexer.ingest import index_paths
from indexer.search import search
from indexer.store import ArticleStore

ROOT = Path(__file__).resolve().parent.parent
HUGE_MB = int(os.environ.get("VNSEARCH_HUGE_MB") or 100)
# Peak RSS of `vnsearch index` on the hostile folder may exceed the same run on the good files
# alone by at most this much (reading the 100 MB line whole would take several hundred MB).
RSS_MARGIN_MB = 64

GOOD = [
    {"id": "tot-1", "title": "Giá vàng tăng mạnh", "body": "Giá vàng trong nước hôm nay tăng mạnh."},
    {"id": "tot-2", "title": "Đà Nẵng đón khách", "body": "Đà Nẵng đón hơn 8 triệu lượt khách du lịch."},
    {"id": "tot-3\u0000\u0007", "title": "Ký tự điều khiển", "body": "Bài có ký tự\u0001 điều khiển\u001b trong mã."},
]
GOOD_TXT = "Lúa gạo được mùa\nNông dân miền Tây phấn khởi vì lúa gạo được mùa, được giá.\n"


def line(obj: dict) -> bytes:
    return (json.dumps(obj, ensure_ascii=False) + "\n").encode("utf-8")


def sparse(path: Path, size: int) -> None:
    with path.open("wb") as f:
        f.truncate(size)


def write_hostile_folder(root: Path) -> dict[str, str]:
    """The folder of good and hostile files; returns {file or file:line: expected reason}."""
    rng = random.Random(6)
    root.mkdir()
    (root / "good.jsonl").write_bytes(b"".join(line(a) for a in GOOD))
    (root / "good.txt").write_text(GOOD_TXT, "utf-8")
    expected = {}

    (root / "random.txt").write_bytes(bytes(rng.randrange(256) for _ in range(4096)) + b"\0")
    expected["random.txt"] = "binary file"
    (root / "latin1.txt").write_bytes("Giá vàng tăng\nNội dung bài báo.".encode("cp1258", "replace") + b"\xe0\xff")
    expected["latin1.txt"] = "not UTF-8 text"
    (root / "image.txt").write_bytes(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR" + bytes(rng.randrange(256) for _ in range(512)))
    expected["image.txt"] = "binary file"
    (root / "random.jsonl.gz").write_bytes(bytes(rng.randrange(256) for _ in range(2048)))
    expected["random.jsonl.gz"] = "not a gzip file"
    (root / "random.jsonl").write_bytes(b"\xff\xfe" + bytes(rng.randrange(1, 256) for _ in range(200)).replace(b"\n", b""))
    expected["random.jsonl:1"] = "not UTF-8 text"

    payload = gzip.compress(b"".join(line({"id": f"gz-{i}", "body": f"Tin nén số {i}."}) for i in range(50)))
    (root / "truncated.jsonl.gz").write_bytes(payload[: len(payload) // 2])
    expected["truncated.jsonl.gz"] = "truncated gzip file"

    (root / "nested.json").write_text("[" * 100_000 + "]" * 100_000, "utf-8")
    expected["nested.json"] = "invalid JSON: nested too deeply"
    (root / "nested.jsonl").write_bytes(
        line({"id": "nested-ok-1", "body": "Dòng đầu vẫn được đọc."})
        + b'{"id": "deep", "body": ' + b"[" * 100_000 + b"]" * 100_000 + b"}\n"
        + line({"id": "nested-ok-3", "body": "Dòng cuối vẫn được đọc."})
    )
    expected["nested.jsonl:2"] = "invalid JSON: nested too deeply"
    (root / "surrogate.jsonl").write_bytes(b'{"id": "s", "body": "a \\ud800 b"}\n')
    expected["surrogate.jsonl:1"] = "body: invalid Unicode (an unpaired surrogate)"

    # A huge single article, as a .txt file and as one JSON line between two good ones.
    sparse(root / "huge.txt", HUGE_MB * MB)
    expected["huge.txt"] = f"article larger than 1 MB ({HUGE_MB:.1f} MB)"
    sentence = "Giá vàng trong nước hôm nay tăng mạnh theo thị trường thế giới. "
    with (root / "huge.jsonl").open("wb") as f:
        f.write(line({"id": "huge-ok-1", "body": "Trước bài lớn."}))
        head = b'{"id": "huge", "body": "'
        chunk = (sentence * (MB // len(sentence.encode()))).encode()
        f.write(head)
        written = len(head)
        while written < HUGE_MB * MB - 3:
            part = chunk[: HUGE_MB * MB - 3 - written]
            f.write(part)
            written += len(part)
        f.write(b'"}\n')
        f.write(line({"id": "huge-ok-3", "body": "Sau bài lớn."}))
    expected["huge.jsonl:2"] = f"line larger than 4 MB ({HUGE_MB:.1f} MB)"
    # Over the article limit but within the line limit: refused after parsing.
    big = "x" * (MAX_ARTICLE_BYTES + MB // 2)
    (root / "big.json").write_text(json.dumps({"id": "big", "body": big}), "utf-8")
    expected["big.json"] = "article larger than 1 MB (1.5 MB)"
    # A gzip bomb: 100 MB of zeros in one line, a few hundred KB compressed.
    with gzip.open(root / "bomb.jsonl.gz", "wb", compresslevel=1) as f:
        zeros = b"0" * MB
        for _ in range(HUGE_MB):
            f.write(zeros)
    expected["bomb.jsonl.gz:1"] = f"line larger than 4 MB ({HUGE_MB:.1f} MB)"
    # Enormous JSON: refused by its size, unread.
    sparse(root / "enormous.json", HUGE_MB * MB)
    expected["enormous.json"] = f"JSON file larger than 64 MB ({HUGE_MB:.1f} MB): use JSON Lines (.jsonl)"

    # Symlinks: a directory loop is not followed; a file loop cannot be read; a FIFO and
    # /dev/zero are not regular files (reading them would block, or never end).
    (root / "loop").symlink_to(".")
    (root / "loop-a.txt").symlink_to("loop-b.txt")
    (root / "loop-b.txt").symlink_to("loop-a.txt")
    expected["loop-a.txt"] = "cannot read: Too many levels of symbolic links"
    expected["loop-b.txt"] = "cannot read: Too many levels of symbolic links"
    os.mkfifo(root / "fifo.txt")
    expected["fifo.txt"] = "not a regular file"
    (root / "zero.jsonl").symlink_to("/dev/zero")
    expected["zero.jsonl"] = "not a regular file"
    return expected


def failures_by_file(stderr: str, root: Path) -> dict[str, str]:
    out = {}
    for row in stderr.splitlines():
        location, _, reason = row.partition(": ")
        out[os.path.relpath(location, root)] = reason
    return out


def run_index(index_dir: Path, folder: Path) -> tuple[subprocess.CompletedProcess, float]:
    """`vnsearch index` in a child of a fresh Python, which reports the child's peak RSS (MB)."""
    probe = (
        "import resource, subprocess, sys; "
        "p = subprocess.run(sys.argv[1:], capture_output=True, text=True, timeout=600); "
        "sys.stdout.write(p.stdout); sys.stderr.write(p.stderr); "
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024); sys.exit(p.returncode)"
    )
    vnsearch = [sys.executable, "-c", "from indexer.cli import main; main()"]
    cmd = [sys.executable, "-c", probe, *vnsearch, "index", "--workers", "1", "--index", str(index_dir), str(folder)]
    p = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600)
    *out, rss = p.stdout.splitlines()
    return subprocess.CompletedProcess(p.args, p.returncode, "\n".join(out), p.stderr), float(rss)


def test_hostile_files_are_reported_and_skipped_the_rest_indexed_memory_bounded(tmp_path):
    good = tmp_path / "good"
    good.mkdir()
    (good / "good.jsonl").write_bytes(b"".join(line(a) for a in GOOD))
    (good / "good.txt").write_text(GOOD_TXT, "utf-8")
    baseline, base_rss = run_index(tmp_path / "ix-good", good)
    assert baseline.returncode == 0, baseline.stderr

    folder = tmp_path / "hostile"
    expected = write_hostile_folder(folder)
    p, rss = run_index(tmp_path / "ix", folder)
    print(f"peak RSS: {rss:.0f} MB on the hostile folder, {base_rss:.0f} MB on its good files alone")
    assert p.returncode == 1
    assert failures_by_file(p.stderr, folder) == expected
    added = int(p.stdout.split(",")[0].removeprefix("added "))
    with ArticleStore.open(tmp_path / "ix") as store:
        ids = set(store.fingerprints())
        assert {a["id"] for a in GOOD} | {"good.txt", "nested-ok-1", "nested-ok-3", "huge-ok-1", "huge-ok-3"} <= ids
        # The lines of the truncated gzip file before the cut are kept.
        assert all(i.startswith("gz-") for i in ids - {a["id"] for a in GOOD} - {"good.txt"} - {
            "nested-ok-1", "nested-ok-3", "huge-ok-1", "huge-ok-3"})
        assert len(ids) == added == len(store)
        assert [h.id for h in search(store, "giá vàng").hits] == ["tot-1"]
        assert [h.id for h in search(store, "ký tự điều khiển").hits] == ["tot-3\u0000\u0007"]
    assert p.stdout.startswith(f"added {added}, updated 0, unchanged 0, deleted 0, failed {len(expected)}")
    assert rss < base_rss + RSS_MARGIN_MB, (rss, base_rss)


def test_unreadable_file_is_reported_and_the_rest_indexed(tmp_path, monkeypatch):
    folder = tmp_path / "src"
    folder.mkdir()
    (folder / "a.txt").write_text(GOOD_TXT, "utf-8")
    locked = folder / "b.txt"
    locked.write_text(GOOD_TXT, "utf-8")
    locked.chmod(0)
    if os.geteuid() == 0:
        # root reads a file whatever its mode: make the read fail as it would for anyone else.
        real = Path.read_bytes

        def read_bytes(self):
            if self.name == "b.txt":
                raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(self))
            return real(self)

        monkeypatch.setattr(Path, "read_bytes", read_bytes)
    failures = []
    report = index_paths(tmp_path / "ix", [folder], on_failure=failures.append)
    assert failures == [Failure(str(locked), "cannot read: Permission denied")]
    assert (report.added, report.failed) == (1, 1)
    locked.chmod(0o644)


@pytest.mark.parametrize(
    "content, reason",
    [
        (b'{"body": "' + b"a" * (MAX_ARTICLE_BYTES + 1) + b'"}', "article larger than 1 MB (1,048,577 bytes)"),
        (b'{"body": "' + b"a" * (MAX_ARTICLE_BYTES - 100) + b'"}', None),
        (b"[" * 5000 + b"]" * 5000, "invalid JSON: nested too deeply"),
        (b'{"body": "x", "extra": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", "invalid JSON: nested too deeply"),
    ],
    ids=["over-limit", "under-limit", "nested-5000", "nested-unknown-key"],
)
def test_json_article_limits(tmp_path, content, reason):
    path = tmp_path / "a.json"
    path.write_bytes(content)
    items = list(read_file(path, path))
    if reason is None:
        assert len(items) == 1 and not isinstance(items[0], Failure)
    else:
        assert items == [Failure(str(path), reason)]
