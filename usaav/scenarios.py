r"""The six standard scenarios of MODEL.md §6.2, one table for the experiments, the book and the browser.

Each :class:`Scenario` describes one kernel set-up on :math:`\mathbb S^2`: how
to build the kernel and the labels from its parameters, how to colour the
particles, which final law the paper predicts, and where that is stated.
The defaults are the book's own choices for the representation gallery
(MODEL.md §6.2):

======  ==================  =================================================================================  =======================================
key     kernel              default parameters                                                                 predicted final law
======  ==================  =================================================================================  =======================================
(i)     USA baseline        β = 1                                                                              Dirac mass (Ex. 1)
(ii)    distance bias       β = 1, :math:`w=e^{-d(a,b)/\ell}`, ℓ = 0.25                                        Dirac mass (Prop. 11, Ex. 4)
(iii)   Toeplitz            :math:`c(r)=a_0+a_1\cos2\pi mr`, 0.2, 1, m = 2                                     great circle run m times (Prop. 10; needs a₁ > 2a₀)
(iv)    RoPE                β = 1, θ = 2π, plane (x₁, x₂)                                                      latitude circle (Thm. 1, Cor. 1)
(v)     generalised RoPE    β = 1, :math:`G(s)=R^{(12)}_{2\pi s}R^{(13)}_{\alpha\sin2\pi ms}`, α = 0.5, m = 3  wavy closed curve (Thm. 4 (i))
(vi)    fixed prompts       β = 1, 5 Haar-random rotations, ids i mod 5                                        one cluster per distinct point (Cor. 2)
======  ==================  =================================================================================  =======================================

:func:`setup` builds one scenario (any parameter can be overridden);
:func:`usaav.experiments.gallery_setup` is this table with the gallery's
initial tokens; :func:`as_json` exports the table for the browser
explorers, whose ``usaav/web/scenarios.js`` builds the same kernels as
specs (checked against :mod:`usaav.specs` in the tests).

Examples
--------
>>> built = setup("toeplitz", 40)
>>> built.kernel.fourier(), TABLE["toeplitz"].predicted_law()
({0: 0.2, 2: 0.5}, 'great circle run 2 times')
>>> [s.name for s in TABLE.values()]
['baseline', 'distance bias', 'Toeplitz', 'RoPE', 'generalized RoPE', 'prompts']
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Callable, Mapping

import numpy as np

from . import kernels
from ._validation import check_int
from .labels import grid_positions
from .gauges import PROMPT_LAYOUTS, WavyGauge, prompt_gauges

# WavyGauge lives in usaav.gauges (documented there); it stays reachable here, outside __all__, because
# chapter 2 builds scenario (v) as kernels.Gauge(beta, scenarios.WavyGauge(alpha, m)).
__all__ = ["KEYS", "TABLE", "Scenario", "ScenarioSetup", "as_json", "setup"]


@dataclass(frozen=True, eq=False)
class ScenarioSetup:
    """One scenario built for ``n`` particles (see :func:`setup`).

    Attributes
    ----------
    scenario : Scenario
    kernel : usaav.kernels.Kernel
    aux : (n,) ndarray
        Labels: the grid positions :math:`s_i=i/n`, or prompt ids ``i mod m``.
    values : (n,) ndarray
        Colour values of the particles (positions, or prompt ids as floats).
    parameters : Mapping
        The parameters used (defaults merged with the overrides).
    """

    scenario: "Scenario"
    kernel: kernels.Kernel
    aux: np.ndarray
    values: np.ndarray
    parameters: Mapping[str, Any]


@dataclass(frozen=True, eq=False)
class Scenario:
    r"""One standard kernel set-up (MODEL.md §6.2): how to build it, colour it, and what it should do.

    Attributes
    ----------
    key : str
        Identifier (``"rope"``), also the §6.2 experiment's scenario name.
    name : str
        Short label for figures (``"RoPE"``).
    title : str
        Label with its §6.2 number (``"(iv) RoPE"``).
    spec_type : str
        The kernel's type in the JSON specs shared with the browser (``usaav.specs``).
    labels : str
        ``"positions"`` or ``"prompt ids"``.
    parameters : Mapping
        Default parameters (read-only).
    prediction : str
        The predicted final law; ``{name}`` fields are filled from the parameters.
    reference : str
        Where the prediction is stated (the paper's result and MODEL.md).
    """

    key: str
    name: str
    title: str
    spec_type: str
    labels: str
    parameters: Mapping[str, Any]
    prediction: str
    reference: str
    _factory: Callable = field(repr=False)

    def merged(self, overrides: Mapping[str, Any]) -> dict:
        """Defaults updated by ``overrides``; an unknown name raises ``TypeError`` listing the allowed ones."""
        unknown = sorted(set(overrides) - set(self.parameters))
        if unknown:
            raise TypeError(f"scenario {self.key!r} has no parameter(s) {unknown}; "
                            f"its parameters are {sorted(self.parameters)}")
        return {**self.parameters, **overrides}

    def predicted_law(self, **overrides) -> str:
        """:attr:`prediction` with the parameters filled in."""
        return self.prediction.format(**self.merged(overrides))

    def setup(self, n: int, rng=None, **overrides) -> ScenarioSetup:
        """Kernel, labels and colour values for ``n`` particles (see :func:`setup`)."""
        n = check_int(n, "n", minimum=1)
        parameters = self.merged(overrides)
        kernel, aux = self._factory(n, np.random.default_rng(rng), **parameters)
        values = aux.astype(np.float64)
        return ScenarioSetup(self, kernel, aux, values, MappingProxyType(parameters))

    def as_json(self) -> dict:
        """A JSON-ready description (no kernel: the browser builds it from ``spec_type`` and ``parameters``)."""
        return {"key": self.key, "name": self.name, "title": self.title, "spec_type": self.spec_type,
                "labels": self.labels, "parameters": _json_ready(dict(self.parameters)),
                "prediction": self.prediction, "reference": self.reference}


def _json_ready(value):
    if isinstance(value, dict):
        return {str(k): _json_ready(v) for k, v in value.items()}
    if isinstance(value, (tuple, list)):
        return [_json_ready(v) for v in value]
    if isinstance(value, (bool, str)) or value is None:
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    return float(value)


# --------------------------------------------------------------------------
# Factories: (n, rng, **parameters) -> (kernel, aux)
# --------------------------------------------------------------------------


def _baseline(n, rng, *, beta):
    return kernels.USA(beta), grid_positions(n)


def _distance_bias(n, rng, *, beta, length, profile):
    return kernels.DistanceBias(beta, length, profile), grid_positions(n)


def _toeplitz(n, rng, *, a0, a1, m):
    m = check_int(m, "m", minimum=1)
    return kernels.Toeplitz({0: float(a0), m: float(a1)}), grid_positions(n)


def _rope(n, rng, *, beta, theta, plane):
    return kernels.RoPE(beta, theta, tuple(plane)), grid_positions(n)


def _generalized_rope(n, rng, *, beta, alpha, m):
    return kernels.Gauge(beta, WavyGauge(float(alpha), check_int(m, "m", minimum=0))), grid_positions(n)


def _prompts(n, rng, *, beta, n_prompts, layout):
    n_prompts = check_int(n_prompts, "n_prompts", minimum=1)
    if layout not in PROMPT_LAYOUTS:
        raise ValueError(f"layout must be one of {PROMPT_LAYOUTS}, got {layout!r}")
    return kernels.Prompts(beta, prompt_gauges(n_prompts, layout, rng)), np.arange(n) % n_prompts


_ROWS = (
    Scenario("baseline", "baseline", "(i) baseline USA", "usa", "positions",
             MappingProxyType({"beta": 1.0}),
             "Dirac mass", "Ex. 1; MODEL.md §6.2 (i)", _baseline),
    Scenario("distance_bias", "distance bias", "(ii) distance bias", "distance_bias", "positions",
             MappingProxyType({"beta": 1.0, "length": 0.25, "profile": "exponential"}),
             "Dirac mass", "Prop. 11, Ex. 4; MODEL.md §6.2 (ii)", _distance_bias),
    Scenario("toeplitz", "Toeplitz", "(iii) Toeplitz", "toeplitz", "positions",
             MappingProxyType({"a0": 0.2, "a1": 1.0, "m": 2}),
             "great circle run {m} times", "Prop. 10, Ex. 6; MODEL.md §6.2 (iii)", _toeplitz),
    Scenario("rope", "RoPE", "(iv) RoPE", "rope", "positions",
             MappingProxyType({"beta": 1.0, "theta": 2 * math.pi, "plane": (0, 1)}),
             "latitude circle", "Thm. 1, Cor. 1; MODEL.md §6.2 (iv)", _rope),
    Scenario("generalized_rope", "generalized RoPE", "(v) generalised RoPE", "gauge", "positions",
             MappingProxyType({"beta": 1.0, "alpha": 0.5, "m": 3}),
             "wavy closed curve", "Thm. 4 (i); MODEL.md §3, §6.2 (v)", _generalized_rope),
    Scenario("prompts", "prompts", "(vi) fixed prompts", "prompts", "prompt ids",
             MappingProxyType({"beta": 1.0, "n_prompts": 5, "layout": "random rotations"}),
             "{n_prompts} clusters, one per distinct point G_pᵀv", "Cor. 2; MODEL.md §6.2 (vi)", _prompts),
)

#: The scenarios by key, in the order (i)–(vi) of MODEL.md §6.2 (read-only).
TABLE: Mapping[str, Scenario] = MappingProxyType({row.key: row for row in _ROWS})
#: Scenario keys in the order (i)–(vi).
KEYS = tuple(TABLE)


def setup(key: str, n: int, rng=None, **parameters) -> ScenarioSetup:
    r"""Build scenario ``key`` for ``n`` particles: kernel, labels and colour values.

    Parameters
    ----------
    key : str
        One of :data:`KEYS`.
    n : int
        Number of particles.  Positions are the grid :math:`s_i=i/n`;
        prompt ids are ``i mod n_prompts``.
    rng : numpy.random.Generator or int or None
        Draws the random prompt gauges (only the prompts scenario uses it).
    **parameters
        Overrides of the scenario's defaults (``TABLE[key].parameters``);
        any other name raises ``TypeError``.

    Returns
    -------
    ScenarioSetup

    Examples
    --------
    >>> built = setup("prompts", 12, rng=0, n_prompts=3, layout="phases in one plane")
    >>> built.aux
    array([0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2])
    """
    if key not in TABLE:
        raise ValueError(f"key must be one of {KEYS}, got {key!r}")
    return TABLE[key].setup(n, rng, **parameters)


def as_json() -> dict:
    """The table as JSON-ready data, for the browser explorers (``usaav/web/scenarios.js``).

    >>> import json
    >>> [s["key"] for s in json.loads(json.dumps(as_json()))["scenarios"]][:2]
    ['baseline', 'distance_bias']
    """
    return {"scenarios": [row.as_json() for row in TABLE.values()],
            "prompt_layouts": list(PROMPT_LAYOUTS)}
