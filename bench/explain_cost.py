"""What "why this result" costs: search_bench.py's generated archive and query mix, each query
timed without and with explain=True (the whole SearchService, snippets included), p50 and p95 per
query kind (docs/benchmarks.md).

Usage:
    python bench/explain_cost.py                       # 10,000 passages, 20 queries per kind
    python bench/explain_cost.py --passages 2000 --queries 10
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from common import cpu_line
from search_bench import Generator, make_queries, pct, prepare

from magsearch.config import Settings
from magsearch.search import SearchService

KINDS = ("term", "and", "or", "phrase", "prefix", "NEAR/5", "=exact")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--passages", type=int, default=10000)
    ap.add_argument("--queries", type=int, default=20)
    ap.add_argument("--seed", type=int, default=42)
    args = ap.parse_args(argv)
    gen = Generator(args.seed)
    docs = gen.documents(args.passages)
    print(f"explain_cost: {cpu_line()}; {args.passages:,} passages")
    print("| query kind | p50 without / with ms | p95 without / with ms |\n|---|---|---|")
    with tempfile.TemporaryDirectory(prefix="magsearch-explain-") as tmp:
        archive, index, db, _ = prepare(Path(tmp), docs, 1)
        settings = replace(Settings().with_data_dir(tmp), search_time_limit=2.0)
        service = SearchService(archive, index, settings)
        queries = make_queries(gen, docs, args.queries, args.seed)
        for kind in KINDS:
            plain, explained = [], []
            for q, _ in queries[kind]:
                service.search(q)  # warm: the postings it reads are cached
                start = time.perf_counter()
                service.search(q)
                plain.append(time.perf_counter() - start)
                start = time.perf_counter()
                service.search(q, explain=True)
                explained.append(time.perf_counter() - start)
            print(f"| {kind} | {pct(plain, 50):.1f} / {pct(explained, 50):.1f} "
                  f"| {pct(plain, 95):.1f} / {pct(explained, 95):.1f} |")  # fmt: skip
        service.close()
        index.close()
        archive.close()
        db.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
