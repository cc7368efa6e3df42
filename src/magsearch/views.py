"""Plain-data views of archived documents, shared by `magsearch show --json` and the JSON API."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from .archive import Archive, CitationLink
from .cite import short_citation
from .errors import NotFound


def document_view(archive: Archive, doc_id: str, version: str | None = None) -> dict[str, Any]:
    doc = archive.get_document(doc_id)
    versions = archive.versions(doc_id)
    chosen = version or doc.current_version
    if chosen not in {v.sha256 for v in versions}:
        raise NotFound(f"document {doc_id!r} has no version {chosen[:80]!r}")
    d = asdict(doc)
    d["kind"] = doc.kind.value
    d["identifiers"] = list(doc.identifiers)
    return {
        "document": d,
        "version": chosen,
        "is_current": chosen == doc.current_version,
        "citation": short_citation(doc),
        "versions": [asdict(v) for v in versions],
        "passages": [asdict(p) for p in archive.passages(chosen)],
        "citations": [asdict(c) for c in archive.citations(chosen)],
        "cites": [_link(link, outgoing=True) for link in archive.cites(doc_id)],
        "cited_by": [_link(link, outgoing=False) for link in archive.cited_by(doc_id)],
    }


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
