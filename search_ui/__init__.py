"""The search page and JSON API: a Flask app over the indexer library."""

from __future__ import annotations

import os
from contextlib import contextmanager
from typing import Iterator

from flask import Flask, abort, current_app, request

from indexer.store import ArticleStore

from .stores import StorePool

__all__ = ["create_app", "open_store", "request_body_limit"]

# No inline script or style anywhere: the pages are plain HTML and one stylesheet.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)
MAX_QUERY_STRING_BYTES = 8192  # 500 Vietnamese characters percent-encoded take up to 4,500


def create_app(config: dict | None = None) -> Flask:
    """App factory; config INDEX_DIR defaults to $VNSEARCH_INDEX, else .index."""
    app = Flask(__name__)
    app.config.update(
        INDEX_DIR=os.environ.get("VNSEARCH_INDEX") or ".index",
        # Flask reads FLASK_DEBUG from the environment: debug mode shows tracebacks, never here.
        DEBUG=False,
        MAX_CONTENT_LENGTH=16 * 1024,  # every route is a GET: no request needs a body
    )
    if config:
        app.config.update(config)
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
    app.json.ensure_ascii = False  # Vietnamese stays readable in the API's JSON
    app.json.sort_keys = False
    # Article ids may be URLs ("https://…/a"): keep their double slashes.
    app.url_map.merge_slashes = False
    app.extensions["vnsearch"] = StorePool(app.config["INDEX_DIR"])

    from . import api, errors, ingest_api, pages, template_filters  # noqa: PLC0415 - blueprints need the package set up

    app.register_blueprint(pages.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(ingest_api.bp)
    app.register_blueprint(errors.bp)
    template_filters.register(app)
    app.before_request(_limit_request_size)
    app.after_request(_security_headers)
    return app


@contextmanager
def open_store() -> Iterator[ArticleStore]:
    """A store of the app's pool, current with the index on disk, for one request."""
    pool: StorePool = current_app.extensions["vnsearch"]
    with pool.store() as store:
        yield store


def request_body_limit(app: Flask) -> int:
    """The largest request body any enabled route accepts (the server refuses larger ones)."""
    from . import ingest_api  # noqa: PLC0415

    return max(app.config["MAX_CONTENT_LENGTH"] or 0, ingest_api.body_limit(app) or 0)


def _limit_request_size() -> None:
    if len(request.query_string) > MAX_QUERY_STRING_BYTES:
        abort(414)
    # A route that takes a body (POST /api/articles) sets its own limit; every other
    # one has the app's MAX_CONTENT_LENGTH.
    view = current_app.view_functions.get(request.endpoint)
    if (own := getattr(view, "max_content_length", None)) is not None:
        request.max_content_length = own
    limit = request.max_content_length
    if request.content_length is not None and limit is not None and request.content_length > limit:
        abort(413)


def _security_headers(response):
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"  # a search's URL holds the query
    response.headers["X-Frame-Options"] = "DENY"
    return response
