"""Archivists' pages and API writes: withdraw, restore, restrict (upload, jobs and editing too).

Pages post forms with their CSRF token and answer with a redirect; the API takes JSON and a Bearer
token. Every write goes through `magsearch.curation`, which audits it and updates the index.
"""

from __future__ import annotations

import time
from typing import Any

from flask import Blueprint, current_app, jsonify, redirect, render_template, request, url_for

from magsearch import curation, jobs
from magsearch.errors import NotFound, QueryError

from .auth import actor, require
from .common import doc_url, library, valid_id

KINDS = ("ruling", "legislation", "article", "other")
FORM_FIELDS = ("title", "date", "court", "jurisdiction", "source_url", "language", "publisher")

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


# -- upload and jobs -------------------------------------------------------------------------------
def _runner() -> jobs.Runner:
    holder = current_app.extensions["magsearch"]
    if getattr(holder, "runner", None) is None:
        holder.runner = jobs.Runner(holder.get)
    runner: jobs.Runner = holder.runner
    return runner


def _allow_upload_size() -> None:
    """Uploads may be as large as MAX_FILES files at the size limit (the per-file limit is checked
    file by file, with the file's name in the answer)."""
    per_file = library().settings.max_file_mb * 1024 * 1024
    request.max_content_length = per_file * jobs.MAX_FILES + 1024 * 1024


def _uploads(field: str) -> list[jobs.Upload]:
    return [
        jobs.Upload(f.filename or "", f.read())
        for f in request.files.getlist(field)
        if f.filename or f.content_length
    ]


def _form_metadata() -> dict[str, Any]:
    meta: dict[str, Any] = {}
    for name in FORM_FIELDS:
        value = " ".join(request.form.get(name, "").split())
        if value:
            meta[name] = value
    authors = [a.strip() for a in request.form.get("authors", "").split(";") if a.strip()]
    if authors:
        meta["authors"] = authors
    return meta


@bp.route("/upload", methods=["GET", "POST"])
@require("archivist")
def upload() -> Any:
    error, status = "", 200
    if request.method == "POST":
        _allow_upload_size()
        try:
            job_id = jobs.create(
                library(),
                _uploads("files"),
                actor=actor(),
                kind=request.form.get("kind", ""),
                metadata=_form_metadata(),
                restricted=request.form.get("restricted") == "1",
            )
        except jobs.UploadError as exc:
            error, status = str(exc), exc.status
        else:
            _runner().start()
            return redirect(url_for("curate.job", job_id=job_id), 303)
    return render_template(
        "upload.html", error=error, kinds=KINDS, fields=FORM_FIELDS, form=request.form
    ), status


def _job(job_id: str) -> dict[str, Any]:
    if not job_id.isalnum() or len(job_id) > 40:
        raise NotFound(f"no job {job_id[:40]!r}")
    _runner().start()  # a job queued by a process that stopped is taken up here
    job = jobs.get(library(), job_id)
    job["links"] = {
        "html": url_for("curate.job", job_id=job_id, _external=True),
        "json": url_for("curate_api.api_job", job_id=job_id, _external=True),
    }
    for f in job["files"]:
        doc_id = (f["result"] or {}).get("id")
        f["document"] = doc_url(doc_id, external=True) if doc_id else None
    return job


@bp.get("/jobs/<job_id>")
@require("archivist")
def job(job_id: str) -> Any:
    found = _job(job_id)
    if request.accept_mimetypes.best == "application/json" or request.args.get("format") == "json":
        return jsonify(found)
    return render_template("job.html", job=found)


@bp.post("/jobs/<job_id>/files/<int:seq>/retry")
@require("archivist")
def retry(job_id: str, seq: int) -> Any:
    jobs.retry(library(), job_id, seq, actor=actor())
    _runner().start()
    return redirect(url_for("curate.job", job_id=job_id), 303)


