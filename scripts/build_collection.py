"""Build the bundled sample collection's PDFs (archive/*.pdf) from their sources.

    .venv/bin/python scripts/build_collection.py           # (re)write archive/<name>.pdf
    .venv/bin/python scripts/build_collection.py --check   # exit 1 if a PDF is out of date

Each source scripts/collection/<name>.md (or .txt) becomes archive/<name>.pdf: a real text layer,
PDF metadata (title, author, subject, keywords, a fixed creation date) and "Page N of M" in the
footer. The output is byte-for-byte reproducible: same sources, fonts and fpdf2 give the same
sha256. The HTML documents and every *.meta.json sidecar in archive/ are written by hand.

Source format: front matter, a line "---", then the body.

    title: Magnitskiy and Others v. Russia        (required)
    author: magsearch sample collection           (optional; also subject, keywords)
    created: 2026-01-15                           (optional; the PDF creation date)
    ---
    = CENTRED BOLD LINE          title-block line, e.g. the court's name
    ~ centred plain line         title-block line in regular type
    # Heading                    heading, level 1 (## 2, ### 3, #### 4), always on one line:
                                 a long one is set smaller, and one that still does not fit
                                 stops the build
    > Note text                  a boxed note in sans-serif (joined over lines like a paragraph)
    Paragraph text ...           lines are joined until a blank line
      (a) Indented paragraph     two leading spaces per indent level (statute subsections)
    +++                          page break

A paragraph line that wraps so that its continuation starts like a new numbered paragraph,
section or article ("41. ", "SEC. 4", "(b) ", "Article 3") would mislead a text extractor,
so the build stops and names the source line: reword it.
"""

from __future__ import annotations

import argparse
import hashlib
import re
import sys
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import MethodReturnValue, XPos, YPos

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ROOT / "scripts" / "collection"
ARCHIVE = ROOT / "archive"
DEJAVU = Path("/usr/share/fonts/truetype/dejavu")
# (family, style): file. Only the four faces of Debian's fonts-dejavu-core, so that most
# machines can rebuild the committed PDFs byte for byte. Without them: core Times/Helvetica.
FONT_FILES = {
    ("Serif", ""): "DejaVuSerif.ttf",
    ("Serif", "B"): "DejaVuSerif-Bold.ttf",
    ("Sans", ""): "DejaVuSans.ttf",
    ("Sans", "B"): "DejaVuSans-Bold.ttf",
}
CORE_FONTS = {"Serif": "Times", "Sans": "Helvetica"}
DEFAULT_CREATED = "2026-01-15"
CREATOR = "magsearch scripts/build_collection.py"

BODY_SIZE = 10.5
LINE_H = 5.2
PARA_GAP = 2.2
INDENT = 7.0
HEADING_FONTS = {1: ("Serif", 11.5), 2: ("Serif", 11), 3: ("Serif", 10.5), 4: ("Sans", 9.5)}
MIN_HEADING_SIZE = 8.5  # a heading too wide for the line is set smaller, down to this

# A wrapped continuation line must not look like the start of a numbered unit.
MISLEADING_START = re.compile(
    r"^(\d+\.\s|\d+\.—|\((?:[a-z]{1,2}|[A-Z]|\d{1,2}|[ivx]{1,5})\)\s"
    r"|SEC\.\s|Sec\.\s|Section\s\d|Article\s\d|Regulation\s\d)"
)
# Core-font fallback when DejaVu is missing: Latin-1 only.
ASCII_FALLBACK = str.maketrans(
    {"—": "--", "–": "-", "‘": "'", "’": "'", "“": '"', "”": '"', "…": "...", "\u00a0": " "}
)


class SourceError(ValueError):
    """A source file that does not follow the format in this module's docstring."""


@dataclass(frozen=True)
class Block:
    kind: str  # "center-bold", "center", "heading", "note", "para", "pagebreak"
    text: str = ""
    level: int = 0  # heading level, or indent level for paragraphs
    line: int = 0  # 1-based line of the source where the block starts


@dataclass(frozen=True)
class Source:
    path: Path
    meta: dict[str, str]
    blocks: list[Block]

    @property
    def output_name(self) -> str:
        return self.path.stem + ".pdf"


