"""The Whoosh side of the index that is not query translation: analyzers, the schema, the scoring
model, what a searcher caches, and document sets computed without scoring.

Two record types share one index (see base.py): a document record per document (title, ident, cites,
body, words, kind/court/jurisdiction/year/date) and a passage record per passage (text, pcites).
`words` holds the words unstemmed, for wildcards, fuzzy terms, spelling suggestions and exact forms
(=word); a passage record stores its words as written (`pwords`), for the passages of an exact form.

Phrases are checked on positions by PositionalPhrase, with set arithmetic on the positions of the
documents that hold every word (Whoosh's own span machinery is several times slower). A bigram field
would make phrases term lookups, but measured here it tripled indexing time and index size.
"""

from __future__ import annotations

import bisect
import math
import pickle
import re
import time
import unicodedata
from collections import defaultdict
from itertools import accumulate
from typing import Any

from whoosh import collectors, matching, query, scoring
from whoosh.analysis import Filter, RegexTokenizer
from whoosh.fields import ID, KEYWORD, STORED, TEXT, Schema
from whoosh.lang.porter import stem as porter_stem
from whoosh.query.qcore import TermNotFound
from whoosh.support.charset import accent_map

from magsearch import names

FACETS = ("kind", "court", "jurisdiction", "year")
COLUMNS = (*FACETS, "date", "doc_id")
_TOKEN = r"\w+(?:\.?\w+)*"
PASSAGE_FIELDS = frozenset({"text", "pcites"})
OUTSIDE_BOOST = 0.2  # text outside the main text (side columns, running heads) weighs little
PASSAGE_B = 0.3  # BM25's length normalisation of passage records (documents: 0.75)
# The end of a sentence, in passage records' text: a term of its own at the position of the
# sentence's last word, so no other term moves (phrases, ~n and NEAR/n read the same positions as
# before) and /s reads where sentences end from one more posting list (Proximity).
SENTENCE_END = "\ue020"
PASSAGE_END = "\ue021"  # the same for the end of a passage in a document's body
ENDS = (SENTENCE_END, PASSAGE_END)
# what ends a sentence: . ! ? before a space and a capital, a digit or a bracket ("(c)", "(ii)": a
# list item) (not after an abbreviation,
# an initial or a dotted word: _SentencesAndLanguages), a CJK full stop. A line without one (a
# heading, a statute's "(1) is responsible for …" list items) runs on into the next.
_SENTENCE = r"[.!?](?=[)\]”’\"']*\s+(?:\(|[\[“‘\"'¿¡]*[A-Z0-9À-ÞΑ-ΩА-Я]))|[。！？]"
_ABBREVIATIONS = frozenset(
    """mr mrs ms dr prof messrs mme mlle hon rt v vs no nos nr inc co corp ltd llc plc st jr sr
    cf etc al sec secs ss art arts para paras p pp ch chap cl id ibid op cit ct app cir supp ed eds
    vol vols jan feb mar apr jun jul aug sep sept oct nov dec pub stat reg regs fed ann rev gen
    dept govt gov sen rep res doc docs ord nat int eur comm ser fig figs approx""".split()
)


# Languages stemmed with their own stemmer. A word of a document (or a passage) in French, German
# or Spanish is indexed as that language's stem, tagged ("fr:person"), so a query's words, whose
# language is not known, are looked up as their stem in each language (Normalize.variants) and
# each stem finds only the words of its own language: the query "parties" stemmed as French is
# "fr:part", which finds French "partie" and not English "part". Russian stems are tagged the
# same way and stand next to the transliterated form every Cyrillic word also gets (at the same
# position), so names are still found across scripts (Навального -> ru:навальн and navalnogo).
# Everything else (English, other languages, numbers, CJK) keeps the rules of before: folded and
# Porter-stemmed, untagged.
STEMMED = ("en", "fr", "de", "es", "ru")
TAGGED = ("fr", "de", "es", "ru")
_MARK = {lang: chr(0xE000 + i) for i, lang in enumerate(("", *STEMMED))}  # private-use characters
_LANG_OF = {m: lang for lang, m in _MARK.items()}
_MARK_RE = re.compile("[\ue000-\ue00f]")
_STEMMERS: dict[str, Any] = {}
_LATIN_LETTER = re.compile(r"[a-zß-ÿ]")


def language_mark(lang: str) -> str:
    """The character that sets the language of the text after it, in an indexed field's value
    (the analyzer reads it; it is no token). Languages not stemmed get the default rules."""
    return _MARK.get(lang if lang in STEMMED else "", _MARK[""])


def unmarked(text: str) -> str:
    return _MARK_RE.sub("", text)


def _stemmer(lang: str) -> Any:
    found = _STEMMERS.get(lang)
    if found is None:
        from whoosh.lang import stemmer_for_language

        found = _STEMMERS[lang] = stemmer_for_language(lang)
    return found


def _stem(lang: str, word: str) -> str:
    """`word` (folded, Latin letters) stemmed by `lang`'s Snowball stemmer, names' endings unified
    first. French: a plural -s or -x is taken off first, as Snowball keeps it after a vowel
    (`corrompus` stays, `corrompu` does not) and stems the plural one step short (`étrangers` ->
    `étranger`, `étranger` -> `étrang`); on the Canadian Act's French words this joins all 100
    singular-plural pairs (97 before) and no two words that were apart otherwise."""
    word = names.name_endings(word)
    if lang == "fr" and len(word) > 4 and word[-1] in "sx" and word[-2] not in "sx":
        word = word[:-1]
    return str(_stemmer(lang)(word))


def _cyrillic(text: str) -> bool:
    return any("\u0400" <= ch <= "\u04ff" for ch in text)


class _Languages(Filter):
    """Reads the language marks (language_mark) out of the token stream: each token carries the
    language of the text it stands in (`lang`), and the marks take no position."""

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Languages)

    def __hash__(self) -> int:
        return hash("_Languages")

    def __call__(self, tokens):
        lang, shift = "", 0
        for t in tokens:
            if t.text in _LANG_OF:
                lang = _LANG_OF[t.text]
                shift += 1
                continue
            if shift and t.positions:
                t.pos -= shift
            t.lang = lang
            yield t


