"""Verify a brief: every citation resolved against the archive, every quotation checked word by word.

`verify_text(lib, text)` reads a text (a draft brief, a memo) and reports, in the order of the
text and with character offsets:

- each citation (every family `citations.py` knows): the archived document it names (title,
  permalink) and, with a pinpoint ("§ 41", "para. 41", "s. 4(1)", "Article 3 of", "at 1497"), the
  passage it points at; or "not in the archive"; or "the document has no such paragraph";
- each quotation (in double quotation marks, curly or straight, in guillemets, or an indented block
  quotation) of at least MIN_WORDS words: checked against the document of the citation next to it,
  or, with none, against the whole archive (the search index proposes candidate documents, then
  the words are aligned): "exact" (with the passage's permalink), "altered" (the words changed,
  added, or left out without an ellipsis), or "not found".

Typography never counts: quotation marks, dashes, punctuation, line breaks, a word hyphenated at a
line end, case, an omission marked by "…", "...", ". . ." or "[…]", a bracketed change ("[t]he",
"[the Court]"). A quotation may run over adjacent passages (a page break in a PDF).

A reader who may not see restricted documents is told nothing about them: a citation of one is
"not in the archive", a quotation from one "not found". `read_brief` parses an uploaded file with
the ingest parsers in the isolated worker; nothing is stored.
"""

from __future__ import annotations

import difflib
import heapq
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from . import citations
from .cite import pin_label
from .errors import MagsearchError, QueryError
from .models import Block, Citation, Document, Kind, Passage

MIN_WORDS = 3  # a quoted term or name ("bona fide", "Magnitsky") is not a quotation to check
MAX_QUOTE_CHARS = 5000  # a quotation mark left open does not swallow the rest of the brief
MAX_TEXT_CHARS = 2_000_000  # about 300 pages
PHRASE_WORDS = 5  # the quotation's first and last words searched for as phrases
CANDIDATES = 5  # documents the index proposes for a quotation attributed to nothing
APPROXIMATE_TRIES = 3  # stretches of a document aligned word by word for one quotation
SHORT_QUOTE = 8  # words: a shorter quotation with two words wrong is "not found", not "altered"
# the share of a quotation's words found in order for it to be "altered" rather than "not found"
ALTERED_SHARE = 0.6


class BriefError(MagsearchError):
    """A brief that cannot be read (empty, too long, an unreadable file)."""


# -- words ---------------------------------------------------------------------------------------
_HYPHEN_JOIN = re.compile(r"(?<=[^\W\d_])[-\u00ad\u2010\u2011]\s*(?=[^\W\d_])")
_APOSTROPHES = re.compile(r"(?<=\w)['\u2019\u02bc](?=\w)")
_WORD = re.compile(r"[^\W_]+")


_STAR_PAGE = re.compile(r"\[\*{1,2}\d{1,5}\]")  # "[*7]": a reporter's page break inside the text


def _prepare(text: str) -> str:
    text = _STAR_PAGE.sub(" ", unicodedata.normalize("NFKC", text))
    return _APOSTROPHES.sub("", _HYPHEN_JOIN.sub("", text))


def words(text: str) -> list[str]:
    """The words that are compared: case-folded, without punctuation, hyphenation joined."""
    return [w.casefold() for w in _WORD.findall(_prepare(text))]


# -- finding quotations and citations in the brief -----------------------------------------------
@dataclass
class Quote:
    start: int
    end: int
    text: str  # the quoted words, without the quotation marks
    block: bool = False


_PAIRS = {"\u201c": "\u201d", "\u201e": "\u201d", "\u00ab": "\u00bb"}
_OPEN = re.compile(r'[\u201c\u201e\u00ab"]')


