r"""Kernels as JSON specs, shared with the browser twin (``kernels.js`` in the package's ``web`` folder).

A spec is a JSON-ready ``dict`` with a ``"type"``, the ``"aux"`` labels (a
list of n numbers) and the kernel's parameters:

=================  ==============================================  ===========================
type               fields                                          kernel
=================  ==============================================  ===========================
``usa``            ``beta``                                        :class:`~usaav.kernels.USA`
``distance_bias``  ``beta``, ``length``, ``profile``               :class:`~usaav.kernels.DistanceBias`
``separated``      ``beta``, ``weights`` (n × n, symmetric)        :class:`~usaav.kernels.Separated`
``rope``           ``beta``, ``theta``, ``plane``                  :class:`~usaav.kernels.RoPE`
``phase_field``    ``beta``, ``phases`` (n angles), ``plane``      :class:`~usaav.kernels.PhaseField`
``gauge``          ``beta``, ``gauges`` (n matrices d × d)         :class:`~usaav.kernels.Gauge`
``prompts``        ``beta``, ``gauges`` (m matrices d × d)         :class:`~usaav.kernels.Prompts`
``toeplitz``       ``coefficients`` ``{"k": c_k}``                 :class:`~usaav.kernels.Toeplitz`
=================  ==============================================  ===========================

Callables (separated weights, phases, gauges) are *evaluated* at the labels,
one row per particle (row ``i`` is the value at ``aux[i]``, as the browser
twin reads it); a table must therefore be a function of the labels:
particles with equal labels carry equal rows, else :func:`from_spec` (and the
twin) refuse it.  Toeplitz keys are written in canonical decimal (``"0"``,
``"12"``; not ``"012"``, ``" 1"``, ``"+1"`` or ``"1_0"``), so that each mode
has one key.
:func:`from_spec` turns the tables back into kernels through the small
picklable callables :class:`TabulatedWeight`, :class:`TabulatedPhase` and
:class:`TabulatedGauge`, which answer at those labels only.  So
``from_spec(to_spec(kernel, aux, d))`` gives the same velocities and energies
as ``kernel`` at ``aux``.

Examples
--------
>>> import json, numpy as np, usaav
>>> from usaav.kernels import RoPE
>>> s = np.arange(5) / 5
>>> spec = to_spec(RoPE(2.0, theta=np.pi, plane=(0, 2)), s, 3)
>>> spec["type"], spec["theta"] == np.pi, spec["plane"]
('rope', True, [0, 2])
>>> kernel, aux = from_spec(json.loads(json.dumps(spec)))
>>> kernel == RoPE(2.0, theta=np.pi, plane=(0, 2)), bool(np.array_equal(aux, s))
(True, True)
"""

from __future__ import annotations

import numbers
import re
from dataclasses import dataclass

import numpy as np

from ._validation import as_float_array, check_aux, check_int, check_plane, check_real
from .kernels import (
    USA,
    DistanceBias,
    Gauge,
    Kernel,
    PhaseField,
    Prompts,
    RoPE,
    Separated,
    Toeplitz,
)

__all__ = [
    "SPEC_TYPES",
    "TabulatedGauge",
    "TabulatedPhase",
    "TabulatedWeight",
    "from_spec",
    "to_spec",
]

#: A Toeplitz key: a non-negative integer in canonical decimal (the browser twin uses the same pattern).
_CANONICAL_KEY = re.compile(r"0|[1-9][0-9]*")

#: The spec types, in the order of the module table.
SPEC_TYPES = ("usa", "distance_bias", "separated", "rope", "phase_field", "gauge", "prompts", "toeplitz")


def _label_rows(labels: np.ndarray, queries, name: str) -> np.ndarray:
    """Index of each query in ``labels`` (exact match; labels may repeat)."""
    queries = np.asarray(queries, dtype=np.float64)
    order = np.argsort(labels, kind="stable")
    ordered = labels[order]
    slots = np.clip(np.searchsorted(ordered, queries), 0, len(ordered) - 1)
    missing = ordered[slots] != queries
    if np.any(missing):
        raise ValueError(
            f"{name} is tabulated at its spec's labels only; {queries[missing][0]!r} is not one of them"
        )
    return order[slots]


