"""kill -9 of `magsearch ingest` at random moments, resumed each time.

Each round adds new files to a folder (and edits one file that has a sidecar id, so new versions are
stored too), starts `magsearch ingest --json` on the files not yet acknowledged plus a few that were
(the resume of the killed run, kept short so that kills land in the work and not only in start-up),
kills the ingest process itself (SIGKILL to its pid only, as an operator or the OOM killer would)
after a random delay, and checks:

- nothing acknowledged is lost: every line the killed run printed is in the catalog (same id and
  version) and is found by search;
- nothing is doubled: one version per sha256, one index record per document;
- no process is left behind: none of the killed run's process group is alive after 5 s;
- `magsearch check` is clean right after the kill (before any resume).

At the end one run without a kill ingests whatever is left: every file of the folder is in the
archive exactly once, `check` is clean.

Usage: python bench/kill_bench.py [--rounds 100] [--seed 1] [--max-delay 5.0]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from common import cpu_line

CLI = [sys.executable, "-m", "magsearch.cli"]
WORDS = (
    "court applicant respondent government detention custody investigation article convention "
    "violation sanctions asset freeze visa ban foreign person official corruption human rights "
    "judgment paragraph section regulation act statute tribunal appeal evidence procedure remedy"
).split()


def write_doc(folder: Path, n: int, rng: random.Random, *, edit: int = 0) -> None:
    """An HTML document of ~10 kB with a sidecar (kind, title, date, id for every fifth)."""
    paras = "".join(
        f"<p>{k + 1}. " + " ".join(rng.choice(WORDS) for _ in range(40)) + f" zq{n}x{k}.</p>"
        for k in range(20)
    )
    note = f"<p>Revision {edit}.</p>" if edit else ""
    html = f"<html lang='en'><head><title>Doc {n}</title></head><body><main>{paras}{note}</main></body></html>"
    (folder / f"doc{n:05d}.html").write_text(html)
    side = {"kind": "article", "title": f"Generated document {n}", "date": "2020-01-01"}
    if n % 5 == 0:
        side["id"] = f"kb-{n}"
    (folder / f"doc{n:05d}.html.meta.json").write_text(json.dumps(side))


def group_alive(pgid: int) -> list[int]:
    alive = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            alive.append(int(entry.name))
    return alive


def catalog(data: Path) -> tuple[dict[str, str], list[str]]:
    """version sha -> doc id, and every version sha (to find doubles)."""
    db = sqlite3.connect(data / "catalog.sqlite3")
    try:
        rows = db.execute("SELECT sha256, doc_id FROM versions").fetchall()
    finally:
        db.close()
    return dict(rows), [r[0] for r in rows]


def run_round(
    data: Path, paths: list[Path], delay: float | None
) -> tuple[list[dict], int, str, bool]:
    proc = subprocess.Popen(
        [*CLI, "--data", str(data), "ingest", "--json", *map(str, paths)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    lines: list[dict] = []

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(json.loads(line))

    reader = threading.Thread(target=read)
    reader.start()
    killed = False
    if delay is not None:
        try:
            proc.wait(timeout=delay)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            killed = True
    proc.wait()
    reader.join()
    assert proc.stderr is not None
    err = proc.stderr.read()
    proc.stderr.close()
    return lines, proc.pid, err, killed


def check(data: Path) -> str:
    out = subprocess.run([*CLI, "--data", str(data), "check"], capture_output=True, text=True)
    return "" if out.returncode == 0 else (out.stderr + out.stdout).strip()


def index_records(data: Path) -> int:
    code = (
        "import sys; from magsearch.index.whoosh import WhooshIndex; "
        "print(WhooshIndex(sys.argv[1]).doc_count())"
    )
    out = subprocess.run([sys.executable, "-c", code, str(data / "index")], capture_output=True,
                         text=True, check=True)  # fmt: skip
    return int(out.stdout)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=100)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--new-per-round", type=int, default=8)
    ap.add_argument(
        "--max-delay", type=float, default=3.0, help="seconds; the kill moment is uniform"
    )
    args = ap.parse_args()
    rng = random.Random(args.seed)
    print(f"machine: {cpu_line()}; load: {os.getloadavg()[0]:.2f}")
    problems: list[str] = []
    acknowledged: dict[str, str] = {}  # version -> doc id
    killed = finished = leftovers = 0
    with tempfile.TemporaryDirectory() as tmp:
        data, folder = Path(tmp) / "data", Path(tmp) / "in"
        folder.mkdir()
        n = 0
        for rnd in range(1, args.rounds + 1):
            for _ in range(args.new_per_round):
                write_doc(folder, n, rng)
                n += 1
            write_doc(folder, rng.randrange(0, n, 5), rng, edit=rnd)  # a new version of a kb-N
            delay = rng.uniform(0.0, args.max_delay)
            todo, done = [], []
            for f in sorted(folder.glob("*.html")):
                sha = hashlib.sha256(f.read_bytes()).hexdigest()
                (done if sha in acknowledged else todo).append(f)
            paths = todo + rng.sample(done, min(len(done), 5))
            lines, pid, err, was_killed = run_round(data, sorted(paths), delay)
            if "Traceback" in err:
                problems.append(f"round {rnd}: traceback: {err.strip().splitlines()[-1]}")
            for r in lines:
                if r["status"] in ("ingested", "new-version", "unchanged"):
                    acknowledged[r["version"]] = r["id"]
            time.sleep(0.2)
            deadline = time.monotonic() + 5
            while (alive := group_alive(pid)) and time.monotonic() < deadline:
                time.sleep(0.1)
            if alive:
                leftovers += 1
                problems.append(f"round {rnd}: {len(alive)} process(es) left behind")
                for p in alive:
                    os.kill(p, signal.SIGKILL)
            killed += was_killed
            versions, shas = catalog(data)
            lost = [v for v, d in acknowledged.items() if versions.get(v) != d]
            if lost:
                problems.append(f"round {rnd}: {len(lost)} acknowledged versions missing")
            if len(shas) != len(set(shas)):
                problems.append(f"round {rnd}: a version recorded twice")
            trouble = check(data)
            if trouble:
                problems.append(f"round {rnd}: check after kill: {trouble.splitlines()[0]}")
            how = "killed" if was_killed else "finished before the kill at"
            print(f"round {rnd:3d}: {how} {delay:.2f} s, {len(lines)} lines, "
                  f"{len(acknowledged)} acknowledged, {len(versions)} versions", flush=True)  # fmt: skip
        lines, _, err, _ = run_round(data, sorted(folder.glob("*.html")), None)
        finished = sum(r["status"] != "failed" for r in lines)
        files = sorted(p for p in folder.iterdir() if not p.name.endswith(".meta.json"))
        versions, shas = catalog(data)
        db = sqlite3.connect(data / "catalog.sqlite3")
        docs = db.execute("SELECT COUNT(*) FROM documents").fetchone()[0]
        current = {r[0] for r in db.execute("SELECT current_version FROM documents")}
        db.close()
        on_disk = {hashlib.sha256(f.read_bytes()).hexdigest() for f in files}
        if not on_disk <= set(versions):
            problems.append(f"final: {len(on_disk - set(versions))} files not in the archive")
        if not on_disk <= current:
            problems.append("final: a file's bytes are not its document's current version")
        if len(shas) != len(set(shas)):
            problems.append("final: a version recorded twice")
        if index_records(data) != docs:
            problems.append(f"final: {index_records(data)} index records for {docs} documents")
        lost = [v for v, d in acknowledged.items() if versions.get(v) != d]
        if lost:
            problems.append(f"final: {len(lost)} acknowledged versions missing")
        trouble = check(data)
        if trouble:
            problems.append(f"final check: {trouble.splitlines()[0]}")
        print(f"{args.rounds} rounds, {killed} killed mid-run;")
        print(f"final run: {len(lines)} lines ({finished} not failed) for {len(files)} "
              f"files; {docs} documents, {len(shas)} versions, {len(acknowledged)} acknowledged "
              f"versions all present: {not lost}; processes left behind: {leftovers}")  # fmt: skip
    for p in problems:
        print("PROBLEM:", p)
    print("result:", "OK" if not problems else f"{len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
