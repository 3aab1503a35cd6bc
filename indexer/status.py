"""What an index holds and when it last changed, as plain data: `vnsearch stats --json` and GET /api/stats."""

from __future__ import annotations

import datetime as dt

from .store import FORMAT_VERSION, ArticleStore

__all__ = ["index_health", "index_stats", "last_commit"]

# Each commit writes a new table of contents, named for its generation (docs/index-format.md).
_TOC_PATTERN = "_MAIN_*.toc"


def last_commit(store: ArticleStore) -> dt.datetime | None:
    """When the index's latest commit was written (UTC), None when no table of contents can be read."""
    times = []
    for toc in store.path.glob(_TOC_PATTERN):
        try:
            times.append(toc.stat().st_mtime)
        except OSError:  # a merge removed it since the listing
            continue
    return dt.datetime.fromtimestamp(max(times), dt.UTC) if times else None


def index_stats(store: ArticleStore) -> dict:
    """Articles, sources, the published date range, size, format and last commit, ready for JSON."""
    stats = store.stats()
    for key in ("first_published", "last_published"):
        stats[key] = stats[key].isoformat() if stats[key] else None
    committed = last_commit(store)
    stats["format"] = FORMAT_VERSION
    stats["last_commit"] = _iso(committed) if committed else None
    return stats


def index_health(store: ArticleStore) -> dict:
    """The cheap part of the stats, for a health check: articles, format, last commit."""
    committed = last_commit(store)
    return {"status": "ok", "articles": len(store), "format": FORMAT_VERSION,
            "last_commit": _iso(committed) if committed else None}


def _iso(moment: dt.datetime) -> str:
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")
