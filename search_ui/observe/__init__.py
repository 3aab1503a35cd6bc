"""What a running server tells its operator: a line per request, /health, /api/stats, /api/version, /metrics."""

from __future__ import annotations

from flask import Flask

from . import access_log, metrics, status
from .access_log import configure_logging
from .metrics import prepare_multiprocess

__all__ = ["configure_logging", "note_ingested", "note_search", "prepare_multiprocess", "register"]


def register(app: Flask) -> None:
    """Time and log every request, count it in the metrics, and add the status routes."""
    access_log.register(app)
    metrics.register(app)
    app.register_blueprint(status.bp)


def note_search(total: int) -> None:
    """Record a search's number of hits for this request's log line and the metrics."""
    access_log.note_hits(total)
    metrics.count_search(total)


def note_ingested(outcomes: dict[str, list[str]]) -> None:
    """Record the articles a POST or DELETE changed, by outcome (added, updated, unchanged, deleted)."""
    metrics.count_ingested({outcome: len(ids) for outcome, ids in outcomes.items()})
