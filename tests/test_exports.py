"""Result lists exported as CSV, RIS, BibTeX and CSL-JSON, from the search page and the API, read
back by the parsers reference managers and spreadsheets use (the csv module, bibtexparser, rispy,
citeproc-py), against the search's own JSON answer over the real sample archive."""

from __future__ import annotations

import csv
import io
import json
import re
import warnings
from html import unescape
from typing import Any

import bibtexparser
import pytest
import rispy
from citeproc import (
    Citation,
    CitationItem,
    CitationStylesBibliography,
    CitationStylesStyle,
    formatter,
)
from citeproc.source.json import CiteProcJSON
from flask.testing import FlaskClient

from magsearch import exports
from magsearch.models import Document, Kind, Passage
from webfixtures import HOSTILE_ID, WITHDRAWN_ID

BASE = "http://localhost"


def expected(client: FlaskClient, query: str) -> list[tuple[str, str]]:
    """(id, best passage anchor) of every hit, in order, from the JSON search."""
    body = client.get(f"/api/search?{query}&per_page=100").json
    assert body["total"] <= 100
    return [(h["id"], h["passages"][0]["anchor"] if h["passages"] else "") for h in body["hits"]]


def parse_csv(text: str) -> list[dict[str, str]]:
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    assert rows == [] or list(rows[0]) == list(exports.CSV_COLUMNS)
    return rows


def parse_bibtex(text: str) -> list[tuple[str, str]]:
    lib = bibtexparser.parse_string(text)
    assert not lib.failed_blocks, lib.failed_blocks
    keys = [e.key for e in lib.entries]
    assert len(set(keys)) == len(keys)  # a reference manager keys entries by them
    return [(e.key, e.fields_dict["url"].value) for e in lib.entries]


def parse_csl(text: str) -> list[dict[str, Any]]:
    items = json.loads(text)
    with warnings.catch_warnings():  # citeproc-py reads no CSL `label` (the locator's kind)
        warnings.filterwarnings("ignore", message="The following arguments for Reference")
        source = CiteProcJSON(items)
    style = CitationStylesStyle("harvard-cite-them-right", validate=False)
    bib = CitationStylesBibliography(style, source, formatter.plain)
    for item in items:
        bib.register(Citation([CitationItem(item["id"])]))
    rendered = [str(entry) for entry in bib.bibliography()]
    assert len(rendered) == len(items) and all(rendered)
    return items


def split_url(url: str) -> tuple[str, str]:
    m = re.fullmatch(re.escape(BASE) + r"/d/([a-z0-9._-]+)(?:#(.*))?", url)
    assert m, url
    return m[1], m[2] or ""


@pytest.mark.parametrize("route", ["/search", "/api/search"])
def test_every_format_lists_the_hits_in_order_with_permalink_and_best_passage(
    client: FlaskClient, route: str
) -> None:
    query = "q=magnitsky+sanctions"
    want = expected(client, query)
    assert len(want) >= 5 and all(anchor for _, anchor in want)

    resp = client.get(f"{route}?{query}&format=csv")
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    assert resp.headers["Content-Disposition"] == 'attachment; filename="search.csv"'
    assert resp.headers["X-Result-Total"] == str(len(want))
    rows = parse_csv(resp.text)
    assert [(r["id"], r["anchor"]) for r in rows] == want
    assert [r["rank"] for r in rows] == [str(n) for n in range(1, len(want) + 1)]
    for r in rows:
        assert r["permalink"] == f"{BASE}/d/{r['id']}"
        assert r["passage_permalink"] == f"{BASE}/d/{r['id']}#{r['anchor']}"
        assert r["version_permalink"] == f"{BASE}/d/{r['id']}/v/{r['version']}"
        assert re.fullmatch(r"[0-9a-f]{64}", r["version"]) and r["citation"] and r["bluebook"]
    rows = parse_csv(client.get(f"{route}?q=magnitsky&format=csv").text)
    act = next(r for r in rows if r["anchor"].startswith("sec-"))  # an Act, at its section
    number = act["anchor"].removeprefix("sec-")
    assert number in act["pinpoint"] and f"§ {number}" in act["bluebook"]

    resp = client.get(f"{route}?{query}&format=ris")
    assert resp.mimetype == "application/x-research-info-systems"
    refs = rispy.loads(resp.text)
    assert [split_url(r["urls"][0]) for r in refs] == want
    assert all(r["title"] and r["type_of_reference"] for r in refs)
    assert any(n.startswith("Pinpoint: ") for r in refs for n in r["notes"])

    resp = client.get(f"{route}?{query}&format=bibtex")
    assert resp.mimetype == "application/x-bibtex"
    entries = parse_bibtex(resp.text)
    assert [split_url(url) for _, url in entries] == want

    resp = client.get(f"{route}?{query}&format=csl-json")
    assert resp.mimetype == "application/vnd.citationstyles.csl+json"
    items = parse_csl(resp.text)
    assert [(i["id"], split_url(i["URL"])[1]) for i in items] == want
    assert all(i["locator"] for i in items)


