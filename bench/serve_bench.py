"""The running service under ingest: time to visibility, and a bounded load test (loopback only).

gunicorn (2 sync workers, as deployed) serves a fresh data directory holding the bundled collection
plus generated notes; rate limits are off (this measures the server, not the limiter).

1. Visibility: `magsearch ingest` adds one new file at a time (--files of them); from the moment the
   command returns (the file is acknowledged) the script searches its unique word until AGREE answers
   in a row find it (fresh connections, so both workers have answered) — "seen" is the first answer
   that finds it, "all workers" the last of that run. Target: 2 s.
2. Load: CLIENTS threads search without pause for --seconds, first alone, then while a loop ingests
   one file at a time. Reported: requests/s, errors (anything but 200), latency p50/p95/max.
   Target: 20 clients >= 100 requests/s with 0 errors, both ways.

    .venv/bin/python bench/serve_bench.py [--files 10] [--seconds 30] [--clients 20]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from pathlib import Path

from common import cpu_line

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
AGREE = 8
QUERIES = [
    "detention", "magnitsky", "medical care", "sanctions", '"human rights"', "court",
    "asset freeze", "32631/09", "article 3", "Pub. L. 112-208",
]  # fmt: skip


def note(n: int) -> str:
    mark = "benchmark" + "".join("abcdefghij"[int(d)] for d in f"{n:04d}")
    return mark, (
        f"Benchmark note {n}\n\nThis note on the detention of Sergei Magnitsky carries the word "
        f"{mark}. The court examined the medical care given in custody and the sanctions that "
        "followed under the human rights laws of several countries.\n"
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cli(data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "magsearch"), "--data", str(data), *args],
        capture_output=True, text=True, check=True,
    )  # fmt: skip


def search(base: str, q: str) -> tuple[int, set[str], float]:
    start = time.perf_counter()
    try:
        with urllib.request.urlopen(
            f"{base}/api/search?" + urllib.parse.urlencode({"q": q}), timeout=60
        ) as r:
            ids = {h["id"] for h in json.loads(r.read())["hits"]}
            return r.status, ids, time.perf_counter() - start
    except urllib.error.HTTPError as e:
        return e.code, set(), time.perf_counter() - start
    except OSError:
        return 599, set(), time.perf_counter() - start


class Server:
    def __init__(self, data: Path, log: Path) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "MAGSEARCH_DATA": str(data), "MAGSEARCH_PUBLIC_URL": self.base,
               "MAGSEARCH_SEARCH_RATE_LIMIT": "off"}  # fmt: skip
        args = [str(BIN / "gunicorn"), "--bind", f"127.0.0.1:{self.port}", "--workers", "2",
                "--timeout", "30", "wsgi:app"]  # fmt: skip
        self.proc = subprocess.Popen(args, cwd=REPO, env=env, stdout=log.open("wb"),
                                     stderr=subprocess.STDOUT)  # fmt: skip
        deadline = time.monotonic() + 30
        while search(self.base, "magnitsky")[0] != 200:
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise SystemExit(f"gunicorn did not start: {log.read_text()[-2000:]}")
            time.sleep(0.2)

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=30)


def visibility(
    data: Path, inbox: Path, base: str, files: int, start: int
) -> list[tuple[float, float]]:
    out = []
    for n in range(start, start + files):
        word, text = note(n)
        path = inbox / f"note-{n:04d}.txt"
        path.write_text(text)
        doc_id = json.loads(cli(data, "ingest", "--json", str(path)).stdout.splitlines()[0])["id"]
        t0 = time.perf_counter()
        seen, streak = None, 0
        while streak < AGREE:
            status, ids, _ = search(base, word)
            if status != 200:
                raise SystemExit(f"HTTP {status} while waiting for {doc_id}")
            if doc_id in ids:
                seen = seen if seen is not None else time.perf_counter() - t0
                streak += 1
            else:
                streak = 0
        out.append((seen or 0.0, time.perf_counter() - t0))
    return out


def load(base: str, clients: int, seconds: float) -> tuple[Counter[int], list[float], float]:
    statuses: Counter[int] = Counter()
    latencies: list[float] = []
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def client(k: int) -> None:
        i = k
        while time.monotonic() < stop:
            status, _, took = search(base, QUERIES[i % len(QUERIES)])
            with lock:
                statuses[status] += 1
                latencies.append(took)
            i += 1

    threads = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
    began = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return statuses, latencies, time.monotonic() - began


def report(label: str, statuses: Counter[int], latencies: list[float], took: float) -> None:
    lat = sorted(latencies)
    errors = sum(v for k, v in statuses.items() if k != 200)
    print(
        f"{label}: {len(lat)} requests in {took:.1f} s = {len(lat) / took:.0f} req/s, "
        f"errors {errors} {dict(statuses) if errors else ''}, latency p50 "
        f"{1000 * lat[len(lat) // 2]:.0f} ms, p95 {1000 * lat[int(len(lat) * 0.95)]:.0f} ms, "
        f"max {1000 * lat[-1]:.0f} ms"
    )


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--files", type=int, default=10)
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument("--clients", type=int, default=20)
    args = ap.parse_args()
    print(f"machine: {cpu_line()}; load before: {os.getloadavg()[0]:.2f}")
    root = Path(tempfile.mkdtemp(prefix="magsearch-serve-bench-"))
    data, inbox = root / "data", root / "inbox"
    inbox.mkdir()
    try:
        cli(data, "ingest", str(REPO / "archive"))
        server = Server(data, root / "gunicorn.log")
        try:
            vis = visibility(data, inbox, server.base, args.files, 1)
            seen = [s for s, _ in vis]
            every = [a for _, a in vis]
            print(f"visibility over {len(vis)} one-file ingests: seen median "
                  f"{statistics.median(seen):.3f} s, max {max(seen):.3f} s; by every worker "
                  f"({AGREE} answers in a row) median {statistics.median(every):.3f} s, "
                  f"max {max(every):.3f} s")  # fmt: skip
            report(
                f"load, {args.clients} clients, no ingest",
                *load(server.base, args.clients, args.seconds),
            )
            done = threading.Event()
            ingested = Counter[str]()

            def ingest_loop() -> None:
                n = 1000
                while not done.is_set():
                    _, text = note(n)
                    path = inbox / f"note-{n:04d}.txt"
                    path.write_text(text)
                    cli(data, "ingest", str(path))
                    ingested["files"] += 1
                    n += 1

            loop = threading.Thread(target=ingest_loop)
            loop.start()
            try:
                result = load(server.base, args.clients, args.seconds)
            finally:
                done.set()
                loop.join()
            report(f"load, {args.clients} clients, while ingesting ({ingested['files']} files, one "
                   "per run)", *result)  # fmt: skip
        finally:
            server.stop()
        print(f"load after: {os.getloadavg()[0]:.2f}")
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
