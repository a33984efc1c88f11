"""The built book in a real browser, offline: math, explorers, no outside request.

Run after ``make book`` with ``make browser-test`` (or ``pytest tests/browser``).
Skipped, with the reason, when there is no built book, no Playwright or no
Chromium.  Every page is loaded from a local server with every other request
aborted; a page fails on any request outside the book, any failed request
and any console error; at 400 px no page may scroll sideways (code, tables
and display math scroll inside their own boxes).  On pages with explorers,
as a reader meets them:

* every control of every explorer, in every combination of its drop-downs
  and checkboxes, is moved with the keyboard, a select or typing, and the
  picture (canvas pixels) and the printed readouts must change; a control
  that does nothing in a combination must be disabled and say why;
* dragging (mouse and touch) and the arrow keys turn the sphere; play,
  pause and the keyboard drive the transport;
* with reduced motion nothing plays until the reader asks;
* the window shrinks from 1400 to 400 px and the pixel ratio changes:
  every canvas stays sharp (its bitmap is its CSS size times the pixel
  ratio), inside the screen, and the explorer keeps working;
* when the explorers' script cannot load, or JavaScript is off, each
  placeholder's fallback text is readable and the print figures show;
* at 400 px at most 10 % of a page's display equations need a sideways
  scroll (measured; an expected failure until the chapters break their
  long displays by hand), and every sphere of an explorer is at least
  240 px wide.
"""

from __future__ import annotations

import os

import pytest

from harness import PICTURE_JS, book_pages, browser, missing_requirements, open_page, serve, wait_for_math

reason = missing_requirements()
if reason is not None and os.environ.get("USAAV_REQUIRE_BROWSER"):
    # CI sets USAAV_REQUIRE_BROWSER: a skipped browser check would hide a broken page
    raise RuntimeError(f"the browser checks must run here (USAAV_REQUIRE_BROWSER is set), but {reason}")
pytestmark = [pytest.mark.browser, pytest.mark.skipif(reason is not None, reason=reason or "")]
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
    """Wait until the explorers' script has mounted every placeholder; returns how many."""
    placeholders = page.locator("div.usaav-explorer").count()
    if placeholders:
        page.wait_for_function(f"() => document.querySelectorAll('.usaav-x').length === {placeholders}")
    return placeholders


def _first_explorer(site, page_path, **kwargs):
    """Open the page and bring its first explorer into view; returns (page, log, root)."""
    page, log = _load(site, page_path, **kwargs)
    _wait_for_explorers(page)
    root = page.locator(".usaav-x").first
    root.scroll_into_view_if_needed()
    return page, log, root


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


#: What may be wider than a phone: it then scrolls inside its own box (code, tables, display math).
SCROLLS_INSIDE = "pre, div.highlight, table, mjx-container, .MathJax, div.math, div.usaav-x"


@pytest.mark.parametrize("page_path", PAGES)
def test_page_at_phone_width_does_not_scroll_sideways(site, page_path):
    page, log = _load(site, page_path, width=400, height=800)
    try:
        wait_for_math(page)
        _wait_for_explorers(page)
        width, client, culprits = page.evaluate(f"""() => {{
            const de = document.documentElement, limit = de.clientWidth + 1, culprits = [];
            for (const el of document.querySelectorAll("article *")) {{
                if (el.closest("{SCROLLS_INSIDE}") || el.getBoundingClientRect().right <= limit) continue;
                let box = el.parentElement, scrolls = false;
                for (; box; box = box.parentElement) {{
                    if (getComputedStyle(box).overflowX !== "visible") {{ scrolls = true; break; }}
                }}
                if (!scrolls) culprits.push(el.tagName + "." + el.className + ": " + el.textContent.slice(0, 40));
            }}
            return [de.scrollWidth, de.clientWidth, culprits.slice(0, 3)];
        }}""")
        assert width <= client + 1, f"the page is {width} px wide at {client} px: {culprits}"
    finally:
        page.context.close()


#: Share of a page's display equations that may scroll sideways at 400 px (issue 15, item 4).
MAX_OVERFLOWING_DISPLAYS = 0.10
#: Narrowest sphere of an explorer on a phone, CSS pixels.
MIN_PHONE_SPHERE_PX = 240

DISPLAY_OVERFLOW_JS = """() => {
  const displays = [...document.querySelectorAll('article mjx-container[display="true"]')];
  const wide = displays.filter((m) => {
    const box = m.parentElement.getBoundingClientRect();
    return m.scrollWidth > m.clientWidth + 1 || m.getBoundingClientRect().right > box.right + 1;
  });
  return { total: displays.length, wide: wide.map((m) => m.textContent.slice(0, 60)) };
}"""


