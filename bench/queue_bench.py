"""Parsing throughput on the job queue with 1, 2 and 4 `magsearch worker` processes.

Starts its own redis-server on a free port in a temporary folder, then for each worker count starts
that many `magsearch worker` processes and has `queue.run_queued` parse the same documents (generated
10 kB HTML documents, like the ingest benchmark's, and the PDFs of the bundled collection), timing
from the first job published to the last result received. No storing or indexing: parsing only.
The in-process `run_isolated` with as many forked children is measured alongside for comparison.

    .venv/bin/python bench/queue_bench.py [--docs 200] [--workers 1 2 4]
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import cpu_line

from magsearch.archive import sha256_bytes
from magsearch.ingest.analyse import Job, analyse, warm_up
from magsearch.ingest.queue import run_queued
from magsearch.ingest.worker import run_isolated

REPO = Path(__file__).resolve().parent.parent


def documents(n: int) -> list[Job]:
    jobs = []
    for i in range(n):
        paras = "".join(
            f"<p>{j + 1}. The applicant {i} complained under Article {j % 18 + 1} of the Convention "
            f"that the detention of Mr Magnitsky, no. {32631 + i}/09, was unlawful; the Court "
            f"notes the sanctions under Pub. L. 112-208 and the asset freezes of item {i}-{j}.</p>"
            for j in range(40)
        )
        data = (
            f"<html><head><title>Memorandum {i}</title></head><body>{paras}</body></html>".encode()
        )
        jobs.append(Job(f"doc-{i}.html", data, sha256_bytes(data)))
    for pdf in sorted((REPO / "archive").glob("*.pdf")):
        data = pdf.read_bytes()
        jobs.append(Job(pdf.name, data, sha256_bytes(data)))
    return jobs


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--docs", type=int, default=200)
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    args = ap.parse_args()
    redis_bin = shutil.which("redis-server")
    if not redis_bin:
        print("redis-server is not installed (make redis)", file=sys.stderr)
        return 1
    jobs = documents(args.docs)
    print(f"machine: {cpu_line()}; {len(jobs)} documents ({args.docs} HTML of ~10 kB + "
          f"{len(jobs) - args.docs} PDFs)")  # fmt: skip
    warm_up()
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        url = f"redis://127.0.0.1:{port}/0"
        redis = subprocess.Popen(
            [redis_bin, "--port", str(port), "--bind", "127.0.0.1", "--dir", tmp, "--save", "",
             "--appendonly", "no"], stdout=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            time.sleep(0.5)
            for n in args.workers:
                env = {**os.environ, "MAGSEARCH_BROKER_URL": url}
                workers = [
                    subprocess.Popen([sys.executable, "-m", "magsearch.cli", "worker"], env=env,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                    for _ in range(n)
                ]  # fmt: skip
                try:
                    time.sleep(4)  # the workers start and connect
                    load = os.getloadavg()[0]
                    start = time.perf_counter()
                    out = list(run_queued(jobs, broker_url=url, timeout=60, memory_mb=1024,
                                          window=4 * n))  # fmt: skip
                    took = time.perf_counter() - start
                finally:
                    for w in workers:
                        w.kill()
                        w.wait()
                failed = sum(bool(o.error) for o in out)
                print(f"queue, {n} worker(s): {len(out)} docs in {took:.1f} s = "
                      f"{len(out) / took:.1f} docs/s ({failed} failed; load before {load:.2f})")  # fmt: skip
                load = os.getloadavg()[0]
                start = time.perf_counter()
                out = list(run_isolated(analyse, jobs, workers=n, timeout=60, memory_mb=1024))
                took = time.perf_counter() - start
                print(f"in-process, {n} forked children: {len(out)} docs in {took:.1f} s = "
                      f"{len(out) / took:.1f} docs/s (load before {load:.2f})")  # fmt: skip
        finally:
            redis.kill()
            redis.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
