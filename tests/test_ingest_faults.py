"""Write errors while storing a file: the Nth write / fsync / rename / open / sync of the file system
fails (an I/O error, a full disk) at every step of storing and indexing one file, also with the file
system's sync failing (each original then synced alone), and a real full disk (a small tmpfs).

Each time: the file gets one failure line naming the reason, nothing of it is left (no document, no
version, no original, no temp file), the log never says "ingested" for it, the catalog and the index
agree, and the next file goes in (in the same run after an I/O error; in the next run after a full
disk, which stops the run).
"""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from conftest import make_settings
from magsearch import archive as archive_module
from magsearch.archive import Archive, sha256_bytes
from magsearch.ingest.pipeline import FileResult, Ingester
from magsearch.library import Library, open_library

OPS = ("open", "write", "fsync", "replace", "rename")
SYNCFS = "syncfs"  # the one sync of the file system after a batch's originals (archive._SYNCFS)


def _texts(folder: Path) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    files = {}
    for name, words in (
        ("a.txt", "The first memorandum, on asset freezes under the Magnitsky Act."),
        ("b.txt", "The second memorandum, on visa bans, with the word quetzalcoatl in it."),
        ("c.txt", "The third memorandum, on designations, with the word axolotl in it."),
    ):
        (folder / name).write_text(f"{words}\n\nA second paragraph about {name}.\n")
        files[name] = folder / name
    return files


@contextmanager
def faults(op: str, nth: int, err: int, *, syncfs_fails: bool = False) -> Iterator[Counter[str]]:
    """Make the nth call of os.<op> (or of the file system's sync) in this process fail with
    OSError(err), and with syncfs_fails every sync of the file system; count every call of every
    op in the meantime (forked parse workers are not counted: they store nothing)."""
    parent = os.getpid()
    calls: Counter[str] = Counter()
    originals = {name: getattr(os, name) for name in OPS}
    real_syncfs = archive_module._SYNCFS

    def syncfs(fd: int) -> int:
        calls[SYNCFS] += 1
        if syncfs_fails or (op == SYNCFS and calls[SYNCFS] == nth):
            raise OSError(err or errno.EIO, os.strerror(err or errno.EIO))
        return real_syncfs(fd) if real_syncfs is not None else 0

    def wrap(name: str, real: Callable) -> Callable:
        def patched(*args: object, **kwargs: object) -> object:
            if os.getpid() == parent:
                calls[name] += 1
                if name == op and calls[name] == nth:
                    raise OSError(err, os.strerror(err))
            return real(*args, **kwargs)

        return patched

    for name, real in originals.items():
        setattr(os, name, wrap(name, real))
    archive_module._SYNCFS = syncfs
    try:
        yield calls
    finally:
        for name, real in originals.items():
            setattr(os, name, real)
        archive_module._SYNCFS = real_syncfs


def _open(data: Path) -> Library:
    return open_library(make_settings(data, workers=1, parse_timeout=60.0))


def _ingest(lib: Library, files: list[Path]) -> list[FileResult]:
    return Ingester(lib.archive, lib.index, lib.settings).run(files)


def _leftovers(data: Path) -> list[str]:
    """Files in objects/ that are temp files or originals no version references."""
    archive = Archive(data)
    out = []
    for path in (data / "objects").rglob("*"):
        if path.is_file() and (path.name.startswith(".tmp") or not archive.find_version(path.name)):
            out.append(path.name)
    return out


def _consistent(data: Path) -> None:
    lib = open_library(make_settings(data), sync=False)
    try:
        assert lib.archive.verify() == []
        catalog = {d.id for d in lib.archive.documents()}
        assert catalog == lib.index.doc_ids()  # what `magsearch check` compares
        assert lib.archive.unindexed_documents() == []
    finally:
        lib.close()
    assert _leftovers(data) == []


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """A data directory holding a.txt, and how many calls of each op storing and indexing b.txt
    and c.txt makes."""
    root = tmp_path_factory.mktemp("faults")
    files = _texts(root / "in")
    data = root / "base"
    lib = _open(data)
    assert [r.status for r in _ingest(lib, [files["a.txt"]])] == ["ingested"]
    lib.close()
    probe = root / "probe"
    shutil.copytree(data, probe)
    lib = _open(probe)
    with faults("none", 0, 0) as calls:
        assert [r.status for r in _ingest(lib, [files["b.txt"], files["c.txt"]])] == [
            "ingested"
        ] * 2
    lib.close()
    assert calls["write"] >= 2 and calls["fsync"] >= 4 and calls["replace"] >= 2
    assert calls[SYNCFS] >= 1  # the two originals: one sync of the file system
    # with that sync failing, each original is synced alone: count those calls too
    probe = root / "probe-nosync"
    shutil.copytree(data, probe)
    lib = _open(probe)
    with faults("none", 0, 0, syncfs_fails=True) as alone:
        assert [r.status for r in _ingest(lib, [files["b.txt"], files["c.txt"]])] == [
            "ingested"
        ] * 2
    lib.close()
    assert alone["fsync"] >= calls["fsync"] + 4  # each original and its folder
    _consistent(probe)
    return {"root": root, "files": files, "data": data, "calls": dict(calls),
            "calls_alone": dict(alone)}  # fmt: skip


