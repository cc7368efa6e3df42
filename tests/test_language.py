"""Language detection (magsearch.language) on real text of the corpus and the collection."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from magsearch import structure
from magsearch.ingest.registry import parse_bytes
from magsearch.language import (
    _model,
    _sample,
    _script,
    detect,
    detect_all,
    letter_count,
    normalize,
    script_of,
)

ROOT = Path(__file__).resolve().parent.parent


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


def _texts_of(paths) -> list[str]:  # type: ignore[no-untyped-def]
    """Each file's text as a document, its blocks and its passages (as ingest cuts them)."""
    texts = []
    for path in paths:
        blocks = parse_bytes(path.read_bytes()).blocks
        passages = structure.segment(blocks, structure.guess_kind(blocks))
        texts.append("\n".join(b.text for b in blocks))
        texts.extend(b.text for b in blocks)
        texts.extend(p.text for p in passages)
    return texts


def test_many_texts_at_once_get_what_py3langid_gives_each(corpus, monkeypatch):  # type: ignore[no-untyped-def]
    """detect_all runs the model on all its texts at once; py3langid's own classify, one text at
    a time, is the reference: the same language and the same probability (float for float) for
    every document, block and passage of the corpus's text and HTML files and of the bundled
    collection (bench/language_bench.py adds the corpus's PDFs), and for texts made to catch the
    joins (featureless, upper case, decomposed accents, a lone surrogate, slices cut anywhere)."""
    files = sorted(corpus.glob("**/*.txt")) + sorted(corpus.glob("html-fixtures/*.html"))
    files += sorted(p for p in ROOT.joinpath("archive").iterdir() if p.suffix in (".html", ".pdf"))
    texts = _texts_of(files)
    rng = random.Random(7)
    made = [
        "",
        "@@@ ### ^^^ ``` \\\\",
        "THE COURT FINDS A VIOLATION",
        "e\u0301te\u0301 de\u0301cide\u0301",
    ]
    made += ["Magnitsky \ud800 case", "Магнитский " * 3, "x" * 5000]
    for _ in range(300):
        a, b = rng.choice(texts), rng.choice(texts)
        made.append(a[rng.randrange(len(a) + 1) :][:700] + b[: rng.randrange(400)])
    model = _model()
    samples = [_sample(t) for t in texts + made]
    assert len(texts) > 3000
    assert model.joinable  # the batched path is the one compared
    assert model.classify_all(samples) == [model.li.classify(s) for s in samples]

    found = detect_all(texts)
    monkeypatch.setattr(model, "joinable", False)  # detect as it was: py3langid on each text
    assert found == detect_all(texts)
    assert {"en", "fr", "de", "ru", "es", "zh", None} <= set(found)
