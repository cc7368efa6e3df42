"""Verify a brief: the /verify page (paste text or upload a text, PDF or HTML file) and
POST /api/verify (JSON in, JSON out). The work is `magsearch.verify`; an upload is parsed in the
isolated worker and never stored."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, render_template, request

from magsearch import verify as verifying

from .auth import sees_restricted
from .common import doc_url, library
from .errors import respond

bp = Blueprint("verify", __name__)
api = Blueprint("verify_api", __name__, url_prefix="/api")
MAX_PASTE = 2_000_000  # characters of pasted text (about 300 pages)


def _allow_size() -> None:
    """A brief may be as large as one ingested file (the default body limit is 1 MB)."""
    request.max_content_length = library().settings.max_file_mb * 1024 * 1024 + 64 * 1024
    request.max_form_memory_size = MAX_PASTE * 4 + 64 * 1024


def _link(doc_id: str, anchor: str) -> str:
    if anchor:
        from flask import url_for

        return url_for("documents.anchor", doc_id=doc_id, anchor=anchor, _external=True)
    return doc_url(doc_id, external=True)


def _report(text: str) -> dict[str, Any]:
    return verifying.verify_text(library(), text, include_restricted=sees_restricted(), link=_link)


def _uploaded_text(field: str) -> str | None:
    upload = request.files.get(field)
    if upload is None or not (upload.filename or upload.content_length):
        return None
    return verifying.read_brief(
        upload.read(), library().settings, name=upload.filename or "the uploaded file"
    )


@bp.route("/verify", methods=["GET", "POST"])
def verify_page() -> Any:
    if request.method == "GET":
        return render_template("verify.html", text="", report=None, error="")
    _allow_size()
    text = request.form.get("text", "")
    try:
        uploaded = _uploaded_text("file")
        if uploaded is not None:
            text = uploaded
        report = _report(text)
    except verifying.BriefError as exc:
        page = render_template("verify.html", text=text, report=None, error=str(exc))
        return page, 422
    return render_template("verify.html", text=text, report=report, error="")


@api.post("/verify")
def verify_api() -> Any:
    """{"text": "..."} (or a multipart form with `file`) in; the report out."""
    _allow_size()
    try:
        if request.mimetype == "multipart/form-data":
            text = _uploaded_text("file")
            if text is None:
                text = request.form.get("text", "")
        else:
            body = request.get_json(silent=True)
            if not isinstance(body, dict) or not isinstance(body.get("text"), str):
                return respond(400, 'send JSON {"text": "..."} or a multipart form with "file"')
            text = body["text"]
        return jsonify(_report(text))
    except verifying.BriefError as exc:
        return respond(422, str(exc))
