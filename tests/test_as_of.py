"""Searches that can be cited: `as_of` runs a search over the archive as it stood at a past time.

A real archive (real ingest, real Whoosh indexes, the Flask app): documents are searched, then one
changes, one is withdrawn (and later restored), one is added, one is purged; searches as of the
first time give the first hits again, before and after a reindex, and say what they leave out."""

from __future__ import annotations

import csv
import io
import json
import re
import time
from dataclasses import replace
from html import unescape
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from magsearch import curation
from magsearch.archive import now_iso
from magsearch.config import Settings
from magsearch.errors import IndexUnavailable
from magsearch.index.history import History
from magsearch.index.sync import rebuild
from magsearch.ingest.pipeline import Ingester
from magsearch.library import Library, open_library
from magsearch.results import SearchResponse
from magsearch.web import create_app
from webfixtures import check_page

WORD = "quorum"  # in every document
OLD = "ostrich"  # only in the first version of CHANGED
NEW = "pelican"  # only in its second version


def _doc(folder: Path, doc_id: str, text: str) -> Path:
    path = folder / f"{doc_id}.html"
    path.write_text(
        f"<html><body><h1>{doc_id}</h1><p>1. {text}</p><p>2. Nothing else.</p></body></html>",
        encoding="utf-8",
    )
    sidecar = {"id": doc_id, "kind": "article", "title": f"Note {doc_id}", "date": "2020-01-01"}
    (folder / f"{doc_id}.html.meta.json").write_text(json.dumps(sidecar), encoding="utf-8")
    return path


def _ingest(lib: Library, settings: Settings, paths: list[Path]) -> None:
    results = Ingester(lib.archive, lib.index, settings).run(paths)
    assert all(r.status in ("ingested", "new-version") for r in results), results


def _tick() -> None:
    """Catalog times have whole seconds: let one pass, so what follows is after what preceded."""
    time.sleep(1.05)


def essence(result: SearchResponse) -> dict[str, Any]:
    """What must be the same when a search is reproduced: the hits (document, version, best
    passages, snippets, in order), the total and the facets."""
    return {
        "hits": [
            (h.id, h.version, [(p.anchor, p.snippet) for p in h.passages]) for h in result.hits
        ],
        "total": result.total,
        "facets": result.facets,
    }


