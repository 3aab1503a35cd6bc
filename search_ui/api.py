"""The JSON API: the same searches as the pages, as data; an unknown parameter is a 400 naming it."""

from __future__ import annotations

import html
import re

from flask import Blueprint, Flask, Response, request, url_for
from flask_cors import CORS

from indexer.search import SearchHit, get_article, search

from .observe import note_search
from .openapi import openapi_document
from .params import ARTICLE_PARAMS, DEFAULT_TAGS, SearchParams, check_known, parse_query_text, parse_search_params
from .stores import open_store
from .word_lists import word_lists

bp = Blueprint("api", __name__, url_prefix="/api")

# The read-only routes other origins may call (config CORS_ORIGINS); the ingest routes never.
CORS_ROUTES = r"^/api(/|/search|/suggest|/openapi\.json|/articles/.+)?$"


def enable_cors(app: Flask, origins: list[str]) -> None:
    """Let ``origins`` call the search API from their pages (preflights included), and no other."""
    if origins:
        app.after_request(_cors_tidied)  # before flask-cors's: Flask runs the last registered first
        CORS(app, resources={CORS_ROUTES: {"origins": list(origins), "methods": ["GET"]}}, vary_header=True)


def _cors_tidied(response: Response) -> Response:
    """Vary: Origin on the routes CORS covers; no CORS header on the ingest routes' writes."""
    if re.match(CORS_ROUTES, request.path):
        # flask-cors says Vary only for several origins; with one, a cache would still serve
        # an answer without the header to the origin that needs it.
        response.vary.add("Origin")
        method = request.headers.get("Access-Control-Request-Method", "") if request.method == "OPTIONS" else request.method
        if method not in ("GET", "HEAD"):  # DELETE /api/articles/ID shares the path
            for name in [k for k in response.headers.keys() if k.lower().startswith("access-control-")]:
                del response.headers[name]
    return response


@bp.get("", strict_slashes=False)
def index():
    """The API's routes, each with its method, path and summary (the OpenAPI document has the rest)."""
    doc = openapi_document()
    routes = [
        {"method": method.upper(), "path": path, "summary": op.get("summary", "")}
        for path, item in doc["paths"].items()
        for method, op in item.items()
    ]
    return {"name": "vnsearch", "openapi": url_for("api.openapi"), "routes": routes}


@bp.get("/openapi.json")
def openapi():
    """The OpenAPI 3.1 description of every route."""
    return openapi_document()


@bp.get("/search")
def search_json():
    """``query``, ``total``, ``page``, ``offset``, ``took_ms`` and ``hits`` as the CLI's --json, plus facets and paging."""
    params = parse_search_params(request.args, api=True)
    with open_store() as store:
        result = search(store, params.q, word_lists=word_lists(), **params.search_kwargs())
    note_search(result.total)
    data = result.to_json()
    data["hits"] = [_hit_json(h, params) for h in result.hits]
    data["limit"] = result.limit
    data["pages"] = result.pages
    data["params"] = {"sort": params.sort, **params.filters}
    return data


def _hit_json(hit: SearchHit, params: SearchParams) -> dict:
    """A hit with its snippet in the asked tags, or as plain text (tags only when asked)."""
    d = hit.to_json()
    pre, post = params.highlight_pre_tag, params.highlight_post_tag
    if params.snippet == "text":
        d["snippet"] = html.unescape(hit.snippet.replace("<mark>", pre or "").replace("</mark>", post or ""))
    else:  # the snippet's text is escaped already: only the tags change
        pre, post = DEFAULT_TAGS[0] if pre is None else pre, DEFAULT_TAGS[1] if post is None else post
        d["snippet"] = hit.snippet.replace("<mark>", pre).replace("</mark>", post)
    return d


@bp.get("/articles/<path:article_id>")
def article_json(article_id: str):
    """One article; with ``q``, its title, sapo and paragraphs also as HTML with the matches marked."""
    check_known(request.args, ARTICLE_PARAMS)
    q = parse_query_text(request.args)
    with open_store() as store:
        view = get_article(store, article_id, q, word_lists=word_lists())
    data = view.to_json()
    if q.strip():
        data["highlighted"] = {
            "title": view.title_html,
            "sapo": view.sapo_html,
            "paragraphs": list(view.paragraphs_html),
        }
    return data

