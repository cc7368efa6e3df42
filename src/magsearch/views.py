"""Plain-data views of archived documents, shared by `magsearch show --json` and the JSON API."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from .archive import RESTRICTED_IDS, Archive, CitationLink
from .cite import pin_label, short_citation
from .errors import NotFound, Withdrawn
from .models import Document, Passage, Version


def document_view(
    archive: Archive, doc_id: str, version: str | None = None, *, include_restricted: bool = False
) -> dict[str, Any]:
    """A document for reading. Restricted documents (and links to them) only when
    `include_restricted`; a restricted document is otherwise NotFound, as if it did not exist."""
    doc = archive.get_document(doc_id)
    if doc.restricted and not include_restricted:
        raise NotFound(f"no document {doc_id[:80]!r}")
    versions = archive.versions(doc_id)
    chosen = version or doc.current_version
    if chosen not in {v.sha256 for v in versions}:
        raise NotFound(f"document {doc_id!r} has no version {chosen[:80]!r}")
    passages = archive.passages(chosen)
    own = {p.anchor: pin_label(p) for p in archive.passages(doc.current_version)}
    d = asdict(doc)
    d["kind"] = doc.kind.value
    d["identifiers"] = list(doc.identifiers)
    return {
        "document": d,
        "version": chosen,
        "is_current": chosen == doc.current_version,
        "citation": short_citation(doc),
        "versions": [asdict(v) for v in versions],
        "passages": [{**asdict(p), "label": pin_label(p)} for p in passages],
        "outside": archive.outside_text(chosen),
        "citations": [asdict(c) for c in archive.citations(chosen)],
        "cites": [
            {**_link(link, outgoing=True), "label": own.get(link.citing_anchor, "")}
            for link in archive.cites(doc_id, include_restricted=include_restricted)
        ],
        "cited_by": _with_labels(
            archive,
            [
                _link(link, outgoing=False)
                for link in archive.cited_by(doc_id, include_restricted=include_restricted)
            ],
        ),
    }


def _with_labels(archive: Archive, links: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each citing passage's pinpoint label ("§ 46", "p. 2", or "" for an unnumbered one)."""
    by_doc: dict[str, set[str]] = {}
    for link in links:
        by_doc.setdefault(link["doc_id"], set()).add(link["anchor"])
    labels: dict[tuple[str, str], str] = {}
    for doc_id, anchors in by_doc.items():
        doc = archive.find_document(doc_id)
        if doc is None:
            continue
        found = archive.passages_by_anchor(doc.current_version, sorted(anchors))
        labels.update({(doc_id, a): pin_label(p) for a, p in found.items()})
    return [{**link, "label": labels.get((link["doc_id"], link["anchor"]), "")} for link in links]


def _link(link: CitationLink, *, outgoing: bool) -> dict[str, Any]:
    """An edge seen from one end: the other document, and the citing passage."""
    other = (link.cited_doc, link.cited_title) if outgoing else (link.citing_doc, link.citing_title)
    return {
        "doc_id": other[0],
        "title": other[1],
        "anchor": link.citing_anchor,
        "normalized": link.normalized,
        "raw": link.raw,
    }


# -- helpers for the web pages and feeds -----------------------------------------------------------
PART_CHARS = 500_000  # a document page shows about this much text; a longer text is in parts


def text_parts(lengths: list[int], budget: int = PART_CHARS) -> list[tuple[int, int]]:
    """The passages' (start, end) index ranges of each part of a document page: whole passages,
    a new part once a part holds `budget` characters. At least one part, even with no passages."""
    parts: list[tuple[int, int]] = []
    start, size = 0, 0
    for i, n in enumerate(lengths):
        if size and size + n > budget:
            parts.append((start, i))
            start, size = i, 0
        size += n
    parts.append((start, len(lengths)))
    return parts


def anchor_part(archive: Archive, version: str, anchor: str) -> int:
    """The part (1, 2, ...) of a version's page that shows this passage."""
    passages = archive.passages(version)
    for n, (a, b) in enumerate(text_parts([len(p.text) for p in passages]), start=1):
        if any(p.anchor == anchor for p in passages[a:b]):
            return n
    return 1


def available_document(
    archive: Archive, doc_id: str, *, include_restricted: bool = False
) -> Document:
    """The document, or NotFound; when withdrawn, Withdrawn (carrying the document, for its
    citation). A restricted document is NotFound unless `include_restricted`."""
    doc = visible_document(archive, doc_id, include_restricted=include_restricted)
    if doc.withdrawn:
        raise Withdrawn(f"document {doc_id!r} was withdrawn: {doc.withdrawn}", document=doc)
    return doc


def visible_document(archive: Archive, doc_id: str, *, include_restricted: bool) -> Document:
    """The document (withdrawn or not), or NotFound when it is restricted and the reader may not
    see restricted documents: to them it does not exist."""
    doc = archive.get_document(doc_id)
    if doc.restricted and not include_restricted:
        raise NotFound(f"no document {doc_id[:80]!r}")
    return doc


def recent_documents(
    archive: Archive, limit: int = 50, *, include_restricted: bool = False
) -> list[Document]:
    """The documents added last (withdrawn ones left out, restricted ones unless asked for),
    newest first."""
    hidden = "" if include_restricted else f"AND id NOT IN ({RESTRICTED_IDS})"
    rows = archive.db.execute(
        f"SELECT id FROM documents WHERE withdrawn = '' {hidden} "
        "ORDER BY created_at DESC, id LIMIT ?",
        (max(0, limit),),
    ).fetchall()
    return [archive.get_document(r[0]) for r in rows]


def newest_documents(
    archive: Archive, limit: int = 5, *, include_restricted: bool = False
) -> list[Document]:
    """The documents with the latest dates (decided, enacted, published), newest first."""
    hidden = "" if include_restricted else f"AND id NOT IN ({RESTRICTED_IDS})"
    rows = archive.db.execute(
        f"SELECT id FROM documents WHERE withdrawn = '' AND date != '' {hidden} "
        "ORDER BY date DESC, id LIMIT ?",
        (max(0, limit),),
    ).fetchall()
    return [archive.get_document(r[0]) for r in rows]


def documents_by_id(archive: Archive, ids: list[str]) -> dict[str, Document]:
    found = (archive.find_document(i) for i in dict.fromkeys(ids))
    return {d.id: d for d in found if d is not None}


def passage_at(archive: Archive, version: str, anchor: str) -> Passage:
    """One passage of a version by its anchor, or NotFound."""
    found = archive.passages_by_anchor(version, [anchor]).get(anchor)
    if found is None:
        raise NotFound(f"no passage {anchor[:80]!r} in version {version[:12]}")
    return found


def anchor_target(
    archive: Archive, doc_id: str, anchor: str, *, include_restricted: bool = False
) -> str | None:
    """Where a permalink's anchor lives: None for the current version, else the newest version that
    has it (permalinks never break); NotFound when no version ever had it."""
    doc = available_document(archive, doc_id, include_restricted=include_restricted)
    if archive.passages_by_anchor(doc.current_version, [anchor]):
        return None
    version = archive.version_with_anchor(doc_id, anchor)
    if version is None:
        raise NotFound(f"no passage {anchor[:80]!r} in any version of {doc_id!r}")
    return version


def version_of(archive: Archive, doc_id: str, version: str) -> Version:
    """A version of this document (NotFound when the hash is unknown or belongs to another)."""
    found = archive.find_version(version)
    if found is None or found.doc_id != doc_id:
        raise NotFound(f"document {doc_id!r} has no version {version[:80]!r}")
    return found
