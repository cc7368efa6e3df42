"""The ingest pipeline: find files -> read and hash -> sidecar -> parse in an isolated worker
(detect, structure, citations, metadata) -> store the original -> catalog -> index.

Parsing runs in parallel (one worker per core); this process alone stores and indexes. A file is
reported (and logged "ingested") only once its index commit is done, so what was acknowledged is
never missing. Every file given gets exactly one result. A file that fails, for whatever reason --
its bytes, its sidecar, its name, or a write error while storing it (a full disk, an I/O error in
write, fsync, rename, SQLite or the index) -- leaves nothing behind but its line in the ingest log;
a full disk stops the run, and the files not reached are reported as such. Killed half-way, the next
run finds the cataloged-but-unindexed documents (index/sync.py) and skips what is already stored.
"""

from __future__ import annotations

import errno
import os
import sqlite3
import threading
import time
from collections import deque
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from ..archive import Archive, LogEntry, NewVersion, new_doc_id, sha256_bytes
from ..config import Settings
from ..errors import IngestError, MagsearchError, printable
from ..index.base import IndexBackend, IndexRecord
from ..index.sync import clear_pending, exclusive, index_documents, mark_pending, sync_pending
from ..models import Document
from . import sidecar
from .analyse import Analysis, Job, analyse, analyse_group, warm_up
from .worker import run_isolated, run_jobs

SKIP_NAMES = {"README.md", "README.txt", ".gitignore", ".gitkeep"}
FLUSH_EVERY = 50  # files per index commit
FLUSH_SECONDS = 1.0  # ... or sooner, so that a small batch's files are reported at once
# A bulk load (more than BULK files) commits less often, so its segments are larger and fewer. Every
# commit merges by the index's tiered policy (ten segments of a size tier become one of the next), so
# a document is rewritten once per tier it climbs and a long run does not slow down as it goes. Its
# files are reported at each commit, and searchable as soon as reported.
BULK = 200
FLUSH_BYTES = 128 * 1024 * 1024  # originals held in memory until their flush
GROUP_BYTES = 64 * 1024  # files up to this size are parsed GROUP_FILES to a worker
GROUP_FILES = 32
GROUP_TOTAL = 512 * 1024  # ... and up to this many bytes a group
# A bulk load's workers take four times as many: a worker forked from the writer shares its memory,
# and every page the writer touches while one is alive is copied (the writer's CPU: 7.5 -> 6.6 ms a
# document, the workers' 9.7 -> 9.3; docs/benchmarks.md)
BULK_GROUP_FILES = 128
BULK_GROUP_TOTAL = 2 * 1024 * 1024
BULK_FLUSH_EVERY = 1000
BULK_FLUSH_SECONDS = 10.0


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
    folders are not documents. A path that does not exist, or cannot be read, is given back as it
    is: ingest reports it as a failure with the reason."""
    out: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if _is_dir(path):
            for child in _walk(path):
                rel = child.relative_to(path)
                if any(part.startswith(".") for part in rel.parts) or child.name in SKIP_NAMES:
                    continue
                if not sidecar.is_sidecar(child):
                    out.append(child)
        else:
            out.append(path)
    return list(dict.fromkeys(out))


def _is_dir(path: Path) -> bool:
    try:
        return path.is_dir()
    except OSError:  # a name too long, say: ingest will say so
        return False


def _walk(folder: Path) -> list[Path]:
    """Every non-folder under folder, sorted; a sub-folder that cannot be listed is given back
    itself, so that it gets its failure line."""
    found: list[Path] = []

    def unreadable(exc: OSError) -> None:
        if exc.filename is not None:
            found.append(Path(exc.filename))

    for top, _dirs, names in os.walk(folder, onerror=unreadable):
        found.extend(Path(top) / n for n in names)
    return sorted(found)


def shown(path: str | Path) -> str:
    """A file name as it can be printed and logged on one line: bytes that are not UTF-8 as
    \\xNN, control characters (newlines, a right-to-left override) escaped."""
    raw = (
        os.fsencode(path) if not isinstance(path, str) else path.encode("utf-8", "surrogateescape")
    )
    return printable(raw.decode("utf-8", "backslashreplace"))


DISK_FULL = {errno.ENOSPC, errno.EDQUOT}


class StoreFailed(Exception):
    """Storing one file failed; `stop` when the rest cannot be stored either (a full disk)."""

    def __init__(self, reason: str, *, stop: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.stop = stop


def write_failure(exc: BaseException, what: str) -> StoreFailed:
    """A write error as a one-line reason; a full disk stops the run."""
    if isinstance(exc, OSError):
        reason = exc.strerror or type(exc).__name__
        full = exc.errno in DISK_FULL
    elif isinstance(exc, sqlite3.Error):
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        full = "full" in reason  # SQLITE_FULL: "database or disk is full"
    else:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        full = False
    return StoreFailed(f"{what}: {reason}", stop=full)


@dataclass
class Source:
    """One thing to ingest: a file (path), or bytes handed over with their metadata (an upload).

    `origin` is the place it came from: for files the absolute path; for other routes whatever
    names the place stably (say "upload:ACCOUNT/FILENAME"), or "" for none. A version without a
    sidecar id, source URL or ECLI that comes from the same place as an archived version is a new
    version of that document; without an origin, new bytes are a new document."""

    name: str  # shown in results and in the ingest log
    path: Path | None = None
    data: bytes | None = None
    meta: dict[str, Any] | None = None  # sidecar fields; None: read path's sidecar, if any
    kind: str = ""  # overrides the run's kind (a sidecar's kind still wins)
    origin: str = ""

    @classmethod
    def from_path(cls, path: str | Path) -> Source:
        path = Path(path)
        return cls(name=shown(path), path=path, origin=_origin(path))


def _origin(path: Path) -> str:
    """A file's place: its absolute path, as text (bytes that are not UTF-8 as \\xNN)."""
    try:
        where = path.absolute()
    except OSError:  # the current folder is gone
        where = path
    return os.fsencode(where).decode("utf-8", "backslashreplace")