@dataclass(frozen=True, eq=False)
class TabulatedWeight:
    r"""A separated weight :math:`w(a, b)` known at finitely many labels (a table from a spec).

    ``weight(a, b)`` returns the ``(len(a), len(b))`` matrix
    :math:`w(a_i, b_j)` looked up in ``table``; labels absent from ``labels``
    raise ``ValueError``.

    Attributes
    ----------
    labels : (n,) ndarray
        The labels the table was evaluated at (may repeat).
    table : (n, n) ndarray
        ``table[i, j]`` = :math:`w(\text{labels}_i, \text{labels}_j)`.

    >>> w = TabulatedWeight(np.array([0.0, 0.5]), np.array([[1.0, 0.2], [0.2, 1.0]]))
    >>> w(np.array([0.5]), np.array([0.0, 0.5]))
    array([[0.2, 1. ]])
    """

    labels: np.ndarray
    table: np.ndarray

    def __call__(self, a, b) -> np.ndarray:
        rows = _label_rows(self.labels, a, "the weight")
        columns = _label_rows(self.labels, b, "the weight")
        return self.table[np.ix_(rows, columns)]


@dataclass(frozen=True, eq=False)
class TabulatedPhase:
    r"""A phase :math:`\phi(s)` known at finitely many positions (a table from a spec).

    ``phase(s)`` returns the angles :math:`\phi(s_i)`, same shape as ``s``.

    >>> TabulatedPhase(np.array([0.0, 0.5]), np.array([0.0, 3.0]))(np.array([0.5, 0.0]))
    array([3., 0.])
    """

    labels: np.ndarray
    phases: np.ndarray

    def __call__(self, s) -> np.ndarray:
        s = np.asarray(s, dtype=np.float64)
        return self.phases[_label_rows(self.labels, s.ravel(), "the phase")].reshape(s.shape)


@dataclass(frozen=True, eq=False)
class TabulatedGauge:
    r"""A gauge :math:`G(a)` known at finitely many labels (a table from a spec).

    ``gauge(aux)`` returns the ``(len(aux), d, d)`` orthogonal matrices
    :math:`G(a_i)`.

    >>> quarter_turn = np.array([[0.0, -1.0], [1.0, 0.0]])
    >>> G = TabulatedGauge(np.array([0.0, 0.5]), np.stack([np.eye(2), quarter_turn]))
    >>> G(np.array([0.5, 0.5])).shape, bool(np.array_equal(G(np.array([0.5]))[0], quarter_turn))
    ((2, 2, 2), True)
    """

    labels: np.ndarray
    gauges: np.ndarray

    def __call__(self, aux) -> np.ndarray:
        return self.gauges[_label_rows(self.labels, aux, "the gauge")]


def _numbers(values: np.ndarray) -> list:
    """A nested list of plain Python numbers (exact float64 in JSON)."""
    if values.dtype.kind in "biu":
        return values.astype(np.int64).tolist()
    return values.astype(np.float64).tolist()


