"""Ranking on the bundled collection as a lawyer reads it: the primary document first for its own
words (a judgment before its press release and the commentary on it, with and without a filter),
"some of the words" only when most of them are there, did-you-mean only for words the archive lacks.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import ARCHIVE, BUNDLED_DOCUMENTS, make_settings
from magsearch import cite
from magsearch.ingest.pipeline import Ingester, find_files
from magsearch.library import Library, open_library

JUDGMENT = "echr-magnitskiy-2019"
PRESS = "echr-magnitskiy-2019-press-release"
ARTICLE = "article-magnitsky-laws-after-strasbourg"


@pytest.fixture(scope="module")
def lib(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Library]:
    library = open_library(make_settings(tmp_path_factory.mktemp("ranking") / "data", workers=2))
    results = Ingester(library.archive, library.index, library.settings).run(find_files([ARCHIVE]))
    assert [r.status for r in results] == ["ingested"] * BUNDLED_DOCUMENTS
    yield library
    library.close()


def ranked(lib: Library, q: str, **filters: list[str]) -> list[str]:
    return [h.id for h in lib.search.search(q, filters=filters or None).hits]


@pytest.mark.parametrize(
    "q", ["Magnitskiy custody", "Magnitskiy medical care", "ill-treatment by guards", "Article 3"]
)
def test_the_judgment_comes_before_what_is_written_about_it(lib: Library, q: str) -> None:
    order = ranked(lib, q)
    assert order[0] == JUDGMENT, order
    assert order.index(JUDGMENT) < order.index(PRESS)
    assert ranked(lib, q, kind=["ruling"])[:2] == [JUDGMENT, PRESS]


def test_a_press_release_is_typed_and_cited_as_one(lib: Library) -> None:
    hit = next(h for h in lib.search.search("Magnitskiy custody").hits if h.id == PRESS)
    assert hit.genre == "press release" and hit.date_basis == "issued"
    assert hit.citation.startswith("Press release: Magnitskiy and Others v. Russia, ECHR 292")
    judgment = next(h for h in lib.search.search("Magnitskiy custody").hits if h.id == JUDGMENT)
    assert judgment.genre == "" and judgment.date_basis == "decided"
    doc = lib.archive.get_document(PRESS)
    assert cite.bluebook(doc) == (
        "Press Release, Eur. Ct. H.R., Magnitskiy and Others v. Russia, ECHR 292 (2019) (Aug. 27, 2019)."
    )
    assert cite.oscola(doc) == (
        "ECtHR, ‘Magnitskiy and Others v Russia’ (Press release ECHR 292 (2019), 27 August 2019)"
    )
    assert "TY  - PRESS" in cite.ris(doc) and cite.csl_item(doc)["genre"] == "Press release"
    article = next(h for h in lib.search.search("Magnitskiy custody").hits if h.id == ARTICLE)
    assert article.genre == "commentary"


def test_a_document_about_nothing_in_the_hits_keeps_its_place(lib: Library) -> None:
    """Only a primary document it cites and that matched goes above it: the article on the Baltic
    laws stays first for words only it has."""
    assert ranked(lib, "Baltic")[0] == "article-russian-response-baltic-laws"


def test_some_of_the_words_means_most_of_them_the_most_first(lib: Library) -> None:
    res = lib.search.search("Article 3 ill-treatment quokka")  # a sentence: see below
    assert res.interpreted.count(" OR ") == 3
    assert any("at least 3 of the 4" in n for n in res.notes)
    with_most = {"echr-magnitskiy-2019", PRESS, ARTICLE}
    assert with_most <= set(ranked(lib, "Article 3 ill-treatment quokka"))
    # each hit has at least 3 of the words, and the hits with more of them come first
    words = ["article", "3", "ill-treatment", "quokka"]
    counts = []
    for h in res.hits:
        doc = lib.archive.get_document(h.id)
        text = " ".join(p.text for p in lib.archive.passages(doc.current_version)).lower()
        counts.append(
            sum(bool(re.search(rf"(?<!\w){re.escape(w)}", text)) for w in words)
        )  # or longer: "detentions"
    assert counts and min(counts) >= 3 and counts == sorted(counts, reverse=True), counts
    assert lib.search.search("custody quokka").total > 0  # two words: either one


def test_a_sentence_needs_most_of_its_words_not_its_stop_words(lib: Library) -> None:
    """A query typed as a sentence (five words or more) finds the documents with most of its
    words, the most first, without requiring all of them or counting its stop words: "how long
    was Magnitsky held in pre-trial detention before he died" has no document with every word."""
    q = "how long was Magnitsky held in pre-trial detention before he died"
    res = lib.search.search(q)
    note = next(n for n in res.notes if n.startswith("read as a sentence"))
    assert "at least 3 of its 6 words" in note and "left out: how, was, in, before, he" in note
    assert res.interpreted == "long OR Magnitsky OR held OR pre-trial OR detention OR died"
    assert {"echr-magnitskiy-2019", PRESS} <= set(ranked(lib, q)[:3])  # with the article on them
    # short queries keep AND; a sentence with a field keeps the field as a filter
    assert not any("sentence" in n for n in lib.search.search("detention custody").notes)
    hits = lib.search.search("was Magnitsky held in pre-trial detention kind:legislation").hits
    assert hits and {h.kind for h in hits} == {"legislation"}
    # only stop words and one word: no sentence, the words as typed
    assert not any("sentence" in n for n in lib.search.search("what was it that he did").notes)


def test_did_you_mean_never_replaces_a_word_of_the_archive(lib: Library) -> None:
    assert lib.search.search("medical care quokka").suggestion == ""
    assert lib.search.search("Magnitskiy zebra").suggestion == ""
    assert lib.search.search("custdy").suggestion == "custody"
    assert lib.search.search("detentoin").suggestion == "detention"
    res = lib.search.search("Magnitskiy")
    assert res.suggestion == "" and res.total > 3


def test_the_ranking_file_is_not_a_copy_of_the_corpus() -> None:
    assert not any(Path(__file__).parent.glob("data/*.pdf"))
