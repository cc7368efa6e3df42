"""Alerts benchmark: what matching saved searches costs after an ingest commit.

An archive of N generated documents (~10 kB each), S saved searches (two-word queries, phrases,
filtered and rare-word searches), then one commit of B new documents. Measured:

1. percolation (what magsearch does): `Alerts.match_new()` — the B documents in an in-memory index,
   every saved search run against it, the hits recorded in the ledger;
2. for comparison, running every saved search over the whole index once (what matching without
   percolation would cost at the least, per commit: one page of 100 hits per search).

Usage: python bench/alerts_bench.py [--docs 1000] [--searches 100] [--batch 50]
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from pathlib import Path

from common import WORDS, cpu_line, write_html_doc

from magsearch.accounts import Accounts
from magsearch.alerts import Alerts
from magsearch.config import Settings
from magsearch.ingest.pipeline import Ingester, find_files
from magsearch.library import open_library


def queries(rng: random.Random, count: int, first_new: int, batch: int) -> list[tuple[str, dict]]:
    out: list[tuple[str, dict]] = []
    for i in range(count):
        a, b = rng.sample(WORDS, 2)
        kind = i % 4
        if kind == 0:
            out.append((f"{a} {b}", {}))
        elif kind == 1:
            out.append((f'"{a} {b}"', {}))
        elif kind == 2:
            out.append((f"{a} -{b}", {"kind": ["article"]}))
        else:  # a word only one new document has
            out.append((f"zq{first_new + rng.randrange(batch)}x3", {}))
    return out


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--docs", type=int, default=1000)
    parser.add_argument("--searches", type=int, default=100)
    parser.add_argument("--batch", type=int, default=50)
    args = parser.parse_args()
    rng = random.Random(14)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        settings = Settings().with_data_dir(root / "data")
        lib = open_library(settings)
        try:
            old, new = root / "old", root / "new"
            old.mkdir()
            new.mkdir()
            for n in range(args.docs):
                write_html_doc(old, n, rng)
            for n in range(args.docs, args.docs + args.batch):
                write_html_doc(new, n, rng)
            start = time.perf_counter()
            Ingester(lib.archive, lib.index, settings).run(find_files([old]))
            print(
                f"archive of {args.docs} documents ingested in {time.perf_counter() - start:.0f} s"
            )
            acc = Accounts(lib.archive)
            user = acc.add_user("bench", "reader", "a long bench password", actor="bench")
            alerts = Alerts(lib.archive, settings)
            saved = queries(rng, args.searches, args.docs, args.batch)
            for i, (q, filters) in enumerate(saved):
                alerts.save(user, f"s{i}", q, filters, actor="bench")
            alerts.match_new()  # the watermark starts here
            Ingester(lib.archive, lib.index, settings).run(find_files([new]))

            start = time.perf_counter()
            added = alerts.match_new()
            percolate = time.perf_counter() - start

            start = time.perf_counter()
            for q, filters in saved:
                lib.search.search(q, filters=filters, sort="newest", per_page=100)
            whole = time.perf_counter() - start
        finally:
            lib.close()
    load = os.getloadavg()[0]
    print(f"machine: {cpu_line()}; load average (1 min) at the end: {load:.2f}")
    print(
        f"one commit of {args.batch} new documents, {args.searches} saved searches, "
        f"archive of {args.docs + args.batch}:"
    )
    print(f"  percolation (match_new): {percolate:.2f} s, {added} alerts recorded")
    print(f"  every saved search over the whole index (one page of 100 each): {whole:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
