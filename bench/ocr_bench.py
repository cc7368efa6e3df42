"""OCR: word accuracy against known text, and pages per second.

Known text: pages of the bundled collection (archive/*.pdf) have a real text layer. Each chosen page
is rasterised with pdftoppm (300 dpi, grey, as a scanner would give it), wrapped as an image-only
PDF, read back by `magsearch.ingest.ocr.recognise` (OCRmyPDF + Tesseract, as ingest runs it) and
compared word by word with the page's own text layer: accuracy = words of the text layer matched,
in order, by the OCR text (difflib over normalised words) / words of the text layer.

The scans of ../shared/corpus/scans/ have no text layer; their known text is our own transcription
of their pages (bench/ocr_truth/, typed from the page images), compared the same way. Every page
of theirs that needs OCR is read as ingest reads it (all of a scan's pages in one OCRmyPDF run), timed
for pages/s.

    .venv/bin/python bench/ocr_bench.py [--pages 2]    # pages per archive PDF (default 2)
    .venv/bin/python bench/ocr_bench.py --pages 0      # the corpus scans only
"""

from __future__ import annotations

import argparse
import difflib
import os
import re
import subprocess
import sys
import tempfile
import time
import unicodedata
from pathlib import Path

from common import cpu_line
from fpdf import FPDF

from magsearch.ingest.ocr import recognise, unavailable
from magsearch.ingest.registry import parse_bytes

REPO = Path(__file__).resolve().parent.parent
TRUTH = Path(__file__).resolve().parent / "ocr_truth"  # our transcriptions of the corpus scans


def words(text: str) -> list[str]:
    text = unicodedata.normalize("NFKC", text).lower().replace("’", "'")
    return re.findall(r"[^\W_]+(?:['.-][^\W_]+)*", text)


def accuracy(truth: str, ocr: str) -> tuple[int, int]:
    a, b = words(truth), words(ocr)
    matched = sum(
        m.size for m in difflib.SequenceMatcher(None, a, b, autojunk=False).get_matching_blocks()
    )
    return matched, len(a)


def scan_of(pdf: Path, page: int, folder: Path) -> bytes:
    """Page `page` of `pdf` rasterised by pdftoppm and wrapped as an image-only PDF."""
    stem = folder / f"{pdf.stem}-{page}"
    subprocess.run(["pdftoppm", "-r", "300", "-gray", "-png", "-f", str(page), "-l", str(page),
                    "-singlefile", str(pdf), str(stem)], check=True)  # fmt: skip
    doc = FPDF(unit="pt")
    doc.add_page(format=(612, 792))
    doc.image(f"{stem}.png", x=0, y=0, w=612, h=792)
    return bytes(doc.output())


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pages", type=int, default=2, help="pages per archive PDF")
    ap.add_argument(
        "--corpus", default=os.environ.get("MAGSEARCH_CORPUS", str(REPO.parent / "shared/corpus"))
    )
    args = ap.parse_args()
    if why := unavailable():
        print(f"OCR unavailable: {why}", file=sys.stderr)
        return 1
    print(f"machine: {cpu_line()}; load before: {os.getloadavg()[0]:.2f}")
    total_matched = total_words = 0
    seconds = pages_read = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        for pdf in sorted((REPO / "archive").glob("*.pdf")):
            parsed = parse_bytes(pdf.read_bytes())
            for page in range(1, min(args.pages, parsed.pages or 0) + 1):
                truth = "\n".join(b.text for b in parsed.blocks if b.page == page)
                data = scan_of(pdf, page, Path(tmp))
                start = time.perf_counter()
                text = recognise(data, [1], "eng", page_seconds=120, memory_mb=2048).get(1, "")
                seconds += time.perf_counter() - start
                pages_read += 1
                matched, n = accuracy(truth, text)
                total_matched += matched
                total_words += n
                print(f"{pdf.name} p. {page}: {matched}/{n} words = {matched / max(n, 1):.3f}")
    if pages_read:
        print(f"archive scans: word accuracy {total_matched / max(total_words, 1):.3f} "
              f"({total_matched}/{total_words}); {pages_read:.0f} pages in {seconds:.1f} s = "
              f"{pages_read / seconds:.2f} pages/s")  # fmt: skip
    scans = sorted(Path(args.corpus, "scans").glob("*.pdf"))
    if scans:
        n_pages = 0
        took = 0.0
        matched_all = words_all = 0
        for pdf in scans:
            parsed = parse_bytes(pdf.read_bytes())
            n_pages += len(parsed.needs_ocr)
            start = time.perf_counter()
            texts = recognise(
                pdf.read_bytes(), parsed.needs_ocr, "eng", page_seconds=120, memory_mb=2048
            )
            took += time.perf_counter() - start
            for truth_file in sorted(TRUTH.glob(f"{pdf.stem}.page*.txt")):
                page = int(truth_file.stem.rsplit(".page", 1)[1])
                matched, n = accuracy(truth_file.read_text(), texts.get(page, ""))
                matched_all += matched
                words_all += n
                print(
                    f"scans/{pdf.name} p. {page}: {matched}/{n} words = {matched / max(n, 1):.3f}"
                )
        print(f"corpus scans/: word accuracy {matched_all / max(words_all, 1):.3f} "
              f"({matched_all}/{words_all}); {n_pages} pages in {took:.1f} s = "
              f"{n_pages / took:.2f} pages/s")  # fmt: skip
    print(f"load after: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
