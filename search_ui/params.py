"""Search parameters read from a URL's query string, and the URLs that change them."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, replace
from typing import Mapping

from indexer.errors import QueryError
from indexer.search import (
    DEFAULT_LIMIT, DEFAULT_SORT, MAX_LIMIT, MAX_PAGE, check_count, check_dates, check_filter, check_query, check_sort,
)

__all__ = ["SORT_LABELS", "SearchParams", "parse_search_params", "parse_query_text"]

SORT_LABELS = {"relevance": "Liên quan nhất", "newest": "Mới nhất"}  # the page's names for indexer.search.SORTS

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
    sort: str = DEFAULT_SORT
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
        if p.sort != DEFAULT_SORT:
            out["sort"] = p.sort
        if p.limit != DEFAULT_LIMIT:
            out["limit"] = str(p.limit)
        if p.page != 1:
            out["page"] = str(p.page)
        return out

    def with_year(self, year: int) -> dict[str, str]:
        """The query-string arguments that narrow these parameters to one calendar year."""
        return self.args(since=dt.date(year, 1, 1), until=dt.date(year, 12, 31), page=1)


def parse_query_text(args: Mapping[str, str]) -> str:
    """The request's ``q``, checked for length."""
    return check_query(args.get("q", ""))


def parse_search_params(args: Mapping[str, str]) -> SearchParams:
    """Validate a request's arguments; raises QueryError naming the first bad one."""
    q = parse_query_text(args)
    page = check_count("page", _number(args, "page", 1), MAX_PAGE)
    limit = check_count("limit", _number(args, "limit", DEFAULT_LIMIT), MAX_LIMIT)
    sort = check_sort(args.get("sort") or DEFAULT_SORT)
    since, until = _date(args, "since"), _date(args, "until")
    check_dates(since, until)
    source, category, group = (check_filter(name, args.get(name, "")) for name in ("source", "category", "group"))
    return SearchParams(q, page, limit, source, category, since, until, sort, group)


def _number(args: Mapping[str, str], name: str, default: int) -> int:
    """The argument as a number, ``default`` when absent, 0 (refused as not positive) when not digits."""
    raw = args.get(name, "").strip()
    if not raw:
        return default
    return int(raw) if _DIGITS.fullmatch(raw) else 0


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
