"""The Whoosh backend. Whoosh is imported only here, in whoosh_schema.py (analyzers, schema,
scoring, caches) and in whoosh_query.py (the query translation).

Levers that matter (measured in ../shared/design/whoosh-performance.md): non-compound segments
(`writer(compound=False)`: a searcher opens in 0.2 ms instead of copying the index into memory),
one searcher per process, opened anew after each commit, facet filters as document sets cached per searcher,
no large stored fields (texts are read from the archive), snippets from the top hits only.

A search makes at most three passes, all under one deadline: the top hits (Whoosh's top-N collector,
with its block-max skipping), every matching document (ids only, no scores: the total and the
facets), and the best passages of the page's documents.
"""

from __future__ import annotations

import functools
import gc
import heapq
import math
import os
import shutil
import threading
import time
import warnings
import weakref
from array import array
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from whoosh import collectors, index, query
from whoosh.codec.whoosh3 import (
    LENGTHS_COLUMN,
    W3Codec,
    W3PostingsWriter,
    _lenfield,
    byte_to_length,
)
from whoosh.filedb.filestore import RamStorage
from whoosh.index import LockError
from whoosh.reading import EmptyReader, MultiReader, SegmentReader
from whoosh.searching import Searcher
from whoosh.writing import NO_MERGE, SegmentWriter

from magsearch import querylang as ql
from magsearch.errors import IndexUnavailable, QueryError
from magsearch.index import whoosh_explain
from magsearch.index.base import (
    Analysis,
    DocHit,
    IndexRecord,
    PassageHit,
    SearchRequest,
    SearchResult,
    some_of_clauses,
)
from magsearch.index.whoosh_query import EXACT, EXPANSION_SCORE, Translation, Translator
from magsearch.index.whoosh_schema import (
    ENDS,
    FACETS,
    PASSAGE_END,
    SENTENCE_END,
    TOKEN_RE,
    AnyOf,
    Cut,
    RecordBM25F,
    SearcherCache,
    Visible,
    ident_key,
    ids_of,
    language_mark,
    make_analyzer,
    make_plain_analyzer,
    make_schema,
    pieces,
    positions_of,
    proximity,
    term_key,
    term_keys,
    unmarked,
)

__all__ = [
    "FACETS",
    "SCHEMA_VERSION",
    "WhooshIndex",
    "analyse_text",
    "ident_key",
    "indexed_text",
    "make_analyzer",
    "make_schema",
]

SCHEMA_VERSION = 10  # 2: words (unstemmed), pcites, court/jurisdiction as written; 3: standing;
# 4: outside; 5: CJK bigrams; 6: French, German, Spanish and Russian stems; 7: French plurals;
# 8: sentence and passage ends; 9: a passage's words as written (stored); 10: a passage's sentence
# end after CJK bigrams at its last word
_VERSION_FILE = "MAGSEARCH_SCHEMA"
MORE_LIKE_TERMS = 15
RESCORE_TOP = 50  # plain multi-word queries: the top hits rescored by where the words stand
NEXT_TO_WEIGHT = 0.6  # score x (1 + this x share of typed-word pairs next to each other, in order
NEAR_WEIGHT = 0.3  #   + this x share of pairs within NEAR_WINDOW positions of each other)
NEAR_WINDOW = 6
PRIMARY_MARGIN = 0.99  # a document about a primary one scores at most this share of it
_READ_ATTEMPTS = 10  # tries to read a generation's files (as Whoosh's own reader() does)
_OPEN_ATTEMPTS = 10  # tries to open a searcher while commits delete merged segments' files


class _Deadline(collectors.FilterCollector):
    """Keeps only allowed documents and stops at a deadline (checked every 256 matches).

    Whoosh's own TimeLimitCollector skips the filter of the collector it wraps, and its default
    SIGALRM only works in a main thread; this one does neither."""

    def __init__(self, child: Any, allow: set[int] | None, deadline: float) -> None:
        super().__init__(child, allow=allow)
        self.deadline = deadline

    def prepare(self, top_searcher: Any, q: Any, context: Any) -> None:
        super().prepare(top_searcher, q, context)
        self._allow = self.allow  # a set already: no copy into a BitSet per search

    def collect_matches(self) -> None:
        child, allow, offset = self.child, self._allow, self.offset
        for i, sub in enumerate(child.matches()):
            if not i & 255 and time.monotonic() > self.deadline:
                raise collectors.TimeLimit
            if allow is None or offset + sub in allow:
                child.collect(sub)


@dataclass
class _Run:
    page: list[tuple[int, float]]  # (docnum, score) of the requested page
    matched: set[int]  # every document matching the query (before the request's filters)
    allowed: set[int]  # every document the filters allow
    total: int
    partial: bool


