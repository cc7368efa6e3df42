"""PDF parser: the only module that imports pypdf.

What it does with a file:
- Opens it with ``strict=False`` (pypdf repairs broken xref tables) and with the external
  ``jbig2dec`` program disabled. pypdf's log records and Python warnings raised while parsing are
  captured and returned, deduplicated and capped, as ``pdf: ...`` warnings.
- Encrypted files: the empty password is tried; a file that stays locked, or that opens only
  because its *owner* password is empty while a user password is set, raises
  ``IngestError("encrypted: password required")``.
- A file that cannot be opened raises ``IngestError("damaged PDF: <reason>")``, whatever pypdf
  raised (it has leaked KeyError, ValueError and RecursionError in the past). MemoryError is not
  translated: it belongs to the worker's memory limit.
- More than ``max_pages`` pages raises ``IngestError("too many pages (N > max)")``.
- Each page's text (``extract_text()``) is cut into Blocks (see `page_blocks`). Pages without
  text, and pages whose text is mostly glyph codes, private-use or replacement characters (fonts
  without a ToUnicode map), are reported as needing OCR (``Parsed.needs_ocr``, which
  ``ingest/ocr.py`` reads); the garbage text is dropped.
- Metadata from the document information dictionary, else XMP: title, authors, subject, date
  (ISO), language.

How a page's text becomes Blocks (pypdf gives visual lines):
- a page number alone on the first or last line ("7", "- 7 -", "Page 7 of 9") is no paragraph: it
  becomes an "outside" Block of its page (searchable, never a passage);
- where each line starts on the page, its type size and whether it is all bold come from pypdf's
  text visitor (same pass, no second extraction). From all pages: the body's type size, its line
  spacing and the length of a full line. A line starts a new paragraph after clearly more space
  than the line spacing, on a change of type (size or bold: a heading, a boxed note, footnotes),
  or when it is indented after a line that ends a sentence or stops short (first-line indents).
  When the document sets paragraphs apart that way (two such breaks at least), a line that follows
  closely at the same margin carries on its paragraph even after a full stop; only a short line
  that ends a sentence ends one there. Without usable geometry (rotated text, runs that do not add
  up to the page's text, a list of equally spaced lines) the text rules below decide alone;
- heading lines become their own Block with role "heading": numbered headings ("SEC. 401. SHORT
  TITLE.", "ARTICLE 3", "§ 10101. Definitions", "Part II Offences", "IV. DISCUSSION"), all-caps
  lines ("UNITED STATES TAX COURT"), and short Title-Case lines standing between paragraphs
  ("Memorandum Opinion"); with geometry also a run of one to three lines set apart and all bold
  (or much larger than the body), such as "Citation and commencement" or a title wrapped over two
  lines, which stays one heading. Headings without a level from their wording ("PART" 1, "SEC." 2)
  get one from their type: the larger, then bold, types rank first;
- other lines are joined into paragraphs. Where geometry does not decide, a paragraph ends at a
  blank line, or after a line that ends a sentence (``. ? ! :`` or CJK ``。``, not after "Mr." or
  "v.") when the next line starts with a capital letter, a digit, an opening quote/bracket or a
  CJK character. In any case a numbered paragraph ("41. The Court ...", "[41] ...") always
  starts a new Block unless the line before ends in a connecting word ("paragraph", "see", ",");
  so does an enumerated item ("(a) ", "(2) ", "(iv) ") after a line that closes a clause
  (". ; : —", "; or", "; and").
- lines are joined with a space; "hospi-" + "tal" becomes "hospital"; CJK lines join without one;
  ligatures (U+FB00-FB06) are spelled out; soft hyphens and private-use characters (symbol-font
  glyphs) are dropped. A paragraph running over a page break is two Blocks (one per page): the
  structure step joins them.
"""

from __future__ import annotations

import io
import logging
import re
import unicodedata
import warnings
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from pypdf import PasswordType, PdfReader, apply_configuration
from pypdf.errors import DependencyError, FileNotDecryptedError, LimitReachedError, PyPdfError

from magsearch.errors import IngestError
from magsearch.ingest.text import iso_date
from magsearch.models import Block, Parsed

__all__ = ["PdfParser", "page_blocks", "page_ranges"]

MAX_WARNINGS = 20
MAX_TEXT_CHARS = 20_000_000  # extracted text cap (reliability notes §1.1)


# --------------------------------------------------------------------------- warnings capture


class _Collector(logging.Handler):
    """Collects pypdf log records and Python warnings, deduplicated by their digit-free shape."""

    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.counts: dict[str, int] = {}
        self.first: dict[str, str] = {}

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.add(record.getMessage())
        except Exception:  # noqa: BLE001 - a malformed log record must not break the parse
            self.add(str(record.msg))

    def add(self, message: str) -> None:
        message = " ".join(message.split())[:300]
        if not message:
            return
        key = re.sub(r"\d+", "#", message)
        if key not in self.counts:
            self.first[key] = message
            self.counts[key] = 0
        self.counts[key] += 1

    def messages(self) -> list[str]:
        out = []
        for key, count in self.counts.items():
            more = f" (and {count - 1} similar)" if count > 1 else ""
            out.append(f"pdf: {self.first[key]}{more}")
        if len(out) > MAX_WARNINGS:
            out = out[:MAX_WARNINGS] + [f"pdf: {len(out) - MAX_WARNINGS} more kinds of warnings"]
        return out


