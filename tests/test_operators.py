"""The operators lawyers use (docs/search.md, "Proximity", "Exact forms"): NEAR/n (w/n), /s and /p,
=word, on the real bundled collection (the sample archive the web tests build from archive/): queries that must match,
queries that must not, malformed ones refused in one line, restricted documents never found."""

from __future__ import annotations

import csv
import io
import json
import re
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import replace
from html import unescape
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from magsearch import curation, querylang
from magsearch.config import Settings
from magsearch.errors import QueryError
from magsearch.index.whoosh_schema import (
    ENDS,
    PASSAGE_END,
    SENTENCE_END,
    language_mark,
    make_analyzer,
)
from magsearch.library import Library, open_library
from webfixtures import Sample, copy_tree, free_port, sample_archive

PRESS = "echr-magnitskiy-2019-press-release"
JUDGMENT = "echr-magnitskiy-2019"
# PRESS's passage: "… more often written Magnitsky in English). He was charged with organised tax
# evasion, died in pre-trial detention …": English and evasion in one paragraph, two sentences
TWO_SENTENCES = "p-0df17ac1"


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Sample:
    return sample_archive(tmp_path_factory)


@pytest.fixture(scope="module")
def lib(sample: Sample) -> Iterator[Library]:
    lib = open_library(sample.settings)
    yield lib
    lib.close()


def ids(lib: Library, q: str, **kw: object) -> list[str]:
    return [h.id for h in lib.search.search(q, per_page=50, **kw).hits]


def passage(lib: Library, doc_id: str, anchor: str) -> str:
    doc = lib.archive.get_document(doc_id)
    return lib.archive.passages_by_anchor(doc.current_version, [anchor])[anchor].text


def test_same_paragraph_matches_where_same_sentence_does_not(lib: Library) -> None:
    text = passage(lib, PRESS, TWO_SENTENCES)
    assert "in English). He was charged with organised tax evasion" in text  # the premise
    res = lib.search.search("english /p evasion")
    assert [h.id for h in res.hits] == [PRESS]
    assert res.hits[0].passages[0].anchor == TWO_SENTENCES
    assert res.interpreted == "english /p evasion"
    assert ids(lib, "english /s evasion") == []
    assert ids(lib, "english w/p evasion") == [PRESS]  # Lexis's spelling
    # in one sentence: the judgment's para-11 and the press release's next sentence
    found = lib.search.search("charged /s evasion")
    assert {h.id for h in found.hits} == {JUDGMENT, PRESS}
    by_id = {h.id: h for h in found.hits}
    assert by_id[JUDGMENT].passages[0].anchor == "para-11"
    assert by_id[PRESS].passages[0].anchor == TWO_SENTENCES


def test_near_counts_the_words_between(lib: Library) -> None:
    # "charged with organised tax evasion": three words between charged and evasion
    assert set(ids(lib, "charged NEAR/3 evasion")) == {JUDGMENT, PRESS}
    assert set(ids(lib, "evasion w/3 charged")) == {JUDGMENT, PRESS}  # either order, Westlaw's w/n
    assert ids(lib, "charged NEAR/2 evasion") == []
    # English … evasion: eight words apart, across a sentence's end (NEAR ignores sentences)
    assert ids(lib, "english NEAR/10 evasion") == [PRESS]
    assert ids(lib, "english NEAR/3 evasion") == []
    res = lib.search.search("charged NEAR evasion")
    assert res.interpreted == "charged NEAR/5 evasion"
    assert any("NEAR/5" in n for n in res.notes)
    capped = lib.search.search("charged NEAR/100000 evasion")
    assert capped.interpreted == "charged NEAR/50 evasion"
    assert any("lowered to NEAR/50" in n for n in capped.notes)


