"""How long `verify_text` takes on a 50-page brief.

The archive: the bundled collection (archive/), the corpus's legislation and rulings when the corpus
is there, and --docs generated documents (so the index the unattributed quotations are searched in
is not tiny). The brief: --pages pages of ~500 words, each with three quotations taken from real
passages of the archive (one in three with a word changed, one in ten invented), most attributed
to a citation of their document with a pinpoint, the rest attributed to nothing (searched for in
the whole archive), and filler prose between them.

    .venv/bin/python bench/verify_bench.py [--pages 50] [--docs 300] [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import WORDS, cpu_line, write_html_doc  # noqa: E402

from magsearch.cite import pin_label  # noqa: E402
from magsearch.config import Settings  # noqa: E402
from magsearch.ingest.pipeline import Ingester, find_files  # noqa: E402
from magsearch.library import open_library  # noqa: E402
from magsearch.verify import verify_text  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
CORPUS = Path(os.environ.get("MAGSEARCH_CORPUS", REPO.parent / "shared" / "corpus"))


def build_brief(lib, pages: int, rng: random.Random) -> tuple[str, Counter[str]]:
    docs = [d for d in lib.archive.documents() if not d.title.startswith("Generated document")]
    sources = []
    for d in docs:
        for p in lib.archive.passages(d.current_version):
            words = p.text.split()
            if len(words) >= 30:
                sources.append((d, p, words))
    parts, quotes = [], Counter()
    for _ in range(pages):
        para = []
        for _ in range(3):
            para.append(" ".join(rng.choice(WORDS) for _ in range(rng.randint(90, 130))) + ".")
            d, p, words = rng.choice(sources)
            start = rng.randrange(0, len(words) - 25)
            quoted = words[start : start + rng.randint(8, 25)]
            roll = rng.random()
            if roll < 0.1:
                quoted = [rng.choice(WORDS) for _ in quoted]
                quotes["invented"] += 1
            elif roll < 0.43:
                quoted[len(quoted) // 2] = "notably"
                quotes["altered"] += 1
            else:
                quotes["verbatim"] += 1
            cite = ""
            if d.identifiers and rng.random() < 0.7:
                label = pin_label(p)
                cite = f" {d.identifiers[0]}" + (f", {label}" if label else "") + "."
            para.append(f'The authority says that "{" ".join(quoted)}".{cite}')
        parts.append(" ".join(para))
    return "\n\n".join(parts), quotes


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pages", type=int, default=50)
    ap.add_argument("--docs", type=int, default=300)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    rng = random.Random(14)
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings().with_data_dir(Path(tmp) / "data")
        lib = open_library(settings)
        paths = [REPO / "archive"]
        if (CORPUS / "MANIFEST.tsv").exists():
            paths += [CORPUS / "legislation", CORPUS / "rulings" / "courtlistener__opinion_tax.pdf"]
        gen = Path(tmp) / "gen"
        gen.mkdir()
        paths += [write_html_doc(gen, n, rng) for n in range(args.docs)]
        t = time.perf_counter()
        results = Ingester(lib.archive, lib.index, settings).run(find_files(paths))
        print(f"archive: {len(results)} files ingested in {time.perf_counter() - t:.1f} s")
        brief, quotes = build_brief(lib, args.pages, rng)
        words = len(brief.split())
        print(f"brief: {args.pages} pages, {words:,} words, {len(brief):,} characters")
        print("written: " + ", ".join(f"{k} {n}" for k, n in sorted(quotes.items())))
        times = []
        for _ in range(args.runs):
            t = time.perf_counter()
            report = verify_text(lib, brief)
            times.append(time.perf_counter() - t)
        print(f"verified: {report['citations']} citations, {report['quotations']} quotations")
        print("outcomes: " + ", ".join(f"{k} {n}" for k, n in report["summary"].items()))
        print(
            f"verify_text: median {statistics.median(times):.2f} s, "
            f"min {min(times):.2f} s over {args.runs} runs"
        )
        print(f"machine: {cpu_line()}; load {os.getloadavg()[0]:.2f}")
        lib.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
