"""Formatted citations and exports (magsearch.cite): pure functions, real documents' metadata."""

from __future__ import annotations

import json

import pytest

from magsearch import cite
from magsearch.models import Document, Kind, Passage

RULING = Document(
    id="echr-magnitskiy-2019",
    kind=Kind.RULING,
    title="Magnitskiy and Others v. Russia",
    date="2019-08-27",
    court="European Court of Human Rights",
    jurisdiction="Council of Europe",
    language="en",
    identifiers=("32631/09", "53799/12", "ECLI:CE:ECHR:2019:0827JUD003263109"),
    meta={"case_name": "Magnitskiy and Others v. Russia"},
)
ACT = Document(
    id="us-magnitsky-act-2012",
    kind=Kind.LEGISLATION,
    title="Sergei Magnitsky Rule of Law Accountability Act of 2012",
    date="2012-12-14",
    jurisdiction="United States",
    identifiers=("Pub. L. 112-208", "126 Stat. 1496"),
)
SI = Document(
    id="uk-ghr-sanctions-regulations-2020",
    kind=Kind.LEGISLATION,
    title="The Global Human Rights Sanctions Regulations 2020",
    date="2020-07-06",
    jurisdiction="United Kingdom",
    identifiers=("S.I. 2020/680",),
)
ARTICLE = Document(
    id="article-x",
    kind=Kind.ARTICLE,
    title="From Strasbourg to the statute books",
    date="2026-03-10",
    meta={"authors": ["Jane Doe", "Richard Roe"], "publisher": "magsearch sample collection"},
)
PARA = Passage(seq=40, anchor="para-31", label="§ 31", text="31. Turning to…", page=4)
SEC = Passage(seq=5, anchor="sec-404", label="Sec. 404", text="SEC. 404…")
PAGE = Passage(seq=2, anchor="page-2", label="p. 2", text="…", page=2)
FALLBACK = Passage(seq=3, anchor="p-1a2b3c4d", label="¶ 3", text="…", page=7)
URL = "https://archive.example/d/echr-magnitskiy-2019#para-31"


def test_short_citation_is_kept() -> None:
    assert cite.short_citation(RULING) == (
        "Magnitskiy and Others v. Russia, nos. 32631/09 and 53799/12 "
        "(European Court of Human Rights, 2019-08-27)"
    )


@pytest.mark.parametrize(
    ("doc", "passage", "expected"),
    [
        (
            RULING,
            None,
            "Magnitskiy and Others v. Russia, App. Nos. 32631/09, 53799/12 "
            "(Eur. Ct. H.R. Aug. 27, 2019).",
        ),
        (
            RULING,
            PARA,
            "Magnitskiy and Others v. Russia, App. Nos. 32631/09, 53799/12, ¶ 31 "
            "(Eur. Ct. H.R. Aug. 27, 2019).",
        ),
        (
            ACT,
            SEC,
            "Sergei Magnitsky Rule of Law Accountability Act of 2012, Pub. L. No. 112-208, "
            "§ 404, 126 Stat. 1496.",
        ),
        (SI, None, "The Global Human Rights Sanctions Regulations 2020, S.I. 2020/680."),
        (
            ARTICLE,
            PAGE,
            "Jane Doe & Richard Roe, From Strasbourg to the statute books, at 2, "
            "magsearch sample collection (Mar. 10, 2026).",
        ),
    ],
)
def test_bluebook(doc: Document, passage: Passage | None, expected: str) -> None:
    assert cite.bluebook(doc, passage) == expected


@pytest.mark.parametrize(
    ("doc", "passage", "expected"),
    [
        (
            RULING,
            PARA,
            "Magnitskiy and Others v Russia App nos 32631/09 and 53799/12 "
            "(ECtHR, 27 August 2019), para 31",
        ),
        (
            ACT,
            SEC,
            "Sergei Magnitsky Rule of Law Accountability Act of 2012, Pub L 112-208, "
            "126 Stat 1496, s 404",
        ),
        (SI, None, "The Global Human Rights Sanctions Regulations 2020, SI 2020/680"),
        (
            ARTICLE,
            None,
            "Jane Doe and Richard Roe, ‘From Strasbourg to the statute books’ "
            "(magsearch sample collection, 10 March 2026)",
        ),
    ],
)
def test_oscola(doc: Document, passage: Passage | None, expected: str) -> None:
    assert cite.oscola(doc, passage) == expected


def test_article_citations_carry_the_permalink() -> None:
    assert cite.bluebook(ARTICLE, None, URL).endswith(f", {URL}.")
    assert cite.oscola(ARTICLE, None, URL).endswith(f"<{URL}>")


