"""Accounts, tokens, sign-in and the audit log: the CLI and the web over a real catalog."""

from __future__ import annotations

import re
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient

from magsearch.accounts import SIGNIN_MAX_FAILURES, Accounts
from magsearch.cli import cli
from magsearch.config import Settings
from magsearch.library import open_library
from magsearch.web import create_app
from webfixtures import check_page

PASSWORD = "correct horse battery"


def run(data: Path, *args: str, password: str = PASSWORD) -> tuple[int, str, str]:
    result = CliRunner().invoke(
        cli, ["--data", str(data), *args], env={"MAGSEARCH_PASSWORD": password}
    )
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def data(tmp_path: Path) -> Path:
    return tmp_path / "data"


def test_user_and_token_commands_are_audited_and_keep_no_secret(data: Path) -> None:
    assert run(data, "user", "add", "alice", "--role", "archivist")[0] == 0
    assert run(data, "user", "add", "root", "--role", "admin")[0] == 0
    code, _, err = run(data, "user", "add", "alice", "--role", "admin")
    assert code == 2 and "already exists" in err
    code, _, err = run(data, "user", "add", "bob", "--role", "archivist", password="short")
    assert code == 2 and "password too short" in err
    code, _, err = run(data, "user", "add", "Bad Name", "--role", "archivist")
    assert code == 2 and "user name" in err
    code, _, err = run(data, "user", "add", "carol", "--role", "owner")
    assert code == 2

    code, out, _ = run(data, "user", "list")
    assert code == 0
    assert re.search(r"^alice\s+archivist\s+active", out, re.M)
    assert re.search(r"^root\s+admin\s+active", out, re.M)

    code, token, err = run(data, "token", "create", "alice")
    assert code == 0 and "shown once" in err
    token = token.strip()
    m = re.fullmatch(r"msk_([a-z0-9]{12})_[A-Za-z0-9_-]{43}", token)
    assert m, token
    secret = token.rsplit("_", 1)[1]
    catalog = (data / "catalog.sqlite3").read_bytes() + b"".join(
        p.read_bytes() for p in data.glob("catalog.sqlite3-*")
    )
    assert secret.encode() not in catalog and token.encode() not in catalog

    lib = open_library(Settings().with_data_dir(data), sync=False)
    try:
        acc = Accounts(lib.archive)
        assert acc.user_for_token(token).name == "alice"
        assert acc.user_for_token(token[:-1] + ("A" if token[-1] != "A" else "B")) is None
        code, out, _ = run(data, "token", "list")
        assert m[1] in out and "active" in out and secret not in out
        assert run(data, "token", "revoke", m[1])[0] == 0
        assert acc.user_for_token(token) is None
        assert run(data, "token", "revoke", m[1])[0] == 1  # already revoked

        code, token2, _ = run(data, "token", "create", "alice")
        assert acc.user_for_token(token2.strip()).name == "alice"
        assert run(data, "user", "disable", "alice")[0] == 0
        assert acc.user_for_token(token2.strip()) is None  # a disabled user's tokens stop
        assert acc.authenticate("alice", PASSWORD) is None
        assert acc.authenticate("root", PASSWORD).role == "admin"
        assert run(data, "user", "disable", "nobody")[0] == 1
    finally:
        lib.close()

    code, out, _ = run(data, "audit", "--limit", "100")
    assert code == 0
    actions = [line.split()[2] for line in out.splitlines()]
    assert actions == [
        "user-disable", "token-create", "token-revoke", "token-create", "user-add", "user-add",
    ]  # fmt: skip
    assert all(line.split()[1].startswith("cli:") for line in out.splitlines())
    code, out, _ = run(data, "audit", "--action", "user-add", "--json")
    assert [line.count('"action": "user-add"') for line in out.splitlines()] == [1, 1]


def test_secret_key_is_generated_once_with_mode_0600(data: Path, monkeypatch) -> None:
    monkeypatch.delenv("MAGSEARCH_SECRET_KEY", raising=False)
    monkeypatch.delenv("SECRET_KEY", raising=False)
    first = create_app(Settings().with_data_dir(data))
    key_file = data / "secret_key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    second = create_app(Settings().with_data_dir(data))
    assert first.secret_key == second.secret_key and len(first.secret_key) >= 32
    monkeypatch.setenv("MAGSEARCH_SECRET_KEY", "x" * 40)
    assert create_app(Settings().with_data_dir(data)).secret_key == "x" * 40


# -- the web -----------------------------------------------------------------------------------------
@pytest.fixture
def app(data: Path) -> Iterator[Flask]:
    assert run(data, "user", "add", "alice", "--role", "archivist")[0] == 0
    assert run(data, "user", "add", "root", "--role", "admin")[0] == 0
    app = create_app(Settings().with_data_dir(data), {"TESTING": True})
    yield app
    app.extensions["magsearch"].close()


