"""The drill: gunicorn (two workers) serves a data directory while `magsearch ingest` adds 20 files
one at a time in another process and 10 clients search without pause. No answer may be a 5xx,
every new document must become visible to every worker, and a document withdrawn with
`magsearch withdraw` must disappear from every worker's results.

The waits are generous (a loaded machine must not make this flaky); the time to visibility itself is
measured by bench/serve_bench.py and recorded in docs/benchmarks.md.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from pathlib import Path

import pytest

from webfixtures import serve_with_gunicorn

MAGSEARCH = Path(sys.executable).with_name("magsearch")
FILES = 20
CLIENTS = 10
VISIBLE_WITHIN = 60.0  # seconds: generous, for a loaded 2-core machine (the target is 2 s)
AGREE = 8  # consecutive answers that must agree (fresh connections: both workers answer)
QUERIES = ["detention", "magnitsky", "medical care", "sanctions", '"human rights"', "court"]


def marker(n: int) -> str:
    return "drillmark" + "".join("abcdefghij"[int(d)] for d in f"{n:03d}")


def note(n: int) -> str:
    return (
        f"Drill note {n}\n\nThis note on the detention of Sergei Magnitsky carries the marker "
        f"{marker(n)}. The court examined the medical care given in custody and the sanctions "
        "that followed under the human rights laws of several countries.\n"
    )


def get_json(url: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(url, timeout=60) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, {}


def search_ids(base: str, q: str) -> tuple[int, set[str]]:
    status, body = get_json(f"{base}/api/search?" + urllib.parse.urlencode({"q": q}))
    return status, {h["id"] for h in body.get("hits", [])}


def until_every_worker(base: str, q: str, want: bool, doc_id: str) -> None:
    """Wait until AGREE answers in a row say `doc_id` is (or is not) found for `q`."""
    deadline, streak = time.monotonic() + VISIBLE_WITHIN, 0
    while streak < AGREE:
        status, ids = search_ids(base, q)
        assert status == 200, f"{q}: HTTP {status}"
        streak = streak + 1 if (doc_id in ids) == want else 0
        assert time.monotonic() < deadline, f"{doc_id} {'not visible' if want else 'still visible'}"
        time.sleep(0.02)


def run(data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(MAGSEARCH), "--data", str(data), *args], capture_output=True, text=True, timeout=300
    )


@pytest.mark.slow
def test_serving_while_ingesting_and_withdrawing(tmp_path: Path) -> None:
    data, inbox = tmp_path / "data", tmp_path / "inbox"
    inbox.mkdir()
    first = inbox / "note-000.txt"
    first.write_text(note(0))
    assert run(data, "ingest", str(first)).returncode == 0  # an index to serve

    statuses: Counter[int] = Counter()
    errors: list[str] = []
    stop = threading.Event()

    def client(k: int, base: str) -> None:
        i = k
        while not stop.is_set():
            q = QUERIES[i % len(QUERIES)]
            try:
                status, _ = search_ids(base, q)
            except Exception as exc:  # a refused or dropped connection counts as a failure
                status = 599
                errors.append(f"{q}: {exc!r}")
            statuses[status] += 1
            i += 1

    with serve_with_gunicorn(data, tmp_path / "gunicorn.log", workers=2) as base:
        clients = [threading.Thread(target=client, args=(k, base)) for k in range(CLIENTS)]
        for t in clients:
            t.start()
        try:
            ids: dict[int, str] = {}
            for n in range(1, FILES + 1):
                path = inbox / f"note-{n:03d}.txt"
                path.write_text(note(n))
                proc = run(data, "ingest", "--json", str(path))
                assert proc.returncode == 0, proc.stderr
                ids[n] = json.loads(proc.stdout.splitlines()[0])["id"]
                until_every_worker(base, marker(n), True, ids[n])
            for n, doc_id in ids.items():  # and they all still are
                assert doc_id in search_ids(base, marker(n))[1]
            gone = ids[7]
            proc = run(data, "withdraw", gone, "--reason", "published in error")
            assert proc.returncode == 0, proc.stderr
            until_every_worker(base, marker(7), False, gone)
            until_every_worker(base, "drill note", False, gone)
            assert get_json(f"{base}/api/documents/{gone}")[0] == 410
        finally:
            stop.set()
            for t in clients:
                t.join(timeout=120)
    assert not errors, errors[:5]
    assert sum(statuses.values()) > 100, statuses
    assert set(statuses) == {200}, statuses  # no 5xx, nor anything else
    assert run(data, "check").returncode == 0
