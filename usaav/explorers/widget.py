r"""The explorer widget (anywidget), its static-page placeholder, and the state it hands back.

:class:`Explorer` ships the ES module of :func:`usaav.explorers.bundle`;
its text/html representation is the placeholder that the book's static pages
turn into the same explorer (:func:`usaav.explorers.classic_bundle`).  In a
live kernel the browser sends its state back when the animation pauses or
ends and about every half second while it runs; :meth:`Explorer.state`
returns it as NumPy arrays and a library kernel.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass

import anywidget
import numpy as np
import traitlets

from .bundling import bundle

__all__ = ["Explorer", "ExplorerState", "placeholder_html", "state_from_snapshot"]


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
    from ..specs import from_spec

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

    Made by the constructors of :mod:`usaav.explorers` (:func:`~usaav.explorers.collapse`, ...).  Traits:
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