@contextmanager
def _capture() -> Iterator[_Collector]:
    """Route the "pypdf" logger and Python warnings into a collector for the duration."""
    collector = _Collector()
    logger = logging.getLogger("pypdf")
    saved = (logger.level, logger.propagate)
    logger.addHandler(collector)
    logger.setLevel(logging.WARNING)
    logger.propagate = False  # never print; the caller gets the messages instead
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                yield collector
            finally:
                for item in caught:
                    collector.add(f"{item.category.__name__}: {item.message}")
    finally:
        logger.removeHandler(collector)
        logger.setLevel(saved[0])
        logger.propagate = saved[1]


# --------------------------------------------------------------------------- opening


def _reason(exc: BaseException) -> str:
    message = " ".join(str(exc).split())[:160]
    if isinstance(exc, PyPdfError) and message:
        return message
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__


def _empty_user_password(reader: PdfReader) -> bool | None:
    """Whether the empty string is the file's *user* password (None: cannot tell).

    pypdf tries the empty password as owner password first, so a file with a real user password
    but an empty owner password opens without one (corpus: pypdf__r6-user-password.pdf). The
    user password is what an author sets to keep a file closed, so such a file is refused.
    pypdf has no public call for "user password only": this uses its private _encryption module,
    guarded; tests on the corpus's r2/r3/r6 fixtures notice if a pypdf release changes it.
    """
    try:
        from pypdf._encryption import AlgV4, AlgV5

        enc = reader._encryption
        if enc is None:
            return None
        values = enc.values
        if enc.V <= 4:
            key = AlgV4.verify_user_password(
                b"",
                enc.R,
                enc.Length,
                values.O,
                values.U,
                enc.P,
                enc.id1_entry,
                enc.EncryptMetadata,
            )
        else:
            key = AlgV5.verify_user_password(enc.R, b"", values.U, values.UE)
        return bool(key)
    except MemoryError:
        raise
    except Exception:  # noqa: BLE001 - pypdf internals changed: fall back to pypdf's answer
        return None


def _open(data: bytes) -> tuple[PdfReader, list[str]]:
    notes: list[str] = []
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        # pypdf has already tried the empty password (as owner and as user password).
        if reader.is_encrypted:
            if reader.decrypt("") == PasswordType.NOT_DECRYPTED:
                raise IngestError("encrypted: password required")
            empty_user = _empty_user_password(reader)
            if empty_user is False:
                raise IngestError("encrypted: password required")
            if empty_user is None:
                notes.append("encrypted; could not check for a user password, opened anyway")
    except (IngestError, MemoryError):
        raise
    except FileNotDecryptedError as exc:
        raise IngestError("encrypted: password required") from exc
    except DependencyError as exc:  # e.g. AES without the cryptography package
        raise IngestError(f"unsupported PDF: {_reason(exc)}") from exc
    except Exception as exc:  # noqa: BLE001 - see module docstring
        raise IngestError(f"damaged PDF: {_reason(exc)}") from exc
    return reader, notes


def _page_count(reader: PdfReader, max_pages: int) -> int:
    """The number of pages; more than max_pages is "too many pages", whether the page tree says so
    (its /Count, read before walking the tree) or has more entries than such a file could need
    (the walk stops there: a small file can reach one page object 100,001 times)."""
    try:
        pages: Any = reader.root_object["/Pages"]
        declared = pages.get_object().get("/Count")
        declared = int(declared) if declared is not None else 0
    except Exception:  # noqa: BLE001 - a damaged /Count: the walk below decides
        declared = 0
    if declared > max_pages:
        raise IngestError(f"too many pages ({declared} > {max_pages})")
    entries = 2 * max_pages + 1000  # pages and the /Pages nodes above them, with room to spare
    try:
        with apply_configuration(page_tree_maximum_entries=entries):
            return len(reader.pages)
    except MemoryError:
        raise
    except FileNotDecryptedError as exc:
        raise IngestError("encrypted: password required") from exc
    except LimitReachedError as exc:
        if "page tree" in str(exc).lower():
            raise IngestError(f"too many pages (more than {max_pages})") from exc
        raise IngestError(f"damaged PDF: {_reason(exc)}") from exc
    except Exception as exc:  # noqa: BLE001
        raise IngestError(f"damaged PDF: {_reason(exc)}") from exc


# --------------------------------------------------------------------------- metadata

