"""Editing metadata: PATCH /api/documents/<id> and /d/<id>/edit. Every edit is recorded (who, when,
before, after); search, facets and citations follow at once; edits outlive new versions."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from magsearch.accounts import Accounts
from magsearch.config import Settings
from magsearch.ingest.pipeline import Ingester, find_files
from magsearch.library import open_library
from magsearch.web import create_app
from webfixtures import BUNDLED, check_page

PASSWORD = "correct horse battery"
ACT = "us-magnitsky-act-2012"  # carries Pub. L. 112-208, which other documents cite
ARTICLE = "article-magnitsky-laws-after-strasbourg"


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, str]:
    settings = Settings().with_data_dir(tmp_path_factory.mktemp("edit") / "data")
    lib = open_library(settings)
    try:
        assert not [
            r
            for r in Ingester(lib.archive, lib.index, settings).run(find_files([BUNDLED]))
            if r.status == "failed"
        ]
        acc = Accounts(lib.archive)
        acc.add_user("alice", "archivist", PASSWORD, actor="test")
        token = acc.create_token("alice", actor="test")[1]
    finally:
        lib.close()
    return settings, token


@pytest.fixture(scope="module")
def app(setup: tuple[Settings, str]) -> Iterator[Flask]:
    app = create_app(setup[0], {"TESTING": True})
    yield app
    app.extensions["magsearch"].close()


def patch(client: FlaskClient, token: str | None, doc_id: str, body: object) -> object:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return client.patch(f"/api/documents/{doc_id}", json=body, headers=headers)


def test_patch_title_court_and_identifiers_follow_at_once(
    app: Flask, setup: tuple[Settings, str]
) -> None:
    client, token = app.test_client(), setup[1]
    assert client.get("/api/search?q=platypus").json["total"] == 0
    resp = patch(
        client, token, ARTICLE, {"title": "The platypus memorandum", "court": "Court of Platypus"}
    )
    assert resp.status_code == 200, resp.json
    assert resp.json["changed"]["title"]["after"] == "The platypus memorandum"
    assert resp.json["history"][0]["actor"] == "alice (token)"
    hits = client.get("/api/search?q=platypus").json
    assert [h["id"] for h in hits["hits"]] == [ARTICLE]
    assert hits["facets"]["court"] == {"Court of Platypus": 1}
    assert client.get(f"/d/{ARTICLE}").text.count("The platypus memorandum") >= 1

    cited_by = client.get(f"/api/documents/{ACT}").json["cited_by"]
    assert cited_by, "the Act is cited by other documents"
    before = client.get(f"/api/documents/{ACT}").json["document"]["identifiers"]
    resp = patch(client, token, ACT, {"identifiers": []})
    assert resp.status_code == 200
    assert client.get(f"/api/documents/{ACT}").json["cited_by"] == []
    assert patch(client, token, ACT, {"identifiers": before}).status_code == 200
    assert client.get(f"/api/documents/{ACT}").json["cited_by"] == cited_by

    with app.app_context():
        from magsearch.web.auth import accounts

        edits = accounts().audit_log(10, action="edit", target=ARTICLE)
    assert edits[0]["detail"]["title"]["before"] != "The platypus memorandum"
    assert edits[0]["detail"]["court"] == {"before": "", "after": "Court of Platypus"}


def test_bad_edits_say_which_field(app: Flask, setup: tuple[Settings, str]) -> None:
    client, token = app.test_client(), setup[1]
    for body, message in [
        ({"date": "last week"}, "field 'date'"),
        ({"id": "other"}, "field 'id' cannot be edited"),
        ({"colour": "red"}, "unknown field 'colour'"),
        ({"title": ""}, "field 'title'"),
        ({"restricted": "yes"}, "field 'restricted'"),
        (["title"], "JSON object"),
    ]:
        resp = patch(client, token, ARTICLE, body)
        assert resp.status_code == 400 and message in resp.json["message"], (body, resp.json)
    assert patch(client, None, ARTICLE, {"title": "x"}).status_code == 401
    assert patch(client, token, "no-such-doc", {"title": "x"}).status_code == 404


def test_edit_page_with_history_and_restriction(app: Flask, setup: tuple[Settings, str]) -> None:
    client = app.test_client()
    client.environ_base["wsgi.url_scheme"] = "https"
    login = client.get("/login").text
    csrf = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', login)[1]
    client.post("/login", data={"name": "alice", "password": PASSWORD, "csrf_token": csrf})
    page = client.get(f"/d/{ARTICLE}/edit")
    assert page.status_code == 200
    check_page(page.text)
    form = {
        "csrf_token": csrf,
        "title": "The wallaby memorandum",
        "kind": "article",
        "date": "2021",
        "identifiers": "",
        "authors": "A. Author; B. Author",
        "restricted": "1",
    }
    assert client.post(f"/d/{ARTICLE}/edit", data={**form, "csrf_token": ""}).status_code == 400
    resp = client.post(f"/d/{ARTICLE}/edit", data={**form, "date": "soon"})
    assert resp.status_code == 400 and "field &#39;date&#39;" in resp.text
    resp = client.post(f"/d/{ARTICLE}/edit", data=form)
    assert resp.status_code == 303
    doc = client.get(f"/d/{ARTICLE}")
    check_page(doc.text)
    assert "History of edits" in doc.text and "The wallaby memorandum" in doc.text
    assert "restricted-mark" in doc.text
    anon = app.test_client()
    assert anon.get(f"/d/{ARTICLE}").status_code == 404
    assert anon.get("/api/search?q=wallaby").json["total"] == 0
    api = client.get(f"/api/documents/{ARTICLE}")  # a session is no API credential for writes,
    assert api.status_code == 200  # but reads as the signed-in archivist
    history = client.get(f"/d/{ARTICLE}/edit").text
    assert history.count("<tr><td><time") >= 5  # title, date, authors, ... (and the API's edits)
    edit_form = {**form, "restricted": ""}
    del edit_form["restricted"]
    assert client.post(f"/d/{ARTICLE}/edit", data=edit_form).status_code == 303
    assert anon.get(f"/d/{ARTICLE}").status_code == 200


def test_edits_outlive_a_new_version(
    app: Flask, setup: tuple[Settings, str], tmp_path: Path
) -> None:
    settings, token = setup
    client = app.test_client()
    assert (
        patch(client, token, "eu-regulation-2020-1998", {"title": "Curated title"}).status_code
        == 200
    )
    folder = tmp_path / "v2"
    folder.mkdir()
    original = BUNDLED / "eu-regulation-2020-1998.html"
    changed = original.read_text(encoding="utf-8").replace("</body>", "<p>Added later.</p></body>")
    (folder / original.name).write_text(changed, encoding="utf-8")
    shutil.copy(BUNDLED / f"{original.name}.meta.json", folder)
    out = subprocess.run(
        [sys.executable, "-m", "magsearch.cli", "--data", str(settings.data_dir), "ingest", "--json", str(folder)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout.splitlines()[0])["status"] == "new-version"
    doc = client.get("/api/documents/eu-regulation-2020-1998").json
    assert doc["document"]["title"] == "Curated title" and len(doc["versions"]) == 2
    assert [h["id"] for h in client.get("/api/search?q=title:curated").json["hits"]] == [
        "eu-regulation-2020-1998"
    ]
