"""Hostile ingest: requests of one commit group answered as they were applied, and rebuilds that
keep what they did not read (articles posted over the API, other folders')."""

from __future__ import annotations

import json
import re
import threading
import time
from pathlib import Path

import pytest

from indexer.articles import Article, articles_from_json
from indexer.commit_queue import CommitQueue
from indexer.errors import IndexMissingError
from indexer.ingest import index_paths
from indexer.search import search
from indexer.store import META_FILE, ArticleStore
from search_ui import create_app
from search_ui.stores import store_pool
from support import without_timing

TOKEN = "thu-nghiem-hostile"
AUTH = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
GAP = 0.05  # between two requests of one group, as in the attack
DELAY = 0.6  # the group's gathering time: far longer than the gaps, on a loaded machine too


def generation(ix) -> int:
    return max(int(m[1]) for f in ix.iterdir() if (m := re.fullmatch(r"_MAIN_(\d+)\.toc", f.name)))


def in_one_group(calls) -> list:
    """Run ``calls`` in threads started GAP apart (one commit group); their results, in order."""
    results: list = [None] * len(calls)

    def run(n, call):
        results[n] = call()

    threads = [threading.Thread(target=run, args=(n, c)) for n, c in enumerate(calls)]
    for t in threads:
        t.start()
        time.sleep(GAP)
    for t in threads:
        t.join(30)
    return results


@pytest.fixture()
def app(tmp_path, corpus_dir, monkeypatch):
    monkeypatch.delenv("VNSEARCH_API_TOKEN", raising=False)
    ix = tmp_path / "ix"
    index_paths(ix, [corpus_dir])
    app = create_app(
        {"INDEX_DIR": str(ix), "TESTING": True, "VNSEARCH_API_TOKEN": TOKEN, "INGEST_COMMIT_DELAY": DELAY}
    )
    yield app
    store_pool(app).close()


def test_a_post_then_a_delete_in_one_group_are_answered_as_applied(app):
    client, ix = app.test_client(), Path(app.config["INDEX_DIR"])
    before = generation(ix)
    x = json.dumps({"id": "api-x", "body": "Lễ hội khinh khí cầu ở Huế."})
    post, delete = in_one_group([
        lambda: client.post("/api/articles", data=x, headers=AUTH),
        lambda: client.delete("/api/articles/api-x", headers=AUTH),
    ])
    assert generation(ix) == before  # one group, which changed nothing in the end: no commit
    assert (post.status_code, post.get_json()) == (201, {"added": ["api-x"], "updated": [], "unchanged": []})
    assert (delete.status_code, delete.get_json()) == (200, {"deleted": "api-x"})
    assert client.get("/api/articles/api-x").status_code == 404


def article(version: int) -> Article:
    return Article("x", "Tin", None, f"Giá lúa gạo phiên {version} tăng.", None, None, None, None, None, "api")


PUT1, PUT2, DEL = ("put", 1), ("put", 2), ("delete", 0)


@pytest.mark.parametrize(
    "indexed, operations, answers, final",
    [
        (None, [PUT1, DEL], ["added", "deleted"], None),
        (None, [PUT1, PUT2], ["added", "updated"], 2),
        (None, [DEL, PUT1, DEL, DEL], ["missing", "added", "deleted", "missing"], None),
        (1, [DEL, PUT1], ["deleted", "added"], 1),
        (1, [PUT1, DEL, PUT1], ["unchanged", "deleted", "added"], 1),
        (1, [PUT2, PUT1], ["updated", "updated"], 1),
    ],
)
def test_each_answer_of_a_group_is_what_its_change_did_in_arrival_order(tmp_path, indexed, operations, answers, final):
    queue = CommitQueue(tmp_path / "ix", delay=0)
    if indexed:
        queue.submit([article(indexed)])
    queue.delay = DELAY

    def call(kind, version):
        if kind == "put":
            return lambda: queue.submit(puts=[article(version)])["x"]
        return lambda: queue.submit(deletions=["x"])["x"]

    assert in_one_group([call(*op) for op in operations]) == answers
    with ArticleStore.open(tmp_path / "ix") as store:
        stored = store.get("x")
        assert (stored and stored["body"]) == (final and article(final).body)


def write_jsonl(path: Path, articles: list[dict]) -> None:
    path.write_text("".join(json.dumps(a, ensure_ascii=False) + "\n" for a in articles), "utf-8")


def article_from_api(obj: dict) -> Article:
    (posted,) = articles_from_json(obj, "api")
    return posted


def news(article_id: str, body: str) -> dict:
    return {"id": article_id, "title": f"Tin {article_id}", "body": body, "published": "2024-03-05", "source": "TTXVN"}


