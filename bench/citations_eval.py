"""Measure magsearch.citations against the hand-labelled set tests/data/citations_labelled.tsv.

    .venv/bin/python bench/citations_eval.py                 # Markdown table on stdout
    .venv/bin/python bench/citations_eval.py --per-source    # and where the misses are

The labels say, per source file, which citations it mentions and how often (see the TSV's
columns: source, normalized, family, count; a row with count 0 and no citation marks a file
that mentions none). A source is a path under the shared corpus (MAGSEARCH_CORPUS, default
../shared/corpus beside the repository) or "archive:<file>" for the bundled collection.
A found citation is correct when the labels have the same (source, normalized, family);
counts match up to min(found, labelled).

Text is taken the way the labeller read it: .txt as UTF-8, HTML with BeautifulSoup's
get_text(), PDF with pypdf's extract_text() per page, pages joined by newlines.
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LABELS = ROOT / "tests" / "data" / "citations_labelled.tsv"
ARCHIVE = ROOT / "archive"

Key = tuple[str, str]  # (normalized, family)


def corpus_dir() -> Path:
    path = Path(os.environ.get("MAGSEARCH_CORPUS", "../shared/corpus"))
    return path if path.is_absolute() else (ROOT / path).resolve()


def load_labels(path: Path = LABELS) -> dict[str, Counter[Key]]:
    labels: dict[str, Counter[Key]] = {}
    with path.open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE):
            counts = labels.setdefault(row["source"], Counter())
            if int(row["count"]) > 0:
                counts[(row["normalized"], row["family"])] += int(row["count"])
    return labels


def source_path(source: str, corpus: Path) -> Path:
    if source.startswith("archive:"):
        return ARCHIVE / source.removeprefix("archive:")
    return corpus / source


def source_text(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix in (".html", ".htm"):
        from bs4 import BeautifulSoup  # noqa: TID251 - reading the labelled files as labelled

        return BeautifulSoup(path.read_bytes(), "lxml").get_text()
    if suffix == ".pdf":
        from pypdf import PdfReader  # noqa: TID251 - reading the labelled files as labelled

        reader = PdfReader(path)
        return "\n".join(page.extract_text() or "" for page in reader.pages)
    return path.read_text(encoding="utf-8")


def found_in(text: str) -> Counter[Key]:
    from magsearch.citations import find_citations

    return Counter((c.normalized, c.family) for c in find_citations(text))


@dataclass
class Row:
    family: str
    labelled: int = 0
    found: int = 0
    correct: int = 0

    @property
    def precision(self) -> float:
        return self.correct / self.found if self.found else 1.0

    @property
    def recall(self) -> float:
        return self.correct / self.labelled if self.labelled else 1.0


@dataclass
class Result:
    rows: dict[str, Row]
    total: Row
    misses: list[tuple[str, Key, int, int]]  # source, key, labelled, found where they differ


def evaluate(labels: dict[str, Counter[Key]], found: dict[str, Counter[Key]]) -> Result:
    rows: dict[str, Row] = {}
    total = Row("all")
    misses = []
    for source, want in labels.items():
        got = found.get(source, Counter())
        for key in sorted(set(want) | set(got)):
            row = rows.setdefault(key[1], Row(key[1]))
            ok = min(want[key], got[key])
            for r in (row, total):
                r.labelled += want[key]
                r.found += got[key]
                r.correct += ok
            if want[key] != got[key]:
                misses.append((source, key, want[key], got[key]))
    return Result(dict(sorted(rows.items())), total, misses)


def run(corpus: Path | None = None) -> Result:
    corpus = corpus or corpus_dir()
    labels = load_labels()
    found = {s: found_in(source_text(source_path(s, corpus))) for s in labels}
    return evaluate(labels, found)


def markdown(result: Result) -> str:
    lines = [
        "| family | labelled | found | correct | precision | recall |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in [*result.rows.values(), result.total]:
        name = f"**{r.family}**" if r is result.total else r.family
        lines.append(
            f"| {name} | {r.labelled} | {r.found} | {r.correct} "
            f"| {r.precision:.3f} | {r.recall:.3f} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, help="the shared corpus (default: MAGSEARCH_CORPUS)")
    parser.add_argument("--per-source", action="store_true", help="list the differences")
    args = parser.parse_args(argv)
    corpus = args.corpus or corpus_dir()
    if not corpus.is_dir():
        print(f"corpus not found at {corpus} (set MAGSEARCH_CORPUS)", file=sys.stderr)
        return 2
    result = run(corpus)
    print(markdown(result))
    if args.per_source:
        print()
        for source, (norm, family), want, got in result.misses:
            print(f"- {source}: {family} {norm!r} labelled {want}, found {got}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
