r"""Self-checks for the coding exercises of chapter 8, "Back to transformers" (MODEL.md §7).

Two checks, written like those of :mod:`usaav.exercises` (same verdicts,
same common diagnoses): the reader's function runs on random inputs from an
explicit seed, is compared with :mod:`usaav.attention`, and the answer is
*correct* or names the mistake, never the answer itself.

* :func:`check_sa_direction`: the softmax update direction with RoPE and
  rotated values, :math:`A_i=\sum_j\operatorname{softmax}_j(\beta\langle u_i,u_j\rangle)\,G_i^\top u_j`;
* :func:`check_layer_norm`: LayerNorm without affine parameters, rescaled to
  unit norm, :math:`N(y)=c/|c|`, :math:`c=y-\bar y\mathbf 1`.

The catalogue (:mod:`usaav.exercises.catalogue`) lists them for the instructor's table.
"""

from __future__ import annotations

import math
from typing import Callable

import numpy as np

from .. import kernels
from ..attention import AttentionBlock, layer_norm, update_direction
from ..sphere import normalize, project_tangent, uniform_sphere
from .checking import (CheckResult, Diagnosis, Trial, all_close, factor_mistake, first_mistake, largest_error,
                       require_callable, verdict)
from .checking import outputs as student_outputs

__all__ = ["check_layer_norm", "check_sa_direction"]


def _sa_direction(X, s, beta, theta, **options) -> np.ndarray:
    """The library's update direction of the softmax block with RoPE (MODEL.md §7)."""
    block = AttentionBlock(kernels.RoPE(beta, theta), normalisation="softmax", **options)
    return update_direction(block, X, s)


def check_sa_direction(my_sa_direction: Callable, seed: int = 0) -> CheckResult:
    r"""Check the softmax update direction with RoPE and rotated values (MODEL.md §7).

    The exercise: write ``my_sa_direction(X, s, beta, theta)`` returning the
    ``(n, d)`` array

    .. math:: A_i=\sum_j\frac{e^{\beta\langle u_i,u_j\rangle}}{\sum_ke^{\beta\langle u_i,u_k\rangle}}\,G_i^\top u_j,
              \qquad u_i=G(s_i)x_i,\quad G(s)=R_{\theta s}

    (RoPE in the plane :math:`(e_1,e_2)`, :class:`usaav.kernels.RoPE`;
    softmax, values rotated, :math:`Q=K=V=I`, no mask, no tangent
    projection).  Compared with :func:`usaav.attention.update_direction`
    on three small systems, then on one at β = 1000, where a softmax
    without the row maximum subtracted overflows.

    Parameters
    ----------
    my_sa_direction : callable
        ``my_sa_direction(X, s, beta, theta) -> (n, d) array``.
    seed : int

    Returns
    -------
    CheckResult
        Diagnoses besides the common ones: ``usa_normalisation``,
        ``values_not_rotated``, ``projected``, ``rotation_sign``,
        ``constant_factor``, ``mismatch``, ``overflow``.
    """
    require_callable(my_sa_direction, "my_sa_direction", seed)

    def run() -> str:
        rng = np.random.default_rng(seed)
        trials = []
        for n, d, beta, theta in ((8, 3, 1.0, 2 * math.pi), (12, 4, 2.0, 1.0), (10, 3, 0.5, 2 * math.pi)):
            X, s = uniform_sphere(n, d, rng), rng.uniform(0.0, 1.0, n)
            trials.append(Trial((X, s, beta, theta), f"n = {n}, d = {d}, beta = {beta:g}, theta = {theta:.3g}",
                                 _sa_direction(X, s, beta, theta)))
        found = student_outputs(my_sa_direction, trials, lambda t: t.args[0].shape)
        truths = [t.truth for t in trials]
        if not all_close(found, truths):
            args = [t.args for t in trials]
            first_mistake(found, [
                ("usa_normalisation", "You divided by n (USA), not by the softmax sum of each row: the weights of "
                                      "row i must add up to 1.",
                 [update_direction(AttentionBlock(kernels.RoPE(b, th)), X, s) for X, s, b, th in args]),
                ("values_not_rotated", "Your values are not rotated: average the u_j, then rotate back with G_iᵀ "
                                       "(equivalently, average G_iᵀG_j x_j, not x_j).",
                 [_sa_direction(X, s, b, th, values="unrotated") for X, s, b, th in args]),
                ("projected", "You projected onto the tangent plane: the exercise asks for A_i itself, before "
                              "P_{x_i}.",
                 [project_tangent(t.args[0], t.truth) for t in trials]),
                ("rotation_sign", "Your rotation turns the wrong way: G(s) = R_{θs} turns e_1 towards e_2 "
                                  "(first coordinate cos·x_1 − sin·x_2).",
                 [_sa_direction(X, s, b, -th) for X, s, b, th in args]),
            ])
            factor_mistake(found, truths, [])
            error, shown = largest_error(found, truths, trials)
            raise Diagnosis("mismatch", f"Your directions differ from the softmax block by up to {error:.2g} "
                                         f"({shown}).")
        X, s = uniform_sphere(16, 3, rng), rng.uniform(0.0, 1.0, 16)
        large = Trial((X, s, 1000.0, 2 * math.pi), "n = 16, d = 3, beta = 1000", _sa_direction(X, s, 1000.0, 2 * math.pi))
        try:
            [out] = student_outputs(my_sa_direction, [large], lambda t: t.args[0].shape)
        except Diagnosis as mistake:
            if mistake.code != "nan":
                raise
            raise Diagnosis("overflow", "Right for small β, but NaN or inf at β = 1000: e^{1000} overflows. "
                                         "Subtract the largest score of each row before exponentiating.") from None
        if not all_close([out], [large.truth]):
            raise Diagnosis("mismatch", "Right for small β, but not at β = 1000 (n = 16, d = 3): check how you "
                                         "keep the exponentials finite.")
        return ("Your softmax directions match the block for three small systems and at β = 1000: softmax with "
                "rotated values averages the gauge frame, then rotates back.")

    return verdict("check_sa_direction", run)


