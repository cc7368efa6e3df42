"""The same file ingested again from the same place is the same document: an edited file without a
sidecar becomes a new version, by every route (files on the command line, bytes handed over with an
origin, as uploads and the inbox do)."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

from conftest import make_settings
from magsearch.archive import Archive
from magsearch.ingest.pipeline import Ingester, Source
from magsearch.library import open_library

MAGSEARCH = [sys.executable, "-m", "magsearch.cli"]


def cli(data: Path, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*MAGSEARCH, "--data", str(data), *args], capture_output=True, text=True, timeout=300,
        cwd=cwd,
    )  # fmt: skip


def lines(proc: subprocess.CompletedProcess[str]) -> list[dict]:
    return [json.loads(line) for line in proc.stdout.splitlines()]


def test_an_edited_file_from_the_same_place_is_a_new_version(tmp_path: Path) -> None:
    data = tmp_path / "data"
    note = tmp_path / "in" / "note.txt"
    note.parent.mkdir()
    note.write_text("A memorandum on the Magnitsky sanctions and the first list of names.\n")
    first = lines(cli(data, "ingest", "--json", str(note)))
    assert [r["status"] for r in first] == ["ingested"]
    note.write_text("A memorandum on the Magnitsky sanctions and the amended list of pangolins.\n")
    # again from the same place, named another way (relative to another folder)
    second = lines(cli(data, "ingest", "--json", "in/note.txt", cwd=tmp_path))
    assert [r["status"] for r in second] == ["new-version"]
    assert second[0]["id"] == first[0]["id"]
    archive = Archive(data)
    assert archive.count_documents() == 1
    assert [v.seq for v in archive.versions(first[0]["id"])] == [1, 2]
    hits = json.loads(cli(data, "search", "--json", "pangolins").stdout)
    assert [h["id"] for h in hits["hits"]] == [first[0]["id"]]

    # the same edited bytes from another place: the same bytes are the same version
    other = tmp_path / "elsewhere.txt"
    other.write_bytes(note.read_bytes())
    assert [r["status"] for r in lines(cli(data, "ingest", "--json", str(other)))] == ["unchanged"]
    # new bytes from another place: another document
    other.write_text("A different note, about the Global Magnitsky Act of 2016.\n")
    third = lines(cli(data, "ingest", "--json", str(other)))
    assert [r["status"] for r in third] == ["ingested"] and third[0]["id"] != first[0]["id"]
    assert Archive(data).count_documents() == 2


def test_bytes_with_an_origin_follow_the_same_rule(tmp_path: Path) -> None:
    lib = open_library(make_settings(tmp_path / "data", workers=1))
    try:
        ing = Ingester(lib.archive, lib.index, lib.settings)

        def put(data: bytes, origin: str) -> tuple[str, str]:
            [res] = ing.run_sources([Source(name="report.txt", data=data, origin=origin)])
            return res.status, res.id

        status, doc = put(b"Report on asset freezes, first draft.\n", "upload:alice/report.txt")
        assert status == "ingested"
        assert put(b"Report on asset freezes, second draft.\n", "upload:alice/report.txt") == (
            "new-version",
            doc,
        )
        # another place, or no place at all: new bytes are another document
        assert put(b"Report on asset freezes, third draft.\n", "upload:bob/report.txt")[1] != doc
        assert put(b"Report on asset freezes, fourth draft.\n", "")[1] != doc
        # two versions from one place within one run: one document, two versions
        results = ing.run_sources(
            [
                Source(name="a", data=b"Inbox note, version one.\n", origin="inbox:note.txt"),
                Source(name="b", data=b"Inbox note, version two.\n", origin="inbox:note.txt"),
            ]
        )
        assert sorted(r.status for r in results) == ["ingested", "new-version"]
        assert len({r.id for r in results}) == 1
        assert len(lib.archive.versions(results[0].id)) == 2
        assert lib.archive.count_documents() == 4
    finally:
        lib.close()


def test_a_catalog_from_before_origins_opens_and_gains_the_column(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    db = sqlite3.connect(data / "catalog.sqlite3")
    db.execute(
        "CREATE TABLE versions (sha256 TEXT PRIMARY KEY, doc_id TEXT NOT NULL, seq INTEGER NOT "
        "NULL, media_type TEXT NOT NULL, size INTEGER NOT NULL, filename TEXT NOT NULL, "
        "ingested_at TEXT NOT NULL, pages INTEGER, warnings_json TEXT NOT NULL DEFAULT '[]', "
        "indexed INTEGER NOT NULL DEFAULT 0, UNIQUE (doc_id, seq))"
    )
    db.commit()
    db.close()
    archive = Archive(data)
    cols = {r[1] for r in archive.db.execute("PRAGMA table_info(versions)")}
    assert "origin" in cols
