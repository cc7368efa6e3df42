"""Shared fixtures: where the real-document corpus is, and fresh libraries in temporary folders."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from magsearch.config import Settings
from magsearch.library import Library, open_library

pytest_plugins = ["webfixtures"]  # sample, app and client: a real archive served by the real app

# OCR costs seconds per page on two cores: the suite runs it only where a test asks for it
# (tests/test_ocr.py); elsewhere scanned pages stay "OCR needed", as with `--ocr never`.
os.environ.setdefault("MAGSEARCH_OCR", "never")

REPO = Path(__file__).resolve().parent.parent
ARCHIVE = REPO / "archive"
# the bundled collection: every document in archive/ comes with its sidecar (NAME.meta.json)
BUNDLED_DOCUMENTS = len(list(ARCHIVE.glob("*.meta.json")))


def corpus_root() -> Path:
    """The shared corpus (env MAGSEARCH_CORPUS, default ../shared/corpus beside the repository)."""
    raw = os.environ.get("MAGSEARCH_CORPUS")
    return Path(raw) if raw else REPO.parent / "shared" / "corpus"


@pytest.fixture(scope="session")
def corpus() -> Path:
    root = corpus_root()
    if not (root / "MANIFEST.tsv").exists():
        pytest.skip(f"the shared corpus is not at {root} (set MAGSEARCH_CORPUS to its folder)")
    return root


def make_settings(data_dir: Path, **changes: object) -> Settings:
    from dataclasses import replace

    return replace(Settings().with_data_dir(data_dir), **changes)  # type: ignore[arg-type]


@pytest.fixture
def library(tmp_path: Path) -> Iterator[Library]:
    lib = open_library(make_settings(tmp_path / "data", workers=2, parse_timeout=60.0))
    yield lib
    lib.close()