_JUNK_TITLE = re.compile(
    r"(?ix) ^(untitled|title|document|no\ title|\W*)$"
    r"| \.(pdf|docx?|rtf|txt|tmp|tiff?|jpe?g|png|indd|qxd|ps|dvi|wpd|xlsx?|pptx?|html?)$"
    r"| ^[a-z]:\\ | \\ | ^/"
)
_JUNK_AUTHOR = re.compile(
    r"(?i)^(array\(0x[0-9a-f]+\)|administrator|admin|user|owner|unknown|\W*)$"
)
_WORD_PREFIX = re.compile(r"^Microsoft (?:Word|PowerPoint|Excel) - ", re.I)


def _clean(value: Any) -> str:
    return " ".join(str(value).split()) if value is not None else ""


def _title(value: Any) -> str:
    title = _WORD_PREFIX.sub("", _clean(value))
    return "" if _JUNK_TITLE.search(title) else title


def _authors(values: list[Any]) -> list[str]:
    names = []
    for value in values:
        for part in re.split(r"\s*;\s*", _clean(value)):
            if part and not _JUNK_AUTHOR.match(part):
                names.append(part)
    return list(dict.fromkeys(names))


def _pdf_date(value: Any) -> str:
    """ISO date of a PDF date string ("D:20191002143325-05'00'"), as written (no zone shift)."""
    m = re.match(r"^\s*(?:D:)?(\d{4})(\d{2})?(\d{2})?", _clean(value))
    if not m:
        return ""
    if m[3]:
        return iso_date(f"{m[1]}-{m[2]}-{m[3]}")
    return iso_date(f"{m[1]}-{m[2]}") if m[2] else iso_date(m[1])


def _info_metadata(reader: PdfReader) -> dict[str, Any]:
    info = reader.metadata
    if not info:
        return {}
    meta: dict[str, Any] = {}
    if title := _title(info.get("/Title")):
        meta["title"] = title
    if authors := _authors([info.get("/Author")]):
        meta["authors"] = authors
    if subject := _clean(info.get("/Subject")):
        meta["subject"] = subject
    if date := _pdf_date(info.get("/CreationDate")) or _pdf_date(info.get("/ModDate")):
        meta["date"] = date
    return meta


def _xmp_metadata(reader: PdfReader) -> dict[str, Any]:
    xmp = reader.xmp_metadata
    if xmp is None:
        return {}
    meta: dict[str, Any] = {}
    titles = xmp.dc_title or {}
    title = titles.get("x-default") or next(iter(titles.values()), "")
    if title := _title(title):
        meta["title"] = title
    if authors := _authors(list(xmp.dc_creator or [])):
        meta["authors"] = authors
    descriptions = xmp.dc_description or {}
    if subject := _clean(descriptions.get("x-default") or next(iter(descriptions.values()), "")):
        meta["subject"] = subject
    dates = list(xmp.dc_date or [])
    created = xmp.xmp_create_date
    if date := iso_date(dates[0] if dates else created):
        meta["date"] = date
    languages = [lang for lang in (xmp.dc_language or []) if _clean(lang)]
    if languages and languages[0].lower() != "x-default":
        meta["language"] = _clean(languages[0])
    return meta


def _metadata(reader: PdfReader, notes: list[str]) -> dict[str, Any]:
    """Document info first, XMP for what it lacks; a broken part is skipped with a warning."""
    meta: dict[str, Any] = {}
    for label, read in (("document information", _info_metadata), ("XMP metadata", _xmp_metadata)):
        try:
            part = read(reader)
        except MemoryError:
            raise
        except Exception as exc:  # noqa: BLE001 - metadata is optional
            notes.append(f"{label} ignored ({_reason(exc)})")
            continue
        for key, value in part.items():
            meta.setdefault(key, value)
    return meta


# --------------------------------------------------------------------------- text quality

_GLYPH_CODES = re.compile(r"(?:/(?:g|G|cid|uni)?[0-9A-Fa-f]{1,5})+|\(cid:\d+\)")
_COMBINING = re.compile("[\u0300-\u036f]")
_BAD_CATEGORIES = ("Co", "Cn", "Cc", "Cs")


def _script(char: str) -> str:
    """A coarse script bucket: Latin, CJK, Hangul, Greek, Cyrillic, else the 128-code block."""
    o = ord(char)
    if o < 0x250 or 0x1E00 <= o < 0x1F00:
        return "Latin"
    if 0x2E80 <= o <= 0x9FFF or 0xF900 <= o <= 0xFAFF or 0xFF00 <= o <= 0xFFEF or o >= 0x20000:
        return "CJK"
    if 0xAC00 <= o <= 0xD7AF or 0x1100 <= o <= 0x11FF or 0x3130 <= o <= 0x318F:
        return "Hangul"
    if 0x0370 <= o <= 0x03FF or 0x1F00 <= o <= 0x1FFF:
        return "Greek"
    if 0x0400 <= o <= 0x052F:
        return "Cyrillic"
    return f"block-{o >> 7:x}"


