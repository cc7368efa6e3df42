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
  without a ToUnicode map), are reported as needing OCR; the garbage text is dropped.
- Metadata from the document information dictionary, else XMP: title, authors, subject, date
  (ISO), language.

How a page's text becomes Blocks (pypdf gives visual lines):
- a page number alone on the first or last line ("7", "- 7 -", "Page 7 of 9") is dropped;
- heading lines become their own Block with role "heading": numbered headings ("SEC. 401. SHORT
  TITLE.", "ARTICLE 3", "§ 10101. Definitions", "Part II Offences", "IV. DISCUSSION"), all-caps
  lines ("UNITED STATES TAX COURT"), and short Title-Case lines standing between paragraphs
  ("Memorandum Opinion");
- other lines are joined into paragraphs. A paragraph ends at a blank line, or after a line that
  ends a sentence (``. ? ! :`` or CJK ``。``, not after "Mr." or "v.") when the next line starts
  with a capital letter, a digit, an opening quote/bracket or a CJK character; a numbered paragraph
  ("41. The Court ...", "[41] ...") always starts a new Block unless the line before ends in a
  connecting word ("paragraph", "see", ",").
- lines are joined with a space; "hospi-" + "tal" becomes "hospital"; CJK lines join without one;
  ligatures (U+FB00-FB06) are spelled out; soft hyphens and private-use characters (symbol-font
  glyphs) are dropped.
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
from typing import Any

from pypdf import PasswordType, PdfReader, apply_configuration
from pypdf.errors import DependencyError, FileNotDecryptedError, PyPdfError

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


def _page_count(reader: PdfReader) -> int:
    try:
        return len(reader.pages)
    except MemoryError:
        raise
    except FileNotDecryptedError as exc:
        raise IngestError("encrypted: password required") from exc
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
    chars = [c for c in text if not c.isspace()]
    if not chars:
        return False
    bad = sum(
        1 for c in chars if c == "\ufffd" or unicodedata.category(c) in ("Co", "Cn", "Cc", "Cs")
    )
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


def _title_case(words: list[str]) -> bool:
    long = [w for w in words if sum(c.isalpha() for c in w) >= 4]
    return bool(long) and all(w[0].isupper() or not w[0].isalpha() for w in long)


def _heading_level(line: str, at_boundary: bool) -> int | None:
    """Heading level (0 = unknown) if `line` is a heading line, else None."""
    if len(line) > 120:
        return None
    if _NUMBERED_UPPER.match(line):
        return _LEVELS.get(line.split()[0], 2)
    letters = [c for c in line if c.isalpha()]
    cased = [c for c in letters if c.isupper() or c.islower()]
    if len(cased) >= 4 and sum(c.isupper() for c in cased) >= 0.9 * len(cased) and len(line) <= 100:
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
    if _is_cjk(previous[-1]) and _is_cjk(line[0]):
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


def page_blocks(text: str, page: int | None = None) -> list[Block]:
    """Blocks of one page of extracted text (see the module docstring for the rules)."""
    text = _PRIVATE_USE.sub("", text.translate(_LIGATURES)).replace("\x00", "")
    lines = _strip_page_numbers([" ".join(line.split()) for line in text.split("\n")])
    blocks: list[Block] = []
    current = ""
    boundary = True  # the previous line ended a paragraph (or we are at the top of the page)

    def flush() -> None:
        nonlocal current
        if current:
            blocks.append(Block(current, "para", page))
            current = ""

    for index, line in enumerate(lines):
        if not line:
            flush()
            boundary = True
            continue
        level = _heading_level(line, boundary)
        if level is not None:
            flush()
            blocks.append(Block(line, "heading", page, level))
            boundary = True
            continue
        if current and _NUMBERED_PARA.match(line) and not _joins(current):
            flush()
        current = _join(current, line) if current else line
        following = next((x for x in lines[index + 1 :] if x), "")
        boundary = _ends_sentence(line) and (not following or _starts_sentence(following))
        if boundary:
            flush()
    flush()
    return blocks


# --------------------------------------------------------------------------- the parser


def _extract_pages(
    reader: PdfReader, count: int, notes: list[str]
) -> tuple[list[Block], list[int], list[int]]:
    """Blocks of every page, plus the pages with no text layer and with an unreadable one."""
    blocks: list[Block] = []
    empty: list[int] = []
    garbage: list[int] = []
    total = 0
    for number in range(1, count + 1):
        try:
            text = reader.pages[number - 1].extract_text() or ""
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
        blocks.extend(page_blocks(text, number))
    return blocks, empty, garbage


class PdfParser:
    media_types: tuple[str, ...] = ("application/pdf",)

    def parse(self, data: bytes, *, max_pages: int = 5000) -> Parsed:
        if not data:
            raise IngestError("empty file")
        notes: list[str] = []
        with _capture() as collector, apply_configuration(jbig2dec_binary=None):
            reader, open_notes = _open(data)
            notes.extend(open_notes)
            count = _page_count(reader)
            if count > max_pages:
                raise IngestError(f"too many pages ({count} > {max_pages})")
            metadata = _metadata(reader, notes)
            blocks, empty, garbage = _extract_pages(reader, count, notes)
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
        )