def find_quotations(text: str) -> list[Quote]:
    """Quotations in double quotation marks (curly, straight, „…”, «…») and indented block
    quotations, in the order of the text. Quotations of fewer than MIN_WORDS words are left out."""
    found: list[Quote] = []
    i = 0
    n = len(text)
    while True:
        m = _OPEN.search(text, i)
        if not m:
            break
        opener = m.group()
        closer = _PAIRS.get(opener, '"')
        if opener == '"' and m.start() > 0 and text[m.start() - 1].isalnum():
            i = m.end()  # 12" or a closing mark left over
            continue
        end = text.find(closer, m.end(), min(n, m.end() + MAX_QUOTE_CHARS))
        if end < 0 and opener == "\u201c":
            end = text.find('"', m.end(), min(n, m.end() + MAX_QUOTE_CHARS))
        if end < 0:
            i = m.end()
            continue
        inner = text[m.end() : end]
        if "\n\n" not in inner.strip() and len(words(inner)) >= MIN_WORDS:
            found.append(Quote(m.start(), end + 1, inner))
        i = end + 1
    for b in _block_quotes(text):
        if not any(q.start < b.end and b.start < q.end for q in found):
            found.append(b)
    return sorted(found, key=lambda q: q.start)


_PARAGRAPH = re.compile(r"(?:[^\n]|\n(?![ \t]*\n))+")


def _block_quotes(text: str) -> list[Quote]:
    """Paragraphs of which every line is indented (4 spaces or a tab) or starts with "> "."""
    out = []
    for m in _PARAGRAPH.finditer(text):
        lines = m.group().split("\n")
        if lines and all(re.match(r"(?: {4}|\t|> ?)", line) for line in lines if line.strip()):
            body = "\n".join(re.sub(r"^(?:>\s?|\s+)", "", line) for line in lines)
            if len(words(body)) >= MIN_WORDS:
                out.append(Quote(m.start(), m.end(), body.strip(), block=True))
    return out


# pinpoints written after a citation ("…, § 41", ", para. 41", ", s. 4(1)", ", at 1497") or before
# it ("Article 3 of …", "section 404 of …")
_NUM = r"(?P<n>\d+[A-Za-z]?)(?P<sub>(?:\(\w{1,4}\))*)"
_PIN_AFTER = re.compile(
    r"[\s,;]*(?:(?P<w>§§?|¶¶?|paras?\.|paragraphs?|ss?\.|secs?\.|sections?|arts?\.|articles?"
    r"|regs?\.|regulations?|at|pp?\.|pages?)\s*" + _NUM + r")",
    re.IGNORECASE,
)
_PIN_BEFORE = re.compile(
    r"(?P<w>§§?|¶|paras?\.|paragraphs?|ss?\.|secs?\.|sections?|arts?\.|articles?|regs?\.|"
    r"regulations?)\s*" + _NUM + r"\s+of\s+(?:the\s+)?$",
    re.IGNORECASE,
)
_ID = re.compile(r"(?<![\w.])(?:[Ii]d\.|[Ii]bid\.?)(?!\w)")
_CONNECTOR = re.compile(r"\s*(?:,|and|&|et|;)?\s*")


@dataclass
class Pin:
    word: str  # as written: "§", "para.", "s.", "at"
    number: str
    subs: list[str]
    start: int
    end: int

    @property
    def text(self) -> str:
        return f"{self.word} {self.number}{''.join(f'({s})' for s in self.subs)}".strip()


def _pin(m: re.Match[str], offset: int) -> Pin:
    return Pin(
        m.group("w"),
        m.group("n"),
        re.findall(r"\((\w{1,4})\)", m.group("sub") or ""),
        offset + m.start("w"),
        offset + m.end(),
    )


@dataclass
class CiteGroup:
    """One citation as a reader sees it: "nos. 32631/09 and 53799/12, § 41" is one."""

    start: int
    end: int
    raw: str
    items: list[Citation]
    pin: Pin | None = None
    ibid: bool = False


def _groups(text: str) -> list[CiteGroup]:
    found = citations.find_citations(text)
    groups: list[CiteGroup] = []
    for c in found:
        last = groups[-1] if groups else None
        if (
            last
            and last.items[-1].family == c.family
            and _CONNECTOR.fullmatch(text[last.end : c.start])
            and c.family == "echr-app"
        ):
            last.items.append(c)
            last.end = c.end
            continue
        groups.append(CiteGroup(c.start, c.end, c.raw, [c]))
    for m in _ID.finditer(text):
        if not any(g.start <= m.start() < g.end for g in groups):
            groups.append(CiteGroup(m.start(), m.end(), m.group(), [], ibid=True))
    groups.sort(key=lambda g: g.start)
    for g in groups:
        after = _PIN_AFTER.match(text, g.end, min(len(text), g.end + 60))
        if after and not (after.group("w").lower() == "at" and g.items and _has_at(g)):
            g.pin = _pin(after, 0)
        else:
            before = _PIN_BEFORE.search(text[max(0, g.start - 60) : g.start])
            if before:
                g.pin = _pin(before, max(0, g.start - 60))
        g.raw = text[g.start : g.end]
    return groups


