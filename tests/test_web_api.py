"""The JSON API against its own OpenAPI document: real responses of the running app are validated
against the schemas the document gives for their path and status."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from jsonschema import Draft202012Validator

from webfixtures import (
    AMENDED_ID,
    HOSTILE_ID,
    RULING_ID,
    WITHDRAWN_ID,
    Sample,
)


@pytest.fixture(scope="module")
def spec(app: Flask) -> dict[str, Any]:
    r = app.test_client().get("/api/openapi.json")
    assert r.status_code == 200 and r.mimetype == "application/json"
    return r.json  # type: ignore[no-any-return]


def check(spec: dict[str, Any], client: FlaskClient, path: str, url: str, status: int) -> Any:
    """GET url, expect status, and validate the body against the spec's schema for path/status."""
    r = client.get(url)
    assert r.status_code == status, (url, r.status_code, r.data[:300])
    assert r.mimetype == "application/json"
    responses = spec["paths"][path]["get"]["responses"]
    assert str(status) in responses, f"{path} answers {status}, which the OpenAPI document omits"
    schema = responses[str(status)]["content"]["application/json"]["schema"]
    validator = Draft202012Validator({**schema, "components": spec["components"]})
    errors = sorted(validator.iter_errors(r.json), key=lambda e: list(e.path))
    assert not errors, f"{url}: " + "; ".join(f"{list(e.path)}: {e.message}" for e in errors[:5])
    return r.json


def test_the_document_is_openapi_31_with_valid_schemas(spec: dict[str, Any]) -> None:
    assert spec["openapi"] == "3.1.0"
    assert spec["info"]["title"] and spec["info"]["version"]
    for name, schema in spec["components"]["schemas"].items():
        Draft202012Validator.check_schema(schema), name
    for path, item in spec["paths"].items():
        for method, op in item.items():
            assert op["responses"] and op["operationId"], (path, method)
            for p in op.get("parameters", []):
                Draft202012Validator.check_schema(p["schema"])
                if p["in"] == "path":
                    assert "{" + p["name"] + "}" in path and p["required"] is True


def test_every_api_route_is_documented_and_nothing_else(app: Flask, spec: dict[str, Any]) -> None:
    routes: dict[str, set[str]] = {}
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/"):
            path = re.sub(r"<(?:\w+:)?doc_id>", "{id}", rule.rule)
            path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", path)
            assert rule.methods
            routes.setdefault(path, set()).update(m.lower() for m in rule.methods)
    assert set(routes) == set(spec["paths"])
    for path, methods in routes.items():
        assert methods - {"head", "options"} == set(spec["paths"][path]), path


def test_search(spec: dict[str, Any], client: FlaskClient) -> None:
    body = check(spec, client, "/api/search", "/api/search?q=medical+care", 200)
    assert body["total"] >= 2 and body["hits"][0]["passages"]
    assert set(body["facets"]) >= {"kind", "court", "jurisdiction", "year"}
    filtered = check(
        spec, client, "/api/search", "/api/search?q=magnitsky&kind=legislation&year=2012", 200
    )
    assert {h["kind"] for h in filtered["hits"]} == {"legislation"}
    assert {h["date"][:4] for h in filtered["hits"]} == {"2012"}
    ident = check(spec, client, "/api/search", "/api/search?q=Pub.+L.+112-208", 200)
    assert ident["hits"][0]["id"] == "us-magnitsky-act-2012"
    check(spec, client, "/api/search", "/api/search?q=zzzzqqqxxyy", 200)


def test_search_parameters_behave_as_documented(spec: dict[str, Any], client: FlaskClient) -> None:
    params = {p["name"]: p for p in spec["paths"]["/api/search"]["get"]["parameters"]}
    assert params["q"]["required"] is True
    check(spec, client, "/api/search", "/api/search", 400)
    for name in ("page", "per_page"):
        low, high = params[name]["schema"]["minimum"], params[name]["schema"]["maximum"]
        for ok in (low, high):
            body = check(spec, client, "/api/search", f"/api/search?q=magnitsky&{name}={ok}", 200)
            assert body[name] == ok
        for bad in (low - 1, high + 1, "x"):
            check(spec, client, "/api/search", f"/api/search?q=magnitsky&{name}={bad}", 400)
    for sort in params["sort"]["schema"]["enum"]:
        check(spec, client, "/api/search", f"/api/search?q=magnitsky&sort={sort}", 200)
    check(spec, client, "/api/search", "/api/search?q=magnitsky&sort=random", 400)
    long_q = "a" * (params["q"]["schema"]["maxLength"] + 1)
    check(spec, client, "/api/search", f"/api/search?q={long_q}", 400)


