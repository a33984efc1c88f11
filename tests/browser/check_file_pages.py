"""The built book opened from disk (``file://``), as from a zip or a USB stick: explorers included.

Run after ``make book`` with ``make browser-test``.  Chromium refuses ES-module
imports on ``file://`` pages, so the book serves its explorers as one classic
script (``usaav.explorers.classic_bundle``).  Every page is opened from its
file URL with every http(s) request aborted and logged; a page fails on any
such request, any console error, or a placeholder left unmounted, and on
every page with explorers the first one must play (its time advances) and
run to its end, where the time readout prints the end time exactly.
"""

from __future__ import annotations

import os

import pytest

from harness import BUILT_BOOK, book_pages, browser, missing_requirements, open_page, wait_for_math

reason = missing_requirements()
if reason is not None and os.environ.get("USAAV_REQUIRE_BROWSER"):
    raise RuntimeError(f"the browser checks must run here (USAAV_REQUIRE_BROWSER is set), but {reason}")
pytestmark = [pytest.mark.browser, pytest.mark.skipif(reason is not None, reason=reason or "")]
PAGES = book_pages() if reason is None else []
#: Every chapter, from the table of contents on disk: the pages a reader of the zip opens.
CHAPTERS = [p for p in PAGES if p.startswith("book/")]


@pytest.fixture(scope="module")
def instance():
    with browser() as chromium:
        yield chromium


@pytest.mark.parametrize("page_path", CHAPTERS)
def test_chapter_opened_from_disk_mounts_and_plays_its_explorers(instance, page_path):
    # Requests to file:// are not routed; anything else (a CDN) is outside the book and aborted.
    page, log = open_page(instance, BUILT_BOOK.as_uri())
    try:
        page.goto((BUILT_BOOK / page_path).as_uri(), wait_until="load")
        if page.locator(".math").count():
            assert wait_for_math(page) > 0, "the page has math but MathJax typeset none of it from disk"
        placeholders = page.locator("div.usaav-explorer").count()
        if placeholders:
            page.wait_for_function(f"() => document.querySelectorAll('.usaav-x').length === {placeholders}",
                                   timeout=15000)
            assert page.evaluate("() => window.usaavExplorers.names().length") >= 10
            root = page.locator(".usaav-x").first
            root.scroll_into_view_if_needed()
            if root.evaluate("(r) => r.usaavExplorer.run.animated"):
                root.evaluate("(r) => r.usaavExplorer.play()")
                page.wait_for_function("(r) => r.usaavExplorer.run.t > 0", arg=root.element_handle(), timeout=10000)
                end = root.evaluate("(r) => [r.usaavExplorer.advanceTo(Infinity), r.usaavExplorer.run.tMax]")
                assert end[0] == end[1]
                readout = root.locator('.usaav-x-readouts dd[data-key="t"]').inner_text()
                assert readout.split(" of ")[0] == readout.split(" of ")[1], readout
        assert not log.problems(), "\n".join(log.problems())
    finally:
        page.context.close()