class _SentencesAndLanguages(_Languages):
    """_Languages, and the ends of sentences and passages marked (one pass over the tokens, not
    two): a token that ends a sentence (_SENTENCE) becomes SENTENCE_END at the position of the
    sentence's last word, and a language mark after some words (each passage of a document's body
    starts with one) puts PASSAGE_END (and SENTENCE_END) at the position of the passage's last word.
    Neither the marks nor the ends take a position of their own, so every word keeps the position
    it has in the other fields. "Mr. Browder", "no. 32631", "U.S. Code" and an initial end
    nothing."""

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _SentencesAndLanguages)

    def __hash__(self) -> int:
        return hash("_SentencesAndLanguages")

    def __call__(self, tokens):
        lang, shift, last, marked, word = "", 0, -1, -1, ""
        for t in tokens:
            text = t.text
            if text[0] in _ENDS:
                shift += 1
                if last == marked or (text == "." and _abbreviation(word)):
                    continue
                t.text, t.pos, t.lang, marked = SENTENCE_END, last, lang, last
                yield t
                continue
            if text in _LANG_OF:
                lang = _LANG_OF[text]
                shift += 1
                if last >= 0:
                    t.pos = last
                    t.text = PASSAGE_END
                    yield t
                    if last != marked:  # (the filters after this one moved t.pos)
                        t.text, t.pos, marked = SENTENCE_END, last, last
                        yield t
                continue
            t.lang = lang
            if t.positions:  # else (no positions) `last` stays -1 == marked: no ends
                if shift:
                    t.pos -= shift
                last, word = t.pos, text
            yield t


_ENDS = frozenset(".!?。！？")


def _abbreviation(word: str) -> bool:
    return len(word) == 1 or "." in word or word.lower() in _ABBREVIATIONS


class _Normalize(Filter):
    """NFKC (full-width letters are letters), case folded (ß = ss), accents folded, names and scripts
    folded (names.fold: Навальный = Navalny, Браудер = Browder) and, for `stem`, stemmed in the
    token's language (see STEMMED): one cached dictionary lookup per token instead of a chain of
    filters."""

    def __init__(self, stem: bool) -> None:
        self.stem = stem  # the search analyzer; the plain one keeps Latin spellings (names.fold)
        self._cache: dict[tuple[str, str], tuple[str, ...]] = {}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Normalize) and other.stem == self.stem

    def __hash__(self) -> int:
        return hash(self.stem)

    def key(self, text: str, lang: str = "") -> str:
        """The index term of a token (in a text of language `lang`): the first of keys()."""
        return self.keys(text, lang)[0]

    def keys(self, text: str, lang: str = "") -> tuple[str, ...]:
        """The index terms of a token, in a text of language `lang`, all at its position: one,
        or for a Cyrillic word of a stemmed language its Russian stem and its transliteration."""
        out = self._cache.get((text, lang))
        if out is None:
            folded = unicodedata.normalize("NFKC", text).casefold()
            plain = self._plain(folded)
            if not self.stem:
                out = (plain,)
            elif lang in STEMMED and _cyrillic(folded):
                out = ("ru:" + self._plain(_stemmer("ru")(folded)), porter_stem(plain))
            elif lang in TAGGED and lang != "ru" and _LATIN_LETTER.search(folded):
                out = (f"{lang}:{self._plain(_stem(lang, folded))}",)
            else:
                out = (porter_stem(plain),)
            if len(self._cache) > 500_000:
                self._cache.clear()
            self._cache[(text, lang)] = out
        return out

    def query_keys(self, text: str, lang: str) -> tuple[str, ...]:
        """The index terms a query's token stands for in a text of language `lang`: keys(), and
        for a Cyrillic word in French, German or Spanish its transliteration as that language's
        stem (a Russian name written in Latin letters there: Навальный finds German Nawalny)."""
        found = self.keys(text, lang)
        if lang in TAGGED and lang != "ru" and self.stem and _cyrillic(text):
            latin = self._plain(unicodedata.normalize("NFKC", text).casefold())
            return (f"{lang}:{self._plain(_stem(lang, latin))}", *found)
        return found

    def variants(self, text: str) -> tuple[str, ...]:
        """The index terms a query's token may stand for, its language unknown: its terms in
        each stemmed language (and in the others), the most common rules first."""
        return tuple(
            dict.fromkeys(k for lang in ("", *STEMMED) for k in self.query_keys(text, lang))
        )

    def _plain(self, folded: str) -> str:
        out = names.fold(folded, latin=self.stem).translate(accent_map)
        if len(out) > 6 and out.endswith("ski") and out.isalpha():
            out = out[:-1] + "y"  # French/German Magnitski, Kowalski: one more -sky spelling
        return out

    def __call__(self, tokens):
        keys = self.keys
        for t in tokens:
            if t.text in ENDS:
                yield t
                continue
            found = keys(t.text, getattr(t, "lang", ""))
            for k in found:  # more than one: at the same position
                t.text = k
                yield t


TOKEN_RE = re.compile(_TOKEN)
# Chinese, Japanese and Korean are written without spaces: a run of their characters is indexed
# as overlapping bigrams ("马格尼茨基" -> 马格 格尼 尼茨 茨基), so any phrase of 2+ characters matches
_CJK_RUN = re.compile("[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af]+")


def pieces(word: str) -> list[tuple[int, int, str]]:
    """A token as index pieces (start, end, text): runs of CJK characters as overlapping bigrams
    (a lone character as itself), what stands between them whole."""
    if not _CJK_RUN.search(word):
        return [(0, len(word), word)]
    out: list[tuple[int, int, str]] = []
    pos = 0
    for m in _CJK_RUN.finditer(word):
        if m.start() > pos and word[pos : m.start()].strip("."):
            out.append((pos, m.start(), word[pos : m.start()].strip(".")))
        a, run = m.start(), m.group()
        if len(run) == 1:
            out.append((a, a + 1, run))
        else:
            out.extend((a + i, a + i + 2, run[i : i + 2]) for i in range(len(run) - 1))
        pos = m.end()
    if pos < len(word) and word[pos:].strip("."):
        out.append((pos, len(word), word[pos:].strip(".")))
    return out


