"""The comparison of the Magnitsky laws in a real headless Chromium (Debian's, driven by
Playwright) against a real gunicorn over the bundled collection with its confirmed set: the table,
a cell followed to its section, a section's parallels page. Screenshots go to test-artifacts/."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from chromium import WIDTHS, checked_page, launched, playwright
from magsearch import parallels
from magsearch.config import Settings
from magsearch.ingest.pipeline import Ingester, find_files
from magsearch.library import open_library
from webfixtures import ARTIFACTS, BUNDLED, serve_with_gunicorn

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("compare-browser")
    settings = Settings().with_data_dir(root / "data")
    lib = open_library(settings)
    try:
        results = Ingester(lib.archive, lib.index, settings).run(find_files([BUNDLED]))
        assert not [r for r in results if r.status == "failed"]
        assert parallels.load(lib.archive, BUNDLED / ".parallels.json", actor="test") > 0
    finally:
        lib.close()
    with serve_with_gunicorn(settings.data_dir, root / "gunicorn.log") as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with launched() as b:
        yield b


@pytest.fixture
def page(browser: Any, base_url: str) -> Iterator[Any]:
    with checked_page(browser, base_url) as pg:
        yield pg


def shots(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(ARTIFACTS / f"compare-{name}-{width}.png"), full_page=True)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 1, f"{name} scrolls sideways at {width} px ({overflow} px)"
    page.set_viewport_size({"width": WIDTHS[0], "height": 900})


def test_the_laws_side_by_side_each_cell_linking_its_section(page: Any) -> None:
    page.goto("/")
    page.get_by_role("link", name="Compare the Magnitsky laws").click()
    page.wait_for_url("**/compare")
    table = page.locator("table.compare")
    heads = table.locator("thead th").all_inner_texts()
    assert len(heads) == 7 and heads[0] == "Topic"
    rows = table.locator("tbody tr")
    assert rows.locator("th").all_inner_texts() == [
        "Who may be designated", "What the sanctions are", "How a designation ends",
        "Reports to the legislature",
    ]  # fmt: skip
    # an unnumbered paragraph is linked by its opening words
    eu_end = rows.nth(2).locator("td").nth(5).locator("a.compare-cell")
    playwright.expect(eu_end).to_contain_text("The Council establishes and amends the list")
    shots(page, "table")
    designation = rows.nth(0)
    canada = designation.locator("a.compare-cell[href$='/d/ca-magnitsky-law-2017/anchor/sec-4-2']")
    playwright.expect(canada).to_have_text("s. 4(2)")
    canada.click()
    page.wait_for_url("**/d/ca-magnitsky-law-2017#sec-4-2")
    playwright.expect(page.locator("#sec-4-2")).to_be_in_viewport()
    # the section's own page: its confirmed parallels, then suggestions
    page.locator("#sec-4-2").get_by_role("link", name="Parallels").click()
    page.wait_for_url("**/d/ca-magnitsky-law-2017/parallels/sec-4-2")
    confirmed = page.locator("ul.parallels.confirmed > li")
    assert confirmed.count() == 5  # one in each other law of the topic
    playwright.expect(confirmed.first).to_contain_text("Who may be designated")
    shots(page, "section")