class Ingester:
    def __init__(
        self,
        archive: Archive,
        backend: IndexBackend,
        settings: Settings,
        *,
        kind: str = "",
        on_commit: Callable[[], None] | None = None,
    ) -> None:
        self.archive = archive
        self.backend = backend
        self.settings = settings
        self.kind = kind
        # called after each batch is committed to the catalog and the index (saved-search alerts:
        # magsearch.alerts.on_commit); it must not raise
        self.on_commit = on_commit

    def run(
        self, files: list[Path], on_result: Callable[[FileResult], None] | None = None
    ) -> list[FileResult]:
        """Ingest files; on_result is called for each file once its outcome is final."""
        return self.run_sources([Source.from_path(f) for f in files], on_result)

    def run_sources(
        self, sources: list[Source], on_result: Callable[[FileResult], None] | None = None
    ) -> list[FileResult]:
        """Ingest sources; exactly one result each, in the order outcomes become final."""
        try:
            sync_pending(self.archive, self.backend)  # finish what an interrupted run left
        except (OSError, sqlite3.Error) as exc:
            raise IngestError(
                str(write_failure(exc, "cannot finish the interrupted run"))
            ) from None
        warm_up()
        return _Run(self, sources, on_result).go()

    def parse(
        self, jobs: Iterable[Job], *, bulk: bool = False
    ) -> Generator[tuple[Job, Analysis | None, str]]:
        """The one seam between the writer and the parsers: (job, analysis, error) per job, in
        the order they finish. With a broker, every file is a job on the queue. In-process, small
        files go to the isolated workers several at a time (a fork costs more than parsing 10 kB of
        HTML); a file of a group that fails or raises, or of a group that times out or is killed,
        is parsed again alone, so every failure is its own."""
        limits = {
            "workers": self.settings.workers,
            "timeout": self.settings.parse_timeout,
            "memory_mb": self.settings.parse_memory_mb,
        }
        if self.settings.broker_url:
            for outcome in run_jobs(
                analyse,
                jobs,
                broker_url=self.settings.broker_url,
                window=self.settings.queue_window,
                **limits,  # type: ignore[arg-type]
            ):
                yield outcome.job, outcome.value, outcome.error
            return
        alone: list[Job] = []
        groups = _groups(jobs, BULK_GROUP_FILES, BULK_GROUP_TOTAL) if bulk else _groups(jobs)
        for group_outcome in run_isolated(analyse_group, groups, **limits):  # type: ignore[arg-type]
            group: list[Job] = group_outcome.job
            if group_outcome.error:
                if len(group) == 1:
                    yield group[0], None, group_outcome.error
                else:
                    alone.extend(group)
                continue
            for job, analysis in zip(group, group_outcome.value, strict=True):
                if analysis is None:
                    alone.append(job)
                else:
                    yield job, analysis, ""
        for outcome in run_isolated(analyse, alone, **limits):  # type: ignore[arg-type]
            yield outcome.job, outcome.value, outcome.error

    def read(self, src: Source) -> tuple[bytes, dict[str, Any]]:
        """The bytes and the validated sidecar of a source; IngestError names what is wrong."""
        if src.data is not None:
            data = src.data
        else:
            assert src.path is not None
            data = self._read_file(src.path)
        if not data:
            raise IngestError("empty file")
        if src.meta is not None:
            return data, sidecar.validate(dict(src.meta), "metadata")
        if src.path is None:
            return data, {}
        return data, sidecar.load(src.path)

    def _read_file(self, path: Path) -> bytes:
        try:
            if not path.exists():
                raise IngestError("no such file")
            if not path.is_file():
                raise IngestError("not a regular file")
            size = path.stat().st_size
            if size > self.settings.max_file_mb * 1024 * 1024:
                raise IngestError(
                    f"file too large ({size / 1e6:.0f} MB > {self.settings.max_file_mb} MB)"
                )
            return path.read_bytes()
        except OSError as exc:
            raise IngestError(f"cannot read: {exc.strerror or type(exc).__name__}") from None

    def identify(self, job: Job, a: Analysis, origin: str = "") -> str:
        """Which document this version belongs to: the sidecar id, else a document with the same
        source URL or ECLI, else the document last ingested from the same place (origin), else a
        new id from the first version's hash."""
        if job.sidecar.get("id"):
            return str(job.sidecar["id"])
        url = a.fields.get("source_url", "")
        if url and (found := self.archive.doc_by_source_url(url)):
            return found
        for value, family in a.identifiers:
            if family == "ecli" and (found := self.archive.doc_by_identifier(value)):
                return found
        if origin and (found := self.archive.doc_by_origin(origin)):
            return found
        return new_doc_id(job.sha256)


