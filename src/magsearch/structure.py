"""Turn a parsed document's blocks into citable passages whose anchors last across versions.

Pure, no I/O.  ``segment(blocks, kind)``, ``guess_kind(blocks)`` (evidence: ``kind_scores``),
``strip_furniture(blocks)``.  Anchors match ``^[a-z0-9][a-z0-9-]*$`` and are unique per document:

* numbered paragraphs ("41.", "§ 41"), in every kind (legislation only where it has no sections):
  ``para-41`` "§ 41".  A number counts only on
  the longest plausible chain (increasing, jumps <= MAX_JUMP, a year 1800-2100 only right after
  its predecessor), so restarts at "1.", quoted lists and "2019." are continuations.
* legislation: ``sec-404`` "Sec. 404" (SEC./Section), ``sec-10101`` "§ 10101", ``art-3`` "Art. 3",
  ``reg-4`` "Reg. 4", UK "4.—(1)" ``sec-4`` "s. 4" (``reg-4`` "reg. 4" in UK Regulations),
  Canadian "2 (1)" ``sec-2-1`` "s. 2(1)".
  A decimal point in a number is written ``p`` (Canadian 4.1 ``sec-4p1``, 4.1 (2) ``sec-4p1-2``,
  8 (1.1) ``sec-8-1p1``), so section 4.1 never collides with subsection 4(1).  A schedule, annex
  or appendix is one passage: ``schedule``, ``schedule-2``, ``annex-i``.
* a structural anchor seen again gets a letter suffix in document order (``sec-2``, ``sec-2-b``,
  ``sec-2-c``...): stable as long as the earlier occurrences stay.
* PDFs without numbered structure: one passage per page, ``page-12`` "p. 12".
* a passage longer than MAX_PASSAGE_CHARS (20,000) is cut into pieces at paragraph, line, sentence
  or word breaks: the first keeps the anchor, the next are ``-part2``, ``-part3``... (``para-41``,
  ``para-41-part2``), all with the passage's label and pages, so search, snippets and pages handle
  bounded pieces and a permalink to the passage still lands on its start.
* anything else: ``p-`` + 8 hex of the sha1 of the whitespace-normalised lower-cased text of the
  paragraph (of its main block when short blocks were merged in); repeats get ``-2``, ``-3``.
  Label "¶ n" with n its ordinal among all passages (seq + 1).

Text and context: a passage's blocks are joined with blank lines, so a section keeps its title
line on top and its subsections "(a)", "(b)" as paragraphs.  ``heading`` is the path of headings
above it; a heading that another replaced before anything came under it (a title block's
"2020 No. 680") is kept as the first lines of the next paragraph, so no text is lost.  In PDFs a
paragraph broken by a page break (mid-sentence, or going on in lower case) is one block for
numbered paragraphs and sections (page .. page_end); page passages stay per page.  In
legislation, once sections have begun, a parser's heading (HTML h1-h6, a PDF heading) that is no
subsection heading ("(a) In general", or a level below the section's) ends the open section or
schedule: an editorial note or "About this summary" after the last section is a passage of its
own under that heading; a "Preamble" heading stops being context at the first section.
"""

from __future__ import annotations

import hashlib
import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from magsearch.models import Block, Passage

__all__ = ["OUTSIDE", "guess_kind", "kind_scores", "outside_text", "segment", "strip_furniture"]

OUTSIDE = "outside"  # a Block's role for text outside the main text (Block.role)
HEADING_CHARS = (
    1000  # a heading longer than this (a case caption set as a heading) is cut in the path
)
SHORT = 40  # blocks shorter than this merge into the next paragraph...
SHORT_RUN = 400  # ...unless so many come in a row that they make a passage of their own
MAX_JUMP = 10  # largest gap between consecutive paragraph/section numbers
MAX_CHARS_PER_PARA = 2500  # a numbered ruling has a numbered paragraph per this much text...
MIN_PARA_CHARS = 120  # ...and its numbered paragraphs are (median) at least this long
EDGE_LINES = 3  # lines at the top and bottom of a page that may be furniture
MAX_PASSAGE_CHARS = 20_000  # a longer passage is cut into pieces: para-41, para-41-part2, ...
RankFn = Callable[[Block], int]

_RE_MD_HEADING = re.compile(r"^(#{1,6})\s+(.*)$", re.S)


def _digest(text: str) -> str:
    return hashlib.sha1(" ".join(text.lower().split()).encode("utf-8")).hexdigest()[:8]


def _ends_sentence(text: str) -> bool:
    text = text.rstrip()
    return bool(text) and text[-1] in ".;:,!?" and not text.endswith("etc.")


def _is_caps(text: str) -> bool:
    """A short single line in capitals: "THE FACTS", "CASE OF X v. RUSSIA"."""
    letters = [c for c in text if c.isalpha()] if "\n" not in text and len(text) <= 150 else []
    return len(letters) >= 4 and sum(c.isupper() for c in letters) >= 0.9 * len(letters)


def _is_headlike(text: str) -> bool:
    """A short line that may be a heading or marginal note: "Definitions", "Minister"."""
    return (
        "\n" not in text and 2 <= len(text) <= 80 and text[0].isupper() and not _ends_sentence(text)
    )


