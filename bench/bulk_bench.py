"""Bulk ingest: `magsearch ingest` of N generated ~10 kB HTML documents, a sidecar each.

Prints the rate for every 1,000 documents (from the time each result line appears), the total, and
the freshness of a small batch ingested afterwards into the grown archive (seconds from its result
line to its first search hit). With --profile, runs the writer in-process under cProfile instead
(and profiles analyse() on the same files in-process), printing where the time goes. With --split,
runs the ingest in-process and prints the CPU of the writer's process and of its parse workers
apart (user + system, and the page faults: a worker forked from the writer shares its memory).

Usage: python bench/bulk_bench.py [--docs 10000] [--workers N] [--profile | --split]
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import cpu_line, write_html_doc

CLI = [sys.executable, "-m", "magsearch.cli"]


def corpus(n: int) -> Path:
    """The N generated documents (seed 42), made once and kept in the temp folder."""
    folder = Path(tempfile.gettempdir()) / f"magsearch-bulk-{n}"
    marker = folder / ".complete"
    if not marker.exists():
        folder.mkdir(exist_ok=True)
        rng = random.Random(42)
        for i in range(n):
            write_html_doc(folder, i, rng)
        marker.write_text("ok")
    return folder


def run_cli(data: Path, folder: Path, workers: int | None) -> tuple[list[float], float, float]:
    """Seconds since start at which each result line appeared, when the process ended, and the CPU
    seconds it and its parse workers used (user + system)."""
    args = [*CLI, "--data", str(data), "ingest", "--json", str(folder)]
    if workers:
        args[4:4] = ["--workers", str(workers)]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    stamps, failed = [], 0
    assert proc.stdout is not None
    for line in proc.stdout:
        stamps.append(time.perf_counter() - start)
        failed += json.loads(line)["status"] == "failed"
    proc.wait()
    ended = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)  # the CLI and the workers it waited for
    cpu = sum(getattr(after, f) - getattr(before, f) for f in ("ru_utime", "ru_stime"))
    if failed or proc.returncode:
        assert proc.stderr is not None
        print(f"  {failed} failed, exit {proc.returncode}: {proc.stderr.read()[-500:]}")
    return stamps, ended, cpu


def freshness(data: Path) -> float:
    """A small batch into the grown archive: seconds from its result line to a search hit."""
    from magsearch.config import Settings
    from magsearch.ingest.pipeline import Ingester
    from magsearch.library import open_library

    lib = open_library(Settings().with_data_dir(data))
    with tempfile.TemporaryDirectory() as tmp:
        files = []
        for k in range(3):
            f = Path(tmp) / f"fresh{k}.txt"
            f.write_text(f"A new memorandum about the quokkaphrase{k} designation.\n")
            files.append(f)
        seen: dict[str, float] = {}
        Ingester(lib.archive, lib.index, lib.settings).run(
            files, lambda r: seen.setdefault(Path(r.path).name, time.perf_counter())
        )
        lag = 0.0
        for k in range(3):
            while lib.search.search(f"quokkaphrase{k}").total == 0:
                time.sleep(0.01)
            lag = max(lag, time.perf_counter() - seen[f"fresh{k}.txt"])
    lib.close()
    return lag


def profile(folder: Path, n: int) -> None:
    from magsearch.archive import sha256_bytes
    from magsearch.config import Settings
    from magsearch.ingest import sidecar
    from magsearch.ingest.analyse import Job, analyse, warm_up
    from magsearch.ingest.pipeline import Ingester, find_files
    from magsearch.library import open_library

    files = find_files([folder])[:n]
    warm_up()
    prof = cProfile.Profile()
    start = time.perf_counter()
    prof.enable()
    for f in files[:200]:
        data = f.read_bytes()
        analyse(Job(str(f), data, sha256_bytes(data), "", sidecar.load(f)))
    prof.disable()
    print(f"analyse() in-process: {200 / (time.perf_counter() - start):.0f} docs/s")
    _top(prof)
    with tempfile.TemporaryDirectory() as tmp:
        lib = open_library(Settings().with_data_dir(tmp))
        prof = cProfile.Profile()
        start = time.perf_counter()
        prof.enable()
        Ingester(lib.archive, lib.index, lib.settings).run(files)
        prof.disable()
        print(
            f"writer (parent) of `ingest`, {len(files)} docs: {len(files) / (time.perf_counter() - start):.0f} docs/s"
        )
        _top(prof)
        lib.close()


def split(folder: Path, n: int) -> None:
    from magsearch.config import Settings
    from magsearch.ingest.pipeline import Ingester, find_files
    from magsearch.library import open_library

    files = find_files([folder])[:n]
    with tempfile.TemporaryDirectory() as tmp:
        lib = open_library(Settings().with_data_dir(tmp))
        before = [
            resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
        ]
        start = time.perf_counter()
        Ingester(lib.archive, lib.index, lib.settings).run(files)
        wall = time.perf_counter() - start
        after = [
            resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
        ]
        lib.close()
    print(f"in-process ingest of {len(files)} docs: {len(files) / wall:.1f} docs/s")
    for name, a, b in zip(("writer's process", "parse workers"), before, after, strict=True):
        user, system = (
            1000 * (getattr(b, f) - getattr(a, f)) / len(files) for f in ("ru_utime", "ru_stime")
        )
        faults = (b.ru_minflt - a.ru_minflt) / len(files)
        print(
            f"  {name}: {user + system:.2f} ms CPU a document ({user:.2f} user, "
            f"{system:.2f} system), {faults:.0f} page faults"
        )


def _top(prof: cProfile.Profile) -> None:
    out = io.StringIO()
    pstats.Stats(prof, stream=out).sort_stats("cumulative").print_stats(28)
    print("\n".join(out.getvalue().splitlines()[:60]))


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--docs", type=int, default=10_000)
    ap.add_argument("--workers", type=int)
    ap.add_argument("--profile", action="store_true")
    ap.add_argument("--split", action="store_true")
    args = ap.parse_args()
    print(f"machine: {cpu_line()}; load: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    folder = corpus(args.docs)
    if args.profile:
        profile(folder, args.docs)
        return 0
    if args.split:
        split(folder, args.docs)
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        stamps, ended, cpu = run_cli(data, folder, args.workers)
        total = stamps[-1] if stamps else float("nan")
        print(f"magsearch ingest of {len(stamps)} generated docs: last line at {total:.1f} s, "
              f"process ended at {ended:.1f} s: {len(stamps) / ended:.1f} docs/s overall")  # fmt: skip
        print(f"CPU of the ingest process and its workers: {cpu:.1f} s, "
              f"{1000 * cpu / max(1, len(stamps)):.1f} ms per document")  # fmt: skip
        prev = 0.0
        for k in range(1000, len(stamps) + 1, 1000):
            t = stamps[k - 1]
            print(f"  docs {k - 999:>5}-{k:<5}: {1000 / (t - prev):6.1f} docs/s")
            prev = t
        print(f"freshness after the bulk load: searchable {freshness(data):.2f} s after its line")
    print(f"load after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