@pytest.mark.xfail(reason="open (issue 15 item 4): MathJax 4's automatic line breaking, tried on the web branch, "
                          "split formulas at nearly every symbol, even at 1400 px, so the book stays on MathJax 3; the "
                          "long displays must be broken by hand at their relation signs in the chapters (STYLE.md 15)",
                   strict=False)
@pytest.mark.parametrize("page_path", PAGES)
def test_at_phone_width_few_display_equations_scroll_sideways(site, page_path):
    page, log = _load(site, page_path, width=400, height=800)
    try:
        wait_for_math(page)
        page.wait_for_timeout(300)  # line breaking happens as MathJax lays out
        result = page.evaluate(DISPLAY_OVERFLOW_JS)
        allowed = int(MAX_OVERFLOWING_DISPLAYS * result["total"])
        assert len(result["wide"]) <= allowed, (
            f"{len(result['wide'])} of {result['total']} display equations scroll sideways at 400 px "
            f"(at most {allowed}): {result['wide'][:5]}")
    finally:
        page.context.close()


def _explorer_pages():
    import re

    from harness import BUILT_BOOK

    return [p for p in PAGES if re.search('class="usaav-explorer"', (BUILT_BOOK / p).read_text(encoding="utf-8"))]


EXPLORER_PAGES = _explorer_pages() if reason is None else []


#: Every combination of the values of an explorer's drop-downs and checkboxes.
COMBINATIONS_JS = """(r) => {
  let combinations = [{}];
  for (const c of r.usaavExplorer.run.definition.controls) {
    const values = c.type === 'choice' ? c.options.map(([v]) => v) : c.type === 'toggle' ? [false, true] : null;
    if (values) combinations = combinations.flatMap((x) => values.map((v) => ({ ...x, [c.key]: v })));
  }
  return combinations;
}"""
SET_JS = "(r, values) => { for (const [k, v] of Object.entries(values)) r.usaavExplorer.set(k, v); }"
#: Another valid entry for each text field (invalid ones are tested in check_target_explorers.py).
TEXT_ALTERNATIVES = {"quantile": ("2 * pi * (s - 0.5)", "pi * sin(pi * (s - 0.5))"), "word": ("Hi", "Oh")}


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
        first, second = TEXT_ALTERNATIVES[control.get_attribute("data-key")]
        field.fill(second if field.input_value() == first else first)
        field.press("Enter")
        return f"text {control.get_attribute('data-key')}"
    control.locator("input").click()
    return f"toggle {control.get_attribute('data-key')}"


@pytest.mark.parametrize("page_path", EXPLORER_PAGES)
def test_every_control_changes_the_picture_and_the_readouts_in_every_combination(site, page_path):
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
            failures = []
            for combination in root.evaluate(COMBINATIONS_JS):
                setting = {**defaults, **combination}
                for c in range(controls.count()):
                    root.evaluate(SET_JS, setting)
                    control = controls.nth(c)
                    key = control.get_attribute("data-key")
                    if control.locator("input, select").is_disabled():
                        # Off in this setting (the knob m of RoPE): it must say why.
                        reason = control.locator("label").get_attribute("title") or ""
                        if not reason.strip():
                            failures.append(f"{combination}: {key} is disabled without a reason")
                        continue
                    before = _picture(root, COMPARE_AT)
                    what = _move(page, root, control)
                    after = _picture(root, COMPARE_AT)
                    # The time readout counts: it prints the end time ("3.00 of 20"), which T changes.
                    changed = {k for k in before["readouts"] if before["readouts"][k] != after["readouts"][k]}
                    if after["hash"] == before["hash"] or not (changed or not before["readouts"]):
                        failures.append(f"{combination}: moving the {what}: picture "
                                        f"{'changed' if after['hash'] != before['hash'] else 'unchanged'}, "
                                        f"readouts changed: {sorted(changed)}")
            assert not failures, f"{name}:\n" + "\n".join(failures)
        assert not log.problems(), "\n".join(log.problems())
    finally:
        page.context.close()


@pytest.mark.parametrize("page_path", EXPLORER_PAGES)
def test_dragging_turns_the_sphere_and_play_advances_time(site, page_path):
    page, log, root = _first_explorer(site, page_path, reduced_motion=True)
    try:
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
        spheres = page.evaluate("() => [...document.querySelectorAll('.usaav-x-sphere canvas')]"
                                ".map((c) => Math.round(c.getBoundingClientRect().width))")
        assert spheres and min(spheres) >= MIN_PHONE_SPHERE_PX, f"sphere widths at 400 px: {spheres}"
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


# Every visible canvas of the page: its bitmap, its CSS box and the pixel ratio.
CANVASES_JS = """() => [...document.querySelectorAll('.usaav-x canvas')].filter((c) => c.offsetParent !== null).map((c) => {
  const box = c.getBoundingClientRect();
  return { explorer: c.closest('.usaav-x').dataset.explorer, width: c.width, height: c.height,
           cssWidth: box.width, cssHeight: box.height, left: box.left, right: box.right, ratio: devicePixelRatio };
})"""


