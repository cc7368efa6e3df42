"""Issue 3, "Legal structure and citations", its Evidence end to end through the real pipeline.

On the legislation of the shared corpus (the Canadian Act and Regulations, 22 U.S.C. chapter 108),
its US opinions and the bundled collection (archive/): the sections found with their numbers and
anchors, the identifiers recovered from the documents themselves, the citations found, the
cross-links between the bundled documents (both ways, and current whatever the order of ingest),
anchors that last across versions, and one search for every spelling of Magnitsky.

The bundled collection is ingested once per module (with its sidecars); what the documents say
about themselves is checked without the sidecars through the worker's own analyse().
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import ARCHIVE, BUNDLED_DOCUMENTS, make_settings
from magsearch import citations, legalmeta, structure
from magsearch.ingest.analyse import Analysis, Job, analyse
from magsearch.ingest.pipeline import FileResult, Ingester, find_files
from magsearch.library import Library, open_library
from magsearch.models import Block, Passage

CA_ACT = "legislation/canada_J-2.3_justice_for_victims_of_corrupt_foreign_officials_act_en.txt"
CA_ACT_FR = "legislation/canada_J-2.3_loi_justice_victimes_dirigeants_etrangers_corrompus_fr.txt"
CA_REGS = "legislation/canada_SOR-2017-233_justice_for_victims_regulations_en.txt"
USC = "legislation/us_22_USC_ch108_global_magnitsky_human_rights_accountability.txt"

JUDGMENT = "echr-magnitskiy-2019"
PRESS = "echr-magnitskiy-2019-press-release"
ARTICLE = "article-magnitsky-laws-after-strasbourg"
ARTICLE_PDF = "article-russian-response-baltic-laws"
LAWS = [
    "us-magnitsky-act-2012",
    "us-global-magnitsky-act-2016",
    "us-eo-13818-2017",
    "uk-ghr-sanctions-regulations-2020",
    "eu-regulation-2020-1998",
    "ca-magnitsky-law-2017",
]
ANCHOR = re.compile(r"^[a-z0-9][a-z0-9-]*$")
ECHR = "European Court of Human Rights"
US, EU = "United States", "European Union"
ECLI = "ECLI:CE:ECHR:2019:0827JUD003263109"
CA_SHORT_TITLE = "Justice for Victims of Corrupt Foreign Officials Act (Sergei Magnitsky Law)"


# ------------------------------------------------------------------------------------ fixtures


def ingest(lib: Library, paths: list[Path], kind: str = "") -> list[FileResult]:
    results = Ingester(lib.archive, lib.index, lib.settings, kind=kind).run(find_files(paths))
    failed = [(r.path, r.error) for r in results if r.status == "failed"]
    assert not failed, failed
    return results


def new_library(folder: Path) -> Library:
    return open_library(make_settings(folder, workers=2, parse_timeout=60.0))


@pytest.fixture(scope="module")
def bundled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Library]:
    """The bundled collection, ingested once, sidecars and all."""
    lib = new_library(tmp_path_factory.mktemp("bundled") / "data")
    results = ingest(lib, [ARCHIVE])
    assert sorted(r.status for r in results) == ["ingested"] * BUNDLED_DOCUMENTS
    yield lib
    lib.close()


@pytest.fixture(scope="module")
def corpus_lib(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Library]:
    """The legislation the issue names: the Canadian Act and Regulations, 22 U.S.C. ch. 108."""
    lib = new_library(tmp_path_factory.mktemp("corpus-legislation") / "data")
    ingest(lib, [corpus / CA_ACT, corpus / CA_REGS, corpus / USC], kind="legislation")
    yield lib
    lib.close()


def doc_by_file(lib: Library, name: str) -> str:
    for doc in lib.archive.documents():
        if lib.archive.get_version(doc.current_version).filename == name:
            return doc.id
    raise AssertionError(f"{name} is not in the archive")


def passages_of(lib: Library, doc_id: str) -> dict[str, Passage]:
    doc = lib.archive.get_document(doc_id)
    return {p.anchor: p for p in lib.archive.passages(doc.current_version)}


def bare(path: Path, kind: str) -> Analysis:
    """What the worker makes of a file on its own: no sidecar, only the kind (as `--kind`)."""
    data = path.read_bytes()
    return analyse(Job(str(path), data, hashlib.sha256(data).hexdigest(), kind=kind))


def sidecar(name: str) -> dict:
    return json.loads((ARCHIVE / f"{name}.meta.json").read_text(encoding="utf-8"))


def show_json(lib: Library, doc_id: str) -> dict:
    """`magsearch show ID --json`, through the command line in its own process."""
    data = str(lib.settings.data_dir)
    cmd = [sys.executable, "-m", "magsearch.cli", "--data", data, "show", doc_id, "--json"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


# ------------------------------------------------------------------- structure: sections, anchors


def test_canadian_act_sections_keep_their_numbers(corpus_lib: Library) -> None:
    ps = passages_of(corpus_lib, doc_by_file(corpus_lib, Path(CA_ACT).name))
    expected = {
        "sec-1": ("s. 1", "1 This Act may be cited as"),
        "sec-2": ("s. 2", "2 The following definitions apply in this Act."),
        "sec-4-1": ("s. 4(1)", "4 (1) The Governor in Council may"),
        "sec-4-2": ("s. 4(2)", "(2) "),
        "sec-4p1": ("s. 4.1", "4.1 The following definitions apply"),
        "sec-8-1p1": ("s. 8(1.1)", "(1.1) A foreign national"),
        "sec-16-1": ("s. 16(1)", "16 (1) Within five years"),
        "sec-18": ("s. 18", "18 [Amendments]"),
    }
    for anchor, (label, start) in expected.items():
        assert ps[anchor].label == label
        assert ps[anchor].text.startswith(start), (anchor, ps[anchor].text[:60])
    # every section 1 to 18 is there, under its headings
    numbers = {int(m[1]) for a in ps if (m := re.match(r"sec-(\d+)", a))}
    assert numbers == set(range(1, 19))
    assert ps["sec-4-1"].heading.startswith("Orders and Regulations")
    assert ps["sec-16-1"].heading == "Review and Report › Review"
    assert all(ANCHOR.match(a) for a in ps)


def test_canadian_regulations_sections_and_schedule(corpus_lib: Library) -> None:
    ps = passages_of(corpus_lib, doc_by_file(corpus_lib, Path(CA_REGS).name))
    sections = [a for a in ps if a.startswith("sec-")]
    assert sections == ["sec-1", "sec-2", "sec-3", "sec-4"]
    assert [ps[a].label for a in sections] == ["s. 1", "s. 2", "s. 3", "s. 4"]
    assert ps["sec-1"].heading.endswith("List › Listed foreign national")
    assert (
        ps["sec-4"].text
        == "4 These Regulations come into force on the day on which they are registered."
    )
    assert ps["schedule"].label == "Schedule" and "Sergei" not in ps["schedule"].heading
    assert "Alexander Ivanovich BASTRYKIN" in ps["schedule"].text


def test_us_code_chapter_sections(corpus_lib: Library) -> None:
    ps = passages_of(corpus_lib, doc_by_file(corpus_lib, Path(USC).name))
    assert list(ps) == ["sec-10101", "sec-10102", "sec-10103"]
    assert [p.label for p in ps.values()] == ["§ 10101", "§ 10102", "§ 10103"]
    assert ps["sec-10102"].text.startswith("§ 10102. Authorization of imposition of sanctions")
    assert all(
        p.heading.endswith("CHAPTER 108— GLOBAL MAGNITSKY HUMAN RIGHTS ACCOUNTABILITY")
        for p in ps.values()
    )


@pytest.mark.parametrize(
    ("doc_id", "anchors"),
    [
        (JUDGMENT, {f"para-{n}": f"§ {n}" for n in range(1, 49)}),
        ("us-magnitsky-act-2012", {f"sec-{n}": f"Sec. {n}" for n in range(401, 407)}),
        ("us-global-magnitsky-act-2016", {f"sec-{n}": f"Sec. {n}" for n in range(1261, 1266)}),
        ("us-eo-13818-2017", {f"sec-{n}": f"Sec. {n}" for n in range(1, 9)}),
        (
            "eu-regulation-2020-1998",
            {"art-1": "Art. 1", "art-2": "Art. 2", "art-3": "Art. 3", "annex": "Annex"},
        ),
        (
            "ca-magnitsky-law-2017",
            {"sec-1": "s. 1", "sec-2-1": "s. 2(1)", "sec-4-1": "s. 4(1)", "sec-4-4": "s. 4(4)"},
        ),
        ("uk-ghr-sanctions-regulations-2020", {"reg-2": "reg. 2", "reg-4": "reg. 4"}),
    ],
)
def test_bundled_sections_and_paragraphs(
    bundled: Library, doc_id: str, anchors: dict[str, str]
) -> None:
    ps = passages_of(bundled, doc_id)
    assert {a: ps[a].label for a in anchors if a in ps} == anchors
    version = bundled.archive.get_version(bundled.archive.get_document(doc_id).current_version)
    if version.media_type == "application/pdf":  # every PDF passage keeps its page(s)
        assert all(p.page and p.page_end and p.page <= p.page_end for p in ps.values())


def test_judgment_paragraphs_sit_under_the_courts_headings(bundled: Library) -> None:
    ps = passages_of(bundled, JUDGMENT)
    assert ps["para-1"].heading == "PROCEDURE"
    assert ps["para-8"].heading.endswith(
        "A. The first applicant’s work and his allegations of fraud"
    )
    assert ps["para-46"].heading.endswith(
        "B. Article 6 § 1: the fairness of the posthumous proceedings"
    )
    assert (ps["para-46"].page, ps["para-46"].text[:4]) == (6, "46. ")


def test_judgment_heading_path_names_the_law_and_the_complaint(bundled: Library) -> None:
    assert passages_of(bundled, JUDGMENT)["para-46"].heading == (
        "THE LAW › V. ALLEGED VIOLATION OF ARTICLE 6 OF THE CONVENTION › "
        "B. Article 6 § 1: the fairness of the posthumous proceedings"
    )


def test_uk_regulations_are_anchored_by_their_numbers(bundled: Library) -> None:
    """ "Citation and commencement 1.—(1) ...": the marginal note does not hide the number."""
    ps = passages_of(bundled, "uk-ghr-sanctions-regulations-2020")
    # Regulations are cited by regulation (OSCOLA "reg 4"): reg- anchors, as docs/architecture.md says
    assert [a for a in ps if a.startswith("reg-")] == ["reg-1", "reg-2", "reg-3", "reg-4"]
    assert [ps[a].label for a in ("reg-1", "reg-4")] == ["reg. 1", "reg. 4"]
    assert not any(a.startswith("sec-") for a in ps)
    assert "may be cited as the Global Human Rights Sanctions Regulations 2020" in ps["reg-1"].text


# -------------------------------------------------------------- identifiers, from the documents


@pytest.mark.parametrize(
    "name",
    sorted(p.name for p in ARCHIVE.iterdir() if p.suffix in (".pdf", ".html")),
)
def test_bundled_identifiers_are_recovered_without_the_sidecar(name: str) -> None:
    """Each document's own identifiers as its sidecar lists them, read from the document alone:
    none of the identifiers it only cites (the 2016 Act recites Pub. L. 112-208, the EU Regulation
    names Decision (CFSP) 2020/1999, the UK S.I. its enabling Act 2018 c. 13)."""
    given = sidecar(name)
    a = bare(ARCHIVE / name, given["kind"])
    assert a.kind == given["kind"]
    own = [value for value, _ in a.identifiers]
    expected = [citations.normalize(v) or v for v in given.get("identifiers", [])]
    if given["kind"] == "article":
        assert own == []
    else:
        assert own == expected
    for value, family in a.identifiers:
        assert family == (legalmeta.family_of(value) or "")


@pytest.mark.parametrize(
    ("name", "fields", "meta"),
    [
        ("magnitskiy-v-russia.pdf",
         {"date": "2019-08-27", "court": ECHR, "jurisdiction": "Council of Europe"},
         {"case_name": "Magnitskiy and Others v. Russia", "respondent": "Russia",
          "parties": ["Magnitskiy and Others", "Russia"], "applications": ["32631/09", "53799/12"],
          "ecli": ECLI, "decision_date": "2019-08-27"}),
        ("magnitskiy-v-russia-press-release.html",
         {"date": "2019-08-27", "court": "European Court of Human Rights"},
         {"case_name": "Magnitskiy and Others v. Russia", "respondent": "Russia",
          "applications": ["32631/09", "53799/12"]}),
        ("us-magnitsky-act-2012.pdf", {"date": "2012-12-14", "jurisdiction": "United States"},
         {"short_title": "Sergei Magnitsky Rule of Law Accountability Act of 2012",
          "enactment_date": "2012-12-14"}),
        ("us-global-magnitsky-act-2016.html", {"date": "2016-12-23", "jurisdiction": US},
         {"short_title": "Global Magnitsky Human Rights Accountability Act"}),
        ("us-executive-order-13818.html", {"date": "2017-12-20", "jurisdiction": US}, {}),
        ("uk-global-human-rights-sanctions-regulations-2020.pdf",
         {"date": "2020-07-06", "jurisdiction": "United Kingdom"},
         {"short_title": "Global Human Rights Sanctions Regulations 2020"}),
        ("eu-regulation-2020-1998.html", {"date": "2020-12-07", "jurisdiction": EU}, {}),
        ("canada-sergei-magnitsky-law-2017.pdf", {"date": "2017-10-18", "jurisdiction": "Canada"},
         {"short_title": CA_SHORT_TITLE}),
        ("magnitsky-laws-after-strasbourg.html", {"date": "2026-03-10", "language": "en"},
         {"authors": ["Jane Doe", "Richard Roe"], "publisher": "magsearch sample collection"}),
        ("russian-response-and-baltic-laws.pdf", {"date": "2026-02-24", "language": "en"},
         {"authors": ["Richard Roe"]}),
    ],
)  # fmt: skip
def test_bundled_metadata_without_the_sidecar(name: str, fields: dict, meta: dict) -> None:
    a = bare(ARCHIVE / name, sidecar(name)["kind"])
    assert {k: a.fields[k] for k in fields} == fields
    assert {k: a.meta.get(k) for k in meta} == meta


def test_a_ruling_owns_the_numbers_of_its_heading_not_those_it_cites() -> None:
    blocks = [
        Block("EUROPEAN COURT OF HUMAN RIGHTS", "heading"),
        Block("CASE OF IVANOV v. RUSSIA", "heading"),
        Block("(Application no. 12345/10)"),
        Block("JUDGMENT", "heading"),
        Block("STRASBOURG", "heading"),
        Block("5 May 2015"),
        Block("PROCEDURE", "heading"),
        *[Block(f"{n}. The case originated in an application (no. 12345/10); see Petrov v. Russia, "
                f"no. {54321 + n}/08, § {n}, 1 June 2012, and the authorities cited there.")
          for n in range(1, 6)],
    ]  # fmt: skip
    passages = structure.segment(blocks, "ruling")
    assert passages[-1].anchor == "para-5"
    out = legalmeta.extract(passages, "ruling", {})
    # no ECLI written: derived from the date and the first application number (JUD: a judgment)
    assert out["identifiers"] == ["12345/10", "ECLI:CE:ECHR:2015:0505JUD001234510"]
    assert out["case_name"] == "Ivanov v. Russia" and out["respondent"] == "Russia"
    assert out["court"] == "European Court of Human Rights" and out["date"] == "2015-05-05"


def test_the_derived_ecli_is_the_one_the_court_gives() -> None:
    """The bundled judgment writes its ECLI; without that line it is derived, to the same value."""
    from magsearch.ingest.registry import parse_bytes

    parsed = parse_bytes((ARCHIVE / "magnitskiy-v-russia.pdf").read_bytes())
    blocks = [b for b in parsed.blocks if "European Case Law Identifier" not in b.text]
    out = legalmeta.extract(structure.segment(blocks, "ruling"), "ruling", {})
    assert out["ecli"] == sidecar("magnitskiy-v-russia.pdf")["identifiers"][2]


def test_statute_dates_ignore_the_preamble_and_the_short_title_is_read(corpus: Path) -> None:
    a = bare(corpus / CA_ACT, "legislation")
    assert [v for v, _ in a.identifiers] == ["S.C. 2017, c. 21"]
    assert a.fields["jurisdiction"] == "Canada"
    # the consolidation states no date at its head (16 November 2009 is the preamble's date of
    # Sergei Magnitsky's death): enacted in the year of its chapter, current to its last amendment
    assert a.fields["date"] == "2017" and a.meta["enactment_date"] == "2017"
    assert a.meta["current_to"] == "2023-06-22"  # "2023, c. 26 2023-06-22", the newest amendment
    assert a.title == "Justice for Victims of Corrupt Foreign Officials Act (Sergei Magnitsky Law)"
    assert a.meta["short_title"] == a.title
    assert a.meta["long_title"].startswith(
        "An Act to provide for the taking of restrictive measures"
    )
    fr = bare(corpus / CA_ACT_FR, "legislation")
    assert (fr.fields["date"], fr.meta["current_to"]) == ("2017", "2023-06-22")  # "2023, ch. 26"
    assert [v for v, _ in fr.identifiers] == ["S.C. 2017, c. 21"]  # "L.C. 2017, ch. 21"
    assert fr.fields["language"] == "fr"
    assert fr.meta["short_title"].startswith("Loi sur la justice pour les victimes")


def test_a_us_code_chapter_is_dated_by_the_enactment_its_text_names(corpus: Path) -> None:
    """22 U.S.C. ch. 108 writes the Act's date of enactment where the Act said "the date of the
    enactment of this Act" ("as in effect on the day before December 23, 2016")."""
    a = bare(corpus / USC, "legislation")
    assert a.fields["date"] == "2016-12-23" and a.meta["enactment_date"] == "2016-12-23"
    assert "current_to" not in a.meta  # nothing in the text says how current the chapter is


