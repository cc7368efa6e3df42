"""The search service on a small hand-made archive: the query language (table-driven), malformed
queries, identifiers, facets, filters, sorting, paging, did-you-mean, more-like-this, snippets,
time limits. The real-corpus relevance measurement is in test_search_relevance.py."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import pytest

from magsearch import snippets
from magsearch.archive import Archive, NewVersion
from magsearch.config import Settings
from magsearch.errors import MagsearchError, NotFound, QueryError
from magsearch.index.sync import index_documents
from magsearch.index.whoosh import WhooshIndex
from magsearch.models import Citation, Passage
from magsearch.querylang import parse
from magsearch.results import SearchResponse
from magsearch.search import SearchService

FILLER = "The parties made further submissions on the procedure and the costs of the proceedings."

DOCS: list[dict[str, Any]] = [
    dict(
        id="echr-2019",
        kind="ruling",
        title="Magnitskiy and Others v. Russia",
        date="2019-08-27",
        court="European Court of Human Rights",
        jurisdiction="Council of Europe",
        idents=["32631/09", "53799/12"],
        paras=[
            "The applicant, Sergei Magnitskiy, was detained in pre-trial custody in Moscow.",
            "He did not receive adequate medical care in detention; his conditions of detention "
            "amounted to inhuman and degrading treatment contrary to Article 3 of the Convention.",
            "The Government argued that <script>alert(1)</script> was not in issue.",
            FILLER,
        ],
    ),
    dict(
        id="us-2012",
        kind="legislation",
        date="2012-12-14",
        jurisdiction="United States",
        title="Sergei Magnitsky Rule of Law Accountability Act of 2012",
        idents=["Pub. L. 112-208"],
        paras=[
            "An Act to impose sanctions on persons responsible for the detention, abuse, and "
            "death of Sergei Magnitsky.",
            "The Secretary of the Treasury shall block all transactions in property: an asset "
            "freeze, and a visa ban on the persons listed.",
            FILLER,
        ],
    ),
    dict(
        id="us-2016",
        kind="legislation",
        date="2016-12-23",
        jurisdiction="United States",
        title="Global Magnitsky Human Rights Accountability Act",
        idents=["Pub. L. 114-328", "22 U.S.C. 10101"],
        cites=["Pub. L. 112-208"],
        paras=[
            "The President may impose sanctions on any foreign person responsible for gross "
            "violations of internationally recognized human rights.",
            "This Act builds on Pub. L. 112-208, the first Magnitsky law.",
            FILLER,
        ],
    ),
    dict(
        id="uk-2020",
        kind="legislation",
        date="2020-07-06",
        jurisdiction="United Kingdom",
        title="The Global Human Rights Sanctions Regulations 2020",
        idents=["S.I. 2020/680"],
        cites=["Pub. L. 114-328"],
        paras=[
            "These Regulations may be cited as the Global Human Rights Sanctions Regulations 2020.",
            "Part 3 contains the asset freeze: a designated person's funds are frozen.",
            "Compare the United States Act, Pub. L. 114-328.",
            FILLER,
        ],
    ),
    dict(
        id="ca-2017",
        kind="legislation",
        date="2017-10-18",
        jurisdiction="Canada",
        title="Justice for Victims of Corrupt Foreign Officials Act (Sergei Magnitsky Law)",
        idents=["S.C. 2017, c. 21"],
        cites=["Pub. L. 112-208", "32631/09"],
        paras=[
            "This Act may be cited as the Sergei Magnitsky Law.",
            "It follows Pub. L. 112-208 and was cited in application no. 32631/09.",
            FILLER,
        ],
    ),
    dict(
        id="art-memory",
        kind="article",
        date="2019-11-16",
        title="Magnitsky's memory",
        cites=["Pub. L. 112-208", "32631/09"],
        paras=[
            "Sergei Magnitskii died in 2009 in a Moscow detention centre.",
            "The Magnitsky Act, Pub. L. 112-208, imposed sanctions; the Strasbourg court later "
            "decided application no. 32631/09.",
            FILLER,
        ],
    ),
    dict(
        id="art-ru",
        kind="article",
        date="2021-03-01",
        title="Дело Магнитского",
        paras=["Сергей Магнитский умер в следственном изоляторе.", FILLER],
    ),
    dict(
        id="tax-2020",
        kind="ruling",
        date="2020-02-20",
        court="United States Tax Court",
        jurisdiction="United States",
        title="Bordelon v. Commissioner",
        paras=[
            "The taxpayer claimed a deduction for charitable contributions; the Commissioner "
            "determined a deficiency and an accuracy-related penalty.",
            FILLER,
        ],
    ),
    dict(
        id="wc-2019",
        kind="ruling",
        date="2019-10-02",
        court="Court of Workers' Compensation Claims",
        jurisdiction="United States",
        title="Calderon-Fuentes v. Employer",
        paras=[
            "The employee seeks medical benefits under the workers' compensation law for an "
            "injury at work.",
            FILLER,
        ],
    ),
    dict(
        id="near",
        kind="article",
        date="2018-05-05",
        title="Sanctions practice note",
        paras=["An asset freeze is the core measure of every regime we review here today.", FILLER],
    ),
    dict(
        id="far",
        kind="article",
        date="2018-06-06",
        title="Sanctions practice notes",
        paras=[
            "An asset of the regime is the core measure we review; courts freeze here today.",
            FILLER,
        ],
    ),
    dict(
        id="undated",
        kind="other",
        title="Undated memorandum on sanctions evasion",
        paras=["Sanctions evasion through shell companies.", FILLER],
    ),
]


def _add(archive: Archive, d: dict[str, Any]) -> None:
    paras = d["paras"]
    data = ("\n".join(paras) + d["id"]).encode()
    sha = archive.put_original(data)
    passages = tuple(Passage(i + 1, f"para-{i + 1}", f"§ {i + 1}", t) for i, t in enumerate(paras))
    cites = tuple(Citation(c, c, "", 0, 0, "para-2") for c in d.get("cites", ()))
    archive.record_version(
        NewVersion(
            doc_id=d["id"],
            sha256=sha,
            kind=d["kind"],
            title=d["title"],
            media_type="text/plain",
            size=len(data),
            filename=f"{d['id']}.txt",
            pages=None,
            warnings=(),
            date=d.get("date", ""),
            court=d.get("court", ""),
            jurisdiction=d.get("jurisdiction", ""),
            identifiers=tuple((i, "") for i in d.get("idents", ())),
            passages=passages,
            citations=cites,
        )
    )


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SearchService]:
    root = tmp_path_factory.mktemp("search")
    archive = Archive(root)
    for d in DOCS:
        _add(archive, d)
    index = WhooshIndex(root / "index")
    index_documents(archive, index, archive.document_ids())
    yield SearchService(archive, index, Settings().with_data_dir(root))
    index.close()
    archive.close()


def ids(res: SearchResponse) -> list[str]:
    return [h.id for h in res.hits]


# -- the query language, table-driven ----------------------------------------------------------
# query -> (interpreted, ids that must be found, ids that must not be found, first id or None)
LANGUAGE = [
    (
        "magnitsky",
        "magnitsky",
        {"echr-2019", "us-2012", "art-memory", "art-ru", "ca-2017"},
        {"tax-2020"},
        None,
    ),
    ("Magnitskiy", "Magnitskiy", {"us-2012", "art-memory", "art-ru"}, set(), None),
    ("Магнитский", "Магнитский", {"echr-2019", "us-2012", "art-memory"}, set(), None),
    ("Magnitskii", "Magnitskii", {"echr-2019", "us-2012"}, set(), None),
    ("sanctions", "sanctions", {"us-2012", "uk-2020", "undated"}, {"tax-2020"}, None),
    ("sanctioned", "sanctioned", {"us-2012", "uk-2020"}, set(), None),  # stemmed
    ('"asset freeze"', '"asset freeze"', {"us-2012", "uk-2020", "near"}, {"far"}, None),
    ('"freeze asset"~5', '"freeze asset"~5', {"near", "us-2012"}, {"far"}, None),
    ('"freeze asset"~12', '"freeze asset"~12', {"near", "far"}, {"echr-2019"}, None),
    ("asset AND freeze", "asset AND freeze", {"near", "far"}, {"echr-2019"}, None),
    (
        "detention -sanctions",
        "detention AND NOT sanctions",
        {"echr-2019"},
        {"us-2012", "art-memory"},
        None,
    ),
    ("detention NOT sanctions", "detention AND NOT sanctions", {"echr-2019"}, {"us-2012"}, None),
    (
        "custody OR deficiency",
        "custody OR deficiency",
        {"echr-2019", "tax-2020"},
        {"us-2012"},
        None,
    ),
    (
        "freeze (custody OR deficiency)",
        "freeze AND (custody OR deficiency)",
        set(),
        {"us-2012"},
        None,
    ),
    (
        "medical (custody OR compensation)",
        "medical AND (custody OR compensation)",
        {"echr-2019", "wc-2019"},
        set(),
        None,
    ),
    ("sanction*", "sanction*", {"us-2012", "uk-2020", "undated"}, set(), None),
    ("Magnitsk*", "Magnitsk*", {"echr-2019", "us-2012", "art-memory"}, set(), None),
    ("magnitsy~", "magnitsy~2", {"us-2012", "art-memory"}, set(), None),
    ("Magnitsky~1", "Magnitsky~1", {"us-2012"}, set(), None),
    ("title:sanctions", "title:sanctions", {"uk-2020", "near", "undated"}, {"us-2012"}, None),
    ('title:"human rights"', 'title:"human rights"', {"uk-2020", "us-2016"}, {"echr-2019"}, None),
    ("kind:ruling", "kind:ruling", {"echr-2019", "tax-2020", "wc-2019"}, {"us-2012"}, None),
    ("kind:judgments magnitsky", "kind:ruling AND magnitsky", {"echr-2019"}, {"us-2012"}, None),
    ("court:ECHR", "court:ECHR", {"echr-2019"}, {"tax-2020"}, "echr-2019"),
    ('court:"tax court"', 'court:"tax court"', {"tax-2020"}, {"echr-2019"}, None),
    ("jurisdiction:UK", "jurisdiction:UK", {"uk-2020"}, {"us-2012"}, None),
    ("jurisdiction:canada", "jurisdiction:canada", {"ca-2017"}, set(), None),
    ("year:2019", "year:2019", {"echr-2019", "art-memory", "wc-2019"}, {"us-2012"}, None),
    ("year:2012..2016", "date:2012..2016", {"us-2012", "us-2016"}, {"echr-2019"}, None),
    ("date:2012..2016", "date:2012..2016", {"us-2012", "us-2016"}, {"ca-2017"}, None),
    (
        "date:>=2019-08-27",
        "date:>=2019-08-27",
        {"echr-2019", "art-memory", "uk-2020"},
        {"us-2012", "undated"},
        None,
    ),
    ("date:>2019-08-27", "date:>2019-08-27", {"art-memory"}, {"echr-2019"}, None),
    ("date:<2016", "date:<2016", {"us-2012"}, {"us-2016"}, None),
    ("date:<=2016", "date:<=2016", {"us-2012", "us-2016"}, {"ca-2017"}, None),
    ("date:2019-08", "date:2019-08", {"echr-2019"}, {"wc-2019"}, None),
    (
        "citation:32631/09",
        "citation:32631/09",
        {"echr-2019", "ca-2017", "art-memory"},
        {"us-2016"},
        "echr-2019",
    ),
    (
        'citation:"Pub. L. 112-208"',
        'citation:"Pub. L. 112-208"',
        {"us-2012", "us-2016", "ca-2017"},
        {"uk-2020"},
        "us-2012",
    ),
    ("32631/09", "citation:32631/09", {"echr-2019", "art-memory"}, set(), "echr-2019"),
    ("Pub. L. 112-208", 'citation:"Pub. L. 112-208"', {"us-2012", "art-memory"}, set(), "us-2012"),
    ("P.L. 112-208", 'citation:"Pub. L. 112-208"', {"us-2012"}, set(), "us-2012"),
    ("S.I. 2020/680", 'citation:"S.I. 2020/680"', {"uk-2020"}, set(), "uk-2020"),
    ("22 U.S.C. 10101", 'citation:"22 U.S.C. 10101"', {"us-2016"}, set(), "us-2016"),
    (
        "sanctions Pub. L. 114-328",
        'sanctions AND citation:"Pub. L. 114-328"',
        {"us-2016", "uk-2020"},
        {"us-2012"},
        None,
    ),
    (
        "magnitsky kind:legislation date:>=2013",
        "magnitsky AND kind:legislation AND date:>=2013",
        {"ca-2017"},
        {"us-2012", "echr-2019"},
        None,
    ),
]


@pytest.mark.parametrize(("q", "interpreted", "found", "absent", "first"), LANGUAGE)
def test_query_language(
    service: SearchService,
    q: str,
    interpreted: str,
    found: set[str],
    absent: set[str],
    first: str | None,
) -> None:
    res = service.search(q, per_page=20)
    assert res.interpreted == interpreted
    got = set(ids(res))
    assert found <= got, f"{q}: missing {found - got}"
    assert not absent & got, f"{q}: unexpected {absent & got}"
    assert res.total == len(got)
    if first:
        assert ids(res)[0] == first


def test_identifier_carrier_first_then_citers(service: SearchService) -> None:
    res = service.search("Pub. L. 112-208")
    order = ids(res)
    assert order[0] == "us-2012"
    assert set(order[1:]) == {"us-2016", "ca-2017", "art-memory"}
    assert res.hits[0].score > 2 * res.hits[1].score
    citing = res.hits[1].passages[0]
    assert citing.anchor == "para-2" and "<mark>" in citing.snippet


def test_phrase_ranks_above_scattered_words(service: SearchService) -> None:
    order = ids(service.search("asset freeze"))
    assert order.index("near") < order.index("far")


def test_no_document_with_all_words_falls_back_to_some(service: SearchService) -> None:
    res = service.search("custody deficiency")
    assert res.interpreted == "custody OR deficiency"
    assert set(ids(res)) == {"echr-2019", "tax-2020"}
    assert service.search("custody zzzzqq").interpreted == "custody OR zzzzqq"
    assert service.search("custody AND deficiency").total == 0  # an explicit AND is kept


def test_identifier_not_in_archive_is_searched_as_words(service: SearchService) -> None:
    res = service.search("Pub. L. 999-1")
    assert res.total == 0
    assert any("no document carries or cites" in n for n in res.notes)


# -- malformed queries: a sensible reading with a note, or a one-line QueryError ---------------
MALFORMED = [
    ("((((", "error", "nothing to search for"),
    ("(magnitsky", "magnitsky", "closed the unbalanced '('"),
    ("magnitsky)", "magnitsky", "unmatched ')'"),
    ("() magnitsky", "magnitsky", "empty pair of parentheses"),
    ('"unterminated', '"unterminated"', "unbalanced quote"),
    ('"asset freeze', '"asset freeze"', "unbalanced quote"),
    ("title:", "title", "nothing after it"),
    ("title: sanctions", "title AND sanctions", "nothing after it"),
    ("a*", "error", "at least 3 letters"),
    ("ab*", "error", "at least 3 letters"),
    ("*a*", "error", "at the end of a word"),
    ("*", "error", "at the end of a word"),
    ("sanc*ons", "error", "at the end of a word"),
    ("[a TO z]", "a AND TO AND z", "brackets are not query syntax"),
    ("x" * 100_000, "error", "query too long"),
    ("magnitsky\x00", "error", "control character"),
    ("AND", "and", "stray operator 'AND'"),
    ("OR magnitsky", "or AND magnitsky", "stray operator 'OR'"),
    ("magnitsky AND", "magnitsky AND and", "stray operator 'AND'"),
    ("magnitsky OR", "magnitsky AND or", "stray operator 'OR'"),
    ("NOT", "not", "stray operator 'NOT'"),
    ("-", "error", "nothing to search for"),
    ("magnitsky -", "magnitsky", "lone '-'"),
    ("date:abc", "error", "not a date"),
    ("date:2019-13", "error", "no such month"),
    ("date:2016..2012", "error", "ends before it starts"),
    ("date:..", "error", "at least one end"),
    ("year:20x9", "error", "four digits"),
    ("kind:banana", "error", "not a kind"),
    ("foo:bar magnitsky", "foo AND bar AND magnitsky", "unknown field 'foo'"),
    ("court:nowhere", "court:nowhere", "names no court"),
    ("magnitsky~9", "magnitsky~2", "at most 2 edits"),
    ('"asset freeze"~500', '"asset freeze"~50', "lowered"),
    ("", "error", "empty query"),
    ("   ", "error", "empty query"),
    (" ".join(["w"] * 41), "error", "too many terms"),
    ("§§ ---", "error", "nothing to search for"),
    ("§ magnitsky", "magnitsky", "ignored '§'"),
]


@pytest.mark.parametrize(("q", "reading", "message"), MALFORMED)
def test_malformed_queries(service: SearchService, q: str, reading: str, message: str) -> None:
    if reading == "error":
        with pytest.raises(QueryError) as err:
            service.search(q)
        text = str(err.value)
        assert message in text and "\n" not in text and len(text) < 300
        return
    assert parse(q).interpreted == reading  # the reading (a search with no hit then ORs words)
    res = service.search(q)
    assert any(message in n for n in res.notes), res.notes


FUZZ = ['"', "(", ")", "-", "+", "*", "~", ":", "AND", "OR", "NOT", "title:", "date:", "kind:",
        "citation:", "year:", "x", "magnitsky", "32631/09", "Pub.", "L.", "112-208", "§", "é",
        "[", "]", "{", "\\", "/", "..", ">=", "2019", "~2", "\t", "🙂"]  # fmt: skip


def test_random_junk_never_raises_anything_but_query_error(service: SearchService) -> None:
    import random

    rng = random.Random(7)
    for _ in range(400):
        q = "".join(rng.choice(FUZZ) + rng.choice(["", " "]) for _ in range(rng.randint(1, 8)))
        try:
            res = service.search(q)
        except QueryError as exc:
            assert "\n" not in str(exc)
            continue
        assert isinstance(res.total, int) and res.interpreted


def test_parser_reads_identifiers_inside_a_query() -> None:
    node = parse("sanctions S.I. 2020/680 asset").node
    assert 'citation:"S.I. 2020/680"' in parse("sanctions S.I. 2020/680 asset").interpreted
    assert len(node.children) == 3  # type: ignore[union-attr]


# -- facets, filters, sort, paging ---------------------------------------------------------------
def test_facets_count_the_current_query(service: SearchService) -> None:
    res = service.search("magnitsky")
    facets = res.facets
    assert facets["kind"] == {"legislation": 3, "article": 2, "ruling": 1}
    assert facets["jurisdiction"]["United States"] == 2
    assert facets["court"] == {"European Court of Human Rights": 1}
    assert list(facets["year"]) == sorted(facets["year"], reverse=True)
    assert sum(facets["kind"].values()) == res.total


def test_filters_combine_and_facets_keep_their_own_values(service: SearchService) -> None:
    res = service.search("magnitsky", filters={"kind": ["legislation"]})
    assert set(ids(res)) == {"us-2012", "us-2016", "ca-2017"}
    assert res.facets["kind"]["article"] == 2  # the kind facet ignores its own filter
    assert res.facets["jurisdiction"] == {"United States": 2, "Canada": 1}
    both = service.search(
        "magnitsky", filters={"kind": ["legislation", "article"], "year": ["2019"]}
    )
    assert set(ids(both)) == {"art-memory"}
    court = service.search("magnitsky", filters={"court": ["european court of human rights"]})
    assert ids(court) == ["echr-2019"]
    j = service.search("sanctions", filters={"jurisdiction": ["US"]})
    assert set(ids(j)) <= {"us-2012", "us-2016"} and j.total >= 1


def test_browse_with_filters_only(service: SearchService) -> None:
    res = service.search("", filters={"kind": ["ruling"]}, sort="newest")
    assert ids(res) == ["tax-2020", "wc-2019", "echr-2019"]
    assert res.interpreted == "*"


def test_sort_newest_oldest_and_undated_last(service: SearchService) -> None:
    newest = ids(service.search("sanctions", sort="newest", per_page=20))
    oldest = ids(service.search("sanctions", sort="oldest", per_page=20))
    assert newest[0] == "uk-2020" and newest[-1] == "undated"
    assert oldest[0] == "us-2012" and oldest[-1] == "undated"
    dates = [h.date for h in service.search("sanctions", sort="newest", per_page=20).hits]
    assert [d for d in dates if d] == sorted([d for d in dates if d], reverse=True)


def test_pages_and_total(service: SearchService) -> None:
    whole = service.search("the", per_page=100)
    assert whole.total == len(DOCS)
    pages = [service.search("the", page=p, per_page=4) for p in (1, 2, 3)]
    seen = [i for page in pages for i in ids(page)]
    assert seen == ids(whole)
    assert all(p.total == whole.total for p in pages)
    assert ids(service.search("the", page=4, per_page=4)) == []
    for bad in ({"page": 0}, {"page": 10**9}, {"per_page": 10**6}, {"page": "x"}, {"sort": "best"}):
        with pytest.raises(QueryError):
            service.search("the", **bad)  # type: ignore[arg-type]
    with pytest.raises(QueryError):
        service.search("the", filters={"color": ["red"]})
    with pytest.raises(QueryError):
        service.search("the", filters={"year": ["20x9"]})


# -- the hits -------------------------------------------------------------------------------------
def _reads(service: SearchService, **kwargs: Any) -> tuple[SearchResponse, int]:
    """A search, and how many statements it ran on the catalog."""
    statements: list[str] = []
    service.archive.db.set_trace_callback(statements.append)
    try:
        res = service.search("the", **kwargs)
    finally:
        service.archive.db.set_trace_callback(None)
    return res, len(statements)


def test_the_archive_is_read_once_per_page_not_per_hit(service: SearchService) -> None:
    """Documents and passages of a page of hits come from a few catalog reads for the whole page:
    a page of every document costs what a page of one costs."""
    one, few = _reads(service, per_page=1)
    every, many = _reads(service, per_page=100)
    assert len(one.hits) == 1 and len(every.hits) == len(DOCS) > 5
    assert all(h.passages for h in every.hits)
    assert many == few <= 8, (few, many)
    export = service.export("the")
    assert [e.doc.id for e in export.entries] == ids(every)
    assert all(e.passage is not None for e in export.entries)


def test_hit_shape_passages_and_escaped_snippets(service: SearchService) -> None:
    res = service.search("government argued")
    hit = res.hits[0]
    assert hit.id == "echr-2019"
    keys = {"id", "version", "title", "kind", "date", "court", "citation", "score", "passages"}
    assert keys <= set(hit.to_json())
    p = hit.passages[0]
    assert {"anchor", "page", "label", "snippet"} <= set(asdict(p))
    assert p.anchor == "para-3" and p.label == "§ 3"
    assert "&lt;script&gt;" in p.snippet and "<script>" not in p.snippet
    assert p.snippet.replace("<mark>", "").replace("</mark>", "").count("<") == 0
    assert "<mark>Government</mark>" in p.snippet
    assert set(res.to_json()) >= {"query", "interpreted", "total", "page", "per_page", "partial",
                        "suggestion", "facets", "hits", "notes"}  # fmt: skip


def test_up_to_three_passages_per_hit(service: SearchService) -> None:
    res = service.search("detention OR custody OR medical OR article")
    assert all(1 <= len(h.passages) <= 3 for h in res.hits)
    echr = next(h for h in res.hits if h.id == "echr-2019")
    assert {p.anchor for p in echr.passages} >= {"para-1", "para-2"}


# -- did you mean, more like this ---------------------------------------------------------------
def test_did_you_mean(service: SearchService) -> None:
    res = service.search("magnitsy detention")
    assert res.suggestion == "magnitsky detention"
    assert res.interpreted == "magnitsy OR detention"  # no document has both words
    assert any("at least 1 of the 2" in n for n in res.notes)
    assert service.search("sanctoins").suggestion == "sanctions"
    assert service.search("magnitsky").suggestion == ""
    assert service.search("zzzzqqq").suggestion == ""


def test_more_like_this(service: SearchService) -> None:
    similar = service.more_like_this("us-2012", limit=3)
    assert 1 <= len(similar) <= 3
    assert "us-2012" not in [h.id for h in similar]
    assert {h.id for h in similar} & {"us-2016", "uk-2020", "art-memory", "ca-2017"}
    assert similar[0].passages and similar[0].score > 0
    with pytest.raises(NotFound):
        service.more_like_this("no-such-doc")


# -- limits --------------------------------------------------------------------------------------
def test_time_limit_gives_partial_results_not_errors(service: SearchService) -> None:
    hurried = SearchService(
        service.archive, service.backend, replace(service.settings, search_time_limit=0.0)
    )
    for q in ("the", "sanction*", '"asset freeze"', "magnitsky~", "date:2012..2020"):
        res = hurried.search(q)
        assert res.partial is True
        assert res.total >= len(res.hits)


def test_wildcard_expansions_are_capped(service: SearchService) -> None:
    capped = SearchService(
        service.archive, service.backend, replace(service.settings, wildcard_max_expansions=2)
    )
    res = capped.search("con*")
    assert any("too many words" in n for n in res.notes)


def test_empty_index(tmp_path: Path) -> None:
    archive = Archive(tmp_path)
    svc = SearchService(archive, WhooshIndex(None), Settings().with_data_dir(tmp_path))
    res = svc.search("magnitsky")
    assert res.total == 0 and res.hits == [] and res.suggestion == ""
    assert svc.search("", filters={"kind": ["ruling"]}).total == 0


def test_errors_are_magsearch_errors() -> None:
    assert issubclass(QueryError, MagsearchError)


def test_wildcard_with_many_expansions_finds_every_document(service: SearchService) -> None:
    import re

    def words(d: dict[str, Any]) -> set[str]:
        return set(re.findall(r"\w+", " ".join([d["title"], *d["paras"]]).lower()))

    expansions = {w for d in DOCS for w in words(d) if w.startswith("con")}
    assert len(expansions) > 4  # more than the expansions that are ranked: the rest only match
    expected = {d["id"] for d in DOCS if any(w.startswith("con") for w in words(d))}
    res = service.search("con*", per_page=100)
    assert set(ids(res)) == expected and res.total == len(expected)
    scores = [h.score for h in res.hits]
    assert scores == sorted(scores, reverse=True)


def test_search_after_documents_are_replaced(tmp_path: Path) -> None:
    """Segments with deletions wrap Whoosh's matchers: phrases, proximity, wildcards still work."""
    archive = Archive(tmp_path)
    for d in DOCS:
        _add(archive, d)
    index = WhooshIndex(tmp_path / "index")
    index_documents(archive, index, archive.document_ids())
    index_documents(archive, index, ["us-2012", "uk-2020"])  # replaced: the old records deleted
    svc = SearchService(archive, index, Settings().with_data_dir(tmp_path))
    assert set(ids(svc.search('"asset freeze"'))) == {"us-2012", "uk-2020", "near"}
    assert "near" in ids(svc.search('"freeze asset"~5'))
    assert svc.search("<script>alert(1)</script>").total >= 0
    assert ids(svc.search("asset freeze"))[0] in {"us-2012", "uk-2020", "near"}
    assert set(ids(svc.search("sanction*"))) >= {"us-2012", "uk-2020"}
    index.close()