def _has_at(g: CiteGroup) -> bool:
    return " at " in g.items[-1].normalized  # a short case citation carries its own pinpoint


# -- resolving -----------------------------------------------------------------------------------
@dataclass
class Source:
    """A document's current text as one sequence of words, each knowing its passage."""

    doc: Document
    passages: list[Passage]
    words: list[str] = field(default_factory=list)
    where: list[int] = field(default_factory=list)  # passage index of each word
    positions: dict[str, list[int]] = field(default_factory=dict)

    @classmethod
    def of(cls, doc: Document, passages: list[Passage]) -> Source:
        """Passages are read one after another as they stand in the document, so a sentence
        running over a page break reads as one, and a word hyphenated at the break as one word."""
        src = cls(doc, passages)
        hyphenated = False
        for i, p in enumerate(passages):
            ws = words(p.text)
            if hyphenated and ws and src.words and p.text.lstrip()[:1].islower():
                src.words[-1] += ws.pop(0)
            src.words.extend(ws)
            src.where.extend([i] * len(ws))
            hyphenated = bool(re.search(r"[^\W\d_][-\u00ad\u2010\u2011]\s*$", p.text))
        for i, w in enumerate(src.words):
            src.positions.setdefault(w, []).append(i)
        return src


class Verifier:
    def __init__(self, lib: Any, *, include_restricted: bool = False) -> None:
        self.lib = lib
        self.archive = lib.archive
        self.include_restricted = include_restricted
        self._sources: dict[str, Source | None] = {}
        self._resolved: dict[str, list[Document]] = {}
        self._searches: dict[str, list[str]] = {}

    # documents ---------------------------------------------------------------------------------
    def documents_for(self, normalized: str) -> list[Document]:
        """The documents carrying this identifier that the reader may see, best first (current
        before withdrawn, a judgment or an Act before a press release or a summary of it)."""
        if normalized not in self._resolved:
            rows = self.archive.db.execute(
                "SELECT doc_id FROM identifiers WHERE value=? ORDER BY doc_id", (normalized,)
            ).fetchall()
            docs = [self.archive.find_document(r[0]) for r in rows]
            seen = [
                d for d in docs if d is not None and (self.include_restricted or not d.restricted)
            ]
            seen.sort(key=lambda d: (bool(d.withdrawn), d.genre != "", d.id))
            self._resolved[normalized] = seen
        return self._resolved[normalized]

    def source(self, doc: Document) -> Source | None:
        if doc.id not in self._sources:
            ok = not doc.withdrawn and (self.include_restricted or not doc.restricted)
            self._sources[doc.id] = (
                Source.of(doc, self.archive.passages(doc.current_version)) if ok else None
            )
        return self._sources[doc.id]

    # citations ---------------------------------------------------------------------------------
    def citation(self, g: CiteGroup, previous: dict[str, Any] | None) -> dict[str, Any]:
        item: dict[str, Any] = {
            "type": "citation",
            "start": g.start,
            "end": g.pin.end if g.pin and g.pin.end > g.end else g.end,
            "text": g.raw,
            "family": g.items[0].family if g.items else "id",
            "normalized": [c.normalized for c in g.items],
            "pinpoint": g.pin.text if g.pin else "",
            "status": "not in the archive",
            "document": None,
            "passage": None,
        }
        docs: list[Document] = []
        if g.ibid:
            if previous is None or not previous.get("_docs"):
                item["note"] = "“Id.” with no citation before it that the archive resolves"
                return item
            docs = previous["_docs"]
            item["family"] = previous["family"]
            item["normalized"] = previous["normalized"]
        else:
            for c in g.items:
                docs = self.documents_for(c.normalized)
                if docs:
                    break
        if not docs:
            return item
        # several documents may carry the identifier (an Act in English and in French): the
        # first that has the pinpoint is the one cited
        doc, passage = docs[0], None
        if g.pin:
            for candidate in docs:
                src = self.source(candidate)
                passage = _pinpoint(candidate, src.passages if src else [], g)
                if passage is not None:
                    doc = candidate
                    break
        item["_doc"], item["_docs"] = doc, [doc, *(d for d in docs if d is not doc)]
        item["document"] = _doc_ref(doc)
        item["status"] = "withdrawn" if doc.withdrawn else "found"
        if g.pin and not doc.withdrawn:
            if passage is None:
                item["status"] = "no such paragraph"
            else:
                item["passage"] = _passage_ref(passage)
        return item

    # quotations --------------------------------------------------------------------------------
    def quotation(self, q: Quote, cite: dict[str, Any] | None) -> dict[str, Any]:
        pattern = QuotePattern.of(q.text)
        item: dict[str, Any] = {
            "type": "quotation",
            "start": q.start,
            "end": q.end,
            "text": q.text,
            "block": q.block,
            "attributed_to": None,
            "status": "not found",
            "document": None,
            "passage": None,
            "passages": [],
            "differences": [],
        }
        docs: list[Document] = []
        if cite is not None:
            item["attributed_to"] = {"start": cite["start"], "text": cite["text"]}
            if cite.get("_doc") is not None and cite["status"] in ("found", "no such paragraph"):
                docs = [d for d in cite["_docs"] if not d.withdrawn]
            else:
                item["note"] = (
                    "the cited document is not in the archive; searched the whole archive"
                )
        best = self._best(pattern, docs) if docs else None
        if not docs:
            # a document already read for this brief first (a brief quotes what it cites), then
            # the documents the index proposes
            best = self._best(pattern, self._read(), exact_only=True)
            if best is None:
                docs = self._candidates(pattern)
                best = self._best(pattern, docs)
        if best is None and cite is not None and docs:
            elsewhere = self._best(pattern, self._candidates(pattern))
            if elsewhere is not None:
                p = elsewhere.source.passages[elsewhere.source.where[elsewhere.first]]
                item["found_elsewhere"] = {
                    **_doc_ref(elsewhere.source.doc),
                    "anchor": p.anchor,
                    "label": pin_label(p),
                    "exact": elsewhere.exact,
                }
                item["note"] = "not in the cited document; found in another"
        if best is None:
            return item
        item["status"] = "exact" if best.exact else "altered"
        item["document"] = _doc_ref(best.source.doc)
        spanned = list(dict.fromkeys(best.source.where[best.first : best.last + 1]))
        item["passages"] = [_passage_ref(best.source.passages[i]) for i in spanned]
        item["passage"] = item["passages"][0] if item["passages"] else None
        item["differences"] = best.differences
        if cite is not None and cite.get("passage") and item["passage"]:
            if cite["passage"]["anchor"] not in {p["anchor"] for p in item["passages"]}:
                item["note"] = (
                    f"found at {item['passage']['label']}, not at the cited {cite['pinpoint']}"
                )
        return item

    def _read(self) -> list[Document]:
        return [s.doc for s in self._sources.values() if s is not None]

    def _best(
        self, pattern: QuotePattern, docs: list[Document], *, exact_only: bool = False
    ) -> Match | None:
        best: Match | None = None
        for doc in docs:
            src = self.source(doc)
            if src is None:
                continue
            found = pattern._exact(src) if exact_only else pattern.match(src)
            if found and (best is None or found.better_than(best)):
                best = found
            if best is not None and best.exact:
                break
        return best

    def _candidates(self, pattern: QuotePattern) -> list[Document]:
        """Documents the index proposes: those holding the quotation's first or last five words
        as a phrase (one of them survives most alterations), then those with most of its longest
        words."""
        phrases = [p for p in (pattern.raw[:PHRASE_WORDS], pattern.raw[-PHRASE_WORDS:]) if p]
        queries = [" OR ".join(dict.fromkeys(f'"{" ".join(p)}"' for p in phrases))]
        terms = sorted({w for w in pattern.flat if len(w) > 3}, key=lambda w: (-len(w), w))[:8]
        queries.append(" OR ".join(terms or sorted(set(pattern.flat))[:8]))
        ids: list[str] = []
        for query in queries:
            if len(ids) >= CANDIDATES:
                break
            if query not in self._searches:
                try:
                    result = self.lib.search.search(
                        query, per_page=CANDIDATES, include_restricted=self.include_restricted
                    )
                    self._searches[query] = [h.id for h in result.hits]
                except QueryError:
                    self._searches[query] = []
            ids.extend(i for i in self._searches[query] if i not in ids)
        docs = (self.archive.find_document(i) for i in ids[:CANDIDATES])
        return [d for d in docs if d is not None]