def https(app: Flask) -> FlaskClient:
    client = app.test_client()
    client.environ_base["wsgi.url_scheme"] = "https"
    client.environ_base["REMOTE_ADDR"] = "192.0.2.7"
    return client


def csrf_of(html: str) -> str:
    m = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    assert m, "no CSRF token in the form"
    return m[1]


def sign_in(client: FlaskClient, name: str, password: str = PASSWORD) -> object:
    page = client.get("/login")
    return client.post(
        "/login", data={"name": name, "password": password, "csrf_token": csrf_of(page.text)}
    )


def test_sign_in_sets_a_secure_session_and_sign_out_ends_it(app: Flask) -> None:
    client = https(app)
    page = client.get("/login")
    assert page.status_code == 200
    check_page(page.text)
    resp = sign_in(client, "alice")
    assert resp.status_code == 302 and resp.headers["Location"] == "/"
    cookie = next(h for h in resp.headers.getlist("Set-Cookie") if "magsearch_session" in h)
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    home = client.get("/")
    assert "Sign out" in home.text and "alice (archivist)" in home.text
    check_page(home.text)
    # sign out is a POST with its CSRF token; without the token it is refused
    assert client.post("/logout").status_code == 400
    assert "Sign out" in client.get("/").text
    assert client.post("/logout", data={"csrf_token": csrf_of(home.text)}).status_code == 302
    assert "Sign in" in client.get("/").text and "Sign out" not in client.get("/").text


def test_login_without_csrf_token_is_refused_with_400(app: Flask) -> None:
    client = https(app)
    resp = client.post("/login", data={"name": "alice", "password": PASSWORD})
    assert resp.status_code == 400
    assert "CSRF" in resp.text
    assert "Sign out" not in client.get("/").text


def test_failed_sign_ins_are_audited_and_limited(app: Flask) -> None:
    client = https(app)
    for _ in range(SIGNIN_MAX_FAILURES):
        resp = sign_in(client, "alice", "wrong password!")
        assert resp.status_code == 401 and "Wrong user name or password" in resp.text
    # now even the right password is refused for a while, with a clear message
    resp = sign_in(client, "alice")
    assert resp.status_code == 429 and resp.headers["Retry-After"] == "900"
    assert "Too many failed sign-ins" in resp.text
    assert "Sign out" not in client.get("/").text
    # from another address, another account still signs in
    other = app.test_client()
    other.environ_base.update({"wsgi.url_scheme": "https", "REMOTE_ADDR": "192.0.2.8"})
    assert sign_in(other, "root").status_code == 302
    with app.app_context():
        from magsearch.web.auth import accounts

        failed = accounts().audit_log(50, action="signin-failed")
    assert len(failed) == SIGNIN_MAX_FAILURES
    assert {(r["actor"], r["target"], r["detail"]["address"]) for r in failed} == {
        ("anonymous", "alice", "192.0.2.7")
    }


def test_a_disabled_account_is_signed_out_at_once(app: Flask, data: Path) -> None:
    client = https(app)
    assert sign_in(client, "alice").status_code == 302
    assert "Sign out" in client.get("/").text
    assert run(data, "user", "disable", "alice")[0] == 0
    assert "Sign out" not in client.get("/").text
    assert sign_in(client, "alice").status_code == 401


def test_admin_page_needs_an_admin(app: Flask) -> None:
    anon = https(app)
    resp = anon.get("/admin/audit")
    assert resp.status_code == 302 and resp.headers["Location"].startswith("/login?next=")
    archivist = https(app)
    sign_in(archivist, "alice")
    assert archivist.get("/admin/audit").status_code == 403
    admin = https(app)
    sign_in(admin, "root")
    page = admin.get("/admin/audit")
    assert page.status_code == 200
    check_page(page.text)
    assert "user-add" in page.text and "signin" in page.text
    assert "alice" in admin.get("/admin/audit?action=user-add").text


def test_sign_in_never_redirects_off_site(app: Flask) -> None:
    for target, expected in [
        ("/search?q=magnitsky", "/search?q=magnitsky"),
        ("//evil.example/x", "/"),
        ("https://evil.example/", "/"),
        ("javascript:alert(1)", "/"),
    ]:
        client = https(app)
        page = client.get("/login", query_string={"next": target})
        resp = client.post(
            "/login",
            query_string={"next": target},
            data={"name": "alice", "password": PASSWORD, "csrf_token": csrf_of(page.text)},
        )
        assert resp.status_code == 302 and resp.headers["Location"] == expected, target
