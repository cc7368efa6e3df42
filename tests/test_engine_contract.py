"""The engine contract: what the search service asks of an index backend (index/base.py), held to
every engine alike. Each test runs on the Whoosh adapter (on disk) and on the engine in memory
(index/memory.py); a new engine (tantivy, OpenSearch) joins the `engine` fixture's list and must
pass the same tests.

The records are written through the engine's own write(); the queries are parsed by the query
language, as the service parses them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from magsearch import querylang as ql
from magsearch import snippets
from magsearch.archive import Archive
from magsearch.config import Settings
from magsearch.errors import QueryError
from magsearch.index.base import IndexBackend, IndexRecord, SearchRequest
from magsearch.index.memory import MemoryIndex
from magsearch.index.whoosh import WhooshIndex
from magsearch.models import Document, Kind, Passage
from magsearch.search import SearchService

FILLER = "The parties made further submissions on the procedure and the costs of the hearing."


def record(
    doc_id: str, kind: str, title: str, paras: list[str], *, date: str = "", court: str = "",
    jurisdiction: str = "", idents: tuple[str, ...] = (), cites: tuple[tuple[int, str], ...] = (),
    outside: str = "", version: str = "",
) -> IndexRecord:  # fmt: skip
    doc = Document(
        id=doc_id, kind=Kind(kind), title=title, date=date, court=court,
        jurisdiction=jurisdiction, identifiers=idents, current_version=version or f"v-{doc_id}",
    )  # fmt: skip
    passages = tuple(
        Passage(seq=i, anchor=f"para-{i + 1}", label=f"§ {i + 1}", text=t)
        for i, t in enumerate(paras)
    )
    cited = tuple((f"para-{i + 1}", norm) for i, norm in cites)
    return IndexRecord(doc, doc.current_version, passages, cited, outside)


RECORDS = [
    record(
        "echr", "ruling", "Magnitskiy and Others v. Russia",
        [
            "The applicant was detained in pre-trial custody in Moscow.",
            "He did not receive adequate medical care in detention. The Government disputed it.",
            "The Court finds a violation of Article 3 of the Convention.",
            FILLER,
        ],
        date="2019-08-27", court="European Court of Human Rights",
        jurisdiction="Council of Europe", idents=("32631/09",),
    ),
    record(
        "us2012", "legislation", "Sergei Magnitsky Rule of Law Accountability Act",
        [
            "An Act to impose sanctions on persons responsible for the detention of Magnitsky.",
            "The Secretary shall freeze the assets of the persons listed: an asset freeze.",
            FILLER,
        ],
        date="2012-12-14", jurisdiction="United States", idents=("Pub. L. 112-208",),
    ),
    record(
        "us2016", "legislation", "Global Magnitsky Human Rights Accountability Act",
        [
            "The President may impose sanctions on any foreign person responsible for gross "
            "violations of human rights.",
            "This Act extends the Act of 2012 (Pub. L. 112-208) to the whole world.",
        ],
        date="2016-12-23", jurisdiction="United States", cites=((1, "Pub. L. 112-208"),),
    ),
    record(
        "uk2020", "legislation", "Global Human Rights Sanctions Regulations",
        ["The Regulations impose an asset freeze and travel bans.", FILLER],
        date="2020-07-06", jurisdiction="United Kingdom",
    ),
    record(
        "note", "article", "A note on sanctions",
        ["Sanctions, sanctions and more sanctions: a short note.", "Nothing on custody here."],
        outside="Printed from the riparian archive",
    ),
    record(
        "essay", "article", "An essay",
        [
            "A long essay that mentions sanctions only once among many other words about "
            "history, politics, economics, diplomacy, treaties, trade, law and procedure, "
            "courts, tribunals, councils, parliaments, ministers and officials.",
            FILLER,
        ],
        date="2021-03-01",
    ),
]  # fmt: skip
IDS = {r.doc.id for r in RECORDS}


def make_memory(path: Path) -> IndexBackend:
    return MemoryIndex()


def make_whoosh(path: Path) -> IndexBackend:
    return WhooshIndex(path / "index")


@pytest.fixture(params=[make_whoosh, make_memory], ids=["whoosh", "memory"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[IndexBackend]:
    make: Callable[[Path], IndexBackend] = request.param
    ix = make(tmp_path)
    ix.write(list(RECORDS), fresh=[r.doc.id for r in RECORDS])
    yield ix
    ix.close()


def ask(engine: IndexBackend, q: str, **options: object) -> list[str]:
    return [h.doc_id for h in engine.search(req(q, **options)).hits]


def req(q: str, **options: object) -> SearchRequest:
    node = ql.parse(q).node if q else ql.MatchAll()
    return SearchRequest(query=node, per_page=50, **options)  # type: ignore[arg-type]


# -- writing ---------------------------------------------------------------------------------------
def test_records_are_added_replaced_and_deleted(engine: IndexBackend) -> None:
    assert engine.doc_ids() == IDS
    first = engine.generation()
    engine.write([record("note", "article", "A note", ["Now about quokkas only."])])
    second = engine.generation()
    assert second != first
    assert ask(engine, "quokkas") == ["note"]
    assert "note" not in ask(engine, "sanctions")  # the old text is gone
    assert engine.doc_ids() == IDS
    engine.write([], delete=["note", "essay"])
    assert engine.generation() not in (first, second)
    assert engine.doc_ids() == IDS - {"note", "essay"}
    assert ask(engine, "quokkas") == []
    assert engine.search(req("")).total == len(IDS) - 2
    engine.clear()
    assert engine.doc_ids() == set() and engine.search(req("")).total == 0
    assert engine.bulk_load(iter(RECORDS)) == len(RECORDS)
    assert engine.doc_ids() == IDS


# -- matching --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("sanctions", {"us2012", "us2016", "uk2020", "note", "essay"}),
        ("sanctions detention", {"us2012"}),
        ("sanctions AND detention", {"us2012"}),
        ("custody OR freeze", {"echr", "us2012", "uk2020", "note"}),
        ("sanctions -freeze", {"us2016", "note", "essay"}),
        ("sanctions NOT freeze", {"us2016", "note", "essay"}),
        ("(custody OR freeze) -note", {"echr", "us2012", "uk2020"}),
        ('"asset freeze"', {"us2012", "uk2020"}),
        ('"freeze asset"', set()),
        ('"impose sanctions"~3', {"us2012", "us2016"}),
        ("title:sanctions", {"uk2020", "note"}),
        ("title:custody", set()),
        ("sanct*", {"us2012", "us2016", "uk2020", "note", "essay"}),
        ("custdy~1", {"echr", "note"}),
        ("kind:legislation sanctions", {"us2012", "us2016", "uk2020"}),
        ("year:2016", {"us2016"}),
        ("date:2012..2017", {"us2012", "us2016"}),
        ('jurisdiction:"United Kingdom"', {"uk2020"}),
        ("riparian", {"note"}),
        ("quokka", set()),
    ],
)
def test_boolean_logic_phrases_fields_and_filters(
    engine: IndexBackend, q: str, expected: set[str]
) -> None:
    res = engine.search(req(q))
    assert {h.doc_id for h in res.hits} == expected, q
    assert res.total == len(expected) == engine.count(req(q))[0]


def test_an_identifier_finds_its_carrier_first_then_its_citers(engine: IndexBackend) -> None:
    res = engine.search(req("Pub. L. 112-208"))
    assert [h.doc_id for h in res.hits] == ["us2012", "us2016"]
    assert res.hits[0].score > res.hits[1].score
    assert [p.anchor for p in res.hits[1].passages][:1] == ["para-2"]  # the citing passage
    assert ask(engine, "32631/09") == ["echr"]


def test_nothing_to_search_for_is_a_query_error(engine: IndexBackend) -> None:
    with pytest.raises(QueryError):
        engine.search(SearchRequest(query=ql.Word("...")))


# -- filters, facets, totals, hidden ---------------------------------------------------------------
def test_filters_facets_and_totals(engine: IndexBackend) -> None:
    res = engine.search(req("sanctions"))
    assert res.facets["kind"] == {"legislation": 3, "article": 2}
    assert res.facets["jurisdiction"] == {"United States": 2, "United Kingdom": 1}
    assert list(res.facets["year"]) == ["2021", "2020", "2016", "2012"]  # newest first
    only = engine.search(req("sanctions", filters={"kind": ("article",)}))
    assert {h.doc_id for h in only.hits} == {"note", "essay"} and only.total == 2
    assert only.facets["kind"] == {"legislation": 3, "article": 2}  # its own filter left out
    assert only.facets["jurisdiction"] == {}  # the articles have none
    both = req("sanctions", filters={"kind": ("legislation",), "year": ("2012", "2020")})
    assert {h.doc_id for h in engine.search(both).hits} == {"us2012", "uk2020"}
    assert engine.count(both) == (2, False)


def test_hidden_documents_are_never_found_or_counted(engine: IndexBackend) -> None:
    hidden = frozenset({"us2012", "note"})
    res = engine.search(req("sanctions", hidden=hidden))
    assert {h.doc_id for h in res.hits} == {"us2016", "uk2020", "essay"} and res.total == 3
    assert sum(res.facets["kind"].values()) == 3
    assert engine.count(req("sanctions", hidden=hidden)) == (3, False)
    assert engine.search(req("Pub. L. 112-208", hidden=hidden)).total == 1
    assert engine.search(req("", hidden=hidden)).total == len(IDS) - 2
    assert engine.similar_words("riparian", 0, hidden) == {"riparian": 0}
    assert engine.similar_words("riparian", 0) == {"riparian": 1}


# -- order and pages -------------------------------------------------------------------------------
def test_sort_by_date_undated_last_and_relevance(engine: IndexBackend) -> None:
    newest = ask(engine, "sanctions", sort="newest")
    assert newest == ["essay", "uk2020", "us2016", "us2012", "note"]
    assert ask(engine, "sanctions", sort="oldest") == [
        "us2012",
        "us2016",
        "uk2020",
        "essay",
        "note",
    ]
    ranked = ask(engine, "sanctions")
    assert ranked.index("note") < ranked.index(
        "essay"
    )  # three times in a short text, once in a long one


def test_pages_add_up_to_the_whole(engine: IndexBackend) -> None:
    whole = ask(engine, "", sort="oldest")
    pages = [engine.search(SearchRequest(sort="oldest", page=p, per_page=2)) for p in (1, 2, 3, 4)]
    assert [h.doc_id for p in pages for h in p.hits] == whole and len(whole) == len(IDS)
    assert {p.total for p in pages} == {len(IDS)} and pages[-1].hits == []


# -- passages --------------------------------------------------------------------------------------
def test_hits_carry_their_best_passages_with_anchors(engine: IndexBackend) -> None:
    res = engine.search(req('"medical care"'))
    assert [h.doc_id for h in res.hits] == ["echr"]
    assert [p.anchor for p in res.hits[0].passages] == ["para-2"]
    assert res.hits[0].version == "v-echr"
    assert res.phrases and not res.terms  # a phrase is marked whole, never its words alone
    many = engine.search(req("detention OR custody OR violation", passages_per_hit=2))
    echr = next(h for h in many.hits if h.doc_id == "echr")
    assert len(echr.passages) == 2
    assert {p.anchor for p in echr.passages} <= {"para-1", "para-2", "para-3"}
    none = engine.search(req("custody", passages_per_hit=0))
    assert all(h.passages == () for h in none.hits) and none.total == 2


def test_text_outside_the_main_text_is_found_and_said(engine: IndexBackend) -> None:
    res = engine.search(req("riparian"))
    assert [(h.doc_id, h.passages, h.outside) for h in res.hits] == [("note", (), True)]
    inside = engine.search(req("custody"))
    assert not any(h.outside for h in inside.hits)


def test_the_marks_are_the_engines_own_terms(engine: IndexBackend) -> None:
    """What a search returns to mark (terms, phrases) is what the engine's analysis gives the
    words of a passage: the service's snippets mark exactly the matches."""
    res = engine.search(req("Detention"))
    a = engine.analysis

    def key(token: str) -> tuple[str, ...]:
        return a.keys(token, "")

    text = "He did not receive adequate medical care in detention."
    marked = snippets.snippet(text, snippets.Marks(frozenset(res.terms)), key, token=a.token)
    assert "<mark>detention</mark>" in marked and marked.count("<mark>") == 1
    phrase = engine.search(req('"medical care"'))
    marks = snippets.Marks(phrases=phrase.phrases)
    assert "<mark>medical care</mark>" in snippets.snippet(text, marks, key, token=a.token)


