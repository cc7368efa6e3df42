"""The PDF parser's per-page text checks (is a page unreadable, is a line all capitals) count
characters in C where they can; they must give the answers of their letter-by-letter definitions,
on the corpus's page texts and on made-up text with every kind of character they distinguish."""

from __future__ import annotations

import unicodedata
from collections import Counter
from pathlib import Path

import pytest

from magsearch.ingest import pdf

# Pages of every kind: an unreadable CID font (jo, issue16538, issue9418: glyph codes), Thai,
# full-width Latin, German, a ruling, a book's footnotes (freeculture's first pages).
FILES = (
    "pdf-fixtures/pdfminer__jo.pdf",
    "pdf-fixtures/pdfjs__issue16538.pdf",
    "pdf-fixtures/pdfjs__issue9418.pdf",
    "pdf-fixtures/pdfjs__issue13211.pdf",
    "pdf-fixtures/pdfjs__issue15690.pdf",
    "pdf-fixtures/pdfjs__TAMReview.pdf",
    "pdf-fixtures/ingest__udhr_ger.pdf",
    "pdf-fixtures/ingest__example.pdf",
    "rulings/courtlistener__opinion_tax.pdf",
)

MADE_UP = [
    "",
    "   \n\t ",
    "Plain ASCII text, with digits 123 and (brackets).",
    "UNITED STATES TAX COURT",
    "SEC. 401. SHORT TITLE",
    "Ünïcödé capitals: ÄÖÜ ÉÈ and ß",
    "ВЕРХОВНЫЙ СУД РОССИЙСКОЙ ФЕДЕРАЦИИ",
    "Верховный суд",
    "ΑΡΘΡΟ 3 ΚΑΙ ΑΛΛΑ",
    "ǅ ǈ ǋ titlecase letters ᾈ",
    "İSTANBUL ıi",
    "中文文本，没有大小写",
    "ＯＰＴＩＭＩＺＡＴＩＯＮ ｏｐｔ",
    "\ufffd\ufffd\ufffd bad replacement characters \ufffd",
    "\ufffd\ufffd\ufffd\ufffd\ufffd\ufffd mostly \ufffd\ufffd\ufffd\ufffd",
    "\ue000\ue001\uf8ff private use \U000f0000",
    "\ue000\ue001\uf8ff \ue010\ue011\U000f0000 pu",
    "control \x01\x02\x7f\x85 characters",
    "soft\xadhyphen and zero\u200bwidth\ufeff (format characters, not bad)",
    "unassigned \u0378\u0379 code points and a lone surrogate \ud800",
    "/g18/g152/g33/g44 (cid:12)(cid:13) glyph codes",
    "ΑΒΓ ক খ ཀ ཁ Ⲁ ⲁ x\u0301 q\u0300 z\u0302 j\u0308 v\u0303 scrambled",  # no composed forms
    "café résumé with combining e\u0301",
    "\u2028line and paragraph\u2029 separators\u3000ideographic space\xa0nbsp",
]


def _unreadable_by_letter(text: str) -> bool:
    """The definition: the share of bad characters among the non-space ones, one by one."""
    text = unicodedata.normalize("NFC", text)
    chars = [c for c in text if not c.isspace()]
    if not chars:
        return False
    bad = sum(
        1 for c in chars if c == "\ufffd" or unicodedata.category(c) in ("Co", "Cn", "Cc", "Cs")
    )
    glyphs = sum(len(m.group()) for m in pdf._GLYPH_CODES.finditer(text))
    return bad >= 0.3 * len(chars) or glyphs >= 0.5 * len(chars) or _scrambled_by_letter(text)


def _scrambled_by_letter(text: str) -> bool:
    letters = [c for c in text if c.isalpha() or unicodedata.category(c) in ("Mn", "Mc")]
    if len(letters) < 5:
        return False
    combining = sum(1 for c in letters if "\u0300" <= c <= "\u036f")
    if combining < 0.1 * len(letters):
        return False
    counts = Counter(pdf._script(c) for c in letters)
    top_two = sum(n for _, n in counts.most_common(2))
    return len(counts) >= 4 and top_two < 0.85 * len(letters)


def _cased_by_letter(line: str) -> tuple[int, int]:
    letters = [c for c in line if c.isalpha()]
    cased = [c for c in letters if c.isupper() or c.islower()]
    return sum(c.isupper() for c in cased), len(cased)


def _page_texts(path: Path) -> list[str]:
    reader, _ = pdf._open(path.read_bytes())
    return [pdf._read_page(reader, n)[0] for n in range(1, len(reader.pages) + 1)]


@pytest.fixture(scope="module")
def corpus_pages(corpus: Path) -> list[str]:
    pages = [text for name in FILES for text in _page_texts(corpus / name)]
    assert sum(pdf._unreadable(t) for t in pages) >= 20  # both answers are well represented
    return pages


def test_made_up_text_gets_the_letter_by_letter_answers() -> None:
    for text in MADE_UP:
        assert pdf._unreadable(text) == _unreadable_by_letter(text), repr(text)
        assert pdf._scrambled(text) == _scrambled_by_letter(text), repr(text)
        for line in text.split("\n"):
            assert pdf._cased(line) == _cased_by_letter(line), repr(line)
    # the made-up cases reach each answer by each road
    unreadable = {text for text in MADE_UP if pdf._unreadable(text)}
    assert {MADE_UP[14], MADE_UP[16], MADE_UP[20], MADE_UP[21]} <= unreadable
    assert pdf._scrambled(MADE_UP[21]) and not pdf._scrambled(MADE_UP[22])
    assert MADE_UP[13] not in unreadable and MADE_UP[18] not in unreadable


def test_corpus_pages_get_the_letter_by_letter_answers(corpus_pages: list[str]) -> None:
    for text in corpus_pages:
        assert pdf._unreadable(text) == _unreadable_by_letter(text), text[:80]
        for line in text.split("\n"):
            assert pdf._cased(line) == _cased_by_letter(line), line