class WhooshIndex:
    """A Whoosh index in a directory (or in memory when path is None)."""

    schema_version = SCHEMA_VERSION
    engine = "whoosh"  # parse workers analyse the records' text for the writer (analyse_text)

    def __init__(self, path: str | Path | None, *, lock_timeout: float = 30.0) -> None:
        self.path = Path(path) if path is not None else None
        self.lock_timeout = lock_timeout
        self.schema = make_schema()
        self.analyzer = self.schema["body"].analyzer
        self.plain = make_plain_analyzer()
        self._key = term_key(self.analyzer)
        self._keys = term_keys(self.analyzer)
        self._plain_key = term_key(self.plain)
        # one searcher per process, opened anew after commits; Whoosh reads files with seek + read,
        # so threads take turns (a search is milliseconds; gunicorn's sync workers have one thread)
        self._current: list[Any] = []  # the searcher, once opened: closed by close(), or when this
        weakref.finalize(self, _close_all, self._current)  # object is collected without close()
        self._lock = threading.RLock()
        self._ix = self._open()

    # -- opening -------------------------------------------------------------------------------
    def _open(self) -> Any:
        if self.path is None:
            return RamStorage().create_index(self.schema)
        marker = self.path / _VERSION_FILE
        if any(self.path.glob("_MAIN_*.toc")):
            found = marker.read_text().strip() if marker.exists() else "unknown"
            if found != str(SCHEMA_VERSION):
                raise IndexUnavailable(
                    f"index at {self.path} has schema version {found}, this magsearch needs "
                    f"{SCHEMA_VERSION}: run `magsearch reindex`"
                )
            try:  # our schema, not the pickled one: analyzers may have moved since
                return index.open_dir(str(self.path), schema=self.schema)
            except Exception as exc:  # a torn or foreign index is a cache to rebuild
                raise IndexUnavailable(f"index at {self.path} cannot be opened ({exc})") from None
        return self._create()

    def _create(self) -> Any:
        assert self.path is not None
        self.path.mkdir(parents=True, exist_ok=True)
        ix = index.create_in(str(self.path), self.schema)
        (self.path / _VERSION_FILE).write_text(f"{SCHEMA_VERSION}\n")
        return ix

    @staticmethod
    def schema_matches(path: str | Path) -> bool:
        marker = Path(path) / _VERSION_FILE
        return marker.exists() and marker.read_text().strip() == str(SCHEMA_VERSION)

    def clear(self) -> None:
        self.close()
        if self.path is None:
            self._ix = RamStorage().create_index(self.schema)
            return
        shutil.rmtree(self.path, ignore_errors=True)
        self._ix = self._create()

    def close(self) -> None:
        with self._lock:
            _close_all(self._current)

    # -- writing -------------------------------------------------------------------------------
    def _writer(self, **options: Any) -> Any:
        try:
            options = {
                "compound": False,
                "limitmb": 256,
                **options,
            }  # non-compound: cheap searchers
            if options.get("procs", 1) > 1:
                return self._ix.writer(timeout=self.lock_timeout, delay=0.1, **options)
            options.pop("procs", None)
            return _SegmentWriter(
                self._ix, timeout=self.lock_timeout, delay=0.1, codec=_Codec(), **options
            )
        except LockError:
            raise IndexUnavailable(
                f"the index is locked by another writer (waited {self.lock_timeout:g} s); "
                "try again when the other ingest finishes"
            ) from None

    def write(
        self,
        records: list[IndexRecord],
        delete: list[str] | tuple[str, ...] = (),
        *,
        fresh: Iterable[str] = (),
        merge: bool = True,
        **options: Any,
    ) -> None:
        """Replace these documents' records (and drop the `delete` ids) in one commit. `fresh`
        ids are known not to be in the index yet (no delete needed); merge=False leaves the
        existing segments alone (a bulk load merges once, at its end: see merge()). `options` go
        to Whoosh's writer (a bulk load may pass procs=2, multisegment=True)."""
        w = self._writer(**options)
        try:
            stale = sorted({*delete, *(r.doc.id for r in records)} - set(fresh))
            if stale:  # one searcher for all the deletes (not one per delete_by_term)
                with w.searcher() as current:
                    for doc_id in stale:
                        w.delete_by_term("doc_id", doc_id, searcher=current)
            for rec in records:
                _add_records(w, rec)
        except BaseException:
            _abandon(w)
            raise
        try:
            w.commit(mergetype=merge_tiers if merge else NO_MERGE, optimize=False)
        except BaseException:
            _abandon(w)
            raise

    def merge(self) -> None:
        """Merge what the tiered policy asks for now (merge_tiers), with nothing added."""
        w = self._writer()
        try:
            w.commit(mergetype=merge_tiers)
        except BaseException:
            _abandon(w)
            raise

    def segment_count(self) -> int:
        return len(self.segments())

    def segments(self) -> list[tuple[str, int]]:
        """(id, documents written, deleted ones included) of each segment of the latest commit."""
        with self._lock:
            self._ix = self._ix.refresh()
            return [(seg.segment_id(), seg.doc_count_all()) for seg in self._ix._segments()]

    def bulk_load(self, records: Iterable[IndexRecord]) -> int:
        """Add many documents to an empty index in one commit, with a sub-writer per core.

        Committing batch after batch re-merges the growing segments: 37 docs/s at 4,000 documents
        of 10 kB, against 149 docs/s for one commit with two sub-writers (docs/benchmarks.md)."""
        procs = max(1, min(4, os.cpu_count() or 1))
        options: dict[str, Any] = {"procs": procs, "multisegment": True} if procs > 1 else {}
        w = self._writer(**options)
        count = 0
        try:
            for rec in records:
                _add_records(w, rec)
                count += 1
        except BaseException:
            _abandon(w)
            raise
        try:
            w.commit()
        except BaseException:
            _abandon(w)
            raise
        return count

    def doc_ids(self) -> set[str]:
        with self._lock:
            s = self.searcher()
            return {s.stored_fields(n)["doc_id"] for n in self.cache(s).docs}

    def doc_count(self) -> int:
        with self._lock:
            return len(self.cache(self.searcher()).docs)

    # -- reading -------------------------------------------------------------------------------
    def generation(self) -> int:
        """The latest generation of the index on disk: it changes with every commit, whichever
        process made it (what is derived from search results is kept per generation)."""
        return int(self._ix.latest_generation())

    def searcher(self) -> Any:
        """The process's searcher, replaced as soon as the index on disk has a newer generation
        (every process checks on every use, so a commit is visible to all of them at once).
        Callers hold self._lock while they use it.

        Never Whoosh's `Searcher.refresh()`: in whoosh-reloaded 2.7.5 it builds the new reader
        with `reuse=` the old one, and `FileIndex._reader` then (a) appends every old segment the
        new generation no longer lists, so after a merge the merged segment and its sources are
        read together (documents counted twice, columns read past their end: IndexError), and (b)
        reuses an old segment reader whenever the segment id matches, with the deletions it had
        when it was opened, so a replaced or withdrawn document stays visible."""
        with self._lock:
            if self._current and self._current[0].up_to_date():
                return self._current[0]
            _close_all(self._current)
            self._current.append(self._open_searcher())
            return self._current[0]

    def _open_searcher(self) -> Any:
        """A searcher over the latest generation with every file it reads already open.

        Whoosh opens column files (stored fields, field lengths, sort columns) on first use, and a
        writer that merges segments deletes the merged ones' files at its commit. So the files are
        opened here, and the generation checked after: while it is still the latest, no commit has
        deleted anything this searcher needs (open files stay readable once deleted)."""
        for attempt in range(_OPEN_ATTEMPTS):
            last = attempt == _OPEN_ATTEMPTS - 1
            s = None
            try:
                s = Searcher(_open_reader(self._ix), fromindex=self._ix, weighting=RecordBM25F())
                _open_files(s)
                self.cache(s)
            except Exception:
                # a file of this generation vanished under a commit (Whoosh raises OSError, or
                # finds no column and fails further on): open the new generation instead
                if s is not None:
                    s.close()
                if last or (s is not None and s.up_to_date()):
                    raise
                time.sleep(0.01 * (attempt + 1))
                continue
            if last or s.up_to_date():
                return s
            s.close()  # a commit came in between: its files may be gone, open the new one
        raise AssertionError("unreachable")

    def cache(self, s: Any) -> SearcherCache:
        """Facet columns and document sets of this searcher generation, built on first use."""
        found = getattr(s, "_magsearch_cache", None)
        if found is None:
            found = SearcherCache(s)
            s._magsearch_cache = found
        return found

    def visible(self, s: Any, hidden: frozenset[str] = frozenset()) -> Visible:
        """The documents a request may read: every read of the index goes through this."""
        cache = self.cache(s)
        last = getattr(cache, "_magsearch_visible", None)
        if last is None or last[0] != hidden:
            last = (hidden, Visible(s, cache, hidden))
            cache._magsearch_visible = last  # type: ignore[attr-defined]
        return last[1]

    def translate(
        self, s: Any, node: ql.Node, max_expansions: int = 200, deadline: float = math.inf,
        visible: Visible | None = None,
    ) -> Translation:  # fmt: skip
        t = Translator(
            s,
            self.cache(s),
            self.analyzer,
            self.plain,
            max_expansions,
            deadline,
            visible,
        )
        return t.translate(node)

    def search(self, request: SearchRequest) -> SearchResult:
        with self._lock:
            return self._search(request)

    def _search(self, request: SearchRequest) -> SearchResult:
        deadline = time.monotonic() + request.time_limit
        s = self.searcher()
        cache = self.cache(s)
        see = self.visible(s, request.hidden)
        tr = self.translate(s, request.query, request.max_expansions, deadline, see)
        notes = list(tr.notes)
        user = self._user_filters(cache, see, request.filters, notes)
        coord: dict[int, int] | None = None
        need = 0
        if request.some_of:  # some of the words: the documents with more of them first
            most = self._most_words(s, see, request, deadline)
            if most is None:
                return SearchResult(0, [], {}, notes=notes)
            coord, need = most
            tr.filters = [*tr.filters, set(coord)]
        run = self._run(s, cache, see, tr, user, request, deadline, coord)
        hits = [_dochit(s, n, score) for n, score in run.page]
        hits = self._with_passages(s, tr.passage_clauses, hits, request.passages_per_hit, deadline)
        hits = self._outside(s, tr.outside_clauses, hits, deadline)
        if request.explain:
            # as much time again as the search had: hits past it say they were not explained
            until = deadline + request.time_limit
            hits = _explained(s, cache, tr, run, (coord, ""), request.sort, hits, until)
        return SearchResult(
            total=run.total,
            hits=hits,
            facets=_facets(cache, run.matched, user),
            partial=run.partial,
            terms=tuple(sorted(tr.terms)),
            phrases=tuple(tr.phrases),
            idents=tuple(tr.idents),
            notes=notes,
            at_least=need,
        )

    def count(self, request: SearchRequest) -> tuple[int, bool]:
        with self._lock:
            deadline = time.monotonic() + request.time_limit
            s = self.searcher()
            cache = self.cache(s)
            see = self.visible(s, request.hidden)
            tr = self.translate(s, request.query, request.max_expansions, deadline, see)
            user = self._user_filters(cache, see, request.filters, [])
            q = tr.query if tr.query is not None else query.Term("rtype", "doc")
            base = _intersect(see.docs, [*tr.filters, *user.values()])
            found, cut = self._matching(s, q, base, deadline)
            return len(found), cut

    def _run(
        self, s: Any, cache: SearcherCache, see: Visible, tr: Translation,
        user: dict[str, set[int]], request: SearchRequest, deadline: float,
        coord: dict[int, int] | None = None,
    ) -> _Run:  # fmt: skip
        """The ranking, the matching documents and the page, under the deadline. `coord`: how
        many of the query's words each document has ("some of the words"), ranked first."""
        base = _intersect(see.docs, tr.filters)
        allowed = _intersect(base, list(user.values()))
        q = tr.query if tr.query is not None else query.Term("rtype", "doc")
        limit = request.page * request.per_page
        top: list[tuple[int, float]] = []
        partial = False
        if request.sort == "relevance":
            # more than the page: ties at its edge are broken by document id, not index order
            wanted = max(2 * limit + 10, RESCORE_TOP if tr.near else 0)
            rank = tr.rank_query if tr.rank_query is not None else q
            top, partial = self._top(s, rank, allowed, wanted, deadline)
            if tr.near and not partial:
                top = _rescored(s, top, tr.near)
            if coord:
                top = [(n, score * coord.get(n, 0) / max(coord.values())) for n, score in top]
            top = _by_score(_primary_first(s, top), cache)
            if coord:  # "some of the words": the documents with more of them first
                top.sort(key=lambda ns: -coord.get(ns[0], 0))
        if partial:  # the ranking ran out of time: what it found is all we have
            matched: set[int] = set()
            found = {n for n, _ in top}
        else:
            matched, partial = self._matching(s, q, base, deadline)
            found = matched & allowed
            if tr.rank_query is not None and len(top) < limit:  # the unscored expansions' docs
                ranked = {n for n, _ in top}
                ids = cache.columns["doc_id"]
                rest = sorted(found - ranked, key=lambda n: ids[n])[: limit - len(top)]
                top += [(n, EXPANSION_SCORE) for n in rest]
        if request.sort != "relevance":
            top = self._by_date(cache, found, limit, request.sort == "newest")
        page = top[(request.page - 1) * request.per_page : limit]
        if request.sort != "relevance":
            page = self._scores(s, q, page)
        return _Run(page, matched, allowed, max(len(found), len(top)), partial)

    def _most_words(
        self, s: Any, see: Visible, request: SearchRequest, deadline: float
    ) -> tuple[dict[int, int], int] | None:
        """The documents with at least request.some_of[n] of the n clauses of the query's Or that
        have something to search for, and how many each has; None when that is not applicable
        (fewer than two such clauses, a need of 0) or the deadline cut the counting."""
        counts: Counter[int] = Counter()
        words = 0
        for child in some_of_clauses(request.query):
            try:
                one = self.translate(s, child, request.max_expansions, deadline, see)
            except QueryError:  # nothing to search for in this clause
                continue
            if one.query is None:
                continue
            words += 1
            found, cut = self._matching(s, one.query, see.docs, deadline)
            if cut:
                return None
            counts.update(found)
        need = request.some_of[min(words, len(request.some_of) - 1)]
        if words < 2 or need <= 0:
            return None
        return {n: c for n, c in counts.items() if c >= need}, need

    def _user_filters(
        self, cache: SearcherCache, see: Visible, filters: Mapping[str, tuple[str, ...]],
        notes: list[str],
    ) -> dict[str, set[int]]:  # fmt: skip
        """The request's filters (values OR-ed within a facet, facets AND-ed) as document sets."""
        out: dict[str, set[int]] = {}
        for name, values in filters.items():
            if name not in FACETS or not values:
                continue
            found: list[str] = []
            for v in values:
                hit = see.values(name, v)
                if not hit:
                    notes.append(f"filter {name}={v} matches no document")
                found.extend(hit)
            out[name] = cache.facet_set(name, found)
        return out

    def _top(
        self, s: Any, q: Any, allowed: set[int], limit: int, deadline: float
    ) -> tuple[list[tuple[int, float]], bool]:
        tlc = _Deadline(s.collector(limit=limit), allowed, deadline)
        partial = False
        try:
            s.search_with_collector(q, tlc)
        except collectors.TimeLimit:
            partial = True
        return [(n, float(score)) for n, score in tlc.results().items()], partial

    def _matching(self, s: Any, q: Any, base: set[int], deadline: float) -> tuple[set[int], bool]:
        """Every document matching q within `base` (ids only), and whether the deadline cut it."""
        out: set[int] = set()
        for sub, offset in s.leaf_searchers():
            try:
                local = ids_of(q, sub, deadline)
            except Cut:
                return out & base, True
            out |= {n + offset for n in local} if offset else local
        return out & base, False

    @staticmethod
    def _by_date(
        cache: SearcherCache, docs: set[int], limit: int, newest: bool
    ) -> list[tuple[int, float]]:
        """Documents by date, then by id (undated ones last)."""
        dates, ids = cache.columns["date"], cache.columns["doc_id"]
        dated = sorted((n for n in docs if dates.get(n)), key=lambda n: (dates[n], ids[n]))
        if newest:
            dated.sort(key=lambda n: dates[n], reverse=True)  # stable: ids stay ascending
        order = (dated + sorted((n for n in docs if not dates.get(n)), key=lambda n: ids[n]))[
            :limit
        ]
        return [(n, 0.0) for n in order]

    @staticmethod
    def _scores(s: Any, q: Any, page: list[tuple[int, float]]) -> list[tuple[int, float]]:
        """The relevance scores of a page of documents listed in another order."""
        if not page:
            return page
        rids = AnyOf("rid", [s.stored_fields(n)["rid"] for n, _ in page])
        try:
            found = s.search(query.And([q, rids]), limit=None)
        except collectors.TimeLimit:
            return page
        scores = {n: float(sc) for n, sc in found.items()}
        return [(n, scores.get(n, 0.0)) for n, _ in page]

    def _with_passages(
        self,
        s: Any,
        clauses: list[Any],
        hits: list[DocHit],
        per_hit: int,
        deadline: float,
    ) -> list[DocHit]:
        """Each hit's best passages (up to per_hit), from one search over the page's documents."""
        if not hits or not clauses or per_hit <= 0:
            return hits
        page = AnyOf("doc_id", [h.doc_id for h in hits])
        clauses = [c.restricted(page) if hasattr(c, "restricted") else c for c in clauses]
        q = query.And([clauses[0] if len(clauses) == 1 else query.Or(clauses), page])
        inner = s.collector(limit=len(hits) * per_hit * 4, mask=self.cache(s).docs)  # passages only
        c = _Deadline(inner, None, max(deadline, time.monotonic() + 0.25))
        try:
            s.search_with_collector(q, c)
        except collectors.TimeLimit:
            pass
        best: dict[str, list[PassageHit]] = defaultdict(list)
        for n, score in c.results().items():
            fields = s.stored_fields(n)
            if len(best[fields["doc_id"]]) < per_hit:
                best[fields["doc_id"]].append(PassageHit(fields["anchor"], float(score)))
        return [DocHit(h.doc_id, h.version, h.score, tuple(best.get(h.doc_id, ()))) for h in hits]

    def _outside(
        self, s: Any, clauses: list[Any], hits: list[DocHit], deadline: float
    ) -> list[DocHit]:
        """Hits with no passage that match the query in the text outside the main text are
        marked `outside` (the page says where the words were found)."""
        bare = [h for h in hits if not h.passages]
        if not bare or not clauses:
            return hits
        page = AnyOf("doc_id", [h.doc_id for h in bare])
        clauses = [c.restricted(page) if hasattr(c, "restricted") else c for c in clauses]
        q = query.And([query.Or(clauses), page, query.Term("rtype", "doc")])
        try:
            found = {s.stored_fields(n)["doc_id"] for n in s.search(q, limit=None).docs()}
        except collectors.TimeLimit:
            return hits
        return [replace(h, outside=True) if h.doc_id in found else h for h in hits]

    def more_like(
        self, doc_id: str, text: str, limit: int = 5, time_limit: float = 2.0,
        hidden: frozenset[str] = frozenset(), language: str = "",
    ) -> SearchResult:  # fmt: skip
        with self._lock:
            return self._more_like(
                doc_id, language_mark(language) + text, limit, time_limit, hidden
            )

    def _more_like(
        self,
        doc_id: str,
        text: str,
        limit: int,
        time_limit: float,
        hidden: frozenset[str],
    ) -> SearchResult:
        s = self.searcher()
        see = self.visible(s, hidden)
        own = [n for n in s.document_numbers(doc_id=doc_id) if n in see.docs]
        if not own or not text.strip():
            return SearchResult(0, [], {})
        key = s.key_terms_from_text("body", text, numterms=MORE_LIKE_TERMS + 2, normalize=True)
        key = [(w, weight) for w, weight in key if w not in ENDS][:MORE_LIKE_TERMS]
        if not key:
            return SearchResult(0, [], {})
        q = query.Or([query.Term("body", word, boost=max(weight, 0.01)) for word, weight in key])
        deadline = time.monotonic() + time_limit
        allowed = see.docs - set(own)
        top, partial = self._top(s, q, allowed, limit, deadline)
        hits = [_dochit(s, n, score) for n, score in top]
        pq = [query.Term("text", word) for word, _ in key]
        hits = self._with_passages(s, pq, hits, 1, deadline)
        terms = tuple(word for word, _ in key)
        return SearchResult(len(hits), hits, {}, partial, terms)

    @property
    def analysis(self) -> Analysis:
        """The index's tokens and the terms each stands for in a language (snippets)."""
        return Analysis(self._keys, TOKEN_RE, pieces, self._plain_key, EXACT)

    def words(self, text: str) -> list[str]:
        return [t.text for t in self.plain(text)]

    def similar_words(
        self, word: str, max_edits: int, hidden: frozenset[str] = frozenset()
    ) -> dict[str, int]:
        with self._lock:
            s = self.searcher()
            see = self.visible(s, hidden)
            if max_edits <= 0:
                near: Iterable[Any] = [word] if ("words", word) in s.reader() else []
            else:
                near = s.reader().terms_within("words", word, max_edits, prefix=1)
            return {w: see.freq("words", w) for w in map(_str, near)}


