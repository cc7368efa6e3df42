"""Preservation: `magsearch export --bagit` writes a bag that `bagit.py --validate` accepts;
`magsearch import` restores it into an empty data directory with the same documents, originals,
search results, restrictions, withdrawals, edit history and audit log; `magsearch check` names
missing, extra and corrupt originals apart."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import BUNDLED_DOCUMENTS
from magsearch import curation
from magsearch.accounts import Accounts
from magsearch.config import Settings
from magsearch.ingest.pipeline import Ingester, find_files
from magsearch.library import open_library
from webfixtures import BUNDLED

MAGSEARCH = [sys.executable, "-m", "magsearch.cli"]
BAGIT = Path(sys.executable).with_name("bagit.py")
QUERIES = ["magnitsky", "medical care", "32631/09", "Pub. L. 112-208", "sanction*", "platypus"]


def cli(data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*MAGSEARCH, "--data", str(data), *args], capture_output=True, text=True, timeout=600
    )


def snapshot(data: Path) -> dict:
    lib = open_library(Settings().with_data_dir(data))
    try:
        docs = lib.archive.documents(include_withdrawn=True)
        out = {
            "documents": sorted(
                (d.id, d.title, d.withdrawn, d.restricted, d.court, d.identifiers) for d in docs
            ),
            "shas": sorted(v.sha256 for d in docs for v in lib.archive.versions(d.id)),
            "history": {d.id: curation.history(lib, d.id) for d in docs},
            "audit": [
                (r["at"], r["actor"], r["action"], r["target"], r["detail"])
                for r in Accounts(lib.archive).audit_log(10_000)
            ],
            "search": {},
        }
        for q in QUERIES:
            for see in (False, True):
                res = lib.search.search(q, per_page=50, include_restricted=see)
                out["search"][f"{q}|{see}"] = (
                    res.total,
                    # (which passages show among equally good ones depends on how a bulk load's
                    # sub-writers split the records, as for any two rebuilds: not compared)
                    [(h.id, h.score) for h in res.hits],
                    res.facets,
                )
        return out
    finally:
        lib.close()


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("bag-source")
    settings = Settings().with_data_dir(root / "data")
    lib = open_library(settings)
    try:
        results = Ingester(lib.archive, lib.index, settings).run(find_files([BUNDLED]))
        assert not [r for r in results if r.status == "failed"]
        curation.edit(lib, "eu-regulation-2020-1998", {"title": "A platypus regulation"}, actor="t")
        curation.set_restricted(lib, "us-eo-13818-2017", True, actor="t")
        curation.withdraw(lib, "echr-magnitskiy-2019-press-release", "superseded", actor="t")
        Accounts(lib.archive).add_user("alice", "admin", "correct horse battery", actor="t")
    finally:
        lib.close()
    return root / "data"


def test_export_validate_import_compare(source: Path, tmp_path: Path) -> None:
    bag = tmp_path / "bag"
    done = cli(source, "export", "--bagit", str(bag))
    assert done.returncode == 0, done.stderr
    assert (bag / "bagit.txt").exists() and (bag / "manifest-sha256.txt").exists()
    assert f"Magsearch-Documents: {BUNDLED_DOCUMENTS}" in (bag / "bag-info.txt").read_text()
    catalog = bag / "data" / "catalog"
    assert {p.stem for p in catalog.iterdir()} >= {
        "documents",
        "versions",
        "version_text",
        "edits",
        "audit",
    }
    assert not (catalog / "users.jsonl").exists() and b"scrypt" not in b"".join(
        p.read_bytes() for p in catalog.iterdir()
    )
    valid = subprocess.run([str(BAGIT), "--validate", str(bag)], capture_output=True, text=True)
    assert valid.returncode == 0, valid.stderr

    target = tmp_path / "restored"
    done = cli(target, "import", str(bag))
    assert done.returncode == 0, done.stderr
    assert f"imported {BUNDLED_DOCUMENTS} documents" in done.stdout
    # the import rebuilds the index; so does reindex of the source (Whoosh's term statistics
    # count deleted records until segments merge, so scores compare on fresh indexes)
    assert cli(source, "reindex").returncode == 0
    before, after = snapshot(source), snapshot(target)
    assert after["shas"] == before["shas"] and len(after["shas"]) == BUNDLED_DOCUMENTS
    assert after["documents"] == before["documents"]
    assert after["history"] == before["history"] and before["history"]["eu-regulation-2020-1998"]
    assert after["search"] == before["search"]
    # newest first: the export (written after the bag) and the import, then the same history
    assert before["audit"][0][2] == "export" and after["audit"][0][2] == "import"
    assert after["audit"][1:] == before["audit"][1:] and len(after["audit"]) > 4
    check = cli(target, "check")
    assert check.returncode == 0, check.stdout + check.stderr

    again = cli(target, "import", str(bag))
    assert again.returncode == 1 and "not empty" in again.stderr


def test_a_changed_bag_is_refused(source: Path, tmp_path: Path) -> None:
    bag = tmp_path / "bag"
    assert cli(source, "export", "--bagit", str(bag)).returncode == 0
    victim = next((bag / "data" / "objects").rglob("*"))
    while victim.is_dir():
        victim = next(victim.iterdir())
    victim.write_bytes(victim.read_bytes() + b" ")
    valid = subprocess.run([str(BAGIT), "--validate", str(bag)], capture_output=True, text=True)
    assert valid.returncode != 0
    done = cli(tmp_path / "restored", "import", str(bag))
    assert done.returncode == 1 and "not a valid bag" in done.stderr
    assert "Traceback" not in done.stderr
    assert cli(source, "export", "--bagit", str(bag)).returncode == 2  # not empty: refused


def test_check_names_missing_extra_and_corrupt_apart(source: Path, tmp_path: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(source, data)
    objects = sorted(p for p in (data / "objects").rglob("*") if p.is_file())
    missing, corrupt = objects[0], objects[1]
    missing.unlink()
    corrupt.write_bytes(corrupt.read_bytes()[:-1])
    stray = data / "objects" / "ab" / "not-an-original"
    stray.parent.mkdir(exist_ok=True)
    stray.write_bytes(b"x")
    done = cli(data, "check")
    assert done.returncode == 1
    err = done.stderr
    assert f"missing: {missing.name}" in err
    assert f"corrupt: {corrupt.name} (sha256 differs)" in err
    assert "extra: ab/not-an-original" in err
    assert "1 missing, 1 extra, 1 corrupt" in done.stdout
    lines = json.loads(cli(data, "check", "--json").stdout)
    assert lines["missing"] == [missing.name] and lines["corrupt"] == [corrupt.name]
    assert lines["extra"] == ["ab/not-an-original"]