def _prepare(blocks: list[Block]) -> list[Block]:
    """Trim, drop empty blocks, turn Markdown '#' lines into headings, never page 0."""
    out: list[Block] = []
    for b in blocks:
        text, role, level = b.text.strip(), b.role, b.level
        if m := _RE_MD_HEADING.match(text):
            text, role, level = m[2].strip(), "heading", level or len(m[1])
        if text:
            page = max(1, b.page) if b.page is not None else None
            role = role if role in ("heading", OUTSIDE) else "para"
            out.append(Block(text, role, page, level))
    return out


_RE_PAGE_NO = re.compile(
    r"^(?:page\s*)?[-–—(\[]?\s*\d{1,4}\s*[-–—)\]]?(?:\s*(?:of|/)\s*\d{1,4})?$", re.I
)
_RE_STAR_PAGE = re.compile(r"^\[\*\d+\]\s*")  # "[*2] text": star pagination


def _furniture_key(line: str) -> str:
    """Page numbers ignored: "Page 3 of 20", "Report – iv" match across pages."""
    return re.sub(r"\d+|\b[ivxlc]{1,7}\b", "#", " ".join(line.lower().split()))


def _edge_lines(blocks: list[Block]) -> dict[int, list[tuple[int, int, str]]]:
    """Per page: its first and last EDGE_LINES lines as (block index, line index, line)."""
    pages: dict[int, list[tuple[int, int, str]]] = {}
    for bi, b in enumerate(blocks):
        for li, line in enumerate(b.text.split("\n")):
            if b.page is not None and line.strip() and b.role != OUTSIDE:
                pages.setdefault(b.page, []).append((bi, li, line.strip()))
    n = EDGE_LINES
    return {p: v if len(v) <= 2 * n else v[:n] + v[-n:] for p, v in pages.items()}


