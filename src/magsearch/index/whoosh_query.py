"""From the query tree (querylang) to Whoosh queries.

- Words are stemmed (in each language: whoosh_schema.STEMMED; a word's terms in every language
  are looked up as one word) and searched in title and body. A fuzzy word or a trailing wildcard
  is expanded against the unstemmed `words` field (so stemming cannot break it: `Magnitsky~` looks
  for spellings of the word as written), at most `max_expansions` words, the most frequent first;
  the expansions are then stemmed and searched like typed words.
- A phrase, or words near each other ("a b"~5), is checked on positions (PositionalPhrase) in the
  title and the body; for passages, only among the passages of the page's documents.
- An exact form (=word) is the word as written (folded for case and accents, not stemmed) in the
  unstemmed `words` field of document records; a page's passages that write it are picked by
  ExactForm (their stems, then their stored words as written); it is highlighted as EXACT + that
  form, which the highlighter's key gives each token besides its stems.
- An identifier is `ident` (boosted) OR `cites`: the document carrying it first, its citers next;
  when no document carries or cites it, its words are searched as a phrase instead.
- kind/court/jurisdiction/year/date at the top level of a query become document sets cached per
  searcher (like the request's filters); nested ones become constant-score clauses, so they never
  change a ranking.
- NEAR/n, /s and /p (Proximity) are checked on positions in the body of document records, whose
  analyzer records where sentences and passages end (no word moves), and scored like a phrase; for
  passages, on their text, only among the passages of the page's documents.
- Plain multi-word queries: whoosh.py rescores the top hits by how many of the typed words stand
  next to each other (a phrase) or near each other, so those rank above scattered words.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from whoosh import query
from whoosh.query import compound

from magsearch import querylang as ql
from magsearch.errors import QueryError
from magsearch.index.whoosh_schema import (
    OUTSIDE_BOOST,
    STEMMED,
    AnyOf,
    ExactForm,
    PositionalPhrase,
    Proximity,
    SearcherCache,
    Visible,
    ident_key,
    idf,
    make_splitter,
    records_with,
    term_key,
    term_query_keys,
    term_variants,
)

TITLE_PHRASE_BOOST = 2.0
IDENT_BOOST = 4.0  # on top of the ident field's own boost: carrier well above its citers
IDENT_FALLBACK_BOOST = 0.5
SCORED_EXPANSIONS = 4  # wildcard/fuzzy: the most frequent expansions score; the rest only match
EXPANSION_SCORE = 0.5  # (constant score of a match on the other expansions)
PASSAGE_EXPANSIONS = 10  # expanded words used to pick passages (the most frequent)
PRELOAD_OVER = 8  # an OR of more clauses than this preloads its matches (cheaper than a tree)
EXACT = "="  # an exact form among the terms to highlight: "=detained"


@dataclass
class Translation:
    query: Any  # the Whoosh query for document records (None: match every document)
    filters: list[set[int]]  # document sets the query's own kind:/year:/date:... ask for
    passage_clauses: list[Any]  # what picks the best passages, OR-ed (empty: the first passages)
    terms: set[str] = field(default_factory=set)  # stemmed terms to highlight
    notes: list[str] = field(default_factory=list)
    # plain typed words: the top hits are rescored by their proximity
    near: list[list[str]] = field(default_factory=list)  # in each language (Translator.variants)
    # a lone wildcard or fuzzy word: the query without its unscored expansions, to rank with
    # (documents matching only those come after, with their constant score)
    rank_query: Any = None
    phrases: list[tuple[str, ...]] = field(default_factory=list)  # to highlight as wholes
    idents: list[str] = field(default_factory=list)  # normalised identifiers to highlight whole
    outside_clauses: list[Any] = field(default_factory=list)  # see Translator.outside


def any_of(clauses: list[Any]) -> Any:
    if len(clauses) == 1:
        return clauses[0]
    if len(clauses) > PRELOAD_OVER:
        return compound.PreloadedOr(clauses)
    return query.Or(clauses)


class Translator:
    def __init__(
        self, s: Any, cache: SearcherCache, analyzer: Any, plain: Any, max_expansions: int,
        deadline: float, visible: Visible | None = None,
    ) -> None:  # fmt: skip
        self.s, self.cache, self.deadline = s, cache, deadline
        self.visible = visible or Visible(s, cache)
        self.reader = s.reader()
        self.analyzer, self.plain = analyzer, plain
        self.plain_key = term_key(plain)
        self.splitter = make_splitter()
        self.keys, self.any_lang = term_query_keys(analyzer), term_variants(analyzer)
        self.max_expansions = max_expansions
        self.terms: set[str] = set()
        self.notes: list[str] = []
        self.psg: list[Any] = []
        self.outside: list[Any] = []  # the positive clauses on the text outside the main text
        self.searchable = False  # whether any part of the query gave something to search for
        self.ranked: Any = None  # see Translation.rank_query
        self.phrases: list[tuple[str, ...]] = []
        self.idents: list[str] = []

    def stems(self, text: str) -> list[str]:
        return [t.text for t in self.analyzer(text)]

    def variants(self, text: str) -> list[tuple[str, ...]]:
        """The query text's terms in each language it may be in (its language is not known): one
        sequence per language whose terms differ (whoosh_schema.STEMMED), English first."""
        tokens = [t.text for t in self.splitter(text)]
        keys = self.keys
        seqs = [tuple(keys(w, lang)[0] for w in tokens) for lang in ("", *STEMMED)]
        return [seq for seq in dict.fromkeys(seqs) if seq]

    def alternatives(self, word: str) -> list[str]:
        """A word's terms in every language, as the index may hold them."""
        pieces = [t.text for t in self.splitter(word)]
        return list(dict.fromkeys(k for w in pieces for k in self.any_lang(w)))

    def translate(self, node: ql.Node) -> Translation:
        top = list(node.children) if isinstance(node, ql.And) else [node]
        filters = [self.filter_set(n) for n in top if isinstance(n, ql.Facet | ql.DateSpan)]
        rest: list[ql.Node] = [
            n for n in top if not isinstance(n, ql.Facet | ql.DateSpan | ql.MatchAll)
        ]
        q = self.conjunction(rest, positive=True) if rest else None
        if rest and not self.searchable:
            raise QueryError(
                "nothing to search for: the query has no words, phrases or identifiers"
            )
        near = self.plain_words(rest)
        tr = Translation(q, filters, self.psg, self.terms, self.notes, near)
        tr.phrases, tr.idents = list(dict.fromkeys(self.phrases)), list(dict.fromkeys(self.idents))
        tr.outside_clauses = self.outside
        if len(rest) == 1 and isinstance(rest[0], ql.Word) and self.ranked is not None:
            tr.rank_query = self.ranked
        return tr

    def filter_set(self, n: ql.Facet | ql.DateSpan) -> set[int]:
        if isinstance(n, ql.DateSpan):
            return self.cache.date_set(n.lo, n.hi)
        return self.cache.facet_set(n.field, self.resolve(n))

    def resolve(self, n: ql.Facet) -> list[str]:
        values = self.visible.values(n.field, n.value)
        if not values:
            known = self.visible.known(n.field)[:8]
            some = f" (some are: {'; '.join(known)})" if known else ""
            self.notes.append(f"{n.field}:{n.value} names no {n.field} in the archive{some}")
        elif n.field in ("court", "jurisdiction") and [v.lower() for v in values] != [
            n.value.lower()
        ]:
            self.notes.append(f"{n.field}:{n.value} read as {' or '.join(values)}")
        return values

    def conjunction(self, nodes: list[ql.Node], positive: bool) -> Any:
        pos = [self.node(n, positive) for n in nodes if not isinstance(n, ql.Not)]
        neg = [self.node(n.child, False) for n in nodes if isinstance(n, ql.Not)]
        pos_q = [p for p in pos if p is not None]
        neg_q = [p for p in neg if p is not None]
        if not pos_q and positive:
            self.notes.append("only excluded words: showing every document without them")
        base = query.And(pos_q) if len(pos_q) > 1 else (pos_q[0] if pos_q else _every_doc())
        if neg_q:
            return query.AndNot(base, neg_q[0] if len(neg_q) == 1 else query.Or(neg_q))
        return base

    def node(self, n: ql.Node, positive: bool) -> Any:
        if isinstance(n, ql.And):
            return self.conjunction(list(n.children), positive)
        if isinstance(n, ql.Or):
            kids = [self.node(c, positive) for c in n.children]
            return query.Or([k for k in kids if k is not None])
        if isinstance(n, ql.Not):
            inner = self.node(n.child, False)
            return query.Not(inner) if inner is not None else None
        if isinstance(n, ql.Word):
            return self.word(n, positive)
        if isinstance(n, ql.Phrase):
            return self.phrase(n, positive)
        if isinstance(n, ql.Ident):
            return self.ident(n, positive)
        if isinstance(n, ql.Near):
            return self.near(n, positive)
        if isinstance(n, ql.Facet | ql.DateSpan | ql.MatchAll):
            self.searchable = True
        if isinstance(n, ql.Facet):
            terms = [query.Term(n.field, v) for v in self.resolve(n)]
            return query.ConstantScoreQuery(query.Or(terms), 0.0) if terms else query.NullQuery
        if isinstance(n, ql.DateSpan):
            rq = query.TermRange("date", n.lo or None, n.hi or None, False, True)
            return query.ConstantScoreQuery(rq, 0.0)
        return _every_doc()  # MatchAll

    def word(self, n: ql.Word, positive: bool) -> Any:
        if n.exact:
            return self.exact(n, positive)
        if n.fuzzy or n.prefix:
            groups = [self.alternatives(w) for w in self.expand(n)]
        else:
            seqs = self.variants(n.text)
            if seqs and len(seqs[0]) > 1:  # "asset-freeze", "u.s.c.": the pieces as a phrase
                return self.phrase(ql.Phrase(n.text, n.field), positive, analysed=seqs)
            groups = [self.alternatives(n.text)] if seqs else []
        stems = list(dict.fromkeys(t for g in groups for t in g))
        if not stems:
            return None
        self.searchable = True
        if positive:
            self.terms.update(stems)
            if n.field != "title":
                first = list(dict.fromkeys(t for g in groups[:PASSAGE_EXPANSIONS] for t in g))
                self.psg.extend(query.Term("text", t) for t in first)
                self.outside.extend(query.Term("outside", t) for t in first)
        fields = ["title"] if n.field == "title" else ["title", "body", "outside"]
        # the words a wildcard or fuzzy word stands for: the most frequent SCORED_EXPANSIONS score
        scored = list(dict.fromkeys(t for g in groups[:SCORED_EXPANSIONS] for t in g))
        rest = [t for t in stems if t not in set(scored)]
        clauses = [
            c for f in fields for g in groups[:SCORED_EXPANSIONS] if (c := self.one_word(f, g))
        ]
        if not clauses:  # in no record: a term that matches nothing (title: in the title only)
            return query.Term(fields[0], stems[0])
        if rest and positive:
            self.ranked = any_of(clauses)
        if rest:
            clauses += [AnyOf(f, rest, EXPANSION_SCORE) for f in fields]
        return any_of(clauses)

    def exact(self, n: ql.Word, positive: bool) -> Any:
        """=word: the form as written (the plain analyzer's terms: one, or a CJK word's bigrams),
        in the documents' and the passages' unstemmed words."""
        forms = list(dict.fromkeys(t.text for t in self.plain(n.text)))
        if not forms:
            return None
        self.searchable = True
        if positive:
            self.terms.update(EXACT + f for f in forms)
            stems = self.alternatives(n.text)
            self.psg.append(ExactForm(forms, stems, self.plain_terms, self.deadline))
        return _all([query.Term("words", f) for f in forms])

    def plain_terms(self, token: str) -> tuple[str, ...]:
        """A token's unstemmed index terms (`words`): one, or a CJK run's bigrams."""
        if token.isascii():
            return (self.plain_key(token),)
        return tuple(t.text for t in self.plain(token))

    def one_word(self, field: str, terms: list[str]) -> Any:
        """A word's terms in each language, as one word: each weighs as rare as the word is in
        every language together (a stem is not rare only because few documents are in its
        language). A record holds one of them, but for a Cyrillic word: its Russian stem and its
        transliteration. (An OR: Whoosh's DisjunctionMax loses matches in indexes of several
        segments.)"""
        reader = self.reader
        found = {t: reader.doc_frequency(field, t) for t in terms if (field, t) in reader}
        if len(found) <= 1:
            return query.Term(field, next(iter(found))) if found else None
        n = records_with(reader, field)
        word = idf(n, sum(found.values()))
        return query.Or([query.Term(field, t, boost=word / idf(n, df)) for t, df in found.items()])

    def expand(self, n: ql.Word) -> list[str]:
        """The archive's words (as written) that the wildcard or fuzzy word stands for, most
        frequent first (the typed word itself first for a fuzzy one)."""
        plain = [t.text for t in self.plain(n.text)]
        if not plain:
            return []
        base = plain[0]
        if n.prefix:
            found = self.limited(self.reader.expand_prefix("words", base), f"{n.text}*")
        else:
            near = self.reader.terms_within("words", base, n.fuzzy, prefix=1)
            found = [base, *self.limited(near, f"{n.text}~")]
        if not found:
            self.notes.append(f"no word in the archive matches {n.text}{'*' if n.prefix else '~'}")
            found = [base]
        return list(dict.fromkeys(found))

    def limited(self, words: Any, label: str) -> list[str]:
        """At most max_expansions words, the most frequent first (of at most 5x that many read)."""
        cap = self.max_expansions
        seen: list[tuple[int, str]] = []
        more = False
        for w in words:
            text = w.decode("utf-8") if isinstance(w, bytes) else w
            if len(seen) >= cap * 5:
                more = True
                break
            freq = self.visible.freq("words", text)
            if freq:  # a word only hidden documents hold is not the archive's to show
                seen.append((freq, text))
        seen.sort(key=lambda ft: (-ft[0], ft[1]))
        if len(seen) > cap or more:
            self.notes.append(f"{label} matches too many words: searched the {cap} most frequent")
            seen = seen[:cap]
        return [t for _, t in seen]

    def phrase(
        self, n: ql.Phrase, positive: bool, analysed: list[tuple[str, ...]] | None = None
    ) -> Any:
        seqs = analysed if analysed is not None else self.variants(n.text)
        if not seqs or len(seqs[0]) <= 1:
            return self.word(ql.Word(n.text, n.field), positive) if seqs else None
        self.searchable = True
        if positive:
            for seq in seqs:
                if n.slop:  # words near each other: each is marked where it stands
                    self.terms.update(seq)
                else:  # a phrase is marked where it stands whole, never its words alone
                    self.phrases.append(seq)
            if n.field != "title":
                self.psg.append(self.positional("text", seqs, n.slop))
        clauses = [self.positional("title", seqs, n.slop, TITLE_PHRASE_BOOST)]
        if n.field != "title":
            clauses.append(self.positional("body", seqs, n.slop))
            clauses.append(self.positional("outside", seqs, n.slop, OUTSIDE_BOOST))
            if positive:
                self.outside.append(self.positional("outside", seqs, n.slop))
        return query.Or(clauses)

    def positional(
        self, field: str, seqs: list[tuple[str, ...]], slop: int, boost: float = 1.0
    ) -> Any:
        """The phrase in any of its languages' terms (those the index holds every term of)."""
        held = [s for s in seqs if all((field, t) in self.reader for t in s)] or seqs[:1]
        found = [PositionalPhrase(field, list(s), slop, boost, self.deadline) for s in held]
        return found[0] if len(found) == 1 else query.Or(found)

    def ident(self, n: ql.Ident, positive: bool) -> Any:
        key = ident_key(n.value)
        see = self.visible
        known = key and (see.freq("ident", key, 1) or see.freq("cites", key, 1))
        seqs = self.variants(n.raw or n.value)
        words = list(seqs[0]) if seqs else []
        self.searchable = True
        if positive:
            self.idents.append(n.value)
            if not known and len(words) > 1:  # searched as the phrase of its words
                self.phrases.extend(seqs)
            if key and known:
                self.psg.append(query.Term("pcites", key))
            elif len(words) > 1:
                self.psg.append(self.positional("text", seqs, 0))
        if known:
            return query.Or([query.Term("ident", key, boost=IDENT_BOOST), query.Term("cites", key)])
        if len(words) > 1:
            self.notes.append(
                f"no document carries or cites {n.value}: searched its words as a phrase"
            )
            return self.positional("body", seqs, 0, IDENT_FALLBACK_BOOST)
        return query.Term("body", words[0]) if words else query.NullQuery

    def near(self, n: ql.Near, positive: bool) -> Any:
        """Operands near each other in one passage (Proximity): on the documents' body, scored like
        a phrase; the passages shown are those where they stand so."""
        self.searchable = True
        operands = [self.operand(c) for c in n.children]
        if not all(operands):  # an operand the archive has no term of
            return query.NullQuery
        if positive:
            for op in operands:
                for seq in op:
                    if len(seq) == 1:
                        self.terms.add(seq[0])
                    else:
                        self.phrases.append(seq)
            self.psg.append(Proximity("text", operands, n.unit, n.distance, 1.0, self.deadline))
        return Proximity("body", operands, n.unit, n.distance, 1.0, self.deadline)

    def operand(self, n: ql.Node) -> list[tuple[str, ...]]:
        """A proximity operand's alternatives: a word's terms in each language (one term each), a
        phrase's (or an identifier's words') sequence of terms in each language; for an OR, those
        of each of its parts."""
        if isinstance(n, ql.Or):
            return list(dict.fromkeys(seq for c in n.children for seq in self.operand(c)))
        text = n.raw or n.value if isinstance(n, ql.Ident) else getattr(n, "text", "")
        seqs = self.variants(text)
        if not seqs:
            return []
        if len(seqs[0]) == 1:
            return [(t,) for t in self.alternatives(text)]
        return seqs

    def plain_words(self, top: list[ql.Node]) -> list[list[str]]:
        """The stems of a query of 2 to 8 plain words (no fields, wildcards, operators), in the
        order typed, in each language: the top hits are rescored by how near each other they
        stand."""
        plain = [
            n
            for n in top
            if isinstance(n, ql.Word) and not (n.field or n.fuzzy or n.prefix or n.exact)
        ]
        if not 2 <= len(plain) <= 8 or len(plain) != len(top):
            return []
        seqs = self.variants(" ".join(n.text for n in plain))
        return [list(seq) for seq in seqs if len(seq) >= 2]


def _all(clauses: list[Any]) -> Any:
    return clauses[0] if len(clauses) == 1 else query.And(clauses)


def _every_doc() -> Any:
    return query.Term("rtype", "doc")
