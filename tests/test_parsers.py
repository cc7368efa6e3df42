"""The parsers on the real files of the shared corpus (table-driven) and on generated hostile input.

Expected PDF outcomes were found by running pypdf 7.1.1 on each file and reading the MANIFEST
descriptions; where the outcome differs from the description the entry says why.
"""

from __future__ import annotations

import datetime
import re
import subprocess
import sys
import time
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import lxml.html  # type: ignore[import-untyped]
import pytest
from fpdf import FPDF
from fpdf.enums import EncryptionMethod

from conftest import corpus_root
from magsearch.errors import IngestError
from magsearch.ingest.html import HtmlParser, decode_html
from magsearch.ingest.pdf import PdfParser, page_blocks, page_ranges
from magsearch.ingest.registry import Parser, parse_bytes, parser_for
from magsearch.ingest.text import TextParser, iso_date
from magsearch.models import Block, Parsed

REPO = Path(__file__).resolve().parent.parent
CORPUS = corpus_root()
MANIFEST = CORPUS / "MANIFEST.tsv"
NO_CORPUS = f"shared corpus not found at {CORPUS} (set MAGSEARCH_CORPUS)"
LIMIT_SECONDS = 30.0  # a corpus parse slower than this fails (the slowest, freeculture, takes ~5 s)


@dataclass(frozen=True)
class Row:
    path: Path
    kind: str
    description: str


def manifest() -> list[Row]:
    if not MANIFEST.is_file():
        return []
    rows = []
    for line in MANIFEST.read_text(encoding="utf-8").splitlines()[1:]:
        cells = line.split("\t")
        if len(cells) >= 7:
            rows.append(Row(CORPUS / cells[0].removeprefix("shared/corpus/"), cells[3], cells[6]))
    return rows


def params(suffix: str) -> list[object]:
    rows = [row for row in manifest() if row.path.suffix == suffix]
    if not rows:
        return [pytest.param(None, marks=pytest.mark.skip(reason=NO_CORPUS), id="no-corpus")]
    return [pytest.param(row, id=row.path.name) for row in rows]


def text_of(parsed: Parsed) -> str:
    return "\n".join(block.text for block in parsed.blocks)


def timed_parse(path: Path) -> tuple[Parsed, float]:
    start = time.perf_counter()
    parsed = parse_bytes(path.read_bytes())
    return parsed, time.perf_counter() - start


# =========================================================================== registry


def test_registry_gives_one_parser_per_media_type() -> None:
    assert isinstance(parser_for("application/pdf"), PdfParser)
    assert isinstance(parser_for("text/html; charset=utf-8"), HtmlParser)
    assert isinstance(parser_for("text/plain"), TextParser)
    for media_type in ("application/pdf", "text/html", "text/plain"):
        parser = parser_for(media_type)
        assert isinstance(parser, Parser)
        assert media_type in parser.media_types
    with pytest.raises(IngestError, match="no parser for image/png"):
        parser_for("image/png")


