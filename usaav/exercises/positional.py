r"""Self-checks of chapter 3 (positional encoding): the RoPE maximiser and a phase for any law (MODEL.md §4)."""

from __future__ import annotations

from typing import Callable

import numpy as np

from .. import kernels, maximizers
from ..observables import relative_energy_gap
from ..sphere import uniform_sphere
from .checking import CheckResult, Diagnosis, Trial, all_close, first_mistake, outputs as outputs_of, require_callable, \
    require_unit_rows, verdict

__all__ = ["check_quantile_phase", "check_rope_maximizer"]


def check_rope_maximizer(my_rope: Callable, seed: int = 0) -> CheckResult:
    r"""Check the RoPE maximiser :math:`x(s)=R_{-\theta s}v` (MODEL.md §4, the paper's Thm. 1).

    The exercise: write ``my_rope(v, theta, s)`` returning the ``(n, d)``
    array of the points :math:`x(s_k)=R_{-\theta s_k}v` (rotation in the
    plane of the first two coordinates).  In the gauge frame
    :math:`R_{\theta s}x(s)=v` for every :math:`s`, so every interaction is
    maximal and :math:`E=e^\beta/(2\beta)`.  Compared with
    :func:`usaav.maximizers.rope`; a path that is not the theorem's gets its
    relative energy gap under :class:`usaav.kernels.RoPE` reported.

    Parameters
    ----------
    my_rope : callable
        ``my_rope(v, theta, s) -> (n, d) array`` for a unit vector ``v`` of
        length ``d`` and positions ``s`` of length ``n``.
    seed : int

    Returns
    -------
    CheckResult
        Diagnoses besides the common ones: ``sign_of_rotation``,
        ``same_angle_for_all``, ``not_on_sphere``, ``other_maximizer``,
        ``not_a_maximizer``.
    """
    require_callable(my_rope, "my_rope", seed)

    def run() -> str:
        rng = np.random.default_rng(seed)
        trials = []
        for n, d, theta in ((10, 3, 2 * np.pi), (25, 4, 1.5), (16, 3, -3.0)):
            v, s = uniform_sphere(1, d, rng)[0], rng.uniform(0.0, 1.0, n)
            trials.append(Trial((v, theta, s), f"v in dimension {d}, theta = {theta:.3g}, {n} positions",
                                 maximizers.rope(v, theta, s)))
        outputs = outputs_of(my_rope, trials, lambda t: (len(t.args[2]), len(t.args[0])))
        truths = [t.truth for t in trials]
        if all_close(outputs, truths):
            return ("Your path is the RoPE maximiser x(s) = R_{−θs}v of the theorem, for d = 3 and 4 and "
                    "positive and negative θ.")
        first_mistake(outputs, [
            ("sign_of_rotation",
             "Sign of the rotation: your path is x(s) = R_{+θs}v. In the gauge frame R_{θs}x(s) must be the "
             "same point v for every s, so x(s) has to undo the gauge.",
             [maximizers.rope(v, -theta, s) for v, theta, s in (t.args for t in trials)]),
            ("same_angle_for_all",
             "Every token got the same rotation: the angle must depend on the position, −θ s.",
             [maximizers.rope(v, theta, np.ones_like(s)) for v, theta, s in (t.args for t in trials)]),
        ])
        require_unit_rows(outputs, trials, "not_on_sphere",
                           "Your points are not on the sphere (| |x| − 1 | reaches {drift:.2g}, called with "
                           "{shown}). A rotation keeps lengths: check the cos/sin entries.")
        gaps = [relative_energy_gap(kernels.RoPE(1.0, t.args[1]), out, t.args[2]) for out, t in zip(outputs, trials)]
        if max(gaps) < 1e-9:
            raise Diagnosis("other_maximizer",
                             "Your path attains the maximal energy, so it is a maximiser, but not the theorem's "
                             "path for this v: x(s) = R_{−θs}v is v itself at s = 0.")
        worst = int(np.argmax(gaps))
        raise Diagnosis("not_a_maximizer",
                         f"Your path is not a maximiser: its relative energy gap (E_max − E)/E_max under the RoPE "
                         f"kernel is {gaps[worst]:.2g} (called with {trials[worst].shown}); it is 0 at a maximiser.")

    return verdict("check_rope_maximizer", run)


