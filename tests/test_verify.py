"""Verify a brief: briefs written for these tests, checked against the bundled collection (as the
web tests' sample archive holds it: the Global Magnitsky Act in a second version without § 1265),
against real corpus documents, and against an archive with a restricted judgment. Every outcome
is asserted: citations found (with their paragraph), not in the archive, with no such paragraph;
quotations exact, altered (word by word), not found; a quotation running over a page break."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fpdf import FPDF
from jsonschema import Draft202012Validator

from magsearch import curation
from magsearch.accounts import Accounts
from magsearch.ingest.pipeline import Ingester, find_files
from magsearch.library import Library, open_library
from magsearch.verify import BriefError, find_quotations, read_brief, verify_text
from magsearch.web import create_app
from webfixtures import AMENDED_ID, RULING_ID, Sample, sample_archive

ARTICLE_ID = "article-russian-response-baltic-laws"  # its passages are the PDF's pages

BRIEF = """MEMORANDUM IN SUPPORT

1. In Magnitskiy and Others v. Russia, nos. 32631/09 and 53799/12, § 41, 27 August 2019, the
Court found that "the authorities had had reasonable grounds to suspect him of involvement in tax
evasion when they arrested him." It held that the complaint “was therefore manifestly ill-
founded, and the Court rejected it as inadmissible”. Id., § 41. The applicants said that “[t]he
first applicant’s arrest and detention had been arbitrary … a response to his allegations
against officials”. Id., § 41.

2. The Court also wrote that the complaint "was therefore clearly ill-founded, and the Court
rejected it as inadmissible". Id., § 41. And that "the authorities had reasonable grounds to
suspect him of serious involvement in tax evasion". Id., § 41. See also id., § 999.

3. The Canadian Act permits orders "in respect of a foreign national if, in the opinion of the
Governor in Council, any of the circumstances [...] has occurred." S.C. 2017, c. 21, s. 4(1).

4. A commentator observed that one reply tried "to raise the price of the American Act by
striking elsewhere; the others lowered the cost of following it".

5. Nobody ever held that "sanctions are optional whenever the moon is full and green". Smith v.
Jones, 999 F.3d 1234 (9th Cir. 2021). See Pub. L. 112-208, § 404; Pub. L. 112-208, § 499;
Pub. L. 114-328, § 1265; Article 3 of Regulation (EU) 2020/1998; S.I. 2020/680, reg. 4;
126 Stat. 1496, at 1497.

