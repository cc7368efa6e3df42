"""SearchService: what a lawyer types, what comes back. Used by the CLI and the web alike; no Flask.

It validates and bounds the query, takes out identifiers (a typed "32631/09" or "Pub. L. 112-208" finds
the document carrying it first, then the documents citing it), asks the index backend, and fills the
hits from the archive: titles, citations, and snippets of the best passages with their anchors.
"""

from __future__ import annotations

from typing import Any

from . import citations
from .archive import Archive
from .cite import short_citation
from .config import Settings
from .errors import QueryError
from .index.base import IndexBackend, SearchRequest

SORTS = ("relevance", "newest", "oldest")
FILTER_FIELDS = ("kind", "court", "jurisdiction", "year")
MAX_PER_PAGE = 100
MAX_PAGE = 1000


class SearchService:
    def __init__(self, archive: Archive, backend: IndexBackend, settings: Settings) -> None:
        self.archive = archive
        self.backend = backend
        self.settings = settings

    def search(
        self,
        q: str,
        *,
        filters: dict[str, list[str] | tuple[str, ...]] | None = None,
        sort: str = "relevance",
        page: int = 1,
        per_page: int = 10,
    ) -> dict[str, Any]:
        text, identifiers = self._split(q)
        request = SearchRequest(
            text=text,
            identifiers=identifiers,
            filters=self._filters(filters or {}),
            sort=self._sort(sort),
            page=_bounded("page", page, 1, MAX_PAGE),
            per_page=_bounded("per_page", per_page, 1, MAX_PER_PAGE),
            time_limit=self.settings.search_time_limit,
        )
        result = self.backend.search(request)
        hits = [self._hit(h, result.terms) for h in result.hits]
        return {
            "query": q,
            "interpreted": result.interpreted,
            "total": result.total,
            "page": request.page,
            "per_page": request.per_page,
            "partial": result.partial,
            "suggestion": result.suggestion,
            "notes": result.notes,
            "facets": result.facets,
            "hits": hits,
        }

    # -- the query -----------------------------------------------------------------------------
    def _split(self, q: str) -> tuple[str, tuple[str, ...]]:
        if not isinstance(q, str) or not q.strip():
            raise QueryError("empty query: type some words, a phrase in quotes, or an identifier")
        if "\x00" in q:
            raise QueryError("the query contains a NUL character")
        if len(q) > self.settings.query_max_chars:
            raise QueryError(f"query too long ({len(q)} characters; at most {self.settings.query_max_chars})")
        whole = citations.normalize(q.strip())
        if whole:
            return "", (whole,)
        found = citations.find_citations(q)
        if not found:
            return q, ()
        rest, last = [], 0
        for c in found:
            rest.append(q[last : c.start])
            last = c.end
        rest.append(q[last:])
        return " ".join("".join(rest).split()), tuple(dict.fromkeys(c.normalized for c in found))

    def _filters(self, filters: dict[str, Any]) -> dict[str, tuple[str, ...]]:
        out: dict[str, tuple[str, ...]] = {}
        for key, values in filters.items():
            if key not in FILTER_FIELDS:
                raise QueryError(f"unknown filter {key!r} (use one of: {', '.join(FILTER_FIELDS)})")
            vals = (values,) if isinstance(values, str) else tuple(values)
            vals = tuple(v.strip() for v in vals if v and v.strip())
            if vals:
                out[key] = vals
        return out

    @staticmethod
    def _sort(sort: str) -> str:
        if sort not in SORTS:
            raise QueryError(f"unknown sort {sort!r} (use one of: {', '.join(SORTS)})")
        return sort

    # -- the hits ------------------------------------------------------------------------------
    def _hit(self, hit: Any, terms: tuple[str, ...]) -> dict[str, Any]:
        doc = self.archive.get_document(hit.doc_id)
        wanted = [p.anchor for p in hit.passages]
        found = self.archive.passages_by_anchor(hit.version, wanted)
        passages = []
        for ph in hit.passages:
            p = found.get(ph.anchor)
            if p is None:
                continue
            passages.append(
                {
                    "anchor": p.anchor,
                    "page": p.page,
                    "label": p.label,
                    "heading": p.heading,
                    "snippet": self.backend.highlight(p.text, terms),
                }
            )
        if not passages:
            first = self.archive.passages(hit.version)[:1]
            passages = [
                {
                    "anchor": p.anchor,
                    "page": p.page,
                    "label": p.label,
                    "heading": p.heading,
                    "snippet": self.backend.highlight(p.text, terms),
                }
                for p in first
            ]
        return {
            "id": doc.id,
            "version": hit.version,
            "title": doc.title,
            "kind": doc.kind.value,
            "date": doc.date,
            "court": doc.court,
            "jurisdiction": doc.jurisdiction,
            "identifiers": list(doc.identifiers),
            "citation": short_citation(doc),
            "score": round(hit.score, 4),
            "snippet": passages[0]["snippet"] if passages else "",
            "passages": passages,
        }


def _bounded(name: str, value: Any, low: int, high: int) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise QueryError(f"{name} must be a whole number (got {str(value)[:20]!r})") from None
    if number < low or number > high:
        raise QueryError(f"{name} must be between {low} and {high} (got {number})")
    return number

