"""Snippets, as a lawyer reads them: property tests over every passage of the whole shared corpus
(and the bundled collection), then the cases readers met on the bundled collection.

Properties, for queries drawn from each passage itself (words, a phrase, the identifiers it cites):
- every fragment starts and ends at a word boundary (whitespace or an end of the passage);
- every match of the query inside a fragment is marked, and an identifier in one piece;
- only matches are marked: a phrase's words are never marked alone;
- the HTML is the escaped text of the fragments, with only <mark> added.
"""

from __future__ import annotations

import html
import random
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import ARCHIVE, make_settings
from magsearch import citations, snippets
from magsearch.index.whoosh import WhooshIndex
from magsearch.index.whoosh_schema import TOKEN_RE
from magsearch.ingest.pipeline import Ingester, find_files
from magsearch.library import Library, open_library
from magsearch.snippets import Marks

KEY = WhooshIndex(None)._key


@pytest.fixture(scope="module")
def passages(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[str]]:
    """The text of every passage of every document of the shared corpus and the collection."""
    lib = open_library(make_settings(tmp_path_factory.mktemp("snippets") / "data", workers=2))
    Ingester(lib.archive, lib.index, lib.settings).run(find_files([corpus, ARCHIVE]))
    texts = [
        p.text
        for doc in lib.archive.documents()
        for p in lib.archive.passages(doc.current_version)
        if p.text.strip()
    ]
    lib.close()
    assert len(texts) > 1000
    yield texts


def tokens(text: str) -> list[tuple[int, int, str]]:
    return [(m.start(), m.end(), KEY(m.group())) for m in TOKEN_RE.finditer(text)]


def check(text: str, q: Marks, idents: list[tuple[int, int]] = ()) -> None:  # type: ignore[assignment]
    marks = snippets.find_marks(text, q, KEY, TOKEN_RE)
    windows = snippets.fragments(text, marks)
    where = f"{text[:80]!r} {q}"
    for start, end in windows:
        # word boundaries: never inside a word, a number or an identifier
        assert start == 0 or (text[start - 1].isspace() and not text[start].isspace()), where
        assert end == len(text) or (text[end].isspace() and not text[end - 1].isspace()), where
    inside = [m for m in marks if any(s <= m[0] and m[1] <= e for s, e in windows)]
    assert all(any(s <= m[0] and m[1] <= e for s, e in windows) for m in marks if m in inside)

    def marked(a: int, b: int) -> bool:
        return any(ma <= a and b <= mb for ma, mb in marks)

    toks = tokens(text)
    phrase_spans = [
        (toks[i][0], toks[i + len(ph) - 1][1])
        for ph in q.phrases
        for i in range(len(toks) - len(ph) + 1)
        if tuple(t[2] for t in toks[i : i + len(ph)]) == ph
    ]
    for s, e in windows:
        # every match inside a fragment is marked: words, whole phrases, whole identifiers
        for a, b, k in toks:
            quiet = text[a:b].lower() in snippets.QUIET  # "of", "the": marked only in a run
            if s <= a and b <= e and k in q.terms and not quiet:
                assert marked(a, b), (where, text[a:b])
        for a, b in phrase_spans:
            if s <= a and b <= e:
                assert marked(a, b), (where, text[a:b])
        for a, b in idents:  # in one piece: one mark holds every number of it
            if s <= a and b <= e:
                numbers = [m.span() for m in re.finditer(r"\d+", text[a:b])]
                first, last = a + numbers[0][0], a + numbers[-1][1]
                assert marked(first, last), (where, text[a:b])
    # only matches: every token inside a mark is a query word, or inside a phrase or identifier
    for ma, mb in marks:
        for a, b, k in toks:
            if ma <= a and b <= mb:
                assert k in q.terms or any(
                    pa <= a and b <= pb for pa, pb in [*phrase_spans, *idents]
                ), (
                    where,
                    text[ma:mb],
                )
    # the HTML is the fragments, escaped, with <mark> around the marks inside them
    out = snippets.render(text, windows, marks)
    plain = html.unescape(re.sub(r"</?mark>", "", out)).removesuffix(" …")
    assert plain == " … ".join(text[s:e].strip() for s, e in windows), where
    assert out.count("<mark>") == len(inside)


