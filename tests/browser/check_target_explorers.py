"""The explorers of chapters 3, 4, 5 and 7 in a real browser, offline.

Run after ``make book`` with ``make browser-test`` (or ``pytest tests/browser``);
skipped, with the reason, without a built book, Playwright or Chromium.
tests/browser/check_pages.py already moves every control of every explorer
and checks that the picture and the readouts change; here each explorer is
checked for what it claims: the figures that are not time series (histogram,
spectrum, log-time angles) are drawn, the typed quantile goes through the
parser (hostile input is refused with its message, nothing runs), the word
is written with the page's font and realised exactly, the flows reach what
the theorems say, and a narrow screen keeps them usable.
"""

from __future__ import annotations

import os

import pytest

from harness import browser, missing_requirements, open_page, serve

reason = missing_requirements()
if reason is not None and os.environ.get("USAAV_REQUIRE_BROWSER"):
    raise RuntimeError(f"the browser checks must run here (USAAV_REQUIRE_BROWSER is set), but {reason}")
pytestmark = [pytest.mark.browser, pytest.mark.skipif(reason is not None, reason=reason or "")]

PAGES = {
    "latitude": "book/03_positional_encoding.html",
    "orbit_law": "book/03_positional_encoding.html",
    "prompt_law": "book/04_prompts.html",
    "prompts": "book/04_prompts.html",
    "toeplitz": "book/05_examples.html",
    "metastability": "book/07_metastability.html",
}

# Non-blank pixels of a canvas (alpha > 0): a drawn panel has many.
INK_JS = """(canvas) => {
  const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
  let ink = 0;
  for (let i = 3; i < data.length; i += 4) if (data[i] > 0) ink += 1;
  return ink;
}"""


@pytest.fixture(scope="module")
def site():
    with serve() as origin, browser() as instance:
        yield origin, instance


@pytest.fixture
def explorer(site):
    """Open the page of an explorer (reduced motion: nothing plays by itself) and return its root."""
    origin, instance = site
    opened = []

    def open_explorer(name, index=0, **kwargs):
        page, log = open_page(instance, origin, reduced_motion=True, **kwargs)
        page.goto(f"{origin}/{PAGES[name]}", wait_until="load")
        placeholders = page.locator("div.usaav-explorer").count()
        page.wait_for_function(f"() => document.querySelectorAll('.usaav-x').length === {placeholders}")
        root = page.locator(f'.usaav-x[data-explorer="{name}"]').nth(index)
        root.scroll_into_view_if_needed()
        page.wait_for_function("(r) => r.usaavExplorer && Number(r.dataset.draws) > 1", arg=root.element_handle())
        opened.append((page, log))
        return page, root, log

    yield open_explorer
    for page, log in opened:
        problems = log.problems()
        page.context.close()
        assert not problems, "\n".join(problems)


def _set_control(page, root, key, value):
    control = root.locator(f'.usaav-x-control[data-key="{key}"]')
    if control.locator("select").count():
        control.locator("select").select_option(str(value))
    else:
        field = control.locator("input")
        field.fill(value)
        field.press("Enter")
    page.wait_for_timeout(50)


def _extra(root, expression):
    return root.evaluate(f"(r) => {{ const run = r.usaavExplorer.run; return {expression}; }}")


@pytest.mark.parametrize(("name", "panel"), [("orbit_law", "histogram"), ("toeplitz", "spectrum"),
                                              ("metastability", "angles")])
def test_panels_are_drawn_under_the_explorer(explorer, name, panel):
    page, root, _ = explorer(name)
    root.evaluate("(r) => r.usaavExplorer.advanceTo(5)")
    canvas = root.locator(f'[data-panel="{panel}"] canvas')
    assert canvas.count() == 1, f"{name}: no {panel} panel"
    assert canvas.evaluate(INK_JS) > 2000, f"{name}: the {panel} panel is blank"
    assert root.locator(f'[data-panel="{panel}"] .usaav-x-legend li').count() >= 2


