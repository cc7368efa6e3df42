"""magsearch.citations: every family, its variants, and things that must not be citations."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from magsearch.citations import FAMILIES, family_of, find_citations, normalize

# (as written, canonical form, family): each text holds exactly one citation
POSITIVE: list[tuple[str, str, str]] = [
    # echr-app
    ("Application no. 53799/12", "53799/12", "echr-app"),
    ("(application no. 32631/09)", "32631/09", "echr-app"),
    ("App. No. 32631/09", "32631/09", "echr-app"),
    ("requête no 32631/09", "32631/09", "echr-app"),
    ("n° 32631/09", "32631/09", "echr-app"),
    ("application no. 2007/64", "2007/64", "echr-app"),
    # ecli
    ("ECLI:CE:ECHR:2019:0827JUD003263109", "ECLI:CE:ECHR:2019:0827JUD003263109", "ecli"),
    ("ecli:ce:echr:2019:0827jud003263109", "ECLI:CE:ECHR:2019:0827JUD003263109", "ecli"),
    ("ECLI:EU:C:2014:238", "ECLI:EU:C:2014:238", "ecli"),
    # us-pl
    ("Pub. L. No. 112–208", "Pub. L. 112-208", "us-pl"),
    ("Public Law 112-208", "Pub. L. 112-208", "us-pl"),
    ("P.L. 112-208", "Pub. L. 112-208", "us-pl"),
    ("Pub.L. 112–208", "Pub. L. 112-208", "us-pl"),
    ("Pub.L.112-208", "Pub. L. 112-208", "us-pl"),
    ("Pub. Law 114—328", "Pub. L. 114-328", "us-pl"),
    # us-stat
    ("126 Stat. 1496", "126 Stat. 1496", "us-stat"),
    ("130 Stat. 2533", "130 Stat. 2533", "us-stat"),
    # usc
    ("22 U.S.C. 10101", "22 U.S.C. 10101", "usc"),
    ("22 U.S.C. § 10101(a)(1)", "22 U.S.C. 10101", "usc"),
    ("22 U.S.C.A. § 10101", "22 U.S.C. 10101", "usc"),
    ("22 USC 10101", "22 U.S.C. 10101", "usc"),
    ("22 USCA § 10101", "22 U.S.C. 10101", "usc"),
    ("22 U.S.C. 10101–10103", "22 U.S.C. 10101", "usc"),
    ("22 U.S.C. §§ 10101-10103", "22 U.S.C. 10101", "usc"),
    ("22 U.S.C. 2656 note", "22 U.S.C. 2656 note", "usc"),
    ("50 U.S.C. 1701 et seq.", "50 U.S.C. 1701", "usc"),
    ("42 U.S.C. § 2000e-2(a)", "42 U.S.C. 2000e-2", "usc"),
    ("15 U.S.C. 78u-6", "15 U.S.C. 78u-6", "usc"),
    ("I.R.C. sec. 465", "26 U.S.C. 465", "usc"),
    ("I.R.C. § 704(d)", "26 U.S.C. 704", "usc"),
    ("section 1201(i) of title 8", "8 U.S.C. 1201", "usc"),
    # cfr
    ("31 C.F.R. 583.201", "31 C.F.R. 583.201", "cfr"),
    ("31 C.F.R. § 583.201(a)", "31 C.F.R. 583.201", "cfr"),
    ("31 CFR part 583", "31 C.F.R. part 583", "cfr"),
    ("31 CFR Part 583", "31 C.F.R. part 583", "cfr"),
    ("31 C.F.R. pt. 583", "31 C.F.R. part 583", "cfr"),
    ("26 C.F.R. sec. 1.752-\n1(a)(1)", "26 C.F.R. 1.752-1", "cfr"),
    ("26 C.F.R. sec. 301.6231(a)(3)-1(a)(4)", "26 C.F.R. 301.6231(a)(3)-1", "cfr"),
    (
        "section 595.304 of title 31, Code of Federal Regulations",
        "31 C.F.R. 595.304",
        "cfr",
    ),
    # us-eo
    ("Executive Order 13818", "E.O. 13818", "us-eo"),
    ("E.O. 13818", "E.O. 13818", "us-eo"),
    ("Exec. Order No. 13818", "E.O. 13818", "us-eo"),
    ("Executive Order (E.O.) 13818", "E.O. 13818", "us-eo"),
    ("EO 14024", "E.O. 14024", "us-eo"),
    # us-fr
    ("82 Fed. Reg. 60839", "82 Fed. Reg. 60839", "us-fr"),
    ("82 FR 60839", "82 Fed. Reg. 60839", "us-fr"),
    ("82 Fed. Reg. 60,839", "82 Fed. Reg. 60839", "us-fr"),
    # us-bill
    ("H.R. 6156", "H.R. 6156", "us-bill"),
    ("H.R.4405", "H.R. 4405", "us-bill"),
    ("H. Res. 123", "H. Res. 123", "us-bill"),
    ("S. Res. 45", "S. Res. 45", "us-bill"),
    ("the Senate bill, S. 1039", "S. 1039", "us-bill"),
    ("S. 1039, 112th Cong. (2012)", "S. 1039", "us-bill"),
    # uk-si
    ("S.I. 2020/680", "S.I. 2020/680", "uk-si"),
    ("SI 2020/680", "S.I. 2020/680", "uk-si"),
    ("S.I. 2020 No. 680", "S.I. 2020/680", "uk-si"),
    # uk-act
    ("2018 c. 13", "2018 c. 13", "uk-act"),
    ("2018 c.13", "2018 c. 13", "uk-act"),
    ("Sanctions and Anti-Money Laundering Act 2018 (c. 13)", "2018 c. 13", "uk-act"),
    # eu-reg
    ("Regulation (EU) 2020/1998", "Regulation (EU) 2020/1998", "eu-reg"),
    ("Council Regulation (EU) 2020/1998", "Regulation (EU) 2020/1998", "eu-reg"),
    ("Council Implementing Regulation (EU) 2020/2153", "Regulation (EU) 2020/2153", "eu-reg"),
    ("Decision (CFSP) 2020/1999", "Decision (CFSP) 2020/1999", "eu-reg"),
    ("Council Decision (CFSP) 2020/1999", "Decision (CFSP) 2020/1999", "eu-reg"),
    ("Regulation (EU) No 269/2014", "Regulation (EU) 269/2014", "eu-reg"),
    ("Regulation (EC) No. 1049/2001", "Regulation (EC) 1049/2001", "eu-reg"),
    ("Council Decision 2014/145/CFSP", "Decision (CFSP) 2014/145", "eu-reg"),
    ("Directive (EU) 2015/849", "Directive (EU) 2015/849", "eu-reg"),
    # celex
    ("CELEX 32020R1998", "CELEX 32020R1998", "celex"),
    ("CELEX:32020R1998", "CELEX 32020R1998", "celex"),
    ("CELEX number 32014R0269", "CELEX 32014R0269", "celex"),
    # ca-statute
    ("S.C. 2017, c. 21", "S.C. 2017, c. 21", "ca-statute"),
    ("SC 2017, c 21", "S.C. 2017, c. 21", "ca-statute"),
    ("S.C. 2017 c. 21", "S.C. 2017, c. 21", "ca-statute"),
    ("L.C. 2017, ch. 21", "S.C. 2017, c. 21", "ca-statute"),
    ("2022, c. 10, s. 444", "S.C. 2022, c. 10", "ca-statute"),
    ("2022, ch. 10, art. 444", "S.C. 2022, c. 10", "ca-statute"),
    ("R.S.C. 1985, c. C-46", "R.S.C. 1985, c. C-46", "ca-statute"),
    ("R.S.C., 1985, c. C-46", "R.S.C. 1985, c. C-46", "ca-statute"),
    ("L.R.C. (1985), ch. C-46", "R.S.C. 1985, c. C-46", "ca-statute"),
    ("R.S.C. 1985, c. 1 (2nd Supp.)", "R.S.C. 1985, c. 1 (2nd Supp.)", "ca-statute"),
    # ca-reg
    ("SOR/2017-233", "SOR/2017-233", "ca-reg"),
    ("DORS/2017-233", "SOR/2017-233", "ca-reg"),
    ("SOR/98-282", "SOR/98-282", "ca-reg"),
    ("SI/2018-12", "SI/2018-12", "ca-reg"),
    ("TR/2018-12", "SI/2018-12", "ca-reg"),
    # us-case (eyecite)
    ("347 U.S. 483", "347 U.S. 483", "us-case"),
    ("Brown v. Board of Education, 347 U.S. 483, 495 (1954)", "347 U.S. 483", "us-case"),
    ("Parker v Blauvelt Volunteer Fire Co., 93 NY2d 343, 347 [1999]", "93 N.Y.2d 343", "us-case"),
    ("Jiminian v Seabrook, 760 Fed Appx 38, 44 [2d Cir 2019]", "760 F. App'x 38", "us-case"),
    ("Romain v Seabrook, 2017 WL 6453326, *5 [SDNY 2017]", "2017 WL 6453326", "us-case"),
    ("Tepper v. Commissioner, T.C. Memo. 1991-402", "T.C. Memo. 1991-402", "us-case"),
    ("Wag-A-Bag, Inc. v. Commissioner, T.C. Memo.\n1992-581", "T.C. Memo. 1992-581", "us-case"),
    ("aff'd without published opinion, 77\nF.3d. 497 (11th Cir. 1996)", "77 F.3d 497", "us-case"),
]

# texts that hold no citation at all
NEGATIVE: list[str] = [
    "",
    "   \n",
    "12/09",
    "on 12/09/2019 we met",
    "no. 5",
    "No. 5 and no. 6",
    "page 32631/09",
    "see 32631/09",
    "Index No. 712894/19",
    "S. Ct. BA Nos. 2007/64; 2007/65",
    "1/2 cup of flour, 3/4 of a pint",
    "$1,500.00 or €2.30 per 100 g",
    "a price of 1,299 USD",
    "50% or more of the shares",
    "Docket No. 2019-06-0263",
    "Tel. 615-253-0064",
    "Form 1040, Schedule C",
    "section 465(b)(2)(A)",
    "section 10102 of this title",
    "Sec. 7491(a)(1)",
    "the Internal Revenue Code (26 U.S.C.), as amended",
    "E.O. 123",
    "Stat. 1496",
    "ECLI",
    "CELEX",
    "H.R. Rep. No. 112-5",
    "John S. 5 apples",
    "see S. 284 here",
    "Windows 10 SP 1 and ISO 8601",
    "P.C.2017-1346",
    "Id. at 5.",
    "Judiciary Law § 431 and CPLR 3211(a)(5)",
    "SI units 2020/21",
    "On 27 August 2019 the Court (Third Section) ruled.",
]


@pytest.mark.parametrize(("raw", "normalized", "family"), POSITIVE)
def test_finds_each_form(raw: str, normalized: str, family: str) -> None:
    found = find_citations(raw)
    assert [(c.normalized, c.family) for c in found] == [(normalized, family)]


@pytest.mark.parametrize(("raw", "normalized", "family"), POSITIVE)
def test_normalize_a_whole_string(raw: str, normalized: str, family: str) -> None:
    (found,) = find_citations(raw)
    if found.raw == raw.strip("() "):  # no words around the citation
        assert normalize(raw) == normalized
    # the canonical form is a fixed point
    assert normalize(normalized) == normalized
    assert family_of(normalized) == family


@pytest.mark.parametrize("text", NEGATIVE)
def test_no_citation(text: str) -> None:
    assert find_citations(text) == []
    assert normalize(text) is None


@pytest.mark.parametrize(
    ("raw", "normalized"),
    [
        ("Pub. L. No. 112–208", "Pub. L. 112-208"),
        ("  pub. l. 112-208  ", "Pub. L. 112-208"),  # typed in a search box
        ("executive order 13818", "E.O. 13818"),
        ("sor/2017-233", "SOR/2017-233"),
        ("s.c. 2017, c. 21", "S.C. 2017, c. 21"),
        ("32631/09", "32631/09"),  # a bare application number, as a sidecar identifier
        ("S. 1039", "S. 1039"),  # alone it is taken for a bill
        ("Brown v. Board of Education, 347 U.S. 483 (1954)", "347 U.S. 483"),
        ("(S.I. 2020/680)", "S.I. 2020/680"),
        ("22 U.S.C. § 10101.", "22 U.S.C. 10101"),
    ],
)
def test_normalize(raw: str, normalized: str) -> None:
    assert normalize(raw) == normalized


@pytest.mark.parametrize(
    "text",
    [
        "12/09",  # too short for a bare application number: a date
        "nos. 32631/09 and 53799/12",  # two citations
        "the Magnitsky Act, Pub. L. 112-208",  # words around it
        "Pub. L. 114-328, § 1263",
        "hello",
        "s. 2",  # a section, not Senate bill 2
        "x" * 1000,
    ],
)
def test_normalize_refuses(text: str) -> None:
    assert normalize(text) is None


def test_family_of_only_takes_canonical_forms() -> None:
    assert family_of("Pub. L. 112-208") == "us-pl"
    assert family_of("Pub. L. No. 112-208") is None
    assert family_of("32631/09") == "echr-app"
    assert family_of("nonsense") is None
    assert family_of("") is None


def test_echr_list_gives_one_citation_per_number() -> None:
    text = "Magnitskiy and Others v. Russia, nos. 32631/09 and 53799/12, 27 August 2019"
    found = find_citations(text)
    assert [c.normalized for c in found] == ["32631/09", "53799/12"]
    assert [c.raw for c in found] == ["nos. 32631/09", "53799/12"]
    assert {c.family for c in found} == {"echr-app"}
    three = find_citations("Nos. 32631/09, 53799/12 & 1234/10")
    assert [c.normalized for c in three] == ["32631/09", "53799/12", "1234/10"]


def test_offsets_raw_and_anchor() -> None:
    text = (
        "The Sergei Magnitsky Rule of Law Accountability Act of 2012 (Pub. L. No. 112–208, "
        "126 Stat. 1496), codified at 22 U.S.C. 5811 note, was followed by E.O. 13818 "
        "(82 FR 60839) and, in Canada, by S.C. 2017, c. 21 and SOR/2017-233; see also "
        "Regulation (EU) 2020/1998, S.I. 2020/680 and Brown v. Board, 347 U.S. 483 (1954)."
    )
    found = find_citations(text, anchor="para-41")
    assert [c.normalized for c in found] == [
        "Pub. L. 112-208",
        "126 Stat. 1496",
        "22 U.S.C. 5811 note",
        "E.O. 13818",
        "82 Fed. Reg. 60839",
        "S.C. 2017, c. 21",
        "SOR/2017-233",
        "Regulation (EU) 2020/1998",
        "S.I. 2020/680",
        "347 U.S. 483",
    ]
    for c in found:
        assert text[c.start : c.end] == c.raw
        assert c.anchor == "para-41"
    starts = [c.start for c in found]
    assert starts == sorted(starts)
    assert all(a.end <= b.start for a, b in zip(found, found[1:], strict=False))


def test_every_family_is_declared() -> None:
    assert {family for _, _, family in POSITIVE} == set(FAMILIES)
    assert all(label for label in FAMILIES.values())


def test_eyecite_law_citations_are_not_used() -> None:
    # eyecite reads "Pub. L. No. 112-208, 126" as one law citation; we keep our own two
    found = find_citations("Pub. L. No. 112-208, 126 Stat. 1496")
    assert [(c.family, c.normalized) for c in found] == [
        ("us-pl", "Pub. L. 112-208"),
        ("us-stat", "126 Stat. 1496"),
    ]


def test_short_case_citation() -> None:
    found = find_citations("See Brand v. Commissioner, 81 T.C. at 828.")
    assert [(c.family, c.normalized) for c in found] == [("us-case", "81 T.C. at 828")]


@pytest.mark.parametrize(
    "text",
    ["\x00", "§", "v.", "Id.", "(", "—", "Pub. L. No.", "347 U.S.", "\u00a0" * 3, "1 2 3 " * 500],
)
def test_odd_input_does_not_raise(text: str) -> None:
    assert isinstance(find_citations(text), list)
    normalize(text)


def test_case_citations_do_not_depend_on_the_hash_seed() -> None:
    # eyecite's choice between "81 T.C. at 828" as a short cite or as reporter "T.C. at"
    # depends on set order; the normalised form must not
    code = (
        "from magsearch.citations import find_citations as f;"
        "print([c.normalized for c in f('Brand v. Commissioner, 81 T.C. at 828; 88 T.C. 63.')])"
    )
    outputs = {
        subprocess.run(
            [sys.executable, "-c", code],
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        for seed in ("0", "1")
    }
    assert outputs == {"['81 T.C. at 828', '88 T.C. 63']"}
