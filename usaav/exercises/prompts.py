r"""Self-checks of chapter 4 (prompts): a Householder gauge and the prompt maximiser (MODEL.md §4, the paper's Thm. 4)."""

from __future__ import annotations

import math
from typing import Callable

import numpy as np

from .. import kernels, maximizers
from ..observables import count_clusters, relative_energy_gap
from ..sphere import haar_rotations, normalize, rotate_in_plane, uniform_sphere
from .checking import CheckResult, ComparisonCheck, Mistake, Diagnosis, Trial, all_close, as_array, call, close, first_mistake, \
    require_callable, require_unit_rows, verdict

__all__ = ["check_cluster_count", "check_householder_gauge", "check_prompt_maximizer"]


def check_householder_gauge(my_gauge: Callable, seed: int = 0) -> CheckResult:
    r"""Check an orthogonal gauge that sends ``v`` to a target (MODEL.md §4, the paper's Thm. 4 (ii)).

    The exercise: write ``my_gauge(v, t)`` returning a ``(d, d)`` orthogonal
    matrix :math:`G` with :math:`G^\top v=t`, for unit vectors :math:`v, t`;
    the theorem's choice is the Householder reflection exchanging them,

    .. math:: H = I - 2\frac{ww^\top}{|w|^2},\qquad w = v - t,

    (and :math:`I` when :math:`t=v`).  Then :math:`x_p=G_p^\top v=T(p)` is a
    maximiser (Thm. 4 (i)) whose output law is any target law.  Tested on
    random pairs in :math:`d=3` and :math:`d=5`, on :math:`t=v`,
    :math:`t=-v` and on :math:`t` within :math:`10^{-6}` of :math:`v`; the
    images are computed with :func:`usaav.maximizers.gauge`.

    Parameters
    ----------
    my_gauge : callable
        ``my_gauge(v, t) -> (d, d) array``.
    seed : int

    Returns
    -------
    CheckResult
        Diagnoses besides the common ones: ``nan_when_equal``,
        ``not_normalised``, ``not_orthogonal``, ``G_instead_of_GT``,
        ``sign``, ``identity_too_early``, ``misses_target``.
    """
    require_callable(my_gauge, "my_gauge", seed)

    def run() -> str:
        rng = np.random.default_rng(seed)
        v3, v5 = uniform_sphere(2, 3, rng), uniform_sphere(2, 5, rng)
        near = normalize(v3[0] + 1e-6 * uniform_sphere(1, 3, rng)[0])
        pairs = [("a random pair in d = 3", v3[0], v3[1]), ("a random pair in d = 5", v5[0], v5[1]),
                 ("t = v", v3[1], v3[1].copy()), ("t = −v", v5[1], -v5[1]),
                 ("t within 1e-6 of v", v3[0], near)]
        trials = [Trial((v, t), shown, t) for shown, v, t in pairs]
        outputs = []
        for trial in trials:
            d = len(trial.args[0])
            try:
                outputs.append(as_array(call(my_gauge, trial), (d, d), trial.shown))
            except Diagnosis as found:
                if found.code == "nan" and trial.shown == "t = v":
                    raise Diagnosis("nan_when_equal",
                                     "Your gauge is NaN when t = v: then w = v − t = 0 and the reflection "
                                     "divides by zero. Nothing has to move in that case: return the identity.") from None
                if found.code == "nan" and trial.shown == "t = −v":
                    raise Diagnosis("sign",
                                     "Your gauge is NaN when t = −v: did you take w = v + t (which is 0 there)? "
                                     "The reflection that exchanges v and t uses w = v − t.") from None
                raise
        for G, trial in zip(outputs, trials):
            defect = float(np.max(np.abs(G.T @ G - np.eye(len(G)))))
            if defect > 1e-8:
                v, t = trial.args
                w = v - t
                if close(G, np.eye(len(G)) - 2 * np.outer(w, w)):
                    raise Diagnosis("not_normalised",
                                     f"Your G is not orthogonal (max |GᵀG − I| = {defect:.2g}, {trial.shown}): the "
                                     "reflection is I − 2wwᵀ/|w|²; did you forget to divide by |w|²?")
                raise Diagnosis("not_orthogonal",
                                 f"Your G is not orthogonal: max |GᵀG − I| = {defect:.2g} ({trial.shown}). "
                                 "A gauge must be an orthogonal matrix.")
        images = [maximizers.gauge(trial.args[0], G[None])[0] for G, trial in zip(outputs, trials)]
        misses = [float(np.max(np.abs(x - trial.truth))) for x, trial in zip(images, trials)]
        if max(misses) < 1e-8:
            return ("Your gauges are orthogonal and send v to the target (Gᵀv = t) for random pairs, "
                    "for t = v, t = −v and t very close to v.")
        if all(close(G @ trial.args[0], trial.truth, rtol=1e-8) for G, trial in zip(outputs, trials)):
            raise Diagnosis("G_instead_of_GT",
                             "Your G maps v to t (Gv = t), but the theorem needs Gᵀv = t: the token of prompt p "
                             "is x_p = G_pᵀ v. Transpose your matrix (a reflection is its own transpose).")
        if all(close(x, -trial.truth, rtol=1e-8) for x, trial in zip(images, trials)):
            raise Diagnosis("sign", "Your Gᵀv is −t: the reflection that exchanges v and t uses w = v − t, not v + t.")
        near_trial = next(i for i, trial in enumerate(trials) if trial.shown.startswith("t within"))
        if misses[near_trial] >= 1e-8 and close(outputs[near_trial], np.eye(3), rtol=0.0):
            raise Diagnosis("identity_too_early",
                             "You returned the identity for t very close to v, but t ≠ v there, so Gᵀv misses t. "
                             "The reflection is well defined whenever w = v − t ≠ 0; only t = v needs the identity.")
        worst = int(np.argmax(misses))
        raise Diagnosis("misses_target",
                         f"Your G is orthogonal but Gᵀv misses t by {misses[worst]:.2g} ({trials[worst].shown}).")

    return verdict("check_householder_gauge", run)


