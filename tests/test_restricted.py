"""Restricted and withdrawn documents leave no trace for those who may not see them.

A real archive (the bundled collection, by the real pipeline) plus:
- two restricted documents sharing a word no other document has (W), a court and a year of their
  own, an identifier public documents cite, a citation of the ECHR judgment, and the text of a
  public article (so "more like this" of that article would find them). One is restricted before
  its bytes are ingested (as an upload marked restricted is), the other after.
- two documents sharing another unique word (Y), withdrawn after it was shown to be suggested.

As an anonymous reader, every read route is asked; W, the ids and the hashes never appear, and where
a route echoes what it was asked (a search for W, the page of a restricted id) the answer is the one
for a word or id that never existed. As a signed-in archivist the same routes show them, marked —
which shows the checks could fail.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from magsearch import curation
from magsearch.accounts import Accounts
from magsearch.archive import now_iso, sha256_bytes
from magsearch.config import Settings
from magsearch.ingest.pipeline import Ingester, find_files
from magsearch.library import open_library
from magsearch.web import create_app
from webfixtures import BUNDLED, RULING_ID, check_page

W = "zanthoxylum"  # only in the restricted documents
W_TYPO = "zanthoxylom"
W_CONTROL = "quenchbloat"  # same length as W, in no document
Y = "pteridomania"  # only in the withdrawn documents
Y_TYPO = "pteridomanio"
RESTRICTED = ("sealed-note-a", "sealed-note-b")
WITHDRAWN = ("withered-a", "withered-b")
ABSENT = ("sealed-note-x", "sealed-note-y")  # same length, never existed
ARTICLE = "article-magnitsky-laws-after-strasbourg"
COURT = "Tribunal of the Zanthoxylum Quarry"
PASSWORD = "correct horse battery"


@dataclass
class Built:
    settings: Settings
    shas: list[str]
    token_archivist: str
    token_admin: str
    suggested_before_withdrawal: str


def _doc(folder: Path, doc_id: str, body: str, sidecar: dict) -> Path:
    path = folder / f"{doc_id}.html"
    path.write_text(body, encoding="utf-8")
    (folder / f"{doc_id}.html.meta.json").write_text(json.dumps(sidecar), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    root = tmp_path_factory.mktemp("restricted")
    settings = Settings().with_data_dir(root / "data")
    lib = open_library(settings)
    try:
        ingester = Ingester(lib.archive, lib.index, settings)
        assert not [r for r in ingester.run(find_files([BUNDLED])) if r.status == "failed"]
        article = (BUNDLED / "magnitsky-laws-after-strasbourg.html").read_text(encoding="utf-8")
        extra = root / "extra"
        extra.mkdir()
        paths = []
        for n, doc_id in enumerate(RESTRICTED):
            body = article.replace(
                "</body>",
                f"<p>{n + 1}. The {W} memorandum cites no. 32631/09 and Pub. L. 112-208 "
                f"({doc_id}).</p></body>",
            )
            sidecar = {
                "id": doc_id,
                "kind": "article",
                "title": f"Sealed {W} memorandum {n + 1}",
                "court": COURT,
                "date": "1901-02-03",
                "identifiers": ["Pub. L. 112-208"],
            }
            paths.append(_doc(extra, doc_id, body, sidecar))
        # the first is restricted before its bytes go in, as an upload marked restricted is
        lib.archive.restrict_upload(sha256_bytes(paths[0].read_bytes()))
        results = ingester.run(paths)
        assert [r.status for r in results] == ["ingested", "ingested"], results
        curation.set_restricted(lib, RESTRICTED[1], True, actor="test")
        for doc_id in WITHDRAWN:
            body = f"<html><body><p>1. A {Y} note, to be withdrawn ({doc_id}).</p></body></html>"
            path = _doc(extra, doc_id, body, {"id": doc_id, "kind": "article", "title": doc_id})
            assert ingester.run([path])[0].status == "ingested"
        before = lib.search.search(Y_TYPO).suggestion
        for doc_id in WITHDRAWN:
            curation.withdraw(lib, doc_id, "a test of withdrawal", actor="test")
        shas = [lib.archive.get_document(d).current_version for d in RESTRICTED]
        acc = Accounts(lib.archive)
        acc.add_user("alice", "archivist", PASSWORD, actor="test")
        acc.add_user("root", "admin", PASSWORD, actor="test")
        archivist = acc.create_token("alice", actor="test")[1]
        admin = acc.create_token("root", actor="test")[1]
    finally:
        lib.close()
    return Built(settings, shas, archivist, admin, before)


@pytest.fixture(scope="module")
def app(built: Built) -> Iterator[Flask]:
    app = create_app(built.settings, {"TESTING": True})
    yield app
    app.extensions["magsearch"].close()


@pytest.fixture
def anon(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def archivist(app: Flask) -> FlaskClient:
    client = app.test_client()
    client.environ_base["wsgi.url_scheme"] = "https"
    page = client.get("/login").text
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)[1]
    resp = client.post("/login", data={"name": "alice", "password": PASSWORD, "csrf_token": token})
    assert resp.status_code == 302
    return client


def read_routes(built: Built) -> list[str]:
    """Every read route, asked about the public documents around the restricted ones."""
    q = f"{W_TYPO}"
    t = now_iso()  # after the restricted documents went in: searches as of then
    return [
        f"/search?q=memorandum&as_of={t}",
        f"/search?year=1901&as_of={t}",
        f"/api/search?q=zanth*&as_of={t}",
        f"/api/search?q=magnitsky&per_page=100&as_of={t}",
        f"/api/search?q=Pub.+L.+112-208&as_of={t}&format=csv",
        f"/search?q=magnitsky&court=Tribunal&as_of={t}&format=bibtex",
        "/",
        "/search?q=magnitsky",
        "/search?q=memorandum",
        f"/search?q={q}",
        "/search?kind=article",
        "/search?year=1901",
        "/search?q=Pub.+L.+112-208",
        "/search?q=zanth*",
        "/search?q=zanthoxylun~1",
        "/search?q=32631/09&sort=newest",
        "/search?q=court:tribunal",
        "/search?q=magnitsky&court=Tribunal",
        "/api/search?q=magnitsky&per_page=100",
        f"/api/search?q={q}",
        "/api/search?q=Pub.+L.+112-208&per_page=100",
        "/api/search?kind=article&per_page=100",
        "/feed.atom",
        "/search.atom?q=memorandum",
        "/search.atom?q=magnitsky",
        f"/d/{ARTICLE}",  # more like this
        f"/d/{RULING_ID}",  # cited by
        "/d/us-magnitsky-act-2012",  # cited by, via the shared identifier
        "/d/ca-magnitsky-law-2017",
        f"/api/documents/{ARTICLE}",
        f"/api/documents/{RULING_ID}",
        "/api/documents/us-magnitsky-act-2012",
        f"/d/{RULING_ID}/cite?format=csl-json",
        # exports of result lists, every format, from the page and the API
        "/search?q=magnitsky&format=csv",
        "/search?q=memorandum&format=ris",
        "/search?kind=article&format=bibtex",
        "/search?year=1901&format=csl-json",
        "/api/search?q=Pub.+L.+112-208&format=csv",
        "/api/search?q=32631/09&sort=newest&format=bibtex",
        "/api/search?q=zanth*&format=ris",
        "/api/search?q=magnitsky&court=Tribunal&format=csl-json",
    ]


SECRETS = (W, "sealed", COURT.lower(), *RESTRICTED)


def assert_no_trace(body: str, built: Built, url: str) -> None:
    low = body.lower()
    for secret in (*SECRETS, *built.shas):
        assert secret not in low, f"{url} shows {secret!r}"


def test_anonymous_readers_see_no_trace_anywhere(anon: FlaskClient, built: Built) -> None:
    for url in read_routes(built):
        resp = anon.get(url)
        assert resp.status_code == 200, (url, resp.status_code)
        assert_no_trace(resp.text, built, url)
        if resp.mimetype == "text/html":
            check_page(resp.text)
    facets = anon.get("/api/search?q=magnitsky").json["facets"]
    assert "1901" not in facets["year"] and COURT not in facets["court"]


def test_the_same_routes_show_them_to_an_archivist_marked(
    archivist: FlaskClient, built: Built
) -> None:
    """The other side of the leak test: signed in, the same routes do show them."""
    body = archivist.get(f"/api/search?q={W}").json
    assert {h["id"] for h in body["hits"]} == set(RESTRICTED) and body["total"] == 2
    assert all(h["restricted"] for h in body["hits"])
    assert archivist.get(f"/api/search?q={W_TYPO}").json["suggestion"] == W
    page = archivist.get(f"/search?q={W}").text
    assert page.count('class="restricted-mark"') == 2
    check_page(page)
    assert set(RESTRICTED) <= set(
        re.findall(r"/d/([a-z0-9.-]+)\"", archivist.get(f"/d/{ARTICLE}").text)
    )
    cited_by = {
        link["doc_id"] for link in archivist.get(f"/api/documents/{RULING_ID}").json["cited_by"]
    }
    assert set(RESTRICTED) <= cited_by
    doc = archivist.get(f"/d/{RESTRICTED[0]}")
    assert doc.status_code == 200 and "Only signed-in archivists see this document" in doc.text
    check_page(doc.text)
    assert archivist.get(f"/d/{RESTRICTED[1]}/original").status_code == 200
    assert archivist.get("/").text.count('class="restricted-mark"') == 2
    facets = archivist.get("/api/search?q=magnitsky").json["facets"]
    assert facets["year"].get("1901") == 2 and facets["court"].get(COURT) == 2
    for fmt in ("csv", "ris", "bibtex", "csl-json"):
        export = archivist.get(f"/api/search?q={W}&format={fmt}")
        assert export.status_code == 200 and all(d in export.text for d in RESTRICTED), fmt
    then = archivist.get(f"/api/search?q={W}&as_of={now_iso()}").json
    assert {h["id"] for h in then["hits"]} == set(RESTRICTED) and then["historic"]


def untimed(text: str) -> str:
    """A page without the time its permalink carries (two requests may straddle a second)."""
    return re.sub(r"\d{4}-\d\d-\d\d[T ]\d\d(?::|%3A)\d\d(?::|%3A)\d\d(?:Z| UTC)", "TIME", text)


def test_searches_for_the_word_answer_as_for_a_word_that_never_existed(
    anon: FlaskClient, built: Built
) -> None:
    t = now_iso()
    for template in (
        "/api/search?q={}",
        "/search?q={}",
        "/api/search?q={}+OR+magnitsky&per_page=100",
        "/api/search?q=title:{}",
        "/api/search?q={}*",
        "/search.atom?q={}",
        "/api/search?q=magnitsky&court={}",
        "/search?q={}&format=csv",
        "/api/search?q={}+OR+magnitsky&format=bibtex",
        "/api/search?q=title:{}&format=ris",
        "/search?q={}*&format=csl-json",
        "/search?q={}&as_of={t}",
        "/api/search?q={}+OR+magnitsky&as_of={t}",
        "/api/search?q={}&as_of={t}&format=csv",
    ):
        secret = anon.get(template.format(W, t=t))
        control = anon.get(template.format(W_CONTROL, t=t))
        assert secret.status_code == control.status_code, template
        assert untimed(secret.text) == untimed(control.text).replace(W_CONTROL, W), template
    # the misspelling of a word only restricted documents hold is not corrected to it
    assert anon.get(f"/api/search?q={W_TYPO}").json["suggestion"] == ""


def test_restricted_ids_answer_404_like_ids_that_never_existed(
    anon: FlaskClient, built: Built
) -> None:
    sha, absent_sha = built.shas[0], "0" * 64
    for template in (
        "/d/{}",
        "/d/{}/original",
        "/d/{}/v/{sha}",
        "/d/{}/v/{sha}/original",
        "/d/{}/cite",
        "/d/{}/cite?format=bibtex",
        "/d/{}/anchor/p-1",
        "/api/documents/{}",
        "/api/documents/{}/versions/{sha}",
    ):
        for doc_id, absent in zip(RESTRICTED, ABSENT, strict=True):
            secret = anon.get(template.format(doc_id, sha=sha))
            control = anon.get(template.format(absent, sha=absent_sha))
            assert secret.status_code == control.status_code == 404, template
            expected = control.text.replace(absent, doc_id).replace(absent_sha, sha)
            assert secret.text == expected, template


def test_withdrawn_documents_leave_search_suggestions_feeds_and_cited_by(
    anon: FlaskClient, archivist: FlaskClient, built: Built
) -> None:
    assert built.suggested_before_withdrawal == Y  # the word was suggested before
    for client in (anon, archivist):
        assert client.get(f"/api/search?q={Y}").json["total"] == 0
        assert client.get(f"/api/search?q={Y_TYPO}").json["suggestion"] == ""
        assert Y not in client.get("/feed.atom").text
        resp = client.get(f"/d/{WITHDRAWN[0]}")
        assert resp.status_code == 410 and "a test of withdrawal" in resp.text
        assert WITHDRAWN[0] in resp.text  # the citation is kept
        check_page(resp.text)
        api = client.get(f"/api/documents/{WITHDRAWN[1]}")
        assert api.status_code == 410 and api.json["reason"] == "a test of withdrawal"


def test_write_api_needs_a_token_of_the_right_role(app: Flask, built: Built) -> None:
    client = app.test_client()
    url = f"/api/documents/{ARTICLE}/withdraw"
    resp = client.post(url, json={"reason": "x"})
    assert resp.status_code == 401 and resp.headers["WWW-Authenticate"].startswith("Bearer")
    bad = {"Authorization": "Bearer msk_000000000000_" + "A" * 43}
    assert client.post(url, json={"reason": "x"}, headers=bad).status_code == 401
    archivist = {"Authorization": f"Bearer {built.token_archivist}"}
    admin = {"Authorization": f"Bearer {built.token_admin}"}
    resp = client.post(url, json={}, headers=archivist)
    assert resp.status_code == 400 and "reason is required" in resp.json["message"]
    resp = client.post(url, json={"reason": "duplicate of another"}, headers=archivist)
    assert resp.status_code == 200 and resp.json["withdrawn"] == "duplicate of another"
    assert client.get(f"/d/{ARTICLE}").status_code == 410
    assert client.get("/api/search?q=strasbourg").json["hits"] == [] or all(
        h["id"] != ARTICLE for h in client.get("/api/search?q=strasbourg").json["hits"]
    )
    restore = f"/api/documents/{ARTICLE}/restore"
    assert client.post(restore, headers=archivist).status_code == 403
    resp = client.post(restore, headers=admin)
    assert resp.status_code == 200 and resp.json["withdrawn"] == ""
    assert client.get(f"/d/{ARTICLE}").status_code == 200
    assert ARTICLE in {h["id"] for h in client.get("/api/search?q=strasbourg").json["hits"]}
    with app.app_context():
        from magsearch.web.auth import accounts

        log = accounts().audit_log(10, target=ARTICLE)
    assert [(r["actor"], r["action"]) for r in log[:2]] == [
        ("root (token)", "restore"),
        ("alice (token)", "withdraw"),
    ]


def test_withdraw_and_restrict_buttons_post_with_csrf(
    app: Flask, archivist: FlaskClient, anon: FlaskClient
) -> None:
    page = archivist.get(f"/d/{ARTICLE}").text
    assert f'action="/d/{ARTICLE}/withdraw"' in page
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)[1]
    # without its CSRF token a form post is refused, signed in or not
    assert archivist.post(f"/d/{ARTICLE}/restrict", data={"restricted": "1"}).status_code == 400
    resp = anon.post(f"/d/{ARTICLE}/restrict", data={"restricted": "1"})
    assert resp.status_code in (302, 400)
    resp = archivist.post(f"/d/{ARTICLE}/restrict", data={"restricted": "1", "csrf_token": token})
    assert resp.status_code == 303
    assert anon.get(f"/d/{ARTICLE}").status_code == 404
    assert "restricted-mark" in archivist.get(f"/d/{ARTICLE}").text
    resp = archivist.post(f"/d/{ARTICLE}/restrict", data={"restricted": "0", "csrf_token": token})
    assert resp.status_code == 303 and anon.get(f"/d/{ARTICLE}").status_code == 200
