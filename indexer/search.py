"""Search: one function the CLI and the web app share, returning plain data; its parameters checked once."""

from __future__ import annotations

import datetime as dt
import html
import time
from dataclasses import asdict, dataclass

from .fields import article_text
from .errors import ArticleNotFoundError, QueryError
from . import spelling
from .query import parse_query
from .snippets import highlight, make_snippet
from .store import ArticleStore, Filters

__all__ = [
    "ArticleView", "SearchHit", "SearchPage", "get_article", "search", "snippet_to_text",
    "SORTS", "DEFAULT_SORT", "DEFAULT_LIMIT", "MAX_QUERY_CHARS", "MAX_LIMIT", "MAX_PAGE", "MAX_FILTER_CHARS",
    "check_query", "check_count", "check_sort", "check_dates", "check_filter",
]  # fmt: skip

# The search parameters' defaults and limits, declared once for the library, the CLI, the page and the API.
SORTS = ("relevance", "newest")
DEFAULT_SORT = "relevance"
DEFAULT_LIMIT = 10
MAX_QUERY_CHARS = 500
MAX_LIMIT = 100
MAX_PAGE = 1000  # the page and API's: a deep page sorts offset + limit hits, and nobody reads page 1001
MAX_FILTER_CHARS = 200  # the page and API's, for source, category and group


def check_query(query: str) -> str:
    """``query``, unless it is longer than MAX_QUERY_CHARS (QueryError naming ``q``)."""
    if len(query) > MAX_QUERY_CHARS:
        raise QueryError("q", f"query longer than {MAX_QUERY_CHARS} characters")
    return query


def check_count(name: str, value: int, most: int | None = None) -> int:
    """``value`` when it is a positive integer no larger than ``most``; else QueryError naming ``name``."""
    if value < 1:
        raise QueryError(name, "must be a positive integer")
    if most is not None and value > most:
        raise QueryError(name, f"must be at most {most}")
    return value


def check_sort(sort: str) -> str:
    """``sort`` when it is one of SORTS, else QueryError naming ``sort``."""
    if sort not in SORTS:
        raise QueryError("sort", f"must be one of: {', '.join(SORTS)}")
    return sort


def check_dates(since: dt.date | None, until: dt.date | None) -> None:
    """Refuse a date range that ends before it starts (QueryError naming ``since``)."""
    if since and until and since > until:
        raise QueryError("since", "is after until")


def check_filter(name: str, value: str) -> str | None:
    """A filter's value (None when empty), unless longer than MAX_FILTER_CHARS."""
    if len(value) > MAX_FILTER_CHARS:
        raise QueryError(name, f"longer than {MAX_FILTER_CHARS} characters")
    return value or None


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
    similar: int = 0  # near duplicates of this article that matched too, collapsed into it
    group: str | None = None  # its group of near duplicates, when it has one (search's ``group``)

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
    facets: dict[str, dict[str, int]]  # "source" / "category" / "year" → value → count
    suggestion: str | None = None  # "did you mean": the query with diacritics, or a typo fixed
    corrected: str | None = None  # what was searched instead of the query (Telex decoded, a slip corrected)

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
            "suggestion": self.suggestion,
            "corrected": self.corrected,
            "hits": [h.to_json() for h in self.hits],
            "facets": self.facets,
        }


def search(
    store: ArticleStore,
    query: str,
    *,
    page: int = 1,
    limit: int = DEFAULT_LIMIT,
    source: str | None = None,
    category: str | None = None,
    since: dt.date | None = None,
    until: dt.date | None = None,
    sort: str = DEFAULT_SORT,
    group: str | None = None,
    collapse: bool = True,
    as_typed: bool = False,
) -> SearchPage:
    """Rank the articles matching ``query``; raises QueryError naming a bad parameter.

    Near duplicates (the same story from several outlets) show as one hit that
    counts the others, unless ``collapse`` is False; ``group`` shows one group only.
    Telex is decoded and slips corrected (``corrected`` says so) unless ``as_typed``.
    """
    started = time.perf_counter()
    check_query(query)
    check_count("page", page)
    check_count("limit", limit, MAX_LIMIT)
    check_sort(sort)
    check_dates(since, until)

    vocabulary = store.vocabulary()
    filters = Filters(source=source or None, category=category or None, since=since, until=until, group=group or None)
    parsed, found, corrected = spelling.searched(query, vocabulary, lambda p: store.search(
        p, filters, (page - 1) * limit, limit, newest_first=sort == "newest", collapse=collapse
    ), as_typed)
    wanted = parsed.wanted
    hits = tuple(_hit(s.fields, s.score, wanted, s.similar) for s in found.hits)
    suggestion = None
    if not parsed.accented or parsed.loose or not found.total or not found.matched_all:
        suggestion = vocabulary.suggest(parsed)
    took = (time.perf_counter() - started) * 1000
    if suggestion == corrected:
        suggestion = None
    return SearchPage(query, found.total, page, limit, hits, found.matched_all, took, found.facets, suggestion, corrected)


def _hit(fields: dict, score: float, wanted: frozenset[tuple[str, str]], similar: int = 0) -> SearchHit:
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
        similar=similar,
        group=fields.get("dup") if similar else None,
    )


@dataclass(frozen=True)
class ArticleView:
    """One whole article, its text as HTML paragraphs with the query's matches marked."""

    id: str
    title: str
    sapo: str | None
    body: str
    url: str | None
    source: str | None
    category: str | None
    published: dt.date | None
    author: str | None
    title_html: str
    sapo_html: str | None
    paragraphs_html: tuple[str, ...]
    related: tuple[SearchHit, ...]

    def to_json(self) -> dict:
        return {
            "id": self.id,
            "title": self.title,
            "sapo": self.sapo,
            "body": self.body,
            "url": self.url,
            "source": self.source,
            "category": self.category,
            "published": self.published.isoformat() if self.published else None,
            "author": self.author,
            "related": [h.to_json() for h in self.related],
        }


def get_article(store: ArticleStore, article_id: str, query: str = "", related: int = 5) -> ArticleView:
    """The article with ``article_id``, ``query``'s matches marked; raises ArticleNotFoundError."""
    fields = store.get(article_id)
    if fields is None:
        raise ArticleNotFoundError(f"No article with id {article_id!r}")
    wanted = parse_query(query[:MAX_QUERY_CHARS]).wanted
    hit = _hit(fields, 0.0, wanted)
    sapo, body = fields.get("sapo"), fields.get("body", "")
    return ArticleView(
        id=hit.id,
        title=hit.title,
        sapo=sapo,
        body=body,
        url=hit.url,
        source=hit.source,
        category=hit.category,
        published=hit.published,
        author=hit.author,
        title_html=highlight(hit.title, wanted),
        sapo_html=highlight(sapo, wanted) if sapo else None,
        paragraphs_html=tuple(highlight(p, wanted) for p in body.split("\n") if p.strip()),
        related=tuple(_hit(s.fields, s.score, frozenset()) for s in store.related(article_id, related)),
    )


def snippet_to_text(snippet: str, before: str, after: str) -> str:
    """A snippet's HTML as plain text, matches wrapped in ``before``/``after``."""
    return html.unescape(snippet.replace("<mark>", before).replace("</mark>", after))