class _Bigrams(Filter):
    """CJK runs inside a token become bigrams at consecutive positions (see `pieces`); the
    positions of the tokens after them move on accordingly."""

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Bigrams)

    def __hash__(self) -> int:
        return hash("_Bigrams")

    def __call__(self, tokens):
        shift = 0
        for t in tokens:
            parts = pieces(t.text) if not t.text.isascii() else None
            if not parts or (len(parts) == 1 and parts[0][2] == t.text):
                if shift and t.positions:
                    t.pos += shift
                yield t
                continue
            pos = t.pos + shift if t.positions else 0
            start = t.startchar if t.chars else 0
            for k, (a, b, text) in enumerate(parts):
                t.text = text
                if t.positions:
                    t.pos = pos + k
                if t.chars:
                    t.startchar, t.endchar = start + a, start + b
                yield t
            shift += len(parts) - 1


def make_plain_analyzer() -> Any:
    """Words as written, lower-cased, name endings, Cyrillic and accents folded but not Latin
    spellings (names.LATIN_FOLDS): wildcards, fuzzy terms and spelling suggestions."""
    return RegexTokenizer(_TOKEN) | _Bigrams() | _Normalize(stem=False)


def make_splitter() -> Any:
    """The analyzer's tokens as written (CJK runs as bigrams), for a query's words to be given
    the terms of each language (term_variants)."""
    return RegexTokenizer(_TOKEN) | _Bigrams()


def make_analyzer(sentences: bool = False) -> Any:
    """The index's analyzer; with `sentences` (passage records' text) it also marks where
    sentences end (_Sentences)."""
    if sentences:
        return (
            RegexTokenizer(f"{_MARK_RE.pattern}|{_SENTENCE}|{_TOKEN}")
            | _SentencesAndLanguages()
            | _Bigrams()
            | _Normalize(stem=True)
        )
    return (
        RegexTokenizer(f"{_MARK_RE.pattern}|{_TOKEN}")
        | _Languages()
        | _Bigrams()
        | _Normalize(stem=True)
    )


def positions_of(analyzer: Any, text: str) -> tuple[dict[str, list[int]], int]:
    """What make_analyzer(sentences=True) gives for `text` when indexing, as each term's positions
    (terms in the order of their first token) and the last position (-1 for no token): its
    tokenizer and its three filters (_SentencesAndLanguages, _Bigrams, _Normalize) in one loop,
    without a generator and a token object per filter -- half the cost of a passage's analysis.
    tests/test_index_write.py holds it to the analyzer on every paragraph of the corpus."""
    keys = analyzer.items[-1].keys
    positions: dict[str, list[int]] = {}
    top = -1

    def put(term: str, at: int) -> None:
        nonlocal top
        found = positions.get(term)
        if found is None:
            positions[term] = [at]
        else:
            found.append(at)
        if at > top:
            top = at

    lang, shift, last, marked, word, moved = "", 0, -1, -1, "", 0  # moved: by bigrams
    for i, m in enumerate(analyzer.items[0].expression.finditer(text)):
        tok = m.group()
        if tok[0] in _ENDS:
            shift += 1
            if last == marked or (tok == "." and _abbreviation(word)):
                continue
            put(SENTENCE_END, last + moved)
            marked = last
            continue
        if tok in _LANG_OF:
            lang = _LANG_OF[tok]
            shift += 1
            if last >= 0:
                put(PASSAGE_END, last + moved)
                if last != marked:
                    put(SENTENCE_END, last + moved)
                    marked = last
            continue
        last, word = i - shift, tok
        parts = None if tok.isascii() else pieces(tok)
        if not parts or (len(parts) == 1 and parts[0][2] == tok):
            for k in keys(tok, lang):
                put(k, last + moved)
            continue
        base = last + moved
        for n, (_, _, piece) in enumerate(parts):
            for k in keys(piece, lang):
                put(k, base + n)
        moved += len(parts) - 1
    return positions, top


def term_key(analyzer: Any) -> Any:
    """The analyzer's per-token function (raw token text -> index term), for fast highlighting."""
    return analyzer.items[-1].key


def term_keys(analyzer: Any) -> Any:
    """The analyzer's per-token function (raw token text, language -> index terms)."""
    return analyzer.items[-1].keys


def term_query_keys(analyzer: Any) -> Any:
    """The analyzer's per-token function (query token, language -> index terms)."""
    return analyzer.items[-1].query_keys


def term_variants(analyzer: Any) -> Any:
    """The analyzer's per-token function (query token -> index terms in any language)."""
    return analyzer.items[-1].variants


def ident_key(normalized: str) -> str:
    """An identifier as one index token: 'Pub. L. 112-208' -> 'publ112208'."""
    return re.sub(r"[^0-9a-z]+", "", normalized.lower())


class _MarkedText(TEXT):
    """A text field whose sentence and passage ends (ENDS) do not count in its length: BM25
    normalises by the words alone, as it did before they were recorded."""

    def index(self, value: Any, **kwargs: Any) -> Any:
        ends = _END_BYTES
        for btext, freq, weight, vbytes in super().index(value, **kwargs):
            yield btext, (0 if btext in ends else freq), weight, vbytes

    def postings_of(self, positions: dict[str, list[int]]) -> list[tuple[bytes, int, float, bytes]]:
        """What index() gives for a value whose analysis gave these positions per term (in the
        order of its tokens; every token's boost is 1): for a caller that analysed the text
        already (index/whoosh.py: one analysis of a passage for its record and its document's
        body)."""
        boost, encode = self.format.field_boost, self.format.encode
        return [
            (term.encode("utf-8"), 0 if term in ENDS else len(at), len(at) * boost, encode(at))
            for term, at in positions.items()
        ]


_END_BYTES = frozenset(e.encode("utf-8") for e in ENDS)


def make_schema() -> Schema:
    ana = make_analyzer()
    marked = make_analyzer(sentences=True)
    return Schema(
        rid=ID(unique=True, stored=True),
        rtype=ID(),
        doc_id=ID(stored=True, sortable=True),
        version=STORED(),
        anchor=STORED(),
        title=TEXT(analyzer=ana, field_boost=3.0),
        ident=KEYWORD(scorable=True, field_boost=6.0),
        cites=KEYWORD(scorable=True),
        body=_MarkedText(analyzer=marked),
        outside=TEXT(analyzer=ana, field_boost=OUTSIDE_BOOST),
        words=TEXT(analyzer=make_plain_analyzer(), phrase=False),
        text=_MarkedText(analyzer=marked),
        # a passage's words as written, each once, stored (not indexed: as an indexed field it
        # doubled the indexing time): which passages of a page write an exact form (ExactForm)
        pwords=STORED(),
        pcites=KEYWORD(scorable=True),
        kind=ID(sortable=True),
        court=ID(sortable=True),
        jurisdiction=ID(sortable=True),
        court_text=TEXT(analyzer=ana),
        year=ID(sortable=True),
        date=ID(sortable=True),
        # {"genre": ..., "own": [ident keys], "about": [ident keys]}: see whoosh._primary_first
        standing=STORED(),
    )