def test_pinpoints_follow_the_anchor_not_the_label() -> None:
    assert cite.pinpoint(PARA, "bluebook") == "¶ 31"
    assert cite.pinpoint(PARA, "oscola") == "para 31"
    assert cite.pinpoint(SEC, "oscola") == "s 404"
    assert cite.pinpoint(FALLBACK, "bluebook") == "at 7"  # a fallback anchor cites its page
    assert cite.pinpoint(Passage(1, "p-xyz", "¶ 1", "t"), "bluebook") == "¶ 1"
    assert cite.pinpoint(None, "bluebook") == ""
    assert cite.anchor_label("para-12") == "¶ 12"
    assert cite.anchor_label("page-3") == "p. 3"
    assert cite.anchor_label("p-1a2b") == "p-1a2b"


def test_bibtex_escapes_and_pinpoints() -> None:
    doc = Document(
        id="x.y_z",
        kind=Kind.ARTICLE,
        title="Costs & 100% {braces} #1 under_score ~ ^",
        meta={"authors": ["A \\ B"]},
    )
    out = cite.bibtex(doc, PARA, "https://h/d/x.y_z#para-31")
    assert out.startswith("@online{x_y_z,\n")
    assert r"Costs \& 100\% \{braces\} \#1 under\_score \textasciitilde{} \textasciicircum{}" in out
    assert r"{A \textbackslash{} B}" in out
    assert "note = {¶ 31}" in out
    assert "url = {https://h/d/x.y_z#para-31}" in out
    assert out.count("{") == out.count("}") + out.count(r"\{") - out.count(r"\}")
    ruling = cite.bibtex(RULING)
    assert ruling.startswith("@jurisdiction{echr_magnitskiy_2019,")
    assert "institution = {European Court of Human Rights}" in ruling
    assert "number = {32631/09, 53799/12, ECLI:CE:ECHR:2019:0827JUD003263109}" in ruling
    assert cite.bibtex(ACT).startswith("@legislation{")


def test_ris() -> None:
    out = cite.ris(RULING, PARA, URL)
    lines = out.splitlines()
    assert lines[0] == "TY  - CASE" and lines[-1] == "ER  - "
    assert "DA  - 2019/08/27/" in lines
    assert "PB  - European Court of Human Rights" in lines
    assert "SP  - 4" in lines and "N1  - Pinpoint: ¶ 31" in lines
    assert f"UR  - {URL}" in lines
    multiline = Document(id="m", kind=Kind.OTHER, title="two\nlines")
    assert "TI  - two lines" in cite.ris(multiline).splitlines()
    assert cite.ris(ARTICLE).splitlines().count("AU  - Jane Doe") == 1


def test_csl_json() -> None:
    [item] = json.loads(cite.csl_json(RULING, PARA, URL))
    assert item["type"] == "legal_case"
    assert item["issued"] == {"date-parts": [[2019, 8, 27]]}
    assert item["authority"] == "European Court of Human Rights"
    assert (item["locator"], item["label"]) == ("31", "paragraph")
    assert item["URL"] == URL
    [law] = json.loads(cite.csl_json(ACT, SEC))
    assert (law["type"], law["locator"], law["label"]) == ("legislation", "404", "section")
    [art] = json.loads(cite.csl_json(ARTICLE))
    assert art["author"] == [{"literal": "Jane Doe"}, {"literal": "Richard Roe"}]


def test_format_citation_dispatch() -> None:
    for fmt in cite.FORMATS:
        assert cite.format_citation(RULING, fmt, PARA, URL).strip()
        assert fmt in cite.MEDIA_TYPES and fmt in cite.EXTENSIONS
    with pytest.raises(ValueError, match="unknown citation format"):
        cite.format_citation(RULING, "chicago")


def test_highwire_tags() -> None:
    tags = cite.highwire_tags(
        RULING, html_url="https://h/d/r", pdf_url="https://h/d/r/v/x/original", pages=9
    )
    d: dict[str, list[str]] = {}
    for name, content in tags:
        d.setdefault(name, []).append(content)
    assert d["citation_title"] == ["Magnitskiy and Others v. Russia"]
    assert d["citation_author"] == ["European Court of Human Rights"]  # no person: the court
    assert d["citation_publication_date"] == ["2019/08/27"]
    assert d["citation_pdf_url"] == ["https://h/d/r/v/x/original"]
    assert d["citation_lastpage"] == ["9"]
    assert d["citation_language"] == ["en"]
    art = dict(cite.highwire_tags(ARTICLE))
    assert art["citation_publisher"] == "magsearch sample collection"
    assert [c for n, c in cite.highwire_tags(ARTICLE) if n == "citation_author"] == [
        "Jane Doe",
        "Richard Roe",
    ]


