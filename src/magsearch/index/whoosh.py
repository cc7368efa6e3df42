"""The Whoosh backend: the only module that imports whoosh.

Levers that matter (measured in ../shared/design/whoosh-performance.md): non-compound segments
(`writer(compound=False)`: opening a searcher costs 0.2 ms instead of copying the index into memory),
one searcher per thread refreshed after commits, facet filters as document sets cached per searcher,
no large stored fields (texts are read from the archive), snippets from the top hits only.
"""

from __future__ import annotations

import re
import shutil
import threading
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from whoosh import collectors, highlight, index, qparser, query, sorting
from whoosh.analysis import CharsetFilter, Filter, LowercaseFilter, RegexTokenizer, StemFilter
from whoosh.fields import ID, KEYWORD, NUMERIC, STORED, TEXT, Schema
from whoosh.filedb.filestore import RamStorage
from whoosh.index import LockError
from whoosh.support.charset import accent_map

from .. import names
from ..errors import IndexUnavailable, QueryError
from .base import DocHit, IndexRecord, PassageHit, SearchRequest, SearchResult

SCHEMA_VERSION = 1
_VERSION_FILE = "MAGSEARCH_SCHEMA"
FACETS = ("kind", "court", "jurisdiction", "year")


class _NameFold(Filter):
    def __call__(self, tokens):  # type: ignore[no-untyped-def]
        for t in tokens:
            t.text = names.fold(t.text)
            yield t


def make_analyzer() -> Any:
    return (
        RegexTokenizer(r"\w+(?:\.?\w+)*")
        | LowercaseFilter()
        | _NameFold()
        | CharsetFilter(accent_map)
        | StemFilter(cachesize=100_000)
    )


def ident_key(normalized: str) -> str:
    """An identifier as one index token: 'Pub. L. 112-208' -> 'publ112208'."""
    return re.sub(r"[^0-9a-z]+", "", normalized.lower())


def make_schema() -> Schema:
    ana = make_analyzer()
    return Schema(
        rid=ID(unique=True, stored=True),
        rtype=ID(),
        doc_id=ID(stored=True, sortable=True),
        version=STORED(),
        anchor=STORED(),
        title=TEXT(analyzer=ana, field_boost=3.0),
        ident=KEYWORD(scorable=True, field_boost=6.0),
        cites=KEYWORD(scorable=True),
        body=TEXT(analyzer=ana),
        text=TEXT(analyzer=ana),
        kind=ID(sortable=True),
        court=ID(sortable=True),
        jurisdiction=ID(sortable=True),
        court_text=TEXT(analyzer=ana),
        year=ID(sortable=True),
        date=ID(sortable=True),
    )


class _Deadline(collectors.FilterCollector):
    """Keeps only allowed documents and stops at a deadline (checked every 256 matches).

    Whoosh's own TimeLimitCollector skips the filter of the collector it wraps, and its default
    SIGALRM only works in a main thread; this one does neither."""

    def __init__(self, child: Any, allow: set[int], seconds: float) -> None:
        super().__init__(child, allow=allow)
        self.deadline = time.monotonic() + seconds

    def collect_matches(self) -> None:
        child, allow, offset = self.child, self._allow, self.offset
        for i, sub in enumerate(child.matches()):
            if not i & 255 and time.monotonic() > self.deadline:
                raise collectors.TimeLimit
            if allow is None or offset + sub in allow:
                child.collect(sub)


