"""Citation extraction measured against hand-labelled real documents.

tests/data/citations_labelled.tsv lists, for each labelled file, every citation it mentions and
how often, found by reading the files (see bench/citations_eval.py for how their text is read and
docs/benchmarks.md, "Citation extraction", for what counts as a citation). Files come from the
shared corpus (MAGSEARCH_CORPUS, default ../shared/corpus) and the bundled archive/ collection;
without the corpus the tests that need it skip.
"""

from __future__ import annotations

import hashlib
import importlib.util
import sys
from collections import Counter
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from magsearch.citations import FAMILIES

ROOT = Path(__file__).resolve().parent.parent


def _load_eval() -> ModuleType:
    path = ROOT / "bench" / "citations_eval.py"
    spec = importlib.util.spec_from_file_location("citations_eval", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while being built
    spec.loader.exec_module(module)
    return module


ev = _load_eval()
CORPUS: Path = ev.corpus_dir()
NO_CORPUS = f"shared corpus not found at {CORPUS} (set MAGSEARCH_CORPUS)"

# The archive/ documents are still edited by hand; their labels hold for this text only.
# sha256 (first 16 hex digits) of the text as bench/citations_eval.py reads it.
ARCHIVE_TEXT = {
    "archive:magnitskiy-v-russia.pdf": "ccf2118a45e91d97",
    "archive:magnitskiy-v-russia-press-release.html": "130142753c97a110",
    "archive:us-magnitsky-act-2012.pdf": "73c2d56bccf8a1ec",
    "archive:us-global-magnitsky-act-2016.html": "7ab8b4f44b6bdeb3",
    "archive:us-executive-order-13818.html": "5c9f8faca3236fc1",
    "archive:eu-regulation-2020-1998.html": "b283732d9107114f",
    "archive:uk-global-human-rights-sanctions-regulations-2020.pdf": "d420d383d725741b",
    "archive:canada-sergei-magnitsky-law-2017.pdf": "6772282640af7824",
    "archive:magnitsky-laws-after-strasbourg.html": "5627bad21a303125",
    "archive:russian-response-and-baltic-laws.pdf": "2f4eb292380dd3e7",
}


def test_labelled_set_is_well_formed() -> None:
    labels = ev.load_labels()
    assert sum(sum(c.values()) for c in labels.values()) >= 150
    prefixes = ("archive:", "legislation/", "articles/", "rulings/", "pdf-fixtures/")
    for source, counts in labels.items():
        assert source.startswith(prefixes), source
        for (normalized, family), n in counts.items():
            assert family in FAMILIES, (source, family)
            assert normalized and n > 0, (source, normalized)
    assert {s for s in labels if s.startswith("archive:")} == set(ARCHIVE_TEXT)


def test_labelled_archive_text_is_the_text_that_was_labelled() -> None:
    changed = []
    for source, digest in ARCHIVE_TEXT.items():
        path = ev.source_path(source, CORPUS)
        assert path.is_file(), f"{path} is labelled in tests/data/citations_labelled.tsv"
        if hashlib.sha256(ev.source_text(path).encode()).hexdigest()[:16] != digest:
            changed.append(source)
    assert not changed, (
        f"{changed} changed since they were labelled: re-read them, update their rows in "
        "tests/data/citations_labelled.tsv and their digests in ARCHIVE_TEXT"
    )


@pytest.mark.skipif(not CORPUS.is_dir(), reason=NO_CORPUS)
def test_labelled_corpus_files_exist() -> None:
    missing = [s for s in ev.load_labels() if not ev.source_path(s, CORPUS).is_file()]
    assert not missing, f"labelled files not found: {missing}"


@pytest.fixture(scope="module")
def result() -> Any:
    if not CORPUS.is_dir():
        pytest.skip(NO_CORPUS)
    return ev.run(CORPUS)


def _report(result: Any) -> str:
    misses = "\n".join(f"{s}: {k} labelled {w}, found {g}" for s, k, w, g in result.misses)
    return "\n" + ev.markdown(result) + "\n" + misses


@pytest.mark.slow
def test_overall_precision_and_recall(result: Any) -> None:
    assert result.total.labelled >= 150, _report(result)
    assert result.total.precision >= 0.95, _report(result)
    assert result.total.recall >= 0.90, _report(result)


@pytest.mark.slow
def test_no_family_is_badly_off(result: Any) -> None:
    # a family with a handful of mentions may miss one; none may be mostly wrong
    for row in result.rows.values():
        assert row.precision >= 0.8 and row.recall >= 0.8, _report(result)


def test_evaluate_counts_min_of_found_and_labelled() -> None:
    labels = {"a": Counter({("X 1", "usc"): 2, ("Y 2", "cfr"): 1}), "b": Counter()}
    found = {"a": Counter({("X 1", "usc"): 3}), "b": Counter({("Z 3", "usc"): 1})}
    r = ev.evaluate(labels, found)
    assert (r.total.labelled, r.total.found, r.total.correct) == (3, 4, 2)
    assert (r.rows["usc"].labelled, r.rows["usc"].found, r.rows["usc"].correct) == (2, 4, 2)
    assert r.rows["cfr"].recall == 0.0
    assert r.rows["usc"].precision == 0.5
