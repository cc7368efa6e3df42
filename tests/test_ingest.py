"""The archive and its ingest pipeline, end to end, through the real command line on real files."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import zlib
from pathlib import Path

import pytest

from conftest import ARCHIVE, make_settings
from magsearch.archive import Archive, sha256_bytes
from magsearch.index.whoosh import WhooshIndex
from magsearch.library import open_library

MAGSEARCH = [sys.executable, "-m", "magsearch.cli"]
KINDS = {"legislation": "legislation", "articles": "article", "rulings": "ruling"}


def run(
    data: Path, *args: str, env: dict[str, str] | None = None, timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*MAGSEARCH, "--data", str(data), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )


def json_lines(out: str) -> list[dict]:
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


@pytest.fixture(scope="module")
def corpus_run(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The whole shared corpus ingested once through `magsearch ingest --json`, folder by folder."""
    data = tmp_path_factory.mktemp("corpus-data")
    results: dict[str, dict] = {}
    for folder in sorted(p for p in corpus.iterdir() if p.is_dir()):
        args = ["ingest", "--json", str(folder)]
        if folder.name in KINDS:
            args[1:1] = ["--kind", KINDS[folder.name]]
        proc = run(data, *args)
        assert proc.returncode in (0, 1), proc.stderr
        for line in json_lines(proc.stdout):
            results[str(Path(line["path"]).relative_to(corpus))] = line
        failed = [r for r in json_lines(proc.stdout) if r["status"] == "failed"]
        # one line on stderr per failure, naming the file and the reason
        err_lines = [ln for ln in proc.stderr.splitlines() if ln.startswith("failed: ")]
        assert len(err_lines) == len(failed)
        assert proc.returncode == (1 if failed else 0)
    return {"data": data, "results": results}


def test_every_corpus_file_is_ingested_or_fails_with_a_one_line_reason(
    corpus: Path, corpus_run: dict
) -> None:
    manifest = [ln.split("\t")[0] for ln in (corpus / "MANIFEST.tsv").read_text().splitlines()[1:]]
    expected = {m.removeprefix("shared/corpus/") for m in manifest}
    results = corpus_run["results"]
    assert set(results) == expected
    for path, res in results.items():
        assert res["status"] in {"ingested", "unchanged", "failed"}, path
        if res["status"] == "failed":
            assert res["error"] and "\n" not in res["error"], path
            assert res["id"] is None and res["version"] is None
        else:
            assert res["id"] and len(res["version"]) == 64, path


@pytest.mark.parametrize(
    ("path", "status", "text"),
    [
        ("pdf-fixtures/pypdf__r6-user-password.pdf", "failed", "encrypted: password required"),
        ("pdf-fixtures/ingest__empty.pdf", "failed", "empty file"),
        ("pdf-fixtures/pypdf__r2-empty-password.pdf", "ingested", ""),
        ("pdf-fixtures/pypdf__r6-empty-password.pdf", "ingested", ""),
        ("pdf-fixtures/paperless__multi-page-images.pdf", "ingested", "OCR needed"),
        ("pdf-fixtures/ingest__greek.pdf", "ingested", ""),
        ("rulings/juriscraper__conn_example.html", "ingested", ""),
        (
            "legislation/canada_J-2.3_justice_for_victims_of_corrupt_foreign_officials_act_en.txt",
            "ingested",
            "",
        ),
    ],
)
def test_special_files_get_the_right_outcome(
    corpus_run: dict, path: str, status: str, text: str
) -> None:
    res = corpus_run["results"][path]
    assert res["status"] == status, res
    if status == "failed":
        assert text in res["error"]
    elif text:
        assert any(text in w for w in res["warnings"]), res["warnings"]


def test_failed_files_leave_nothing_but_their_log_line(corpus_run: dict) -> None:
    data = corpus_run["data"]
    archive = Archive(data)
    failed = {p for p, r in corpus_run["results"].items() if r["status"] == "failed"}
    assert failed
    logged = {row["path"] for row in archive.ingest_log(10_000) if row["status"] == "failed"}
    assert {Path(p).name for p in failed} <= {Path(p).name for p in logged}
    stored = {v.filename for d in archive.document_ids() for v in archive.versions(d)}
    assert not {Path(p).name for p in failed} & stored


@pytest.mark.parametrize(
    ("phrase", "expected_file"),
    [
        (
            '"Justice for Victims of Corrupt Foreign Officials Act"',
            "canada_J-2.3_justice_for_victims_of_corrupt_foreign_officials_act_en.txt",
        ),
        (
            '"gross violations of internationally recognized human rights"',
            "us_22_USC_ch108_global_magnitsky_human_rights_accountability.txt",
        ),
        ('"Magnitsky\'s Memory"', "asp_2019_magnitskys-memory.txt"),
        ('"Listed foreign national"', "canada_SOR-2017-233_justice_for_victims_regulations_en.txt"),
        (
            '"dirigeants étrangers corrompus"',
            "canada_J-2.3_loi_justice_victimes_dirigeants_etrangers_corrompus_fr.txt",
        ),
    ],
)
def test_distinctive_phrases_are_found(corpus_run: dict, phrase: str, expected_file: str) -> None:
    proc = run(corpus_run["data"], "search", "--json", phrase)
    assert proc.returncode == 0, proc.stderr
    res = json.loads(proc.stdout)
    assert res["total"] >= 1
    archive = Archive(corpus_run["data"])
    top = archive.get_version(res["hits"][0]["version"])
    assert top.filename == expected_file
    assert "<mark" in res["hits"][0]["snippet"]


