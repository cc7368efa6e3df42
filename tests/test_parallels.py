"""Parallel provisions over the bundled collection (a library of its own): suggestions from shared
words and shared citations, the bundled confirmed set and the comparison it gives, archivists'
decisions (role-checked, CSRF, audited), and restricted laws left out for readers."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from conftest import ARCHIVE, make_settings
from magsearch import curation, parallels
from magsearch.accounts import Accounts
from magsearch.errors import NotFound
from magsearch.ingest.pipeline import Ingester, find_files
from magsearch.library import Library, open_library
from magsearch.web import create_app

PASSWORD = "parallel lines meet at infinity"
BUNDLED_SET = ARCHIVE / ".parallels.json"
LAWS = [  # the comparison's columns, by date
    "us-magnitsky-act-2012", "us-global-magnitsky-act-2016", "ca-magnitsky-law-2017",
    "us-eo-13818-2017", "uk-ghr-sanctions-regulations-2020", "eu-regulation-2020-1998",
]  # fmt: skip


def _law(folder: Path, name: str, jurisdiction: str, sections: list[str]) -> Path:
    body = "".join(f'<section id="sec-{n + 1}"><h2>Sec. {n + 1}.</h2><p>{t}</p></section>'
                   for n, t in enumerate(sections))  # fmt: skip
    path = folder / f"{name}.html"
    path.write_text(f"<html lang='en'><head><title>{name}</title></head><body><main>{body}"
                    "</main></body></html>", encoding="utf-8")  # fmt: skip
    side = {"id": name, "kind": "legislation", "jurisdiction": jurisdiction, "title": name}
    (folder / f"{name}.html.meta.json").write_text(json.dumps(side), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def lib(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Library]:
    root = tmp_path_factory.mktemp("parallels")
    settings = make_settings(root / "data", workers=2)
    library = open_library(settings)
    extra = root / "extra"
    extra.mkdir()
    files = [
        # two laws of their own that cite the same Act and share no telling word besides
        _law(extra, "law-north", "Northland", [
            "The minister keeps a register of vessels flying the flag.",
            "Quokka tariffs follow Pub. L. 112-208 in full.",
        ]),
        _law(extra, "law-south", "Southland", [
            "Harbour dues for barges are set yearly by the port authority.",
            "Wombat duties as under Pub. L. 112-208 apply likewise.",
        ]),
    ]  # fmt: skip
    results = Ingester(library.archive, library.index, settings).run(find_files([ARCHIVE, *files]))
    assert not [r for r in results if r.status == "failed"], results
    Accounts(library.archive).add_user("alice", "archivist", PASSWORD, actor="test")
    yield library
    library.close()


def test_suggestions_are_other_jurisdictions_sections_that_do_the_same(lib: Library) -> None:
    r = parallels.suggest(lib.archive, "ca-magnitsky-law-2017", "sec-4-2", include_restricted=False)
    assert r["provision"]["label"] == "s. 4(2)"
    got = [(s["doc_id"], s["anchor"]) for s in r["suggested"]]
    # who may be designated: the Global Magnitsky Act's § 1263 first, E.O. 13818 § 1 and the 2012
    # Act's § 404 next
    assert got[:3] == [
        ("us-global-magnitsky-act-2016", "sec-1263"),
        ("us-eo-13818-2017", "sec-1"),
        ("us-magnitsky-act-2012", "sec-404"),
    ]
    assert all(s["jurisdiction"] != "Canada" for s in r["suggested"])
    scores = [s["score"] for s in r["suggested"]]
    assert scores == sorted(scores, reverse=True)
    assert {"internationally", "complicit"} <= set(r["suggested"][0]["shared_words"])


def test_a_shared_citation_makes_a_suggestion(lib: Library) -> None:
    r = parallels.suggest(lib.archive, "law-north", "sec-2", include_restricted=False)
    top = r["suggested"][0]
    assert (top["doc_id"], top["anchor"]) == ("law-south", "sec-2")
    assert top["shared_citations"] == ["Pub. L. 112-208"]
    others = [s for s in r["suggested"] if s["doc_id"] == "law-south" and s["anchor"] == "sec-1"]
    assert others == []  # harbour dues share nothing with quokka tariffs


def test_the_bundled_set_and_the_comparison(lib: Library) -> None:
    confirmed = parallels.load(lib.archive, BUNDLED_SET, actor="test")
    assert confirmed > 30
    assert parallels.load(lib.archive, BUNDLED_SET, actor="test") == 0  # nothing twice
    table = parallels.comparison(lib.archive, include_restricted=False)
    assert [law["doc_id"] for law in table["laws"]] == LAWS
    rows = {row["topic"]: row["cells"] for row in table["topics"]}
    assert list(rows) == ["designation", "sanctions", "ending", "reports"]

    def cell(topic: str, doc_id: str) -> list[str]:
        return [p["anchor"] for p in rows[topic][LAWS.index(doc_id)]]

    assert cell("designation", "ca-magnitsky-law-2017") == ["sec-4-2"]
    assert cell("sanctions", "us-magnitsky-act-2012") == ["sec-405", "sec-406"]
    assert cell("ending", "us-global-magnitsky-act-2016") == ["sec-1263", "sec-1265"]
    assert cell("reports", "us-global-magnitsky-act-2016") == ["sec-1264"]
    assert cell("reports", "uk-ghr-sanctions-regulations-2020") == []
    # a confirmed pair is shown as such on both sections' pages, and no longer suggested
    r = parallels.suggest(lib.archive, "us-global-magnitsky-act-2016", "sec-1264",
                          include_restricted=False)  # fmt: skip
    assert [(c["doc_id"], c["anchor"], c["topic"]) for c in r["confirmed"]] == [
        ("ca-magnitsky-law-2017", "p-4d762f69", "reports"),
        ("us-magnitsky-act-2012", "sec-404", "reports"),
    ]
    assert ("ca-magnitsky-law-2017", "p-4d762f69") not in {
        (s["doc_id"], s["anchor"]) for s in r["suggested"]
    }


def test_a_rejected_pair_is_never_suggested_nor_loaded_again(lib: Library) -> None:
    one, other = ("ca-magnitsky-law-2017", "sec-4-3"), ("us-eo-13818-2017", "sec-4")
    before = parallels.suggest(lib.archive, *one, include_restricted=False)
    assert other in {(s["doc_id"], s["anchor"]) for s in before["suggested"]}
    assert parallels.decide(lib.archive, one, other, "rejected", actor="alice")
    assert not parallels.decide(lib.archive, other, one, "rejected", actor="alice")  # unchanged
    after = parallels.suggest(lib.archive, *one, include_restricted=False)
    assert other not in {(s["doc_id"], s["anchor"]) for s in after["suggested"]}
    entry = Accounts(lib.archive).audit_log(1, action="parallel-reject")[0]
    assert entry["actor"] == "alice"
    with pytest.raises(parallels.ParallelError, match="topic"):
        parallels.decide(lib.archive, one, other, "confirmed", topic="weather", actor="alice")
    with pytest.raises(parallels.ParallelError, match="another law"):
        parallels.decide(lib.archive, one, ("ca-magnitsky-law-2017", "sec-4-1"), "confirmed",
                         actor="alice")  # fmt: skip
    with pytest.raises(NotFound):
        parallels.decide(lib.archive, one, ("us-eo-13818-2017", "sec-99"), "confirmed",
                         actor="alice")  # fmt: skip


@pytest.fixture(scope="module")
def app(lib: Library) -> Iterator[Flask]:
    app = create_app(lib.settings, {"TESTING": True, "MAGSEARCH_LIBRARY": lib})
    yield app


def _signed_in(app: Flask) -> tuple[FlaskClient, str]:
    client = app.test_client()
    client.environ_base["wsgi.url_scheme"] = "https"
    page = client.get("/login").text
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)[1]
    resp = client.post("/login", data={"name": "alice", "password": PASSWORD, "csrf_token": token})
    assert resp.status_code == 302
    return client, token


def test_archivists_decide_on_the_web_with_csrf_and_audit(app: Flask, lib: Library) -> None:
    url = "/d/us-magnitsky-act-2012/parallels/sec-405"
    form = {"other": "uk-ghr-sanctions-regulations-2020#reg-3", "decision": "confirm",
            "topic": "sanctions"}  # fmt: skip
    anon = app.test_client()
    page = anon.get(url)
    assert page.status_code == 200 and "Suggested" in page.text
    assert 'name="decision"' not in page.text  # readers see no buttons
    anon.environ_base["wsgi.url_scheme"] = "https"
    anon_token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', anon.get("/login").text)[1]
    refused = anon.post(url, data={**form, "csrf_token": anon_token})
    assert refused.status_code == 302 and "/login" in refused.headers["Location"]
    client, token = _signed_in(app)
    assert client.post(url, data=form).status_code == 400  # no CSRF token
    assert parallels._pair(lib.archive, ("us-magnitsky-act-2012", "sec-405"),
                           ("uk-ghr-sanctions-regulations-2020", "reg-3")) is None  # fmt: skip
    page = client.get(url).text
    assert 'name="decision" value="confirm"' in page
    resp = client.post(url, data={**form, "csrf_token": token})
    assert resp.status_code == 303
    assert parallels._pair(lib.archive, ("us-magnitsky-act-2012", "sec-405"),
                           ("uk-ghr-sanctions-regulations-2020", "reg-3")) == (
        "confirmed", "sanctions")  # fmt: skip
    entry = Accounts(lib.archive).audit_log(1, action="parallel-confirm")[0]
    assert (
        entry["actor"] == "alice" and entry["target"] == "uk-ghr-sanctions-regulations-2020#reg-3"
    )
    confirmed = client.get(url).text
    assert (
        'class="parallel" data-doc="uk-ghr-sanctions-regulations-2020" data-anchor="reg-3"'
        in (confirmed.split("<h2>Suggested</h2>")[0])
    )
    bad = client.post(url, data={**form, "topic": "weather", "csrf_token": token})
    assert bad.status_code == 400 and "unknown topic" in bad.text
    # a section's page is linked from the law's page
    assert (
        'href="/d/us-magnitsky-act-2012/parallels/sec-405"'
        in anon.get("/d/us-magnitsky-act-2012").text
    )


def test_a_restricted_law_is_left_out_for_readers(app: Flask, lib: Library) -> None:
    parallels.load(lib.archive, BUNDLED_SET, actor="test")
    curation.set_restricted(lib, "ca-magnitsky-law-2017", True, actor="test")
    try:
        anon = app.test_client()
        assert anon.get("/d/ca-magnitsky-law-2017/parallels/sec-4-2").status_code == 404
        compare = anon.get("/compare").text
        assert "ca-magnitsky-law-2017" not in compare and "Justice for Victims" not in compare
        page = anon.get("/d/us-global-magnitsky-act-2016/parallels/sec-1263").text
        assert "ca-magnitsky-law-2017" not in page
        client, _ = _signed_in(app)
        assert "ca-magnitsky-law-2017" in client.get("/compare").text
        assert client.get("/d/ca-magnitsky-law-2017/parallels/sec-4-2").status_code == 200
    finally:
        curation.set_restricted(lib, "ca-magnitsky-law-2017", False, actor="test")


def test_cli_loads_the_bundled_set(lib: Library, tmp_path: Path) -> None:
    import subprocess
    import sys

    out = subprocess.run(
        [sys.executable, "-m", "magsearch.cli", "--data", str(lib.settings.data_dir),
         "parallels", "load", str(BUNDLED_SET)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert "0 pairs confirmed" in out.stdout  # all decided already
    bad = tmp_path / "bad.json"
    bad.write_text("[1, 2]")
    out = subprocess.run(
        [sys.executable, "-m", "magsearch.cli", "--data", str(lib.settings.data_dir),
         "parallels", "load", str(bad)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert out.returncode == 2 and "bad.json" in out.stderr
