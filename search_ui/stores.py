"""A pool of open stores: one per concurrent request, each current with the index on disk."""

from __future__ import annotations

import os
import threading
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Iterator

from indexer.errors import IndexUnreadableError, VnsearchError
from indexer.store import META_FILE, ArticleStore

__all__ = ["StorePool"]

Stamp = tuple[int, int, int]  # (inode, mtime_ns, size) of the index's meta file


class StorePool:
    """Hands each request a store of its own: Whoosh searchers are not shared safely between threads.

    A store is refreshed when a writer has committed since it was last used, and
    opened anew when the index was rebuilt (its meta file replaced), so a reindex
    shows up without a restart. The pool grows to the number of concurrent
    requests (the server's thread count) and no further.
    """

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._lock = threading.Lock()
        self._idle: list[tuple[ArticleStore, Stamp]] = []
        self._closed = False

    @contextmanager
    def store(self) -> Iterator[ArticleStore]:
        """A store for the duration of one request."""
        store, stamp = self._take()
        try:
            yield store
        except VnsearchError:
            self._give(store, stamp)  # a bad query or a missing article: the store is fine
            raise
        except BaseException:
            _discard(store)  # it may have met a damaged file: don't hand it out again
            raise
        self._give(store, stamp)

    def close(self) -> None:
        """Close the idle stores; stores in use are closed when they come back."""
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for store, _ in idle:
            store.close()

    def _take(self) -> tuple[ArticleStore, Stamp]:
        with self._lock:
            if self._closed:
                raise RuntimeError("the store pool is closed")
            store, stamp = self._idle.pop() if self._idle else (None, None)
        current = self._stamp()
        if store is not None:
            if stamp == current:
                try:
                    store.refresh()
                    return store, stamp
                except Exception:  # noqa: BLE001 - a file vanished mid-merge, say: reopen below
                    pass
            _discard(store)
        return self._open(), current

    def _give(self, store: ArticleStore, stamp: Stamp) -> None:
        with self._lock:
            if not self._closed:
                self._idle.append((store, stamp))
                return
        store.close()

    def _stamp(self) -> Stamp | None:
        try:
            st = os.stat(self.path / META_FILE)
        except OSError:
            return None
        return (st.st_ino, st.st_mtime_ns, st.st_size)

    def _open(self) -> ArticleStore:
        try:
            return ArticleStore.open(self.path)
        except VnsearchError:
            raise
        except Exception as e:  # noqa: BLE001 - Whoosh raises many kinds on damaged files
            raise IndexUnreadableError(
                f"The index at {self.path}/ could not be read ({type(e).__name__}) — run: "
                f"vnsearch index --rebuild --index {self.path} PATH…"
            ) from None


def _discard(store: ArticleStore) -> None:
    # Closing a store whose files were damaged or replaced can fail in turn; it is dropped either way.
    with suppress(Exception):
        store.close()
