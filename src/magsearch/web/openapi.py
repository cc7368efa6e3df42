"""The OpenAPI 3.1 document of the JSON API. Its schemas are JSON Schema 2020-12, and the tests
validate real responses of the running app against them, so it says what the API does."""

from __future__ import annotations

from typing import Any

from magsearch import exports
from magsearch.cite import FORMATS
from magsearch.search import FILTER_FIELDS, MAX_PAGE, MAX_PER_PAGE, SORTS

from .common import ANCHOR_RE, ID_RE, VERSION_RE


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _obj(
    props: dict[str, Any], required: list[str] | None = None, closed: bool = True
) -> dict[str, Any]:
    schema: dict[str, Any] = {
        "type": "object",
        "properties": props,
        "required": required or list(props),
    }
    if closed:
        schema["additionalProperties"] = False
    return schema


_S = {"type": "string"}
_INT = {"type": "integer"}
_OPT_INT = {"type": ["integer", "null"]}
_STRS = {"type": "array", "items": _S}
_COUNTS = {"type": "object", "additionalProperties": {"type": "integer", "minimum": 0}}

SCHEMAS: dict[str, Any] = {
    "Error": _obj(
        {
            "status": _INT,
            "error": _S,
            "message": _S,
            "citation": {"type": "string", "description": "a withdrawn document's citation (410)"},
            "reason": {"type": "string", "description": "why it was withdrawn (410)"},
        },
        ["status", "error", "message"],
    ),
    "HitPassage": _obj(
        {
            "anchor": _S,
            "page": _OPT_INT,
            "label": _S,
            "heading": _S,
            "ocr": {
                "type": "boolean",
                "description": "the text was read by OCR from a scanned page",
            },
            "snippet": {"type": "string", "description": "escaped HTML; only <mark> tags"},
        }
    ),
    "Hit": _obj(
        {
            "id": _S,
            "version": _S,
            "title": _S,
            "kind": _S,
            "genre": {"enum": ["", "press release", "summary", "commentary"]},
            "date": _S,
            "date_basis": {"enum": ["decided", "enacted", "published", "issued"]},
            "current_to": _S,
            "court": _S,
            "jurisdiction": _S,
            "identifiers": _STRS,
            "citation": _S,
            "cite": _obj({"bluebook": _S, "oscola": _S, "mcgill": _S}),
            "score": {"type": "number"},
            "restricted": {
                "type": "boolean",
                "description": "only ever true for a signed-in archivist (others never see it)",
            },
            "withdrawn": {
                "type": "string",
                "description": "as of a past time: why the document was withdrawn since ('' if not)",
            },
            "current": {
                "type": "boolean",
                "description": "the version that matched is still the document's current one",
            },
            "snippet": _S,
            "passages": {"type": "array", "items": _ref("HitPassage")},
            "outside": {
                "type": "boolean",
                "description": "found only in the text outside the main text (no passage)",
            },
            "explain": _ref("Explanation"),
        },
        required=[
            "id",
            "version",
            "title",
            "kind",
            "genre",
            "date",
            "date_basis",
            "current_to",
            "court",
            "jurisdiction",
            "identifiers",
            "citation",
            "cite",
            "score",
            "restricted",
            "withdrawn",
            "current",
            "snippet",
            "passages",
            "outside",
        ],  # and "explain" when asked for (explain=1)
    ),
    "Explanation": _obj(
        {
            "score": {"type": "number", "description": "the hit's score"},
            "base": {"type": "number", "description": "the score of the query (sum of parts)"},
            "ranked_on": _S,
            "parts": {
                "type": "array",
                "description": "each term, phrase or proximity match in each field; the "
                "contributions of the parts and the steps add up to the score",
                "items": _obj(
                    {
                        "kind": _S,
                        "field": _S,
                        "term": _S,
                        "score": {"type": "number"},
                        "contribution": {"type": "number"},
                        "tf": {"type": "number"},
                        "idf": {"type": "number"},
                        "field_weight": {"type": "number"},
                        "query_weight": {"type": "number"},
                        "length": _INT,
                        "average_length": {"type": "number"},
                        "B": {"type": "number"},
                        "K1": {"type": "number"},
                    },
                    required=["kind", "field", "term", "score", "contribution"],
                ),
            },
            "steps": {
                "type": "array",
                "items": _obj(
                    {
                        "step": _S,
                        "detail": _S,
                        "factor": {"type": "number"},
                        "change": {"type": "number"},
                        "contribution": {"type": "number"},
                    },
                    required=["step", "detail"],
                ),
            },
            "passages": {
                "type": "array",
                "items": _obj({"anchor": _S, "score": {"type": "number"}}),
            },
        }
    ),
    "SearchResponse": _obj(
        {
            "query": _S,
            "within": {
                "type": "string",
                "description": "the query searched within the results of `query` ('' for none)",
            },
            "sort": {"enum": list(SORTS)},
            "as_of": {
                "type": "string",
                "description": "the time (UTC) the results are as of, when as_of was asked for "
                "(normalised: 2026-12-04T18:13:51Z); '' for a search of the archive as it is",
            },
            "historic": {"type": "boolean", "description": "as_of was asked for"},
            "added_since": {
                "type": "integer",
                "minimum": 0,
                "description": "documents added after as_of, which a historic search leaves out",
            },
            "interpreted": _S,
            "total": {"type": "integer", "minimum": 0},
            "page": _INT,
            "per_page": _INT,
            "partial": {"type": "boolean"},
            "suggestion": _S,
            "notes": _STRS,
            "facets": {
                "type": "object",
                "properties": {f: _COUNTS for f in FILTER_FIELDS},
                "additionalProperties": _COUNTS,
            },
            "hits": {"type": "array", "items": _ref("Hit")},
        }
    ),
    "Document": _obj(
        {
            "id": _S,
            "kind": {"enum": ["ruling", "legislation", "article", "other"]},
            "title": _S,
            "date": _S,
            "court": _S,
            "jurisdiction": _S,
            "language": _S,
            "source_url": _S,
            "identifiers": _STRS,
            "meta": {"type": "object"},
            "current_version": _S,
            "created_at": _S,
            "withdrawn": _S,
            "restricted": {"type": "boolean"},
        }
    ),
    "Version": _obj(
        {
            "sha256": {"type": "string", "pattern": VERSION_RE.pattern},
            "doc_id": _S,
            "seq": {"type": "integer", "minimum": 1},
            "media_type": _S,
            "size": _INT,
            "filename": _S,
            "ingested_at": _S,
            "pages": _OPT_INT,
            "warnings": _STRS,
        }
    ),
    "Passage": _obj(
        {
            "seq": _INT,
            "anchor": _S,
            "label": _S,
            "text": _S,
            "page": _OPT_INT,
            "page_end": _OPT_INT,
            "heading": _S,
            "ocr": {
                "type": "boolean",
                "description": "the text was read by OCR from a scanned page",
            },
            "language": {
                "type": "string",
                "description": "ISO 639-1, only where it differs from the document's",
            },
        }
    ),
    "Citation": _obj(
        {"raw": _S, "normalized": _S, "family": _S, "start": _INT, "end": _INT, "anchor": _S}
    ),
    "Link": _obj(
        {
            "doc_id": _S,
            "title": _S,
            "normalized": _S,
            "raw": _S,
            "anchor": {"type": "string", "description": "the citing passage's anchor"},
            "label": {
                "type": "string",
                "description": "the citing passage's pinpoint (§ 46, p. 2; empty for an unnumbered one)",
            },
        }
    ),
    "DocumentView": _obj(
        {
            "document": _ref("Document"),
            "version": {"type": "string", "pattern": VERSION_RE.pattern},
            "is_current": {"type": "boolean"},
            "citation": _S,
            "versions": {"type": "array", "items": _ref("Version"), "minItems": 1},
            "passages": {"type": "array", "items": _ref("Passage")},
            "outside": {
                "type": "string",
                "description": "text outside the main text: searchable, in no passage",
            },
            "citations": {"type": "array", "items": _ref("Citation")},
            "cites": {"type": "array", "items": _ref("Link")},
            "cited_by": {"type": "array", "items": _ref("Link")},
            "links": _obj({"html": _S, "pinned": _S, "original": _S, "cite": _S}),
        }
    ),
    "IngestResult": _obj(
        {
            "path": {"type": "string", "description": "the uploaded file's name"},
            "status": {"enum": ["ingested", "new-version", "unchanged", "failed"]},
            "id": {"type": ["string", "null"]},
            "version": {"type": ["string", "null"]},
            "kind": {"type": ["string", "null"]},
            "pages": _OPT_INT,
            "warnings": _STRS,
            "error": {"type": ["string", "null"]},
        },
        closed=False,
    ),
    "JobAccepted": _obj(
        {"job": _S, "state": {"enum": ["queued", "running"]}, "links": _obj({"job": _S})}
    ),
    "Job": _obj(
        {
            "id": _S,
            "state": {"enum": ["queued", "running", "done", "failed"]},
            "created_at": _S,
            "finished_at": _S,
            "actor": _S,
            "source": _S,
            "kind": _S,
            "restricted": {"type": "boolean"},
            "files": {
                "type": "array",
                "items": _obj(
                    {
                        "seq": _INT,
                        "name": _S,
                        "size": _INT,
                        "sha256": _S,
                        "status": {"enum": ["queued", "done", "failed"]},
                        "result": {"anyOf": [{"type": "null"}, _ref("IngestResult")]},
                        "document": {"type": ["string", "null"]},
                    }
                ),
            },
            "links": _obj({"html": _S, "json": _S}),
        }
    ),
    "EditResult": _obj(
        {
            "id": _S,
            "changed": {
                "type": "object",
                "additionalProperties": _obj({"before": {}, "after": {}}),
            },
            "document": {"type": "object"},
            "history": {
                "type": "array",
                "items": _obj(
                    {
                        "at": _S,
                        "actor": _S,
                        "before": {"type": "object"},
                        "after": {"type": "object"},
                    }
                ),
            },
        }
    ),
    "DocumentState": _obj(
        {
            "id": _S,
            "withdrawn": {"type": "string", "description": "the reason, or empty"},
            "restricted": {"type": "boolean"},
            "links": _obj({"html": _S}),
        }
    ),
}


