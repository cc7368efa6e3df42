"""Archivists' pages and API writes: withdraw, restore, restrict (upload, jobs and editing too).

Pages post forms with their CSRF token and answer with a redirect; the API takes JSON and a Bearer
token. Every write goes through `magsearch.curation`, which audits it and updates the index.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, redirect, request

from magsearch import curation
from magsearch.errors import QueryError

from .auth import actor, require
from .common import doc_url, library, valid_id

bp = Blueprint("curate", __name__)
api = Blueprint("curate_api", __name__, url_prefix="/api")


def _reason(value: Any) -> str:
    reason = " ".join(str(value or "").split())
    if not reason:
        raise QueryError("a reason is required to withdraw a document")
    if len(reason) > curation.REASON_MAX:
        raise QueryError(f"the reason is too long (at most {curation.REASON_MAX} characters)")
    return reason


def _json_body() -> dict[str, Any]:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise QueryError("the body must be a JSON object")
    return body


# -- pages -----------------------------------------------------------------------------------------
@bp.post("/d/<doc_id>/withdraw")
@require("archivist")
def withdraw(doc_id: str) -> Any:
    lib = library()
    curation.withdraw(lib, valid_id(doc_id), _reason(request.form.get("reason")), actor=actor())
    return redirect(doc_url(doc_id), 303)


@bp.post("/d/<doc_id>/restore")
@require("admin")
def restore(doc_id: str) -> Any:
    curation.restore(library(), valid_id(doc_id), actor=actor())
    return redirect(doc_url(doc_id), 303)


@bp.post("/d/<doc_id>/restrict")
@require("archivist")
def restrict(doc_id: str) -> Any:
    on = request.form.get("restricted") == "1"
    curation.set_restricted(library(), valid_id(doc_id), on, actor=actor())
    return redirect(doc_url(doc_id), 303)


# -- the API ---------------------------------------------------------------------------------------
@api.post("/documents/<doc_id>/withdraw")
@require("archivist")
def api_withdraw(doc_id: str) -> Any:
    lib = library()
    curation.withdraw(lib, valid_id(doc_id), _reason(_json_body().get("reason")), actor=actor())
    return jsonify(_state(doc_id))


@api.post("/documents/<doc_id>/restore")
@require("admin")
def api_restore(doc_id: str) -> Any:
    curation.restore(library(), valid_id(doc_id), actor=actor())
    return jsonify(_state(doc_id))


def _state(doc_id: str) -> dict[str, Any]:
    doc = library().archive.get_document(doc_id)
    return {
        "id": doc.id,
        "withdrawn": doc.withdrawn,
        "restricted": doc.restricted,
        "links": {"html": doc_url(doc.id, external=True)},
    }
