r"""The paper's experiments, at full size, as functions (MODEL.md §6; the paper's §6, App. B, C, H).

One function per experiment, each returning a frozen result dataclass of
NumPy arrays plus the ``params`` used, with ``table()``, ``to_json()`` and
``verdicts()`` (the paper's predictions checked as numbers):

=================================  =========================================  ==========================
function                           experiment                                 reference
=================================  =========================================  ==========================
:func:`collapse_through_layers`    baseline vs RoPE vs prompts over time      MODEL.md §6.1, the paper's §6.1
:func:`representation_gallery`     six kernels, six final clouds              MODEL.md §6.2, the paper's §6.2
:func:`metastability`              clusters, plateaus, first merger vs β      MODEL.md §6, the paper's App. C/H
:func:`mean_field_convergence`     :math:`W_2` to a large-n reference vs n    the paper's Prop. 4
:func:`transformer_experiment`     the attention block, idealisations undone  MODEL.md §7 (issue 19)
=================================  =========================================  ==========================

Each experiment is split into independent pieces (:func:`make_piece`) that
run on any :class:`concurrent.futures.Executor` (``executor=``: a process
pool, a thread pool, a Dask client's ``get_executor()``) and can be kept on
disk and resumed (``store=PieceStore(directory)``).  A stored piece is reused
only if it is intact and was computed by the same code: the store keys on
:func:`library_digest`, a digest of every source file of usaav (as this
process loaded them) and of the NumPy and SciPy versions (the book's
execution cache keys on it too); results are not stored when the files
changed after ``import usaav`` (:class:`StaleLibraryError`).  The
numerics here import NumPy and SciPy only; figures live in
:mod:`usaav.plotting.experiments` and the command line in :mod:`usaav.cli`
(``usaav reproduce``).
"""

from ._dask import check_dask_workers
from ._pieces import Piece, PieceStore, StoredPiece, atomic_writer, make_piece, run_pieces
from ._provenance import (
    StaleLibraryError,
    check_library_unchanged,
    describe_library_change,
    library_digest,
    library_fingerprint,
)
from ._results import ExperimentResult, Verdict, check_verdicts_summary, linear_fit, mean_sem, merge_verdicts
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
from .transformer import TransformerResult, transformer_experiment

__all__ = [
    "CollapseResult",
    "ExperimentResult",
    "GalleryResult",
    "MeanFieldResult",
    "MetastabilityResult",
    "Piece",
    "PieceStore",
    "StaleLibraryError",
    "StoredPiece",
    "TransformerResult",
    "Verdict",
    "atomic_writer",
    "cap_sample",
    "check_library_unchanged",
    "check_verdicts_summary",
    "check_dask_workers",
    "cluster_centres",
    "collapse_setup",
    "collapse_through_layers",
    "describe_library_change",
    "gallery_setup",
    "library_digest",
    "library_fingerprint",
    "linear_contraction_rate",
    "linear_fit",
    "make_piece",
    "mean_field_convergence",
    "mean_sem",
    "merge_verdicts",
    "metastability",
    "reduced_merger_time",
    "representation_gallery",
    "run_pieces",
    "transformer_experiment",
    "verdicts",
]


def verdicts(result: ExperimentResult) -> list[Verdict]:
    """The verdicts of any experiment result (same as ``result.verdicts()``)."""
    if not isinstance(result, ExperimentResult):
        raise TypeError(f"result must be an experiment result, got {type(result).__name__}")
    return result.verdicts()
