"""The nouns of the archive: pure, frozen dataclasses with no I/O.

Document  a work that people cite (a judgment, an Act, an article); stable id across versions
Version   one exact original of a document, identified by the sha256 of its bytes
Passage   a citable unit of a version: a numbered paragraph, a section, a page; anchored (para-41)
Citation  a legal citation found in a passage: raw text, normalised form, family
Block     what a parser hands to the structure step: a heading or a paragraph of text, with its page
Parsed    a parser's whole result for one file
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

GENRES = ("press release", "summary", "commentary")  # documents about a case or an Act


class Kind(StrEnum):
    RULING = "ruling"
    LEGISLATION = "legislation"
    ARTICLE = "article"
    OTHER = "other"


@dataclass(frozen=True)
class Block:
    text: str
    role: str = "para"  # "para" or "heading" ("outside": outside the main text, never a passage)
    page: int | None = None  # 1-based PDF page, None for HTML and text
    level: int = 0  # heading level (1 = top) where known


@dataclass
class Parsed:
    """A parser's result. `metadata` uses the keys of Document.meta (title, date, authors, ...)."""

    format: str  # "pdf", "html", "text"
    media_type: str
    blocks: list[Block]
    metadata: dict[str, Any] = field(default_factory=dict)
    pages: int | None = None
    warnings: list[str] = field(default_factory=list)
    needs_ocr: list[int] = field(default_factory=list)  # PDF pages with no usable text layer
    ocr_pages: list[int] = field(default_factory=list)  # PDF pages whose blocks OCR read
    # text outside the main text (side columns, captions, page numbers): searchable, no passage
    outside: list[Block] = field(default_factory=list)


@dataclass(frozen=True)
class Citation:
    raw: str  # as written: "Pub. L. No. 112–208"
    normalized: str  # canonical: "Pub. L. 112-208"; equal to an Identifier when it names one
    family: str  # "us-pl", "echr-app", "usc", ... (see citations.FAMILIES)
    start: int = 0  # offsets in the passage text
    end: int = 0
    anchor: str = ""  # the passage it occurs in


@dataclass(frozen=True)
class Passage:
    seq: int
    anchor: str  # "para-41", "sec-404", "art-3", "page-12", or a stable fallback "p-1a2b3c4d"
    label: str  # what a reader cites: "§ 41", "Sec. 404", "p. 12"
    text: str
    page: int | None = None
    page_end: int | None = None
    heading: str = ""  # the headings above it, joined with " › "
    ocr: bool = False  # its text was read by OCR from a scanned page (derived, may contain errors)
    language: str = ""  # ISO 639-1, only where it differs from the document's


@dataclass(frozen=True)
class Version:
    sha256: str
    doc_id: str
    seq: int  # 1 for the first version
    media_type: str
    size: int
    filename: str
    ingested_at: str  # ISO 8601 UTC
    pages: int | None = None
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class Document:
    id: str
    kind: Kind
    title: str
    date: str = ""  # ISO date "2019-08-27" (or "2019")
    court: str = ""
    jurisdiction: str = ""
    language: str = ""
    source_url: str = ""
    identifiers: tuple[str, ...] = ()  # normalised, as citations.normalize() gives them
    meta: dict[str, Any] = field(default_factory=dict)  # authors, publisher, case_name, ...
    current_version: str = ""
    created_at: str = ""
    withdrawn: str = ""  # reason, when withdrawn
    restricted: bool = False  # seen only by signed-in archivists

    @property
    def year(self) -> int | None:
        return int(self.date[:4]) if self.date[:4].isdigit() else None

    @property
    def genre(self) -> str:
        """ "" for a primary source (a judgment, an Act); for a document about one: "press release",
        "summary" (detected or given in the sidecar) or "commentary" (every article)."""
        given = self.meta.get("genre") if isinstance(self.meta, dict) else None
        if isinstance(given, str) and given in GENRES:
            return given
        return "commentary" if self.kind is Kind.ARTICLE else ""

    @property
    def date_basis(self) -> str:
        """What the date is the date of: "decided", "enacted", "published" (by kind, or as a
        press release is "issued")."""
        if self.genre in ("press release", "summary"):
            return "issued"
        return {Kind.RULING: "decided", Kind.LEGISLATION: "enacted"}.get(self.kind, "published")


# The metadata fields a sidecar may set, and their types.
SIDECAR_FIELDS: dict[str, type | tuple[type, ...]] = {
    "id": str,
    "kind": str,
    "title": str,
    "date": str,
    "court": str,
    "jurisdiction": str,
    "identifiers": list,
    "source_url": str,
    "language": str,
    "authors": list,
    "publisher": str,
    "case_name": str,
    "short_title": str,
    "respondent": str,
    "genre": str,  # "press release", "summary", "commentary" (see Document.genre)
}
