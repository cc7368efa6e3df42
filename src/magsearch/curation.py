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
from collections.abc import Iterable
from typing import Any

from . import citations, legalmeta
from .accounts import Accounts
from .archive import now_iso
from .errors import IngestError, MagsearchError, NotFound
from .index.history import forget_versions
from .index.sync import index_documents
from .ingest import sidecar
from .library import Library
from .models import SIDECAR_FIELDS

REASON_MAX = 500
COLUMNS = ("kind", "title", "date", "court", "jurisdiction", "language", "source_url")
EDITABLE = tuple(f for f in SIDECAR_FIELDS if f != "id")
CLEARABLE = {f for f in EDITABLE if f not in ("title", "kind")}  # may be set to "" or []

_EDIT_SCHEMA = """
CREATE TABLE IF NOT EXISTS edits (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    doc_id TEXT NOT NULL,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    before_json TEXT NOT NULL,
    after_json TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS edits_doc ON edits(doc_id, id);
"""


class EditError(MagsearchError):
    """An edit that cannot be made (one line naming the field)."""


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
    _schema(lib)
    plan = purge_plan(lib, doc_id)
    shas = [v["sha256"] for v in plan["versions"]]
    archive = lib.archive
    with archive.transaction() as db:
        marks = ",".join("?" * len(shas)) or "''"
        db.execute(f"DELETE FROM citations WHERE version IN ({marks})", shas)
        db.execute(f"DELETE FROM passages WHERE version IN ({marks})", shas)
        db.execute(f"DELETE FROM version_meta WHERE sha256 IN ({marks})", shas)
        db.execute(f"DELETE FROM versions WHERE sha256 IN ({marks})", shas)
        db.execute("DELETE FROM withdrawals WHERE doc_id=?", (doc_id,))
        db.execute("DELETE FROM identifiers WHERE doc_id=?", (doc_id,))
        db.execute("DELETE FROM access WHERE doc_id=?", (doc_id,))
        db.execute("DELETE FROM edits WHERE doc_id=?", (doc_id,))
        db.execute(f"DELETE FROM upload_restrictions WHERE sha256 IN ({marks})", shas)
        cur = db.execute("DELETE FROM documents WHERE id=?", (doc_id,))
        if cur.rowcount == 0:
            raise NotFound(f"no document {doc_id[:80]!r}")
        db.execute(
            "INSERT INTO audit(at, actor, action, target, detail_json) VALUES (?,?,?,?,?)",
            (now_iso(), actor, "purge", doc_id, json.dumps(plan, ensure_ascii=False)),
        )
    lib.index.write([], delete=[doc_id])
    forget_versions(
        lib.archive, dict.fromkeys(shas, doc_id)
    )  # and from the history index, where searches as_of read
    for sha in shas:
        if archive.find_version(sha) is None:
            archive.object_path(sha).unlink(missing_ok=True)
    return plan


# -- editing metadata ------------------------------------------------------------------------------
def _schema(lib: Library) -> None:
    lib.archive.ensure_tables("edits", _EDIT_SCHEMA)


def current_values(lib: Library, doc_id: str) -> dict[str, Any]:
    """A document's editable fields as they are now (the sidecar's names and types)."""
    doc = lib.archive.get_document(doc_id)
    out: dict[str, Any] = {"kind": doc.kind.value}
    for name in COLUMNS[1:]:
        out[name] = getattr(doc, name)
    out["identifiers"] = list(doc.identifiers)
    for name in EDITABLE:
        if name not in out:
            default: Any = [] if SIDECAR_FIELDS[name] is list else ""
            out[name] = doc.meta.get(name, default) if isinstance(doc.meta, dict) else default
    return out


def _check(changes: Any) -> dict[str, Any]:
    if not isinstance(changes, dict):
        raise EditError("an edit must be a JSON object of sidecar fields")
    if "id" in changes:
        raise EditError("field 'id' cannot be edited (it is the document's permanent address)")
    cleared = {k: v for k, v in changes.items() if k in CLEARABLE and v in ("", [])}
    rest = {k: v for k, v in changes.items() if k not in cleared}
    try:
        checked = sidecar.validate(rest, "edit")
    except IngestError as exc:
        raise EditError(str(exc).replace("sidecar edit: ", "")) from None
    return {**checked, **cleared}


