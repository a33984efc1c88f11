r"""Explorers that run in the reader's browser: one ES module, every front end.

Each explorer is a declarative definition in ``usaav/web/explorers/*.js``
(controls, a set-up that builds kernel specs and an initial cloud, readouts
and charts); the browser twin of the library (``usaav/web``) integrates the
dynamics, so a slider moves the particles on the sphere without a round trip
to Python.  The same code runs

* in JupyterLab, Notebook 7, VS Code and Google Colab, as an
  `anywidget <https://anywidget.dev>`_ widget (:class:`Explorer`), whose ES
  module is the bundle of ``usaav/web`` made by :func:`bundle`;
* on the book's static pages, where the text/html placeholder of
  :meth:`Explorer._repr_mimebundle_` is turned into the same explorer by
  ``usaav/web/loader.js``.

In a live kernel the explorer sends its state back when the animation pauses
or ends and about every half second while it runs; :meth:`Explorer.state`
returns it as NumPy arrays and a library kernel, ready to be checked with
:func:`usaav.relative_energy_gap` and friends.

Google Colab serves an old widget manager by default; anywidget switches on
Colab's custom widget manager itself, and the book's Colab notebooks call
``google.colab.output.enable_custom_widget_manager()`` in their setup cell.

Examples
--------
>>> from usaav import explorers
>>> w = explorers.collapse(kernel="RoPE", beta=1.5)
>>> w.name, w.options["kernel"], w.options["beta"]
('collapse', 'RoPE', 1.5)
>>> w.systems()        # filled once the browser has run it and reported back
[]
"""

from __future__ import annotations

import html
import json
import posixpath
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import anywidget
import numpy as np
import traitlets

from . import scenarios as _scenarios
from . import targets as _targets

__all__ = [
    "Explorer",
    "ExplorerState",
    "OPTION_RANGES",
    "SCENARIO_OVERRIDES",
    "SETUP_OPTIONS",
    "WEB_DIR",
    "bundle",
    "collapse",
    "collapse_layers",
    "kernel_gallery",
    "latitude",
    "metastability",
    "orbit_law",
    "placeholder_html",
    "prompt_law",
    "prompts",
    "scenario_knob",
    "sphere_viewer",
    "state_from_snapshot",
    "toeplitz",
]

#: The browser twin and the explorers (shipped as package data).
WEB_DIR = Path(__file__).resolve().parent / "web"

# --------------------------------------------------------------------------
# Bundling usaav/web into one ES module (no build tool)
# --------------------------------------------------------------------------
#
# The modules follow three rules (usaav/web/README.md) that make bundling a
# matter of text: they import only named bindings of sibling modules
# (`import { a, b } from "./x.js"`), they export only declarations
# (`export function|const|let|class`), and top-level names are unique across
# all of them.  So the bundle is the modules in dependency order with their
# imports removed and the word `export` dropped, the entry's `export default`
# kept.

_IMPORT = re.compile(r'^import\s+(\{[^}]*\}|[A-Za-z_$][\w$]*)\s+from\s+"([^"]+)"\s*;?[ \t]*\n?', re.M)
_EXPORT_DECLARATION = re.compile(r"^export\s+(?=(?:async\s+)?function\b|const\b|let\b|class\b)", re.M)
_EXPORT_DEFAULT = re.compile(r"^export\s+default\b", re.M)
_ANY_EXPORT = re.compile(r"^export\b.*$", re.M)
_TOP_LEVEL_NAME = re.compile(r"^(?:export\s+)?(?:async\s+)?(?:function\*?|class|const|let|var)\s+([A-Za-z_$][\w$]*)", re.M)


def _module_imports(text: str, path: str) -> list[str]:
    """Sibling modules imported by ``path`` (relative to WEB_DIR), in order of appearance."""
    found = []
    for match in _IMPORT.finditer(text):
        binding, target = match.groups()
        if not target.startswith("./") and not target.startswith("../"):
            raise ValueError(f"{path}: only relative imports of sibling modules can be bundled, got {target!r}")
        if not binding.startswith("{"):
            raise ValueError(f"{path}: default imports cannot be bundled (import named bindings), got {match.group(0).strip()!r}")
        resolved = posixpath.normpath(posixpath.join(posixpath.dirname(path), target))
        if resolved.startswith(".."):
            raise ValueError(f"{path}: import {target!r} leaves usaav/web")
        found.append(resolved)
    return found


