"""`make bench`: every benchmark in turn. Figures go into docs/benchmarks.md with the command and machine.

BENCH_ARGS=--quick runs smaller sizes (a smoke run, not figures to record).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    quick = "--quick" in sys.argv[1:]
    steps = [
        ["ingest_bench.py", *(["--docs", "500"] if quick else [])],
        ["search_bench.py", *(["--quick"] if quick else [])],
        ["citations_eval.py"],
        ["relevance_bench.py"],
        ["ocr_bench.py", *(["--pages", "1"] if quick else [])],
        ["queue_bench.py", *(["--docs", "50"] if quick else [])],
        ["fidelity.py"],
        ["language_bench.py"],
        ["verify_bench.py", *(["--pages", "5", "--docs", "20", "--runs", "1"] if quick else [])],
        ["serve_bench.py", *(["--files", "3", "--seconds", "5"] if quick else [])],
        [
            "alerts_bench.py",
            *(["--docs", "100", "--searches", "20", "--batch", "10"] if quick else []),
        ],
    ]
    code = 0
    for script, *args in steps:
        if not (HERE / script).exists():
            print(f"-- {script}: not present, skipped", file=sys.stderr)
            continue
        print(f"== {script} {' '.join(args)}", flush=True)
        code |= subprocess.call([sys.executable, str(HERE / script), *args])
    return code


if __name__ == "__main__":
    sys.exit(main())