def _cases() -> list[tuple[str, int, bool]]:
    return [
        *((op, err, False) for op in (*OPS, SYNCFS) for err in (errno.EIO, errno.ENOSPC)),
        *(("fsync", err, True) for err in (errno.EIO, errno.ENOSPC)),  # each original alone
    ]


@pytest.mark.parametrize(("op", "err", "syncfs_fails"), _cases(), ids=lambda v: str(v))
def test_every_step_of_storing_a_file_fails_cleanly(
    base: dict, op: str, err: int, syncfs_fails: bool
) -> None:
    files = base["files"]
    given = [files["b.txt"], files["c.txt"]]
    shas = {p.name: sha256_bytes(p.read_bytes()) for p in given}
    one_in_one_out = 0
    calls = base["calls_alone" if syncfs_fails else "calls"]
    for nth in range(1, calls.get(op, 0) + 1):
        data = base["root"] / f"case-{uuid.uuid4().hex[:8]}"
        shutil.copytree(base["data"], data)
        lib = _open(data)
        with faults(op, nth, err, syncfs_fails=syncfs_fails):
            results = {Path(r.path).name: r for r in _ingest(lib, given)}
        lib.close()
        where = f"{op} #{nth} failing with {errno.errorcode[err]}, syncfs_fails={syncfs_fails}"
        assert sorted(results) == ["b.txt", "c.txt"], where  # exactly one line each
        archive = Archive(data)
        for name, r in results.items():
            logged = {row["status"] for row in archive.ingest_log(1000) if name in row["path"]}
            if r.status == "failed":
                assert r.error and "\n" not in r.error, (where, r)
                stopped = "the run stopped" in r.error
                assert os.strerror(err) in r.error, (where, r)
                assert archive.find_version(shas[name]) is None, where  # nothing half-written
                assert logged <= {"failed"}, (where, logged)  # never "ingested" unacknowledged
                if err == errno.EIO:  # an I/O error fails its file; only a broken index stops
                    assert not stopped or "not indexed" in r.error, (where, r)
            else:  # the fault hit a step that may fail harmlessly (cleaning old index files)
                assert r.status == "ingested", (where, r)
                assert archive.find_version(shas[name]) is not None, where
                assert logged == {"ingested"}, (where, logged)
        statuses = sorted(r.status for r in results.values())
        one_in_one_out += statuses == ["failed", "ingested"]
        _consistent(data)
        # the next run, on a healthy disk, takes whatever did not go in
        lib = _open(data)
        again = {Path(r.path).name: r.status for r in _ingest(lib, given)}
        lib.close()
        assert set(again.values()) <= {"ingested", "unchanged"}, (where, again)
        _consistent(data)
        shutil.rmtree(data)
    if err == errno.EIO and (op in ("write", "replace") or syncfs_fails):
        assert one_in_one_out > 0  # a file failed and the next one went in, in the same run


def _used(folder: Path) -> int:
    return sum(p.stat().st_blocks * 512 for p in folder.rglob("*") if p.is_file())


def _used(folder: Path) -> int:
    return sum(p.stat().st_blocks * 512 for p in folder.rglob("*") if p.is_file())


def _can_mount() -> str:
    if os.geteuid() != 0:
        return "mounting a small tmpfs (a disk that really fills) needs root"
    if shutil.which("mount") is None:
        return "no mount command"
    return ""


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    reason = _can_mount()
    if reason:
        pytest.skip(reason)
    point = tmp_path / "disk"
    point.mkdir()
    proc = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(point)],
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {proc.stderr.strip()}")
    try:
        yield point
    finally:
        subprocess.run(["umount", "-l", str(point)], check=False)


def _fill(disk: Path, leave: int) -> Path:
    """A file that takes all the free space of disk but `leave` bytes."""
    st = os.statvfs(disk)
    free = st.f_bavail * st.f_frsize
    filler = disk / "filler"
    with open(filler, "wb") as fh:
        fh.truncate(0)
        chunk = b"\0" * (1 << 20)
        todo = max(0, free - leave)
        while todo > 0:
            try:
                todo -= fh.write(chunk[: min(len(chunk), todo)])
                fh.flush()
            except OSError:
                break
    return filler


