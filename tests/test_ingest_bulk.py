"""Bulk loads: a run of many files commits in batches, merging segments by size tiers;
`--retry-failed` runs again only the files whose last attempt failed; eyecite is spared text that
cannot hold a case citation, finding the same citations."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from conftest import REPO, corpus_root, make_settings
from magsearch import citations
from magsearch.archive import Archive
from magsearch.errors import MagsearchError
from magsearch.index import whoosh
from magsearch.ingest import pipeline
from magsearch.ingest.pipeline import Ingester, find_files
from magsearch.ingest.registry import parse_bytes
from magsearch.library import open_library

MAGSEARCH = [sys.executable, "-m", "magsearch.cli"]


def test_a_bulk_run_commits_in_batches_and_merges_by_size_tiers(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(pipeline, "BULK", 20)
    monkeypatch.setattr(pipeline, "BULK_FLUSH_EVERY", 10)
    monkeypatch.setattr(whoosh, "MERGE_FACTOR", 3)
    folder = tmp_path / "in"
    folder.mkdir()
    for n in range(45):
        (folder / f"n{n:02d}.txt").write_text(f"Note {n} on frozen assets, marker bulkword{n}.\n")
    lib = open_library(make_settings(tmp_path / "data", workers=2))
    try:
        ing = Ingester(lib.archive, lib.index, lib.settings)
        results = ing.run(find_files([folder]))
        assert [r.status for r in results] == ["ingested"] * 45
        sizes = [
            n for _, n in lib.index.segments()
        ]  # Whoosh records: a document and a passage each
        assert sum(sizes) == 90 and len(sizes) < 5, sizes  # not one segment per commit
        assert sum(1 for n in sizes if 10 <= n < 100) < 3, sizes  # a full tier was merged
        for n in (0, 22, 44):
            assert lib.search.search(f"bulkword{n}").total == 1
        assert lib.index.doc_count() == 45
        # a small commit afterwards leaves the larger segments as they are (Whoosh's own policy
        # rewrote most of the index here)
        before = {seg for seg, n in lib.index.segments() if n >= 10}
        (tmp_path / "one.txt").write_text("One more note, marker bulkwordlast.\n")
        [one] = ing.run([tmp_path / "one.txt"])
        assert one.status == "ingested"
        assert before <= {seg for seg, _ in lib.index.segments()}
        assert lib.search.search("bulkwordlast").total == 1
    finally:
        lib.close()


def test_tiered_merging_keeps_a_tier_below_the_merge_factor(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(whoosh, "MERGE_FACTOR", 3)
    lib = open_library(make_settings(tmp_path / "data", workers=1))
    try:
        ing = Ingester(lib.archive, lib.index, lib.settings)
        for n in range(8):  # one-file commits: segments of 1 document, merged three at a time
            (tmp_path / f"t{n}.txt").write_text(f"Tier note {n}, marker tierword{n}.\n")
            [res] = ing.run([tmp_path / f"t{n}.txt"])
            assert res.status == "ingested"
            tiers = [len(str(size)) for _, size in lib.index.segments()]
            assert all(tiers.count(t) <= 3 for t in set(tiers)), lib.index.segments()
        assert lib.index.segment_count() < 8
        assert all(lib.search.search(f"tierword{n}").total == 1 for n in range(8))
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
        assert lib.search.search("groupword4").total == 1
    finally:
        lib.close()


def test_the_extractors_quick_checks_skip_only_text_they_cannot_match() -> None:
    """Each extractor's `need` (a literal its every match contains) lets most text skip its slow
    pattern: over every paragraph of the bundled collection and of the shared corpus's legislation,
    rulings and articles, the matches with the checks are the matches without them."""
    texts = [p.read_bytes() for p in sorted((REPO / "archive").glob("*")) if p.suffix != ".md"]
    for folder in ("legislation", "rulings", "articles"):  # when the corpus is here
        texts += [p.read_bytes() for p in sorted((corpus_root() / folder).glob("*")) if p.is_file()]
    paragraphs = []
    for data in texts:
        try:
            blocks = parse_bytes(data).blocks
        except MagsearchError:
            continue
        paragraphs += [b.text for b in blocks]
    paragraphs.append(" ".join(paragraphs))  # and all of it at once
    assert len(paragraphs) > 500
    skipped = 0
    for text in paragraphs:
        for pattern, _build, need in citations._COMPILED:
            found = [m.group() for m in pattern.finditer(text)]
            if need.search(text) is None:
                skipped += 1
                assert found == [], (need.pattern, found)
    assert skipped > len(paragraphs) * 5  # the checks do skip most extractors on most text


def test_each_file_of_a_group_has_the_whole_time_out_to_itself(monkeypatch) -> None:
    """Small files are parsed many to a worker; the deadline counts each file's own time: four
    files of 0.4 s each in one worker with a 1 s time-out all go through (1.6 s in all), while a
    file of 1.5 s in such a group still times out."""
    import time

    from magsearch.archive import sha256_bytes
    from magsearch.ingest import analyse as analysis
    from magsearch.ingest.worker import run_isolated

    real = analysis.analyse

    def slow(job):  # type: ignore[no-untyped-def]
        time.sleep(float(job.sidecar["seconds"]))  # a slow parser, as a file of many pages
        return real(job)

    monkeypatch.setattr(analysis, "analyse", slow)  # the forked worker inherits it

    def job(n: int, seconds: float) -> analysis.Job:
        data = f"Note {n} on asset freezes.\n".encode()
        return analysis.Job(f"n{n}.txt", data, sha256_bytes(data), sidecar={"seconds": seconds})

    quick = [job(n, 0.4) for n in range(4)]
    [done] = run_isolated(analysis.analyse_group, [quick], workers=1, timeout=1.0, memory_mb=0)
    assert done.error == "" and len(done.value) == 4 and all(done.value)
    stuck = [job(0, 0.1), job(1, 1.5), job(2, 0.1)]
    [late] = run_isolated(analysis.analyse_group, [stuck], workers=1, timeout=1.0, memory_mb=0)
    assert late.error.startswith("timed out")


def test_large_files_are_parsed_first_and_small_ones_never_wait_behind_them(tmp_path) -> None:
    """The workers start on the largest files (the run does not end waiting for a long parse that
    came late), and a group of small files is handed over as soon as a large file comes."""
    from magsearch.ingest.analyse import Job

    small = [Job(f"s{n}", b"x" * 10, f"s{n}") for n in range(3)]
    big = Job("big", b"x" * (pipeline.GROUP_BYTES + 1), "big")
    groups = list(pipeline._groups([*small, big, Job("s3", b"x", "s3")]))
    assert [[j.path for j in g] for g in groups] == [["s0", "s1", "s2"], ["big"], ["s3"]]
    # a bulk load's workers take more small files at a time (fewer forks of the writer)
    many = [Job(f"m{n}", b"x" * 10, f"m{n}") for n in range(300)]
    assert [len(g) for g in pipeline._groups(many)] == [32] * 9 + [12]
    bulk = pipeline._groups(many, pipeline.BULK_GROUP_FILES, pipeline.BULK_GROUP_TOTAL)
    assert [len(g) for g in bulk] == [128, 128, 44]
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a-large.txt").write_text("A long note on visa bans, marker largeword. " * 1600)
    (folder / "b-larger.txt").write_text(
        "A longer note on asset freezes, marker largerword. " * 4000
    )
    (folder / "c-small.txt").write_text("A short note on the Magnitsky Act, marker smallword.\n")
    lib = open_library(make_settings(tmp_path / "data", workers=1))
    try:
        results = Ingester(lib.archive, lib.index, lib.settings).run(find_files([folder]))
        names = [Path(r.path).name for r in results]
        assert names == ["b-larger.txt", "a-large.txt", "c-small.txt"]
        assert {r.status for r in results} == {"ingested"}
        for word in ("smallword", "largeword", "largerword"):
            assert lib.search.search(word).total == 1
    finally:
        lib.close()
