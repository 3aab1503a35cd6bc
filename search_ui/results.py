"""What the results page shows besides the hits: facets, active filters, pages, ways out of zero results.

Everything here is plain data with ready-made URLs, so templates only loop and test.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

from indexer.search import MAX_PAGE, SearchPage
from indexer.text import fold

from .params import SearchParams
from .template_filters import vi_when

__all__ = [
    "Facet", "FacetValue", "ActiveFilter", "PageLink", "facets", "active_filters", "hidden_args", "page_links", "query_chunks",
]  # fmt: skip

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
    changes: dict  # the SearchParams fields that removing it sets (to None, or the other values)


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
            chosen = {str(params.year)} if params.year else set()
            clear = params.args(since=None, until=None, page=1)
        else:
            chosen = {fold(v) for v in getattr(params, name)}
            clear = params.args(**{name: (), "page": 1})
        shown = items[:MAX_FACET_VALUES]
        # A ticked value stays in the list even when it has no count of its own.
        if name != "year":
            shown += [(v, 0) for v in getattr(params, name) if fold(v) not in {fold(k) for k, _ in shown}]
        values = []
        for value, count in shown:
            is_active = (fold(value) if name != "year" else value) in chosen
            if name == "year":
                args = clear if is_active else params.with_year(int(value))
            else:
                ticked = getattr(params, name)
                others = tuple(v for v in ticked if fold(v) != fold(value))
                args = params.args(**{name: others if is_active else (*ticked, value), "page": 1})
            values.append(FacetValue(value, count, url_for(args), is_active))
        if values:
            out.append(Facet(name, title, tuple(values), url_for(clear) if chosen else None))
    return out


def hidden_args(params: SearchParams, *left_out: str) -> list[tuple[str, str]]:
    """A form's hidden inputs that keep the search's other parameters (the page goes back to 1)."""
    pairs = []
    for name, value in params.args(page=1).items():
        if name not in left_out:
            pairs += [(name, v) for v in (value if isinstance(value, list) else [value])]
    return pairs


def active_filters(params: SearchParams, url_for: UrlFor) -> list[ActiveFilter]:
    """The filters in force, each removable on its own."""
    found: list[tuple[str, str, dict]] = []
    for name, label in (("source", "Nguồn"), ("category", "Chuyên mục")):
        values = getattr(params, name)
        for v in values:
            found.append((label, v, {name: tuple(x for x in values if x != v)}))
    if params.group:
        found.append(("Tin tương tự", params.group, {"group": None}))
    if params.year:
        found.append(("Năm", str(params.year), {"since": None, "until": None}))
    else:
        if params.since:
            found.append(("Từ ngày", vi_when(params.since), {"since": None}))
        if params.until:
            found.append(("Đến ngày", vi_when(params.until), {"until": None}))
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
