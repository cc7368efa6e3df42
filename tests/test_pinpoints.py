"""Pinpoints and citations as a lawyer writes them, on the bundled collection: the document's own
numbering or the page (never a running number of unnumbered paragraphs), labels in "Cited by",
regulations cited by regulation, no identifier twice, the reader's citation style on the result
line, and the citations of documents the archive does not hold shown on the page."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from flask.testing import FlaskClient

from conftest import ARCHIVE, make_settings
from magsearch import cite
from magsearch.ingest.pipeline import Ingester, find_files
from magsearch.library import Library, open_library
from magsearch.views import document_view
from magsearch.web import create_app

RUNNING_NUMBER = re.compile(r"^¶ \d+$")


@pytest.fixture(scope="module")
def lib(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Library]:
    library = open_library(make_settings(tmp_path_factory.mktemp("pins") / "data", workers=2))
    Ingester(library.archive, library.index, library.settings).run(find_files([ARCHIVE]))
    yield library
    library.close()


@pytest.fixture(scope="module")
def client(lib: Library) -> FlaskClient:
    app = create_app(lib.settings, {"TESTING": True, "MAGSEARCH_LIBRARY": lib})
    return app.test_client()


def test_labels_are_the_documents_numbering_or_the_page(lib: Library) -> None:
    for doc in lib.archive.documents():
        view = document_view(lib.archive, doc.id)
        for p in view["passages"]:
            assert not RUNNING_NUMBER.match(p["label"]), (doc.id, p["anchor"], p["label"])
            if p["anchor"].startswith("p-"):
                assert p["label"] == (f"p. {p['page']}" if p["page"] else ""), (doc.id, p)
    judgment = {
        p["anchor"]: p["label"]
        for p in document_view(lib.archive, "echr-magnitskiy-2019")["passages"]
    }
    assert judgment["para-41"] == "§ 41"


def test_search_hits_show_pinpoints_a_lawyer_can_write(lib: Library) -> None:
    for q in ('"violation of Article 2"', "Magnitsky", "sanctions", "32631/09"):
        for h in lib.search.search(q).hits:
            for p in h.passages:
                assert not RUNNING_NUMBER.match(p.label), (q, h.id, p)
    hit = lib.search.search("asset freeze", filters={"kind": ["legislation"]}).hits
    uk = next(h for h in hit if h.id == "uk-ghr-sanctions-regulations-2020")
    assert all(p.anchor.startswith(("reg-", "p-")) for p in uk.passages)


def test_cited_by_lists_labels_not_anchors(lib: Library, client: FlaskClient) -> None:
    view = document_view(lib.archive, "ca-magnitsky-law-2017")
    assert view["cited_by"] and all("label" in c for c in view["cited_by"])
    assert {
        c["label"]
        for c in view["cited_by"]
        if c["doc_id"] == "article-russian-response-baltic-laws"
    } == {"p. 2"}
    page = client.get("/d/echr-magnitskiy-2019").get_data(as_text=True)
    cited_by = page[page.index('id="cited-by"') :]
    assert not re.search(r">p-[0-9a-f]{8}<", cited_by)  # no raw anchor is a link text
    assert not re.search(r">¶ \d+<", page)


def test_uk_regulations_are_cited_by_regulation(lib: Library) -> None:
    doc = lib.archive.get_document("uk-ghr-sanctions-regulations-2020")
    reg4 = lib.archive.passages_by_anchor(doc.current_version, ["reg-4"])["reg-4"]
    assert reg4.label == "reg. 4"
    assert (
        cite.oscola(doc, reg4)
        == "Global Human Rights Sanctions Regulations 2020, SI 2020/680, reg 4"
    )
    assert cite.bluebook(doc, reg4).startswith(
        "Global Human Rights Sanctions Regulations 2020, S.I. 2020/680, reg. 4"
    )


def test_an_executive_order_number_appears_once(lib: Library, client: FlaskClient) -> None:
    doc = lib.archive.get_document("us-eo-13818-2017")
    assert cite.short_citation(doc) == "E.O. 13818, 82 Fed. Reg. 60839 (2017)"
    assert cite.bluebook(doc) == "Exec. Order No. 13,818, 82 Fed. Reg. 60,839 (Dec. 20, 2017)."
    feed = client.get("/search.atom?q=13818").get_data(as_text=True)
    assert "E.O. 13818, E.O. 13818" not in feed and "13818" in feed


def test_result_lines_in_each_style_with_a_copy_button(client: FlaskClient) -> None:
    page = client.get("/search?q=Magnitskiy+custody").get_data(as_text=True)
    for style in ("bluebook", "oscola", "mcgill"):
        assert f'data-style="{style}"' in page
    assert (
        "Magnitskiy and Others v. Russia, App. Nos. 32631/09, 53799/12 (Eur. Ct. H.R. Aug. 27, 2019)."
        in page
    )
    assert (
        "Magnitskiy and Others v Russia App nos 32631/09 and 53799/12 (ECtHR, 27 August 2019)"
        in page
    )
    assert page.count("Copy citation") >= 3
    assert 'id="cite-style"' in page


def test_citations_of_documents_not_in_the_archive_are_on_the_page(client: FlaskClient) -> None:
    page = client.get("/d/us-eo-13818-2017").get_data(as_text=True)
    section = page[page.index('id="cites-elsewhere"') :]
    section = section[: section.index("</section>")]
    assert "50 U.S.C. 1701" in section and "(United States Code)" in section
    assert "E.O. 13818" not in section  # its own number is no citation of another document
    assert '<a href="/d/' not in section  # not linked: the archive does not hold them
