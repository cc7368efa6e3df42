"""Debian's Chromium driven by Playwright, for the browser tests (never a browser download).

Importing this module skips the importing test module, with the reason, when Chromium or Playwright
is missing (`make browser` installs Chromium)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
# without the background-networking flags Chromium's connections are refused on a closed network
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
WIDTHS = (1280, 390)  # every page is looked at on a desktop and on a phone

if not CHROMIUM.exists() or shutil.which(str(CHROMIUM)) is None:
    pytest.skip(
        f"no Chromium at {CHROMIUM} (Debian's chromium package: `make browser`)",
        allow_module_level=True,
    )
playwright = pytest.importorskip(
    "playwright.sync_api", reason="Playwright for Python is not installed"
)


@contextmanager
def launched() -> Iterator[Any]:
    """A headless Chromium, closed afterwards."""
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            yield browser
        finally:
            browser.close()


@contextmanager
def checked_page(browser: Any, base_url: str, *, clipboard: bool = False) -> Iterator[Any]:
    """A page 1280 px wide in a fresh context; afterwards, no script error, no CSP violation and no
    missing resource may have been reported on it."""
    context = browser.new_context(viewport={"width": WIDTHS[0], "height": 900}, base_url=base_url)
    if clipboard:
        context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base_url)
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    try:
        yield page
    finally:
        context.close()
    assert not problems, problems