def test_importing_the_registry_does_not_import_pypdf_or_bs4() -> None:
    code = (
        "import sys, magsearch.ingest.registry\nprint('pypdf' in sys.modules, 'bs4' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_parse_bytes_refuses_what_detect_refuses() -> None:
    with pytest.raises(IngestError, match=r"^unsupported format \(gzip data\)$"):
        parse_bytes(b"\x1f\x8b\x08\x00" + bytes(40))
    with pytest.raises(IngestError, match="^empty file$"):
        parse_bytes(b"")


# =========================================================================== PDF: the corpus


@dataclass(frozen=True)
class Pdf:
    pages: int | None = None  # None: the parse must fail
    error: str = ""  # substring of the IngestError message
    warnings: tuple[str, ...] = ()  # substrings, each in some warning
    text: tuple[str, ...] = ()  # substrings of the extracted text
    title: str = ""
    no_text: bool = False  # no blocks at all


OCR = "; OCR needed"
PDFS: dict[str, Pdf] = {
    "ingest__empty.pdf": Pdf(error="empty file"),
    "ingest__example.pdf": Pdf(
        9, warnings=(f"unreadable text layer on pages 1-9{OCR}",), no_text=True
    ),
    "ingest__greek.pdf": Pdf(2, warnings=(f"no text layer on pages 1-2{OCR}",), no_text=True),
    "ingest__jbig2.pdf": Pdf(5, warnings=(f"no text layer on pages 1-5{OCR}",), no_text=True),
    "ingest__the-dorset-food-menu.pdf": Pdf(
        2, text=("CAMEMBERT MELTS",), title="The Dorset Food Menu"
    ),
    "ingest__udhr_ger.pdf": Pdf(
        6, text=("Allgemeine Erklärung der Menschenrechte", "gemäß", "Würde")
    ),
    "paperless__multi-page-images.pdf": Pdf(
        3, warnings=(f"no text layer on pages 1-3{OCR}",), no_text=True
    ),
    # Fonts without ToUnicode maps on pages 2-22 (not in the MANIFEST description).
    "pdfjs__TAMReview.pdf": Pdf(
        23,
        warnings=(f"unreadable text layer on pages 2-22{OCR}",),
        title="Overview of the Technology Acceptance Model",
    ),
    "pdfjs__bug1795263.pdf": Pdf(
        1, warnings=("pdf: incorrect startxref pointer",), text=("Erdgas – zuverlässig, sicher",)
    ),
    "pdfjs__freeculture.pdf": Pdf(
        352, text=("In 1928, a cartoon character was born.",), title="Free Culture"
    ),
    "pdfjs__helloworld-bad.pdf": Pdf(
        1, warnings=("pdf: incorrect startxref pointer",), text=("Hello, world!",)
    ),
    "pdfjs__issue13211.pdf": Pdf(1, text=("เวกเตอร์",)),  # Thai
    "pdfjs__issue15690.pdf": Pdf(
        1, text=("Ｏｐｔｉｍｉｚａｔｉｏｎ",), title="文档1"
    ),  # full-width
    # pypdf 7.1.1 maps these Japanese CID fonts to Greek/Coptic/Bengali... garbage: refused.
    "pdfjs__issue16538.pdf": Pdf(
        1, warnings=(f"unreadable text layer on page 1{OCR}",), no_text=True
    ),
    "pdfjs__issue5567.pdf": Pdf(1, warnings=(f"no text layer on page 1{OCR}",), no_text=True),
    "pdfjs__issue9418.pdf": Pdf(
        1,
        warnings=(f"unreadable text layer on page 1{OCR}", "document information ignored", "pdf: "),
        no_text=True,
    ),
    # Page 1 yields 8 stray characters (not caught as garbage: too few to judge).
    "pdfjs__vertical.pdf": Pdf(3, warnings=(f"no text layer on pages 2-3{OCR}",)),
    "pdfjs__xref_command_missing.pdf": Pdf(
        1, warnings=("pdf: incorrect startxref pointer",), text=("Reduced test-case",)
    ),
    "pdfminer__issue-00352-asw-oct96-p41.pdf": Pdf(
        1, text=("Cabin Depressurization",), title="Losing the Cabin"
    ),
    "pdfminer__issue-1061-colour-space-stack.pdf": Pdf(
        12, text=("Individual Differential Privacy",)
    ),
    "pdfminer__jo.pdf": Pdf(1, warnings=(f"unreadable text layer on page 1{OCR}",), no_text=True),
    "pdfminer__zen_of_python_corrupted.pdf": Pdf(1, text=("Beautiful is better than ugly.",)),
    "pypdf__GeoBase_NHNC1_Data_Model_UML_EN.pdf": Pdf(19, text=("National Hydro Network",)),
    "pypdf__Seige_of_Vicksburg_Sample_OCR.pdf": Pdf(6, text=("THE SIEGE OF VICKSBURG",)),
    "pypdf__issue-301.pdf": Pdf(1),  # recovered; its own OCR layer is noise
    "pypdf__pdflatex-outline.pdf": Pdf(4, text=("Hello, here is some text without a meaning.",)),
    "pypdf__r2-empty-password.pdf": Pdf(1, text=("pdf encryption test",)),
    "pypdf__r3-empty-password.pdf": Pdf(1, text=("pdf encryption test",)),
    "pypdf__r6-empty-password.pdf": Pdf(1, text=("pdf encryption test",)),
    # A user password is set; only the *owner* password is empty. pypdf would open it with "",
    # but the parser refuses files whose author set a user password.
    "pypdf__r6-user-password.pdf": Pdf(error="encrypted: password required"),
    # shared/corpus/scans/: scanned pages with no text layer; the parser lists them for OCR
    # (test_scanned_pages_are_listed_for_ocr), which tests/test_ocr.py runs on them
    "ocrmypdf__c02-22.pdf": Pdf(1, warnings=(f"no text layer on page 1{OCR}",), no_text=True),
    "ocrmypdf__multipage.pdf": Pdf(6, warnings=(f"no text layer on pages 1-3, 5-6{OCR}",)),
    "courtlistener__Calderon_Fuentes_EHO.pdf": Pdf(
        11, warnings=(f"no text layer on pages 7-11{OCR}",), text=("EXPEDITED HEARING ORDER",)
    ),
    "courtlistener__Diaz_v_Create_and_Construct_LLC.pdf": Pdf(3, text=("Create and Construct",)),
    "courtlistener__opinion_tax.pdf": Pdf(
        32, text=("T.C. Memo. 2020-26", "MEMORANDUM FINDINGS OF FACT AND OPINION")
    ),
}


def test_every_corpus_pdf_has_an_expectation() -> None:
    names = {row.path.name for row in manifest() if row.path.suffix == ".pdf"}
    if not names:
        pytest.skip(NO_CORPUS)
    assert names == set(PDFS)


@pytest.mark.parametrize("row", params(".pdf"))
def test_corpus_pdf(row: Row) -> None:
    expected = PDFS[row.path.name]
    if expected.pages is None:
        with pytest.raises(IngestError) as caught:
            parse_bytes(row.path.read_bytes())
        assert expected.error in str(caught.value)
        return
    parsed, seconds = timed_parse(row.path)
    assert seconds < LIMIT_SECONDS
    assert (parsed.format, parsed.media_type, parsed.pages) == (
        "pdf",
        "application/pdf",
        expected.pages,
    )
    for wanted in expected.warnings:
        assert any(wanted in warning for warning in parsed.warnings), (wanted, parsed.warnings)
    text = text_of(parsed)
    for wanted in expected.text:
        assert wanted in text
    if expected.title:
        assert expected.title in parsed.metadata.get("title", "")
    if expected.no_text:
        assert parsed.blocks == []
    else:
        assert parsed.blocks
    assert all(block.page and 1 <= block.page <= expected.pages for block in parsed.blocks)
    assert "\ufffd" not in text
    assert len(parsed.warnings) <= 25


def test_pdf_parse_never_prints_or_logs(
    capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    """pypdf's complaints about a broken file become warnings, not log output."""
    path = CORPUS / "pdf-fixtures" / "pdfjs__helloworld-bad.pdf"
    if not path.is_file():
        pytest.skip(NO_CORPUS)
    caplog.set_level("DEBUG")
    parsed = PdfParser().parse(path.read_bytes())
    assert any(w.startswith("pdf: incorrect startxref pointer") for w in parsed.warnings)
    assert [r for r in caplog.records if r.name.startswith("pypdf")] == []
    assert capsys.readouterr() == ("", "")


# =========================================================================== PDF: generated files


def make_pdf(
    lines: list[str], pages: int = 1, blank_pages: tuple[int, ...] = (), **enc: object
) -> bytes:
    pdf = FPDF()
    pdf.set_font("helvetica", size=11)
    pdf.set_title("Magnitskiy and Others v. Russia")
    pdf.set_author("Registry of the Court; Section Three")
    pdf.set_creation_date(datetime.datetime(2019, 8, 27, 10, 0, tzinfo=datetime.UTC))
    if enc:
        pdf.set_encryption(**enc)  # type: ignore[arg-type]
    for number in range(1, pages + 1):
        pdf.add_page()
        if number in blank_pages:
            continue
        for line in lines:
            pdf.cell(text=line, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def test_pdf_user_password() -> None:
    data = make_pdf(
        ["secret"],
        owner_password="owner",
        user_password="user",
        encryption_method=EncryptionMethod.AES_256,
    )
    with pytest.raises(IngestError, match="^encrypted: password required$"):
        PdfParser().parse(data)


def test_pdf_with_only_an_owner_password_opens() -> None:
    data = make_pdf(
        ["open to all"], owner_password="owner", encryption_method=EncryptionMethod.AES_256
    )
    assert text_of(PdfParser().parse(data)) == "open to all"


def test_pdf_too_many_pages() -> None:
    data = make_pdf(["x"], pages=12)
    with pytest.raises(IngestError, match=r"^too many pages \(12 > 10\)$"):
        PdfParser().parse(data, max_pages=10)
    assert PdfParser().parse(data, max_pages=12).pages == 12


def test_pdf_pages_without_text_are_listed_as_ranges() -> None:
    data = make_pdf(["Some text."], pages=8, blank_pages=(1, 2, 3, 7))
    parsed = PdfParser().parse(data)
    assert parsed.warnings[0] == "no text layer on pages 1-3, 7; OCR needed"
    assert parsed.needs_ocr == [1, 2, 3, 7]
    assert [block.page for block in parsed.blocks] == [4, 5, 6, 8]


@pytest.mark.parametrize(
    ("name", "pages"),
    [
        ("scans/ocrmypdf__c02-22.pdf", [1]),
        ("scans/ocrmypdf__multipage.pdf", [1, 2, 3, 5, 6]),  # page 4 has a text layer
        ("rulings/courtlistener__Calderon_Fuentes_EHO.pdf", [7, 8, 9, 10, 11]),
        ("pdf-fixtures/pdfminer__jo.pdf", [1]),  # an unreadable text layer is read again too
    ],
)
def test_scanned_pages_are_listed_for_ocr(name: str, pages: list[int]) -> None:
    path = CORPUS / name
    if not path.is_file():
        pytest.skip(NO_CORPUS)
    parsed = parse_bytes(path.read_bytes())
    assert parsed.needs_ocr == pages
    assert parsed.ocr_pages == []  # the parser itself never runs OCR


def test_pdf_metadata() -> None:
    parsed = PdfParser().parse(make_pdf(["Text."]))
    assert parsed.metadata == {
        "title": "Magnitskiy and Others v. Russia",
        "authors": ["Registry of the Court", "Section Three"],
        "date": "2019-08-27",
    }


LEGAL_PAGE = [
    "SEC. 401. SHORT TITLE.",
    "This title may be cited as the Sergei Magnitsky Rule of Law",
    "Accountability Act of 2012.",
    "THE LAW",
    "40. The applicants complained under Article 3 of the",
    "Convention that Mr. Magnitsky had been ill-treated in the",
    "detention facility, see paragraph",
    "41. above, and that the hospi-",
    "tal had refused him care.",
    "41. The Court reiterates that Article 3 enshrines one of the",
    "most fundamental values of democratic societies.",
]


def test_pdf_blocks_from_a_generated_legal_page() -> None:
    parsed = PdfParser().parse(make_pdf(LEGAL_PAGE, pages=2))
    first_page = [(b.role, b.text) for b in parsed.blocks if b.page == 1]
    assert first_page == [
        ("heading", "SEC. 401. SHORT TITLE."),
        (
            "para",
            "This title may be cited as the Sergei Magnitsky Rule of Law Accountability Act of "
            "2012.",
        ),
        ("heading", "THE LAW"),
        (
            "para",
            "40. The applicants complained under Article 3 of the Convention that Mr. Magnitsky "
            "had been ill-treated in the detention facility, see paragraph 41. above, and that "
            "the hospital had refused him care.",
        ),
        (
            "para",
            "41. The Court reiterates that Article 3 enshrines one of the most fundamental "
            "values of democratic societies.",
        ),
    ]
    assert [b.page for b in parsed.blocks].count(2) == len(first_page)


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        (["- 7 -", "Body text."], [("para", "Body text.")]),
        (["Body text.", "Page 3 of 9"], [("para", "Body text.")]),
        (
            ["§ 10101. Definitions", "In this chapter:"],
            [("heading", "§ 10101. Definitions"), ("para", "In this chapter:")],
        ),
        (
            ["Article 3 Prohibition of torture", "No one shall be"],
            [("heading", "Article 3 Prohibition of torture"), ("para", "No one shall be")],
        ),
        (
            ["Section 465 provides that the", "amount is at risk."],
            [("para", "Section 465 provides that the amount is at risk.")],
        ),
        (["Smith v.", "Jones was decided."], [("para", "Smith v. Jones was decided.")]),
        (
            ["First sentence ends here.", "Second paragraph starts."],
            [("para", "First sentence ends here."), ("para", "Second paragraph starts.")],
        ),
        (["人工智能技术", "可能不需要人类。"], [("para", "人工智能技术可能不需要人类。")]),
        (  # enumerated items after a clause's end are paragraphs of their own
            ["(a) right to life;", "(b) right not to be tortured; or", "(c) right to liberty."],
            [
                ("para", "(a) right to life;"),
                ("para", "(b) right not to be tortured; or"),
                ("para", "(c) right to liberty."),
            ],
        ),
        (
            ["within the meaning of paragraphs (a) and", "(b) of subsection 2 of the Act."],
            [("para", "within the meaning of paragraphs (a) and (b) of subsection 2 of the Act.")],
        ),
        (["ﬁnal ﬂow", ""], [("para", "final flow")]),
    ],
)
def test_page_blocks_rules(lines: list[str], expected: list[tuple[str, str]]) -> None:
    assert [(b.role, b.text) for b in page_blocks("\n".join(lines), 1)] == expected


# (text, style, size, space before in mm, indent in mm): a page set as a statute is set
SET_PAGE = [
    ("A LONG TITLE OF AN ACT THAT IS SET", "B", 14, 0, 0),
    ("OVER TWO LINES OF THE TITLE PAGE", "B", 14, 0, 0),
    ("Citation and commencement", "B", 11, 4, 0),
    ("1. These Regulations may be cited as the Example Regulations 2020.", "", 11, 3, 0),
    (
        "The first paragraph runs over three lines of text. Its first line ends a sentence.",
        "",
        11,
        4,
        0,
    ),
    ("The paragraph goes on after that, on a second line that is just as long as", "", 11, 0, 0),
    ("the first one, and ends here.", "", 11, 0, 0),
    ("A second paragraph, set apart by space, is one line only and ends here.", "", 11, 4, 0),
    ("(a) right to life;", "", 11, 4, 7),
    ("(b) right not to be subjected to torture; or", "", 11, 0, 7),
    ("(c) right to be free from slavery.", "", 11, 0, 7),
    ("1 A footnote in small type at the foot of the page.", "", 8, 6, 0),
]


def set_pdf(rows: list[tuple[str, str, float, float, float]]) -> bytes:
    pdf = FPDF()
    pdf.add_page()
    for text, style, size, space, indent in rows:
        pdf.ln(space)
        pdf.set_font("helvetica", style, size)
        pdf.set_x(pdf.l_margin + indent)
        pdf.cell(h=6, text=text, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def test_pdf_blocks_from_the_layout_of_a_page() -> None:
    """Space, indentation and type tell paragraphs and headings apart where the text alone
    cannot: a line ending a sentence inside a paragraph, a sentence-case heading in bold, a title
    set on two lines, a footnote in small type."""
    blocks = PdfParser().parse(set_pdf(SET_PAGE)).blocks
    assert [(b.role, b.text) for b in blocks] == [
        ("heading", "A LONG TITLE OF AN ACT THAT IS SET OVER TWO LINES OF THE TITLE PAGE"),
        ("heading", "Citation and commencement"),
        ("para", SET_PAGE[3][0]),
        ("para", " ".join(row[0] for row in SET_PAGE[4:7])),
        ("para", SET_PAGE[7][0]),
        ("para", SET_PAGE[8][0]),
        ("para", SET_PAGE[9][0]),
        ("para", SET_PAGE[10][0]),
        ("para", SET_PAGE[11][0]),
    ]
    assert [b.level for b in blocks if b.role == "heading"] == [1, 2]  # by type: larger first
    # the same text without its layout: the old rules (a break after the first line's full stop)
    text_only = page_blocks("\n".join(row[0] for row in SET_PAGE[4:7]), 1)
    assert [b.text for b in text_only] == [SET_PAGE[4][0], " ".join(r[0] for r in SET_PAGE[5:7])]


COLLECTION = [
    "magnitskiy-v-russia",
    "us-magnitsky-act-2012",
    "canada-sergei-magnitsky-law-2017",
    "uk-global-human-rights-sanctions-regulations-2020",
    "russian-response-and-baltic-laws",
]


@pytest.mark.parametrize("stem", COLLECTION)
def test_collection_pdf_blocks_follow_their_source(stem: str) -> None:
    """archive/<stem>.pdf is built from scripts/collection/<stem>.md: every source block is one
    Block (a heading where the source has one), or two at a page break (the structure step joins
    them); nothing else, no "Page N of M"."""
    import importlib.util

    path = REPO / "scripts" / "build_collection.py"
    spec = importlib.util.spec_from_file_location("build_collection", path)
    assert spec and spec.loader
    module = sys.modules.setdefault(spec.name, importlib.util.module_from_spec(spec))
    spec.loader.exec_module(module)
    source = [b for b in module.parse_source(REPO / "scripts" / "collection" / f"{stem}.md").blocks]
    blocks = PdfParser().parse((REPO / "archive" / f"{stem}.pdf").read_bytes()).blocks
    texts = [" ".join(b.text.split()) for b in blocks]
    i = 0
    for want in [b for b in source if b.kind != "pagebreak"]:
        text = " ".join(want.text.split())
        if texts[i] != text and blocks[i + 1].page == (blocks[i].page or 0) + 1:
            assert f"{texts[i]} {texts[i + 1]}" == text  # the page break
            i += 2
            continue
        assert texts[i] == text, (i, texts[i], text)
        assert blocks[i].role == "heading" or want.kind != "heading", text
        i += 1
    assert i == len(blocks)
    assert not any(re.search(r"Page \d+ of \d+", t) for t in texts)


def test_page_ranges() -> None:
    assert page_ranges([7, 1, 2, 3]) == "1-3, 7"
    assert page_ranges([5]) == "5"
    assert page_ranges([]) == ""


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"%PDF-1.4\n", id="header-only"),
        pytest.param(
            b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n", id="no-xref"
        ),
        pytest.param(b"this is not a PDF at all", id="not-a-pdf"),
    ],
)
def test_pdf_damaged(data: bytes) -> None:
    with pytest.raises(IngestError, match=r"^damaged PDF: \S"):
        PdfParser().parse(data)


