"""The ingest pipeline: find files -> read and hash -> sidecar -> parse in an isolated worker
(detect, structure, citations, metadata) -> store the original -> catalog -> index.

Parsing runs in parallel (one worker per core); this process alone stores and indexes. A file is
reported only once its index commit is done, so what was acknowledged is never missing. A file that
fails leaves nothing behind but its line in the ingest log. Killed half-way, the next run finds the
cataloged-but-unindexed documents (index/sync.py) and skips what is already stored (same sha256).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..archive import Archive, NewVersion, new_doc_id, sha256_bytes
from ..config import Settings
from ..errors import IngestError
from ..index.base import IndexBackend
from ..index.sync import index_documents, sync_pending
from . import sidecar
from .analyse import Analysis, Job, analyse, warm_up
from .worker import run_isolated

SKIP_NAMES = {"README.md", "README.txt", ".gitignore", ".gitkeep"}
FLUSH_EVERY = 50  # files per index commit
FLUSH_SECONDS = 1.0  # ... or sooner, so a new document is searchable within a couple of seconds


@dataclass
class FileResult:
    path: str
    status: str  # "ingested", "new-version", "unchanged", "failed"
    id: str = ""
    version: str = ""
    kind: str = ""
    pages: int | None = None
    warnings: list[str] = field(default_factory=list)
    error: str = ""

    def as_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "status": self.status,
            "id": self.id or None,
            "version": self.version or None,
            "kind": self.kind or None,
            "pages": self.pages,
            "warnings": self.warnings,
            "error": self.error or None,
        }


def find_files(paths: Iterable[str | Path]) -> list[Path]:
    """Files named, and files under folders named (recursively, sorted); sidecars and READMEs of
    folders are not documents. A path that does not exist is reported as a failure by ingest()."""
    out: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            for child in sorted(p for p in path.rglob("*") if p.is_file()):
                rel = child.relative_to(path)
                if any(part.startswith(".") for part in rel.parts) or child.name in SKIP_NAMES:
                    continue
                if not sidecar.is_sidecar(child):
                    out.append(child)
        else:
            out.append(path)
    return list(dict.fromkeys(out))


class Ingester:
    def __init__(
        self,
        archive: Archive,
        backend: IndexBackend,
        settings: Settings,
        *,
        kind: str = "",
    ) -> None:
        self.archive = archive
        self.backend = backend
        self.settings = settings
        self.kind = kind

    def run(
        self, files: list[Path], on_result: Callable[[FileResult], None] | None = None
    ) -> list[FileResult]:
        """Ingest files; on_result is called for each file once its outcome is final."""
        sync_pending(self.archive, self.backend)  # finish what an interrupted run left
        warm_up()
        results: list[FileResult] = []
        waiting: list[FileResult] = []  # stored and cataloged, not yet committed to the index
        last_flush = time.monotonic()

        def emit(res: FileResult) -> None:
            results.append(res)
            if on_result:
                on_result(res)

        def flush() -> None:
            nonlocal last_flush
            if waiting:
                index_documents(self.archive, self.backend, [r.id for r in waiting])
                for res in waiting:
                    emit(res)
                waiting.clear()
            last_flush = time.monotonic()

        outcomes = run_isolated(
            analyse,
            self._jobs(files, emit),
            workers=self.settings.workers,
            timeout=self.settings.parse_timeout,
            memory_mb=self.settings.parse_memory_mb,
        )
        for outcome in outcomes:
            job = outcome.job
            if outcome.error:
                emit(self._fail(job.path, outcome.error, job.sha256))
            else:
                res = self._store(job, outcome.value)
                if res.status == "failed":
                    emit(res)
                else:
                    waiting.append(res)
            if len(waiting) >= FLUSH_EVERY or time.monotonic() - last_flush > FLUSH_SECONDS:
                flush()
        flush()
        return results

    def _jobs(self, files: list[Path], emit: Callable[[FileResult], None]) -> Iterator[Job]:
        """Read, hash and check each file; yield a parse job for what is new."""
        seen: dict[str, str] = {}
        for path in files:
            try:
                data, meta = self._read(path)
            except IngestError as exc:
                emit(self._fail(str(path), str(exc)))
                continue
            digest = sha256_bytes(data)
            existing = self.archive.find_version(digest)
            if existing is not None or digest in seen:
                doc_id = existing.doc_id if existing else seen[digest]
                doc = self.archive.find_document(doc_id)
                self.archive.log(
                    str(path), "unchanged", sha256=digest, doc_id=doc_id, version=digest
                )
                emit(
                    FileResult(
                        str(path), "unchanged", doc_id, digest, doc.kind.value if doc else ""
                    )
                )
                continue
            seen[digest] = ""
            yield Job(str(path), data, digest, self.kind, meta, self.settings.max_pages)

    def _read(self, path: Path) -> tuple[bytes, dict[str, Any]]:
        if not path.exists():
            raise IngestError("no such file")
        if not path.is_file():
            raise IngestError("not a regular file")
        size = path.stat().st_size
        if size > self.settings.max_file_mb * 1024 * 1024:
            raise IngestError(
                f"file too large ({size / 1e6:.0f} MB > {self.settings.max_file_mb} MB)"
            )
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise IngestError(f"cannot read: {exc.strerror}") from None
        if not data:
            raise IngestError("empty file")
        return data, sidecar.load(path)

    def _fail(self, path: str, error: str, digest: str = "") -> FileResult:
        self.archive.log(path, "failed", sha256=digest, error=error)
        return FileResult(path, "failed", error=error)

    def _store(self, job: Job, a: Analysis) -> FileResult:
        doc_id = self._identify(job, a)
        known = self.archive.find_document(doc_id) is not None
        self.archive.put_original(job.data, job.sha256)
        self.archive.record_version(
            NewVersion(
                doc_id=doc_id,
                sha256=job.sha256,
                kind=a.kind,
                title=a.title,
                media_type=a.media_type,
                size=len(job.data),
                filename=Path(job.path).name,
                pages=a.pages,
                warnings=tuple(a.warnings),
                meta=a.meta,
                identifiers=tuple(a.identifiers),
                passages=tuple(a.passages),
                citations=tuple(a.citations),
                **a.fields,
            )
        )
        status = "new-version" if known else "ingested"
        self.archive.log(
            job.path,
            status,
            sha256=job.sha256,
            doc_id=doc_id,
            version=job.sha256,
            warnings=a.warnings,
        )
        return FileResult(job.path, status, doc_id, job.sha256, a.kind, a.pages, list(a.warnings))

    def _identify(self, job: Job, a: Analysis) -> str:
        """Which document this version belongs to: the sidecar id, else a document with the same
        source URL or ECLI, else a new id from the first version's hash."""
        if job.sidecar.get("id"):
            return str(job.sidecar["id"])
        url = a.fields.get("source_url", "")
        if url and (found := self.archive.doc_by_source_url(url)):
            return found
        for value, family in a.identifiers:
            if family == "ecli" and (found := self.archive.doc_by_identifier(value)):
                return found
        return new_doc_id(job.sha256)
