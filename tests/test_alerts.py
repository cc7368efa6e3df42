"""Saved searches and alerts, end to end: a reader saves a search on the web (CSRF, audited), the CLI
ingests, and the alert arrives once in the Atom feed, once at a real HTTP receiver and once at a real
SMTP server (aiosmtpd), each on a free port; never for a document the user may not see."""

from __future__ import annotations

import json
import re
import threading
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient

from magsearch.accounts import Accounts
from magsearch.alerts import MAX_ATTEMPTS, AlertError, Alerts
from magsearch.archive import sha256_bytes
from magsearch.cli import cli
from magsearch.config import Settings
from magsearch.delivery import check_webhook_url
from magsearch.library import open_library
from magsearch.web import create_app
from webfixtures import check_page, free_port

PASSWORD = "correct horse battery"
ATOM = "{http://www.w3.org/2005/Atom}"

aiosmtpd_controller = pytest.importorskip(
    "aiosmtpd.controller", reason="aiosmtpd is not installed (pip install -e '.[test]')"
)


# -- real receivers on free ports ------------------------------------------------------------------
class Receiver:
    """A real HTTP server on 127.0.0.1 and a free port, recording every request it gets; it answers
    with `status` (and `location`, for a redirect)."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.status = 204
        self.location = ""
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                outer.requests.append(
                    {"path": self.path, "headers": dict(self.headers), "body": body,
                     "status": outer.status}
                )  # fmt: skip
                self.send_response(outer.status)
                if outer.location:
                    self.send_header("Location", outer.location)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def calls(self) -> list[dict[str, Any]]:
        """The calls it accepted (answered 2xx)."""
        return [json.loads(r["body"]) for r in self.requests if 200 <= r["status"] < 300]

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Mailbox:
    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        from email import message_from_bytes
        from email.policy import default

        msg = message_from_bytes(envelope.content, policy=default)
        self.messages.append({"to": envelope.rcpt_tos, "msg": msg})
        return "250 OK"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.stop()


@pytest.fixture
def mailbox(monkeypatch: pytest.MonkeyPatch) -> Iterator[Mailbox]:
    box = Mailbox()
    port = free_port()
    controller = aiosmtpd_controller.Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        monkeypatch.setenv("MAGSEARCH_SMTP_HOST", "127.0.0.1")
        monkeypatch.setenv("MAGSEARCH_SMTP_PORT", str(port))
        monkeypatch.setenv("MAGSEARCH_SMTP_TLS", "off")
        monkeypatch.setenv("MAGSEARCH_SMTP_FROM", "alerts@magsearch.test")
        yield box
    finally:
        controller.stop()


@pytest.fixture
def loopback_allowed(monkeypatch: pytest.MonkeyPatch) -> None:
    """The admin setting that lets webhooks reach this machine (the test's receiver)."""
    monkeypatch.setenv("MAGSEARCH_WEBHOOK_ALLOW_NETWORKS", "127.0.0.0/8")


# -- an archive, users and the web -----------------------------------------------------------------
def cli_run(data: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(
        cli, ["--data", str(data), *args], env={"MAGSEARCH_PASSWORD": PASSWORD}
    )
    return result.exit_code, result.stdout, result.stderr


def write_doc(folder: Path, doc_id: str, title: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{doc_id}.html"
    path.write_text(
        f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{title}</title></head>"
        f"<body><article><h1>{title}</h1><p>1. {text}</p></article></body></html>",
        encoding="utf-8",
    )
    sidecar = {"id": doc_id, "kind": "article", "title": title, "date": "2026-01-02"}
    (folder / f"{doc_id}.html.meta.json").write_text(json.dumps(sidecar), encoding="utf-8")
    return path


@pytest.fixture
def data(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    base = write_doc(
        tmp_path / "base",
        "base-note",
        "A note already there",
        "Quokka sanctions were discussed here before any search was saved.",
    )
    code, _, err = cli_run(data, "ingest", str(base))
    assert code == 0, err
    assert cli_run(data, "user", "add", "rita", "--role", "reader")[0] == 0
    assert cli_run(data, "user", "add", "alice", "--role", "archivist")[0] == 0
    return data


@pytest.fixture
def app(data: Path) -> Iterator[Flask]:
    app = create_app(Settings().with_data_dir(data), {"TESTING": True})
    yield app
    app.extensions["magsearch"].close()


def csrf_of(html: str) -> str:
    m = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    assert m, "no CSRF token in the page"
    return m[1]


def signed_in(app: Flask, name: str) -> FlaskClient:
    client = app.test_client()
    client.environ_base["wsgi.url_scheme"] = "https"
    page = client.get("/login")
    resp = client.post(
        "/login", data={"name": name, "password": PASSWORD, "csrf_token": csrf_of(page.text)}
    )
    assert resp.status_code == 302, resp.text
    return client


def save_from_search_page(client: FlaskClient, query: str, name: str, **filters: str) -> int:
    """Save a search the way a user does: from the search page's own form."""
    page = client.get("/search", query_string={"q": query, **filters})
    assert page.status_code == 200
    assert 'action="/searches"' in page.text, "no 'Save this search' form for a signed-in user"
    form = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', page.text))
    resp = client.post("/searches", data={**form, "name": name})
    assert resp.status_code == 303, resp.text
    m = re.search(r"#search-(\d+)$", resp.headers["Location"])
    assert m, resp.headers["Location"]
    return int(m[1])


def set_delivery(client: FlaskClient, search_id: int, webhook: str = "", email: str = "") -> Any:
    page = client.get("/searches")
    return client.post(
        f"/searches/{search_id}/delivery",
        data={"webhook": webhook, "email": email, "csrf_token": csrf_of(page.text)},
    )


def feed_of(client: FlaskClient, search_id: int) -> str:
    page = client.get("/searches")
    m = re.search(rf'id="search-{search_id}".*?class="feed-url" href="([^"]+)"', page.text, re.S)
    assert m, "no feed address on the saved searches page"
    return m[1]


def feed_entries(app: Flask, feed_url: str) -> list[dict[str, str]]:
    """The feed, read by a client that has no session (a feed reader)."""
    path = re.sub(r"^https?://[^/]+", "", feed_url)
    resp = app.test_client().get(path)
    assert resp.status_code == 200, resp.text
    assert resp.headers["Content-Type"].startswith("application/atom+xml")
    root = ET.fromstring(resp.data)
    return [
        {
            "title": e.findtext(f"{ATOM}title") or "",
            "link": e.find(f"{ATOM}link").get("href"),  # type: ignore[union-attr]
            "id": e.findtext(f"{ATOM}id") or "",
        }
        for e in root.findall(f"{ATOM}entry")
    ]


# -- the reader role -------------------------------------------------------------------------------
def test_a_reader_signs_in_reads_and_saves_but_cannot_write_documents(app: Flask) -> None:
    rita = signed_in(app, "rita")
    home = rita.get("/")
    assert "rita (reader)" in home.text and 'href="/searches"' in home.text
    assert 'href="/upload"' not in home.text  # no archivist's links
    assert rita.get("/upload").status_code == 403
    token = csrf_of(home.text)
    resp = rita.post("/d/base-note/withdraw", data={"reason": "no", "csrf_token": token})
    assert resp.status_code == 403
    resp = rita.post("/d/base-note/restrict", data={"restricted": "1", "csrf_token": token})
    assert resp.status_code == 403
    lib = app.extensions["magsearch"].get()
    assert not lib.archive.get_document("base-note").withdrawn
    assert not lib.archive.get_document("base-note").restricted
    code, out, _ = cli_run(Path(lib.settings.data_dir), "user", "list")
    assert re.search(r"^rita\s+reader\s+active", out, re.M)
    # anonymous visitors cannot save, list or change saved searches
    anon = app.test_client()
    anon.environ_base["wsgi.url_scheme"] = "https"
    assert anon.get("/searches").status_code == 302
    resp = anon.post("/searches", data={"q": "quokka", "csrf_token": token})
    assert resp.status_code in (302, 400)


def test_saved_searches_are_listed_renamed_and_deleted_with_csrf_and_audit(app: Flask) -> None:
    rita = signed_in(app, "rita")
    sid = save_from_search_page(rita, "quokka sanctions", "Quokkas", kind="article")
    page = rita.get("/searches")
    check_page(page.text)
    assert "Quokkas" in page.text and "<code>quokka sanctions</code>" in page.text
    assert "kind: article" in page.text
    # without the CSRF token every write is refused
    assert rita.post(f"/searches/{sid}/rename", data={"name": "X"}).status_code == 400
    assert rita.post(f"/searches/{sid}/delete", data={}).status_code == 400
    assert rita.post("/searches", data={"q": "walrus"}).status_code == 400
    token = csrf_of(page.text)
    resp = rita.post(f"/searches/{sid}/rename", data={"name": "Quokka laws", "csrf_token": token})
    assert resp.status_code == 303
    assert "Quokka laws" in rita.get("/searches").text
    # another user neither sees nor changes it
    alice = signed_in(app, "alice")
    assert "Quokka laws" not in alice.get("/searches").text
    a_token = csrf_of(alice.get("/searches").text)
    assert alice.post(f"/searches/{sid}/delete", data={"csrf_token": a_token}).status_code == 404
    # a search that cannot be understood is refused in one line
    resp = rita.post("/searches", data={"q": "x", "sort": "sideways", "csrf_token": token})
    assert resp.status_code == 400 and "unknown sort" in resp.text
    assert rita.post(f"/searches/{sid}/delete", data={"csrf_token": token}).status_code == 303
    assert "Quokka laws" not in rita.get("/searches").text
    lib = app.extensions["magsearch"].get()
    actions = [(r["actor"], r["action"]) for r in Accounts(lib.archive).audit_log(20)]
    for action in ("saved-search-add", "saved-search-rename", "saved-search-delete"):
        assert ("rita", action) in actions


# -- the evidence: one alert per channel, nothing for the non-match, nothing twice ------------------
def test_an_ingest_alerts_once_by_feed_webhook_and_mail(
    app: Flask, data: Path, tmp_path: Path, receiver: Receiver, mailbox: Mailbox,
    loopback_allowed: None,
) -> None:  # fmt: skip
    rita = signed_in(app, "rita")
    sid = save_from_search_page(rita, "quokka sanctions", "Quokka sanctions")
    resp = set_delivery(rita, sid, webhook=receiver.url, email="rita@example.org")
    assert resp.status_code == 303, resp.text
    feed = feed_of(rita, sid)
    assert feed_entries(app, feed) == []  # what was there before the search was saved: no alert

    new = tmp_path / "new"
    match = write_doc(new, "quokka-ruling", "Quokka ruling", "The court upheld quokka sanctions.")
    other = write_doc(new, "quokka-zoo", "Zoo report", "A quokka was born at the zoo.")  # one word
    code, out, err = cli_run(data, "ingest", str(match), str(other))
    assert code == 0, err
    assert "2 ingested" in out

    entries = feed_entries(app, feed)
    assert [e["title"] for e in entries] == ["Quokka ruling"]
    assert entries[0]["link"].endswith("/d/quokka-ruling")
    calls = receiver.calls()
    assert len(calls) == 1
    assert [a["document"] for a in calls[0]["alerts"]] == ["quokka-ruling"]
    assert calls[0]["saved_search"]["name"] == "Quokka sanctions"
    assert "<mark>" not in calls[0]["alerts"][0]["snippet"]
    assert receiver.requests[0]["headers"]["Content-Type"].startswith("application/json")
    assert len(mailbox.messages) == 1
    mail = mailbox.messages[0]
    assert mail["to"] == ["rita@example.org"]
    assert "Quokka ruling" in mail["msg"].get_content()
    assert "Zoo report" not in mail["msg"].get_content()
    assert "/d/quokka-ruling" in mail["msg"].get_content()

    # nothing twice: the same files again, the delivery run again, the matching run from scratch
    code, out, err = cli_run(data, "ingest", str(match), str(other))
    assert code == 0 and "2 unchanged" in out, err
    code, out, err = cli_run(data, "alerts", "run")
    assert code == 0, err
    assert "0 new alerts, 0 deliveries sent" in out
    lib = app.extensions["magsearch"].get()
    lib.archive.db.execute("UPDATE alert_state SET value='0'")
    lib.archive.db.commit()
    assert Alerts(lib.archive, lib.settings).match_new() == 0
    assert Alerts(lib.archive, lib.settings).deliver_due() == {"sent": 0, "failed": 0}
    assert len(feed_entries(app, feed)) == 1
    assert len(receiver.requests) == 1 and len(mailbox.messages) == 1

    # a changed document is a new version: it alerts again, once
    write_doc(new, "quokka-ruling", "Quokka ruling", "The court upheld quokka sanctions again.")
    code, out, err = cli_run(data, "ingest", str(match))
    assert code == 0 and "1 new version" in out, err
    assert [e["title"] for e in feed_entries(app, feed)] == ["Quokka ruling", "Quokka ruling"]
    assert len(receiver.requests) == 2 and len(mailbox.messages) == 2
    code, out, _ = cli_run(data, "alerts", "list", "rita")
    assert code == 0 and "2 alerts" in out and "webhook: 2 sent" in out and "email: 2 sent" in out

    # the feed address is a secret: renewed, the old one stops at once
    token = csrf_of(rita.get("/searches").text)
    assert rita.post(f"/searches/{sid}/feed", data={"csrf_token": token}).status_code == 303
    old_path = re.sub(r"^https?://[^/]+", "", feed)
    assert app.test_client().get(old_path).status_code == 404
    assert len(feed_entries(app, feed_of(rita, sid))) == 2


# -- who may see what ------------------------------------------------------------------------------
def test_a_restricted_document_never_reaches_a_user_who_cannot_see_it(
    app: Flask, data: Path, tmp_path: Path, receiver: Receiver, mailbox: Mailbox,
    loopback_allowed: None,
) -> None:  # fmt: skip
    rita, alice = signed_in(app, "rita"), signed_in(app, "alice")
    searches = {}
    for name, client in (("rita", rita), ("alice", alice)):
        sid = save_from_search_page(client, "walrus", f"Walrus for {name}")
        assert set_delivery(client, sid, receiver.url, f"{name}@example.org").status_code == 303
        searches[name] = (client, sid)
    new = tmp_path / "walrus"
    sealed = write_doc(new, "walrus-sealed", "Sealed walrus memo", "A walrus memorandum, sealed.")
    public = write_doc(new, "walrus-public", "Public walrus note", "A walrus note for everyone.")
    lib = app.extensions["magsearch"].get()
    lib.archive.restrict_upload(sha256_bytes(sealed.read_bytes()))  # restricted as it goes in
    code, _, err = cli_run(data, "ingest", str(sealed), str(public))
    assert code == 0, err

    def seen(name: str) -> dict[str, set[str]]:
        client, sid = searches[name]
        return {
            "feed": {e["title"] for e in feed_entries(app, feed_of(client, sid))},
            "webhook": {
                a["title"]
                for c in receiver.calls()
                if c["saved_search"]["id"] == sid
                for a in c["alerts"]
            },
            "mail": {
                line.strip()[2:]
                for m in mailbox.messages
                if m["to"] == [f"{name}@example.org"]
                for line in m["msg"].get_content().splitlines()
                if line.startswith("- ")
            },
        }

    assert seen("rita") == {k: {"Public walrus note"} for k in ("feed", "webhook", "mail")}
    both = {"Public walrus note", "Sealed walrus memo"}
    assert seen("alice") == {k: both for k in ("feed", "webhook", "mail")}
    for call in receiver.requests:
        if b"Walrus for rita" in call["body"]:
            assert b"sealed" not in call["body"].lower()

    # restricted after it was matched: gone from the feed, and not sent when the send comes later
    from magsearch import curation

    more = write_doc(new, "walrus-later", "Walrus later note", "Another walrus note.")
    receiver.status = 503  # the first send fails: the delivery waits for its retry
    code, _, err = cli_run(data, "ingest", str(more))
    assert code == 0, err
    curation.set_restricted(lib, "walrus-later", True, actor="test")
    receiver.status = 204
    later = datetime.now(UTC) + timedelta(hours=1)
    Alerts(lib.archive, lib.settings).deliver_due(now=later)
    assert "Walrus later note" not in seen("rita")["feed"] | seen("rita")["webhook"]
    assert (
        "Walrus later note" in seen("alice")["feed"]
        and "Walrus later note" in seen("alice")["webhook"]
    )


# -- webhook addresses -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://127.0.0.1:9/hook", "loopback"),
        ("http://localhost/hook", "loopback"),
        ("http://10.1.2.3/hook", "private"),
        ("http://192.168.0.10/hook", "private"),
        ("http://169.254.169.254/latest/meta-data", "link-local"),
        ("http://[::1]/hook", "loopback"),
        ("http://[::ffff:10.0.0.1]/hook", "private"),
        ("http://0.0.0.0/hook", "unspecified"),
        ("http://100.64.0.1/hook", "non-public"),
        ("ftp://example.org/hook", "only http and https"),
        ("http://user:pw@example.org/hook", "no user name or password"),
    ],
)
def test_webhooks_to_non_public_addresses_are_refused_in_one_line(url: str, why: str) -> None:
    with pytest.raises(AlertError) as caught:
        check_webhook_url(url)
    message = str(caught.value)
    assert why in message and "\n" not in message


def test_the_web_refuses_a_private_webhook_and_an_admin_setting_allows_it(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    rita = signed_in(app, "rita")
    sid = save_from_search_page(rita, "quokka", "Q")
    resp = set_delivery(rita, sid, webhook="http://127.0.0.1:9/hook")
    assert resp.status_code == 400
    assert "loopback address (refused" in resp.text
    assert "127.0.0.1:9" not in rita.get("/searches").text
    monkeypatch.setenv("MAGSEARCH_WEBHOOK_ALLOW_NETWORKS", "127.0.0.0/8")
    assert set_delivery(rita, sid, webhook="http://127.0.0.1:9/hook").status_code == 303
    # an address with no SMTP server set up is refused too, saying why
    monkeypatch.delenv("MAGSEARCH_SMTP_HOST", raising=False)
    resp = set_delivery(rita, sid, email="rita@example.org")
    assert resp.status_code == 400 and "MAGSEARCH_SMTP_HOST is not set" in resp.text


# -- failures: logged, retried with a bound, shown; the ingest never fails ---------------------------
def test_a_failing_webhook_is_retried_a_bounded_number_of_times_and_shown(
    app: Flask, data: Path, tmp_path: Path, receiver: Receiver, loopback_allowed: None
) -> None:
    rita = signed_in(app, "rita")
    sid = save_from_search_page(rita, "platypus", "Platypus")
    assert set_delivery(rita, sid, webhook=receiver.url).status_code == 303
    receiver.status = 500
    doc = write_doc(tmp_path / "p", "platypus", "Platypus act", "A platypus protection act.")
    code, out, err = cli_run(data, "ingest", str(doc))
    assert code == 0 and "1 ingested" in out, err  # the failed delivery does not fail the ingest
    assert len(receiver.requests) == 1
    page = rita.get("/searches").text
    assert "1 pending" in page and "answered 500" in page and "next try" in page

    lib = app.extensions["magsearch"].get()
    alerts = Alerts(lib.archive, lib.settings)
    assert alerts.deliver_due() == {"sent": 0, "failed": 0}  # not due yet
    when = datetime.now(UTC)
    for _ in range(MAX_ATTEMPTS + 2):
        when += timedelta(days=1)
        alerts.deliver_due(now=when)
    assert len(receiver.requests) == MAX_ATTEMPTS  # then it gives up
    page = rita.get("/searches").text
    assert "1 failed" in page and f"gave up after {MAX_ATTEMPTS} attempts" in page

    # a redirect is not followed, even to an allowed address
    receiver.requests.clear()
    receiver.status, receiver.location = 302, receiver.url
    sid2 = save_from_search_page(rita, "echidna", "Echidna")
    assert set_delivery(rita, sid2, webhook=receiver.url).status_code == 303
    doc = write_doc(tmp_path / "e", "echidna", "Echidna act", "An echidna protection act.")
    assert cli_run(data, "ingest", str(doc))[0] == 0
    assert len(receiver.requests) == 1
    assert "a redirect, not followed" in rita.get("/searches").text


def test_a_send_interrupted_by_a_crash_is_sent_again_not_lost(
    app: Flask, data: Path, tmp_path: Path, receiver: Receiver, loopback_allowed: None
) -> None:
    rita = signed_in(app, "rita")
    sid = save_from_search_page(rita, "wombat", "Wombat")
    assert set_delivery(rita, sid, webhook=receiver.url).status_code == 303
    lib = app.extensions["magsearch"].get()
    alerts = Alerts(lib.archive, lib.settings)
    doc = write_doc(tmp_path / "w", "wombat", "Wombat act", "A wombat protection act.")
    # ingest without the delivery step, as a process killed after matching would leave it
    from magsearch.ingest.pipeline import Ingester, find_files

    Ingester(lib.archive, lib.index, lib.settings).run(find_files([doc]))
    assert alerts.match_new() == 1
    saved = alerts.get(Accounts(lib.archive).get_user("rita"), sid)
    now = datetime.now(UTC)
    claimed = alerts._claim(saved, "webhook", now.strftime("%Y-%m-%dT%H:%M:%SZ"))
    assert len(claimed) == 1  # marked `sending`, then the process dies before recording the outcome
    assert alerts.deliver_due(now=now) == {"sent": 0, "failed": 0}  # another run: not yet
    assert alerts.deliver_due(now=now + timedelta(minutes=10)) == {"sent": 1, "failed": 0}
    assert [a["document"] for c in receiver.calls() for a in c["alerts"]] == ["wombat"]
    assert alerts.deliver_due(now=now + timedelta(hours=1)) == {"sent": 0, "failed": 0}
    lib2 = open_library(lib.settings, sync=False)
    try:
        status = Alerts(lib2.archive, lib2.settings).status(saved)
        assert status["webhook"]["counts"] == {"sent": 1}
    finally:
        lib2.close()
