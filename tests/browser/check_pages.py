"""The built book in a real browser, offline: math, explorers, no outside request.

Run after ``make book`` with ``make browser-test`` (or ``pytest tests/browser``).
Skipped, with the reason, when there is no built book, no Playwright or no
Chromium.  Every page is loaded from a local server with every other request
aborted; a page fails on any request outside the book, any failed request
and any console error.  On pages with explorers every control of every
explorer is moved with the keyboard or a select, and the picture (canvas
pixels) and the printed readouts must change; dragging must turn the sphere;
play must advance the time.
"""

from __future__ import annotations

import pytest

from harness import PICTURE_JS, book_pages, browser, missing_requirements, open_page, serve, wait_for_math

reason = missing_requirements()
pytestmark = pytest.mark.skipif(reason is not None, reason=reason or "")
PAGES = book_pages() if reason is None else []
#: The simulated time at which pictures are compared: long enough for every
#: parameter to show (the dynamics separate within a few time units).
COMPARE_AT = 3.0


@pytest.fixture(scope="module")
def site():
    with serve() as origin, browser() as instance:
        yield origin, instance


def _load(site, page_path, **kwargs):
    origin, instance = site
    page, log = open_page(instance, origin, **kwargs)
    page.goto(f"{origin}/{page_path}", wait_until="load")
    return page, log


def _wait_for_explorers(page) -> int:
    """Wait until loader.js has mounted every placeholder; returns how many."""
    placeholders = page.locator("div.usaav-explorer").count()
    if placeholders:
        page.wait_for_function(f"() => document.querySelectorAll('.usaav-x').length === {placeholders}")
    return placeholders


@pytest.mark.parametrize("page_path", PAGES)
def test_page_is_offline_typeset_and_error_free(site, page_path):
    page, log = _load(site, page_path)
    try:
        formulas = wait_for_math(page)
        if page.locator(".math").count():
            assert formulas > 0, "the page has math but MathJax typeset none of it"
        _wait_for_explorers(page)
        page.wait_for_timeout(500)  # let explorers run a few frames: errors in the loop show up here
        assert not log.problems(), "\n".join(log.problems())
    finally:
        page.context.close()


def _explorer_pages():
    import re

    from harness import BUILT_BOOK

    return [p for p in PAGES if re.search('class="usaav-explorer"', (BUILT_BOOK / p).read_text(encoding="utf-8"))]


EXPLORER_PAGES = _explorer_pages() if reason is None else []


CHOICES_JS = """(r) => Object.fromEntries(r.usaavExplorer.run.definition.controls
  .filter((c) => c.type === 'choice').map((c) => [c.key, c.options.map(([v]) => v)]))"""
SET_JS = "(r, values) => { for (const [k, v] of Object.entries(values)) r.usaavExplorer.set(k, v); }"


def _picture(root, at):
    root.evaluate(f"(r) => r.usaavExplorer.advanceTo({at})")
    return root.evaluate(PICTURE_JS)


def _move(page, root, control):
    """Move one control as a reader would; returns a description."""
    kind = control.get_attribute("class")
    if "usaav-x-slider" in kind:
        slider = control.locator("input[type=range]")
        at_max = slider.evaluate("(s) => Number(s.value) >= Number(s.max)")
        slider.focus()
        page.keyboard.press("ArrowLeft" if at_max else "ArrowRight")
        return f"slider {control.get_attribute('data-key')} by one step"
    if "usaav-x-choice" in kind:
        select = control.locator("select")
        values = select.evaluate("(s) => [...s.options].map((o) => o.value)")
        current = select.input_value()
        select.select_option(next(v for v in values if v != current))
        return f"choice {control.get_attribute('data-key')}"
    if "usaav-x-text" in kind:
        field = control.locator("input")
        field.fill(field.input_value() + "X")
        field.press("Enter")
        return f"text {control.get_attribute('data-key')}"
    control.locator("input").click()
    return f"toggle {control.get_attribute('data-key')}"


