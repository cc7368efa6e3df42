"""A result list as a file for a spreadsheet or a reference manager: CSV, RIS, BibTeX, CSL-JSON.

One line (CSV) or entry per document, in the order of the results: its citation, its permalink and
the anchor of its best passage (the paragraph or section a reader lands on). The entries are the
single-document citation exports of `cite` (one formatter per format), pinpointed to that passage;
this module only lists them and adds the CSV. Pure: no I/O; URLs come from the caller's `links`.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from . import cite
from .models import Document, Passage

FORMATS = ("csv", "ris", "bibtex", "csl-json")
MAX_HITS = 1000
MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "ris": cite.MEDIA_TYPES["ris"],
    "bibtex": cite.MEDIA_TYPES["bibtex"],
    "csl-json": cite.MEDIA_TYPES["csl-json"],
}
EXTENSIONS = {"csv": "csv", "ris": "ris", "bibtex": "bib", "csl-json": "json"}
# what an Accept header may ask for, by its media type (without parameters)
ACCEPTED = {m.split(";")[0]: f for f, m in MEDIA_TYPES.items()} | {"application/x-bibtex": "bibtex"}
CSV_COLUMNS = (
    "rank",
    "id",
    "title",
    "citation",
    "bluebook",
    "oscola",
    "kind",
    "date",
    "court",
    "jurisdiction",
    "identifiers",
    "permalink",
    "version",
    "version_permalink",
    "anchor",
    "pinpoint",
    "passage_permalink",
    "withdrawn",
)


@dataclass(frozen=True)
class Entry:
    """One document of a result list: the version that matched and its best passage."""

    doc: Document
    version: str
    passage: Passage | None
    withdrawn: str = ""  # why it was withdrawn, for a search as of a time before that


@dataclass(frozen=True)
class Links:
    permalink: str  # the document (its newest version)
    version: str  # the version that matched, for ever
    passage: str  # the best passage: the URL a citation of this hit gives


LinkMaker = Callable[[Entry], Links]


def export(entries: Iterable[Entry], fmt: str, links: LinkMaker) -> str:
    """The entries as a file in one of FORMATS. Raises ValueError for another format."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt[:40]!r} (use one of: {', '.join(FORMATS)})")
    rows = [(e, links(e)) for e in entries]
    if fmt == "csv":
        return _csv(rows)
    if fmt == "ris":
        return "\n".join(cite.ris(e.doc, e.passage, u.passage, note=_note(e)) for e, u in rows)
    if fmt == "bibtex":
        keys = _unique_keys(e.doc.id for e, _ in rows)
        return "\n".join(
            cite.bibtex(e.doc, e.passage, u.passage, key=k, note=_note(e))
            for (e, u), k in zip(rows, keys, strict=True)
        )
    items = [cite.csl_item(e.doc, e.passage, u.passage, note=_note(e)) for e, u in rows]
    return json.dumps(items, ensure_ascii=False, indent=2) + "\n"


def _note(e: Entry) -> str:
    return f"Withdrawn from the archive since: {e.withdrawn}" if e.withdrawn else ""


def _unique_keys(doc_ids: Iterable[str]) -> list[str]:
    """BibTeX keys, one per entry and all different ("a.b" and "a-b" are both "a_b" at first)."""
    seen: set[str] = set()
    out = []
    for doc_id in doc_ids:
        base = key = cite.bibtex_key(doc_id)
        n = 1
        while key in seen:
            n += 1
            key = f"{base}_{n}"
        seen.add(key)
        out.append(key)
    return out


def _cell(value: str) -> str:
    """A spreadsheet must not run a cell as a formula: one starting with = + - @ (or a tab or
    carriage return before one) is given a leading apostrophe, as OWASP advises."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def _csv(rows: list[tuple[Entry, Links]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")  # RFC 4180
    writer.writerow(CSV_COLUMNS)
    for rank, (e, u) in enumerate(rows, 1):
        doc, p = e.doc, e.passage
        values = (
            str(rank),
            doc.id,
            doc.title,
            cite.short_citation(doc),
            cite.bluebook(doc, p),  # pinpointed to the best passage
            cite.oscola(doc, p),
            doc.kind.value,
            doc.date,
            doc.court,
            doc.jurisdiction,
            "; ".join(doc.identifiers),
            u.permalink,
            e.version,
            u.version,
            p.anchor if p else "",
            cite.pin_label(p) if p else "",
            u.passage,
            e.withdrawn,
        )
        writer.writerow([_cell(v) for v in values])
    return out.getvalue()
