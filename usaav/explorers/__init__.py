r"""Explorers that run in the reader's browser: one ES module, every front end.

Each explorer is a declarative definition in ``usaav/web/explorers/*.js``
(controls, a set-up that builds kernel specs and an initial cloud, readouts
and charts); the browser twin of the library (``usaav/web``) integrates the
dynamics, so a slider moves the particles on the sphere without a round trip
to Python.  The same code runs

* in JupyterLab, Notebook 7, VS Code and Google Colab, as an
  `anywidget <https://anywidget.dev>`_ widget (:class:`Explorer`), whose ES
  module is the bundle of ``usaav/web`` made by :func:`bundle`;
* on the book's static pages, served or opened from disk, where the
  text/html placeholder of :meth:`Explorer._repr_mimebundle_` is turned into
  the same explorer by the classic script of :func:`classic_bundle`.

The package has one job per module: ``bundling`` (the two bundles),
``widget`` (the widget class, its placeholder and the state it hands back),
``options`` (the table of option ranges and their check) and
``constructors`` (one function per phenomenon).

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

from .bundling import WEB_DIR, bundle, classic_bundle, module_order
from .constructors import (
    baseline_collapse,
    collapse,
    collapse_layers,
    kernel_gallery,
    latitude,
    metastability,
    orbit_law,
    prompt_law,
    prompts,
    scenario_knob,
    sphere_viewer,
    toeplitz,
)
from .options import OPTION_RANGES, SCENARIO_OVERRIDES, SETUP_OPTIONS
from .widget import Explorer, ExplorerState, placeholder_html, state_from_snapshot

__all__ = [
    "Explorer",
    "ExplorerState",
    "OPTION_RANGES",
    "SCENARIO_OVERRIDES",
    "SETUP_OPTIONS",
    "WEB_DIR",
    "baseline_collapse",
    "bundle",
    "classic_bundle",
    "collapse",
    "collapse_layers",
    "kernel_gallery",
    "latitude",
    "metastability",
    "module_order",
    "orbit_law",
    "placeholder_html",
    "prompt_law",
    "prompts",
    "scenario_knob",
    "sphere_viewer",
    "state_from_snapshot",
    "toeplitz",
]
