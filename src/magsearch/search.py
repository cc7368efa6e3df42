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
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from . import policy, querylang, snippets
from .archive import Archive, now_iso
from .cite import STYLES, format_citation, pin_label, short_citation
from .config import Settings
from .errors import NotFound, QueryError
from .exports import MAX_HITS as MAX_EXPORT
from .exports import Entry
from .index.base import DocHit, IndexBackend, SearchRequest, SearchResult
from .index.history import History
from .index.history import keys as history_keys
from .index.sync import read_pending
from .models import Document, Passage
from .results import ExportResult, Hit, PassageSnippet, SearchResponse
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
    def __init__(
        self, archive: Archive, backend: IndexBackend, settings: Settings, *,
        loose: bool = True, suggest: bool = True,
    ) -> None:  # fmt: skip
        self.archive = archive
        self.backend = backend
        self.settings = settings
        self.loose = loose  # a sentence, or words no document has all of: some of the words
        self.suggest = suggest  # few hits: look for a better spelling
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
    ) -> SearchResponse:
        """One page of results (its `to_json()`: the response shape of docs/search.md). Raises
        QueryError.
        `within`: a second query, searched within this one's results (both must match).
        `explain`: each hit says why it scored as it did ("explain").
        Restricted documents are left out (from hits, totals, facets, suggestions: everything)
        unless `include_restricted` (a signed-in archivist); withdrawn ones always are.
        `as_of` (ISO 8601, UTC) searches the archive as it stood then (see `_scope`)."""
        at = parse_as_of(as_of) if as_of else ""
        with self._scope(at, include_restricted) as scope:
            found = self._find(
                q, filters, sort, scope, within, suggest=self.suggest,
                page=_bounded("page", page, 1, MAX_PAGE),
                per_page=_bounded("per_page", per_page, 1, MAX_PER_PAGE),
                explain=bool(explain),
            )  # fmt: skip
        result, request = found.result, found.request
        cut = Deadline(found.deadline)
        marks = Marks(frozenset(result.terms), result.phrases, result.idents)
        hits = self._hits(result.hits, marks, scope, cut)
        return SearchResponse(
            query=q,
            within=within or "",
            sort=request.sort,
            as_of=at,
            historic=bool(at),
            added_since=self.archive.count_added_after(at, include_restricted=include_restricted)
            if at
            else 0,
            interpreted=found.interpreted,
            total=result.total,
            page=request.page,
            per_page=request.per_page,
            partial=result.partial or cut.passed,
            suggestion=found.suggestion,
            notes=found.notes,
            facets=result.facets,
            hits=hits,
        )

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
    ) -> ExportResult:
        """The first `limit` (at most MAX_EXPORT) hits of a search, each as an exports.Entry (the
        document, the version that matched, its best passage), for exports.export. Without
        snippets, so a thousand hits cost about one search; the same deadline bounds it."""
        at = parse_as_of(as_of) if as_of else ""
        with self._scope(at, include_restricted) as scope:
            found = self._find(
                q, filters, sort, scope, within, suggest=False,
                page=1, per_page=_bounded("limit", limit, 1, MAX_EXPORT), passages_per_hit=1,
            )  # fmt: skip
        result = found.result
        docs = scope.documents(result.hits)
        shown = [h for h in result.hits if h.doc_id in docs]
        best = self.archive.hit_passages(
            {h.version: [p.anchor for p in h.passages] for h in shown},
            first=[h.version for h in shown],
        )
        entries = []
        for hit in shown:
            doc, chosen = docs[hit.doc_id], best.get(hit.version)
            withdrawn = doc.withdrawn if at else ""
            entries.append(Entry(doc, hit.version, chosen[0] if chosen else None, withdrawn))
        return ExportResult(
            query=q,
            as_of=at,
            historic=bool(at),
            total=result.total,
            partial=result.partial,
            notes=found.notes,
            entries=entries,
        )

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

    def _find(
        self, q: Any, filters: Any, sort: str, scope: Scope, within: Any = None, *,
        suggest: bool, **page: Any,
    ) -> Found:  # fmt: skip
        """The checked query and filters run by the engine, read as the policy says: a query
        typed as a sentence needs only some of its words, plain words that no document has all
        of fall back to some of them, and few hits look for a better spelling. `within`: a second
        query, AND-ed (neither loosened; no respelling, which is of the query as typed alone).
        Raises QueryError."""
        checked = self._filters(filters or {})
        parsed = self._parse(q, browse=bool(checked))
        if within is not None and (not isinstance(within, str) or bool(within.strip())):
            parsed = self._within(parsed, within)
            suggest = False
        limit = self.settings.search_time_limit
        request = SearchRequest(
            query=parsed.node,
            filters=checked,
            hidden=scope.hidden,
            sort=self._sort(sort),
            time_limit=limit,
            max_expansions=self.settings.wildcard_max_expansions,
            **page,
        )
        deadline = time.monotonic() + limit
        engine = scope.backend
        loose = self.loose and not parsed.explicit_and
        shown, notes, result = parsed.node, [*parsed.notes], None
        sentence = policy.sentence(parsed.node) if loose else None
        if sentence is not None:  # typed as a sentence: some of its words, the most first
            result = engine.search(_again(request, deadline, sentence))
            if result.at_least:
                shown = sentence.shown
                _why_some(result, "the query read as a sentence")
                left_out = [w.text for w in sentence.dropped]
                result.notes.append(
                    f"read as a sentence: showing the documents with at least {result.at_least} "
                    f"of its {len(shown.children)} words, the most first"
                    + (f" (left out: {', '.join(left_out)})" if left_out else "")
                )
            else:
                result = None
        if result is None:
            result = engine.search(request)
        notes += result.notes
        suggestion = ""
        if suggest and result.total < policy.SUGGEST_BELOW and not result.partial:
            suggestion = self._suggestion(engine, q, shown, request, result.total, deadline)
        some = policy.some_words(shown) if loose and shown is parsed.node else None
        if some is not None and result.total == 0 and not result.partial:
            fallback = engine.search(_again(request, deadline, some))
            if fallback.at_least:
                shown, result = some.shown, fallback
                _why_some(result, "no document has all of the words")
                if result.total:
                    notes.append(
                        f"no document has all of these words: showing those with at least "
                        f"{result.at_least} of the {len(shown.children)}, the most first"
                    )
        if "year" in checked or _has_date(parsed.node):
            notes.append(DATE_NOTE)
        interpreted = querylang.render(shown)
        return Found(request, result, interpreted, suggestion, list(dict.fromkeys(notes)), deadline)

    def _suggestion(
        self, engine: IndexBackend, q: Any, shown: querylang.Node, request: SearchRequest,
        total: int, deadline: float,
    ) -> str:  # fmt: skip
        """The query with its unknown or rare words replaced by frequent near spellings from the
        archive, when that finds more documents; else ""."""
        if not isinstance(q, str) or not q:
            return ""
        text = policy.respelled(engine, q, shown, request.hidden)
        if not text:
            return ""
        try:
            node = querylang.parse(text).node
            found, cut = engine.count(_again(request, deadline, node))
        except QueryError:  # the respelled query is not one (a word became an operator, say)
            return ""
        return text if found > total and not cut else ""

    def more_like_this(
        self, doc_id: str, limit: int = 5, *, include_restricted: bool = False
    ) -> list[Hit]:
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
        return self._hits(result.hits, marks, scope, cut)

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
            if key == "kind":  # "judgment", "Act", "statute": the kinds the index holds
                vals = tuple(querylang.KIND_ALIASES.get(v.lower(), v.lower()) for v in vals)
            if vals:
                out[key] = vals
        return out

    @staticmethod
    def _sort(sort: str) -> str:
        if sort not in SORTS:
            raise QueryError(f"unknown sort {str(sort)[:30]!r} (use one of: {', '.join(SORTS)})")
        return sort

    # -- the hits ------------------------------------------------------------------------------
    def _hits(self, hits: Sequence[DocHit], marks: Marks, scope: Scope, cut: Deadline) -> list[Hit]:
        """A page of hits filled from the archive, which is asked once for the page (documents,
        then passages: those the index chose, else a version's first, but for a hit found only
        outside the main text), not once per hit."""
        docs = scope.documents(hits)
        shown = [h for h in hits if h.doc_id in docs]
        chosen = self.archive.hit_passages(
            {h.version: [p.anchor for p in h.passages] for h in shown},
            first=[h.version for h in shown if not h.outside],
        )
        return [
            self._hit(h, docs[h.doc_id], chosen.get(h.version, []), marks, scope, cut)
            for h in shown
        ]

    def _hit(
        self, hit: DocHit, doc: Document, chosen: list[Passage], marks: Marks, scope: Scope,
        cut: Deadline,
    ) -> Hit:  # fmt: skip
        passages = [self._passage(p, marks, cut, p.language or doc.language) for p in chosen]
        return Hit(
            id=doc.id,
            version=hit.version,
            title=doc.title,
            kind=doc.kind.value,
            date=doc.date,
            date_basis=doc.date_basis,
            current_to=str(doc.meta.get("current_to") or ""),
            genre=doc.genre,
            court=doc.court,
            jurisdiction=doc.jurisdiction,
            identifiers=tuple(doc.identifiers),
            citation=short_citation(doc),
            cite={style: format_citation(doc, style) for style in STYLES},
            score=round(hit.score, 4),
            restricted=doc.restricted,
            withdrawn=doc.withdrawn if scope.historic else "",
            current=hit.version == doc.current_version,
            snippet=passages[0].snippet if passages else "",
            passages=tuple(passages),
            outside=hit.outside,
            explain=hit.explain,
        )

    def _passage(
        self, p: Passage, marks: Marks, cut: Deadline, language: str = ""
    ) -> PassageSnippet:
        # past the search's deadline, the passage's opening words instead of marked fragments
        marks = Marks() if cut.expired() else marks

        analysis = self.backend.analysis
        keys, exact = analysis.keys, analysis.exact
        if exact is None or not any(t.startswith(analysis.exact_mark) for t in marks.terms):
            exact = None  # =word asks for the form as written: marked as such, too

        def key(token: str) -> tuple[str, ...]:
            found = keys(token, language)
            return (*found, analysis.exact_mark + exact(token)) if exact else found

        def mark(text: str) -> str:
            return snippets.snippet(
                text, marks, key, top=2, token=analysis.token, split=analysis.split
            )

        snippet = mark(p.text)
        if "<mark>" not in snippet and p.heading:  # found by a heading above it (searched too)
            for head in reversed(p.heading.split(" › ")):
                marked = mark(head)
                if "<mark>" in marked:
                    snippet = f"{marked} — {snippet}"
                    break
        # the label: the document's own numbering, else the page, else ""
        return PassageSnippet(p.anchor, p.page, pin_label(p), p.heading, p.ocr, snippet)


