"""The OpenAPI 3.1 description of every route: one entry per route in ``ROUTES``; the search
parameters come from search_ui.params' table, so the document and the checks cannot drift."""

from __future__ import annotations

from indexer.search import HIT_FIELDS

from .params import ARTICLE_PARAMS, SEARCH_PARAMS, Param

__all__ = ["ROUTES", "openapi_document", "parameters"]

VERSION = "1"


def parameters(params: tuple[Param, ...], api: bool = True) -> list[dict]:
    """OpenAPI parameter objects for the query string (the page's: without the API-only ones)."""
    out = []
    for p in params:
        if p.api_only and not api:
            continue
        schema = {"type": "array", "items": p.schema} if p.repeatable else p.schema
        item = {"name": p.name, "in": "query", "required": False, "description": p.description, "schema": schema}
        if p.repeatable:
            item |= {"style": "form", "explode": True}
        out.append(item)
    return out


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict, description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _html(description: str) -> dict:
    return {"description": description, "content": {"text/html": {"schema": {"type": "string"}}}}


ERROR = _json(_ref("Error"), "An error: a 400 names the refused parameter in `param`")
INDEX_TROUBLE = _json(_ref("Error"), "No index, or one of another format: the message says what to run")
ARTICLE_ID = {"name": "article_id", "in": "path", "required": True, "schema": {"type": "string"}, "description": "The article's id (may hold slashes)."}
BEARER = [{"bearer": []}]

_STRING_OR_NULL = {"type": ["string", "null"]}
SCHEMAS = {
    "Error": {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["status", "message"],
                "properties": {"status": {"type": "integer"}, "message": {"type": "string"}, "param": {"type": "string"}},
            }
        },
    },
    "Hit": {
        "type": "object",
        "required": ["id", "title", "score", "snippet"],
        "properties": {
            "id": {"type": "string"},
            "title": {"type": "string"},
            "url": _STRING_OR_NULL,
            "source": _STRING_OR_NULL,
            "category": _STRING_OR_NULL,
            "published": {"type": ["string", "null"], "description": "ISO 8601: a date, or a date-time in Vietnam time (+07:00)"},
            "author": _STRING_OR_NULL,
            "score": {"type": "number"},
            "snippet": {"type": "string", "description": "HTML (escaped text, matches in the highlight tags) or plain text"},
            "similar": {"type": "integer", "description": "near duplicates collapsed into this hit"},
            "group": _STRING_OR_NULL,
            **{name: {**_STRING_OR_NULL, "description": "only when asked with fields"} for name in HIT_FIELDS},
        },
    },
    "SearchResults": {
        "type": "object",
        "properties": {
            "query": {"type": "string"},
            "total": {"type": "integer"},
            "page": {"type": "integer"},
            "offset": {"type": "integer"},
            "matched_all": {"type": "boolean"},
            "took_ms": {"type": "number"},
            "suggestion": _STRING_OR_NULL,
            "hits": {"type": "array", "items": _ref("Hit")},
            "facets": {"type": "object", "additionalProperties": {"type": "object", "additionalProperties": {"type": "integer"}}},
            "limit": {"type": "integer"},
            "pages": {"type": "integer"},
            "params": {"type": "object"},
        },
    },
    "Article": {
        "type": "object",
        "properties": {
            "id": {"type": "string"},
            "title": {"type": "string"},
            "sapo": _STRING_OR_NULL,
            "body": {"type": "string"},
            "url": _STRING_OR_NULL,
            "source": _STRING_OR_NULL,
            "category": _STRING_OR_NULL,
            "published": _STRING_OR_NULL,
            "author": _STRING_OR_NULL,
            "related": {"type": "array", "items": _ref("Hit")},
            "highlighted": {"type": "object", "description": "with q: title, sapo and paragraphs as HTML"},
        },
    },
    "NewArticle": {
        "type": "object",
        "required": ["body"],
        "properties": {
            name: {"type": "string"} for name in ("id", "title", "sapo", "body", "published", "url", "source", "category", "author")
        },
    },
}

# Path (OpenAPI template) → method → operation. A new route adds its entry here.
ROUTES: dict[str, dict[str, dict]] = {
    "/": {"get": {"summary": "The home page: the search box and the newest articles", "tags": ["pages"], "responses": {"200": _html("The page")}}},
    "/search": {
        "get": {
            "summary": "The results page (unknown parameters are ignored)",
            "tags": ["pages"],
            "parameters": parameters(SEARCH_PARAMS, api=False),
            "responses": {"200": _html("The results"), "400": _html("A refused parameter, named")},
        }
    },
    "/article/{article_id}": {
        "get": {
            "summary": "One article's page",
            "tags": ["pages"],
            "parameters": [ARTICLE_ID, *parameters(ARTICLE_PARAMS)],
            "responses": {"200": _html("The article"), "404": _html("No such article")},
        }
    },
    "/static/{filename}": {
        "get": {
            "summary": "The stylesheet and scripts",
            "tags": ["pages"],
            "parameters": [{"name": "filename", "in": "path", "required": True, "schema": {"type": "string"}}],
            "responses": {"200": {"description": "The file"}, "404": {"description": "No such file"}},
        }
    },
    "/api": {
        "get": {
            "summary": "The API's routes",
            "tags": ["api"],
            "responses": {"200": _json({"type": "object"}, "The routes, and where this document is")},
        }
    },
    "/api/openapi.json": {
        "get": {"summary": "This document", "tags": ["api"], "responses": {"200": _json({"type": "object"}, "OpenAPI 3.1")}}
    },
    "/api/search": {
        "get": {
            "summary": "Search (no q: the newest articles matching the filters)",
            "tags": ["api"],
            "parameters": parameters(SEARCH_PARAMS),
            "responses": {"200": _json(_ref("SearchResults"), "A page of hits"), "400": ERROR, "503": INDEX_TROUBLE},
        }
    },
    "/api/articles/{article_id}": {
        "get": {
            "summary": "One article",
            "tags": ["api"],
            "parameters": [ARTICLE_ID, *parameters(ARTICLE_PARAMS)],
            "responses": {"200": _json(_ref("Article"), "The article"), "400": ERROR, "404": ERROR, "503": INDEX_TROUBLE},
        },
        "delete": {
            "summary": "Remove an article (needs the server's VNSEARCH_API_TOKEN)",
            "tags": ["ingest"],
            "security": BEARER,
            "parameters": [ARTICLE_ID],
            "responses": {"200": _json({"type": "object"}, "Deleted"), "401": ERROR, "404": ERROR, "503": ERROR},
        },
    },
    "/api/articles": {
        "post": {
            "summary": "Index one article or a list of them (needs the server's VNSEARCH_API_TOKEN)",
            "tags": ["ingest"],
            "security": BEARER,
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": {"oneOf": [_ref("NewArticle"), {"type": "array", "items": _ref("NewArticle")}]}}},
            },
            "responses": {
                "200": _json({"type": "object"}, "Nothing new (every article unchanged)"),
                "201": _json({"type": "object"}, "Indexed"),
                "400": ERROR,
                "401": ERROR,
                "413": ERROR,
                "503": ERROR,
            },
        }
    },
}  # fmt: skip


def openapi_document() -> dict:
    """The whole OpenAPI 3.1 document."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "vnsearch",
            "version": VERSION,
            "description": "Search Vietnamese news: the search page and its JSON API. An unknown API parameter is a 400 naming it.",
        },
        "paths": ROUTES,
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }
