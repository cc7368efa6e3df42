"""Ingest and indexing benchmark (`make bench`).

1. Ingest throughput on the PDF and HTML files of the shared corpus (pages/s, MB/s) through the whole
   pipeline, beside the raw pypdf / BeautifulSoup extraction time of the same files, so the pipeline's
   overhead is visible.
2. Index build (`magsearch reindex`, a bulk load) for N generated documents of ~10 kB (docs/s, size).
3. Freshness: seconds from the end of one new document's ingest to its first search hit.

Usage: python bench/ingest_bench.py [--docs 10000] [--corpus ../shared/corpus]
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import sys
import tempfile
import time
from pathlib import Path

from common import WORDS, cpu_line

from magsearch.archive import Archive, NewVersion, sha256_bytes
from magsearch.config import Settings
from magsearch.index.sync import rebuild
from magsearch.index.whoosh import WhooshIndex
from magsearch.ingest.pipeline import Ingester, find_files
from magsearch.library import open_library
from magsearch.models import Passage


def machine() -> str:
    return f"{cpu_line()}, Python {platform.python_version()}"


def raw_extraction(files: list[Path]) -> tuple[float, int]:
    """pypdf extract_text on every page and bs4+lxml get_text: the floor the pipeline builds on."""
    import pypdf
    from bs4 import BeautifulSoup

    pages = 0
    start = time.perf_counter()
    for f in files:
        try:
            if f.suffix == ".pdf":
                reader = pypdf.PdfReader(f)
                for page in reader.pages:
                    page.extract_text()
                    pages += 1
            else:
                BeautifulSoup(f.read_bytes(), "lxml").get_text(" ")
                pages += 1
        except Exception:  # noqa: BLE001 - damaged fixtures fail here as in the pipeline
            continue
    return time.perf_counter() - start, pages


def pipeline(files: list[Path]) -> tuple[float, int, int]:
    with tempfile.TemporaryDirectory() as tmp:
        lib = open_library(Settings().with_data_dir(tmp))
        start = time.perf_counter()
        results = Ingester(lib.archive, lib.index, lib.settings).run(files)
        elapsed = time.perf_counter() - start
        pages = sum((r.pages or 1) for r in results if r.status != "failed")
        lib.close()
    return elapsed, pages, sum(r.status == "failed" for r in results)


def generated_index(n: int) -> tuple[float, int]:
    rng = random.Random(42)
    with tempfile.TemporaryDirectory() as tmp:
        archive = Archive(tmp)
        for i in range(n):
            paras = []
            for _ in range(10):
                paras.append(" ".join(rng.choice(WORDS) for _ in range(150)).capitalize() + ".")
            data = f"generated document {i}".encode()
            sha = archive.put_original(data, sha256_bytes(data))
            archive.record_version(
                NewVersion(
                    doc_id=f"g{i:06d}",
                    sha256=sha,
                    kind=rng.choice(["ruling", "legislation", "article"]),
                    title=f"Generated document {i}",
                    media_type="text/plain",
                    size=len(data),
                    filename=f"g{i}.txt",
                    pages=None,
                    warnings=(),
                    date=f"{rng.randint(1990, 2024)}-01-01",
                    passages=tuple(
                        Passage(j, f"p-{j}", f"¶ {j + 1}", t) for j, t in enumerate(paras)
                    ),
                )  # fmt: skip
            )
        index = WhooshIndex(Path(tmp) / "index")
        start = time.perf_counter()
        rebuild(archive, index)  # what `magsearch reindex` does: one bulk load
        elapsed = time.perf_counter() - start
        size = sum(f.stat().st_size for f in (Path(tmp) / "index").iterdir())
        index.close()
    return elapsed, size


def freshness(corpus: Path) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        lib = open_library(Settings().with_data_dir(tmp))
        f = Path(tmp) / "fresh.txt"
        f.write_text("A new memorandum about the quokkaphrase designation.\n")
        Ingester(lib.archive, lib.index, lib.settings).run([f])
        done = time.perf_counter()
        while lib.search.search("quokkaphrase").total == 0:
            time.sleep(0.01)
        lag = time.perf_counter() - done
        lib.close()
    return lag


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--docs", type=int, default=10_000)
    ap.add_argument("--corpus", default=os.environ.get("MAGSEARCH_CORPUS", "../shared/corpus"))
    args = ap.parse_args()
    corpus = Path(args.corpus)
    print(f"machine: {machine()}")
    if (corpus / "MANIFEST.tsv").exists():
        files = [f for f in find_files([corpus]) if f.suffix in (".pdf", ".html")]
        mb = sum(f.stat().st_size for f in files) / 1e6
        raw_s, raw_pages = raw_extraction(files)
        pipe_s, pipe_pages, failed = pipeline(files)
        print(f"corpus PDF+HTML: {len(files)} files, {mb:.1f} MB")
        print(
            f"  raw pypdf/bs4 extraction: {raw_s:.1f} s, {raw_pages / raw_s:.0f} pages/s, {mb / raw_s:.2f} MB/s"
        )
        print(f"  magsearch ingest (parse+structure+citations+store+index, {Settings().workers} workers): "
              f"{pipe_s:.1f} s, {pipe_pages / pipe_s:.0f} pages/s, {mb / pipe_s:.2f} MB/s, {failed} failed")  # fmt: skip
        print(f"  freshness: searchable {freshness(corpus):.3f} s after ingest returned")
    else:
        print(f"corpus not found at {corpus}: corpus figures skipped", file=sys.stderr)
    secs, size = generated_index(args.docs)
    print(f"index build, {args.docs} generated docs of ~10 kB: {secs:.1f} s, {args.docs / secs:.0f} docs/s, "
          f"index {size / 1e6:.0f} MB")  # fmt: skip


if __name__ == "__main__":
    main()