def to_spec(kernel: Kernel, aux, d: int) -> dict:
    r"""The JSON-ready spec of ``kernel`` bound to the labels ``aux`` in dimension ``d``.

    Callables (separated weights, phases, gauges) are evaluated at ``aux``;
    the kernel is bound once (``kernel.bind``), so bad labels raise the same
    errors as in :func:`usaav.simulate`.

    Parameters
    ----------
    kernel : Kernel
        One of the kernels of :mod:`usaav.kernels`.
    aux : (n,) array_like
        Labels: positions in [0, 1], or prompt ids for :class:`~usaav.kernels.Prompts`.
        Required for every kernel (for :class:`~usaav.kernels.USA` only its length matters).
    d : int
        Dimension of the ambient space (points on :math:`\mathbb S^{d-1}`).

    Returns
    -------
    dict
        ``{"type": ..., "aux": [...], ...}`` (module table); ``json.dumps`` round-trips it exactly.

    Examples
    --------
    >>> to_spec(USA(1.5), [0.0, 0.5], 3)
    {'type': 'usa', 'aux': [0.0, 0.5], 'beta': 1.5}
    """
    if not isinstance(kernel, Kernel):
        raise TypeError(f"kernel must be a usaav kernel (USA, RoPE, Prompts, ...), got {type(kernel).__name__}")
    d = check_int(d, "d", minimum=2)
    if aux is None:
        raise TypeError("aux must be an array of n labels (USA ignores their values but not their number), got None")
    n = len(aux) if np.ndim(aux) == 1 else -1
    if n < 1:
        raise ValueError(f"aux must be a non-empty 1-D array of labels, got shape {np.shape(aux)}")
    labels = check_aux(aux, n)
    kernel.bind(labels, n, d)  # every check of the library, once
    spec: dict = {"type": None, "aux": _numbers(labels)}
    if isinstance(kernel, Toeplitz):
        spec.update(type="toeplitz", coefficients={str(k): float(c) for k, c in kernel.coefficients.items()})
        return spec
    spec["beta"] = float(kernel.beta)
    positions = labels.astype(np.float64)
    if isinstance(kernel, USA):
        spec["type"] = "usa"
    elif isinstance(kernel, DistanceBias):
        spec.update(type="distance_bias", length=float(kernel.length), profile=kernel.profile)
    elif isinstance(kernel, Separated):
        spec.update(type="separated", weights=_numbers(kernel._weights(positions, positions)))
    elif isinstance(kernel, RoPE):
        spec.update(type="rope", theta=float(kernel.theta), plane=list(kernel.plane))
    elif isinstance(kernel, PhaseField):
        spec.update(type="phase_field", phases=_numbers(as_float_array(kernel.phase(positions), "phase(s)")),
                    plane=list(kernel.plane))
    elif isinstance(kernel, Gauge):
        spec.update(type="gauge", gauges=_numbers(as_float_array(kernel.gauge(labels), "gauge(aux)")))
    elif isinstance(kernel, Prompts):
        spec.update(type="prompts", gauges=_numbers(kernel.gauges))
    else:
        raise TypeError(f"to_spec does not know the kernel class {type(kernel).__name__}")
    return spec


def _field(spec: dict, name: str):
    if name not in spec:
        raise ValueError(f"spec of type {spec['type']!r} must have the field {name!r}; it has {sorted(spec)}")
    return spec[name]


def _real(spec: dict, name: str) -> float:
    value = _field(spec, name)
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"spec[{name!r}] must be a real number, got {type(value).__name__} {value!r:.60}")
    return check_real(value, f"spec[{name!r}]")


def _table(spec: dict, name: str, shape: tuple) -> np.ndarray:
    values = as_float_array(_field(spec, name), f"spec[{name!r}]")
    if values.shape != shape:
        raise ValueError(f"spec[{name!r}] must have shape {shape}, got {values.shape}")
    return values


def _check_function_of_labels(table: np.ndarray, aux: np.ndarray, name: str, *, square: bool = False) -> None:
    """Refuse a per-particle table whose rows differ between particles with the same label.

    The table's row ``i`` belongs to particle ``i``; the kernels look values
    up by label (:class:`TabulatedWeight` ...), so two particles with one
    label must carry one row (and, for the ``n x n`` weights, one column).
    """
    _, first, inverse = np.unique(aux, return_index=True, return_inverse=True)
    representative = first[inverse.ravel()]
    for rows in (table, table.T) if square else (table,):  # the weights: rows, then columns
        differs = np.any((rows[representative] != rows).reshape(len(aux), -1), axis=1)
        if np.any(differs):
            i = int(np.argmax(differs))
            j = int(representative[i])
            raise ValueError(
                f"spec[{name!r}] must be a function of the labels: aux[{j}] = aux[{i}] = {float(aux[i])!r} "
                f"but {name}[{j}] and {name}[{i}] differ")


