"""Fidelity: how many of a file's words a search can find.

For every file of the shared corpus (MAGSEARCH_CORPUS, default ../shared/corpus) and of the bundled
collection (archive/), the words of a plain extraction of the file are compared with the words of
the text magsearch indexes for it:

- plain extraction: pypdf's ``extract_text()`` of each page (the empty password tried on encrypted
  files); for HTML the visible text (bs4 with lxml, without head, script, style, noscript,
  template and hidden elements: ``hidden``, ``aria-hidden="true"``, ``display:none``,
  ``visibility:hidden``); for plain text the decoded file;
- indexed text: what ``magsearch.index.whoosh.indexed_text`` gives for the document that
  ``magsearch.ingest.analyse`` makes of the file (title, passages with their headings, and the
  text outside the main content), i.e. every text field the index holds for it.

Words: NFKC, lower case, runs of letters and digits; every CJK ideograph, kana or hangul syllable
is a word of its own; a word broken over a line end by a hyphen ("hospi-" / "tal") is the joined
word. A word occurrence is findable when the indexed text holds the word at least as many times as
the extraction has found so far (multisets: the 500th "Hello" of a 500-page file counts only if the
index holds 500). Share = findable occurrences / occurrences.

    .venv/bin/python bench/fidelity.py              # a table: one line per file, worst first
    .venv/bin/python bench/fidelity.py --missing    # plus the missing words of each file
    .venv/bin/python bench/fidelity.py FILE...      # only these files
    .venv/bin/python bench/fidelity.py --ocr never  # without OCR (minutes faster)

OCR runs as an ingest runs it by default (``auto``: on the pages that need it: no text layer, or
one that is not words, such as glyph codes), which is most of the run's time; ``--ocr never``
leaves it out. tests/test_fidelity.py holds the floor without OCR on a sample of these files.
"""

from __future__ import annotations

import argparse
import io
import os
import re
import sys
import time
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "src"))

from common import cpu_line  # noqa: E402

from magsearch.errors import IngestError  # noqa: E402
from magsearch.index.base import IndexRecord  # noqa: E402
from magsearch.index.whoosh import indexed_text  # noqa: E402
from magsearch.ingest import sidecar  # noqa: E402
from magsearch.ingest.analyse import Job, analyse  # noqa: E402
from magsearch.ingest.ocr import MODES, OcrOptions  # noqa: E402
from magsearch.models import Document, Kind  # noqa: E402

GOAL = 0.99
UNREADABLE = "unreadable text layer"  # ingest's warning for pages whose text layer is not words
SKIP_NAMES = {"MANIFEST.tsv", "NOTES.md", "README.md"}
_CJK = (
    "\u3040-\u30ff"  # kana
    "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"  # ideographs
    "\uac00-\ud7af"  # hangul syllables
)
_WORD = re.compile(rf"[{_CJK}]|[^\W_{_CJK}]+")
_HYPHEN_BREAK = re.compile(r"(?<=[a-zà-ÿа-я])-[ \t]*\n[ \t]*(?=[a-zà-ÿа-я])")


def corpus_dir() -> Path:
    raw = os.environ.get("MAGSEARCH_CORPUS")
    return Path(raw) if raw else ROOT.parent / "shared" / "corpus"


def words(text: str) -> list[str]:
    text = unicodedata.normalize("NFKC", text).lower()
    return _WORD.findall(_HYPHEN_BREAK.sub("", text))


# -- the plain extraction ----------------------------------------------------------------------
def pdf_text(data: bytes) -> str:
    import logging

    from pypdf import PdfReader

    logging.getLogger("pypdf").setLevel(logging.CRITICAL)
    reader = PdfReader(io.BytesIO(data), strict=False)
    if reader.is_encrypted:
        reader.decrypt("")
    pages = []
    for page in reader.pages:
        try:
            pages.append(page.extract_text() or "")
        except Exception:  # noqa: BLE001 - a page pypdf cannot read has no plain text either
            pages.append("")
    return "\n".join(pages)


_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.I)
_BLOCKS = (
    "p div section article main header footer nav aside li ul ol dl dd dt blockquote table tr td "
    "th caption figure figcaption address details summary hr br h1 h2 h3 h4 h5 h6 pre form "
    "fieldset legend option select button textarea label input img iframe body"
).split()
_NOT_SHOWN = ("head", "script", "style", "noscript", "template", "title", "meta", "link")


def html_text(data: bytes) -> str:
    from bs4 import BeautifulSoup, Comment

    from magsearch.ingest.html import decode_html

    text, _ = decode_html(data)
    soup = BeautifulSoup(text.replace("\x00", ""), "lxml")
    for tag in soup.find_all(_NOT_SHOWN):
        tag.decompose()
    for tag in soup.find_all(True):
        if tag.decomposed or not tag.attrs:
            continue
        style = tag.attrs.get("style") or ""
        if (
            "hidden" in tag.attrs
            or str(tag.attrs.get("aria-hidden", "")).lower() == "true"
            or _HIDDEN_STYLE.search(style if isinstance(style, str) else " ".join(style))
        ):
            tag.decompose()
    for c in soup.find_all(string=lambda s: isinstance(s, Comment)):
        c.extract()
    for tag in soup.find_all(_BLOCKS):  # inline elements join ("1<sup>st</sup>"), blocks do not
        tag.insert_before("\n")
        tag.insert_after("\n")
    return soup.get_text("")


