"""`vnsearch watch`: keep the index in step with a folder of article files, by polling.

Polling rather than file-system events: it works the same on every platform and
on network and container mounts, and deciding that a file is complete needs a
second look anyway. A file is applied once two scans one interval apart see the
same size, mtime and inode, and that stat is ``settle`` seconds old: by its mtime
(a file renamed into place passes the first time it is seen twice) or, with a
clock that disagrees with the file system's, by how long the watcher has seen it
unchanged. A writer pausing longer than that can still get a file applied half,
and applied again whole once it changes. Its
articles then go through ``ingest.apply_changes`` like `vnsearch index`'s:
unchanged ones are skipped, changed ones replaced, ids the file no longer holds
deleted, and a deleted file's articles removed, every scan's changes in one
commit (or a few, past ``ingest.BATCH_SIZE`` articles).
"""

from __future__ import annotations

import errno
import os
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable

from .articles import Article, Failure, article_paths, display_path, duplicate_id, read_file
from .errors import IndexLockedError, IndexWriteError
from .ingest import LOCK_TIMEOUT, IngestReport, OnLockWait, apply_changes, tidy
from .store import ArticleStore

__all__ = ["Watcher", "stop_on_signals"]

Stat = tuple[int, int, int]  # (size, mtime_ns, inode)


@dataclass(frozen=True)
class Batch:
    """What one scan applied: the report, and the files it read and the files gone."""

    report: IngestReport
    files: tuple[str, ...]
    gone: tuple[str, ...]