class RecordBM25F(scoring.BM25F):
    """BM25F whose statistics count only the records that carry a field.

    Document and passage records share one index: Whoosh's own BM25F would divide a document
    field's length by every record (so all documents look ~20x longer than average) and compute
    idf over every record (so common words weigh almost as much as rare ones). The lengths of the
    document fields are read once per segment into a list (Whoosh reads a column per posting)."""

    CACHED_LENGTHS = ("body", "title", "outside")

    def __init__(self) -> None:
        # passages (`text`) normalised for length less than documents: with b=0.75 the short
        # heading-only passages outranked the paragraph that answers (docs/benchmarks.md)
        super().__init__(
            B=0.75, K1=1.2, ident_B=0.0, cites_B=0.0, pcites_B=0.0, title_B=0.5, text_B=PASSAGE_B
        )
        self._lengths: dict[tuple[int, str], list[int]] = {}

    def scorer(self, searcher: Any, fieldname: str, text: Any, qf: int = 1) -> Any:
        if not searcher.schema[fieldname].scorable:
            return scoring.WeightScorer.for_(searcher, fieldname, text)
        parent = searcher.get_parent()
        docs = parent.doc_frequency("rtype", "doc")
        n = parent.doc_count() - docs if fieldname in PASSAGE_FIELDS else docs
        B = self._field_B.get(fieldname, self.B)
        sc = _RecordScorer(searcher, fieldname, text, B, self.K1, max(n, 1), qf)
        if fieldname in self.CACHED_LENGTHS and hasattr(sc, "dfl"):
            sc.dfl = self.lengths(searcher.reader(), fieldname).__getitem__
        return sc

    def lengths(self, reader: Any, fieldname: str) -> list[int]:
        key = (id(reader), fieldname)
        found = self._lengths.get(key)
        if found is None:
            found = [0] * reader.doc_count_all()
            try:
                for n in reader.postings("rtype", "doc").all_ids():
                    found[n] = reader.doc_field_length(n, fieldname, 1)
            except TermNotFound:
                pass
            if len(self._lengths) > 16:  # readers of older generations
                self._lengths.clear()
            self._lengths[key] = found
        return found


def idf(records: int, df: int) -> float:
    """The inverse document frequency RecordBM25F gives a term held by `df` of `records`."""
    return math.log(records / (df + 1)) + 1 if df < records else 1.0


def records_with(reader: Any, fieldname: str) -> int:
    """How many records RecordBM25F counts for a field's statistics (documents or passages)."""
    docs = reader.doc_frequency("rtype", "doc")
    return max(reader.doc_count() - docs if fieldname in PASSAGE_FIELDS else docs, 1)


class _RecordScorer(scoring.BM25FScorer):
    def __init__(
        self, searcher: Any, fieldname: str, text: Any, B: float, K1: float, n: int, qf: int
    ) -> None:
        parent = searcher.get_parent()
        df = parent.doc_frequency(fieldname, text)
        self.idf = idf(n, df)
        self.avgfl = (parent.field_length(fieldname) / n) or 1
        self.B, self.K1, self.qf = B, K1, qf
        self.setup(searcher, fieldname, text)


# -- per-searcher cache ------------------------------------------------------------------------
class SearcherCache:
    """Document sets and facet columns of one searcher generation (built once, then read-only)."""

    def __init__(self, s: Any) -> None:
        self.docs: set[int] = set(s.document_numbers(rtype="doc"))
        reader = s.reader()
        self.columns: dict[str, dict[int, str]] = {}
        for name in COLUMNS:
            if not self.docs or not reader.has_column(name):  # an empty index has no columns
                self.columns[name] = {}
                continue
            col = reader.column_reader(name)
            self.columns[name] = {n: _text(col[n]) for n in self.docs}
        self.by_value: dict[str, dict[str, set[int]]] = {}
        for name in FACETS:
            groups: dict[str, set[int]] = defaultdict(set)
            for n, v in self.columns[name].items():
                if v:
                    groups[v].add(n)
            self.by_value[name] = dict(groups)
        dated = sorted((v, n) for n, v in self.columns["date"].items() if v)
        self.dates = [d for d, _ in dated]
        self.dated_docs = [n for _, n in dated]

    def values(self, name: str, wanted: str) -> list[str]:
        """The stored values of a facet a typed value names (case-insensitive; for court and
        jurisdiction also initials, 'ECHR', and contained words, 'texas')."""
        known = self.by_value.get(name, {})
        w = " ".join(wanted.lower().split())
        exact = [v for v in known if v.lower() == w]
        if exact or name not in ("court", "jurisdiction"):
            return exact
        w = _ALIASES.get(w, w)
        found = [v for v in known if v.lower() == w or _initials(v) == w.replace(".", "")]
        if found:
            return found
        words = set(re.findall(r"\w+", w))
        return [v for v in known if words and words <= set(re.findall(r"\w+", v.lower()))]

    def facet_set(self, name: str, values: list[str]) -> set[int]:
        out: set[int] = set()
        for v in values:
            out |= self.by_value.get(name, {}).get(v, set())
        return out

    def date_set(self, lo: str, hi: str) -> set[int]:
        i = bisect.bisect_left(self.dates, lo) if lo else 0
        j = bisect.bisect_left(self.dates, hi) if hi else len(self.dates)
        return set(self.dated_docs[i:j])


