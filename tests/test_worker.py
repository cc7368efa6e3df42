"""The isolated parse workers: a file's deadline counts its own time only, and no worker outlives the
process that started it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from magsearch.ingest.worker import extend_deadline, run_isolated


def _sleep_then_return(seconds: float) -> float:
    time.sleep(seconds)
    return seconds


def _sleep_with_more_time(seconds: float) -> float:
    extend_deadline(seconds)
    time.sleep(seconds)
    return seconds


def test_a_slow_consumer_never_makes_a_finished_file_time_out() -> None:
    # Each job parses in 0.05-0.4 s against a 1 s deadline; the consumer (the writer committing to
    # the index) takes 1.5 s per outcome, so finished children wait far past their deadlines.
    jobs = [0.05, 0.4, 0.05, 0.4, 0.05, 0.4]
    outcomes = []
    for outcome in run_isolated(_sleep_then_return, jobs, workers=2, timeout=1.0, memory_mb=0):
        outcomes.append(outcome)
        time.sleep(1.5)
    assert [o.error for o in outcomes] == [""] * len(jobs)
    assert sorted(o.value for o in outcomes) == sorted(jobs)


def test_a_file_that_really_runs_past_its_deadline_still_times_out() -> None:
    outcomes = list(run_isolated(_sleep_then_return, [5.0, 0.05], workers=2, timeout=1.0))
    errors = {o.job: o.error for o in outcomes}
    assert errors == {5.0: "timed out after 1 s", 0.05: ""}


def test_a_child_may_ask_for_more_time() -> None:
    outcomes = list(run_isolated(_sleep_with_more_time, [1.5], workers=1, timeout=1.0))
    assert outcomes[0].error == "" and outcomes[0].value == 1.5


def _children_of(pid: int) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                out.append(int(entry.name))
    return out


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="needs /proc to find the workers")
def test_workers_die_with_the_process_that_started_them(tmp_path: Path) -> None:
    # A parent runs two 60 s jobs in isolated workers and is killed with SIGKILL (no clean-up code
    # of its own runs): both workers must be gone within seconds, not when their jobs end.
    script = textwrap.dedent(
        """
        import sys, time
        from magsearch.ingest.worker import run_isolated
        for outcome in run_isolated(time.sleep, [60, 60], workers=2, timeout=120):
            print(outcome, flush=True)
        """
    )
    parent = subprocess.Popen([sys.executable, "-c", script], start_new_session=True)
    try:
        deadline = time.monotonic() + 30
        workers: list[int] = []
        while len(workers) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
            workers = _children_of(parent.pid)
        assert len(workers) == 2, "the workers did not start"
        parent.send_signal(signal.SIGKILL)
        parent.wait()
        deadline = time.monotonic() + 10
        while any(_alive(w) for w in workers) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not [w for w in workers if _alive(w)], "a worker outlived its parent"
    finally:
        for pid in [parent.pid, *_children_of(parent.pid)]:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass


def _frozen_objects(_job: int) -> int:
    import gc

    return gc.get_freeze_count()


def test_a_child_leaves_what_it_inherited_out_of_its_collections() -> None:
    import gc

    inherited = [[n] for n in range(1000)]  # objects the collector tracks
    outcomes = list(run_isolated(_frozen_objects, [1, 2], workers=2, timeout=30.0, memory_mb=0))
    # the child's collector never walks the parent's objects: they are frozen there ...
    assert [o.error for o in outcomes] == ["", ""]
    assert all(o.value >= len(inherited) for o in outcomes)
    # ... and only there: the parent collects its own as before
    assert gc.get_freeze_count() == 0