@dataclass
class _Stored:
    index: int  # of its source
    nv: NewVersion  # the draft: what the catalog records and the index holds
    warnings: list[str]
    data: bytes  # the original, stored by the flush
    terms: Mapping[tuple[str, str], Any]  # the index's analysis of its text, by the parse worker


class _Run:
    """One run of the ingester over a list of sources (see Ingester.run_sources)."""

    def __init__(
        self, ing: Ingester, sources: list[Source], on_result: Callable[[FileResult], None] | None
    ) -> None:
        self.ing = ing
        self.archive = ing.archive
        self.sources = sources
        self.on_result = on_result
        self.results: list[FileResult] = []
        self.outcome: dict[int, FileResult] = {}  # source -> its result
        self.first: dict[str, int] = {}  # sha256 -> the source that carries it in this run
        self.copies: dict[str, list[int]] = {}  # sha256 -> later sources with the same bytes
        self.waiting: list[_Stored] = []  # drafts to store, catalog and index together
        self.waiting_bytes = 0
        self.claimed: dict[tuple[str, str], str] = {}  # (source_url|ecli, value) -> waiting doc
        self.stopped = ""  # why the run stopped early (a full disk)
        self.last_flush = time.monotonic()
        self.bulk = len(sources) > BULK
        self.flush_every = BULK_FLUSH_EVERY if self.bulk else FLUSH_EVERY
        self.flush_seconds = BULK_FLUSH_SECONDS if self.bulk else FLUSH_SECONDS

    # -- the run ---------------------------------------------------------------------------------
    def go(self) -> list[FileResult]:
        """Parsing goes on in a thread of its own (its workers are processes) while this thread
        stores, catalogs and indexes: a commit no longer leaves the workers idle. The thread hands
        over parse outcomes, and what reading the files decided (a failure, an unchanged file), in
        order through `inbox`; every result is emitted here."""
        ahead = _Ahead(self.flush_every, FLUSH_BYTES)
        thread = threading.Thread(
            target=self._parse_ahead, args=(ahead,), name="parse", daemon=True
        )
        thread.start()
        try:
            while True:
                wait = max(0.0, self.last_flush + self.flush_seconds - time.monotonic())
                item = ahead.get(wait if self.waiting else None)
                if item is None:  # the time to commit what is waiting
                    self._flush()
                    continue
                kind, value = item
                if kind == "end":
                    break
                if kind == "raise":
                    raise value
                if kind == "do":
                    value()
                    continue
                job, analysis, error = value
                i = self.first[job.sha256]
                if error or analysis is None:
                    self._fail(i, error or "no analysis", job.sha256)
                else:
                    self._store(i, job, analysis)
                if self.stopped:
                    break
                if (
                    len(self.waiting) >= self.flush_every
                    or self.waiting_bytes > FLUSH_BYTES
                    or time.monotonic() - self.last_flush > self.flush_seconds
                ):
                    self._flush()
            self._flush()
        except BaseException:
            ahead.stop()
            thread.join(timeout=2.0)  # a daemon: its workers die with it
            raise
        ahead.stop()  # no worker outlives an early stop
        thread.join()
        for i in range(len(self.sources)):  # what the run did not reach
            if i not in self.outcome:
                self._fail(i, f"not ingested: the run stopped ({self.stopped or 'interrupted'})")
        return self.results

    def _parse_ahead(self, ahead: _Ahead) -> None:
        """The parse thread: jobs from the sources, parsed by the workers, handed to the writer."""
        try:
            parsed = self.ing.parse(self._jobs(ahead), bulk=self.bulk)
            try:
                for outcome in parsed:
                    if not ahead.put(("parsed", outcome), len(outcome[0].data)):
                        break
            finally:
                parsed.close()  # its workers are stopped
        except BaseException as exc:  # noqa: BLE001 - the writer's thread raises it
            ahead.put(("raise", exc))
        finally:
            ahead.put(("end", None), force=True)
            self.archive.close()  # this thread's catalog connection

    def _jobs(self, ahead: _Ahead) -> Iterator[Job]:
        """Read, hash and check each source; yield a parse job for what is new (in the parse
        thread: outcomes decided here are handed to the writer's thread, which emits them)."""
        for i in self._parse_order():
            src = self.sources[i]
            if self.stopped or ahead.stopped:
                return
            try:
                data, meta = self.ing.read(src)
            except IngestError as exc:
                ahead.put(("do", partial(self._fail, i, str(exc))))
                continue
            except Exception as exc:  # a bug must fail the file, not the batch
                reason = f"cannot read: {type(exc).__name__}: {exc}"
                ahead.put(("do", partial(self._fail, i, reason)))
                continue
            digest = sha256_bytes(data)
            if digest in self.first:  # the same bytes earlier in this run: its outcome is ours
                ahead.put(("do", partial(self._same_bytes, i, digest)))
                continue
            self.first[digest] = i
            existing = self.archive.find_version(digest)
            if existing is not None:
                ahead.put(("do", partial(self._emit_unchanged, i, existing.doc_id, digest)))
                continue
            kind = src.kind or self.ing.kind
            yield Job(
                src.name, data, digest, kind, meta, self.ing.settings.max_pages,
                self.ing.settings.ocr_options(), self.ing.backend.engine,
            )  # fmt: skip

    def _parse_order(self) -> list[int]:
        """The sources, largest first (the order of the list among equal sizes): the workers start
        on the long parses at once and fill in with the small files, instead of the run waiting at
        its end for a large file that came late. (Outcomes are final in the order they finish.)"""

        def size(src: Source) -> int:
            if src.data is not None:
                return len(src.data)
            try:
                return src.path.stat().st_size if src.path is not None else 0
            except OSError:  # reading it will say why
                return 0

        sizes = [size(src) for src in self.sources]
        return sorted(range(len(self.sources)), key=lambda i: -sizes[i])

    def _same_bytes(self, i: int, digest: str) -> None:
        earlier = self.outcome.get(self.first[digest])
        if earlier is None:
            self.copies.setdefault(digest, []).append(i)
        else:
            self._copy(i, earlier, digest)

    def _emit_unchanged(self, i: int, doc_id: str, digest: str) -> None:
        self._emit(i, self._unchanged(i, doc_id, digest))

    def _store(self, i: int, job: Job, a: Analysis) -> None:
        """Keep the draft (and the bytes) for the next flush, which stores, catalogs and indexes."""
        try:
            doc_id = self._identify(job, a)
        except (OSError, sqlite3.Error) as exc:
            return self._store_failed(i, job.sha256, write_failure(exc, "cannot read the catalog"))
        nv = NewVersion(
            doc_id=doc_id,
            sha256=job.sha256,
            kind=a.kind,
            title=a.title,
            media_type=a.media_type,
            size=len(job.data),
            filename=_filename(self.sources[i]),
            origin=self.sources[i].origin,
            pages=a.pages,
            warnings=tuple(a.warnings),
            meta=a.meta,
            identifiers=tuple(a.identifiers),
            passages=tuple(a.passages),
            citations=tuple(a.citations),
            outside=a.outside,
            **a.fields,
        )
        self.waiting.append(_Stored(i, nv, list(a.warnings), job.data, a.terms))
        self.waiting_bytes += len(job.data)

    def _identify(self, job: Job, a: Analysis) -> str:
        """The archive's answer (Ingester.identify), or a document waiting in this batch with the
        same source URL or ECLI."""
        origin = self.sources[self.first[job.sha256]].origin
        keys = [("source_url", a.fields.get("source_url", ""))]
        keys += [("ecli", value) for value, family in a.identifiers if family == "ecli"]
        keys += [("origin", origin)]
        keys = [k for k in keys if k[1]]
        if not job.sidecar.get("id"):
            for key in keys:
                if key in self.claimed:
                    return self.claimed[key]
        doc_id = self.ing.identify(job, a, origin)
        for key in keys:
            self.claimed.setdefault(key, doc_id)
        return doc_id

    def _store_failed(self, i: int, digest: str, failure: StoreFailed) -> None:
        if failure.stop:
            self.stopped = failure.reason
        self._fail(i, failure.reason, digest)

    def _flush(self) -> None:
        """Under the writer's lock, with the batch's documents and originals named in the pending
        lists first: store the originals, catalog the drafts in one transaction, commit them to the
        index while that transaction is open, then commit the catalog with the log lines, and only
        then report the files. Killed anywhere in between, the next opening of the library removes
        the originals the catalog did not get and makes the index what the catalog says."""
        self.last_flush = time.monotonic()
        if not self.waiting:
            return
        batch, self.waiting = self.waiting, []
        self.waiting_bytes = 0
        self.claimed.clear()
        try:
            with exclusive(self.archive, self.ing.backend):
                self._commit(batch)
        except (OSError, sqlite3.Error, MagsearchError) as exc:
            # the lock, the pending lists or the repair failed (the disk is full): what is left
            # pending is repaired by the next opening of the library
            self.stopped = self.stopped or write_failure(exc, "not stored").reason
            for st in batch:
                if st.index not in self.outcome:
                    self._fail(st.index, self.stopped, st.nv.sha256)
        if self.ing.on_commit is not None:  # outside the writer's lock
            self.ing.on_commit()

    def _commit(self, batch: list[_Stored]) -> None:
        archive = self.archive
        mark_pending(archive, {st.nv.doc_id for st in batch}, [st.nv.sha256 for st in batch])
        try:
            errors = archive.put_originals([(st.data, st.nv.sha256) for st in batch])
        except OSError as exc:  # the objects folder itself
            errors = {st.nv.sha256: exc for st in batch}
        kept: list[_Stored] = []
        for st in batch:
            if st.nv.sha256 in errors:
                self._lose([st], write_failure(errors[st.nv.sha256], "not stored"))
            else:
                kept.append(st)
        try:
            cat = archive.batch()
        except (OSError, sqlite3.Error) as exc:
            self._lose(kept, write_failure(exc, "not cataloged"))
            clear_pending(archive)
            return
        added: list[tuple[_Stored, Document, bool]] = []
        for st in kept:
            try:
                doc, new = cat.add(st.nv)
            except (OSError, sqlite3.Error, MagsearchError) as exc:
                failure = write_failure(exc, "not cataloged")
                self._lose([st], failure)
                if not cat.open:  # SQLite gave the whole transaction up
                    self._lose([a for a, _, _ in added], failure)
                    added = []
                    break
                continue
            added.append((st, doc, new))
        if not added:
            cat.rollback()
            clear_pending(archive)
            return
        stored = [st for st, _, _ in added]
        fresh = {doc.id for _, doc, new in added if new}  # not in the index: nothing to delete
        records: dict[str, IndexRecord | None] = {}  # the last version of each document wins
        for st, doc, _ in added:
            records[doc.id] = None if doc.withdrawn else _record(doc, st.nv, st.terms)
        results = [
            FileResult(self.sources[st.index].name, "ingested" if new else "new-version",
                       doc.id, st.nv.sha256, st.nv.kind, st.nv.pages, st.warnings)
            for st, doc, new in added
        ]  # fmt: skip
        try:
            self.ing.backend.write(
                [r for r in records.values() if r is not None],
                delete=[d for d, r in records.items() if r is None],
                fresh=fresh,
            )
        except (OSError, sqlite3.Error, MagsearchError) as exc:
            cat.rollback()
            self._lose(stored, write_failure(exc, "not indexed"))
            clear_pending(archive)
            return
        try:
            cat.acknowledge(
                LogEntry(r.path, r.status, r.version, r.id, r.version, "",
                         tuple(r.warnings), _source(self.sources[st.index]))
                for st, r in zip(stored, results, strict=True)
            )  # fmt: skip
            cat.commit()
        except (OSError, sqlite3.Error) as exc:
            cat.rollback()
            self._lose(stored, write_failure(exc, "not cataloged"))
            # the index runs ahead of the catalog: make it what the catalog says
            index_documents(archive, self.ing.backend, records)
            clear_pending(archive)
            return
        clear_pending(archive)
        for st, res in zip(stored, results, strict=True):
            self._emit(st.index, res, log=False)

    def _lose(self, batch: list[_Stored], failure: StoreFailed) -> None:
        """These versions were not cataloged: their originals leave the disk, and they fail."""
        if failure.stop:
            self.stopped = self.stopped or failure.reason
        for st in batch:
            try:
                self.archive.drop_original_if_unused(st.nv.sha256)
            except (OSError, sqlite3.Error):
                pass  # an unreferenced original is harmless; the next store of it reuses it
            self._fail(st.index, failure.reason, st.nv.sha256)

    # -- results ---------------------------------------------------------------------------------
    def _unchanged(self, i: int, doc_id: str, digest: str) -> FileResult:
        doc = self.archive.find_document(doc_id)
        return FileResult(
            self.sources[i].name, "unchanged", doc_id, digest, doc.kind.value if doc else ""
        )

    def _fail(self, i: int, error: str, digest: str = "") -> None:
        self._emit(i, FileResult(self.sources[i].name, "failed", error=shown(error)), digest)

    def _emit(self, i: int, res: FileResult, digest: str = "", *, log: bool = True) -> None:
        if i in self.outcome:
            return
        if log:
            self._log(i, res, digest)
        self.outcome[i] = res
        self.results.append(res)
        if self.on_result:
            self.on_result(res)
        key = digest or res.version
        if key and self.first.get(key) == i:  # copies of these bytes later in the run
            for j in self.copies.pop(key, []):
                self._copy(j, res, key)

    def _copy(self, i: int, first: FileResult, digest: str) -> None:
        """A source with the same bytes as an earlier one of this run: one document, its id."""
        if first.status == "failed":
            self._fail(i, f"same bytes as {first.path}, which failed: {first.error}", digest)
        else:
            self._emit(i, self._unchanged(i, first.id, digest), digest)

    def _log(self, i: int, res: FileResult, digest: str) -> None:
        try:
            self.archive.log(
                res.path,
                res.status,
                sha256=digest or res.version,
                doc_id=res.id,
                version=res.version,
                error=res.error,
                warnings=res.warnings,
                source=_source(self.sources[i]),
            )
        except (OSError, sqlite3.Error) as exc:
            res.warnings.append(write_failure(exc, "ingest log not written").reason)