6. "the authorities had failed to protect the first applicant's life".
S.C. 2017, c. 21.
"""


@pytest.fixture(scope="module")
def lib(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Library]:
    sample: Sample = sample_archive(tmp_path_factory)
    library = open_library(sample.settings, sync=False)
    yield library
    library.close()


@pytest.fixture(scope="module")
def report(lib: Library) -> dict[str, Any]:
    return verify_text(lib, BRIEF)


def find(report: dict[str, Any], kind: str, text: str) -> dict[str, Any]:
    """The one item of this kind whose text begins with `text` (after the offsets check)."""
    hits = [
        it
        for it in report["items"]
        if it["type"] == kind and " ".join(it["text"].split()).startswith(text)
    ]
    assert len(hits) == 1, (kind, text, [i["text"] for i in report["items"] if i["type"] == kind])
    return hits[0]


def at(report: dict[str, Any], kind: str, needle: str, brief: str = BRIEF) -> dict[str, Any]:
    """The item of this kind that starts at the first occurrence of `needle` in the brief."""
    start = brief.index(needle)
    hits = [it for it in report["items"] if it["type"] == kind and it["start"] == start]
    assert len(hits) == 1, (kind, needle, [(i["start"], i["text"]) for i in report["items"]])
    return hits[0]


# -- citations ---------------------------------------------------------------------------------
def test_results_in_the_order_of_the_text_with_offsets(report: dict[str, Any]) -> None:
    starts = [it["start"] for it in report["items"]]
    assert starts == sorted(starts)
    for it in report["items"]:
        if it["type"] == "citation":
            assert BRIEF[it["start"] :].startswith(it["text"])
        else:
            assert BRIEF[it["start"]] in '"“' and BRIEF[it["end"] - 1] in '"”'
            assert BRIEF[it["start"] + 1 : it["end"] - 1] == it["text"]
    assert report["quotations"] == 9
    assert not report["ok"]


def test_citations_resolved_to_documents_and_paragraphs(report: dict[str, Any]) -> None:
    echr = at(report, "citation", "nos. 32631/09")
    assert echr["status"] == "found" and echr["normalized"] == ["32631/09", "53799/12"]
    assert echr["document"]["id"] == RULING_ID
    assert echr["document"]["title"] == "Magnitskiy and Others v. Russia"
    assert echr["pinpoint"] == "§ 41" and echr["passage"]["anchor"] == "para-41"
    assert echr["passage"]["url"].endswith(f"/d/{RULING_ID}/anchor/para-41")
    canada = at(report, "citation", "S.C. 2017, c. 21, s. 4(1)")
    assert (canada["status"], canada["passage"]["anchor"]) == ("found", "sec-4-1")
    assert canada["passage"]["label"] == "s. 4(1)"
    sec404 = at(report, "citation", "Pub. L. 112-208, § 404")
    assert (sec404["status"], sec404["passage"]["anchor"]) == ("found", "sec-404")
    eu = at(report, "citation", "Regulation (EU) 2020/1998")
    assert (eu["status"], eu["pinpoint"], eu["passage"]["anchor"]) == (
        "found",
        "Article 3",
        "art-3",
    )
    uk = at(report, "citation", "S.I. 2020/680")
    assert (uk["status"], uk["passage"]["anchor"]) == ("found", "reg-4")
    stat = at(report, "citation", "126 Stat. 1496")  # at 1497: the Act's second page
    assert (stat["status"], stat["passage"]["page"]) == ("found", 1)
    assert stat["passage"]["anchor"] == "sec-402"  # § 402 runs from page 1 onto page 2


def test_citations_not_in_the_archive_and_missing_paragraphs(report: dict[str, Any]) -> None:
    invented = at(report, "citation", "999 F.3d 1234")
    assert invented["status"] == "not in the archive" and invented["document"] is None
    sec499 = at(report, "citation", "Pub. L. 112-208, § 499")
    assert sec499["status"] == "no such paragraph" and sec499["passage"] is None
    assert sec499["document"]["id"] == "us-magnitsky-act-2012"
    # § 1265 is only in the first version of the Global Magnitsky Act: the current one lacks it
    sec1265 = at(report, "citation", "Pub. L. 114-328, § 1265")
    assert (sec1265["status"], sec1265["document"]["id"]) == ("no such paragraph", AMENDED_ID)
    ibid = at(report, "citation", "id., § 999")
    assert (ibid["status"], ibid["document"]["id"]) == ("no such paragraph", RULING_ID)
    ids = [it for it in report["items"] if it["type"] == "citation" and it["text"] == "Id."]
    assert len(ids) == 4 and all(i["passage"]["anchor"] == "para-41" for i in ids)


# -- quotations --------------------------------------------------------------------------------
def test_exact_quotations_whatever_the_typography(report: dict[str, Any]) -> None:
    plain = find(report, "quotation", "the authorities had had reasonable grounds")
    assert plain["status"] == "exact" and plain["differences"] == []
    assert plain["attributed_to"]["text"] == "nos. 32631/09 and 53799/12"
    assert plain["passage"]["anchor"] == "para-41"
    assert plain["passage"]["url"].endswith(f"/d/{RULING_ID}/anchor/para-41")
    # curly quotes, "ill-" hyphenated at a line end
    hyphenated = find(report, "quotation", "was therefore manifestly ill- founded")
    assert (hyphenated["status"], hyphenated["passage"]["anchor"]) == ("exact", "para-41")
    # "[t]he", an omission marked with "…", curly apostrophes
    bracketed = find(report, "quotation", "[t]he first applicant’s arrest")
    assert bracketed["status"] == "exact" and bracketed["differences"] == []
    # "[...]" in the Canadian Act, § 4(1)
    canada = find(report, "quotation", "in respect of a foreign national")
    assert (canada["status"], canada["document"]["id"]) == ("exact", "ca-magnitsky-law-2017")
    assert canada["passage"]["anchor"] == "sec-4-1"


def test_altered_quotations_word_by_word(report: dict[str, Any]) -> None:
    changed = find(report, "quotation", "was therefore clearly ill-founded")
    assert changed["status"] == "altered"
    assert changed["differences"] == [
        {"op": "changed", "quoted": "clearly", "source": "manifestly"}
    ]
    assert changed["passage"]["anchor"] == "para-41"
    both = find(report, "quotation", "the authorities had reasonable grounds")
    assert both["status"] == "altered"
    assert both["differences"] == [
        {"op": "left out", "quoted": "", "source": "had"},
        {"op": "added", "quoted": "serious", "source": ""},
    ]


def test_quotation_over_a_page_break_of_the_source_pdf(report: dict[str, Any]) -> None:
    quote = find(report, "quotation", "to raise the price of the American Act")
    assert quote["attributed_to"] is None  # found through the index, in the whole archive
    assert (quote["status"], quote["document"]["id"]) == ("exact", ARTICLE_ID)
    assert [p["anchor"] for p in quote["passages"]] == ["page-2", "page-3"]
    assert [p["page"] for p in quote["passages"]] == [2, 3]


def test_invented_and_misattributed_quotations(report: dict[str, Any]) -> None:
    invented = find(report, "quotation", "sanctions are optional")
    assert invented["status"] == "not found" and invented["document"] is None
    assert invented["attributed_to"]["text"] == "999 F.3d 1234"
    # words of the judgment attributed to the Canadian Act: not found there, found elsewhere
    wrong = find(report, "quotation", "the authorities had failed to protect")
    assert wrong["status"] == "not found"
    assert wrong["attributed_to"]["text"] == "S.C. 2017, c. 21"
    assert wrong["found_elsewhere"]["id"] == RULING_ID
    assert wrong["found_elsewhere"]["anchor"] == "para-23" and wrong["found_elsewhere"]["exact"]
    assert wrong["found_elsewhere"]["url"].endswith(f"/anchor/{wrong['found_elsewhere']['anchor']}")


def test_short_quoted_terms_are_not_quotations() -> None:
    text = 'The "bona fide" purchaser and the "Magnitsky" laws; "three whole words" counted.'
    assert [q.text for q in find_quotations(text)] == ["three whole words"]


def test_block_quotation(lib: Library) -> None:
    brief = (
        "The Act provides:\n\n"
        "    The Governor in Council may make any orders or regulations that the Governor in\n"
        "    Council considers necessary in respect of a foreign national if, in the opinion\n"
        "    of the Governor in Council, any of the circumstances described in subsection (2)\n"
        "    has occurred.\n\n"
        "S.C. 2017, c. 21, s. 4(1).\n"
    )
    r = verify_text(lib, brief)
    [quote] = [it for it in r["items"] if it["type"] == "quotation"]
    assert quote["block"] and quote["status"] == "exact"
    assert quote["passage"]["anchor"] == "sec-4-1" and r["ok"]


def test_empty_text_is_refused(lib: Library) -> None:
    with pytest.raises(BriefError, match="empty"):
        verify_text(lib, "  \n ")


# -- an uploaded PDF brief ---------------------------------------------------------------------
def brief_pdf() -> bytes:
    """Two pages; the quotation opens at the foot of the first and closes on the second."""
    pdf = FPDF()
    pdf.set_font("helvetica", size=11)
    pdf.add_page()
    line = {"new_x": "LMARGIN", "new_y": "NEXT"}
    pdf.cell(0, 6, "BRIEF OF THE APPLICANT", **line)
    for _ in range(38):
        pdf.cell(0, 6, "Filler line of the argument that cites nothing at all.", **line)
    pdf.cell(0, 6, 'The Court found that "the authorities had had reasonable grounds to', **line)
    pdf.add_page()
    pdf.cell(0, 6, 'suspect him of involvement in tax evasion when they arrested him."', **line)
    pdf.cell(0, 6, "Magnitskiy and Others v. Russia, no. 32631/09, para. 41.", **line)
    return bytes(pdf.output())


def test_a_pdf_brief_with_a_quotation_over_its_page_break(lib: Library) -> None:
    text = read_brief(brief_pdf(), lib.settings, name="brief.pdf")
    r = verify_text(lib, text)
    [quote] = [it for it in r["items"] if it["type"] == "quotation"]
    assert quote["status"] == "exact" and quote["passage"]["anchor"] == "para-41"
    [cite] = [it for it in r["items"] if it["type"] == "citation"]
    assert (cite["pinpoint"], cite["passage"]["anchor"]) == ("para. 41", "para-41")
    assert r["ok"]


def test_unreadable_uploads_are_refused_naming_the_file(lib: Library) -> None:
    with pytest.raises(BriefError, match=r"^brief\.pdf: "):
        read_brief(b"%PDF-1.4\n" + bytes(range(256)) * 8, lib.settings, name="brief.pdf")
    with pytest.raises(BriefError, match=r"^empty\.txt: the file is empty"):
        read_brief(b"", lib.settings, name="empty.txt")


# -- the API and the page ----------------------------------------------------------------------
def test_api_and_page(lib: Library) -> None:
    app = create_app(lib.settings, {"TESTING": True, "WTF_CSRF_ENABLED": False})
    client = app.test_client()
    resp = client.post("/api/verify", json={"text": BRIEF})
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["summary"] == verify_text(lib, BRIEF)["summary"]
    spec = client.get("/api/openapi.json").get_json()
    schema = spec["paths"]["/api/verify"]["post"]["responses"]["200"]["content"]
    validator = Draft202012Validator(
        {**schema["application/json"]["schema"], "components": spec["components"]}
    )
    assert not list(validator.iter_errors(body))
    assert body["items"][0]["document"]["url"].startswith("http")
    upload = client.post(
        "/api/verify", data={"file": (__import__("io").BytesIO(brief_pdf()), "b.pdf")}
    )
    assert upload.status_code == 200 and upload.get_json()["ok"]
    assert client.post("/api/verify", json={"txt": "x"}).status_code == 400
    empty = client.post("/api/verify", json={"text": " "})
    assert empty.status_code == 422 and "empty" in empty.get_json()["message"]
    page = client.post("/verify", data={"text": BRIEF})
    assert page.status_code == 200
    assert "changed: <del>manifestly</del> → <ins>clearly</ins>" in page.text
    assert page.text.count('class="verify-item quotation status-exact"') == 5
    # nothing verified is stored: the archive holds the same documents
    assert lib.archive.count_documents() == len(lib.archive.document_ids())
    app.extensions["magsearch"].close()


def test_openapi_describes_verify(lib: Library) -> None:
    app = create_app(lib.settings, {"TESTING": True})
    spec = app.test_client().get("/api/openapi.json").get_json()
    op = spec["paths"]["/api/verify"]["post"]
    assert "application/json" in op["requestBody"]["content"]
    assert {"200", "400", "422"} <= set(op["responses"])
    app.extensions["magsearch"].close()


# -- the command line --------------------------------------------------------------------------
def run_cli(data: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "magsearch.cli", "--data", str(data), "verify", *args],
        capture_output=True,
        text=True,
        input=stdin,
        timeout=120,
    )


def test_cli_exit_codes_and_json(lib: Library, tmp_path: Path) -> None:
    data = lib.settings.data_dir
    bad = tmp_path / "brief.txt"
    bad.write_text(BRIEF, encoding="utf-8")
    out = run_cli(data, str(bad), "--json")
    assert out.returncode == 1, out.stderr
    assert json.loads(out.stdout)["summary"] == verify_text(lib, BRIEF)["summary"]
    plain = run_cli(data, str(bad))
    assert plain.returncode == 1
    assert "altered" in plain.stdout and "changed: “clearly” for “manifestly”" in plain.stdout
    good = tmp_path / "good.pdf"
    good.write_bytes(brief_pdf())
    ok = run_cli(data, str(good))
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "/d/echr-magnitskiy-2019/anchor/para-41" in ok.stdout
    missing = run_cli(data, str(tmp_path / "nope.txt"))
    assert missing.returncode == 2 and "nope.txt" in missing.stderr and not missing.stdout
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    assert run_cli(data, str(empty)).returncode == 2
    piped = run_cli(data, "-", stdin='"was therefore manifestly ill-founded" no. 32631/09, § 41')
    assert piped.returncode == 0, piped.stdout


# -- restricted documents ----------------------------------------------------------------------
@pytest.fixture(scope="module")
def restricted(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Library]:
    """The judgment (restricted) and the article that cites it, in an archive of their own."""
    root = tmp_path_factory.mktemp("verify-restricted")
    from conftest import ARCHIVE, make_settings

    settings = make_settings(root / "data", workers=2)
    library = open_library(settings)
    files = [ARCHIVE / "magnitskiy-v-russia.pdf", ARCHIVE / "russian-response-and-baltic-laws.pdf"]
    results = Ingester(library.archive, library.index, settings).run(find_files(files))
    assert [r.status for r in results] == ["ingested", "ingested"]
    curation.set_restricted(library, RULING_ID, True, actor="test")
    Accounts(library.archive).add_user("alice", "archivist", "a long enough pw 1", actor="test")
    yield library
    library.close()


RESTRICTED_BRIEF = (
    'The Court found that "the authorities had had reasonable grounds to suspect him". '
    "Magnitskiy and Others v. Russia, no. 32631/09, § 41. Later it said that the complaint "
    '"was therefore manifestly ill-founded, and the Court rejected it as inadmissible".'
)


def test_a_restricted_document_is_absent_for_readers(restricted: Library) -> None:
    anon = verify_text(restricted, RESTRICTED_BRIEF)
    attributed, cite, unattributed = anon["items"]
    assert cite["status"] == "not in the archive" and cite["document"] is None
    assert attributed["status"] == "not found" and unattributed["status"] == "not found"
    # no trace of it beyond the words of the brief itself
    answered = [
        {k: v for k, v in it.items() if k not in ("text", "attributed_to")} for it in anon["items"]
    ]
    assert RULING_ID not in json.dumps(answered) and "Magnitskiy" not in json.dumps(answered)
    signed_in = verify_text(restricted, RESTRICTED_BRIEF, include_restricted=True)
    assert [it["status"] for it in signed_in["items"]] == ["exact", "found", "exact"]


def test_a_restricted_document_is_absent_through_the_api(restricted: Library) -> None:
    app = create_app(restricted.settings, {"TESTING": True, "MAGSEARCH_LIBRARY": restricted})
    client = app.test_client()
    anon = client.post("/api/verify", json={"text": RESTRICTED_BRIEF}).get_json()
    assert [it["status"] for it in anon["items"]] == [
        "not found",
        "not in the archive",
        "not found",
    ]
    _, token = Accounts(restricted.archive).create_token("alice", actor="test")
    seen = client.post(
        "/api/verify", json={"text": RESTRICTED_BRIEF}, headers={"Authorization": f"Bearer {token}"}
    ).get_json()
    assert [it["status"] for it in seen["items"]] == ["exact", "found", "exact"]


# -- real corpus documents ---------------------------------------------------------------------
CORPUS_FILES = (
    "rulings/courtlistener__opinion_tax.pdf",
    "legislation/us_22_USC_ch108_global_magnitsky_human_rights_accountability.txt",
    "legislation/canada_J-2.3_justice_for_victims_of_corrupt_foreign_officials_act_en.txt",
)


@pytest.fixture(scope="module")
def corpus_lib(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Library]:
    from conftest import make_settings

    settings = make_settings(tmp_path_factory.mktemp("verify-corpus") / "data", workers=2)
    library = open_library(settings)
    results = Ingester(library.archive, library.index, settings).run(
        find_files([corpus / f for f in CORPUS_FILES])
    )
    assert [r.status for r in results] == ["ingested"] * 3, results
    yield library
    library.close()


CORPUS_BRIEF = """The guarantee was strict: "Mr. Bordelon also executed the USDARD's required
personal guarantee that made him directly liable to Union Bank for the full amount of the Many
Loan". Bordelon v. Commissioner, T.C. Memo. 2020-26, at 6. He "executed the bank's required
personal guarantee that made him liable to Union Bank for the full amount". Id. at 6.

