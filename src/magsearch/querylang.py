"""The query language, engine-independent: a tokenizer and a recursive-descent parser that turn what
a lawyer types into a small tree (Word, Phrase, Ident, Facet, DateSpan, And, Or, Not, MatchAll).

Nothing here raises anything but QueryError, and only for what cannot be read sensibly (a short
or inner wildcard, an unreadable date or year, an unknown kind, too many terms). Everything else
is read in the most sensible way and a note says how: an unbalanced quote or parenthesis is
closed, a stray `)` or `-` is dropped, an operator with nothing on one side is read as a word, an
unknown `field:` is read as words. `render()` gives the reading back as text ("interpreted" in a
search response).

Precedence: the proximity operators (NEAR/n, w/n, /s, /p) bind tightest, then NOT / -word, then
OR, then AND (explicit or implied by a space), so `freeze assets OR property` is
`freeze AND (assets OR property)` and `NOT custody /s death` is `NOT (custody /s death)`. An operand
of a proximity operator is a word, a phrase, or a parenthesised OR of them; anything else there is
refused in one line. docs/search.md is the user guide.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Union

from magsearch import citations
from magsearch.errors import QueryError

FIELDS = ("title", "kind", "court", "jurisdiction", "citation", "year", "date")
FIELD_ALIASES = {"cite": "citation", "cites": "citation", "identifier": "citation", "type": "kind"}
KINDS = ("ruling", "legislation", "article", "other")
_KIND_WORDS = {
    "ruling": "rulings judgment judgement judgments decision decisions case cases opinion",
    "legislation": "law laws act acts statute statutes regulation regulations",
    "article": "articles news commentary",
}
KIND_ALIASES = {w: kind for kind, words in _KIND_WORDS.items() for w in words.split()}
MAX_SLOP = 50
MAX_NESTING = 20  # levels of parentheses: the parser and the query translation recurse on them
DEFAULT_SLOP = 5
# proximity: NEAR/5, w/5, /5 (within n words), /s (the same sentence), /p (the same paragraph)
_PROX = re.compile(r"(?i:(?:near|w)?/([sp]|\d+))|NEAR|(?i:near)/(.*)")
UNITS = {"s": "sentence", "p": "paragraph"}
_BARE_APP = re.compile(r"\d{3,6}/\d{2}")  # an ECHR application number typed alone: 32631/09
_FIELD_AT = re.compile(r"([A-Za-z][A-Za-z_]*):")
_CHUNK = re.compile(r'[^\s"()\[\]{}]+')
_FUZZY = re.compile(r"^(.*?[^~])~(\d+(?:\.\d+)?)?$")
_SLOP = re.compile(r"~(\d+(?:\.\d+)?)?")
_DATE = re.compile(r"(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?")
_HIGH = "\uffff"


# -- the tree ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Word:
    text: str  # as typed, without its ~ or *
    field: str = ""  # "" = title and text; "title"
    fuzzy: int = 0  # most edits allowed (0: exact)
    prefix: bool = False  # a trailing wildcard
    span: tuple[int, int] = (0, 0)  # where it was typed (for "did you mean")
    exact: bool = False  # =word: this form only (not stemmed, in no other language)


@dataclass(frozen=True)
class Phrase:
    text: str  # the words between the quotes
    field: str = ""
    slop: int = 0  # 0: exact phrase; n: words within n positions, any order


@dataclass(frozen=True)
class Ident:
    value: str  # normalised identifier (citations.normalize), or the raw text when not recognised
    raw: str = ""


@dataclass(frozen=True)
class Facet:
    field: str  # kind, court, jurisdiction, year
    value: str


@dataclass(frozen=True)
class DateSpan:
    lo: str  # half-open string bounds over ISO dates: lo <= date < hi ("" = open)
    hi: str
    label: str  # as shown: "2012..2016", ">=2019-08-27"


@dataclass(frozen=True)
class MatchAll:
    pass


@dataclass(frozen=True)
class Near:
    """Operands (each a Word, a Phrase or an Or of them) in one passage: within `distance` words of
    each other in a chain (unit "words"), in one sentence ("sentence") or anywhere in the passage
    ("paragraph")."""

    children: tuple[Node, ...]
    unit: str = "words"
    distance: int = DEFAULT_SLOP  # unit "words": at most this many positions apart

    @property
    def operator(self) -> str:
        return f"NEAR/{self.distance}" if self.unit == "words" else f"/{self.unit[0]}"


@dataclass(frozen=True)
class And:
    children: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    children: tuple[Node, ...]


@dataclass(frozen=True)
class Not:
    child: Node


Node = Union[Word, Phrase, Ident, Facet, DateSpan, MatchAll, Near, And, Or, Not]  # noqa: UP007


@dataclass
class Parsed:
    node: Node
    notes: list[str] = field(default_factory=list)
    text: str = ""
    explicit_and: bool = False  # typed AND: no falling back to "some of the words"

    @property
    def interpreted(self) -> str:
        return render(self.node)


# -- tokens ------------------------------------------------------------------------------------
@dataclass
class _Tok:
    kind: str  # WORD PHRASE IDENT FIELD LP RP OP MINUS PLUS PROX
    value: str
    start: int
    end: int
    adjacent: bool = False  # touches the previous token (no space between)
    slop: int = -1  # PHRASE: -1 exact, else proximity


def _citation_spans(q: str) -> dict[int, tuple[int, str]]:
    """Citations typed in the query (outside quotes): start -> (end, normalised)."""
    if not any(ch.isdigit() for ch in q):
        return {}
    masked = re.sub(r'"[^"]*"?', lambda m: " " * len(m.group()), q)
    found = citations.find_citations(masked)
    return {c.start: (c.end, c.normalized) for c in found}


class _Lexer:
    def __init__(self, q: str, notes: list[str]) -> None:
        self.q, self.notes = q, notes
        self.spans = _citation_spans(q)
        self.toks: list[_Tok] = []

    def run(self) -> list[_Tok]:
        q, i, adjacent = self.q, 0, False
        while i < len(q):
            ch = q[i]
            if ch.isspace():
                i, adjacent = i + 1, False
                continue
            if ch in "[]{}":
                self.notes.append(
                    "brackets are not query syntax (ranges are date:2012..2016): read as spaces"
                )
                i, adjacent = i + 1, False
                continue
            if i in self.spans:
                end, norm = self.spans[i]
                self._add("IDENT", norm, i, end, adjacent)
                i = end
            elif ch == '"':
                i = self._phrase(i, adjacent)
            elif ch in "()":
                self._add("LP" if ch == "(" else "RP", ch, i, i + 1, adjacent)
                i += 1
            else:
                i = self._chunk(i, adjacent)
            adjacent = True
        return self.toks

    def _add(
        self, kind: str, value: str, start: int, end: int, adjacent: bool, slop: int = -1
    ) -> None:
        self.toks.append(_Tok(kind, value, start, end, adjacent, slop))

    def _phrase(self, i: int, adjacent: bool) -> int:
        close = self.q.find('"', i + 1)
        if close < 0:
            self.notes.append('closed the unbalanced quote (") at the end of the query')
            close = len(self.q)
        text, end, slop = self.q[i + 1 : close], close + 1, -1
        m = _SLOP.match(self.q, end)
        if m and close < len(self.q):
            slop = _slop_value(m.group(1), self.notes)
            end = m.end()
        self._add("PHRASE", text, i, min(end, len(self.q)), adjacent, slop)
        return end

    def _chunk(self, i: int, adjacent: bool) -> int:
        q = self.q
        at_start = not adjacent or (self.toks and self.toks[-1].kind == "LP")
        if q[i] in "-+" and at_start:
            nxt = q[i + 1] if i + 1 < len(q) else " "
            if nxt.isspace() or nxt == ")":
                self.notes.append(f"ignored a lone {q[i]!r}")
                return i + 1
            self._add("MINUS" if q[i] == "-" else "PLUS", q[i], i, i + 1, adjacent)
            return i + 1
        m = _FIELD_AT.match(q, i)
        if m:
            name = m.group(1).lower()
            name = FIELD_ALIASES.get(name, name)
            rest = q[m.end() : m.end() + 1]
            if name in FIELDS:
                self._add("FIELD", name, i, m.end(), adjacent)
                return m.end()
            if rest and not rest.isspace() and m.group(1).isalpha() and not rest.isdigit():
                self.notes.append(
                    f"unknown field {m.group(1)!r}: read as words (fields: {', '.join(FIELDS)})"
                )
                self._add("WORD", m.group(1), i, m.end() - 1, adjacent)
                return m.end()
        m = _CHUNK.match(q, i)
        assert m is not None
        end = m.end()
        for start in self.spans:  # a citation starting inside this chunk ends it there
            if i < start < end:
                end = start
        text = q[i:end]
        kind = "OP" if text in ("AND", "OR", "NOT") else "WORD"
        if kind == "WORD" and _BARE_APP.fullmatch(text):
            kind = "IDENT"
        prox = _PROX.fullmatch(text)
        if prox:
            unit, distance = _proximity(text, prox, self.notes)
            self._add("PROX", unit, i, end, adjacent, distance)
            return end
        self._add(kind, text, i, end, adjacent)
        return end


def _proximity(text: str, m: re.Match[str], notes: list[str]) -> tuple[str, int]:
    """A proximity operator's unit and distance: NEAR/5, w/5, /5 (words), /s, w/s, /p, w/p, and
    NEAR alone (NEAR/5). Raises QueryError for a distance that is not a number from 1 up."""
    arg = m.group(1) if m.group(1) is not None else m.group(2)
    if arg is None:
        notes.append(f"NEAR read as NEAR/{DEFAULT_SLOP} (within {DEFAULT_SLOP} words)")
        return "words", DEFAULT_SLOP
    if arg.lower() in UNITS:
        return UNITS[arg.lower()], 0
    if not arg.isdigit() or int(arg) < 1:
        raise QueryError(
            f"{text!r}: the distance is a number of words from 1 to {MAX_SLOP} "
            f"(sanctions NEAR/5 detention)"
        )
    n = int(arg)
    if n > MAX_SLOP:
        notes.append(f"{text} lowered to NEAR/{MAX_SLOP}")
        n = MAX_SLOP
    return "words", n


def _slop_value(raw: str | None, notes: list[str]) -> int:
    if not raw:
        return DEFAULT_SLOP
    n = int(float(raw))
    if n > MAX_SLOP:
        notes.append(f"proximity ~{n} lowered to ~{MAX_SLOP}")
        return MAX_SLOP
    return n


# -- the parser --------------------------------------------------------------------------------
class _Parser:
    def __init__(self, toks: list[_Tok], q: str, notes: list[str]) -> None:
        self.toks, self.q, self.notes = toks, q, notes
        self.pos = 0
        self.depth = 0
        self.explicit_and = False

    def peek(self, k: int = 0) -> _Tok | None:
        j = self.pos + k
        return self.toks[j] if j < len(self.toks) else None

    def next(self) -> _Tok:
        tok = self.toks[self.pos]
        self.pos += 1
        return tok

    def starts_operand(self, k: int = 0) -> bool:
        while (tok := self.peek(k)) is not None and tok.kind == "OP" and tok.value == "NOT":
            k += 1  # NOT NOT … x: an operand when x is one
        if tok is None or tok.kind == "OP":
            return False
        return tok.kind in ("WORD", "PHRASE", "IDENT", "FIELD", "LP", "MINUS", "PLUS")

    def parse(self) -> Node | None:
        parts: list[Node] = []
        while (tok := self.peek()) is not None:
            if tok.kind == "RP":
                if self.depth > 0:
                    break
                self.next()
                self.notes.append("ignored an unmatched ')'")
                continue
            if tok.kind == "OP" and tok.value == "AND" and parts and self.starts_operand(1):
                self.next()
                self.explicit_and = True
                continue
            node = self.parse_or()
            if node is not None:
                parts.append(node)
        return _and(parts)

    def parse_or(self) -> Node | None:
        left = self.parse_unary()
        alts = [left] if left is not None else []
        while (tok := self.peek()) is not None and tok.kind == "OP" and tok.value == "OR":
            if not alts or not self.starts_operand(1):
                break
            self.next()
            right = self.parse_unary()
            if right is not None:
                alts.append(right)
        if not alts:
            return None
        return alts[0] if len(alts) == 1 else _or(alts)

    def parse_unary(self) -> Node | None:
        """NOT, - and + in front of an operand, read in a loop (a chain of them costs no stack)."""
        negate = False
        while (tok := self.peek()) is not None:
            if (
                tok.kind == "MINUS" or (tok.kind == "OP" and tok.value == "NOT")
            ) and self.starts_operand(1):
                self.next()
                negate = not negate
            elif tok.kind == "PLUS":
                self.next()
                if not self.starts_operand():
                    return None
            else:
                break
        if tok is None:
            return None
        inner = self.parse_near()
        if inner is None or not negate:
            return inner
        return inner.child if isinstance(inner, Not) else Not(inner)

    def parse_near(self) -> Node | None:
        """An operand, and while a proximity operator follows, the next ones: a chain of one
        operator (sanctions /s detention /s death)."""
        first = self.parse_primary()
        tok = self.peek()
        if tok is None or tok.kind != "PROX":
            return first
        ops: list[_Tok] = []
        operands = [_operand(first, tok, self.q)]
        while (tok := self.peek()) is not None and tok.kind == "PROX":
            op = self.next()
            if ops and (op.value, op.slop) != (ops[0].value, ops[0].slop):
                raise QueryError(
                    f"{_op_text(ops[0])} and {_op_text(op)} in one chain: use one operator, or "
                    f"join the pairs with AND"
                )
            ops.append(op)
            nxt = self.peek()
            if nxt is None or nxt.kind not in ("WORD", "PHRASE", "IDENT", "LP", "FIELD"):
                raise QueryError(f"{_op_text(op)}: {_OPERANDS} on each side of it")
            operands.append(_operand(self.parse_primary(), op, self.q))
        return Near(tuple(operands), ops[0].value, ops[0].slop)

    def parse_primary(self) -> Node | None:
        tok = self.next()
        if tok.kind == "PROX":
            raise QueryError(f"{_op_text(tok)}: {_OPERANDS} on each side of it")
        if tok.kind == "LP":
            return self.group(tok)
        if tok.kind == "OP" or tok.kind in ("MINUS", "PLUS"):
            self.notes.append(f"read the stray operator {tok.value!r} as a word")
            return Word(tok.value.lower(), span=(tok.start, tok.end)) if tok.kind == "OP" else None
        if tok.kind == "FIELD":
            return self.fielded(tok)
        if tok.kind == "RP":  # only reached inside a field value; parse() handles the others
            return None
        return self.leaf(tok)

    def group(self, tok: _Tok) -> Node | None:
        if self.depth >= MAX_NESTING:
            raise QueryError(
                f"the query nests parentheses too deeply (at most {MAX_NESTING} levels)"
            )
        self.depth += 1
        inner = self.parse()
        self.depth -= 1
        if self.peek() is not None and self.peek().kind == "RP":  # type: ignore[union-attr]
            self.next()
        else:
            self.notes.append("closed the unbalanced '(' at the end of the query")
        if inner is None:
            self.notes.append("dropped an empty pair of parentheses")
        return inner

    def leaf(self, tok: _Tok) -> Node | None:
        if tok.kind == "IDENT":
            return Ident(tok.value, self.q[tok.start : tok.end])
        if tok.kind == "PHRASE":
            return _phrase_node(tok)
        return _word_node(tok.value, tok.start, self.notes)

    def fielded(self, tok: _Tok) -> Node | None:
        nxt = self.peek()
        if nxt is None or not nxt.adjacent or nxt.kind not in ("WORD", "PHRASE", "IDENT", "LP"):
            self.notes.append(f"{tok.value}: has nothing after it: read as the word {tok.value!r}")
            return Word(tok.value, span=(tok.start, tok.end - 1))
        self.next()
        if nxt.kind == "LP":
            value = self.group(nxt)
            return None if value is None else _apply_field(tok.value, value, self.notes)
        if tok.value == "citation":
            text = self.q[nxt.start : nxt.end] if nxt.kind == "IDENT" else nxt.value
            return Ident(
                nxt.value if nxt.kind == "IDENT" else (citations.normalize(text) or text.strip()),
                text,
            )
        if tok.value in ("title",):
            return _apply_field("title", self.leaf(nxt), self.notes)
        return _value_node(
            tok.value, self.q[nxt.start : nxt.end] if nxt.kind == "IDENT" else nxt.value
        )


_OPERANDS = "put a word, a phrase or (words OR phrases)"


def _op_text(tok: _Tok) -> str:
    return f"NEAR/{tok.slop}" if tok.value == "words" else f"/{tok.value[0]}"


def _operand(node: Node | None, op: _Tok, q: str) -> Node:
    """A proximity operand as typed, checked: a word, a phrase, or an OR of them."""
    kids = node.children if isinstance(node, Or) else (node,)
    for kid in kids:
        bad = ""
        if kid is None:
            raise QueryError(f"{_op_text(op)}: {_OPERANDS} on each side of it")
        if isinstance(kid, Word) and (kid.fuzzy or kid.prefix):
            bad = f"{render(kid)} (a wildcard or fuzzy word)"
        elif isinstance(kid, Word) and kid.exact:
            bad = f"{render(kid)} (an exact form: positions are kept for stemmed words only)"
        elif isinstance(kid, Word | Phrase) and kid.field:
            bad = f"{render(kid)} (a field: proximity is judged in the text)"
        elif isinstance(kid, Phrase) and kid.slop:
            bad = f"{render(kid)} (a phrase with ~)"
        elif isinstance(kid, Ident) and kid.raw:
            continue  # an identifier's words, as a phrase
        elif not isinstance(kid, Word | Phrase):
            bad = render(kid)
        if bad:
            raise QueryError(f"{_op_text(op)}: {_OPERANDS} on each side of it, not {bad}")
    return node  # type: ignore[return-value]


_WORD = re.compile(r"\w+(?:\.?\w+)*")  # a word as the index reads it (whoosh_schema._TOKEN)


def _exact(text: str, start: int) -> Word:
    """=word: the word in this form only. Raises QueryError for `=` alone, a wildcard or ~, or
    more than one word."""
    word = text.lstrip("=")
    skipped = len(text) - len(word)
    if "*" in word or "~" in word:
        raise QueryError(f"{text!r}: an exact form takes no wildcard or ~ (=detained)")
    found = _WORD.findall(word)
    if not found:
        raise QueryError(f"{text!r}: put the word right after the = (=detained)")
    if len(found) > 1:
        raise QueryError(f"{text!r}: an exact form is one word (=detained)")
    at = start + skipped + word.index(found[0])
    return Word(found[0], span=(at, at + len(found[0])), exact=True)


def _word_node(text: str, start: int, notes: list[str]) -> Node | None:
    if text.startswith("="):
        return _exact(text, start)
    span = (start, start + len(text))
    if "*" in text:
        return _wildcard(text, span)
    m = _FUZZY.match(text)
    if m:
        word, raw = m.group(1), m.group(2)
        edits = 0 if raw is None else int(float(raw)) if float(raw) >= 1 else 0
        if edits == 0:
            edits = 1 if len(word) <= 5 else 2
        if edits > 2:
            notes.append(f"{text}: at most 2 edits; searched {word}~2")
            edits = 2
        return Word(word, fuzzy=edits, span=(start, start + len(word)))
    if "~" in text:
        text = text.replace("~", " ").strip()
    if not re.search(r"\w", text):
        if text:
            notes.append(f"ignored {text!r} (no letters or digits)")
        return None
    return Word(text, span=span)


def _wildcard(text: str, span: tuple[int, int]) -> Word:
    base = text.rstrip("*")
    if "*" in base or not base:
        raise QueryError(
            f"{text!r}: a wildcard goes at the end of a word, after at least 3 letters (sanction*)"
        )
    if sum(ch.isalnum() for ch in base) < 3:
        raise QueryError(f"{text!r}: type at least 3 letters before the * (sanction*)")
    return Word(base, prefix=True, span=(span[0], span[0] + len(base)))


def _phrase_node(tok: _Tok) -> Node | None:
    text = " ".join(tok.value.split())
    if not text:
        return None
    if tok.slop < 0:
        norm = citations.normalize(text) if any(ch.isdigit() for ch in text) else None
        if norm:
            return Ident(norm, text)
    return Phrase(text, slop=max(tok.slop, 0))


def _apply_field(name: str, node: Node | None, notes: list[str]) -> Node | None:
    """A field in front of a group or a leaf: title applies to words and phrases; the others
    take each word or phrase as a value."""
    if node is None:
        return None
    if isinstance(node, And | Or):
        kids = [_apply_field(name, c, notes) for c in node.children]
        kept = [k for k in kids if k is not None]
        return (_and if isinstance(node, And) else _or)(kept)
    if isinstance(node, Not):
        inner = _apply_field(name, node.child, notes)
        return Not(inner) if inner is not None else None
    if name == "title":
        if isinstance(node, Word) and node.exact:
            raise QueryError(
                f"title:={node.text}: an exact form is looked for in the whole document "
                f"(={node.text}), not in the title alone"
            )
        return replace(node, field="title") if isinstance(node, Word | Phrase) else node
    if isinstance(node, Word | Phrase):
        if name == "citation":
            return Ident(citations.normalize(node.text) or node.text, node.text)
        return _value_node(name, node.text)
    if isinstance(node, Ident) and name != "citation":
        return _value_node(name, node.raw or node.value)
    return node


def _value_node(name: str, value: str) -> Node:
    value = " ".join(value.split())
    if name == "kind":
        kind = KIND_ALIASES.get(value.lower(), value.lower())
        if kind not in KINDS:
            raise QueryError(f"kind:{value}: not a kind (use one of: {', '.join(KINDS)})")
        return Facet("kind", kind)
    if name == "year":
        return _year(value)
    if name == "date":
        return parse_date(value)
    return Facet(name, value)


def _year(value: str) -> Node:
    if re.fullmatch(r"\d{4}", value):
        return Facet("year", value)
    if re.fullmatch(r"(?:\d{4})?\.\.(?:\d{4})?|[<>]=?\d{4}|\d{4}-\d{4}", value) and value != "..":
        span = parse_date(value)
        return replace(span, label=span.label)
    raise QueryError(
        f"year:{value}: a year is four digits (year:2019) or a range (year:2012..2016)"
    )


# -- dates -------------------------------------------------------------------------------------
def _date_bound(raw: str, whole: str) -> str:
    m = _DATE.fullmatch(raw)
    if not m:
        raise QueryError(
            f"date:{whole}: not a date (use date:2019, date:2019-08-27, date:2012..2016 "
            "or date:>=2019-08-27)"
        )
    y, mo, d = m.group(1), m.group(2), m.group(3)
    if mo and not 1 <= int(mo) <= 12 or d and not 1 <= int(d) <= 31:
        raise QueryError(f"date:{whole}: no such month or day")
    return y + (f"-{int(mo):02d}" if mo else "") + (f"-{int(d):02d}" if d else "")


def parse_date(value: str) -> DateSpan:
    """date:2019, date:2019-08, date:2019-08-27, date:2012..2016, date:..2016, date:2012..,
    date:>=2019-08-27 (and <=, >, <), date:2012-2016 (years). Bounds are inclusive of whole
    periods: ..2016 includes every date in 2016."""
    v = value.strip()
    m = re.fullmatch(r"(>=|<=|>|<)(.+)", v)
    if m:
        op, b = m.group(1), _date_bound(m.group(2), v)
        lo, hi = {">=": (b, ""), ">": (b + _HIGH, ""), "<=": ("", b + _HIGH), "<": ("", b)}[op]
        return DateSpan(lo, hi, f"{op}{b}")
    yy = re.fullmatch(r"(\d{4})-(\d{4})", v)
    if yy and int(yy.group(2)) > 12:
        v = f"{yy.group(1)}..{yy.group(2)}"
    if ".." in v:
        a, _, b = v.partition("..")
        if not a.strip() and not b.strip():
            raise QueryError(f"date:{value}: give at least one end of the range (date:2012..2016)")
        lo = _date_bound(a.strip(), value) if a.strip() else ""
        hi = _date_bound(b.strip(), value) if b.strip() else ""
        if lo and hi and lo > hi:
            raise QueryError(f"date:{value}: the range ends before it starts")
        return DateSpan(lo, hi + _HIGH if hi else "", f"{lo}..{hi}")
    b = _date_bound(v, value)
    return DateSpan(b, b + _HIGH, b)


# -- building and rendering --------------------------------------------------------------------
def _and(parts: list[Node]) -> Node | None:
    flat: list[Node] = []
    for p in parts:
        flat.extend(p.children if isinstance(p, And) else (p,))
    if not flat:
        return None
    return flat[0] if len(flat) == 1 else And(tuple(flat))


def _or(parts: list[Node]) -> Node | None:
    flat: list[Node] = []
    for p in parts:
        flat.extend(p.children if isinstance(p, Or) else (p,))
    if not flat:
        return None
    return flat[0] if len(flat) == 1 else Or(tuple(flat))


def _quote(s: str) -> str:
    return f'"{s}"' if (not s or re.search(r"[\s:()\"]", s)) else s


def render(node: Node) -> str:
    if isinstance(node, Word):
        f = f"{node.field}:" if node.field else ""
        if node.exact:
            return f"{f}={node.text}"
        return (
            f + node.text + ("*" if node.prefix else "") + (f"~{node.fuzzy}" if node.fuzzy else "")
        )
    if isinstance(node, Phrase):
        f = f"{node.field}:" if node.field else ""
        return f'{f}"{node.text}"' + (f"~{node.slop}" if node.slop else "")
    if isinstance(node, Ident):
        return f"citation:{_quote(node.value)}"
    if isinstance(node, Facet):
        return f"{node.field}:{_quote(node.value)}"
    if isinstance(node, DateSpan):
        return f"date:{node.label}"
    if isinstance(node, MatchAll):
        return "*"
    if isinstance(node, Near):
        return f" {node.operator} ".join(
            f"({render(c)})" if isinstance(c, Or) else render(c) for c in node.children
        )
    if isinstance(node, Not):
        inner = render(node.child)
        return f"NOT ({inner})" if isinstance(node.child, And | Or | Near) else f"NOT {inner}"
    joint = " AND " if isinstance(node, And) else " OR "
    return joint.join(
        f"({render(c)})" if isinstance(c, And | Or | Near) else render(c) for c in node.children
    )


def leaves(node: Node) -> list[Node]:
    if isinstance(node, And | Or | Near):
        return [leaf for c in node.children for leaf in leaves(c)]
    if isinstance(node, Not):
        return leaves(node.child)
    return [node]


def count_terms(node: Node) -> int:
    return sum(len(n.text.split()) if isinstance(n, Phrase) else 1 for n in leaves(node))


def parse(q: str, *, max_chars: int = 512, max_terms: int = 40) -> Parsed:
    """Read a query. Raises QueryError (one line) for what cannot be read."""
    if not isinstance(q, str):
        raise QueryError("the query must be text")
    if len(q) > max_chars:
        raise QueryError(f"query too long ({len(q)} characters; at most {max_chars})")
    bad = next((ch for ch in q if ord(ch) < 32 and ch not in "\t\n\r"), None)
    if bad is not None:
        raise QueryError(f"the query contains a control character (U+{ord(bad):04X})")
    if not q.strip():
        raise QueryError("empty query: type some words, a phrase in quotes, or an identifier")
    notes: list[str] = []
    whole = _whole_identifier(q)
    if whole:
        return Parsed(Ident(whole, q.strip()), notes, q)
    toks = _Lexer(q, notes).run()
    parser = _Parser(toks, q, notes)
    node = parser.parse()
    if node is None:
        raise QueryError(
            f"nothing to search for in {q[:60]!r}: type some words, a phrase or an identifier"
        )
    n = count_terms(node)
    if n > max_terms:
        raise QueryError(f"query has too many terms ({n}; at most {max_terms})")
    return Parsed(node, list(dict.fromkeys(notes)), q, parser.explicit_and)


def _whole_identifier(q: str) -> str | None:
    s = q.strip()
    if not any(ch.isdigit() for ch in s) or len(s) > 300 or s.startswith("="):
        return None
    if (
        any(op in ("AND", "OR", "NOT") or _PROX.fullmatch(op) for op in s.split())
        or re.match(r"[A-Za-z]+:", s)
        and not s.upper().startswith("ECLI:")
    ):
        return None
    return citations.normalize(s.strip('"'))
