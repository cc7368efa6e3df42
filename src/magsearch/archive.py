"""The archive: the system of record.

Originals are stored untouched, content-addressed by sha256 (``objects/ab/abcdef…``), written
to a temporary file, fsynced and renamed into place (ingest writes a batch of them and makes them
durable with one sync of the file system: put_originals). The catalog is SQLite (WAL,
synchronous=FULL): documents, versions, passages, citations, identifiers and the ingest log.
A version is recorded in one transaction after its original is durable, so there is never a
catalog row without its original. Nothing is ever overwritten: a changed document gets a new
version; a withdrawn one keeps its row and citation.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import sqlite3
import tempfile
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from .errors import ArchiveError, NotFound
from .models import Citation, Document, Kind, Passage, Version

_T = TypeVar("_T")

CATALOG_SCHEMA = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS documents (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    title TEXT NOT NULL,
    date TEXT NOT NULL DEFAULT '',
    court TEXT NOT NULL DEFAULT '',
    jurisdiction TEXT NOT NULL DEFAULT '',
    language TEXT NOT NULL DEFAULT '',
    source_url TEXT NOT NULL DEFAULT '',
    meta_json TEXT NOT NULL DEFAULT '{}',
    current_version TEXT NOT NULL,
    created_at TEXT NOT NULL,
    withdrawn TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS versions (
    sha256 TEXT PRIMARY KEY,
    doc_id TEXT NOT NULL REFERENCES documents(id),
    seq INTEGER NOT NULL,
    media_type TEXT NOT NULL,
    size INTEGER NOT NULL,
    filename TEXT NOT NULL,
    ingested_at TEXT NOT NULL,
    pages INTEGER,
    warnings_json TEXT NOT NULL DEFAULT '[]',
    indexed INTEGER NOT NULL DEFAULT 0,
    origin TEXT NOT NULL DEFAULT '',
    UNIQUE (doc_id, seq)
);
CREATE TABLE IF NOT EXISTS identifiers (
    doc_id TEXT NOT NULL REFERENCES documents(id),
    value TEXT NOT NULL,
    family TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (doc_id, value)
);
CREATE INDEX IF NOT EXISTS identifiers_value ON identifiers(value);
CREATE TABLE IF NOT EXISTS passages (
    version TEXT NOT NULL REFERENCES versions(sha256),
    seq INTEGER NOT NULL,
    anchor TEXT NOT NULL,
    label TEXT NOT NULL,
    page INTEGER,
    page_end INTEGER,
    heading TEXT NOT NULL DEFAULT '',
    text TEXT NOT NULL,
    ocr INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (version, seq)
);
CREATE INDEX IF NOT EXISTS passages_anchor ON passages(version, anchor);
CREATE TABLE IF NOT EXISTS version_text (
    version TEXT PRIMARY KEY REFERENCES versions(sha256),
    outside TEXT NOT NULL DEFAULT '',
    languages_json TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE IF NOT EXISTS citations (
    version TEXT NOT NULL REFERENCES versions(sha256),
    anchor TEXT NOT NULL,
    raw TEXT NOT NULL,
    normalized TEXT NOT NULL,
    family TEXT NOT NULL,
    start INTEGER NOT NULL,
    end INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS citations_version ON citations(version);
CREATE INDEX IF NOT EXISTS citations_normalized ON citations(normalized);
CREATE TABLE IF NOT EXISTS ingest_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    path TEXT NOT NULL,
    sha256 TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL,
    doc_id TEXT NOT NULL DEFAULT '',
    version TEXT NOT NULL DEFAULT '',
    error TEXT NOT NULL DEFAULT '',
    warnings_json TEXT NOT NULL DEFAULT '[]'
);
"""

# Restricted documents: an explicit setting per document (`access`, from an upload option or an
# edit) wins; a document without one is restricted when any of its versions was uploaded
# restricted (`upload_restrictions`, written before the bytes are ingested, so it is never public).
_ACCESS_SCHEMA = """
CREATE TABLE IF NOT EXISTS access (
    doc_id TEXT PRIMARY KEY,
    restricted INTEGER NOT NULL,
    changed_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS upload_restrictions (sha256 TEXT PRIMARY KEY, at TEXT NOT NULL);
"""
# What a search "as of" a past time needs (SearchService, `as_of`): when each document was
# withdrawn and restored, and the metadata each version was recorded with (the documents row holds
# only the newest). Both are written in the transaction that makes the change.
_HISTORY_SCHEMA = """
CREATE TABLE IF NOT EXISTS withdrawals (
    doc_id TEXT NOT NULL,
    withdrawn_at TEXT NOT NULL,
    restored_at TEXT NOT NULL DEFAULT '',
    reason TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS withdrawals_doc ON withdrawals(doc_id);
CREATE TABLE IF NOT EXISTS version_meta (
    sha256 TEXT PRIMARY KEY REFERENCES versions(sha256),
    document_json TEXT NOT NULL
);
"""
RESTRICTED_IDS = (
    "SELECT doc_id FROM access WHERE restricted = 1 UNION "
    "SELECT v.doc_id FROM upload_restrictions u JOIN versions v ON v.sha256 = u.sha256 "
    "WHERE v.doc_id NOT IN (SELECT doc_id FROM access)"
)


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def new_doc_id(sha256: str) -> str:
    """A short, URL-safe, lower-case id derived from the first version's hash."""
    raw = base64.b32encode(bytes.fromhex(sha256)[:8]).decode("ascii").rstrip("=").lower()
    return "d" + raw[:11]