def test_operands_are_words_phrases_or_alternatives(lib: Library) -> None:
    res = lib.search.search('"tax evasion" /s charged')
    assert {h.id for h in res.hits} == {JUDGMENT, PRESS}
    snippet = {h.id: h for h in res.hits}[JUDGMENT].passages[0].snippet
    assert "<mark>tax evasion</mark>" in snippet and "<mark>charged</mark>" in snippet
    assert ids(lib, '"tax fraud" /s charged') == []
    assert set(ids(lib, "(fraud OR evasion) /s charged")) == {JUDGMENT, PRESS}
    # binds tighter than NOT, OR and AND
    res = lib.search.search("NOT english /s evasion")
    assert res.interpreted == "NOT (english /s evasion)"
    assert PRESS in ids(lib, "magnitskiy NOT english /s evasion")
    assert PRESS not in ids(lib, "magnitskiy NOT english /p evasion")
    assert lib.search.search("zzzz OR english /p evasion").interpreted == (
        "zzzz OR (english /p evasion)"
    )
    # a chain: every operand in one sentence
    assert set(ids(lib, "charged /s evasion /s detention")) <= {JUDGMENT, PRESS}
    assert ids(lib, "english /s charged /s evasion") == []


def test_abbreviations_end_no_sentence(lib: Library) -> None:
    # "Cite the judgment, not this page: Magnitskiy and Others v. Russia, nos. 32631/09 and
    # 53799/12, 27 August 2019, ECLI:…": one sentence despite "v." and "nos."
    text = passage(lib, PRESS, "p-9cf26abc")
    assert (
        "Cite the judgment, not this page: Magnitskiy and Others v. Russia, nos. 32631/09" in text
    )
    res = lib.search.search('"this page" /s august')
    assert PRESS in [h.id for h in res.hits]
    hit = next(h for h in res.hits if h.id == PRESS)
    assert "p-9cf26abc" in [p.anchor for p in hit.passages]


def test_sentence_ends_move_no_position(lib: Library) -> None:
    """Every passage of the collection: the text analyzer (with sentence ends) gives every word the
    position the body's analyzer gives it, so phrases and ~n read the same positions as before."""
    with_ends, plain = make_analyzer(sentences=True), make_analyzer()

    def analysed(analyzer: Any, text: str) -> list[tuple[str, int]]:
        return [(t.text, t.pos) for t in analyzer(text, positions=True, mode="index")]

    checked = ends = 0
    for doc in lib.archive.documents():
        texts = [
            language_mark(doc.language) + p.text for p in lib.archive.passages(doc.current_version)
        ]
        for text in texts:
            a = analysed(with_ends, text)
            assert [x for x in a if x[0] not in ENDS] == analysed(plain, text)
            ends += sum(1 for x in a if x[0] == SENTENCE_END)
            checked += 1
        # a document's body: the passages one after another, each passage's end recorded
        body = analysed(with_ends, "\n\n".join(texts))
        assert [x for x in body if x[0] not in ENDS] == analysed(plain, "\n\n".join(texts))
        assert sum(1 for x in body if x[0] == PASSAGE_END) == len(texts) - 1
    assert checked > 200 and ends > checked  # most passages have more than one sentence


@pytest.mark.parametrize(
    "q, says",
    [
        ("sanctions NEAR/0 detention", "NEAR/0"),
        ("sanctions NEAR/x detention", "NEAR/x"),
        ("sanctions NEAR/ detention", "NEAR/"),
        ("sanctions /s", "/s"),
        ("/p detention", "/p"),
        ("sanctions /s /p detention", "/s"),
        ("sanctions /s detention /p death", "/s and /p"),
        ("sanc* /s detention", "sanc*"),
        ("title:sanctions /s detention", "title:sanctions"),
        ('"asset freeze"~3 /s detention', '"asset freeze"~3'),
        ("sanctions /s kind:ruling", "kind:ruling"),
        ("(sanctions AND penalties) /s detention", "sanctions AND penalties"),
        ("sanctions /s -detention", "/s"),
        ("=", "'='"),
        ("detained = custody", "'='"),
        ("=wild*", "=wild*"),
        ("=detained~", "=detained~"),
        ("=asset-freeze", "=asset-freeze"),
        ("title:=detained", "title:=detained"),
        ("=detained /s custody", "=detained"),
    ],
)
def test_malformed_refused_in_one_line(lib: Library, q: str, says: str) -> None:
    with pytest.raises(QueryError) as err:
        lib.search.search(q)
    message = str(err.value)
    assert "\n" not in message and says in message
    with pytest.raises(QueryError):
        querylang.parse(q)