MERGE_FACTOR = 10  # segments of one size tier (a power of 10 documents) merged together


def merge_tiers(writer: Any, segments: list[Any]) -> list[Any]:
    """A Whoosh merge policy, log-structured: segments are in tiers by size (1-9 documents, 10-99,
    100-999, ...); when a tier holds MERGE_FACTOR segments, they are merged into one of the next
    tier. Each document is rewritten once per tier it climbs (log10 of the index size times at
    most), never by a commit that only adds a few documents.

    Whoosh's own MERGE_SMALL merges "every segment up to a point" by a Fibonacci rule: after a bulk
    load of equal segments it rewrote most of the index at the next one-file commit."""
    from whoosh.reading import SegmentReader

    tiers: dict[int, list[Any]] = defaultdict(list)
    for seg in segments:
        tiers[len(str(max(seg.doc_count_all(), 1))) - 1].append(seg)
    full = [t for t, segs in sorted(tiers.items()) if len(segs) >= MERGE_FACTOR]
    if not full:
        return segments
    merged = tiers[full[0]]
    for seg in merged:
        reader = SegmentReader(writer.storage, writer.schema, seg)
        writer.add_reader(reader)
        reader.close()
    return [seg for seg in segments if seg not in merged]


def _abandon(w: Any) -> None:
    """Give up a writer after an error (a full disk, say): the index stays at its last committed
    generation. Whoosh's commit() does not release the lock when it fails, and cancel() may fail
    the same way, so the lock is released here whatever happens (or this process would keep it)."""
    try:
        w.cancel()
    except Exception:  # noqa: S110 - the lock below is what matters
        pass
    lock = getattr(w, "writelock", None)
    if lock is not None:
        try:
            lock.release()
        except Exception:  # noqa: S110 - released already
            pass
    w.is_closed = True
    # a commit that failed while merging leaves the segment readers it had opened unreferenced
    # but open: collect them now, so their files close here and not at some later moment
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        gc.collect()


