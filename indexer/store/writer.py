"""StoreWriter: one Whoosh writer under the index's lock, and write errors made IndexWriteError."""

from __future__ import annotations

import functools
from contextlib import suppress
from pathlib import Path
from typing import Callable, Iterable

from whoosh.writing import MERGE_SMALL

from ..errors import IndexWriteError
from ..fields import ID

# A merge holds every posting of the segments it merges in memory (about as much as committing
# a batch of as many articles): Whoosh's policy never merges past this many articles in all.
MERGE_MAX_DOCS = 8000


def _bounded_merge(writer, segments: list) -> list:
    """Whoosh's MERGE_SMALL among the smallest segments that hold MERGE_MAX_DOCS articles in all;
    returns the segments kept as they are, in their order."""
    ordered = sorted(segments, key=lambda s: s.doc_count_all())
    fit, total = 0, 0
    for segment in ordered:
        total += segment.doc_count_all()
        if total > MERGE_MAX_DOCS:
            break
        fit += 1
    kept = {id(s) for s in MERGE_SMALL(writer, ordered[:fit])} | {id(s) for s in ordered[fit:]}
    return [s for s in segments if id(s) in kept]


def _writes(method):
    """Turn an OSError while writing (a full disk, a read-only directory) into IndexWriteError;
    a writer that failed is abandoned, its lock released, and the index keeps its last commit."""
    # Whoosh renames a new table of contents into place only once every file is written.

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except OSError as e:
            if isinstance(self, StoreWriter):
                self.abandon()
            path = Path(args[0] if args else kwargs["path"]) if isinstance(self, type) else self.path
            raise IndexWriteError(
                f"Cannot write the index at {path}/: {e.strerror or e} — it keeps its last commit; "
                "free some space or make the directory writable, then run the command again",
                e.strerror or "",
            ) from e

    return wrapper


class StoreWriter:
    """Adds and deletes articles in one Whoosh writer; nothing is visible before commit().
    In a with block, an exception abandons it (the lock released); leaving without commit() cancels it."""

    def __init__(self, writer, lock):
        self._w = writer
        self._lock = lock  # the index's write lock, released once this writer is done

    def __enter__(self) -> "StoreWriter":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is not None:
            self.abandon()
        elif self._lock is not None:
            self.cancel()

    @_writes
    def put(self, doc: dict) -> None:
        """Add or replace the article with ``doc["id"]``."""
        self._w.update_document(**doc)

    def delete(self, article_id: str) -> int:
        """Delete the article with this id; returns how many documents went (0 or 1)."""
        return self._w.delete_by_term(ID, article_id)

    def delete_many(self, article_ids: Iterable[str]) -> int:
        """Delete several articles with one searcher; returns how many documents went."""
        article_ids = list(article_ids)
        if not article_ids:
            return 0
        with self._w.searcher() as s:
            return sum(self._w.delete_by_term(ID, i, searcher=s) for i in article_ids)

    @_writes
    def commit(self, merge: bool = True, then: Callable[[], None] | None = None, optimize: bool = False) -> None:
        """Make the changes visible. ``merge``: Whoosh also merges small segments (its tiered policy,
        up to MERGE_MAX_DOCS articles a merge); ``optimize``: every segment into one. ``then`` runs once
        the commit is on disk, before the lock is released (to update files kept beside the index)."""
        try:
            if merge and not optimize:
                self._w.commit(mergetype=_bounded_merge)
            else:
                self._w.commit(merge=merge, optimize=optimize)
            if then is not None:
                then()
        finally:
            self._release()

    def cancel(self) -> None:
        try:
            self._w.cancel()
        finally:
            self._release()

    def abandon(self) -> None:
        """Give up after a failed or interrupted write (even inside commit()): drop what was added, release the lock."""
        try:
            with suppress(Exception):  # cancelling can meet the same full disk, or a finished writer
                self._w.cancel()
        finally:
            self._release()

    def _release(self) -> None:
        lock, self._lock = self._lock, None
        if lock is not None:
            lock.release()

    @property
    def path(self) -> Path:
        return Path(self._w.storage.folder)