def test_words_that_are_not_operators(lib: Library) -> None:
    assert querylang.parse("w/o counsel").interpreted == "w/o AND counsel"
    assert querylang.parse("near the court").interpreted == "near AND the AND court"


def test_restricted_documents_are_never_found(sample: Sample, tmp_path: Path) -> None:
    data = copy_tree(sample.data_dir, tmp_path / "data")
    lib = open_library(sample.settings.with_data_dir(data))
    try:
        curation.set_restricted(lib, PRESS, True, actor="test")
        for q in (
            "english /p evasion",
            "charged NEAR/3 evasion",
            "charged /s evasion",
            "=detained",
        ):
            res = lib.search.search(q)
            assert PRESS not in [h.id for h in res.hits]
            assert sum(res.facets["kind"].values()) == res.total
        assert lib.search.search("english /p evasion").total == 0
        seen = lib.search.search("english /p evasion", include_restricted=True)
        assert [h.id for h in seen.hits] == [PRESS]
    finally:
        lib.close()


USC = "legislation/us_22_USC_ch108_global_magnitsky_human_rights_accountability.txt"


@pytest.fixture(scope="module")
def usc(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Library]:
    """22 U.S.C. ch. 108 from the shared corpus, ingested alone (one passage per section)."""
    from magsearch.ingest.pipeline import Ingester, find_files

    settings = sample_settings(tmp_path_factory.mktemp("usc") / "data")
    lib = open_library(settings)
    results = Ingester(lib.archive, lib.index, settings).run(find_files([corpus / USC]))
    assert [r.status for r in results] == ["ingested"]
    yield lib
    lib.close()


def sample_settings(data: Path) -> Settings:
    return Settings().with_data_dir(data)


def test_statute_sentences(usc: Library) -> None:
    doc = usc.archive.documents()[0]
    section = usc.archive.passages_by_anchor(doc.current_version, ["sec-10102"])["sec-10102"].text
    assert "based on credible evidence\n\n(1) is responsible for extrajudicial killings" in section
    assert "( 50 U.S.C. 1701 et seq.), of all transactions" in section
    assert "United States person.\n\n(B) Inapplicability" in section
    # a list item runs on from the words that introduce it: one sentence
    res = usc.search.search("impose /s killings")
    assert [p.anchor for p in res.hits[0].passages] == ["sec-10102"]
    # "U.S.C." and "et seq.)," end no sentence
    assert usc.search.search("blocking /s transactions").total == 1
    # "… a United States person." ends one: (A)'s transactions and (B)'s requirements are apart
    assert usc.search.search("transactions /p requirements").total == 1
    assert usc.search.search("transactions /s requirements").total == 0
    # "all transactions in all property": two words between, nowhere fewer
    assert usc.search.search("transactions NEAR/2 property").total == 1
    assert usc.search.search("transactions w/1 property").total == 0


def _marked(snippet: str) -> list[str]:
    return [m.lower() for m in re.findall(r"<mark>(.*?)</mark>", snippet)]


def test_exact_form_finds_that_form_only(lib: Library) -> None:
    # stemmed, "detain" finds "detained"; as an exact form it finds nothing (no document writes it)
    assert len(ids(lib, "detain")) >= 4
    assert ids(lib, "=detain") == []
    exact = lib.search.search("=detained", per_page=50)
    assert exact.interpreted == "=detained" and exact.total >= 4
    for hit in exact.hits:  # every passage shown holds the form, and only it is marked
        for p in hit.passages:
            text = passage(lib, hit.id, p.anchor)
            assert re.search(r"(?i)\bdetained\b", text), (hit.id, p.anchor)
            assert _marked(p.snippet) and set(_marked(p.snippet)) == {"detained"}
    # "detention" stands beside "detained" in the same passages: searched, but never marked
    assert any("detention" in h.snippet for h in exact.hits)
    # the press release writes "imposes"; the Act of 2012 only "impose"/"imposed"
    assert set(ids(lib, "imposes")) > set(ids(lib, "=imposes"))
    only = lib.search.search("=imposes")
    for hit in only.hits:
        assert all(set(_marked(p.snippet)) == {"imposes"} for p in hit.passages)