class WhooshIndex:
    """A Whoosh index in a directory (or in memory when path is None)."""

    schema_version = SCHEMA_VERSION

    def __init__(self, path: str | Path | None, *, lock_timeout: float = 30.0) -> None:
        self.path = Path(path) if path is not None else None
        self.lock_timeout = lock_timeout
        self.schema = make_schema()
        self.analyzer = self.schema["body"].analyzer
        self._local = threading.local()
        self._cache_lock = threading.Lock()
        self._docsets: dict[tuple[int, str, str], set[int]] = {}  # never mutated
        self._ix = self._open()

    # -- opening -------------------------------------------------------------------------------
    def _open(self) -> Any:
        if self.path is None:
            return RamStorage().create_index(self.schema)
        marker = self.path / _VERSION_FILE
        if index.exists_in(str(self.path)):
            found = marker.read_text().strip() if marker.exists() else "unknown"
            if found != str(SCHEMA_VERSION):
                raise IndexUnavailable(
                    f"index at {self.path} has schema version {found}, this magsearch needs "
                    f"{SCHEMA_VERSION}: run `magsearch reindex`"
                )
            return index.open_dir(str(self.path))
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
        s = getattr(self._local, "searcher", None)
        if s is not None:
            s.close()
            self._local.searcher = None

    # -- writing -------------------------------------------------------------------------------
    def _writer(self) -> Any:
        try:
            return self._ix.writer(timeout=self.lock_timeout, delay=0.1, limitmb=256)
        except LockError:
            raise IndexUnavailable(
                f"the index is locked by another writer (waited {self.lock_timeout:g} s); "
                "try again when the other ingest finishes"
            ) from None

    def write(self, records: list[IndexRecord], delete: list[str] | tuple[str, ...] = ()) -> None:
        w = self._writer()
        try:
            for doc_id in {*delete, *(r.doc.id for r in records)}:
                w.delete_by_term("doc_id", doc_id)
            for rec in records:
                for fields in _records(rec):
                    w.add_document(**fields)
        except BaseException:
            w.cancel()
            raise
        w.commit(merge=True, optimize=False)

    def doc_ids(self) -> set[str]:
        s = self.searcher()
        return {
            fields["doc_id"]
            for fields in (s.stored_fields(n) for n in s.document_numbers(rtype="doc"))
        }

    def doc_count(self) -> int:
        return len(self._docset(self.searcher(), "rtype", "doc"))

    # -- reading -------------------------------------------------------------------------------
    def searcher(self) -> Any:
        s = getattr(self._local, "searcher", None)
        if s is None:
            s = self._ix.searcher()
        elif not s.up_to_date():
            s = s.refresh()
        self._local.searcher = s
        return s

    def _docset(self, s: Any, field: str, value: str) -> set[int]:
        """Document numbers with field == value, cached per searcher generation."""
        key = (id(s.reader()), field, value)
        found = self._docsets.get(key)
        if found is None:
            found = set(s.document_numbers(**{field: value}))
            with self._cache_lock:
                if len(self._docsets) > 512:
                    self._docsets.clear()
                self._docsets[key] = found
        return found

    def parse(self, text: str) -> Any:
        parser = qparser.MultifieldParser(
            ["title", "body"], self.schema, group=qparser.AndGroup
        )
        parser.remove_plugin_class(qparser.RangePlugin)
        parser.add_plugin(qparser.FuzzyTermPlugin())
        parser.add_plugin(qparser.PlusMinusPlugin())
        return parser.parse(text)

    def search(self, request: SearchRequest) -> SearchResult:
        s = self.searcher()
        q = self._build_query(request)
        if q is None:
            return SearchResult(0, [], {}, "")
        allowed = self._filter_set(s, request.filters)
        sortedby = None
        if request.sort in ("newest", "oldest"):
            sortedby = sorting.FieldFacet("date", reverse=request.sort == "newest")
        pagelen = max(1, request.per_page)
        limit = request.page * pagelen
        tlc = _Deadline(s.collector(limit=limit, sortedby=sortedby), allowed, request.time_limit)
        partial = False
        try:
            s.search_with_collector(q, tlc)
        except collectors.TimeLimit:
            partial = True
        results = tlc.results()
        if partial:  # what was found before the time ran out
            matched = {n for n, _ in results.items()}
        else:
            matched = set(s.docs_for_query(q)) & allowed
        total = len(matched)
        top = list(results.items())[(request.page - 1) * pagelen : limit]
        hits = [
            DocHit(s.stored_fields(n)["doc_id"], s.stored_fields(n)["version"], float(score))
            for n, score in top
        ]
        terms = self._body_terms(q)
        hits = self._with_passages(s, q, hits, request.passages_per_hit)
        return SearchResult(
            total=total,
            hits=hits,
            facets=self._facets(s, matched),
            interpreted=_describe(q),
            partial=partial,
            terms=terms,
        )

    def _build_query(self, request: SearchRequest) -> Any:
        parts = []
        if request.text.strip():
            q = self.parse(request.text)
            if q is query.NullQuery or isinstance(q, type(query.NullQuery)):
                raise QueryError(f"query not understood: {request.text!r}")
            parts.append(q)
        for ident in request.identifiers:
            key = ident_key(ident)
            parts.append(query.Or([query.Term("ident", key, boost=10.0), query.Term("cites", key)]))
        if not parts:
            return None
        return parts[0] if len(parts) == 1 else query.And(parts)

    def _filter_set(self, s: Any, filters: dict[str, tuple[str, ...]]) -> set[int]:
        allowed = self._docset(s, "rtype", "doc")
        for field, values in filters.items():
            if field not in FACETS or not values:
                continue
            union: set[int] = set()
            for v in values:
                union |= self._docset(s, field, v.lower() if field != "year" else v)
            allowed = allowed & union
        return allowed

    def _facets(self, s: Any, matched: set[int]) -> dict[str, dict[str, int]]:
        out: dict[str, dict[str, int]] = {}
        reader = s.reader()
        for field in FACETS:
            col = reader.column_reader(field)
            counts = Counter(col[n] for n in matched)
            out[field] = {
                (v.decode() if isinstance(v, bytes) else str(v)): c
                for v, c in counts.most_common()
                if v not in ("", b"", None)
            }
        return out

    def _body_terms(self, q: Any) -> tuple[str, ...]:
        terms = []
        for field, text in q.iter_all_terms(phrases=True):
            if field in ("body", "title") and isinstance(text, str):
                terms.append(text)
            elif field in ("body", "title") and isinstance(text, bytes):
                terms.append(text.decode("utf-8", "replace"))
        return tuple(dict.fromkeys(terms))

    def _passage_query(self, q: Any) -> Any:
        """The positive body clauses of a query, on the passage text field, OR-ed."""
        leaves: list[Any] = []

        def walk(node: Any, negated: bool) -> None:
            if isinstance(node, query.Not):
                return
            if isinstance(node, query.AndNot):
                walk(node.a, negated)
                return
            if node.is_leaf() or isinstance(node, query.Phrase):
                if getattr(node, "fieldname", None) == "body":
                    leaf = node.copy()
                    leaf.fieldname = "text"
                    leaves.append(leaf)
                return
            for child in node.children():
                walk(child, negated)

        walk(q, False)
        return query.Or(leaves) if leaves else None

    def _with_passages(self, s: Any, q: Any, hits: list[DocHit], per_hit: int) -> list[DocHit]:
        pq = self._passage_query(q)
        if not hits or pq is None or per_hit <= 0:
            return hits
        ids = query.Or([query.Term("doc_id", h.doc_id) for h in hits])
        found = s.search(
            query.And([pq, query.ConstantScoreQuery(ids, 0.0)]),
            limit=len(hits) * per_hit * 8,
            terms=True,
        )
        best: dict[str, list[PassageHit]] = defaultdict(list)
        for hit in found:
            doc_id = hit["doc_id"]
            if len(best[doc_id]) < per_hit:
                matched = tuple(t.decode() if isinstance(t, bytes) else t for _, t in hit.matched_terms())
                best[doc_id].append(PassageHit(hit["anchor"], float(hit.score), matched))
        return [DocHit(h.doc_id, h.version, h.score, tuple(best.get(h.doc_id, ()))) for h in hits]

    def highlight(self, text: str, terms: tuple[str, ...], *, top: int = 2) -> str:
        formatter = highlight.HtmlFormatter(tagname="mark", between=" … ")
        fragmenter = highlight.ContextFragmenter(maxchars=240, surround=90)
        out = highlight.highlight(text, frozenset(terms), self.analyzer, fragmenter, formatter, top=top)
        if out:
            return str(out)
        return formatter._text(text[:240]) + (" …" if len(text) > 240 else "")


