"""Hostile input on the search paths: whatever is typed, a one-line refusal, never a crash."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from magsearch.errors import QueryError
from magsearch.index.querylang import MAX_NESTING, parse
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
