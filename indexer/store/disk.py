"""The index directory: its format marker, telling a replaced index, and swapping in a rebuilt one."""

from __future__ import annotations

import ctypes
import errno
import os
import shutil
from pathlib import Path

from ..errors import IndexMissingError
from .locks import _alive

# The version of the on-disk format (docs/index-format.md): an index of another version is refused.
FORMAT_VERSION = 7
META_FILE = "vnsearch.json"
# A rebuild writes its new index to ".<name>.rebuild-<pid>" beside the old one, then swaps
# the two; hidden, so that a scan of the folder holding the index never reads it as articles.
REBUILD_PREFIX = ".{}.rebuild-"
ASIDE_PREFIX = ".{}.old-"  # the old index, where renameat2 cannot swap two directories


def _identity(index_dir: Path) -> tuple[int, int] | None:
    """Which meta file the index directory holds now (None: none), to tell a replaced index."""
    try:
        st = os.stat(Path(index_dir) / META_FILE)
    except OSError:
        return None
    return (st.st_dev, st.st_ino)


def _refuse_foreign(path: Path) -> None:
    """Refuse a path where no vnsearch index may be written: a file, a folder of other things."""
    if not path.exists():
        return
    if not path.is_dir():
        raise IndexMissingError(f"{path} exists and is not a directory")
    if any(path.iterdir()) and not (path / META_FILE).exists():
        raise IndexMissingError(f"{path}/ is not empty and holds no vnsearch index: refusing to overwrite it")


def _remove_stale_builds(index_dir: Path) -> None:
    """Remove what rebuilds killed before they could clean up (SIGKILL, a power cut) left beside the index."""
    prefixes = (REBUILD_PREFIX.format(index_dir.name), ASIDE_PREFIX.format(index_dir.name))
    for entry in index_dir.parent.iterdir():
        for prefix in prefixes:
            pid = entry.name[len(prefix) :] if entry.name.startswith(prefix) else ""
            if pid.isdigit() and not _alive(int(pid)) and not entry.is_symlink() and entry.is_dir():
                shutil.rmtree(entry, ignore_errors=True)


def _swap(new: Path, index_dir: Path) -> None:
    """Put the directory ``new`` in the place of ``index_dir``; the old index ends up at ``new`` or is removed."""
    # In one step where Linux can swap two directories (renameat2 RENAME_EXCHANGE): a reader
    # finds either index there, never none. Elsewhere the old one is renamed aside first and
    # back again if the new one cannot follow.
    if not index_dir.exists():
        os.rename(new, index_dir)
        return
    if _exchange(new, index_dir):
        return
    aside = index_dir.with_name(f"{ASIDE_PREFIX.format(index_dir.name)}{os.getpid()}")
    os.rename(index_dir, aside)
    try:
        os.rename(new, index_dir)
    except BaseException:
        os.rename(aside, index_dir)
        raise
    shutil.rmtree(aside, ignore_errors=True)


_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically; False where the C library or the file system cannot."""
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError, TypeError):  # TypeError: Windows' CDLL needs a library's name
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    if renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
        return False
    raise OSError(err, os.strerror(err), str(b))