def _doc_ref(doc: Document) -> dict[str, Any]:
    return {"id": doc.id, "title": doc.title, "withdrawn": bool(doc.withdrawn)}


def _passage_ref(p: Passage) -> dict[str, Any]:
    return {"anchor": p.anchor, "label": pin_label(p), "page": p.page}


def _add_links(item: dict[str, Any], link: Callable[[str, str], str]) -> None:
    doc = item.get("document")
    if doc:
        doc["url"] = link(doc["id"], "")
        for p in [item.get("passage"), *item.get("passages", [])]:
            if p:
                p["url"] = link(doc["id"], p["anchor"])
    elsewhere = item.get("found_elsewhere")
    if elsewhere:
        elsewhere["url"] = link(elsewhere["id"], elsewhere.get("anchor", ""))


_PIN_KINDS = {
    "§": ("para", "sec", "art", "reg"),
    "¶": ("para",),
    "para": ("para",),
    "s": ("sec",),
    "sec": ("sec",),
    "art": ("art",),
    "reg": ("reg",),
}


def _pinpoint(doc: Document, passages: list[Passage], g: CiteGroup) -> Passage | None:
    """The passage a pinpoint points at, or None."""
    pin = g.pin
    assert pin is not None
    word = pin.word.lower().rstrip(".s") if pin.word not in ("§§", "¶¶") else pin.word[0]
    word = {"paragraph": "para", "section": "sec", "article": "art", "regulation": "reg"}.get(
        word.rstrip("s"), word
    )
    if word in ("at", "p", "pp", "page"):
        return _page(passages, g)
    kinds = _PIN_KINDS.get(word, ("para", "sec", "art", "reg"))
    if word == "§" and doc.kind is Kind.LEGISLATION:
        kinds = ("sec", "art", "reg", "para")
    by_anchor: dict[str, Passage] = {}
    for p in passages:
        by_anchor.setdefault(re.sub(r"-part\d+$", "", p.anchor), p)
    number = pin.number.lower()
    for kind in kinds:
        for k in range(len(pin.subs), -1, -1):
            anchor = "-".join([kind, number, *(s.lower() for s in pin.subs[:k])])
            if anchor in by_anchor:
                return by_anchor[anchor]
        prefix = f"{kind}-{number}-"
        for anchor, p in by_anchor.items():
            if anchor.startswith(prefix):  # "s. 4" of an Act numbered 4(1), 4(2)…: its first
                return p
    if word in ("para", "¶", "§"):  # unnumbered paragraphs shown as "¶ 3"
        for p in passages:
            if pin_label(p) in (f"¶ {number}", f"§ {number}"):
                return p
    return None