def _records(rec: IndexRecord) -> list[dict[str, Any]]:
    doc = rec.doc
    year = doc.date[:4] if doc.date[:4].isdigit() else ""
    cites_by_anchor: dict[str, list[str]] = defaultdict(list)
    for anchor, norm in rec.cited:
        cites_by_anchor[anchor].append(ident_key(norm))
    all_cites = sorted({k for keys in cites_by_anchor.values() for k in keys})
    head = {
        "rid": f"d:{doc.id}",
        "rtype": "doc",
        "doc_id": doc.id,
        "version": rec.version,
        "anchor": "",
        "title": doc.title,
        "ident": " ".join(ident_key(i) for i in doc.identifiers),
        "cites": " ".join(all_cites),
        "body": "\n\n".join(p.text for p in rec.passages),
        "kind": doc.kind.value,
        "court": doc.court.lower(),
        "jurisdiction": doc.jurisdiction.lower(),
        "court_text": f"{doc.court} {doc.jurisdiction}",
        "year": year,
        "date": doc.date,
    }
    out = [head]
    for p in rec.passages:
        out.append(
            {
                "rid": f"p:{doc.id}:{p.seq}",
                "rtype": "psg",
                "doc_id": doc.id,
                "version": rec.version,
                "anchor": p.anchor,
                "text": p.text,
                "cites": " ".join(cites_by_anchor.get(p.anchor, ())),
            }
        )
    return out


def _describe(q: Any) -> str:
    return str(q)