def test_consolidated_legislation_is_found_by_a_date_filter(corpus_lib: Library) -> None:
    """The Canadian Act and 22 U.S.C. ch. 108 carry their enactment dates into a date filter, and
    the results say which date that is."""
    res = corpus_lib.search.search("kind:legislation date:2016..2018")
    found = {h.id: h for h in res.hits}
    act, usc = doc_by_file(corpus_lib, Path(CA_ACT).name), doc_by_file(corpus_lib, Path(USC).name)
    assert act in found and usc in found
    assert (found[act].date, found[act].date_basis, found[act].current_to) == (
        "2017",
        "enacted",
        "2023-06-22",
    )
    assert found[usc].date_basis == "enacted"
    assert any("date of enactment" in n and "current to" in n for n in res.notes)
    assert not any("date of" in n for n in corpus_lib.search.search("Magnitsky").notes)


def test_a_press_release_is_told_apart_from_the_judgment() -> None:
    """Without its sidecar the press release is still a press release; the judgment is none."""
    assert bare(ARCHIVE / "magnitskiy-v-russia-press-release.html", "ruling").meta["genre"] == (
        "press release"
    )
    assert "genre" not in bare(ARCHIVE / "magnitskiy-v-russia.pdf", "ruling").meta
    blocks = [Block("Legal summary", "heading"), Block("Ivanov v. Russia - 12345/10")]
    blocks += [Block("The applicant complained of his detention. " * 8)]
    passages = structure.segment(blocks, "ruling")
    assert legalmeta.extract(passages, "ruling", {})["genre"] == "summary"


