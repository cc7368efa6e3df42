"""/verify in a real headless Chromium (Debian's, driven by Playwright) against a real gunicorn
over the sample archive: paste a brief, read the verdicts, follow a quotation to its paragraph,
upload a brief as a file. Screenshots go to test-artifacts/."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from chromium import WIDTHS, checked_page, launched, playwright
from webfixtures import ARTIFACTS, RULING_ID, Sample, sample_archive, serve_with_gunicorn

pytestmark = pytest.mark.browser


BRIEF = """The Court found that "the authorities had had reasonable grounds to suspect him of
involvement in tax evasion when they arrested him". Magnitskiy and Others v. Russia,
no. 32631/09, § 41. It added that the complaint "was therefore clearly ill-founded, and the
Court rejected it as inadmissible". Id., § 41. It never said "sanctions are optional on
Tuesdays". Smith v. Jones, 999 F.3d 1234 (9th Cir. 2021); Pub. L. 112-208, § 499.
"""


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
    with checked_page(browser, base_url) as pg:
        yield pg


def shots(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(ARTIFACTS / f"verify-{name}-{width}.png"), full_page=True)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 1, f"/verify scrolls sideways at {width} px ({overflow} px)"
    page.set_viewport_size({"width": WIDTHS[0], "height": 900})


def test_paste_a_brief_read_the_verdicts_and_follow_a_quotation(page: Any) -> None:
    page.goto("/")
    page.get_by_role("link", name="Verify a brief").click()
    page.wait_for_url("**/verify")
    page.get_by_label("Text of the brief").fill(BRIEF)
    page.get_by_role("button", name="Verify").click()
    page.wait_for_load_state()
    items = page.locator("ol.verify-items > li")
    statuses = [s.strip() for s in items.locator(".verify-status").all_inner_texts()]
    assert [s.lower() for s in statuses] == [
        "exact", "found", "altered", "found", "not found", "not in the archive",
        "no such paragraph",
    ]  # fmt: skip
    playwright.expect(page.locator(".verify-summary")).to_contain_text("to look at")
    altered = page.locator("li.status-altered")
    playwright.expect(altered.locator(".verify-diff del")).to_have_text("manifestly")
    playwright.expect(altered.locator(".verify-diff ins")).to_have_text("clearly")
    # the pasted text stays in the box, to be corrected and verified again
    assert "999 F.3d 1234" in page.get_by_label("Text of the brief").input_value()
    shots(page, "results")
    exact = page.locator("li.status-exact").first
    exact.get_by_role("link", name="Magnitskiy and Others v. Russia, § 41").click()
    page.wait_for_url(f"**/d/{RULING_ID}#para-41")
    target = page.locator("#para-41")
    playwright.expect(target).to_be_in_viewport()
    assert "reasonable grounds to suspect him" in target.inner_text()


def test_upload_a_brief_as_a_file(page: Any, tmp_path: Path) -> None:
    brief = tmp_path / "brief.html"
    brief.write_text(
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>Brief</title></head>"
        "<body><p>The Court held that the complaint “was therefore manifestly ill-founded, and "
        "the Court rejected it as inadmissible”. Magnitskiy and Others v. Russia, "
        "nos. 32631/09 and 53799/12, § 41.</p></body></html>",
        encoding="utf-8",
    )
    page.goto("/verify")
    page.get_by_label("…or a file (text, PDF, HTML)").set_input_files(str(brief))
    page.get_by_role("button", name="Verify").click()
    page.wait_for_load_state()
    playwright.expect(page.locator(".verify-summary")).to_contain_text("everything checks out")
    statuses = page.locator("ol.verify-items .verify-status").all_inner_texts()
    assert [s.strip().lower() for s in statuses] == ["exact", "found"]
    shots(page, "upload")
