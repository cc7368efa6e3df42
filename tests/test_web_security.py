"""Hostile input through the web: injected markup in documents, sidecars and queries; path tricks
in ids; huge and junk parameters; bad percent-encoding. Never a 500, never unescaped markup."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from magsearch.web.common import safe_snippet
from webfixtures import (
    HOSTILE_ID,
    RULING_ID,
    check_page,
)


def fetch(client: FlaskClient, url: str) -> tuple[int, str]:
    r = client.get(url)
    text = r.get_data(as_text=True)
    r.close()
    assert r.status_code < 500, (url, r.status_code, text[:300])
    if r.mimetype == "text/html":
        check_page(text)
    return r.status_code, text


# -- injected markup in what was ingested ------------------------------------------------------
@pytest.mark.parametrize(
    "url",
    [
        f"/d/{HOSTILE_ID}",
        f"/d/{HOSTILE_ID}/cite",
        "/search?q=zebra",
        "/search?q=zebra&sort=newest",
        "/",
        f"/d/{RULING_ID}",  # cited by the hostile document: its title is shown there
    ],
)
def test_stored_markup_is_escaped(client: FlaskClient, url: str) -> None:
    status, page = fetch(client, url)
    assert status == 200
    assert "&lt;script&gt;alert(&#39;title&#39;)&lt;/script&gt;" in page or "zebra" not in url


def test_hostile_document_page_in_detail(client: FlaskClient) -> None:
    _, page = fetch(client, f"/d/{HOSTILE_ID}")
    assert "&lt;img src=x onerror=alert(&#39;author&#39;)&gt;" in page  # sidecar author
    assert (
        "&lt;/mark&gt;&lt;script&gt;alert(&#39;publisher&#39;)&lt;/script&gt;" in page
    )  # publisher
    assert "&lt;script&gt;alert(&#34;text&#34;)&lt;/script&gt;" in page  # document text
    # the source URL is an attribute: quoted and escaped, so it cannot break out
    assert (
        'href="https://example.org/?q=&lt;script&gt;alert(&#39;url&#39;)&lt;/script&gt;&amp;x=&#34;y&#34;"'
        in page
    )
    # meta tags carry the title escaped
    assert '<meta name="citation_title" content="&lt;script&gt;' in page
    assert "alert('script-tag')" not in page  # the <script> element of the HTML was never text


def test_passage_citation_page_escapes_the_passage(client: FlaskClient) -> None:
    anchors = [p["anchor"] for p in client.get(f"/api/documents/{HOSTILE_ID}").json["passages"]]
    _, page = fetch(client, f"/d/{HOSTILE_ID}/cite?anchor={anchors[0]}")
    assert "&lt;script&gt;alert(&#34;text&#34;)&lt;/script&gt;" in page


def test_snippets_only_ever_contain_mark(client: FlaskClient) -> None:
    _, page = fetch(client, "/search?q=zebra")
    snippets = page.split('<p class="snippet">')[1:]
    assert snippets
    for s in snippets:
        body = s.split("</p>", 1)[0]
        stripped = body.replace("<mark>", "").replace("</mark>", "")
        assert "<" not in stripped and ">" not in stripped, body


def test_api_returns_the_text_as_data(client: FlaskClient) -> None:
    r = client.get(f"/api/documents/{HOSTILE_ID}")
    assert r.status_code == 200 and r.mimetype == "application/json"
    assert r.json["document"]["title"].startswith("<script>")  # data, not markup: JSON + nosniff
    assert r.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize(
    ("snippet", "expected"),
    [
        ("a <mark>b</mark> c", "a <mark>b</mark> c"),
        ("<script>x</script>", "&lt;script&gt;x&lt;/script&gt;"),
        ("&lt;b&gt; <mark>ok</mark>", "&lt;b&gt; <mark>ok</mark>"),
        ("<mark onclick=x>b</mark>", "&lt;mark onclick=x&gt;b</mark>"),
        ("", ""),
    ],
)
def test_safe_snippet(snippet: str, expected: str) -> None:
    assert str(safe_snippet(snippet)) == expected


# -- injected markup in queries ----------------------------------------------------------------
@pytest.mark.parametrize(
    "q",
    [
        "<script>alert(1)</script>",
        '"><img src=x onerror=alert(1)>',
        "zebra <script>alert(1)</script>",
        "</mark><script>alert(1)</script>",
    ],
)
def test_queries_are_escaped(client: FlaskClient, q: str) -> None:
    from urllib.parse import quote

    status, page = fetch(client, f"/search?q={quote(q)}")
    assert status in (200, 400)
    assert q not in page
    status, feed = fetch(client, f"/search.atom?q={quote(q)}")
    assert status in (200, 400) and q not in feed


# -- ids, versions and paths -------------------------------------------------------------------
@pytest.mark.parametrize(
    "url",
    [
        "/d/..%2f..%2fetc%2fpasswd",
        "/d/../../etc/passwd",
        "/d/%2e%2e",
        "/d/..",
        "/d/.hidden",
        "/d/a%00b",
        "/d/%00",
        "/d/echr-magnitskiy-2019%00",
        "/d//etc/passwd",
        "/d/ECHR-MAGNITSKIY-2019",
        "/d/" + "a" * 65,
        "/d/a%20b",
        "/d/%3Cscript%3E",
        "/d/echr-magnitskiy-2019/v/..%2f..%2fcatalog.sqlite3",
        "/d/echr-magnitskiy-2019/v/" + "g" * 64,
        "/d/echr-magnitskiy-2019/v/" + "a" * 63,
        "/d/echr-magnitskiy-2019/v/" + "A" * 64,
        "/d/echr-magnitskiy-2019/v/%00/original",
        "/d/echr-magnitskiy-2019/anchor/..%2f..",
        "/d/echr-magnitskiy-2019/anchor/%00",
        "/d/echr-magnitskiy-2019/cite?anchor=%00&format=bibtex",
        "/d/echr-magnitskiy-2019/cite?version=%00",
        "/static/../wsgi.py",
        "/static/..%2f..%2fcite.py",
        "/api/documents/..%2fx",
        "/api/documents/a%00b",
        "/api/documents/echr-magnitskiy-2019/versions/..",
        "/api/documents/echr-magnitskiy-2019/versions/" + "0" * 64,
        "/api/nope",
    ],
)
def test_bad_ids_are_not_found(client: FlaskClient, url: str) -> None:
    status, body = fetch(client, url)
    assert status == 404, (url, status)
    if url.startswith("/api/"):
        assert body.startswith("{") and '"status":404' in body.replace(" ", "")


# -- parameters --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "query",
    [
        "q=care&page=-1",
        "q=care&page=0",
        "q=care&page=1000000000",
        "q=care&page=" + "9" * 5000,
        "q=care&page=abc",
        "q=care&page=1.5",
        "q=care&per_page=1000000",
        "q=care&per_page=0",
        "q=care&sort=sideways",
        "q=care&kind=" + "&kind=".join(["x"] * 500),
        "q=care&year=abcd",
        "q=" + "a" * 100_000,
        "q=" + "+".join(["w"] * 5000),
        "q=care%00",
    ],
)
def test_bad_parameters_are_400(client: FlaskClient, query: str) -> None:
    status, page = fetch(client, f"/search?{query}")
    assert status == 400, (query[:80], status)
    r = client.get(f"/api/search?{query}")
    assert r.status_code == 400 and r.json["status"] == 400 and r.json["message"]


@pytest.mark.parametrize(
    "q",
    [
        "((((",
        '"unterminated',
        "title:",
        "[a TO z]",
        "*a*",
        "a*",
        "AND",
        "-",
        "~",
        "OR OR",
        "\u202e",
        "Магнитский",
        "\U0001f600",
    ],
)
def test_junk_queries_never_fail(client: FlaskClient, q: str) -> None:
    from urllib.parse import quote

    status, _ = fetch(client, f"/search?q={quote(q)}")
    assert status in (200, 400)
    assert client.get(f"/api/search?q={quote(q)}").status_code in (200, 400)


@pytest.mark.parametrize(
    "url",
    [
        "/search?q=%E0%A4%A",
        "/search?q=%ff%fe%fd",
        "/search?q=%",
        "/search?q=%zz",
        "/search?kind=%ff&q=care",
        "/d/%ff%fe",
        "/d/%",
        "/api/search?q=%C0%AF",
        "/search.atom?q=%ff",
    ],
)
def test_bad_percent_encoding(client: FlaskClient, url: str) -> None:
    status, _ = fetch(client, url)
    assert status in (200, 400, 404)