def test_regulations_own_their_sor_number_not_the_act_they_are_made_under(corpus: Path) -> None:
    a = bare(corpus / CA_REGS, "legislation")
    assert a.identifiers == [("SOR/2017-233", "ca-reg")]  # not S.C. 2017, c. 21, nor SOR/2023-179
    assert a.fields["date"] == "2017-11-03"  # registered
    assert a.fields["jurisdiction"] == "Canada"
    # the name the Regulations give themselves, not the parser's "SOR/2017-233"
    assert a.title == "Justice for Victims of Corrupt Foreign Officials Regulations"
    cited = {(c.normalized, c.anchor) for c in a.citations}
    assert ("SOR/2023-179", "sec-2") in cited  # the amending regulation, in its history note
    assert any(n == "S.C. 2017, c. 21" and anchor.startswith("p-") for n, anchor in cited)


def test_us_code_chapter_owns_its_sections(corpus: Path) -> None:
    a = bare(corpus / USC, "legislation")
    assert [v for v, _ in a.identifiers] == [
        "22 U.S.C. ch. 108", "22 U.S.C. 10101", "22 U.S.C. 10102", "22 U.S.C. 10103",
    ]  # fmt: skip
    assert a.fields["jurisdiction"] == "United States"
    assert a.title == "Global Magnitsky Human Rights Accountability (22 U.S.C. ch. 108)"
    assert ("31 C.F.R. 595.304", "sec-10101") in {(c.normalized, c.anchor) for c in a.citations}
    assert legalmeta.family_of("22 U.S.C. ch. 108") == "usc-chapter"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("courtlistener__opinion_tax.pdf", {
            "court": "United States Tax Court", "date": "2020-02-20",
            "case_name": "Rock Bordelon and Torie Bordelon v. Commissioner of Internal Revenue",
            "respondent": "Commissioner of Internal Revenue",
            "identifiers": ["Docket No. 19031-13", "Docket No. 27735-13", "Docket No. 11905-14",
                            "T.C. Memo. 2020-26"]}),
        ("courtlistener__Calderon_Fuentes_EHO.pdf", {
            "court": "Tennessee Court of Workers' Compensation Claims", "date": "2019-10-02",
            "case_name": "Leonardo Calderon-Fuentes v. CEVA Logistics U.S. Holdings",
            "parties": ["Leonardo Calderon-Fuentes", "CEVA Logistics U.S. Holdings",
                        "New Hampshire Ins. Co."],
            "identifiers": ["Docket No. 2018-06-1735"]}),
        ("courtlistener__not_wpd.html", {
            "court": "New York Supreme Court, Queens County", "date": "2020-06-11",
            "case_name": "Feliciano v. Seabrook", "identifiers": ["2020 NY Slip Op 50753(U)"]}),
        ("courtlistener__Diaz_v_Create_and_Construct_LLC.pdf", {
            "court": "Tennessee Workers' Compensation Appeals Board", "date": "2019-09-13",
            "authors": None}),  # the PDF's Author "cg04209" is a user name, not an author
    ],
)  # fmt: skip
def test_us_opinions_court_case_name_and_docket(corpus: Path, name: str, expected: dict) -> None:
    a = bare(corpus / "rulings" / name, "ruling")
    got = {**a.fields, **a.meta, "identifiers": [v for v, _ in a.identifiers]}
    assert {k: got.get(k) for k in expected} == expected
    assert a.fields["jurisdiction"] == "United States"
    for value, _ in a.identifiers:
        assert legalmeta.family_of(value) in ("docket", "us-case")
    if "case_name" in expected:
        assert a.title == expected["case_name"]  # the PDFs have no title of their own