class Visible:
    """What one request may read of a searcher generation: every document record but the hidden
    ones (withdrawn, and restricted ones for readers who may not see them). Everything a reply is
    made of — hits, totals, facets, notes, expansions, suggestions — is counted over these
    documents only, so a hidden document leaves no trace in it. Without hidden documents it is
    the searcher's whole index and costs nothing."""

    def __init__(self, s: Any, cache: SearcherCache, hidden: frozenset[str] = frozenset()) -> None:
        self.reader = s.reader()
        self.cache = cache
        ids = cache.columns.get("doc_id", {})
        gone = {n for n, i in ids.items() if i in hidden} if hidden else set()
        self.filtered = bool(hidden)  # withdrawn documents linger in term statistics: count
        self.docs: set[int] = cache.docs - gone if gone else cache.docs

    def freq(self, field: str, term: str, at_most: int | None = None) -> int:
        """How many visible documents hold `term` (counting stops at `at_most`)."""
        if not self.filtered:
            return int(self.reader.doc_frequency(field, term))
        if (field, term) not in self.reader:
            return 0
        count, docs = 0, self.docs
        for n in self.reader.postings(field, term).all_ids():
            if n in docs:
                count += 1
                if at_most is not None and count >= at_most:
                    break
        return count

    def values(self, name: str, wanted: str) -> list[str]:
        """SearcherCache.values, of visible documents only."""
        return [v for v in self.cache.values(name, wanted) if self.has_value(name, v)]

    def known(self, name: str) -> list[str]:
        return sorted(v for v in self.cache.by_value.get(name, {}) if self.has_value(name, v))

    def has_value(self, name: str, value: str) -> bool:
        found = self.cache.by_value.get(name, {}).get(value, set())
        return not self.filtered or not found.isdisjoint(self.docs)


_ALIASES = {
    "ecthr": "echr",
    "strasbourg": "european court of human rights",
    "cjeu": "court of justice of the european union",
    "usa": "united states",
    "u.s.": "united states",
    "america": "united states",
    "gb": "united kingdom",
    "britain": "united kingdom",
    "great britain": "united kingdom",
    "coe": "council of europe",
}


def _initials(value: str) -> str:
    words = re.findall(r"\w+", value.lower())
    return "".join(w[0] for w in words if w not in ("of", "the", "and", "for"))


def _text(v: Any) -> str:
    if v is None:
        return ""
    return v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v)


# -- document sets without scoring -------------------------------------------------------------
class AnyOf(query.Query):
    """Records with any of these values in an ID field, as one constant-score list of ids: far
    cheaper than an Or of Terms when the clause only restricts (the page's documents)."""

    def __init__(self, fieldname: str, values: list[str], score: float = 0.0) -> None:
        self.fieldname, self.values, self.score = fieldname, list(values), score
        self._memo: dict[int, list[int]] = {}  # per segment reader: computed once per query

    def __eq__(self, other: object) -> bool:
        return isinstance(other, AnyOf) and (other.fieldname, other.values) == (
            self.fieldname,
            self.values,
        )

    def __hash__(self) -> int:
        return hash((self.fieldname, tuple(self.values)))

    def __repr__(self) -> str:
        return f"AnyOf({self.fieldname!r}, {self.values!r})"

    def estimate_size(self, ixreader: Any) -> int:
        return sum(ixreader.doc_frequency(self.fieldname, v) for v in self.values)

    def estimate_min_size(self, ixreader: Any) -> int:
        return self.estimate_size(ixreader)

    def local_ids(self, reader: Any) -> list[int]:
        found = self._memo.get(id(reader))
        if found is None:
            found = self._memo[id(reader)] = self._read(reader)
        return found

    def _read(self, reader: Any) -> list[int]:
        ids: set[int] = set()
        for v in self.values:
            try:
                ids.update(reader.postings(self.fieldname, v).all_ids())
            except TermNotFound:
                continue
        return sorted(ids)

    def matcher(self, searcher: Any, context: Any = None) -> Any:
        ids = self.local_ids(searcher.reader())
        if not ids:
            return matching.NullMatcher()
        return matching.ListMatcher(ids, all_weights=self.score)


class Cut(Exception):
    """The deadline passed while collecting document ids."""


def ids_of(q: Any, sub: Any, deadline: float) -> set[int]:
    """The (segment-local) ids of the records matching q, by set algebra where the query's shape
    allows it (terms, and/or/not) and by Whoosh's matchers elsewhere (phrases, ranges)."""
    if time.monotonic() > deadline:
        raise Cut
    reader = sub.reader()
    if isinstance(q, query.Term):
        try:
            return set(reader.postings(q.fieldname, q.text).all_ids())
        except TermNotFound:
            return set()
    if isinstance(q, AnyOf):
        return set(q.local_ids(reader))
    if isinstance(q, query.AndMaybe):
        return ids_of(q.a, sub, deadline)
    if isinstance(q, query.AndNot):
        return ids_of(q.a, sub, deadline) - ids_of(q.b, sub, deadline)
    if isinstance(q, query.ConstantScoreQuery):
        return ids_of(q.child, sub, deadline)
    if isinstance(q, query.Not):
        return set(reader.all_doc_ids()) - ids_of(q.query, sub, deadline)
    if q is query.NullQuery:
        return set()
    if isinstance(q, query.And):
        out: set[int] | None = None
        for child in q.subqueries:
            got = ids_of(child, sub, deadline)
            out = got if out is None else out & got
            if not out:
                return set()
        return out or set()
    if isinstance(q, query.Or) and not getattr(q, "minmatch", 0):
        return set().union(*(ids_of(c, sub, deadline) for c in q.subqueries))
    found: set[int] = set()
    try:
        for i, n in enumerate(q.matcher(sub, sub.boolean_context()).all_ids()):
            if not i & 1023 and time.monotonic() > deadline:
                raise Cut
            found.add(n)
    except TermNotFound:
        pass
    except collectors.TimeLimit:
        raise Cut from None
    return found


# -- phrases -----------------------------------------------------------------------------------
class _Computed(query.Query):
    """A query whose matches a subclass computes once per segment reader (`_matches`: ids and
    scores) and serves as a list; equal when its `_key()` is."""

    _memo: dict[int, tuple[list[int], list[float]]]

    def _key(self) -> tuple[Any, ...]:
        raise NotImplementedError

    def _matches(self, searcher: Any) -> tuple[list[int], list[float]]:
        raise NotImplementedError

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash((type(self).__name__, self._key()))

    def estimate_min_size(self, ixreader: Any) -> int:
        return 0

    def matcher(self, searcher: Any, context: Any = None) -> Any:
        key = id(searcher.reader())
        if key not in self._memo:
            self._memo[key] = self._matches(searcher)
        ids, weights = self._memo[key]
        if not ids:
            return matching.NullMatcher()
        return _ScoredList(ids, weights)