class _Ahead:
    """What the parse thread hands to the writer's thread, in order: at most `items` parse outcomes
    (and `size` bytes of originals) waiting, so parsing runs ahead by about one commit's worth."""

    def __init__(self, items: int, size: int) -> None:
        self.items, self.size = max(1, items), size
        self.queue: deque[tuple[str, Any]] = deque()
        self.parsed = self.bytes = 0
        self.cond = threading.Condition()
        self.stopped = False

    def put(self, item: tuple[str, Any], size: int = 0, *, force: bool = False) -> bool:
        """Hand an item over (a parse outcome waits for room); False once the writer stopped."""
        with self.cond:
            if item[0] == "parsed":
                while (
                    not self.stopped
                    and self.parsed
                    and (self.parsed >= self.items or self.bytes + size > self.size)
                ):
                    self.cond.wait()
                self.parsed += 1
                self.bytes += size
            if self.stopped and not force:
                return False
            self.queue.append((item[0], (item[1], size)))
            self.cond.notify_all()
            return True

    def get(self, timeout: float | None) -> tuple[str, Any] | None:
        """The next item, or None when `timeout` seconds passed without one."""
        with self.cond:
            if not self.queue and not self.cond.wait_for(lambda: self.queue, timeout):
                return None
            kind, (value, size) = self.queue.popleft()
            if kind == "parsed":
                self.parsed -= 1
                self.bytes -= size
                self.cond.notify_all()
            return kind, value

    def stop(self) -> None:
        with self.cond:
            self.stopped = True
            self.cond.notify_all()


