"""Indexing cost: CPU seconds and index size of writing search_bench.py's generated passages into a
new Whoosh index (WhooshIndex.write, one process), a few times. Used to measure what a change to
the analyzer or the schema costs at indexing time (docs/benchmarks.md).

Usage:
    python bench/index_cost.py                 # 10,000 passages, two runs
    python bench/index_cost.py --passages 2000 --runs 3
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from common import cpu_line
from search_bench import Generator

from magsearch.index.base import IndexRecord
from magsearch.index.whoosh import WhooshIndex


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--passages", type=int, default=10000)
    ap.add_argument("--runs", type=int, default=2)
    ap.add_argument("--seed", type=int, default=42)
    args = ap.parse_args(argv)
    docs = Generator(args.seed).documents(args.passages)
    records = [
        IndexRecord(replace(d, current_version="0" * 64), "0" * 64, tuple(ps), tuple(cites))
        for d, ps, cites in docs
    ]
    print(f"index_cost: {cpu_line()}; {args.passages:,} passages, {len(docs):,} documents")
    for run in range(1, args.runs + 1):
        with tempfile.TemporaryDirectory(prefix="magsearch-index-cost-") as tmp:
            index = WhooshIndex(Path(tmp) / "index")
            cpu, wall = time.process_time(), time.perf_counter()
            index.write(records)
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
            size = sum(f.stat().st_size for f in (Path(tmp) / "index").iterdir()) / 1e6
            index.close()
        print(f"run {run}: {cpu:.2f} s CPU, {wall:.2f} s wall, {size:.1f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