class PositionalPhrase(_Computed):
    """Words in order next to each other (slop 0), or each next to the next within slop + 1
    positions in any order. Matches are computed once per segment (ids and scores, the sum of the
    words' scores), optionally only among the records of `within` (the page's documents)."""

    def __init__(
        self, fieldname: str, words: list[str], slop: int = 0, boost: float = 1.0,
        deadline: float = math.inf, within: AnyOf | None = None,
    ) -> None:  # fmt: skip
        self.fieldname, self.words, self.slop, self.boost = fieldname, list(words), slop, boost
        self.deadline, self.within = deadline, within
        self._memo: dict[int, tuple[list[int], list[float]]] = {}

    def _key(self) -> tuple[Any, ...]:
        return (self.fieldname, tuple(self.words), self.slop, self.boost, self.within)

    def __repr__(self) -> str:
        return f"PositionalPhrase({self.fieldname!r}, {self.words!r}, slop={self.slop})"

    def restricted(self, within: AnyOf) -> PositionalPhrase:
        return PositionalPhrase(
            self.fieldname, self.words, self.slop, self.boost, self.deadline, within
        )

    def estimate_size(self, ixreader: Any) -> int:
        return min(ixreader.doc_frequency(self.fieldname, w) for w in self.words)

    def _matches(self, searcher: Any) -> tuple[list[int], list[float]]:
        reader = searcher.reader()
        words = list(dict.fromkeys(self.words))
        if any((self.fieldname, w) not in reader for w in words):
            return [], []
        ms = {w: searcher.postings(self.fieldname, w) for w in words}
        ids: list[int] = []
        weights: list[float] = []
        first = _scorer_of(ms[self.words[0]])
        idf = sum(getattr(_scorer_of(m), "idf", 1.0) for m in ms.values())
        for i, doc in enumerate(self._candidates(reader, ms)):
            if not i & 255 and time.monotonic() > self.deadline:
                raise collectors.TimeLimit
            count = self._count({w: positions(m) for w, m in ms.items()})
            if count:
                ids.append(doc)
                weights.append(self._score(first, idf, count, doc) * self.boost)
        return ids, weights

    @staticmethod
    def _score(scorer: Any, idf: float, count: int, doc: int) -> float:
        """BM25 of the phrase as one term: its frequency, the words' summed idf."""
        if not hasattr(scorer, "avgfl"):  # a field without lengths
            return idf * count
        return scoring.bm25(idf, count, scorer.dfl(doc), scorer.avgfl, scorer.B, scorer.K1)

    def _candidates(self, reader: Any, ms: dict[str, Any]) -> Any:
        """Ids holding every word, each matcher standing on them (the rarest word leads)."""
        order = sorted(ms, key=lambda w: reader.doc_frequency(self.fieldname, w))
        lead, rest = ms[order[0]], [ms[w] for w in order[1:]]
        if self.within is not None:
            for target in self.within.local_ids(reader):
                if lead.is_active() and lead.id() < target:
                    lead.skip_to(target)
                if not lead.is_active():
                    return
                if lead.id() == target and _align(rest, target):
                    yield target
            return
        while lead.is_active():
            doc = lead.id()
            if _align(rest, doc):
                yield doc
                lead.next()
            elif all(m.is_active() for m in rest):
                ahead = max(m.id() for m in rest)
                if ahead > doc:
                    lead.skip_to(ahead)
                else:
                    lead.next()
            else:
                return

    def _count(self, pos: dict[str, Any]) -> int:
        """How many times the phrase occurs: starts of the words in order (slop 0), or positions
        of the first word from which each next word follows within slop + 1 (in any order)."""
        seq = [pos[w] for w in self.words]
        if self.slop <= 0:
            starts = set(seq[0])
            for k, later in enumerate(seq[1:], start=1):
                starts &= {p - k for p in later}
                if not starts:
                    return 0
            return len(starts)
        if not all(_within(a, b, self.slop + 1) for a, b in zip(seq, seq[1:], strict=False)):
            return 0
        return sum(1 for p in seq[0] if all(_within([p], b, self.slop + 1) for b in seq[1:2]))


class _ScoredList(matching.ListMatcher):
    """Precomputed ids and scores. Whoosh's ListMatcher recomputes max(weights) on every block
    quality check (quadratic on long lists); the maximum is computed once here."""

    def __init__(self, ids: list[int], weights: list[float]) -> None:
        super().__init__(ids, weights=weights)
        self._top = max(weights)

    def copy(self) -> _ScoredList:
        other = _ScoredList(self._ids, self._weights)
        other._i = self._i
        return other

    def max_quality(self) -> float:
        return self._top

    def block_max_weight(self) -> float:
        return self._top


def _scorer_of(m: Any) -> Any:
    """A term matcher's scorer (a segment with deletions wraps its matchers in a FilterMatcher)."""
    while getattr(m, "scorer", None) is None and getattr(m, "child", None) is not None:
        m = m.child
    return getattr(m, "scorer", None)


def positions(m: Any) -> list[int]:
    """The positions of the matcher's current posting. Whoosh's Positions format stores them as a
    4-byte count and a pickled list of deltas (formats.Positions.encode); its decoder sums them
    in a Python loop, accumulate() does it in C (5x faster, measured)."""
    raw = m.value()
    if not raw.endswith(b"."):
        raw += b"."
    return list(accumulate(pickle.loads(raw[4:])))  # noqa: S301 - our own index's bytes


def _align(matchers: list[Any], doc: int) -> bool:
    """Move each matcher to `doc` (never back); whether all of them hold it."""
    for m in matchers:
        if m.is_active() and m.id() < doc:
            m.skip_to(doc)
        if not m.is_active() or m.id() != doc:
            return False
    return True