def test_exact_form_with_other_words(lib: Library) -> None:
    both = lib.search.search("=died custody")
    assert both.interpreted == "=died AND custody"
    assert {h.id for h in both.hits} <= set(ids(lib, "died custody"))
    assert both.total >= 5
    # every document with "detained" also writes "detention"
    assert ids(lib, "=detained -=detention") == []
    assert set(ids(lib, "=detention -=detained")) == set(ids(lib, "=detention")) - set(
        ids(lib, "=detained")
    )


def test_statute_exact_forms(usc: Library) -> None:
    """22 U.S.C. § 10102 writes impose, imposed and imposing: each exact form marks itself only."""
    section = usc.search.search("impose").hits[0].passages
    assert {w for p in section for w in _marked(p.snippet)} >= {"impose", "imposed"}
    for form in ("impose", "imposed", "imposing"):
        res = usc.search.search(f"={form}")
        assert res.total == 1
        marked = {w for p in res.hits[0].passages for w in _marked(p.snippet)}
        assert marked == {form}
    assert usc.search.search("=imposes").total == 0


# -- search within results, and sort, over real HTTP ----------------------------------------------
@pytest.fixture(scope="module")
def web(sample: Sample) -> Iterator[str]:
    """The real app on a real socket (a werkzeug server in a thread), over the sample archive."""
    from werkzeug.serving import make_server

    from magsearch.web import create_app

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    settings = replace(sample.settings, public_url=base, search_rate_limit="off")
    app = create_app(settings, {"TESTING": True})
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield base
    finally:
        server.shutdown()
        thread.join()
        app.extensions["magsearch"].close()


def get(url: str) -> tuple[int, str, dict[str, str]]:
    try:
        with urllib.request.urlopen(url, timeout=30) as r:
            return r.status, r.read().decode("utf-8"), dict(r.headers)
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode("utf-8"), dict(err.headers)


def api(base: str, **params: str) -> dict[str, Any]:
    status, body, _ = get(f"{base}/api/search?{urlencode(params)}")
    assert status == 200, body
    return json.loads(body)  # type: ignore[no-any-return]


def links(page: str) -> list[dict[str, list[str]]]:
    """Every link of a page, as its parsed query string (search and export links)."""
    out = []
    for href in re.findall(r'href="([^"]+)"', page):
        url = urlsplit(unescape(href))
        if url.path in ("/search", "/api/search", "/search.atom"):
            out.append(parse_qs(url.query))
    return out


def test_search_within_results_api(web: str) -> None:
    first = api(web, q="magnitsky")
    narrowed = api(web, q="magnitsky", within="custody", per_page="50")
    assert narrowed["within"] == "custody"
    assert narrowed["interpreted"] == "magnitsky AND custody"
    both = api(web, q="magnitsky AND custody", per_page="50")
    assert [h["id"] for h in narrowed["hits"]] == [h["id"] for h in both["hits"]]
    assert 0 < narrowed["total"] < first["total"]
    # an operator inside: the passages shown are those of the second query
    inner = api(web, q="detention", within="english /p evasion")
    assert inner["interpreted"] == "detention AND (english /p evasion)"
    assert [h["id"] for h in inner["hits"]] == [PRESS]
    # the first query is read strictly: its words are all required
    loose = api(web, q="magnitsky zzzqqq")
    assert loose["total"] and any("at least" in n for n in loose["notes"])
    assert api(web, q="magnitsky zzzqqq", within="custody")["total"] == 0
    # malformed: one line, 400, naming the problem
    status, body, _ = get(
        f"{web}/api/search?{urlencode({'q': 'magnitsky', 'within': 'a NEAR/0 b'})}"
    )
    assert status == 400 and "NEAR/0" in json.loads(body)["message"]
    assert "\n" not in json.loads(body)["message"]


