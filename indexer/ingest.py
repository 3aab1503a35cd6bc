"""Writing articles into the index: `vnsearch index`, the folder watcher and the HTTP ingest.

All three go through ``apply_changes``: skip articles whose content did not change,
analyze the rest (in worker processes when there are many), and write them with any
deletions in batches, each under the index's write lock and in one commit.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
import threading
from collections import deque
from collections.abc import Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from itertools import chain, islice
from pathlib import Path
from typing import Callable, Iterable, Iterator, Sequence

from .articles import Article, Failure, display_path, duplicate_id, load_articles
from .documents import stored_article, to_document
from .duplicates import assign_groups
from .errors import IndexMissingError, IndexUnreadableError, IndexVersionError
from .fields import BODY, SAPO, TITLE
from .store import ArticleStore, LockHolder
from .vocabulary import Vocabulary, add_batch, has_deferred, save_deferred

__all__ = [
    "IngestReport", "apply_changes", "index_paths", "merge_due", "merge_segments", "optimize", "tidy",
    "write_batch",
]

# Below this many changed articles, starting worker processes (each loading
# pyvi's model) costs more than it saves.
POOL_THRESHOLD = 200
BATCH_SIZE = 1000
REBUILD_BATCH_SIZE = 25_000  # articles at most in a segment of a rebuild or a first index
# A batch's memory grows with its text (the analyzed documents, then their tokens as numbers,
# sorted at commit), not with its article count: a batch ends at this many characters of its
# documents' strings, whatever its article count (docs/scaling.md).
BATCH_CHARS = 80_000_000
# Analyzed articles the workers may hand over before the writer takes them: while a batch is
# committed, they get ahead by this many and then wait, rather than queue without bound.
IN_FLIGHT = 1000
CHUNK = 8  # articles sent to a worker at a time
LOCK_TIMEOUT = 10.0  # seconds a writer waits for another one to finish
# Frequent small commits (watcher, HTTP) put off two costs that would delay every
# article's appearance: merging (Whoosh re-encodes every posting in Python) and saving
# the vocabulary (``vocabulary.add_batch`` with ``defer``). Once this many small segments
# exist, a merge follows the commit (in a commit of its own: the articles are visible
# first); both are done when the watcher is idle (``tidy``).
MAX_SMALL_SEGMENTS = 8
MERGE_MIN_SEGMENTS = 5  # Whoosh's MERGE_SMALL merges nothing below five segments
# A file's first failures are kept and shown, the rest only counted: a file of a million bad
# lines would otherwise fill memory and the terminal.
FAILURES_SHOWN = 10

Known = Mapping[str, tuple[str, str]]  # id → (content hash, origin), as ArticleStore.fingerprints
OnLockWait = Callable[[LockHolder | None], None]


@dataclass
class IngestReport:
    """What one indexing run did. ``failures`` holds each file's first FAILURES_SHOWN failures and
    then one ``… and N more like these``; ``failed`` counts them all."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    failures: list[Failure] = field(default_factory=list)
    kept: int = 0  # by a rebuild: the old index's articles from elsewhere than its PATHs
    failed: int = 0
    on_failure: Callable[[Failure], None] | None = field(default=None, repr=False, compare=False)
    _file: str | None = field(default=None, repr=False, compare=False)
    _in_file: int = field(default=0, repr=False, compare=False)

    def fail(self, failure: Failure, file: str) -> None:
        """Count a failure of ``file``; keep it (and pass it to ``on_failure``) if among the file's first."""
        if file != self._file:
            self.end_file()
            self._file = file
        self.failed += 1
        self._in_file += 1
        if self._in_file <= FAILURES_SHOWN:
            self._keep(failure)

    def end_file(self) -> None:
        """Close the current file's failures: say how many were not kept."""
        if self._in_file > FAILURES_SHOWN:
            self._keep(Failure(self._file, f"… and {self._in_file - FAILURES_SHOWN:,} more like these"))
        self._file, self._in_file = None, 0

    def _keep(self, failure: Failure) -> None:
        self.failures.append(failure)
        if self.on_failure:
            self.on_failure(failure)

    def summary(self) -> str:
        kept = f", kept {self.kept}" if self.kept else ""
        return (
            f"added {self.added}, updated {self.updated}, unchanged {self.unchanged}, "
            f"deleted {self.deleted}, failed {self.failed}{kept}"
        )


