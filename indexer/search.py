"""Search: one function the CLI and the web app share, returning plain data."""

from __future__ import annotations

import datetime as dt
import html
import time
from dataclasses import asdict, dataclass

from .documents import article_text
from .errors import QueryError
from .query import parse_query
from .snippets import make_snippet
from .store import ArticleStore, Filters

__all__ = ["SearchHit", "SearchPage", "search", "SORTS", "MAX_QUERY_CHARS", "MAX_LIMIT"]

SORTS = ("relevance", "newest")
MAX_QUERY_CHARS = 500
MAX_LIMIT = 100


@dataclass(frozen=True)
class SearchHit:
    """One result: what a results list shows."""

    id: str
    title: str
    url: str | None
    source: str | None
    category: str | None
    published: dt.date | None
    author: str | None
    score: float
    snippet: str  # HTML: text escaped, matches in <mark>

    def to_json(self) -> dict:
        d = asdict(self)
        d["published"] = self.published.isoformat() if self.published else None
        d["score"] = round(self.score, 4)
        return d


@dataclass(frozen=True)
class SearchPage:
    """One page of results for a query."""

    query: str
    total: int
    page: int
    limit: int
    hits: tuple[SearchHit, ...]
    matched_all: bool  # False when no article had every word and any word was accepted
    took_ms: float

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.limit))

    def to_json(self) -> dict:
        return {
            "query": self.query,
            "total": self.total,
            "page": self.page,
            "matched_all": self.matched_all,
            "took_ms": round(self.took_ms, 1),
            "hits": [h.to_json() for h in self.hits],
        }


def search(
    store: ArticleStore,
    query: str,
    *,
    page: int = 1,
    limit: int = 10,
    source: str | None = None,
    category: str | None = None,
    since: dt.date | None = None,
    until: dt.date | None = None,
    sort: str = "relevance",
) -> SearchPage:
    """Rank the articles matching ``query``; raises QueryError naming a bad parameter."""
    started = time.perf_counter()
    if len(query) > MAX_QUERY_CHARS:
        raise QueryError("q", f"query longer than {MAX_QUERY_CHARS} characters")
    if page < 1:
        raise QueryError("page", "must be a positive integer")
    if not 1 <= limit <= MAX_LIMIT:
        raise QueryError("limit", f"must be between 1 and {MAX_LIMIT}")
    if sort not in SORTS:
        raise QueryError("sort", f"must be one of: {', '.join(SORTS)}")
    if since and until and since > until:
        raise QueryError("since", "is after until")

    parsed = parse_query(query)
    filters = Filters(source=source or None, category=category or None, since=since, until=until)
    total, matched_all, stored = store.search(
        parsed, filters, (page - 1) * limit, limit, newest_first=sort == "newest"
    )
    wanted = parsed.wanted
    hits = tuple(_hit(s.fields, s.score, wanted) for s in stored)
    took = (time.perf_counter() - started) * 1000
    return SearchPage(query, total, page, limit, hits, matched_all, took)


def _hit(fields: dict, score: float, wanted: frozenset[tuple[str, str]]) -> SearchHit:
    text = article_text(fields.get("sapo"), fields.get("body", ""))
    date = fields.get("date")
    return SearchHit(
        id=fields["id"],
        title=fields.get("title") or fields["id"],
        url=fields.get("url"),
        source=fields.get("source"),
        category=fields.get("category"),
        published=dt.date.fromisoformat(date) if date else None,
        author=fields.get("author"),
        score=score,
        snippet=make_snippet(text, wanted),
    )


def snippet_to_text(snippet: str, before: str, after: str) -> str:
    """A snippet's HTML as plain text, matches wrapped in ``before``/``after``."""
    return html.unescape(snippet.replace("<mark>", before).replace("</mark>", after))
