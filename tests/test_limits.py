"""Inputs that are too big in one dimension: a PDF with 100,001 pages in 1 kB, a passage of
megabytes. Each is refused with a one-line reason or cut to a bounded size."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from magsearch.errors import IngestError
from magsearch.ingest.pdf import PdfParser

MAGSEARCH = Path(sys.executable).with_name("magsearch")


def many_pages_pdf(declared: int) -> bytes:
    """A PDF of 100,001 pages in about 1 kB: one page object, reached through shared /Pages nodes
    (ten kids each, five levels: 10**5 pages) and once more from the root. `declared` is the
    root's /Count (a file may lie about it)."""
    objs = {
        1: b"<< /Type /Catalog /Pages 2 0 R >>",
        2: b"<< /Type /Pages /Kids [7 0 R 3 0 R] /Count %d >>" % declared,
        7: b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>",
    }
    chain = [3, 4, 5, 6, 8, 7]
    for level, (node, kid) in enumerate(zip(chain, chain[1:], strict=False)):
        kids = b" ".join(b"%d 0 R" % kid for _ in range(10))
        objs[node] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, 10 ** (5 - level))
    out = bytearray(b"%PDF-1.4\n")
    offsets = {}
    for n in sorted(objs):
        offsets[n] = len(out)
        out += b"%d 0 obj\n%s\nendobj\n" % (n, objs[n])
    xref, size = len(out), max(objs) + 1
    out += b"xref\n0 %d\n0000000000 65535 f \n" % size
    for n in range(1, size):
        out += b"%010d 00000 n \n" % offsets[n] if n in offsets else b"0000000000 65535 f \n"
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (size, xref)
    return bytes(out)


@pytest.mark.parametrize(
    ("declared", "message"),
    [
        (100_001, "too many pages (100001 > 5000)"),
        (1, "too many pages (more than 5000)"),  # a /Count that lies: the walk stops early
    ],
)
def test_a_pdf_with_100001_pages_is_too_many_pages(declared: int, message: str) -> None:
    data = many_pages_pdf(declared)
    assert len(data) < 2000
    with pytest.raises(IngestError) as caught:
        PdfParser().parse(data, max_pages=5000)
    assert str(caught.value) == message


def test_ingest_reports_too_many_pages_for_that_file(tmp_path: Path) -> None:
    inbox = tmp_path / "in"
    inbox.mkdir()
    (inbox / "huge.pdf").write_bytes(many_pages_pdf(100_001))
    (inbox / "fine.txt").write_text("A short note on the Magnitsky case.\n")
    proc = subprocess.run(
        [str(MAGSEARCH), "--data", str(tmp_path / "data"), "ingest", "--json", str(inbox)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 1, proc.stderr
    rows = {Path(r["path"]).name: r for r in map(json.loads, proc.stdout.splitlines())}
    assert rows["huge.pdf"]["status"] == "failed"
    assert rows["huge.pdf"]["error"].startswith("too many pages")
    assert rows["fine.txt"]["status"] == "ingested"
