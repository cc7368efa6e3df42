"""The server as deployed: `gunicorn wsgi:app` from the virtualenv, MAGSEARCH_DATA pointing at a
real archive, queried over real HTTP on 127.0.0.1, then stopped."""

from __future__ import annotations

import hashlib
import json
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from webfixtures import RULING_ID, WITHDRAWN_ID, Sample, sample_archive, serve_with_gunicorn

GUNICORN = Path(sys.executable).with_name("gunicorn")

pytestmark = pytest.mark.skipif(
    not GUNICORN.exists(), reason=f"gunicorn is not installed at {GUNICORN}"
)


def fetch(url: str) -> tuple[int, dict[str, str], bytes]:
    try:
        with urllib.request.urlopen(url, timeout=20) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as exc:
        body = exc.read()
        exc.close()
        return exc.code, dict(exc.headers), body


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    sample: Sample = sample_archive(tmp_path_factory)
    log = tmp_path_factory.mktemp("gunicorn") / "gunicorn.log"
    with serve_with_gunicorn(sample.data_dir, log) as base:
        yield base


def test_search_over_http(server: str) -> None:
    status, headers, body = fetch(f"{server}/search?q=medical+care")
    assert status == 200 and b'href="/d/echr-magnitskiy-2019#para-' in body
    assert headers["Content-Security-Policy"].startswith("default-src 'self'")
    status, headers, body = fetch(f"{server}/api/search?q=32631%2F09")
    assert status == 200 and headers["Content-Type"] == "application/json"
    assert json.loads(body)["hits"][0]["id"] == RULING_ID


def test_documents_and_errors_over_http(server: str) -> None:
    status, _, body = fetch(f"{server}/d/{RULING_ID}")
    assert status == 200 and b'id="para-31"' in body
    status, headers, body = fetch(f"{server}/d/{RULING_ID}/original")
    assert status == 200 and body.startswith(b"%PDF")
    assert headers["ETag"] == f'"{hashlib.sha256(body).hexdigest()}"'
    assert fetch(f"{server}/d/no-such-doc")[0] == 404
    assert fetch(f"{server}/d/{WITHDRAWN_ID}")[0] == 410
    assert fetch(f"{server}/api/search?q=care&page=0")[0] == 400
    assert fetch(f"{server}/d/..%2f..%2fetc%2fpasswd")[0] == 404


def test_many_requests_across_workers(server: str) -> None:
    """Each worker opens its own library; a burst of searches gets answers from both, no errors."""
    for i in range(40):
        q = ("magnitsky", "sanctions", "detention", "32631/09")[i % 4]
        status, _, _ = fetch(f"{server}/api/search?q={urllib.request.quote(q)}&page={1 + i % 2}")
        assert status == 200