def test_diaz_docket_number_survives(corpus: Path) -> None:
    a = bare(corpus / "rulings/courtlistener__Diaz_v_Create_and_Construct_LLC.pdf", "ruling")
    assert "Docket No. 2019-06-0263" in [value for value, _ in a.identifiers]


@pytest.mark.parametrize(
    "caption",
    [
        ["Leonardo Calderon-Fuentes, Employee, v. CEVA Logistics U.S. Holdings, Employer, And New "
         "Hampshire Ins. Co., Carrier. ) Docket No. 2018-06-1735 ) ) ) State File No. 58665-2018"],
        ["Leonardo Calderon-Fuentes,", "Employee,", "v.", "CEVA Logistics U.S. Holdings,",
         "Employer, And New Hampshire Ins. Co.,", "Carrier. ) Docket No. 2018-06-1735", ") )",
         ") State File No. 58665-2018", ")"],
    ],
    ids=["one-line", "line-by-line"],
)  # fmt: skip
def test_a_us_caption_is_read_however_the_pdf_lays_it_out(caption: list[str]) -> None:
    blocks = [
        Block("TENNESSEE BUREAU OF WORKERS' COMPENSATION", "heading", page=1),
        Block("IN THE COURT OF WORKERS' COMPENSATION CLAIMS", "heading", page=1),
        Block("AT NASHVILLE", "heading", page=1),
        *[Block(line, page=1) for line in caption],
        Block("EXPEDITED HEARING ORDER", "heading", page=1),
        Block("This case requires the Court to determine whether the employee suffered injuries. "
              "Based on the evidence, the Court finds he did not show he would likely prevail. "
              "His requested relief is denied at this time.", page=1),
        Block("FILED Oct 02, 2019", page=1),
        Block("The second page of the order.", page=2),
    ]  # fmt: skip
    out = legalmeta.extract(structure.segment(blocks, "ruling"), "ruling", {})
    assert out["court"] == "Tennessee Court of Workers' Compensation Claims"
    assert out["case_name"] == "Leonardo Calderon-Fuentes v. CEVA Logistics U.S. Holdings"
    assert out["parties"][-1] == "New Hampshire Ins. Co."
    assert out["identifiers"] == ["Docket No. 2018-06-1735"]
    assert out["date"] == "2019-10-02" and out["jurisdiction"] == "United States"


