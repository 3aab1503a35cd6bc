"""Search parameters read from a URL's query string, and the URLs that change them.

``SEARCH_PARAMS`` declares each parameter once: the API refuses any other name, the page ignores
them, and the OpenAPI document (search_ui.openapi) is written from the same table.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, replace
from typing import Mapping

from indexer.errors import QueryError
from indexer.fields import vietnam_time
from indexer.search import (
    DEFAULT_LIMIT, DEFAULT_SORT, HIT_FIELDS, MAX_FILTER_CHARS, MAX_LIMIT, MAX_OFFSET, MAX_PAGE, MAX_QUERY_CHARS, SORTS,
    check_count, check_dates, check_filter, check_query, check_sort,
)

__all__ = [
    "SORT_LABELS", "SNIPPET_FORMATS", "Param", "SEARCH_PARAMS", "ARTICLE_PARAMS", "SearchParams",
    "check_known", "parse_search_params", "parse_query_text",
]  # fmt: skip

SORT_LABELS = {"relevance": "Liên quan nhất", "newest": "Mới nhất"}  # the page's names for indexer.search.SORTS
SNIPPET_FORMATS = ("html", "text")
DEFAULT_TAGS = ("<mark>", "</mark>")
MAX_TAG_CHARS = 50
MAX_FILTER_VALUES = 50  # values of one filter (source=a&source=b…)

_DIGITS = re.compile(r"[0-9]{1,9}")  # ASCII only: str.isdigit() also accepts "²" and "٣"
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_DATE_TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6})?)?(Z|[+-][0-9]{2}:[0-9]{2})?")


@dataclass(frozen=True)
class Param:
    """One query-string parameter: its name, the JSON Schema of a value, what it does."""

    name: str
    schema: dict
    description: str
    repeatable: bool = False  # given several times, each value counts
    api_only: bool = False  # the page ignores it


_TEXT = {"type": "string", "maxLength": MAX_FILTER_CHARS}
_WHEN = {"type": "string", "pattern": f"^{_DATE.pattern}(T{_DATE_TIME.pattern.split('T', 1)[1]})?$", "examples": ["2024-03-01", "2024-03-01T08:30", "2024-03-01T08:30:00+07:00"]}
Q_PARAM = Param("q", {"type": "string", "maxLength": MAX_QUERY_CHARS}, "The query; blank lists the articles the filters let through, newest first.")
SEARCH_PARAMS = (
    Q_PARAM,
    Param("page", {"type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": 1}, "Page number (not with offset)."),
    Param("offset", {"type": "integer", "minimum": 0, "maximum": MAX_OFFSET}, "Hits to skip, instead of page.", api_only=True),
    Param("limit", {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT}, "Hits per page."),
    Param("sort", {"type": "string", "enum": list(SORTS), "default": DEFAULT_SORT}, "Order of the hits."),
    Param("source", _TEXT, "Only these sources (any of them; case and diacritics ignored).", repeatable=True),
    Param("category", _TEXT, "Only these categories (any of them; case and diacritics ignored).", repeatable=True),
    Param("since", _WHEN, "Published at or after: a date (from its start) or a date-time; no zone means Vietnam time (UTC+7)."),
    Param("until", _WHEN, "Published at or before: a date (to its end) or a date-time; no zone means Vietnam time (UTC+7)."),
    Param("group", _TEXT, "One group of near duplicates, expanded (a hit's group)."),
    Param("fields", {"type": "string", "pattern": f"^({'|'.join(HIT_FIELDS)})(,({'|'.join(HIT_FIELDS)}))*$"}, "Fields added to each hit, comma-separated: " + ", ".join(HIT_FIELDS) + ".", api_only=True),
    Param("highlight_pre_tag", {"type": "string", "maxLength": MAX_TAG_CHARS, "default": DEFAULT_TAGS[0]}, "Put before each match in the snippet (the text between is always escaped).", api_only=True),
    Param("highlight_post_tag", {"type": "string", "maxLength": MAX_TAG_CHARS, "default": DEFAULT_TAGS[1]}, "Put after each match in the snippet.", api_only=True),
    Param("snippet", {"type": "string", "enum": list(SNIPPET_FORMATS), "default": "html"}, "html: escaped text with the tags; text: plain text (tags only when given).", api_only=True),
    Param("typed", {"type": "integer", "enum": [0, 1], "default": 0}, "1: the query exactly as typed (no Telex decoding, no slip corrected)."),
)  # fmt: skip
ARTICLE_PARAMS = (Param("q", Q_PARAM.schema, "Marks this query's matches in the article's highlighted text."),)
_KNOWN = {p.name for p in SEARCH_PARAMS}


@dataclass(frozen=True)
class SearchParams:
    """What one search asks for, validated; ``args()`` turns it back into a query string."""

    q: str = ""
    page: int = 1
    limit: int = DEFAULT_LIMIT
    source: tuple[str, ...] = ()
    category: tuple[str, ...] = ()
    since: dt.date | None = None  # a date, or an aware date-time
    until: dt.date | None = None
    sort: str = DEFAULT_SORT
    group: str | None = None  # one group of near duplicates, expanded
    offset: int | None = None
    fields: tuple[str, ...] = ()
    highlight_pre_tag: str | None = None
    highlight_post_tag: str | None = None
    snippet: str = "html"
    typed: bool = False  # the query exactly as typed: no Telex decoding, no slip corrected

    @property
    def filters(self) -> dict[str, str | list[str]]:
        """The active filters, as their URL values."""
        values = {
            "source": list(self.source),
            "category": list(self.category),
            "since": _when_text(self.since),
            "until": _when_text(self.until),
            "group": self.group,
        }
        return {k: v for k, v in values.items() if v}

    @property
    def year(self) -> int | None:
        """The year when since/until span exactly one calendar year (a clicked year facet)."""
        if _is_date(self.since) and _is_date(self.until) and self.since.year == self.until.year:
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
            "offset": self.offset,
            "fields": self.fields,
            "as_typed": self.typed,
        }

    def args(self, **changes) -> dict[str, str | list[str]]:
        """The page's query-string arguments of these parameters with ``changes``; defaults left out."""
        p = replace(self, **changes)
        out: dict[str, str | list[str]] = {"q": p.q}
        out.update(p.filters)
        if p.sort != DEFAULT_SORT:
            out["sort"] = p.sort
        if p.limit != DEFAULT_LIMIT:
            out["limit"] = str(p.limit)
        if p.page != 1:
            out["page"] = str(p.page)
        if p.typed:
            out["typed"] = "1"
        return out

    def with_year(self, year: int) -> dict[str, str | list[str]]:
        """The query-string arguments that narrow these parameters to one calendar year."""
        return self.args(since=dt.date(year, 1, 1), until=dt.date(year, 12, 31), page=1)