@api.post("/documents")
@require("archivist")
def api_upload() -> Any:
    """multipart/form-data: `file`, optional `metadata` (JSON of sidecar fields), `kind`,
    `restricted=true`. 201 with the ingest result once stored and searchable; 202 with the job
    when it is queued (`Prefer: respond-async`, or when it takes longer than the wait)."""
    _allow_upload_size()
    lib = library()
    files = _uploads("file")
    if len(files) != 1:
        raise jobs.UploadError(400, "send exactly one file, in the multipart field 'file'")
    job_id = jobs.create(
        lib,
        files,
        actor=actor(),
        source="api-upload",
        kind=request.form.get("kind", ""),
        metadata=request.form.get("metadata", ""),
        restricted=request.form.get("restricted", "").lower() in ("true", "1", "yes"),
    )
    _runner().start()
    wait = 0.0 if "respond-async" in request.headers.get("Prefer", "") else UPLOAD_WAIT
    deadline = time.monotonic() + wait
    while True:
        found = jobs.get(lib, job_id)
        if found["state"] in ("done", "failed") or time.monotonic() >= deadline:
            break
        time.sleep(0.1)
    location = url_for("curate_api.api_job", job_id=job_id, _external=True)
    if found["state"] == "done":
        result = found["files"][0]["result"]
        response = jsonify(result)
        response.status_code = 201
        response.headers["Location"] = doc_url(result["id"], external=True)
        return response
    if found["state"] == "failed":
        result = found["files"][0]["result"] or {}
        raise jobs.UploadError(422, f"{found['files'][0]['name']}: {result.get('error')}")
    response = jsonify({"job": job_id, "state": found["state"], "links": {"job": location}})
    response.status_code = 202
    response.headers["Location"] = location
    return response


UPLOAD_WAIT = 30.0  # seconds the API waits for a single upload before answering 202


@api.get("/jobs/<job_id>")
@require("archivist")
def api_job(job_id: str) -> Any:
    return jsonify(_job(job_id))


@api.post("/jobs/<job_id>/files/<int:seq>/retry")
@require("archivist")
def api_retry(job_id: str, seq: int) -> Any:
    jobs.retry(library(), job_id, seq, actor=actor())
    _runner().start()
    return jsonify(_job(job_id)), 202


# -- editing metadata ------------------------------------------------------------------------------
LIST_FIELDS = {"identifiers": "\n", "authors": ";"}


def _edit_form() -> dict[str, Any]:
    """The edit form as sidecar fields (lists split: identifiers by line, authors by ';')."""
    out: dict[str, Any] = {}
    for name in curation.EDITABLE:
        if name not in request.form:
            continue
        raw = request.form.get(name, "")
        if name in LIST_FIELDS:
            out[name] = [v.strip() for v in raw.split(LIST_FIELDS[name]) if v.strip()]
        else:
            out[name] = " ".join(raw.split())
    return out


@bp.route("/d/<doc_id>/edit", methods=["GET", "POST"])
@require("archivist")
def edit(doc_id: str) -> Any:
    lib = library()
    doc = lib.archive.get_document(valid_id(doc_id))
    error, status = "", 200
    values = curation.current_values(lib, doc.id)
    if request.method == "POST":
        changes = _edit_form()
        try:
            curation.edit(lib, doc.id, changes, actor=actor())
        except curation.EditError as exc:
            error, status = str(exc), 400
            values.update(changes)
        else:
            curation.set_restricted(
                lib, doc.id, request.form.get("restricted") == "1", actor=actor()
            )
            return redirect(doc_url(doc.id), 303)
    return render_template(
        "edit.html",
        doc=doc,
        values=values,
        error=error,
        kinds=KINDS,
        history=curation.history(lib, doc.id),
    ), status


@api.patch("/documents/<doc_id>")
@require("archivist")
def api_edit(doc_id: str) -> Any:
    """JSON of sidecar fields (and optionally "restricted": true/false)."""
    lib = library()
    lib.archive.get_document(valid_id(doc_id))
    body = _json_body()
    restricted = body.pop("restricted", None)
    if restricted is not None and not isinstance(restricted, bool):
        raise QueryError("field 'restricted' must be true or false")
    try:
        changed = curation.edit(lib, doc_id, body, actor=actor())
    except curation.EditError as exc:
        raise QueryError(str(exc)) from None
    if restricted is not None:
        before = lib.archive.get_document(doc_id).restricted
        if curation.set_restricted(lib, doc_id, restricted, actor=actor()):
            changed["restricted"] = {"before": before, "after": restricted}
    return jsonify(
        {
            "id": doc_id,
            "changed": changed,
            "document": curation.current_values(lib, doc_id),
            "history": curation.history(lib, doc_id),
        }
    )