def plain_text(path: Path, data: bytes) -> str:
    from magsearch.ingest.detect import HTML, PDF, detect
    from magsearch.ingest.text import decode_text

    kind = detect(data)
    if kind == PDF:
        return pdf_text(data)
    if kind == HTML:
        return html_text(data)
    return decode_text(data).text


# -- the indexed text --------------------------------------------------------------------------
def searchable_text(path: Path, data: bytes, ocr: str = "auto") -> tuple[str, list[str]]:
    side = sidecar.load(path) if path.parent.name == "archive" else {}
    a = analyse(Job(str(path), data, "0" * 64, sidecar=side, ocr=OcrOptions(mode=ocr)))
    doc = Document(
        id="x",
        kind=Kind(a.kind),
        title=a.title,
        date=a.fields.get("date", ""),
        language=a.fields.get("language", ""),
        meta=a.meta,
    )
    rec = IndexRecord(doc=doc, version="0" * 64, passages=tuple(a.passages), outside=a.outside)
    return indexed_text(rec), a.warnings


@dataclass
class Result:
    name: str
    words: int = 0
    found: int = 0
    missing: Counter[str] = field(default_factory=Counter)
    note: str = ""
    seconds: float = 0.0
    refused: bool = False  # ingest refuses the file (a user password): nothing to index

    @property
    def excused(self) -> bool:
        """Below the goal for a reason the file carries: refused, or a text layer that ingest
        finds unreadable (glyph codes, mis-mapped CID fonts), so its plain words are not words."""
        return self.refused or UNREADABLE in self.note

    @property
    def share(self) -> float:
        return self.found / self.words if self.words else 1.0


def measure(path: Path, name: str, ocr: str = "auto") -> Result:
    start = time.perf_counter()
    data = path.read_bytes()  # main() checked that it can be read
    out = Result(name)
    try:
        ref = words(plain_text(path, data))
    except Exception as exc:  # noqa: BLE001 - nothing a plain reader gets out is nothing to lose
        out.note = f"no plain text ({type(exc).__name__})"
        ref = []
    try:
        text, warnings = searchable_text(path, data, ocr)
    except IngestError as exc:
        text, warnings = "", []
        out.note = (out.note + "; " if out.note else "") + f"not ingested: {exc}"
        out.refused = True
    unreadable = [w for w in warnings if w.startswith(UNREADABLE)]
    if unreadable:  # the plain extraction of those pages is glyph codes, not words
        out.note = (out.note + "; " if out.note else "") + "; ".join(unreadable)
    have = Counter(words(text))
    seen: Counter[str] = Counter()
    for w in ref:
        seen[w] += 1
        if seen[w] <= have[w]:
            out.found += 1
        else:
            out.missing[w] += 1
    out.words = len(ref)
    out.seconds = time.perf_counter() - start
    return out


def files(corpus: Path) -> list[tuple[Path, str]]:
    out: list[tuple[Path, str]] = []
    if corpus.is_dir():
        for p in sorted(corpus.rglob("*")):
            if p.is_file() and p.name not in SKIP_NAMES and not sidecar.is_sidecar(p):
                out.append((p, str(p.relative_to(corpus))))
    for p in sorted((ROOT / "archive").iterdir()):
        if p.is_file() and p.name not in SKIP_NAMES and not sidecar.is_sidecar(p):
            out.append((p, f"archive/{p.name}"))
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("paths", nargs="*", help="only these files (default: corpus and archive/)")
    ap.add_argument("--missing", action="store_true", help="list each file's missing words")
    ap.add_argument("--top", type=int, default=30, help="missing words shown per file")
    ap.add_argument("--ocr", choices=MODES, default="auto", help="OCR as ingest runs it (auto)")
    args = ap.parse_args(argv)
    todo = [(Path(p), p) for p in args.paths] or files(corpus_dir())
    for path, name in todo:
        if not os.access(path, os.R_OK) or not path.is_file():
            print(f"fidelity: {name}: not a readable file", file=sys.stderr)
            return 2
    results = []
    for k, (path, name) in enumerate(todo, 1):
        if sys.stderr.isatty():
            print(f"\r{k}/{len(todo)} {name[:60]:<60}", end="", file=sys.stderr, flush=True)
        results.append(measure(path, name, args.ocr))
    if sys.stderr.isatty():
        print(file=sys.stderr)
    load = os.getloadavg()
    print(f"# fidelity, {len(results)} files, OCR {args.ocr}; {cpu_line()}; load {load[0]:.2f}")
    print("| file | words | findable | share | note |")
    print("| --- | ---: | ---: | ---: | --- |")
    for r in sorted(results, key=lambda r: (r.share, r.name)):
        print(f"| {r.name} | {r.words} | {r.found} | {r.share:.4f} | {r.note} |")
    total = sum(r.words for r in results)
    found = sum(r.found for r in results)
    below = [r for r in results if r.share < GOAL]
    excused = sum(r.excused for r in below)
    why = f" ({excused} refused or with an unreadable text layer)" if excused else ""
    print(
        f"| **all** | {total} | {found} | {found / max(total, 1):.4f} "
        f"| {len(below)} below {GOAL}{why} |"
    )
    if args.missing:
        for r in sorted(results, key=lambda r: r.name):
            if r.missing:
                shown = ", ".join(f"{w}×{n}" for w, n in r.missing.most_common(args.top))
                more = len(r.missing) - args.top
                print(
                    f"\n{r.name}: {sum(r.missing.values())} missing: {shown}"
                    + (f" (+{more} more words)" if more > 0 else "")
                )
    return 0


if __name__ == "__main__":
    sys.exit(main())