def _is_date(value: dt.date | None) -> bool:
    return value is not None and not isinstance(value, dt.datetime)


def _when_text(value: dt.date | None) -> str | None:
    if value is None:
        return None
    return value.isoformat(timespec="minutes") if isinstance(value, dt.datetime) and not value.second else value.isoformat()


def parse_query_text(args: Mapping[str, str]) -> str:
    """The request's ``q``, checked for length."""
    return check_query(args.get("q", ""))


def as_typed(args: Mapping[str, str]) -> bool:
    """The request's ``typed``: whether to search the query exactly as typed (QueryError unless 0, 1 or empty)."""
    value = args.get("typed", "")
    if value not in ("", "0", "1"):
        raise QueryError("typed", "must be 0 or 1")
    return value == "1"


def check_known(args: Mapping[str, str], params: tuple[Param, ...]) -> None:
    """Refuse a parameter not in ``params`` (QueryError naming it): the API's strictness."""
    known = {p.name for p in params}
    for name in args:
        if name not in known:
            raise QueryError(name, f"unknown parameter; known: {', '.join(p.name for p in params)}")


def parse_search_params(args: Mapping[str, str], api: bool = False) -> SearchParams:
    """Validate a request's arguments; raises QueryError naming the first bad one.
    With ``api``, an unknown name is refused too; the page ignores those and the API's own ones."""
    if api:
        check_known(args, SEARCH_PARAMS)
    q = parse_query_text(args)
    page = check_count("page", _number(args, "page", 1), MAX_PAGE)
    limit = check_count("limit", _number(args, "limit", DEFAULT_LIMIT), MAX_LIMIT)
    sort = check_sort(args.get("sort") or DEFAULT_SORT)
    since, until = _when(args, "since"), _when(args, "until")
    check_dates(since, until)
    source, category = (_values(args, name) for name in ("source", "category"))
    group = check_filter("group", args.get("group", ""))
    params = SearchParams(q, page, limit, source, category, since, until, sort, group, typed=as_typed(args))
    if not api:
        return params
    return replace(params, **_api_only(args))


