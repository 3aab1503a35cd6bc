"""Writing articles into the index: `vnsearch index`, the folder watcher and the HTTP ingest.

All three go through ``apply_changes``: skip articles whose content did not change,
analyze the rest (in worker processes when there are many), and write them with
any deletions in batches, each under the index's write lock and in one commit.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from itertools import chain, islice
from pathlib import Path
from typing import Callable, Iterable, Iterator, Sequence

from .articles import Article, Failure, load_articles
from .documents import to_document
from .duplicates import assign_groups
from .errors import VnsearchError
from .store import ArticleStore, LockHolder
from .vocabulary import Vocabulary

__all__ = ["CommitQueue", "IngestReport", "apply_changes", "index_paths", "optimize", "tidy"]

# Below this many changed articles, starting worker processes (each loading
# pyvi's model) costs more than it saves.
POOL_THRESHOLD = 200
BATCH_SIZE = 1000
REBUILD_BATCH_SIZE = 25_000  # a segment each; 100,000 articles make 4
LOCK_TIMEOUT = 10.0  # seconds a writer waits for another one to finish
# Frequent small commits (watcher, HTTP) put off two costs that would delay every
# article's appearance: merging (Whoosh re-encodes every posting in Python: seconds under
# load) and rewriting the vocabulary file (which every searching process then reloads).
# Once this many small segments exist, a merge follows the commit (in a commit of its
# own: the articles are visible first); the vocabulary is saved at most this often; both
# are done when the watcher is idle (``tidy``).
MAX_SMALL_SEGMENTS = 8
MERGE_MIN_SEGMENTS = 5  # Whoosh's MERGE_SMALL merges nothing below five segments
VOCABULARY_SAVE_DELAY = 30.0  # seconds

Known = Mapping[str, tuple[str, str]]  # id → (content hash, origin), as ArticleStore.fingerprints
OnLockWait = Callable[[LockHolder | None], None]


@dataclass
class IngestReport:
    """What one indexing run did."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    failures: list[Failure] = field(default_factory=list)

    @property
    def failed(self) -> int:
        return len(self.failures)

    def summary(self) -> str:
        return (
            f"added {self.added}, updated {self.updated}, unchanged {self.unchanged}, "
            f"deleted {self.deleted}, failed {self.failed}"
        )


def index_paths(
    index_dir: Path,
    paths: Iterable[Path],
    *,
    prune: bool = False,
    rebuild: bool = False,
    workers: int | None = None,
    on_failure: Callable[[Failure], None] | None = None,
    on_article: Callable[[], None] | None = None,
    lock_timeout: float | None = None,
    on_lock_wait: OnLockWait | None = None,
) -> IngestReport:
    """Index the articles under ``paths`` into ``index_dir``; return the counts.

    Unchanged articles (same content hash) are skipped before any analysis; a
    bad file or article is reported and skipped; with ``prune``, articles whose
    file under ``paths`` no longer holds them are deleted. Work is committed in
    batches, so an interrupted run keeps every finished batch. With ``rebuild``, a new
    index is built beside ``index_dir`` and takes its place once complete: a failed or
    interrupted rebuild leaves the old index as it was.
    """
    paths = [Path(p) for p in paths]
    timeout = LOCK_TIMEOUT if lock_timeout is None else lock_timeout
    report = IngestReport()
    if rebuild:
        opened = ArticleStore.rebuild(index_dir, lock_timeout=timeout)
    else:
        opened = ArticleStore.open_or_create(index_dir)
    with opened as store:
        known = store.fingerprints()
        seen: dict[str, str] = {}
        failed_origins: set[str] = set()

        def fail(failure: Failure, file_path: Path) -> None:
            report.failures.append(failure)
            failed_origins.add(os.path.abspath(file_path))
            if on_failure:
                on_failure(failure)

        index_roots = tuple({os.path.abspath(d) + os.sep for d in (index_dir, store.path)})

        def articles() -> Iterator[Article]:
            for file_path, item in load_articles(paths):
                if os.path.abspath(file_path).startswith(index_roots):
                    continue  # the index's own files (or a rebuild's), when it lives inside PATH
                if isinstance(item, Failure):
                    fail(item, file_path)
                    continue
                if item.id in seen:
                    fail(Failure(item.origin, f"duplicate id {item.id!r} (already read from {seen[item.id]})"), file_path)
                    continue
                seen[item.id] = item.origin
                if on_article:
                    on_article()
                yield replace(item, origin=os.path.abspath(item.origin))

        # A rebuild is all or nothing, so it commits in big batches and never merges: Whoosh's
        # merges re-encode every posting of the growing index in Python, again and again.
        apply_changes(
            store, articles(), known=known, report=report, workers=workers,
            lock_timeout=timeout, on_lock_wait=on_lock_wait, defer_upkeep=rebuild,
            batch_size=REBUILD_BATCH_SIZE if rebuild else None,
        )
        if rebuild:
            tidy(store, merge=False, timeout=timeout)  # the vocabulary, saved now and then meanwhile
        if prune:
            roots = [os.path.abspath(p) for p in paths]

            def under_roots(origin: str) -> bool:
                return any(origin == r or origin.startswith(r.rstrip(os.sep) + os.sep) for r in roots)

            gone = [
                article_id
                for article_id, (_, origin) in known.items()
                if article_id not in seen and under_roots(origin) and origin not in failed_origins
            ]
            apply_changes(
                store, (), gone, known=known, report=report, lock_timeout=timeout, on_lock_wait=on_lock_wait
            )
    return report