def test_listing_pages_own_no_case_numbers(corpus: Path) -> None:
    """A court's page listing many opinions is not a ruling: it owns none of their numbers."""
    for name in ("neb_example", "nycityct_example", "dcd_example", "iowactapp_example"):
        path = corpus / "rulings" / f"juriscraper__{name}.html"
        assert bare(path, "ruling").identifiers == [], name


def test_article_byline_and_author_names() -> None:
    passages = structure.segment(
        [Block("Reading the Magnitsky laws", "heading", level=1),
         Block("By Jane Doe and Richard Roe · Published 10 March 2026 · Example Review"),
         Block("Few individuals have given their name to as much legislation as Sergei Magnitsky. "
               "This article asks what the judgment adds to the legislation.")],
        "article",
    )  # fmt: skip
    out = legalmeta.extract(passages, "article", {})
    assert out["authors"] == ["Jane Doe", "Richard Roe"] and out["date"] == "2026-03-10"
    # HTML meta tags win; "Last, First" becomes "First Last"; a user name is no author
    kept = legalmeta.extract(
        passages, "article", {"authors": ["Doe, Jane", "cg04209"], "date": "2026-03-11"}
    )
    assert kept["authors"] == ["Jane Doe"] and "date" not in kept


# ------------------------------------------------------------------------------------ citations