SNIPPET_TEXT = (
    "31. Turning to the present case, the Court found that the medical care given to the first "
    "applicant while he was in detention had been inadequate. The authorities had known of his "
    "condition, yet they had not ensured timely diagnosis, proper treatment and appropriate "
    "supervision as his health deteriorated."
)


def _marked(words: str) -> str:
    """SNIPPET_TEXT's snippet for these words, as the service makes it: magsearch.snippets with
    the index's own tokens and terms (WhooshIndex.analysis)."""
    analysis = WhooshIndex(None).analysis

    def key(token: str) -> tuple[str, ...]:
        return analysis.keys(token, "")

    terms = frozenset(t for w in words.split() for t in key(w))
    return snippets.snippet(
        SNIPPET_TEXT, snippets.Marks(terms), key, token=analysis.token, split=analysis.split
    )


def test_snippet_marks_small_words_only_inside_a_phrase() -> None:
    out = _marked("the medical care given to the first applicant")
    assert "<mark>the</mark> <mark>medical</mark>" in out
    assert out.startswith("31. Turning to the present case, the Court")  # stray "to the" unmarked
    assert _marked("the").count("<mark>") >= 3  # alone, it is marked


def test_snippet_fragments_never_repeat_text() -> None:
    out = _marked("court diagnosis")
    for fragment in out.split(" … "):
        plain = fragment.replace("<mark>", "").replace("</mark>", "")
        assert out.replace("<mark>", "").replace("</mark>", "").count(plain) == 1
    assert "<mark>Court</mark>" in out and "<mark>diagnosis</mark>" in out