def _groups(
    jobs: Iterable[Job], files: int = GROUP_FILES, total: int = GROUP_TOTAL
) -> Iterator[list[Job]]:
    """Jobs in groups for the workers: files up to GROUP_BYTES several at a time (up to `files` of
    them, `total` bytes in all), larger ones alone. A group is handed over as
    soon as a large file comes, so small files never wait for the large ones after them."""
    group: list[Job] = []
    size = 0
    for job in jobs:
        if len(job.data) > GROUP_BYTES:
            if group:
                yield group
                group, size = [], 0
            yield [job]
            continue
        group.append(job)
        size += len(job.data)
        if len(group) >= files or size >= total:
            yield group
            group, size = [], 0
    if group:
        yield group


def _record(doc: Document, nv: NewVersion, terms: Mapping[tuple[str, str], Any]) -> IndexRecord:
    """The index record of a version straight from its draft (no reading back from the catalog),
    with what the parse worker analysed of it ahead."""
    return IndexRecord(
        doc=doc,
        version=nv.sha256,
        passages=nv.passages,
        cited=tuple((c.anchor, c.normalized) for c in nv.citations),
        outside=nv.outside,
        terms=terms,
    )


def _source(src: Source) -> bytes | None:
    return os.fsencode(src.path) if src.path is not None else None


def _filename(src: Source) -> str:
    return shown(src.path.name) if src.path is not None else src.name