# Whoosh leaves the segment readers of a merge that failed unclosed (they close when collected)
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
@pytest.mark.filterwarnings("ignore::ResourceWarning")
def test_a_disk_that_really_fills_at_every_step(small_disk: Path, base: dict) -> None:
    """A real full disk (tmpfs) with less and less room left: SQLite, the originals and the index
    each meet ENOSPC somewhere in the sweep."""
    files = base["files"]
    big = base["root"] / "in" / "big.txt"
    big.write_text("".join(f"Paragraph {n} about sanctions and visa bans.\n\n" for n in range(300)))
    # how much room ingesting them takes on a roomy disk; then sweep from nothing to more than that
    roomy = base["root"] / "roomy"
    shutil.copytree(base["data"], roomy)
    before = _used(roomy)
    lib = _open(roomy)
    assert {r.status for r in _ingest(lib, [big, files["c.txt"]])} == {"ingested"}
    lib.close()
    need = _used(roomy) - before
    steps = (0.1, 0.2, 0.35, 0.5, 0.65, 0.8, 0.9, 1.0, 1.2, 1.5, 2, 3)
    seen = Counter()
    for leave_kb in sorted({0, 8, 16, 32, *(int(need * f / 1024) for f in steps)}):
        data = small_disk / "data"
        shutil.copytree(base["data"], data)
        filler = _fill(small_disk, leave_kb * 1024)
        try:
            lib = _open(data)
        except Exception as exc:  # noqa: BLE001 - too full to open: the CLI says so in one line
            seen["cannot open"] += 1
            assert isinstance(exc, OSError | __import__("sqlite3").Error), exc
            filler.unlink()
            shutil.rmtree(data)
            continue
        results = _ingest(lib, [big, files["c.txt"]])
        lib.close()
        assert len(results) == 2, leave_kb
        for r in results:
            seen[r.status] += 1
            if r.status == "failed":
                assert "\n" not in r.error and r.error, r
        filler.unlink()
        _consistent(data)
        lib = _open(data)
        again = [r.status for r in _ingest(lib, [big, files["c.txt"]])]
        lib.close()
        assert set(again) <= {"ingested", "unchanged"}, (leave_kb, again)
        _consistent(data)
        shutil.rmtree(data)
    print(f"room needed {need} bytes; outcomes {dict(seen)}")
    assert seen["failed"] > 0 and seen["ingested"] > 0, seen  # the sweep crossed the edge


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_the_cli_on_a_full_disk_says_so_file_by_file(small_disk: Path, base: dict) -> None:
    """`magsearch ingest` on a full disk: a line per file, no traceback, the log honest, `check`
    clean; with room again, the same command takes every file."""
    import json
    import sys

    folder = base["root"] / "cli-in"
    folder.mkdir(exist_ok=True)
    for n in range(6):
        (folder / f"f{n}.txt").write_text(
            f"Note {n} on sanctions.\n\n" + "Text of the note. " * 400
        )
    data = small_disk / "data"
    shutil.copytree(base["data"], data)
    cli = [sys.executable, "-m", "magsearch.cli", "--data", str(data)]
    filler = _fill(small_disk, 96 * 1024)
    proc = subprocess.run([*cli, "ingest", "--json", str(folder)], capture_output=True, text=True)
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    lines = [json.loads(line) for line in proc.stdout.splitlines()]
    assert sorted(Path(r["path"]).name for r in lines) == [f"f{n}.txt" for n in range(6)]
    failed = [r for r in lines if r["status"] == "failed"]
    assert failed and all("No space left on device" in r["error"] or "disk is full" in r["error"]
                          for r in failed)  # fmt: skip
    err_lines = [ln for ln in proc.stderr.splitlines() if ln.startswith("failed: ")]
    assert len(err_lines) == len(failed)
    filler.unlink()
    log = subprocess.run([*cli, "log", "--limit", "100"], capture_output=True, text=True)
    for r in failed:  # the log never says "ingested" for a file that was not acknowledged
        rows = [ln for ln in log.stdout.splitlines() if Path(r["path"]).name in ln]
        assert all("ingested" not in row for row in rows), rows
        if not rows:  # the disk was too full for the log too: the result line says so
            assert any("ingest log not written" in w for w in r["warnings"]), r
    check = subprocess.run([*cli, "check"], capture_output=True, text=True)
    assert check.returncode == 0, check.stderr
    again = subprocess.run([*cli, "ingest", "--json", str(folder)], capture_output=True, text=True)
    assert again.returncode == 0, again.stderr
    assert subprocess.run([*cli, "check"], capture_output=True).returncode == 0