def _strip_module(text: str, path: str, entry: bool) -> str:
    text = _IMPORT.sub("", text)
    text = _EXPORT_DECLARATION.sub("", text)
    if not entry and _EXPORT_DEFAULT.search(text):
        raise ValueError(f"{path}: only the entry module may have `export default`")
    leftover = [line for line in _ANY_EXPORT.findall(text) if not (entry and _EXPORT_DEFAULT.match(line))]
    if leftover:
        raise ValueError(f"{path}: export forms other than declarations cannot be bundled: {leftover[0]!r}")
    return text


def module_order(entry: str = "widget.js", root: Path = WEB_DIR) -> list[str]:
    """Modules reachable from ``entry``, each after the modules it imports (depth first, deterministic)."""
    order, visiting, done = [], set(), set()

    def visit(path: str, chain: tuple[str, ...]) -> None:
        if path in done:
            return
        if path in visiting:
            raise ValueError(f"import cycle: {' -> '.join(chain + (path,))}")
        file = root / path
        if not file.is_file():
            raise ValueError(f"{chain[-1] if chain else 'entry'}: imports {path!r}, which does not exist")
        visiting.add(path)
        for dependency in _module_imports(file.read_text(encoding="utf-8"), path):
            visit(dependency, chain + (path,))
        visiting.discard(path)
        done.add(path)
        order.append(path)

    visit(entry, ())
    return order


def bundle(entry: str = "widget.js", root: Path | str = WEB_DIR) -> str:
    """One ES module made of ``entry`` and every module it imports (see the rules above).

    Deterministic: the same files give the same text.  Raises ``ValueError``
    naming the module when a rule is broken (a non-relative or default import,
    an ``export { ... }`` list, two modules declaring the same top-level name).

    Examples
    --------
    >>> text = bundle()
    >>> len(re.findall("^export default", text, re.M)), "import {" in text
    (1, False)
    """
    return _bundle(str(entry), str(Path(root).resolve()))


@lru_cache(maxsize=4)
def _bundle(entry: str, root: str) -> str:
    base = Path(root)
    owners: dict[str, str] = {}
    parts = [f"// usaav explorers: bundle of usaav/web/{entry} and its imports (usaav.explorers.bundle)\n"]
    for path in module_order(entry, base):
        text = (base / path).read_text(encoding="utf-8")
        for name in _TOP_LEVEL_NAME.findall(text):
            if name in owners:
                raise ValueError(f"top-level name {name!r} is declared in both {owners[name]} and {path}; "
                                 "names must be unique across usaav/web for the bundle")
            owners[name] = path
        parts.append(f"\n// ---- {path} ----\n")
        parts.append(_strip_module(text, path, entry=path == entry))
    return "".join(parts)


# --------------------------------------------------------------------------
# The widget
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class ExplorerState:
    """One system of an explorer, as the browser last reported it.

    Attributes
    ----------
    X : (n, d) ndarray
        The configuration.
    aux : (n,) ndarray
        Its labels (positions or prompt ids).
    kernel : usaav.kernels.Kernel or None
        The kernel, rebuilt with :func:`usaav.specs.from_spec` (``None`` for
        a still picture, which has no dynamics).
    t : float
        The time of the dynamics (the explorer's clock).
    key, title : str
        Which system of the explorer this is.
    spec : dict or None
        The kernel spec as sent by the browser.
    """

    X: np.ndarray
    aux: np.ndarray
    kernel: object
    t: float
    key: str
    title: str
    spec: dict | None


def _placeholder_config(name: str, options: dict) -> str:
    return json.dumps({"name": name, "options": options}, separators=(",", ":"), sort_keys=True)


