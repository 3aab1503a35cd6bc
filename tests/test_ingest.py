"""Incremental indexing: counts, updates, pruning, bad input, format version."""

import gzip
import json
from pathlib import Path

import pytest

from indexer.errors import IndexMissingError, IndexVersionError
from indexer.ingest import index_paths
from indexer.search import search
from indexer.store import META_FILE, ArticleStore

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
    write_jsonl(src / "a.jsonl", [art(1)])
    assert counts(index_paths(ix, [src], rebuild=True)) == (1, 0, 0, 0, 0)


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
            f"{src}/mixed.jsonl: duplicate id 'a1' (already read from {src}/mixed.jsonl)",
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
