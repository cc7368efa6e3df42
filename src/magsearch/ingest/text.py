"""Plain-text parser (text/plain), plus the decoding and date helpers the HTML parser shares.

Decoding: a BOM wins; else strict UTF-8; else charset-normalizer's best guess, Windows-1252 on a
near-tie (with a warning); else Windows-1252 with replacement (with a warning).

Structure, kept deliberately simple:
- YAML front matter (``---`` ... ``---`` at the very top, as Jekyll writes it) becomes metadata
  (title, date, author/authors, canonical_url, lang) and is removed from the text.
- Markdown ATX headings (``## Title``) become role "heading" with level = number of ``#``;
  setext headings (a line underlined with ``===`` / ``---``) become level 1 / 2.
- Other text is cut into chunks at blank lines. In hard-wrapped text (almost no line longer than
  100 characters) a chunk is one paragraph, its lines re-joined with spaces (a list marker such
  as ``- ``, ``1.`` or ``(a)`` starts a new one). Otherwise -- one paragraph or one unit per line,
  as in Markdown sources and the one-unit-per-line statute conversions of the corpus -- every
  line is its own Block.
- Markdown images and links are reduced to their text.
Title: front-matter title, else the first heading, else the first non-empty line (<= 200 chars).
"""

from __future__ import annotations

import codecs
import datetime as _dt
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from magsearch.errors import IngestError
from magsearch.models import Block, Parsed

__all__ = ["TextParser", "Decoded", "decode_text", "bom_encoding", "guess_encoding", "iso_date"]

_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),  # before UTF-16 LE: it starts with the same two bytes
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_GUESS_SAMPLE = 256 * 1024  # bytes handed to charset-normalizer
_TITLE_MAX = 200
_NEAR_TIE = 0.15  # charset-normalizer "chaos" difference treated as a tie


# --------------------------------------------------------------------------- decoding


@dataclass
class Decoded:
    text: str
    encoding: str
    warnings: list[str] = field(default_factory=list)


def bom_encoding(data: bytes) -> tuple[str, int] | None:
    """(codec name, BOM length) when `data` starts with a Unicode BOM."""
    for bom, name in _BOMS:
        if data.startswith(bom):
            return name, len(bom)
    return None


def guess_encoding(data: bytes) -> str | None:
    """charset-normalizer's best guess for `data` (a sample of it), or None.

    Windows-1252, the web's most common legacy charset, wins near-ties: on short Western European
    samples the detector often ranks a Baltic or Central European code page first.
    """
    from charset_normalizer import from_bytes  # lazy: only needed for non-UTF-8 input

    try:
        matches = list(from_bytes(data[:_GUESS_SAMPLE]))
    except Exception:  # noqa: BLE001 - a detector failure only means "no guess"
        return None
    if not matches:
        return None
    best = matches[0]
    name = str(best.encoding)
    if "cp1252" in best.could_be_from_charset:
        name = "cp1252"
    else:
        for match in matches[1:]:
            near = match.chaos <= best.chaos + _NEAR_TIE and match.coherence >= best.coherence - 0.1
            if near and "cp1252" in match.could_be_from_charset:
                name = "cp1252"
                break
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def decode_text(data: bytes) -> Decoded:
    """Decode bytes of unknown encoding: BOM, strict UTF-8, a guess, then Windows-1252."""
    bom = bom_encoding(data)
    if bom:
        name, skip = bom
        text = data[skip:].decode(name, errors="replace")
        return Decoded(text, name, _replacement_warning(text, name))
    try:
        return Decoded(data.decode("utf-8"), "utf-8")
    except UnicodeDecodeError:
        pass
    guess = guess_encoding(data)
    if guess:
        text = data.decode(guess, errors="replace")
        warnings = [f"encoding guessed as {guess}"] + _replacement_warning(text, guess)
        return Decoded(text, guess, warnings)
    text = data.decode("cp1252", errors="replace")
    warnings = ["encoding unknown; decoded as cp1252"] + _replacement_warning(text, "cp1252")
    return Decoded(text, "cp1252", warnings)


def _replacement_warning(text: str, encoding: str) -> list[str]:
    count = text.count("\ufffd")
    if not count:
        return []
    return [f"{count} undecodable byte sequence(s) replaced (decoded as {encoding})"]


# --------------------------------------------------------------------------- dates

_MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ),
        start=1,
    )
    for name in names
}
_MONTH_RE = "|".join(sorted(_MONTHS, key=len, reverse=True))
_YMD = re.compile(r"^\s*(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?![\d])")
_YMD_COMPACT = re.compile(r"^\s*(\d{4})(\d{2})(\d{2})(?:$|[T\s])")
_YM = re.compile(r"^\s*(\d{4})-(\d{1,2})\s*$")
_Y = re.compile(r"^\s*(\d{4})\s*$")
_DMY_NUM = re.compile(r"^\s*(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})\b")
_D_MON_Y = re.compile(rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\.?\s+({_MONTH_RE})\.?,?\s+(\d{{4}})\b", re.I)
_MON_D_Y = re.compile(rf"\b({_MONTH_RE})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s+(\d{{4}})\b", re.I)


def iso_date(value: Any) -> str:
    """An ISO date ("2019-08-27", "2019-08" or "2019") from a date-ish value, or "" if unsure.

    Accepts date/datetime objects and strings such as "2019-08-27", "2019/08/27",
    "2019-08-27T10:00:00Z" (the date as written, no time-zone shift), "20190827",
    "27 August 2019", "August 27, 2019", "Tue, 27 Aug 2019 10:00:00 GMT" and "08/27/2019"
    (numeric day-first only when the first number cannot be a month).
    """
    if isinstance(value, _dt.datetime):
        return value.date().isoformat()
    if isinstance(value, _dt.date):
        return value.isoformat()
    if not isinstance(value, str):
        return ""
    text = value.strip()[:200]
    for pattern in (_YMD, _YMD_COMPACT):
        m = pattern.match(text)
        if m:
            return _checked(int(m[1]), int(m[2]), int(m[3]))
    m = _YM.match(text)
    if m and 1 <= int(m[2]) <= 12:
        return f"{int(m[1]):04d}-{int(m[2]):02d}"
    m = _Y.match(text)
    if m and 1000 <= int(m[1]) <= 2999:
        return m[1]
    m = _DMY_NUM.match(text)
    if m:
        first, second, year = int(m[1]), int(m[2]), int(m[3])
        month, day = (second, first) if first > 12 else (first, second)
        return _checked(year, month, day)
    m = _D_MON_Y.search(text)
    if m:
        return _checked(int(m[3]), _MONTHS[m[2].lower()], int(m[1]))
    m = _MON_D_Y.search(text)
    if m:
        return _checked(int(m[3]), _MONTHS[m[1].lower()], int(m[2]))
    return ""


def _checked(year: int, month: int, day: int) -> str:
    try:
        return _dt.date(year, month, day).isoformat()
    except ValueError:
        return ""


# --------------------------------------------------------------------------- front matter

_FM_KEY = re.compile(r"^([A-Za-z_][\w-]*)\s*:\s*(.*?)\s*$")


def _unquote(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1]
    if " #" in value:  # a YAML comment after a plain scalar
        value = value.split(" #", 1)[0].rstrip()
    return value


def _split_front_matter(text: str) -> tuple[dict[str, Any], str]:
    """Parse a top-of-file `---` block of flat `key: value` YAML; nested mappings are skipped."""
    if not text.startswith("---\n"):
        return {}, text
    lines = text.split("\n", 400)
    end = next(
        (i for i in range(1, min(len(lines), 400)) if lines[i].rstrip() in ("---", "...")), None
    )
    if end is None:
        return {}, text
    values: dict[str, Any] = {}
    current: str | None = None
    for line in lines[1:end]:
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if line[0] in " \t":  # indented: a list item of the current key, or a nested mapping
            item = line.strip()
            if current and item.startswith("- "):
                previous = values.get(current)
                items = previous if isinstance(previous, list) else []
                items.append(_unquote(item[2:]))
                values[current] = items
            continue
        m = _FM_KEY.match(line)
        if not m:
            current = None
            continue
        current, raw = m[1].lower(), m[2]
        if raw.startswith("[") and raw.endswith("]"):
            values[current] = [_unquote(v) for v in raw[1:-1].split(",") if v.strip()]
        elif raw and raw not in ("|", ">"):
            values[current] = _unquote(raw)
    rest = "\n".join(lines[end + 1 :]) if end + 1 < len(lines) else ""
    return values, rest


def _front_matter_metadata(values: dict[str, Any]) -> dict[str, Any]:
    meta: dict[str, Any] = {}
    title = values.get("title")
    if isinstance(title, str) and title.strip():
        meta["title"] = _collapse(title)
    date = values.get("date")
    if isinstance(date, str) and iso_date(date):
        meta["date"] = iso_date(date)
    authors: list[str] = []
    for key in ("authors", "author"):
        value = values.get(key)
        if isinstance(value, str):
            value = [part for part in re.split(r"\s*;\s*|\s+and\s+", value) if part]
        if isinstance(value, list):
            authors.extend(_collapse(str(v)) for v in value if str(v).strip())
    if authors:
        meta["authors"] = list(dict.fromkeys(authors))
    url = values.get("canonical_url")
    if isinstance(url, str) and re.match(r"https?://", url):
        meta["source_url"] = url
    for key in ("lang", "language"):
        if isinstance(values.get(key), str) and values[key].strip():
            meta["language"] = values[key].strip()
            break
    return meta


# --------------------------------------------------------------------------- blocks

_ATX = re.compile(r"^ {0,3}(#{1,6})[ \t]+(.+?)(?:[ \t]+#+)?[ \t]*$")
_SETEXT = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
_LIST_START = re.compile(r"^\s*(?:[-*+•][ \t]|\d{1,3}[.)][ \t]|\(\w{1,4}\)[ \t])")
_IMAGE = re.compile(r"!\[([^\]\n]*)\]\([^)\s]*(?:\s+\"[^\"\n]*\")?\)")
_LINK = re.compile(r"(?<!!)\[([^\]\n]+)\]\([^)\s]*(?:\s+\"[^\"\n]*\")?\)")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")
_WRAP_MAX = 100


def _collapse(text: str) -> str:
    return " ".join(text.split())


def _inline(text: str) -> str:
    text = _IMAGE.sub(lambda m: m[1], text)
    return _LINK.sub(lambda m: m[1], text)


def _is_hard_wrapped(lines: list[str]) -> bool:
    """True if the text is hard-wrapped prose: (almost) no line longer than 100 characters."""
    filled = [line for line in lines if line.strip()]
    if not filled:
        return False
    long = sum(1 for line in filled if len(line) > _WRAP_MAX)
    return long <= 0.05 * len(filled)


def _chunk_blocks(lines: list[str], wrapped: bool) -> list[Block]:
    """Blocks of one blank-line-separated chunk that holds no heading lines."""
    if not wrapped:
        return [Block(_collapse(line)) for line in lines]
    blocks: list[Block] = []
    current: list[str] = []
    for line in lines:
        if current and _LIST_START.match(line):
            blocks.append(Block(_collapse(" ".join(current))))
            current = []
        current.append(line)
    if current:
        blocks.append(Block(_collapse(" ".join(current))))
    return blocks


def text_blocks(text: str) -> list[Block]:
    """Blocks of normalised plain text (see the module docstring for the rules)."""
    blocks: list[Block] = []
    pending: list[str] = []
    lines = text.split("\n")
    wrapped = _is_hard_wrapped(lines)

    def flush() -> None:
        if pending:
            blocks.extend(b for b in _chunk_blocks(pending, wrapped) if b.text)
            pending.clear()

    for index, raw in enumerate(lines):
        line = raw.rstrip()
        if not line.strip():
            flush()
            continue
        atx = _ATX.match(line)
        if atx:
            flush()
            blocks.append(Block(_collapse(_inline(atx[2])), "heading", level=len(atx[1])))
            continue
        following = lines[index + 1] if index + 1 < len(lines) else ""
        underline = _SETEXT.match(following)
        if underline and not pending and len(line) <= _TITLE_MAX and not _LIST_START.match(line):
            level = 1 if following.strip()[0] == "=" else 2
            blocks.append(Block(_collapse(_inline(line)), "heading", level=level))
            lines[index + 1] = ""  # consume the underline
            continue
        pending.append(_inline(line))
    flush()
    return blocks


def _title_from(blocks: list[Block]) -> str:
    for block in blocks:
        if block.role == "heading" and block.text:
            return block.text[:_TITLE_MAX]
    for block in blocks:
        if block.text:
            text = block.text
            if len(text) > _TITLE_MAX:
                cut = text[:_TITLE_MAX].rsplit(" ", 1)[0]
                text = cut + "…"
            return text
    return ""


def normalize_text(text: str) -> str:
    """Newlines to \\n, form feeds to blank lines, control characters and a leading BOM removed."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\f", "\n\n")
    text = unicodedata.normalize("NFC", text.lstrip("\ufeff"))
    return _CONTROL.sub("", text)


class TextParser:
    media_types: tuple[str, ...] = ("text/plain",)

    def parse(self, data: bytes, *, max_pages: int = 5000) -> Parsed:
        if not data:
            raise IngestError("empty file")
        decoded = decode_text(data)
        text = normalize_text(decoded.text)
        front, body = _split_front_matter(text)
        metadata = _front_matter_metadata(front)
        blocks = text_blocks(body)
        # what the reader does not see as text: front matter, link and image targets
        hidden = [text[: len(text) - len(body)].strip()] if front else []
        hidden += [m[0][len(m[1]) + 2 :] for rx in (_IMAGE, _LINK) for m in rx.finditer(body)]
        outside = [Block(h, "outside") for h in hidden if h.strip()]  # searchable, no passage
        warnings = list(decoded.warnings)
        if not blocks:
            warnings.append("no text")
        title = metadata.get("title") or _title_from(blocks)
        if title:
            metadata["title"] = title
        return Parsed(
            format="text",
            media_type="text/plain",
            blocks=blocks,
            metadata=metadata,
            pages=None,
            warnings=warnings,
            outside=outside,
        )
