"""vnsearch's library: index Vietnamese news articles and search them.

Names load on first use, so that ``import indexer`` loads neither pyvi nor Whoosh. ``search`` is
the module (call ``indexer.search.search``): a function of that name would clash with it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

__all__ = [
    "ArticleStore", "apply_changes", "get_article", "index_paths", "search",
    "VnsearchError", "ArticleError", "ArticleNotFoundError", "IndexLockedError", "IndexMissingError",
    "IndexUnreadableError", "IndexVersionError", "IndexWriteError", "QueryError",
]  # fmt: skip

_HOMES = {
    "ArticleStore": "store",
    "apply_changes": "ingest",
    "index_paths": "ingest",
    "get_article": "search",
    **{name: "errors" for name in __all__ if name.endswith("Error")},
}

if TYPE_CHECKING:
    from . import search
    from .errors import (
        ArticleError, ArticleNotFoundError, IndexLockedError, IndexMissingError, IndexUnreadableError,
        IndexVersionError, IndexWriteError, QueryError, VnsearchError,
    )
    from .ingest import apply_changes, index_paths
    from .search import get_article
    from .store import ArticleStore


def __getattr__(name: str):
    if name == "search":
        return importlib.import_module(".search", __name__)  # the import sets the attribute
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{home}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