class Watcher:
    """Applies the new, changed and deleted article files under ``root`` to the index at ``index_dir``."""

    def __init__(
        self,
        root: Path | str,
        index_dir: Path | str,
        *,
        interval: float = 0.5,
        settle: float = 0.0,
        follow_symlinks: bool = False,
        lock_timeout: float = LOCK_TIMEOUT,
        on_batch: Callable[[Batch], None] | None = None,
        on_failure: Callable[[Failure], None] | None = None,
        on_lock_wait: OnLockWait | None = None,
        on_retry: Callable[[Exception], None] | None = None,
    ):
        self.root = Path(os.path.abspath(root))  # ids are paths relative to it, as with `vnsearch index DIR`
        self.index_dir = Path(index_dir)
        self.interval = interval
        self.settle = settle
        self.follow_symlinks = follow_symlinks
        self.lock_timeout = lock_timeout
        self.on_batch = on_batch
        self.on_failure = on_failure
        self.on_lock_wait = on_lock_wait
        self.on_retry = on_retry
        self._seen: dict[str, Stat] = {}  # every file at the last scan
        self._since: dict[str, float] = {}  # when the scans first saw each file as it is (monotonic)
        self._applied: dict[str, Stat] = {}  # files as last applied to the index
        self._synced = False  # articles of files deleted while nobody watched are gone

    def run(self, stop: threading.Event) -> None:
        """Scan every ``interval`` seconds until ``stop`` is set; the batch under way is finished first."""
        with ArticleStore.open_or_create(self.index_dir) as store:
            try:
                while not stop.is_set():
                    self.poll(store, stop)
                    stop.wait(self.interval)
            finally:
                self._tidy(store, merge=False, timeout=self.lock_timeout)

    def poll(self, store: ArticleStore, stop: threading.Event | None = None) -> Batch | None:
        """Scan once and apply the files that are ready; None when there was nothing to do. An index
        locked past ``lock_timeout`` or unwritable (a full disk) is reported through ``on_retry``,
        and the files are left for the next scan."""
        ready, gone = self._scan()
        if not self._synced:
            gone += self._vanished(store)
        if not ready and not gone:
            self._synced = True
            if not any(self._applied.get(p) != st for p, st in self._seen.items()):
                self._tidy(store)  # no file waiting to settle either
            return None
        try:
            batch = self._apply(store, ready, gone, stop)
        except (IndexLockedError, IndexWriteError, OSError) as e:
            if self.on_retry:
                self.on_retry(e)
            return None
        self._synced = True
        if self.on_batch:
            self.on_batch(batch)
        return batch

    def _tidy(self, store: ArticleStore, merge: bool = True, timeout: float = 0.0) -> None:
        """The upkeep the batches put off so that their articles showed up sooner: merging
        their segments and saving the vocabulary (done when idle, and on the way out)."""
        try:
            tidy(store, merge=merge, timeout=timeout)
        except (IndexLockedError, IndexWriteError, OSError):
            pass  # another writer is busy, or the disk is full: next time

    def _scan(self) -> tuple[dict[str, Stat], list[str]]:
        """Files complete and not applied as they are (path → stat), and applied files now gone."""
        now = dict(self._files())
        clock, wall = time.monotonic(), time.time_ns()
        self._since = {p: self._since[p] if self._seen.get(p) == st else clock for p, st in now.items()}
        ready = {
            p: st for p, st in now.items()
            if self._seen.get(p) == st and self._applied.get(p) != st
            and (wall - st[1] >= self.settle * 1e9 or clock - self._since[p] >= self.settle)
        }
        gone = [p for p in self._applied if p not in now]
        self._seen = now
        return ready, gone

    def _files(self) -> Iterator[tuple[str, Stat]]:
        """The files ``find_files`` would list, with their stat: one ``os.scandir`` pass
        and one stat a file (a scan runs every interval, over the whole folder)."""
        index_root = os.path.abspath(self.index_dir) + os.sep
        root = os.path.abspath(self.root)
        for origin in article_paths(root) if os.path.isdir(root) else [root]:
            if origin.startswith(index_root):
                continue
            try:
                st = os.stat(origin)
            except OSError as e:
                if e.errno != errno.ELOOP:
                    continue  # gone between the listing and now
                st = os.lstat(origin)  # a symlink loop: read_file reports it, as `vnsearch index` does
            yield origin, (st.st_size, st.st_mtime_ns, st.st_ino)

    def _vanished(self, store: ArticleStore) -> list[str]:
        """Files under root the index holds articles of but which are no longer there (first scan only)."""
        store.refresh()
        root = os.path.abspath(self.root).rstrip(os.sep) + os.sep
        origins = {origin for _, origin in store.fingerprints().values() if origin.startswith(root)}
        seen = {display_path(p) for p in self._seen}
        return sorted(o for o in origins if o not in seen)

    def _apply(
        self, store: ArticleStore, ready: dict[str, Stat], gone: list[str], stop: threading.Event | None
    ) -> Batch:
        """Apply the ready files' articles and drop those of the ids they no longer hold, and of
        the files gone; a file that could not be read whole keeps its indexed articles."""
        store.refresh()
        report = IngestReport(on_failure=self.on_failure)
        articles: list[Article] = []
        origin_of: dict[str, str] = {}
        dropped: set[str] = set()  # ids that files read or gone held before
        for path in ready:
            failed = False
            origin = display_path(path)
            for item in read_file(Path(path), self.root, follow_symlinks=self.follow_symlinks):
                if isinstance(item, Failure):
                    failed = True
                    report.fail(item, origin)
                elif item.id in origin_of:
                    failed = True
                    report.fail(duplicate_id(item, origin_of[item.id]), origin)
                else:
                    origin_of[item.id] = item.location or item.origin
                    articles.append(replace(item, origin=origin))
            report.end_file()
            if not failed:  # a file that could not be read whole keeps its articles
                dropped.update(store.ids_from(origin))
        for path in gone:
            dropped.update(store.ids_from(display_path(path)))
        deletions = sorted(dropped - origin_of.keys())
        apply_changes(
            store, articles, deletions, report=report, defer_upkeep=True,
            lock_timeout=self.lock_timeout, on_lock_wait=self.on_lock_wait, stop=stop,
        )
        self._applied.update(ready)
        for path in gone:
            self._applied.pop(path, None)
        return Batch(report, tuple(ready), tuple(gone))


@contextmanager
def stop_on_signals(stop: threading.Event, on_signal: Callable[[int], None] | None = None) -> Iterator[None]:
    """Ctrl-C or SIGTERM sets ``stop`` (the batch under way is finished); a second one
    raises KeyboardInterrupt (the batch under way is abandoned: nothing of it is committed).
    ``on_signal`` hears of each signal first."""

    def handler(signum, frame):
        if on_signal is not None:
            on_signal(signum)
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
