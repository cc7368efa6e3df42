"""Snippet cost per passage (magsearch.snippets), over every passage of the shared corpus.

For each passage, three queries drawn from the passage itself (seeded): three of its words, a phrase
of three consecutive words, and an identifier it cites (when it cites one). Prints p50 / p95 / max
milliseconds per snippet for each query kind, and the passage count.

Usage:
    python bench/snippet_bench.py                     # ingests ../shared/corpus into a temp folder
    python bench/snippet_bench.py --data DIR          # passages of an existing archive
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

from common import cpu_line

from magsearch import citations, snippets
from magsearch.config import Settings
from magsearch.index.whoosh import WhooshIndex
from magsearch.index.whoosh_schema import TOKEN_RE
from magsearch.library import open_library

REPO = Path(__file__).resolve().parent.parent


def passages(data: Path | None) -> list[str]:
    if data is None:
        from magsearch.ingest.pipeline import Ingester, find_files

        corpus = Path(os.environ.get("MAGSEARCH_CORPUS", REPO.parent / "shared" / "corpus"))
        data = Path(tempfile.mkdtemp(prefix="snippet-bench-")) / "data"
        lib = open_library(Settings().with_data_dir(data))
        Ingester(lib.archive, lib.index, lib.settings).run(find_files([corpus]))
    else:
        lib = open_library(Settings().with_data_dir(data))
    texts = [
        p.text
        for d in lib.archive.documents()
        for p in lib.archive.passages(d.current_version)
        if p.text.strip()
    ]
    lib.close()
    return texts


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument(
        "--data", type=Path, help="an existing data folder (default: ingest the corpus)"
    )
    args = ap.parse_args()
    texts = passages(args.data)
    key = WhooshIndex(None)._key
    rnd = random.Random(12)
    times: dict[str, list[float]] = {"words": [], "phrase": [], "identifier": []}
    for text in texts:
        toks = [(m.group(), key(m.group())) for m in TOKEN_RE.finditer(text)]
        if len(toks) < 3:
            continue
        queries = {"words": snippets.Marks(terms=frozenset(k for _, k in rnd.sample(toks, 3)))}
        i = rnd.randrange(len(toks) - 2)
        queries["phrase"] = snippets.Marks(phrases=(tuple(k for _, k in toks[i : i + 3]),))
        cited = citations.find_citations(text)
        if cited:
            queries["identifier"] = snippets.Marks(idents=(cited[0].normalized,))
        for kind, q in queries.items():
            start = time.perf_counter()
            snippets.snippet(text, q, key, token=TOKEN_RE)
            times[kind].append((time.perf_counter() - start) * 1000)
    print(f"# {len(texts)} passages; {cpu_line()}; Python {platform.python_version()}")
    print(f"# load: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}")
    print("| query | snippets | p50 ms | p95 ms | max ms |")
    print("|---|---|---|---|---|")
    for kind, ms in times.items():
        if not ms:
            continue
        ms.sort()
        p95 = ms[min(len(ms) - 1, int(0.95 * len(ms)))]
        print(f"| {kind} | {len(ms)} | {statistics.median(ms):.3f} | {p95:.3f} | {ms[-1]:.1f} |")


if __name__ == "__main__":
    sys.exit(main())
