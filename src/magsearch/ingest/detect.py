"""Format detection from the bytes alone (never the file name or a declared Content-Type).

detect(data) -> "application/pdf" | "text/html" | "text/plain", else IngestError naming what the
bytes look like ("unsupported format (ZIP archive)"). Order of the checks:
1. empty -> "empty file";
2. ``%PDF-`` in the first 1024 bytes -> PDF (readers accept junk before the header);
3. binary magic numbers (ZIP / Office Open XML, PNG, JPEG, GIF, gzip, OLE2, ELF) -> unsupported;
4. markup: after a BOM, whitespace, comments and an ``<?xml ...?>`` declaration, a document that
   starts with ``<!doctype html``, ``<html``, ``<head`` or ``<body`` is HTML, as is one whose first
   4 KB is dense with HTML tags (``<meta``, ``<title>``, ``<p>``, ``<div`` ...); RTF and other XML
   are unsupported;
5. text: a UTF-8/16/32 BOM, or no NUL bytes (BOM-less UTF-16 aside) and the bytes decode as UTF-8
   or as charset-normalizer's guess with few control characters -> text/plain;
6. anything else -> "unsupported format (binary data)".
"""

from __future__ import annotations

import codecs
import re
import unicodedata

from magsearch.errors import IngestError

PDF = "application/pdf"
HTML = "text/html"
TEXT = "text/plain"

_SNIFF = 4096  # bytes inspected for markup
_TEXT_SAMPLE = 64 * 1024  # bytes inspected for text

_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "PNG image"),
    (b"\xff\xd8\xff", "JPEG image"),
    (b"GIF87a", "GIF image"),
    (b"GIF89a", "GIF image"),
    (b"\x1f\x8b", "gzip data"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "OLE2 (old MS Office) file"),
    (b"\x7fELF", "ELF executable"),
)
_ZIP = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")
_OOXML_PARTS = (b"word/", b"xl/", b"ppt/")

_HTML_START = re.compile(rb"<(?:!doctype\s+html|html|head|body)(?:[\s>/]|$)", re.I)
_SKIP = re.compile(rb"\s+|<!--.*?-->|<\?xml[^>]*\?>", re.S)
_HTML_TAG = re.compile(
    rb"<(meta|title|p|div|span|a|br|table|tr|td|ul|ol|li|h[1-6]|script|style|link|img|form|"
    rb"center|font|b|i|em|strong|section|article|nav|header|footer|main)(?=[\s>/])",
    re.I,
)
_XML_ROOT = re.compile(rb"<[A-Za-z_][\w:.-]*[\s>/]")


def detect(data: bytes) -> str:
    """The media type of `data`, or IngestError("unsupported format (...)")."""
    if not data:
        raise IngestError("empty file")
    if b"%PDF-" in data[:1024]:
        return PDF
    binary = _binary_kind(data)
    if binary:
        raise IngestError(f"unsupported format ({binary})")
    markup = _markup_kind(data)
    if markup == HTML:
        return HTML
    if markup:
        raise IngestError(f"unsupported format ({markup})")
    if _is_text(data):
        return TEXT
    raise IngestError("unsupported format (binary data)")


def _binary_kind(data: bytes) -> str | None:
    if data.startswith(_ZIP):
        # Part names are stored uncompressed in the local headers and the central directory.
        if b"[Content_Types].xml" in data and any(part in data for part in _OOXML_PARTS):
            return "Office Open XML document"
        return "ZIP archive"
    for magic, kind in _MAGIC:
        if data.startswith(magic):
            return kind
    return None


def _ascii_view(data: bytes) -> bytes:
    """The first bytes as an ASCII-compatible byte string (UTF-16/32 with a BOM transcoded)."""
    head = data[: _SNIFF * 4]
    for bom, codec in (
        (codecs.BOM_UTF32_LE, "utf-32-le"),
        (codecs.BOM_UTF32_BE, "utf-32-be"),
        (codecs.BOM_UTF16_LE, "utf-16-le"),
        (codecs.BOM_UTF16_BE, "utf-16-be"),
    ):
        if head.startswith(bom):
            text = head[len(bom) :].decode(codec, errors="ignore")
            return text.encode("ascii", errors="replace")[:_SNIFF]
    if head.startswith(codecs.BOM_UTF8):
        head = head[len(codecs.BOM_UTF8) :]
    return head[:_SNIFF]