def test_citations_found_in_the_bundled_article(bundled: Library) -> None:
    doc = bundled.archive.get_document(ARTICLE)
    found = bundled.archive.citations(doc.current_version)
    anchors = {p.anchor for p in bundled.archive.passages(doc.current_version)}
    assert {c.anchor for c in found} <= anchors
    families = {c.family for c in found}
    assert {"echr-app", "ecli", "us-pl", "us-stat", "usc", "us-eo", "us-fr", "uk-si", "eu-reg",
            "celex", "ca-statute"} <= families  # fmt: skip
    by_norm = {c.normalized for c in found}
    assert {"32631/09", "Pub. L. 112-208", "Pub. L. 114-328", "S.I. 2020/680", "S.C. 2017, c. 21",
            "Regulation (EU) 2020/1998", "E.O. 13818"} <= by_norm  # fmt: skip


# --------------------------------------------------------------------------- the citation graph


def test_article_links_to_the_judgment_and_the_laws(bundled: Library) -> None:
    links = bundled.archive.cites(ARTICLE)
    targets = {link.cited_doc for link in links}
    assert {JUDGMENT, *LAWS} <= targets
    assert PRESS not in targets  # the press release does not carry the judgment's numbers
    anchors = set(passages_of(bundled, ARTICLE))
    judgment_links = [link for link in links if link.cited_doc == JUDGMENT]
    assert {link.normalized for link in judgment_links} >= {"32631/09", "53799/12", ECLI}
    assert all(link.citing_anchor in anchors for link in links)  # down to the passage


