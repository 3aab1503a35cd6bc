"""Suggestions while typing: completions from the index's vocabulary, as JSON or in the OpenSearch format."""

from __future__ import annotations

import json
import time

from flask import Blueprint, Response, current_app, request

from indexer.errors import QueryError
from indexer.search import MAX_QUERY_CHARS
from indexer.suggest import MAX_SUGGESTIONS
from indexer.suggest import suggest as complete

from .params import parse_query_text
from .stores import store_pool

__all__ = ["FORMATS", "OPENAPI_PATHS", "bp"]

bp = Blueprint("suggest_api", __name__, url_prefix="/api")

FORMATS = ("json", "opensearch")
PARAMS = ("q", "format")
OPENSEARCH_SUGGESTIONS = "application/x-suggestions+json"

_ERROR = {"$ref": "#/components/schemas/Error"}
# This route in the API's OpenAPI document (search_ui.openapi).
OPENAPI_PATHS = {
    "/api/suggest": {
        "get": {
            "summary": "Completions of what is typed, the last syllable a prefix, with or without diacritics",
            "tags": ["api"],
            "parameters": [
                {"name": "q", "in": "query", "required": False, "schema": {"type": "string", "maxLength": MAX_QUERY_CHARS},
                 "description": "What has been typed so far."},
                {"name": "format", "in": "query", "required": False, "schema": {"type": "string", "enum": list(FORMATS), "default": "json"},
                 "description": "json, or opensearch: the OpenSearch suggestions format, [q, [completions]]."},
            ],
            "responses": {
                "200": {
                    "description": f"Up to {MAX_SUGGESTIONS} completions, most used first",
                    "content": {
                        "application/json": {"schema": {
                            "type": "object",
                            "required": ["q", "suggestions", "took_ms"],
                            "properties": {
                                "q": {"type": "string"},
                                "suggestions": {"type": "array", "items": {"type": "string"}, "maxItems": MAX_SUGGESTIONS},
                                "took_ms": {"type": "number"},
                            },
                        }},
                        OPENSEARCH_SUGGESTIONS: {"schema": {
                            "type": "array",
                            "prefixItems": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}],
                        }},
                    },
                },
                "400": {"description": "A refused parameter, named in param", "content": {"application/json": {"schema": _ERROR}}},
            },
        }
    }
}  # fmt: skip


@bp.get("/suggest")
def suggest():
    """Up to 8 completions of ``q``: ``{"q", "suggestions", "took_ms"}``, or ``[q, [completions]]``
    with ``format=opensearch``."""
    for name in request.args:
        if name not in PARAMS:
            raise QueryError(name, f"unknown parameter; this route takes: {', '.join(PARAMS)}")
    q = parse_query_text(request.args)
    kind = request.args.get("format") or "json"
    if kind not in FORMATS:
        raise QueryError("format", f"must be one of: {', '.join(FORMATS)}")
    started = time.perf_counter()
    found = complete(store_pool(current_app).path, q)
    took = (time.perf_counter() - started) * 1000
    if kind == "opensearch":
        body = json.dumps([q, found], ensure_ascii=False)
        return Response(body, content_type=f"{OPENSEARCH_SUGGESTIONS}; charset=utf-8")
    return {"q": q, "suggestions": found, "took_ms": round(took, 2)}
