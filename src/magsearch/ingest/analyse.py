"""What a worker does with one file's bytes: parse, find the structure, the citations and the metadata.

Runs inside the isolated worker (see worker.py); pure apart from the parsers' own reading of bytes.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from .. import citations, language, legalmeta, structure
from ..index import IndexRecord, analyse_text
from ..models import Citation, Document, Kind, Passage
from .ocr import OcrOptions, mark_passages
from .ocr import apply as apply_ocr
from .registry import parse_bytes
from .worker import extend_deadline

DOC_FIELDS = ("title", "date", "court", "jurisdiction", "language", "source_url")


@dataclass(frozen=True)
class Job:
    path: str
    data: bytes
    sha256: str
    kind: str = ""  # from --kind; the sidecar's kind wins
    sidecar: dict[str, Any] = field(default_factory=dict)
    max_pages: int = 5000
    ocr: OcrOptions = field(default_factory=OcrOptions)  # per job: mode, language, limits
    engine: str = ""  # the index engine whose analysis of the text to do here (analyse_text)


@dataclass
class Analysis:
    media_type: str
    kind: str
    title: str
    fields: dict[str, str]  # date, court, jurisdiction, language, source_url
    meta: dict[str, Any]  # authors, publisher, case_name, short_title, respondent, ...
    identifiers: list[tuple[str, str]]  # (normalized, family)
    passages: list[Passage]
    citations: list[Citation]
    pages: int | None
    warnings: list[str]
    outside: str = ""  # text outside the main text: searchable, in no passage
    # the index engine's analysis of the document's records, done here (IndexRecord.terms)
    terms: Mapping[tuple[str, str], Any] = field(default_factory=dict, repr=False)


PASSAGE_LANGUAGE_LETTERS = 200  # a passage with fewer letters keeps the document's language


def analyse(job: Job) -> Analysis:
    parsed = parse_bytes(job.data, max_pages=job.max_pages)
    parsed = apply_ocr(parsed, job.data, job.ocr, str(job.sidecar.get("language") or ""))
    kind = job.sidecar.get("kind") or job.kind or structure.guess_kind(parsed.blocks)
    passages = mark_passages(structure.segment(parsed.blocks, kind), parsed.ocr_pages)
    found: list[Citation] = []
    for p in passages:
        found.extend(citations.find_citations(p.text, anchor=p.anchor))
    meta = {**parsed.metadata, **legalmeta.extract(passages, kind, parsed.metadata)}
    meta.update({k: v for k, v in job.sidecar.items() if k not in ("id", "kind")})
    identifiers = _identifiers(meta.pop("identifiers", []), job.sidecar.get("identifiers"))
    title = str(meta.pop("title", "") or "").strip() or _fallback_title(job.path, passages)
    fields = {k: str(meta.pop(k, "") or "") for k in DOC_FIELDS if k != "title"}
    outside = structure.outside_text(parsed.blocks, parsed.outside)
    fields["language"], passages = _languages(fields["language"], title, passages, outside)
    warnings = list(parsed.warnings)
    if not passages:
        warnings.append("no text found: only the metadata is searchable")
    a = Analysis(
        media_type=parsed.media_type,
        kind=Kind(kind).value if kind in Kind._value2member_map_ else Kind.OTHER.value,
        title=title[:500],
        fields=fields,
        meta={k: v for k, v in meta.items() if v not in ("", None, [], {})},
        identifiers=identifiers,
        passages=passages,
        citations=found,
        pages=parsed.pages,
        warnings=warnings,
        outside=outside,
    )
    if job.engine:
        a.terms = analyse_text(job.engine, _record(a))
    return a


def _record(a: Analysis) -> IndexRecord:
    """The index record the writer will build from this analysis and the document it catalogs it
    under (pipeline._record): what it does not know yet (the document's id; a curated title or
    language of an earlier version) only makes the engine analyse those values again."""
    f = a.fields
    doc = Document(
        id="",
        kind=Kind(a.kind),
        title=a.title,
        date=f["date"],
        court=f["court"],
        jurisdiction=f["jurisdiction"],
        language=f["language"],
        identifiers=tuple(value for value, _ in a.identifiers),
        meta=a.meta,
    )
    cited = tuple((c.anchor, c.normalized) for c in a.citations)
    return IndexRecord(doc, "", tuple(a.passages), cited, a.outside)


def analyse_group(jobs: list[Job]) -> list[Analysis | None]:
    """analyse() for several small files in one worker (one fork for them all). A file whose
    analysis raises gets None: the pipeline parses it again alone, so that its failure reads as it
    would have alone. Each file has the whole time-out to itself (the deadline moves on by the time
    each file took). A group of one is analyse() itself."""
    if len(jobs) == 1:
        return [analyse(jobs[0])]
    out: list[Analysis | None] = []
    for job in jobs:
        started = time.monotonic()
        try:
            out.append(analyse(job))
        except Exception:  # noqa: BLE001 - parsed again alone, where the worker names the reason
            out.append(None)
        # the time-out counts each file's own time: the next one gets all of it
        extend_deadline(time.monotonic() - started)
    return out


def warm_up() -> None:
    """Import the parsers, build eyecite's tables and load the language model once in the parent:
    forked workers inherit them (without this every file pays ~1.5 s of set-up)."""
    from . import html, pdf, text  # noqa: F401

    citations.find_citations("Brown v. Board of Education, 347 U.S. 483 (1954); Pub. L. 112-208.")
    language.detect("The language model is loaded once, before the workers fork.")


def _identifiers(extracted: list[str], given: list[str] | None) -> list[tuple[str, str]]:
    """The document's own identifiers: the sidecar's first (normalised when recognised), then found ones."""
    out: dict[str, str] = {}
    for raw in [*(given or []), *extracted]:
        norm = citations.normalize(raw) or raw.strip()
        if norm and norm not in out:
            out[norm] = legalmeta.family_of(norm) or ""
    return list(out.items())


def _fallback_title(path: str, passages: list[Passage]) -> str:
    for p in passages[:3]:
        line = p.text.strip().splitlines()[0] if p.text.strip() else ""
        if 8 <= len(line) <= 200:
            return line
    name = path.rsplit("/", 1)[-1]
    return name.rsplit(".", 1)[0] or name


def _languages(
    declared: str, title: str, passages: list[Passage], outside: str
) -> tuple[str, list[Passage]]:
    """The document's language (the sidecar's, else the HTML lang or PDF metadata, else detected
    from its text) and its passages, those in another language marked with theirs."""
    doc = language.normalize(declared)
    texts = []
    if not doc:
        texts.append("\n".join([title, *(p.text for p in passages)]) if passages else outside)
    told = [
        i
        for i, p in enumerate(passages)
        if language.letter_count(p.text[:2000]) >= PASSAGE_LANGUAGE_LETTERS
        or language.script_of(p.text) in ("han", "kana", "hangul")
    ]
    found = language.detect_all(texts + [passages[i].text for i in told])  # one run of the model
    if not doc:
        doc = found.pop(0) or ""
    out = list(passages)
    for i, own in zip(told, found, strict=True):
        if own and own != doc:
            out[i] = replace(passages[i], language=own)
    return doc, out
