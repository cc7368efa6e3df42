"""Ingest jobs: files handed over through the web, the API or the inbox, ingested in the background
by the same Ingester as `magsearch ingest`, with a record of each file's outcome.

A job is a row in the catalog (`jobs`) with one row per file (`job_files`); the files wait in
`<data>/uploads/<job>/<n>/NAME` (with the metadata as a sidecar beside them) until they are stored,
and stay there when they fail, so that they can be retried. In the embedded default a `Runner`
thread in the web process takes queued jobs one at a time; a lock file (`<data>/jobs.lock`)
makes runners in several processes take turns, so two uploads never race to store the same bytes.
A job left `running` by a process that died is queued again by the next runner.

Checks made before a file is queued, each with its HTTP status: over the size limit (413), a format
magsearch cannot read (415), empty (422), invalid metadata (400). A damaged or encrypted file fails
in the pipeline, and its job says why (the API's synchronous answer is 422).
"""

from __future__ import annotations

import fcntl
import json
import os
import secrets
import shutil
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from werkzeug.utils import secure_filename

from . import alerts, curation
from .accounts import Accounts
from .archive import now_iso, sha256_bytes
from .errors import IngestError, MagsearchError, NotFound
from .ingest import sidecar
from .ingest.detect import detect
from .ingest.pipeline import FileResult, Ingester, Source
from .library import Library

MAX_FILES = 50  # per upload
_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY,
    created_at TEXT NOT NULL,
    actor TEXT NOT NULL,
    source TEXT NOT NULL,
    kind TEXT NOT NULL DEFAULT '',
    restricted INTEGER NOT NULL DEFAULT 0,
    state TEXT NOT NULL,
    worker TEXT NOT NULL DEFAULT '',
    finished_at TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS jobs_state ON jobs(state, created_at);
CREATE TABLE IF NOT EXISTS job_files (
    job_id TEXT NOT NULL REFERENCES jobs(id),
    seq INTEGER NOT NULL,
    name TEXT NOT NULL,
    staged TEXT NOT NULL,
    size INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    status TEXT NOT NULL,
    result_json TEXT NOT NULL DEFAULT '{}',
    PRIMARY KEY (job_id, seq)
);
"""


class UploadError(MagsearchError):
    """A file or form refused before it was queued; `status` is the HTTP status to answer."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Upload:
    name: str  # as the client named it
    data: bytes


def _schema(lib: Library) -> None:
    lib.archive.ensure_tables("jobs", _SCHEMA)


def check_metadata(raw: Any) -> dict[str, Any]:
    """The sidecar fields of an upload (a dict, or JSON text), validated; UploadError(400)."""
    if raw in (None, "", {}):
        return {}
    if isinstance(raw, str | bytes):
        try:
            raw = json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise UploadError(400, f"metadata: not valid JSON ({exc})") from None
    try:
        return sidecar.validate(raw, "metadata")
    except IngestError as exc:
        raise UploadError(400, str(exc).replace("sidecar metadata", "metadata")) from None


def check_file(lib: Library, upload: Upload) -> None:
    """413 over the size limit, 422 empty, 415 a format magsearch cannot read."""
    limit = lib.settings.max_file_mb * 1024 * 1024
    label = upload.name or "upload"
    if len(upload.data) > limit:
        raise UploadError(
            413,
            f"{label}: file too large ({len(upload.data) / 1e6:.1f} MB > "
            f"{lib.settings.max_file_mb} MB)",
        )
    try:
        detect(upload.data)
    except IngestError as exc:
        status = 422 if str(exc) == "empty file" else 415
        raise UploadError(status, f"{label}: {exc}") from None


