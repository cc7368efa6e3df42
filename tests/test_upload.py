"""Uploads and ingest jobs: the JSON API with tokens and the upload page with a session, over a real
archive, the real pipeline and the in-process job runner; and a concurrent run on gunicorn."""

from __future__ import annotations

import io
import json
import re
import threading
import time
import urllib.error
import urllib.request
import uuid
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from jsonschema import Draft202012Validator

from magsearch.accounts import Accounts
from magsearch.config import Settings
from magsearch.library import open_library
from magsearch.web import create_app
from webfixtures import check_page, serve_with_gunicorn

PASSWORD = "correct horse battery"


def html_doc(title: str, words: str) -> bytes:
    return (
        f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{title}</title></head>"
        f"<body><h1>{title}</h1><p>1. {words}</p><p>2. A second paragraph on sanctions.</p>"
        "</body></html>"
    ).encode()


@dataclass
class Site:
    settings: Settings
    archivist: str
    other: str
    admin: str
    disabled: str


def make_site(data: Path, **changes: Any) -> Site:
    settings = replace(Settings().with_data_dir(data), workers=2, **changes)
    lib = open_library(settings)
    try:
        acc = Accounts(lib.archive)
        tokens = []
        for name, role in (("alice", "archivist"), ("bob", "archivist"), ("root", "admin")):
            acc.add_user(name, role, PASSWORD, actor="test")
            tokens.append(acc.create_token(name, actor="test")[1])
        acc.add_user("gone", "archivist", PASSWORD, actor="test")
        disabled = acc.create_token("gone", actor="test")[1]
        acc.set_disabled("gone", True, actor="test")
    finally:
        lib.close()
    return Site(settings, *tokens, disabled)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Site:
    return make_site(tmp_path_factory.mktemp("upload") / "data", max_file_mb=1)


@pytest.fixture(scope="module")
def app(site: Site) -> Iterator[Flask]:
    app = create_app(site.settings, {"TESTING": True})
    yield app
    app.extensions["magsearch"].close()


@pytest.fixture(scope="module")
def spec(app: Flask) -> dict[str, Any]:
    return app.test_client().get("/api/openapi.json").json


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def post(client: FlaskClient, token: str | None, name: str, data: bytes, **form: str) -> Any:
    headers = bearer(token) if token else {}
    prefer = form.pop("prefer", "")
    if prefer:
        headers["Prefer"] = prefer
    body, ctype = multipart(name, data, **form)  # bytes: the test client spools no temp file
    return client.post("/api/documents", data=body, headers=headers, content_type=ctype)


def valid(spec: dict[str, Any], path: str, method: str, status: int, body: Any) -> None:
    op = spec["paths"][path][method]["responses"][str(status)]
    schema = op["content"]["application/json"]["schema"]
    validator = Draft202012Validator({**schema, "components": spec["components"]})
    errors = list(validator.iter_errors(body))
    assert not errors, [e.message for e in errors[:3]]


def test_201_once_stored_and_searchable(app: Flask, site: Site, spec: dict) -> None:
    client = app.test_client()
    meta = {"title": "Upload test on wombat sanctions", "date": "2024-03-01"}
    resp = post(
        client, site.archivist, "wombat.html", html_doc("x", "wombat"), metadata=json.dumps(meta)
    )
    assert resp.status_code == 201, resp.json
    valid(spec, "/api/documents", "post", 201, resp.json)
    body = resp.json
    assert body["status"] == "ingested" and body["path"] == "wombat.html" and body["error"] is None
    assert resp.headers["Location"].endswith(f"/d/{body['id']}")
    hits = client.get("/api/search?q=wombat").json["hits"]
    assert [h["id"] for h in hits] == [body["id"]] and hits[0]["title"] == meta["title"]
    # the same bytes again: unchanged, the same document
    again = post(client, site.other, "copy.html", html_doc("x", "wombat"))
    assert again.status_code == 201 and again.json["status"] == "unchanged"
    assert again.json["id"] == body["id"]
    # the same file, edited, uploaded again by the same account: a new version of its document
    edited = post(client, site.archivist, "wombat.html", html_doc("x", "wombat, edited"))
    assert edited.status_code == 201, edited.json
    assert (edited.json["status"], edited.json["id"]) == ("new-version", body["id"])
    with app.app_context():
        from magsearch.web.auth import accounts

        log = accounts().audit_log(20, action="ingest")
    assert {(r["actor"], r["detail"]["status"]) for r in log} >= {
        ("alice (token)", "ingested"),
        ("bob (token)", "unchanged"),
    }