def index_paths(
    index_dir: Path,
    paths: Iterable[Path],
    *,
    prune: bool = False,
    rebuild: bool = False,
    follow_symlinks: bool = False,
    workers: int | None = None,
    on_failure: Callable[[Failure], None] | None = None,
    on_article: Callable[[], None] | None = None,
    lock_timeout: float | None = None,
    on_lock_wait: OnLockWait | None = None,
    on_progress: Callable[[int, int], None] | None = None,
    stop: threading.Event | None = None,
    report: IngestReport | None = None,
) -> IngestReport:
    """Index the articles under ``paths`` into ``index_dir`` in batches (an interrupted run keeps
    the finished ones); return the counts. ``on_progress(articles, bytes)`` hears of each article
    done and how far into the input it was read; once ``stop`` is set, no batch (nor pruning) starts. ``prune`` deletes articles their file no longer holds;
    ``rebuild`` builds a new index beside ``index_dir`` that replaces it only once complete, from
    ``paths`` and the old index's articles that ``prune`` would keep (posted over the API, say);
    ``follow_symlinks`` reads symlinked files wherever they lead (else only inside their PATH)."""
    paths = [Path(p) for p in paths]
    timeout = LOCK_TIMEOUT if lock_timeout is None else lock_timeout
    report = report if report is not None else IngestReport()
    report.on_failure = on_failure or report.on_failure
    if rebuild:
        opened = ArticleStore.rebuild(index_dir, lock_timeout=timeout)
    else:
        opened = ArticleStore.open_or_create(index_dir)
    with opened as store:
        known = store.fingerprints()
        seen: dict[str, str] = {}
        failed_origins: set[str] = set()
        read = [0, 0]  # bytes of the input read; articles done
        read_at: dict[str, int] = {}  # an article's id → ``read`` when it was read, until it is done

        def count_read(n: int) -> None:
            read[0] += n

        def done(article: Article) -> None:
            read[1] += 1
            on_progress(read[1], read_at.pop(article.id, read[0]))

        def fail(failure: Failure, file_path: Path) -> None:
            report.fail(failure, display_path(file_path))  # the file as its failures name it
            failed_origins.add(display_path(os.path.abspath(file_path)))

        index_roots = tuple({os.path.abspath(d) + os.sep for d in (index_dir, store.path)})
        roots = [display_path(os.path.abspath(p)).rstrip(os.sep) for p in paths]

        def gone(article_id: str, origin: str) -> bool:
            """An indexed article that the PATHs no longer hold: its file under them was read whole without it."""
            under_roots = any(origin == r or origin.startswith(r + os.sep) for r in roots)
            return article_id not in seen and under_roots and origin not in failed_origins

        def articles() -> Iterator[Article]:
            reading = load_articles(paths, follow_symlinks=follow_symlinks, on_read=count_read if on_progress else None)
            for file_path, item in reading:
                if os.path.abspath(file_path).startswith(index_roots):
                    continue  # the index's own files (or a rebuild's), when it lives inside PATH
                if isinstance(item, Failure):
                    fail(item, file_path)
                    continue
                if item.id in seen:
                    fail(duplicate_id(item, seen[item.id]), file_path)
                    continue
                seen[item.id] = item.location or item.origin
                if on_article:
                    on_article()
                if on_progress:
                    read_at[item.id] = read[0]
                yield replace(item, origin=os.path.abspath(item.origin))
            report.end_file()

        # A rebuild, or a first index into an empty directory, commits in big batches and never
        # merges: Whoosh's merges re-encode every posting of the growing index, again and again.
        # Each batch is still a commit of its own: a crash keeps the batches before it.
        first = rebuild or not known
        apply_changes(
            store, articles(), known=known, report=report, workers=workers,
            lock_timeout=timeout, on_lock_wait=on_lock_wait, defer_upkeep=first, merge_when_many=not first,
            batch_size=REBUILD_BATCH_SIZE if first else None, stop=stop, on_done=done if on_progress else None,
        )
        if first and not rebuild:
            tidy(store, merge=False, timeout=timeout)  # the vocabulary, saved now and then meanwhile
        if rebuild:
            # Read under the rebuild's lock, the old index has had nothing committed since it began.
            with _previous_index(index_dir) as previous:
                indexed = previous.fingerprints().items() if previous is not None else ()
                again = (stored_article(previous.get(i)) for i, (_, o) in indexed if i not in seen and not gone(i, o))
                report.kept = apply_changes(
                    store, again, known=known, workers=workers, lock_timeout=timeout, on_lock_wait=on_lock_wait,
                    defer_upkeep=True, batch_size=REBUILD_BATCH_SIZE,
                ).added
            tidy(store, merge=False, timeout=timeout)  # the vocabulary, saved now and then meanwhile
        if prune and not (stop is not None and stop.is_set()):  # a stopped run has not read every file
            deletions = [article_id for article_id, (_, origin) in known.items() if gone(article_id, origin)]
            apply_changes(
                store, (), deletions, known=known, report=report, lock_timeout=timeout, on_lock_wait=on_lock_wait
            )
    return report


