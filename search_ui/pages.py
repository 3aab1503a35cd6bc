"""HTML pages: the search box, the results, one article."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

from flask import Blueprint, current_app, render_template, request, url_for

from indexer.fields import VIETNAM
from indexer.search import get_article, search
from indexer.store import ArticleStore

from .observe import note_search
from .params import SORT_LABELS, SearchParams, parse_query_text, parse_search_params
from .results import active_filters, facets, hidden_args, page_links, query_chunks
from .stores import open_store
from .word_lists import word_lists

bp = Blueprint("pages", __name__)
bp.add_app_template_global(hidden_args)

MAX_DROPPED_WORDS = 6  # "try without this word" runs one count per word
HOME_NEWEST = 6  # the newest articles under the home page's box
QUICK_RANGES = (("24 giờ qua", dt.timedelta(hours=24)), ("7 ngày qua", dt.timedelta(days=7)), ("30 ngày qua", dt.timedelta(days=30)))


def now() -> dt.datetime:
    """The time in Vietnam, from the app's config NOW (a callable: tests fix it) or the clock."""
    clock = current_app.config.get("NOW")
    return clock() if clock else dt.datetime.now(VIETNAM)


@dataclass(frozen=True)
class Alternative:
    """A nearby search that finds something, offered when this one found nothing."""

    label: str
    url: str
    total: int


def _results_url(args: dict[str, str]) -> str:
    return url_for("pages.search", **args)


@bp.get("/")
def home():
    with open_store() as store:
        stats = store.stats()
        newest = search(store, "", limit=HOME_NEWEST, collapse=True)
    return render_template("index.html", stats=stats, params=None, newest=newest, now=now())


@bp.get("/search", endpoint="search")
def search_page():
    params = parse_search_params(request.args)
    with open_store() as store:
        result = search(store, params.q, word_lists=word_lists(), **params.search_kwargs())
        note_search(result.total)
        alternatives = _alternatives(store, params) if result.total == 0 else []
    suggestion = result.suggestion
    return render_template(
        "search.html",
        params=params,
        result=result,
        suggestion=suggestion,
        suggestion_url=_results_url(params.args(q=suggestion, page=1)) if suggestion else None,
        typed_url=_results_url(params.args(page=1, typed=True)) if result.corrected else None,
        facets=facets(result, params, _results_url),
        filters=active_filters(params, _results_url),
        clear_all_url=_results_url(SearchParams(params.q, sort=params.sort, typed=params.typed).args()),
        pages=page_links(result, params, _results_url),
        prev_url=_results_url(params.args(page=params.page - 1)) if params.page > 1 else None,
        next_url=_results_url(params.args(page=params.page + 1)) if params.page < result.pages else None,
        sort_links=_sort_links(params),
        alternatives=alternatives,
        quick_ranges=_quick_ranges(params),
        now=now(),
    )


@bp.get("/article/<path:article_id>")
def article(article_id: str):
    q = parse_query_text(request.args)
    with open_store() as store:
        view = get_article(store, article_id, q, word_lists=word_lists())
    back_url = _results_url(SearchParams(q).args()) if q.strip() else None
    return render_template("article.html", article=view, q=q, back_url=back_url, params=SearchParams(q))


def _quick_ranges(params: SearchParams) -> list[tuple[str, str, bool]]:
    """The last day, week and month before now, each a link (label, URL, active)."""
    current = now().replace(second=0, microsecond=0)
    out = []
    for label, span in QUICK_RANGES:
        since = current - span
        out.append((label, _results_url(params.args(since=since, until=None, page=1)), params.since == since and not params.until))
    return out


def _sort_links(params: SearchParams) -> list[tuple[str, str, bool]]:
    return [
        (label, _results_url(params.args(sort=key, page=1)), params.sort == key) for key, label in SORT_LABELS.items()
    ]


def _alternatives(store: ArticleStore, params: SearchParams) -> list[Alternative]:
    """Searches with one filter or one word fewer that do find articles, with their counts."""
    tries: list[tuple[str, SearchParams]] = []
    for f in active_filters(params, _results_url):
        tries.append((f"Bỏ lọc {f.label.lower()} «{f.value}»", replace(params, page=1, **f.changes)))
    chunks = query_chunks(params.q)
    if len(chunks) > 1:
        for i, chunk in enumerate(chunks[:MAX_DROPPED_WORDS]):
            rest = " ".join(chunks[:i] + chunks[i + 1 :])
            tries.append((f"Bỏ «{chunk}»: {rest}", replace(params, q=rest, page=1)))
    out = []
    for label, p in tries:
        kwargs = p.search_kwargs() | {"page": 1, "limit": 1, "word_lists": word_lists()}
        total = search(store, p.q, **kwargs).total
        if total:
            out.append(Alternative(label, _results_url(p.args()), total))
    return out