def test_202_with_a_job_to_follow(app: Flask, site: Site, spec: dict) -> None:
    client = app.test_client()
    resp = post(
        client, site.archivist, "numbat.txt", b"A note on the numbat.\n", prefer="respond-async"
    )
    assert resp.status_code == 202, resp.json
    valid(spec, "/api/documents", "post", 202, resp.json)
    job_url = resp.headers["Location"]
    assert job_url.endswith(f"/api/jobs/{resp.json['job']}")
    path = "/api/jobs/" + resp.json["job"]
    deadline = time.monotonic() + 120
    while (job := client.get(path, headers=bearer(site.archivist)).json)["state"] not in (
        "done",
        "failed",
    ):
        assert time.monotonic() < deadline, job
        time.sleep(0.2)
    valid(spec, "/api/jobs/{job_id}", "get", 200, job)
    assert job["state"] == "done" and job["files"][0]["result"]["status"] == "ingested"
    assert client.get(path).status_code == 401  # jobs are for archivists
    assert client.get("/api/search?q=numbat").json["total"] == 1


@pytest.mark.parametrize(
    ("name", "data", "status", "message"),
    [
        ("big.txt", b"x " * 600_000, 413, "big.txt: file too large (1.2 MB > 1 MB)"),
        ("doc.zip", b"", 415, "doc.zip: unsupported format (ZIP archive)"),
        ("image.png", b"\x89PNG\r\n\x1a\n" + bytes(200), 415, "image.png: unsupported format"),
        ("empty.txt", b"", 422, "empty.txt: empty file"),
        ("broken.pdf", b"%PDF-1.7\n" + bytes(range(256)) * 8, 422, "broken.pdf: damaged PDF"),
    ],
)
def test_refused_uploads_say_why_in_one_line(
    app: Flask, site: Site, spec: dict, name: str, data: bytes, status: int, message: str
) -> None:
    if name == "doc.zip":
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as z:
            z.writestr("a.txt", "hello")
        data = buf.getvalue()
    client = app.test_client()
    resp = post(client, site.archivist, name, data)
    assert resp.status_code == status, resp.json
    valid(spec, "/api/documents", "post", status, resp.json)
    assert resp.json["message"].startswith(message), resp.json
    assert "\n" not in resp.json["message"]


def test_encrypted_pdf_is_422(app: Flask, site: Site, corpus: Path) -> None:
    found = sorted(corpus.rglob("*user-password*.pdf")) + sorted(corpus.rglob("*encrypted*.pdf"))
    if not found:
        pytest.skip("no encrypted PDF in the corpus")
    client = app.test_client()
    for path in found[:3]:
        resp = post(client, site.archivist, path.name, path.read_bytes())
        if resp.status_code == 201:
            continue  # readable with an empty password (as a viewer would open it)
        assert resp.status_code == 422 and "encrypted" in resp.json["message"], resp.json
        return
    pytest.skip("every encrypted PDF of the corpus opens with an empty password")


def test_credentials_and_bad_metadata(app: Flask, site: Site) -> None:
    client = app.test_client()
    doc = html_doc("t", "quoll")
    assert post(client, None, "a.html", doc).status_code == 401
    assert post(client, site.disabled, "a.html", doc).status_code == 401
    assert post(client, "msk_nonsense", "a.html", doc).status_code == 401
    bad = post(client, site.archivist, "a.html", doc, metadata='{"date": "yesterday"}')
    assert bad.status_code == 400 and "field 'date'" in bad.json["message"]
    bad = post(client, site.archivist, "a.html", doc, metadata="{not json")
    assert bad.status_code == 400 and "metadata: not valid JSON" in bad.json["message"]
    # a signed-in browser's cookie is no credential for the API (no CSRF there)
    browser = signed_in(app)
    assert (
        browser.post("/api/documents", data={"file": (io.BytesIO(doc), "a.html")}).status_code
        == 401
    )
    assert client.get("/api/search?q=quoll").json["total"] == 0  # nothing stored


def test_restricted_upload_is_never_public(app: Flask, site: Site) -> None:
    client = app.test_client()
    resp = post(client, site.archivist, "s.html", html_doc("Secret", "bilby"), restricted="true")
    assert resp.status_code == 201
    doc_id = resp.json["id"]
    assert client.get("/api/search?q=bilby").json["total"] == 0
    assert client.get(f"/api/documents/{doc_id}").status_code == 404
    seen = client.get(f"/api/documents/{doc_id}", headers=bearer(site.archivist))
    assert seen.status_code == 200 and seen.json["document"]["restricted"] is True
    assert client.get("/api/search?q=bilby", headers=bearer(site.other)).json["total"] == 1


def signed_in(app: Flask, name: str = "alice") -> FlaskClient:
    client = app.test_client()
    client.environ_base["wsgi.url_scheme"] = "https"
    page = client.get("/login").text
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)[1]
    assert (
        client.post(
            "/login", data={"name": name, "password": PASSWORD, "csrf_token": token}
        ).status_code
        == 302
    )
    return client


def wait_job(client: FlaskClient, url: str) -> dict[str, Any]:
    deadline = time.monotonic() + 120
    while (job := client.get(url, headers={"Accept": "application/json"}).json)["state"] in (
        "queued",
        "running",
    ):
        assert time.monotonic() < deadline, job
        time.sleep(0.2)
    return job