def test_judgment_shows_who_cites_it(bundled: Library) -> None:
    citing = {link.citing_doc: link for link in bundled.archive.cited_by(JUDGMENT)}
    assert {ARTICLE, ARTICLE_PDF, PRESS, "ca-magnitsky-law-2017"} <= set(citing)
    note = passages_of(bundled, "ca-magnitsky-law-2017")[
        citing["ca-magnitsky-law-2017"].citing_anchor
    ]
    assert note.heading.startswith("Note on the Regulations")  # the editorial note, not s. 4(4)
    assert citing[ARTICLE_PDF].citing_anchor == "page-2"


def test_show_json_through_the_cli(bundled: Library) -> None:
    judgment = show_json(bundled, JUDGMENT)
    assert judgment["document"]["identifiers"] == ["32631/09", "53799/12", ECLI]
    assert judgment["document"]["court"] == "European Court of Human Rights"
    assert [p["anchor"] for p in judgment["passages"] if p["anchor"].startswith("para-")] == [
        f"para-{n}" for n in range(1, 49)
    ]
    cited_by = {(c["doc_id"], c["anchor"]) for c in judgment["cited_by"]}
    assert "ca-magnitsky-law-2017" in {doc for doc, _ in cited_by}
    assert {doc for doc, _ in cited_by} >= {ARTICLE, ARTICLE_PDF}

    article = show_json(bundled, ARTICLE)
    assert {c["doc_id"] for c in article["cites"]} >= {JUDGMENT, *LAWS}
    anchors = {p["anchor"] for p in article["passages"]}
    assert all(c["anchor"] in anchors for c in article["cites"])
    assert article["document"]["meta"]["authors"] == ["Jane Doe", "Richard Roe"]


def test_corpus_regulations_link_to_their_act(corpus_lib: Library) -> None:
    act = doc_by_file(corpus_lib, Path(CA_ACT).name)
    regs = doc_by_file(corpus_lib, Path(CA_REGS).name)
    assert corpus_lib.archive.get_document(act).identifiers == ("S.C. 2017, c. 21",)
    assert corpus_lib.archive.get_document(regs).identifiers == ("SOR/2017-233",)
    links = corpus_lib.archive.cites(regs)
    assert {link.cited_doc for link in links} == {act}
    assert {link.normalized for link in links} == {"S.C. 2017, c. 21"}
    assert regs in {link.citing_doc for link in corpus_lib.archive.cited_by(act)}


