r"""The paper's experiments, at full size, as functions (MODEL.md §6; seed §6, App. B, C, H).

One function per experiment, each returning a frozen result dataclass of
NumPy arrays plus the ``params`` used, with ``table()``, ``to_json()`` and
``verdicts()`` (the paper's predictions checked as numbers):

=================================  =========================================  ==========================
function                           experiment                                 reference
=================================  =========================================  ==========================
:func:`collapse_through_layers`    baseline vs RoPE vs prompts over time      MODEL.md §6.1, seed §6.1
:func:`representation_gallery`     six kernels, six final clouds              MODEL.md §6.2, seed §6.2
:func:`metastability`              clusters, plateaus, first merger vs β      MODEL.md §6, seed App. C/H
:func:`mean_field_convergence`     :math:`W_2` to a large-n reference vs n    seed Prop. 4
=================================  =========================================  ==========================

Each experiment is split into independent pieces (:mod:`._pieces`) that run
on any :class:`concurrent.futures.Executor` (``executor=``) and can be kept
on disk and resumed (``store=PieceStore(directory)``).  The numerics here
import NumPy and SciPy only; figures live in :mod:`usaav._figures_experiments`
and the command line in ``python -m usaav reproduce``.
"""

from ._pieces import Piece, PieceStore, make_piece, run_pieces
from ._results import ExperimentResult, Verdict, linear_fit, mean_sem
from .collapse import CollapseResult, collapse_setup, collapse_through_layers
from .gallery import GalleryResult, gallery_setup, representation_gallery
from .mean_field import MeanFieldResult, mean_field_convergence
from .metastability import (
    MetastabilityResult,
    cap_sample,
    cluster_centres,
    linear_contraction_rate,
    metastability,
    reduced_merger_time,
)

__all__ = [
    "CollapseResult",
    "ExperimentResult",
    "GalleryResult",
    "MeanFieldResult",
    "MetastabilityResult",
    "Piece",
    "PieceStore",
    "Verdict",
    "cap_sample",
    "cluster_centres",
    "collapse_setup",
    "collapse_through_layers",
    "gallery_setup",
    "linear_contraction_rate",
    "linear_fit",
    "make_piece",
    "mean_field_convergence",
    "mean_sem",
    "metastability",
    "reduced_merger_time",
    "representation_gallery",
    "run_pieces",
    "verdicts",
]


def verdicts(result: ExperimentResult) -> list[Verdict]:
    """The verdicts of any experiment result (same as ``result.verdicts()``)."""
    if not isinstance(result, ExperimentResult):
        raise TypeError(f"result must be an experiment result, got {type(result).__name__}")
    return result.verdicts()