@pytest.mark.parametrize("page_path", EXPLORER_PAGES)
def test_every_control_changes_the_picture_and_the_readouts(site, page_path):
    page, log = _load(site, page_path, reduced_motion=True)
    try:
        _wait_for_explorers(page)
        roots = page.locator(".usaav-x")
        for k in range(roots.count()):
            root = roots.nth(k)
            name = root.get_attribute("data-explorer")
            root.scroll_into_view_if_needed()
            controls = root.locator(".usaav-x-control")
            defaults = root.evaluate("(r) => r.usaavExplorer.values()")
            # Settings to try a control in: the defaults first, then each other option of
            # each drop-down (a knob may be off in some settings: m for RoPE, β for Toeplitz).
            contexts = [defaults] + [
                {**defaults, key: option}
                for key, options in root.evaluate(CHOICES_JS).items()
                for option in options if option != defaults[key]
            ]
            for c in range(controls.count()):
                key = controls.nth(c).get_attribute("data-key")
                failures = []
                for context in contexts:
                    root.evaluate(SET_JS, context)
                    before = _picture(root, COMPARE_AT)
                    what = _move(page, root, controls.nth(c))
                    after = _picture(root, COMPARE_AT)
                    # The time readout counts: it prints the end time ("3.00 of 20"), which T changes.
                    changed = {k for k in before["readouts"] if before["readouts"][k] != after["readouts"][k]}
                    if after["hash"] != before["hash"] and (changed or not before["readouts"]):
                        break
                    failures.append(f"{context}: picture {'changed' if after['hash'] != before['hash'] else 'unchanged'}, "
                                    f"readouts changed: {sorted(changed)}")
                else:
                    raise AssertionError(f"{name}: moving the {what} changed nothing in any setting:\n" + "\n".join(failures))
                assert key in what
        assert not log.problems(), "\n".join(log.problems())
    finally:
        page.context.close()


@pytest.mark.parametrize("page_path", EXPLORER_PAGES)
def test_dragging_turns_the_sphere_and_play_advances_time(site, page_path):
    page, log = _load(site, page_path, reduced_motion=True)
    try:
        _wait_for_explorers(page)
        root = page.locator(".usaav-x").first
        root.scroll_into_view_if_needed()
        canvas = root.locator(".usaav-x-sphere canvas").first
        before = _picture(root, 1.0)
        box = canvas.bounding_box()
        x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        page.mouse.move(x, y)
        page.mouse.down()
        page.mouse.move(x + 60, y + 20, steps=5)
        page.mouse.up()
        assert root.evaluate(PICTURE_JS)["hash"] != before["hash"], "dragging did not turn the sphere"
        azim = root.evaluate("(r) => r.usaavExplorer.camera.azim")
        assert azim != -58
        canvas.focus()
        page.keyboard.press("Home")
        assert root.evaluate("(r) => [r.usaavExplorer.camera.elev, r.usaavExplorer.camera.azim]") == [22, -58]
        if root.locator(".usaav-x-play").is_visible():
            t0 = root.evaluate("(r) => r.usaavExplorer.run.t")
            root.locator(".usaav-x-play").click()
            page.wait_for_timeout(400)
            root.locator(".usaav-x-play").click()
            assert root.evaluate("(r) => r.usaavExplorer.run.t") > t0, "play did not advance the time"
        assert not log.problems(), "\n".join(log.problems())
    finally:
        page.context.close()


@pytest.mark.parametrize("page_path", EXPLORER_PAGES)
def test_explorers_fit_a_narrow_screen(site, page_path):
    page, log = _load(site, page_path, width=400, height=800)
    try:
        _wait_for_explorers(page)
        widths = page.evaluate("() => [...document.querySelectorAll('.usaav-x')].map((r) => [r.scrollWidth, r.clientWidth])")
        for scroll, client in widths:
            assert scroll <= client + 1, f"an explorer overflows at 400 px: {scroll} > {client}"
    finally:
        page.context.close()


@pytest.mark.parametrize("page_path", EXPLORER_PAGES)
def test_controls_are_labelled_and_print_shows_figures_not_explorers(site, page_path):
    page, log = _load(site, page_path)
    try:
        _wait_for_explorers(page)
        unlabelled = page.evaluate("() => [...document.querySelectorAll('.usaav-x input, .usaav-x select')]"
                                   ".filter((e) => !(e.labels && e.labels.length && e.labels[0].textContent.trim()))"
                                   ".map((e) => e.outerHTML)")
        assert not unlabelled, f"controls without a label: {unlabelled}"
        assert page.evaluate("() => [...document.querySelectorAll('.usaav-x-sphere canvas')]"
                             ".every((c) => c.tabIndex === 0 && c.getAttribute('aria-label'))")
        hidden = "(sel) => [...document.querySelectorAll(sel)].map((e) => getComputedStyle(e).display === 'none')"
        assert all(page.evaluate(hidden, ".tag_print-figure")), "print figures must be hidden on screen once explorers run"
        page.emulate_media(media="print")
        assert all(page.evaluate(hidden, "div.usaav-explorer")), "explorers must not print"
        assert not any(page.evaluate(hidden, ".tag_print-figure")), "print figures must print"
    finally:
        page.context.close()