@contextmanager
def _previous_index(index_dir: Path) -> Iterator[ArticleStore | None]:
    """The index a rebuild replaces, to keep what it holds; None when there is none it can read."""
    try:
        store = ArticleStore.open(index_dir)
    except (IndexMissingError, IndexVersionError, IndexUnreadableError):
        yield None
        return
    with store:
        yield store


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
    stop: threading.Event | None = None,  # once set, no further batch is started
    # Frequent small commits: merge only past MAX_SMALL_SEGMENTS small segments, in a commit of
    # its own (unless not ``merge_when_many``: the caller merges once it has answered), and save
    # the vocabulary only now and then.
    defer_upkeep: bool = False,
    merge_when_many: bool = True,
    batch_size: int | None = None,
    on_done: Callable[[Article], None] | None = None,  # told of each article found unchanged or analyzed
) -> IngestReport:
    """Write ``articles`` (added or replaced by id) and delete ``deletions`` (ids), a commit every
    ``batch_size`` (BATCH_SIZE) articles; return the counts. An article whose content hash and
    origin ``known`` (the indexed fingerprints, looked up when not given) holds is left alone."""
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
                if on_done:
                    on_done(article)
                continue
            yield article

    timeout = LOCK_TIMEOUT if lock_timeout is None else lock_timeout
    with _analyzed(changed(), workers) as docs:
        if on_done:
            docs = _telling(docs, on_done)
        while True:
            batch, full = _next_batch(docs, batch_size)
            if not batch and not deletions:
                return report
            write_batch(
                store, batch, deletions, known=known, report=report, timeout=timeout,
                on_lock_wait=on_lock_wait, merge=not defer_upkeep, defer_vocabulary=defer_upkeep,
            )
            store.refresh()
            if defer_upkeep and merge_when_many and merge_due(store):
                merge_segments(store, timeout)
            deletions = []
            if not full or (stop is not None and stop.is_set()):
                return report


def _next_batch(docs: Iterator[tuple[Article, dict]], most: int) -> tuple[list[tuple[Article, dict]], bool]:
    """The next ``most`` documents, fewer if they reach BATCH_CHARS characters first; and whether
    it stopped at a limit (more may follow) rather than at the end of ``docs``."""
    batch, chars = [], 0
    for pair in docs:
        batch.append(pair)
        chars += sum(len(v) for v in pair[1].values() if isinstance(v, str))
        if len(batch) >= most or chars >= BATCH_CHARS:
            return batch, True
    return batch, False


def _telling(docs: Iterator[tuple[Article, dict]], on_done: Callable[[Article], None]) -> Iterator[tuple[Article, dict]]:
    for pair in docs:
        on_done(pair[0])
        yield pair


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
    # The pool reads ``articles`` in a thread of its own and queues every result: the window
    # keeps that thread IN_FLIGHT articles ahead of the writer at most.
    window = _Window(max(IN_FLIGHT, CHUNK))  # the pool sends a worker nothing before a whole chunk
    with multiprocessing.Pool(n_workers, initializer=_die_with_parent, initargs=(os.getpid(),)) as pool:
        try:
            yield window.taken(pool.imap(_analysis, window.given(articles), chunksize=CHUNK))
        finally:
            window.close()  # before the pool's end, which waits for the thread reading ``articles``


class _Window:
    """At most ``size`` articles given to the workers whose analysis the writer has not taken;
    each article is kept here meanwhile, so that its text need not come back from the worker.
    Closing it frees a waiting giver."""

    def __init__(self, size: int):
        self._free = threading.Semaphore(size)
        self._given: deque[Article] = deque()
        self._closed = False

    def given(self, articles: Iterable[Article]) -> Iterator[Article]:
        for article in articles:
            self._free.acquire()
            if self._closed:
                return
            self._given.append(article)
            yield article

    def taken(self, analyses: Iterable[dict]) -> Iterator[tuple[Article, dict]]:
        for analysis in analyses:  # in the order given
            article = self._given.popleft()
            self._free.release()
            yield article, _with_stored(analysis, article)

    def close(self) -> None:
        self._closed = True
        self._free.release()