def placeholder_html(name: str, options: dict, fallback: str) -> str:
    """The static-page placeholder that ``usaav/web/loader.js`` turns into the explorer (WEB_CONTRACT.md)."""
    config = html.escape(_placeholder_config(name, options), quote=True)
    return (f'<div class="usaav-explorer" data-usaav-explorer="{config}">'
            f'<p class="usaav-explorer-fallback">{html.escape(fallback)}</p></div>')


def state_from_snapshot(snapshot: dict, system: str | None = None) -> ExplorerState:
    """Turn a snapshot sent by the browser (``runSnapshot`` of explorer.js) into an :class:`ExplorerState`."""
    from .specs import from_spec

    systems = snapshot.get("systems") if isinstance(snapshot, dict) else None
    if not systems:
        raise RuntimeError("no state from the browser yet: display the explorer and let it run (or press pause)")
    keys = [s["key"] for s in systems]
    if system is None:
        if len(systems) > 1:
            raise ValueError(f"this explorer shows {len(systems)} systems; pass system= one of {keys}")
        chosen = systems[0]
    else:
        matches = [s for s in systems if s["key"] == system]
        if not matches:
            raise ValueError(f"system must be one of {keys}, got {system!r}")
        chosen = matches[0]
    n, d = int(chosen["n"]), int(chosen["d"])
    X = np.asarray(chosen["X"], dtype=np.float64).reshape(n, d)
    spec = chosen.get("spec")
    if spec:
        kernel, aux = from_spec(spec)
    else:
        kernel, aux = None, np.asarray(chosen["aux"], dtype=np.float64)
    return ExplorerState(X=X, aux=np.asarray(aux), kernel=kernel, t=float(snapshot.get("t", 0.0)),
                         key=str(chosen["key"]), title=str(chosen.get("title", "")), spec=spec)


class Explorer(anywidget.AnyWidget):
    """An explorer of the book as a widget (see the module docstring).

    Made by the constructors of this module (:func:`collapse`, ...).  Traits:
    ``name`` and ``options`` (the explorer and its control values and data),
    ``snapshot`` (the state sent back by the browser) and ``sync_state``.
    """

    _esm = bundle()
    name = traitlets.Unicode().tag(sync=True)
    options = traitlets.Dict().tag(sync=True)
    snapshot = traitlets.Dict().tag(sync=True)
    sync_state = traitlets.Bool(True).tag(sync=True)

    def __init__(self, name: str, options: dict, *, summary: str = ""):
        super().__init__(name=name, options=options)
        self._summary = summary or f"usaav explorer {name!r}"

    def __repr__(self) -> str:
        return f"<usaav explorer {self.name!r}: {self._summary}>"

    def _repr_mimebundle_(self, **kwargs):
        data, metadata = super()._repr_mimebundle_(**kwargs)
        # Shown while the page's modules load, and for good without JavaScript.
        fallback = (f"Interactive explorer: {self._summary}. It starts here once the page's JavaScript "
                    "has loaded; without JavaScript, the library's figures on this page show the same "
                    "phenomenon.")
        data["text/html"] = placeholder_html(self.name, self.options, fallback)
        data["text/plain"] = f"[Interactive explorer: {self._summary}. Live in the online book and in notebooks.]"
        return data, metadata

    def systems(self) -> list[str]:
        """Keys of the systems the browser has reported (empty before its first report)."""
        return [s["key"] for s in self.snapshot.get("systems", [])]

    def state(self, system: str | None = None) -> ExplorerState:
        """The current configuration, labels, kernel and time of one system.

        Parameters
        ----------
        system : str, optional
            Which system, for explorers that show several (see
            :meth:`systems`); optional when there is only one.

        Raises
        ------
        RuntimeError
            Before the browser has reported a state (the widget is not
            displayed yet, or its front end is not running).
        ValueError
            For an unknown or a missing ``system``.
        """
        return state_from_snapshot(self.snapshot, system)


# --------------------------------------------------------------------------
# The options: one table of ranges (those of the JS controls; a test checks
# that the two agree), one check per rule
# --------------------------------------------------------------------------