def parse_source(path: Path) -> Source:
    lines = path.read_text(encoding="utf-8").splitlines()
    try:
        sep = lines.index("---")
    except ValueError:
        raise SourceError(f"{path.name}: no '---' line after the front matter") from None
    meta: dict[str, str] = {}
    for n, line in enumerate(lines[:sep], start=1):
        if not line.strip():
            continue
        key, colon, value = line.partition(":")
        if not colon:
            raise SourceError(f"{path.name}:{n}: front matter line is not 'key: value'")
        meta[key.strip().lower()] = value.strip()
    if not meta.get("title"):
        raise SourceError(f"{path.name}: front matter needs a title")
    return Source(path, meta, parse_body(lines[sep + 1 :], first_line=sep + 2))


def parse_body(lines: list[str], first_line: int) -> list[Block]:
    blocks: list[Block] = []
    buf: list[str] = []
    start = 0
    kind = "para"
    indent = 0

    def flush() -> None:
        nonlocal buf
        if buf:
            blocks.append(Block(kind, " ".join(buf), indent, start))
        buf = []

    for n, raw in enumerate(lines, start=first_line):
        line = raw.rstrip()
        stripped = line.strip()
        if not stripped:
            flush()
            continue
        single = single_line_block(stripped, n)
        if single is not None:
            flush()
            blocks.append(single)
            continue
        if buf:
            buf.append(stripped.removeprefix("> ") if kind == "note" else stripped)
            continue
        start = n
        if stripped.startswith("> "):
            kind, indent, buf = "note", 0, [stripped[2:]]
        else:
            lead = len(line) - len(line.lstrip(" "))
            kind, indent, buf = "para", lead // 2, [stripped]
    flush()
    return blocks


def single_line_block(stripped: str, n: int) -> Block | None:
    if stripped == "+++":
        return Block("pagebreak", line=n)
    if stripped.startswith("= "):
        return Block("center-bold", stripped[2:], line=n)
    if stripped.startswith("~ "):
        return Block("center", stripped[2:], line=n)
    m = re.match(r"^(#{1,4}) (.+)$", stripped)
    if m:
        return Block("heading", m.group(2), len(m.group(1)), n)
    return None


class CollectionPDF(FPDF):
    """A4 portrait, serif body, sans-serif notes, page numbers centred in the footer."""

    def __init__(self, unicode_fonts: bool) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        self.unicode_fonts = unicode_fonts
        if unicode_fonts:
            for (family, style), fname in FONT_FILES.items():
                self.add_font(family, style, str(DEJAVU / fname))
        self.set_margins(left=22, top=22, right=22)
        self.set_auto_page_break(auto=True, margin=22)
        self.alias_nb_pages()

    def use(self, family: str, style: str, size: float) -> None:
        """Select "Serif" or "Sans", mapped to a core font when DejaVu is missing."""
        self.set_font(family if self.unicode_fonts else CORE_FONTS[family], style, size)

    def text_for(self, text: str) -> str:
        if self.unicode_fonts:
            return text
        clean = text.translate(ASCII_FALLBACK)
        return clean.encode("latin-1", "ignore").decode("latin-1")

    def footer(self) -> None:
        self.set_y(-14)
        self.use("Serif", "", 8.5)
        self.cell(0, 5, f"Page {self.page_no()} of {{nb}}", align="C")


def render(source: Source, unicode_fonts: bool) -> bytes:
    pdf = CollectionPDF(unicode_fonts)
    meta = source.meta
    pdf.set_title(meta["title"])
    pdf.set_author(meta.get("author", "magsearch sample collection"))
    if meta.get("subject"):
        pdf.set_subject(meta["subject"])
    if meta.get("keywords"):
        pdf.set_keywords(meta["keywords"])
    pdf.set_creator(CREATOR)
    pdf.set_lang("en")
    created = datetime.fromisoformat(meta.get("created", DEFAULT_CREATED))
    pdf.set_creation_date(created.replace(tzinfo=UTC))
    pdf.add_page()
    for block in source.blocks:
        render_block(pdf, block, source.path.name)
    return bytes(pdf.output())