@dataclass(frozen=True)
class Found:
    """A query as the engine ran it, and as the service read it."""

    request: SearchRequest
    result: SearchResult
    interpreted: str  # the query as run (a sentence or a fall-back: some of its words)
    suggestion: str
    notes: list[str]
    deadline: float  # of the whole search, snippets included


def _why_some(result: SearchResult, reading: str) -> None:
    """Explanations of a search loosened to some of its words say why it was."""
    for hit in result.hits:
        for step in (hit.explain or {}).get("steps", ()):
            if step.get("step") == "some of the words":
                step["detail"] = f"{reading}: {step['detail']}"


def _again(
    request: SearchRequest, deadline: float, query: querylang.Node | policy.SomeOf
) -> SearchRequest:
    """The request for another query (or some of the words), in the time left of the search."""
    left = max(deadline - time.monotonic(), 0.0)
    if isinstance(query, policy.SomeOf):
        return replace(request, query=query.query, some_of=query.some_of, time_limit=left)
    return replace(request, query=query, time_limit=left)


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

    def documents(self, hits: Sequence[DocHit]) -> dict[str, Document]:
        """The documents of hits (by the hit's doc_id: as of a past time, a version's key), but
        those the reader may not see (the index can be behind the catalog: a document withdrawn
        or purged a moment ago). One read of the archive for all of them."""
        if self.versions is None:
            found = self.archive.find_documents(h.doc_id for h in hits)
            return {i: d for i, d in found.items() if not d.withdrawn and d.id not in self.hidden}
        keys = {h.doc_id: self.versions[h.doc_id] for h in hits if h.doc_id in self.versions}
        found = self.archive.find_documents(keys.values())
        return {key: found[doc_id] for key, doc_id in keys.items() if doc_id in found}


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
