"""Inputs that are too big in one dimension: a PDF with 100,001 pages in 1 kB, a passage of
megabytes. Each is refused with a one-line reason or cut to a bounded size."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from flask import Flask

from magsearch.archive import Archive, NewVersion
from magsearch.config import Settings
from magsearch.errors import IngestError
from magsearch.index.sync import index_documents
from magsearch.index.whoosh import WhooshIndex
from magsearch.ingest.pdf import PdfParser
from magsearch.ingest.pipeline import Ingester, find_files
from magsearch.library import open_library
from magsearch.models import Block, Passage
from magsearch.search import SearchService
from magsearch.structure import MAX_PASSAGE_CHARS, segment
from magsearch.views import PART_CHARS
from magsearch.web import create_app

MAGSEARCH = Path(sys.executable).with_name("magsearch")


def many_pages_pdf(declared: int) -> bytes:
    """A PDF of 100,001 pages in about 1 kB: one page object, reached through shared /Pages nodes
    (ten kids each, five levels: 10**5 pages) and once more from the root. `declared` is the
    root's /Count (a file may lie about it)."""
    objs = {
        1: b"<< /Type /Catalog /Pages 2 0 R >>",
        2: b"<< /Type /Pages /Kids [7 0 R 3 0 R] /Count %d >>" % declared,
        7: b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>",
    }
    chain = [3, 4, 5, 6, 8, 7]
    for level, (node, kid) in enumerate(zip(chain, chain[1:], strict=False)):
        kids = b" ".join(b"%d 0 R" % kid for _ in range(10))
        objs[node] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, 10 ** (5 - level))
    out = bytearray(b"%PDF-1.4\n")
    offsets = {}
    for n in sorted(objs):
        offsets[n] = len(out)
        out += b"%d 0 obj\n%s\nendobj\n" % (n, objs[n])
    xref, size = len(out), max(objs) + 1
    out += b"xref\n0 %d\n0000000000 65535 f \n" % size
    for n in range(1, size):
        out += b"%010d 00000 n \n" % offsets[n] if n in offsets else b"0000000000 65535 f \n"
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (size, xref)
    return bytes(out)


@pytest.mark.parametrize(
    ("declared", "message"),
    [
        (100_001, "too many pages (100001 > 5000)"),
        (1, "too many pages (more than 5000)"),  # a /Count that lies: the walk stops early
    ],
)
def test_a_pdf_with_100001_pages_is_too_many_pages(declared: int, message: str) -> None:
    data = many_pages_pdf(declared)
    assert len(data) < 2000
    with pytest.raises(IngestError) as caught:
        PdfParser().parse(data, max_pages=5000)
    assert str(caught.value) == message


