"""OCR of scanned PDF pages with the real OCRmyPDF and Tesseract, through the real command line.

Kept few and small: OCR costs seconds per page on two shared cores. The corpus run reads the two
scans of ../shared/corpus/scans/ (one of them mixes text and scanned pages) and an image-only
fixture; the other tests build one-page scans of their own (text set by fpdf2, rasterised by
Ghostscript, which OCRmyPDF needs anyway, and wrapped as an image-only PDF).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from fpdf import FPDF

from magsearch.archive import sha256_bytes
from magsearch.ingest.ocr import _sidecar_pages, tesseract_languages, unavailable
from magsearch.ingest.registry import parse_bytes

MAGSEARCH = [sys.executable, "-m", "magsearch.cli"]
WHY = unavailable()
pytestmark = pytest.mark.skipif(bool(WHY), reason=f"OCR unavailable: {WHY}")


def run(data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*MAGSEARCH, "--data", str(data), *args],
        capture_output=True,
        text=True,
        timeout=900,
        env={**os.environ, "MAGSEARCH_OCR": "auto"},
    )


def results(proc: subprocess.CompletedProcess[str]) -> dict[str, dict]:
    lines = [json.loads(ln) for ln in proc.stdout.splitlines() if ln.startswith("{")]
    return {Path(r["path"]).name: r for r in lines}


def search(data: Path, query: str) -> dict:
    proc = run(data, "search", "--json", "--limit", "20", query)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def anchors(found: dict, doc_id: str) -> list[tuple[str, bool]]:
    return [
        (p["anchor"], p["ocr"]) for h in found["hits"] if h["id"] == doc_id for p in h["passages"]
    ]


def text_pdf(pages: list[list[str]]) -> bytes:
    pdf = FPDF()
    pdf.set_font("helvetica", size=14)
    for lines in pages:
        pdf.add_page()
        for line in lines:
            pdf.multi_cell(w=0, text=line, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def scanned(pdf_bytes: bytes, folder: Path, dpi: int = 200) -> list[Path]:
    """Each page of a PDF as a grey PNG, the way a scanner would give it."""
    folder.mkdir(parents=True, exist_ok=True)
    source = folder / "source.pdf"
    source.write_bytes(pdf_bytes)
    subprocess.run(
        ["gs", "-q", "-dBATCH", "-dNOPAUSE", "-dSAFER", "-sDEVICE=pnggray", f"-r{dpi}",
         f"-sOutputFile={folder}/page-%d.png", str(source)],
        check=True, timeout=120,
    )  # fmt: skip
    return sorted(folder.glob("page-*.png"), key=lambda p: int(p.stem.split("-")[1]))


def mixed_pdf(pages: list[Path | list[str]]) -> bytes:
    """A PDF whose pages are either scans (an image, no text) or text."""
    pdf = FPDF()
    pdf.set_font("helvetica", size=14)
    for page in pages:
        pdf.add_page()
        if isinstance(page, Path):
            pdf.image(str(page), x=0, y=0, w=pdf.w, h=pdf.h)
        else:
            for line in page:
                pdf.multi_cell(w=0, text=line, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


SCANS = [
    "scans/ocrmypdf__c02-22.pdf",
    "scans/ocrmypdf__multipage.pdf",
    "pdf-fixtures/ingest__jbig2.pdf",
]


@pytest.fixture(scope="module")
def corpus_ocr(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    folder = tmp_path_factory.mktemp("scans")
    for name in SCANS:
        shutil.copy(corpus / name, folder)
    data = tmp_path_factory.mktemp("ocr-data")
    proc = run(data, "ingest", "--json", str(folder))
    assert proc.returncode == 0, proc.stderr
    return {"data": data, "folder": folder, "results": results(proc)}


def test_scans_are_read_on_the_pages_that_need_it(corpus_ocr: dict) -> None:
    res = corpus_ocr["results"]
    assert res["ocrmypdf__c02-22.pdf"]["warnings"] == ["OCR (eng) on page 1"]
    # a mixed document: page 4 has a text layer and keeps it; only the scanned pages are read
    assert res["ocrmypdf__multipage.pdf"]["warnings"] == ["OCR (eng) on pages 1-3, 5-6"]
    assert res["ingest__jbig2.pdf"]["warnings"] == ["OCR (eng) on pages 1-5"]
    assert not any("OCR needed" in w for r in res.values() for w in r["warnings"])


def test_words_of_scans_are_found_on_the_right_page(corpus_ocr: dict) -> None:
    data, res = corpus_ocr["data"], corpus_ocr["results"]
    huck, multi = res["ocrmypdf__c02-22.pdf"]["id"], res["ocrmypdf__multipage.pdf"]["id"]
    found = search(data, '"Miss Watson"')
    assert ("page-1", True) in anchors(found, huck)
    assert ("page-1", True) in anchors(found, multi)  # the same Huckleberry Finn page, page 1
    found = search(data, '"throne of England"')
    assert {h["id"] for h in found["hits"]} == {multi}
    assert set(anchors(found, multi)) <= {("page-5", True), ("page-6", True)}
    assert anchors(found, multi)
    found = search(data, "megapixels")  # a 9000 x 9000 pixel page (its "81" is read as "S|]")
    assert anchors(found, multi) == [("page-2", True)]
    found = search(data, '"JBIG2 compression"')
    assert ("page-1", True) in anchors(found, res["ingest__jbig2.pdf"]["id"])


def test_a_mixed_document_keeps_its_text_layer_page(corpus: Path, corpus_ocr: dict) -> None:
    data, res = corpus_ocr["data"], corpus_ocr["results"]
    shown = json.loads(run(data, "show", "--json", res["ocrmypdf__multipage.pdf"]["id"]).stdout)
    flags = {p["page"]: p["ocr"] for p in shown["passages"]}
    assert flags == {1: True, 2: True, 3: True, 4: False, 5: True, 6: True}
    own = parse_bytes((corpus / "scans/ocrmypdf__multipage.pdf").read_bytes())
    page4 = " ".join(" ".join(b.text for b in own.blocks if b.page == 4).split())
    assert [" ".join(p["text"].split()) for p in shown["passages"] if p["page"] == 4] == [page4]


def test_originals_stay_byte_for_byte(corpus_ocr: dict) -> None:
    data, folder = corpus_ocr["data"], corpus_ocr["folder"]
    for name in SCANS:
        digest = sha256_bytes((folder / Path(name).name).read_bytes())
        assert corpus_ocr["results"][Path(name).name]["version"] == digest
        assert sha256_bytes((data / "objects" / digest[:2] / digest).read_bytes()) == digest
    check = run(data, "check")
    assert check.returncode == 0, check.stderr


def test_the_document_page_and_the_api_say_what_ocr_read(corpus_ocr: dict) -> None:
    from magsearch.config import Settings
    from magsearch.web import create_app

    doc_id = corpus_ocr["results"]["ocrmypdf__c02-22.pdf"]["id"]
    app = create_app(Settings().with_data_dir(corpus_ocr["data"]))
    try:
        client = app.test_client()
        page = client.get(f"/d/{doc_id}")
        api = client.get("/api/search?q=tip-toeing").get_json()
    finally:
        app.extensions["magsearch"].close()
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "was read by OCR from a scan" in html and 'class="ocr-badge"' in html
    hit = next(h for h in api["hits"] if h["id"] == doc_id)
    assert hit["passages"][0]["ocr"] is True


def test_ocr_never_and_always(corpus: Path, tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(corpus / "scans/ocrmypdf__c02-22.pdf", folder)
    (folder / "typed.pdf").write_bytes(text_pdf([["Visa bans under the Magnitsky Act."]]))
    never = results(run(tmp_path / "a", "ingest", "--json", "--ocr", "never", str(folder)))
    assert never["ocrmypdf__c02-22.pdf"]["warnings"][0] == "no text layer on page 1; OCR needed"
    assert never["typed.pdf"]["warnings"] == []
    always = results(
        run(tmp_path / "b", "ingest", "--json", "--ocr", "always", str(folder / "typed.pdf"))
    )
    assert always["typed.pdf"]["warnings"] == ["OCR (eng) on page 1"]
    found = search(tmp_path / "b", '"Magnitsky Act"')
    assert anchors(found, always["typed.pdf"]["id"]) == [("page-1", True)]


FRENCH = [
    "Le Conseil a adopté le règlement relatif aux mesures restrictives à l'encontre des personnes "
    "responsables de la détention et du décès de Sergueï Magnitski. Les avoirs de ces personnes "
    "sont gelés et leur entrée sur le territoire de l'Union est interdite. La présente décision "
    "entre en vigueur le jour de sa publication et elle est réexaminée chaque année par le Conseil."
]


def test_the_language_is_detected_and_scanned_pages_only_are_read(tmp_path: Path) -> None:
    images = scanned(text_pdf([FRENCH]), tmp_path / "scan")
    folder = tmp_path / "in"
    folder.mkdir()
    # a scan alone: nothing says its language, so it is read in English, found French, read again
    (folder / "scan.pdf").write_bytes(mixed_pdf([images[0]]))
    # a scan between typed pages: the language of the typed pages is the document's
    typed = ["Page dactylographiée : les sanctions Magnitski de l'Union européenne et du Conseil."]
    end = ["Fin de la décision du Conseil."]
    (folder / "mixed.pdf").write_bytes(mixed_pdf([typed, images[0], end]))
    res = results(run(tmp_path / "data", "ingest", "--json", str(folder)))
    assert res["scan.pdf"]["warnings"] == ["OCR (fra+eng) on page 1"]
    assert res["mixed.pdf"]["warnings"] == ["OCR (fra) on page 2"]
    found = search(tmp_path / "data", '"mesures restrictives"')
    assert anchors(found, res["mixed.pdf"]["id"]) == [("page-2", True)]
    assert anchors(found, res["scan.pdf"]["id"]) == [("page-1", True)]
    found = search(tmp_path / "data", '"sanctions Magnitski"')
    assert anchors(found, res["mixed.pdf"]["id"]) == [("page-1", False)]


def test_the_sidecar_language_wins(tmp_path: Path) -> None:
    images = scanned(text_pdf([FRENCH]), tmp_path / "scan")
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "decision.pdf").write_bytes(mixed_pdf([images[0]]))
    (folder / "decision.pdf.meta.json").write_text(json.dumps({"language": "fr"}))
    res = results(run(tmp_path / "data", "ingest", "--json", "--language", "de", str(folder)))[
        "decision.pdf"
    ]
    assert res["warnings"] == ["OCR (fra) on page 1"]


def test_language_codes_and_the_sidecar_text() -> None:
    assert tesseract_languages("fr") == "fra"
    assert tesseract_languages("German") == tesseract_languages("de-AT") == "deu"
    assert tesseract_languages("rus+eng") == "rus+eng"
    assert tesseract_languages("xx") == ""
    text = "[OCR skipped on page(s) 1-2]\fthird\n\f[OCR skipped on page(s) 4]\ffifth\n"
    assert _sidecar_pages(text) == {3: "third\n", 5: "fifth\n"}


def test_a_timed_out_ocr_is_ended_and_leaves_nothing_open(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import gc
    import warnings

    from magsearch.ingest import ocr

    page = scanned(text_pdf([["Sergei Magnitsky died in custody"]]), tmp_path, dpi=100)
    monkeypatch.setattr(ocr, "START_SECONDS", 0.0)  # no time for OCRmyPDF even to start
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(ocr.OcrFailed, match=r"^timed out after 0\.01 s$"):
            ocr.recognise(mixed_pdf(page), [1], "eng", page_seconds=0.01, memory_mb=1024)
        gc.collect()
    assert not [w for w in caught if issubclass(w.category, ResourceWarning)]