def strip_furniture(blocks: list[Block], *, keep_removed: bool = False) -> list[Block]:
    """Drop running heads/feet and lone page numbers from the top and bottom lines of PDF pages
    (with `keep_removed`, the removed lines come back as OUTSIDE blocks, before their block).

    A short line (numbers ignored: "Page 3 of 20" = "Page 4 of 20") among a page's first or last
    EDGE_LINES lines on at least half of the pages (two at least; two pages only if they follow
    each other: a caption that a certificate of service repeats on page 3 is no running head) is
    furniture; so is a lone page number there ("3", "- 3 -", "Page 3", "3/20").  Documents of
    one page are left alone, and so is a page that would have no text left.
    """
    edges = _edge_lines(blocks)
    if len(edges) < 2:
        return list(blocks)
    seen: dict[str, set[int]] = {}
    for page, v in edges.items():
        for _, _, t in v:
            seen.setdefault(_furniture_key(t), set()).add(page)
    threshold = max(2, (len(edges) + 1) // 2)

    def repeated(key: str) -> bool:
        pages = sorted(seen.get(key, ()))
        return len(pages) >= threshold and (len(pages) > 2 or pages[1] == pages[0] + 1)

    edits: dict[tuple[int, int], str] = {}
    for bi, li, line in itertools.chain.from_iterable(edges.values()):
        if len(line) > 100:  # running heads are short; body text may repeat modulo numbers
            continue
        if repeated(_furniture_key(line)) or _RE_PAGE_NO.match(line):
            edits[(bi, li)] = ""
        elif _RE_STAR_PAGE.match(line):
            edits[(bi, li)] = _RE_STAR_PAGE.sub("", line)
    _keep_lone_text(blocks, edits)
    out: list[Block] = []
    for bi, b in enumerate(blocks):
        lines = b.text.split("\n")
        kept = [edits.get((bi, li), line) for li, line in enumerate(lines)]
        text = "\n".join(line for line in kept if line.strip()).strip()
        gone = [line.strip() for li, line in enumerate(lines) if edits.get((bi, li)) == ""]
        if gone and keep_removed:
            out.append(Block("\n".join(gone), OUTSIDE, b.page))
        if text:
            out.append(b if text == b.text else replace(b, text=text))
    return out


def _keep_lone_text(blocks: list[Block], edits: dict[tuple[int, int], str]) -> None:
    """A page whose every line would go (a 500-page file whose pages all say "Hello, World!")
    keeps them: running heads are removed only where the page keeps other text."""
    left: dict[int, int] = {}
    for bi, b in enumerate(blocks):
        if b.page is None or b.role == OUTSIDE:
            continue
        for li, line in enumerate(b.text.split("\n")):
            if line.strip() and edits.get((bi, li), line).strip():
                left[b.page] = left.get(b.page, 0) + 1
    for bi, li in [k for k in edits if not left.get(blocks[k[0]].page or 0)]:
        del edits[(bi, li)]


@dataclass(frozen=True)
class _Span(Block):
    """A paragraph of a PDF that runs over a page break, joined: on pages page..page_end."""

    page_end: int | None = None


_RE_UNIT_START = re.compile(  # what starts a new paragraph even without a sentence end before it
    r"^(?:§\s*\d|\d{1,4}(?:\.\d{1,3})?[.)]?(?:\s|—|–)|\[\d{1,4}\]|\(\w{1,5}\)\s|[IVXLC]{1,7}\.\s|[A-Z]\.\s"
    r"|(?:SEC(?:TION)?|Sec(?:tion)?|ARTICLE|Article|Art|REGULATION|Regulation|Reg)\.?\s*\d)"
)
_RE_CLOSED = re.compile(r"[.?!:;…][”\"’')\]]*$")


def _last_page(b: Block) -> int | None:
    return getattr(b, "page_end", None) or b.page


def _runs_on(before: Block, after: Block) -> bool:
    """Whether `after`, the first block of a page, carries on the paragraph `before` that ended
    the previous page: it starts in lower case ("under its procedural limb."), or `before` stops
    mid-sentence ("a violation of Article 2") and `after` starts no numbered unit or heading."""
    if before.role != "para" or after.role != "para" or before.page is None or not after.page:
        return False
    if after.page != (_last_page(before) or 0) + 1:
        return False
    first = after.text.lstrip("“\"‘'([")[:1]
    if first.islower():
        return True
    return (
        len(before.text) >= 2 * SHORT
        and not _RE_CLOSED.search(before.text)
        and not _RE_UNIT_START.match(after.text)
        and not _is_caps(after.text)
    )


_RE_FOOTNOTE = re.compile(r"^\d{1,3}[A-Z“\"(]")  # "2Unless otherwise indicated, ..."


def _join_pages(blocks: list[Block]) -> list[Block]:
    """PDF paragraphs broken by a page break (its running heads and page numbers already gone)
    joined into one block that remembers both pages; footnotes at the foot of the first page
    stay after it."""
    out: list[Block] = []
    for i, b in enumerate(blocks):
        j = len(out) - 1
        if i and blocks[i - 1].page != b.page:  # b opens a page: look past the footnotes
            while j > 0 and len(out) - j <= 3 and _RE_FOOTNOTE.match(out[j].text):
                j -= 1
        before = out[j] if j >= 0 and i and blocks[i - 1].page != b.page else None
        if before is not None and out[j].page == out[-1].page and _runs_on(before, b):
            left, right = before.text.rstrip(), b.text.lstrip()
            if left.endswith("-") and left[-2:-1].islower() and right[:1].islower():
                text = left[:-1] + right  # "hospi-" + "tal"
            else:
                text = f"{left} {right}"
            out[j] = _Span(text, "para", before.page, before.level, page_end=b.page)
        else:
            out.append(b)
    return out


@dataclass
class _Draft:
    base: str  # anchor before de-duplication; "" -> hashed
    label: str  # "" -> "¶ n"
    heading: str
    key: str = ""  # the text hashed for a fallback anchor
    parts: list[str] = field(default_factory=list)
    pages: list[int] = field(default_factory=list)

    def add(self, block: Block) -> None:
        self.parts.append(block.text)
        self.pages.extend([block.page] if block.page is not None else [])
        if (end := getattr(block, "page_end", None)) is not None:
            self.pages.append(end)


_RE_PREAMBLE = re.compile(r"^(?:Preamble|PREAMBLE|Recitals|RECITALS|Préambule|PRÉAMBULE)\b")


class _Headings:
    """The heading path; a heading of rank r replaces every entry of rank >= r."""

    def __init__(self) -> None:
        self.stack: list[tuple[int, Block]] = []
        self.kinds: dict[str, int] = {}
        self.unused = 0  # how many headings at the top of the stack have nothing under them yet

    def push(self, rank: int, block: Block) -> list[Block]:
        """Push a heading; returns the headings it replaces that had nothing under them (a title
        block's "2020 No. 680"), which would otherwise be lost: the caller keeps them as text."""
        keep = next((k for k, (r, _) in enumerate(self.stack) if r >= rank), len(self.stack))
        first_unused = len(self.stack) - self.unused
        orphans = [b for k, (_, b) in enumerate(self.stack) if k >= max(keep, first_unused)]
        self.stack = [*self.stack[:keep], (rank, block)]
        self.unused = max(0, keep - first_unused) + 1
        return orphans

    def leftover(self) -> list[Block]:
        """At the end: the headings with nothing under them (kept as text, like orphans)."""
        unused, self.unused = self.unused, 0
        return [b for _, b in self.stack[len(self.stack) - unused :]] if unused else []

    def end_preamble(self) -> list[Block]:
        """The enacting text has begun: a "Preamble" heading (and what it holds) is no context.
        Returns those of them with nothing under them, as push does."""
        k = next((k for k, (_, b) in enumerate(self.stack) if _RE_PREAMBLE.match(b.text)), None)
        if k is None:
            return []
        first_unused = len(self.stack) - self.unused
        orphans = [b for n, (_, b) in enumerate(self.stack) if n >= max(k, first_unused)]
        self.stack = self.stack[:k]
        self.unused = max(0, k - first_unused)
        return orphans

    def kind_rank(self, kind: str) -> int:
        """Title/Part/Chapter... ranked in order of first sight (UK: Part > Chapter)."""
        return self.kinds.setdefault(kind, len(self.kinds) + 1)

    def path(self, *, claim: bool = True) -> str:
        """The path, for a passage: every heading on it now has something under it (claim)."""
        self.unused = 0 if claim else self.unused
        return " › ".join(" ".join(b.text.split())[:HEADING_CHARS] for _, b in self.stack)


class _Builder:
    """Structured passages absorb what follows them; loose blocks are paragraphs of their own,
    except short ones (< SHORT), which wait and merge into the next paragraph; a run of them
    reaching SHORT_RUN characters is a passage.  Headings that were replaced before anything
    came under them (a title block) are carried into the next paragraph as its first lines."""

    def __init__(self) -> None:
        self.drafts: list[_Draft] = []
        self.current: _Draft | None = None
        self.pending: list[Block] = []
        self.pending_heading = ""
        self.carried: list[Block] = []
        self.carried_heading = ""

    def carry(self, block: Block, heading: str) -> None:
        self.carried_heading = heading if not self.carried else self.carried_heading
        self.carried.append(block)

    def open(self, base: str, label: str, heading: str, block: Block) -> None:
        self._settle()
        self._drop_carried()
        self.current = _Draft(base, label, heading)
        self.current.add(block)
        self.drafts.append(self.current)

    def add(self, block: Block, heading: str) -> None:
        if self.current is None:
            self.loose(block, heading)
        else:
            self.current.add(block)

    def loose(self, block: Block, heading: str) -> None:
        self.current = None
        self.pending_heading = heading if not self.pending else self.pending_heading
        self.pending.append(block)
        if len(block.text) >= SHORT:
            self._new(heading, block.text)
        elif sum(len(b.text) for b in self.pending) >= SHORT_RUN:  # a list of short lines
            self._new(heading, "\n".join(b.text for b in self.pending))

    def heading(self) -> None:
        self.current = None
        self._settle()

    def _new(self, heading: str, key: str) -> None:
        self.drafts.append(_Draft("", "", heading, key))
        for b in [*self.carried, *self.pending]:
            self.drafts[-1].add(b)
        self.pending, self.carried = [], []

    def _drop_carried(self) -> None:
        """Carried headings with no paragraph to go to (a section follows): a passage."""
        if self.carried:
            key = "\n".join(b.text for b in self.carried)
            self.drafts.append(_Draft("", "", self.carried_heading, key))
            for b in self.carried:
                self.drafts[-1].add(b)
            self.carried = []

    def _settle(self) -> None:
        """Short blocks with no paragraph after them in their section: to the previous passage
        when it has the same heading, else a passage of their own."""
        if self.pending and self.drafts and self.drafts[-1].heading == self.pending_heading:
            for b in self.pending:
                self.drafts[-1].add(b)
            self.pending = []
        elif self.pending:
            self._new(self.pending_heading, "\n".join(b.text for b in self.pending))

    def finish(self) -> list[_Draft]:
        self._settle()
        self._drop_carried()
        return self.drafts


def _finalise(drafts: list[_Draft]) -> list[Passage]:
    used: set[str] = set()
    out: list[Passage] = []
    for d in drafts:
        text = "\n\n".join(p.strip() for p in d.parts if p.strip())
        if not text:
            continue
        base = re.sub(r"[^a-z0-9-]+", "-", d.base.lower()).strip("-")
        anchor = base or "p-" + _digest(d.key or text)
        for n in itertools.count(2):
            if anchor not in used:
                break
            letters = chr(96 + n) if n <= 26 else f"z{n}"  # -b ... -z, -z27 ...
            anchor = f"{base}-{letters}" if base else f"p-{_digest(d.key or text)}-{n}"
        first, last = (min(d.pages), max(d.pages)) if d.pages else (None, None)
        for k, piece in enumerate(_pieces(text, MAX_PASSAGE_CHARS), start=1):
            name = anchor if k == 1 else f"{anchor}-part{k}"
            used.add(name)
            seq = len(out)
            out.append(Passage(seq, name, d.label or f"¶ {seq + 1}", piece, first, last, d.heading))
    return out


def _pieces(text: str, limit: int) -> list[str]:
    """`text` in pieces of at most `limit` characters, cut at the last paragraph break, else line
    break, else sentence end, else space in the second half of each piece (else mid-word)."""
    if len(text) <= limit:
        return [text]
    out: list[str] = []
    start = 0
    while len(text) - start > limit:
        end = start + limit
        cut = -1
        for sep in ("\n\n", "\n", ". ", " "):
            at = text.rfind(sep, start + limit // 2, end)
            if at >= 0:
                cut = at + len(sep)
                break
        cut = cut if cut > start else end
        out.append(text[start:cut].strip())
        start = cut
    out.append(text[start:].strip())
    return [p for p in out if p]


def _best_chain(cands: list[tuple[int, float]]) -> set[int]:
    """Indexes on the longest plausible chain of (index, number) candidates (earliest on ties):
    increasing, integer part up by <= MAX_JUMP, a year-like 1800-2100 only right after n - 1."""
    best: dict[int, dict[float, tuple[int, int]]] = {}  # int part -> number -> (length, position)
    length, prev = [1] * len(cands), [-1] * len(cands)
    for pos, (_, key) in enumerate(cands):
        whole = int(key)
        year = key == whole and 1800 <= whole <= 2100
        for part in range(whole - (1 if year else MAX_JUMP), whole + 1):
            for k2, (l2, p2) in best.get(part, {}).items():
                if k2 < key and (not year or k2 == key - 1) and l2 + 1 > length[pos]:
                    length[pos], prev[pos] = l2 + 1, p2
        if best.setdefault(whole, {}).get(key, (0, 0))[0] < length[pos]:
            best[whole][key] = (length[pos], pos)
    chain: set[int] = set()
    pos = max(range(len(cands)), key=lambda p: (length[p], -p), default=-1)
    while pos >= 0:
        chain.add(cands[pos][0])
        pos = prev[pos]
    return chain


_RE_PARA_NO = re.compile(r"^(?:§\s*(\d{1,4})\.?|(\d{1,4})\.)(?=\s|$)")
_RE_ENUMERATORS = [  # heading enumerators and the rank they give: I. A. 1. (a) (i)
    (re.compile(rx), rank)
    for rx, rank in [
        (r"^[IVX]+\.\s", 2),
        (r"^[A-Z]\.\s", 3),
        (r"^\d{1,2}\.\s", 4),
        (r"^\([ivx]+\)\s", 6),
        (r"^\([a-z]\)\s", 5),
    ]
]


def _para_number(b: Block) -> int | None:
    m = _RE_PARA_NO.match(b.text) if b.role != "heading" else None
    return int(m[1] or m[2]) if m else None


def _ruling_heading_rank(b: Block) -> int:
    """Role headings; capitals ("THE LAW" 1, "I. ALLEGED ..." 2); short enumerated titles."""
    text = b.text
    enum = next((rank for rx, rank in _RE_ENUMERATORS if rx.match(text)), 0)
    if b.role == "heading":  # a PDF's heading has no level: rank it by its enumerator
        return b.level or enum or 1
    if _is_caps(text):
        return enum or 1
    words = text.split(maxsplit=1)
    titled = len(words) == 2 and words[1][0].isupper() and len(text) <= 100 and "\n" not in text
    return enum if titled and not _ends_sentence(text) else 0


def _numbered_paragraphs(blocks: list[Block]) -> dict[int, int]:
    """Block index -> paragraph number, when the document is numbered paragraph by paragraph:
    a plausible chain of >= 3, one number per MAX_CHARS_PER_PARA characters, and numbered
    paragraphs of (median) >= MIN_PARA_CHARS, so that a US opinion's list of exhibits is not."""
    cands = [(i, float(n)) for i, b in enumerate(blocks) if (n := _para_number(b)) is not None]
    chain = _best_chain(cands)
    body = sum(len(b.text) for b in blocks if b.role != "heading")
    if len(chain) < 3 or body / len(chain) > MAX_CHARS_PER_PARA:
        return {}
    sizes: list[int] = []
    open_para = False
    for i, b in enumerate(blocks):
        if i in chain:
            sizes.append(len(b.text))
            open_para = True
        elif open_para and not (heading := _ruling_heading_rank(b)):
            sizes[-1] += len(b.text)
        elif open_para and heading:
            open_para = False
    if sorted(sizes)[len(sizes) // 2] < MIN_PARA_CHARS:
        return {}
    return {i: int(n) for i, n in cands if i in chain}


def _walk(blocks: list[Block], rank_fn: RankFn, numbers: dict[int, int]) -> list[_Draft]:
    """Numbered paragraphs absorb what follows up to the next number or heading; other
    blocks are paragraphs of their own; headings give the context."""
    build, heads = _Builder(), _Headings()
    for i, b in enumerate(blocks):
        if i in numbers:
            build.open(f"para-{numbers[i]}", f"§ {numbers[i]}", heads.path(), b)
        elif rank := rank_fn(b):
            build.heading()
            for orphan in heads.push(rank, b):
                build.carry(orphan, heads.path(claim=False))
        else:
            build.add(b, heads.path())
    for orphan in heads.leftover():
        build.carry(orphan, heads.path(claim=False))
    return build.finish()


_RE_NAMED = re.compile(
    r"^(?:(SECTION|Section|SEC\.|Sec\.)|(§)(?!§)|(ARTICLE|Article|Art\.)|(REGULATION|Regulation|Reg\.))"
    r"\s*(\d{1,5}[A-Za-z]{0,2}(?:-\d+)?)(.*)$",
    re.S,
)
_NAMED_FORMS = [("sec", "Sec. {}"), ("sec", "§ {}"), ("art", "Art. {}"), ("reg", "Reg. {}")]
_RE_NAMED_END = re.compile(r"[ \t]*(?:$|\n|[.:—–-])")  # "Section 2 of the Act" is no heading
_RE_UK = re.compile(r"^(\d{1,4}[A-Z]?)\.(?:\s*([—–])|\s+[(“\"‘'A-Z])")  # "4.—(1) The", "5. The"
_RE_CA = re.compile(r"^(\d{1,4}(?:\.\d{1,3})?)\s+(?:\((\d{1,3}(?:\.\d{1,2})?)\)\s+)?(\S)")
_RE_CA_SUB = re.compile(r"^\((\d{1,3}(?:\.\d{1,2})?)\)\s+\S")
_RE_KIND = re.compile(
    r"^(TITLE|SUBTITLE|CHAPTER|SUBCHAPTER|PART|SUBPART|DIVISION|Title|Subtitle|Chapter|"
    r"Subchapter|Part|Subpart|Division)\s+(?:\d{1,4}[A-Z]?|[IVXLC]{1,7}|[A-Z])\b"
)
_RE_SCHEDULE = re.compile(
    r"^(SCHEDULE|ANNEX|APPENDIX|Schedule|Annex|Appendix)(?:\s+(\d{1,3}[A-Z]?|[IVXLC]{1,6}|[A-Z])\b)?"
)


@dataclass(frozen=True)
class _Sec:
    base: str
    label: str
    canadian: str | None = None  # Canadian "N (k)" section: its "(k)" lines are passages too
    number: float = 0.0  # UK / Canadian number, for the plausibility chain


def _slug(num: str) -> str:
    return num.lower().replace(".", "p")


def _named_section(b: Block) -> _Sec | None:
    m = _RE_NAMED.match(b.text)
    if not m or not (b.role == "heading" or _RE_NAMED_END.match(m[6])):
        return None
    prefix, label = _NAMED_FORMS[next(k for k in range(4) if m[k + 1])]
    return _Sec(f"{prefix}-{_slug(m[5])}", label.format(m[5]))


def _numeric_section(b: Block) -> tuple[_Sec, bool] | None:
    """UK / Canadian numbered section as (section, strong); weak ones need a plausible chain."""
    if m := _RE_UK.match(b.text):
        key = float(re.sub(r"\D", "", m[1])) + (0.5 if m[1][-1].isalpha() else 0)
        return _Sec(f"sec-{_slug(m[1])}", f"s. {m[1]}", number=key), bool(m[2])
    if not (m := _RE_CA.match(b.text)):
        return None
    num, sub = m[1], m[2]
    if sub:
        return _Sec(f"sec-{_slug(num)}-{_slug(sub)}", f"s. {num}({sub})", num, float(num)), True
    sentence = len(b.text) >= SHORT or _ends_sentence(b.text)  # not "1 History" (a TOC)
    if (m[3].isupper() and sentence) or m[3] == "[":
        return _Sec(f"sec-{_slug(num)}", f"s. {num}", number=float(num)), False
    return None


def _kind_of(b: Block) -> str | None:
    """ "TITLE IV—", "PART 1", "Subtitle F—", "CHAPTER 108—" -> "title", "part", ..."""
    text = b.text
    m = _RE_KIND.match(text) if "\n" not in text and len(text) <= 200 else None
    if not m or (_ends_sentence(text) and not _is_caps(text) and b.role != "heading"):
        return None
    return m[1].lower()


def _schedule_of(b: Block) -> tuple[str, str] | None:
    """ "SCHEDULE (Section 1)" -> ("schedule", "Schedule"); "ANNEX II" -> ("annex-ii", ...)."""
    text = b.text
    m = _RE_SCHEDULE.match(text) if "\n" not in text and len(text) <= 80 else None
    if not m or not (m[1].isupper() or b.role == "heading") or _ends_sentence(text):
        return None
    word, num = m[1].lower(), m[2] or ""
    return f"{word}-{num.lower()}".strip("-"), f"{word.capitalize()} {num}".strip()


def _definite_heading(b: Block) -> bool:
    return bool(_kind_of(b) or _is_caps(b.text) or _schedule_of(b))


def _find_sections(blocks: list[Block]) -> dict[int, _Sec]:
    """Section starts by block index: named forms if any, else a plausible UK/Canadian chain.
    Schedules (up to the next capitals or Part/Title heading) hold no sections."""
    skip, inside = set(), False
    for i, b in enumerate(blocks):
        inside = bool(_schedule_of(b)) or (inside and not _definite_heading(b))
        skip |= {i} if inside else set()
    named = {i: s for i, b in enumerate(blocks) if i not in skip and (s := _named_section(b))}
    if named:
        return named
    numeric = {i: r for i, b in enumerate(blocks) if i not in skip and (r := _numeric_section(b))}
    chain = _best_chain([(i, s.number) for i, (s, _) in numeric.items()])
    return {i: s for i, (s, strong) in numeric.items() if strong or i in chain}


class _Legislation:
    def __init__(self, blocks: list[Block], secs: dict[int, _Sec]) -> None:
        self.blocks, self.secs = blocks, secs
        self.build, self.heads = _Builder(), _Headings()
        self.ca_sec: str | None = None  # open Canadian section whose "(k)" lines are passages
        self.in_schedule = False
        self.sec_level: int | None = None  # heading level of the open section's first line
        self.begun = False  # a section or schedule has been seen: headings are context now

    def run(self) -> list[_Draft]:
        for i, b in enumerate(self.blocks):
            if self.in_schedule and not _definite_heading(b) and not self._closes_schedule(b):
                self.build.add(b, self.heads.path())
            elif sched := _schedule_of(b):
                self.ca_sec, self.in_schedule, self.begun = None, True, True
                self.sec_level = b.level if b.role == "heading" else 0
                self._keep(self.heads.push(b.level if b.role == "heading" else 40, b))
                self.build.open(*sched, self.heads.path(), b)
            elif start := self._start(i):
                self.ca_sec, self.in_schedule, self.begun = start.canadian, False, True
                self.sec_level = b.level if b.role == "heading" else 0
                self._keep(self.heads.end_preamble())
                self.build.open(start.base, start.label, self.heads.path(), b)
            elif rank := self._heading_rank(i, b):
                self.in_schedule = False
                self.sec_level = None
                self.build.heading()
                self._keep(self.heads.push(rank, b))
            else:
                self.build.add(b, self.heads.path())
        self._keep(self.heads.leftover())
        return self.build.finish()

    def _keep(self, orphans: list[Block]) -> None:
        for orphan in orphans:
            self.build.carry(orphan, self.heads.path(claim=False))

    def _start(self, i: int) -> _Sec | None:
        b, ca = self.blocks[i], self.ca_sec
        m = _RE_CA_SUB.match(b.text) if ca and b.role != "heading" else None
        if i in self.secs or not (m and ca):
            return self.secs.get(i)
        return _Sec(f"sec-{_slug(ca)}-{_slug(m[1])}", f"s. {ca}({m[1]})", canadian=ca)

    def _heading_rank(self, i: int, b: Block) -> int:
        if kind := _kind_of(b):
            self.ca_sec = None
            return b.level or self.heads.kind_rank(kind)
        caps = _is_caps(b.text)
        if not (caps or b.role == "heading" or _is_headlike(b.text)):
            return 0
        distance = self._distance_to_start(i)
        if distance is None and caps:  # "RELATED PROVISIONS": ends the open section
            self.ca_sec = None
            return b.level or 40
        if distance is None and self._closes_section(b):  # an editorial note after the last
            self.ca_sec = None
            return b.level or 40
        if distance is None:  # "(a) In general", a defined term...: text of the open section
            return 0
        return b.level or (60 if distance == 1 else 50)  # marginal note / group heading

    def _closes_schedule(self, b: Block) -> bool:
        """A heading of the schedule's own level or above ("## Annexes" < "# Editorial note")."""
        level = self.sec_level
        return b.role == "heading" and bool(b.level and level and b.level <= level)

    def _closes_section(self, b: Block) -> bool:
        """After the first section, a parser's heading that is no subsection heading: not
        enumerated ("(a) In general") and, where levels are known, not below the open section's
        own ("## SEC." < "# NOTE").  (Before it, a title stays a paragraph, as it always was.)"""
        if not self.begun or b.role != "heading":
            return False
        if any(rx.match(b.text) for rx, _ in _RE_ENUMERATORS):
            return False
        return not (b.level and self.sec_level and b.level > self.sec_level)

    def _distance_to_start(self, i: int) -> int | None:
        """Blocks ahead to a section start, through at most one more heading-like line."""
        for j in range(i + 1, min(i + 3, len(self.blocks))):
            nb = self.blocks[j]
            if self._start(j) or _schedule_of(nb):
                return j - i
            if _kind_of(nb) or not (
                nb.role == "heading" or _is_headlike(nb.text) or _is_caps(nb.text)
            ):
                return None
        return None


def _split_lines(blocks: list[Block]) -> list[Block]:
    """One block per line for line-per-element text (Justice Canada style) that arrived as
    multi-line blocks; hard-wrapped prose (most lines long and unpunctuated) stays whole."""
    out: list[Block] = []
    for b in blocks:
        lines = [line.strip() for line in b.text.split("\n") if line.strip()]
        soft = sum(len(t) >= 40 and t[-1] not in ".;:!?)]" for t in lines[:-1])
        if b.role == "heading" or len(lines) < 2 or soft >= 0.6 * (len(lines) - 1):
            out.append(b)
        else:
            out.extend(replace(b, text=line) for line in lines)
    return out


def _prose_rank(b: Block) -> int:
    return (b.level or 1) if b.role == "heading" else int(_is_caps(b.text))


def _segment_pages(blocks: list[Block], rank_fn: RankFn) -> list[_Draft]:
    """One passage per page; headings stay in the text and also give the heading context."""
    drafts: list[_Draft] = []
    heads, page = _Headings(), 1
    for b in blocks:
        page = b.page or page
        if rank := rank_fn(b):
            heads.push(rank, b)
        if not drafts or drafts[-1].pages[-1] != page:
            drafts.append(_Draft(f"page-{page}", f"p. {page}", heads.path()))
        drafts[-1].add(replace(b, page=page))
    return drafts


def segment(blocks: list[Block], kind: str) -> list[Passage]:
    """Cut a document's blocks into passages; see the module docstring for the anchors."""
    prepared = [b for b in _prepare(blocks) if b.role != OUTSIDE]
    is_pdf = any(b.page is not None for b in prepared)
    joined = prepared
    if is_pdf:
        prepared = strip_furniture(prepared)
        joined = _join_pages(prepared)  # paragraphs whole for numbered units; pages stay apart
    drafts: list[_Draft] | None = None
    if kind == "ruling" and (numbers := _numbered_paragraphs(joined)):
        drafts = _walk(joined, _ruling_heading_rank, numbers)
    elif kind == "legislation":
        blocks_ = joined if is_pdf else _split_lines(prepared)
        secs = _find_sections(blocks_)
        drafts = _Legislation(blocks_, secs).run() if secs else None
    if drafts is None:
        rank_fn = _ruling_heading_rank if kind == "ruling" else _prose_rank
        if kind != "ruling" and (numbers := _numbered_paragraphs(joined)):
            drafts = _walk(joined, rank_fn, numbers)  # a resolution's or report's own numbers
        elif is_pdf:
            drafts = _segment_pages(prepared, rank_fn)
        else:
            drafts = _walk(prepared, rank_fn, {})
    passages = _finalise(drafts)
    if kind == "legislation" and _uk_regulations(prepared):
        passages = [_as_regulation(p) for p in passages]
    return passages


_SI_LINE = re.compile(r"(?i)^(?:(?:19|20)\d\d\s+No\.\s*\d+|statutory\s+instruments?)$")


def _uk_regulations(blocks: list[Block]) -> bool:
    """A UK statutory instrument that calls itself Regulations ("2020 No. 680" at its head)."""
    head = [b.text.strip() for b in blocks[:15]]
    return any(_SI_LINE.match(t) for t in head) and any(
        re.search(r"\bRegulations\b", t) for t in head
    )


def _as_regulation(p: Passage) -> Passage:
    """UK regulations are cited by regulation: "4.—(1)" is ``reg-4`` "reg. 4", not a section."""
    m = re.fullmatch(r"sec-(\S+)", p.anchor)
    if not m or not p.label.startswith("s. "):
        return p
    return replace(p, anchor=f"reg-{m[1]}", label="reg. " + p.label[3:])


def outside_text(blocks: list[Block], outside: list[Block] | tuple[Block, ...] = ()) -> str:
    """The text that is no passage's: what the parser set apart as outside the main text
    (`outside`: an HTML page's side columns, notes and captions, a PDF's page numbers) and the
    running heads and feet that segment() removes from PDF pages. Searchable, never cited."""
    prepared = _prepare(blocks)
    parts = [b.text.strip() for b in outside if b.text.strip()]
    parts += [b.text for b in prepared if b.role == OUTSIDE]
    main = [b for b in prepared if b.role != OUTSIDE]
    if any(b.page is not None for b in main):
        parts += [b.text for b in strip_furniture(main, keep_removed=True) if b.role == OUTSIDE]
    return "\n\n".join(parts)


# pattern -> (weight, least number of matches); each signal counts once
_RULING_SIGNALS = {
    r"\bJUDGMENT\b": (3, 1),
    r"\bOPINION\b|\bOpinion of the Court\b": (2, 1),
    r"(?i)\bit is so ordered\b": (3, 1),
    r"(?i)\bfor these reasons\b": (2, 1),
    r"(?i)\b(?:applicant|appell(?:ant|ee)|petitioner|respondent|plaintiff|defendant)s?\b": (2, 3),
    r"\bv\.\s": (1, 1),
    r"\bCourt\b": (1, 3),
    r"\bCourt\b(?#again, at 10)": (1, 10),
    r"(?i)\bdocket\b": (2, 1),
    r"(?i)\b(?:affirmed|reversed|remanded)\b": (1, 1),
}
_LEGISLATION_SIGNALS = {
    r"(?i)\bbe it enacted\b": (4, 1),
    r"(?i)\benacts as follows\b|\bédicte\s*:": (4, 1),
    r"(?i)\bmay be cited as\b|\bpeut être citée\b": (3, 1),
    r"\bth(?:is|ese) (?:Act|chapter|subchapter|Regulations?)\b|\bprésente loi\b": (2, 2),
    r"(?m)^(?:Article|ARTICLE)\s+1\b": (2, 1),
    r"\bRegulations?\b": (1, 3),
    r"(?i)\bwhereas\b": (1, 2),
}


def _score(signals: dict[str, tuple[int, int]], text: str) -> int:
    return sum(w for rx, (w, least) in signals.items() if len(re.findall(rx, text)) >= least)


def kind_scores(blocks: list[Block]) -> dict[str, int]:
    """The evidence behind guess_kind: the signals above, plus 3 for >= 5 numbered paragraphs
    (ruling) and 3 for >= 3 sections, 2 more for >= 10 (legislation)."""
    prepared = [b for b in _prepare(blocks) if b.role != OUTSIDE]
    text = "\n".join(b.text for b in prepared)[:300_000]
    scores = {"ruling": _score(_RULING_SIGNALS, text)}
    scores["legislation"] = _score(_LEGISLATION_SIGNALS, text)
    scores["ruling"] += 3 if len(_numbered_paragraphs(prepared)) >= 5 else 0
    found = _find_sections(_split_lines(prepared)).values()
    named = sum(not s.number for s in found)  # numeric ones count when dense, unlike footnotes
    sections = named or (len(found) if len(found) * 3000 >= len(text) else 0)
    scores["legislation"] += (3 if sections >= 3 else 0) + (2 if sections >= 10 else 0)
    return scores


def guess_kind(blocks: list[Block]) -> str:
    """ "ruling" / "legislation" when its score is >= 4 and beats the other's; else "article"
    for prose (>= 500 characters, >= 2 paragraphs); else "other"."""
    prepared = [b for b in _prepare(blocks) if b.role != OUTSIDE]
    chars = sum(len(b.text) for b in prepared)
    scores = kind_scores(prepared)
    ruling, legislation = scores["ruling"], scores["legislation"]
    if chars >= 200 and max(ruling, legislation) >= 4 and ruling != legislation:
        return "ruling" if ruling > legislation else "legislation"
    paras = [b for b in prepared if b.role != "heading" and len(b.text) >= SHORT]
    return "article" if chars >= 500 and len(paras) >= 2 else "other"