def test_properties_over_every_passage_of_the_corpus(passages: list[str]) -> None:
    rnd = random.Random(12)
    checked = phrases = idents = 0
    for text in passages:
        toks = [t for t in tokens(text) if t[2] and text[t[0] : t[1]].lower() not in snippets.QUIET]
        if not toks:
            continue
        words = frozenset(t[2] for t in rnd.sample(toks, min(3, len(toks))))
        check(text, Marks(terms=words))  # words
        i = rnd.randrange(len(toks))
        phrase = tuple(t[2] for t in tokens(text)[i : i + 3]) if len(tokens(text)) > 2 else ()
        if len(phrase) >= 2:
            check(text, Marks(phrases=(phrase,)))  # a phrase alone: its words never marked alone
            phrases += 1
        cited = [
            c for c in citations.find_citations(text) if "/" in c.normalized or "-" in c.normalized
        ]
        if cited:
            c = cited[0]
            spans = [
                (x.start + (m.end() if (m := snippets._ID_PREFIX.match(x.raw)) else 0), x.end)
                for x in citations.find_citations(text)
                if x.normalized == c.normalized
            ]
            check(text, Marks(idents=(c.normalized,)), spans)
            idents += 1
        checked += 1
    assert checked > 1000 and phrases > 500 and idents > 20, (checked, phrases, idents)


# -- what readers met on the bundled collection ------------------------------------------------------
@pytest.fixture(scope="module")
def lib(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Library]:
    library = open_library(make_settings(tmp_path_factory.mktemp("bundled") / "data", workers=2))
    Ingester(library.archive, library.index, library.settings).run(find_files([ARCHIVE]))
    yield library
    library.close()


def all_snippets(lib: Library, q: str) -> list[str]:
    return [p.snippet for h in lib.search.search(q).hits for p in h.passages]


def test_every_match_in_a_snippet_is_marked(lib: Library) -> None:
    for s in all_snippets(lib, "Magnitskiy custody"):
        plain = re.sub(r"<mark>[^<]*</mark>", "", s)
        assert not re.search(r"(?i)\bcustody\b", plain), s  # "He died in custody on 16"


def test_snippets_never_cut_a_word_or_a_number(lib: Library) -> None:
    for q in ("Magnitsky", "Canada", "United States Act", "custody", "sanctions"):
        for s in all_snippets(lib, q):
            for frag in html.unescape(re.sub(r"</?mark>", "", s)).removesuffix(" …").split(" … "):
                assert not re.search(r"\b(?:ES OF|Act of 20)$", frag), frag
                assert not re.match(r"^\d{1,3}\b(?! ?[.)])", frag) or frag[0].isdigit(), frag


def test_a_phrase_is_marked_as_a_phrase(lib: Library) -> None:
    found = all_snippets(lib, '"medical care"')
    assert sum("<mark>medical care</mark>" in s for s in found) >= 3
    for s in found:  # (a passage found by its heading shows the heading, marked, first)
        assert set(re.findall(r"<mark>([^<]*)</mark>", s)) <= {"medical care", "Medical care"}, s
        assert not re.search(r"(?i)medical care", re.sub(r"<mark>[^<]*</mark>", "", s)), s


def test_an_identifier_is_marked_whole(lib: Library) -> None:
    found = all_snippets(lib, "32631/09")
    assert any("<mark>32631/09</mark>" in s for s in found)
    assert not any("<mark>32631</mark>" in s or "<mark>09</mark>" in s for s in found)
    pl = all_snippets(lib, "Pub. L. 112-208")
    assert any(re.search(r"<mark>Pub\. L\. (?:No\. )?112[-–]208</mark>", s) for s in pl), pl[:3]


def test_a_passage_found_by_its_heading_shows_the_heading_marked(lib: Library) -> None:
    """ "medical care" is in the heading of § 16, not in its text: the snippet says why it is there."""
    hits = lib.search.search('"Article 2" "medical care"').hits
    for p in (p for h in hits for p in h.passages):
        assert "<mark>" in p.snippet, p
