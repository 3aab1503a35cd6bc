"""Serving the app: waitress, a production WSGI server, over one index directory."""

from __future__ import annotations

import resource
from pathlib import Path

from flask import Flask

from . import create_app, ingest_api
from .stores import store_pool

__all__ = ["CONNECTION_LIMIT", "CHANNEL_TIMEOUT", "request_body_limit", "serve", "server_options"]

# Idle or half-sent connections cost waitress no thread, only a connection slot until
# channel_timeout: many slots, reclaimed soon, keep a slow-client flood from filling them.
CONNECTION_LIMIT = 1000
CHANNEL_TIMEOUT = 15  # seconds without a byte before an idle connection is closed
FILES_PER_CONNECTION = 4  # waitress's socket and up to two buffer files, and a spare


def serve(index_dir: str | Path, host: str, port: int, threads: int, cors_origins: tuple[str, ...] = ()) -> None:
    """Serve the search page and API for ``index_dir`` until interrupted, then close its stores;
    ``cors_origins`` may call the search API from their pages."""
    import waitress  # noqa: PLC0415 - only serving needs it

    app = create_app({"INDEX_DIR": str(index_dir), "CORS_ORIGINS": list(cors_origins)})
    try:
        waitress.serve(app, host=host, port=port, threads=threads, ident="vnsearch", **server_options(app))
    finally:
        store_pool(app).close()


def server_options(app: Flask) -> dict:
    """waitress's limits for ``app``: body size, connections and their timeouts (raising this
    process's open-files limit as far as the connections need and the hard limit allows)."""
    return {
        # waitress refuses a body of max_request_body_size bytes or more, before buffering it.
        "max_request_body_size": request_body_limit(app) + 1,
        "connection_limit": _raise_open_files_limit() // FILES_PER_CONNECTION,
        "channel_timeout": CHANNEL_TIMEOUT,
        "cleanup_interval": 2,  # seconds between the sweeps that close idle connections
        "asyncore_use_poll": True,  # select() fails on descriptors past 1024
    }


def request_body_limit(app: Flask) -> int:
    """The largest request body any enabled route accepts (the server refuses larger ones)."""
    return max(app.config["MAX_CONTENT_LENGTH"] or 0, ingest_api.body_limit(app) or 0)


def _raise_open_files_limit() -> int:
    """The open files CONNECTION_LIMIT connections need, or fewer when the hard limit allows fewer
    (the soft limit raised to that)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = CONNECTION_LIMIT * FILES_PER_CONNECTION
    if soft == resource.RLIM_INFINITY or soft >= want:
        return want
    new = want if hard == resource.RLIM_INFINITY else min(want, hard)
    resource.setrlimit(resource.RLIMIT_NOFILE, (new, hard))
    return new