def apply_changes(
    store: ArticleStore,
    articles: Iterable[Article],
    deletions: Iterable[str] = (),
    *,
    known: Known | None = None,
    report: IngestReport | None = None,
    workers: int | None = None,
    lock_timeout: float | None = None,
    on_lock_wait: OnLockWait | None = None,
    stop: threading.Event | None = None,
    defer_upkeep: bool = False,
    merge_when_many: bool = True,
    batch_size: int | None = None,
) -> IngestReport:
    """Write ``articles`` (added or replaced by id) and delete ``deletions`` (ids); return the counts.

    ``known`` holds the fingerprints of the indexed articles (looked up when not
    given): an article with the same content hash and origin is left alone.
    Changes are committed every ``batch_size`` (BATCH_SIZE) articles, the deletions with the
    first batch; when ``stop`` is set, no further batch is started. With
    ``defer_upkeep`` (frequent small commits), a commit merges segments only past
    MAX_SMALL_SEGMENTS small ones (in a commit of its own, unless ``merge_when_many``
    is False: the caller merges, e.g. once it has answered) and saves the vocabulary
    only now and then.
    """
    report = report if report is not None else IngestReport()
    batch_size = batch_size or BATCH_SIZE
    articles = iter(articles)
    deletions = list(dict.fromkeys(deletions))
    if known is None:
        store.refresh()
        known = _IndexedFingerprints(store)

    def changed() -> Iterator[Article]:
        for article in articles:
            if known.get(article.id) == (article.content_hash(), article.origin):
                report.unchanged += 1
                continue
            yield article

    timeout = LOCK_TIMEOUT if lock_timeout is None else lock_timeout
    with _analyzed(changed(), workers) as docs:
        while True:
            batch = list(islice(docs, batch_size))
            if not batch and not deletions:
                return report
            write_batch(
                store, batch, deletions, known=known, report=report, timeout=timeout,
                on_lock_wait=on_lock_wait, merge=not defer_upkeep, defer_vocabulary=defer_upkeep,
            )
            store.refresh()
            if defer_upkeep and merge_when_many and _merge_due(store):
                _merge(store, timeout)
            deletions = []
            if len(batch) < batch_size or (stop is not None and stop.is_set()):
                return report


class _IndexedFingerprints(Mapping):
    """The store's fingerprints, looked up id by id as they are asked for."""

    def __init__(self, store: ArticleStore):
        self._store = store
        self._cache: dict[str, tuple[str, str] | None] = {}

    def __getitem__(self, article_id: str) -> tuple[str, str]:
        if article_id not in self._cache:
            self._cache[article_id] = self._store.fingerprints([article_id]).get(article_id)
        value = self._cache[article_id]
        if value is None:
            raise KeyError(article_id)
        return value

    def __iter__(self) -> Iterator[str]:
        return (k for k, v in self._cache.items() if v is not None)

    def __len__(self) -> int:
        return sum(1 for v in self._cache.values() if v is not None)


@contextmanager
def _analyzed(articles: Iterator[Article], workers: int | None) -> Iterator[Iterator[tuple[Article, dict]]]:
    """(article, document) pairs, in order; segmented in worker processes when there are many."""
    head = list(islice(articles, POOL_THRESHOLD))
    articles = chain(head, articles)
    n_workers = workers if workers is not None else min(2, os.cpu_count() or 1)
    if len(head) < POOL_THRESHOLD or n_workers < 2:
        yield ((a, to_document(a)) for a in articles)
        return
    with multiprocessing.Pool(n_workers, initializer=_die_with_parent, initargs=(os.getpid(),)) as pool:
        yield pool.imap(_with_document, articles, chunksize=8)


def _die_with_parent(parent: int) -> None:
    """Make a worker die with the process that started it: a SIGKILLed command cannot stop
    its pool, whose workers would otherwise wait for work forever, pyvi's model loaded."""
    try:
        ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG (Linux)
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # it died before prctl took effect
        os._exit(1)


