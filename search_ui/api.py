"""The JSON API: the same searches as the pages, as data."""

from __future__ import annotations

from flask import Blueprint, request

from indexer.search import get_article, search

from .params import parse_query_text, parse_search_params
from .stores import open_store

bp = Blueprint("api", __name__, url_prefix="/api")


@bp.get("/search")
def search_json():
    """``query``, ``total``, ``page``, ``took_ms`` and ``hits`` as the CLI's --json, plus facets and paging."""
    params = parse_search_params(request.args)
    with open_store() as store:
        result = search(store, params.q, **params.search_kwargs(), as_typed=request.args.get("typed") == "1")
    data = result.to_json()
    data["limit"] = result.limit
    data["pages"] = result.pages
    data["params"] = {"sort": params.sort, **params.filters}
    return data


@bp.get("/articles/<path:article_id>")
def article_json(article_id: str):
    """One article; with ``q``, its title, sapo and paragraphs also as HTML with the matches marked."""
    q = parse_query_text(request.args)
    with open_store() as store:
        view = get_article(store, article_id, q)
    data = view.to_json()
    if q.strip():
        data["highlighted"] = {
            "title": view.title_html,
            "sapo": view.sapo_html,
            "paragraphs": list(view.paragraphs_html),
        }
    return data
