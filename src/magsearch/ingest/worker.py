"""Isolated workers: each file is parsed in a process of its own, under a wall-clock and a memory limit.

A hostile file (an endless loop, a decompression bomb) fails alone ("timed out after 60 s",
"memory limit exceeded") and the batch goes on. Workers are forked, so the parsers are imported once
in the parent and each file costs a fork, not an interpreter start-up.

The deadline counts the file's own time only: a child that has finished and is waiting for the parent
to read its result (the parent may be busy committing to the index) is never timed out. A child may
ask for more time while it works (`extend_deadline`, used by OCR, whose cost grows with the pages).

A child dies with its parent: on Linux through PR_SET_PDEATHSIG, elsewhere through a thread that
watches the parent's pid. Each child leads a process group of its own, so a time-out also ends what it
started (OCR's subprocesses).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import multiprocessing
import os
import resource
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import Any, Generic, TypeVar

from ..errors import MagsearchError

J = TypeVar("J")
PR_SET_PDEATHSIG = 1

_channel: Connection | None = None  # in a child: the pipe to the parent


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


def die_with_parent(parent_pid: int, sig: int = signal.SIGKILL) -> None:
    """Make this process receive `sig` when its parent dies (and exit now if it already has)."""
    armed = False
    libc = _libc()
    if libc is not None:
        try:
            armed = libc.prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0) == 0
        except AttributeError:
            armed = False
    if not armed:  # elsewhere: a thread that notices the parent is gone

        def watch() -> None:
            while os.getppid() == parent_pid:
                time.sleep(0.5)
            os.kill(os.getpid(), sig)

        threading.Thread(target=watch, name="parent-watch", daemon=True).start()
    if os.getppid() != parent_pid:  # the parent died before the signal was armed
        os.kill(os.getpid(), sig)


_LIBC: list[Any] = []  # the C library (Linux), looked up once: children inherit it


def _libc() -> Any:
    """The C library for prctl, or None off Linux. Looked up once per process, in the parent
    before it forks (find_library runs `ldconfig -p`: 2-3 ms, once per child before)."""
    if not _LIBC:
        found = None
        if sys.platform.startswith("linux"):
            try:
                found = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
            except OSError:
                found = None
        _LIBC.append(found)
    return _LIBC[0]


def extend_deadline(seconds: float) -> None:
    """Called by the work inside a child: allow it `seconds` more than its deadline (e.g. OCR of N
    pages). Does nothing outside an isolated child."""
    if _channel is not None and seconds > 0:
        _channel.send(("extend", float(seconds)))


def _child(
    fn: Callable[[Any], Any], job: Any, conn: Connection, memory_mb: int, parent: int
) -> None:
    global _channel
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    die_with_parent(parent)
    try:
        os.setpgid(0, 0)  # a group of its own: a time-out kills what this child started too
    except OSError:
        pass
    if memory_mb > 0:
        limit = _vm_bytes() + memory_mb * 1024 * 1024
        _soft, hard = resource.getrlimit(resource.RLIMIT_AS)  # the hard limit stays: OCR's
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))  # subprocesses set their own
    _channel = conn
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


def _fork(proc: Any) -> None:
    """Start a forked child with the parent's objects frozen out of the garbage collector: the
    child never traverses what it inherited (the parsers' and eyecite's tables, the writer's
    state), so it neither spends its collections on them nor copies their memory pages by
    touching them. The parent unfreezes at once: nothing of its own stays out of collection."""
    gc.freeze()
    try:
        proc.start()
    finally:
        gc.unfreeze()


@dataclass
class _Running(Generic[J]):
    job: J
    proc: Any
    started: float
    deadline: float


def _kill(proc: Any) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)  # the child and whatever it started
    except OSError:
        pass
    proc.kill()
    proc.join()


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
    _libc()  # looked up here once, not in every child
    pending = iter(jobs)
    running: dict[Connection, _Running[J]] = {}
    exhausted = False
    parent = os.getpid()
    try:
        while running or not exhausted:
            while not exhausted and len(running) < max(1, workers):
                try:
                    job = next(pending)
                except StopIteration:
                    exhausted = True
                    break
                recv, send = ctx.Pipe(duplex=False)
                proc = ctx.Process(
                    target=_child, args=(fn, job, send, memory_mb, parent), daemon=True
                )
                _fork(proc)
                try:
                    assert proc.pid is not None  # started
                    os.setpgid(proc.pid, proc.pid)  # also here: no race with a kill below
                except OSError:
                    pass
                send.close()
                now = time.monotonic()
                running[recv] = _Running(job, proc, now, now + timeout)
            if not running:
                break
            soonest = min(r.deadline for r in running.values())
            wait(list(running), timeout=max(0.0, soonest - time.monotonic()))
            # Read whatever is ready before judging deadlines: a child that finished while this
            # generator was suspended (the caller indexing) must not be timed out.
            done: list[Outcome[J]] = []
            for conn in list(running):
                while conn in running and conn.poll():
                    outcome = _receive(conn, running)
                    if outcome is not None:
                        done.append(outcome)
            now = time.monotonic()
            for conn, r in list(running.items()):
                if now >= r.deadline and not conn.poll():
                    running.pop(conn)
                    _kill(r.proc)
                    conn.close()
                    done.append(
                        Outcome(r.job, error=f"timed out after {r.deadline - r.started:g} s")
                    )
            yield from done
    finally:
        for r in running.values():
            _kill(r.proc)


def run_jobs(
    fn: Callable[[Any], Any],
    jobs: Iterable[J],
    *,
    workers: int = 2,
    timeout: float = 60.0,
    memory_mb: int = 1024,
    broker_url: str = "",
    window: int = 32,
) -> Iterator[Outcome[J]]:
    """Parse jobs in forked children here (`run_isolated`) or, with a broker URL, as jobs on the
    queue that `magsearch worker` processes take (`queue.run_queued`, for `analyse` jobs only);
    the same outcomes either way."""
    if not broker_url:
        return run_isolated(fn, jobs, workers=workers, timeout=timeout, memory_mb=memory_mb)
    if f"{fn.__module__}.{fn.__qualname__}" != "magsearch.ingest.analyse.analyse":
        raise ValueError(f"only analyse jobs go on the queue, not {fn.__qualname__}")
    from .queue import run_queued

    return run_queued(  # type: ignore[return-value]
        jobs,  # type: ignore[arg-type]
        broker_url=broker_url,
        timeout=timeout,
        memory_mb=memory_mb,
        window=window,
    )


def _receive(conn: Connection, running: dict[Connection, _Running[J]]) -> Outcome[J] | None:
    """One message from a child: a request for more time (None), or its outcome."""
    r = running[conn]
    try:
        status, value = conn.recv()
    except (EOFError, OSError):
        running.pop(conn)
        conn.close()
        r.proc.join()
        code = r.proc.exitcode
        if code is not None and code < 0:
            sig = signal.Signals(-code).name
            reason = "memory limit exceeded" if sig == "SIGKILL" else f"worker killed ({sig})"
            return Outcome(r.job, error=reason)
        return Outcome(r.job, error=f"worker exited without a result (exit code {code})")
    if status == "extend":
        r.deadline += float(value)
        return None
    running.pop(conn)
    conn.close()
    r.proc.join()
    if status == "ok":
        return Outcome(r.job, value=value)
    return Outcome(r.job, error=str(value))