def from_spec(spec: dict) -> tuple[Kernel, np.ndarray]:
    r"""The kernel and labels of a spec (the inverse of :func:`to_spec`, up to tabulated callables).

    Parameters
    ----------
    spec : dict
        A spec as produced by :func:`to_spec` or by the browser twin
        (``plainSpec`` in ``kernels.js``), e.g. ``json.loads`` of it.

    Returns
    -------
    kernel : Kernel
    aux : (n,) ndarray
        Float positions, or integer prompt ids for ``"prompts"``.

    Examples
    --------
    >>> kernel, aux = from_spec({"type": "toeplitz", "aux": [0.0, 0.5], "coefficients": {"1": 1.0}})
    >>> dict(kernel.coefficients), aux
    ({1: 1.0}, array([0. , 0.5]))
    """
    if not isinstance(spec, dict):
        raise TypeError(f"spec must be a dict with a 'type', got {type(spec).__name__}")
    kind = spec.get("type")
    if kind not in SPEC_TYPES:
        raise ValueError(f"spec['type'] must be one of {SPEC_TYPES}, got {kind!r}")
    raw_aux = np.asarray(_field(spec, "aux"))
    if raw_aux.ndim != 1 or raw_aux.size == 0 or raw_aux.dtype.kind not in "biuf":
        raise ValueError(f"spec['aux'] must be a non-empty list of numbers, got {spec['aux']!r:.80}")
    aux = as_float_array(raw_aux, "spec['aux']")
    n = len(aux)
    if kind == "toeplitz":
        coefficients = _field(spec, "coefficients")
        if not isinstance(coefficients, dict):
            raise TypeError(f"spec['coefficients'] must be a dict {{'k': c_k}}, got {type(coefficients).__name__}")
        for key in coefficients:
            # canonical decimal only: int() would also read "01", " 1", "+1" and "1_0" (mode 10)
            if not isinstance(key, str) or not _CANONICAL_KEY.fullmatch(key):
                raise ValueError(f"spec['coefficients'] keys must be integers k >= 0, got {key!r} (canonical "
                                 "decimal: '0', '12'; not '01', ' 1', '+1' or '1_0')")
        modes = {int(k): c for k, c in coefficients.items()}
        for key, c in coefficients.items():
            if isinstance(c, bool) or not isinstance(c, numbers.Real):
                raise TypeError(f"spec['coefficients'][{key!r}] must be a real number, got {type(c).__name__}")
            check_real(c, f"spec['coefficients'][{key!r}]")
        return Toeplitz(modes), aux
    beta = _real(spec, "beta")
    if kind == "usa":
        return USA(beta), aux
    if kind == "distance_bias":
        return DistanceBias(beta, _real(spec, "length"), spec.get("profile", "exponential")), aux
    if kind == "separated":
        weights = _table(spec, "weights", (n, n))
        _check_function_of_labels(weights, aux, "weights", square=True)
        return Separated(beta, TabulatedWeight(aux, weights)), aux
    plane = check_plane(spec.get("plane", (0, 1)), name="spec['plane']")
    if kind == "rope":
        return RoPE(beta, _real(spec, "theta"), plane), aux
    if kind == "phase_field":
        phases = _table(spec, "phases", (n,))
        _check_function_of_labels(phases, aux, "phases")
        return PhaseField(beta, TabulatedPhase(aux, phases), plane), aux
    gauges = as_float_array(_field(spec, "gauges"), "spec['gauges']")
    if gauges.ndim != 3 or gauges.shape[1] != gauges.shape[2]:
        raise ValueError(f"spec['gauges'] must have shape (m, d, d), got {gauges.shape}")
    if kind == "gauge":
        if len(gauges) != n:
            raise ValueError(f"spec['gauges'] must hold one matrix per label ({n}), got {len(gauges)}")
        _check_function_of_labels(gauges, aux, "gauges")
        return Gauge(beta, TabulatedGauge(aux, gauges)), aux
    if not np.all(aux == np.round(aux)):
        raise TypeError("spec['aux'] must hold integer prompt ids for 'prompts', got non-integer numbers")
    # range first, in float: casting 1e300 to int64 would wrap around to a negative id
    outside = (aux < 0) | (aux >= len(gauges))
    if outside.any():
        first = int(np.argmax(outside))
        raise ValueError(f"spec['aux'] must hold prompt ids in 0..{len(gauges) - 1} (there are {len(gauges)} "
                         f"gauges), got spec['aux'][{first}] = {float(aux[first])!r}")
    return Prompts(beta, gauges), aux.astype(np.int64)