def _error(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ref("Error")}}}


def _ok(description: str, schema: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ref(schema)}}}


def _param(
    name: str, where: str, schema: dict[str, Any], description: str, **kw: Any
) -> dict[str, Any]:
    return {"name": name, "in": where, "schema": schema, "description": description, **kw}


_ID = _param(
    "id", "path", {"type": "string", "pattern": ID_RE.pattern}, "the document id", required=True
)
_VERSION = _param(
    "version",
    "path",
    {"type": "string", "pattern": VERSION_RE.pattern},
    "a version: the sha256 of its original",
    required=True,
)
_AUTH_ERRORS = {
    "401": _error("no valid API token (Authorization: Bearer TOKEN)"),
    "403": _error("the token's user lacks the role this needs"),
}
_BEARER: list[dict[str, list[str]]] = [{"bearer": []}]
_JOB = {
    "name": "job_id",
    "in": "path",
    "schema": {"type": "string", "pattern": "^[a-f0-9]{16}$"},
    "description": "the job's id",
    "required": True,
}


def _write(op: str, summary: str, role: str, **extra: Any) -> dict[str, Any]:
    return {
        "operationId": op,
        "summary": f"{summary} (role: {role})",
        "security": _BEARER,
        **extra,
    }


_DOC_ERRORS = {
    "404": _error("unknown document or version"),
    "410": _error("withdrawn (the citation is kept)"),
}


