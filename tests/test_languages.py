"""Phrases in each language found on real text, through a real ingest and a real Whoosh index:
the Canadian Act in French, the Chinese qq page, the full-width PDF, the German declaration of
human rights, and the collection's own German and Russian summaries; languages recorded per
document; accents folded; names found across Cyrillic and Latin."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from magsearch.config import Settings
from magsearch.ingest.pipeline import Ingester, find_files
from magsearch.library import Library, open_library

ROOT = Path(__file__).resolve().parent.parent
FILES = {
    "fr": "legislation/canada_J-2.3_loi_justice_victimes_dirigeants_etrangers_corrompus_fr.txt",
    "zh": "html-fixtures/readability__qq.html",
    "wide": "pdf-fixtures/pdfjs__issue15690.pdf",
    "de": "pdf-fixtures/ingest__udhr_ger.pdf",
}
OWN = {
    "de-own": "magnitski-fall-zusammenfassung.html",
    "ru-own": "delo-magnitskogo-obzor.html",
}


@pytest.fixture(scope="module")
def lib(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Library]:
    root = tmp_path_factory.mktemp("languages")
    inbox = root / "in"
    inbox.mkdir()
    for name in FILES.values():
        shutil.copy(corpus / name, inbox / Path(name).name)  # a temporary copy, never committed
    for name in OWN.values():
        shutil.copy(ROOT / "archive" / name, inbox / name)
        shutil.copy(ROOT / "archive" / f"{name}.meta.json", inbox / f"{name}.meta.json")
    library = open_library(Settings().with_data_dir(root / "data"))
    results = Ingester(library.archive, library.index, library.settings).run(find_files([inbox]))
    assert [r.status for r in results] == ["ingested"] * len(results), results
    yield library
    library.close()


def _doc(lib: Library, name: str) -> str:
    for doc in lib.archive.documents():
        if lib.archive.get_version(doc.current_version).filename == Path(name).name:
            return doc.id
    raise AssertionError(name)


def _hits(lib: Library, q: str) -> list[dict]:
    return lib.search.search(q).hits


def _finds(lib: Library, q: str, name: str) -> dict:
    hits = _hits(lib, q)
    ids = [h.id for h in hits]
    assert _doc(lib, name) in ids, (q, ids)
    return hits[ids.index(_doc(lib, name))]


@pytest.mark.parametrize(
    ("key", "language"),
    [("fr", "fr"), ("zh", "zh"), ("de", "de"), ("de-own", "de"), ("ru-own", "ru")],
)
def test_each_document_has_its_language(lib: Library, key: str, language: str) -> None:
    name = FILES.get(key) or OWN[key]
    assert lib.archive.get_document(_doc(lib, name)).language == language


def test_french_phrases_as_written_and_without_accents(lib: Library) -> None:
    hit = _finds(lib, '"dirigeants étrangers corrompus"', FILES["fr"])
    assert "<mark>" in hit.snippet
    _finds(lib, '"dirigeants etrangers corrompus"', FILES["fr"])


def test_chinese_phrases_match_as_character_bigrams(lib: Library) -> None:
    _finds(lib, '"人工智能迈上新台阶"', FILES["zh"])
    hit = _finds(lib, "人工智能公司", FILES["zh"])
    assert "<mark>人工智能公司</mark>" in hit.snippet  # overlapping bigrams: one mark
    assert not _hits(lib, '"人工台阶智能"')  # the same characters in another order


def test_full_width_latin_is_found_by_plain_words(lib: Library) -> None:
    _finds(lib, '"water extraction"', FILES["wide"])


def test_german_phrases_in_the_declaration_and_the_summary(lib: Library) -> None:
    _finds(lib, '"Allgemeine Erklärung der Menschenrechte"', FILES["de"])
    _finds(lib, '"unzureichende medizinische Versorgung"', OWN["de-own"])
    _finds(lib, '"Untersuchungshaftanstalt Matrosskaja Tischina"', OWN["de-own"])


def test_the_german_summary_has_its_own_paragraph_anchors(lib: Library) -> None:
    doc = lib.archive.get_document(_doc(lib, OWN["de-own"]))
    anchors = [p.anchor for p in lib.archive.passages(doc.current_version)]
    assert [f"para-{n}" for n in range(1, 9)] == [a for a in anchors if a.startswith("para-")]


def test_russian_phrases(lib: Library) -> None:
    hit = _finds(lib, '"умер в следственном изоляторе"', OWN["ru-own"])
    assert "<mark>" in hit.snippet


@pytest.mark.parametrize(
    ("query", "key"),
    [("Navalny", "ru-own"), ("Навальный", "de-own"), ("Browder", "ru-own"), ("Браудер", "de-own")],
)
def test_names_are_found_across_cyrillic_and_latin(lib: Library, query: str, key: str) -> None:
    _finds(lib, query, OWN[key])


def test_diacritics_folded_for_search_kept_for_display(lib: Library) -> None:
    hit = _finds(lib, "Europaischen", OWN["de-own"])
    assert "<mark>Europäischen</mark>" in hit.snippet
    hit = _finds(lib, "Strassburg", OWN["de-own"])
    assert "<mark>Straßburg</mark>" in hit.snippet
    _finds(lib, '"Europaischen Menschenrechtskonvention"', OWN["de-own"])


def test_japanese_and_korean_runs_become_consecutive_bigrams() -> None:
    # the corpus's two Japanese PDFs have unreadable text layers (OCR needed): the analyzer
    # itself is shown here on kana, kanji and hangul
    from magsearch.index.whoosh import WhooshIndex

    index = WhooshIndex(None)
    tokens = [(t.text, t.pos) for t in index.analyzer("マグニツキー事件 and 인권", positions=True)]
    assert tokens == [
        ("マグ", 0), ("グニ", 1), ("ニツ", 2), ("ツキ", 3), ("キー", 4), ("ー事", 5), ("事件", 6),
        ("and", 7), ("인권", 8),
    ]  # fmt: skip


# -- stemming in each language --------------------------------------------------------------
@pytest.mark.parametrize(
    ("key", "query", "marked"),
    [
        ("fr", "restrictif", "restricti"),  # restriction, restrictives
        ("fr", "accordées", "accord"),  # accord, accorde, accords
        ("fr", "corrompu", "corrompus"),  # Snowball keeps a plural s after a u
        ("de", "Gerechtigkeiten", "gerecht"),  # Gerechtigkeit, gerechte
        ("de", "sozialem", "sozial"),  # soziale, sozialen
        ("de-own", "globalen", "global"),
        ("ru-own", "Браудеру", "браудер"),  # Браудер, Браудером
        ("ru-own", "законов", "закон"),  # закон, законы
    ],
)
def test_an_inflected_form_finds_the_other_forms_in_its_language(
    lib: Library, key: str, query: str, marked: str
) -> None:
    """The query's form does not occur in the document, and Porter's English stem of it is none
    of the document's: only the stemmer of the document's language makes it find the forms that
    do occur, and the snippet marks one of them."""
    name = FILES.get(key) or OWN[key]
    doc = lib.archive.get_document(_doc(lib, name))
    text = " ".join(p.text for p in lib.archive.passages(doc.current_version)).lower()
    assert query.lower() not in re.findall(r"\w+", text)
    hit = _finds(lib, query, name)
    snippets = " ".join(p.snippet for p in hit.passages).lower()
    assert f"<mark>{marked}" in snippets, hit.passages


def test_a_stem_of_one_language_does_not_find_another_language(lib: Library) -> None:
    # "restrictif" is French "restrict": the German and Russian documents, whose words are stemmed
    # as German and Russian, hold no French stem, whatever their words
    hits = {h.id for h in _hits(lib, "restrictif")}
    assert hits == {_doc(lib, FILES["fr"])}


def test_a_phrase_is_matched_on_the_words_of_its_language(lib: Library) -> None:
    _finds(lib, '"Gerichtshofes für Menschenrechte"', OWN["de-own"])  # "Gerichtshofs für ..."
    assert not _hits(lib, '"Menschenrechte für Gerichtshofes"')  # the same words in another order


def test_a_french_singular_and_plural_find_the_same_words(lib: Library) -> None:
    """Snowball's French stemmer stems `étrangers` to `étranger` and `étranger` to `étrang`: the
    singular must still find the plurals (nine of them) and the plural the singulars (61)."""
    one = {(h.id, p.anchor) for h in _hits(lib, "étranger") for p in h.passages}
    many = {(h.id, p.anchor) for h in _hits(lib, "étrangers") for p in h.passages}
    assert one == many and one
    hit = _finds(lib, "dirigeant étranger corrompu", FILES["fr"])
    assert "(" not in lib.search.search("dirigeant étranger corrompu").interpreted
    snippets = " ".join(p.snippet for p in hit.passages).lower()
    assert "<mark>corrompus</mark>" in snippets, hit.passages