def check_layer_norm(my_layer_norm: Callable, seed: int = 0) -> CheckResult:
    r"""Check LayerNorm without affine parameters, rescaled to unit norm (MODEL.md §7).

    The exercise: write ``my_layer_norm(Y)`` returning, row by row,
    :math:`N(y)=c/|c|` with :math:`c=y-\bar y\mathbf 1`,
    :math:`\bar y=\frac1d\sum_ky_k`.  Compared with
    :func:`usaav.attention.layer_norm` on three random ``(m, d)`` arrays,
    :math:`d` = 3, 4, 8, rows not centred.

    Parameters
    ----------
    my_layer_norm : callable
        ``my_layer_norm(Y) -> (m, d) array``.
    seed : int

    Returns
    -------
    CheckResult
        Diagnoses besides the common ones: ``not_centred``, ``centred_columns``,
        ``not_normalised``, ``pytorch_scale``, ``constant_factor``, ``mismatch``.
    """
    require_callable(my_layer_norm, "my_layer_norm", seed)

    def run() -> str:
        rng = np.random.default_rng(seed)
        trials = []
        for m, d in ((5, 3), (7, 4), (6, 8)):
            Y = rng.standard_normal((m, d)) + rng.uniform(-2.0, 2.0, (m, 1))
            trials.append(Trial((Y,), f"Y of shape ({m}, {d})", layer_norm(Y)))
        found = student_outputs(my_layer_norm, trials, lambda t: t.args[0].shape)
        truths = [t.truth for t in trials]
        if all_close(found, truths):
            return "Your LayerNorm matches for d = 3, 4 and 8: centre each row, then divide by its length."
        rows = [t.args[0] for t in trials]
        first_mistake(found, [
            ("not_centred", "You normalised without centring: that is RMSNorm. LayerNorm first subtracts the mean "
                            "of each row.", [normalize(Y) for Y in rows]),
            ("centred_columns", "You subtracted the mean of each column: LayerNorm centres each row (token) over "
                                "its d coordinates.", [normalize(Y - Y.mean(axis=0)) for Y in rows]),
            ("not_normalised", "You centred each row but did not divide by its length.",
             [Y - Y.mean(axis=1, keepdims=True) for Y in rows]),
        ])
        factor_mistake(found, truths, [
            ("pytorch_scale", "Your rows have length √d: that is PyTorch's convention (division by the standard "
                              "deviation). This book rescales to unit norm.",
             [math.sqrt(t.args[0].shape[1]) for t in trials]),
        ])
        error, shown = largest_error(found, truths, trials)
        raise Diagnosis("mismatch", f"Your LayerNorm differs by up to {error:.2g} ({shown}).")

    return verdict("check_layer_norm", run)

