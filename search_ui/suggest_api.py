"""Suggestions while typing: completions from the index's vocabulary, as JSON or in the OpenSearch format."""

from __future__ import annotations

import json
import time

from flask import Blueprint, Response, current_app, request

from indexer.errors import QueryError
from indexer.suggest import suggest as complete

from .params import Q_PARAM, Param, check_known, parse_query_text
from .stores import store_pool

__all__ = ["FORMATS", "OPENSEARCH_SUGGESTIONS", "SUGGEST_PARAMS", "bp"]

bp = Blueprint("suggest_api", __name__, url_prefix="/api")

FORMATS = ("json", "opensearch")
OPENSEARCH_SUGGESTIONS = "application/x-suggestions+json"
SUGGEST_PARAMS = (
    Param("q", Q_PARAM.schema, "What has been typed so far; its last syllable is taken as a prefix."),
    Param(
        "format",
        {"type": "string", "enum": list(FORMATS), "default": FORMATS[0]},
        "json, or opensearch: the OpenSearch suggestions format, [q, [completions]].",
    ),
)


@bp.get("/suggest")
def suggest():
    """Up to 8 completions of ``q``: ``{"q", "suggestions", "took_ms"}``, or ``[q, [completions]]``
    with ``format=opensearch``."""
    check_known(request.args, SUGGEST_PARAMS)
    q = parse_query_text(request.args)
    kind = request.args.get("format") or FORMATS[0]
    if kind not in FORMATS:
        raise QueryError("format", f"must be one of: {', '.join(FORMATS)}")
    started = time.perf_counter()
    found = complete(store_pool(current_app).path, q)
    took = (time.perf_counter() - started) * 1000
    if kind == "opensearch":
        body = json.dumps([q, found], ensure_ascii=False)
        return Response(body, content_type=f"{OPENSEARCH_SUGGESTIONS}; charset=utf-8")
    return {"q": q, "suggestions": found, "took_ms": round(took, 2)}