def _scrambled(text: str) -> bool:
    """Letters scattered over many unrelated scripts plus many stray combining marks: the
    signature of a CID font read with the wrong code-to-Unicode mapping (corpus: pdfminer__jo.pdf
    comes out as Greek, Coptic, Bengali and Tibetan instead of Japanese)."""
    if not _COMBINING.search(text):
        return False  # no combining mark: the test below cannot hold (most pages stop here)
    letters = [c for c in text if c.isalpha() or unicodedata.category(c) in ("Mn", "Mc")]
    if len(letters) < 5:
        return False
    combining = sum(1 for c in letters if "\u0300" <= c <= "\u036f")
    if combining < 0.1 * len(letters):
        return False
    counts = Counter(_script(c) for c in letters)
    top_two = sum(n for _, n in counts.most_common(2))
    return len(counts) >= 4 and top_two < 0.85 * len(letters)


def _unreadable(text: str) -> bool:
    """Mostly replacement / private-use / control characters, raw glyph codes ("/g18/g152") or
    scrambled scripts (see `_scrambled`)."""
    text = unicodedata.normalize("NFC", text)
    chars = "".join(text.split())  # split() and isspace() know the same white space
    if not chars:
        return False
    if chars.isprintable():  # no Cc, Cf, Cs, Co or Cn character: only U+FFFD can be bad
        bad = chars.count("\ufffd")
    else:
        bad = sum(1 for c in chars if c == "\ufffd" or unicodedata.category(c) in _BAD_CATEGORIES)
    glyphs = sum(len(m.group()) for m in _GLYPH_CODES.finditer(text))
    return bad >= 0.3 * len(chars) or glyphs >= 0.5 * len(chars) or _scrambled(text)


def page_ranges(pages: list[int]) -> str:
    """[1, 2, 3, 7] -> "1-3, 7"."""
    parts: list[str] = []
    start = previous = None
    for page in sorted(set(pages)):
        if start is None:
            start = previous = page
        elif page == previous + 1:  # type: ignore[operator]
            previous = page
        else:
            parts.append(f"{start}-{previous}" if previous != start else f"{start}")
            start = previous = page
    if start is not None:
        parts.append(f"{start}-{previous}" if previous != start else f"{start}")
    return ", ".join(parts)


def _pages(pages: list[int]) -> str:
    return f"page {pages[0]}" if len(pages) == 1 else f"pages {page_ranges(pages)}"


# --------------------------------------------------------------------------- page text -> blocks

_PAGE_NUMBER = re.compile(
    r"^(?:[-–—]\s*)?\d{1,4}(?:\s*[-–—])?$|^(?:page|p\.)\s*\d{1,4}(?:\s*(?:of|/)\s*\d{1,4})?$", re.I
)
_NUMBERED_UPPER = re.compile(
    r"^(?:SEC(?:TION)?\.?|ARTICLE|ART\.|PART|CHAPTER|CHAP\.|TITLE|SCHEDULE|ANNEX|APPENDIX|RULE)"
    r"\s+[0-9IVXLCDM]+[A-Z]?(?:[.:—–-]|\s|$)"
)
_NUMBERED_TITLE = re.compile(
    r"^(?:§{1,2}|Section|Sec\.|Article|Art\.|Part|Chapter|Title|Schedule|Annex|Appendix|Rule)"
    r"\s*([0-9IVXLCDM]+[A-Za-z]?(?:[.-]\d+)*)\.?(?:\s+(.*))?$"
)
_OUTLINE = re.compile(r"^(?:[IVXLC]{1,6}|[A-H])\.\s+(.+)$")
_NUMBERED_PARA = re.compile(r"^(?:\d{1,3}\.|\[\d{1,4}\]|¶\s*\d{1,4}\.?)\s+\S")
_SENTENCE_END = re.compile(r"[.?!:。！？][”\"’')\]]*$")
_ABBREVIATIONS = frozenset(
    "mr mrs ms dr prof v vs no nos inc co corp ltd llc st jr sr e.g i.e cf etc al sec art para "
    "paras p pp ch cl id ibid ct app cir supp ed eds vol jan feb mar apr jun jul aug sep sept oct "
    "nov dec u.s u.s.c f f.2d f.3d f.4th s.ct l.ed ann stat rev gen".split()
)
_CONNECTORS = frozenset(
    "and or of the to in at on by see para paragraph paragraphs section sections no nos p pp "
    "under with from per art article articles rule rules".split()
)
_LEVELS = {"PART": 1, "TITLE": 1, "CHAPTER": 1, "CHAP.": 1, "SCHEDULE": 1, "ANNEX": 1}


def _is_cjk(char: str) -> bool:
    return (
        "\u2e80" <= char <= "\u9fff" or "\uac00" <= char <= "\ud7af" or "\uff00" <= char <= "\uffef"
    )


def _wide_latin(chars: str) -> bool:
    """Full-width Latin letters or digits ("ｅｘｔｒａｃｔｉｏｎ"): words that need a space."""
    return any("\uff10" <= c <= "\uff5a" and c.isalnum() for c in chars)


