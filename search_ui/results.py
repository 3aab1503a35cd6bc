"""What the results page shows besides the hits: facets, active filters, pages, ways out of zero results.

Everything here is plain data with ready-made URLs, so templates only loop and test.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

from indexer.search import MAX_PAGE, SearchPage

from .params import SearchParams
from .template_filters import vi_date

__all__ = ["Facet", "FacetValue", "ActiveFilter", "PageLink", "facets", "active_filters", "page_links", "query_chunks"]

UrlFor = Callable[[dict[str, str]], str]  # query-string arguments → URL of the results page

FACET_TITLES = {"source": "Nguồn", "category": "Chuyên mục", "year": "Năm"}
MAX_FACET_VALUES = 12


@dataclass(frozen=True)
class FacetValue:
    label: str
    count: int
    url: str  # selects this value (or clears it when active)
    active: bool


@dataclass(frozen=True)
class Facet:
    name: str
    title: str
    values: tuple[FacetValue, ...]
    clear_url: str | None  # set when one of the values is the active filter


@dataclass(frozen=True)
class ActiveFilter:
    """An active filter as the page names it, with the URL that removes it."""

    label: str
    value: str
    clear_url: str
    changes: dict  # the SearchParams fields that removing it sets to None


@dataclass(frozen=True)
class PageLink:
    number: int | None  # None: a gap ("…")
    url: str | None
    current: bool = False


def facets(result: SearchPage, params: SearchParams, url_for: UrlFor) -> list[Facet]:
    """Source, category and year counts, each value a link that narrows the search."""
    out = []
    for name, title in FACET_TITLES.items():
        counts = result.facets.get(name) or {}
        items = list(counts.items())
        if name == "year":
            items.sort(key=lambda kv: kv[0], reverse=True)
            active = str(params.year) if params.year else None
            clear = params.args(since=None, until=None, page=1)
        else:
            active = getattr(params, name)
            clear = params.args(**{name: None, "page": 1})
        values = []
        for value, count in items[:MAX_FACET_VALUES]:
            is_active = value == active
            if is_active:
                args = clear
            elif name == "year":
                args = params.with_year(int(value))
            else:
                args = params.args(**{name: value, "page": 1})
            values.append(FacetValue(value, count, url_for(args), is_active))
        if values:
            out.append(Facet(name, title, tuple(values), url_for(clear) if active else None))
    return out


def active_filters(params: SearchParams, url_for: UrlFor) -> list[ActiveFilter]:
    """The filters in force, each removable on its own."""
    found: list[tuple[str, str, dict]] = []
    if params.source:
        found.append(("Nguồn", params.source, {"source": None}))
    if params.category:
        found.append(("Chuyên mục", params.category, {"category": None}))
    if params.group:
        found.append(("Tin tương tự", params.group, {"group": None}))
    if params.year:
        found.append(("Năm", str(params.year), {"since": None, "until": None}))
    else:
        if params.since:
            found.append(("Từ ngày", vi_date(params.since), {"since": None}))
        if params.until:
            found.append(("Đến ngày", vi_date(params.until), {"until": None}))
    return [
        ActiveFilter(label, value, url_for(params.args(page=1, **changes)), changes) for label, value, changes in found
    ]


def page_links(result: SearchPage, params: SearchParams, url_for: UrlFor, around: int = 2) -> list[PageLink]:
    """Numbered links: the first, the last, and ``around`` pages either side of the current one."""
    last = min(result.pages, MAX_PAGE)
    if last <= 1:
        return []
    wanted = {1, last} | set(range(max(1, params.page - around), min(last, params.page + around) + 1))
    out: list[PageLink] = []
    previous = 0
    for n in sorted(wanted):
        if n - previous > 1:
            out.append(PageLink(None, None))
        out.append(PageLink(n, url_for(params.args(page=n)), n == params.page))
        previous = n
    return out


_CHUNK = re.compile(r'-?"[^"]*"?|\S+')


def query_chunks(q: str) -> list[str]:
    """The words and "quoted phrases" of a query, as typed, for "try without this word"."""
    return _CHUNK.findall(q)
