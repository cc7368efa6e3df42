"""The inbox: `magsearch watch` takes each file once complete, ingests it from where it lies and
moves it to done/ or failed/ (beside NAME.error.txt); beside a running web server, what it takes is
searchable there."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from magsearch.accounts import Accounts
from magsearch.config import Settings
from magsearch.inbox import Watcher
from magsearch.library import open_library
from webfixtures import serve_with_gunicorn

MAGSEARCH = [sys.executable, "-m", "magsearch.cli"]


def note(words: str) -> str:
    return f"<html><body><p>1. A note about {words}.</p></body></html>"


def test_complete_files_are_taken_and_moved(tmp_path: Path) -> None:
    inbox = tmp_path / "ingest"
    inbox.mkdir()
    (inbox / "README.md").write_text("the inbox\n")
    good = inbox / "good.html"
    good.write_text(note("a quokka"))
    (inbox / "good.html.meta.json").write_text(
        json.dumps({"title": "Quokka note", "kind": "article"})
    )
    (inbox / "picture.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(64))
    growing = inbox / "growing.txt"
    growing.write_text("A text still being copied")
    lines: list[str] = []
    lib = open_library(Settings().with_data_dir(tmp_path / "data"))
    try:
        w = Watcher(lib, inbox, "inbox:test", settle=1.0, report=lines.append)
        assert w.ready(now=100.0) == []  # first look: nothing is known to be complete yet
        with growing.open("a") as fh:
            fh.write(", and more of it")
        ready = w.ready(now=101.5)
        assert sorted(p.name for p in ready) == ["good.html", "picture.png"]  # not growing.txt
        results = w.ingest(ready)
        assert sorted(r.status for r in results) == ["failed", "ingested"]
        assert sorted(p.name for p in (inbox / "done").iterdir()) == [
            "good.html",
            "good.html.meta.json",
        ]
        failed = sorted(p.name for p in (inbox / "failed").iterdir())
        assert failed == ["picture.png", "picture.png.error.txt"]
        reason = (inbox / "failed" / "picture.png.error.txt").read_text()
        assert reason.startswith("unsupported format (PNG image") and reason.count("\n") == 1
        assert sorted(p.name for p in inbox.iterdir()) == [
            "README.md",
            "done",
            "failed",
            "growing.txt",
        ]
        hits = lib.search.search("quokka").hits
        assert [h.title for h in hits] == ["Quokka note"]
        assert any(line.startswith("failed: picture.png: unsupported format") for line in lines)
        # the grown file, once it stays unchanged, is taken too; the same name again is kept apart
        assert [p.name for p in w.ready(now=103.0)] == ["growing.txt"]
        w.ingest([growing])
        good2 = inbox / "good.html"
        good2.write_text(note("a quokka, revised"))
        w.ready(now=200.0)
        results = w.ingest(w.ready(now=202.0))
        # from the same place: a new version of the same document, not a second document
        assert [(r.status, r.id) for r in results] == [("new-version", hits[0].id)]
        assert (inbox / "done" / "good-2.html").exists() and (inbox / "done" / "good.html").exists()
        log = Accounts(lib.archive).audit_log(10, action="ingest")
        assert {r["actor"] for r in log} == {"inbox:test"} and len(log) == 4
    finally:
        lib.close()


def test_watch_beside_a_running_server(tmp_path: Path) -> None:
    data, inbox = tmp_path / "data", tmp_path / "ingest"
    inbox.mkdir()
    lib = open_library(Settings().with_data_dir(data))
    lib.close()
    with serve_with_gunicorn(data, tmp_path / "log") as base:
        watcher = subprocess.Popen(
            [*MAGSEARCH, "--data", str(data), "watch", str(inbox), "--interval", "0.3", "--settle", "0.5"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        try:
            (inbox / "bandicoot.html").write_text(note("the bandicoot"))
            deadline = time.monotonic() + 60
            while True:
                with urllib.request.urlopen(f"{base}/api/search?q=bandicoot") as r:
                    if json.loads(r.read())["total"] == 1:
                        break
                assert time.monotonic() < deadline, "the dropped file never became searchable"
                time.sleep(0.3)
            assert (inbox / "done" / "bandicoot.html").exists()
        finally:
            watcher.send_signal(signal.SIGTERM)
            out, err = watcher.communicate(timeout=30)
    assert watcher.returncode == 0, err
    assert "ingested: bandicoot.html ->" in err and "Traceback" not in err


def test_watch_once_exit_codes(tmp_path: Path) -> None:
    data, inbox = tmp_path / "data", tmp_path / "ingest"
    inbox.mkdir()
    (inbox / "a.txt").write_text("A plain note on wallabies.\n")
    cmd = [*MAGSEARCH, "--data", str(data), "watch", str(inbox), "--once", "--settle", "0.2"]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=os.environ)
    assert done.returncode == 0, done.stderr
    (inbox / "b.txt").write_bytes(b"")
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert done.returncode == 1 and "failed: b.txt: empty file" in done.stderr
    missing = subprocess.run([*MAGSEARCH, "--data", str(data), "watch", str(tmp_path / "nope")],
                             capture_output=True, text=True)  # fmt: skip
    assert missing.returncode == 2 and "not a folder" in missing.stderr
