"""Snippets: a passage's best fragments as escaped HTML with <mark> around what the query matched.

Engine-free: the index backend hands in what the query asks for (`Marks`: index terms of single
words, phrases as sequences of terms, identifiers as normalised strings) and its per-token function
(raw token -> index term, or the tuple of terms indexed at the token's position). The rules a lawyer relies on:

- a fragment starts and ends at a word boundary (whitespace or the ends of the text), at a sentence
  boundary when one is near; a word, a number or an identifier is never cut;
- inside a fragment every match of the query is marked, and only matches: a phrase is marked as
  one span where its words stand in order, never its words alone; an identifier ("32631/09",
  "Pub. L. No. 112–208") is one span; small words ("the", "of") typed among other words are
  marked only next to another mark, as part of a phrase-like run;
- fragments never overlap or repeat text.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass

from . import citations

TOKEN = re.compile(r"\w+(?:\.?\w+)*")  # the index's tokens (index/whoosh_schema.py _TOKEN)
FRAGMENT_CHARS = 240  # about this many characters per fragment
SURROUND = 80  # of context before the first and after the last mark of a fragment
SENTENCE_REACH = 60  # how far a fragment may stretch to start or end at a sentence boundary
QUIET = frozenset(
    "a an and as at be by for from in is it of on or that the this to was were with".split()
)  # marked only inside a run of marks (a phrase), not each time they occur
_SENTENCE_END = re.compile(r"[.!?;:][)\]”’\"']*\s+")
_ID_PREFIX = re.compile(r"(?i)^(?:app(?:lication)?s?\.?\s+)?nos?\.\s*")

Span = tuple[int, int]
Split = Callable[[str], list[tuple[int, int, str]]]  # a token -> its (start, end, piece)s


@dataclass(frozen=True)
class Marks:
    """What a query asks to mark."""

    terms: frozenset[str] = frozenset()  # index terms of single words
    phrases: tuple[tuple[str, ...], ...] = ()  # index terms of each phrase, in order
    idents: tuple[str, ...] = ()  # normalised identifiers (citations.normalize)

    def __bool__(self) -> bool:
        return bool(self.terms or self.phrases or self.idents)


def find_marks(
    text: str,
    q: Marks,
    key: Callable[[str], str | tuple[str, ...]],
    token: re.Pattern[str] = TOKEN,
    split: Split | None = None,
) -> list[Span]:
    """Every span of `text` the query matches, sorted and not overlapping. `split` cuts a token
    into the pieces the index holds (Chinese, Japanese and Korean runs as character bigrams)."""
    spans: list[Span] = list(_ident_spans(text, q.idents)) if q.idents else []
    tokens: list[tuple[int, int, tuple[str, ...]]] = []
    if q.terms or q.phrases:

        def keys(word: str) -> tuple[str, ...]:
            k = key(word)
            return (k,) if isinstance(k, str) else k

        for m in token.finditer(text):
            word, at = m.group(), m.start()
            if split is None or word.isascii():
                tokens.append((at, m.end(), keys(word)))
            else:
                tokens += [(at + a, at + b, keys(piece)) for a, b, piece in split(word)]
    for phrase in q.phrases:
        n = len(phrase)
        if not n:
            continue
        for i in range(len(tokens) - n + 1):
            if phrase[0] in tokens[i][2] and all(
                phrase[j] in tokens[i + j][2] for j in range(1, n)
            ):
                spans.append((tokens[i][0], tokens[i + n - 1][1]))
    spans = _merge(spans)
    if q.terms:
        words = [
            (a, b, text[a:b].lower() in QUIET)
            for a, b, ks in tokens
            if not q.terms.isdisjoint(ks) and not _inside((a, b), spans)
        ]
        runs: list[list[tuple[int, int, bool]]] = []  # marks next to each other, as in a phrase
        for w in words:
            if runs and w[0] - runs[-1][-1][1] <= 2:
                runs[-1].append(w)
            else:
                runs.append([w])
        loud = [(a, b) for run in runs if not all(q_ for *_, q_ in run) for a, b, _ in run]
        if not loud and not spans:  # a query of small words alone: mark them
            loud = [(a, b) for a, b, _ in words]
        spans = _merge(spans + loud)
    return spans


def _ident_spans(text: str, idents: tuple[str, ...]) -> list[Span]:
    """Where the identifiers stand, whole: as written ("32631/09"), or in any form the citation
    extractor reads as the same identifier ("Pub. L. No. 112–208" for "Pub. L. 112-208")."""
    out: list[Span] = []
    need_extractor = []
    for ident in idents:
        literal = r"\s*".join("[-–—]" if c == "-" else re.escape(c) for c in ident.replace(" ", ""))
        found = [m.span() for m in re.finditer(rf"(?<!\w){literal}(?!\w)", text, re.I)]
        out += found
        digits = re.findall(r"\d+", ident)
        if not found and digits and all(d in text for d in digits):
            need_extractor.append(ident)
    if need_extractor:
        wanted = set(need_extractor)
        for c in citations.find_citations(text):
            if c.normalized in wanted:
                raw = text[c.start : c.end]
                cut = _ID_PREFIX.match(raw)
                out.append((c.start + (cut.end() if cut else 0), c.end))
    return out


def _merge(spans: list[Span]) -> list[Span]:
    out: list[Span] = []
    for a, b in sorted(spans):
        if out and a < out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def _inside(span: Span, spans: list[Span]) -> bool:
    return any(a <= span[0] and span[1] <= b for a, b in spans)


# -- fragments -------------------------------------------------------------------------------------
def fragments(text: str, marks: list[Span], *, top: int = 2) -> list[tuple[int, int]]:
    """The (start, end) of the `top` best fragments: clusters of marks with context, at word
    boundaries, merged when they touch. Without marks: the opening of the text."""
    if not marks:
        return [(0, _end_at(text, FRAGMENT_CHARS))] if text.strip() else []
    clusters: list[list[Span]] = []
    for span in marks:  # clusters of marks that fit in one fragment
        if clusters and span[1] - clusters[-1][0][0] <= FRAGMENT_CHARS - 2 * SURROUND:
            clusters[-1].append(span)
        else:
            clusters.append([span])
    best = sorted(clusters, key=lambda c: (-len(c), c[0][0]))[:top]
    windows: list[tuple[int, int]] = []
    for cluster in sorted(best, key=lambda c: c[0][0]):
        start = _start_at(text, cluster[0][0] - SURROUND) if cluster[0][0] > SURROUND else 0
        end = _end_at(text, cluster[-1][1] + SURROUND)
        start, end = _cover(text, marks, start, end)
        if windows and start <= windows[-1][1]:  # touching windows: one fragment, no repeats
            prev = windows.pop()
            start, end = prev[0], max(prev[1], end)
        windows.append((start, end))
    return windows


def _cover(text: str, marks: list[Span], start: int, end: int) -> tuple[int, int]:
    """The window grown until no mark straddles its edges (a phrase or an identifier is whole)."""
    while True:
        grown = (start, end)
        for a, b in marks:
            if a < start < b:
                start = _start_at(text, a)
            if a < end < b:
                end = _end_at(text, b)
        if (start, end) == grown:
            return start, end


def _is_start(text: str, i: int) -> bool:
    return i <= 0 or (i < len(text) and text[i - 1].isspace() and not text[i].isspace())


def _is_end(text: str, i: int) -> bool:
    return i >= len(text) or (i > 0 and text[i].isspace() and not text[i - 1].isspace())


def _start_at(text: str, at: int) -> int:
    """A fragment start at or before `at`: a sentence's start within reach, else a word's."""
    at = max(0, min(len(text), at))
    lo = max(0, at - SENTENCE_REACH)
    sentence = [m.end() for m in _SENTENCE_END.finditer(text, lo, at + 1) if m.end() <= at]
    if sentence:
        return sentence[-1]
    i = at
    while i > 0 and not _is_start(text, i):
        i -= 1
    return i


def _end_at(text: str, at: int) -> int:
    """A fragment end at or after `at`: a sentence's end within reach, else a word's."""
    at = max(0, min(len(text), at))
    m = _SENTENCE_END.search(text, at, min(len(text), at + SENTENCE_REACH))
    if m:
        end = m.start() + 1  # after the full stop
        while end < len(text) and not text[end].isspace():
            end += 1  # a closing quote or bracket
        return end
    if len(text) - at <= SENTENCE_REACH:
        return len(text)  # the rest of the passage is short: all of it
    i = at
    while i < len(text) and not _is_end(text, i):
        i += 1
    return i


def render(text: str, windows: list[tuple[int, int]], marks: list[Span]) -> str:
    out = []
    for start, end in windows:
        pieces, pos = [], start
        for a, b in marks:
            if a >= start and b <= end:
                pieces.append(
                    html.escape(text[pos:a]) + "<mark>" + html.escape(text[a:b]) + "</mark>"
                )
                pos = b
        pieces.append(html.escape(text[pos:end]))
        out.append("".join(pieces).strip())
    joined = " … ".join(out)
    if not marks and windows and windows[-1][1] < len(text.rstrip()):
        joined += " …"  # the opening of a passage that goes on
    return joined


def snippet(
    text: str,
    q: Marks,
    key: Callable[[str], str | tuple[str, ...]],
    *,
    top: int = 2,
    token: re.Pattern[str] = TOKEN,
    split: Split | None = None,
) -> str:
    """Escaped text with <mark>…</mark> around what the query matched: the `top` best fragments
    joined with " … " (and a trailing " …" when the passage goes on)."""
    marks = find_marks(text, q, key, token, split) if q else []
    return render(text, fragments(text, marks, top=top), marks)
