"""What `magsearch` prints, through the real command line: warnings of an ingest in its text output
and in `magsearch log`, `log --failed` finding failures however many lines came after them, and
counts in good English ("1 document", "1 problem")."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ARCHIVE

MAGSEARCH = [sys.executable, "-m", "magsearch.cli"]
NO_TEXT = "pdf-fixtures/ingest__jbig2.pdf"  # image-only scans: ingested, with a warning


def run(data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*MAGSEARCH, "--data", str(data), *args], capture_output=True, text=True, timeout=600
    )


def test_warnings_are_shown_in_the_text_output_and_the_log(tmp_path: Path, corpus: Path) -> None:
    data = tmp_path / "data"
    proc = run(data, "ingest", str(corpus / NO_TEXT))
    assert proc.returncode == 0, proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.startswith("warning: ")]
    assert lines and all(str(corpus / NO_TEXT) in ln for ln in lines), proc.stderr
    assert "1 ingested, 0 new versions, 0 unchanged, 0 failed, 1 with warnings" in proc.stdout
    log = run(data, "log").stdout.splitlines()
    assert "ingested" in log[0] and any(ln.split()[:1] == ["warning"] for ln in log[1:]), log
    assert any(lines[0].split(": ", 2)[2] in ln for ln in log[1:])  # the same words as at ingest


def test_log_failed_applies_its_limit_to_the_failures(tmp_path: Path) -> None:
    data = tmp_path / "data"
    empty = tmp_path / "empty.pdf"
    empty.write_bytes(b"")
    assert run(data, "ingest", str(empty)).returncode == 1
    assert run(data, "ingest", str(ARCHIVE)).returncode == 0  # ten newer lines, none failed
    failed = run(data, "log", "--failed", "--limit", "1").stdout.splitlines()
    assert len(failed) == 1 and "failed" in failed[0] and "empty.pdf" in failed[0], failed
    newest = run(data, "log", "--limit", "1").stdout.splitlines()
    assert len(newest) == 1 and "failed" not in newest[0]


@pytest.mark.parametrize(
    ("query", "line"), [("quokka", "0 documents"), ("Browder OR 13818", "1 document")]
)
def test_counts_are_in_good_english(
    tmp_path_factory: pytest.TempPathFactory, query: str, line: str
) -> None:
    data = tmp_path_factory.mktemp("grammar") / "data"
    run(data, "ingest", str(ARCHIVE / "us-executive-order-13818.html"))
    assert run(data, "search", *query.split()).stdout.splitlines()[0] == line
    check = run(data, "check")
    assert check.stdout.startswith("1 document checked, 0 problems"), check.stdout
