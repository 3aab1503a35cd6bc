"""Search parameters read from a URL's query string, and the URLs that change them."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, replace
from typing import Mapping

from indexer.errors import QueryError
from indexer.search import MAX_LIMIT, MAX_QUERY_CHARS, SORTS

__all__ = ["SearchParams", "parse_search_params", "parse_query_text", "MAX_PAGE"]

DEFAULT_LIMIT = 10
MAX_PAGE = 1000  # deep pages cost a sort of offset + limit hits; nobody reads page 1001
MAX_FILTER_CHARS = 200

_DIGITS = re.compile(r"[0-9]{1,9}")  # ASCII only: str.isdigit() also accepts "²" and "٣"
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


@dataclass(frozen=True)
class SearchParams:
    """What one search asks for, validated; ``args()`` turns it back into a query string."""

    q: str = ""
    page: int = 1
    limit: int = DEFAULT_LIMIT
    source: str | None = None
    category: str | None = None
    since: dt.date | None = None
    until: dt.date | None = None
    sort: str = "relevance"
    group: str | None = None  # one group of near duplicates, expanded

    @property
    def filters(self) -> dict[str, str]:
        """The active filters, as their URL values."""
        values = {
            "source": self.source,
            "category": self.category,
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
            "group": self.group,
        }
        return {k: v for k, v in values.items() if v}

    @property
    def year(self) -> int | None:
        """The year when since/until span exactly one calendar year (a clicked year facet)."""
        if self.since and self.until and self.since.year == self.until.year:
            if (self.since.month, self.since.day, self.until.month, self.until.day) == (1, 1, 12, 31):
                return self.since.year
        return None

    def search_kwargs(self) -> dict:
        """Keyword arguments for ``indexer.search.search`` (the query aside)."""
        return {
            "page": self.page,
            "limit": self.limit,
            "source": self.source,
            "category": self.category,
            "since": self.since,
            "until": self.until,
            "sort": self.sort,
            "group": self.group,
        }

    def args(self, **changes) -> dict[str, str]:
        """The query-string arguments of these parameters with ``changes``; defaults left out."""
        p = replace(self, **changes)
        out = {"q": p.q}
        out.update(p.filters)
        if p.sort != "relevance":
            out["sort"] = p.sort
        if p.limit != DEFAULT_LIMIT:
            out["limit"] = str(p.limit)
        if p.page != 1:
            out["page"] = str(p.page)
        return out

    def with_year(self, year: int) -> dict[str, str]:
        return self.args(since=dt.date(year, 1, 1), until=dt.date(year, 12, 31), page=1)


def parse_query_text(args: Mapping[str, str]) -> str:
    q = args.get("q", "")
    if len(q) > MAX_QUERY_CHARS:
        raise QueryError("q", f"query longer than {MAX_QUERY_CHARS} characters")
    return q


def parse_search_params(args: Mapping[str, str]) -> SearchParams:
    """Validate a request's arguments; raises QueryError naming the first bad one."""
    q = parse_query_text(args)
    page = _integer(args, "page", 1, 1, MAX_PAGE)
    limit = _integer(args, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
    sort = args.get("sort") or "relevance"
    if sort not in SORTS:
        raise QueryError("sort", f"must be one of: {', '.join(SORTS)}")
    since, until = _date(args, "since"), _date(args, "until")
    if since and until and since > until:
        raise QueryError("since", "is after until")
    return SearchParams(
        q, page, limit, _filter(args, "source"), _filter(args, "category"), since, until, sort, _filter(args, "group")
    )


def _integer(args: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = args.get(name, "").strip()
    if not raw:
        return default
    value = int(raw) if _DIGITS.fullmatch(raw) else 0
    if value < low:
        raise QueryError(name, "must be a positive integer")
    if value > high:
        raise QueryError(name, f"must be at most {high}")
    return value


def _date(args: Mapping[str, str], name: str) -> dt.date | None:
    raw = args.get(name, "").strip()
    if not raw:
        return None
    try:
        if _DATE.fullmatch(raw):
            return dt.date.fromisoformat(raw)
    except ValueError:
        pass
    raise QueryError(name, "must be a date as YYYY-MM-DD")


def _filter(args: Mapping[str, str], name: str) -> str | None:
    value = args.get(name, "")
    if len(value) > MAX_FILTER_CHARS:
        raise QueryError(name, f"longer than {MAX_FILTER_CHARS} characters")
    return value or None
