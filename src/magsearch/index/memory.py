"""An engine in memory, brute force: the second implementation of the backend protocol
(index/base.py), with no Whoosh. It reads every record for every query, so it is for small archives
and for tests: tests/test_engine_contract.py holds it and the Whoosh adapter to the same contract,
the one a third engine (tantivy, OpenSearch) would have to pass too.

What it does, simply: words are lower-cased and accent-folded tokens (no stemming, one language);
a word matches in the title, the text and the text outside the main text (`title:` in the title
only); a trailing wildcard or a fuzzy word stands for the archive's words that fit; a phrase is its
words in order (with a slop: within that many positions more, in any order); NEAR/n, /s and /p
are their operands near each other in one passage (in a chain, in one sentence, anywhere in it);
an identifier is a document carrying it (scored well above) or citing it; facets and dates filter.
Scores are BM25 over title and text. Each document's passages are its records for the best
passages.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from magsearch import querylang as ql
from magsearch.errors import QueryError
from magsearch.index import base
from magsearch.index.base import SearchRequest, SearchResult
from magsearch.snippets import TOKEN

FACETS = ("kind", "court", "jurisdiction", "year")
K1, B = 1.2, 0.75
TITLE_WEIGHT = 2.0
OUTSIDE_WEIGHT = 0.2
IDENT_WEIGHT = 4.0  # a document carrying an identifier, against one citing it
MORE_LIKE_TERMS = 15
# the end of a sentence: . ! ? before a space and a capital letter, a digit or a bracket
_SENTENCE_END = re.compile(r"(?<=[.!?])[)\]”’\"']*\s+(?=[(\[“‘\"']*[A-Z0-9])|(?<=[。！？])")


def fold(token: str) -> str:
    """A token as the engine holds it: lower case, accents off."""
    plain = unicodedata.normalize("NFKD", token.casefold())
    return "".join(c for c in plain if not unicodedata.combining(c))


def tokens(text: str) -> list[str]:
    return [fold(m.group()) for m in TOKEN.finditer(text)]


def ident_key(value: str) -> str:
    """An identifier as one token: 'Pub. L. 112-208' -> 'publ112208'."""
    return re.sub(r"[^0-9a-z]+", "", value.lower())


@dataclass
class _Passage:
    anchor: str
    words: list[str]
    cites: set[str]
    sentences: list[list[str]]


@dataclass
class _Record:
    doc_id: str
    version: str
    title: list[str]
    body: list[str]
    outside: list[str]
    idents: set[str]
    cites: set[str]
    facets: dict[str, str]
    date: str
    passages: list[_Passage]


@dataclass
class _Match:
    """What a query asks of a record: which records match, their scores, and what to mark."""

    docs: set[str]
    scores: dict[str, float] = field(default_factory=dict)
    terms: set[str] = field(default_factory=set)
    phrases: list[tuple[str, ...]] = field(default_factory=list)
    idents: list[str] = field(default_factory=list)
    cites: set[str] = field(default_factory=set)  # identifier keys passages may cite
    near: list[tuple[list[list[tuple[str, ...]]], str, int]] = field(default_factory=list)
    outside: bool = False  # a positive part of the query can match the outside text


class MemoryIndex:
    """The whole index in a dict: records by document id."""

    schema_version = 1
    engine = ""  # analyses everything itself

    def __init__(self) -> None:
        self._records: dict[str, _Record] = {}
        self._generation = 0

    # -- writing -------------------------------------------------------------------------------
    def write(self, records: list[base.IndexRecord], delete: Sequence[str] = (), *,
              fresh: Iterable[str] = (), merge: bool = True) -> None:  # fmt: skip
        for doc_id in delete:
            self._records.pop(doc_id, None)
        for rec in records:
            self._records[rec.doc.id] = _record(rec)
        self._generation += 1

    def merge(self) -> None:
        self._generation += 1

    def bulk_load(self, records: Iterable[base.IndexRecord]) -> int:
        count = 0
        for rec in records:
            self._records[rec.doc.id] = _record(rec)
            count += 1
        self._generation += 1
        return count

    def clear(self) -> None:
        self._records.clear()
        self._generation += 1

    def doc_ids(self) -> set[str]:
        return set(self._records)

    def generation(self) -> int:
        return self._generation

    def close(self) -> None:
        pass

    # -- reading -------------------------------------------------------------------------------
    @property
    def analysis(self) -> base.Analysis:
        return base.Analysis(lambda token, language: (fold(token),), TOKEN)

    def words(self, text: str) -> list[str]:
        return tokens(text)

    def similar_words(
        self, word: str, max_edits: int, hidden: frozenset[str] = frozenset()
    ) -> dict[str, int]:
        lexicon: Counter[str] = Counter()
        for rec in self._records.values():
            held = set(rec.title) | set(rec.body) | set(rec.outside)
            lexicon.update({w: int(rec.doc_id not in hidden) for w in held})
        return {
            w: n
            for w, n in lexicon.items()
            if w[:1] == word[:1] and _edits(w, word, max_edits) <= max_edits
        }

    def count(self, request: SearchRequest) -> tuple[int, bool]:
        visible = self._visible(request.hidden)
        m = self._match(request.query, visible, request.max_expansions, [])
        allowed = self._filtered(visible, request.filters, [])
        return len(m.docs & allowed), False

    def search(self, request: SearchRequest) -> SearchResult:
        notes: list[str] = []
        visible = self._visible(request.hidden)
        user = {
            name: self._filtered(visible, {name: values}, notes)
            for name, values in request.filters.items()
            if name in FACETS and values
        }
        m = self._match(request.query, visible, request.max_expansions, notes)
        need = 0
        coord: dict[str, int] = {}
        if request.some_of:
            most = self._some_of(request, visible)
            if most is None:
                return SearchResult(0, [], {}, notes=notes)
            need, coord = most
            m.docs &= set(coord)
        found = set(m.docs)
        for docs in user.values():
            found &= docs
        if request.sort == "relevance":
            top = max(coord.values(), default=1)
            score = {n: m.scores.get(n, 0.0) * coord.get(n, top) / top for n in found}
            order = sorted(found, key=lambda n: (-coord.get(n, 0), -round(score[n], 6), n))
        else:
            score = {n: m.scores.get(n, 0.0) for n in found}
            order = self._by_date(found, newest=request.sort == "newest")
        start = (request.page - 1) * request.per_page
        page = order[start : start + request.per_page]
        hits = [self._hit(n, score[n], m, request.passages_per_hit) for n in page]
        return SearchResult(
            total=len(found),
            hits=hits,
            facets=self._facets(m.docs, user),
            terms=tuple(sorted(m.terms)),
            phrases=tuple(dict.fromkeys(m.phrases)),
            idents=tuple(dict.fromkeys(m.idents)),
            notes=notes,
            at_least=need,
        )

    def more_like(
        self, doc_id: str, text: str, limit: int = 5, time_limit: float = 2.0,
        hidden: frozenset[str] = frozenset(), language: str = "",
    ) -> SearchResult:  # fmt: skip
        visible = self._visible(hidden)
        if doc_id not in visible:
            return SearchResult(0, [], {})
        stats = _Stats(self._records, visible)
        weights = {t: tf * stats.idf(t) for t, tf in Counter(tokens(text)).items()}
        key = sorted(weights, key=lambda t: (-weights[t], t))[:MORE_LIKE_TERMS]
        m = _Match(visible - {doc_id}, terms=set(key))
        m.docs = {n for n in m.docs if not set(key).isdisjoint(self._records[n].body)}
        m.scores = {n: stats.bm25(self._records[n], key) for n in m.docs}
        order = sorted(m.docs, key=lambda n: (-m.scores[n], n))[:limit]
        hits = [self._hit(n, m.scores[n], m, 1) for n in order]
        return SearchResult(len(hits), hits, {}, terms=tuple(key))

    # -- the query -----------------------------------------------------------------------------
    def _visible(self, hidden: frozenset[str]) -> set[str]:
        return {n for n in self._records if n not in hidden}

    def _match(
        self, node: ql.Node, visible: set[str], max_expansions: int, notes: list[str]
    ) -> _Match:
        query = _Query(self._records, visible, max_expansions, notes)
        m = query.node(node, positive=True)
        if not query.searchable:
            raise QueryError(
                "nothing to search for: the query has no words, phrases or identifiers"
            )
        return m

    def _some_of(
        self, request: SearchRequest, visible: set[str]
    ) -> tuple[int, dict[str, int]] | None:
        clauses = base.some_of_clauses(request.query)
        counts: Counter[str] = Counter()
        words = 0
        for clause in clauses:
            query = _Query(self._records, visible, request.max_expansions, [])
            m = query.node(clause, positive=True)
            if not query.searchable:
                continue
            words += 1
            counts.update(m.docs)
        need = request.some_of[min(words, len(request.some_of) - 1)]
        if words < 2 or need <= 0:
            return None
        return need, {n: c for n, c in counts.items() if c >= need}

    def _filtered(
        self, visible: set[str], filters: Mapping[str, tuple[str, ...]], notes: list[str]
    ) -> set[str]:
        out = set(visible)
        for name, values in filters.items():
            if name not in FACETS or not values:
                continue
            wanted = {v.casefold() for v in values}
            docs = {n for n in visible if self._records[n].facets[name].casefold() in wanted}
            if not docs:
                notes.extend(f"filter {name}={v} matches no document" for v in values)
            out &= docs
        return out

    def _facets(self, matched: set[str], user: dict[str, set[str]]) -> dict[str, dict[str, int]]:
        out: dict[str, dict[str, int]] = {}
        for name in FACETS:
            docs = set(matched)
            for other, allowed in user.items():
                if other != name:
                    docs &= allowed
            counts = Counter(self._records[n].facets[name] for n in docs)
            counts.pop("", None)
            if name == "year":
                out[name] = dict(sorted(counts.items(), reverse=True))
            else:
                out[name] = dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
        return out

    def _by_date(self, docs: set[str], *, newest: bool) -> list[str]:
        dated = sorted(
            (n for n in docs if self._records[n].date), key=lambda n: (self._records[n].date, n)
        )
        if newest:
            dated.sort(key=lambda n: self._records[n].date, reverse=True)  # ids stay ascending
        return dated + sorted(n for n in docs if not self._records[n].date)

    def _hit(self, doc_id: str, score: float, m: _Match, per_hit: int) -> base.DocHit:
        rec = self._records[doc_id]
        best: list[tuple[float, int, str]] = []
        for i, p in enumerate(rec.passages):
            held = Counter(p.words)
            weight = sum(held[t] for t in m.terms)
            weight += sum(3 * _phrase_count(p.words, ph, 0) for ph in m.phrases)
            weight += 3 * len(p.cites & m.cites)
            weight += sum(3 * _near_count(p, ops, unit, gap) for ops, unit, gap in m.near)
            if weight:
                best.append((-weight, i, p.anchor))
        passages = tuple(base.PassageHit(a, -w) for w, _, a in sorted(best)[:per_hit])
        outside = (
            not passages
            and m.outside
            and (
                not m.terms.isdisjoint(rec.outside)
                or any(_phrase_count(rec.outside, ph, 0) for ph in m.phrases)
            )
        )
        return base.DocHit(doc_id, rec.version, score, passages if per_hit > 0 else (), outside)


class _Stats:
    """BM25 statistics over the visible documents' title and text."""

    def __init__(self, records: dict[str, _Record], visible: set[str]) -> None:
        self.records = records
        self.n = max(len(visible), 1)
        self.df: Counter[str] = Counter()
        for doc_id in visible:
            rec = records[doc_id]
            self.df.update(set(rec.title) | set(rec.body))
        self.avg = sum(len(records[d].body) for d in visible) / self.n or 1.0

    def idf(self, term: str) -> float:
        df = self.df.get(term, 0)
        return math.log(1 + (self.n - df + 0.5) / (df + 0.5))

    def bm25(self, rec: _Record, terms: Iterable[str]) -> float:
        body, title = Counter(rec.body), Counter(rec.title)
        norm = K1 * (1 - B + B * len(rec.body) / self.avg)
        out = 0.0
        for t in set(terms):
            tf = body[t] + TITLE_WEIGHT * title[t]
            if tf:
                out += self.idf(t) * tf * (K1 + 1) / (tf + norm)
        return out


