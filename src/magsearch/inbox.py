"""The inbox: files dropped into a folder (`ingest/`) are ingested once complete, then moved.

A file is complete when its size and modification time (and its sidecar's, if it has one) have not
changed for `settle` seconds: a copy still being written is left alone. Complete files are ingested
from where they lie (so the inbox path is the place they came from) by the same Ingester as
`magsearch ingest`, then moved — with their sidecar — to `done/`, or to `failed/` beside a
`NAME.error.txt` holding the one-line reason. Every outcome goes to the audit log. The watcher and
the web's upload jobs take turns through the jobs lock.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from . import alerts, curation
from .accounts import Accounts
from .ingest import sidecar
from .ingest.pipeline import SKIP_NAMES, FileResult, Ingester, shown
from .jobs import ingest_lock
from .library import Library

DONE, FAILED = "done", "failed"
ERROR_SUFFIX = ".error.txt"


@dataclass
class Watcher:
    lib: Library
    inbox: Path
    actor: str
    settle: float = 2.0  # seconds a file must stay unchanged
    report: Callable[[str], None] = print
    _seen: dict[Path, tuple[tuple[int, int, int, int], float]] = field(default_factory=dict)

    def candidates(self) -> list[Path]:
        if not self.inbox.is_dir():
            return []
        out = []
        for p in sorted(self.inbox.iterdir()):
            name = p.name
            if name.startswith(".") or name in SKIP_NAMES or not p.is_file():
                continue
            if sidecar.is_sidecar(p) or name.endswith(ERROR_SUFFIX):
                continue
            out.append(p)
        return out

    def ready(self, now: float | None = None) -> list[Path]:
        """The files that have stayed unchanged (with their sidecars) for `settle` seconds."""
        now = time.monotonic() if now is None else now
        found = []
        current = self.candidates()
        for p in current:
            try:
                st = p.stat()
                side = sidecar.sidecar_path(p)
                sst = side.stat() if side.exists() else None
            except OSError:
                continue
            key = (
                st.st_size,
                st.st_mtime_ns,
                sst.st_size if sst else -1,
                sst.st_mtime_ns if sst else -1,
            )
            last = self._seen.get(p)
            if last is None or last[0] != key:
                self._seen[p] = (key, now)
            elif now - last[1] >= self.settle:
                found.append(p)
        for gone in set(self._seen) - set(current):
            del self._seen[gone]
        return found

    def ingest(self, files: list[Path]) -> list[FileResult]:
        """Ingest these files in place, then move each to done/ or failed/."""
        by_name = {shown(p): p for p in files}
        results: list[FileResult] = []
        with ingest_lock(self.lib.settings.data_dir):
            hook = alerts.on_commit(self.lib.archive, self.lib.settings)
            Ingester(self.lib.archive, self.lib.index, self.lib.settings, on_commit=hook).run(
                files, results.append
            )
        reported = set()
        for res in results:
            path = by_name.get(res.path)
            if path is None:
                continue
            reported.add(path)
            self._move(path, res)
        for path in set(files) - reported:  # never silently left behind
            self._move(
                path, FileResult(shown(path), "failed", error="no outcome from the pipeline")
            )
        Accounts(self.lib.archive).audit_many(
            [(self.actor, "ingest", r.id or r.path, _detail(r)) for r in results]
        )
        curation.keep_edits(self.lib, [r.id for r in results if r.status == "new-version"])
        alerts.after_ingest(self.lib.archive, self.lib.settings)  # never fails the ingest
        return results

    def _move(self, path: Path, res: FileResult) -> None:
        folder = self.inbox / (FAILED if res.status == "failed" else DONE)
        folder.mkdir(exist_ok=True)
        target = _free_name(folder, path.name)
        side = sidecar.sidecar_path(path)
        os.replace(path, target)
        if side.exists():
            os.replace(side, sidecar.sidecar_path(target))
        self._seen.pop(path, None)
        if res.status == "failed":
            (folder / f"{target.name}{ERROR_SUFFIX}").write_text(res.error + "\n", "utf-8")
            self.report(f"failed: {shown(path.name)}: {res.error}")
        else:
            self.report(f"{res.status}: {shown(path.name)} -> {res.id}")

    def once(self) -> list[FileResult]:
        """One look: ingest whatever is ready."""
        ready = self.ready()
        return self.ingest(ready) if ready else []

    def run(self, interval: float = 1.0, stop: threading.Event | None = None) -> None:
        stop = stop or threading.Event()
        while not stop.is_set():
            self.once()
            stop.wait(interval)


def _detail(res: FileResult) -> dict[str, str]:
    return {"file": res.path, "status": res.status, "error": res.error, "source": "inbox"}


def _free_name(folder: Path, name: str) -> Path:
    """folder/name, or folder/stem-2.ext, -3 … when that name is taken (nothing is overwritten)."""
    target = folder / name
    n = 2
    while target.exists() or sidecar.sidecar_path(target).exists():
        stem, dot, ext = name.partition(".")
        target = folder / f"{stem}-{n}{dot}{ext}"
        n += 1
    return target