def _json_body(schema: dict[str, Any]) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": schema}}}


def _export_params() -> list[dict[str, Any]]:
    return [
        _param(
            "as_of",
            "query",
            {"type": "string"},
            "ISO 8601 time in UTC (2026-12-04T18:13:51Z; a date alone is the end of that day): "
            "search the archive as it stood then: the versions current then, documents withdrawn "
            "since included (`withdrawn` says why), documents added since left out "
            "(`added_since` counts them). A malformed or future time is a 400.",
        ),
        _param(
            "format",
            "query",
            {"enum": ["json", *exports.FORMATS], "default": "json"},
            "json: one page of hits; csv, ris, bibtex, csl-json: the first `limit` hits as a file "
            "(page and per_page ignored), one line or entry per document with its citation, "
            "permalink and best passage. An Accept header naming one of their media types does "
            "the same.",
        ),
        _param(
            "limit",
            "query",
            {"type": "integer", "minimum": 1, "maximum": exports.MAX_HITS, "default": 1000},
            "how many hits an export holds",
        ),
    ]


def _search_ok() -> dict[str, Any]:
    files = {
        media.split(";")[0]: {"schema": {"type": "string"}}
        for media in exports.MEDIA_TYPES.values()
    }
    ok = _ok("one page of hits, with facets (JSON); or the export asked for", "SearchResponse")
    ok["content"].update(files)
    ok["headers"] = {
        "X-Result-Total": {
            "description": "exports: how many documents the search found",
            "schema": {"type": "integer"},
        },
        "X-Result-Count": {
            "description": "exports: how many the file holds",
            "schema": {"type": "integer"},
        },
        "X-Result-Partial": {
            "description": "exports: true when the search deadline cut the search short",
            "schema": {"enum": ["true", "false"]},
        },
    }
    return ok