def _title_case(words: list[str]) -> bool:
    long = [w for w in words if sum(c.isalpha() for c in w) >= 4]
    return bool(long) and all(w[0].isupper() or not w[0].isalpha() for w in long)


def _heading_level(line: str, at_boundary: bool) -> int | None:
    """Heading level (0 = unknown) if `line` is a heading line, else None."""
    if len(line) > 120:
        return None
    if _NUMBERED_UPPER.match(line):
        return _LEVELS.get(line.split()[0], 2)
    if len(line) <= 100:
        upper, cased = _cased(line)
        if cased >= 4 and upper >= 0.9 * cased:
            return 0
    if not at_boundary or len(line) > 80:
        return None
    m = _NUMBERED_TITLE.match(line)
    if m:
        rest = (m[2] or "").lstrip(".:—–- ")
        if not rest or (rest[0].isupper() and len(rest.split()) <= 10 and rest[-1] != ","):
            return 2
        return None
    m = _OUTLINE.match(line)
    if m and len(line) <= 60 and _title_case(m[1].split()):
        return 0
    words = line.split()
    if (
        len(line) <= 60
        and len(words) <= 8
        and line[0].isupper()
        and line[-1] not in ".,;:"
        and _title_case(words)
    ):
        return 0
    return None


_ASCII_UPPER = bytes(range(65, 91))
_ASCII_LOWER = bytes(range(97, 123))


def _cased(line: str) -> tuple[int, int]:
    """(upper-case letters, cased letters) of a line; ASCII lines are counted in C."""
    if line.isascii():
        data = line.encode("ascii")
        upper = len(data) - len(data.translate(None, _ASCII_UPPER))
        return upper, upper + len(data) - len(data.translate(None, _ASCII_LOWER))
    cased = [c for c in line if c.isalpha() and (c.isupper() or c.islower())]
    return sum(c.isupper() for c in cased), len(cased)


def _ends_sentence(line: str) -> bool:
    if not _SENTENCE_END.search(line):
        return False
    last = line.split()[-1].rstrip("”\"’')]").lower()
    word = last.rstrip(".")
    if last.endswith(".") and (word in _ABBREVIATIONS or re.fullmatch(r"[a-z]", word)):
        return False  # "Mr.", "v.", an initial "J."
    return True


def _starts_sentence(line: str) -> bool:
    first = line.lstrip("“\"‘'([")[:1]
    return bool(first) and (first.isupper() or first.isdigit() or _is_cjk(first))


def _joins(line: str) -> bool:
    """The line ends in a way that continues into the next (so a number there is not a para)."""
    if line[-1] in ",(-–—/§":
        return True
    return line.split()[-1].lower().rstrip(".") in _CONNECTORS


def _join(previous: str, line: str) -> str:
    hyphenated = previous.endswith("-") and len(previous) > 1 and previous[-2].islower()
    if hyphenated and line[:1].islower():
        return previous[:-1] + line
    if _is_cjk(previous[-1]) and _is_cjk(line[0]) and not _wide_latin(previous[-1] + line[0]):
        return previous + line
    return f"{previous} {line}"


def _strip_page_numbers(lines: list[str]) -> list[str]:
    filled = [i for i, line in enumerate(lines) if line]
    for i in filled[:1] + filled[-1:]:
        if _PAGE_NUMBER.match(lines[i]):
            lines[i] = ""
    return lines


_PRIVATE_USE = re.compile("[\ue000-\uf8ff]")  # symbol-font glyphs (e.g. Symbol, Wingdings)
_LIGATURES = str.maketrans(
    {"ﬀ": "ff", "ﬁ": "fi", "ﬂ": "fl", "ﬃ": "ffi", "ﬄ": "ffl", "ﬅ": "st", "ﬆ": "st", "\xad": ""}
)


_ENUMERATED = re.compile(r"^\((?:[a-z]{1,3}|[A-Z]{1,2}|\d{1,3}(?:\.\d{1,2})?)\)\s+\S")
_CLAUSE_END = re.compile(r"(?:[.;:—–]|[;,]\s*(?:or|and))[”\"’')\]]*$")
_BOLD_FONT = re.compile(r"bold|black|heavy|demi|semibold|,bd|-bd", re.I)


@dataclass(frozen=True)
class LinePos:
    """Where an extracted line starts on its page (PDF points, y upwards) and how it is set."""

    x: float
    y: float
    size: float  # font size as rendered
    bold: bool  # every run of the line is set in a bold face


@dataclass(frozen=True)
class _Layout:
    """A document's body text: its size, line spacing, the usual length of a full line, and
    whether its paragraphs are set apart by space or indentation (then geometry is trusted)."""

    size: float
    leading: float
    full: int
    spaced: bool


