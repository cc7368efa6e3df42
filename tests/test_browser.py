"""End to end in a real headless Chromium (Debian's, driven by Playwright; never a browser
download) against a real HTTP server over the bundled collection. Screenshots of the search page
and a document page go to test-artifacts/."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from webfixtures import (
    AMENDED_ID,
    ARTIFACTS,
    RULING_ID,
    VANISHED_ANCHOR,
    Sample,
    sample_archive,
    serve_with_gunicorn,
)

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PHRASE = '"medical care given to the first applicant"'  # words of § 31 of the ruling

if not CHROMIUM.exists() or shutil.which(str(CHROMIUM)) is None:
    pytest.skip(
        f"no Chromium at {CHROMIUM} (Debian's chromium package: `make browser`)",
        allow_module_level=True,
    )
playwright = pytest.importorskip(
    "playwright.sync_api", reason="Playwright for Python is not installed"
)


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    sample: Sample = sample_archive(tmp_path_factory)
    with serve_with_gunicorn(sample.data_dir, tmp_path_factory.mktemp("gunicorn") / "log") as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with playwright.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser: Any, base_url: str) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=base_url)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base_url)
    pg = context.new_page()
    problems: list[str] = []
    pg.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
    pg.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    yield pg
    context.close()
    assert not problems, problems  # no script error, no CSP violation, no missing resource


def shot(page: Any, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path


def test_search_a_phrase_open_a_result_and_land_on_the_paragraph(page: Any, base_url: str) -> None:
    page.goto("/")
    page.get_by_label("Search the archive", exact=True).fill(PHRASE)
    page.keyboard.press("Enter")
    page.wait_for_url("**/search?q=*")
    assert page.title().startswith(PHRASE)
    first = page.locator("ol.hits > li").first
    assert "Magnitskiy and Others v. Russia" in first.locator("h2").inner_text()
    assert first.locator("mark").count() >= 2
    shot(page, "search")
    first.locator("a.pin[href$='#para-31']").click()
    page.wait_for_url(f"**/d/{RULING_ID}#para-31")
    target = page.locator("#para-31")
    playwright.expect(target).to_be_in_viewport()
    assert "medical care given to the first applicant" in target.inner_text()
    assert page.evaluate("document.querySelector(':target').id") == "para-31"
    shot(page, "document")


def test_copy_a_citation_and_a_passage_link(page: Any, base_url: str) -> None:
    page.goto(f"/d/{RULING_ID}#para-31")
    bluebook = page.locator("#cite-bluebook").inner_text()
    page.get_by_role("button", name="Copy Bluebook").click()
    playwright.expect(page.get_by_role("button", name="Copied")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == bluebook
    assert "App. Nos. 32631/09, 53799/12" in bluebook
    passage = page.locator("#para-31")
    passage.hover()
    passage.get_by_role("button", name="Copy link", exact=True).click()
    assert page.evaluate("navigator.clipboard.readText()") == f"{base_url}/d/{RULING_ID}#para-31"
    passage.get_by_role("button", name="Copy pinned link").click()
    pinned = page.evaluate("navigator.clipboard.readText()")
    assert pinned.startswith(f"{base_url}/d/{RULING_ID}/v/") and pinned.endswith("#para-31")


def test_follow_a_facet_and_remove_it(page: Any) -> None:
    page.goto("/search?q=magnitsky")
    total = page.locator("ol.hits > li").count()
    page.locator("section.facet", has_text="Kind").get_by_role("link", name="Legislation").click()
    page.wait_for_url("**kind=legislation*")
    kinds = page.locator("ol.hits .kind").all_inner_texts()
    assert kinds and {k.strip().lower() for k in kinds} == {"legislation"}
    assert page.locator("ol.hits > li").count() < total
    page.get_by_role("list", name="Active filters").get_by_role(
        "link", name="Kind: Legislation"
    ).click()
    page.wait_for_url("**/search?q=magnitsky")
    assert page.locator("ol.hits > li").count() == total


def test_open_a_pinned_version_and_a_moved_anchor(page: Any, base_url: str) -> None:
    page.goto(f"/d/{AMENDED_ID}")
    page.get_by_role("link", name="Read version 1").click()
    page.wait_for_url(f"**/d/{AMENDED_ID}/v/*")
    playwright.expect(page.get_by_text("A newer version exists")).to_be_visible()
    assert page.locator(f"#{VANISHED_ANCHOR}").count() == 1
    page.get_by_role("link", name="read the current version").click()
    page.wait_for_url(f"**/d/{AMENDED_ID}")
    # a permalink whose anchor is gone from the newest version lands on the version that had it
    page.goto(f"/d/{AMENDED_ID}#{VANISHED_ANCHOR}")
    page.wait_for_url(f"**/d/{AMENDED_ID}/v/*#{VANISHED_ANCHOR}")
    playwright.expect(page.locator(f"#{VANISHED_ANCHOR}")).to_be_in_viewport()


def test_keyboard_skip_link_and_visible_focus(page: Any) -> None:
    page.goto(f"/d/{RULING_ID}")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to main content")
    playwright.expect(skip).to_be_focused()
    playwright.expect(skip).to_be_in_viewport()
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline not in ("none", ""), "the focused element shows no outline"
    assert page.evaluate("document.activeElement.closest('main') !== null")


def test_works_without_javascript(browser: Any, base_url: str) -> None:
    context = browser.new_context(java_script_enabled=False, base_url=base_url)
    pg = context.new_page()
    try:
        pg.goto("/")
        pg.get_by_label("Search the archive", exact=True).fill("sanctions")
        pg.get_by_role("button", name="Search", exact=True).last.click()
        pg.wait_for_url("**/search?q=sanctions")
        pg.locator("ol.hits h2 a").first.click()
        pg.wait_for_load_state()
        assert pg.locator("#cite-bluebook").inner_text()
        assert pg.get_by_role("button", name="Copy Bluebook").is_hidden()  # shown only with JS
        assert pg.get_by_role("link", name="BibTeX").is_visible()
    finally:
        context.close()