def test_search_cli_refuses_a_query_it_cannot_understand(corpus_run: dict) -> None:
    proc = run(corpus_run["data"], "search", "((((")
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and proc.stderr.startswith("magsearch: ")


def _bundled_copy(tmp: Path) -> Path:
    folder = tmp / "collection"
    shutil.copytree(ARCHIVE, folder)
    return folder


def test_reingest_changes_nothing_and_a_changed_file_is_a_new_version(tmp_path: Path) -> None:
    folder = _bundled_copy(tmp_path)
    data = tmp_path / "data"
    first = run(data, "ingest", "--json", str(folder))
    assert first.returncode == 0, first.stderr
    assert {r["status"] for r in json_lines(first.stdout)} == {"ingested"}
    again = run(data, "ingest", "--json", str(folder))
    assert again.returncode == 0
    assert {r["status"] for r in json_lines(again.stdout)} == {"unchanged"}

    html = next(p for p in sorted(folder.glob("*.html")))
    old_bytes = html.read_bytes()
    html.write_bytes(old_bytes.replace(b"</main>", b"<p>An added closing paragraph.</p></main>", 1))
    changed = json_lines(run(data, "ingest", "--json", str(html)).stdout)
    assert [r["status"] for r in changed] == ["new-version"]
    doc_id = changed[0]["id"]
    archive = Archive(data)
    versions = archive.versions(doc_id)
    assert [v.seq for v in versions] == [1, 2]
    assert archive.read_original(versions[0].sha256) == old_bytes  # the old one is kept, untouched
    assert archive.get_document(doc_id).current_version == versions[1].sha256


