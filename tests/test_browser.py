"""End to end in a real headless Chromium (Debian's, driven by Playwright; never a browser
download) against a real HTTP server over the bundled collection. Screenshots of the search page
and a document page go to test-artifacts/."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from chromium import WIDTHS, checked_page, launched, playwright
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

PHRASE = '"medical care given to the first applicant"'  # words of § 31 of the ruling


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    sample: Sample = sample_archive(tmp_path_factory)
    with serve_with_gunicorn(sample.data_dir, tmp_path_factory.mktemp("gunicorn") / "log") as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with launched() as b:
        yield b


@pytest.fixture
def page(browser: Any, base_url: str) -> Iterator[Any]:
    with checked_page(browser, base_url, clipboard=True) as pg:
        yield pg


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
    # the phrase is marked where it stands, whole (never its words alone)
    assert first.locator("mark", has_text="medical care given to the first applicant").count() >= 1
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
    page.locator(".version-note").get_by_role("link", name="read the current version").click()
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


# -- what a lawyer sees, at 1280 px and on a phone (390 px) -----------------------------------------


@pytest.fixture(params=WIDTHS, ids=lambda w: f"{w}px")
def sized(request: pytest.FixtureRequest, browser: Any, base_url: str) -> Iterator[Any]:
    width = request.param
    context = browser.new_context(
        viewport={"width": width, "height": 844 if width < 600 else 900},
        base_url=base_url,
        is_mobile=width < 600,
        has_touch=width < 600,
    )
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base_url)
    pg = context.new_page()
    pg.width = width
    problems: list[str] = []
    pg.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
    pg.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    yield pg
    context.close()
    assert not problems, problems


def no_sideways_scroll(page: Any) -> None:
    """Nothing sticks out of the viewport: the page does not scroll sideways, and no element is
    wider than the page (a long identifier wraps)."""
    width = page.evaluate("window.innerWidth")
    assert page.evaluate("document.documentElement.scrollWidth") <= width, page.url
    wide = page.evaluate(
        """() => Array.from(document.querySelectorAll('main *'))
            .filter(e => e.getClientRects().length && e.getBoundingClientRect().right > window.innerWidth + 1)
            .filter(e => !e.closest('.visually-hidden, .offscreen'))
            .map(e => e.tagName + '.' + e.className + ': ' + (e.textContent || '').slice(0, 40))"""
    )
    assert not wide, (page.url, wide[:5])


def test_no_page_scrolls_sideways(sized: Any) -> None:
    for url in ("/", "/search?q=Magnitskiy+custody", f"/d/{RULING_ID}", f"/d/{AMENDED_ID}",
                "/d/eu-regulation-2020-1998", f"/d/{RULING_ID}/cite"):  # fmt: skip
        sized.goto(url)
        no_sideways_scroll(sized)
    sized.goto(f"/d/{RULING_ID}")
    ecli = sized.locator(".doc-facts .ident", has_text="ECLI:CE:ECHR")
    playwright.expect(ecli).to_be_visible()
    box = ecli.bounding_box()
    assert box["x"] + box["width"] <= sized.width  # the ECLI wraps, whole, inside the page
    shot(sized, f"document-{sized.width}")


def test_filters_are_reachable_from_the_top_of_the_results(sized: Any) -> None:
    sized.goto("/search?q=Magnitsky")
    shot(sized, f"search-{sized.width}")
    if sized.width >= 1000:  # beside the results
        playwright.expect(sized.locator("#facets-h")).to_be_in_viewport()
        return
    jump = sized.get_by_role("link", name="Filter results")
    playwright.expect(jump).to_be_in_viewport()  # at the top, before ~6,000 px of results
    jump.click()
    playwright.expect(sized.locator("#facets-h")).to_be_in_viewport()
    sized.locator("section.facet", has_text="Kind").get_by_role("link", name="Ruling").click()
    sized.wait_for_url("**kind=ruling*")
    kinds = sized.locator("ol.hits .kind").all_inner_texts()
    assert kinds and all(k.strip().lower().startswith("ruling") for k in kinds)
    shot(sized, f"search-filtered-{sized.width}")


def test_the_judgment_first_and_its_press_release_marked(sized: Any) -> None:
    sized.goto("/search?q=Magnitskiy+custody&kind=ruling")
    hits = sized.locator("ol.hits > li")
    assert hits.nth(0).locator("h2").inner_text() == "Magnitskiy and Others v. Russia"
    assert "PRESS RELEASE" in hits.nth(1).locator(".kind").inner_text().upper()
    assert (
        "Press Release, Eur. Ct. H.R." in hits.nth(1).locator(".cite-in:not([hidden])").inner_text()
    )


def test_the_result_line_in_the_chosen_style_remembered(sized: Any) -> None:
    sized.goto("/search?q=Magnitskiy+custody")
    first = sized.locator("ol.hits > li").first
    line = first.locator(".cite-in:not([hidden])")
    assert line.count() == 1 and "Eur. Ct. H.R. Aug. 27, 2019" in line.inner_text()  # Bluebook
    sized.get_by_label("Citations in").select_option("oscola")
    assert "(ECtHR, 27 August 2019)" in line.inner_text()
    line.get_by_role("button", name="Copy citation").click()
    copied = sized.evaluate("navigator.clipboard.readText()")
    assert copied.startswith("Magnitskiy and Others v Russia App nos 32631/09")
    sized.goto("/search?q=Canada")  # another page: the choice is remembered
    assert sized.get_by_label("Citations in").input_value() == "oscola"
    assert "SC 2017, c 21" in sized.locator(".cite-in:not([hidden])").first.inner_text() or any(
        "SC 2017, c 21" in t for t in sized.locator(".cite-in:not([hidden])").all_inner_texts()
    )
    sized.get_by_label("Citations in").select_option("mcgill")
    texts = sized.locator(".cite-in:not([hidden])").all_inner_texts()
    assert any(
        "Justice for Victims of Corrupt Foreign Officials Act (Sergei Magnitsky Law), SC 2017, c 21."
        in t
        for t in texts
    ), texts
    shot(sized, f"search-mcgill-{sized.width}")


def test_an_old_paragraph_link_says_where_it_landed(sized: Any) -> None:
    sized.goto(f"/d/{AMENDED_ID}#{VANISHED_ANCHOR}")
    sized.wait_for_url(f"**/d/{AMENDED_ID}/v/*#{VANISHED_ANCHOR}")
    playwright.expect(sized.locator(f"#{VANISHED_ANCHOR}")).to_be_in_viewport()
    bar = sized.locator(".version-bar")
    playwright.expect(bar).to_be_in_viewport()
    assert "Version 1 of 2" in bar.inner_text()
    target = sized.locator(f"#{VANISHED_ANCHOR}").bounding_box()
    box = bar.bounding_box()
    assert target["y"] + 20 < box["y"]  # the passage's start is not under the bar
    shot(sized, f"old-version-{sized.width}")
    bar.get_by_role("link", name="Read the current version").click()
    sized.wait_for_url(f"**/d/{AMENDED_ID}")
    assert sized.locator(".version-bar").count() == 0


def test_pinpoints_and_cited_by_labels(sized: Any) -> None:
    sized.goto(f"/d/{RULING_ID}")
    pins = sized.locator(".passage-tools a.pin").all_inner_texts()
    assert "§ 31" in pins and not any(p.startswith("¶ ") and p[2:].isdigit() for p in pins)
    cited_by = sized.locator("#cited-by .where a").all_inner_texts()
    assert cited_by and not any(t.startswith("p-") for t in cited_by), cited_by
    sized.goto("/d/us-eo-13818-2017")
    section = sized.locator("#cites-elsewhere")
    sized.locator("#cites-elsewhere").scroll_into_view_if_needed()
    assert (
        "50 U.S.C. 1701" in section.inner_text() and section.locator("a[href^='/d/']").count() == 0
    )
    shot(sized, f"unlinked-{sized.width}")


def test_the_home_page_describes_the_archive_served(sized: Any) -> None:
    sized.goto("/")
    lede = sized.locator(".lede").inner_text()
    assert "documents (" in lede and "rulings" in lede and "pieces of legislation" in lede
    assert sized.locator("#newest-h").count() == 1
    shot(sized, f"home-{sized.width}")