def _start_of(cm: Any, tm: Any, size: Any) -> tuple[float, float, float] | None:
    """(x, y, rendered size) of a text run, from pypdf's text and current matrices; None for
    text that is not upright (rotated, mirrored) or matrices it cannot read."""
    try:
        a, b, c, d, e, f = (float(v) for v in tm[:6])
        m_a, m_b, m_c, m_d, m_e, m_f = (float(v) for v in cm[:6])
        xx, xy = a * m_a + b * m_c, a * m_b + b * m_d
        yx, yy = c * m_a + d * m_c, c * m_b + d * m_d
        if xx <= 0 or yy <= 0 or abs(xy) > 0.05 * xx or abs(yx) > 0.05 * yy:
            return None
        return e * m_a + f * m_c + m_e, e * m_b + f * m_d + m_f, abs(float(size)) * yy
    except (TypeError, ValueError, IndexError):
        return None


def _is_bold(font: Any) -> bool:
    try:
        return bool(_BOLD_FONT.search(str(font.get("/BaseFont", "")))) if font else False
    except Exception:  # noqa: BLE001 - a strange font dictionary is just not bold
        return False


class _Runs:
    """pypdf visitor_text callback: the text runs of a page with where each starts."""

    def __init__(self) -> None:
        self.runs: list[tuple[str, tuple[float, float, float] | None, bool]] = []
        self.bold: dict[int, bool] = {}  # by id of the font dictionary (alive during the page)

    def __call__(self, text: Any, cm: Any, tm: Any, font: Any, size: Any) -> None:
        if not isinstance(text, str) or not text:
            return
        start = _start_of(cm, tm, size) if not text.isspace() else None
        bold = False
        if start is not None:
            if id(font) not in self.bold:
                self.bold[id(font)] = _is_bold(font)
            bold = self.bold[id(font)]
        self.runs.append((text, start, bold))

    def lines(self, text: str) -> list[LinePos | None] | None:
        """Per line of `text` (split at "\\n"): where it starts, the size of most of its text, and
        whether it is all bold (runs of one or two characters, like note marks, do not count);
        None when the runs do not add up to the text pypdf returned (no geometry then)."""
        if "".join(run for run, _, _ in self.runs) != text:
            return None
        lines = [_LineRuns()]
        for run, start, is_bold in self.runs:
            for k, piece in enumerate(run.split("\n")):
                if k:
                    lines.append(_LineRuns())
                if piece.strip():
                    lines[-1].add(len(piece.strip()), start if k == 0 else None, is_bold)
        return [line.pos() for line in lines]


class _LineRuns:
    def __init__(self) -> None:
        self.start: tuple[float, float, float] | None = None
        self.seen = False
        self.sizes: Counter[float] = Counter()
        self.bold = [True, True, False]  # all runs, runs of 3+ characters, any run of 3+

    def add(self, chars: int, start: tuple[float, float, float] | None, bold: bool) -> None:
        if not self.seen:
            self.start, self.seen = start, True
        if start is not None:
            self.sizes[start[2]] += chars
        self.bold[0] = self.bold[0] and bold
        if chars > 2:
            self.bold[1:] = [self.bold[1] and bold, True]

    def pos(self) -> LinePos | None:
        if self.start is None or not self.sizes:
            return None
        bold = self.bold[1] if self.bold[2] else self.bold[0]
        return LinePos(self.start[0], self.start[1], self.sizes.most_common(1)[0][0], bold)


def _clean_text(text: str) -> str:
    return _PRIVATE_USE.sub("", text.translate(_LIGATURES)).replace("\x00", "")


def _page_lines(text: str) -> list[str]:
    return _strip_page_numbers([" ".join(line.split()) for line in _clean_text(text).split("\n")])


def _layout(pages: list[tuple[list[str], list[LinePos | None] | None]]) -> _Layout | None:
    """The body text's layout from every page's lines, or None when geometry tells nothing."""
    sizes: Counter[float] = Counter()
    for lines, starts in pages:
        for line, pos in zip(lines, starts or [None] * len(lines), strict=True):
            if line and pos:
                sizes[round(pos.size * 2) / 2] += 1
    if not sizes:
        return None
    size = sizes.most_common(1)[0][0]
    pairs: list[tuple[str, LinePos, LinePos]] = []
    lengths: list[int] = []
    for lines, starts in pages:
        previous: tuple[str, LinePos | None] | None = None
        for line, pos in zip(lines, starts or [None] * len(lines), strict=True):
            if not line:
                previous = None
                continue
            body = pos is not None and abs(pos.size - size) < 0.5
            if body:
                lengths.append(len(line))
            if previous and previous[1] and body and pos:
                pairs.append((previous[0], previous[1], pos))
            previous = (line, pos if body else None)
    gaps = [p.y - q.y for _, p, q in pairs if 0.6 * size < p.y - q.y < 3 * size]
    if len(gaps) < 3:
        return None
    bins = Counter(round(gap) for gap in gaps)
    common = min(bins, key=lambda gap: (-bins[gap], gap))  # the most common spacing, to 1 pt
    near = [gap for gap in gaps if abs(gap - common) <= 0.5]
    leading = sum(near) / len(near)
    full = sorted(lengths)[int(len(lengths) * 0.9)]
    layout = _Layout(size, leading, full, spaced=False)
    breaks = sum(_transition(line, p, q, layout) is True for line, p, q in pairs)
    return _Layout(size, leading, full, spaced=breaks >= 2)