def _close_all(searchers: list[Any]) -> None:
    while searchers:
        searchers.pop().close()


class _TrackedStorage:
    """A storage that remembers the files opened through it while `opened` is a list, so that a
    reader that fails half-way can close what it had already opened."""

    def __init__(self, storage: Any) -> None:
        self._storage = storage
        self.opened: list[Any] | None = []

    def open_file(self, name: str, **kwargs: Any) -> Any:
        f = self._storage.open_file(name, **kwargs)
        if self.opened is not None:
            self.opened.append(f)
        return f

    def __getattr__(self, name: str) -> Any:
        return getattr(self._storage, name)


def _open_reader(ix: Any) -> Any:
    """A reader over the latest generation that leaks no file when it cannot be opened.

    Whoosh's own `FileIndex.reader()` builds one segment reader after another; when a commit has
    just deleted a later segment's files it raises, and the segment readers (and a half-opened
    one's terms file) already built are left open until the garbage collector finds them. Like
    it, a file deleted by a commit meanwhile (the table of contents, a segment's) means: try the
    newer generation, a few times."""
    for attempt in range(_READ_ATTEMPTS):
        try:
            return _open_reader_once(ix)
        except OSError:
            if attempt == _READ_ATTEMPTS - 1:
                raise
            time.sleep(0.05)
    raise AssertionError("unreachable")