def test_upload_page_two_files_a_job_and_a_retry(app: Flask) -> None:
    anon = app.test_client()
    assert anon.get("/upload").status_code == 302  # to /login
    client = signed_in(app)
    page = client.get("/upload")
    assert page.status_code == 200
    check_page(page.text)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text)[1]

    def files() -> list[tuple[io.BytesIO, str]]:
        return [
            (io.BytesIO(html_doc("One", "dugong")), "one.html"),
            (io.BytesIO(b"%PDF-1.4\n" + bytes(range(256)) * 4), "two.pdf"),
        ]

    form = {"files": files(), "kind": "article", "court": "Upload Court", "csrf_token": token}
    # without the CSRF token the form is refused
    assert client.post("/upload", data={"files": files()}).status_code == 400
    resp = client.post("/upload", data=form, content_type="multipart/form-data")
    assert resp.status_code == 303
    job_url = resp.headers["Location"]
    job = wait_job(client, job_url)
    assert job["state"] == "failed"
    one, two = job["files"]
    assert one["status"] == "done" and one["result"]["kind"] == "article"
    assert two["status"] == "failed" and "damaged PDF" in two["result"]["error"]
    html = client.get(job_url).text
    check_page(html)
    assert "Done, with failures" in html and "Failed: damaged PDF" in html
    doc = anon.get(f"/api/documents/{one['result']['id']}").json["document"]
    assert doc["court"] == "Upload Court" and doc["kind"] == "article"
    # retry the failed file from the page: it runs again (and fails again, for the same reason)
    retry = re.search(r'action="([^"]+/files/2/retry)"', html)[1]
    assert client.post(retry, data={"csrf_token": token}).status_code == 303
    again = wait_job(client, job_url)
    assert again["files"][1]["status"] == "failed"
    with app.app_context():
        from magsearch.web.auth import accounts

        log = accounts().audit_log(50)
    mine = [r for r in log if job["id"] in (r["target"], r["detail"].get("job"))]
    steps = [(r["action"], r["detail"].get("file")) for r in mine]
    assert steps[:2] == [("ingest", "two.pdf"), ("retry", 2)]
    assert sorted(steps[2:4]) == [("ingest", "one.html"), ("ingest", "two.pdf")]
    assert steps[4:] == [("upload", None)]
    assert {r["actor"] for r in mine} == {"alice"}


# -- concurrency, on gunicorn ---------------------------------------------------------------------
def http(url: str, *, data: bytes | None = None, headers: dict[str, str] | None = None) -> Any:
    req = urllib.request.Request(url, data=data, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


def multipart(name: str, data: bytes, **fields: str) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
        for k, v in fields.items()
    ]
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    body = b"".join(parts) + head + data + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


@pytest.mark.slow
def test_two_uploaders_and_a_reader_at_once(tmp_path: Path) -> None:
    site = make_site(tmp_path / "data")
    per_user = 4
    statuses: list[int] = []
    errors: list[str] = []
    searches = 0
    stop = threading.Event()
    with serve_with_gunicorn(site.settings.data_dir, tmp_path / "log", workers=2) as base:

        def uploader(token: str, tag: str) -> None:
            for n in range(per_user):
                body, ctype = multipart(
                    f"{tag}{n}.html", html_doc(f"{tag} {n}", f"kowari {tag}{n}")
                )
                headers = {**bearer(token), "Content-Type": ctype, "Prefer": "respond-async"}
                status, answer = http(f"{base}/api/documents", data=body, headers=headers)
                statuses.append(status)
                if status != 202:
                    errors.append(f"{tag}{n}: {status} {answer}")

        def reader() -> None:
            nonlocal searches
            while not stop.is_set():
                status, answer = http(f"{base}/api/search?q=kowari")
                searches += 1
                if status != 200:
                    errors.append(f"search: {status} {answer}")

        threads = [
            threading.Thread(target=uploader, args=(site.archivist, "alice")),
            threading.Thread(target=uploader, args=(site.other, "bob")),
        ]
        watcher = threading.Thread(target=reader)
        watcher.start()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        deadline = time.monotonic() + 180
        while True:
            status, answer = http(f"{base}/api/search?q=kowari&per_page=100")
            if status == 200 and answer["total"] == 2 * per_user:
                break
            assert time.monotonic() < deadline, answer
            time.sleep(0.5)
        stop.set()
        watcher.join()
    assert not errors, errors
    assert statuses == [202] * (2 * per_user) and searches > 0
    lib = open_library(site.settings, sync=False)
    try:
        docs = lib.archive.documents()
        shas = [v.sha256 for d in docs for v in lib.archive.versions(d.id)]
        assert len(docs) == 2 * per_user and len(shas) == len(set(shas)) == 2 * per_user
        rows = lib.archive.db.execute("SELECT state, COUNT(*) FROM jobs GROUP BY state").fetchall()
        assert {tuple(r) for r in rows} == {("done", 2 * per_user)}
        assert lib.archive.verify() == []
    finally:
        lib.close()