def _transition(
    previous: str, before: LinePos | None, after: LinePos | None, layout: _Layout | None
) -> bool | None:
    """Whether the line at `after` starts a new paragraph (True), continues the one of the line
    `previous` at `before` (False), or geometry cannot tell (None: the text rules decide)."""
    if layout is None or before is None or after is None:
        return None
    gap = before.y - after.y
    if gap < 0.5 * min(before.size, after.size):  # same line, a new column, out of order
        return None
    if abs(before.size - after.size) >= 0.5 or before.bold != after.bold:
        return True
    if gap > max(1.3 * layout.leading + 0.5, 1.5 * max(before.size, after.size)):
        return True
    if abs(after.size - layout.size) >= 0.5:  # tight lines of a title, a note, a footnote
        return False if layout.spaced else None
    ended = _ends_sentence(previous)
    short = len(previous) < 0.7 * layout.full
    if after.x - before.x > 0.6 * after.size:  # an indented first line
        return True if ended or short else None
    if not layout.spaced:
        return None
    return ended and short


def _lone_line(previous: str, line: str, layout: _Layout | None) -> bool:
    """A short line without final punctuation after a sentence's end, with a new paragraph
    after it: a heading in the body's type ("Allegiance Health Management, Inc." is not one)."""
    return (
        layout is not None
        and _ends_sentence(previous)
        and len(line) < 0.7 * layout.full
        and line[0].isupper()
        and line[-1] not in ".,;:!?"
    )


def _styled_heading(group: list[str], starts: list[LinePos | None], layout: _Layout) -> bool:
    """A run of at most three lines set apart from the body, all bold (or much larger), short
    and not ending like a sentence part: "Citation and commencement", "(b) The Court's view"."""
    text = " ".join(group)
    if len(group) > 3 or len(text) > 200 or text[-1] in ",;" or _NUMBERED_PARA.match(text):
        return False
    if text[-1] in ".:!?" and len(text) > 60 and _heading_level(group[0], True) is None:
        return False  # a bold sentence is emphasis, not a heading
    return all(p is not None and (p.bold or p.size >= 1.3 * layout.size) for p in starts)


def page_blocks(text: str, page: int | None = None) -> list[Block]:
    """Blocks of one page of extracted text (see the module docstring for the rules)."""
    return [block for block, _ in _blocks(_page_lines(text), page, None, None)]


_Style = tuple[float, bool]  # a heading's type: size (to half a point), bold


def _blocks(
    lines: list[str], page: int | None, starts: list[LinePos | None] | None, layout: _Layout | None
) -> list[tuple[Block, _Style | None]]:
    """The page's blocks, each heading with its type when geometry is known."""
    if starts is None or len(starts) != len(lines) or layout is None:
        starts, layout = [None] * len(lines), None
    filled = [i for i, line in enumerate(lines) if line]
    breaks: dict[int, bool | None] = {}
    for p, i in zip(filled, filled[1:], strict=False):
        breaks[i] = True if i - p > 1 else _transition(lines[p], starts[p], starts[i], layout)
    for p, i, n in zip(filled, filled[1:], filled[2:], strict=False):  # a lone heading line
        if breaks[i] is False and breaks[n] is True and _lone_line(lines[p], lines[i], layout):
            breaks[i] = True
    headings: dict[int, list[int]] = {}  # first line -> the lines of a styled heading
    if layout is not None:
        group: list[int] = []
        for i in [*filled, -1]:
            if group and (i < 0 or breaks.get(i) is not False):
                if _styled_heading([lines[k] for k in group], [starts[k] for k in group], layout):
                    headings[group[0]] = group
                group = []
            group.append(i)
    blocks: list[Block] = []
    styles: list[_Style | None] = []
    current = ""
    boundary = True  # the previous line ended a paragraph (or we are at the top of the page)
    skip: set[int] = set()

    def flush() -> None:
        nonlocal current
        if current:
            blocks.append(Block(current, "para", page))
            styles.append(None)
            current = ""

    def heading(line: str, level: int, index: int) -> None:
        nonlocal boundary
        flush()
        wrapped = breaks.get(index) is False and blocks and blocks[-1].role == "heading"
        if wrapped and blocks[-1].page == page:  # a heading set on two lines
            blocks[-1] = Block(f"{blocks[-1].text} {line}", "heading", page, blocks[-1].level)
        else:
            pos = starts[index]
            blocks.append(Block(line, "heading", page, level))
            styles.append((round(pos.size * 2) / 2, pos.bold) if pos else None)
        boundary = True

    for n, index in enumerate(filled):
        if index in skip:
            continue
        line = lines[index]
        if breaks.get(index) or (index > 0 and not lines[index - 1]):
            flush()
            boundary = True
        if index in headings:
            skip.update(headings[index])
            level = _heading_level(line, True)
            heading(" ".join(lines[k] for k in headings[index]), level or 0, index)
            continue
        level = _heading_level(line, boundary)
        if level is not None:
            heading(line, level, index)
            continue
        if current and (
            (_NUMBERED_PARA.match(line) and not _joins(current))
            or (_ENUMERATED.match(line) and _CLAUSE_END.search(current))
        ):
            flush()
        current = _join(current, line) if current else line
        nxt = filled[n + 1] if n + 1 < len(filled) else None
        following = lines[nxt] if nxt is not None else ""
        verdict = breaks.get(nxt) if nxt is not None else None
        if verdict is None:
            boundary = _ends_sentence(line) and (not following or _starts_sentence(following))
        else:
            boundary = verdict
        if boundary:
            flush()
    flush()
    return list(zip(blocks, styles, strict=True))


