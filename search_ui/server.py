"""Serving the app: waitress, a production WSGI server, over one index directory."""

from __future__ import annotations

from pathlib import Path

from flask import Flask

from . import create_app, ingest_api
from .stores import store_pool

__all__ = ["request_body_limit", "serve"]


def serve(index_dir: str | Path, host: str, port: int, threads: int) -> None:
    """Serve the search page and API for ``index_dir`` until interrupted, then close its stores."""
    import waitress  # noqa: PLC0415 - only serving needs it

    app = create_app({"INDEX_DIR": str(index_dir)})
    try:
        # waitress refuses a body larger than any route takes before buffering it.
        waitress.serve(
            app, host=host, port=port, threads=threads, ident="vnsearch",
            max_request_body_size=request_body_limit(app),
        )
    finally:
        store_pool(app).close()


def request_body_limit(app: Flask) -> int:
    """The largest request body any enabled route accepts (the server refuses larger ones)."""
    return max(app.config["MAX_CONTENT_LENGTH"] or 0, ingest_api.body_limit(app) or 0)
