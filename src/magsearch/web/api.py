"""The JSON API: search, documents and their versions, and the OpenAPI document describing them.

Errors are JSON too ({"status", "error", "message"}; a withdrawn document's 410 keeps its
"citation"), with the statuses the OpenAPI document lists.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request, url_for

from magsearch import exports, views

from . import openapi
from .auth import sees_restricted
from .common import doc_url, library, search_params, valid_id, valid_version
from .pages import export_search

bp = Blueprint("api", __name__, url_prefix="/api")


@bp.get("/search")
def search() -> Any:
    """JSON; or an export of the first hits with `format=` (csv, ris, bibtex, csl-json) or an
    Accept header naming one of their media types."""
    fmt = request.args.get("format")
    if fmt is None:
        best = request.accept_mimetypes.best_match(["application/json", *exports.ACCEPTED])
        fmt = exports.ACCEPTED.get(best or "")
    if fmt is not None and fmt != "json":
        return export_search(fmt)
    params = search_params(request.args)
    q = params.pop("q")
    result = library().search.search(q, **params, include_restricted=sees_restricted())
    return jsonify(result.to_json())


@bp.get("/documents/<doc_id>")
def document(doc_id: str) -> Any:
    return jsonify(_document(valid_id(doc_id), None))


@bp.get("/documents/<doc_id>/versions/<version>")
def version(doc_id: str, version: str) -> Any:
    return jsonify(_document(valid_id(doc_id), valid_version(version)))


def _document(doc_id: str, version: str | None) -> dict[str, Any]:
    lib = library()
    see = sees_restricted()
    views.available_document(lib.archive, doc_id, include_restricted=see)
    view = views.document_view(lib.archive, doc_id, version, include_restricted=see)
    view["links"] = {
        "html": doc_url(doc_id, external=True),
        "pinned": doc_url(doc_id, view["version"], external=True),
        "original": url_for(
            "documents.version_original", doc_id=doc_id, version=view["version"], _external=True
        ),
        "cite": url_for("documents.citation", doc_id=doc_id, _external=True),
    }
    return view


@bp.get("/openapi.json")
def openapi_document() -> Any:
    return jsonify(openapi.document(url_for("pages.home", _external=True).rstrip("/")))
