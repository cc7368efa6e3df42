"""Parallel provisions: a law's section with the sections of other jurisdictions' laws that do
the same thing (suggested, and confirmed or rejected by archivists), and the comparison of the
Magnitsky laws by topic. The work is `magsearch.parallels`."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, redirect, render_template, request, url_for

from magsearch import parallels

from .auth import actor, require, sees_restricted
from .common import library, valid_anchor, valid_id
from .errors import respond

bp = Blueprint("parallels", __name__)


@bp.get("/d/<doc_id>/parallels/<anchor>")
def section(doc_id: str, anchor: str) -> Any:
    found = parallels.suggest(
        library().archive,
        valid_id(doc_id),
        valid_anchor(anchor),
        include_restricted=sees_restricted(),
    )
    return render_template("parallels.html", r=found, error="")


@bp.post("/d/<doc_id>/parallels/<anchor>")
@require("archivist")
def decide(doc_id: str, anchor: str) -> Any:
    """Confirm or reject one pair: this section and `other` ("doc#anchor")."""
    other_doc, _, other_anchor = request.form.get("other", "").partition("#")
    decision = request.form.get("decision", "")
    status = {"confirm": "confirmed", "reject": "rejected"}.get(decision, decision)
    try:
        parallels.decide(
            library().archive,
            (valid_id(doc_id), valid_anchor(anchor)),
            (valid_id(other_doc), valid_anchor(other_anchor)),
            status,
            topic=request.form.get("topic", ""),
            actor=actor(),
        )
    except parallels.ParallelError as exc:
        return respond(400, str(exc))
    return redirect(url_for("parallels.section", doc_id=doc_id, anchor=anchor), 303)


@bp.get("/compare")
def compare() -> Any:
    table = parallels.comparison(library().archive, include_restricted=sees_restricted())
    return render_template("compare.html", t=table)