def _assert_sharp_and_inside(page, viewport_width):
    canvases = page.evaluate(CANVASES_JS)
    assert canvases, "no canvas to check"
    for c in canvases:
        where = f"{c['explorer']}: a {c['cssWidth']:.0f}×{c['cssHeight']:.0f} canvas at pixel ratio {c['ratio']}"
        # The bitmap is the CSS size times the pixel ratio (to a pixel of rounding per CSS pixel).
        assert abs(c["width"] - c["cssWidth"] * c["ratio"]) <= c["ratio"] + 0.5, f"{where} has a {c['width']} px wide bitmap"
        assert abs(c["height"] - c["cssHeight"] * c["ratio"]) <= c["ratio"] + 0.5, f"{where} has a {c['height']} px high bitmap"
        assert c["cssWidth"] >= 60 and c["left"] >= -1 and c["right"] <= viewport_width + 1, f"{where} is off screen or too small"
    overflow = page.evaluate("() => [...document.querySelectorAll('.usaav-x')].filter((r) => r.scrollWidth > r.clientWidth + 1)"
                             ".map((r) => r.dataset.explorer)")
    assert not overflow, f"explorers wider than their column: {overflow}"


@pytest.mark.parametrize("page_path", EXPLORER_PAGES)
def test_canvases_stay_sharp_and_usable_from_1400_to_400_px_and_at_any_pixel_ratio(site, page_path):
    page, log = _load(site, page_path, reduced_motion=True, device_scale_factor=2)
    try:
        _wait_for_explorers(page)
        page.wait_for_timeout(200)
        _assert_sharp_and_inside(page, 1400)
        # The window moves to another screen: the same width at another pixel ratio.  (Headless Chromium
        # fires the events of a ratio change only with a change of the viewport: the height changes, the
        # width does not, so the explorer's ResizeObserver, which follows widths, stays quiet and only
        # its watch on the pixel ratio can re-fit the canvases.)
        cdp = page.context.new_cdp_session(page)
        cdp.send("Emulation.setDeviceMetricsOverride", {"width": 1400, "height": 880, "deviceScaleFactor": 3, "mobile": False})
        page.wait_for_function("() => devicePixelRatio === 3")
        page.wait_for_timeout(400)
        _assert_sharp_and_inside(page, 1400)
        cdp.send("Emulation.clearDeviceMetricsOverride")
        for width in (900, 400):
            page.set_viewport_size({"width": width, "height": 800})
            page.wait_for_timeout(400)  # ResizeObserver, then a frame
            _assert_sharp_and_inside(page, width)
        # Still usable at 400 px: every explorer's first control changes the picture.
        roots = page.locator(".usaav-x")
        for k in range(roots.count()):
            root = roots.nth(k)
            root.scroll_into_view_if_needed()
            controls = root.locator(".usaav-x-control")
            if not controls.count():
                continue
            before = _picture(root, COMPARE_AT)
            what = _move(page, root, controls.first)
            assert _picture(root, COMPARE_AT)["hash"] != before["hash"], f"{root.get_attribute('data-explorer')}: {what} at 400 px"
        assert not log.problems(), "\n".join(log.problems())
    finally:
        page.context.close()


@pytest.mark.parametrize("page_path", EXPLORER_PAGES[:1])
def test_keyboard_and_touch_drive_the_explorer(site, page_path):
    page, log, root = _first_explorer(site, page_path, reduced_motion=True, has_touch=True)
    try:
        camera = "(r) => [r.usaavExplorer.camera.elev, r.usaavExplorer.camera.azim]"
        # Keyboard: the sphere turns with the arrow keys, Home resets it.
        canvas = root.locator(".usaav-x-sphere canvas").first
        canvas.focus()
        page.keyboard.press("ArrowLeft")
        page.keyboard.press("ArrowUp")
        assert root.evaluate(camera) == [22 - 5, -58 + 5]
        page.keyboard.press("Home")
        assert root.evaluate(camera) == [22, -58]
        # Keyboard: play and pause with Space and Enter on the focused button.
        play = root.locator(".usaav-x-play")
        play.focus()
        page.keyboard.press("Space")
        assert root.evaluate("(r) => r.usaavExplorer.playing")
        page.keyboard.press("Enter")
        assert not root.evaluate("(r) => r.usaavExplorer.playing")
        # Touch: a horizontal swipe on the sphere turns it; a tap plays.
        box = canvas.bounding_box()
        x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        cdp = page.context.new_cdp_session(page)
        cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": x, "y": y}]})
        for step in range(1, 7):
            cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [{"x": x + 12 * step, "y": y + step}]})
        cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
        assert root.evaluate(camera)[1] != -58, "a swipe did not turn the sphere"
        page.wait_for_timeout(600)  # Chromium takes a tap right after a swipe for part of the gesture
        play.tap()
        assert root.evaluate("(r) => r.usaavExplorer.playing")
        play.tap()
        # Keyboard: a drop-down (last: its list may stay open) changes with the arrow keys.
        select = root.locator("select").first
        if select.count():
            value = select.input_value()
            select.focus()
            page.keyboard.press("ArrowDown")
            assert select.input_value() != value
        assert not log.problems(), "\n".join(log.problems())
    finally:
        page.context.close()


