"""The corpus's analyses: what `analyse()` makes of every file, and what each stage of it costs.

Runs `analyse()` (parse, structure, citations, metadata, languages; OCR off) on every file of the
corpus in this one process, after the workers' warm-up, and prints the CPU seconds per stage and
the costliest files. With --dump it writes every analysis (passages with their anchors and pages,
citations, metadata, warnings) as JSON; --compare tells which files' analyses differ between two
dumps, field by field: run it with the code before and after a change to show that a speed-up
changed nothing.

Usage:
  python bench/corpus_analyses.py [--corpus ../shared/corpus] [--dump OUT.json]
  python bench/corpus_analyses.py --compare BEFORE.json AFTER.json
(For the code before a change, run this file with PYTHONPATH pointing at a copy of its src/.)
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
import time
from collections import defaultdict
from dataclasses import asdict
from pathlib import Path
from typing import Any

from magsearch import citations, language, legalmeta, structure  # noqa: F401
from magsearch.ingest import analyse as A
from magsearch.ingest import sidecar
from magsearch.ingest.ocr import OcrOptions

STAGES = {
    "parse": (A, "parse_bytes"),
    "kind": (A.structure, "guess_kind"),
    "segment": (A.structure, "segment"),
    "citations": (A.citations, "find_citations"),
    "legal metadata": (A.legalmeta, "extract"),
    "languages": (A, "_languages"),
}


def _timed(spent: dict[str, float]) -> None:
    """Wrap each stage's function so that its CPU time adds up in `spent`."""
    for label, (module, name) in STAGES.items():
        inner = getattr(module, name)

        def wrapper(*args: Any, _inner: Any = inner, _label: str = label, **kw: Any) -> Any:
            started = time.process_time()
            try:
                return _inner(*args, **kw)
            finally:
                spent[_label] += time.process_time() - started

        setattr(module, name, wrapper)


def _plain(value: Any) -> Any:
    """An analysis as JSON; pypdf's object addresses in its warnings ("IndirectObject(2, 0,
    1405...)") differ from run to run and are dropped."""
    out = asdict(value)
    out["warnings"] = [
        re.sub(r"IndirectObject\((\d+), (\d+), \d+\)", r"IndirectObject(\1, \2)", w)
        for w in out["warnings"]
    ]
    return out


def run(corpus: Path, dump: Path | None) -> None:
    A.warm_up()
    spent: dict[str, float] = defaultdict(float)
    _timed(spent)
    files = sorted(p for p in corpus.rglob("*") if p.is_file() and not sidecar.is_sidecar(p))
    results: dict[str, Any] = {}
    per_file: dict[str, float] = {}
    by_type: dict[str, float] = defaultdict(float)
    for path in files:
        data = path.read_bytes()
        name = str(path.relative_to(corpus))
        try:
            side = sidecar.load(path)
        except Exception as exc:  # noqa: BLE001 - reported as the file's outcome
            results[name] = f"error: {exc}"
            continue
        job = A.Job(path.name, data, hashlib.sha256(data).hexdigest(), "", side, 5000,
                    OcrOptions(mode="never"))  # fmt: skip
        started = time.process_time()
        try:
            results[name] = _plain(A.analyse(job))
        except Exception as exc:  # noqa: BLE001 - the file's failure is its outcome
            results[name] = f"error: {exc}"
        per_file[name] = time.process_time() - started
        by_type[path.suffix or "(none)"] += per_file[name]
    total = sum(per_file.values())
    print(f"analyse() of {len(per_file)} files: {total:.2f} s CPU")
    print("  by stage: " + ", ".join(f"{k} {v:.2f}" for k, v in spent.items()))
    print("  by type:  " + ", ".join(f"{k} {v:.2f}" for k, v in sorted(by_type.items())))
    for name, cpu in sorted(per_file.items(), key=lambda kv: -kv[1])[:5]:
        print(f"  {cpu:6.2f} s  {name}")
    if dump:
        dump.write_text(json.dumps(results, ensure_ascii=False, sort_keys=True))
        print(f"analyses written to {dump}")


def compare(before: Path, after: Path) -> int:
    a, b = json.loads(before.read_text()), json.loads(after.read_text())
    # a field that one version of Analysis has and the other has not is set aside, once
    shapes = [{k for v in d.values() if isinstance(v, dict) for k in v} for d in (a, b)]
    if shapes[0] ^ shapes[1]:
        print(f"set aside, in one dump only: {', '.join(sorted(shapes[0] ^ shapes[1]))}")
    common = shapes[0] & shapes[1]
    differ = 0
    for name in sorted(set(a) | set(b)):
        x, y = a.get(name), b.get(name)
        if isinstance(x, dict) and isinstance(y, dict):
            x, y = ({k: v for k, v in d.items() if k in common} for d in (x, y))
        if x == y:
            continue
        differ += 1
        if not isinstance(x, dict) or not isinstance(y, dict):
            print(f"{name}: {str(x)[:80]} -> {str(y)[:80]}")
            continue
        fields = [k for k in sorted(common) if x.get(k) != y.get(k)]
        print(f"{name}: {', '.join(fields)} differ")
    done = [v for v in a.values() if isinstance(v, dict)]
    passages = sum(len(v["passages"]) for v in done)
    cites = sum(len(v["citations"]) for v in done)
    print(f"{len(a)} files ({passages} passages, {cites} citations before): {differ} differ")
    return 1 if differ else 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--corpus", type=Path, default=Path("../shared/corpus"))
    ap.add_argument("--dump", type=Path)
    ap.add_argument("--compare", nargs=2, type=Path, metavar=("BEFORE", "AFTER"))
    args = ap.parse_args()
    if args.compare:
        return compare(*args.compare)
    if not (args.corpus / "MANIFEST.tsv").exists():
        print(f"corpus_analyses: no corpus at {args.corpus}", file=sys.stderr)
        return 2
    run(args.corpus, args.dump)
    return 0


if __name__ == "__main__":
    sys.exit(main())
