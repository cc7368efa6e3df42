"""The home page describes the archive it serves: counts per kind and the newest documents; the
bundled collection's own description only when that collection is what is served."""

from __future__ import annotations

import re
from pathlib import Path

from conftest import ARCHIVE, BUNDLED_DOCUMENTS, make_settings
from magsearch.ingest.pipeline import Ingester, find_files
from magsearch.library import open_library
from magsearch.web import create_app


def home(files: list[Path], data: Path) -> str:
    lib = open_library(make_settings(data, workers=1))
    try:
        Ingester(lib.archive, lib.index, lib.settings).run(find_files(files))
        app = create_app(lib.settings, {"TESTING": True, "MAGSEARCH_LIBRARY": lib})
        return app.test_client().get("/").get_data(as_text=True)
    finally:
        lib.close()


def test_another_archive_is_described_as_it_is(tmp_path: Path) -> None:
    page = home(
        [ARCHIVE / "us-executive-order-13818.html", ARCHIVE / "magnitskiy-v-russia.pdf"], tmp_path
    )
    assert "The ECHR judgment, the Magnitsky laws" not in page
    assert "Search the Magnitsky case archive" not in page and "<h1>Search the archive</h1>" in page
    assert "2 documents (1 piece of legislation, 1 ruling)" in page  # equal counts: by kind name
    newest = page[page.index('id="newest-h"') :]
    # by their own dates, newest first: the judgment (2019) before the order (2017)
    assert newest.index("Magnitskiy and Others v. Russia") < newest.index("Executive Order 13818")


def test_the_bundled_collection_is_described_when_served(tmp_path: Path) -> None:
    page = home([ARCHIVE], tmp_path)
    assert "The ECHR judgment, the Magnitsky laws" in page
    counts = re.search(
        r"(\d+) documents \((\d+) pieces of legislation, (\d+) articles, 2 rulings\)", page
    )
    assert counts and int(counts[1]) == BUNDLED_DOCUMENTS, page[:2000]
    assert int(counts[1]) == int(counts[2]) + int(counts[3]) + 2


def test_an_empty_archive_says_so(tmp_path: Path) -> None:
    page = home([], tmp_path)
    assert "No documents yet" in page and "0 documents" not in page
