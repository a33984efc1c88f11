r"""Gauges the book and the scenarios build: prompt layouts (Cor. 2) and the wavy generalised-RoPE gauge.

A gauge kernel (MODEL.md §3) reads each particle in its own frame
:math:`G(a_i)\in O(d)`.  This module holds the families of gauges that the
standard scenarios (MODEL.md §6.2 (v), (vi)), the book and the explorers
draw from; the kernels themselves are in :mod:`usaav.kernels`.  The browser
twin is ``usaav/web/gauges.js`` (tested against this module).

* :func:`prompt_gauges` / :data:`PROMPT_LAYOUTS`: finitely many prompt
  gauges (the paper's Cor. 2), and :func:`count_distinct` to count them;
* :class:`WavyGauge`: :math:`G(s)=R^{(12)}_{2\pi s}R^{(13)}_{\alpha\sin2\pi ms}`
  (MODEL.md §6.2 (v), Thm. 4 (i)).

Examples
--------
>>> G = prompt_gauges(4, "phases in one plane", rng=0)
>>> G.shape, count_distinct(G)
((4, 3, 3), 4)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._validation import check_int, check_orthogonal
from .observables import count_clusters
from .sphere import haar_rotations, rotation

__all__ = ["PROMPT_LAYOUTS", "WavyGauge", "count_distinct", "prompt_gauges"]


# --------------------------------------------------------------------------
# Finitely many prompts (Cor. 2)
# --------------------------------------------------------------------------

#: The gauge layouts :func:`prompt_gauges` offers.
PROMPT_LAYOUTS = ("random rotations", "phases in one plane", "random phases", "only two distinct gauges")


def prompt_gauges(m: int, layout: str, rng) -> np.ndarray:
    r"""``m`` orthogonal gauges :math:`G_0,\dots,G_{m-1}` in :math:`O(3)` (the paper's Cor. 2).

    ``layout`` is ``"random rotations"`` (Haar on SO(3), drawn by
    :func:`usaav.sphere.haar_rotations`, so a seed gives the same gauges with
    every SciPy version), ``"phases in one plane"`` (:math:`R^{(12)}_{2\pi p/m}`),
    ``"random phases"`` (:math:`R^{(12)}_{\varphi_p}`, :math:`\varphi_p`
    uniform, as in MODEL.md §6.1) or ``"only two distinct gauges"`` (the
    prompts alternate between two random rotations).

    Returns
    -------
    (m, 3, 3) ndarray

    Examples
    --------
    >>> G = prompt_gauges(6, "only two distinct gauges", rng=0)
    >>> G.shape, count_distinct(G)
    ((6, 3, 3), 2)
    """
    m = check_int(m, "m", minimum=1)
    if layout not in PROMPT_LAYOUTS:
        raise ValueError(f"layout must be one of {PROMPT_LAYOUTS}, got {layout!r}")
    rng = np.random.default_rng(rng)
    if layout == "phases in one plane":
        return rotation(2 * np.pi * np.arange(m) / m, 3, (0, 1))
    if layout == "random phases":
        return rotation(rng.uniform(0, 2 * np.pi, m), 3, (0, 1))
    count = m if layout == "random rotations" else 2
    Q = haar_rotations(count, 3, rng)
    return Q if layout == "random rotations" else Q[np.arange(m) % 2]


def count_distinct(gauges, tol: float = 1e-9) -> int:
    """Number of distinct matrices among ``gauges`` (entrywise, up to ``tol``).

    Cor. 2 counts clusters as distinct points :math:`G_p^\\top v`; distinct
    gauges give that many clusters unless two of them agree on ``v``.
    """
    G = check_orthogonal(gauges, "gauges")
    d = G.shape[-1]
    # An orthogonal d x d matrix has Frobenius norm sqrt(d): flattened and
    # divided by it, the gauges are unit vectors, which count_clusters takes.
    return count_clusters(G.reshape(len(G), -1) / np.sqrt(d), tol / np.sqrt(d))


# --------------------------------------------------------------------------
# The generalised RoPE gauge (MODEL.md §6.2 (v))
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class WavyGauge:
    r"""Generalised RoPE gauge :math:`G(s)=R^{(12)}_{2\pi s}\,R^{(13)}_{\alpha\sin(2\pi m s)}` (MODEL.md §3, §6.2 (v)).

    A picklable callable for :class:`usaav.kernels.Gauge`.

    >>> G = WavyGauge(0.5, 3)(np.array([0.0, 0.25]))
    >>> G.shape, bool(np.allclose(G[0], np.eye(3)))
    ((2, 3, 3), True)
    """

    alpha: float
    m: int

    def __call__(self, s):
        s = np.asarray(s, dtype=np.float64)
        return rotation(2 * np.pi * s, 3, (0, 1)) @ rotation(self.alpha * np.sin(2 * np.pi * self.m * s), 3, (0, 2))