def _levelled(
    pages: list[list[tuple[Block, _Style | None]]], layout: _Layout | None
) -> list[Block]:
    """Headings without a level from their wording get one from their type: the larger (then
    bold) types above the body text rank first, as the document's own outline does."""
    body = (round(layout.size * 2) / 2, False) if layout else None
    found = {s for page in pages for b, s in page if s and b.role == "heading" and s != body}
    ranks = {s: n for n, s in enumerate(sorted(found, key=lambda s: (-s[0], not s[1])), 1)}
    out: list[Block] = []
    for page in pages:
        for block, style in page:
            if block.role == "heading" and not block.level and style in ranks:
                block = Block(block.text, "heading", block.page, ranks[style])
            out.append(block)
    return out


# --------------------------------------------------------------------------- the parser


def _read_page(reader: PdfReader, number: int) -> tuple[str, list[LinePos | None] | None]:
    """A page's text and, per line, where it starts (None if pypdf's runs do not add up)."""
    runs = _Runs()
    text = reader.pages[number - 1].extract_text(visitor_text=runs) or ""
    return text, runs.lines(text)


def _extract_pages(
    reader: PdfReader, count: int, notes: list[str]
) -> tuple[list[Block], list[Block], list[int], list[int]]:
    """Blocks of every page, the page numbers taken off them (as "outside" blocks), and the
    pages with no text layer and with an unreadable one."""
    pages: list[tuple[int, list[str], list[LinePos | None] | None]] = []
    empty: list[int] = []
    garbage: list[int] = []
    outside: list[Block] = []  # the page numbers taken off the pages
    total = 0
    for number in range(1, count + 1):
        try:
            text, starts = _read_page(reader, number)
        except MemoryError:
            raise
        except FileNotDecryptedError as exc:
            raise IngestError("encrypted: password required") from exc
        except Exception as exc:  # noqa: BLE001 - one bad page must not lose the others
            notes.append(f"text extraction failed on page {number} ({_reason(exc)})")
            continue
        if not text.strip():
            empty.append(number)
            continue
        if _unreadable(text):
            garbage.append(number)
            continue
        total += len(text)
        if total > MAX_TEXT_CHARS:
            notes.append(f"text truncated: over {MAX_TEXT_CHARS} characters by page {number}")
            break
        raw = [" ".join(line.split()) for line in _clean_text(text).split("\n")]
        lines = _strip_page_numbers(list(raw))
        pages.append((number, lines, starts))
        if numbers := [r for r, kept in zip(raw, lines, strict=True) if r and not kept]:
            outside.append(Block("\n".join(numbers), "outside", number))  # still searchable
    layout = _layout([(lines, starts) for _, lines, starts in pages])
    built = [_blocks(lines, number, starts, layout) for number, lines, starts in pages]
    return _levelled(built, layout), outside, empty, garbage


class PdfParser:
    media_types: tuple[str, ...] = ("application/pdf",)

    def parse(self, data: bytes, *, max_pages: int = 5000) -> Parsed:
        if not data:
            raise IngestError("empty file")
        notes: list[str] = []
        with _capture() as collector, apply_configuration(jbig2dec_binary=None):
            reader, open_notes = _open(data)
            notes.extend(open_notes)
            count = _page_count(reader, max_pages)
            if count > max_pages:
                raise IngestError(f"too many pages ({count} > {max_pages})")
            metadata = _metadata(reader, notes)
            blocks, outside, empty, garbage = _extract_pages(reader, count, notes)
        warnings_out: list[str] = []
        if count == 0:
            warnings_out.append("no pages")
        if empty:
            warnings_out.append(f"no text layer on {_pages(empty)}; OCR needed")
        if garbage:
            warnings_out.append(f"unreadable text layer on {_pages(garbage)}; OCR needed")
        warnings_out.extend(notes)
        warnings_out.extend(collector.messages())
        return Parsed(
            format="pdf",
            media_type="application/pdf",
            blocks=blocks,
            metadata=metadata,
            pages=count,
            warnings=warnings_out,
            needs_ocr=sorted(empty + garbage),
            outside=outside,
        )