def _search_params() -> list[dict[str, Any]]:
    params = [
        _param(
            "q",
            "query",
            {"type": "string", "minLength": 1, "maxLength": 512},
            'the query: words, "phrases", OR, -word, identifiers (32631/09, Pub. L. 112-208)',
            required=True,
        ),
        _param(
            "within",
            "query",
            {"type": "string", "maxLength": 512},
            "a second query searched within the results of q (both must match)",
        ),
        _param("sort", "query", {"enum": list(SORTS), "default": "relevance"}, "order of hits"),
        _param(
            "explain",
            "query",
            {"enum": ["0", "1"], "default": "0"},
            "1: each hit says why it scored as it did (`explain`)",
        ),
        _param(
            "page",
            "query",
            {"type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": 1},
            "1-based page",
        ),
        _param(
            "per_page",
            "query",
            {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE, "default": 10},
            "hits per page",
        ),
    ]
    for name in FILTER_FIELDS:
        params.append(
            _param(
                name,
                "query",
                {"type": "array", "items": {"type": "string"}},
                f"filter by {name} (repeat for several: any of them)",
                style="form",
                explode=True,
            )
        )
    return params


def _verify_spec() -> tuple[dict[str, Any], dict[str, Any]]:
    """POST /api/verify and its report's schemas (magsearch.verify)."""
    link = _obj({"anchor": _S, "label": _S, "page": _OPT_INT, "url": _S})
    doc = _obj({"id": _S, "title": _S, "withdrawn": {"type": "boolean"}, "url": _S})
    nullable = lambda name: {"oneOf": [_ref(name), {"type": "null"}]}  # noqa: E731
    common = {
        "start": {"type": "integer", "description": "character offset in the text"},
        "end": {"type": "integer", "description": "character offset just past it"},
        "text": _S,
        "document": nullable("VerifyDocument"),
        "passage": nullable("VerifyPassage"),
        "note": _S,
    }
    citation = _obj(
        {
            "type": {"const": "citation"},
            **common,
            "family": _S,
            "normalized": _STRS,
            "pinpoint": {"type": "string", "description": '"§ 41", "s. 4(1)", "at 1497" or ""'},
            "status": {"enum": ["found", "not in the archive", "no such paragraph", "withdrawn"]},
        },
        ["type", "start", "end", "text", "family", "normalized", "pinpoint", "status",
         "document", "passage"],
    )  # fmt: skip
    quotation = _obj(
        {
            "type": {"const": "quotation"},
            **common,
            "block": {"type": "boolean", "description": "an indented block quotation"},
            "status": {"enum": ["exact", "altered", "not found"]},
            "attributed_to": {
                "oneOf": [_obj({"start": _INT, "text": _S}), {"type": "null"}],
                "description": "the citation next to it, or null (checked against the archive)",
            },
            "passages": {"type": "array", "items": _ref("VerifyPassage")},
            "differences": {
                "type": "array",
                "items": _obj(
                    {"op": {"enum": ["changed", "added", "left out"]}, "quoted": _S, "source": _S}
                ),
            },
            "found_elsewhere": _obj(
                {"id": _S, "title": _S, "withdrawn": {"type": "boolean"}, "anchor": _S,
                 "label": _S, "exact": {"type": "boolean"}, "url": _S}
            ),  # fmt: skip
        },
        ["type", "start", "end", "text", "block", "status", "attributed_to", "document",
         "passage", "passages", "differences"],
    )  # fmt: skip
    schemas = {
        "VerifyDocument": doc,
        "VerifyPassage": link,
        "VerifyReport": _obj(
            {
                "characters": _INT,
                "citations": _INT,
                "quotations": _INT,
                "summary": {
                    **_COUNTS,
                    "description": '"citation:found": 3, "quotation:altered": 1…',
                },
                "problems": {"type": "integer", "description": "items neither found nor exact"},
                "ok": {"type": "boolean"},
                "items": {
                    "type": "array",
                    "items": {"oneOf": [citation, quotation]},
                    "description": "citations and quotations in the order of the text",
                },
            }
        ),
    }
    path = {
        "post": {
            "operationId": "verify",
            "summary": "Check a text's citations and quotations against the archive",
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {"schema": _obj({"text": {"type": "string", "minLength": 1}})},
                    "multipart/form-data": {
                        "schema": _obj(
                            {"file": {"type": "string", "contentMediaType": "application/octet-stream",
                                      "description": "a text, PDF or HTML file (not stored)"}}
                        )
                    },
                },
            },
            "responses": {
                "200": _ok("the report", "VerifyReport"),
                "400": _error("neither JSON {text} nor a file"),
                "413": _error("larger than the file size limit"),
                "422": _error("an empty text, or a file that cannot be read"),
                "429": _error("too many requests from this address"),
            },
        }
    }  # fmt: skip
    return schemas, path


