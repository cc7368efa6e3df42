"""Links written with the public URL whatever the Host header; trusted hosts; rate limits on search
and sign-in, in one process and shared by gunicorn workers through a real redis-server."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from flask import Flask

from magsearch.web import create_app
from webfixtures import RULING_ID, Sample, free_port, serve_with_gunicorn

PUBLIC = "https://archive.example.org"
EVIL = {"Host": "evil.example"}


@pytest.fixture(scope="module")
def public_app(sample: Sample) -> Iterator[Flask]:
    app = create_app(replace(sample.settings, public_url=PUBLIC, search_rate_limit="off"))
    yield app
    app.extensions["magsearch"].close()


@pytest.mark.parametrize(
    "path",
    [f"/d/{RULING_ID}", "/feed.atom", "/search.atom?q=magnitsky", "/api/openapi.json",
     f"/api/documents/{RULING_ID}", "/search?q=magnitsky", f"/d/{RULING_ID}/cite"],
)  # fmt: skip
def test_links_use_the_public_url_not_the_host_header(public_app: Flask, path: str) -> None:
    res = public_app.test_client().get(path, headers=EVIL)
    assert res.status_code == 200
    body = res.get_data(as_text=True)
    assert "evil.example" not in body
    if path.startswith(f"/d/{RULING_ID}") and not path.endswith("cite"):
        assert f'<link rel="canonical" href="{PUBLIC}/d/{RULING_ID}">' in body
    if path == "/api/openapi.json":
        assert json.loads(body)["servers"] == [{"url": PUBLIC}]
    if path.endswith(".atom?q=magnitsky") or path == "/feed.atom":
        assert f"{PUBLIC}/d/" in body


def test_a_public_url_with_a_path(sample: Sample) -> None:
    app = create_app(replace(sample.settings, public_url="http://example.org:8080/archive/"))
    res = app.test_client().get(f"/d/{RULING_ID}", headers=EVIL)
    body = res.get_data(as_text=True)
    assert f'<link rel="canonical" href="http://example.org:8080/archive/d/{RULING_ID}">' in body
    app.extensions["magsearch"].close()


def test_a_malformed_public_url_is_named(sample: Sample) -> None:
    with pytest.raises(ValueError, match="MAGSEARCH_PUBLIC_URL 'archive.example.org'"):
        create_app(replace(sample.settings, public_url="archive.example.org"))


def test_unknown_hosts_are_refused_when_trusted_hosts_are_set(
    sample: Sample, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MAGSEARCH_TRUSTED_HOSTS", "archive.example.org, localhost")
    app = create_app(replace(sample.settings, public_url=PUBLIC))
    client = app.test_client()
    assert client.get(f"/d/{RULING_ID}", headers=EVIL).status_code == 400
    assert client.get(f"/api/documents/{RULING_ID}", headers=EVIL).status_code == 400
    ok = client.get(f"/d/{RULING_ID}", headers={"Host": "archive.example.org"})
    assert ok.status_code == 200
    app.extensions["magsearch"].close()


def test_search_is_rate_limited_with_429_and_retry_after(sample: Sample) -> None:
    app = create_app(replace(sample.settings, search_rate_limit="5 per minute"))
    client = app.test_client()
    paths = ["/api/search?q=magnitsky", "/search?q=detention", "/search.atom?q=court"] * 3
    codes = [client.get(p).status_code for p in paths]
    assert codes == [200] * 5 + [429] * 4  # one budget for the page, the feed and the API
    res = client.get("/api/search?q=magnitsky")
    assert res.status_code == 429
    assert 0 < int(res.headers["Retry-After"]) <= 60
    message = res.get_json()["message"]
    assert "too many requests" in message and "\n" not in message
    page = client.get("/search?q=magnitsky")
    assert page.status_code == 429 and "too many requests" in page.get_data(as_text=True)
    assert client.get(f"/d/{RULING_ID}").status_code == 200  # document pages are not limited
    other = app.test_client()
    other.environ_base["REMOTE_ADDR"] = "192.0.2.7"  # another client has its own budget
    assert other.get("/api/search?q=magnitsky").status_code == 200
    app.extensions["magsearch"].close()


def test_sign_in_posts_are_rate_limited(sample: Sample) -> None:
    app = create_app(
        replace(sample.settings, sign_in_rate_limit="3 per minute"), {"WTF_CSRF_ENABLED": False}
    )
    client = app.test_client()
    # empty forms (400, never a failed sign-in): only the rate limit can answer 429
    assert [client.post("/login").status_code for _ in range(5)] == [400] * 3 + [429] * 2
    assert client.get("/login").status_code == 200  # the form itself is not limited
    app.extensions["magsearch"].close()


@pytest.fixture
def redis_url(tmp_path: Path) -> Iterator[str]:
    server = shutil.which("redis-server")
    if server is None:
        pytest.skip("redis-server is not installed (make test installs it when run as root)")
    port = free_port()
    proc = subprocess.Popen(
        [server, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(tmp_path),
         "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        import redis

        client = redis.Redis(host="127.0.0.1", port=port)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                assert time.monotonic() < deadline, "redis-server did not answer"
                time.sleep(0.1)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _status(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=30) as r:
            return r.status, ""
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Retry-After", "")


@pytest.mark.slow
def test_gunicorn_workers_share_the_limit_through_redis(
    sample: Sample, redis_url: str, tmp_path: Path
) -> None:
    env = {"MAGSEARCH_REDIS_URL": redis_url, "MAGSEARCH_SEARCH_RATE_LIMIT": "10 per minute"}
    with serve_with_gunicorn(sample.data_dir, tmp_path / "gunicorn.log", 2, env) as base:
        answers = [_status(f"{base}/api/search?q=magnitsky") for _ in range(30)]
    codes = Counter(code for code, _ in answers)
    assert codes == {200: 10, 429: 20}, codes  # each worker alone would have let 20 through
    assert all(retry.isdigit() for code, retry in answers if code == 429)


def test_magsearch_serve_writes_links_with_its_own_address(sample: Sample, tmp_path: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "MAGSEARCH_PUBLIC_URL"}
    magsearch = Path(sys.executable).with_name("magsearch")
    args = [str(magsearch), "--data", str(sample.data_dir), "serve", "--port", str(port)]
    with (tmp_path / "serve.log").open("wb") as log:
        proc = subprocess.Popen(args, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                req = urllib.request.Request(
                    f"http://127.0.0.1:{port}/d/{RULING_ID}", headers={"Host": "evil.example"}
                )
                with urllib.request.urlopen(req, timeout=5) as r:
                    page = r.read().decode()
                break
            except OSError:
                assert proc.poll() is None and time.monotonic() < deadline, (
                    tmp_path / "serve.log"
                ).read_text()
                time.sleep(0.2)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    assert f'<link rel="canonical" href="http://127.0.0.1:{port}/d/{RULING_ID}">' in page