The President "may impose the sanctions described in subsection (b) with respect to any foreign
person the President determines, based on credible evidence". 22 U.S.C. 10102. Canada's Act
allows orders where "any of the circumstances described in subsection (2) has occurred".
S.C. 2017, c. 21, s. 4(1). See also S.C. 2017, c. 21, s. 77.
"""


def test_real_documents_page_break_pinpoints_and_alterations(corpus_lib: Library) -> None:
    r = verify_text(corpus_lib, CORPUS_BRIEF)
    across = find(r, "quotation", "Mr. Bordelon also executed")
    assert across["status"] == "exact"
    assert [p["anchor"] for p in across["passages"]] == ["page-6", "page-7"]  # "[*7]" between
    tc = at(r, "citation", "T.C. Memo. 2020-26", CORPUS_BRIEF)
    assert (tc["status"], tc["passage"]["anchor"]) == ("found", "page-6")
    altered = find(r, "quotation", "executed the bank's required")
    assert altered["status"] == "altered"
    assert altered["differences"] == [
        {"op": "changed", "quoted": "banks", "source": "usdards"},
        {"op": "left out", "quoted": "", "source": "directly"},
    ]
    usc = find(r, "quotation", "may impose the sanctions")
    assert (usc["status"], usc["passage"]["anchor"]) == ("exact", "sec-10102")
    ca = find(r, "quotation", "any of the circumstances described")
    assert (ca["status"], ca["passage"]["anchor"]) == ("exact", "sec-4-1")
    s77 = at(r, "citation", "S.C. 2017, c. 21, s. 77", CORPUS_BRIEF)
    assert s77["status"] == "no such paragraph"
