"""Withdraw, restore, restrict and purge from the command line: audited, followed by search at once,
and purge the only way bytes leave the disk."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from magsearch.cli import cli


def run(data: Path, *args: str, stdin: str | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["--data", str(data), *args], input=stdin)
    return result.exit_code, result.stdout, result.stderr


def ingest_two(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    src = tmp_path / "src"
    src.mkdir()
    for name, word in (("alpha", "wombat"), ("beta", "numbat")):
        (src / f"{name}.txt").write_text(f"A note about the {word} and sanctions.\n")
        (src / f"{name}.txt.meta.json").write_text(
            json.dumps({"id": name, "title": f"{name.title()} note", "kind": "article"})
        )
    assert run(data, "ingest", str(src))[0] == 0
    return data


def ids_found(data: Path, query: str) -> list[str]:
    code, out, _ = run(data, "search", "--json", query)
    assert code == 0
    return [h["id"] for h in json.loads(out)["hits"]]


def test_withdraw_restore_restrict_purge(tmp_path: Path) -> None:
    data = ingest_two(tmp_path)
    assert ids_found(data, "wombat") == ["alpha"]

    code, _, err = run(data, "withdraw", "alpha", "--reason", "  ")
    assert code == 2 and "reason is required" in err
    assert run(data, "withdraw", "alpha", "--reason", "duplicate")[0] == 0
    assert ids_found(data, "wombat") == []
    assert run(data, "restore", "alpha")[0] == 0
    assert ids_found(data, "wombat") == ["alpha"]
    assert run(data, "restore", "alpha")[0] == 1  # not withdrawn

    assert run(data, "restrict", "beta")[0] == 0
    assert ids_found(data, "numbat") == []  # the CLI searches as an anonymous reader would
    code, out, _ = run(data, "restrict", "beta", "--off")
    assert code == 0 and "public" in out
    assert ids_found(data, "numbat") == ["beta"]

    objects = sorted(p.name for p in (data / "objects").rglob("*") if p.is_file())
    assert len(objects) == 2
    # purge asks: without a terminal and without --yes it refuses; a wrong answer deletes nothing
    code, _, err = run(data, "purge", "beta")
    assert code == 2 and "--yes" in err
    assert len([p for p in (data / "objects").rglob("*") if p.is_file()]) == 2
    assert run(data, "purge", "beta", "--yes")[0] == 0
    assert len([p for p in (data / "objects").rglob("*") if p.is_file()]) == 1
    assert ids_found(data, "numbat") == []
    code, out, err = run(data, "show", "beta")
    assert code == 1 and "no document" in err
    code, out, _ = run(data, "check")
    assert code == 0, out

    code, out, _ = run(data, "audit", "--json")
    log = [json.loads(line) for line in out.splitlines()]
    steps = [(r["action"], r["target"]) for r in log]
    assert steps[:5] == [
        ("purge", "beta"),
        ("unrestrict", "beta"),
        ("restrict", "beta"),
        ("restore", "alpha"),
        ("withdraw", "alpha"),
    ]
    assert sorted(steps[5:]) == [("ingest", "alpha"), ("ingest", "beta")]  # by the CLI, too
    assert all(r["actor"].startswith("cli:") and r["at"].endswith("Z") for r in log)
    assert log[0]["detail"]["versions"][0]["sha256"] in objects