def test_the_graph_is_current_whatever_the_order_of_ingest(tmp_path: Path) -> None:
    """The article first, then the statute it cites: the link appears without re-ingesting the
    article, in both directions."""
    lib = new_library(tmp_path / "data")
    try:
        ingest(lib, [ARCHIVE / "magnitsky-laws-after-strasbourg.html"])
        assert lib.archive.cites(ARTICLE) == []
        before = lib.archive.get_document(ARTICLE).current_version

        ingest(lib, [ARCHIVE / "us-global-magnitsky-act-2016.html"])
        links = lib.archive.cites(ARTICLE)
        assert {link.cited_doc for link in links} == {"us-global-magnitsky-act-2016"}
        assert {link.normalized for link in links} >= {"Pub. L. 114-328", "130 Stat. 2533"}
        assert {
            link.citing_doc for link in lib.archive.cited_by("us-global-magnitsky-act-2016")
        } == {ARTICLE}
        assert lib.archive.get_document(ARTICLE).current_version == before
        assert len(lib.archive.versions(ARTICLE)) == 1
        assert [row["status"] for row in lib.archive.ingest_log() if row["doc_id"] == ARTICLE] == [
            "ingested"
        ]
    finally:
        lib.close()


# ---------------------------------------------------------------------- anchors across versions


def edit_copy(src: Path, folder: Path, old: str, new: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    dest = folder / src.name
    text = src.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    dest.write_text(text.replace(old, new), encoding="utf-8")
    shutil.copy(src.with_name(src.name + ".meta.json"), folder)
    return dest


def test_a_changed_version_keeps_the_anchors_of_unchanged_paragraphs(tmp_path: Path) -> None:
    lib = new_library(tmp_path / "data")
    try:
        article = ARCHIVE / "magnitsky-laws-after-strasbourg.html"
        regulation = ARCHIVE / "eu-regulation-2020-1998.html"
        ingest(lib, [article, regulation])
        v1 = {doc: passages_of(lib, doc) for doc in (ARTICLE, "eu-regulation-2020-1998")}

        # one paragraph of the article (anchored by its text) and Article 2 of the Regulation change
        copies = [
            edit_copy(article, tmp_path / "v2", "Under Article 3, the Court found two violations",
                      "Under Article 3, the Court found two distinct violations"),
            edit_copy(regulation, tmp_path / "v2", "“claim”, “contract or transaction”,",
                      "“claim”, “contract” and “transaction”,"),
        ]  # fmt: skip
        results = ingest(lib, copies)
        assert sorted(r.status for r in results) == ["new-version", "new-version"]

        for doc in (ARTICLE, "eu-regulation-2020-1998"):
            versions = lib.archive.versions(doc)
            assert [v.seq for v in versions] == [1, 2]
            assert lib.archive.get_document(doc).current_version == versions[1].sha256
            v2 = passages_of(lib, doc)
            changed = {a for a, p in v1[doc].items() if a not in v2 or v2[a].text != p.text}
            assert len(changed) == 1, changed  # only the edited paragraph
            kept = set(v1[doc]) - changed
            assert kept <= set(v2) and all(v2[a].text == v1[doc][a].text for a in kept)
            (edited,) = changed
            # a permalink to the old paragraph still resolves, to the version that has it
            assert lib.archive.version_with_anchor(doc, edited) in {v.sha256 for v in versions}

        article_changed = {a for a in v1[ARTICLE] if a not in passages_of(lib, ARTICLE)}
        assert len(article_changed) == 1 and next(iter(article_changed)).startswith("p-")
        reg_v2 = passages_of(lib, "eu-regulation-2020-1998")
        reg_changed = [
            a for a, p in v1["eu-regulation-2020-1998"].items() if reg_v2[a].text != p.text
        ]
        assert reg_changed[0].startswith("art-")  # Article numbers anchor it: the anchor stays
    finally:
        lib.close()


# ------------------------------------------------------------------------------------ name forms


def test_every_spelling_of_magnitsky_finds_the_same_documents(bundled: Library) -> None:
    found = {}
    for q in ("Magnitskii", "Magnitskiy", "Magnitsky", "Магнитский"):
        res = bundled.search.search(q, per_page=50)
        found[q] = {hit.id for hit in res.hits}
    assert found["Magnitskii"] == found["Magnitskiy"] == found["Magnitsky"] == found["Магнитский"]
    assert found["Magnitsky"] == {doc.id for doc in bundled.archive.documents()}
    # the EU Regulation only ever writes "Magnitsky", yet the Cyrillic and "-ii" forms find it
    eu = " ".join(p.text for p in passages_of(bundled, "eu-regulation-2020-1998").values())
    assert "Magnitsk" in eu and "Magnitskii" not in eu and "Магнитский" not in eu
