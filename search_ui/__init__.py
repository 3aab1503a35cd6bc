"""The search page: a Flask app over the indexer library."""

from __future__ import annotations

import os
import threading
from contextlib import contextmanager
from typing import Iterator

from flask import Flask, current_app

from indexer.store import ArticleStore

__all__ = ["create_app", "open_store"]


def create_app(config: dict | None = None) -> Flask:
    """App factory; config INDEX_DIR defaults to $VNSEARCH_INDEX, else .index."""
    app = Flask(__name__)
    app.config.update(INDEX_DIR=os.environ.get("VNSEARCH_INDEX") or ".index")
    if config:
        app.config.update(config)
    app.extensions["vnsearch"] = _StoreHolder(app.config["INDEX_DIR"])

    from . import views  # noqa: PLC0415 - views need the app package set up

    app.register_blueprint(views.bp)
    return app


class _StoreHolder:
    """Opens the index once; refreshes it when a writer has committed since."""

    def __init__(self, path: str):
        self.path = path
        self.lock = threading.Lock()
        self.store: ArticleStore | None = None

    def close(self) -> None:
        with self.lock:
            if self.store is not None:
                self.store.close()
                self.store = None


@contextmanager
def open_store() -> Iterator[ArticleStore]:
    """The app's store, current with the last commit, for one request.

    Whoosh searchers are not shared safely between threads: requests take turns.
    """
    holder: _StoreHolder = current_app.extensions["vnsearch"]
    with holder.lock:
        if holder.store is None:
            holder.store = ArticleStore.open(holder.path)
        else:
            holder.store.refresh()
        yield holder.store