class _Query:
    """A query tree read over every visible record."""

    def __init__(
        self, records: dict[str, _Record], visible: set[str], max_expansions: int, notes: list[str]
    ) -> None:
        self.records = records
        self.visible = visible
        self.max_expansions = max_expansions
        self.notes = notes
        self.stats = _Stats(records, visible)
        self.searchable = False

    def node(self, n: ql.Node, positive: bool) -> _Match:
        if isinstance(n, ql.And):
            return self.conjunction(list(n.children), positive)
        if isinstance(n, ql.Or):
            parts = [self.node(c, positive) for c in n.children]
            return _union(parts)
        if isinstance(n, ql.Not):
            inner = self.node(n.child, False)
            return _Match(self.visible - inner.docs)
        if isinstance(n, ql.Word):
            return self.word(n, positive)
        if isinstance(n, ql.Phrase):
            return self.phrase(n.text, n.field, n.slop, positive)
        if isinstance(n, ql.Ident):
            return self.ident(n, positive)
        if isinstance(n, ql.Near):
            return self.near(n, positive)
        self.searchable = True
        if isinstance(n, ql.Facet):
            value = n.value.casefold()
            return _Match(
                {d for d in self.visible if self.records[d].facets[n.field].casefold() == value}
            )
        if isinstance(n, ql.DateSpan):
            return _Match({d for d in self.visible if _in_span(self.records[d].date, n)})
        if isinstance(n, ql.MatchAll):
            return _Match(set(self.visible))
        raise QueryError(f"this engine cannot search {type(n).__name__}")

    def conjunction(self, nodes: list[ql.Node], positive: bool) -> _Match:
        pos = [self.node(n, positive) for n in nodes if not isinstance(n, ql.Not)]
        neg = [self.node(n.child, False) for n in nodes if isinstance(n, ql.Not)]
        out = _union(pos) if pos else _Match(set(self.visible))
        for m in pos:
            out.docs &= m.docs
        for m in neg:
            out.docs -= m.docs
        return out

    def expand(self, n: ql.Word) -> list[str]:
        base = fold(n.text)
        counts = Counter(
            t
            for d in self.visible
            for t in set(self.records[d].title) | set(self.records[d].body)
            if (
                t.startswith(base)
                if n.prefix
                else t[:1] == base[:1] and _edits(t, base, n.fuzzy) <= n.fuzzy
            )
        )
        found = sorted(counts, key=lambda t: (-counts[t], t))[: self.max_expansions]
        return found or [base]

    def word(self, n: ql.Word, positive: bool) -> _Match:
        typed = tokens(n.text)
        if len(typed) > 1 and not (n.prefix or n.fuzzy):
            return self.phrase(n.text, n.field, 0, positive)
        if not typed:
            return _Match(set())
        self.searchable = True
        terms = self.expand(n) if (n.prefix or n.fuzzy) else typed
        docs = set()
        for d in self.visible:
            rec = self.records[d]
            fields = [rec.title] if n.field == "title" else [rec.title, rec.body, rec.outside]
            if any(not set(terms).isdisjoint(f) for f in fields):
                docs.add(d)
        m = _Match(docs, {d: self.score(d, terms, n.field) for d in docs})
        if positive:
            m.terms = set(terms)
            m.outside = n.field != "title"
        return m

    def score(self, doc_id: str, terms: list[str], field: str = "") -> float:
        rec = self.records[doc_id]
        out = self.stats.bm25(rec, terms)
        if field != "title":
            out += OUTSIDE_WEIGHT * sum(self.stats.idf(t) for t in set(terms) if t in rec.outside)
        return out

    def phrase(self, text: str, field_name: str, slop: int, positive: bool) -> _Match:
        words = tuple(tokens(text))
        if len(words) <= 1:
            return self.word(ql.Word(text, field_name), positive) if words else _Match(set())
        self.searchable = True
        docs: dict[str, float] = {}
        for d in self.visible:
            rec = self.records[d]
            fields = [rec.title] if field_name == "title" else [rec.title, rec.body, rec.outside]
            found = sum(_phrase_count(f, words, slop) for f in fields)
            if found:
                docs[d] = found * sum(self.stats.idf(w) for w in words)
        m = _Match(set(docs), docs)
        if positive:
            if slop:
                m.terms = set(words)
            else:
                m.phrases = [words]
            m.outside = field_name != "title"
        return m

    def near(self, n: ql.Near, positive: bool) -> _Match:
        """Operands near each other in one passage: a chain, each within n.distance words of the
        one before (unit "words"), in one sentence, or anywhere in the passage."""
        self.searchable = True
        ops = [self.operand(c) for c in n.children]
        if not all(ops):
            return _Match(set())
        idf = sum(self.stats.idf(t) for op in ops for t in op[0])
        docs: dict[str, float] = {}
        for d in self.visible:
            found = sum(_near_count(p, ops, n.unit, n.distance) for p in self.records[d].passages)
            if found:
                docs[d] = found * idf
        m = _Match(set(docs), docs)
        if positive:
            m.terms = {op[0] for alts in ops for op in alts if len(op) == 1}
            m.phrases = [op for alts in ops for op in alts if len(op) > 1]
            m.near = [(ops, n.unit, n.distance)]
        return m

    def operand(self, n: ql.Node) -> list[tuple[str, ...]]:
        """A proximity operand's alternatives, each a sequence of words (a word: one)."""
        if isinstance(n, ql.Or):
            return list(dict.fromkeys(seq for c in n.children for seq in self.operand(c)))
        text = (n.raw or n.value) if isinstance(n, ql.Ident) else getattr(n, "text", "")
        words = tuple(tokens(text))
        return [words] if words else []

    def ident(self, n: ql.Ident, positive: bool) -> _Match:
        key = ident_key(n.value)
        self.searchable = True
        carriers = {d for d in self.visible if key and key in self.records[d].idents}
        citers = {d for d in self.visible if key and key in self.records[d].cites}
        if not carriers and not citers:
            m = self.phrase(n.raw or n.value, "", 0, positive)
            if positive:
                m.idents = [n.value]
            return m
        idf = self.stats.idf(key)
        scores = {d: idf for d in citers}
        scores.update({d: IDENT_WEIGHT * idf + scores.get(d, 0.0) for d in carriers})
        m = _Match(carriers | citers, scores)
        if positive:
            m.idents, m.cites = [n.value], {key}
        return m