#: Option ranges of each explorer: name -> {option: rule}, a rule being
#: ("choice", values), ("number", low, high, integer, step) (step None: any
#: integer), ("toggle",) for a checkbox or ("text", max_length).  Every option
#: is a control of the explorer except those in :data:`SETUP_OPTIONS`.
OPTION_RANGES = {
    "collapse": {
        "kernel": ("choice", ("baseline", "RoPE", "prompts", "distance bias")),
        "beta": ("number", 0.25, 4.0, False, 0.25),
        "n": ("number", 16, 256, True, 16),
        "seed": ("number", 0, 20, True, None),
    },
    "kernel_gallery": {
        "beta": ("number", 0.5, 6.0, False, 0.5),
        "n": ("number", 24, 240, True, 24),
        "seed": ("number", 0, 20, True, None),
        "t_max": ("choice", (5, 10, 20, 40)),
    },
    "collapse_layers": {
        "beta": ("number", 0.25, 4.0, False, 0.25),
        "n": ("number", 16, 128, True, 16),
        "seed": ("number", 0, 9, True, None),
    },
    "scenario_knob": {
        "scenario": ("choice", _scenarios.KEYS),
        "m": ("number", 1, 6, True, None),
        "beta": ("number", 0.5, 3.0, False, 0.5),
    },
    "sphere_viewer": {},
    "latitude": {
        "polar": ("number", 0, 180, True, 5),
        "theta": ("number", 0.25, 4.0, False, 0.25),
        "plane": ("choice", ("x1x2", "x1x3", "x2x3")),
        "flow": ("toggle",),
        "copies": ("choice", (1, 4)),  # an option from Python, not a control
    },
    "orbit_law": {
        "law": ("choice", _targets.ANGLE_LAWS),
        "width": ("number", 0.1, 1.0, False, 0.05),
        "quantile": ("text", 200),
        "n": ("number", 50, 800, True, 50),
    },
    "prompt_law": {
        "word": ("text", 24),
        "shape": ("choice", _targets.SHAPES),
        "n": ("number", 100, 1600, True, 100),
    },
    "prompts": {
        "m": ("number", 1, 10, True, None),
        "layout": ("choice", _targets.PROMPT_LAYOUTS),
        "seed": ("number", 0, 20, True, None),
    },
    "toeplitz": {f"c{k}": ("number", 0.0, 1.0, False, 0.05) for k in range(4)},
    "metastability": {
        "beta": ("number", 2, 10, True, None),
        "gap": ("number", 0.6, 1.2, False, 0.1),
        "clusters": ("number", 2, 3, True, None),
    },
}

#: Options that set an explorer up without being one of its controls.
SETUP_OPTIONS = {"latitude": {"copies"}}

#: Departures of an explorer from the defaults of the scenario table
#: (:data:`usaav.scenarios.TABLE`): explorer -> scenario key -> parameters.
#: Chapter 1's explorer shows four prompts with random phases in one plane
#: and a shorter distance bias than the §6.2 gallery.
SCENARIO_OVERRIDES = {
    "collapse": {"prompts": {"n_prompts": 4, "layout": "random phases"}, "distance_bias": {"length": 0.1}},
    "kernel_gallery": {},
    "scenario_knob": {},
}


def _check_rule(key: str, value, rule: tuple):
    """``value`` of option ``key`` checked against its rule (see :data:`OPTION_RANGES`); returns it normalised."""
    kind = rule[0]
    if kind == "choice":
        if value not in rule[1]:
            raise ValueError(f"{key} must be one of {list(rule[1])}, got {value!r}")
        return value
    if kind == "toggle":
        if not isinstance(value, (bool, np.bool_)):
            raise TypeError(f"{key} must be True or False, got {type(value).__name__} {value!r}")
        return bool(value)
    if kind == "text":
        if not isinstance(value, str):
            raise TypeError(f"{key} must be a string, got {type(value).__name__} {value!r}")
        if len(value) > rule[1]:
            raise ValueError(f"{key} must have at most {rule[1]} characters, got {len(value)}")
        return value
    _, low, high, integer, step = rule
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{key} must be a number, got {type(value).__name__}")
    if integer and float(value) != int(value):
        raise ValueError(f"{key} must be an integer, got {value!r}")
    checked = int(value) if integer else float(value)
    if not low <= checked <= high:
        raise ValueError(f"{key} must lie in [{low}, {high}], got {value!r}")
    if step and abs(checked / step - round(checked / step)) > 1e-9:
        raise ValueError(f"{key} must be a multiple of {step} (the slider's step), got {value!r}")
    return checked