def test_pdf_truncated_corpus_file_fails_cleanly() -> None:
    path = CORPUS / "rulings" / "courtlistener__opinion_tax.pdf"
    if not path.is_file():
        pytest.skip(NO_CORPUS)
    data = path.read_bytes()
    with pytest.raises(IngestError, match="^damaged PDF: "):
        PdfParser().parse(data[: len(data) // 2])


# =========================================================================== HTML: the corpus

HTML_SENTENCES = {
    "readability__aclu.html": "Facebook and other tech companies often deflect accusations",
    "readability__bbc-1.html": "President Barack Obama has admitted that his failure to pass",
    "readability__guardian-1.html": "a mass stranding that was described as “unprecedented”",
    "readability__heise.html": "Zur TOTP-Nutzung muss zunächst ein Startwert",
    "readability__qq.html": "DeepMind的AlphaGo AI能够打败围棋冠军",
    "readability__wikipedia.html": "Mozilla",
    "courtlistener__not_wpd.html": "Prior to commencing this action, plaintiffs filed an action",
    "juriscraper__conn_example.html": "Addiction Services v. Freedom of Information Commission",
    "juriscraper__oklacrimapp_example.html": "Donald Wayne Thomas, Jr., Petitioner, pled guilty",
    "juriscraper__state_texas_sc_25-1066.html": "Petition for Writ of Mandamus",
    "juriscraper__tex_example.html": "CITY OF HOUSTON, TEXAS v. CHELSEA MANNING",
    "juriscraper__virginislands_example.html": "Nesta James v. People of the Virgin Islands",
}


def manifest_title(description: str) -> str | None:
    """The page title a MANIFEST description gives, if any."""
    m = re.search(r'page title "(.*)"$', description) or re.search(r'\), "(.*)"$', description)
    return " ".join(m[1].split()) if m else None


def manifest_language(description: str) -> str | None:
    m = re.search(r"\(lang ([\w-]+)\)", description)
    return m[1] if m and m[1] != "unspecified" else None


@pytest.mark.parametrize("row", params(".html"))
def test_corpus_html(row: Row) -> None:
    parsed, seconds = timed_parse(row.path)
    assert seconds < LIMIT_SECONDS
    assert (parsed.format, parsed.media_type, parsed.pages) == ("html", "text/html", None)
    assert parsed.blocks
    text = text_of(parsed)
    assert "\ufffd" not in text  # conn_example is windows-1252: decoded without replacement
    title = parsed.metadata.get("title", "")
    expected = manifest_title(row.description)
    if expected:  # the site's name may be cut from the end of the title
        assert title and (title in expected or expected in title), (title, expected)
    language = manifest_language(row.description)
    if language:
        assert parsed.metadata["language"].lower() == language.lower()
    if row.path.name in HTML_SENTENCES:
        assert HTML_SENTENCES[row.path.name] in text
    assert all(b.page is None and b.role in ("para", "heading") for b in parsed.blocks)
    assert all(b.text == " ".join(b.text.split()) for b in parsed.blocks)


def _norm(text: str) -> str:
    return " ".join(text.split())


@pytest.mark.parametrize("row", params(".html"))
def test_corpus_html_has_no_navigation_or_script_text(row: Row) -> None:
    """Text that only occurs inside <nav>, <script> or <style> (read with lxml on its own) is
    absent from the parsed text."""
    data = row.path.read_bytes()
    decoded, _ = decode_html(data)
    doc = lxml.html.document_fromstring(decoded.replace("\x00", ""))
    hidden = [_norm(t) for el in doc.xpath("//nav|//script|//style") for t in el.itertext()]
    for el in doc.xpath("//nav|//script|//style|//noscript|//template"):
        if el.getparent() is not None:
            el.drop_tree()
    elsewhere = _norm(" ".join(doc.itertext()))
    text = _norm(" ".join(b.text for b in parse_bytes(data).blocks))
    leaked = [s for s in hidden if len(s) >= 25 and s not in elsewhere and s[:40] in text]
    assert leaked == []


def test_windows_1252_page_decodes_without_replacement() -> None:
    path = CORPUS / "rulings" / "juriscraper__conn_example.html"
    if not path.is_file():
        pytest.skip(NO_CORPUS)
    data = path.read_bytes()
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    parsed = HtmlParser().parse(data)
    assert parsed.warnings == []
    assert "\ufffd" not in text_of(parsed)


# =========================================================================== HTML: generated input


def html(body: str, head: str = "") -> bytes:
    return f"<!DOCTYPE html><html lang='en'><head>{head}</head><body>{body}</body></html>".encode()


def test_html_deep_nesting() -> None:
    data = html("<div>" * 100_000 + "deep text" + "</div>" * 100_000 + "<p>TAIL-MARKER</p>")
    parsed, start = None, time.perf_counter()
    parsed = HtmlParser().parse(data)
    assert time.perf_counter() - start < LIMIT_SECONDS
    assert [b.text for b in parsed.blocks] == ["deep text", "TAIL-MARKER"]


def test_html_huge_text_node_keeps_its_tail() -> None:
    data = html("<p>" + "lorem " * 2_000_000 + "</p><p>TAIL-MARKER after 12 MB</p>")
    parsed = HtmlParser().parse(data)
    assert len(parsed.blocks[0].text) > 11_000_000
    assert parsed.blocks[-1].text == "TAIL-MARKER after 12 MB"


def test_html_comment_bomb() -> None:
    start = time.perf_counter()
    parsed = HtmlParser().parse(html("<p>Before the bomb.</p>" + "<!--" * 200_000))
    assert time.perf_counter() - start < 5
    # an unclosed comment runs to the end of the file
    assert [b.text for b in parsed.blocks] == ["Before the bomb."]
    closed = HtmlParser().parse(html("<p>Before.</p>" + "<!--" * 200_000 + "--><p>After.</p>"))
    assert [b.text for b in closed.blocks] == ["Before.", "After."]


def test_html_nul_bytes_and_wrong_charset() -> None:
    parsed = HtmlParser().parse(html("<p>a\x00b</p>"))
    assert text_of(parsed) == "ab"
    assert parsed.warnings == ["1 NUL byte(s) removed"]
    # declared UTF-8, written in Windows-1252
    cp1252 = html(
        "<p>Café crème, “quoted” – naïve résumé déjà vu</p>" * 5, '<meta charset="utf-8">'
    )
    parsed = HtmlParser().parse(cp1252.decode().encode("cp1252"))
    assert "Café crème" in text_of(parsed)
    assert any("guessed" in w for w in parsed.warnings)
    # declared gb2312, bytes are UTF-8 (like the corpus's qq page)
    utf8 = html(
        "<p>人工智能迈上新台阶</p>",
        '<meta http-equiv="Content-Type" content="text/html; charset=gb2312">',
    )
    parsed = HtmlParser().parse(utf8)
    assert text_of(parsed) == "人工智能迈上新台阶"
    assert parsed.warnings == ["charset gbk declared, but the bytes are UTF-8; read as UTF-8"]


def test_html_undecodable_bytes_warn() -> None:
    parsed = HtmlParser().parse(
        html("<p>ok</p>", '<meta charset="utf-8">') + b"\xff\xfe\xfa" + b"x"
    )
    assert any("replaced" in w or "guessed" in w for w in parsed.warnings)


def test_html_utf16_with_bom() -> None:
    data = "<html><head><title>Décision</title></head><body><p>Texte intégral</p></body></html>"
    parsed = parse_bytes(data.encode("utf-16"))
    assert parsed.metadata["title"] == "Décision"
    assert text_of(parsed) == "Texte intégral"


def test_html_furniture_is_removed() -> None:
    body = """
    <header><a href="/">Court Home</a></header>
    <nav><a>Opinions</a><a>Calendar</a></nav>
    <div class="breadcrumbs">Home › Opinions</div>
    <div id="cookie-banner">We use cookies</div>
    <div class="share-buttons">Share on Facebook</div>
    <div class="sidebar"><p>Related links</p></div>
    <form action="/search"><label>Search</label><input name="q"></form>
    <script>var tracking = "SCRIPT-TEXT";</script><style>p { color: red }</style>
    <noscript>Enable JavaScript</noscript>
    <div hidden>hidden text</div><div style="display: none">invisible</div>
    <div><h1>Smith v. Jones</h1><p>41. The Court holds that the appeal fails.</p>
    <h2>Costs</h2><p>No order as to costs.</p></div>
    <aside>Advertisement</aside><footer>© Court 2024</footer>
    """
    parsed = HtmlParser().parse(html(body))
    assert [(b.role, b.level, b.text) for b in parsed.blocks] == [
        ("heading", 1, "Smith v. Jones"),
        ("para", 0, "41. The Court holds that the appeal fails."),
        ("heading", 2, "Costs"),
        ("para", 0, "No order as to costs."),
    ]


def test_html_main_article_is_preferred_and_an_article_header_kept() -> None:
    teaser = "<article><p>Teaser text</p></article>"
    article = (
        "<article><header><h1>Judgment</h1><p>By the Court</p></header>"
        + "<p>Reasoning.</p>" * 80
        + "</article>"
    )
    parsed = HtmlParser().parse(html(f"<div>Site chrome text</div>{teaser}{article}"))
    texts = [b.text for b in parsed.blocks]
    assert texts[:3] == ["Judgment", "By the Court", "Reasoning."]
    assert "Site chrome text" not in texts and "Teaser text" not in texts


def test_html_asp_net_form_wrapping_the_page_is_kept() -> None:
    body = (
        "<form id='aspnetForm'><div><p>Case: 25-1066</p><p>Date Filed: 12/01/2025</p></div></form>"
    )
    assert text_of(HtmlParser().parse(html(body))) == "Case: 25-1066\nDate Filed: 12/01/2025"


def test_html_tables_lists_breaks_and_pre() -> None:
    body = """
    <table><tr><th>Date</th><th>Case</th></tr>
           <tr><td>05/23/2025</td><td>City v. Manning</td></tr></table>
    <ul><li>first item</li><li>second
        item</li></ul>
    <div>line one<br>line two<br><br>new paragraph</div>
    <dl><dt>Term</dt><dd>Definition</dd></dl>
    <pre>para one
    still one

    para two</pre>
    """
    assert [b.text for b in HtmlParser().parse(html(body)).blocks] == [
        "Date | Case",
        "05/23/2025 | City v. Manning",
        "first item",
        "second item",
        "line one line two",
        "new paragraph",
        "Term",
        "Definition",
        "para one still one",
        "para two",
    ]


HEAD = """
<title>Ignored | Site</title>
<meta name="citation_title" content="Magnitskiy and Others v. Russia">
<meta name="citation_author" content="First Section">
<meta name="citation_author" content="Registry">
<meta name="citation_publication_date" content="2019/08/27">
<meta name="citation_publisher" content="European Court of Human Rights">
<meta name="citation_court" content="ECtHR">
<meta name="citation_doi" content="10.1000/xyz123">
<meta name="DC.identifier" content="ECLI:CE:ECHR:2019:0827JUD003263109">
<meta property="og:title" content="Not this one">
<link rel="canonical" href="https://hudoc.echr.coe.int/eng?i=001-195527">
<script type="application/ld+json">{"@type": "NewsArticle", "headline": "Nor this"</script>
"""


def test_html_metadata_from_highwire_tags() -> None:
    parsed = HtmlParser().parse(html("<p>text</p>", HEAD))
    assert parsed.metadata == {
        "title": "Magnitskiy and Others v. Russia",
        "authors": ["First Section", "Registry"],
        "date": "2019-08-27",
        "publisher": "European Court of Human Rights",
        "source_url": "https://hudoc.echr.coe.int/eng?i=001-195527",
        "language": "en",
        "identifiers": ["10.1000/xyz123", "ECLI:CE:ECHR:2019:0827JUD003263109"],
        "court": "ECtHR",
        "case_name": "Magnitskiy and Others v. Russia",
    }


def test_html_metadata_from_json_ld_and_fallbacks() -> None:
    head = """<title>Page title - The Daily</title>
    <script type="application/ld+json">[{"@type": "WebSite", "name": "The Daily"},
      {"@type": "NewsArticle", "headline": "Court rules on sanctions",
       "datePublished": "2019-08-27T10:00:00Z",
       "author": [{"@type": "Person", "name": "A. Writer"}],
       "publisher": {"@type": "Organization", "name": "The Daily"}}]</script>"""
    meta = HtmlParser().parse(html("<p>x</p>", head)).metadata
    assert meta["title"] == "Court rules on sanctions"
    assert meta["authors"] == ["A. Writer"]
    assert meta["date"] == "2019-08-27"
    assert meta["publisher"] == "The Daily"
    plain = HtmlParser().parse(html("<p>x</p>", "<title>Page title - The Daily</title>")).metadata
    assert plain["title"] == "Page title - The Daily"
    only_h1 = HtmlParser().parse(html("<h1>First heading</h1>")).metadata
    assert only_h1["title"] == "First heading"
    site = '<meta property="og:site_name" content="The Daily"><title>Page title - The Daily</title>'
    assert HtmlParser().parse(html("<p>x</p>", site)).metadata["title"] == "Page title"


@pytest.mark.parametrize(
    ("raw", "iso"),
    [
        ("2019/08/27", "2019-08-27"),
        ("2019-08-27T10:00:00Z", "2019-08-27"),
        ("2019-08-27T23:30:00-05:00", "2019-08-27"),
        ("27 August 2019", "2019-08-27"),
        ("August 27, 2019", "2019-08-27"),
        ("Tue, 27 Aug 2019 10:00:00 GMT", "2019-08-27"),
        ("08/27/2019", "2019-08-27"),
        ("27.08.2019", "2019-08-27"),
        ("20190827", "2019-08-27"),
        ("2019-08", "2019-08"),
        ("2019", "2019"),
        ("2019-02-30", ""),
        ("yesterday", ""),
    ],
)
def test_iso_date(raw: str, iso: str) -> None:
    assert iso_date(raw) == iso


# =========================================================================== plain text


def test_text_front_matter() -> None:
    path = CORPUS / "articles" / "blog_maxefremov_2020-03-04_sanctionsexplorer.txt"
    if not path.is_file():
        pytest.skip(NO_CORPUS)
    parsed = parse_bytes(path.read_bytes())
    assert parsed.format == "text"
    assert parsed.metadata == {
        "title": "SanctionsExplorer",
        "date": "2020-03-04",
        "source_url": "https://maxefremov.com/interviews/sanctionsexplorer",
    }
    text = text_of(parsed)
    assert "layout: posts" not in text and "canonical_url" not in text
    assert parsed.blocks[0] == Block("SanctionsExplorer Homepage")  # the image's alt text
    assert Block("Sergei Magnitsky", "heading", None, 2) in parsed.blocks


@pytest.mark.parametrize("row", [p for p in params(".txt")])
def test_corpus_text(row: Row) -> None:
    parsed, seconds = timed_parse(row.path)
    assert seconds < LIMIT_SECONDS
    assert parsed.blocks and parsed.warnings == [] and parsed.metadata.get("title")
    assert "\ufffd" not in text_of(parsed)
    if row.path.name.startswith("canada_"):  # one unit per line: one Block per line
        raw = unicodedata.normalize("NFC", row.path.read_text("utf-8"))  # the parser's NFC
        lines = [" ".join(line.split()) for line in raw.splitlines()]
        assert [b.text for b in parsed.blocks] == [line for line in lines if line]


def test_text_markdown_headings_of_the_us_code() -> None:
    name = "us_22_USC_ch108_global_magnitsky_human_rights_accountability.txt"
    path = CORPUS / "legislation" / name
    if not path.is_file():
        pytest.skip(NO_CORPUS)
    parsed = parse_bytes(path.read_bytes())
    headings = [(b.level, b.text) for b in parsed.blocks if b.role == "heading"]
    assert headings[:4] == [
        (1, "Title 22— FOREIGN RELATIONS AND INTERCOURSE"),
        (3, "CHAPTER 108— GLOBAL MAGNITSKY HUMAN RIGHTS ACCOUNTABILITY"),
        (4, "§ 10101. Definitions"),
        (4, "§ 10102. Authorization of imposition of sanctions"),
    ]
    assert parsed.metadata["title"] == "Title 22— FOREIGN RELATIONS AND INTERCOURSE"


def test_text_hard_wrapped_paragraphs_are_joined() -> None:
    text = (
        "JUDGMENT\r\n\r\n"
        "The applicant complained that he had been detained in\r\n"
        "conditions which were inhuman and degrading.\r\n"
        "\r\n"
        "- first point of the list\r\n"
        "- second point that wraps over\r\n"
        "  two lines\r\n"
        "\r\n"
        "Heading\r\n=======\r\n"
    )
    parsed = TextParser().parse(text.encode())
    assert [(b.role, b.text) for b in parsed.blocks] == [
        ("para", "JUDGMENT"),
        (
            "para",
            "The applicant complained that he had been detained in conditions which were inhuman "
            "and degrading.",
        ),
        ("para", "- first point of the list"),
        ("para", "- second point that wraps over two lines"),
        ("heading", "Heading"),
    ]
    assert parsed.metadata == {"title": "Heading"}


def test_text_encoding_guess_is_reported() -> None:
    data = ("Décision de la Cour d'appel du Québec, résumé détaillé.\n" * 20).encode("cp1252")
    parsed = TextParser().parse(data)
    assert "Décision de la Cour d'appel du Québec" in text_of(parsed)
    assert parsed.warnings and parsed.warnings[0].startswith("encoding guessed as")
    utf16 = TextParser().parse("Loi sur la justice\n\nArticle 1".encode("utf-16"))
    assert [b.text for b in utf16.blocks] == ["Loi sur la justice", "Article 1"]
    assert utf16.warnings == []


def test_text_title_falls_back_to_the_first_line() -> None:
    parsed = TextParser().parse(("word " * 100).encode())
    assert len(parsed.metadata["title"]) <= 201 and parsed.metadata["title"].endswith("…")
    with pytest.raises(IngestError, match="^empty file$"):
        TextParser().parse(b"")