def _markup_kind(data: bytes) -> str | None:
    """HTML, "RTF document", "XML document", or None for anything else."""
    head = _ascii_view(data)
    if head.lstrip().startswith(b"{\\rtf"):
        return "RTF document"
    position, had_xml_declaration = 0, False
    while True:
        m = _SKIP.match(head, position)
        if not m or m.end() == position:
            break
        had_xml_declaration |= m.group().startswith(b"<?xml")
        position = m.end()
    rest = head[position:]
    if _HTML_START.match(rest):
        return HTML
    if had_xml_declaration:
        return "XML document"
    if rest.startswith(b"<"):
        tags = [m.group(1).lower() for m in _HTML_TAG.finditer(head)]
        if len(set(tags)) >= 2 and len(tags) >= 3:
            return HTML
        if _XML_ROOT.match(rest) and b"xmlns" in rest[:512]:
            return "XML document"
        return None
    tags = [m.group(1).lower() for m in _HTML_TAG.finditer(head)]
    if len(set(tags)) >= 4 and len(tags) >= 10 and not head.startswith(b"---"):
        return HTML
    return None


def _is_text(data: bytes) -> bool:
    sample = data[:_TEXT_SAMPLE]
    text = _decode_sample(sample)
    if text is None:
        return False
    return _looks_like_text(text)


def _decode_sample(sample: bytes) -> str | None:
    for bom, codec in (
        (codecs.BOM_UTF32_LE, "utf-32-le"),
        (codecs.BOM_UTF32_BE, "utf-32-be"),
        (codecs.BOM_UTF8, "utf-8"),
        (codecs.BOM_UTF16_LE, "utf-16-le"),
        (codecs.BOM_UTF16_BE, "utf-16-be"),
    ):
        if sample.startswith(bom):
            return _incremental(sample[len(bom) :], codec)
    if b"\x00" in sample:
        utf16 = _bomless_utf16(sample)
        return _incremental(sample, utf16) if utf16 else None
    try:
        return _incremental(sample, "utf-8", errors="strict")
    except UnicodeDecodeError:
        pass
    from magsearch.ingest.text import guess_encoding  # lazy: pulls in charset-normalizer

    guess = guess_encoding(sample)
    if not guess:
        return None
    return _incremental(sample, guess)


def _incremental(sample: bytes, codec: str, errors: str = "replace") -> str:
    """Decode a sample that may end inside a multi-byte sequence."""
    decoder = codecs.getincrementaldecoder(codec)(errors=errors)
    return decoder.decode(sample, final=False)


def _bomless_utf16(sample: bytes) -> str | None:
    """utf-16-le/-be when NULs sit regularly in odd/even positions (ASCII-range UTF-16)."""
    pairs = len(sample) // 2
    if pairs < 8:
        return None
    even_nul = sum(1 for i in range(0, pairs * 2, 2) if sample[i] == 0)
    odd_nul = sum(1 for i in range(1, pairs * 2, 2) if sample[i] == 0)
    if odd_nul >= 0.9 * pairs and even_nul <= 0.05 * pairs:
        return "utf-16-le"
    if even_nul >= 0.9 * pairs and odd_nul <= 0.05 * pairs:
        return "utf-16-be"
    return None


def _looks_like_text(text: str) -> bool:
    """Few control, unassigned, private-use or replacement characters."""
    if not text:
        return False
    bad = 0
    for char in text:
        if char in "\t\n\r\f\v":
            continue
        if char == "\ufffd" or unicodedata.category(char) in ("Cc", "Cn", "Co", "Cs"):
            bad += 1
    return bad <= max(2, len(text) // 100)
