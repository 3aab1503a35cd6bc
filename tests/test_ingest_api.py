"""POST /api/articles and DELETE /api/articles/<id>: the token, bodies, errors, group commits, a locked index."""

from __future__ import annotations

import json
import re
import threading

import pytest

from indexer.store import ArticleStore
from search_ui.server import request_body_limit
from support import API_AUTH as AUTH
from support import API_TOKEN as TOKEN
from support import post


def article(i: int, body: str | None = None, **extra) -> dict:
    return {"id": f"api-{i}", "title": f"Tin nhanh số {i}", "body": body or f"Lễ hội khinh khí cầu lần {i} ở Huế.", **extra}


@pytest.fixture()
def client(make_app):
    return make_app(VNSEARCH_API_TOKEN=TOKEN, INGEST_COMMIT_DELAY=0).test_client()


def hits(client, q: str) -> list[str]:
    """The posted articles (ids api-…) among the hits: the fixture corpus's don't matter here."""
    found = client.get("/api/search", query_string={"q": q, "limit": 100}).get_json()["hits"]
    return [h["id"] for h in found if h["id"].startswith("api-")]


def generation(ix) -> int:
    return max(int(m[1]) for f in ix.iterdir() if (m := re.fullmatch(r"_MAIN_(\d+)\.toc", f.name)))


def test_without_a_token_configured_the_routes_do_not_exist(make_app):
    client = make_app().test_client()
    assert post(client, article(1)).status_code == 404
    assert client.delete("/api/articles/api-1", headers=AUTH).status_code == 404
    assert client.delete("/api/articles/000_5a0c9058e2d22930.txt", headers=AUTH).status_code == 404
    assert client.get("/api/articles/000_5a0c9058e2d22930.txt").status_code == 200  # reading is unchanged
    assert request_body_limit(client.application) == 16 * 1024  # the server keeps refusing bodies


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer sai"}, {"Authorization": TOKEN}, {"Authorization": "Basic " + TOKEN},
     {"Authorization": "Bearer"}, {"Authorization": "Bearer " + TOKEN + "x"}],
    ids=["none", "wrong", "no-scheme", "basic", "empty", "longer"],
)
def test_a_missing_or_wrong_token_is_401_and_changes_nothing(client, headers):
    r = post(client, article(1), headers)
    assert r.status_code == 401
    assert r.headers["WWW-Authenticate"] == 'Bearer realm="vnsearch"'
    assert r.get_json()["error"]["message"].startswith("Authorization: Bearer <token> required")
    assert client.delete("/api/articles/000_5a0c9058e2d22930.txt", headers=headers).status_code == 401
    assert hits(client, "khinh khí cầu") == []
    assert client.get("/api/articles/000_5a0c9058e2d22930.txt").status_code == 200


def test_post_one_or_a_list_then_update_then_delete(client):
    r = post(client, article(1))
    assert (r.status_code, r.get_json()) == (201, {"added": ["api-1"], "updated": [], "unchanged": []})
    assert hits(client, "khinh khí cầu lần 1")[:1] == ["api-1"]  # searchable as soon as the request returns

    r = post(client, [article(1), article(2, "Giá lúa gạo phiên 2 ổn định.", url="https://tin.vn/2", published="2024-03-05")])
    assert (r.status_code, r.get_json()) == (201, {"added": ["api-2"], "updated": [], "unchanged": ["api-1"]})
    got = client.get("/api/articles/api-2").get_json()
    assert (got["url"], got["published"], got["title"]) == ("https://tin.vn/2", "2024-03-05", "Tin nhanh số 2")

    r = post(client, article(1, "Giá cà phê Buôn Ma Thuột giảm."))
    assert (r.status_code, r.get_json()) == (200, {"added": [], "updated": ["api-1"], "unchanged": []})
    assert hits(client, "cà phê") == ["api-1"]

    r = client.delete("/api/articles/api-1", headers=AUTH)
    assert (r.status_code, r.get_json()) == (200, {"deleted": "api-1"})
    assert hits(client, "cà phê") == []
    assert client.get("/api/articles/api-1").status_code == 404
    r = client.delete("/api/articles/api-1", headers=AUTH)
    assert (r.status_code, r.get_json()["error"]["message"]) == (404, "No article with id 'api-1'")


def test_the_token_can_come_from_the_environment(make_app, monkeypatch):
    monkeypatch.setenv("VNSEARCH_API_TOKEN", TOKEN)
    client = make_app().test_client()
    assert post(client, article(3)).status_code == 201
    assert client.delete("/api/articles/a/b:c?d", headers=AUTH).status_code == 404  # ids with slashes route here
    assert request_body_limit(client.application) == 8 * 1024 * 1024