def test_invalid_sidecar_fails_that_file_naming_the_field(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.txt").write_text("A perfectly good text about the Magnitsky Act.\n")
    (folder / "a.txt.meta.json").write_text(
        json.dumps({"kind": "ruling", "date": "27 August 2019"})
    )
    (folder / "b.txt").write_text("Another good text, with no sidecar at all.\n")
    proc = run(tmp_path / "data", "ingest", "--json", str(folder))
    assert proc.returncode == 1
    by_name = {Path(r["path"]).name: r for r in json_lines(proc.stdout)}
    assert by_name["a.txt"]["status"] == "failed"
    assert "'date'" in by_name["a.txt"]["error"]
    assert by_name["b.txt"]["status"] == "ingested"
    assert Archive(tmp_path / "data").count_documents() == 1


def test_unsupported_formats_are_named(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "picture.pdf").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    (folder / "archive.html").write_bytes(b"PK\x03\x04" + bytes(300))
    proc = run(tmp_path / "data", "ingest", "--json", str(folder))
    assert proc.returncode == 1
    errors = {Path(r["path"]).name: r["error"] for r in json_lines(proc.stdout)}
    assert errors["picture.pdf"].startswith("unsupported format (PNG")
    assert errors["archive.html"].startswith("unsupported format (")


def test_usage_error_exits_2(tmp_path: Path) -> None:
    assert run(tmp_path / "data", "ingest", "--kind", "novel", "x").returncode == 2


def test_a_slow_file_times_out_alone(corpus: Path, tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(corpus / "pdf-fixtures/pdfjs__freeculture.pdf", folder)
    (folder / "note.txt").write_text("A short note that parses in no time at all.\n")
    proc = run(tmp_path / "data", "ingest", "--json", "--timeout", "1", str(folder))
    results = {Path(r["path"]).name: r for r in json_lines(proc.stdout)}
    assert results["pdfjs__freeculture.pdf"]["error"] == "timed out after 1 s"
    assert results["note.txt"]["status"] == "ingested"
    assert proc.returncode == 1


def bomb_pdf(megabytes: int) -> bytes:
    """A valid one-page PDF whose content stream inflates from kilobytes to `megabytes` of text
    operators: a decompression bomb for the parser's memory (unlimited, pypdf peaks near 400 MB)."""
    op = b"BT /F1 12 Tf (Hello world) Tj ET\n"
    payload = zlib.compress(op * (megabytes * 1024 * 1024 // len(op)), 9)
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources "
        b"<< /Font << /F1 << /Type /Font /Subtype /Type1 /BaseFont /Helvetica >> >> >> >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(payload)
        + payload
        + b"\nendstream",
    ]
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for n, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % n + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % off for off in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def test_a_memory_hungry_file_fails_alone(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "bomb.pdf").write_bytes(bomb_pdf(12))
    assert (folder / "bomb.pdf").stat().st_size < 200_000
    (folder / "note.txt").write_text("A short note that needs hardly any memory.\n")
    proc = run(
        tmp_path / "data", "ingest", "--json", str(folder), env={"MAGSEARCH_PARSE_MEMORY_MB": "150"}
    )
    results = {Path(r["path"]).name: r for r in json_lines(proc.stdout)}
    assert results["bomb.pdf"]["error"] == "memory limit exceeded"
    assert results["note.txt"]["status"] == "ingested"
    assert proc.returncode == 1


def _fifty_files(folder: Path, corpus: Path) -> None:
    folder.mkdir()
    for n in range(44):
        (folder / f"note-{n:02d}.txt").write_text(
            f"Memorandum {n} on sanctions designations.\n\nParagraph about asset freezes number {n} "
            f"and the visa ban list, item zeta{n}.\n"
        )
    for name in ["legislation/canada_SOR-2017-233_justice_for_victims_regulations_en.txt",
                 "articles/asp_2019_magnitskys-memory.txt",
                 "rulings/courtlistener__Diaz_v_Create_and_Construct_LLC.pdf",
                 "pdf-fixtures/pypdf__pdflatex-outline.pdf",
                 "html-fixtures/readability__bbc-1.html",
                 "rulings/juriscraper__md_example.html"]:  # fmt: skip
        shutil.copy(corpus / name, folder)


def test_kill_9_mid_batch_then_resume(corpus: Path, tmp_path: Path) -> None:
    folder = tmp_path / "batch"
    _fifty_files(folder, corpus)
    data = tmp_path / "data"
    proc = subprocess.Popen(
        [*MAGSEARCH, "--data", str(data), "ingest", "--json", str(folder)],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, start_new_session=True,
    )  # fmt: skip
    acknowledged = []
    assert proc.stdout is not None
    for line in proc.stdout:
        acknowledged.append(json.loads(line))
        if len(acknowledged) >= 8:
            break
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    proc.stdout.close()
    acked = {r["version"] for r in acknowledged}

    resumed = run(data, "ingest", "--json", str(folder))
    assert resumed.returncode == 0, resumed.stderr
    lines = json_lines(resumed.stdout)
    assert len(lines) == 50
    archive = Archive(data)
    versions = [v.sha256 for d in archive.document_ids() for v in archive.versions(d)]
    expected = {sha256_bytes(p.read_bytes()) for p in folder.iterdir()}
    assert sorted(versions) == sorted(expected)  # every file exactly once
    assert acked <= set(versions)  # nothing acknowledged is missing
    check = run(data, "check")
    assert check.returncode == 0, check.stderr  # originals intact, catalog and index agree

    queries = ["sanctions", '"asset freezes"', "zeta7", "Magnitsky", "visa OR prohibited"]
    before = [json.loads(run(data, "search", "--json", "--limit", "50", q).stdout) for q in queries]
    assert run(data, "reindex").returncode == 0
    after = [json.loads(run(data, "search", "--json", "--limit", "50", q).stdout) for q in queries]
    for b, a in zip(before, after, strict=True):
        assert b == a, (
            b["query"],
            [(h["id"], h["score"]) for h in b["hits"]],
            [(h["id"], h["score"]) for h in a["hits"]],
        )
    assert all(b["total"] > 0 for b in before)


def test_index_schema_mismatch_rebuilds_instead_of_crashing(tmp_path: Path) -> None:
    folder = _bundled_copy(tmp_path)
    data = tmp_path / "data"
    assert run(data, "ingest", str(folder)).returncode == 0
    before = json.loads(run(data, "search", "--json", "Magnitsky").stdout)
    (data / "index" / "MAGSEARCH_SCHEMA").write_text("0\n")
    lib = open_library(make_settings(data))
    assert lib.rebuilt
    lib.close()
    assert json.loads(run(data, "search", "--json", "Magnitsky").stdout) == before


def test_a_second_writer_waits_then_says_why(tmp_path: Path) -> None:
    data = tmp_path / "data"
    lib = open_library(make_settings(data))
    lib.close()
    holder = WhooshIndex(data / "index")
    writer = holder._ix.writer()
    try:
        (tmp_path / "a.txt").write_text("Some text about the Global Magnitsky Act.\n")
        started = time.monotonic()
        proc = run(
            data, "ingest", str(tmp_path / "a.txt"), env={"MAGSEARCH_INDEX_LOCK_TIMEOUT": "1"}
        )
        assert time.monotonic() - started >= 1
    finally:
        writer.cancel()
    assert proc.returncode == 1
    assert "locked by another writer" in proc.stderr
    # the file was archived but not acknowledged; the next run indexes it
    assert run(data, "ingest", str(tmp_path / "a.txt")).returncode == 0
    assert json.loads(run(data, "search", "--json", "Global Magnitsky").stdout)["total"] == 1


def test_the_index_is_written_in_non_compound_segments(tmp_path: Path) -> None:
    """Compound segments are copied into memory by every searcher that opens them."""
    data = tmp_path / "data"
    assert run(data, "ingest", str(ARCHIVE)).returncode == 0
    files = [p.name for p in (data / "index").iterdir()]
    assert any(name.endswith(".pst") for name in files)  # postings in a file of their own
    assert not any(name.endswith(".seg") for name in files)