def create(
    lib: Library,
    uploads: list[Upload],
    *,
    actor: str,
    source: str = "upload",
    kind: str = "",
    metadata: dict[str, Any] | str | None = None,
    restricted: bool = False,
) -> str:
    """Check every file, stage them, and queue one job; returns its id. Nothing is queued when
    any file is refused (UploadError)."""
    _schema(lib)
    if not uploads:
        raise UploadError(400, "no file given")
    if len(uploads) > MAX_FILES:
        raise UploadError(400, f"too many files in one upload ({len(uploads)} > {MAX_FILES})")
    if kind and kind not in ("ruling", "legislation", "article", "other"):
        raise UploadError(400, f"unknown kind {kind[:20]!r}")
    meta = check_metadata(metadata)
    for upload in uploads:
        check_file(lib, upload)
    job_id = secrets.token_hex(8)
    folder = lib.settings.data_dir / "uploads" / job_id
    rows = []
    for seq, upload in enumerate(uploads, start=1):
        name = secure_filename(upload.name or "") or f"upload-{seq}"
        path = folder / str(seq) / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(upload.data)
        if meta:
            sidecar.sidecar_path(path).write_text(json.dumps(meta, ensure_ascii=False), "utf-8")
        digest = sha256_bytes(upload.data)
        if restricted:  # before the bytes are ingested: never public for a moment
            lib.archive.restrict_upload(digest)
        rows.append((job_id, seq, upload.name[:255] or name, str(path), len(upload.data), digest))
    with lib.archive.transaction() as db:
        db.execute(
            "INSERT INTO jobs(id, created_at, actor, source, kind, restricted, state) "
            "VALUES (?,?,?,?,?,?, 'queued')",
            (job_id, now_iso(), actor, source, kind, int(restricted)),
        )
        db.executemany(
            "INSERT INTO job_files(job_id, seq, name, staged, size, sha256, status) "
            "VALUES (?,?,?,?,?,?, 'queued')",
            rows,
        )
    Accounts(lib.archive).audit(
        actor, source, job_id, files=[r[2] for r in rows], kind=kind, restricted=restricted,
        metadata=meta,
    )  # fmt: skip
    return job_id


def get(lib: Library, job_id: str) -> dict[str, Any]:
    """A job and its files, as the job page and its JSON show them."""
    _schema(lib)
    row = lib.archive.db.execute("SELECT * FROM jobs WHERE id=?", (job_id,)).fetchone()
    if row is None:
        raise NotFound(f"no job {job_id[:40]!r}")
    files = lib.archive.db.execute(
        "SELECT * FROM job_files WHERE job_id=? ORDER BY seq", (job_id,)
    ).fetchall()
    return {
        "id": row["id"],
        "state": row["state"],
        "created_at": row["created_at"],
        "finished_at": row["finished_at"],
        "actor": row["actor"],
        "source": row["source"],
        "kind": row["kind"],
        "restricted": bool(row["restricted"]),
        "files": [
            {
                "seq": f["seq"],
                "name": f["name"],
                "size": f["size"],
                "sha256": f["sha256"],
                "status": f["status"],
                "result": json.loads(f["result_json"]) or None,
            }
            for f in files
        ],
    }


def retry(lib: Library, job_id: str, seq: int, *, actor: str) -> None:
    """Queue a failed file of a job again."""
    _schema(lib)
    with lib.archive.transaction() as db:
        cur = db.execute(
            "UPDATE job_files SET status='queued', result_json='{}' "
            "WHERE job_id=? AND seq=? AND status='failed'",
            (job_id, seq),
        )
        if cur.rowcount == 0:
            raise NotFound(f"job {job_id[:40]!r} has no failed file {seq}")
        db.execute("UPDATE jobs SET state='queued', finished_at='' WHERE id=?", (job_id,))
    Accounts(lib.archive).audit(actor, "retry", job_id, file=seq)