def test_a_search_as_of_a_time_gives_the_hits_of_that_time(tmp_path: Path) -> None:
    settings = Settings().with_data_dir(tmp_path / "data")
    src = tmp_path / "src"
    src.mkdir()
    lib = open_library(settings)
    try:
        _ingest(lib, settings, [
            _doc(src, "changed", f"The {WORD} rule and the {OLD} clause."),
            _doc(src, "withdrawn-later", f"The {WORD} rule, withdrawn later."),
            _doc(src, "kept", f"A {WORD} note that never changes."),
            _doc(src, "sealed", f"A restricted {WORD} memo."),
            _doc(src, "gone-before", f"A {WORD} note withdrawn before the first search."),
        ])  # fmt: skip
        curation.set_restricted(lib, "sealed", True, actor="test")
        curation.withdraw(lib, "gone-before", "a duplicate", actor="test")
        _tick()
        first = lib.search.search(WORD, per_page=100)
        t1 = now_iso()  # what the results page's permalink gives
        assert first.as_of == "" and not first.historic
        assert {h.id for h in first.hits} == {"changed", "withdrawn-later", "kept"}
        replay_before = lib.search.search(WORD, per_page=100, as_of=t1)
        assert replay_before.historic and replay_before.as_of == t1
        assert replay_before.added_since == 0
        # the same documents, versions and passages as the live search
        assert sorted(essence(replay_before)["hits"]) == sorted(essence(first)["hits"])
        assert replay_before.total == first.total
        assert replay_before.facets == first.facets
        _tick()

        # the archive changes: a new version, a withdrawal, an addition
        (src / "v2").mkdir()
        new_text = f"The {WORD} rule and the {NEW} clause."
        _ingest(lib, settings, [_doc(src / "v2", "changed", new_text)])
        curation.withdraw(lib, "withdrawn-later", "superseded", actor="test")
        _ingest(lib, settings, [_doc(src, "added-later", f"A late {WORD} note.")])
        now = lib.search.search(WORD, per_page=100)
        assert {h.id for h in now.hits} == {"changed", "kept", "added-later"}
        assert lib.search.search(OLD).total == 0

        replay = lib.search.search(WORD, per_page=100, as_of=t1)
        assert essence(replay) == essence(replay_before)
        assert replay.added_since == 1  # added-later (a restricted one would not be counted)
        marks = {h.id: (h.withdrawn, h.current) for h in replay.hits}
        assert marks == {
            "changed": ("", False),  # its version of then, no longer the current one
            "withdrawn-later": ("superseded", True),
            "kept": ("", True),
        }
        old = lib.search.search(OLD, as_of=t1)
        assert [h.id for h in old.hits] == ["changed"] and old.hits[0].passages
        assert lib.search.search(NEW, as_of=t1).total == 0
        assert lib.search.search(NEW, as_of=now_iso()).total == 1
        # restricted stays restricted; an archivist sees it, as then
        archivist = lib.search.search(WORD, per_page=100, as_of=t1, include_restricted=True)
        assert {h.id for h in archivist.hits} == {*marks, "sealed"}
        # filters and sort work on the versions of then
        oldest = lib.search.search(WORD, sort="oldest", as_of=t1, filters={"kind": ["article"]})
        assert {h.id for h in oldest.hits} == set(marks)

        # withdrawn at a time, then restored: absent as of that time, back after
        _tick()
        t2 = now_iso()
        _tick()
        curation.restore(lib, "withdrawn-later", actor="test")
        assert "withdrawn-later" not in {
            h.id for h in lib.search.search(WORD, per_page=100, as_of=t2).hits
        }
        assert "withdrawn-later" in {h.id for h in lib.search.search(WORD, per_page=100).hits}
        replay = lib.search.search(WORD, per_page=100, as_of=t1)
        assert essence(replay) == essence(replay_before)
        assert {h.id: h.withdrawn for h in replay.hits}["withdrawn-later"] == ""

        # the indexes are derived: rebuilt from the archive, the same answers
        rebuild(lib.archive, lib.index)
        lib.search.history.rebuild()
        again = lib.search.search(WORD, per_page=100, as_of=t1)
        assert again == replace(replay, as_of=again.as_of) and again.as_of == t1
        assert essence(lib.search.search(WORD, per_page=100, as_of=t2)) != essence(again)

        # purge is for good: not in the catalog, nor in the history index searches as_of read
        shas = {v.sha256 for v in lib.archive.versions("kept")}

        def history_versions() -> set[str]:
            return {k.rpartition("+")[2] for k in lib.search.history.backend.doc_ids()}

        assert shas <= history_versions()
        curation.purge(lib, "kept", actor="test")
        assert not shas & history_versions() and history_versions()
        after = lib.search.search(WORD, per_page=100, as_of=t1)
        assert {h.id for h in after.hits} == {"changed", "withdrawn-later"}
    finally:
        lib.close()

    # the web: the page says what it is, permalinks reproduce it, exports keep it
    app = create_app(settings, {"TESTING": True})
    try:
        client = app.test_client()
        page = client.get(f"/search?q={WORD}&as_of={t1}").text
        check_page(page)
        assert "Results as the archive stood at" in page
        assert "1 document added since is left out" in page
        assert page.count('class="changed-mark"') == 1
        assert re.search(r'href="/d/changed/v/[0-9a-f]{64}"', page)  # the version of then
        live = client.get(f"/search?q={WORD}").text
        link = unescape(re.search(r'href="([^"]+)" rel="bookmark"', live)[1])
        assert "as_of=" in link and f"q={WORD}" in link
        followed = client.get(f"/api{link}").json
        assert followed["historic"]
        assert {h["id"] for h in followed["hits"]} == {"changed", "withdrawn-later", "added-later"}
        # facets, sorts and pages of a historic search keep its as_of
        sort_links = unescape(page.split('class="sort"')[1].split("</nav>")[0]).replace("%3A", ":")
        assert sort_links.count(f"as_of={t1}") == 3
        rows = list(csv.DictReader(io.StringIO(
            client.get(f"/api/search?q={WORD}&as_of={t1}&format=csv").text
        )))  # fmt: skip
        assert {r["id"] for r in rows} == {"changed", "withdrawn-later"}
        changed = next(r for r in rows if r["id"] == "changed")
        assert f"/d/changed/v/{changed['version']}#" in changed["passage_permalink"]
        assert client.get(f"/search?q={WORD}&as_of={t1}&format=csv").headers["X-Result-As-Of"] == t1
    finally:
        app.extensions["magsearch"].close()


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("yesterday", "as_of must be an ISO 8601 time in UTC"),
        ("2026-13-01T00:00:00Z", "as_of must be an ISO 8601 time in UTC"),
        ("2999-01-01T00:00:00Z", "is in the future"),
    ],
)
def test_a_malformed_or_future_as_of_is_a_one_line_400(
    client: FlaskClient, value: str, words: str
) -> None:
    resp = client.get(f"/api/search?q=magnitsky&as_of={value}")
    assert resp.status_code == 400 and words in resp.json["message"]
    assert "\n" not in resp.json["message"]
    page = client.get(f"/search?q=magnitsky&as_of={value}")
    assert page.status_code == 400 and words in unescape(page.text)
    assert client.get(f"/api/search?q=magnitsky&as_of={value}&format=ris").status_code == 400