def _page(passages: list[Passage], g: CiteGroup) -> Passage | None:
    """ "at 1497" after a citation with a first page ("126 Stat. 1496", a reporter) counts pages
    from that first page; otherwise it is the PDF page itself."""
    pin = g.pin
    assert pin is not None
    page = int(re.sub(r"\D", "", pin.number) or 0)
    first = None
    if g.items and g.items[0].family in ("us-stat", "us-fr", "us-case"):
        m = re.search(r"\s(\d[\d,]*)$", g.items[0].normalized)
        first = int(m.group(1).replace(",", "")) if m else None
    if first is not None and page >= first:
        page = page - first + 1
    for p in passages:
        if p.page is not None and p.page <= page <= (p.page_end or p.page):
            return p
    return None


# -- aligning a quotation with a document --------------------------------------------------------
_OMISSION = re.compile(r"\[\s*(?:…|\.\s?\.\s?\.)\s*\]|…|\.\s?\.\s?\.")
_BRACKET = re.compile(r"\[([^\[\]]{1,60})\]")


@dataclass
class QuotePattern:
    segments: list[list[str]]  # runs of words, split where an omission or bracketed change is
    gaps: list[str]  # between segment i and i+1: "omission" or "bracket"
    raw: list[str] = field(default_factory=list)  # the longest run's words as written, for search

    @property
    def flat(self) -> list[str]:
        return [w for s in self.segments for w in s]

    @classmethod
    def of(cls, text: str) -> QuotePattern:
        # "[t]he" (a change of case) is the word itself; "[sic]" is nothing; "[the Court]" stands
        # for words of the source, like an omission
        def bracket(m: re.Match[str]) -> str:
            inner = m.group(1)
            if inner.strip().lower() == "sic":
                return ""
            if len(inner) == 1 and inner.isalpha():
                return inner
            if _OMISSION.fullmatch(inner.strip()) or not inner.strip():
                return "\x01"
            return "\x02"

        marked = _BRACKET.sub(bracket, text)
        marked = _OMISSION.sub("\x01", marked)
        segments: list[list[str]] = []
        gaps: list[str] = []
        for part in re.split(r"([\x01\x02])", marked):
            if part in ("\x01", "\x02"):
                if segments:
                    gaps.append("omission" if part == "\x01" else "bracket")
                continue
            ws = words(part)
            if not ws:
                continue
            if len(gaps) < len(segments):  # two runs of words with no marker: cannot happen
                gaps.append("omission")
            segments.append(ws)
        gaps = gaps[: max(0, len(segments) - 1)]
        while len(gaps) < len(segments) - 1:
            gaps.append("omission")
        longest = max(re.split(r"[\x01\x02]", marked), key=lambda t: len(words(t)), default="")
        raw = re.findall(r"[^\W_]+", _APOSTROPHES.sub("", unicodedata.normalize("NFKC", longest)))
        return cls(segments, gaps, raw)

    def match(self, src: Source) -> Match | None:
        return self._exact(src) or self._approximate(src)

    def _exact(self, src: Source) -> Match | None:
        if not self.segments:
            return None
        first = self.segments[0]
        for start in _occurrences(src, first, 0):
            pos, ok = start + len(first), True
            for seg, gap in zip(self.segments[1:], self.gaps, strict=True):
                limit = pos + (12 if gap == "bracket" else 400)
                nxt = next(iter(_occurrences(src, seg, pos, limit)), None)
                if nxt is None:
                    ok = False
                    break
                pos = nxt + len(seg)
            if ok:
                return Match(src, start, pos - 1, True, [], len(self.flat), len(self.flat))
        return None

    def _approximate(self, src: Source) -> Match | None:
        flat = self.flat
        if not flat or not src.words:
            return None
        # where the quotation's words fall in the document: each pair of its consecutive words
        # found one after the other in the document votes for that offset (a lone rare word
        # too, a little); the best few stretches are aligned word by word, the best kept
        votes: defaultdict[int, float] = defaultdict(float)
        words_of = src.words
        for i, w in enumerate(flat):
            occ = src.positions.get(w, ())
            if not occ or len(occ) > 2000:
                continue
            nxt = flat[i + 1] if i + 1 < len(flat) else None
            for j in occ:
                if nxt is not None and j + 1 < len(words_of) and words_of[j + 1] == nxt:
                    votes[j - i] += 1.0
                elif len(occ) <= 20:
                    votes[j - i] += 1.0 / len(occ)
        if not votes:
            return None
        near: defaultdict[int, float] = defaultdict(float)
        for d, weight in votes.items():
            for b in (d // 16 - 1, d // 16, d // 16 + 1):
                near[b] += weight
        best: Match | None = None
        for bucket in heapq.nlargest(APPROXIMATE_TRIES, near, key=near.__getitem__):
            found = self._align(src, bucket * 16)
            if found is not None and (best is None or found.better_than(best)):
                best = found
        return best

    def _align(self, src: Source, offset: int) -> Match | None:
        """The quotation aligned word by word with the source around word `offset`."""
        flat = self.flat
        span = len(flat) + (400 if "omission" in self.gaps else 24)
        lo = max(0, offset - 24)
        hi = min(len(src.words), offset + span + 24)
        window = src.words[lo:hi]
        # the marks between segments: quotation word indexes after which a gap is allowed
        bounds: dict[int, str] = {}
        at = 0
        for seg, gap in zip(self.segments, [*self.gaps, ""], strict=True):
            at += len(seg)
            if gap:
                bounds[at] = gap
        ops = difflib.SequenceMatcher(None, flat, window, autojunk=False).get_opcodes()
        while ops and ops[0][0] == "insert":  # source words before and after the quotation
            ops.pop(0)
        while ops and ops[-1][0] == "insert":
            ops.pop()
        if not ops:
            return None
        runs = [i2 - i1 for tag, i1, i2, _, _ in ops if tag == "equal"]
        equal, n = sum(runs), len(flat)
        if n < SHORT_QUOTE:  # a short quotation: one word differs at most
            if equal < max(n - 1, MIN_WORDS):
                return None
        elif equal < ALTERED_SHARE * n or max(runs, default=0) < MIN_WORDS:
            return None
        diffs: list[dict[str, str]] = []
        for tag, i1, i2, j1, j2 in ops:
            quoted, original = " ".join(flat[i1:i2]), " ".join(window[j1:j2])
            if tag == "equal":
                continue
            if tag == "insert" and i1 in bounds:
                continue  # words left out where the quotation marks an omission
            if tag == "replace" and i1 in bounds and bounds[i1] == "bracket":
                continue
            op = {"replace": "changed", "delete": "added", "insert": "left out"}[tag]
            diffs.append({"op": op, "quoted": quoted, "source": original})
        first = lo + ops[0][3]
        last = lo + ops[-1][4] - 1
        return Match(src, first, max(first, last), not diffs, diffs, equal, len(flat))


def _occurrences(src: Source, seg: list[str], at: int, limit: int | None = None) -> list[int]:
    """Where the words `seg` stand one after another in the source, from word `at` on."""
    rarest = min(seg, key=lambda w: len(src.positions.get(w, ())))
    k = seg.index(rarest)
    out = []
    for j in src.positions.get(rarest, ()):
        s = j - k
        if s < at or (limit is not None and s > limit):
            continue
        if src.words[s : s + len(seg)] == seg:
            out.append(s)
    return out


@dataclass
class Match:
    source: Source
    first: int  # word indexes in the source
    last: int
    exact: bool
    differences: list[dict[str, str]]
    equal: int
    total: int

    def better_than(self, other: Match) -> bool:
        if self.exact != other.exact:
            return self.exact
        return (self.equal / self.total, -len(self.differences)) > (
            other.equal / other.total,
            -len(other.differences),
        )


# -- the whole brief ---------------------------------------------------------------------------
def default_link(doc_id: str, anchor: str) -> str:
    """A document's permalink, or its passage's (which follows the passage to where it is now)."""
    return f"/d/{doc_id}/anchor/{anchor}" if anchor else f"/d/{doc_id}"


def verify_text(
    lib: Any,
    text: str,
    *,
    include_restricted: bool = False,
    link: Callable[[str, str], str] = default_link,
) -> dict[str, Any]:
    """The report on one text (see the module's docstring); `link(doc_id, anchor)` writes the
    permalinks. Raises BriefError for an empty or too long text."""
    if not isinstance(text, str) or not text.strip():
        raise BriefError("the text is empty: paste a brief or upload a text, PDF or HTML file")
    if len(text) > MAX_TEXT_CHARS:
        raise BriefError(
            f"the text is too long ({len(text):,} characters; at most {MAX_TEXT_CHARS:,})"
        )
    v = Verifier(lib, include_restricted=include_restricted)
    groups = _groups(text)
    quotes = find_quotations(text)
    # citations inside a quotation belong to the quoted text, not to the brief
    groups = [g for g in groups if not any(q.start <= g.start < q.end for q in quotes)]
    cites: list[dict[str, Any]] = []
    previous: dict[str, Any] | None = None
    for g in groups:
        item = v.citation(g, previous)
        cites.append(item)
        if not g.ibid:
            previous = item
        elif item.get("_doc") is not None:
            previous = {**item}
    items: list[dict[str, Any]] = list(cites)
    for q in quotes:
        items.append(v.quotation(q, _attribution(text, q, quotes, cites)))
    items.sort(key=lambda it: (it["start"], it["type"]))
    for it in items:
        it.pop("_doc", None)
        it.pop("_docs", None)
        _add_links(it, link)
    summary = Counter(f"{it['type']}:{it['status']}" for it in items)
    problems = sum(
        n for key, n in summary.items() if key.split(":", 1)[1] not in ("found", "exact")
    )
    return {
        "characters": len(text),
        "citations": len(cites),
        "quotations": len(quotes),
        "summary": dict(sorted(summary.items())),
        "problems": problems,
        "ok": problems == 0,
        "items": items,
    }


def _attribution(
    text: str, q: Quote, quotes: list[Quote], cites: list[dict[str, Any]]
) -> dict[str, Any] | None:
    """The citation next to a quotation: the first one after it (within 150 characters, before the
    next quotation and the next paragraph), else the last one before it in its paragraph (within
    300 characters)."""
    nxt = min((o.start for o in quotes if o.start >= q.end), default=len(text))
    for c in cites:
        if q.end <= c["start"] <= q.end + 150 and c["start"] < nxt:
            if "\n\n" not in text[q.end : c["start"]]:
                return c
            break
    before = [c for c in cites if c["end"] <= q.start and q.start - c["end"] <= 300]
    if before and "\n\n" not in text[before[-1]["end"] : q.start]:
        return before[-1]
    return None


# -- reading an uploaded brief -------------------------------------------------------------------
def brief_text(data: bytes) -> str:
    """The text of a brief's bytes (PDF, HTML, or plain text in any encoding). Runs in the
    isolated worker: the ingest parsers, nothing stored."""
    from .ingest.detect import detect
    from .ingest.registry import parse_bytes
    from .ingest.text import decode_text

    if detect(data) == "text/plain":
        return decode_text(data).text  # as written: indentation marks a block quotation
    parsed = parse_bytes(data)
    out: list[str] = []
    last: Block | None = None
    for block in parsed.blocks:
        if block.role == "para" and _PAGE_NUMBER.fullmatch(block.text):
            continue  # a page number standing alone between the pages of a PDF
        text = block.text.strip()
        if (
            out
            and last is not None
            and last.page is not None
            and block.page == last.page + 1
            and block.role == "para"
            and not re.search(r"[.:;!?]['\u2019\u201d\")]?$", out[-1])
        ):
            out[-1] += "\n" + text  # a paragraph running over a page break is one paragraph
        else:
            out.append(text)
        last = block
    return "\n\n".join(out)


_PAGE_NUMBER = re.compile(r"\s*(?:-\s*)?(?:page\s+)?\d{1,4}(?:\s*-)?(?:\s+of\s+\d{1,4})?\s*", re.I)


def read_brief(data: bytes, settings: Any, name: str = "upload") -> str:
    """The text of an uploaded brief, parsed in the isolated worker under the ingest limits.
    Raises BriefError naming the file and the reason."""
    from .ingest.worker import run_isolated

    if not data:
        raise BriefError(f"{name}: the file is empty")
    if len(data) > settings.max_file_mb * 1024 * 1024:
        raise BriefError(f"{name}: larger than {settings.max_file_mb} MB")
    for outcome in run_isolated(
        brief_text,
        [data],
        workers=1,
        timeout=settings.parse_timeout,
        memory_mb=settings.parse_memory_mb,
    ):
        if outcome.error:
            raise BriefError(f"{name}: {outcome.error}")
        text = str(outcome.value or "")
        if not text.strip():
            raise BriefError(f"{name}: no text found (a scanned PDF without a text layer?)")
        return text
    raise BriefError(f"{name}: the parser gave no result")
