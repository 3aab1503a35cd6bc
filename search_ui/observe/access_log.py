"""One line per request on stderr, as text or JSON, through the logging module (logger ``vnsearch.access``).

A line holds the time, method, path and query string (left out with the app's ``LOG_QUERIES``
False), status, milliseconds, and a search's hits.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import sys
import time
from typing import TextIO
from urllib.parse import quote

from flask import Flask, Response, current_app, g, request

__all__ = ["ACCESS_LOGGER", "configure_logging", "elapsed", "note_hits", "register"]

ACCESS_LOGGER = "vnsearch.access"
_STARTED = "vnsearch.started"  # the WSGI environ's key for a request's start
_QUIET = ("waitress",)  # its own log speaks only of errors

log = logging.getLogger(ACCESS_LOGGER)


def register(app: Flask) -> None:
    """Start each request's clock as it arrives, and log it as its response leaves."""
    wsgi_app = app.wsgi_app

    def timed(environ, start_response):
        environ[_STARTED] = time.perf_counter()
        return wsgi_app(environ, start_response)

    app.wsgi_app = timed
    app.after_request(_log_request)


def elapsed() -> float:
    """Seconds since this request arrived."""
    return time.perf_counter() - request.environ.get(_STARTED, time.perf_counter())


def note_hits(total: int) -> None:
    """Give this request's log line a search's number of hits."""
    g.vnsearch_hits = total


def _log_request(response: Response) -> Response:
    if log.isEnabledFor(logging.INFO):
        fields = {"method": request.method, "path": quote(request.path, safe="/:@!$&'()*+,;=~")}
        if request.query_string and current_app.config.get("LOG_QUERIES", True):
            fields["query"] = quote(request.query_string, safe="&=+%/:,;@!$'()*~?")
        fields["status"] = response.status_code
        fields["ms"] = round(elapsed() * 1000, 1)
        if (hits := g.get("vnsearch_hits")) is not None:
            fields["hits"] = hits
        target = fields["path"] + (f"?{fields['query']}" if "query" in fields else "")
        hits_text = f" hits={hits}" if hits is not None else ""
        log.info("%s %s %d %.1f ms%s", request.method, target, fields["status"], fields["ms"], hits_text,
                 extra={"access": fields})
    return response


def configure_logging(level: str = "info", fmt: str = "text", stream: TextIO | None = None) -> None:
    """Send log records at ``level`` and above to ``stream`` (default: stderr) as ``fmt``, text or JSON;
    waitress's own only from ERROR on. Called again, it replaces its handler."""
    handler = _Handler(stream)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _Handler)]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    for name in _QUIET:
        logging.getLogger(name).setLevel(logging.ERROR)


class _Handler(logging.StreamHandler):
    """configure_logging's handler: to ``stream``, else to ``sys.stderr`` as it is when a record comes
    (not as it was when configured: a test's captured stream is closed by then)."""

    def __init__(self, stream: TextIO | None = None):
        self._fixed = stream
        super().__init__(stream)

    @property
    def stream(self) -> TextIO:
        return self._fixed or sys.stderr

    @stream.setter
    def stream(self, value) -> None:
        pass  # StreamHandler's own assignment: the property decides


def _utc(record: logging.LogRecord) -> str:
    return dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class TextFormatter(logging.Formatter):
    """``TIME METHOD PATH?QUERY STATUS MS ms [hits=N]``; other records ``TIME LEVEL logger: message``."""

    def format(self, record: logging.LogRecord) -> str:
        if hasattr(record, "access"):
            return f"{_utc(record)} {record.getMessage()}"
        text = f"{_utc(record)} {record.levelname} {record.name}: {record.getMessage()}"
        if record.exc_info:
            text += "\n" + self.formatException(record.exc_info)
        return text


class JsonFormatter(logging.Formatter):
    """One JSON object a line: the access fields, or level, logger and message."""

    def format(self, record: logging.LogRecord) -> str:
        data = {"time": _utc(record)}
        if hasattr(record, "access"):
            data.update(record.access)
        else:
            data.update(level=record.levelname, logger=record.name, message=record.getMessage())
            if record.exc_info:
                data["traceback"] = self.formatException(record.exc_info)
        return json.dumps(data, ensure_ascii=False)