def _options(explorer: str, **values) -> dict:
    """The options of ``explorer`` checked against :data:`OPTION_RANGES` (each by :func:`_check_rule`)."""
    ranges = OPTION_RANGES[explorer]
    return {key: _check_rule(key, value, ranges[key]) for key, value in values.items()}


def _scenario_data(explorer: str) -> dict:
    """What an explorer built on :mod:`usaav.scenarios` needs besides its controls: the table and its overrides.

    The browser builds the kernels from these (``usaav/web/scenarios.js``), so
    the parameters have one source, and the static page's placeholder carries
    them with the options.
    """
    return {"scenarios": _scenarios.as_json()["scenarios"], "overrides": SCENARIO_OVERRIDES[explorer]}


# --------------------------------------------------------------------------
# One constructor per phenomenon
# --------------------------------------------------------------------------


def collapse(*, kernel: str = "baseline", beta: float = 1.0, n: int = 128, seed: int = 0):
    r"""Mode collapse and what prevents it (chapter 1; MODEL.md §2–§3, §6).

    ``n`` tokens start uniform on :math:`\mathbb S^2` (drawn in the browser
    from ``seed``) and follow the USA-AV flow of the chosen kernel, a
    scenario of :data:`usaav.scenarios.TABLE` with the explorer's
    :data:`SCENARIO_OVERRIDES`: the baseline USA flow collapses to one point;
    RoPE with :math:`\theta=2\pi` and four fixed prompts (random phases in
    the :math:`(x_1,x_2)`-plane) keep the tokens apart while the gauge frame
    :math:`u_i=G(a_i)x_i` collapses (Thm. 1, Cor. 2); an exponential distance
    bias (length 0.1) only slows the collapse down (Prop. 11).  Readouts: the
    collapse gap :math:`\Gamma`, the gauge-frame gap and the relative energy
    gap; the chart shows both gaps against time on a log axis.

    Parameters
    ----------
    kernel : {"baseline", "RoPE", "prompts", "distance bias"}
    beta : float
        In [0.25, 4], a multiple of 0.25.
    n : int
        In [16, 256], a multiple of 16.
    seed : int
        In [0, 20].

    Returns
    -------
    Explorer
    """
    options = _options("collapse", kernel=kernel, beta=beta, n=n, seed=seed)
    summary = f"collapse of {options['n']} tokens under the {kernel} kernel, β = {options['beta']:g}"
    return Explorer("collapse", {**options, **_scenario_data("collapse")}, summary=summary)


def kernel_gallery(*, beta: float = 2.0, n: int = 96, seed: int = 0, t_max: float = 10):
    r"""What each kernel does to the same cloud (chapter 2; MODEL.md §3, §6.2).

    Six spheres share one initial cloud of ``n`` uniform tokens and one
    camera: the six scenarios of :data:`usaav.scenarios.TABLE` with their
    parameters (the baseline USA, an exponential distance bias of length
    0.25, the Toeplitz kernel :math:`c(r)=0.2+\cos4\pi r`, RoPE with
    :math:`\theta=2\pi`, a generalised RoPE
    :math:`G(s)=R^{(12)}_{2\pi s}R^{(13)}_{0.5\sin6\pi s}` and five
    Haar-random prompts) and ``beta`` for every kernel that has one.  The
    clouds move together up to time ``t_max``; a chart follows each collapse
    gap.

    Parameters
    ----------
    beta : float
        In [0.5, 6], a multiple of 0.5.
    n : int
        In [24, 240], a multiple of 24.
    seed : int
        In [0, 20].
    t_max : {5, 10, 20, 40}

    Returns
    -------
    Explorer
    """
    options = _options("kernel_gallery", beta=beta, n=n, seed=seed, t_max=t_max)
    return Explorer("kernel_gallery", {**options, **_scenario_data("kernel_gallery")},
                    summary=f"six kernels on one cloud of {options['n']} tokens, β = {options['beta']:g}, T = {t_max:g}")