def _open_reader_once(ix: Any) -> Any:
    toc = ix._read_toc()
    readers: list[Any] = []
    tracked = _TrackedStorage(ix.storage)
    try:
        for segment in toc.segments:
            readers.append(SegmentReader(tracked, toc.schema, segment, generation=toc.generation))
    except BaseException:
        for f in tracked.opened or ():
            f.close()
        raise
    finally:
        tracked.opened = None  # files opened later (columns) are the readers' to close
    if not readers:
        return EmptyReader(toc.schema)
    if len(readers) == 1:
        return readers[0]
    return MultiReader(readers, generation=toc.generation)


def _open_files(s: Any) -> None:
    """Open every file Whoosh would otherwise open on first use: the stored fields, the field
    lengths and the columns of each segment (terms and postings are opened with the reader)."""
    fields = list(s.schema.items())
    for r, _ in s.reader().leaf_readers():
        if not r.doc_count_all():
            continue
        r.stored_fields(0)
        for name, field in fields:
            if field.scorable:
                r.doc_field_length(0, name)
            if field.column_type and r.has_column(name):
                r.column_reader(name)


def _rescored(
    s: Any, top: list[tuple[int, float]], variants: list[list[str]]
) -> list[tuple[int, float]]:
    """The top hits with their scores raised by how near each other the typed words stand (the
    words' stems in each language: the nearest of them counts)."""
    reader = s.reader()
    found: dict[int, tuple[float, float]] = {}
    for stems in variants:
        if not all(("body", t) in reader for t in stems):
            continue
        for n, pair in proximity(s, [n for n, _ in top], stems, NEAR_WINDOW).items():
            found[n] = max(found.get(n, (0.0, 0.0)), pair)
    out = []
    for n, score in top:
        next_to, near = found.get(n, (0.0, 0.0))
        out.append((n, score * (1 + NEXT_TO_WEIGHT * next_to + NEAR_WEIGHT * near)))
    return out