def edit(lib: Library, doc_id: str, changes: Any, *, actor: str) -> dict[str, dict[str, Any]]:
    """Change a document's metadata (sidecar fields); returns {field: {before, after}} of what
    changed. Recorded in the edit history and the audit log; the index follows at once, and so do
    facets and citations (the citation graph is computed from the identifiers)."""
    _schema(lib)
    checked = _check(changes)
    before_all = current_values(lib, doc_id)
    changed = {
        k: {"before": before_all[k], "after": v} for k, v in checked.items() if before_all[k] != v
    }
    if not changed:
        return {}
    after = {k: c["after"] for k, c in changed.items()}
    with lib.archive.transaction() as db:
        _write(db, doc_id, after)
        db.execute(
            "INSERT INTO edits(doc_id, at, actor, before_json, after_json) VALUES (?,?,?,?,?)",
            (
                doc_id, now_iso(), actor,
                json.dumps({k: c["before"] for k, c in changed.items()}, ensure_ascii=False),
                json.dumps(after, ensure_ascii=False),
            ),
        )  # fmt: skip
    Accounts(lib.archive).audit(actor, "edit", doc_id, **changed)
    index_documents(lib.archive, lib.index, [doc_id])
    return changed


def _write(db: Any, doc_id: str, values: dict[str, Any]) -> None:
    row = db.execute("SELECT meta_json FROM documents WHERE id=?", (doc_id,)).fetchone()
    if row is None:
        raise NotFound(f"no document {doc_id[:80]!r}")
    meta = json.loads(row[0])
    for name, value in values.items():
        if name in COLUMNS:
            db.execute(f"UPDATE documents SET {name}=? WHERE id=?", (value, doc_id))
        elif name == "identifiers":
            db.execute("DELETE FROM identifiers WHERE doc_id=?", (doc_id,))
            for raw in value:
                norm = citations.normalize(raw) or raw.strip()
                db.execute(
                    "INSERT OR IGNORE INTO identifiers(doc_id, value, family) VALUES (?,?,?)",
                    (doc_id, norm, legalmeta.family_of(norm) or ""),
                )
        elif value in ("", []):
            meta.pop(name, None)
        else:
            meta[name] = value
    db.execute(
        "UPDATE documents SET meta_json=? WHERE id=?",
        (json.dumps(meta, ensure_ascii=False, sort_keys=True), doc_id),
    )


def history(lib: Library, doc_id: str) -> list[dict[str, Any]]:
    """The edits of a document, newest first: who, when, the values before and after."""
    _schema(lib)
    rows = lib.archive.db.execute(
        "SELECT * FROM edits WHERE doc_id=? ORDER BY id DESC", (doc_id,)
    ).fetchall()
    return [
        {
            "at": r["at"],
            "actor": r["actor"],
            "before": json.loads(r["before_json"]),
            "after": json.loads(r["after_json"]),
        }
        for r in rows
    ]


def curated(lib: Library, doc_id: str) -> dict[str, Any]:
    """The last edited value of each field a curator has edited (they outlive new versions)."""
    out: dict[str, Any] = {}
    for entry in reversed(history(lib, doc_id)):
        out.update(entry["after"])
    return out


def keep_edits(lib: Library, doc_ids: Iterable[str]) -> list[str]:
    """After new versions were ingested: a curator's edits win over what a new version's file or
    sidecar says. Returns the documents whose edited fields were written again (and reindexed)."""
    _schema(lib)
    again = []
    for doc_id in dict.fromkeys(doc_ids):
        wanted = curated(lib, doc_id)
        if not wanted or lib.archive.find_document(doc_id) is None:
            continue
        now = current_values(lib, doc_id)
        differ = {k: v for k, v in wanted.items() if now.get(k) != v}
        if differ:
            with lib.archive.transaction() as db:
                _write(db, doc_id, differ)
            again.append(doc_id)
    if again:
        index_documents(lib.archive, lib.index, again)
    return again