def test_as_of_accepts_iso_forms_and_reads_them_as_utc(client: FlaskClient) -> None:
    live = client.get("/api/search?q=magnitsky").json
    t = now_iso()
    for value, expected in (
        (t, t),
        (t.replace("Z", "+00:00"), t),
        (t[:-1], t),  # no offset: UTC
        ("2020-06-30", "2020-06-30T23:59:59Z"),  # a date: the end of that day
        ("2020-07-01T02:00:00+02:00", "2020-07-01T00:00:00Z"),
    ):
        body = client.get("/api/search", query_string={"q": "magnitsky", "as_of": value}).json
        assert body["as_of"] == expected and body["historic"], value
    # the sample archive was ingested after 2020: nothing was there then
    assert client.get("/api/search?q=magnitsky&as_of=2020-06-30").json["total"] == 0
    same = client.get(f"/api/search?q=magnitsky&as_of={t}").json
    assert {h["id"] for h in same["hits"]} == {h["id"] for h in live["hits"]}
    assert same["total"] == live["total"] and same["facets"] == live["facets"]


def test_a_long_catch_up_goes_on_over_several_searches(tmp_path: Path) -> None:
    """A web request must answer: the history index is brought up to date a batch at a time
    within a budget; what was committed stays, and the next search goes on from there."""
    settings = Settings().with_data_dir(tmp_path / "data")
    src = tmp_path / "src"
    src.mkdir()
    lib = open_library(settings)
    try:
        _ingest(lib, settings, [_doc(src, f"note-{n}", f"A {WORD} note {n}.") for n in range(5)])
        history = History(lib.archive)
        history.batch = 2
        for done, missing in ((2, 5), (4, 3)):  # one batch per call, then the budget is spent
            with pytest.raises(IndexUnavailable, match=f"[(]2 of {missing} versions added"):
                history.catch_up(budget=0.0)
            assert len(history.backend.doc_ids()) == done
        assert history.catch_up(budget=0.0) == 1
        assert len(history.backend.doc_ids()) == 5 and history.catch_up(budget=0.0) == 0
        history.close()
        t = now_iso()
        assert lib.search.search(WORD, as_of=t).total == 5
    finally:
        lib.close()
