"""The index backend interface. Whoosh lives behind it (index/whoosh.py), so another engine can too.

The index holds two kinds of record for each document's current version:
- a document record (title, identifiers, what it cites, full text, kind/court/jurisdiction/date):
  ranking, boolean logic across the whole document, facets and totals are computed on these;
- one record per passage (its text and what it cites): they name the page and paragraph a hit
  came from and give the snippets.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from magsearch import querylang as ql
from magsearch.models import Document, Passage
from magsearch.snippets import Split


@dataclass(frozen=True)
class IndexRecord:
    """Everything the index needs about one document's current version."""

    doc: Document
    version: str
    passages: tuple[Passage, ...]
    cited: tuple[tuple[str, str], ...] = ()  # (passage anchor, normalised citation)
    outside: str = ""  # text outside the main text: its own low-weight field, in no passage
    # the engine's analysis of these records' text, done where the document was parsed (Whoosh:
    # its text fields' postings by (field, value), whoosh.analyse_text); the engine analyses
    # whatever is not here
    terms: Mapping[tuple[str, str], Any] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True)
class SearchRequest:
    """What an engine is asked: a parsed query, the reader's filters and hidden documents, an
    order and a page. The policy (what a query means, when to loosen it, what to suggest) is the
    search service's; an engine matches, scores, counts and reads postings."""

    query: ql.Node = field(default_factory=ql.MatchAll)  # the query tree (querylang)
    # facet -> values as the index holds them (kind/court/jurisdiction/year): OR-ed within a
    # facet, AND-ed across facets
    filters: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    hidden: frozenset[str] = frozenset()  # ids of documents this reader must not see, or count
    sort: str = "relevance"  # "relevance", "newest", "oldest"
    page: int = 1
    per_page: int = 10
    passages_per_hit: int = 3
    time_limit: float = 2.0
    max_expansions: int = 200  # words a wildcard or fuzzy term may expand to
    # "some of the words": the query is an Or of clauses (alone, or AND-ed with kind/court/…/date
    # filters); of its n clauses that have something to search for, a document needs
    # some_of[n] (0: not applicable, nothing is searched), the documents with more of them first
    some_of: tuple[int, ...] = ()
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
    partial: bool = False
    terms: tuple[str, ...] = ()  # analysed body terms of the query, for highlighting
    phrases: tuple[tuple[str, ...], ...] = ()  # phrases (analysed), highlighted only whole
    idents: tuple[str, ...] = ()  # identifiers typed (normalised), highlighted whole
    notes: list[str] = field(default_factory=list)
    at_least: int = 0  # with some_of: the clauses a document needed (0: some_of not applied)


@dataclass(frozen=True)
class Analysis:
    """How the engine reads a text into index terms, for the snippets (magsearch.snippets) to mark
    the words the query matched as the index matched them."""

    keys: Callable[[str, str], tuple[str, ...]]  # (token, language) -> its terms at its position
    token: re.Pattern[str]  # a token of the text
    split: Split | None = None  # a token -> the pieces indexed apart (CJK bigrams)
    # exact forms (=word): a token -> its form as written, marked with `exact_mark` as the terms
    # of exact words are; snippets look for it only when the query asks for an exact form
    exact: Callable[[str], str] | None = None
    exact_mark: str = ""


def some_of_clauses(node: ql.Node) -> tuple[ql.Node, ...]:
    """The clauses of a "some of the words" query (SearchRequest.some_of): an Or, alone or AND-ed
    with filters."""
    if isinstance(node, ql.Or):
        return node.children
    ors = [c for c in node.children if isinstance(c, ql.Or)] if isinstance(node, ql.And) else []
    if len(ors) != 1:
        raise ValueError("some_of needs an Or of clauses (alone or AND-ed with filters)")
    return ors[0].children


class IndexBackend(Protocol):
    schema_version: int
    # the engine whose analysis a parse worker may do for the writer (index.analyse_text), or ""
    engine: str

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

    def search(self, request: SearchRequest) -> SearchResult:
        """The page of hits (each with its best passages), the total, the facets (each facet
        counted with every filter but its own) and what to mark in snippets."""

    def count(self, request: SearchRequest) -> tuple[int, bool]:
        """How many documents match the request's query within its filters (hidden ones never
        counted), and whether the time limit cut the count."""

    def more_like(
        self, doc_id: str, text: str, limit: int = 5, time_limit: float = 2.0,
        hidden: frozenset[str] = frozenset(), language: str = "",
    ) -> SearchResult:  # fmt: skip
        """Documents like this one (its text given, as the index keeps none, and its language),
        best first."""

    def words(self, text: str) -> list[str]:
        """The words of `text` as the index's lexicon holds them (unstemmed), for spelling."""

    def similar_words(
        self, word: str, max_edits: int, hidden: frozenset[str] = frozenset()
    ) -> dict[str, int]:
        """The lexicon's words within `max_edits` edits of `word` (sharing its first letter; the
        word itself when it is there), each with how many visible documents hold it."""

    @property
    def analysis(self) -> Analysis:
        """The engine's tokens and terms, for snippets."""

    def close(self) -> None: ...