def _api_only(args: Mapping[str, str]) -> dict:
    out: dict = {}
    if "offset" in args:
        raw = args["offset"].strip()
        if "page" in args:
            raise QueryError("offset", "cannot be given with page: use one or the other")
        if not _DIGITS.fullmatch(raw) or int(raw) > MAX_OFFSET:
            raise QueryError("offset", f"must be an integer from 0 to {MAX_OFFSET}")
        out["offset"] = int(raw)
    if raw_fields := args.get("fields", "").strip():
        names = tuple(dict.fromkeys(f.strip() for f in raw_fields.split(",")))
        if unknown := [f for f in names if f not in HIT_FIELDS]:
            raise QueryError("fields", f"unknown field {unknown[0]!r}: one of {', '.join(HIT_FIELDS)}")
        out["fields"] = names
    for name in ("highlight_pre_tag", "highlight_post_tag"):
        if name in args:
            if len(args[name]) > MAX_TAG_CHARS:
                raise QueryError(name, f"longer than {MAX_TAG_CHARS} characters")
            out[name] = args[name]
    snippet = args.get("snippet") or "html"
    if snippet not in SNIPPET_FORMATS:
        raise QueryError("snippet", f"must be one of: {', '.join(SNIPPET_FORMATS)}")
    out["snippet"] = snippet
    return out


def _values(args: Mapping[str, str], name: str) -> tuple[str, ...]:
    """Every value of a repeatable filter, empty ones left out, each checked for length."""
    raw = args.getlist(name) if hasattr(args, "getlist") else [args.get(name, "")]
    if len(raw) > MAX_FILTER_VALUES:
        raise QueryError(name, f"more than {MAX_FILTER_VALUES} values")
    return tuple(dict.fromkeys(v for v in (check_filter(name, r.strip()) for r in raw) if v))


def _number(args: Mapping[str, str], name: str, default: int) -> int:
    """The argument as a number, ``default`` when absent, 0 (refused as not positive) when not digits."""
    raw = args.get(name, "").strip()
    if not raw:
        return default
    return int(raw) if _DIGITS.fullmatch(raw) else 0


def _when(args: Mapping[str, str], name: str) -> dt.date | None:
    """A date, or a date-time (Vietnam time when it names no zone) as an aware time."""
    raw = args.get(name, "").strip()
    if not raw:
        return None
    try:
        if _DATE.fullmatch(raw):
            return dt.date.fromisoformat(raw)
        if _DATE_TIME.fullmatch(raw):
            return vietnam_time(dt.datetime.fromisoformat(raw.replace("Z", "+00:00")))
    except (ValueError, OverflowError):
        pass
    raise QueryError(name, "must be a date as YYYY-MM-DD or a date-time as YYYY-MM-DDThh:mm")