# -- running jobs ----------------------------------------------------------------------------------
def _worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _alive(worker: str) -> bool:
    host, _, pid = worker.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return True  # another machine's: not ours to judge
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@contextmanager
def ingest_lock(data_dir: Path) -> Iterator[None]:
    """One ingest at a time across the processes that share a data directory (web workers and the
    inbox watcher take turns; each file is still parsed in parallel inside a run)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    with open(data_dir / "jobs.lock", "a") as fh:  # not ingest.lock: the pipeline's own
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def claim(lib: Library) -> str | None:
    """Take the oldest queued job (or one left running by a dead process); None when none."""
    _schema(lib)
    db = lib.archive.db
    for row in db.execute("SELECT id, worker FROM jobs WHERE state='running'").fetchall():
        if not _alive(row["worker"]):
            with lib.archive.transaction() as tx:
                tx.execute(
                    "UPDATE jobs SET state='queued' WHERE id=? AND state='running'", (row["id"],)
                )
    for row in db.execute(
        "SELECT id FROM jobs WHERE state='queued' ORDER BY created_at, id LIMIT 5"
    ).fetchall():
        with lib.archive.transaction() as tx:
            cur = tx.execute(
                "UPDATE jobs SET state='running', worker=? WHERE id=? AND state='queued'",
                (_worker_name(), row["id"]),
            )
        if cur.rowcount:
            return str(row["id"])
    return None


def run(lib: Library, job_id: str, after: Callable[[list[FileResult]], None] | None = None) -> None:
    """Ingest a job's queued files with the pipeline, recording each outcome as it is final."""
    job = get(lib, job_id)
    pending = [f for f in job["files"] if f["status"] == "queued"]
    staged = {
        r["seq"]: r["staged"]
        for r in lib.archive.db.execute(
            "SELECT seq, staged FROM job_files WHERE job_id=?", (job_id,)
        ).fetchall()
    }
    by_path = {staged[f["seq"]]: f for f in pending}
    results: list[FileResult] = []

    def record(res: FileResult) -> None:
        f = by_path.get(res.path)
        if f is None:
            return
        out = res.as_json()
        out["path"] = f["name"]
        status = "failed" if res.status == "failed" else "done"
        with lib.archive.transaction() as db:
            db.execute(
                "UPDATE job_files SET status=?, result_json=? WHERE job_id=? AND seq=?",
                (status, json.dumps(out, ensure_ascii=False), job_id, f["seq"]),
            )
        Accounts(lib.archive).audit(
            job["actor"], "ingest", res.id or f["name"], job=job_id, file=f["name"],
            status=res.status, sha256=f["sha256"], error=res.error,
        )  # fmt: skip
        if status == "done":
            shutil.rmtree(Path(res.path).parent, ignore_errors=True)
        results.append(res)

    try:
        with ingest_lock(lib.settings.data_dir):
            ingester = Ingester(
                lib.archive, lib.index, lib.settings, kind=job["kind"],
                on_commit=alerts.on_commit(lib.archive, lib.settings),
            )  # fmt: skip
            account = job["actor"].split(" ")[0]
            names = {p: f["name"] for p, f in by_path.items()}
            sources = [
                # the place an upload comes from: the account and the file's name, so the same
                # file uploaded again, edited, is a new version of its document
                Source(name=p, path=Path(p), origin=f"{job['source']}:{account}/{names[p]}")
                for p in by_path
            ]
            ingester.run_sources(sources, record)
    except MagsearchError as exc:
        for path in set(by_path) - {r.path for r in results}:
            record(FileResult(path, "failed", error=str(exc)))
    for path in set(by_path) - {r.path for r in results}:  # the pipeline said nothing of it
        record(FileResult(path, "failed", error="no outcome from the pipeline"))
    if job["restricted"]:
        for res in results:
            if res.id and res.status != "failed":
                lib.archive.set_restricted(res.id, True)
    curation.keep_edits(lib, [r.id for r in results if r.status == "new-version"])
    alerts.after_ingest(lib.archive, lib.settings)  # sends what is due; never fails the job
    if after:
        after(results)
    final = get(lib, job_id)
    failed = any(f["status"] == "failed" for f in final["files"])
    with lib.archive.transaction() as db:
        db.execute(
            "UPDATE jobs SET state=?, finished_at=? WHERE id=? AND state='running'",
            ("failed" if failed else "done", now_iso(), job_id),
        )


class Runner:
    """A background thread that runs queued jobs in this process (the embedded default)."""

    POLL_SECONDS = 2.0

    def __init__(self, open_lib: Callable[[], Library]) -> None:
        self._open_lib = open_lib
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._pid = 0

    def start(self) -> None:
        """Start the thread once per process (again after a fork), and wake it."""
        with self._lock:
            if self._thread is None or not self._thread.is_alive() or self._pid != os.getpid():
                self._pid = os.getpid()
                self._thread = threading.Thread(
                    target=self._loop, name="magsearch-jobs", daemon=True
                )
                self._thread.start()
        self._wake.set()

    def _loop(self) -> None:
        lib = self._open_lib()
        while True:
            self._wake.clear()
            try:
                while (job_id := claim(lib)) is not None:
                    run(lib, job_id)
            except Exception:  # never let the thread die: log, wait, try again
                import logging

                logging.getLogger("magsearch.jobs").exception("job runner")
            self._wake.wait(self.POLL_SECONDS)
