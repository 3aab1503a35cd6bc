"""The search page and JSON API: a Flask app over the indexer library."""

from __future__ import annotations

import os

from flask import Flask

from . import api, errors, ingest_api, pages, security, template_filters
from .stores import EXTENSION, StorePool

__all__ = ["create_app"]


def create_app(config: dict | None = None) -> Flask:
    """App factory; config INDEX_DIR defaults to $VNSEARCH_INDEX, else .index; CORS_ORIGINS (a list)
    may call the search API from other sites."""
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
    app.extensions[EXTENSION] = StorePool(app.config["INDEX_DIR"])
    for blueprint in (pages.bp, api.bp, ingest_api.bp, errors.bp):
        app.register_blueprint(blueprint)
    template_filters.register(app)
    security.register(app)
    api.enable_cors(app, app.config.get("CORS_ORIGINS") or [])
    return app
