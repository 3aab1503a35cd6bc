"""GET /health, /api/stats and /api/version: the server's state as JSON, naming no path on the server."""

from __future__ import annotations

import platform
from importlib.metadata import PackageNotFoundError, version

from flask import Blueprint, current_app

from indexer.errors import IndexMissingError, IndexUnreadableError, IndexVersionError
from indexer.status import index_health, index_stats
from indexer.store import FORMAT_VERSION

from ..errors import INDEX_TROUBLE
from ..stores import open_store

bp = Blueprint("status", __name__)


@bp.get("/health")
def health():
    """200 with the index's articles, format and last commit when it opens; 503 and the reason when not."""
    try:
        with open_store() as store:
            return index_health(store)
    except (IndexMissingError, IndexVersionError, IndexUnreadableError) as error:
        current_app.logger.warning("health: %s", str(error))
        what, command = next(v for kind, v in INDEX_TROUBLE.items() if isinstance(error, kind))
        return {"status": "unavailable", "reason": f"{what} — run: {command}"}, 503


@bp.get("/api/stats")
def stats():
    """What `vnsearch stats --json` prints, less the index's path."""
    with open_store() as store:
        return index_stats(store)


@bp.get("/api/version")
def versions():
    """vnsearch's version, the index format it reads, and its search and segmentation libraries' versions."""
    return {
        "vnsearch": _version("vnsearch"),
        "index_format": FORMAT_VERSION,
        "whoosh": _version("whoosh-reloaded"),
        "pyvi": _version("pyvi"),
        "python": platform.python_version(),
    }


def _version(package: str) -> str | None:
    try:
        return version(package)
    except PackageNotFoundError:
        return None