def collapse_layers(*, beta: float = 1.0, n: int = 64, seed: int = 0):
    r"""Collapse through many layers: baseline, RoPE and prompts from one gauge-frame cloud (MODEL.md §6.1).

    With four tokens per label, one cloud :math:`u_i` uniform on the sphere
    starts all three models, :math:`x_i(0)=G(a_i)^\top u_i`.  The three
    spheres move side by side; the chart shows each collapse gap, the common
    gauge-frame gap and the prediction :math:`1-v_3^2` (:math:`v` the
    normalised mean of the gauge-frame points), up to :math:`T=20`.

    Parameters
    ----------
    beta : float
        In [0.25, 4], a multiple of 0.25.
    n : int
        In [16, 128], a multiple of 16.
    seed : int
        In [0, 9].

    Returns
    -------
    Explorer
    """
    options = _options("collapse_layers", beta=beta, n=n, seed=seed)
    return Explorer("collapse_layers", options,
                    summary=f"baseline, RoPE and prompts, {options['n']} tokens, β = {options['beta']:g}")


def scenario_knob(*, scenario: str = "toeplitz", m: int = 3, beta: float = 1.0):
    r"""One §6.2 scenario and its integer knob ``m`` (MODEL.md §6.2; :func:`usaav.experiments.gallery_setup`).

    ``m`` is the Toeplitz mode (:math:`c(r)=0.2+\cos2\pi mr`: a great circle
    run ``m`` times), the number of waves of the generalised RoPE
    (:math:`\alpha=0.5`) or the number of (Haar-random) prompts; the other
    scenarios have no knob, and the Toeplitz kernel no β (their sliders are
    disabled there).  The other parameters are those of
    :data:`usaav.scenarios.TABLE`.  150 tokens run up to :math:`T=40`; the
    readouts give the collapse gap, the relative energy gap and the number
    of distinct points.

    Parameters
    ----------
    scenario : {"baseline", "distance_bias", "toeplitz", "rope", "generalized_rope", "prompts"}
    m : int
        In [1, 6].
    beta : float
        In [0.5, 3], a multiple of 0.5.

    Returns
    -------
    Explorer
    """
    options = _options("scenario_knob", scenario=scenario, m=m, beta=beta)
    return Explorer("scenario_knob", {**options, **_scenario_data("scenario_knob")}, summary=f"scenario {scenario}, m = {options['m']}, β = {options['beta']:g}")


def sphere_viewer(X, *, values=None, title: str | None = None, label: str = "", vmin=None, vmax=None):
    """Any configuration on the common sphere view; drag (or use the arrow keys) to turn it.

    Nothing runs: the explorer shows ``X`` as given, coloured by ``values``
    (viridis, with a colour bar labelled ``label``).

    Parameters
    ----------
    X : (n, 3) array_like
        Points on the sphere (finite; rows are drawn as given).
    values : (n,) array_like, optional
        Colour values, e.g. positions or prompt ids.
    title : str, optional
    label : str
        What the colours mean, e.g. ``"position s"``.
    vmin, vmax : float, optional
        Colour range (default: the range of ``values``).

    Returns
    -------
    Explorer
    """
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[1] != 3 or len(X) == 0:
        raise ValueError(f"X must have shape (n, 3) with n >= 1 to be shown on S^2, got shape {X.shape}")
    if not np.all(np.isfinite(X)):
        raise ValueError("X must be finite")
    options = {"X": np.round(X, 6).tolist(), "title": title or f"{len(X)} points", "label": str(label)}
    if values is not None:
        values = np.asarray(values, dtype=np.float64)
        if values.shape != (len(X),):
            raise ValueError(f"values must have shape ({len(X)},) to match X, got shape {values.shape}")
        if not np.all(np.isfinite(values)):
            raise ValueError("values must be finite")
        options["values"] = np.round(values, 6).tolist()
        options["vmin"] = float(values.min() if vmin is None else vmin)
        options["vmax"] = float(values.max() if vmax is None else vmax)
    return Explorer("sphere_viewer", options, summary=f"{options['title']} on the sphere, drag to turn")


