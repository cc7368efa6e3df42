"""Language detection, one text at a time (py3langid's `classify` on each) against all of a
document's texts at once (`language.detect_all`): the answers compared and the CPU of each.

Over every file of the shared corpus (text, HTML, PDF through the project's parsers; OCR off) and
of archive/: the document's text, each parsed block and each passage are detected both ways, and
analyse() is run both ways (the document's language and each passage's). Prints how many answers
(language or none) and how many probabilities differ — the goal is none — and the CPU per
document of each way. Exit code 1 when any answer differs.

Usage: python bench/language_bench.py [FOLDER ...]   (default: ../shared/corpus and archive/)
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from common import cpu_line

from magsearch import language
from magsearch.archive import sha256_bytes
from magsearch.errors import IngestError
from magsearch.ingest import sidecar
from magsearch.ingest.analyse import Job, analyse
from magsearch.ingest.ocr import OcrOptions
from magsearch.ingest.pipeline import find_files
from magsearch.ingest.registry import parse_bytes

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("folders", nargs="*", type=Path)
    args = ap.parse_args()
    print(f"machine: {cpu_line()}; load: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    model = language._model()
    folders = args.folders or [ROOT.parent / "shared" / "corpus", ROOT / "archive"]
    for folder in folders:
        if not folder.is_dir():
            print(f"language_bench: {folder}: no such folder", file=sys.stderr)
            return 2
    files = find_files(folders)
    docs = texts = answers = probs = analyses = 0
    cpu = {False: 0.0, True: 0.0}
    for path in files:
        data = path.read_bytes()
        job = Job(
            str(path), data, sha256_bytes(data), "", sidecar.load(path), ocr=OcrOptions("never")
        )
        try:
            blocks = parse_bytes(data).blocks
        except IngestError:
            continue  # no text: encrypted, empty
        seen = {}
        for joined in (False, True):
            model.joinable = joined  # False: py3langid's classify on each text
            result = analyse(job)
            body = [b.text for b in blocks] + [p.text for p in result.passages]
            todo = ["\n".join(b.text for b in blocks), *body]
            samples = [language._sample(t) for t in todo]
            start = time.process_time()
            found = language.detect_all(todo)
            cpu[joined] += time.process_time() - start
            scored = model.classify_all(samples)
            seen[joined] = (found, scored, result.fields["language"], result.passages)
        docs += 1
        texts += len(todo)
        (a, s, lang, ps), (b, t, lang2, ps2) = seen[False], seen[True]
        answers += sum(x != y for x, y in zip(a, b, strict=True))
        probs += sum(x != y for x, y in zip(s, t, strict=True))
        differs = lang != lang2 or [p.language for p in ps] != [p.language for p in ps2]
        analyses += differs
        if a != b or differs:
            print(f"  differs: {path}", file=sys.stderr)
    model.joinable = True
    print(f"{docs} documents, {texts} texts (documents, blocks, passages) detected both ways")
    print(f"answers that differ: {answers}; probabilities that differ: {probs}; "
          f"analyse() results that differ: {analyses}")  # fmt: skip
    print(f"CPU of detection: one at a time {1000 * cpu[False] / docs:.2f} ms per document, "
          f"all at once {1000 * cpu[True] / docs:.2f} ms")  # fmt: skip
    return 1 if answers or analyses else 0


if __name__ == "__main__":
    sys.exit(main())
