"""Curating the archive: withdraw, restore, restrict, purge — each audited, each followed at once
by the index. Used by the CLI, the web pages and the API alike (no Flask here).

- Withdraw keeps everything (the row, the versions, the bytes, the citation); the document leaves
  the index, its page answers 410.
- Restore (admins) brings a withdrawn document back.
- Restricted documents are seen only by signed-in archivists; to everyone else they do not exist.
- Purge is the only way bytes leave the disk: a document, its versions, passages, citations and
  originals are deleted (the audit log keeps who purged what, when, and the sha256 of each original).
"""

from __future__ import annotations

import json
from typing import Any

from .accounts import Accounts
from .archive import now_iso
from .errors import NotFound
from .index.sync import index_documents
from .library import Library

REASON_MAX = 500


def withdraw(lib: Library, doc_id: str, reason: str, *, actor: str) -> None:
    reason = " ".join(reason.split())[:REASON_MAX]
    if not reason:
        raise ValueError("a reason is required to withdraw a document")
    doc = lib.archive.get_document(doc_id)
    lib.archive.withdraw(doc_id, reason)
    index_documents(lib.archive, lib.index, [doc_id])
    Accounts(lib.archive).audit(
        actor, "withdraw", doc_id, reason=reason, before=doc.withdrawn or "", after=reason
    )


def restore(lib: Library, doc_id: str, *, actor: str) -> None:
    doc = lib.archive.get_document(doc_id)
    lib.archive.restore(doc_id)
    index_documents(lib.archive, lib.index, [doc_id])
    Accounts(lib.archive).audit(actor, "restore", doc_id, before=doc.withdrawn, after="")


def set_restricted(lib: Library, doc_id: str, restricted: bool, *, actor: str) -> bool:
    """Restrict a document (or publish it again); returns whether anything changed. The index
    needs no change: readers' searches filter restricted documents out as they read."""
    doc = lib.archive.get_document(doc_id)
    lib.archive.set_restricted(doc_id, restricted)
    if doc.restricted == restricted:
        return False
    Accounts(lib.archive).audit(
        actor, "restrict" if restricted else "unrestrict", doc_id,
        before=doc.restricted, after=restricted,
    )  # fmt: skip
    return True


def purge_plan(lib: Library, doc_id: str) -> dict[str, Any]:
    """What `purge` would delete (shown before asking for confirmation)."""
    doc = lib.archive.get_document(doc_id)
    versions = lib.archive.versions(doc_id)
    return {
        "id": doc.id,
        "title": doc.title,
        "withdrawn": doc.withdrawn,
        "versions": [
            {"sha256": v.sha256, "size": v.size, "filename": v.filename} for v in versions
        ],
    }


def purge(lib: Library, doc_id: str, *, actor: str) -> dict[str, Any]:
    """Delete a document and its originals for good (an original another document shares stays).
    Returns what was deleted."""
    plan = purge_plan(lib, doc_id)
    shas = [v["sha256"] for v in plan["versions"]]
    archive = lib.archive
    with archive.transaction() as db:
        marks = ",".join("?" * len(shas)) or "''"
        db.execute(f"DELETE FROM citations WHERE version IN ({marks})", shas)
        db.execute(f"DELETE FROM passages WHERE version IN ({marks})", shas)
        db.execute(f"DELETE FROM versions WHERE sha256 IN ({marks})", shas)
        db.execute("DELETE FROM identifiers WHERE doc_id=?", (doc_id,))
        db.execute("DELETE FROM access WHERE doc_id=?", (doc_id,))
        db.execute(f"DELETE FROM upload_restrictions WHERE sha256 IN ({marks})", shas)
        cur = db.execute("DELETE FROM documents WHERE id=?", (doc_id,))
        if cur.rowcount == 0:
            raise NotFound(f"no document {doc_id[:80]!r}")
        db.execute(
            "INSERT INTO audit(at, actor, action, target, detail_json) VALUES (?,?,?,?,?)",
            (now_iso(), actor, "purge", doc_id, json.dumps(plan, ensure_ascii=False)),
        )
    lib.index.write([], delete=[doc_id])
    for sha in shas:
        if archive.find_version(sha) is None:
            archive.object_path(sha).unlink(missing_ok=True)
    return plan
