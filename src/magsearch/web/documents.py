"""Document pages, pinned versions, originals, citations and permalinks that never break."""

from __future__ import annotations

import base64
from io import BytesIO
from typing import Any

from flask import Blueprint, redirect, render_template, request, send_file

from magsearch import cite, curation, views
from magsearch.errors import NotFound, QueryError
from magsearch.models import Document, Version

from .auth import sees_restricted
from .common import (
    citation_block,
    doc_url,
    document_context,
    library,
    valid_anchor,
    valid_id,
    valid_version,
)

bp = Blueprint("documents", __name__)
HTML_ORIGINAL_CSP = "sandbox; default-src 'none'; frame-ancestors 'none'"
PDF_CSP = "sandbox; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"


@bp.get("/d/<doc_id>")
def document(doc_id: str) -> str:
    return _page(valid_id(doc_id), None)


@bp.get("/d/<doc_id>/v/<version>")
def version(doc_id: str, version: str) -> str:
    return _page(valid_id(doc_id), valid_version(version))


def _page(doc_id: str, version: str | None) -> str:
    lib = library()
    see = sees_restricted()
    doc = views.available_document(lib.archive, doc_id, include_restricted=see)
    view = views.document_view(lib.archive, doc_id, version, include_restricted=see)
    part = request.args.get("part", "1")
    if not part.isdigit() or len(part) > 6:
        raise NotFound(f"no part {part[:20]!r} of document {doc_id!r}")
    context = document_context(
        lib, doc, view, pinned=version, include_restricted=see, part=int(part)
    )
    context["history"] = curation.history(lib, doc_id) if see else []
    return render_template("document.html", **context)


@bp.get("/d/<doc_id>/anchor/<anchor>")
def anchor(doc_id: str, anchor: str) -> Any:
    """Where a permalink's anchor is now: the current version, else the newest version with it
    (and the part of a long text's page that shows it)."""
    lib = library()
    target = views.anchor_target(
        lib.archive, valid_id(doc_id), valid_anchor(anchor), include_restricted=sees_restricted()
    )
    url = doc_url(doc_id, target)
    part = views.anchor_part(
        lib.archive, target or lib.archive.get_document(doc_id).current_version, anchor
    )
    return redirect(f"{url}{'?part=' + str(part) if part > 1 else ''}#{anchor}", 302)


@bp.get("/d/<doc_id>/original")
def original(doc_id: str) -> Any:
    lib = library()
    doc = views.available_document(
        lib.archive, valid_id(doc_id), include_restricted=sees_restricted()
    )
    return _send_original(doc, lib.archive.get_version(doc.current_version), pinned=False)


@bp.get("/d/<doc_id>/v/<version>/original")
def version_original(doc_id: str, version: str) -> Any:
    lib = library()
    doc = views.available_document(
        lib.archive, valid_id(doc_id), include_restricted=sees_restricted()
    )
    return _send_original(
        doc, views.version_of(lib.archive, doc.id, valid_version(version)), pinned=True
    )


def _send_original(doc: Document, ver: Version, *, pinned: bool) -> Any:
    data = library().archive.read_original(ver.sha256)
    is_pdf = ver.media_type == "application/pdf"
    response = send_file(
        BytesIO(data),
        mimetype=ver.media_type if "/" in ver.media_type else "application/octet-stream",
        as_attachment=not is_pdf,  # an HTML original is never rendered in our origin
        download_name=f"{doc.id}-v{ver.seq}{_extension(ver.media_type)}",
        etag=ver.sha256,
        conditional=True,
        max_age=31536000 if pinned else 0,
    )
    response.headers["Content-Type"] = ver.media_type  # no charset guessed for stored bytes
    digest = base64.b64encode(bytes.fromhex(ver.sha256)).decode("ascii")
    response.headers["Digest"] = f"sha-256={digest}"
    response.headers["Repr-Digest"] = f"sha-256=:{digest}:"
    response.headers["Content-Security-Policy"] = PDF_CSP if is_pdf else HTML_ORIGINAL_CSP
    response.headers["Cache-Control"] = (
        "public, max-age=31536000, immutable" if pinned else "no-cache"
    )
    return response


def _extension(media_type: str) -> str:
    return {
        "application/pdf": ".pdf",
        "text/html": ".html",
        "application/xhtml+xml": ".xhtml",
        "text/plain": ".txt",
    }.get(media_type, ".bin")


@bp.get("/d/<doc_id>/cite")
def citation(doc_id: str) -> Any:
    """?format=bluebook|oscola|bibtex|ris|csl-json, optionally &anchor= (pinpoint) and &version=.
    A withdrawn document can still be cited as a whole (its citation is kept)."""
    lib = library()
    see = sees_restricted()
    doc = views.visible_document(lib.archive, valid_id(doc_id), include_restricted=see)
    version = request.args.get("version", "")
    if version:
        views.version_of(lib.archive, doc.id, valid_version(version))
    anchor = request.args.get("anchor", "")
    passage = None
    if anchor:
        found = views.anchor_target(
            lib.archive, doc.id, valid_anchor(anchor), include_restricted=see
        )
        version = version or found or ""
        passage = views.passage_at(
            lib.archive, version or doc.current_version, valid_anchor(anchor)
        )
    fmt = request.args.get("format", "")
    if not fmt:
        block = citation_block(doc, version or None, passage)
        return render_template(
            "cite.html", doc=doc, passage=passage, cite=block, version=version, formats=cite.FORMATS
        )
    if fmt not in cite.FORMATS:
        raise QueryError(
            f"unknown citation format {fmt[:40]!r} (use one of: {', '.join(cite.FORMATS)})"
        )
    url = doc_url(doc.id, version or None, anchor, external=True)
    headers = {"Content-Type": cite.MEDIA_TYPES[fmt]}
    if fmt in ("bibtex", "ris", "csl-json"):
        name = f"{doc.id}{'-' + anchor if passage else ''}.{cite.EXTENSIONS[fmt]}"
        headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return cite.format_citation(doc, fmt, passage, url), 200, headers
