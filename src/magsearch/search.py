"""SearchService: what a lawyer types, what comes back. Used by the CLI and the web alike; no Flask.

It reads and bounds the query (querylang.py: the query language of docs/search.md, identifiers
included: a typed "32631/09" or "Pub. L. 112-208" finds the document carrying it first, then the
documents citing it), checks the filters, sort and page, asks the index backend, and fills the hits
from the archive: titles, citations, and snippets of the best passages with their anchors.

Every problem a user can cause is a QueryError with a one-line message; a query that was read in a
particular way (an unbalanced quote closed, a stray operator taken as a word) says so in "notes",
and "interpreted" shows the reading.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from . import querylang
from .archive import Archive, now_iso
from .cite import STYLES, format_citation, pin_label, short_citation
from .config import Settings
from .errors import NotFound, QueryError
from .exports import MAX_HITS as MAX_EXPORT
from .exports import Entry
from .index.base import DocHit, IndexBackend, SearchRequest
from .index.history import History
from .index.history import keys as history_keys
from .index.sync import read_pending
from .models import Document, Passage
from .snippets import Marks

SORTS = ("relevance", "newest", "oldest")
FILTER_FIELDS = ("kind", "court", "jurisdiction", "year")
MAX_PER_PAGE = 100
MAX_PAGE = 1000
MAX_FILTER_VALUES = 50
MORE_LIKE_CHARS = 60_000  # of a document's text, read for its key terms
MORE_LIKE_PASSAGES = 64  # read at most this many passages for them (each is at most 20,000 chars)
DATE_NOTE = (
    "dates filtered on: a ruling's date of decision, an Act's date of enactment (for a consolidation, "
    "not the date it is current to), an article's date of publication, a press release's date of issue"
)


class SearchService:
    def __init__(self, archive: Archive, backend: IndexBackend, settings: Settings) -> None:
        self.archive = archive
        self.backend = backend
        self.settings = settings
        self._history: History | None = None  # opened by the first search as of a past time

    def search(
        self,
        q: str,
        *,
        filters: Mapping[str, Sequence[str]] | None = None,
        sort: str = "relevance",
        page: int | str = 1,
        per_page: int | str = 10,
        include_restricted: bool = False,
        as_of: str | None = None,
        within: str | None = None,
        explain: bool = False,
    ) -> dict[str, Any]:
        """One page of results in the response shape of docs/search.md. Raises QueryError.
        `within`: a second query, searched within this one's results (both must match).
        `explain`: each hit says why it scored as it did ("explain").
        Restricted documents are left out (from hits, totals, facets, suggestions: everything)
        unless `include_restricted` (a signed-in archivist); withdrawn ones always are.
        `as_of` (ISO 8601, UTC) searches the archive as it stood then (see `_scope`)."""
        at = parse_as_of(as_of) if as_of else ""
        with self._scope(at, include_restricted) as scope:
            parsed, request = self._request(
                q, filters, sort, scope, within,
                page=_bounded("page", page, 1, MAX_PAGE),
                per_page=_bounded("per_page", per_page, 1, MAX_PER_PAGE),
                explain=bool(explain),
            )  # fmt: skip
            deadline = time.monotonic() + request.time_limit
            result = scope.backend.search(request)
        cut = Deadline(deadline)
        marks = Marks(frozenset(result.terms), result.phrases, result.idents)
        hits = [h for h in (self._hit(h, marks, scope, cut) for h in result.hits) if h]
        return {
            "query": q,
            "within": within or "",  # searched within the results of `query`
            "sort": request.sort,
            "as_of": at,  # "" for a search of the archive as it is
            "historic": bool(at),
            "added_since": self.archive.count_added_after(at, include_restricted=include_restricted)
            if at
            else 0,
            "interpreted": result.interpreted,
            "total": result.total,
            "page": request.page,
            "per_page": request.per_page,
            "partial": result.partial or cut.passed,
            "suggestion": result.suggestion,
            "notes": self._notes(parsed, result.notes, request),
            "facets": result.facets,
            "hits": hits,
        }

    def export(
        self,
        q: str,
        *,
        filters: Mapping[str, Sequence[str]] | None = None,
        sort: str = "relevance",
        limit: int | str = MAX_EXPORT,
        include_restricted: bool = False,
        as_of: str | None = None,
        within: str | None = None,
    ) -> dict[str, Any]:
        """The first `limit` (at most MAX_EXPORT) hits of a search, each as an exports.Entry (the
        document, the version that matched, its best passage), for exports.export. Without
        snippets, so a thousand hits cost about one search; the same deadline bounds it."""
        at = parse_as_of(as_of) if as_of else ""
        with self._scope(at, include_restricted) as scope:
            parsed, request = self._request(
                q, filters, sort, scope, within,
                page=1, per_page=_bounded("limit", limit, 1, MAX_EXPORT), passages_per_hit=1,
            )  # fmt: skip
            result = scope.backend.search(request)
        entries = []
        for hit in result.hits:
            doc = scope.document(hit)
            if doc is None:
                continue
            found = self.archive.passages_by_anchor(hit.version, [p.anchor for p in hit.passages])
            best = [found[p.anchor] for p in hit.passages if p.anchor in found]
            best = best or self.archive.passages(hit.version, limit=1)
            withdrawn = doc.withdrawn if at else ""
            entries.append(Entry(doc, hit.version, best[0] if best else None, withdrawn))
        return {
            "query": q,
            "as_of": at,
            "historic": bool(at),
            "total": result.total,
            "partial": result.partial,
            "notes": self._notes(parsed, result.notes, request),
            "entries": entries,
        }

    @contextmanager
    def _scope(self, at: str, include_restricted: bool) -> Iterator[Scope]:
        """What a search reads. Now: the main index (current versions), minus the hidden
        documents. As of a past time `at`: the history index (every version, keyed by its sha256)
        with every version hidden but those current at `at` (Archive.versions_as_of: documents
        withdrawn since are in, those added since are not) and, for a reader who may not see
        them, those of documents restricted now: restricted stays restricted."""
        if not at:
            yield Scope(
                self.archive, self.backend, self.hidden(include_restricted=include_restricted)
            )
            return
        # a web request must answer: a long catch-up goes on in later searches (a 503 meanwhile)
        with self.history.reading(budget=max(5.0, 4 * self.settings.search_time_limit)) as backend:
            current = self.archive.versions_as_of(at)
            if not include_restricted:
                restricted = self.archive.restricted_ids()
                current = {sha: d for sha, d in current.items() if d not in restricted}
            visible = history_keys(current)
            hidden = frozenset(set(history_keys(self.archive.version_docs())) - set(visible))
            yield Scope(self.archive, backend, hidden, {k: current[v] for k, v in visible.items()})

    @property
    def history(self) -> History:
        if self._history is None:
            self._history = History(self.archive, lock_timeout=self.settings.index_lock_timeout)
        return self._history

    def close(self) -> None:
        if self._history is not None:
            self._history.close()
            self._history = None

    def _request(
        self, q: Any, filters: Any, sort: str, scope: Scope, within: Any = None, **options: Any
    ) -> tuple[querylang.Parsed, SearchRequest]:
        """The checked query and filters as one request to the index. Raises QueryError."""
        checked = self._filters(filters or {})
        parsed = self._parse(q, browse=bool(checked))
        narrowed = within is not None and (not isinstance(within, str) or bool(within.strip()))
        if narrowed:
            parsed = self._within(parsed, within)
            options.setdefault("suggest", False)  # a respelling is of the query as typed alone
        return parsed, SearchRequest(
            text=q if isinstance(q, str) else "",
            filters=checked,
            sort=self._sort(sort),
            time_limit=self.settings.search_time_limit,
            parsed=parsed.node,
            max_expansions=self.settings.wildcard_max_expansions,
            loose=not parsed.explicit_and,
            hidden=scope.hidden,
            **options,
        )

    @staticmethod
    def _notes(parsed: querylang.Parsed, found: list[str], request: SearchRequest) -> list[str]:
        notes = [*parsed.notes, *found]
        if "year" in request.filters or _has_date(parsed.node):
            notes.append(DATE_NOTE)
        return list(dict.fromkeys(notes))

    def more_like_this(
        self, doc_id: str, limit: int = 5, *, include_restricted: bool = False
    ) -> list[dict[str, Any]]:
        """Documents like this one (by its key terms), best first. Raises NotFound."""
        doc = self.archive.get_document(doc_id)
        if doc.withdrawn:
            raise NotFound(f"document {doc_id!r} was withdrawn")
        if doc.restricted and not include_restricted:
            raise NotFound(f"no document {doc_id[:80]!r}")
        hidden = self.hidden(include_restricted=include_restricted)
        limit = _bounded("limit", limit, 1, MAX_PER_PAGE)
        text, size = [doc.title], len(doc.title)
        for p in self.archive.passages(doc.current_version, limit=MORE_LIKE_PASSAGES):
            if size > MORE_LIKE_CHARS:
                break
            text.append(p.text)
            size += len(p.text)
        cut = Deadline(time.monotonic() + self.settings.search_time_limit)
        result = self.backend.more_like(
            doc_id,
            "\n\n".join(text),
            limit,
            self.settings.search_time_limit,
            hidden,
            language=doc.language,
        )
        marks = Marks(frozenset(result.terms))
        scope = Scope(self.archive, self.backend, hidden)
        return [h for h in (self._hit(h, marks, scope, cut) for h in result.hits) if h]

    def hidden(self, *, include_restricted: bool) -> frozenset[str]:
        """The documents a reader must not find (the one filter of every read of the index):
        withdrawn ones, and for a reader who may not see restricted documents, the restricted ones
        and those of an index commit whose catalog commit has not followed yet (until then, the
        catalog cannot say whether they are restricted)."""
        hidden = self.archive.hidden_ids(include_restricted=include_restricted)
        if not include_restricted:
            pending = read_pending(self.archive)
            if pending:
                hidden = hidden | frozenset(pending)
        return hidden

    # -- the query -----------------------------------------------------------------------------
    def _parse(self, q: Any, *, browse: bool) -> querylang.Parsed:
        if browse and (q is None or (isinstance(q, str) and not q.strip())):
            return querylang.Parsed(querylang.MatchAll(), [], "")
        return querylang.parse(
            q, max_chars=self.settings.query_max_chars, max_terms=self.settings.query_max_terms
        )

    def _within(self, parsed: querylang.Parsed, within: Any) -> querylang.Parsed:
        """A search within the results of another: both queries AND-ed, each read as typed, the
        first without its fallbacks (all its words are required, as its results are narrowed)."""
        inner = self._parse(within, browse=False)
        terms = querylang.count_terms(parsed.node) + querylang.count_terms(inner.node)
        if terms > self.settings.query_max_terms:
            raise QueryError(
                f"the query and the search within its results have too many terms together "
                f"({terms}; at most {self.settings.query_max_terms})"
            )
        node = (
            inner.node
            if isinstance(parsed.node, querylang.MatchAll)
            else querylang.And((parsed.node, inner.node))
        )
        notes = [*parsed.notes, *(f"within the results: {n}" for n in inner.notes)]
        return querylang.Parsed(node, notes, parsed.text, explicit_and=True)

    def _filters(self, filters: Mapping[str, Any]) -> dict[str, tuple[str, ...]]:
        if not isinstance(filters, dict):
            raise QueryError("filters must map a facet name to its values")
        out: dict[str, tuple[str, ...]] = {}
        for key, values in filters.items():
            if key not in FILTER_FIELDS:
                raise QueryError(f"unknown filter {key!r} (use one of: {', '.join(FILTER_FIELDS)})")
            vals = (values,) if isinstance(values, str) else tuple(values or ())
            vals = tuple(v.strip() for v in vals if isinstance(v, str) and v.strip())
            if len(vals) > MAX_FILTER_VALUES or any(len(v) > 200 for v in vals):
                raise QueryError(f"too many or too long {key} filter values")
            if key == "year" and any(not re.fullmatch(r"\d{4}", v) for v in vals):
                raise QueryError(f"year filter must be four digits (got {vals[0][:20]!r})")
            if vals:
                out[key] = vals
        return out

    @staticmethod
    def _sort(sort: str) -> str:
        if sort not in SORTS:
            raise QueryError(f"unknown sort {str(sort)[:30]!r} (use one of: {', '.join(SORTS)})")
        return sort

    # -- the hits ------------------------------------------------------------------------------
    def _hit(self, hit: DocHit, marks: Marks, scope: Scope, cut: Deadline) -> dict[str, Any] | None:
        doc = scope.document(hit)
        if doc is None:
            return None
        found = self.archive.passages_by_anchor(hit.version, [p.anchor for p in hit.passages])
        chosen = [found[p.anchor] for p in hit.passages if p.anchor in found]
        if not chosen and not hit.outside:
            chosen = self.archive.passages(hit.version, limit=1)
        passages = [self._passage(p, marks, cut, p.language or doc.language) for p in chosen]
        return {
            "id": doc.id,
            "version": hit.version,
            "title": doc.title,
            "kind": doc.kind.value,
            "date": doc.date,
            "date_basis": doc.date_basis,  # what the date (and a date filter) is the date of
            "current_to": str(doc.meta.get("current_to") or ""),  # a consolidation's
            "genre": doc.genre,  # "" for a primary source; "press release", "summary", "commentary"
            "court": doc.court,
            "jurisdiction": doc.jurisdiction,
            "identifiers": list(doc.identifiers),
            "citation": short_citation(doc),
            # the formal styles, for the reader's chosen one on the result line
            "cite": {style: format_citation(doc, style) for style in STYLES},
            "score": round(hit.score, 4),
            "restricted": doc.restricted,
            # as of a past time: a document withdrawn since (why), and whether this version is
            # still the current one (else the hit links the version it matched in)
            "withdrawn": doc.withdrawn if scope.historic else "",
            "current": hit.version == doc.current_version,
            "snippet": passages[0]["snippet"] if passages else "",
            "passages": passages,
            "outside": hit.outside,  # found only outside the main text (a side column, a running head)
            **({"explain": hit.explain} if hit.explain is not None else {}),
        }

    def _passage(
        self, p: Passage, marks: Marks, cut: Deadline, language: str = ""
    ) -> dict[str, Any]:
        # past the search's deadline, the passage's opening words instead of marked fragments
        marks = Marks() if cut.expired() else marks

        def mark(text: str) -> str:
            return self.backend.highlight(
                text,
                tuple(marks.terms),
                phrases=marks.phrases,
                idents=marks.idents,
                language=language,
            )

        snippet = mark(p.text)
        if "<mark>" not in snippet and p.heading:  # found by a heading above it (searched too)
            for head in reversed(p.heading.split(" › ")):
                marked = mark(head)
                if "<mark>" in marked:
                    snippet = f"{marked} — {snippet}"
                    break
        return {
            "anchor": p.anchor,
            "page": p.page,
            "label": pin_label(p),  # the document's own numbering, else the page, else ""
            "heading": p.heading,
            "ocr": p.ocr,
            "snippet": snippet,
        }


@dataclass(frozen=True)
class Scope:
    """What one search reads: an index, the records it must hide, and (as of a past time) which
    document each visible version belongs to."""

    archive: Archive
    backend: IndexBackend
    hidden: frozenset[str]
    versions: dict[str, str] | None = None  # as of a past time: {history key: document id}

    @property
    def historic(self) -> bool:
        return self.versions is not None

    def document(self, hit: DocHit) -> Document | None:
        """The document of a hit, or None when the reader may not see it (the index can be
        behind the catalog: a document withdrawn or purged a moment ago)."""
        if self.versions is None:
            doc = self.archive.find_document(hit.doc_id)
            if doc is None or doc.withdrawn or doc.id in self.hidden:
                return None
            return doc
        doc_id = self.versions.get(hit.doc_id)
        return self.archive.find_document(doc_id) if doc_id else None


def parse_as_of(value: Any) -> str:
    """An `as_of` parameter as the catalog writes times ("2026-12-04T18:13:51Z"). ISO 8601: a time
    with "Z" or an offset (converted to UTC), without one (taken as UTC), or a date alone (the
    end of that day). Raises QueryError (one line) for anything else or a time still to come."""
    raw = str(value).strip()[:64]
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", raw):
            when = datetime.fromisoformat(f"{raw}T23:59:59+00:00")
        else:
            when = datetime.fromisoformat(raw)
    except ValueError:
        raise QueryError(
            f"as_of must be an ISO 8601 time in UTC such as 2026-12-04T18:13:51Z (got {raw[:40]!r})"
        ) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    at = when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if at > now_iso():
        raise QueryError(f"as_of {at} is in the future: the archive can only be searched as it was")
    return at


class Deadline:
    """The search's time limit, shared by the snippets of its hits: once it has passed, snippets
    are the passages' opening words (cheap) and the response says `partial`."""

    def __init__(self, at: float) -> None:
        self.at = at
        self.passed = False

    def expired(self) -> bool:
        self.passed = self.passed or time.monotonic() > self.at
        return self.passed


def _has_date(node: querylang.Node) -> bool:
    return any(
        isinstance(n, querylang.DateSpan)
        or (isinstance(n, querylang.Facet) and n.field in ("year", "date"))
        for n in querylang.leaves(node)
    )


def _bounded(name: str, value: Any, low: int, high: int) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise QueryError(f"{name} must be a whole number (got {str(value)[:20]!r})") from None
    if number < low or number > high:
        raise QueryError(f"{name} must be between {low} and {high} (got {number})")
    return number
