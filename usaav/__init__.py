"""usaav: the USA-AV particle system of "Anti Mode-Collapse in Mean-Field
Transformer via Auxiliary Variables" (arXiv 2605.30229).

Layout (each module one idea, each depending only on those above it):

``sphere``       geometry of the unit sphere
``labels``       auxiliary labels: position grids, replicated labels
``kernels``      the interaction kernels of MODEL.md §3 (bound by ``_interaction``)
``integrate``    projected Heun and the solve_ivp adapter (kernel-agnostic)
``dynamics``     velocity, energy, simulate (one system or a batch)
``attention``    the general attention block: softmax, values, Q/K/V, LLM RoPE, masks, layers (MODEL.md §7)
``observables``  collapse observables of MODEL.md §6
``maximizers``   closed-form maximisers of MODEL.md §4
``transport``    exact Wasserstein distances between empirical laws
``zonal``        the exact mean-field flow of zonal laws on S²
``twisted``      twisted states on the circle and their linear stability
``formula``      a safe formula language for the reader's quantile function (never ``eval``)
``gauges``       prompt gauges (Cor. 2) and the wavy generalised-RoPE gauge (§6.2 (v))
``targets``      target laws the reader picks (angle laws, sphere shapes)
``scenarios``    the standard kernel set-ups of MODEL.md §6.2, one table for all
``experiments``  the paper's experiments (§6, App. C); ``cli``: the ``usaav`` command
``exercises``    self-checks for the book's coding exercises
``specs``        kernels as JSON specs, shared with the browser twin (``usaav/web``)
``plotting``     every matplotlib figure (``plotting.experiments``: the experiments')
``tables``       tables of numbers on a notebook page
``explorers``    explorers that run in the browser (anywidget; ``usaav/web``)
"""

# first: the hashes of the source files this process is about to load (usaav._source)
from . import _source  # noqa: F401  isort: skip
from . import attention, kernels, labels, maximizers
from .dynamics import BatchTrajectory, Trajectory, energy, simulate, velocity
from .observables import (
    collapse_gap,
    conditional_diameter,
    count_clusters,
    euler_lagrange_residual,
    gauge_gap,
    relative_energy_gap,
    winding_number,
)
from .sphere import normalize, project_tangent, rotation, uniform_sphere

__version__ = "0.1.0"

__all__ = [
    "BatchTrajectory",
    "Trajectory",
    "attention",
    "collapse_gap",
    "conditional_diameter",
    "count_clusters",
    "energy",
    "euler_lagrange_residual",
    "gauge_gap",
    "kernels",
    "labels",
    "maximizers",
    "normalize",
    "project_tangent",
    "relative_energy_gap",
    "rotation",
    "simulate",
    "uniform_sphere",
    "velocity",
    "winding_number",
]
