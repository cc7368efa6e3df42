"""Keeping the derived index in step with the archive.

The catalog marks each version `indexed` only after the index commit that holds it, so after a crash
`sync_pending` finds what the index lacks and adds it. `rebuild` makes the index anew from the archive.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

from ..archive import Archive
from .base import IndexBackend, IndexRecord

BATCH = 200


def record_for(archive: Archive, doc_id: str) -> IndexRecord | None:
    doc = archive.get_document(doc_id)
    if doc.withdrawn:
        return None
    return IndexRecord(
        doc=doc,
        version=doc.current_version,
        passages=tuple(archive.passages(doc.current_version)),
        cited=tuple((c.anchor, c.normalized) for c in archive.citations(doc.current_version)),
    )


def index_documents(
    archive: Archive,
    backend: IndexBackend,
    doc_ids: Iterable[str],
    progress: Callable[[int], None] | None = None,
) -> int:
    """(Re)index the current versions of these documents, in batches; returns how many."""
    ids = list(dict.fromkeys(doc_ids))
    for start in range(0, len(ids), BATCH):
        chunk = ids[start : start + BATCH]
        records, gone = [], []
        for doc_id in chunk:
            rec = record_for(archive, doc_id)
            if rec is None:
                gone.append(doc_id)
            else:
                records.append(rec)
        backend.write(records, delete=gone)
        archive.mark_indexed([v.sha256 for d in chunk for v in archive.versions(d)])
        if progress:
            progress(len(chunk))
    return len(ids)


def sync_pending(archive: Archive, backend: IndexBackend) -> int:
    """Index whatever the catalog holds that the index does not (an interrupted run)."""
    return index_documents(archive, backend, archive.unindexed_documents())


def rebuild(
    archive: Archive, backend: IndexBackend, progress: Callable[[int], None] | None = None
) -> int:
    """The index anew from the archive: one bulk load of every current version."""
    backend.clear()
    archive.mark_all_unindexed()
    ids = archive.document_ids()

    def records() -> Iterator[IndexRecord]:
        for doc_id in ids:
            rec = record_for(archive, doc_id)
            if rec is not None:
                yield rec
            if progress:
                progress(1)

    backend.bulk_load(records())
    archive.mark_indexed([v.sha256 for d in ids for v in archive.versions(d)])
    return len(ids)