def latitude(*, polar: int = 60, theta: float = 2.0, plane: str = "x1x2", flow: bool = True, copies: int = 4):
    r"""The RoPE maximiser :math:`x(s)=R_{-\theta s}v` and its latitude circle (chapter 3; Thm. 1, Cor. 1).

    Shows the maximiser for :math:`v` at polar angle ``polar`` (degrees)
    from the axis of the rotation ``plane``, the frequency
    :math:`\theta=` ``theta`` :math:`\pi`, with the orbit of :math:`v` and
    the axis; readouts: the relative energy gap (0: the ceiling
    :math:`e^\beta/(2\beta)`), the height :math:`\cos\vartheta` along the
    axis and its spread (0).  With ``flow`` the RoPE dynamics run next to
    it from a uniform cloud of 256 tokens, ``copies`` per position: the
    tokens of a position meet (conditional diameter → 0, Thm. 3) and the
    positions settle on a latitude circle of their own height.

    Parameters
    ----------
    polar : int
        ϑ in degrees, in [0, 180], a multiple of 5.
    theta : float
        θ/π, in [0.25, 4], a multiple of 0.25.
    plane : {"x1x2", "x1x3", "x2x3"}
    flow : bool
    copies : {1, 4}
        Tokens per position in the flow.

    Returns
    -------
    Explorer
    """
    options = _options("latitude", polar=polar, theta=theta, plane=plane, flow=flow, copies=copies)
    return Explorer("latitude", options,
                    summary=f"RoPE maximiser, ϑ = {options['polar']}°, θ = {options['theta']:g}π"
                            + (", with the flow" if options["flow"] else ""))


def orbit_law(*, law: str = "bimodal mixture", width: float = 0.4, quantile: str = "pi * (2*s - 1)**3",
              n: int = 400):
    r"""Any law on the orbit, realised exactly (chapter 3; Thm. 2 (ii)).

    The maximiser :math:`x(s_i)=R_{Q(s_i)}v` at :math:`s_i=(i+\frac12)/n`
    for the quantile :math:`Q` of the target law (:func:`usaav.targets.angle_law`;
    ``"your quantile"`` reads the formula ``quantile`` with the safe parser
    of :func:`usaav.targets.parse_formula`), drawn on the orbit of
    :math:`v`, with the histogram of the realised angles against the target
    density; readouts: the phase-field kernel's relative energy gap (0), the
    Kolmogorov–Smirnov distance and its best value :math:`1/(2n)`.

    Parameters
    ----------
    law : one of :data:`usaav.targets.ANGLE_LAWS`
    width : float
        In [0.1, 1], a multiple of 0.05.
    quantile : str
        Formula of :math:`Q(s)`; a formula the parser refuses raises its ``ValueError`` here.
    n : int
        In [50, 800], a multiple of 50.

    Returns
    -------
    Explorer
    """
    options = _options("orbit_law", law=law, width=width, quantile=quantile, n=n)
    _targets.user_quantile(quantile)  # the browser parses the same grammar: fail here, with the same message
    return Explorer("orbit_law", options, summary=f"{law} realised on an orbit by {options['n']} tokens")


def prompt_law(*, shape: str = "word", word: str = "USA-AV", n: int = 800):
    r"""Any law on the sphere, realised by prompts (chapter 4; Thm. 4 (ii)–(iii)).

    ``n`` prompts drawn from a nonatomic law are mapped to targets
    :math:`T_p` of ``shape`` (:func:`usaav.targets.sphere_target`; the word
    is drawn with the browser's font), the Householder reflection
    exchanging :math:`v=e_3` and :math:`T_p` is the gauge :math:`G_p`, and
    the maximiser :math:`x_p=G_p^\top v` is shown; readouts: the prompt
    kernel's relative energy gap and :math:`\max_p|G_p^\top v-T_p|`
    (both 0 up to round-off).

    Parameters
    ----------
    shape : one of :data:`usaav.targets.SHAPES`
    word : str
        At most 24 characters, with a visible one when ``shape="word"``.
    n : int
        In [100, 1600], a multiple of 100.

    Returns
    -------
    Explorer
    """
    options = _options("prompt_law", shape=shape, word=word, n=n)
    if shape == "word" and not word.strip():
        raise ValueError(f"word must contain visible characters, got {word!r}")
    what = f"the word {word!r}" if shape == "word" else f"the {shape} law"
    return Explorer("prompt_law", options, summary=f"{what} realised by {options['n']} prompts")