def render_block(pdf: CollectionPDF, block: Block, name: str) -> None:
    text = pdf.text_for(block.text)
    if block.kind == "pagebreak":
        pdf.add_page()
    elif block.kind in ("center-bold", "center"):
        pdf.use("Serif", "B" if block.kind == "center-bold" else "", 11.5)
        pdf.multi_cell(0, 6.2, text, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.ln(1.2)
    elif block.kind == "heading":
        family, size = HEADING_FONTS[block.level]
        keep_with_next = 7 + 3 * LINE_H
        if pdf.get_y() + keep_with_next > pdf.page_break_trigger:
            pdf.add_page()
        pdf.ln(2.5 if block.level == 1 else 1.5)
        pdf.use(family, "B", size)
        while pdf.get_string_width(text) > pdf.epw and size > MIN_HEADING_SIZE:
            size -= 0.5
            pdf.use(family, "B", size)
        if pdf.get_string_width(text) > pdf.epw:
            raise SourceError(
                f"{name}:{block.line}: heading does not fit on one line; shorten it: {text[:40]!r}"
            )
        pdf.multi_cell(0, size * 0.55, text, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.ln(1.8)
    elif block.kind == "note":
        pdf.use("Sans", "", 9)
        check_wrapping(pdf, text, 0, block, name)
        pdf.set_fill_color(238, 238, 238)
        pdf.multi_cell(
            0, 4.8, text, border=1, align="L", fill=True, padding=2.5,
            new_x=XPos.LMARGIN, new_y=YPos.NEXT,
        )  # fmt: skip
        pdf.ln(PARA_GAP + 1)
    else:
        pdf.use("Serif", "", BODY_SIZE)
        indent = INDENT * block.level
        check_wrapping(pdf, text, indent, block, name)
        pdf.set_x(pdf.l_margin + indent)
        pdf.multi_cell(0, LINE_H, text, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.ln(PARA_GAP)


def check_wrapping(pdf: CollectionPDF, text: str, indent: float, block: Block, name: str) -> None:
    width = pdf.epw - indent - (5 if block.kind == "note" else 0)
    lines = pdf.multi_cell(
        width, LINE_H, text, align="L", dry_run=True, output=MethodReturnValue.LINES
    )
    for cont in lines[1:]:
        if MISLEADING_START.match(cont.strip()):
            message = (
                f"{name}:{block.line}: a wrapped line starts with {cont.strip()[:24]!r}, "
                "which reads like a new numbered unit; reword the paragraph"
            )
            if not pdf.unicode_fonts:  # fallback fonts wrap differently: warn only
                print(f"warning: {message}", file=sys.stderr)
                continue
            raise SourceError(message)


def build(out_dir: Path) -> list[tuple[Path, str]]:
    unicode_fonts = all((DEJAVU / f).is_file() for f in FONT_FILES.values())
    if not unicode_fonts:
        print(
            f"warning: DejaVu fonts not found in {DEJAVU}; using core Times, dropping "
            "non-Latin-1 characters (the PDFs will differ from the committed ones)",
            file=sys.stderr,
        )
    sources = sorted([*SOURCES.glob("*.md"), *SOURCES.glob("*.txt")])
    if not sources:
        raise SourceError(f"no sources in {SOURCES}")
    written = []
    for path in sources:
        data = render(parse_source(path), unicode_fonts)
        target = out_dir / (path.stem + ".pdf")
        target.write_bytes(data)
        written.append((target, hashlib.sha256(data).hexdigest()))
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--check", action="store_true", help="build into a temporary folder and compare"
    )
    args = parser.parse_args(argv)
    try:
        if not args.check:
            for target, digest in build(ARCHIVE):
                print(f"{digest}  {target.relative_to(ROOT)}")
            return 0
        with tempfile.TemporaryDirectory() as tmp:
            stale = []
            for target, digest in build(Path(tmp)):
                committed = ARCHIVE / target.name
                if not committed.is_file() or sha256_of(committed) != digest:
                    stale.append(committed.relative_to(ROOT))
        for path in stale:
            print(f"out of date: {path} (run make collection)", file=sys.stderr)
        return 1 if stale else 0
    except SourceError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


if __name__ == "__main__":
    sys.exit(main())
