"""Isolated workers: each file is parsed in a process of its own, under a wall-clock and a memory limit.

A hostile file (an endless loop, a decompression bomb) fails alone ("timed out after 60 s",
"memory limit exceeded") and the batch goes on. Workers are forked, so the parsers are imported once
in the parent and each file costs a fork, not an interpreter start-up.
"""

from __future__ import annotations

import multiprocessing
import os
import resource
import signal
import time
import traceback
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import Any, Generic, TypeVar

from ..errors import MagsearchError

J = TypeVar("J")


@dataclass
class Outcome(Generic[J]):
    job: J
    value: Any = None
    error: str = ""


def _vm_bytes() -> int:
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError):
        return 0


def _child(fn: Callable[[Any], Any], job: Any, conn: Connection, memory_mb: int) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    if memory_mb > 0:
        limit = _vm_bytes() + memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    try:
        result: tuple[str, Any] = ("ok", fn(job))
    except MemoryError:
        result = ("error", "memory limit exceeded")
    except MagsearchError as exc:
        result = ("error", str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
    except RecursionError:
        result = ("error", "structure too deeply nested")
    except Exception as exc:  # a parser bug must fail the file, not the batch
        last = traceback.extract_tb(exc.__traceback__)[-1:]
        where = f" at {last[0].name}" if last else ""
        result = ("error", f"parser error: {type(exc).__name__}: {str(exc)[:200]}{where}")
    try:
        conn.send(result)
    except MemoryError:
        conn.send(("error", "memory limit exceeded"))
    finally:
        conn.close()
    os._exit(0)  # no atexit handlers, no flushing of the parent's buffers


def run_isolated(
    fn: Callable[[Any], Any],
    jobs: Iterable[J],
    *,
    workers: int = 2,
    timeout: float = 60.0,
    memory_mb: int = 1024,
) -> Iterator[Outcome[J]]:
    """Run fn(job) for each job in a forked child; yield outcomes as they finish."""
    ctx = multiprocessing.get_context("fork")
    pending = iter(jobs)
    running: dict[Connection, tuple[J, Any, float]] = {}
    exhausted = False
    try:
        while running or not exhausted:
            while not exhausted and len(running) < max(1, workers):
                try:
                    job = next(pending)
                except StopIteration:
                    exhausted = True
                    break
                recv, send = ctx.Pipe(duplex=False)
                proc = ctx.Process(target=_child, args=(fn, job, send, memory_mb), daemon=True)
                proc.start()
                send.close()
                running[recv] = (job, proc, time.monotonic() + timeout)
            if not running:
                break
            soonest = min(deadline for _, _, deadline in running.values())
            ready = wait(list(running), timeout=max(0.0, soonest - time.monotonic()))
            for conn in ready:
                job, proc, _ = running.pop(conn)  # type: ignore[index]
                yield _collect(job, proc, conn)
            now = time.monotonic()
            for conn, (job, proc, deadline) in list(running.items()):
                if now >= deadline:
                    running.pop(conn)
                    proc.kill()
                    proc.join()
                    conn.close()
                    yield Outcome(job, error=f"timed out after {timeout:g} s")
    finally:
        for _conn, (_job, proc, _) in running.items():
            proc.kill()
            proc.join()


def _collect(job: J, proc: Any, conn: Connection) -> Outcome[J]:
    try:
        status, value = conn.recv()
    except (EOFError, OSError):
        proc.join()
        code = proc.exitcode
        if code is not None and code < 0:
            sig = signal.Signals(-code).name
            reason = "memory limit exceeded" if sig == "SIGKILL" else f"worker killed ({sig})"
            return Outcome(job, error=reason)
        return Outcome(job, error=f"worker exited without a result (exit code {code})")
    finally:
        conn.close()
    proc.join()
    if status == "ok":
        return Outcome(job, value=value)
    return Outcome(job, error=str(value))
