"""Search: one function the CLI and the web app share, returning plain data; its parameters checked once."""

from __future__ import annotations

import datetime as dt
import html
import time
from dataclasses import asdict, dataclass, field
from typing import Sequence

from .fields import article_text, parse_stored_time, time_number
from .errors import ArticleNotFoundError, QueryError
from . import spelling
from .limits import (
    DEFAULT_LIMIT, DEFAULT_SORT, HIT_FIELDS, MAX_FILTER_CHARS, MAX_LIMIT, MAX_OFFSET, MAX_PAGE, MAX_QUERY_CHARS, SORTS,
)  # fmt: skip
from .query import ParsedQuery, parse_query
from .snippets import highlight, make_snippet
from .store import ArticleStore, Filters, StoredResults
from .wordlists import WordLists

__all__ = [
    "ArticleView", "SearchHit", "SearchPage", "get_article", "search", "snippet_to_text",
    "SORTS", "DEFAULT_SORT", "DEFAULT_LIMIT", "MAX_QUERY_CHARS", "MAX_LIMIT", "MAX_PAGE", "MAX_FILTER_CHARS",
    "HIT_FIELDS", "MAX_OFFSET", "check_query", "check_count", "check_sort", "check_dates", "check_filter",
]  # fmt: skip


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
    """Refuse a range (dates or date-times) that ends before it starts (QueryError naming ``since``)."""
    if since and until and time_number(since) > time_number(until):
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
    published: dt.date | None  # a date-time (Vietnam time) when the article gave one
    author: str | None
    score: float
    snippet: str  # HTML: text escaped, matches in <mark>
    similar: int = 0  # near duplicates of this article that matched too, collapsed into it
    group: str | None = None  # its group of near duplicates, when it has one (search's ``group``)
    extra: dict = field(default_factory=dict)  # the HIT_FIELDS asked for, by name

    def to_json(self) -> dict:
        d = asdict(self)
        del d["extra"]
        d["published"] = self.published.isoformat() if self.published else None
        d["score"] = round(self.score, 4)
        return d | self.extra


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
    offset: int = 0  # hits skipped before these
    corrected: str | None = None  # what was searched instead of the query (Telex decoded, a slip corrected)

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.limit))

    def to_json(self) -> dict:
        return {
            "query": self.query,
            "total": self.total,
            "page": self.page,
            "offset": self.offset,
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
    source: str | Sequence[str] | None = None,
    category: str | Sequence[str] | None = None,
    since: dt.date | None = None,
    until: dt.date | None = None,
    sort: str = DEFAULT_SORT,
    group: str | None = None,
    collapse: bool = True,
    offset: int | None = None,
    fields: Sequence[str] = (),
    word_lists: WordLists | None = None,
    as_typed: bool = False,
) -> SearchPage:
    """Rank the articles matching ``query``; raises QueryError naming a bad parameter.

    A blank query lists the articles the filters let through, newest first. ``source`` and
    ``category`` match any of their values, whatever the case and diacritics; ``since``/``until``
    are dates or date-times. Near duplicates (the same story from several outlets) show as one
    hit that counts the others, unless ``collapse`` is False; ``group`` shows one group only.
    ``offset`` (hits to skip) replaces ``page``; ``fields`` (of HIT_FIELDS) adds them to each hit.
    ``word_lists``: the abbreviations and stopwords (default: the packaged ones).
    Telex is decoded and slips corrected (``corrected`` says so) unless ``as_typed``.
    """
    started = time.perf_counter()
    check_query(query)
    check_count("page", page)
    check_count("limit", limit, MAX_LIMIT)
    check_sort(sort)
    check_dates(since, until)
    if offset is not None and not 0 <= offset <= MAX_OFFSET:
        raise QueryError("offset", f"must be an integer from 0 to {MAX_OFFSET}")
    if unknown := [f for f in fields if f not in HIT_FIELDS]:
        raise QueryError("fields", f"unknown field {unknown[0]!r}: one of {', '.join(HIT_FIELDS)}")

    placeholder = not query.strip()
    vocabulary = store.vocabulary()
    filters = Filters(
        source=_values(source), category=_values(category), since=since, until=until, group=group or None
    )
    skip = (page - 1) * limit if offset is None else offset
    def run(p: ParsedQuery, together: bool = False) -> StoredResults:
        return store.search(
            p, filters, skip, limit, newest_first=sort == "newest", collapse=collapse, everything=placeholder,
            together=together,
        )

    parsed, found, corrected = spelling.searched(
        query, vocabulary, run, as_typed or placeholder, word_lists, store.side_by_side, len(store),
        lambda p: run(p, together=True),
    )
    wanted = parsed.wanted
    hits = tuple(_hit(s.fields, s.score, wanted, s.similar, fields) for s in found.hits)
    suggestion = None
    if not placeholder and (not parsed.accented or parsed.loose or not found.total or not found.matched_all):
        suggestion = vocabulary.suggest(parsed)
    took = (time.perf_counter() - started) * 1000
    if suggestion == corrected:
        suggestion = None
    return SearchPage(
        query, found.total, skip // limit + 1, limit, hits, found.matched_all, took, found.facets, suggestion, skip,
        corrected,
    )


def _values(value: str | Sequence[str] | None) -> tuple[str, ...]:
    """A filter's values, one or several, empty ones left out."""
    values = (value,) if isinstance(value, str) else tuple(value or ())
    return tuple(v for v in values if v)


def _hit(
    fields: dict, score: float, wanted: frozenset[tuple[str, str]], similar: int = 0, extra: Sequence[str] = ()
) -> SearchHit:
    text = article_text(fields.get("sapo"), fields.get("body", ""))
    date = fields.get("date")
    return SearchHit(
        id=fields["id"],
        title=fields.get("title") or fields["id"],
        url=fields.get("url"),
        source=fields.get("source"),
        category=fields.get("category"),
        published=parse_stored_time(date),
        author=fields.get("author"),
        score=score,
        snippet=make_snippet(text, wanted),
        similar=similar,
        group=fields.get("dup") if similar else None,
        extra={name: fields.get(name) for name in extra},
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


def get_article(
    store: ArticleStore, article_id: str, query: str = "", related: int = 5, word_lists: WordLists | None = None
) -> ArticleView:
    """The article with ``article_id``, ``query``'s matches marked; raises ArticleNotFoundError."""
    fields = store.get(article_id)
    if fields is None:
        raise ArticleNotFoundError(f"No article with id {article_id!r}")
    wanted = parse_query(query[:MAX_QUERY_CHARS], word_lists).wanted
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
