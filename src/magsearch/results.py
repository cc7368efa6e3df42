"""What a search returns, typed: the search service builds these, the CLI, the web pages, the API,
exports, alerts and verify read them by attribute. Engine-free (no Whoosh, no Flask).

`to_json()` is the JSON of the API and of `magsearch search --json`, in the shape docs/search.md
documents (and web/openapi.py describes): field for field, in this order.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from .exports import Entry


@dataclass(frozen=True)
class PassageSnippet:
    """One of a hit's best passages: where it is (anchor, page, the document's own numbering) and
    its snippet (escaped HTML with <mark> around what the query matched)."""

    anchor: str
    page: int | None
    label: str  # "§ 41", "s. 404", "p. 12", or ""
    heading: str
    ocr: bool
    snippet: str


@dataclass(frozen=True)
class Hit:
    """A document found, with what a result line shows and its best passages."""

    id: str
    version: str  # the version that matched (as of a past time, maybe not the current one)
    title: str
    kind: str
    date: str
    date_basis: str  # what the date (and a date filter) is the date of
    current_to: str  # a consolidation's
    genre: str  # "" for a primary source; "press release", "summary", "commentary"
    court: str
    jurisdiction: str
    identifiers: tuple[str, ...]
    citation: str
    cite: dict[str, str]  # the formal styles, for the reader's chosen one on the result line
    score: float
    restricted: bool
    withdrawn: str  # as of a past time: a document withdrawn since (why); else ""
    current: bool  # whether the version that matched is the document's current one
    snippet: str  # the first passage's
    passages: tuple[PassageSnippet, ...]
    outside: bool  # found only outside the main text (a side column, a running head)
    explain: dict[str, Any] | None = None  # why it scored as it did (asked for: explain)

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["identifiers"] = list(self.identifiers)
        out["passages"] = [asdict(p) for p in self.passages]
        if self.explain is None:
            del out["explain"]
        return out


@dataclass
class SearchResponse:
    """One page of results."""

    query: str
    within: str  # searched within the results of `query` ("" for none)
    sort: str
    as_of: str  # "" for a search of the archive as it is
    historic: bool
    added_since: int  # as of a past time: documents added since, left out
    interpreted: str  # how the query was read, in the query language
    total: int
    page: int
    per_page: int
    partial: bool  # the deadline cut the search: the hits found by then
    suggestion: str  # a better spelling that finds more, or ""
    notes: list[str]
    facets: dict[str, dict[str, int]]  # {facet: {value: documents}}, each facet's own order
    hits: list[Hit] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        out = {k: v for k, v in vars(self).items() if k != "hits"}
        out["notes"] = list(self.notes)
        out["facets"] = {name: dict(counts) for name, counts in self.facets.items()}
        out["hits"] = [h.to_json() for h in self.hits]
        return out


@dataclass
class ExportResult:
    """The first hits of a search as exports.Entry (the document, the version that matched, its
    best passage), for exports.export."""

    query: str
    as_of: str
    historic: bool
    total: int
    partial: bool
    notes: list[str]
    entries: list[Entry]
