"""usaav.explorers: the bundle of usaav/web, the widget, and the state it hands back.

The JS side runs in node (skipped, with the reason, where node is missing):
the bundle the widget ships is imported and run headless, and the state it
reports is checked with the Python library — the library, not the JS
observables, is the reference.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

import usaav
from usaav import explorers, scenarios
from usaav.explorers import (OPTION_RANGES, SETUP_OPTIONS, WEB_DIR, bundle, classic_bundle, module_order,
                             state_from_snapshot)
from usaav.explorers import bundling, constructors
from usaav.explorers.options import describe_rule

NODE = shutil.which("node")
needs_node = pytest.mark.skipif(NODE is None, reason="node (>= 20) is not installed")


def _node(script: str, cwd: Path) -> str:
    result = subprocess.run([NODE, "--input-type=module", "-e", script], cwd=cwd, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout


def _default_options(name: str) -> dict:
    """The options the constructor ``name`` passes with its defaults (sphere_viewer: three points)."""
    if name == "sphere_viewer":
        return explorers.sphere_viewer(np.eye(3), values=[0, 0.5, 1]).options
    return getattr(explorers, name)().options


@pytest.fixture(scope="module")
def bundle_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("bundle") / "usaav-explorers.mjs"
    path.write_text(bundle(), encoding="utf-8")
    return path


# --------------------------------------------------------------------------
# The bundle
# --------------------------------------------------------------------------


def test_bundle_is_deterministic_and_has_one_default_export_and_no_imports():
    text = bundle()
    assert text == bundling._bundle.__wrapped__("widget.js", str(WEB_DIR))  # rebuilt from the files, uncached
    assert len(re.findall(r"^export default", text, re.M)) == 1
    assert "\nimport " not in text and "\nexport function" not in text


def test_bundle_orders_every_module_after_its_imports():
    order = module_order()
    assert order[-1] == "widget.js"
    assert order.index("kernels.js") < order.index("explorer.js") < order.index("explorers/index.js")
    assert order.index("explorer.js") < order.index("mount.js") < order.index("render.js")
    assert "loader.js" not in order  # the static-page entry is not part of the widget


def test_the_simulation_loop_is_headless_and_the_mount_draws_it():
    """explorer.js (the loop) imports nothing that draws; mount.js does the drawing (STYLE.md principle 12)."""
    loop_imports = set(module_order("explorer.js")) - {"explorer.js"}
    assert not loop_imports & {"view.js", "chart.js", "canvas.js", "mount.js"}, loop_imports
    assert "document." not in (WEB_DIR / "explorer.js").read_text(encoding="utf-8")
    assert "mountExplorer" not in (WEB_DIR / "explorer.js").read_text(encoding="utf-8")


@needs_node
def test_bundle_parses_and_runs_every_explorer_in_node(bundle_file):
    options = {name: _default_options(name) for name in OPTION_RANGES}
    out = _node(
        f'import w from {json.dumps(bundle_file.as_uri())};'
        f'const options = {json.dumps(options)};'
        'const names = w.names();'
        'for (const name of names) w.runHeadless(name, options[name], 0.5);'
        'console.log(JSON.stringify(names));',
        bundle_file.parent,
    )
    assert sorted(json.loads(out)) == sorted(OPTION_RANGES)  # every explorer has a constructor, and ran


def _write_modules(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    return root


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({"widget.js": 'import { a } from "./a.js";\nexport default {};\n',
          "a.js": "export const a = 1;\nconst shared = 2;\n", "b.js": ""},
         None),
        ({"widget.js": 'import { a } from "./a.js";\nconst a2 = 1;\nexport default {};\n',
          "a.js": "export const a = 1;\nexport const a2 = 2;\n"},
         "'a2' is declared in both a.js and widget.js"),
        ({"widget.js": 'import a from "./a.js";\nexport default {};\n', "a.js": "export default 1;\n"},
         "default imports cannot be bundled"),
        ({"widget.js": 'import { a } from "lodash";\nexport default {};\n'}, "only relative imports"),
        ({"widget.js": 'import { a } from "./a.js";\nexport default {};\n', "a.js": "const a = 1;\nexport { a };\n"},
         "export forms other than declarations"),
        ({"widget.js": 'import { a } from "./a.js";\nexport default {};\n',
          "a.js": 'import { b } from "./b.js";\nexport const a = 1;\n',
          "b.js": 'import { a } from "./a.js";\nexport const b = 1;\n'},
         "import cycle: widget.js -> a.js -> b.js -> a.js"),
        ({"widget.js": 'import { a } from "./missing.js";\nexport default {};\n'}, "does not exist"),
    ],
    ids=["valid", "duplicate-name", "default-import", "bare-import", "export-list", "cycle", "missing"],
)
def test_bundler_names_the_module_that_breaks_a_rule(tmp_path, files, message):
    root = _write_modules(tmp_path, files)
    if message is None:
        assert "const a = 1;" in bundle(root=root)
        return
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        bundle(root=root)


# --------------------------------------------------------------------------
# The widget
# --------------------------------------------------------------------------


def test_widget_carries_the_explorer_name_options_and_the_bundle():
    w = explorers.collapse(kernel="prompts", beta=2.5, n=64, seed=3)
    controls = {k: w.options[k] for k in OPTION_RANGES["collapse"]}
    assert (w.name, controls) == ("collapse", {"kernel": "prompts", "beta": 2.5, "n": 64, "seed": 3})
    assert w._esm == bundle()


@pytest.mark.parametrize("name", ["collapse", "kernel_gallery", "scenario_knob"])
def test_scenario_explorers_carry_the_scenario_table_and_their_overrides(name):
    """The browser builds their kernels from usaav.scenarios.as_json(): the parameters have one source."""
    options = getattr(explorers, name)().options
    assert options["scenarios"] == scenarios.as_json()["scenarios"]
    assert options["overrides"] == explorers.SCENARIO_OVERRIDES[name]
    assert json.loads(json.dumps(options)) == options  # JSON as it is (the placeholder carries it)


@pytest.mark.parametrize(("key", "overrides"), [(k, o) for ov in explorers.SCENARIO_OVERRIDES.values() for k, o in ov.items()])
def test_scenario_overrides_are_parameters_of_the_table_that_differ_from_its_defaults(key, overrides):
    merged = scenarios.TABLE[key].merged(overrides)  # an unknown parameter raises TypeError
    assert all(merged[p] != scenarios.TABLE[key].parameters[p] for p in overrides)
    scenarios.setup(key, 12, rng=0, **overrides)  # and the scenario builds with them


def test_mime_bundle_has_the_widget_view_the_static_placeholder_and_a_text_for_print():
    import html

    data, _ = explorers.collapse()._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in data
    match = re.fullmatch(r'<div class="usaav-explorer" data-usaav-explorer="([^"]*)">(.*)</div>', data["text/html"])
    assert match, data["text/html"]
    assert json.loads(html.unescape(match.group(1))) == {"name": "collapse", "options": explorers.collapse().options}
    assert "JavaScript" in match.group(2) and "collapse of 128 tokens" in match.group(2)  # the no-JavaScript fallback
    assert "collapse" in data["text/plain"] and "<" not in data["text/plain"]


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"kernel": "Rope"}, ValueError, "kernel must be one of"),
        ({"beta": 0.0}, ValueError, r"beta must lie in \[0.25, 4.0\], got 0.0"),
        ({"beta": 1.1}, ValueError, "beta must be a multiple of 0.25"),
        ({"beta": "2"}, TypeError, "beta must be a number, got str"),
        ({"n": 20}, ValueError, "n must be a multiple of 16"),
        ({"n": 32.5}, ValueError, "n must be an integer"),
        ({"seed": -1}, ValueError, r"seed must lie in \[0, 20\]"),
        ({"seed": True}, TypeError, "seed must be a number, got bool"),
    ],
)
def test_bad_options_raise_naming_the_option(kwargs, error, message):
    with pytest.raises(error, match=message):
        explorers.collapse(**kwargs)


@needs_node
def test_python_option_ranges_and_defaults_are_those_of_the_js_controls():
    out = _node(
        'import { EXPLORERS } from "./usaav/web/explorers/index.js";'
        "const all = {};"
        "for (const name of EXPLORERS.names()) all[name] = EXPLORERS.get(name).controls;"
        "console.log(JSON.stringify(all));",
        WEB_DIR.parents[1],
    )
    controls = json.loads(out)
    assert set(controls) == set(OPTION_RANGES)
    for name, ranges in OPTION_RANGES.items():
        js = {c["key"]: c for c in controls[name]}
        setup_only = SETUP_OPTIONS.get(name, set())
        assert set(js) == set(ranges) - setup_only, name
        for key, rule in ranges.items():
            if key in setup_only:
                continue
            control = js[key]
            assert control["type"] == {"number": "slider"}.get(rule[0], rule[0]), (name, key)
            if rule[0] == "choice":
                assert tuple(v for v, _ in control["options"]) == tuple(rule[1]), (name, key)
            elif rule[0] == "text":
                assert control["maxLength"] == rule[1], (name, key)
            elif rule[0] == "number":
                _, low, high, integer, step = rule
                assert (control["min"], control["max"], control["integer"]) == (low, high, integer), (name, key)
                assert control["step"] == (step or 1), (name, key)
        # The defaults of the Python constructor are the controls' own.
        defaults = _default_options(name)
        assert {k: defaults[k] for k in js} == {k: js[k]["value"] for k in js}, name


def _parameter_blocks(function) -> dict[str, str]:
    """Parameter name -> its entry (type line and description) in a NumPy-style docstring."""
    import inspect

    section = inspect.getdoc(function).split("Parameters\n----------\n")[1].split("\n\nReturns")[0]
    blocks, names = {}, []
    for line in section.splitlines():
        if line and not line.startswith(" "):
            names = [name.strip() for name in line.split(" : ")[0].split(",")]
        for name in names:
            blocks[name] = blocks.get(name, "") + line + "\n"
    return blocks


def _resolve_data_reference(block: str):
    """The object a ``one of :data:`module.NAME``` type line refers to (None without one)."""
    import importlib

    match = re.search(r":data:`([\w.]+)\.(\w+)`", block)
    return getattr(importlib.import_module(match.group(1)), match.group(2)) if match else None


@pytest.mark.parametrize(("name", "key"), [(n, k) for n, ranges in OPTION_RANGES.items() for k in ranges])
def test_constructor_docstrings_state_the_option_ranges_of_the_table(name, key):
    """The docstrings shown in the API appendix say what OPTION_RANGES enforces (one source, checked)."""
    rule = OPTION_RANGES[name][key]
    block = _parameter_blocks(getattr(constructors, name)).get(key)
    assert block is not None, f"{name}: no docstring entry for option {key!r}"
    if rule[0] == "choice" and _resolve_data_reference(block) is not None:
        assert tuple(_resolve_data_reference(block)) == tuple(rule[1]), (name, key, block)
    else:
        assert re.search(re.escape(describe_rule(rule)) + r"(?!\d)", block), (name, key, describe_rule(rule), block)


@needs_node
def test_js_scenario_labels_are_those_of_the_scenario_table():
    out = _node('import { SCENARIO_LABELS } from "./usaav/web/explorers/common.js";'
                "console.log(JSON.stringify(SCENARIO_LABELS));", WEB_DIR.parents[1])
    assert json.loads(out) == [{"key": row.key, "name": row.name, "title": row.title} for row in scenarios.TABLE.values()]


# --------------------------------------------------------------------------
# State: JS -> Python, checked with the library
# --------------------------------------------------------------------------


@needs_node
@pytest.mark.parametrize("kernel", ["baseline", "RoPE", "prompts", "distance bias"])
def test_state_from_the_browser_agrees_with_the_library(bundle_file, kernel):
    options = explorers.collapse(kernel=kernel, beta=1.5, n=48, seed=2).options
    out = _node(
        f'import w from {json.dumps(bundle_file.as_uri())};'
        f'console.log(JSON.stringify(w.runHeadless("collapse", {json.dumps(options)}, 4)));',
        bundle_file.parent,
    )
    result = json.loads(out)
    state = state_from_snapshot(result["snapshot"])
    readouts = result["readouts"]
    assert state.X.shape == (48, 3) and abs(state.t - 4.0) < 0.05  # a whole number of steps h(β)
    assert np.allclose(np.linalg.norm(state.X, axis=1), 1.0, atol=1e-12)
    # The library recomputes the three printed numbers from the state alone.
    # Tolerances: the same sums in a different order, so a few ulps of the
    # larger terms; the gaps here are ≥ 1e-6, energies of order e^β.
    assert usaav.collapse_gap(state.X) == pytest.approx(readouts["gap"], rel=1e-10, abs=1e-15)
    assert usaav.gauge_gap(state.kernel, state.X, state.aux) == pytest.approx(readouts["gauge"], rel=1e-10, abs=1e-15)
    assert usaav.relative_energy_gap(state.kernel, state.X, state.aux) == pytest.approx(readouts["energy"],
                                                                                      rel=1e-8, abs=1e-13)


@needs_node
def test_a_browser_run_ends_on_its_end_time_as_simulate_does(bundle_file):
    """The last step is shortened to land on t exactly (MODEL.md §5): β = 1.5 gives h = 0.2 e^{-1.5}, which does not divide 2."""
    options = explorers.collapse(kernel="RoPE", beta=1.5, n=32, seed=1).options
    start, end = json.loads(_node(
        f'import w from {json.dumps(bundle_file.as_uri())};'
        f'const o = {json.dumps(options)};'
        'console.log(JSON.stringify([w.runHeadless("collapse", o, 0).snapshot, w.runHeadless("collapse", o, 2).snapshot]));',
        bundle_file.parent,
    ))
    first, last = state_from_snapshot(start), state_from_snapshot(end)
    h = 0.2 * np.exp(-1.5)
    assert last.t == 2.0 and abs(2.0 / h - round(2.0 / h)) > 0.1
    reference = usaav.simulate(first.kernel, first.X, first.aux, t_max=2.0, dt=h)
    assert reference.t[-1] == 2.0
    # The same 45 Heun steps summed in another order: round-off, measured ~1e-15.
    assert np.abs(reference.final - last.X).max() < 1e-12


@needs_node
def test_state_kernel_continues_the_browser_run(bundle_file):
    """One more Heun step in the library from the reported state equals the browser's next step."""
    script = (
        f'import w from {json.dumps(bundle_file.as_uri())};'
        f'const o = {json.dumps(explorers.collapse(kernel="RoPE", beta=1, n=32, seed=1).options)};'
        'console.log(JSON.stringify([w.runHeadless("collapse", o, 2).snapshot, w.runHeadless("collapse", o, 2.05).snapshot]));'
    )
    now, later = json.loads(_node(script, bundle_file.parent))
    state, after = state_from_snapshot(now), state_from_snapshot(later)
    step = usaav.simulate(state.kernel, state.X, state.aux, t_max=0.05, dt=0.05)
    assert np.abs(step.final - after.X).max() < 1e-12