# -- proximity ---------------------------------------------------------------------------------
def proximity(
    s: Any, docnums: list[int], stems: list[str], window: int
) -> dict[int, tuple[float, float]]:
    """For each document, the shares of adjacent typed-word pairs (stems[i], stems[i+1]) that
    stand next to each other in order, and within `window` positions of each other, in the body
    (0.0 to 1.0 each), from the positions of these few documents only."""
    pairs = list(zip(stems, stems[1:], strict=False))
    out: dict[int, tuple[float, float]] = {}
    if not pairs:
        return out
    wanted = sorted(docnums)
    for sub, off in s.leaf_searchers():
        local = [n - off for n in wanted if off <= n < off + sub.doc_count_all()]
        if not local:
            continue
        reader = sub.reader()
        ms = {t: reader.postings("body", t) for t in set(stems) if ("body", t) in reader}
        for doc in local:
            pos = {t: _positions_at(ms.get(t), doc) for t in set(stems)}
            next_to = sum(1 for a, b in pairs if set(pos[a]) & {p - 1 for p in pos[b]})
            near = sum(1 for a, b in pairs if _within(pos[a], pos[b], window))
            out[doc + off] = (next_to / len(pairs), near / len(pairs))
    return out


def _positions_at(m: Any, doc: int) -> list[int]:
    """The positions of the matcher's term in `doc` (the matcher only moves forward)."""
    if m is None or not m.is_active():
        return []
    if m.id() < doc:
        m.skip_to(doc)
    if not m.is_active() or m.id() != doc:
        return []
    return positions(m)


def _within(a: list[int], b: list[int], window: int) -> bool:
    """Whether some position of b is within `window` of some (other) position of a; both sorted."""
    j = 0
    for p in a:
        while j < len(b) and b[j] < p - window:
            j += 1
        k = j
        while k < len(b) and b[k] <= p + window:
            if b[k] != p:
                return True
            k += 1
    return False


# -- NEAR/n, /s, /p ------------------------------------------------------------------------------
class Proximity(_Computed):
    """Records in which the operands stand near each other inside one passage: a chain in which
    each operand is within `distance` words of the one before (unit "words": at most that many
    words between, as in "a b"~n), all in one sentence ("sentence") or anywhere in one passage
    ("paragraph"). Each operand is a list of alternatives, each a sequence of terms (a word in one
    language: one term; a phrase: its terms in order). On document records (`body`) the passages
    and sentences are told apart by PASSAGE_END and SENTENCE_END; a passage record (`text`) is one
    passage. Matches are computed once per segment, optionally only among the records of `within`
    (the page's documents): the records holding every operand (set algebra on posting lists), then
    the positions of those only. A match scores as one term, like a phrase: BM25 of how many times
    (in how many sentences or passages) it occurs, the operands' summed idf."""

    def __init__(
        self, fieldname: str, operands: list[list[tuple[str, ...]]], unit: str, distance: int,
        boost: float = 1.0, deadline: float = math.inf, within: AnyOf | None = None,
    ) -> None:  # fmt: skip
        self.fieldname, self.operands = fieldname, [list(dict.fromkeys(op)) for op in operands]
        self.unit, self.distance, self.boost = unit, distance, boost
        self.deadline, self.within = deadline, within
        self._memo: dict[int, tuple[list[int], list[float]]] = {}

    def _key(self) -> tuple[Any, ...]:
        ops = tuple(tuple(op) for op in self.operands)
        return (self.fieldname, ops, self.unit, self.distance, self.boost, self.within)

    def __repr__(self) -> str:
        return f"Proximity({self.fieldname!r}, {self.operands!r}, {self.unit!r}, {self.distance})"

    def restricted(self, within: AnyOf) -> Proximity:
        return Proximity(
            self.fieldname, self.operands, self.unit, self.distance, self.boost, self.deadline,
            within,
        )  # fmt: skip

    def estimate_size(self, ixreader: Any) -> int:
        f = self.fieldname
        return min(
            (sum(ixreader.doc_frequency(f, seq[0]) for seq in op) for op in self.operands),
            default=0,
        )

    def _matches(self, searcher: Any) -> tuple[list[int], list[float]]:
        reader, field = searcher.reader(), self.fieldname
        ops = [
            [seq for seq in op if all((field, t) in reader for t in seq)] for op in self.operands
        ]
        if not ops or not all(ops):
            return [], []
        found = self._candidates(reader, ops)
        if not found:
            return [], []
        terms = list(dict.fromkeys(t for op in ops for seq in op for t in seq))
        ms = {t: searcher.postings(field, t) for t in terms}
        ends = {
            end: searcher.postings(field, end)
            for end in (SENTENCE_END, PASSAGE_END)
            if (field, end) in reader and (end == PASSAGE_END or self.unit == "sentence")
        }
        scorer = _scorer_of(ms[ops[0][0][0]])
        idf = sum(getattr(_scorer_of(ms[op[0][0]]), "idf", 1.0) for op in ops)
        out_ids: list[int] = []
        weights: list[float] = []
        for i, doc in enumerate(found):
            if not i & 255 and time.monotonic() > self.deadline:
                raise collectors.TimeLimit
            at = {t: _positions_at(m, doc) for t, m in ms.items()}
            bounds = {e: _positions_at(m, doc) for e, m in ends.items()}
            count = self.count([_spans(op, at) for op in ops], bounds)
            if count:
                out_ids.append(doc)
                weights.append(PositionalPhrase._score(scorer, idf, count, doc) * self.boost)
        return out_ids, weights

    def _candidates(self, reader: Any, ops: list[list[tuple[str, ...]]]) -> list[int]:
        """The records holding every operand (any of its alternatives' terms), in order."""
        field, memo = self.fieldname, {}

        def ids(term: str) -> set[int]:
            if term not in memo:
                memo[term] = set(reader.postings(field, term).all_ids())
            return memo[term]

        if self.within is not None:  # a few records: each operand's postings skipped to them
            few = self.within.local_ids(reader)
            for op in ops:
                ms = {t: reader.postings(field, t) for seq in op for t in seq}
                few = [n for n in few if any(_align([ms[t] for t in seq], n) for seq in op)]
                if not few:
                    return []
            return few
        found: set[int] | None = None
        for op in sorted(ops, key=lambda op: sum(reader.doc_frequency(field, s[0]) for s in op)):
            if time.monotonic() > self.deadline:
                raise collectors.TimeLimit
            held: set[int] = set()
            for seq in op:
                held |= set.intersection(*(ids(t) for t in seq))
            found = held if found is None else found & held
            if not found:
                return []
        return sorted(found or ())

    def count(self, spans: list[list[tuple[int, int]]], ends: dict[str, list[int]]) -> int:
        """How many times the operands (their spans: first and last position, sorted) stand as
        asked: in how many sentences or passages, or how many chains of NEAR end. Linear in the
        positions (each operand's spans are looked up by bisection, never pair by pair)."""
        if not all(spans):
            return 0
        passages = ends.get(PASSAGE_END, [])
        if self.unit == "words":
            reach = spans[0]
            for nxt in spans[1:]:
                reach = _near(reach, nxt, self.distance, passages)
                if not reach:
                    return 0
            return len(reach)
        bounds = passages
        if self.unit == "sentence":
            bounds = sorted({*passages, *ends.get(SENTENCE_END, [])})
        ordered = sorted(spans, key=len)
        units = _units(bounds, ordered[0])
        for s in ordered[1:]:
            if not units:
                return 0
            units = {u for u in units if _holds(bounds, u, s)}
        return len(units)