def test_hostile_quantile_is_refused_with_the_parsers_message_and_a_good_one_is_realised(explorer):
    page, root, _ = explorer("orbit_law")
    _set_control(page, root, "law", "your quantile")
    before = _extra(root, "Array.from(run.systems[0].X)")
    _set_control(page, root, "quantile", "__import__('os').system('ls')")
    error = root.locator(".usaav-x-error")
    assert error.is_visible()
    assert "unknown name '__import__'" in error.inner_text() and "character 1" in error.inner_text()
    assert "last setting that worked" in error.inner_text()  # the picture is the previous law's, and it says so
    field = root.locator('.usaav-x-control[data-key="quantile"] input')
    assert field.get_attribute("aria-invalid") == "true"
    assert _extra(root, "Array.from(run.systems[0].X)") == before  # nothing ran
    _set_control(page, root, "quantile", "2.5 * tanh(4*(s - 0.5))")
    assert root.locator(".usaav-x-error").inner_text() == ""
    assert field.get_attribute("aria-invalid") is None
    ks, n = _extra(root, "[run.systems[0].extra.result.ksDistance, run.systems[0].n]")
    assert ks == pytest.approx(0.5 / n, abs=1e-9)  # a continuous law at the midpoints: KS = 1/(2n) exactly


def test_typed_word_is_drawn_with_the_pages_font_and_realised_exactly(explorer):
    page, root, _ = explorer("prompt_law")
    first = _extra(root, "Array.from(run.systems[0].X)")
    _set_control(page, root, "word", "Hello")
    n, gap, error = _extra(root, "[run.systems[0].n, run.systems[0].extra.gap, run.systems[0].extra.error]")
    assert n == 800 and abs(gap) < 1e-13 and error < 1e-14
    assert _extra(root, "Array.from(run.systems[0].X)") != first
    assert _extra(root, "run.systems[0].title") == "the word “Hello”"


@pytest.mark.parametrize("word", ["", "   ", "\u200b"])
def test_a_word_without_visible_characters_is_refused_in_place(explorer, word):
    page, root, _ = explorer("prompt_law")
    before = _extra(root, "Array.from(run.systems[0].X)")
    _set_control(page, root, "word", word)
    error = root.locator(".usaav-x-error")
    assert error.is_visible() and "word must contain visible characters" in error.inner_text()
    assert _extra(root, "Array.from(run.systems[0].X)") == before
    _set_control(page, root, "word", "ok")
    assert root.locator(".usaav-x-error").inner_text() == "" and _extra(root, "run.systems[0].title") == "the word “ok”"


def test_latitude_flow_reaches_a_latitude_circle_with_four_tokens_per_position_together(explorer):
    page, root, _ = explorer("latitude", index=1)  # the second latitude explorer of the chapter: four per position
    root.evaluate("(r) => r.usaavExplorer.advanceTo(30)")
    spread = float(_extra(root, """(() => {
      const f = run.byKey.flow; let lo = Infinity, hi = -Infinity;
      for (let i = 0; i < f.n; i++) { lo = Math.min(lo, f.X[3 * i + 2]); hi = Math.max(hi, f.X[3 * i + 2]); }
      return hi - lo; })()"""))
    assert spread < 1e-6
    assert root.locator('dd[data-key="flowDiameter"]').inner_text() not in ("", "–", "flow off")


def test_prompts_end_with_as_many_clusters_as_distinct_points(explorer):
    page, root, _ = explorer("prompts")
    _set_control(page, root, "layout", "only two distinct gauges")
    root.evaluate("(r) => r.usaavExplorer.advanceTo(30)")
    clusters = root.locator('dd[data-key="clusters"]').inner_text()
    assert clusters == root.locator('dd[data-key="predicted"]').inner_text() == "2"


def test_toeplitz_winds_k_star_times(explorer):
    page, root, _ = explorer("toeplitz")
    root.evaluate("(r) => r.usaavExplorer.advanceTo(60)")
    assert root.locator('dd[data-key="kStar"]').inner_text() == "2"
    assert root.locator('dd[data-key="winding"]').inner_text() == "2"


def test_metastability_first_merger_is_the_reduced_flows_within_one_percent(explorer):
    page, root, _ = explorer("metastability")
    root.evaluate("(r) => r.usaavExplorer.advanceTo(r.usaavExplorer.run.tMax)")
    T1, reduced = _extra(root, "[run.systems[0].extra.recorder.T1, run.systems[0].extra.reduced]")
    assert T1 == pytest.approx(reduced, rel=0.01)
    assert root.locator("dt", has_text="reconstruction").count() == 1  # the exponent is labelled as ours


@pytest.mark.parametrize("name", sorted(PAGES))
def test_explorer_fits_400_px_with_its_panels(explorer, name):
    page, root, _ = explorer(name, width=400, height=800)
    scroll, client = root.evaluate("(r) => [r.scrollWidth, r.clientWidth]")
    assert scroll <= client + 1
    for canvas in root.locator("canvas").all():
        box = canvas.bounding_box()
        assert box is None or box["width"] <= 400, f"{name}: a canvas is wider than the screen"