def check_prompt_maximizer(my_maximizer: Callable, seed: int = 0) -> CheckResult:
    r"""Check the prompt maximiser :math:`x_i=G_{p_i}^\top v` (MODEL.md §4, the paper's Thm. 4 (i), Cor. 2).

    The exercise: with ``m`` prompts of gauges :math:`G_0,\dots,G_{m-1}`
    (an ``(m, d, d)`` array) and prompt ids :math:`p_1,\dots,p_n`, write
    ``my_maximizer(v, gauges, prompt_ids)`` returning the ``(n, d)`` array
    of tokens :math:`x_i=G_{p_i}^\top v`: in the gauge frame every token sits
    at :math:`v`, so the energy is maximal, and there are as many clusters as
    distinct points :math:`G_p^\top v`.  Compared with
    :func:`usaav.maximizers.gauge`; a configuration that is not the
    theorem's gets its relative energy gap under
    :class:`usaav.kernels.Prompts` reported.

    Parameters
    ----------
    my_maximizer : callable
        ``my_maximizer(v, gauges, prompt_ids) -> (n, d) array``.
    seed : int

    Returns
    -------
    CheckResult
        Diagnoses besides the common ones: ``one_row_per_prompt``,
        ``G_instead_of_GT``, ``not_on_sphere``, ``other_maximizer``,
        ``not_a_maximizer``.
    """
    require_callable(my_maximizer, "my_maximizer", seed)

    def run() -> str:
        rng = np.random.default_rng(seed)
        trials = []
        for m, d, n in ((3, 3, 10), (5, 4, 12), (2, 3, 7)):
            v = uniform_sphere(1, d, rng)[0]
            G = haar_rotations(m, d, rng)
            ids = np.r_[np.arange(m), rng.integers(0, m, n - m)]
            rng.shuffle(ids)
            trials.append(Trial((v, G, ids), f"{m} prompts in dimension {d}, {n} tokens",
                                 maximizers.gauge(v, G)[ids]))
        outputs = []
        for trial in trials:
            v, G, ids = trial.args
            raw = call(my_maximizer, trial)
            if np.shape(raw) == (len(G), len(v)) and len(G) != len(ids):
                raise Diagnosis("one_row_per_prompt",
                                 f"You returned one row per prompt (shape {np.shape(raw)}); the exercise asks for one "
                                 f"row per token, shape ({len(ids)}, {len(v)}): pick row p_i for token i.")
            outputs.append(as_array(raw, (len(ids), len(v)), trial.shown))
        truths = [t.truth for t in trials]
        if all_close(outputs, truths):
            return ("Your tokens are the theorem's maximiser x_i = G_{p_i}ᵀ v, for 2 to 5 prompts in dimensions "
                    "3 and 4.")
        first_mistake(outputs, [
            ("G_instead_of_GT",
             "You used G instead of Gᵀ: the gauge-frame point of token i is G_{p_i} x_i, and it must be v, "
             "so x_i = G_{p_i}ᵀ v.",
             [np.einsum("pij,j->pi", G, v)[ids] for v, G, ids in (t.args for t in trials)]),
        ])
        require_unit_rows(outputs, trials, "not_on_sphere",
                           "Your tokens are not on the sphere (| |x| − 1 | reaches {drift:.2g}, {shown}): "
                           "an orthogonal matrix keeps the length of v.")
        gaps = [relative_energy_gap(kernels.Prompts(1.0, t.args[1]), out, t.args[2])
                for out, t in zip(outputs, trials)]
        if max(gaps) < 1e-9:
            raise Diagnosis("other_maximizer",
                             "Your tokens attain the maximal energy, but they are not the theorem's tokens for "
                             "this v: every gauge-frame point G_{p_i} x_i should be v itself.")
        worst = int(np.argmax(gaps))
        raise Diagnosis("not_a_maximizer",
                         f"Your tokens are not a maximiser: the relative energy gap under the prompt kernel is "
                         f"{gaps[worst]:.2g} ({trials[worst].shown}); it is 0 at a maximiser.")

    return verdict("check_prompt_maximizer", run)




