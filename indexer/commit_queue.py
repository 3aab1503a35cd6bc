"""Group commit for the HTTP ingest: changes from concurrent requests written together.

One caller leads each group: it gathers what the others submit for a moment, then writes
the group with one writer and one commit, so that many small requests cost one commit.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

from .articles import Article
from .errors import VnsearchError
from .ingest import LOCK_TIMEOUT, apply_changes, merge_due, merge_segments
from .store import ArticleStore

__all__ = ["CommitQueue"]


@dataclass
class _Work:
    """One caller's changes, and what became of them once its group is written."""

    puts: list[Article]
    deletions: list[str]
    done: bool = False
    error: BaseException | None = None
    outcome: dict[str, str] = field(default_factory=dict)


class CommitQueue:
    """Changes from concurrent callers (HTTP requests), written together: a group gathers for
    up to ``delay`` seconds (or ``max_articles``), then goes in one commit. Past
    ``ingest.MAX_SMALL_SEGMENTS`` small segments, a merge follows once the group is answered."""

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
        # The caller that finds no commit under way leads the next group, analysis included:
        # one group at a time, as pyvi's tagger is not thread-safe. A merge under way counts
        # as a commit under way.
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
                merge_segments(store, self.lock_timeout)
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
        """Write the group as if its changes had been applied one by one in arrival order, and
        answer each caller from that order: the answers agree with what the index then holds."""
        ids = {a.id for w in group for a in w.puts} | {i for w in group for i in w.deletions}
        store = ArticleStore.open_or_create(self.index_dir)
        with store:
            known = store.fingerprints(ids)
            state: dict[str, Article | tuple[str, str] | None] = dict(known)  # id → its latest change
            for w in group:
                for i in w.deletions:
                    w.outcome[i] = "missing" if state.get(i) is None else "deleted"
                    state[i] = None
                for a in w.puts:
                    now = state.get(a.id)
                    if now is None:
                        w.outcome[a.id] = "added"
                    elif _fingerprint(now) == (a.content_hash(), a.origin):
                        w.outcome[a.id] = "unchanged"
                    else:
                        w.outcome[a.id] = "updated"
                    state[a.id] = a
            puts = [a for a in state.values() if isinstance(a, Article)]
            deletions = [i for i, a in state.items() if a is None and i in known]
            apply_changes(
                store, puts, deletions, known=known, lock_timeout=self.lock_timeout, workers=1,
                defer_upkeep=True, merge_when_many=False,
            )
            return merge_due(store)


def _fingerprint(change: Article | tuple[str, str]) -> tuple[str, str]:
    """(content hash, origin) of an article, or the indexed fingerprint it stands for."""
    return (change.content_hash(), change.origin) if isinstance(change, Article) else change
