"""Preservation: the whole archive as a BagIt bag (RFC 8493, with the Library of Congress `bagit`
package), restored from one into an empty data directory; and fixity reported by kind.

A bag holds, under `data/`:
- `objects/ab/<sha256>`: every original, byte for byte (as in the data directory);
- `catalog/<table>.jsonl`: the catalog, one JSON object per row — documents, versions, identifiers,
  passages, each version's text outside its main text and its passages' languages (version_text),
  citations, restrictions, the ingest log, the edit history and the audit log (never the
  users or their password and token hashes);
and beside it `manifest-sha256.txt`, `tagmanifest-sha256.txt` and `bag-info.txt` (source, date,
counts, the catalog schema). `import_bag` validates the bag (every checksum) first, restores the
catalog rows and the originals (each checked against its sha256), and rebuilds the index from them,
so the same documents give the same search results.
"""

from __future__ import annotations

import base64
import json
import os
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import bagit

from . import __version__, curation
from .accounts import Accounts
from .archive import CATALOG_SCHEMA, Archive, now_iso, sha256_bytes
from .errors import MagsearchError
from .index.sync import rebuild
from .library import Library

# in an order that satisfies the catalog's foreign keys
TABLES = (
    "documents", "versions", "version_meta", "identifiers", "passages", "version_text",
    "citations", "access", "upload_restrictions", "withdrawals", "ingest_log", "edits", "audit",
)  # fmt: skip
SHA256 = "sha256"


class PreservationError(MagsearchError):
    """A bag that cannot be written, read or trusted (one line)."""


def _tables(db: sqlite3.Connection) -> set[str]:
    return {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}


def export_bag(
    lib: Library, dest: Path, progress: Callable[[int], None] | None = None
) -> dict[str, int]:
    """Write the archive as a BagIt bag at `dest` (a new or empty folder). Returns counts."""
    if dest.exists() and any(dest.iterdir()):
        raise PreservationError(f"{dest}: exists and is not empty")
    dest.mkdir(parents=True, exist_ok=True)
    curation._schema(lib)  # the edit history table, even when nothing was ever edited
    Accounts(lib.archive)
    db = lib.archive.db
    present = _tables(db)
    counts: dict[str, int] = {}
    try:
        db.execute("BEGIN")  # one consistent snapshot of the catalog
        catalog = dest / "catalog"
        catalog.mkdir()
        for table in TABLES:
            if table not in present:
                continue
            n = 0
            with (catalog / f"{table}.jsonl").open("w", encoding="utf-8") as fh:
                for row in db.execute(f"SELECT * FROM {table} ORDER BY rowid"):
                    fh.write(
                        json.dumps(_plain(dict(row)), ensure_ascii=False, sort_keys=True) + "\n"
                    )
                    n += 1
            counts[table] = n
        shas = [r[0] for r in db.execute("SELECT sha256 FROM versions ORDER BY sha256")]
    finally:
        db.execute("COMMIT")
    for sha in shas:
        data = lib.archive.read_original(sha)  # verified: a corrupt original is not exported
        target = dest / "objects" / sha[:2] / sha
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        if progress:
            progress(1)
    counts["originals"] = len(shas)
    info = {
        "Source-Organization": "magsearch archive",
        "External-Description": "Originals, catalog, edit history and audit log of a magsearch "
        "archive (catalog/*.jsonl: one JSON object per row)",
        "Bagging-Date": now_iso()[:10],
        "Bag-Software-Agent": f"magsearch {__version__} (bagit {bagit.VERSION})",
        "Magsearch-Catalog-Schema": str(CATALOG_SCHEMA),
        "Magsearch-Documents": str(counts.get("documents", 0)),
        "Magsearch-Originals": str(len(shas)),
    }
    bagit.make_bag(str(dest), bag_info=info, checksums=[SHA256])
    return counts


def import_bag(
    src: Path, lib: Library, progress: Callable[[int], None] | None = None
) -> dict[str, int]:
    """Restore a bag into `lib`, whose archive must hold no document. Returns counts."""
    if lib.archive.count_documents():
        raise PreservationError(
            f"{lib.settings.data_dir}: the archive is not empty; import into a new data directory"
        )
    try:
        bag = bagit.Bag(str(src))
        bag.validate(processes=1)
    except bagit.BagError as exc:
        raise PreservationError(f"{src}: not a valid bag ({_first_line(exc)})") from None
    payload = Path(bag.path) / "data"
    curation._schema(lib)
    Accounts(lib.archive)
    counts: dict[str, int] = {}
    versions = _rows(payload, "versions")
    for row in versions:  # the originals first: no catalog row without its bytes
        path = payload / "objects" / row["sha256"][:2] / row["sha256"]
        data = path.read_bytes() if path.exists() else b""
        if sha256_bytes(data) != row["sha256"]:
            raise PreservationError(f"{src}: original {row['sha256']} missing or changed")
        lib.archive.put_original(data, row["sha256"])
        if progress:
            progress(1)
    counts["originals"] = len(versions)
    present = _tables(lib.archive.db)
    with lib.archive.transaction() as db:
        for table in TABLES:
            rows = _rows(payload, table)
            if not rows:
                continue
            if table not in present:
                raise PreservationError(f"{src}: this magsearch has no catalog table {table!r}")
            cols = list(rows[0])
            marks = ",".join("?" * len(cols))
            db.executemany(
                f"INSERT INTO {table} ({','.join(cols)}) VALUES ({marks})",
                [tuple(_value(r.get(c)) for c in cols) for r in rows],
            )
            counts[table] = len(rows)
    rebuild(lib.archive, lib.index)
    return counts


def _rows(payload: Path, table: str) -> list[dict[str, Any]]:
    path = payload / "catalog" / f"{table}.jsonl"
    if not path.exists():
        return []
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def _plain(row: dict[str, Any]) -> dict[str, Any]:
    """A catalog row as JSON: a BLOB (a file name that is not UTF-8, say) as {"base64": …}."""
    return {
        k: {"base64": base64.b64encode(v).decode("ascii")} if isinstance(v, bytes) else v
        for k, v in row.items()
    }


def _value(v: Any) -> Any:
    if isinstance(v, dict) and set(v) == {"base64"}:
        return base64.b64decode(v["base64"])
    return v


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


# -- fixity ----------------------------------------------------------------------------------------
def fixity(archive: Archive) -> dict[str, list[str]]:
    """Originals the catalog names that are not on disk (missing), files in the object store the
    catalog does not name (extra), and originals whose bytes no longer hash to their name
    (corrupt). Each list is sorted."""
    known = {r[0] for r in archive.db.execute("SELECT sha256 FROM versions")}
    on_disk: dict[str, Path] = {}
    for folder, _dirs, files in os.walk(archive.objects):
        for name in files:
            on_disk[str(Path(folder, name).relative_to(archive.objects))] = Path(folder, name)
    expected = {f"{s[:2]}/{s}": s for s in known}
    missing = sorted(sha for rel, sha in expected.items() if rel not in on_disk)
    extra = sorted(rel for rel in on_disk if rel not in expected)
    corrupt = []
    for rel, sha in sorted(expected.items()):
        path = on_disk.get(rel)
        if path is not None and _hash_file(path) != sha:
            corrupt.append(sha)
    return {"missing": missing, "extra": extra, "corrupt": corrupt}


def _hash_file(path: Path) -> str:
    import hashlib

    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()
