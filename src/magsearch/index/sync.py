"""Keeping the derived index in step with the archive.

The catalog marks each version `indexed` only after the index commit that holds it, so after a crash
`sync_pending` finds what the index lacks and adds it. Ingest commits a batch to the index while its
catalog transaction is still open, and commits the catalog right after: the ids of such a batch are
written first to `index-pending.json`, so that a crash (or a full disk) between the two commits is
repaired by the next `sync_pending`, which makes those documents in the index what the catalog says
(deleted when the catalog never got them). `rebuild` makes the index anew from the archive.
"""

from __future__ import annotations

import fcntl
import json
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from ..archive import Archive, write_durably
from ..errors import NotFound
from ..models import Document
from .base import IndexBackend, IndexRecord

BATCH = 200
PENDING = "index-pending.json"
ORIGINALS_PENDING = "originals-pending.json"  # originals written by a batch not yet cataloged


def _pending_path(archive: Archive) -> Path:
    return archive.root / PENDING


@contextmanager
def exclusive(archive: Archive, backend: IndexBackend) -> Iterator[None]:
    """Held around an index commit that runs ahead of its catalog commit, and around the repair of
    one that crashed (a file lock: a killed holder releases it). A pending list found on entry is
    a crashed writer's: it is repaired first."""
    with open(archive.root / "ingest.lock", "a+b") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            _drop_uncataloged(archive)
            left = read_pending(archive)
            if left:
                index_documents(archive, backend, left)
                clear_pending(archive)
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def mark_pending(archive: Archive, doc_ids: Iterable[str], shas: Iterable[str] = ()) -> None:
    """Before a batch stores originals and commits the index ahead of its catalog commit: which
    originals it writes and which documents it touches (call inside exclusive())."""
    shas = sorted(set(shas))
    if shas:
        write_durably(archive.root / ORIGINALS_PENDING, json.dumps(shas).encode())
    write_durably(_pending_path(archive), json.dumps(sorted(set(doc_ids))).encode())


def clear_pending(archive: Archive) -> None:
    _pending_path(archive).unlink(missing_ok=True)
    (archive.root / ORIGINALS_PENDING).unlink(missing_ok=True)


def _drop_uncataloged(archive: Archive) -> None:
    """A crashed batch's originals that the catalog never got leave the disk, and so do the temp
    files of its writes (every original is written under exclusive(), so none is another's)."""
    path = archive.root / ORIGINALS_PENDING
    try:
        shas = json.loads(path.read_bytes())
    except FileNotFoundError:
        return
    except ValueError:
        shas = []
    for sha in shas if isinstance(shas, list) else []:
        try:
            archive.drop_original_if_unused(str(sha))
            for tmp in archive.object_path(str(sha)).parent.glob(".tmp-*"):
                tmp.unlink(missing_ok=True)
        except NotFound:
            continue
    path.unlink(missing_ok=True)


def read_pending(archive: Archive) -> list[str]:
    try:
        ids = json.loads(_pending_path(archive).read_bytes())
    except FileNotFoundError:
        return []
    except ValueError:  # cannot be torn (written durably), but never trust a file blindly
        return archive.document_ids()
    return [str(i) for i in ids] if isinstance(ids, list) else archive.document_ids()


def record_for(archive: Archive, doc_id: str) -> IndexRecord | None:
    try:
        doc = archive.get_document(doc_id)
    except NotFound:  # an index commit whose catalog commit never came
        return None
    if doc.withdrawn:
        return None
    return version_record(archive, doc, doc.current_version)


def version_record(archive: Archive, doc: Document, version: str) -> IndexRecord:
    """What the index holds of one version of a document (the main index: the current one; the
    history index: each one, index/history.py)."""
    return IndexRecord(
        doc=doc,
        version=version,
        passages=tuple(archive.passages(version)),
        cited=tuple((c.anchor, c.normalized) for c in archive.citations(version)),
        outside=archive.outside_text(version),
    )


def index_documents(
    archive: Archive,
    backend: IndexBackend,
    doc_ids: Iterable[str],
    progress: Callable[[int], None] | None = None,
    *,
    mark: bool = True,
) -> int:
    """(Re)index the current versions of these documents, in batches; returns how many. With
    mark=False the caller marks the versions indexed itself (ingest does, with its log lines)."""
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
        if mark:
            archive.mark_indexed([v.sha256 for d in chunk for v in archive.versions(d)])
        if progress:
            progress(len(chunk))
    return len(ids)


def repair(archive: Archive, backend: IndexBackend) -> None:
    """Make the index what the catalog says for the documents of an index commit whose catalog
    commit never came (a crash, a full disk): run on every opening of the library."""
    if read_pending(archive) or (archive.root / ORIGINALS_PENDING).exists():
        with exclusive(archive, backend):
            pass  # repairs on entry


def sync_pending(archive: Archive, backend: IndexBackend) -> int:
    """Index whatever the catalog holds that the index does not (an interrupted run), and log
    those versions as ingested now that they are searchable."""
    repair(archive, backend)
    ids = archive.unindexed_documents()
    if not ids:
        return 0
    index_documents(archive, backend, ids)
    archive.acknowledge_recovered(archive.get_document(d).current_version for d in ids)
    return len(ids)


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
