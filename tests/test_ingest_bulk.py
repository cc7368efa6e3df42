"""Bulk loads: a run of many files commits in batches without merging and merges once at its end;
`--retry-failed` runs again only the files whose last attempt failed; eyecite is spared text that
cannot hold a case citation, finding the same citations."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from conftest import make_settings
from magsearch import citations
from magsearch.archive import Archive
from magsearch.ingest import pipeline
from magsearch.ingest.pipeline import Ingester, find_files
from magsearch.library import open_library

MAGSEARCH = [sys.executable, "-m", "magsearch.cli"]


def test_a_bulk_run_commits_in_batches_and_merges_at_its_end(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(pipeline, "BULK", 20)
    monkeypatch.setattr(pipeline, "BULK_FLUSH_EVERY", 10)
    folder = tmp_path / "in"
    folder.mkdir()
    for n in range(45):
        (folder / f"n{n:02d}.txt").write_text(f"Note {n} on frozen assets, marker bulkword{n}.\n")
    lib = open_library(make_settings(tmp_path / "data", workers=2))
    try:
        results = Ingester(lib.archive, lib.index, lib.settings).run(find_files([folder]))
        assert [r.status for r in results] == ["ingested"] * 45
        assert lib.index.segment_count() < 5  # merged at the end, not one segment per commit
        for n in (0, 22, 44):
            assert lib.search.search(f"bulkword{n}")["total"] == 1
        assert lib.index.doc_count() == 45
    finally:
        lib.close()


def test_retry_failed_runs_only_the_files_that_failed(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "good.txt").write_text("A good note about the Magnitsky Act.\n")
    (folder / "bad.txt").write_text("A note whose sidecar is broken, about visa bans.\n")
    (folder / "bad.txt.meta.json").write_text("{not json")
    data = tmp_path / "data"

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*MAGSEARCH, "--data", str(data), "ingest", "--json", *args],
                              capture_output=True, text=True, timeout=300)  # fmt: skip

    first = run(str(folder))
    assert first.returncode == 1
    (folder / "bad.txt.meta.json").write_text(json.dumps({"kind": "article"}))
    retried = run("--retry-failed")
    assert retried.returncode == 0, retried.stderr
    lines = [json.loads(line) for line in retried.stdout.splitlines()]
    assert [(Path(r["path"]).name, r["status"]) for r in lines] == [("bad.txt", "ingested")]
    assert Archive(data).count_documents() == 2
    again = run("--retry-failed")
    assert again.returncode == 0 and "no failed file to retry" in again.stdout
    usage = subprocess.run([*MAGSEARCH, "--data", str(data), "ingest"], capture_output=True)
    assert usage.returncode == 2


def test_the_eyecite_gate_keeps_every_case_citation() -> None:
    for text, wanted in [
        ("See Brown v. Board of Education, 347 U.S. 483 (1954).", "347 U.S. 483"),
        ("as held in 81 T.C. at 828, the court", "81 T.C. at 828"),
        ("reported at 5 F. Supp. 2d 1 (D.D.C. 1998)", "5 F. Supp. 2d 1"),
        ("Brown, 347 U.S.\n483 (1954), a line break inside", "347 U.S. 483"),
    ]:
        found = [c.normalized for c in citations.find_citations(text)]
        assert wanted in found, (text, found)
    assert citations._MAY_CITE_CASES.search("1. The court held that the applicant") is None


def test_small_files_parsed_together_still_fail_alone_with_their_own_reason(tmp_path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    for n in range(5):
        (folder / f"g{n}.txt").write_text(f"Good note {n} on asset freezes, groupword{n}.\n")
    (folder / "g2-bad.pdf").write_bytes(b"%PDF-1.7\n" + b"\x00garbage" * 50)
    lib = open_library(make_settings(tmp_path / "data", workers=2))
    try:
        ing = Ingester(lib.archive, lib.index, lib.settings)
        together = {Path(r.path).name: r for r in ing.run(find_files([folder]))}
        assert sorted(r.status for r in together.values()) == ["failed"] + ["ingested"] * 5
        alone_dir = tmp_path / "alone"
        alone_dir.mkdir()
        (alone_dir / "x.pdf").write_bytes((folder / "g2-bad.pdf").read_bytes() + b" ")
        [alone] = ing.run([alone_dir / "x.pdf"])
        assert together["g2-bad.pdf"].error == alone.error and alone.error
        assert lib.search.search("groupword4")["total"] == 1
    finally:
        lib.close()
