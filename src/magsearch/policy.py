"""What the search service makes of a query before and after an engine runs it: a query typed as a
sentence, the fall-back to some of the words when no document has all of them, and a better
spelling. Engine-free: it reads the query tree (querylang) and asks the engine (index.base) only
to match, count and list the words of its lexicon.
"""

from __future__ import annotations

from dataclasses import dataclass

from . import querylang as ql
from .index.base import IndexBackend

SENTENCE_WORDS = 5  # plain words from which a query is read as a sentence
SUGGEST_BELOW = 3  # look for a better spelling when a query finds fewer documents than this
NEAR_WORDS = (2, 8)  # plain words of a query that may fall back to some of them
# English function words, left out of a query read as a sentence ("may a court try a person after
# his death" -> court try person death); shorter queries keep them (a phrase needs them too)
STOP_WORDS = frozenset(
    """a about above after again against all am an and any are as at be because been before being
    below between both but by can could did do does doing down during each few for from further
    had has have having he her here hers him his how i if in into is it its itself may me might more
    most must my no nor not of off on once only or other our out over own same shall she should so
    some such than that the their theirs them then there these they this those through to too under
    until up very was we were what when where whether which while who whom why will with would you
    your""".split()
)


@dataclass(frozen=True)
class SomeOf:
    """A query loosened to some of its words: the query to run (an Or of the words, with the typed
    filters), the loosened reading to show, and how many of n words a document needs."""

    query: ql.Node
    shown: ql.Or
    some_of: tuple[int, ...]
    dropped: tuple[ql.Word, ...] = ()  # a sentence's stop words, left out


def sentence(node: ql.Node) -> SomeOf | None:
    """A query of SENTENCE_WORDS or more plain words (and field filters), no operators, phrases
    or wildcards: a question or a description typed as a sentence. No document needs all of
    its words: the documents with more than a third of them, the most first (measured in
    docs/benchmarks.md, "Relevance": plain AND lost most questions to plain BM25), and its stop
    words count for nothing. Shorter queries keep AND (with the fall-back of `some_words`)."""
    if not isinstance(node, ql.And):
        return None
    words = [n for n in node.children if isinstance(n, ql.Word)]
    filters = tuple(n for n in node.children if isinstance(n, ql.Facet | ql.DateSpan))
    if len(words) + len(filters) != len(node.children) or len(words) < SENTENCE_WORDS:
        return None
    if any(w.field or w.fuzzy or w.prefix or w.exact for w in words):
        return None
    keep = tuple(w for w in words if w.text.lower().replace("’", "'") not in STOP_WORDS)
    if len(keep) < 2:
        return None
    shown = ql.Or(keep)
    table = tuple(0 if n < 2 else n // 3 + 1 for n in range(len(keep) + 1))
    query: ql.Node = ql.And((shown, *filters)) if filters else shown
    return SomeOf(query, shown, table, tuple(w for w in words if w not in keep))


def some_words(node: ql.Node) -> SomeOf | None:
    """For a query of two to eight plain words (and filters) that no document has all of: the
    documents with more than half of them (one of two), the most first."""
    if not isinstance(node, ql.And):
        return None
    rest = [n for n in node.children if not isinstance(n, ql.Facet | ql.DateSpan | ql.MatchAll)]
    plain = [
        n
        for n in rest
        if isinstance(n, ql.Word) and not (n.field or n.fuzzy or n.prefix or n.exact)
    ]
    if len(plain) != len(rest) or not NEAR_WORDS[0] <= len(plain) <= NEAR_WORDS[1]:
        return None
    shown = ql.Or(node.children)
    table = tuple(
        0 if n < 2 else (n // 2 + 1 if n > 2 else 1) for n in range(len(shown.children) + 1)
    )
    return SomeOf(shown, shown, table)


def better_spelling(engine: IndexBackend, word: str, hidden: frozenset[str]) -> str:
    """A word of the visible documents within 1 (else 2) edits of `word`, the most frequent, when
    `word` itself occurs in none of them (a word that occurs is what the reader meant: "Browder"
    is not "browser"); else ""."""
    if engine.similar_words(word, 0, hidden).get(word, 0):
        return ""
    for max_edits in (1, 2):
        if max_edits == 2 and len(word) < 6:
            break
        near = engine.similar_words(word, max_edits, hidden)
        cands = [(f, c) for c, f in near.items() if c != word and f > 1]
        if cands:
            return max(cands)[1]
    return ""


def respelled(engine: IndexBackend, text: str, node: ql.Node, hidden: frozenset[str]) -> str:
    """`text` with its unknown words (those of `node`, the query as read) replaced by frequent
    near spellings from the archive; "" when there is none."""
    fixes: list[tuple[tuple[int, int], str]] = []
    for leaf in ql.leaves(node):
        if not isinstance(leaf, ql.Word) or leaf.fuzzy or leaf.prefix or leaf.span == (0, 0):
            continue
        plain = engine.words(leaf.text)
        if len(plain) != 1 or len(plain[0]) < 4 or not plain[0].isalpha():
            continue
        better = better_spelling(engine, plain[0], hidden)
        if better:
            fixes.append((leaf.span, better))
    if not fixes:
        return ""
    for (start, end), word in sorted(fixes, reverse=True):
        text = text[:start] + word + text[end:]
    return text