def test_documents(spec: dict[str, Any], client: FlaskClient, sample: Sample) -> None:
    path = "/api/documents/{id}"
    ruling = check(spec, client, path, f"/api/documents/{RULING_ID}", 200)
    assert ruling["is_current"] and ruling["document"]["id"] == RULING_ID
    assert any(p["anchor"] == "para-31" for p in ruling["passages"])
    assert ruling["cited_by"] and ruling["links"]["pinned"].endswith(ruling["version"])
    amended = check(spec, client, path, f"/api/documents/{AMENDED_ID}", 200)
    assert [v["sha256"] for v in amended["versions"]] == [
        sample.first_version,
        sample.second_version,
    ]
    check(spec, client, path, f"/api/documents/{HOSTILE_ID}", 200)
    check(spec, client, path, "/api/documents/no-such-doc", 404)
    check(spec, client, path, "/api/documents/..%2f..%2fetc", 404)
    gone = check(spec, client, path, f"/api/documents/{WITHDRAWN_ID}", 410)
    assert "quokka" in gone["citation"] and gone["reason"] == "superseded by a corrected note"


def test_document_versions(spec: dict[str, Any], client: FlaskClient, sample: Sample) -> None:
    path = "/api/documents/{id}/versions/{version}"
    old = check(
        spec, client, path, f"/api/documents/{AMENDED_ID}/versions/{sample.first_version}", 200
    )
    assert old["is_current"] is False and old["version"] == sample.first_version
    assert any(p["anchor"] == "sec-1265" for p in old["passages"])
    check(spec, client, path, f"/api/documents/{RULING_ID}/versions/{sample.first_version}", 404)
    check(spec, client, path, f"/api/documents/{AMENDED_ID}/versions/{'f' * 64}", 404)
    check(spec, client, path, f"/api/documents/{AMENDED_ID}/versions/nothex", 404)


def test_openapi_describes_itself(spec: dict[str, Any], client: FlaskClient) -> None:
    check(spec, client, "/api/openapi.json", "/api/openapi.json", 200)
    assert spec["servers"] == [{"url": "http://localhost"}]


def test_unknown_api_routes_and_methods_are_json(client: FlaskClient) -> None:
    r = client.get("/api/nothing-here")
    assert r.status_code == 404 and r.json["status"] == 404
    r = client.delete(f"/api/documents/{RULING_ID}")
    assert r.status_code == 405 and r.json["error"] == "Method not allowed"


SEARCH_KEYS = [
    "query", "within", "sort", "as_of", "historic", "added_since", "interpreted", "total", "page", "per_page",
    "partial", "suggestion", "notes", "facets", "hits",
]  # fmt: skip
HIT_KEYS = [
    "id", "version", "title", "kind", "date", "date_basis", "current_to", "genre", "court",
    "jurisdiction", "identifiers", "citation", "cite", "score", "restricted", "withdrawn",
    "current", "snippet", "passages", "outside",
]  # fmt: skip
PASSAGE_KEYS = ["anchor", "page", "label", "heading", "ocr", "snippet"]


def test_search_json_is_the_service_response_field_for_field(
    spec: dict[str, Any], client: FlaskClient, app: Flask
) -> None:
    """The API's JSON is the typed response of the search service serialised, with the keys in the
    documented order (the CLI's --json keeps it), lists as lists and nothing added or lost."""
    body = check(spec, client, "/api/search", "/api/search?q=magnitsky&per_page=5", 200)
    res = app.extensions["magsearch"].get().search.search("magnitsky", per_page=5)
    out = res.to_json()
    assert list(out) == SEARCH_KEYS and sorted(body) == sorted(SEARCH_KEYS)
    assert body == json.loads(json.dumps(out))
    assert len(res.hits) == len(body["hits"]) >= 2
    for hit, raw in zip(res.hits, out["hits"], strict=True):
        assert list(raw) == HIT_KEYS
        assert raw["id"] == hit.id and raw["score"] == hit.score and raw["cite"] == hit.cite
        assert isinstance(raw["identifiers"], list) and raw["identifiers"] == list(hit.identifiers)
        assert isinstance(raw["passages"], list) and raw["passages"]
        assert all(list(p) == PASSAGE_KEYS for p in raw["passages"])
        assert [p["anchor"] for p in raw["passages"]] == [p.anchor for p in hit.passages]
        assert raw["snippet"] == raw["passages"][0]["snippet"]