def test_ingest_reports_too_many_pages_for_that_file(tmp_path: Path) -> None:
    inbox = tmp_path / "in"
    inbox.mkdir()
    (inbox / "huge.pdf").write_bytes(many_pages_pdf(100_001))
    (inbox / "fine.txt").write_text("A short note on the Magnitsky case.\n")
    proc = subprocess.run(
        [str(MAGSEARCH), "--data", str(tmp_path / "data"), "ingest", "--json", str(inbox)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 1, proc.stderr
    rows = {Path(r["path"]).name: r for r in map(json.loads, proc.stdout.splitlines())}
    assert rows["huge.pdf"]["status"] == "failed"
    assert rows["huge.pdf"]["error"].startswith("too many pages")
    assert rows["fine.txt"]["status"] == "ingested"


# -- passages of bounded size ------------------------------------------------------------------
def _words(n_chars: int, seed: int = 0) -> str:
    words = "court detention applicant custody medical care sanctions assets freeze".split()
    out, size, i = [], 0, seed
    while size < n_chars:
        w = words[i % len(words)]
        out.append(w)
        size += len(w) + 1
        i += 7
    return " ".join(out)


def test_a_huge_paragraph_becomes_bounded_pieces_with_meaningful_anchors() -> None:
    """Before: a 12 MB text node was one 12 MB passage."""
    huge = _words(3 * MAX_PASSAGE_CHARS + 5000)
    blocks = [Block(f"{n}. The applicant {_words(200, seed=n)}.") for n in range(1, 41)]
    blocks += [Block("41. " + huge), Block("42. The Court holds there has been a violation.")]
    passages = segment(blocks, "ruling")
    anchors = [p.anchor for p in passages]
    assert anchors[39:] == [
        "para-40", "para-41", "para-41-part2", "para-41-part3", "para-41-part4", "para-42",
    ]  # fmt: skip
    assert all(len(p.text) <= MAX_PASSAGE_CHARS for p in passages)
    pieces = [p for p in passages if p.anchor.startswith("para-41")]
    assert {p.label for p in pieces} == {"§ 41"}
    assert " ".join(p.text for p in pieces).split() == ("41. " + huge).split()  # nothing lost
    assert [p.seq for p in passages] == list(range(len(passages)))


def test_unnumbered_text_is_cut_at_paragraph_breaks_first() -> None:
    paras = [_words(8000, seed=k) for k in range(6)]
    passages = segment([Block("\n\n".join(paras))], "article")
    assert all(len(p.text) <= MAX_PASSAGE_CHARS for p in passages)
    assert len(passages) == 3 and passages[1].anchor == passages[0].anchor + "-part2"
    assert all(p.text.endswith(paras[2 * i + 1]) for i, p in enumerate(passages))


@pytest.fixture(scope="module")
def big_page(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Flask, str]]:
    """The bundled collection and one HTML page whose only paragraph is a 2.5 MB text node."""
    root = tmp_path_factory.mktemp("big")
    page = root / "big.html"
    text = _words(2_500_000)
    page.write_text(
        f"<!DOCTYPE html><html><head><title>A very large page</title></head>"
        f"<body><p>Sergei Magnitsky. {text}</p></body></html>"
    )
    settings = replace(Settings().with_data_dir(root / "data"), search_rate_limit="off")
    lib = open_library(settings)
    results = Ingester(lib.archive, lib.index, settings).run(find_files([page]))
    assert [r.status for r in results] == ["ingested"], results
    doc_id = results[0].id
    lib.close()
    app = create_app(settings)
    yield app, doc_id
    app.extensions["magsearch"].close()


def test_a_long_text_is_shown_in_parts_and_permalinks_find_their_part(
    big_page: tuple[Flask, str],
) -> None:
    """Before: the document page held the whole 2.5 MB text (12.6 MB for a 12 MB node)."""
    app, doc_id = big_page
    client = app.test_client()
    first = client.get(f"/d/{doc_id}")
    assert first.status_code == 200
    html = first.get_data(as_text=True)
    assert len(html) < 2 * PART_CHARS  # bounded, whatever the size of the text
    parts = int(re.search(r"shown in (\d+) parts", html)[1])  # type: ignore[index]
    assert parts == pytest.approx(2_500_000 / PART_CHARS, abs=1)
    anchors = re.findall(r'<div class="passage" id="([^"]+)"', html)
    last = client.get(f"/d/{doc_id}?part={parts}").get_data(as_text=True)
    tail = re.findall(r'<div class="passage" id="([^"]+)"', last)[-1]
    assert tail.startswith(anchors[0] + "-part")
    moved = client.get(f"/d/{doc_id}/anchor/{tail}")
    assert moved.status_code == 302
    assert moved.headers["Location"] == f"/d/{doc_id}?part={parts}#{tail}"
    assert client.get(f"/d/{doc_id}/anchor/{anchors[0]}").headers["Location"] == (
        f"/d/{doc_id}#{anchors[0]}"
    )
    assert client.get(f"/d/{doc_id}?part={parts + 1}").status_code == 404
    assert client.get(f"/d/{doc_id}?part=x").status_code == 404


def test_search_in_a_huge_text_gives_bounded_snippets(big_page: tuple[Flask, str]) -> None:
    app, doc_id = big_page
    res = app.test_client().get("/api/search", query_string={"q": "custody sanctions"}).get_json()
    hit = next(h for h in res["hits"] if h["id"] == doc_id)
    assert hit["passages"] and all(len(p["snippet"]) < 2000 for p in hit["passages"])


def test_the_time_limit_holds_for_snippets(tmp_path: Path) -> None:
    """Snippets of 180 passages of 20,000 characters take far longer than a 0.15 s limit: past it,
    the passages' opening words stand in and the response says partial. Before: partial false."""
    archive = Archive(tmp_path)
    text = ("Sergei Magnitsky was detained in custody and died. " * 400)[: MAX_PASSAGE_CHARS - 20]
    for n in range(60):
        paras = [f"{text} {n} {k}" for k in range(3)]
        data = "\n".join(paras).encode()
        archive.record_version(
            NewVersion(
                doc_id=f"d{n}", sha256=archive.put_original(data), kind="article", title=f"D {n}",
                media_type="text/plain", size=len(data), filename=f"d{n}.txt", pages=None,
                warnings=(),
                passages=tuple(Passage(i, f"p-{i}", f"¶ {i + 1}", t) for i, t in enumerate(paras)),
            )
        )  # fmt: skip
    index = WhooshIndex(tmp_path / "index")
    index_documents(archive, index, archive.document_ids())
    settings = replace(Settings().with_data_dir(tmp_path), search_time_limit=0.15)
    res = SearchService(archive, index, settings).search("magnitsky custody", per_page=100)
    assert res.partial is True
    snippets = [p.snippet for h in res.hits for p in h.passages]
    assert len(res.hits) == 60 and len(snippets) == 180
    assert "<mark>" not in snippets[-1] and snippets[-1].startswith("Sergei Magnitsky was")
    index.close()
    archive.close()