def test_an_id_with_slashes_is_deleted(client):
    assert post(client, {"id": "vn/2024/05:tin", "body": "Tin có mã lạ."}).status_code == 201
    assert client.delete("/api/articles/vn/2024/05:tin", headers=AUTH).get_json() == {"deleted": "vn/2024/05:tin"}


@pytest.mark.parametrize(
    "body, message",
    [
        (b"", "missing body: send one article as a JSON object, or a list of them"),
        (b"  \n", "missing body: send one article as a JSON object, or a list of them"),
        (b"{\"id\": 1,", "invalid JSON: Expecting property name enclosed in double quotes (line 1, column 10)"),
        (b"\xff\xfe{}", "invalid JSON: the body is not UTF-8"),
        (b"[" * 100000 + b"]" * 100000, "invalid JSON: nested too deeply"),
        (b"[]", "empty list: no article to index"),
    ],
    ids=["empty", "blank", "truncated", "not-utf8", "deep", "empty-list"],
)
def test_a_bad_body_is_a_400_naming_the_problem(client, body, message):
    r = post(client, body)
    assert (r.status_code, r.get_json()["error"]["message"]) == (400, message)


def test_a_bad_article_in_a_list_refuses_the_whole_request(client, ix):
    before = generation(ix)
    r = post(client, [article(1), {"id": "x"}, 42, {"body": "Không có mã."}, article(1), {"id": "y", "body": "b", "published": "hôm qua"}])
    assert r.status_code == 400
    assert r.get_json()["error"] == {
        "status": 400,
        "message": "5 articles could not be read; nothing was indexed",
        "articles": [
            "item 2: no body",
            "item 3: expected a JSON object",
            "item 4: id: missing (give an id or a url)",
            "item 6: published: cannot read date 'hôm qua'",
            "item 5: duplicate id 'api-1' (also item 1)",
        ],
    }
    assert generation(ix) == before and hits(client, "khinh khí cầu") == []


def test_an_oversized_body_is_a_413_and_the_ingest_route_takes_more_than_a_get(client):
    assert post(client, b"[" + b" " * (8 * 1024 * 1024) + b"]").status_code == 413
    many = [article(i, f"Bản tin dài số {i}. " + "Giá vàng hôm nay. " * 40) for i in range(40)]
    payload = json.dumps(many, ensure_ascii=False).encode()
    assert len(payload) > 16 * 1024
    assert post(client, payload).status_code == 201
    r = client.get("/api/search", query_string={"q": "x"}, data=b"x" * 20000)
    assert r.status_code == 413  # every other route still refuses bodies


def test_concurrent_requests_share_commits(make_app, ix):
    client = make_app(VNSEARCH_API_TOKEN=TOKEN, INGEST_COMMIT_DELAY=0.5).test_client()
    before = generation(ix)
    results = []

    def send(i):
        results.append(post(client, article(i)).status_code)

    threads = [threading.Thread(target=send, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert results == [201] * 8
    assert generation(ix) - before < 8  # fewer commits than requests (usually one)
    assert sorted(hits(client, "khinh khí cầu")) == sorted(f"api-{i}" for i in range(8))


def test_a_locked_index_is_a_503_naming_the_holder(make_app, ix):
    client = make_app(VNSEARCH_API_TOKEN=TOKEN, INGEST_COMMIT_DELAY=0, INGEST_LOCK_TIMEOUT=0.1).test_client()
    with ArticleStore.open(ix) as store:
        writer = store.writer()
        try:
            r = post(client, article(1))
        finally:
            writer.cancel()
    assert r.status_code == 503 and r.headers["Retry-After"] == "5"
    error = r.get_json()["error"]
    assert error["holder"]["pid"] > 0 and set(error["holder"]) == {"pid", "since"}  # no command line: it names paths
    assert error["message"].startswith(f"The index is locked by another writer: pid {error['holder']['pid']}, since ")
    assert error["message"].endswith(" — try again when it has finished")
    assert str(ix) not in error["message"]
    assert post(client, article(1)).status_code == 201  # once released


# Whoosh leaves the files of a writer that failed open until they are collected: its leak.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_a_full_disk_is_a_503_without_the_server_path(client, ix, monkeypatch, caplog):
    import errno
    import os

    from whoosh.filedb.filestore import FileStorage

    def create_file(self, name, *args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), os.path.join(self.folder, name))

    monkeypatch.setattr(FileStorage, "create_file", create_file)
    r = post(client, article(1))
    monkeypatch.undo()
    assert (r.status_code, r.get_json()) == (503, {"error": {"status": 503, "message": (
        "Cannot write the index: No space left on device — try again once the server has disk space and a writable index"
    )}})
    assert caplog.messages[-1].startswith(f"503: Cannot write the index at {ix}/: No space left on device — ")
    assert post(client, article(1)).status_code == 201  # the failed writer let go of the lock at once
