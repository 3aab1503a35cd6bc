"""GET /api/openapi.json: a valid OpenAPI 3.1 document that describes every route of the app."""

from __future__ import annotations

import re

from openapi_spec_validator import validate

from search_ui.params import SEARCH_PARAMS


def document(client) -> dict:
    r = client.get("/api/openapi.json")
    assert r.status_code == 200 and r.mimetype == "application/json"
    return r.get_json()


def test_the_document_is_valid_openapi_3_1(client):
    doc = document(client)
    assert doc["openapi"] == "3.1.0"
    validate(doc)  # raises on the first error


def test_every_route_and_method_of_the_app_is_described(app, client):
    paths = document(client)["paths"]
    missing = []
    for rule in app.url_map.iter_rules():
        path = re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule.rule).rstrip("/") or "/"
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            if method.lower() not in paths.get(path, {}):
                missing.append(f"{method} {path}")
    assert missing == []


def test_the_search_parameters_are_the_validated_ones(client):
    paths = document(client)["paths"]
    api = [p["name"] for p in paths["/api/search"]["get"]["parameters"]]
    page = [p["name"] for p in paths["/search"]["get"]["parameters"]]
    assert api == [p.name for p in SEARCH_PARAMS]
    assert page == [p.name for p in SEARCH_PARAMS if not p.api_only] == [
        "q", "page", "limit", "sort", "source", "category", "since", "until", "group",
    ]
    source = next(p for p in paths["/api/search"]["get"]["parameters"] if p["name"] == "source")
    assert source["schema"] == {"type": "array", "items": {"type": "string", "maxLength": 200}} and source["explode"]


def test_a_documented_parameter_is_accepted_and_an_undocumented_one_refused(client):
    for p in SEARCH_PARAMS:
        if p.name not in ("offset",):  # offset is tried below: it excludes page
            assert client.get("/api/search", query_string={p.name: ""}).status_code == 200, p.name
    assert client.get("/api/search", query_string={"offset": "0"}).status_code == 200
    assert client.get("/api/search", query_string={"nope": ""}).status_code == 400
