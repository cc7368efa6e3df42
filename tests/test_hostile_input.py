"""Hostile input on the search paths: whatever is typed, a one-line refusal, never a crash."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from magsearch.errors import QueryError
from magsearch.querylang import MAX_NESTING, parse
from webfixtures import Sample

MAGSEARCH = Path(sys.executable).with_name("magsearch")


def nested(depth: int, inner: str = "magnitsky") -> str:
    return "(" * depth + inner + ")" * depth


@pytest.mark.parametrize(
    "q",
    [
        nested(200),
        nested(MAX_NESTING + 1),
        "-(" * 150 + "x" + ")" * 150,
        "title:" + nested(120),
        "a OR (" * 60 + "b" + ")" * 60,
    ],
)
def test_deep_nesting_is_refused_in_one_line(q: str) -> None:
    with pytest.raises(QueryError, match="nests parentheses too deeply"):
        parse(q)


def test_nesting_within_the_bound_and_long_operator_chains_are_read() -> None:
    assert parse(nested(MAX_NESTING)).interpreted == "magnitsky"
    assert parse("NOT " * 120 + "x").interpreted == "x"  # an even number of NOTs
    assert parse("- " * 10 + "+" * 200 + "x").interpreted == "+" * 199 + "x"
    assert parse("a OR (" * 5 + "b" + ")" * 5).interpreted == "a OR a OR a OR a OR a OR b"


@pytest.mark.parametrize("path", ["/api/search", "/search"])
def test_web_answers_400_with_the_message(client: FlaskClient, path: str) -> None:
    res = client.get(path, query_string={"q": nested(200)})
    assert res.status_code == 400
    body = res.get_data(as_text=True)
    assert "nests parentheses too deeply" in body
    if path.startswith("/api/"):
        assert res.get_json()["message"].count("\n") == 0


def test_cli_refuses_with_exit_2_and_no_traceback(sample: Sample) -> None:
    proc = subprocess.run(
        [str(MAGSEARCH), "--data", str(sample.data_dir), "search", nested(200)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0, proc.stderr
    assert "nests parentheses too deeply" in proc.stderr and "Traceback" not in proc.stderr


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(MAGSEARCH), *args],
        capture_output=True,
        text=True,
        timeout=300,
        errors="surrogateescape",
    )


RAW = ("\n", "\r", "\x1b", "\u202e", "\u2028")


def test_file_names_cannot_forge_lines_or_drive_the_terminal(tmp_path: Path) -> None:
    """Before: a newline in a file name was printed raw by `magsearch log` and on stderr."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    forged = "x\n2026-01-01T00:00:00+00:00  ingested     fake.pdf  fake-id\x1b[2J.txt"
    (inbox / forged).write_bytes(b"")  # empty: fails
    good = "note\r\u202eevil\u2028.txt"
    (inbox / good).write_text("A short note on the detention of Sergei Magnitsky.\n")
    data = str(tmp_path / "data")

    ing = _run("--data", data, "ingest", "--json", str(inbox))
    assert ing.returncode == 1, ing.stderr
    failed = [line for line in ing.stderr.splitlines() if line.startswith("failed: ")]
    assert len(failed) == 1 and "x\\n2026-01-01" in failed[0] and "\\x1b[2J" in failed[0]
    assert not any(ch in ing.stderr.replace("\n", "") for ch in RAW)
    import json

    from magsearch.errors import printable

    lines = ing.stdout.splitlines()  # one JSON object per file, each name as printed
    assert len(lines) == 2 and not any(ch in ing.stdout.replace("\n", "") for ch in RAW)
    names = {Path(json.loads(line)["path"]).name for line in lines}
    assert names == {printable(forged), printable(good)}

    log = _run("--data", data, "log")
    assert log.returncode == 0, log.stderr
    rows = log.stdout.splitlines()
    assert len(rows) == 2, rows  # one line per ingest-log row, whatever the names hold
    assert not any(ch in log.stdout.replace("\n", "") for ch in RAW)
    assert any("note\\r\\u202eevil\\u2028.txt" in r for r in rows)
    assert any("x\\n2026-01-01" in r and " failed " in r for r in rows)


def test_printable_escapes_what_can_forge_and_keeps_the_rest() -> None:
    import json

    from magsearch.errors import printable

    assert printable("Магнитский\u00a0v. Russia — § 41") == "Магнитский\u00a0v. Russia — § 41"
    assert printable("a\nb\rc\td\x1b[31m\x85\u202e\u2066\u200b\u2028\udcff") == (
        "a\\nb\\rc\\td\\x1b[31m\\x85\\u202e\\u2066\\u200b\\u2028\\udcff"
    )
    data = {"path": "a\u202eb\x85c\U000e0001\n", "n": [1, 2]}
    line = printable(json.dumps(data, ensure_ascii=False, indent=1), json=True)
    assert json.loads(line) == data
    assert not any(ch in line for ch in "\u202e\x85\U000e0001")