def _explained(
    s: Any, cache: SearcherCache, tr: Translation, run: _Run,
    some: tuple[dict[int, int] | None, str], sort: str, hits: list[DocHit],
    until: float = math.inf,
) -> list[DocHit]:  # fmt: skip
    """Each hit with why it scored as it did: the parts of its Whoosh score
    (whoosh_explain.parts), then the steps _run took after it, each part's contribution being its
    score times those steps' factors, so that the contributions add up to the hit's score."""
    coord, reading = some
    wanted = {h.doc_id for h in hits}
    by_id = {d: n for n, d in cache.columns["doc_id"].items() if d in wanted}
    out = []
    for hit in hits:
        n = by_id[hit.doc_id]
        relevance = sort == "relevance"
        if time.monotonic() > until:
            late = {"kind": "not explained: the time for explanations ran out", "field": "",
                    "term": "", "score": hit.score, "contribution": hit.score}  # fmt: skip
            out.append(replace(hit, explain={
                "score": hit.score, "base": hit.score, "ranked_on": "", "parts": [late],
                "steps": [], "passages": [{"anchor": p.anchor, "score": p.score} for p in hit.passages],
            }))  # fmt: skip
            continue
        q = tr.query if tr.query is not None else query.Term("rtype", "doc")
        parts, base = whoosh_explain.parts(
            s, tr.rank_query if relevance and tr.rank_query is not None else q, n
        )
        steps: list[dict[str, Any]] = []
        factor = 1.0
        if relevance and tr.near and not run.partial:
            rescored = _rescored(s, [(n, 1.0)], tr.near)[0][1]
            shares = max(
                (proximity(s, [n], stems, NEAR_WINDOW).get(n, (0.0, 0.0)) for stems in tr.near),
                default=(0.0, 0.0),
            )
            steps.append({
                "step": "typed words next to or near each other",
                "factor": rescored,
                "detail": f"1 + {NEXT_TO_WEIGHT} x {shares[0]:.2f} (pairs next to each other) + "
                f"{NEAR_WEIGHT} x {shares[1]:.2f} (pairs within {NEAR_WINDOW} words)",
            })  # fmt: skip
            factor *= rescored
        if relevance and coord:
            share = coord.get(n, 0) / max(coord.values())
            steps.append({
                "step": "some of the words",
                "factor": share,
                "detail": (f"{reading}: " if reading else "")
                + f"it has {coord.get(n, 0)} of the words, the most any "
                f"document has is {max(coord.values())}; documents with more of them come first",
            })  # fmt: skip
            factor *= share
        for part in parts:
            part["contribution"] = part["score"] * factor
        if not parts and hit.score:  # a document matching only words the ranking leaves out
            parts = [{"kind": "matched an expansion that is not ranked", "field": "", "term": "",
                      "score": hit.score, "contribution": hit.score}]  # fmt: skip
            base = hit.score
        change = hit.score - base * factor
        if relevance and abs(change) > 1e-6 * max(1.0, abs(hit.score)):
            steps.append({
                "step": "primary document first",
                "change": change,
                "contribution": change,
                "detail": f"a document about another (a press release, a summary, commentary) "
                f"scores at most {PRIMARY_MARGIN} x the primary document it cites",
            })  # fmt: skip
        explain = {
            "score": hit.score,
            "base": base,
            "ranked_on": "the document record (title, text, identifiers, citations); passages "
            "only choose what is shown under the hit" + ("" if relevance else
            f"; sorted {sort}: the score does not order the hits"),
            "parts": parts,
            "steps": steps,
            "passages": [{"anchor": p.anchor, "score": p.score} for p in hit.passages],
        }  # fmt: skip
        out.append(replace(hit, explain=explain))
    return out


def _primary_first(s: Any, top: list[tuple[int, float]]) -> list[tuple[int, float]]:
    """A document about another (a press release, a summary, commentary: Document.genre) scores
    just under the primary documents it cites that are among the hits: the judgment before its
    press release for the judgment's own words, the Act before the article on it."""
    standing = {n: s.stored_fields(n).get("standing") or {} for n, _ in top}
    owners: dict[str, list[float]] = defaultdict(list)  # ident key -> scores of primaries with it
    for n, score in top:
        if not standing[n].get("genre"):
            for key in standing[n].get("own", ()):
                owners[key].append(score)
    if not owners:
        return top
    out = []
    for n, score in top:
        st = standing[n]
        if st.get("genre"):
            above = [sc for key in st.get("about", ()) for sc in owners.get(key, ())]
            if above and score >= max(above):
                score = max(above) * PRIMARY_MARGIN
        out.append((n, score))
    return out


def _by_score(top: list[tuple[int, float]], cache: SearcherCache) -> list[tuple[int, float]]:
    """Best first; equal scores (to 6 significant digits) in document id order, so a ranking does
    not depend on the order documents were indexed in."""
    ids = cache.columns["doc_id"]
    return sorted(top, key=lambda ns: (-float(f"{ns[1]:.6g}"), ids.get(ns[0], "")))


def _str(v: Any) -> str:
    return v.decode("utf-8") if isinstance(v, bytes) else str(v)


def _intersect(first: set[int], others: list[set[int]]) -> set[int]:
    out = first
    for other in sorted(others, key=len):
        out = out & other
    return out


def _dochit(s: Any, n: int, score: float) -> DocHit:
    fields = s.stored_fields(n)
    return DocHit(fields["doc_id"], fields["version"], score)


def _facets(
    cache: SearcherCache, matched: set[int], user: dict[str, set[int]]
) -> dict[str, dict[str, int]]:
    """Counts per facet value. Each facet applies every filter but its own, so the values of a
    facet stay visible (and add up) while one of them is chosen."""
    out: dict[str, dict[str, int]] = {}
    for name in FACETS:
        docs = _intersect(matched, [v for k, v in user.items() if k != name])
        counts = Counter(map(cache.columns[name].__getitem__, docs))
        counts.pop("", None)
        if name == "year":
            ordered = sorted(counts.items(), key=lambda kv: kv[0], reverse=True)
        else:
            ordered = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
        out[name] = dict(ordered)
    return out


def _headed(passages: tuple[Any, ...]) -> list[str]:
    """Each passage's text as indexed: preceded by the headings that begin at it (headings are
    not in the passages' own text, and readers search them too), so each heading counts once."""
    out: list[str] = []
    above: list[str] = []
    for p in passages:
        chain = [h.strip() for h in p.heading.split(" › ") if h.strip()] if p.heading else []
        same = 0
        while same < min(len(above), len(chain)) and above[same] == chain[same]:
            same += 1
        out.append("\n\n".join([*chain[same:], p.text]))
        above = chain
    return out


def indexed_text(rec: IndexRecord) -> str:
    """Every text the index holds for a document, as one string (what a search can find in it;
    bench/fidelity.py compares it with a plain extraction of the original)."""
    head = _records(rec)[0]
    return unmarked("\n\n".join(head[f] for f in ("title", "body", "outside")))


