"""magsearch.structure: blocks -> citable passages with lasting anchors, and kind guessing."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import re
import sys
from dataclasses import replace
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from conftest import corpus_root
from magsearch.ingest.registry import parse_bytes
from magsearch.models import Block, Passage
from magsearch.structure import guess_kind, kind_scores, segment, strip_furniture

REPO = Path(__file__).resolve().parents[1]
ARCHIVE = REPO / "archive"
SOURCES = REPO / "scripts" / "collection"
CORPUS = corpus_root()
ANCHOR = re.compile(r"^[a-z0-9][a-z0-9-]*$")

CA_ACT = "legislation/canada_J-2.3_justice_for_victims_of_corrupt_foreign_officials_act_en.txt"
CA_ACT_FR = "legislation/canada_J-2.3_loi_justice_victimes_dirigeants_etrangers_corrompus_fr.txt"
CA_REGS = "legislation/canada_SOR-2017-233_justice_for_victims_regulations_en.txt"
USC = "legislation/us_22_USC_ch108_global_magnitsky_human_rights_accountability.txt"
ARTICLES = [
    "articles/asp_2019_magnitskys-memory.txt",
    "articles/blog_maxefremov_2020-03-04_sanctionsexplorer.txt",
]
LEGISLATION = [CA_ACT, CA_ACT_FR, CA_REGS, USC]


def text_blocks(text: str) -> list[Block]:
    """Blocks as the text parser makes them: one per blank-line paragraph, one per line where
    lines follow each other without blank lines; Markdown '#' lines become headings."""
    blocks: list[Block] = []
    for chunk in re.split(r"\n\s*\n", text):
        for line in [line.strip() for line in chunk.split("\n") if line.strip()]:
            m = re.match(r"^(#{1,6})\s+(.*)$", line)
            blocks.append(Block(m[2], "heading", None, len(m[1])) if m else Block(line))
    return blocks


def corpus_blocks(rel: str) -> list[Block]:
    path = CORPUS / rel
    if not path.is_file():
        pytest.skip(f"corpus file {path} absent (set MAGSEARCH_CORPUS to the corpus root)")
    return text_blocks(path.read_text(encoding="utf-8"))


def by_anchor(passages: list[Passage]) -> dict[str, Passage]:
    return {p.anchor: p for p in passages}


def check_invariants(passages: list[Passage]) -> None:
    assert [p.seq for p in passages] == list(range(len(passages)))
    anchors = [p.anchor for p in passages]
    assert len(set(anchors)) == len(anchors), "anchors must be unique"
    for p in passages:
        assert ANCHOR.match(p.anchor), p.anchor
        assert p.text.strip() and p.label
        assert (p.page is None) == (p.page_end is None)
        if p.page is not None and p.page_end is not None:
            assert 1 <= p.page <= p.page_end


def sha8(text: str) -> str:
    return hashlib.sha1(" ".join(text.lower().split()).encode()).hexdigest()[:8]


LONG = (
    "The applicant complained that the authorities had failed to protect the life of his son "
    "and that the investigation into the circumstances of the death had been ineffective."
)


def echr_blocks() -> list[Block]:
    return [
        Block("THIRD SECTION"),
        Block("CASE OF MAGNITSKIY AND OTHERS v. RUSSIA"),
        Block("(Applications nos. 32631/09 and 53799/12)"),
        Block("JUDGMENT"),
        Block("27 August 2019"),
        Block("This judgment will become final in the circumstances set out in Article 44 § 2."),
        Block("PROCEDURE"),
        Block("1. The case originated in two applications against the Russian Federation. " + LONG),
        Block("2. The applicants were represented by lawyers practising in London. " + LONG),
        Block("THE FACTS"),
        Block("I. THE CIRCUMSTANCES OF THE CASE"),
        Block("3. The first applicant, Sergei Magnitskiy, was born in 1972. " + LONG),
        Block("“1. Everyone’s right to life shall be protected by law.”"),
        Block("2019. In that year the criminal proceedings were closed. " + LONG),
        Block("4. " + LONG),
        Block("§ 5 " + LONG),
        Block("THE LAW"),
        Block("I. ALLEGED VIOLATION OF ARTICLE 2 OF THE CONVENTION"),
        Block("A. Admissibility"),
        Block("6. " + LONG),
        Block("1. The Court notes that the Government raised no objection. " + LONG),
        Block("7. " + LONG),
        Block("FOR THESE REASONS, THE COURT, UNANIMOUSLY"),
        Block("1. Declares the applications admissible;"),
        Block("2. Holds that there has been a violation of Article 2 of the Convention;"),
        Block("Done in English, and notified in writing on 27 August 2019, under Rule 77."),
    ]


# ------------------------------------------------------------------------------- corpus files


def test_canadian_act_sections_and_subsections() -> None:
    passages = segment(corpus_blocks(CA_ACT), "legislation")
    check_invariants(passages)
    got = by_anchor(passages)
    for anchor in ["sec-1", "sec-2", "sec-2p01-1", "sec-2p01-2", "sec-3", "sec-4p1", "sec-7p21"]:
        assert anchor in got
    assert [f"sec-4-{k}" for k in range(1, 7)] == [a for a in got if a.startswith("sec-4-")]
    assert "sec-8-1p1" in got and got["sec-8-1p1"].label == "s. 8(1.1)"
    sub = got["sec-4-1"]
    assert sub.label == "s. 4(1)" and "Governor in Council" in sub.text
    assert sub.heading == "Orders and Regulations › Orders and Regulations"
    assert got["sec-4-2"].heading.endswith("› Circumstances")
    assert got["sec-4p1"].label == "s. 4.1" and got["sec-4p1"].text.startswith("4.1 The following")
    definitions = got["sec-2"]  # definitions, a repealed term and the history note stay in s. 2
    assert definitions.heading == "Interpretation › Definitions"
    assert "foreign national means" in definitions.text and "[Repealed" in definitions.text
    assert definitions.text.rstrip().endswith("2022, c. 10, s. 444")
    preamble = [p for p in passages if p.anchor.startswith("p-")]
    assert preamble and all(p.seq < got["sec-1"].seq for p in preamble)
    assert any(p.text.startswith("J-2.3") and "Whereas human rights" in p.text for p in preamble)


def test_canadian_act_french_uses_the_same_anchors() -> None:
    french = by_anchor(segment(corpus_blocks(CA_ACT_FR), "legislation"))
    english = by_anchor(segment(corpus_blocks(CA_ACT), "legislation"))
    assert {a for a in french if a.startswith("sec-")} == {
        a for a in english if a.startswith("sec-")
    }
    assert "gouverneur en conseil" in french["sec-4-1"].text


def test_canadian_regulations_and_schedule() -> None:
    passages = segment(corpus_blocks(CA_REGS), "legislation")
    check_invariants(passages)
    got = by_anchor(passages)
    assert [a for a in got if a.startswith("sec-")] == ["sec-1", "sec-2", "sec-3", "sec-4"]
    assert got["sec-1"].heading.endswith("List › Listed foreign national")
    schedule = got["schedule"]  # the list of names is one passage, not 80 "sections"
    assert schedule.label == "Schedule"
    assert "1 Nicolás MADURO MOROS" in schedule.text and "80 Min Aung HLAING" in schedule.text
    related = [p for p in passages if p.seq > schedule.seq]
    assert related and all(p.heading == "RELATED PROVISIONS" for p in related)


def test_us_code_chapter_sections() -> None:
    passages = segment(corpus_blocks(USC), "legislation")
    check_invariants(passages)
    assert [p.anchor for p in passages] == ["sec-10101", "sec-10102", "sec-10103"]
    assert [p.label for p in passages] == ["§ 10101", "§ 10102", "§ 10103"]
    for p in passages:
        assert p.heading.startswith("Title 22— FOREIGN RELATIONS AND INTERCOURSE › CHAPTER 108")
        assert not p.text.startswith("#")
    sanctions = passages[1].text  # subsections (a)..(j) stay inside their section
    assert "(a) In general" in sanctions and "(j) Appropriate Congressional Committees" in sanctions
    assert "(1) Foreign person" in passages[0].text


@pytest.mark.parametrize("rel", LEGISLATION + ARTICLES)
@pytest.mark.parametrize("kind", ["ruling", "legislation", "article", "other"])
def test_corpus_invariants_and_no_text_lost(rel: str, kind: str) -> None:
    blocks = corpus_blocks(rel)
    passages = segment(blocks, kind)
    check_invariants(passages)
    texts = "\n".join(p.text for p in passages)
    headings = "\n".join(p.heading for p in passages)
    for b in blocks:
        assert b.text in texts or " ".join(b.text.split()) in headings, b.text


@pytest.mark.parametrize(
    ("rel", "expected"),
    [(rel, "legislation") for rel in LEGISLATION] + [(rel, "article") for rel in ARTICLES],
)
def test_guess_kind_on_corpus(rel: str, expected: str) -> None:
    assert guess_kind(corpus_blocks(rel)) == expected


# ------------------------------------------------------------------------------- rulings


def test_echr_numbered_paragraphs_headings_and_continuations() -> None:
    passages = segment(echr_blocks(), "ruling")
    check_invariants(passages)
    got = by_anchor(passages)
    paras = [p for p in passages if p.anchor.startswith("para-")]
    assert [p.anchor for p in paras] == [f"para-{n}" for n in range(1, 8)]
    assert [p.label for p in paras] == [f"§ {n}" for n in range(1, 8)]
    assert got["para-1"].heading == "PROCEDURE"
    assert got["para-3"].heading == "THE FACTS › I. THE CIRCUMSTANCES OF THE CASE"
    assert got["para-6"].heading == (
        "THE LAW › I. ALLEGED VIOLATION OF ARTICLE 2 OF THE CONVENTION › A. Admissibility"
    )
    # the quoted "1." and the "2019." line are continuations of § 3, joined by blank lines
    assert got["para-3"].text.split("\n\n")[1:] == [echr_blocks()[12].text, echr_blocks()[13].text]
    assert "The Court notes" in got["para-6"].text  # a "1." restart at § 6 is no paragraph
    assert got["para-5"].text.startswith("§ 5 ")
    # the operative part (numbered again from 1 after a heading) is paragraphs of its own
    operative = [p for p in passages if p.heading == "FOR THESE REASONS, THE COURT, UNANIMOUSLY"]
    assert [p.text[:2] for p in operative] == ["1.", "2.", "Do"]
    assert all(p.anchor.startswith("p-") and p.label == f"¶ {p.seq + 1}" for p in operative)
    # a lone date line merges into the next paragraph; headings are no passages
    first = passages[1]
    assert first.text.startswith("27 August 2019\n\nThis judgment will become final")
    assert not any(p.text in {"THE LAW", "PROCEDURE", "JUDGMENT"} for p in passages)


@pytest.mark.parametrize(
    ("numbers", "expected"),
    [
        (["1.", "2.", "3.", "4."], [1, 2, 3, 4]),
        (["§ 1", "§ 2", "§ 3"], [1, 2, 3]),
        (["1.", "2.", "3.", "2019.", "4."], [1, 2, 3, 4]),  # a year is no paragraph number
        (["1.", "2.", "3.", "1.", "4."], [1, 2, 3, 4]),  # a restart is a quoted list item
        (["1.", "2.", "5.", "6."], [1, 2, 5, 6]),  # small gaps are fine
        (["1.", "2.", "3.", "40."], [1, 2, 3]),  # a jump of 37 is not
        (["40.", "41.", "42."], [40, 41, 42]),  # an extract need not start at 1
        (["1.", "2."], []),  # too few to be a numbered ruling
    ],
)
def test_paragraph_number_plausibility(numbers: list[str], expected: list[int]) -> None:
    passages = segment([Block(f"{n} {LONG}") for n in numbers], "ruling")
    assert [p.anchor for p in passages if p.anchor.startswith("para-")] == [
        f"para-{n}" for n in expected
    ]
    assert sum(p.text.count(LONG) for p in passages) == len(numbers)


def test_short_enumerated_lists_do_not_make_a_ruling_numbered() -> None:
    blocks = [Block(LONG * 3, page=1)] + [Block(f"{n}. Exhibit {n}", page=2) for n in range(1, 10)]
    assert [p.anchor for p in segment(blocks, "ruling")] == ["page-1", "page-2"]


# ------------------------------------------------------------------------------- legislation


@pytest.mark.parametrize(
    ("first", "anchor", "label"),
    [
        ("SEC. 404. SHORT TITLE.", "sec-404", "Sec. 404"),
        ("Sec. 1263. Authorization of imposition of sanctions.", "sec-1263", "Sec. 1263"),
        ("SECTION 1. SHORT TITLE.", "sec-1", "Sec. 1"),
        ("Section 2", "sec-2", "Sec. 2"),
        ("§ 10101. Definitions", "sec-10101", "§ 10101"),
        ("Article 3", "art-3", "Art. 3"),
        ("Article 3 — Definitions", "art-3", "Art. 3"),
        ("Regulation 4", "reg-4", "Reg. 4"),
        ("4.—(1) The Secretary of State may designate persons.", "sec-4", "s. 4"),
        ("4. —(1) The Secretary of State may designate persons.", "sec-4", "s. 4"),
        ("2 (1) The following definitions apply in this Act.", "sec-2-1", "s. 2(1)"),
        ("4.1 (1) On application by the Minister, a judge must order.", "sec-4p1-1", "s. 4.1(1)"),
    ],
)
def test_section_forms(first: str, anchor: str, label: str) -> None:
    passages = segment([Block(first), Block(LONG)], "legislation")
    assert (passages[0].anchor, passages[0].label) == (anchor, label)
    assert passages[0].text == f"{first}\n\n{LONG}"


def test_prose_mentioning_a_section_is_not_a_section() -> None:
    blocks = [
        Block("Section 2 of this Act is amended by striking the words in brackets."),
        Block(LONG),
    ]
    assert all(p.anchor.startswith("p-") for p in segment(blocks, "legislation"))


def test_titles_give_context_and_repeated_sections_are_disambiguated() -> None:
    blocks = [
        Block("TITLE I—GENERAL PROVISIONS"),
        Block("SEC. 1. SHORT TITLE."),
        Block("This Act may be cited as the Example Accountability Act of 2012."),
        Block("SEC. 2. DEFINITIONS."),
        Block("(a) IN GENERAL.—In this title, the following definitions apply throughout."),
        Block("TITLE II—SANCTIONS"),
        Block("SEC. 2. AUTHORIZATION."),
        Block("The President may impose sanctions on any person described in subsection (b)."),
    ]
    passages = segment(blocks, "legislation")
    check_invariants(passages)
    assert [p.anchor for p in passages] == ["sec-1", "sec-2", "sec-2-b"]
    assert [p.heading for p in passages] == ["TITLE I—GENERAL PROVISIONS"] * 2 + [
        "TITLE II—SANCTIONS"
    ]
    assert "(a) IN GENERAL" in passages[1].text
    # stable: the same text segments the same way again
    assert [p.anchor for p in segment(list(blocks), "legislation")] == ["sec-1", "sec-2", "sec-2-b"]


def test_canadian_subsections_and_marginal_notes() -> None:
    blocks = [
        Block("Interpretation"),
        Block("Definitions"),
        Block("2 (1) The following definitions apply in this Act."),
        Block("Application"),
        Block("(2) This Act applies to every person in Canada."),
        Block("(a) a Canadian citizen; or"),
        Block("Binding on Her Majesty"),
        Block("3 This Act is binding on Her Majesty in right of Canada or a province."),
    ]
    passages = segment(blocks, "legislation")
    assert [(p.anchor, p.label) for p in passages] == [
        ("sec-2-1", "s. 2(1)"),
        ("sec-2-2", "s. 2(2)"),
        ("sec-3", "s. 3"),
    ]
    assert [p.heading for p in passages] == [
        "Interpretation › Definitions",
        "Interpretation › Application",
        "Interpretation › Binding on Her Majesty",
    ]
    assert passages[1].text.endswith("(a) a Canadian citizen; or")


def test_multi_line_blocks_of_line_per_element_legislation_are_split() -> None:
    text = "Definitions\n2 The following definitions apply in this Act.\nentity means a trust."
    passages = segment(
        [Block(text), Block("Binding\n3 This Act binds Her Majesty.")], "legislation"
    )
    assert [p.anchor for p in passages] == ["sec-2", "sec-3"]
    assert passages[0].heading == "Definitions"


# ------------------------------------------------------------------------------- articles


def test_article_paragraphs_hash_anchors_and_short_blocks() -> None:
    blocks = [
        Block("Magnitsky's Memory", "heading", level=1),
        Block("share this"),
        Block("Yesterday, the European Court of Human Rights ruled in favor of the family."),
        Block("What Happened?", "heading", level=2),
        Block(LONG),
        Block(LONG),  # a repeated paragraph
    ]
    passages = segment(blocks, "article")
    check_invariants(passages)
    first = "Yesterday, the European Court of Human Rights ruled in favor of the family."
    assert [p.anchor for p in passages] == [
        f"p-{sha8(first)}",
        f"p-{sha8(LONG)}",
        f"p-{sha8(LONG)}-2",
    ]
    assert [p.label for p in passages] == ["¶ 1", "¶ 2", "¶ 3"]
    assert passages[0].text == f"share this\n\n{first}"  # merged, anchored on the main block
    assert [p.heading for p in passages] == ["Magnitsky's Memory"] + [
        "Magnitsky's Memory › What Happened?"
    ] * 2
    assert all(p.page is None and p.page_end is None for p in passages)


def test_anchor_stability_when_one_paragraph_changes() -> None:
    for blocks, kind, changed in [
        (echr_blocks(), "ruling", 13),
        (echr_blocks(), "ruling", 2),
        ([Block(f"Paragraph {n}: {LONG}") for n in range(6)], "article", 3),
    ]:
        before = segment(blocks, kind)
        edited = list(blocks)
        edited[changed] = replace(blocks[changed], text=blocks[changed].text + " Amended later.")
        after = segment(edited, kind)
        assert len(before) == len(after)
        differing = [
            (b.anchor, a.anchor) for b, a in zip(before, after, strict=True) if b.anchor != a.anchor
        ]
        assert len(differing) <= 1
        assert all(b.startswith("p-") for b, _ in differing)


def test_anchor_stability_on_real_legislation_and_articles() -> None:
    for rel, kind in [(USC, "legislation"), (CA_ACT, "legislation"), (ARTICLES[0], "article")]:
        blocks = corpus_blocks(rel)
        before = [p.anchor for p in segment(blocks, kind)]
        target = max(range(len(blocks)), key=lambda i: len(blocks[i].text))
        edited = list(blocks)
        edited[target] = replace(blocks[target], text=blocks[target].text.replace("the", "a", 1))
        inserted = [
            *edited[:target],
            Block("A new paragraph inserted by the amending act, 2024."),
            *edited[target:],
        ]
        after = [p.anchor for p in segment(edited, kind)]
        if kind == "article":
            assert len(set(before) ^ set(after)) == 2  # only the edited paragraph's anchor
            assert set(before) - set(after) <= set(a for a in before if a.startswith("p-"))
        else:
            assert after == before  # the edited text sits inside a section
        assert set(before) - {a for a in before if a.startswith("p-")} <= {
            p.anchor for p in segment(inserted, kind)
        }


# ------------------------------------------------------------------------------- PDFs


def test_unnumbered_pdf_falls_back_to_pages() -> None:
    blocks = [
        Block("OPINION", "heading", page=1, level=1),
        Block("The district court granted summary judgment for the employer.", page=1),
        Block("We review that decision de novo and affirm the judgment below.", page=1),
        Block("Nothing on this page beyond a single sentence of reasoning here.", page=2),
        Block("It is so ordered.", page=4),
    ]
    for kind in ["ruling", "article", "other", "legislation"]:
        passages = segment(blocks, kind)
        check_invariants(passages)
        assert [(p.anchor, p.label, p.page, p.page_end) for p in passages] == [
            ("page-1", "p. 1", 1, 1),
            ("page-2", "p. 2", 2, 2),
            ("page-4", "p. 4", 4, 4),
        ]
        assert passages[0].text == "\n\n".join(b.text for b in blocks[:3])
        assert passages[1].heading == "OPINION"


def test_page_zero_becomes_one() -> None:
    passages = segment([Block(LONG, page=0)], "other")
    assert (passages[0].anchor, passages[0].page, passages[0].page_end) == ("page-1", 1, 1)


def test_numbered_pdf_ruling_keeps_paragraph_anchors_and_pages() -> None:
    blocks = [
        Block("PROCEDURE", page=1),
        Block("1. " + LONG, page=1),
        Block("2. " + LONG, page=1),
        Block("continued on the next page, " + LONG, page=2),
        Block("3. " + LONG, page=2),
    ]
    passages = segment(blocks, "ruling")
    assert [(p.anchor, p.page, p.page_end) for p in passages] == [
        ("para-1", 1, 1),
        ("para-2", 1, 2),
        ("para-3", 2, 2),
    ]


def furnished_pages() -> list[Block]:
    blocks: list[Block] = []
    for n in range(1, 5):
        blocks += [
            Block(f"Magnitskiy and Others v. Russia — Judgment\n{n}", page=n),
            Block(f"Body text of page {n}. {LONG}", page=n),
            Block(f"Page {n} of 4", page=n),
        ]
    return blocks


def test_strip_furniture_drops_running_heads_and_page_numbers() -> None:
    stripped = strip_furniture(furnished_pages())
    assert [b.text for b in stripped] == [f"Body text of page {n}. {LONG}" for n in range(1, 5)]
    assert [b.page for b in stripped] == [1, 2, 3, 4]
    single = [Block("Page 1 of 1", page=1), Block(LONG, page=1)]
    assert strip_furniture(single) == single  # one page: nothing repeats
    html = [Block("3"), Block(LONG)]
    assert strip_furniture(html) == html


@pytest.mark.parametrize(
    "furniture",
    [["- {n} -"], ["{n}"], ["[*{n}] "], ["CONFIDENTIAL DRAFT", "Page {n}"]],
)
def test_strip_furniture_forms(furniture: list[str]) -> None:
    blocks = [
        Block("\n".join([*(f.format(n=n) for f in furniture), f"Text of page {n}. {LONG}"]), page=n)
        for n in range(1, 4)
    ]
    assert [b.text for b in strip_furniture(blocks)] == [
        f"Text of page {n}. {LONG}" for n in range(1, 4)
    ]


def test_segment_strips_furniture() -> None:
    passages = segment(furnished_pages(), "other")
    assert [p.anchor for p in passages] == ["page-1", "page-2", "page-3", "page-4"]
    assert not any("Judgment" in p.text or "of 4" in p.text for p in passages)


# ------------------------------------------------------------------------------- guess_kind


@pytest.mark.parametrize(
    ("blocks", "expected"),
    [
        (echr_blocks(), "ruling"),
        (
            [
                Block("OPINION"),
                Block("Appellant challenges the judgment of the trial court. " + LONG),
                Block("The appellee argues the Court lacks jurisdiction over the appeal. " + LONG),
                Block("Because the petitioner waived the argument, we affirm. It is so ordered."),
            ],
            "ruling",
        ),
        (
            [
                Block("Be it enacted by the Senate and House of Representatives assembled,"),
                Block("SECTION 1. SHORT TITLE."),
                Block("This Act may be cited as the Example Accountability Act."),
                Block("SEC. 2. DEFINITIONS."),
                Block("In this Act, the term person means an individual or entity."),
                Block("SEC. 3. SANCTIONS."),
                Block("The President may impose sanctions under this Act."),
            ],
            "legislation",
        ),
        ([Block("27 August 2019"), Block("Strasbourg")], "other"),
        ([], "other"),
        ([Block(f"Paragraph {n}. {LONG}") for n in range(4)], "article"),
    ],
)
def test_guess_kind(blocks: list[Block], expected: str) -> None:
    assert guess_kind(blocks) == expected


def test_kind_scores_explain_the_guess() -> None:
    scores = kind_scores(echr_blocks())
    assert scores["ruling"] >= 4 > scores["legislation"]


def test_empty_and_unknown_kind() -> None:
    assert segment([], "ruling") == []
    assert segment([Block("   "), Block("")], "article") == []
    passages = segment([Block(LONG)], "something-else")
    assert [p.anchor for p in passages] == [f"p-{sha8(LONG)}"]


def test_a_long_run_of_short_lines_is_split_into_passages() -> None:
    blocks = [Block(f"Case no. {n:03d} decided") for n in range(60)]  # 22 characters each
    passages = segment(blocks, "other")
    check_invariants(passages)
    assert 2 < len(passages) < 60
    assert "\n\n".join(p.text for p in passages) == "\n\n".join(b.text for b in blocks)


# ------------------------------------------------------------------------------- the collection
# The bundled PDFs are built from scripts/collection/*.md: the passages must read as the source.

COLLECTION_PDFS = [
    "magnitskiy-v-russia",
    "us-magnitsky-act-2012",
    "canada-sergei-magnitsky-law-2017",
    "uk-global-human-rights-sanctions-regulations-2020",
    "russian-response-and-baltic-laws",
]
FOOTER = re.compile(r"Page \d+ of \d+")


def norm(text: str) -> str:
    return " ".join(text.split())


@cache
def archive_passages(filename: str) -> list[Passage]:
    meta = json.loads((ARCHIVE / f"{filename}.meta.json").read_text(encoding="utf-8"))
    return segment(parse_bytes((ARCHIVE / filename).read_bytes()).blocks, meta["kind"])


@cache
def source_blocks(stem: str) -> list[Any]:
    """The blocks of scripts/collection/<stem>.md as scripts/build_collection.py reads them."""
    path = REPO / "scripts" / "build_collection.py"
    spec = importlib.util.spec_from_file_location("build_collection", path)
    assert spec and spec.loader
    module = sys.modules.setdefault(spec.name, importlib.util.module_from_spec(spec))
    spec.loader.exec_module(module)
    return [b for b in module.parse_source(SOURCES / f"{stem}.md").blocks if b.kind != "pagebreak"]


def paragraphs(p: Passage) -> list[str]:
    return [norm(x) for x in p.text.split("\n\n")]


def test_ruling_pdf_paragraphs_are_whole_across_page_breaks() -> None:
    passages = archive_passages("magnitskiy-v-russia.pdf")
    check_invariants(passages)
    got = by_anchor(passages)
    source = {
        int(m[1]): norm(b.text)
        for b in source_blocks("magnitskiy-v-russia")
        if b.kind == "para" and (m := re.match(r"(\d+)\. ", b.text))
    }
    assert sorted(source) == list(range(1, 49))
    assert [p.anchor for p in passages if p.anchor.startswith("para-")] == [
        f"para-{n}" for n in range(1, 49)
    ]
    for n, text in source.items():  # one passage each, reading as the source, nothing else in it
        assert norm(got[f"para-{n}"].text) == text, n
    broken = got["para-33"]  # runs from page 4 to page 5, past the "Page 4 of 7" footer
    assert "violation of Article 2 under its procedural limb." in broken.text
    assert "\n" not in broken.text and (broken.page, broken.page_end) == (4, 5)
    assert (got["para-23"].page, got["para-23"].page_end) == (3, 4)
    assert (got["para-34"].page, got["para-34"].page_end) == (5, 5)
    assert not any(FOOTER.search(p.text) for p in passages)
    # headings: the whole path, down to the nearest one
    assert got["para-7"].heading == "THE FACTS › I. THE CIRCUMSTANCES OF THE CASE"
    assert got["para-8"].heading.endswith(
        "CASE › A. The first applicant’s work and his allegations of fraud"
    )
    assert got["para-26"].heading == (
        "THE LAW › II. ALLEGED VIOLATION OF ARTICLE 2 OF THE CONVENTION › B. Merits"
        " › (a) The parties’ submissions"
    )
    assert got["para-28"].heading.endswith("B. Merits › (b) The Court’s assessment")
    assert "(b) The Court’s assessment" not in got["para-27"].text


@pytest.mark.parametrize("stem", COLLECTION_PDFS)
def test_collection_pdf_passages_follow_their_source(stem: str) -> None:
    """No text lost, none duplicated, no page furniture, a paragraph break where the source has
    one and nowhere else (page passages may split a paragraph at their page break)."""
    passages = archive_passages(f"{stem}.pdf")
    check_invariants(passages)
    texts = [norm(p.text) for p in passages]
    paras = [x for p in passages for x in paragraphs(p)]
    by_page = all(p.anchor.startswith("page-") for p in passages)
    everything = " ".join(texts) + " " + " ".join(p.heading for p in passages)
    for b in source_blocks(stem):
        text = norm(b.text)
        assert paras.count(text) <= 1, f"duplicated: {text}"
        assert text in everything or (by_page and text in " ".join(texts)), f"lost: {text}"
        if b.kind in ("para", "note") and not by_page:
            assert text in paras, f"not a paragraph of its own: {text}"
    source_paras = {norm(b.text) for b in source_blocks(stem)}
    for p in passages:
        assert not FOOTER.search(p.text), p.anchor
        for para in paragraphs(p):  # every paragraph is a source block, or a run of title lines
            assert (
                para in source_paras
                or by_page
                or all(len(line) < 80 for line in p.text.split("\n\n"))
            ), para


def test_section_title_line_on_top_and_subsections_as_paragraphs() -> None:
    got = by_anchor(archive_passages("us-magnitsky-act-2012.pdf"))
    sec = got["sec-404"]
    assert [x[:4] for x in paragraphs(sec)] == [
        "SEC.", "(a) ", "(1) ", "(2) ", "(b) ", "(c) ", "(d) ", "(e) "
    ]  # fmt: skip
    assert paragraphs(sec)[0] == "SEC. 404. IDENTIFICATION OF RESPONSIBLE PERSONS."
    assert paragraphs(got["sec-403"])[1:] == [
        "This section defines the terms used in the title. In summary:",
        *[x for x in paragraphs(got["sec-403"])[2:] if x[:3] in ("(a)", "(b)", "(c)")],
    ]
    for n in range(401, 407):
        assert got[f"sec-{n}"].text.startswith(f"SEC. {n}. ")
        assert (
            got[f"sec-{n}"].heading
            == "TITLE IV—SERGEI MAGNITSKY RULE OF LAW ACCOUNTABILITY ACT OF 2012"
        )
    html = by_anchor(archive_passages("us-global-magnitsky-act-2016.html"))
    sanctions = paragraphs(html["sec-1263"])
    assert sanctions[0] == "SEC. 1263. AUTHORIZATION OF IMPOSITION OF SANCTIONS."
    assert [x[:3] for x in sanctions[1:]] == [
        "(a)", "(1)", "(2)", "(3)", "(4)", "(b)", "(1)", "(2)", "(c)", "(d)", "(e)", "(f)", "(g)",
        "(h)",
    ]  # fmt: skip
    canada = by_anchor(archive_passages("canada-sergei-magnitsky-law-2017.pdf"))
    assert [x[:3] for x in paragraphs(canada["sec-4-2"])] == ["(2)", "(a)", "(b)", "(c)", "(d)"]
    assert (canada["sec-4-1"].page, canada["sec-4-1"].page_end) == (1, 2)
    assert "has occurred. Such orders" in canada["sec-4-1"].text  # joined over the page break


def test_text_after_the_last_section_under_another_heading_is_its_own_passage() -> None:
    act = archive_passages("us-global-magnitsky-act-2016.html")
    got = by_anchor(act)
    assert "editorial note" not in got["sec-1265"].text
    assert norm(got["sec-1265"].text).endswith(
        "consult the current text of the Code for the position today."
    )
    after = act[got["sec-1265"].seq + 1 :]
    assert [p.heading for p in after] == ["Implementation and related instruments"] * 2
    assert after[0].text.startswith("This part is an editorial note")
    assert all(p.anchor.startswith("p-") for p in after)
    for filename, last in [
        ("us-executive-order-13818.html", "annex"),
        ("eu-regulation-2020-1998.html", "annex"),
    ]:
        passages = archive_passages(filename)
        annex = by_anchor(passages)[last]
        assert "Editorial note" not in annex.text and "not part of the summary" not in annex.text
        assert passages[-1].heading.split(" › ")[-1] == "Editorial note"
        assert passages[-1].text.startswith("This note is not part of the summary")
    canada = archive_passages("canada-sergei-magnitsky-law-2017.pdf")
    got = by_anchor(canada)
    assert "Financial institutions" not in got["sec-4-4"].text
    notes = [p for p in canada if p.seq > got["sec-4-4"].seq]
    assert [p.heading for p in notes[:2]] == [
        "Duties to Determine and Disclose",
        "Rights of Foreign Nationals",
    ]
    assert notes[0].text.startswith("Financial institutions and other entities")
    assert (notes[1].page, notes[1].page_end) == (2, 3)  # joined over the page break


def test_headings_are_kept_as_context_and_title_blocks_as_text() -> None:
    uk = archive_passages("uk-global-human-rights-sanctions-regulations-2020.pdf")
    got = by_anchor(uk)
    assert [(a, got[a].heading) for a in ["reg-1", "reg-2", "reg-3", "reg-4"]] == [
        ("reg-1", "PART 1 — General › Citation and commencement"),
        ("reg-2", "PART 1 — General › Interpretation"),
        ("reg-3", "PART 1 — General › Application outside the United Kingdom"),
        ("reg-4", "PART 1 — General › Purposes"),
    ]
    assert got["reg-1"].text.startswith("1.—(1) These Regulations may be cited")
    assert [x[:3] for x in paragraphs(got["reg-4"])] == ["4.—", "(a)", "(b)", "(c)", "(2)"]
    assert any("2020 No. 680" in p.text for p in uk)  # the title block is searchable text
    assert uk[-1].heading == "EDITORIAL NOTE" and "\n" not in uk[-1].text  # joined over pages 2-3
    canada = by_anchor(archive_passages("canada-sergei-magnitsky-law-2017.pdf"))
    assert [canada[a].heading for a in ["sec-1", "sec-2-1", "sec-4-1"]] == [
        "Short Title",
        "Interpretation",
        "Orders and Regulations",
    ]
    regs = by_anchor(segment(corpus_blocks(CA_REGS), "legislation"))
    assert regs["sec-1"].heading.endswith("› Listed foreign national")
    assert regs["sec-1"].text.startswith("1 An individual whose name is listed in the schedule")


def test_numbered_units_across_a_page_break_are_joined() -> None:
    head = "Magnitskiy and Others v. Russia — Judgment"
    broken = (
        "2. The Court found that the investigation had not been effective, a violation of Article 2"
    )
    blocks = [
        Block(head, page=1),
        Block("1. " + LONG, page=1),
        Block(broken, page=1),
        Block("1See the Court's earlier case-law.", page=1),  # a footnote at the foot of page 1
        Block("Page 1 of 3", page=1),
        Block(head, page=2),
        Block("under its procedural limb, as the hospi-", page=2),
        Block("3. " + LONG + " The Court noted that the", page=2),
        Block("Page 2 of 3", page=2),
        Block(head, page=3),
        Block("Applicant had not been heard. " + LONG, page=3),  # no number, a capital: joined
        Block("4. " + LONG, page=3),
    ]
    got = by_anchor(segment(blocks, "ruling"))
    assert got["para-2"].text == (
        f"{broken} under its procedural limb, as the hospi-\n\n1See the Court's earlier case-law."
    )
    assert (got["para-2"].page, got["para-2"].page_end) == (1, 2)
    assert (
        got["para-3"].text
        == f"3. {LONG} The Court noted that the Applicant had not been heard. {LONG}"
    )
    assert (got["para-3"].page, got["para-3"].page_end) == (2, 3)
    assert (got["para-4"].page, got["para-4"].page_end) == (3, 3)
    # words split by a hyphen at the page break are joined
    hyphen = [Block("SEC. 1. SHORT TITLE.", "heading", 1), Block("The hospi-", page=1)]
    hyphen += [Block("tal refused care.", page=2), Block("SEC. 2. SANCTIONS.", "heading", 2)]
    assert by_anchor(segment(hyphen, "legislation"))["sec-1"].text.endswith(
        "The hospital refused care."
    )
    # page passages keep to their pages
    pages = [Block(LONG + " The Court", page=1), Block("then turned to the merits.", page=2)]
    assert [p.text for p in segment(pages, "other")] == [pages[0].text, pages[1].text]


def test_a_heading_after_the_sections_ends_the_section_but_a_subsection_heading_does_not() -> None:
    blocks = [
        Block("Example Accountability Act", "heading", level=1),
        Block("Chapter 1—Sanctions", "heading", level=2),
        Block("SEC. 1. SANCTIONS.", "heading", level=3),
        Block(LONG),
        Block("(a) In general", "heading", level=4),
        Block("The President may impose sanctions on any person described in subsection (b)."),
        Block("Summary", "heading", level=4),  # below the section's level: still its text
        Block("The section is summarised here in one sentence of no legal force at all."),
        Block("About this summary", "heading", level=2),
        Block("This summary was written for the sample collection and is not the enacted text."),
        Block("Annex", "heading", level=2),
        Block("The annex lists the persons designated under section 1 of the Act."),
        Block("Editorial note", "heading", level=2),
        Block("This note is not part of the Act, nor of its annex, and has no legal force."),
    ]
    passages = segment(blocks, "legislation")
    check_invariants(passages)
    assert [(p.anchor, p.heading) for p in passages] == [
        (passages[0].anchor, ""),
        ("sec-1", "Chapter 1—Sanctions"),
        (passages[2].anchor, "About this summary"),
        ("annex", "Annex"),
        (passages[4].anchor, "Editorial note"),
    ]
    assert passages[0].text == "Example Accountability Act"  # before the sections: text, as ever
    assert "(a) In general" in passages[1].text and "no legal force at all" in passages[1].text
    assert "sample collection" not in passages[1].text
    assert "Editorial note" not in passages[3].text


def test_preamble_heading_is_no_context_for_the_sections() -> None:
    blocks = [
        Block("TITLE I—EXECUTIVE ORDERS"),
        Block("PREAMBLE"),
        Block(LONG),
        Block("Section 1. Blocking of property.", "heading", level=3),
        Block(LONG),
    ]
    passages = segment(blocks, "legislation")
    assert [(p.anchor, p.heading) for p in passages] == [
        (f"p-{sha8(LONG)}", "TITLE I—EXECUTIVE ORDERS › PREAMBLE"),
        ("sec-1", "TITLE I—EXECUTIVE ORDERS"),
    ]


def test_headings_replaced_before_any_text_are_kept_as_text() -> None:
    blocks = [
        Block("STATUTORY INSTRUMENTS", "heading", level=1),
        Block("2020 No. 680", "heading", level=1),
        Block("SANCTIONS", "heading", level=1),
        Block(LONG),
        Block("What Happened?", "heading", level=2),
        Block(LONG + " Later."),
    ]
    passages = segment(blocks, "article")
    check_invariants(passages)
    assert passages[0].text == f"STATUTORY INSTRUMENTS\n\n2020 No. 680\n\n{LONG}"
    assert passages[0].anchor == f"p-{sha8(LONG)}"  # anchored on its paragraph, as before
    assert [p.heading for p in passages] == ["SANCTIONS", "SANCTIONS › What Happened?"]


def test_a_line_repeated_on_two_pages_apart_is_no_running_head() -> None:
    caption = "Ruben Diaz ) Docket No. 2019-06-0263"
    head = "Diaz v. Create and Construct, LLC"
    blocks = [
        Block(f"{caption}\n{LONG}", page=1),
        Block(f"{head}\n{LONG}", page=2),
        Block(f"{head}\n{caption}\nCERTIFICATE OF SERVICE\n{LONG}", page=3),
    ]
    kept = "\n".join(b.text for b in strip_furniture(blocks))
    assert kept.count(caption) == 2 and head not in kept  # the head runs on pages 2-3
    path = CORPUS / "rulings" / "courtlistener__Diaz_v_Create_and_Construct_LLC.pdf"
    if not path.is_file():
        pytest.skip(f"corpus file {path} absent")
    passages = segment(parse_bytes(path.read_bytes()).blocks, "ruling")
    assert any(caption in p.text for p in passages if p.page == 1)
