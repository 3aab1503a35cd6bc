"""The app's open stores: a pool with one store per concurrent request, each current with the index on disk."""

from __future__ import annotations

import threading
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Iterator

from flask import Flask, current_app

from indexer.errors import IndexUnreadableError, VnsearchError
from indexer.store import ArticleStore

__all__ = ["StorePool", "open_store", "store_pool"]

EXTENSION = "vnsearch"  # the pool's key in app.extensions


class StorePool:
    """A store of its own for each request (Whoosh searchers are not thread-safe), refreshed as it is
    taken (``ArticleStore.refresh``), so that a commit or a rebuild shows without a restart."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._lock = threading.Lock()
        self._idle: list[ArticleStore] = []
        self._closed = False

    @contextmanager
    def store(self) -> Iterator[ArticleStore]:
        """A store for the duration of one request."""
        store = self._take()
        try:
            yield store
        except VnsearchError:
            self._give(store)  # a bad query or a missing article: the store is fine
            raise
        except BaseException:
            _discard(store)  # it may have met a damaged file: don't hand it out again
            raise
        self._give(store)

    def close(self) -> None:
        """Close the idle stores; stores in use are closed when they come back."""
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for store in idle:
            store.close()

    def _take(self) -> ArticleStore:
        with self._lock:
            if self._closed:
                raise RuntimeError("the store pool is closed")
            store = self._idle.pop() if self._idle else None
        if store is not None:
            try:
                store.refresh()
                return store
            except Exception:  # noqa: BLE001 - the index is gone or a file vanished mid-merge: open anew
                _discard(store)
        return self._open()

    def _give(self, store: ArticleStore) -> None:
        with self._lock:
            if not self._closed:
                self._idle.append(store)
                return
        store.close()

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


def store_pool(app: Flask) -> StorePool:
    """The app's pool of stores (made by create_app); close it when the app stops serving."""
    return app.extensions[EXTENSION]


@contextmanager
def open_store() -> Iterator[ArticleStore]:
    """A store of the current app's pool, current with the index on disk, for one request."""
    with store_pool(current_app).store() as store:
        yield store


def _discard(store: ArticleStore) -> None:
    # Closing a store whose files were damaged or replaced can fail in turn; it is dropped either way.
    with suppress(Exception):
        store.close()