def _units(bounds: list[int], spans: list[tuple[int, int]]) -> set[int]:
    """The sentences (passages) in which some span stands whole: how many ends come before it (an
    end is recorded at the position of the last word of its sentence)."""
    out: set[int] = set()
    last: float = -1  # the last position of the unit found last
    unit = -1
    for a, b in spans:
        if a > last:
            unit = bisect.bisect_left(bounds, a)
            last = bounds[unit] if unit < len(bounds) else math.inf
        if b <= last:
            out.add(unit)
    return out


def _holds(bounds: list[int], unit: int, spans: list[tuple[int, int]]) -> bool:
    """Whether a span stands whole in that sentence (passage)."""
    lo = bounds[unit - 1] + 1 if unit > 0 else -1
    hi = bounds[unit] if unit < len(bounds) else math.inf
    i = bisect.bisect_left(spans, (lo, -1))
    while i < len(spans) and spans[i][0] <= hi:
        if spans[i][1] <= hi:
            return True
        i += 1
    return False


def _near(
    reach: list[tuple[int, int]], nxt: list[tuple[int, int]], distance: int, passages: list[int]
) -> list[tuple[int, int]]:
    """The spans of `nxt` within `distance` words of a span of `reach` (both sorted), in the same
    passage, not overlapping it."""
    longest = max(b - a for a, b in reach)
    out = []
    for s in nxt:
        i = bisect.bisect_left(reach, (s[0] - distance - longest - 1, -1))
        while i < len(reach) and reach[i][0] <= s[1] + distance + 1:
            r = reach[i]
            if _gap(r, s) <= distance and _together(passages, r, s):
                out.append(s)
                break
            i += 1
    return out


def _together(passages: list[int], a: tuple[int, int], b: tuple[int, int]) -> bool:
    """Whether two spans are in one passage (True where no passage ends are recorded)."""
    if not passages:
        return True
    return bisect.bisect_left(passages, min(a[0], b[0])) == bisect.bisect_left(
        passages, max(a[1], b[1])
    )


def _spans(op: list[tuple[str, ...]], at: dict[str, list[int]]) -> list[tuple[int, int]]:
    """Where an operand stands in a record: (first, last position) of each occurrence of any of its
    alternatives (a phrase: its terms at consecutive positions)."""
    if len(op) == 1 and len(op[0]) == 1:  # one word in one language: its positions, sorted
        return [(p, p) for p in at[op[0][0]]]
    out: set[tuple[int, int]] = set()
    for seq in op:
        starts = set(at[seq[0]])
        for k, t in enumerate(seq[1:], start=1):
            starts &= {p - k for p in at[t]}
        out.update((p, p + len(seq) - 1) for p in starts)
    return sorted(out)


def _gap(a: tuple[int, int], b: tuple[int, int]) -> float:
    """Words between two spans; infinite when they overlap (an occurrence is not near itself)."""
    if a[1] < b[0]:
        return b[0] - a[1] - 1
    if b[1] < a[0]:
        return a[0] - b[1] - 1
    return math.inf


# -- =word -----------------------------------------------------------------------------------------
class ExactForm(_Computed):
    """Passage records that write a word in one form (=word): among those of `within` (the page's
    documents) that hold one of its stems (`text`), those whose words as written (the stored
    `pwords`, read through `terms`: a token -> its unstemmed index terms) include every one of
    `forms` (one, or a CJK word's bigrams); scored as the word would be. Documents are found by
    the form in their unstemmed `words`; this only picks their passages, a page at a time."""

    def __init__(
        self, forms: list[str], stems: list[str], terms: Any, deadline: float = math.inf,
        within: AnyOf | None = None,
    ) -> None:  # fmt: skip
        self.forms, self.stems, self.terms, self.within = list(forms), list(stems), terms, within
        self.deadline = deadline
        self._memo: dict[int, tuple[list[int], list[float]]] = {}

    def _key(self) -> tuple[Any, ...]:
        return (tuple(self.forms), tuple(self.stems), self.within)

    def __repr__(self) -> str:
        return f"ExactForm({self.forms!r})"

    def restricted(self, within: AnyOf) -> ExactForm:
        return ExactForm(self.forms, self.stems, self.terms, self.deadline, within)

    def estimate_size(self, ixreader: Any) -> int:
        return sum(ixreader.doc_frequency("text", t) for t in self.stems)

    def _matches(self, searcher: Any) -> tuple[list[int], list[float]]:
        reader = searcher.reader()
        ms = [searcher.postings("text", t) for t in self.stems if ("text", t) in reader]
        if not ms:
            return [], []
        if self.within is not None:
            candidates: Any = self.within.local_ids(reader)
        else:
            candidates = sorted({n for m in ms for n in m.all_ids()})
            ms = [searcher.postings("text", t) for t in self.stems if ("text", t) in reader]
        wanted = set(self.forms)
        ids: list[int] = []
        weights: list[float] = []
        for i, n in enumerate(candidates):
            if not i & 255 and time.monotonic() > self.deadline:
                raise collectors.TimeLimit
            scores = [m.score() for m in ms if _align([m], n)]
            if not scores:
                continue
            written = reader.stored_fields(n).get("pwords", "")
            found: set[str] = set()
            for token in written.split():
                found.update(self.terms(token))
            if wanted <= found:
                ids.append(n)
                weights.append(sum(scores))
        return ids, weights