def _union(parts: list[_Match]) -> _Match:
    out = _Match(set())
    for m in parts:
        out.docs |= m.docs
        for d, s in m.scores.items():
            out.scores[d] = out.scores.get(d, 0.0) + s
        out.terms |= m.terms
        out.phrases += m.phrases
        out.idents += m.idents
        out.cites |= m.cites
        out.near += m.near
        out.outside = out.outside or m.outside
    return out


def _in_span(date: str, span: ql.DateSpan) -> bool:
    return bool(date) and (not span.lo or date >= span.lo) and (not span.hi or date < span.hi)


def _phrase_count(words: list[str], phrase: tuple[str, ...], slop: int) -> int:
    """How often the phrase stands in `words`: in order (slop 0), or all its words within its
    length plus `slop` positions, in any order."""
    n = len(phrase)
    if not slop:
        return sum(1 for i in range(len(words) - n + 1) if tuple(words[i : i + n]) == phrase)
    wanted = Counter(phrase)
    width = n + slop
    return sum(
        1 for i, w in enumerate(words) if w in wanted and not wanted - Counter(words[i : i + width])
    )


def _near_count(p: _Passage, ops: list[list[tuple[str, ...]]], unit: str, gap: int) -> int:
    """How many chains of the operands a passage holds (unit "words": each operand within `gap`
    words of the one before, in either order), or whether they all stand in one of its sentences
    ("sentence") or in it at all ("paragraph": 1 or 0)."""
    if unit == "paragraph":
        return int(all(_at(p.words, op) for op in ops))
    if unit == "sentence":
        return sum(1 for words in p.sentences if all(_at(words, op) for op in ops))
    reached = _at(p.words, ops[0])
    for op in ops[1:]:
        reached = [b for b in _at(p.words, op) if any(_between(a, b) <= gap for a in reached)]
    return len(reached)


