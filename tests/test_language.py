"""Language detection (magsearch.language) on real text of the corpus and the collection."""

from __future__ import annotations

import pytest

from magsearch.ingest.registry import parse_bytes
from magsearch.language import _script, detect, letter_count, normalize, script_of


def _text(path) -> str:  # type: ignore[no-untyped-def]
    return "\n".join(b.text for b in parse_bytes(path.read_bytes()).blocks)


@pytest.mark.parametrize(
    ("name", "lang"),
    [
        (
            "legislation/canada_J-2.3_loi_justice_victimes_dirigeants_etrangers_corrompus_fr.txt",
            "fr",
        ),
        (
            "legislation/canada_J-2.3_justice_for_victims_of_corrupt_foreign_officials_act_en.txt",
            "en",
        ),
        ("pdf-fixtures/ingest__udhr_ger.pdf", "de"),
        ("html-fixtures/readability__qq.html", "zh"),
        ("html-fixtures/readability__la-nacion.html", "es"),
        ("html-fixtures/readability__aktualne.html", "cs"),
        ("pdf-fixtures/pdfjs__bug1795263.pdf", "de"),
    ],
)
def test_detects_the_language_of_real_documents(corpus, name, lang):  # type: ignore[no-untyped-def]
    assert detect(_text(corpus / name)) == lang


def test_short_or_empty_text_gets_no_guess():
    assert detect("") is None
    assert detect("Hello, World!") is None
    assert detect("12 345 678 — 2019") is None


def test_scripts_decide_for_cjk():
    assert detect("謝爾蓋·馬格尼茨基案") == "zh"
    assert detect("マグニツキー事件について") == "ja"
    assert detect("마그니츠키 사건에 대하여") == "ko"
    assert script_of("Магнитский Magnitsky Магнитский") == "cyrillic"


def test_declared_tags_normalised():
    assert normalize("en-GB") == "en"
    assert normalize("de_DE") == "de"
    assert normalize("deu") == "de"
    assert normalize("German") == "de"
    assert normalize("zh-Hans-CN") == "zh"
    assert normalize("not a tag") == ""
    assert normalize(None) == ""


def _script_letter_by_letter(text: str) -> str:
    """script_of's definition, one letter at a time (the most frequent script; the first seen
    wins a tie; Han with 5 % kana is Japanese)."""
    counts: dict[str, int] = {}
    for ch in text:
        if ch.isalpha():
            counts[_script(ch)] = counts.get(_script(ch), 0) + 1
    if not counts:
        return ""
    best = max(counts, key=counts.__getitem__)
    if best == "han" and counts.get("kana", 0) >= 0.05 * sum(counts.values()):
        return "kana"
    return best


def test_letters_and_scripts_read_fast_are_those_read_letter_by_letter(corpus):  # type: ignore[no-untyped-def]
    """The fast paths (ASCII counted in C; all-Latin text decided without counting) give what the
    letter-by-letter definition gives, on every block of the corpus's text and HTML files and
    on texts made to catch a shortcut (ties, scripts after Latin, letters outside ASCII)."""
    texts = [
        "", "12 345", "’—“”", "é", "Ж a", "a Ж", "naïve café", "Ωmega ω", "ab Жж", "ﾃｽﾄ ｔｅｓｔ",
        "漢字とかな", "漢字漢字漢字漢字漢字漢字漢字漢字漢字漢字漢字漢字漢字漢字漢字漢字漢字漢字漢字か",
        "ǅungla ᵃ ª º ß", "İstanbul ﬁnance", "שלום abc", "مرحبا abcd",
    ]  # fmt: skip
    files = sorted(corpus.glob("**/*.txt")) + sorted(corpus.glob("html-fixtures/*.html"))
    for path in files:
        texts.extend(b.text for b in parse_bytes(path.read_bytes()).blocks)
    assert len(texts) > 1500
    for text in texts:
        assert letter_count(text) == sum(ch.isalpha() for ch in text), text[:80]
        assert script_of(text) == _script_letter_by_letter(text), text[:80]