class _SegmentWriter(SegmentWriter):
    """Whoosh's segment writer, three things faster, the same segment written:

    - `add_analysed` adds a record whose postings for some fields are given (see _add_records);
    - its postings are kept by term as they come (in document order), so the commit sorts the
      terms, not every posting, and writes them without Whoosh's pool (a size estimate and a
      tuple per posting, then a sort of them all); what Whoosh adds itself (the segments a commit
      merges) still goes through its pool, and the two are merged in order;
    - the commit writes each posting with its document's field length (for the block statistics)
      read from a list made once per field, not from the lengths file one posting at a time (30 %
      of a commit's time)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._terms: dict[str, dict[bytes, list[tuple[int, float, bytes]]]] = defaultdict(dict)

    def add_analysed(self, fields: dict[str, Any], given: dict[str, list[Any]]) -> None:
        """SegmentWriter.add_document (whoosh-reloaded 2.7.5) for a record without boosts, with
        the postings (term bytes, frequency, weight, encoded value) of the fields in `given`."""
        self._check_state()
        perdoc = self.perdocwriter
        schema = self.schema
        docnum = self.docnum
        perdoc.start_doc(docnum)
        try:
            for name in sorted(fields):
                value = fields[name]
                if value is None:
                    continue
                field = schema[name]
                length = 0
                if field.indexed:
                    items = given.get(name)
                    terms = self._terms[name]
                    scorable = field.scorable
                    for tbytes, freq, weight, vbytes in (
                        items if items is not None else field.index(value)
                    ):
                        if scorable:
                            length += freq
                        found = terms.get(tbytes)
                        if found is None:
                            terms[tbytes] = [(docnum, weight, vbytes)]
                        else:
                            found.append((docnum, weight, vbytes))
                perdoc.add_field(name, field, value if field.stored else None, length)
                if field.column_type:
                    perdoc.add_column_value(name, field.column_type, field.to_column_value(value))
        except Exception:
            perdoc.cancel_doc()
            raise
        perdoc.finish_doc()
        self._added = True
        self.docnum += 1

    def _flush_segment(self) -> None:
        """SegmentWriter._flush_segment, the postings kept by term written term by term (merged in
        order with the pool's, when a merge put any there)."""
        self.perdocwriter.close()
        lengths = self.per_document_reader() if self.codec.length_stats else None
        fw = self.fieldwriter
        if self.pool.current or self.pool.runs:
            fw.add_postings(
                self.schema, lengths, heapq.merge(self._kept(), self.pool.iter_postings())
            )
        else:
            for name in sorted(self._terms):
                if self._terms[name]:
                    self._write_field(name, lengths.of(name) if lengths else None)
        fw.close()
        if lengths:
            lengths.close()

    def _write_field(self, name: str, lengths: list[int | None] | None) -> None:
        """A field's postings kept by term, written a block at a time: the block that
        W3PostingsWriter.add_posting would fill one posting at a time (its ids, weights, values
        and statistics), set at once."""
        fw, terms = self.fieldwriter, self._terms[name]
        fw.start_field(name, self.schema[name])
        for tbytes in sorted(terms):
            fw.start_term(tbytes)
            pw, postings = fw._postwriter, terms[tbytes]
            limit = pw._blocklimit
            for k in range(0, len(postings), limit):
                if k:
                    pw._write_block()
                block = postings[k : k + limit] if len(postings) > limit else postings
                ids = [p[0] for p in block]
                weights = [p[1] for p in block]
                pw._ids = array("I", ids)
                pw._weights = array("f", weights)
                pw._maxweight = max(0, *weights)
                pw._values = [p[2] for p in block if p[2]]
                sizes = [n for n in map(lengths.__getitem__, ids) if n] if lengths else ()
                pw._minlength = min(sizes) if sizes else None
                pw._maxlength = max(sizes) if sizes else 0
            fw.finish_term()
        fw.finish_field()

    def _kept(self) -> Iterator[tuple[str, bytes, int, float, bytes]]:
        """The postings kept by term, in the pool's order (field, term, document)."""
        for name in sorted(self._terms):
            terms = self._terms[name]
            for tbytes in sorted(terms):
                for docnum, weight, vbytes in terms[tbytes]:
                    yield name, tbytes, docnum, weight, vbytes

    def per_document_reader(self) -> Any:
        return _Lengths(super().per_document_reader())


class _Codec(W3Codec):
    """Whoosh's codec, writing the blocks of a posting list whose pickle is small (estimated under
    SMALL_BLOCK bytes) uncompressed: zlib makes them no smaller (1,000 generated documents: 30.45
    MB of index with, 30.27 without; the corpus files of tests/test_index_write.py: no larger),
    and its set-up is most of a small block's cost (a tenth of the commit's CPU). What Whoosh meant
    to do ("if the pickle is less than 20 bytes, don't bother compressing", which it overwrites
    on the next line). Each block records its compression, so any Whoosh reader reads them; the
    index's table of contents names Whoosh's own codec (__reduce__), so nothing of ours is needed
    to open it."""

    def postings_writer(self, dbfile: Any, byteids: bool = False) -> Any:
        return _Postings(
            dbfile,
            blocklimit=self._blocklimit,
            byteids=byteids,
            compression=self._compression,
            inlinelimit=self._inlinelimit,
        )

    def __reduce__(self) -> Any:
        return (W3Codec, (self._blocklimit, self._compression, self._inlinelimit))


SMALL_BLOCK = 64  # bytes


class _Postings(W3PostingsWriter):
    _compression: int

    def _write_block(self, last: bool = False) -> None:
        level = self._compression
        if 4 * len(self._ids) + sum(len(v) + 5 for v in self._values) + 24 < SMALL_BLOCK:
            self._compression = 0
        try:
            super()._write_block(last)
        finally:
            self._compression = level


class _Lengths:
    """A segment's per-document reader whose field lengths are read once per field, as a list."""

    def __init__(self, reader: Any) -> None:
        self._reader = reader
        self._lists: dict[str, list[int | None]] = {}

    def doc_field_length(self, docnum: int, fieldname: str, default: int = 0) -> int | None:
        found = self._lists.get(fieldname)
        if found is None:
            column = self._reader._cached_reader(_lenfield(fieldname), LENGTHS_COLUMN)
            if column is None:
                found = [default] * self._reader.doc_count_all()
            else:  # what W3PerDocReader.doc_field_length answers for each document
                found = [byte_to_length(b) if b else None for b in column]
            self._lists[fieldname] = found
        return found[docnum]

    def of(self, fieldname: str) -> list[int | None]:
        """Every document's length of a field (doc_field_length), as a list."""
        self.doc_field_length(0, fieldname)
        return self._lists[fieldname]

    def __getattr__(self, name: str) -> Any:
        return getattr(self._reader, name)


# The fields whose postings _postings gives (all the analysed text of a document's records).
_TEXT_FIELDS = ("title", "body", "outside", "words", "court_text", "text")
Postings = list[tuple[bytes, int, float, bytes]]  # (term, frequency, weight, encoded value)


@functools.cache
def _schema() -> Any:
    return make_schema()


def analyse_text(rec: IndexRecord) -> dict[tuple[str, str], Postings]:
    """The postings of a record's text fields, keyed by (field, value): what writing it would
    analyse, done by the parse worker that built the record (IndexRecord.terms). The writer
    takes a field's postings from here when its value is the same, and analyses the others."""
    return _postings(_schema(), _records(rec))


def _add_records(w: Any, rec: IndexRecord) -> None:
    """Add a document's records, their text fields' postings from `rec.terms` (analysed in the
    parse worker) or from _postings. A writer that cannot take given postings (Whoosh's
    multi-process one) analyses every field itself."""
    rows = _records(rec)
    if not isinstance(w, _SegmentWriter):
        for fields in rows:
            w.add_document(**fields)
        return
    given = rec.terms
    keys = [(n, row[n]) for row in rows for n in _TEXT_FIELDS if row.get(n) is not None]
    if not given or any(k not in given for k in keys):
        given = _postings(w.schema, rows)
    for row in rows:
        w.add_analysed(row, {n: given[(n, row[n])] for n in _TEXT_FIELDS if row.get(n) is not None})


def _postings(schema: Any, rows: list[dict[str, Any]]) -> dict[tuple[str, str], Postings]:
    """The postings of the text fields of a document's records (rows: its document record, then
    its passages'), keyed by (field, value). Each passage is analysed once: its `text` postings,
    and the document's `body` postings from its passages' -- what analysing the body again
    gives, at less than half the cost. The body is the passages' texts in a row, each begun by a
    language mark: its terms are theirs, each passage's positions moved on by the words before
    it, and the mark that begins each passage but the first puts PASSAGE_END (and SENTENCE_END,
    unless one is there already) at the last word before it (whoosh_schema._SentencesAndLanguages)."""
    head, passages = rows[0], rows[1:]
    out: dict[tuple[str, str], Postings] = {}
    for n in ("title", "outside", "words", "court_text"):
        if head.get(n) is not None:
            out[(n, head[n])] = list(schema[n].index(head[n]))
    text, body = schema["text"], schema["body"]
    if text.analyzer != body.analyzer or head["body"] != "\n\n".join(p["text"] for p in passages):
        for row in rows:  # (analysed apart, as Whoosh would)
            n = "text" if row is not head else "body"
            out[(n, row[n])] = list(schema[n].index(row[n]))
        return out
    analyzer = text.analyzer
    merged: dict[str, list[int]] = defaultdict(list)
    offset = 0  # the words of the passages before
    last = marked = -1  # in the body: the last word's position, the last sentence end's
    for k, row in enumerate(passages):
        if k and last >= 0:
            merged[PASSAGE_END].append(last)
            if last != marked:
                merged[SENTENCE_END].append(last)
                marked = last
        # each term's positions, and the passage's last word (an end stands at a word's position)
        positions, words = positions_of(analyzer, row["text"])
        out[("text", row["text"])] = text.postings_of(positions)
        for term, where in positions.items():
            merged[term].extend([p + offset for p in where] if offset else where)
        if words >= 0:
            last = words + offset
        if positions.get(SENTENCE_END):
            marked = positions[SENTENCE_END][-1] + offset
        offset += words + 1
    out[("body", head["body"])] = body.postings_of(merged)
    return out


def _records(rec: IndexRecord) -> list[dict[str, Any]]:
    doc = rec.doc
    year = doc.date[:4] if doc.date[:4].isdigit() else ""
    cites_by_anchor: dict[str, list[str]] = defaultdict(list)
    for anchor, norm in rec.cited:
        cites_by_anchor[anchor].append(ident_key(norm))
    all_cites = sorted({k for keys in cites_by_anchor.values() for k in keys})
    texts = _headed(rec.passages)
    # each text starts with the mark of its language (the analyzer stems in it; see whoosh_schema)
    lang = language_mark(doc.language)
    marked = [
        language_mark(p.language or doc.language) + t
        for p, t in zip(rec.passages, texts, strict=True)
    ]
    body = "\n\n".join(marked)
    # the names a document is cited by: its title, and a statute's short title
    short = str(doc.meta.get("short_title") or "") if isinstance(doc.meta, dict) else ""
    title = " · ".join(t for t in dict.fromkeys([doc.title, short]) if t)
    head = {
        "rid": f"d:{doc.id}",
        "rtype": "doc",
        "doc_id": doc.id,
        "version": rec.version,
        "anchor": "",
        "title": lang + title,
        "ident": " ".join(ident_key(i) for i in doc.identifiers),
        "cites": " ".join(all_cites),
        "body": body,
        "outside": lang + rec.outside,
        # only its lexicon is read (wildcards, fuzzy terms, did-you-mean): each word once is enough
        "words": " ".join(dict.fromkeys(TOKEN_RE.findall(f"{title}\n\n{body}\n\n{rec.outside}"))),
        "kind": doc.kind.value,
        "court": doc.court.strip(),
        "jurisdiction": doc.jurisdiction.strip(),
        "court_text": f"{doc.court} {doc.jurisdiction}",
        "year": year,
        "date": doc.date,
        "standing": {
            "genre": doc.genre,
            "own": [ident_key(i) for i in doc.identifiers],
            "about": all_cites if doc.genre else [],
        },
    }
    out = [head]
    for p, text in zip(rec.passages, marked, strict=True):
        out.append(
            {
                "rid": f"p:{doc.id}:{p.seq}",
                "rtype": "psg",
                "doc_id": doc.id,
                "version": rec.version,
                "anchor": p.anchor,
                "text": text,
                "pwords": " ".join(dict.fromkeys(TOKEN_RE.findall(text))),
                "pcites": " ".join(cites_by_anchor.get(p.anchor, ())),
            }
        )
    return out