def _die_with_parent(parent: int) -> None:
    """Make a worker die with the process that started it: a SIGKILLed command cannot stop
    its pool, whose workers would otherwise wait for work forever, pyvi's model loaded."""
    # Ctrl-C reaches the whole process group: the parent decides whether the batch is finished.
    # SIGTERM is the pool's way to end a worker: not the parent's handler, which a fork inherits.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    try:
        ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG (Linux)
    except (OSError, AttributeError, TypeError):  # TypeError: Windows' CDLL needs a name
        return
    if os.getppid() != parent:  # it died before prctl took effect
        os._exit(1)


# The stored fields that hold an article's text, as given: the writer already has them.
_TEXT_AS_GIVEN = (TITLE, SAPO, BODY)


def _analysis(article: Article) -> dict:
    """An article's document without the fields that hold its text as given (in a worker)."""
    return {k: v for k, v in to_document(article).items() if k not in _TEXT_AS_GIVEN}


def _with_stored(analysis: dict, article: Article) -> dict:
    """``to_document(article)`` again, from the worker's ``_analysis`` and the article."""
    given = {TITLE: article.title, SAPO: article.sapo, BODY: article.body}
    return analysis | {k: v for k, v in given.items() if v is not None and v != ""}  # as to_document keeps them


def write_batch(
    store: ArticleStore,
    docs: list[tuple[Article, dict]],
    deletions: Sequence[str] = (),
    *,
    known: Known,
    report: IngestReport,
    timeout: float = LOCK_TIMEOUT,
    on_lock_wait: OnLockWait | None = None,
    merge: bool = True,
    defer_vocabulary: bool = False,
) -> None:
    """Put ``docs`` and delete ``deletions`` in one writer and one commit (all or nothing);
    ``merge`` is StoreWriter.commit's, ``defer_vocabulary`` is ``vocabulary.add_batch``'s ``defer``.
    ``docs`` is emptied once written: the commit then holds their tokens, not their text too."""
    # The vocabulary counts the docs once the commit is made, still under the lock: a process
    # dying in between leaves a batch uncounted (the counts only feed suggestions), never
    # counted twice by the run that adds it again.
    batch = Vocabulary()

    def count() -> None:
        add_batch(store.path, batch, defer=defer_vocabulary)

    # An exception, Ctrl-C twice included, abandons the writer: nothing of the batch is kept.
    with store.writer(timeout=timeout, on_wait=on_lock_wait) as writer:
        deleted = writer.delete_many(deletions)
        if docs:
            store.refresh()  # under the lock: the latest commit, for near duplicates
            assign_groups([doc for _, doc in docs], store.near_duplicate_candidates)
        ids = [article.id for article, _ in docs]
        for _, doc in docs:
            writer.put(doc)
            batch.add_document(doc)
        docs.clear()
        writer.commit(merge=merge, then=count if ids else None)
    report.deleted += deleted
    for article_id in ids:
        if article_id in known:
            report.updated += 1
        else:
            report.added += 1


def merge_due(store: ArticleStore) -> bool:
    """Frequent small commits have left enough small segments to merge them now."""
    return store.small_segment_count() >= MAX_SMALL_SEGMENTS


def merge_segments(
    store: ArticleStore, timeout: float, *, optimize: bool = False, on_lock_wait: OnLockWait | None = None
) -> None:
    """Merge small segments (Whoosh's tiered policy), or all of them, in a commit of its own."""
    with store.writer(timeout=timeout, on_wait=on_lock_wait) as writer:
        writer.commit(merge=True, optimize=optimize)
    store.refresh()


def optimize(store: ArticleStore, *, timeout: float = LOCK_TIMEOUT, on_lock_wait: OnLockWait | None = None) -> int:
    """Merge every segment into one, deleted articles dropped (a query then looks each term up
    once, not once a segment); returns how many there were. Long on a big index (Whoosh re-encodes
    every posting in Python); searches go on meanwhile, on the segments as they were."""
    store.refresh()
    before = store.segment_count()
    if before > 1 or store.deleted_count():
        merge_segments(store, timeout, optimize=True, on_lock_wait=on_lock_wait)
    return before


def tidy(store: ArticleStore, *, merge: bool = True, timeout: float = 0.0) -> bool:
    """The upkeep that frequent small commits put off: save the vocabulary they added to
    and, with ``merge``, merge the small segments they left. Returns whether it wrote."""
    store.refresh()
    merging = merge and store.small_segment_count() >= MERGE_MIN_SEGMENTS
    if not merging and not has_deferred(store.path):
        return False
    with store.writer(timeout=timeout) as writer:  # leaving it without a commit cancels it
        save_deferred(store.path)
        if merging:
            writer.commit(merge=True)
    store.refresh()
    return True
