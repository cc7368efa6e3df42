"""A real archive for the web tests, built once per test process by the real ingest pipeline:

- the bundled collection in archive/ (PDFs, HTML, sidecars);
- a second version of us-global-magnitsky-act-2016 (its § 1265 dropped, one sentence reworded), so
  pinned versions and anchors that moved to an older version can be tested;
- a hostile document: <script> in its HTML, its text, its title and its sidecar fields;
- a withdrawn document (its citation kept).

Other test modules import `sample_archive(tmp_path_factory)`; the first call builds it.
"""

from __future__ import annotations

import json
import re
import shutil
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from magsearch.config import Settings
from magsearch.index.sync import index_documents
from magsearch.ingest.pipeline import Ingester, find_files
from magsearch.library import open_library
from magsearch.web import create_app

REPO = Path(__file__).resolve().parent.parent
BUNDLED = REPO / "archive"
ARTIFACTS = REPO / "test-artifacts"

AMENDED_ID = "us-global-magnitsky-act-2016"
VANISHED_ANCHOR = "sec-1265"  # only in the first version of AMENDED_ID
HOSTILE_ID = "hostile-doc"
WITHDRAWN_ID = "withdrawn-doc"
RULING_ID = "echr-magnitskiy-2019"

HOSTILE_HTML = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title><script>alert('head-title')</script>Hostile page</title>
<script>alert('script-tag')</script></head>
<body><article>
<h1>A page that tries to inject <script>alert('h1')</script></h1>
<p>1. Quarantined zebra text: the literal string
&lt;script&gt;alert("text")&lt;/script&gt; must stay text, and so must
&lt;img src=x onerror=alert(1)&gt; and &lt;/mark&gt;&lt;b&gt;bold&lt;/b&gt;.</p>
<p onclick="alert('attr')">2. A second zebra paragraph citing no. 32631/09 and Pub. L. 112-208.</p>
<p><a href="javascript:alert('href')">3. A javascript link</a> in zebra country.</p>
</article></body></html>
"""
HOSTILE_SIDECAR = {
    "id": HOSTILE_ID,
    "kind": "article",
    "title": "<script>alert('title')</script> Zebra & <b>hostile</b> title",
    "authors": ["<img src=x onerror=alert('author')>", 'Eve "Quote" O\'Hara'],
    "publisher": "</mark><script>alert('publisher')</script>",
    "source_url": "https://example.org/?q=<script>alert('url')</script>&x=\"y\"",
    "date": "2024-05-01",
}
WITHDRAWN_HTML = """<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<title>Withdrawn note</title></head><body><p>1. A note on quokka sanctions, withdrawn later.</p>
</body></html>
"""
WITHDRAWN_SIDECAR = {
    "id": WITHDRAWN_ID,
    "kind": "article",
    "title": "A withdrawn note on quokka sanctions",
    "authors": ["Wanda Withdrawn"],
    "date": "2021-01-01",
}


@dataclass(frozen=True)
class Sample:
    data_dir: Path
    settings: Settings
    first_version: str  # AMENDED_ID's first version (has VANISHED_ANCHOR)
    second_version: str  # AMENDED_ID's current version


_BUILT: dict[str, Sample] = {}


def sample_archive(tmp_path_factory: pytest.TempPathFactory) -> Sample:
    if "sample" not in _BUILT:
        _BUILT["sample"] = build_sample(tmp_path_factory.mktemp("web-sample"))
    return _BUILT["sample"]


def _write(folder: Path, name: str, text: str, sidecar: dict[str, Any]) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    (folder / f"{name}.meta.json").write_text(json.dumps(sidecar), encoding="utf-8")
    return path


def build_sample(root: Path) -> Sample:
    settings = Settings().with_data_dir(root / "data")
    lib = open_library(settings)
    try:
        ingester = Ingester(lib.archive, lib.index, settings)
        results = ingester.run(find_files([BUNDLED]))
        failed = [r for r in results if r.status == "failed"]
        assert not failed, f"the bundled collection did not ingest: {failed}"
        first = lib.archive.get_document(AMENDED_ID).current_version

        extra = root / "extra"
        extra.mkdir()
        original = (BUNDLED / f"{AMENDED_ID}.html").read_text(encoding="utf-8")
        start = original.index('<section id="sec-1265">')
        end = original.index("</section>", start) + len("</section>")
        amended = original[:start] + original[end:]
        amended = amended.replace(
            "The report is submitted in unclassified form",
            "As amended in this second version, the report is submitted in unclassified form",
        )
        assert amended != original
        sidecar = json.loads((BUNDLED / f"{AMENDED_ID}.html.meta.json").read_text(encoding="utf-8"))
        files = [
            _write(extra, f"{AMENDED_ID}.html", amended, sidecar),
            _write(extra, "hostile.html", HOSTILE_HTML, HOSTILE_SIDECAR),
            _write(extra, "withdrawn.html", WITHDRAWN_HTML, WITHDRAWN_SIDECAR),
        ]
        results = ingester.run(files)
        statuses = {r.id: r.status for r in results}
        expected = {AMENDED_ID: "new-version", HOSTILE_ID: "ingested", WITHDRAWN_ID: "ingested"}
        assert statuses == expected, results
        lib.archive.withdraw(WITHDRAWN_ID, "superseded by a corrected note")
        index_documents(lib.archive, lib.index, [WITHDRAWN_ID])
        second = lib.archive.get_document(AMENDED_ID).current_version
        assert second != first
    finally:
        lib.close()
    return Sample(root / "data", settings, first, second)


# -- a real HTTP server in a thread ---------------------------------------------------------------
def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serve_with_gunicorn(
    data_dir: Path, log: Path, workers: int = 2, env: dict[str, str] | None = None
) -> Iterator[str]:
    """`gunicorn wsgi:app` from the virtualenv, as deployed, on 127.0.0.1 and a free port, with
    MAGSEARCH_DATA=data_dir and its own address as MAGSEARCH_PUBLIC_URL (search not rate-limited
    unless `env` says otherwise); yields the base URL once it answers, and stops it cleanly after.
    (A server in its own process: what it leaks or logs cannot leak into the test process.)"""
    import os
    import signal
    import subprocess
    import sys
    import time
    import urllib.request

    port = free_port()
    env = {
        **os.environ,
        "MAGSEARCH_DATA": str(data_dir),
        "MAGSEARCH_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "MAGSEARCH_SEARCH_RATE_LIMIT": "off",
        "PYTHONUNBUFFERED": "1",
        **(env or {}),
    }
    gunicorn = Path(sys.executable).with_name("gunicorn")
    args = [str(gunicorn), "--bind", f"127.0.0.1:{port}", "--workers", str(workers),
            "--timeout", "30", "--graceful-timeout", "5", "wsgi:app"]  # fmt: skip
    with log.open("wb") as out:
        proc = subprocess.Popen(args, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{base}/static/style.css", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            assert proc.poll() is None, f"gunicorn exited: {log.read_text()[-2000:]}"
            assert time.monotonic() < deadline, (
                f"gunicorn did not answer: {log.read_text()[-2000:]}"
            )
            time.sleep(0.2)
        yield base
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, log.read_text()[-2000:]
    assert "Traceback" not in log.read_text(), log.read_text()[-2000:]


def copy_tree(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst


# -- checks every HTML page must pass --------------------------------------------------------------
class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.ids: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self.ids += [v for k, v in attrs if k == "id" and v]


def check_page(html: str) -> _Tags:
    """No inline script or style, no event handler or javascript: URL, no raw injected markup,
    unique ids, one <main>, a <title>, labelled inputs."""
    parser = _Tags()
    parser.feed(html)
    for tag, attrs in parser.tags:
        assert tag != "style", "inline <style>"
        assert "style" not in attrs, f"inline style on <{tag}>"
        assert not any(k.startswith("on") for k in attrs), f"event handler on <{tag}>: {attrs}"
        for key in ("href", "src", "action"):
            assert not (attrs.get(key) or "").strip().lower().startswith("javascript:"), attrs
        if tag == "script":
            assert attrs.get("src", "").startswith("/static/"), f"inline or foreign script: {attrs}"
        if tag in ("link", "img") and attrs.get("href", attrs.get("src", "")):
            target = attrs.get("href") or attrs.get("src") or ""
            if attrs.get("rel") in ("stylesheet", "icon") or tag == "img":
                assert target.startswith("/static/"), f"external resource: {attrs}"
    lowered = html.lower()
    for raw in ("<script>alert", "<img src=x", "<b>hostile", "</mark><script"):
        assert raw not in lowered, f"unescaped {raw!r} in page"
    assert len(parser.ids) == len(set(parser.ids)), "duplicate ids"
    assert sum(1 for t, _ in parser.tags if t == "main") == 1
    assert "<title>" in html and "</title>" in html
    headings = [t for t, _ in parser.tags if re.fullmatch(r"h[1-6]", t)]
    assert headings[:1] == ["h1"] and headings.count("h1") == 1, f"headings: {headings[:5]}"
    labelled = {a.get("for") for t, a in parser.tags if t == "label"}
    for tag, attrs in parser.tags:
        if tag == "input" and attrs.get("type") not in ("hidden", "submit"):
            assert attrs.get("id") in labelled or attrs.get("aria-label"), f"unlabelled {attrs}"
    return parser


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Sample:
    return sample_archive(tmp_path_factory)


@pytest.fixture(scope="module")
def app(sample: Sample) -> Iterator[Flask]:
    # the test client's host as the public URL; the rate limits have tests of their own
    settings = replace(sample.settings, public_url="http://localhost", search_rate_limit="off")
    app = create_app(settings, {"TESTING": True})
    yield app
    app.extensions["magsearch"].close()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()