def test_a_rulings_pdf_author_is_not_its_author() -> None:
    """The Author field of a judgment's PDF names whoever made the file; references name the court."""
    from dataclasses import replace

    made_by = replace(RULING, meta={**RULING.meta, "authors": ["registry clerk 7"]})
    for out in (cite.bibtex(made_by), cite.ris(made_by), str(cite.csl_json(made_by))):
        assert "registry clerk 7" not in out
    assert "European Court of Human Rights" in cite.ris(made_by)


# -- the forms of the guides, checked against their published examples ------------------------------
def _statute(title: str, ident: str, jurisdiction: str, **meta: object) -> Document:
    return Document(
        id="x", kind=Kind.LEGISLATION, title=title, jurisdiction=jurisdiction,
        identifiers=(ident,), meta=dict(meta),
    )  # fmt: skip


@pytest.mark.parametrize(
    ("title", "ident", "anchor", "label", "expected"),
    [  # McGill Guide (9th ed.), statutes and regulations, with the Guide's pinpoints
        ("Criminal Code", "R.S.C. 1985, c. C-46", "sec-745", "s. 745",
         "Criminal Code, RSC 1985, c C-46, s 745."),
        ("Canada Occupational Health and Safety Regulations", "SOR/86-304", "sec-10p7", "s. 10.7",
         "Canada Occupational Health and Safety Regulations, SOR/86-304, s 10.7."),
        ("Justice for Victims of Corrupt Foreign Officials Act (Sergei Magnitsky Law)",
         "S.C. 2017, c. 21", "sec-4-1", "s. 4(1)",
         "Justice for Victims of Corrupt Foreign Officials Act (Sergei Magnitsky Law), SC 2017, c 21, s 4(1)."),
    ],
)  # fmt: skip
def test_mcgill_canadian_legislation(
    title: str, ident: str, anchor: str, label: str, expected: str
) -> None:
    doc = _statute(title, ident, "Canada")
    assert cite.mcgill(doc, Passage(1, anchor, label, "text")) == expected
    assert cite.mcgill(doc) == expected.rsplit(", s ", 1)[0] + "."


@pytest.mark.parametrize(
    ("title", "ident", "journal", "expected"),
    [  # OSCOLA (4th ed.) 2.6.1, EU legislation: its two examples, then the bundled Regulation
        ("Council Regulation (EC) 1984/2003 of 8 April 2003 introducing a system for the statistical "
         "monitoring of trade in bluefin tuna, swordfish and big eye tuna within the Community",
         "Regulation (EC) 1984/2003", "[2003] OJ L295/1",
         "Council Regulation (EC) 1984/2003 of 8 April 2003 introducing a system for the statistical "
         "monitoring of trade in bluefin tuna, swordfish and big eye tuna within the Community "
         "[2003] OJ L295/1"),
        ("Council Directive 2002/60/EC of 27 June 2002 laying down specific provisions for the "
         "control of African swine fever and amending Directive 92/119/EEC as regards Teschen "
         "disease and African swine fever", "Directive 2002/60/EC", "OJ L 192, 20.7.2002, p. 27",
         "Council Directive 2002/60/EC of 27 June 2002 laying down specific provisions for the "
         "control of African swine fever and amending Directive 92/119/EEC as regards Teschen "
         "disease and African swine fever [2002] OJ L192/27"),
        ("Council Regulation (EU) 2020/1998 of 7 December 2020 concerning restrictive measures "
         "against serious human rights violations and abuses", "Regulation (EU) 2020/1998",
         "OJ L 410I, 7.12.2020, p. 1",
         "Council Regulation (EU) 2020/1998 of 7 December 2020 concerning restrictive measures "
         "against serious human rights violations and abuses [2020] OJ L410I/1"),
    ],
)  # fmt: skip
def test_oscola_eu_legislation(title: str, ident: str, journal: str, expected: str) -> None:
    doc = _statute(title, ident, "European Union", official_journal=journal)
    assert cite.oscola(doc) == expected
    assert cite.oscola(doc, Passage(1, "art-3", "Art. 3", "text")) == expected + ", art 3"


def test_an_executive_order_is_not_named_twice() -> None:
    """Bluebook: "Exec. Order No. 13,818, 82 Fed. Reg. 60,839 (Dec. 20, 2017)." (numbers of five
    digits or more grouped); no form repeats "E.O. 13818"."""
    doc = Document(
        id="eo", kind=Kind.LEGISLATION, title="Executive Order 13818: Blocking the Property",
        date="2017-12-20", jurisdiction="United States",
        identifiers=("E.O. 13818", "82 Fed. Reg. 60839"), meta={"short_title": "E.O. 13818"},
    )  # fmt: skip
    assert cite.bluebook(doc) == "Exec. Order No. 13,818, 82 Fed. Reg. 60,839 (Dec. 20, 2017)."
    for text in (cite.short_citation(doc), cite.oscola(doc), cite.mcgill(doc)):
        assert text.count("13818") == 1, text