def write_durably(final: Path, data: bytes) -> None:
    """Write a file so that it is there after a crash, or not at all: a temp file beside it, write,
    fsync, rename, fsync of the folder. Any of them failing raises OSError and leaves no file
    behind, neither the temp file nor `final` (when it was just renamed into place)."""
    fd, tmp = tempfile.mkstemp(dir=final.parent, prefix=".tmp-")
    placed = False
    try:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, final)
        placed = True
        dir_fd = os.open(final.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        if placed:  # renamed but not durable: not written
            final.unlink(missing_ok=True)
        raise


def _write_and_rename(final: Path, data: bytes) -> None:
    """A temp file beside `final`, written and renamed into place, not yet synced; on an error
    neither file is left."""
    fd, tmp = tempfile.mkstemp(dir=final.parent, prefix=".tmp-")
    try:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
        finally:
            os.close(fd)
        os.replace(tmp, final)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _fsync_path(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _libc_syncfs() -> Any:
    try:
        import ctypes
        import ctypes.util

        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        return libc.syncfs
    except (OSError, AttributeError):
        return None


_SYNCFS = _libc_syncfs() if os.name == "posix" else None


def sync_filesystem(folder: Path) -> None:
    """Make everything written to the file system holding `folder` durable (Linux syncfs: one
    journal commit and one flush of the disk's cache for any number of files); OSError when it
    reports a write-back error or is not available (the caller then syncs file by file)."""
    if _SYNCFS is None:
        raise OSError(0, "syncfs is not available")
    fd = os.open(folder, os.O_RDONLY)
    try:
        if _SYNCFS(fd) != 0:
            import ctypes

            err = ctypes.get_errno()
            raise OSError(err, os.strerror(err))
    finally:
        os.close(fd)


@dataclass(frozen=True)
class NewVersion:
    """Everything the catalog records for one accepted original, in one transaction."""

    doc_id: str
    sha256: str
    kind: str
    title: str
    media_type: str
    size: int
    filename: str
    pages: int | None
    warnings: tuple[str, ...]
    origin: str = ""  # the place it came from (a file's absolute path, an upload's name)
    date: str = ""
    court: str = ""
    jurisdiction: str = ""
    language: str = ""
    source_url: str = ""
    meta: dict[str, Any] | None = None
    identifiers: tuple[tuple[str, str], ...] = ()  # (normalized, family)
    passages: tuple[Passage, ...] = ()
    citations: tuple[Citation, ...] = ()
    outside: str = ""  # text outside the main text: searchable, in no passage


@dataclass(frozen=True)
class LogEntry:
    """One line of the ingest log."""

    path: str
    status: str
    sha256: str = ""
    doc_id: str = ""
    version: str = ""
    error: str = ""
    warnings: tuple[str, ...] = ()
    source: bytes | None = None  # a file's path as bytes (what --retry-failed opens again)


def _insert_log(db: sqlite3.Connection, entries: Iterable[LogEntry]) -> None:
    db.executemany(
        "INSERT INTO ingest_log(at, path, sha256, status, doc_id, version, error, warnings_json, "
        "source) VALUES (?,?,?,?,?,?,?,?,?)",
        [
            (now_iso(), e.path, e.sha256, e.status, e.doc_id, e.version, e.error,
             json.dumps(list(e.warnings), ensure_ascii=False), e.source)
            for e in entries
        ],
    )  # fmt: skip


@dataclass(frozen=True)
class CitationLink:
    """One edge of the citation graph, down to the passage."""

    citing_doc: str
    citing_title: str
    citing_anchor: str
    cited_doc: str
    cited_title: str
    normalized: str
    raw: str


class Archive:
    """Originals by sha256 plus the SQLite catalog. Safe to share between threads."""

    def __init__(self, data_dir: str | os.PathLike[str]) -> None:
        self.root = Path(data_dir)
        self.objects = self.root / "objects"
        self.objects.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._tables_made: set[str] = set()  # modules' own tables created through this object
        self.db.executescript(_SCHEMA)  # idempotent; executescript manages its own transaction
        self.db.executescript(_ACCESS_SCHEMA)
        self.db.executescript(_HISTORY_SCHEMA)
        columns = {row[1] for row in self.db.execute("PRAGMA table_info(passages)")}
        if "ocr" not in columns:  # a catalog from before OCR: its passages were all text layer
            self.db.execute("ALTER TABLE passages ADD COLUMN ocr INTEGER NOT NULL DEFAULT 0")
        self._migrate()
        with self._tx() as db:
            db.execute(
                "INSERT OR IGNORE INTO meta(key, value) VALUES ('catalog_schema', ?)",
                (str(CATALOG_SCHEMA),),
            )

    def _migrate(self) -> None:
        """Columns added since a catalog was created (each idempotent)."""
        cols = {r[1] for r in self.db.execute("PRAGMA table_info(versions)")}
        if "origin" not in cols:  # where a version came from: identity for files without an id
            self.db.execute("ALTER TABLE versions ADD COLUMN origin TEXT NOT NULL DEFAULT ''")
        self.db.execute("CREATE INDEX IF NOT EXISTS versions_origin ON versions(origin)")
        cols = {r[1] for r in self.db.execute("PRAGMA table_info(ingest_log)")}
        if "source" not in cols:  # the file's own path, as bytes (names need not be UTF-8)
            self.db.execute("ALTER TABLE ingest_log ADD COLUMN source BLOB")
        # a document withdrawn before withdrawals were timed: the time of its last withdrawal in
        # the audit log, else now (it then counts as withdrawn after every earlier time)
        untimed = self.db.execute(
            "SELECT id, withdrawn FROM documents WHERE withdrawn != '' AND id NOT IN "
            "(SELECT doc_id FROM withdrawals WHERE restored_at = '')"
        ).fetchall()
        if untimed:
            audit = self.db.execute(
                "SELECT 1 FROM sqlite_master WHERE type='table' AND name='audit'"
            ).fetchone()
            with self._tx() as db:
                for doc_id, reason in untimed:
                    row = (
                        db.execute(
                            "SELECT MAX(at) FROM audit WHERE action='withdraw' AND target=?",
                            (doc_id,),
                        ).fetchone()
                        if audit
                        else None
                    )
                    db.execute(
                        "INSERT INTO withdrawals(doc_id, withdrawn_at, reason) VALUES (?,?,?)",
                        (doc_id, (row[0] if row else None) or now_iso(), reason),
                    )

    # -- connections ---------------------------------------------------------------------------
    @property
    def db(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.root / "catalog.sqlite3", timeout=60, isolation_level=None)
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")
            conn.execute("PRAGMA foreign_keys=ON")
            self._local.conn = conn
        return conn

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        db = self.db
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    # -- originals -----------------------------------------------------------------------------
    def object_path(self, sha256: str) -> Path:
        if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
            raise NotFound(f"not a sha256: {sha256[:80]!r}")
        return self.objects / sha256[:2] / sha256

    def put_original(self, data: bytes, sha256: str | None = None) -> str:
        """Store bytes durably under their sha256 (idempotent). Returns the sha256. Any write
        error (a full disk, an I/O error) raises OSError and leaves nothing behind."""
        digest = sha256 or sha256_bytes(data)
        final = self.object_path(digest)
        if final.exists() and final.stat().st_size == len(data):
            return digest
        final.parent.mkdir(parents=True, exist_ok=True)
        write_durably(final, data)
        return digest

    def put_originals(self, items: list[tuple[bytes, str]]) -> dict[str, OSError]:
        """Store many originals durably at once; returns the error of each sha256 that could not
        be stored (nothing of it is left behind). Each is written to a temp file and renamed into
        place, then one sync of the file system makes them all durable (a flush of the disk's
        cache per file cost more than everything else ingest does to a 10 kB file). When that
        sync fails, each file is synced alone, and those that fail alone are removed. Until this
        returns, none of them is durable: the caller names them first (the pending originals)
        so that a crash in between removes them."""
        errors: dict[str, OSError] = {}
        written: list[tuple[str, Path]] = []
        for data, sha256 in items:
            final = self.object_path(sha256)
            try:
                if final.exists() and final.stat().st_size == len(data):
                    continue
                final.parent.mkdir(parents=True, exist_ok=True)
                _write_and_rename(final, data)
            except OSError as exc:
                errors[sha256] = exc
                continue
            written.append((sha256, final))
        if not written:
            return errors
        try:
            sync_filesystem(self.objects)
        except OSError:
            for sha256, final in written:
                try:
                    _fsync_path(final)
                    _fsync_path(final.parent)
                except OSError as exc:
                    final.unlink(missing_ok=True)
                    errors[sha256] = exc
        return errors

    def drop_original_if_unused(self, sha256: str) -> None:
        """Remove a stored original that no version references (a file whose cataloging failed)."""
        if self.find_version(sha256) is None:
            self.object_path(sha256).unlink(missing_ok=True)

    def read_original(self, sha256: str, *, verify: bool = True) -> bytes:
        path = self.object_path(sha256)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise ArchiveError(f"original {sha256} is missing from the archive") from None
        if verify and sha256_bytes(data) != sha256:
            raise ArchiveError(f"original {sha256} failed its fixity check (sha256 differs)")
        return data

    # -- recording versions --------------------------------------------------------------------
    def record_version(self, nv: NewVersion) -> Version:
        """Record a new version (and its document, when new) in one transaction."""
        with self.batch() as batch:
            batch.add(nv)
        return self.get_version(nv.sha256)

    def batch(self) -> CatalogBatch:
        """One catalog transaction for many versions and their log lines (see CatalogBatch)."""
        return CatalogBatch(self)

    def mark_indexed(self, shas: Iterable[str]) -> None:
        with self._tx() as db:
            db.executemany("UPDATE versions SET indexed=1 WHERE sha256=?", [(s,) for s in shas])

    def acknowledge_recovered(self, shas: Iterable[str]) -> None:
        """Ingest-log lines for versions indexed after their run was interrupted (cataloged, never
        reported): the log then says they were ingested, and when."""
        with self._tx() as db:
            entries = []
            for sha in shas:
                v = db.execute(
                    "SELECT doc_id, seq, filename, warnings_json FROM versions WHERE sha256=?",
                    (sha,),
                ).fetchone()
                told = db.execute(
                    "SELECT 1 FROM ingest_log WHERE version=? AND status IN "
                    "('ingested', 'new-version') LIMIT 1",
                    (sha,),
                ).fetchone()
                if v is None or told:
                    continue
                warnings = (*json.loads(v[3]), "indexed by a later run (the first was interrupted)")
                status = "ingested" if v[1] == 1 else "new-version"
                entries.append(LogEntry(v[2], status, sha, v[0], sha, "", warnings))
            _insert_log(db, entries)

    def unindexed_documents(self) -> list[str]:
        """Documents whose current version is not yet in the index (after a crash, say)."""
        rows = self.db.execute(
            "SELECT d.id FROM documents d JOIN versions v ON v.sha256 = d.current_version "
            "WHERE v.indexed = 0 ORDER BY d.id"
        ).fetchall()
        return [r[0] for r in rows]

    def mark_all_unindexed(self) -> None:
        with self._tx() as db:
            db.execute("UPDATE versions SET indexed=0")

    def log(
        self,
        path: str,
        status: str,
        *,
        sha256: str = "",
        doc_id: str = "",
        version: str = "",
        error: str = "",
        warnings: Iterable[str] = (),
        source: bytes | None = None,
    ) -> None:
        with self._tx() as db:
            entry = LogEntry(path, status, sha256, doc_id, version, error, tuple(warnings), source)
            _insert_log(db, [entry])

    def withdraw(self, doc_id: str, reason: str) -> None:
        with self._tx() as db:
            cur = db.execute(
                "UPDATE documents SET withdrawn=? WHERE id=?", (reason or "withdrawn", doc_id)
            )
            if cur.rowcount == 0:
                raise NotFound(f"no document {doc_id!r}")
            db.execute("UPDATE versions SET indexed=0 WHERE doc_id=?", (doc_id,))
            open_ = db.execute(
                "SELECT rowid FROM withdrawals WHERE doc_id=? AND restored_at=''", (doc_id,)
            ).fetchone()
            if open_ is None:  # withdrawn again with another reason: still since the first time
                db.execute(
                    "INSERT INTO withdrawals(doc_id, withdrawn_at, reason) VALUES (?,?,?)",
                    (doc_id, now_iso(), reason or "withdrawn"),
                )

    # -- reading -------------------------------------------------------------------------------
    def find_version(self, sha256: str) -> Version | None:
        row = self.db.execute("SELECT * FROM versions WHERE sha256=?", (sha256,)).fetchone()
        return _version(row) if row else None

    def get_version(self, sha256: str) -> Version:
        v = self.find_version(sha256)
        if v is None:
            raise NotFound(f"no version {sha256[:80]!r}")
        return v

    def versions(self, doc_id: str) -> list[Version]:
        rows = self.db.execute(
            "SELECT * FROM versions WHERE doc_id=? ORDER BY seq", (doc_id,)
        ).fetchall()
        return [_version(r) for r in rows]

    def find_document(self, doc_id: str) -> Document | None:
        row = self.db.execute(
            f"SELECT d.*, d.id IN ({RESTRICTED_IDS}) AS restricted FROM documents d WHERE d.id=?",
            (doc_id,),
        ).fetchone()
        if row is None:
            return None
        idents = self.db.execute(
            "SELECT value FROM identifiers WHERE doc_id=? ORDER BY rowid", (doc_id,)
        ).fetchall()
        return _document(row, tuple(r[0] for r in idents))

    def find_documents(self, doc_ids: Iterable[str]) -> dict[str, Document]:
        """The documents with these ids that exist, by id: a page of hits in two queries (not
        two per hit, as find_document)."""
        wanted = list(dict.fromkeys(doc_ids))
        rows: list[sqlite3.Row] = []
        idents: dict[str, list[str]] = {}
        for chunk in _chunks(wanted):
            marks = ",".join("?" * len(chunk))
            rows += self.db.execute(
                f"SELECT d.*, d.id IN ({RESTRICTED_IDS}) AS restricted FROM documents d "
                f"WHERE d.id IN ({marks})",
                chunk,
            ).fetchall()
            for doc_id, value in self.db.execute(
                f"SELECT doc_id, value FROM identifiers WHERE doc_id IN ({marks}) ORDER BY rowid",
                chunk,
            ):
                idents.setdefault(doc_id, []).append(value)
        return {r["id"]: _document(r, tuple(idents.get(r["id"], ()))) for r in rows}

    def get_document(self, doc_id: str) -> Document:
        doc = self.find_document(doc_id)
        if doc is None:
            raise NotFound(f"no document {doc_id[:80]!r}")
        return doc

    def documents(self, *, include_withdrawn: bool = False) -> list[Document]:
        where = "" if include_withdrawn else "WHERE withdrawn = ''"
        ids = [r[0] for r in self.db.execute(f"SELECT id FROM documents {where} ORDER BY id")]
        return [self.get_document(i) for i in ids]

    def document_ids(self) -> list[str]:
        return [r[0] for r in self.db.execute("SELECT id FROM documents ORDER BY id")]

    def count_documents(self) -> int:
        return int(self.db.execute("SELECT COUNT(*) FROM documents").fetchone()[0])

    def doc_by_identifier(self, value: str) -> str | None:
        row = self.db.execute(
            "SELECT doc_id FROM identifiers WHERE value=? ORDER BY doc_id LIMIT 1", (value,)
        ).fetchone()
        return row[0] if row else None

    def doc_by_origin(self, origin: str) -> str | None:
        """The document whose newest version from this place is the newest of all (the same file
        ingested again from the same place is the same document)."""
        if not origin:
            return None
        row = self.db.execute(
            "SELECT doc_id FROM versions WHERE origin=? ORDER BY ingested_at DESC, rowid DESC "
            "LIMIT 1",
            (origin,),
        ).fetchone()
        return row[0] if row else None

    def doc_by_source_url(self, url: str) -> str | None:
        row = self.db.execute(
            "SELECT id FROM documents WHERE source_url=? AND source_url != '' ORDER BY id LIMIT 1",
            (url,),
        ).fetchone()
        return row[0] if row else None

    def passages(self, version: str, limit: int = -1) -> list[Passage]:
        """A version's passages in order (the first `limit` of them when limit >= 0)."""
        rows = self.db.execute(
            "SELECT * FROM passages WHERE version=? ORDER BY seq LIMIT ?", (version, limit)
        ).fetchall()
        languages = self._languages(version)
        return [_passage(r, languages) for r in rows]

    def outside_text(self, version: str) -> str:
        """The version's text outside its main text (page furniture, side columns): searchable,
        in no passage."""
        row = self.db.execute(
            "SELECT outside FROM version_text WHERE version=?", (version,)
        ).fetchone()
        return row[0] if row else ""

    def _languages(self, version: str) -> dict[str, str]:
        """Passage seq -> language, for the passages whose language is not the document's."""
        row = self.db.execute(
            "SELECT languages_json FROM version_text WHERE version=?", (version,)
        ).fetchone()
        return json.loads(row[0]) if row else {}

    def passages_by_anchor(self, version: str, anchors: Iterable[str]) -> dict[str, Passage]:
        wanted = list(dict.fromkeys(anchors))
        if not wanted:
            return {}
        marks = ",".join("?" * len(wanted))
        rows = self.db.execute(
            f"SELECT * FROM passages WHERE version=? AND anchor IN ({marks})", (version, *wanted)
        ).fetchall()
        languages = self._languages(version)
        return {r["anchor"]: _passage(r, languages) for r in rows}

    def hit_passages(
        self, anchors: Mapping[str, Sequence[str]], first: Iterable[str] = ()
    ) -> dict[str, list[Passage]]:
        """A page of hits' passages at once: for each version, its passages with the given anchors
        (in the order given, those that exist); for each version in `first` that has none of them,
        its first passage. A few queries for the whole page, not several per hit."""
        found: dict[str, dict[str, Passage]] = {}
        pairs = [(v, a) for v, wanted in anchors.items() for a in dict.fromkeys(wanted)]
        languages = self._languages_of([*anchors, *first])
        for chunk in _chunks(pairs, 200):
            where = " OR ".join("(version=? AND anchor=?)" for _ in chunk)  # each an index search
            for r in self.db.execute(
                f"SELECT * FROM passages WHERE {where}",
                [x for pair in chunk for x in pair],
            ):
                found.setdefault(r["version"], {})[r["anchor"]] = _passage(
                    r, languages.get(r["version"])
                )
        out = {
            v: [found[v][a] for a in wanted if a in found.get(v, {})]
            for v, wanted in anchors.items()
        }
        bare = [v for v in dict.fromkeys(first) if not out.get(v)]
        for versions in _chunks(bare):
            marks = ",".join("?" * len(versions))
            for r in self.db.execute(
                f"SELECT p.* FROM passages p JOIN (SELECT version, MIN(seq) AS seq FROM passages "
                f"WHERE version IN ({marks}) GROUP BY version) f "
                "ON p.version = f.version AND p.seq = f.seq",
                versions,
            ):
                out[r["version"]] = [_passage(r, languages.get(r["version"]))]
        return out

    def _languages_of(self, versions: Iterable[str]) -> dict[str, dict[str, str]]:
        """_languages of many versions at once."""
        out: dict[str, dict[str, str]] = {}
        for chunk in _chunks(list(dict.fromkeys(versions))):
            marks = ",".join("?" * len(chunk))
            for version, raw in self.db.execute(
                f"SELECT version, languages_json FROM version_text WHERE version IN ({marks})",
                chunk,
            ):
                out[version] = json.loads(raw)
        return out

    def version_with_anchor(self, doc_id: str, anchor: str) -> str | None:
        """The newest version of a document that has this anchor (permalinks never break)."""
        row = self.db.execute(
            "SELECT v.sha256 FROM versions v JOIN passages p ON p.version = v.sha256 "
            "WHERE v.doc_id=? AND p.anchor=? ORDER BY v.seq DESC LIMIT 1",
            (doc_id, anchor),
        ).fetchone()
        return row[0] if row else None

    def citations(self, version: str) -> list[Citation]:
        rows = self.db.execute(
            "SELECT * FROM citations WHERE version=? ORDER BY rowid", (version,)
        ).fetchall()
        return [
            Citation(r["raw"], r["normalized"], r["family"], r["start"], r["end"], r["anchor"])
            for r in rows
        ]

    def cites(self, doc_id: str, *, include_restricted: bool = False) -> list[CitationLink]:
        """What this document's current version cites that is in the archive (restricted
        documents only when asked for)."""
        return self._links("d.id = ?", doc_id, include_restricted)

    def cited_by(self, doc_id: str, *, include_restricted: bool = False) -> list[CitationLink]:
        """Who cites this document (their current versions), down to the passage."""
        return self._links("t.id = ?", doc_id, include_restricted)

    def _links(self, where: str, doc_id: str, include_restricted: bool) -> list[CitationLink]:
        if not include_restricted:
            where += f" AND d.id NOT IN ({RESTRICTED_IDS}) AND t.id NOT IN ({RESTRICTED_IDS})"
        rows = self.db.execute(
            "SELECT DISTINCT d.id AS citing, d.title AS citing_title, c.anchor, t.id AS cited, "
            "t.title AS cited_title, c.normalized, c.raw "
            "FROM citations c JOIN documents d ON d.current_version = c.version "
            "JOIN identifiers i ON i.value = c.normalized JOIN documents t ON t.id = i.doc_id "
            f"WHERE {where} AND t.id != d.id AND d.withdrawn = '' "
            "ORDER BY d.id, c.rowid",
            (doc_id,),
        ).fetchall()
        return [CitationLink(*tuple(r)) for r in rows]

    def failed_last(self) -> list[bytes]:
        """Files whose last line in the ingest log is a failure (and not since ingested)."""
        rows = self.db.execute(
            "SELECT source, status FROM ingest_log WHERE id IN (SELECT MAX(id) FROM ingest_log "
            "WHERE source IS NOT NULL GROUP BY source) ORDER BY id"
        ).fetchall()
        return [bytes(r[0]) for r in rows if r[1] == "failed"]

    def ingest_log(self, limit: int = 100, *, status: str | None = None) -> list[dict[str, Any]]:
        """The newest `limit` lines of the ingest log (of one `status` only, when given: filtered
        before the limit, so `--failed` never hides a failure behind newer successes), each with
        its `warnings` as a list."""
        where, args = ("WHERE status = ?", (status, limit)) if status else ("", (limit,))
        rows = self.db.execute(
            f"SELECT * FROM ingest_log {where} ORDER BY id DESC LIMIT ?", args
        ).fetchall()
        out = []
        for r in rows:
            row = dict(r)
            row["warnings"] = json.loads(row.get("warnings_json") or "[]")
            out.append(row)
        return out

    def verify(self) -> list[str]:
        """Fixity and consistency: one line per problem (empty when all is well)."""
        problems: list[str] = []
        for row in self.db.execute("SELECT sha256, size FROM versions ORDER BY sha256"):
            path = self.object_path(row[0])
            if not path.exists():
                problems.append(f"{row[0]}: original missing")
            elif sha256_bytes(path.read_bytes()) != row[0]:
                problems.append(f"{row[0]}: original changed (sha256 differs)")
        return problems

    # -- access: restricted documents, withdrawal undone, purge (curation, not ingest) -----------
    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction on this thread's connection (for the curation modules)."""
        with self._tx() as db:
            yield db

    def ensure_tables(self, name: str, script: str) -> None:
        """Create a module's own tables (CREATE ... IF NOT EXISTS), once per Archive object."""
        if name not in self._tables_made:
            self.db.executescript(script)
            self._tables_made.add(name)

    def restrict_upload(self, sha256: str) -> None:
        """Mark these bytes restricted before they are ingested: the document they become is
        restricted from its first moment in the catalog (unless its access was set explicitly)."""
        with self._tx() as db:
            db.execute(
                "INSERT OR IGNORE INTO upload_restrictions(sha256, at) VALUES (?,?)",
                (sha256, now_iso()),
            )

    def set_restricted(self, doc_id: str, restricted: bool) -> None:
        with self._tx() as db:
            if db.execute("SELECT 1 FROM documents WHERE id=?", (doc_id,)).fetchone() is None:
                raise NotFound(f"no document {doc_id[:80]!r}")
            db.execute(
                "INSERT INTO access(doc_id, restricted, changed_at) VALUES (?,?,?) "
                "ON CONFLICT(doc_id) DO UPDATE SET restricted=excluded.restricted, "
                "changed_at=excluded.changed_at",
                (doc_id, int(restricted), now_iso()),
            )

    def restricted_ids(self) -> set[str]:
        return {r[0] for r in self.db.execute(RESTRICTED_IDS)}

    def hidden_ids(self, *, include_restricted: bool) -> frozenset[str]:
        """Documents a reader must not find: withdrawn ones, and restricted ones unless the
        reader may see them. The one list every read of the index is filtered by."""
        rows = self.db.execute("SELECT id FROM documents WHERE withdrawn != ''").fetchall()
        hidden = {r[0] for r in rows}
        if not include_restricted:
            hidden |= self.restricted_ids()
        return frozenset(hidden)

    # -- the archive as it stood at a past time (searches `as_of`) ------------------------------
    def versions_as_of(self, at: str) -> dict[str, str]:
        """{version sha256: document id} of the versions current at `at` (an ISO time in UTC,
        "2026-12-04T18:13:51Z"): each document's newest version ingested by then, leaving out
        documents withdrawn at that moment (withdrawn later, or withdrawn then and restored later,
        they are in). Documents purged since are not: purge is for good."""
        rows = self.db.execute(
            "SELECT v.sha256, v.doc_id FROM versions v WHERE v.ingested_at <= :at "
            "AND NOT EXISTS (SELECT 1 FROM versions w WHERE w.doc_id = v.doc_id "
            "AND w.ingested_at <= :at AND w.seq > v.seq) "
            "AND NOT EXISTS (SELECT 1 FROM withdrawals x WHERE x.doc_id = v.doc_id "
            "AND x.withdrawn_at <= :at AND (x.restored_at = '' OR x.restored_at > :at))",
            {"at": at},
        ).fetchall()
        return {r[0]: r[1] for r in rows}

    def count_added_after(self, at: str, *, include_restricted: bool) -> int:
        """Documents (not withdrawn; restricted ones only when asked for) first ingested after
        `at`: what a search as of then leaves out."""
        where = "" if include_restricted else f"AND id NOT IN ({RESTRICTED_IDS})"
        row = self.db.execute(
            f"SELECT COUNT(*) FROM documents WHERE created_at > ? AND withdrawn = '' {where}",
            (at,),
        )
        return int(row.fetchone()[0])

    def version_document(self, sha256: str) -> Document:
        """The document as recorded with this version (its metadata then; the documents row holds
        the newest). A version recorded before these were kept: the document as it is now."""
        v = self.get_version(sha256)
        doc = self.get_document(v.doc_id)
        row = self.db.execute(
            "SELECT document_json FROM version_meta WHERE sha256=?", (sha256,)
        ).fetchone()
        if row is None:
            return replace(doc, current_version=sha256)
        d = json.loads(row[0])
        try:
            kind = Kind(d["kind"])
        except ValueError:
            kind = Kind.OTHER
        return replace(
            doc, kind=kind, title=d["title"], date=d["date"], court=d["court"],
            jurisdiction=d["jurisdiction"], language=d["language"], source_url=d["source_url"],
            meta=d["meta"], identifiers=tuple(d["identifiers"]), current_version=sha256,
        )  # fmt: skip

    def version_signature(self) -> tuple[int, int]:
        """(how many versions, the highest row id): changes with every version added or purged."""
        row = self.db.execute("SELECT COUNT(*), COALESCE(MAX(rowid), 0) FROM versions").fetchone()
        return int(row[0]), int(row[1])

    def version_docs(self) -> dict[str, str]:
        """{version sha256: document id} of every version."""
        return {r[0]: r[1] for r in self.db.execute("SELECT sha256, doc_id FROM versions")}

    def count_by_kind(self, *, include_restricted: bool) -> dict[str, int]:
        """Documents readers can see (not withdrawn; restricted ones only when asked for) per kind,
        the most numerous first."""
        where = "" if include_restricted else f"AND id NOT IN ({RESTRICTED_IDS})"
        rows = self.db.execute(
            f"SELECT kind, COUNT(*) FROM documents WHERE withdrawn = '' {where} "
            "GROUP BY kind ORDER BY COUNT(*) DESC, kind"
        ).fetchall()
        return {r[0]: int(r[1]) for r in rows}

    def count_visible(self, *, include_restricted: bool) -> int:
        where = "" if include_restricted else f"AND id NOT IN ({RESTRICTED_IDS})"
        row = self.db.execute(f"SELECT COUNT(*) FROM documents WHERE withdrawn = '' {where}")
        return int(row.fetchone()[0])

    def restore(self, doc_id: str) -> None:
        """Undo a withdrawal: the document is back in search (once reindexed)."""
        with self._tx() as db:
            cur = db.execute(
                "UPDATE documents SET withdrawn='' WHERE id=? AND withdrawn != ''", (doc_id,)
            )
            if cur.rowcount == 0:
                raise NotFound(f"no withdrawn document {doc_id[:80]!r}")
            db.execute("UPDATE versions SET indexed=0 WHERE doc_id=?", (doc_id,))
            db.execute(
                "UPDATE withdrawals SET restored_at=? WHERE doc_id=? AND restored_at=''",
                (now_iso(), doc_id),
            )


class CatalogBatch:
    """A catalog transaction open while a batch of versions is indexed, so that nothing is
    committed to the catalog that the index does not hold, and a failed index commit costs a
    ROLLBACK (which needs no disk space) rather than an undo. Each version goes in under a savepoint:
    one that cannot be recorded fails alone. Use as a context manager (commit on success) or call
    commit() / rollback()."""

    def __init__(self, archive: Archive) -> None:
        self.archive = archive
        self.db = archive.db
        self.db.execute("BEGIN IMMEDIATE")

    def __enter__(self) -> CatalogBatch:
        return self

    def __exit__(self, exc_type: Any, *_: Any) -> None:
        if exc_type is None:
            self.commit()
        else:
            self.rollback()

    @property
    def open(self) -> bool:
        """False once SQLite has rolled the transaction back by itself (a full disk, say)."""
        return self.db.in_transaction

    def add(self, nv: NewVersion) -> tuple[Document, bool]:
        """Record a version (and its document, when new): the document as it now stands, and
        whether it is new."""
        if not self.archive.object_path(nv.sha256).exists():
            raise ArchiveError(f"refusing to catalog {nv.sha256}: original not stored")
        db = self.db
        db.execute("SAVEPOINT version")
        try:
            doc = _insert_version(db, nv, now_iso())
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK TO version")
                db.execute("RELEASE version")
            raise
        db.execute("RELEASE version")
        return doc

    def acknowledge(self, entries: Iterable[LogEntry]) -> None:
        """These versions are in the index: mark them and write their log lines."""
        entries = list(entries)
        self.db.executemany(
            "UPDATE versions SET indexed=1 WHERE sha256=?", [(e.version,) for e in entries]
        )
        _insert_log(self.db, entries)

    def commit(self) -> None:
        try:
            self.db.execute("COMMIT")
        except BaseException:
            self.rollback()
            raise

    def rollback(self) -> None:
        if self.db.in_transaction:
            self.db.execute("ROLLBACK")


def _insert_version(db: sqlite3.Connection, nv: NewVersion, at: str) -> tuple[Document, bool]:
    row = db.execute(
        "SELECT MAX(seq), (SELECT created_at FROM documents WHERE id=?) FROM versions "
        "WHERE doc_id=?",
        (nv.doc_id, nv.doc_id),
    ).fetchone()
    seq = (row[0] or 0) + 1
    created = row[1] or at
    meta_json = json.dumps(nv.meta or {}, ensure_ascii=False, sort_keys=True)
    doc_values = (
        nv.kind, nv.title, nv.date, nv.court, nv.jurisdiction, nv.language, nv.source_url,
        meta_json, nv.sha256,
    )  # fmt: skip
    if row[1] is None:
        db.execute(
            "INSERT INTO documents(kind, title, date, court, jurisdiction, language, "
            "source_url, meta_json, current_version, id, created_at) "
            "VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            (*doc_values, nv.doc_id, at),
        )
    else:
        db.execute(
            "UPDATE documents SET kind=?, title=?, date=?, court=?, jurisdiction=?, "
            "language=?, source_url=?, meta_json=?, current_version=? WHERE id=?",
            (*doc_values, nv.doc_id),
        )
    db.execute(
        "INSERT INTO versions(sha256, doc_id, seq, media_type, size, filename, ingested_at,"
        " pages, warnings_json, origin) VALUES (?,?,?,?,?,?,?,?,?,?)",
        (
            nv.sha256, nv.doc_id, seq, nv.media_type, nv.size, nv.filename, at,
            nv.pages, json.dumps(list(nv.warnings), ensure_ascii=False), nv.origin,
        ),
    )  # fmt: skip
    db.execute("DELETE FROM identifiers WHERE doc_id=?", (nv.doc_id,))
    db.executemany(
        "INSERT OR IGNORE INTO identifiers(doc_id, value, family) VALUES (?,?,?)",
        [(nv.doc_id, value, family) for value, family in nv.identifiers],
    )
    db.executemany(
        "INSERT INTO passages(version, seq, anchor, label, page, page_end, heading, text, ocr) "
        "VALUES (?,?,?,?,?,?,?,?,?)",
        [
            (nv.sha256, p.seq, p.anchor, p.label, p.page, p.page_end, p.heading, p.text, int(p.ocr))
            for p in nv.passages
        ],
    )
    languages = {str(p.seq): p.language for p in nv.passages if p.language}
    if nv.outside or languages:
        db.execute(
            "INSERT INTO version_text(version, outside, languages_json) VALUES (?,?,?)",
            (nv.sha256, nv.outside, json.dumps(languages, sort_keys=True)),
        )
    db.executemany(
        "INSERT INTO citations(version, anchor, raw, normalized, family, start, end) "
        "VALUES (?,?,?,?,?,?,?)",
        [
            (nv.sha256, c.anchor, c.raw, c.normalized, c.family, c.start, c.end)
            for c in nv.citations
        ],
    )
    db.execute(
        "INSERT INTO version_meta(sha256, document_json) VALUES (?,?)",
        (
            nv.sha256,
            json.dumps(
                {
                    "kind": nv.kind, "title": nv.title, "date": nv.date, "court": nv.court,
                    "jurisdiction": nv.jurisdiction, "language": nv.language,
                    "source_url": nv.source_url, "meta": nv.meta or {},
                    "identifiers": list(dict.fromkeys(v for v, _ in nv.identifiers)),
                },
                ensure_ascii=False, sort_keys=True,
            ),
        ),
    )  # fmt: skip
    withdrawn = db.execute(
        f"SELECT withdrawn, id IN ({RESTRICTED_IDS}) FROM documents WHERE id=?", (nv.doc_id,)
    ).fetchone()
    try:
        kind = Kind(nv.kind)
    except ValueError:
        kind = Kind.OTHER
    doc = Document(
        id=nv.doc_id,
        kind=kind,
        title=nv.title,
        date=nv.date,
        court=nv.court,
        jurisdiction=nv.jurisdiction,
        language=nv.language,
        source_url=nv.source_url,
        identifiers=tuple(dict.fromkeys(v for v, _ in nv.identifiers)),
        meta=json.loads(meta_json),
        current_version=nv.sha256,
        created_at=created,
        withdrawn=withdrawn[0] if withdrawn else "",
        restricted=bool(withdrawn[1]) if withdrawn else False,
    )
    return doc, row[1] is None


def _version(row: sqlite3.Row) -> Version:
    return Version(
        sha256=row["sha256"],
        doc_id=row["doc_id"],
        seq=row["seq"],
        media_type=row["media_type"],
        size=row["size"],
        filename=row["filename"],
        ingested_at=row["ingested_at"],
        pages=row["pages"],
        warnings=tuple(json.loads(row["warnings_json"])),
    )


def _document(row: sqlite3.Row, identifiers: tuple[str, ...]) -> Document:
    try:
        kind = Kind(row["kind"])
    except ValueError:
        kind = Kind.OTHER
    return Document(
        id=row["id"],
        kind=kind,
        title=row["title"],
        date=row["date"],
        court=row["court"],
        jurisdiction=row["jurisdiction"],
        language=row["language"],
        source_url=row["source_url"],
        identifiers=identifiers,
        meta=json.loads(row["meta_json"]),
        current_version=row["current_version"],
        created_at=row["created_at"],
        withdrawn=row["withdrawn"],
        restricted=bool(row["restricted"]) if "restricted" in row.keys() else False,
    )


def _chunks(items: Sequence[_T], size: int = 500) -> list[Sequence[_T]]:
    """Items in pieces of at most `size`, each within SQLite's limit on query parameters."""
    return [items[i : i + size] for i in range(0, len(items), size)]


def _passage(row: sqlite3.Row, languages: dict[str, str] | None = None) -> Passage:
    return Passage(
        seq=row["seq"],
        anchor=row["anchor"],
        label=row["label"],
        text=row["text"],
        page=row["page"],
        page_end=row["page_end"],
        heading=row["heading"],
        ocr=bool(row["ocr"]),
        language=(languages or {}).get(str(row["seq"]), ""),
    )