def _with_document(article: Article) -> tuple[Article, dict]:
    return article, to_document(article)


def write_batch(
    store: ArticleStore,
    docs: Sequence[tuple[Article, dict]],
    deletions: Sequence[str] = (),
    *,
    known: Known,
    report: IngestReport,
    timeout: float = LOCK_TIMEOUT,
    on_lock_wait: OnLockWait | None = None,
    merge: bool = True,
    defer_vocabulary: bool = False,
) -> None:
    """Put ``docs`` and delete ``deletions`` in one writer and one commit (all or nothing).

    ``merge`` is StoreWriter.commit's. The vocabulary counts the docs once the commit is
    made, still under the lock: a process dying in between leaves a batch uncounted (the
    counts only feed suggestions), never counted twice by the run that adds it again. With
    ``defer_vocabulary``, it is saved at most every VOCABULARY_SAVE_DELAY seconds (and by ``tidy``).
    """
    batch = Vocabulary()

    def count() -> None:
        _count(store.path, batch, defer=defer_vocabulary)

    writer = store.writer(timeout=timeout, on_wait=on_lock_wait)
    try:
        deleted = writer.delete_many(deletions)
        if docs:
            store.refresh()  # under the lock: the latest commit, for near duplicates
            assign_groups([doc for _, doc in docs], store.near_duplicate_candidates)
        for _, doc in docs:
            writer.put(doc)
            batch.add_document(doc)
        writer.commit(merge=merge, then=count if docs else None)
    except BaseException:  # Ctrl-C twice included: nothing of the batch is kept, the lock is released
        writer.abandon()
        raise
    report.deleted += deleted
    for article, _ in docs:
        if article.id in known:
            report.updated += 1
        else:
            report.added += 1


def _merge_due(store: ArticleStore) -> bool:
    """Frequent small commits have left enough small segments to merge them now."""
    return store.small_segment_count() >= MAX_SMALL_SEGMENTS


def _merge(store: ArticleStore, timeout: float, optimize: bool = False, on_lock_wait: OnLockWait | None = None) -> None:
    """Merge small segments (Whoosh's tiered policy), or all of them, in a commit of its own."""
    writer = store.writer(timeout=timeout, on_wait=on_lock_wait)
    try:
        writer.commit(merge=True, optimize=optimize)
    except BaseException:
        writer.abandon()
        raise
    store.refresh()


def optimize(store: ArticleStore, *, timeout: float = LOCK_TIMEOUT, on_lock_wait: OnLockWait | None = None) -> int:
    """Merge every segment into one, deleted articles dropped; returns how many there were.

    A query then looks each term up once, not once a segment. Whoosh re-encodes every
    posting in Python: 21 minutes and 2.6 GB at 100,000 articles. Searches go on
    meanwhile, on the segments as they were.
    """
    store.refresh()
    before = store.segment_count()
    if before > 1 or store.deleted_count():
        _merge(store, timeout, optimize=True, on_lock_wait=on_lock_wait)
    return before


def tidy(store: ArticleStore, *, merge: bool = True, timeout: float = 0.0) -> bool:
    """The upkeep that frequent small commits put off: save the vocabulary they added to
    and, with ``merge``, merge the small segments they left. Returns whether it wrote."""
    store.refresh()
    merging = merge and store.small_segment_count() >= MERGE_MIN_SEGMENTS
    if not merging and not _vocabulary_unsaved(store.path):
        return False
    writer = store.writer(timeout=timeout)
    try:
        _save_vocabulary(store.path)
        if merging:
            writer.commit(merge=True)
        else:
            writer.cancel()
    except BaseException:
        writer.abandon()
        raise
    store.refresh()
    return True


# Counts of committed batches this process has not added to an index's vocabulary file
# yet (deferred saves), per index, and since when. Lost if the process dies first: the
# counts only feed suggestions, and are a little stale by design.
_unsaved: dict[str, tuple[Vocabulary, float]] = {}
_unsaved_lock = threading.Lock()


def _count(index_dir: Path, batch: Vocabulary, defer: bool) -> None:
    """Add a committed batch's counts to the index's vocabulary (called under the write lock)."""
    key = os.path.abspath(index_dir)
    now = time.monotonic()
    with _unsaved_lock:
        pending, since = _unsaved.pop(key, (Vocabulary(), now))
        pending.add(batch)
        if defer and now - since < VOCABULARY_SAVE_DELAY:
            _unsaved[key] = (pending, since)
            return
    pending.add_to(index_dir)


