"""A MAGSEARCH_* setting that means nothing stops the command or the server in one line naming the
variable (before: it was silently replaced by its default, so a typo went unnoticed)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _run(args: list[str], env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args,
        env={**os.environ, **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("MAGSEARCH_WORKERS", "two", "expected a whole number of at least 1"),
        ("MAGSEARCH_WORKERS", "0", "expected a whole number of at least 1"),
        ("MAGSEARCH_MAX_FILE_MB", "-5", "expected a whole number of at least 1"),
        ("MAGSEARCH_PARSE_TIMEOUT", "1m", "expected a positive number"),
        ("MAGSEARCH_SEARCH_TIME_LIMIT", "nan", "expected a positive number"),
        ("MAGSEARCH_OCR", "sometimes", "expected one of auto, always, never"),
    ],
)
def test_a_bad_setting_is_a_usage_error_naming_it(
    tmp_path: Path, name: str, value: str, expected: str
) -> None:
    data = tmp_path / "data"
    cmd = [sys.executable, "-m", "magsearch.cli", "--data", str(data), "search", "magnitsky"]
    res = _run(cmd, {name: value}, tmp_path)
    lines = res.stderr.strip().splitlines()
    assert res.returncode == 2, res.stderr
    assert lines == [f"magsearch: {name}={value!r}: {expected}"]
    assert not data.exists()  # nothing was created with a setting nobody meant


def test_the_server_refuses_to_start_on_a_bad_setting(tmp_path: Path) -> None:
    res = _run(
        [sys.executable, "-c", "import wsgi"],
        {"MAGSEARCH_DATA": str(tmp_path / "data"), "MAGSEARCH_MAX_PAGES": "many"},
        tmp_path,
    )
    assert res.returncode == 1
    assert res.stderr.strip() == (
        "magsearch: MAGSEARCH_MAX_PAGES='many': expected a whole number of at least 1"
    )


def test_good_and_empty_settings_are_taken(tmp_path: Path) -> None:
    res = _run(
        [sys.executable, "-m", "magsearch.cli", "--data", str(tmp_path / "d"), "search", "x"],
        {"MAGSEARCH_WORKERS": " 3 ", "MAGSEARCH_PARSE_TIMEOUT": "2.5", "MAGSEARCH_OCR": ""},
        tmp_path,
    )
    assert res.returncode in (0, 1), res.stderr  # 1: no hits in an empty archive
    assert "MAGSEARCH_" not in res.stderr