def _count_trials(rng) -> list:
    six = np.stack([rotation for rotation in _plane_rotations(6)])
    cases = [("six rotations of the (x₁, x₂)-plane, v = e₃", np.array([0.0, 0.0, 1.0]), six),
             ("six rotations of the (x₁, x₂)-plane, v at polar angle 60°",
              np.array([math.sin(math.pi / 3), 0.0, math.cos(math.pi / 3)]), six),
             ("four random rotations", uniform_sphere(1, 3, rng)[0], haar_rotations(4, 3, rng)),
             ("five gauges, two of them equal", uniform_sphere(1, 4, rng)[0],
              haar_rotations(4, 4, rng)[[0, 1, 2, 3, 1]])]
    return [Trial((v, G), shown, count_clusters(maximizers.gauge(v, G), 1e-9)) for shown, v, G in cases]


def _plane_rotations(m: int) -> list:
    """The rotations R_{2πk/m} of the (x₁, x₂)-plane of R³, k = 0, …, m − 1."""
    return [rotate_in_plane(np.eye(3), np.full(3, 2 * np.pi * k / m), (0, 1)).T for k in range(m)]


CLUSTER_COUNT = ComparisonCheck(
    name="check_cluster_count",
    trials=_count_trials,
    shape=lambda t: (),
    success=("Your count of distinct points G_pᵀ v matches the clusters of the prompt maximiser, also when v is "
             "fixed by the gauges (one cluster) and when two gauges are equal."),
    mistakes=(
        Mistake("counts_gauges", "You counted the gauges; two prompts share a cluster when G_pᵀ v = G_qᵀ v, for "
                                 "instance when v lies on the common axis of their rotations.",
                lambda t: len(t.args[1])),
    ),
    mismatch="Your count differs from the number of clusters by {error:.0f} ({shown}).",
)


def check_cluster_count(my_cluster_count: Callable, seed: int = 0) -> CheckResult:
    r"""Check the number of clusters of the prompt maximiser: distinct points :math:`G_p^\top v` (MODEL.md §4, the paper's Cor. 2).

    The exercise: write ``my_cluster_count(v, gauges)`` returning the
    number of distinct points :math:`G_p^\top v`, :math:`p=0,\dots,m-1`
    (up to round-off).  Compared with :func:`usaav.count_clusters` of
    :func:`usaav.maximizers.gauge`, on the six rotations of the
    :math:`(x_1,x_2)`-plane with :math:`v=e_3` (1 cluster) and :math:`v` at
    polar angle 60° (6), four random rotations and five gauges with a
    repeat.

    Parameters
    ----------
    my_cluster_count : callable
        ``my_cluster_count(v, gauges) -> int``.
    seed : int

    Returns
    -------
    CheckResult
        Diagnoses besides the common ones: ``counts_gauges``, ``mismatch``.
    """
    return CLUSTER_COUNT.run(my_cluster_count, seed, "my_cluster_count")
