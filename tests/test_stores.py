"""The web app over its index: a missing, foreign or damaged one is a 503 naming the command to run, a
reindex shows up without a restart, and each concurrent request has a store of its own."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import pytest

from indexer.ingest import index_paths
from indexer.store import META_FILE
from search_ui import create_app
from search_ui.stores import StorePool, store_pool

FIXTURES = Path(__file__).resolve().parent / "fixtures"

BUILD_HELP = (
    "Người quản trị cần tạo (lại) chỉ mục bằng lệnh dưới đây, với INDEX_DIR là thư mục chỉ mục "
    "của máy chủ (ghi trong nhật ký của máy chủ):"
)


def test_missing_index_is_503_with_the_command_to_build_it(tmp_path, caplog):
    app = create_app({"INDEX_DIR": str(tmp_path / "none")})
    client = app.test_client()
    for url in ("/", "/search?q=x", "/article/x"):
        r = client.get(url)
        assert r.status_code == 503
        html = r.get_data(as_text=True)
        assert "<h1>Chưa có chỉ mục tìm kiếm</h1>" in html and BUILD_HELP in html
        assert '<pre class="command"><code>vnsearch index --index INDEX_DIR PATH…</code></pre>' in html
        assert str(tmp_path) not in html
    r = client.get("/api/search?q=x")
    assert (r.status_code, r.get_json()) == (503, {"error": {"status": 503, "message": (
        "No index — run: vnsearch index --index INDEX_DIR PATH… (INDEX_DIR: the server's index directory, named in its log)"
    )}})
    # The operator's log names the directory, and what to run for it.
    assert caplog.messages[-1] == f"503: No index at {tmp_path}/none/ — run: vnsearch index --index {tmp_path}/none PATH…"
    store_pool(app).close()


def test_index_of_another_format_is_503_with_the_rebuild_command(tmp_path, index_dir, caplog):
    ix = tmp_path / "ix"
    shutil.copytree(index_dir, ix)
    (ix / META_FILE).write_text('{"format": 0}\n', "utf-8")
    app = create_app({"INDEX_DIR": str(ix)})
    r = app.test_client().get("/search?q=x")
    html = r.get_data(as_text=True)
    assert r.status_code == 503 and "<code>vnsearch index --rebuild --index INDEX_DIR PATH…</code>" in html
    assert str(tmp_path) not in html
    r = app.test_client().get("/api/search?q=x")
    assert r.get_json()["error"]["message"].startswith(
        "The index has another format — run: vnsearch index --rebuild --index INDEX_DIR PATH… "
    )
    assert caplog.messages[-1].startswith(f"503: The index at {ix}/ has format 0, this vnsearch reads format ")
    store_pool(app).close()


# Whoosh leaves the table-of-contents file it failed to parse open; that is its leak, not the app's.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_unreadable_index_is_503_not_500(tmp_path, index_dir, caplog):
    ix = tmp_path / "ix"
    shutil.copytree(index_dir, ix)
    for f in ix.glob("*.toc"):
        f.write_bytes(b"\x00garbage" * 10)
    app = create_app({"INDEX_DIR": str(ix)})
    r = app.test_client().get("/search?q=x")
    assert r.status_code == 503
    html = r.get_data(as_text=True)
    assert "<code>vnsearch index --rebuild --index INDEX_DIR PATH…</code>" in html
    assert str(tmp_path) not in html and "Traceback" not in html and "IndexError" not in html
    r = app.test_client().get("/api/search?q=x")
    assert r.get_json()["error"]["message"].startswith("The index could not be read — run: vnsearch index --rebuild ")
    assert caplog.messages[-1] == (
        f"503: The index at {ix}/ could not be read (IndexError) — run: vnsearch index --rebuild --index {ix} PATH…"
    )
    store_pool(app).close()


def test_a_reindex_shows_up_without_a_restart(tmp_path):
    first, second = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    lines = (FIXTURES / "news.jsonl").read_text("utf-8").splitlines(keepends=True)
    first.write_text("".join(lines[:2]), "utf-8")
    second.write_text("".join(lines[2:]), "utf-8")
    ix = tmp_path / "ix"
    index_paths(ix, [first])
    app = create_app({"INDEX_DIR": str(ix)})
    client = app.test_client()
    assert client.get("/api/search?q=vàng&typed=1").get_json()["total"] == 0  # as typed: no slip correction
    index_paths(ix, [second])  # a commit by another writer
    assert client.get("/api/search?q=vàng").get_json()["total"] == 2
    second.unlink()
    index_paths(ix, [tmp_path], rebuild=True)  # the index replaced wholesale
    assert client.get("/api/search?q=vàng&typed=1").get_json()["total"] == 0  # as typed: no slip correction
    assert client.get("/api/search?q=đà nẵng").get_json()["total"] == 1  # the city only: "đã nâng" is not "Đà Nẵng"
    shutil.rmtree(ix)
    assert client.get("/api/search?q=vàng").status_code == 503
    store_pool(app).close()


def test_concurrent_requests_get_stores_of_their_own(index_dir):
    pool = StorePool(index_dir)
    with pool.store() as a, pool.store() as b:
        assert a is not b
    with pool.store() as c:
        assert c in (a, b)  # reused, not reopened
    pool.close()


def test_parallel_searches_agree(app):
    results, errors = [], []

    def worker():
        try:
            client = app.test_client()
            for _ in range(5):
                results.append(client.get("/api/search?q=da+nang").get_json()["total"])
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and results == [3] * 20