def test_the_api_also_answers_an_accept_header(client: FlaskClient) -> None:
    want = expected(client, "q=magnitsky")
    for media, parse in (
        ("text/csv", lambda t: [(r["id"], r["anchor"]) for r in parse_csv(t)]),
        ("application/x-research-info-systems", lambda t: [split_url(r["urls"][0]) for r in rispy.loads(t)]),
        ("application/x-bibtex", lambda t: [split_url(u) for _, u in parse_bibtex(t)]),
        ("application/vnd.citationstyles.csl+json", lambda t: [(i["id"], split_url(i["URL"])[1]) for i in parse_csl(t)]),
    ):  # fmt: skip
        resp = client.get("/api/search?q=magnitsky", headers={"Accept": media})
        assert resp.status_code == 200 and resp.mimetype == media, media
        assert parse(resp.text) == want, media
    # JSON stays the default, for browsers (*/*) and for clients that ask for it
    for accept in ("*/*", "application/json", "text/html,application/xhtml+xml,*/*;q=0.8"):
        resp = client.get("/api/search?q=magnitsky", headers={"Accept": accept})
        assert resp.mimetype == "application/json" and resp.json["hits"], accept
    assert client.get("/api/search?q=magnitsky&format=json").json["total"] == len(want)


def test_filters_sort_and_limit_are_kept(client: FlaskClient) -> None:
    query = "q=magnitsky&kind=legislation&sort=newest"
    want = expected(client, query)
    assert len(want) >= 3
    rows = parse_csv(client.get(f"/search?{query}&format=csv").text)
    assert [r["id"] for r in rows] == [i for i, _ in want]
    assert {r["kind"] for r in rows} == {"legislation"}
    dates = [r["date"] for r in rows]
    assert dates == sorted(dates, reverse=True)
    two = parse_csv(client.get(f"/search?{query}&format=csv&limit=2&page=3&per_page=1").text)
    assert [r["id"] for r in two] == [i for i, _ in want[:2]]  # the page is not the export's
    browse = parse_csv(client.get("/search?kind=ruling&format=csv").text)
    assert browse and {r["kind"] for r in browse} == {"ruling"}


def test_withdrawn_documents_are_not_exported(client: FlaskClient) -> None:
    for fmt in exports.FORMATS:
        resp = client.get(f"/api/search?q=quokka&format={fmt}")
        assert resp.status_code == 200 and WITHDRAWN_ID not in resp.text, fmt
    assert parse_csv(client.get("/api/search?q=quokka&format=csv").text) == []


def test_bad_formats_and_limits_are_one_line_400s(client: FlaskClient) -> None:
    for url, words in (
        ("/api/search?q=magnitsky&format=xls", "unknown export format 'xls'"),
        ("/api/search?q=magnitsky&format=csv&limit=1001", "limit must be between 1 and 1000"),
        ("/api/search?q=magnitsky&format=ris&limit=many", "limit must be a whole number"),
        ("/api/search?q=%22&format=csv", ""),
    ):
        resp = client.get(url)
        assert resp.status_code == 400 and resp.mimetype == "application/json", url
        assert words in resp.json["message"] and "\n" not in resp.json["message"], url
    page = client.get("/search?q=magnitsky&format=docx")
    assert page.status_code == 400 and "unknown export format" in page.text


def test_the_search_page_links_each_format_keeping_query_filters_and_sort(
    client: FlaskClient,
) -> None:
    html = client.get("/search?q=magnitsky&kind=legislation&sort=oldest&per_page=2").text
    links = {
        m[2]: unescape(m[1])
        for m in re.finditer(r'href="([^"]*format=([a-z-]+)[^"]*)" download', html)
    }
    assert set(links) == set(exports.FORMATS)
    for fmt, link in links.items():
        assert "q=magnitsky" in link and "kind=legislation" in link and "sort=oldest" in link
        assert "per_page" not in link and "page=" not in link, link
        resp = client.get(link)
        assert resp.status_code == 200 and resp.mimetype == exports.MEDIA_TYPES[fmt].split(";")[0]
    rows = parse_csv(client.get(links["csv"]).text)
    want = expected(client, "q=magnitsky&kind=legislation&sort=oldest")
    assert [r["id"] for r in rows] == [i for i, _ in want]


def test_hostile_metadata_stays_data_in_every_format(client: FlaskClient) -> None:
    rows = parse_csv(client.get("/api/search?q=zebra&format=csv").text)
    assert [r["id"] for r in rows] == [HOSTILE_ID]
    assert rows[0]["title"] == "<script>alert('title')</script> Zebra & <b>hostile</b> title"
    assert parse_bibtex(client.get("/api/search?q=zebra&format=bibtex").text)[0][0] == "hostile_doc"
    assert rispy.loads(client.get("/api/search?q=zebra&format=ris").text)[0]["authors"] == [
        "<img src=x onerror=alert('author')>",
        'Eve "Quote" O\'Hara',
    ]
    assert parse_csl(client.get("/api/search?q=zebra&format=csl-json").text)[0]["id"] == HOSTILE_ID


def test_formulas_never_run_in_a_spreadsheet_and_keys_stay_unique() -> None:
    docs = [
        Document(id="a.b", kind=Kind.ARTICLE, title='=HYPERLINK("http://evil.example","x")'),
        Document(id="a-b", kind=Kind.ARTICLE, title="+1 and @SUM(A1)"),
        Document(id="a_b", kind=Kind.ARTICLE, title="-2"),
    ]
    passage = Passage(seq=1, anchor="para-4", label="§ 4", text="x")
    entries = [exports.Entry(d, "0" * 64, passage) for d in docs]

    def links(e: exports.Entry) -> exports.Links:
        return exports.Links(f"u/{e.doc.id}", f"v/{e.doc.id}", f"u/{e.doc.id}#para-4")

    rows = parse_csv(exports.export(entries, "csv", links))
    assert [r["title"][0] for r in rows] == ["'", "'", "'"]
    assert rows[0]["title"] == "'" + docs[0].title
    lib = bibtexparser.parse_string(exports.export(entries, "bibtex", links))
    assert [e.key for e in lib.entries] == ["a_b", "a_b_2", "a_b_3"]
    with pytest.raises(ValueError, match="unknown export format"):
        exports.export(entries, "xml", links)