def _save_vocabulary(index_dir: Path) -> None:
    """Add the counts put off so far to the index's vocabulary file (under the write lock)."""
    with _unsaved_lock:
        pending, _ = _unsaved.pop(os.path.abspath(index_dir), (None, None))
    if pending is not None:
        pending.add_to(index_dir)


def _vocabulary_unsaved(index_dir: Path) -> bool:
    with _unsaved_lock:
        return os.path.abspath(index_dir) in _unsaved


# --- group commit ---------------------------------------------------------------


@dataclass
class _Work:
    puts: list[Article]
    deletions: list[str]
    done: bool = False
    error: BaseException | None = None
    outcome: dict[str, str] = field(default_factory=dict)


class CommitQueue:
    """Changes from concurrent callers (HTTP requests), written together.

    ``submit`` returns once its changes are committed. The caller that finds no
    commit under way leads the next one: it waits up to ``delay`` seconds (or
    until ``max_articles`` are pending) for others to join, then analyzes and
    writes everything pending with one writer and one commit. Analysis runs in
    the leader only, one group at a time (pyvi's tagger is not thread-safe).
    Once MAX_SMALL_SEGMENTS small segments exist, a thread merges them after the
    group has been answered (seconds at 100,000 articles); the next group waits
    for it, as for a commit under way.
    """

    def __init__(
        self,
        index_dir: Path | str,
        *,
        delay: float = 0.2,
        max_articles: int = 500,
        lock_timeout: float | None = None,
    ):
        self.index_dir = Path(index_dir)
        self.delay = delay
        self.max_articles = max_articles
        self.lock_timeout = LOCK_TIMEOUT if lock_timeout is None else lock_timeout
        self._cond = threading.Condition()
        self._pending: list[_Work] = []
        self._busy = False

    def submit(self, puts: Sequence[Article] = (), deletions: Sequence[str] = ()) -> dict[str, str]:
        """Write ``puts`` and delete ``deletions``; returns id → "added", "updated",
        "unchanged", "deleted" or "missing". Raises what the commit raised."""
        work = _Work(list(puts), list(deletions))
        with self._cond:
            self._pending.append(work)
            self._cond.notify_all()  # a leader gathering changes counts this one
            while self._busy and not work.done:
                self._cond.wait()
            if not work.done:
                self._busy = True  # lead the next group
        if not work.done:
            merge = False
            try:
                merge = self._lead()
            finally:
                if merge:  # the group is answered; the next one waits for the merge
                    threading.Thread(target=self._merge_small, name="vnsearch-merge", daemon=True).start()
                else:
                    self._release()
        if work.error is not None:
            raise work.error
        return work.outcome

    def _release(self) -> None:
        with self._cond:
            self._busy = False
            self._cond.notify_all()

    def _merge_small(self) -> None:
        try:
            with ArticleStore.open(self.index_dir) as store:
                _merge(store, self.lock_timeout)
        except (VnsearchError, OSError):
            pass  # another writer holds the index, or the disk is full: the next commit tries again
        finally:
            self._release()

    def _lead(self) -> bool:
        """Commit the pending group; returns whether its small segments are due a merge."""
        deadline = time.monotonic() + self.delay
        with self._cond:
            while sum(len(w.puts) for w in self._pending) < self.max_articles:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._cond.wait(left)
            group, self._pending = self._pending, []
        try:
            return self._commit(group)
        except BaseException as e:  # every caller of the group hears of it
            for w in group:
                w.error = e
            raise
        finally:
            for w in group:
                w.done = True

    def _commit(self, group: list[_Work]) -> bool:
        # The last change to an id wins, as if the requests had been applied in turn.
        final: dict[str, Article | None] = {}
        for w in group:
            for i in w.deletions:
                final.pop(i, None)
                final[i] = None
            for a in w.puts:
                final.pop(a.id, None)
                final[a.id] = a
        puts = [a for a in final.values() if a is not None]
        deletions = [i for i, a in final.items() if a is None]
        store = ArticleStore.open_or_create(self.index_dir)
        with store:
            known = store.fingerprints(final)
            apply_changes(
                store, puts, deletions, known=known, lock_timeout=self.lock_timeout, workers=1,
                defer_upkeep=True, merge_when_many=False,
            )
            merge = _merge_due(store)
        for w in group:
            for a in w.puts:
                if final.get(a.id) is not a:
                    w.outcome[a.id] = "updated"  # replaced by a later change in the same group
                elif known.get(a.id) == (a.content_hash(), a.origin):
                    w.outcome[a.id] = "unchanged"
                else:
                    w.outcome[a.id] = "updated" if a.id in known else "added"
            for i in w.deletions:
                w.outcome[i] = "deleted" if i in known else "missing"
        return merge
