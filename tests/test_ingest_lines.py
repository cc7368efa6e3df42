"""Every file given to `magsearch ingest`, whatever its name or its fate, gets exactly one result line,
and the batch goes on: names of 250 characters, with newlines, with bytes that are not UTF-8, with a
right-to-left override; sidecars that are folders, links to nothing, FIFOs, not JSON, nested too
deeply; the same bytes twice in one batch (one document, every line with its id)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from magsearch.archive import Archive

MAGSEARCH = [sys.executable, "-m", "magsearch.cli"]


def ingest(data: Path, *paths: Path | bytes) -> tuple[int, list[dict], str]:
    proc = subprocess.run(
        [*MAGSEARCH, "--data", str(data), "ingest", "--json", *map(os.fsdecode, paths)],
        capture_output=True,
        timeout=300,
    )
    out = proc.stdout.decode("utf-8")  # must be valid UTF-8, whatever the names
    err = proc.stderr.decode("utf-8")
    return proc.returncode, [json.loads(line) for line in out.splitlines()], err


def _text(n: int) -> bytes:
    return (
        f"Memorandum {n} on the Magnitsky sanctions, paragraph about frozen assets {n}.\n".encode()
    )


def test_strange_names_each_get_one_line_and_go_in(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    names = [
        b"a" * 246 + b".txt",  # 250 characters: NAME.meta.json would be too long a name
        b"line\nbreak.txt",
        b"not-utf8-\xff\xfe.txt",
        "rtl-\u202etxt.exe.txt".encode(),
        b"tab\tand\rreturn.txt",
        b"zz-last.txt",
    ]
    for n, name in enumerate(names):
        (folder / os.fsdecode(name)).write_bytes(_text(n))
    code, lines, err = ingest(tmp_path / "data", folder)
    assert code == 0, err
    assert len(lines) == len(names)
    assert {r["status"] for r in lines} == {"ingested"}
    assert all(r["id"] for r in lines)
    shown = {r["path"] for r in lines}
    assert any("line\\nbreak.txt" in p for p in shown)  # escaped: one line each
    assert any("not-utf8-\\xff\\xfe.txt" in p for p in shown)
    assert any("rtl-\\u202etxt.exe.txt" in p for p in shown)  # the override cannot reorder
    assert all("\n" not in p and "\u202e" not in p for p in shown)
    assert Archive(tmp_path / "data").count_documents() == len(names)
    log = subprocess.run(
        [*MAGSEARCH, "--data", str(tmp_path / "data"), "log"], capture_output=True, timeout=60
    )
    assert len(log.stdout.decode("utf-8").splitlines()) == len(names)


def test_a_long_name_named_alone_and_a_missing_file(tmp_path: Path) -> None:
    long = tmp_path / ("b" * 251 + ".txt")
    long.write_bytes(_text(1))
    other = tmp_path / "other.txt"
    other.write_bytes(_text(2))
    code, lines, err = ingest(tmp_path / "data", long, tmp_path / ("c" * 300), other)
    assert code == 1
    status = {Path(r["path"]).name[:1]: r for r in lines}
    assert len(lines) == 3
    assert [status[c]["status"] for c in "bco"] == ["ingested", "failed", "ingested"]
    assert status["c"]["error"] in ("no such file", "cannot read: File name too long")
    assert "Traceback" not in err
    assert len([ln for ln in err.splitlines() if ln.startswith("failed: ")]) == 1


def test_whatever_is_wrong_with_a_sidecar_fails_its_file_alone(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    cases = {
        "folder.txt": lambda side: side.mkdir(),
        "dangling.txt": lambda side: side.symlink_to(folder / "nowhere"),
        "loop.txt": lambda side: side.symlink_to(side),
        "fifo.txt": lambda side: os.mkfifo(side),
        "latin1.txt": lambda side: side.write_bytes(b'{"title": "caf\xe9"}'),
        "deep.txt": lambda side: side.write_text("[" * 100_000 + "]" * 100_000),
        "notjson.txt": lambda side: side.write_text("{title: nope"),
        "array.txt": lambda side: side.write_text("[1, 2]"),
    }
    for n, (name, make) in enumerate(sorted(cases.items())):
        (folder / name).write_bytes(_text(n))
        make(folder / f"{name}.meta.json")
    (folder / "good.txt").write_bytes(_text(99))
    code, lines, err = ingest(tmp_path / "data", folder)
    assert code == 1
    by_name = {Path(r["path"]).name: r for r in lines}
    assert sorted(by_name) == sorted([*cases, "good.txt"])  # one line each, the batch went on
    assert by_name.pop("good.txt")["status"] == "ingested"
    for name, r in by_name.items():
        assert r["status"] == "failed", (name, r)
        assert r["error"].startswith(f"sidecar {name}.meta.json: "), (name, r["error"])
    assert "is a folder" in by_name["folder.txt"]["error"]
    assert "not a regular file" in by_name["fifo.txt"]["error"]
    assert "Traceback" not in err
    assert Archive(tmp_path / "data").count_documents() == 1


def test_the_same_bytes_twice_in_one_batch_are_one_document_with_its_id_on_every_line(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    for name in ("a.txt", "b.txt", "c.txt"):
        (folder / name).write_bytes(_text(7))
    (folder / "d.txt").write_bytes(_text(8))
    (folder / "e.txt").write_bytes(b"")  # fails
    (folder / "f.txt").write_bytes(_text(8))
    code, lines, err = ingest(tmp_path / "data", folder)
    assert code == 1, err
    by_name = {Path(r["path"]).name: r for r in lines}
    assert len(lines) == 6
    assert by_name["a.txt"]["status"] == "ingested"
    assert by_name["b.txt"]["status"] == by_name["c.txt"]["status"] == "unchanged"
    assert by_name["a.txt"]["id"] == by_name["b.txt"]["id"] == by_name["c.txt"]["id"]
    assert by_name["d.txt"]["id"] == by_name["f.txt"]["id"] and by_name["d.txt"]["id"]
    # reported only once the first copy is stored: never before it
    order = [Path(r["path"]).name for r in lines]
    assert order.index("a.txt") < order.index("b.txt") < order.index("c.txt")
    assert Archive(tmp_path / "data").count_documents() == 2


def test_copies_of_a_file_that_fails_fail_with_it(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    bad = b"%PDF-1.7\n" + b"\x00garbage" * 50
    (folder / "a.pdf").write_bytes(bad)
    (folder / "b.pdf").write_bytes(bad)
    code, lines, _ = ingest(tmp_path / "data", folder)
    assert code == 1
    assert [r["status"] for r in lines] == ["failed", "failed"]
    assert lines[1]["error"].startswith("same bytes as ")
    assert Archive(tmp_path / "data").count_documents() == 0