def prompts(*, m: int = 4, layout: str = "random rotations", seed: int = 0):
    r"""Finitely many prompts: one cluster per distinct point :math:`G_p^\top u` (chapter 4; Cor. 2).

    ``m`` prompts with 24 tokens each (gauges of ``layout``, see
    :func:`usaav.targets.prompt_gauges`; random ones drawn in the browser
    from ``seed``) start from a uniform cloud.  Readouts, live: the number
    of clusters, the number of distinct points :math:`G_p^\top u`
    (:math:`u` where the tokens agree in the gauge frame) and of distinct
    gauges, the gauge-frame and original-frame gaps, the relative energy
    gap; the chart follows both gaps.

    Parameters
    ----------
    m : int
        In [1, 10].
    layout : one of :data:`usaav.targets.PROMPT_LAYOUTS`
    seed : int
        In [0, 20].

    Returns
    -------
    Explorer
    """
    options = _options("prompts", m=m, layout=layout, seed=seed)
    return Explorer("prompts", options, summary=f"{options['m']} prompts, {layout}")


def toeplitz(*, c0: float = 0.2, c1: float = 0.0, c2: float = 1.0, c3: float = 0.0):
    r"""Toeplitz kernels: the strongest Fourier mode wins (chapter 5; Prop. 10).

    The flow of :math:`c(r)=c_0+c_1\cos2\pi r+c_2\cos4\pi r+c_3\cos6\pi r`
    from a uniform cloud of 200 tokens on the grid :math:`s_i=i/n`, with the
    spectrum :math:`\hat c(k)` (:math:`k^*` highlighted), the energy against
    :math:`\frac12\max_k\hat c(k)` and the finite-:math:`n` bound
    :math:`\lambda_{\max}(C)/(2n)`, and the winding number of the curve.

    Parameters
    ----------
    c0, c1, c2, c3 : float
        In [0, 1], multiples of 0.05.

    Returns
    -------
    Explorer
    """
    options = _options("toeplitz", c0=c0, c1=c1, c2=c2, c3=c3)
    terms = " + ".join(f"{options[f'c{k}']:g}·cos {2 * k}πr" if k else f"{options['c0']:g}" for k in range(4))
    return Explorer("toeplitz", options, summary=f"Toeplitz flow, c(r) = {terms}")


def metastability(*, beta: int = 6, gap: float = 1.0, clusters: int = 2):
    r"""Metastability: clusters wait exponentially long in β before they merge (chapter 7; Thm. 5).

    ``clusters`` clusters of 20 tokens start in caps of radius 0.05 around
    centres ``gap`` radians apart and follow the baseline flow in the
    rescaled clock :math:`t'=e^\beta t`; the chart shows the angles between
    the centres against :math:`\log t'` with the first merger :math:`T_1`
    (centres within 0.1 rad) and the prediction of the reduced
    :math:`k`-point flow.  The exponent :math:`c=1-\cos\Delta_0` of
    :math:`T_1\approx e^{c\beta}` is this project's reconstruction (the
    paper's value was lost), as the readout says.

    Parameters
    ----------
    beta : int
        In [2, 10].
    gap : float
        In [0.6, 1.2], a multiple of 0.1.
    clusters : {2, 3}

    Returns
    -------
    Explorer
    """
    options = _options("metastability", beta=beta, gap=gap, clusters=clusters)
    return Explorer("metastability", options,
                    summary=f"{options['clusters']} clusters, β = {options['beta']}, Δ = {options['gap']:g}")