# -- some of the words -----------------------------------------------------------------------------
def test_some_of_the_words_needs_what_the_table_says_the_most_first(engine: IndexBackend) -> None:
    words = ql.Or((ql.Word("custody"), ql.Word("detention"), ql.Word("Moscow")))
    two = engine.search(SearchRequest(query=words, some_of=(0, 0, 2, 2)))
    assert two.at_least == 2
    assert [h.doc_id for h in two.hits] == ["echr"] and two.total == 1  # all three
    one = engine.search(SearchRequest(query=words, some_of=(0, 0, 1, 1)))
    assert one.at_least == 1 and one.hits[0].doc_id == "echr"  # the most words first
    assert {h.doc_id for h in one.hits} == {"echr", "us2012", "note"}
    filtered = ql.And((words, ql.Facet("kind", "article")))
    assert _ask_node(engine, filtered, some_of=(0, 0, 1, 1)) == ["note"]
    lone = engine.search(SearchRequest(query=ql.Or((ql.Word("custody"),)), some_of=(0, 1)))
    assert lone.at_least == 0 and lone.hits == []  # fewer than two words: not applicable


def _ask_node(engine: IndexBackend, node: ql.Node, **options: object) -> list[str]:
    return [h.doc_id for h in engine.search(SearchRequest(query=node, **options)).hits]  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("q", "expected", "anchor"),
    [
        ("custody NEAR/1 Moscow", {"echr"}, "para-1"),
        ("Moscow NEAR/1 custody", {"echr"}, "para-1"),
        ("detained NEAR/2 Moscow", set(), ""),
        ("detained NEAR/5 Moscow", {"echr"}, "para-1"),
        ("medical /s detention", {"echr"}, "para-2"),
        ("care /s Government", set(), ""),
        ("care /p Government", {"echr"}, "para-2"),
        ("sanctions /p freeze", set(), ""),  # the Act has them in two passages
        ('"asset freeze" /p (Secretary OR President)', {"us2012"}, "para-2"),
    ],
)
def test_proximity_within_one_passage(
    engine: IndexBackend, q: str, expected: set[str], anchor: str
) -> None:
    res = engine.search(req(q))
    assert {h.doc_id for h in res.hits} == expected and res.total == len(expected), q
    if anchor:
        assert res.hits[0].passages[0].anchor == anchor, q