def test_a_rebuild_keeps_posted_and_watched_articles_and_drops_what_its_paths_no_longer_hold(tmp_path, runner):
    from indexer.cli import main
    from indexer.watch import Watcher

    feed, watched, ix = tmp_path / "feed", tmp_path / "watched", tmp_path / "ix"
    feed.mkdir(), watched.mkdir()
    write_jsonl(feed / "a.jsonl", [news("f1", "Giá lúa gạo tăng."), news("f2", "Giá cà phê giảm.")])
    write_jsonl(watched / "w.jsonl", [news("w1", "Lễ hội khinh khí cầu ở Huế.")])
    index_paths(ix, [feed])
    watcher = Watcher(watched, ix, interval=0)
    with ArticleStore.open(ix) as store:
        watcher.poll(store), watcher.poll(store)  # seen twice unchanged: applied
    posted = {"id": "api-1", "body": "Hội chợ sách ở Đà Nẵng.", "url": "https://tin.vn/1", "author": "Lan"}
    CommitQueue(ix, delay=0).submit([article_from_api(posted)])
    with ArticleStore.open(ix) as store:
        before = store.fingerprints()
    assert sorted(before) == ["api-1", "f1", "f2", "w1"]

    write_jsonl(feed / "a.jsonl", [news("f1", "Giá lúa gạo tăng mạnh.")])
    r = runner.invoke(main, ["index", "--rebuild", "--workers", "1", "--index", str(ix), str(feed)])
    assert (r.exit_code, without_timing(r.output)) == (0, "added 1, updated 0, unchanged 0, deleted 0, failed 0, kept 2\n")
    with ArticleStore.open(ix) as store:
        after = store.fingerprints()
        assert sorted(after) == ["api-1", "f1", "w1"]  # f2 is no longer in its file
        assert {i: after[i] for i in ("api-1", "w1")} == {i: before[i] for i in ("api-1", "w1")}  # as they were
        assert store.get("api-1")["author"] == "Lan" and store.get("w1")["date"] == "2024-03-05"
        assert [h.id for h in search(store, "hội chợ sách").hits] == ["api-1"]
        assert [h.id for h in search(store, "khinh khí cầu").hits] == ["w1"]
        assert watcher.poll(store) is None  # nothing for the watcher to add back
        write_jsonl(watched / "w2.jsonl", [news("w2", "Đua thuyền trên sông Hàn.")])
        watcher.poll(store), watcher.poll(store)
        assert [h.id for h in search(store, "đua thuyền").hits] == ["w2"]  # it goes on, into the new index


def test_a_rebuild_keeps_the_articles_of_a_file_it_could_not_read(tmp_path):
    feed, ix = tmp_path / "feed", tmp_path / "ix"
    feed.mkdir()
    write_jsonl(feed / "a.jsonl", [news("f1", "Giá lúa gạo tăng.")])
    write_jsonl(feed / "b.jsonl", [news("f2", "Giá cà phê giảm.")])
    index_paths(ix, [feed])
    (feed / "b.jsonl").write_bytes(b"\xff\xfe not utf-8")
    report = index_paths(ix, [feed], rebuild=True, workers=1)
    with ArticleStore.open(ix) as store:
        assert sorted(store.fingerprints()) == ["f1", "f2"]  # as --prune keeps them
    assert (report.added, report.failed, report.kept) == (1, 1, 1)


def test_a_rebuild_of_an_index_of_another_format_holds_its_paths_articles_only(tmp_path):
    feed, ix = tmp_path / "feed", tmp_path / "ix"
    feed.mkdir()
    write_jsonl(feed / "a.jsonl", [news("f1", "Giá lúa gạo tăng.")])
    index_paths(ix, [feed])
    CommitQueue(ix, delay=0).submit([article_from_api({"id": "api-1", "body": "Hội chợ sách ở Đà Nẵng."})])
    (ix / META_FILE).write_text('{"format": 0}', "utf-8")
    report = index_paths(ix, [feed], rebuild=True, workers=1)
    assert report.summary() == "added 1, updated 0, unchanged 0, deleted 0, failed 0"  # nothing kept
    with ArticleStore.open(ix) as store:
        assert sorted(store.fingerprints()) == ["f1"]


def test_a_rebuild_refuses_a_file_where_the_index_should_be(tmp_path):
    (tmp_path / "ix").write_text("ghi chú", "utf-8")
    with pytest.raises(IndexMissingError, match=f"{tmp_path / 'ix'} exists and is not a directory"):
        index_paths(tmp_path / "ix", [], rebuild=True)
    assert (tmp_path / "ix").read_text("utf-8") == "ghi chú"


def test_an_article_posted_with_a_url_and_no_id_is_indexed_under_its_url(app):
    client = app.test_client()
    app.extensions["vnsearch_ingest"].delay = 0
    posted = json.dumps({"url": "https://tin.vn/a/1", "body": "Hội chợ sách."})
    r = client.post("/api/articles", data=posted, headers=AUTH)
    assert (r.status_code, r.get_json()["added"]) == (201, ["https://tin.vn/a/1"])
    assert client.get("/api/articles/https://tin.vn/a/1").get_json()["body"] == "Hội chợ sách."


def test_the_token_is_compared_in_constant_time_and_a_locked_index_is_waited_for_ten_seconds(app, monkeypatch):
    import hmac

    compared = []
    real = hmac.compare_digest

    def compare_digest(a, b):
        compared.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", compare_digest)
    r = app.test_client().delete("/api/articles/x", headers={"Authorization": "Bearer sai"})
    assert r.status_code == 401 and len(compared) == 1
    assert app.extensions["vnsearch_ingest"].lock_timeout == 10  # README: "a second one waits up to 10 s"


def test_an_article_posted_during_a_rebuild_waits_for_it_and_lands_in_the_new_index(tmp_path):
    feed, ix = tmp_path / "feed", tmp_path / "ix"
    feed.mkdir()
    write_jsonl(feed / "a.jsonl", [news("f1", "Giá lúa gạo tăng.")])
    index_paths(ix, [feed])
    queue = CommitQueue(ix, delay=0, lock_timeout=30)
    posted = article_from_api({"id": "api-1", "body": "Hội chợ sách."})
    answers: list = []
    poster = threading.Thread(target=lambda: answers.append(queue.submit([posted])))

    def post_once_the_rebuild_holds_the_lock() -> None:
        if poster.ident is None:
            poster.start()
            poster.join(0.3)
            assert poster.is_alive()  # waiting for the lock

    index_paths(ix, [feed], rebuild=True, workers=1, on_article=post_once_the_rebuild_holds_the_lock)
    poster.join(30)
    assert answers == [{"api-1": "added"}]
    with ArticleStore.open(ix) as store:
        assert sorted(store.fingerprints()) == ["api-1", "f1"]
