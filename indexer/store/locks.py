"""The index's write lock (Whoosh's fcntl lock file) and the record of who holds it."""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
import sys
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from whoosh.filedb.filestore import FileStorage
from whoosh.util.filelock import try_for

from ..errors import IndexLockedError

# Who holds the write lock (Whoosh's MAIN_WRITELOCK, an fcntl lock the OS releases when
# its holder dies): written by each writer when it takes the lock, read to name it.
LOCK_HOLDER_FILE = "writelock.json"
WRITE_LOCK = "MAIN_WRITELOCK"  # the file Whoosh's FileIndex.lock("WRITELOCK") locks


@dataclass(frozen=True)
class LockHolder:
    """The process that took an index's write lock, as it recorded itself."""

    pid: int
    command: str
    since: dt.datetime

    def __str__(self) -> str:
        held = (dt.datetime.now() - self.since).total_seconds()
        return f"pid {self.pid} ({self.command}), holding it since {self.since:%Y-%m-%d %H:%M:%S} ({held:.0f} s)"

    @classmethod
    def record(cls, index_dir: Path) -> None:
        """Record this process as the holder (called with the lock held)."""
        argv = sys.argv or [""]
        program = "python -c" if argv[0] == "-c" else Path(argv[0]).name or "python"
        if program == "__main__.py":  # python -m package
            program = f"python -m {Path(argv[0]).parent.name}"
        command = " ".join([program, *argv[1:]])
        data = {"pid": os.getpid(), "command": command[:300], "since": dt.datetime.now().isoformat(timespec="seconds")}
        tmp = Path(index_dir) / (LOCK_HOLDER_FILE + ".tmp")
        tmp.write_text(json.dumps(data, ensure_ascii=False) + "\n", "utf-8")
        os.replace(tmp, Path(index_dir) / LOCK_HOLDER_FILE)

    @classmethod
    def read(cls, index_dir: Path) -> "LockHolder | None":
        """The last recorded holder, or None when there is no record or its process is gone."""
        try:
            data = json.loads((Path(index_dir) / LOCK_HOLDER_FILE).read_text("utf-8"))
            holder = cls(int(data["pid"]), str(data["command"]), dt.datetime.fromisoformat(data["since"]))
        except (OSError, ValueError, KeyError, TypeError):
            return None
        return holder if _alive(holder.pid) else None  # a dead process's record: the lock is not its


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # another user's
    return True


def _locked_error(path: Path, timeout: float) -> IndexLockedError:
    holder = LockHolder.read(path)
    who = f"another writer: {holder}" if holder else "another writer (it left no record of itself)"
    return IndexLockedError(
        f"The index at {path}/ is locked by {who}; waited {timeout:g} s — "
        "try again when it has finished, or stop it",
        holder=holder,
    )


def _acquired(lock, path: Path, timeout: float, on_wait=None) -> None:
    """Take ``lock``, calling ``on_wait(holder)`` once if it is held, waiting up to ``timeout`` seconds."""
    if lock.acquire():
        return
    if on_wait:
        on_wait(LockHolder.read(path))
    if not try_for(lock.acquire, timeout=timeout, delay=0.1):
        raise _locked_error(path, timeout)


@contextmanager
def _write_locked(index_dir: Path, shown: Path, timeout: float) -> Iterator[None]:
    """Hold the write lock of the index in ``index_dir``, if there is one, waiting up to ``timeout`` seconds.

    Whoosh's lock file, taken without opening the index: a damaged index can be rebuilt too.
    """
    if not index_dir.is_dir() or not any(index_dir.iterdir()):
        yield
        return
    lock = FileStorage(str(index_dir)).lock(WRITE_LOCK)
    if not try_for(lock.acquire, timeout=timeout, delay=0.1):
        raise _locked_error(shown, timeout)
    try:
        with suppress(OSError):  # only a courtesy to the writers it keeps waiting
            LockHolder.record(index_dir)
        yield
    finally:
        lock.release()


@contextmanager
def _creation_locked(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on the directory ``path`` itself (it must exist) while an index is
    created in it: processes that would create one there at once (serving workers taking their
    first articles) take turns, and the later ones find the index made."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # released when fd closes
        yield
    finally:
        os.close(fd)