def test_sort_on_every_results_page(web: str) -> None:
    newest = api(web, q="magnitsky", sort="newest", per_page="50")
    assert newest["sort"] == "newest"
    dates = [h["date"] for h in newest["hits"] if h["date"]]
    assert dates == sorted(dates, reverse=True) and len(dates) > 5
    oldest = api(web, q="magnitsky", within="custody", sort="oldest", per_page="50")
    dates = [h["date"] for h in oldest["hits"] if h["date"]]
    assert dates == sorted(dates) and oldest["sort"] == "oldest"
    status, body, _ = get(f"{web}/api/search?q=magnitsky&sort=sideways")
    assert status == 400 and "sideways" in json.loads(body)["message"]
    # the results page: its sort, within, pagination, export, feed and permalink links keep the
    # search (q, within, sort), and the page offers the three orders
    status, page, _ = get(
        f"{web}/search?{urlencode({'q': 'magnitsky', 'within': 'custody', 'sort': 'oldest', 'per_page': '2'})}"
    )
    assert status == 200
    assert 'value="custody"' in page and "searched within for <q>custody</q>" in page
    found = links(page)
    sorts = [lk.get("sort", ["relevance"])[0] for lk in found if "format" not in lk]
    assert {"relevance", "newest", "oldest"} <= set(sorts)
    for lk in found:
        assert lk["q"] == ["magnitsky"]
        if lk.get("within") is None:  # only the way back to all the results drops it
            continue
        assert lk["within"] == ["custody"]
    exports = [lk for lk in found if "format" in lk]
    assert exports and all(
        lk["sort"] == ["oldest"] and lk["within"] == ["custody"] for lk in exports
    )
    pages = [lk for lk in found if "page" in lk]
    assert pages and all(lk["sort"] == ["oldest"] and lk["within"] == ["custody"] for lk in pages)
    permalink = [lk for lk in found if "as_of" in lk]
    assert permalink and all(lk["sort"] == ["oldest"] for lk in permalink)
    # as of a time: the same offers, the as_of kept by every link
    at = permalink[0]["as_of"][0]
    status, page, _ = get(
        f"{web}/search?{urlencode({'q': 'magnitsky', 'within': 'custody', 'as_of': at})}"
    )
    assert status == 200
    # the operators work on the history index too
    then = api(web, q="english /p evasion", as_of=at, explain="1")
    assert then["historic"] and [h["id"] for h in then["hits"]] == [PRESS]
    _adds_up(then["hits"][0])
    assert api(web, q="=detained", as_of=at)["total"] == api(web, q="=detained")["total"]
    historic = [lk for lk in links(page) if "format" not in lk and "as_of" in lk]
    assert {lk.get("sort", ["relevance"])[0] for lk in historic} >= {
        "relevance",
        "newest",
        "oldest",
    }
    assert all(lk["within"] == ["custody"] for lk in historic if "within" in lk)
    # the export follows the search: the same documents in the same order
    status, body, headers = get(
        f"{web}/search?{urlencode({'q': 'magnitsky', 'within': 'custody', 'sort': 'oldest', 'format': 'csv'})}"
    )
    assert status == 200 and headers["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(body, newline="")))
    assert [r["id"] for r in rows] == [h["id"] for h in oldest["hits"]]


# -- why this result -------------------------------------------------------------------------------
def _adds_up(hit: dict[str, Any]) -> float:
    e = hit["explain"]
    total = sum(p["contribution"] for p in e["parts"])
    total += sum(st.get("contribution", 0.0) for st in e["steps"])
    assert abs(total - e["score"]) <= 1e-6 * max(1.0, e["score"]), (hit["id"], total, e)
    assert abs(e["score"] - hit["score"]) <= 1e-4
    return total


@pytest.mark.parametrize(
    "q",
    [
        "medical care",  # plain words: the proximity of typed words
        "magnitskiy custody",  # a press release and an article capped under the judgment
        '"pre-trial detention"',
        "english /p evasion",
        "charged NEAR/3 evasion",
        "=detained",
        "32631/09",
        "may a court try a person after his death",  # read as a sentence
        "sanction*",
        "magnitsky -canada",
    ],
)
def test_explanations_add_up_to_the_score(lib: Library, q: str) -> None:
    res = lib.search.search(q, explain=True, per_page=20).to_json()
    assert res["hits"]
    for hit in res["hits"]:
        _adds_up(hit)
        assert hit["explain"]["parts"]
        for p in hit["explain"]["passages"]:
            assert p["anchor"] in [x["anchor"] for x in hit["passages"]]
    assert lib.search.search(q).hits[0].explain is None


def test_explanation_names_each_step(lib: Library) -> None:
    plain = lib.search.search("medical care", explain=True).hits[0].explain
    near = [st for st in plain["steps"] if st["step"].startswith("typed words")]
    assert near and near[0]["factor"] > 1  # "medical care" stands as typed in the judgment
    capped = lib.search.search("magnitskiy custody", explain=True).to_json()["hits"]
    primary = [h for h in capped if h["genre"] == ""][0]
    about = [h for h in capped if h["genre"] and h["explain"]["steps"]]
    assert any(st["step"] == "primary document first" and st["change"] < 0
               for h in about for st in h["explain"]["steps"])  # fmt: skip
    assert all(h["score"] <= primary["score"] for h in about if h["id"] == PRESS)
    sentence = lib.search.search("may a court try a person after his death", explain=True).to_json()
    steps = {st["step"] for h in sentence["hits"] for st in h["explain"]["steps"]}
    assert "some of the words" in steps
    by_date = lib.search.search("magnitsky", explain=True, sort="newest").hits[0].explain
    assert "sorted newest" in by_date["ranked_on"]
    assert not by_date["steps"]


def test_a_term_part_is_bm25_of_its_numbers(lib: Library) -> None:
    """Each word's part is BM25 of the figures it shows (tf, idf, length, average length, B, K1,
    the field's and the query's weights), so the explanation can be checked by hand."""
    hits = lib.search.search("medical care", explain=True, per_page=20).to_json()["hits"]
    checked = 0
    for hit in hits:
        for p in hit["explain"]["parts"]:
            if p["kind"] != "word":
                continue
            tf = p["tf"] * p["field_weight"]
            norm = 1 - p["B"] + p["B"] * p["length"] / p["average_length"]
            bm25 = p["idf"] * tf * (p["K1"] + 1) / (tf + p["K1"] * norm) * p["query_weight"]
            assert bm25 == pytest.approx(p["score"], rel=0.01), p
            checked += 1
    assert checked >= 4


def test_why_this_result_on_the_page_and_in_the_api(web: str) -> None:
    status, page, _ = get(f"{web}/search?q=medical+care&sort=newest")
    assert status == 200
    whys = [
        unescape(h) for h in re.findall(r'<a href="([^"]+)" rel="nofollow">Why this result', page)
    ]
    assert whys and all("explain=1" in w and "sort=newest" in w and "#hit-" in w for w in whys)
    status, page, _ = get(f"{web}{whys[0]}")
    assert status == 200
    assert page.count('<details class="why" open>') == page.count('<li class="hit" id="hit-')
    assert "Why this result: score" in page and "Ranked on the document record" in page
    body = api(web, q="medical care", explain="1")
    for hit in body["hits"]:
        _adds_up(hit)
    assert all("explain" not in h for h in api(web, q="medical care")["hits"])


def test_the_command_line_searches_within_results_and_sorts(sample: Sample) -> None:
    import subprocess
    import sys

    args = [sys.executable, "-m", "magsearch.cli", "--data", str(sample.data_dir), "search"]
    run = subprocess.run(
        [*args, "--json", "--within", "custody", "--sort", "oldest", "magnitsky"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    body = json.loads(run.stdout)
    assert body["interpreted"] == "magnitsky AND custody" and body["sort"] == "oldest"
    dates = [h["date"] for h in body["hits"] if h["date"]]
    assert dates == sorted(dates) and dates
    bad = subprocess.run([*args, "--within", "a NEAR/0 b", "magnitsky"],
                         capture_output=True, text=True, timeout=120)  # fmt: skip
    assert bad.returncode == 2 and "NEAR/0" in bad.stderr and bad.stderr.count("\n") == 1


def test_a_sentence_reading_is_named(lib: Library) -> None:
    res = lib.search.search("may a court try a person after his death", explain=True).to_json()
    details = {st["detail"] for h in res["hits"] for st in h["explain"]["steps"]}
    assert any(d.startswith("the query read as a sentence: it has") for d in details)
