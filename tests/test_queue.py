"""Parse jobs on a real Redis with real `magsearch worker` processes: the same results as the embedded
ingest, a worker killed mid-job, and the broker stopped and started again.

Each test module run starts its own redis-server on a free port in a temporary folder (no
persistence, so a restart loses what it held, the hardest case) and stops it.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from magsearch.archive import Archive, sha256_bytes

MAGSEARCH = [sys.executable, "-m", "magsearch.cli"]
REDIS = shutil.which("redis-server")
pytestmark = [
    pytest.mark.skipif(REDIS is None, reason="redis-server is not installed (make redis)"),
    pytest.mark.slow,
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Redis:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [str(REDIS), "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.folder),
             "--save", "", "--appendonly", "no", "--daemonize", "no", "--loglevel", "warning"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("redis-server did not start")

    def busy(self) -> bool:
        """Whether a parse job waits in the queue or its result waits for the writer: the writer
        has begun publishing (the workers' own keys are there from their start)."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=5) as s:
            s.sendall(b"KEYS *\r\n")
            time.sleep(0.005)
            reply = s.recv(1 << 20)
        return b"\r\nmagsearch.parse\r\n" in reply or b"celery-task-meta-" in reply

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture
def redis(tmp_path: Path) -> Iterator[Redis]:
    server = Redis(tmp_path)
    server.start()
    yield server
    server.stop()


def env_for(redis: Redis, **more: str) -> dict[str, str]:
    return {**os.environ, "MAGSEARCH_BROKER_URL": redis.url, "MAGSEARCH_QUEUE_VISIBILITY": "5",
            **more}  # fmt: skip


def start_workers(redis: Redis, tmp_path: Path, n: int = 2) -> list[subprocess.Popen[bytes]]:
    procs = []
    for i in range(n):
        with open(tmp_path / f"worker-{i}.log", "wb") as log:  # the worker keeps its own copy
            procs.append(
                subprocess.Popen(
                    [*MAGSEARCH, "worker", "--name", f"w{i}"],
                    env=env_for(redis),
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )
    return procs


def stop_all(procs: list[subprocess.Popen[bytes]]) -> None:
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
        proc.wait()


def ingest(
    data: Path, folder: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*MAGSEARCH, "--data", str(data), "ingest", "--json", str(folder)],
                          capture_output=True, text=True, timeout=600, env=env or dict(os.environ))  # fmt: skip


def read_rest(run: subprocess.Popen[str], timeout: float = 300) -> tuple[str, str]:
    """What is left of a run's stdout and stderr once it ends. Not communicate(): after a
    readline() the pipe's text buffer may hold more lines, which communicate() (reading the file
    descriptor itself) would lose."""
    assert run.stdout is not None and run.stderr is not None
    out: list[str] = []
    reader = threading.Thread(target=lambda: out.append(run.stdout.read()))  # type: ignore[union-attr]
    reader.start()
    err = run.stderr.read()  # a few lines: the run never waits on it
    run.wait(timeout=timeout)
    reader.join(timeout=30)
    run.stdout.close()
    run.stderr.close()
    return out[0], err


def lines(out: str) -> dict[str, dict]:
    return {
        Path(r["path"]).name: r
        for r in (json.loads(x) for x in out.splitlines() if x.startswith("{"))
    }


FILES = ["legislation/canada_SOR-2017-233_justice_for_victims_regulations_en.txt",
         "articles/asp_2019_magnitskys-memory.txt",
         "rulings/courtlistener__Diaz_v_Create_and_Construct_LLC.pdf",
         "pdf-fixtures/pypdf__pdflatex-outline.pdf",
         "pdf-fixtures/pypdf__r6-user-password.pdf",
         "html-fixtures/readability__bbc-1.html",
         "rulings/juriscraper__md_example.html"]  # fmt: skip


def batch(corpus: Path, folder: Path, notes: int = 0) -> Path:
    folder.mkdir()
    for name in FILES:
        shutil.copy(corpus / name, folder)
    for n in range(notes):
        (folder / f"note-{n:02d}.txt").write_text(
            f"Memorandum {n} on asset freezes, item zeta{n}.\n"
        )
    return folder


def test_queued_ingest_gives_the_same_results_as_in_process(
    corpus: Path, tmp_path: Path, redis: Redis
) -> None:
    folder = batch(corpus, tmp_path / "in")
    local = ingest(tmp_path / "local", folder)
    workers = start_workers(redis, tmp_path)
    try:
        queued = ingest(tmp_path / "queued", folder, env_for(redis))
    finally:
        stop_all(workers)
    assert queued.returncode == local.returncode == 1, queued.stderr  # the encrypted file fails
    import redis as redis_client

    stats = redis_client.Redis.from_url(redis.url).info("commandstats")
    assert stats["cmdstat_lpush"]["calls"] >= len(FILES)  # every file went through the queue
    assert lines(queued.stdout) == lines(local.stdout)
    for doc_id in {r["id"] for r in lines(local.stdout).values() if r["id"]}:
        shown = [subprocess.run([*MAGSEARCH, "--data", str(d), "show", "--json", doc_id],
                                capture_output=True, text=True, check=True).stdout
                 for d in (tmp_path / "local", tmp_path / "queued")]  # fmt: skip
        a, b = (json.loads(s) for s in shown)
        for side in (a, b):
            for v in side.get("versions", []):
                v.pop("ingested_at", None)
            side.get("document", {}).pop("created_at", None)
        assert a == b


def _children(pid: int) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                    out.append(int(entry.name))
            except (OSError, ValueError, IndexError):
                continue
    return out


def test_a_worker_killed_mid_job_loses_nothing(corpus: Path, tmp_path: Path, redis: Redis) -> None:
    folder = batch(corpus, tmp_path / "in", notes=10)
    shutil.copy(corpus / "pdf-fixtures/pdfjs__freeculture.pdf", folder)  # a few seconds to parse
    workers = start_workers(redis, tmp_path)
    data = tmp_path / "data"
    try:
        run = subprocess.Popen([*MAGSEARCH, "--data", str(data), "ingest", "--json", str(folder)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env=env_for(redis))  # fmt: skip
        victim = None
        deadline = time.monotonic() + 120
        while victim is None and time.monotonic() < deadline and run.poll() is None:
            busy = [w for w in workers if _children(w.pid)]  # a forked parse child: mid-job
            victim = busy[0] if busy else None
            time.sleep(0.02)
        assert victim is not None, "no worker was ever seen mid-job"
        victim.send_signal(signal.SIGKILL)
        out, err = run.communicate(timeout=300)
    finally:
        stop_all(workers)
    results = lines(out)
    assert len(results) == len(list(folder.iterdir()))
    assert {n for n, r in results.items() if r["status"] == "failed"} == {
        "pypdf__r6-user-password.pdf"
    }
    archive = Archive(data)
    versions = [v.sha256 for d in archive.document_ids() for v in archive.versions(d)]
    expected = {
        sha256_bytes(p.read_bytes())
        for p in folder.iterdir()
        if p.name != "pypdf__r6-user-password.pdf"
    }
    assert sorted(versions) == sorted(expected)  # every file once, none twice
    check = subprocess.run(
        [*MAGSEARCH, "--data", str(data), "check"], capture_output=True, text=True
    )
    assert check.returncode == 0, check.stderr


def test_without_a_worker_ingest_says_so_and_waits_for_one(
    corpus: Path, tmp_path: Path, redis: Redis
) -> None:
    folder = batch(corpus, tmp_path / "in")
    run = subprocess.Popen(
        [*MAGSEARCH, "--data", str(tmp_path / "data"), "ingest", "--json", str(folder)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=env_for(redis, MAGSEARCH_QUEUE_IDLE="2"),
    )  # fmt: skip
    assert run.stderr is not None
    line = run.stderr.readline()
    assert line.startswith("magsearch: no worker is taking jobs from redis://"), line
    workers = start_workers(redis, tmp_path, n=1)
    try:
        out, err = read_rest(run)
    finally:
        stop_all(workers)
    assert len(lines(out)) == len(FILES)
    assert "no worker" not in err  # said once


def test_the_broker_stopped_and_started_again(corpus: Path, tmp_path: Path, redis: Redis) -> None:
    # The broker goes as soon as the writer has published its first jobs, the workers paused first:
    # the batch cannot be over then, whatever the machine's speed (tiny files are all parsed within
    # the first second, before the first result line, which comes with the first commit)
    folder = batch(corpus, tmp_path / "in", notes=30)
    workers = start_workers(redis, tmp_path)
    data = tmp_path / "data"
    try:
        run = subprocess.Popen([*MAGSEARCH, "--data", str(data), "ingest", "--json", str(folder)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env=env_for(redis))  # fmt: skip
        deadline = time.monotonic() + 120
        while not redis.busy() and run.poll() is None and time.monotonic() < deadline:
            time.sleep(0.002)
        assert run.poll() is None, "the batch was over before the broker could go"
        for w in workers:
            w.send_signal(signal.SIGSTOP)
        redis.stop()
        time.sleep(4)
        redis.start()
        for w in workers:
            w.send_signal(signal.SIGCONT)
        out, err = read_rest(run)
    finally:
        stop_all(workers)
    results = lines(out)
    assert len(results) == len(list(folder.iterdir()))
    assert run.returncode == 1  # only the encrypted file
    # said once: unreachable while it is down, or (when the client's own retries outlast the
    # outage) restarted with the jobs it lost published again
    outage = [ln for ln in err.splitlines() if ln.startswith("magsearch: broker")]
    assert 1 <= len(outage) <= 2, err
    assert any("unreachable" in ln or "restarted" in ln for ln in outage), err
    archive = Archive(data)
    versions = [v.sha256 for d in archive.document_ids() for v in archive.versions(d)]
    assert len(versions) == len(set(versions)) == len(results) - 1
