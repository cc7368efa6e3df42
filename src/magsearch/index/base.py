"""The index backend interface. Whoosh lives behind it (index/whoosh.py), so another engine can too.

The index holds two kinds of record for each document's current version:
- a document record (title, identifiers, what it cites, full text, kind/court/jurisdiction/date):
  ranking, boolean logic across the whole document, facets and totals are computed on these;
- one record per passage (its text and what it cites): they name the page and paragraph a hit
  came from and give the snippets.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from magsearch.models import Document, Passage


@dataclass(frozen=True)
class IndexRecord:
    """Everything the index needs about one document's current version."""

    doc: Document
    version: str
    passages: tuple[Passage, ...]
    cited: tuple[tuple[str, str], ...] = ()  # (passage anchor, normalised citation)
    outside: str = ""  # text outside the main text: its own low-weight field, in no passage


@dataclass(frozen=True)
class SearchRequest:
    text: str = ""  # the query in the query language (identifiers already taken out)
    identifiers: tuple[str, ...] = ()  # normalised identifiers typed in the query
    filters: dict[str, tuple[str, ...]] = field(
        default_factory=dict
    )  # kind/court/jurisdiction/year
    sort: str = "relevance"  # "relevance", "newest", "oldest"
    page: int = 1
    per_page: int = 10
    passages_per_hit: int = 3
    time_limit: float = 2.0
    more_like: str = ""  # a document id: "more like this"
    parsed: Any = None  # the query as a querylang tree (None: the backend parses `text` itself)
    max_expansions: int = 200  # words a wildcard or fuzzy term may expand to
    suggest: bool = True  # look for a better spelling when there are few hits
    loose: bool = True  # plain words that no document holds all of: fall back to some of them
    hidden: frozenset[str] = frozenset()  # ids of documents this reader must not see, or count
    explain: bool = False  # say why each hit of the page scored as it did (DocHit.explain)


@dataclass(frozen=True)
class PassageHit:
    anchor: str
    score: float
    terms: tuple[str, ...] = ()


@dataclass(frozen=True)
class DocHit:
    doc_id: str
    version: str
    score: float
    passages: tuple[PassageHit, ...] = ()
    outside: bool = False  # the query matches the text outside the document's main text
    explain: dict[str, Any] | None = None  # why it scored as it did (SearchRequest.explain)


@dataclass
class SearchResult:
    total: int
    hits: list[DocHit]
    facets: dict[str, dict[str, int]]
    interpreted: str
    partial: bool = False
    terms: tuple[str, ...] = ()  # analysed body terms of the query, for highlighting
    phrases: tuple[tuple[str, ...], ...] = ()  # phrases (analysed), highlighted only whole
    idents: tuple[str, ...] = ()  # identifiers typed (normalised), highlighted whole
    suggestion: str = ""
    notes: list[str] = field(default_factory=list)


class IndexBackend(Protocol):
    schema_version: int

    def write(
        self,
        records: list[IndexRecord],
        delete: list[str] | tuple[str, ...] = (),
        *,
        fresh: Iterable[str] = (),
        merge: bool = True,
    ) -> None:
        """Replace the given documents' records (and drop the `delete` ids) in one commit; `fresh`
        ids are not in the index yet; merge=False defers merging to merge()."""

    def merge(self) -> None:
        """Merge what batch commits without merging left (end of a bulk load)."""

    def bulk_load(self, records: Iterable[IndexRecord]) -> int:
        """Add many documents to an empty index at once (a rebuild); returns how many."""

    def clear(self) -> None:
        """Remove everything (before a rebuild)."""

    def doc_ids(self) -> set[str]:
        """The ids of the documents in the index."""

    def generation(self) -> int:
        """A number that changes with every commit to the index, whichever process made it."""

    def search(self, request: SearchRequest) -> SearchResult: ...

    def more_like(
        self, doc_id: str, text: str, limit: int = 5, time_limit: float = 2.0,
        hidden: frozenset[str] = frozenset(), language: str = "",
    ) -> SearchResult:  # fmt: skip
        """Documents like this one (its text given, as the index keeps none, and its language),
        best first."""

    def highlight(
        self, text: str, terms: tuple[str, ...], *, top: int = 2,
        phrases: tuple[tuple[str, ...], ...] = (), idents: tuple[str, ...] = (),
        language: str = "",
    ) -> str:  # fmt: skip
        """Escaped HTML with <mark> around matched terms, phrases (whole) and identifiers (whole):
        safe to put in a page as it is (magsearch.snippets). `language`: the text's (ISO 639-1),
        whose words are stemmed as the index stems them."""

    def close(self) -> None: ...