# -- the lexicon -----------------------------------------------------------------------------------
def test_words_and_similar_words(engine: IndexBackend) -> None:
    assert engine.words("Sanctions") == ["sanctions"]
    near = engine.similar_words("sanctoins", 2)
    assert near.get("sanctions") == 5
    assert "custody" in engine.similar_words("custdy", 1)
    assert engine.similar_words("zzzzqq", 2) == {}


def test_more_like_this_leaves_the_document_out(engine: IndexBackend) -> None:
    text = " ".join(RECORDS[1].doc.title.split() + [p.text for p in RECORDS[1].passages])
    res = engine.more_like("us2012", text, limit=3)
    ids = [h.doc_id for h in res.hits]
    assert ids and "us2012" not in ids and len(ids) <= 3
    assert res.terms and all(h.passages for h in res.hits)  # each with its best passage


# -- the service over any engine -------------------------------------------------------------------
def test_the_search_service_runs_over_the_engine(engine: IndexBackend, tmp_path: Path) -> None:
    archive = Archive(tmp_path / "archive")
    try:
        service = SearchService(archive, engine, Settings().with_data_dir(tmp_path))
        res = service.search("custody detention Moscow applicant pretrial")  # read as a sentence
        assert res.interpreted.count(" OR ") == 4
        assert any(n.startswith("read as a sentence") for n in res.notes)
        assert (
            res.total >= 1
        )  # the archive is empty: the hits are left out, the total is the engine's
        assert service.search("custody", filters={"kind": ["judgment"]}).total == 1  # kind alias
        assert service.search("custdy").suggestion == "custody"
    finally:
        archive.close()