def _at(words: list[str], alternatives: list[tuple[str, ...]]) -> list[tuple[int, int]]:
    """Where any of the alternatives stands in `words`: (start, end) of each occurrence."""
    return [
        (i, i + len(seq))
        for seq in alternatives
        for i in range(len(words) - len(seq) + 1)
        if tuple(words[i : i + len(seq)]) == seq
    ]


def _between(a: tuple[int, int], b: tuple[int, int]) -> int:
    """How many words stand between two occurrences (0 when they touch or overlap)."""
    return max(b[0] - a[1], a[0] - b[1], 0)


def _edits(a: str, b: str, most: int) -> int:
    """The edit distance of two words (Levenshtein), or most + 1 when it is larger."""
    if abs(len(a) - len(b)) > most:
        return most + 1
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def _record(rec: base.IndexRecord) -> _Record:
    doc = rec.doc
    cites_by_anchor: dict[str, set[str]] = {}
    for anchor, norm in rec.cited:
        cites_by_anchor.setdefault(anchor, set()).add(ident_key(norm))
    passages = [
        _Passage(
            p.anchor,
            tokens(f"{p.heading}\n{p.text}"),
            cites_by_anchor.get(p.anchor, set()),
            [tokens(x) for x in _SENTENCE_END.split(f"{p.heading}\n{p.text}")],
        )
        for p in rec.passages
    ]
    short = str(doc.meta.get("short_title") or "") if isinstance(doc.meta, dict) else ""
    return _Record(
        doc_id=doc.id,
        version=rec.version,
        title=tokens(f"{doc.title} {short}"),
        body=[w for p in passages for w in p.words],
        outside=tokens(rec.outside),
        idents={ident_key(i) for i in doc.identifiers},
        cites={k for keys in cites_by_anchor.values() for k in keys},
        facets={
            "kind": doc.kind.value,
            "court": doc.court.strip(),
            "jurisdiction": doc.jurisdiction.strip(),
            "year": doc.date[:4] if doc.date[:4].isdigit() else "",
        },
        date=doc.date,
        passages=passages,
    )