def test_state_before_the_browser_reports_is_a_clear_error():
    with pytest.raises(RuntimeError, match="no state from the browser yet"):
        explorers.collapse().state()


def test_state_of_a_multi_system_explorer_needs_the_system_key():
    one = {"key": "a", "title": "a", "n": 1, "d": 3, "X": [0, 0, 1], "aux": [0], "spec": None}
    snapshot = {"t": 0, "systems": [one, {**one, "key": "b"}]}
    with pytest.raises(ValueError, match=r"pass system= one of \['a', 'b'\]"):
        state_from_snapshot(snapshot)
    with pytest.raises(ValueError, match="system must be one of"):
        state_from_snapshot(snapshot, "c")
    assert state_from_snapshot(snapshot, "b").kernel is None


def test_the_colab_setup_cell_switches_on_the_custom_widget_manager():
    """Colab serves ipywidgets 7 by default; anywidget needs its custom widget manager."""
    import importlib.util

    path = Path(__file__).resolve().parents[1] / "book" / "_ext" / "usaav_book.py"
    spec = importlib.util.spec_from_file_location("usaav_book", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    cell = module.colab_cell_source()
    assert 'if "google.colab" in sys.modules:' in cell
    assert "output.enable_custom_widget_manager()" in cell.split('if "google.colab" in sys.modules:')[1]
