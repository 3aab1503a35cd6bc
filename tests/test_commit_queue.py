"""The HTTP ingest's group commit: callers answered together, merges after the answer."""

import threading

from indexer import commit_queue
from indexer.articles import Article
from indexer.commit_queue import CommitQueue
from indexer.ingest import MAX_SMALL_SEGMENTS
from indexer.store import ArticleStore


def test_a_commit_queue_answers_before_it_merges_and_the_next_group_waits_for_the_merge(tmp_path, monkeypatch):
    def article(i):
        return Article(f"q{i}", f"Tin {i}", None, f"Giá lúa gạo phiên {i} tăng.", None, None, None, None, None, "api")

    merging, release = threading.Event(), threading.Event()
    real_merge = commit_queue.merge_segments

    def held_merge(store, timeout, **kwargs):
        merging.set()
        assert release.wait(30)
        real_merge(store, timeout, **kwargs)

    monkeypatch.setattr(commit_queue, "merge_segments", held_merge)
    ix = tmp_path / "ix"
    queue = CommitQueue(ix, delay=0)
    for i in range(MAX_SMALL_SEGMENTS):
        assert queue.submit([article(i)]) == {f"q{i}": "added"}  # answered, the merge held back
    assert merging.wait(30)
    with ArticleStore.open(ix) as store:
        assert (store.segment_count(), len(store)) == (MAX_SMALL_SEGMENTS, MAX_SMALL_SEGMENTS)

    answers: list = []
    later = threading.Thread(target=lambda: answers.append(queue.submit([article(99)])))
    later.start()
    later.join(0.5)
    assert later.is_alive() and answers == []  # the next group waits for the merge
    release.set()
    later.join(30)
    assert answers == [{"q99": "added"}]
    with ArticleStore.open(ix) as store:
        # Whoosh's MERGE_SMALL joined five of the eight into one; q99 added one.
        assert (store.segment_count(), len(store)) == (MAX_SMALL_SEGMENTS - 5 + 1 + 1, MAX_SMALL_SEGMENTS + 1)