@pytest.mark.parametrize("page_path", EXPLORER_PAGES[:1])
def test_reduced_motion_plays_nothing_until_asked_and_motion_plays_by_itself(site, page_path):
    page, log, root = _first_explorer(site, page_path, reduced_motion=True)
    try:
        page.wait_for_timeout(600)
        assert root.evaluate("(r) => [r.usaavExplorer.playing, r.usaavExplorer.run.t]") == [False, 0]
        controls = root.locator(".usaav-x-slider")
        if controls.count():
            _move(page, root, controls.first)  # a new setting is drawn, not played
            page.wait_for_timeout(300)
            assert root.evaluate("(r) => [r.usaavExplorer.playing, r.usaavExplorer.run.t]") == [False, 0]
        root.locator(".usaav-x-play").click()
        page.wait_for_timeout(300)
        assert root.evaluate("(r) => r.usaavExplorer.run.t") > 0
    finally:
        page.context.close()
    page, log, root = _first_explorer(site, page_path)
    try:
        page.wait_for_function("(r) => r.usaavExplorer.run.t > 0", arg=root.element_handle())
        assert not log.problems(), "\n".join(log.problems())
    finally:
        page.context.close()


#: The fallback's text against its background: WCAG 2 contrast ratio.
CONTRAST_JS = """(p) => {
  const rgb = (css) => css.match(/[\\d.]+/g).slice(0, 3).map(Number);
  const lum = (c) => { const [r, g, b] = c.map((v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; });
                       return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
  let node = p, background = 'rgba(0, 0, 0, 0)';
  while (node && /rgba\\(.*, 0\\)|transparent/.test(background)) { background = getComputedStyle(node).backgroundColor; node = node.parentElement; }
  if (/rgba\\(.*, 0\\)|transparent/.test(background)) background = 'rgb(255, 255, 255)';
  const [a, b] = [lum(rgb(getComputedStyle(p).color)), lum(rgb(background))];
  return { contrast: (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05), size: parseFloat(getComputedStyle(p).fontSize) };
}"""


@pytest.mark.parametrize("failure", ["explorer script blocked", "JavaScript off"])
@pytest.mark.parametrize("page_path", EXPLORER_PAGES[:1])
def test_without_the_explorers_script_the_fallback_text_is_readable_and_the_figures_show(site, page_path, failure):
    block = {"explorer script blocked": ("/usaav-web/usaav-explorers.js",)}.get(failure, ())
    page, log = _load(site, page_path, block=block, javascript=failure != "JavaScript off")
    try:
        page.wait_for_timeout(800)
        assert page.locator(".usaav-x").count() == 0
        fallbacks = page.locator("div.usaav-explorer p.usaav-explorer-fallback")
        assert fallbacks.count() == page.locator("div.usaav-explorer").count() > 0
        for k in range(fallbacks.count()):
            fallback = fallbacks.nth(k)
            assert fallback.is_visible()
            text = fallback.inner_text()
            assert text.startswith("Interactive explorer: ") and "JavaScript" in text and "{" not in text, text
            look = fallback.evaluate(CONTRAST_JS)
            assert look["size"] >= 12 and look["contrast"] >= 4.5, f"fallback text hard to read: {look}"
        figures = page.locator("div.tag_print-figure")
        assert all(figures.nth(k).is_visible() for k in range(figures.count())), "the print figures must show instead"
        if block:
            assert log.blocked, "the module was never requested: the test would prove nothing"
    finally:
        page.context.close()


@pytest.mark.parametrize("page_path", PAGES[:1])
def test_desktop_pages_have_no_top_bar_holding_only_a_second_search_box(site, page_path):
    for width, header_shown in ((1400, False), (400, None)):
        page, log = _load(site, page_path, width=width, height=800)
        try:
            shown = page.locator(".bd-header").is_visible()
            if header_shown is not None:
                assert shown == header_shown, f"top bar shown at {width} px: {shown}"
            searches = page.locator(".search-button, .search-button-field")
            assert any(searches.nth(k).is_visible() for k in range(searches.count())), f"no search at {width} px"
        finally:
            page.context.close()