def _circular_w1(a: np.ndarray, b: np.ndarray) -> float:
    """Mean distance between sorted angles on the circle (both samples of equal size, reduced mod 2π)."""
    a, b = np.sort(np.mod(a, 2 * np.pi)), np.sort(np.mod(b, 2 * np.pi))
    return float(np.mean(np.abs(np.angle(np.exp(1j * (a - b))))))


def check_quantile_phase(my_phase: Callable, seed: int = 0) -> CheckResult:
    r"""Check a phase that realises a target law on an orbit (MODEL.md §4, the paper's Thm. 2 (ii)).

    The exercise: given target angles :math:`\alpha_1,\dots,\alpha_m` (their
    empirical law :math:`\nu`), write ``my_phase(s, angles)`` returning
    :math:`\varphi(s)` at every position of the array ``s`` such that the
    phase-field maximiser :math:`x(s)=R_{-\varphi(s)}v` has angle law
    :math:`\nu` when :math:`s` is uniform.  The theorem's choice:
    :math:`-\varphi=Q`, the quantile function of :math:`\nu`,
    :math:`Q(s)=\alpha_{(\lfloor sm\rfloor+1)}` with the angles sorted.  The
    check evaluates the phase on a uniform grid of :math:`8m` midpoints and
    compares the law of the angles :math:`-\varphi(s)` with the law realised
    by :func:`usaav.maximizers.realize_on_orbit`.

    Parameters
    ----------
    my_phase : callable
        ``my_phase(s, angles) -> array of the shape of s``.
    seed : int

    Returns
    -------
    CheckResult
        Diagnoses besides the common ones: ``sign``, ``approximate``,
        ``wrong_law``.
    """
    require_callable(my_phase, "my_phase", seed)

    def run() -> str:
        rng = np.random.default_rng(seed)
        targets = [
            rng.uniform(0.3, 2 * np.pi - 0.3, 5),
            np.r_[rng.normal(1.0, 0.1, 4), rng.normal(4.0, 0.2, 4)],
            np.array([2.0]),
            rng.uniform(0.3, 2.0, 12),
        ]
        trials = []
        for angles in targets:
            m = len(angles)
            s = (np.arange(8 * m) + 0.5) / (8 * m)
            trials.append(Trial((s, angles), f"{m} target angle(s) and {8 * m} positions s",
                                 -maximizers.realize_on_orbit(angles)(s)))
        outputs = outputs_of(my_phase, trials, lambda t: t.args[0].shape)
        realised = [-out for out in outputs]
        distances = [_circular_w1(r, t.truth) for r, t in zip(realised, trials)]
        if max(distances) < 1e-9:
            return ("The angles −φ(s) of your maximiser, for uniform s, have exactly the target law, "
                    "for four target laws (spread out, two bumps, a single angle, twelve angles).")
        if all(_circular_w1(-r, t.truth) < 1e-9 for r, t in zip(realised, trials)):
            raise Diagnosis("sign", "Sign: your tokens sit at the mirror image of the target law. The maximiser is "
                                     "x(s) = R_{−φ(s)}v, so −φ must be the quantile function: φ = −Q.")
        worst = int(np.argmax(distances))
        spread = max(float(np.ptp(trials[worst].truth)), 1.0)
        if distances[worst] < 0.05 * spread:
            raise Diagnosis("approximate",
                             f"Close, but not exact: the law of your angles is {distances[worst]:.2g} rad away from "
                             f"the target (Wasserstein distance, {trials[worst].shown}). The theorem realises the "
                             "law exactly with the step quantile function Q(s) = α_(⌊sm⌋+1), angles sorted.")
        raise Diagnosis("wrong_law",
                         f"Your phase does not realise the target law: the angles −φ(s) are {distances[worst]:.2g} rad "
                         f"away from it (Wasserstein distance, {trials[worst].shown}). −φ should be the quantile "
                         "function of the target angles.")

    return verdict("check_quantile_phase", run)