def document(server: str = "") -> dict[str, Any]:
    verify_schemas, verify_path = _verify_spec()
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "magsearch API",
            "version": "1",
            "description": "Search and read an archive of rulings, legislation and articles. "
            f"Citation formats at /d/{{id}}/cite: {', '.join(FORMATS)}. Anchors match "
            f"{ANCHOR_RE.pattern}.",
        },
        "servers": [{"url": server or "/"}],
        "paths": {
            "/api/search": {
                "get": {
                    "operationId": "search",
                    "summary": "Full-text search",
                    "parameters": [*_search_params(), *_export_params()],
                    "responses": {
                        "200": _search_ok(),
                        "400": _error("a query or parameter that cannot be understood"),
                        "503": _error("the index is busy; retry later"),
                    },
                }
            },
            "/api/documents/{id}": {
                "get": {
                    "operationId": "getDocument",
                    "summary": "A document's current version",
                    "parameters": [_ID],
                    "responses": {"200": _ok("the document", "DocumentView"), **_DOC_ERRORS},
                },
                "patch": _write(
                    "editDocument",
                    "Edit a document's metadata (sidecar fields; `restricted` too)",
                    "archivist",
                    parameters=[_ID],
                    requestBody=_json_body({"type": "object"}),
                    responses={
                        "200": _ok("what changed, the fields now, the edit history", "EditResult"),
                        "400": _error("a field that cannot be set so (named in the message)"),
                        "404": _error("unknown document"),
                        **_AUTH_ERRORS,
                    },
                ),
            },
            "/api/documents/{id}/versions/{version}": {
                "get": {
                    "operationId": "getDocumentVersion",
                    "summary": "One fixed version of a document",
                    "parameters": [_ID, _VERSION],
                    "responses": {
                        "200": _ok("the document as in that version", "DocumentView"),
                        **_DOC_ERRORS,
                    },
                }
            },
            "/api/documents": {
                "post": _write(
                    "uploadDocument",
                    "Upload a file to ingest",
                    "archivist",
                    parameters=[
                        _param(
                            "Prefer",
                            "header",
                            {"type": "string"},
                            "respond-async: answer 202 at once instead of waiting",
                        )
                    ],
                    requestBody={
                        "required": True,
                        "content": {
                            "multipart/form-data": {
                                "schema": _obj(
                                    {
                                        "file": {
                                            "type": "string",
                                            "contentMediaType": "application/octet-stream",
                                        },
                                        "metadata": {
                                            "type": "string",
                                            "description": "JSON object of sidecar fields",
                                        },
                                        "kind": {
                                            "enum": ["ruling", "legislation", "article", "other"]
                                        },
                                        "restricted": {"enum": ["true", "false"]},
                                    },
                                    ["file"],
                                )
                            }
                        },
                    },
                    responses={
                        "201": _ok(
                            "stored and searchable: a line of `magsearch ingest --json`",
                            "IngestResult",
                        ),
                        "202": _ok("queued: follow the job", "JobAccepted"),
                        "400": _error("no file, or invalid metadata"),
                        "413": _error("over the size limit"),
                        "415": _error("a format magsearch cannot read"),
                        "422": _error("empty, damaged or encrypted"),
                        **_AUTH_ERRORS,
                    },
                )
            },
            "/api/jobs/{job_id}": {
                "get": _write(
                    "getJob",
                    "An ingest job: its state and each file's outcome",
                    "archivist",
                    parameters=[_JOB],
                    responses={
                        "200": _ok("the job", "Job"),
                        "404": _error("no such job"),
                        **_AUTH_ERRORS,
                    },
                )
            },
            "/api/jobs/{job_id}/files/{seq}/retry": {
                "post": _write(
                    "retryJobFile",
                    "Queue a failed file of a job again",
                    "archivist",
                    parameters=[
                        _JOB,
                        _param(
                            "seq",
                            "path",
                            {"type": "integer", "minimum": 1},
                            "the file's number in the job",
                            required=True,
                        ),
                    ],
                    responses={
                        "202": _ok("queued again", "Job"),
                        "404": _error("no such failed file"),
                        **_AUTH_ERRORS,
                    },
                )
            },
            "/api/documents/{id}/withdraw": {
                "post": _write(
                    "withdrawDocument",
                    "Withdraw a document: it leaves search; its page answers 410",
                    "archivist",
                    parameters=[_ID],
                    requestBody=_json_body(_obj({"reason": {"type": "string", "minLength": 1}})),
                    responses={
                        "200": _ok("withdrawn", "DocumentState"),
                        "400": _error("no reason given"),
                        "404": _error("unknown document"),
                        **_AUTH_ERRORS,
                    },
                )
            },
            "/api/documents/{id}/restore": {
                "post": _write(
                    "restoreDocument",
                    "Bring a withdrawn document back",
                    "admin",
                    parameters=[_ID],
                    responses={
                        "200": _ok("restored", "DocumentState"),
                        "404": _error("unknown or not withdrawn"),
                        **_AUTH_ERRORS,
                    },
                )
            },
            "/api/verify": verify_path,
            "/api/openapi.json": {
                "get": {
                    "operationId": "openapi",
                    "summary": "This document",
                    "responses": {
                        "200": {
                            "description": "OpenAPI 3.1",
                            "content": {"application/json": {"schema": {"type": "object"}}},
                        }
                    },
                }
            },
        },
        "components": {
            "schemas": {**SCHEMAS, **verify_schemas},
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "a token from `magsearch token create NAME`",
                }
            },
        },
    }
