r"""Self-checks of chapter 3 (positional encoding): the RoPE maximiser and a phase for any law (MODEL.md §4)."""

from __future__ import annotations

import math
from typing import Callable

import numpy as np

from .. import kernels, maximizers
from ..dynamics import energy
from ..observables import collapse_gap, relative_energy_gap
from ..sphere import rotate_in_plane, uniform_sphere
from .checking import CheckResult, ComparisonCheck, Factor, Mistake, Diagnosis, Trial, all_close, first_mistake, outputs as outputs_of, require_callable, \
    require_unit_rows, verdict

__all__ = ["CIRCLE_POINTS", "check_circle_energy_gap", "check_latitude_gap", "check_quantile_phase", "check_rope_energy",
           "check_rope_maximizer"]


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




def _rope_energy_trials(rng) -> list:
    trials = []
    for n, d, beta, theta in ((7, 3, 1.0, 2 * np.pi), (12, 4, 2.0, 1.3), (9, 2, 0.5, -2.0)):
        X, s = uniform_sphere(n, d, rng), rng.uniform(0.0, 1.0, n)
        trials.append(Trial((X, s, beta, theta), f"X of shape ({n}, {d}), beta = {beta:g}, theta = {theta:.3g}",
                            energy(kernels.RoPE(beta, theta), X, s)))
    return trials


def _gauge_frame_energy(X, s, beta, theta) -> float:
    U = rotate_in_plane(X, theta * s, (0, 1))
    return float(energy(kernels.USA(beta), U, None))


ROPE_ENERGY = ComparisonCheck(
    name="check_rope_energy",
    trials=_rope_energy_trials,
    shape=lambda t: (),
    success=("Your RoPE energy matches the library's on three random clouds: it is the baseline energy of the "
             "gauge-frame points u_i = R_{θs_i} x_i."),
    mistakes=(
        Mistake("content_frame", "You computed the baseline energy of the tokens themselves; RoPE compares "
                                 "the rotated tokens u_i = R_{θs_i} x_i.",
                lambda t: _gauge_frame_energy(t.args[0], 0 * t.args[1], t.args[2], t.args[3])),
    ),
    factors=(
        Factor("factor_2", "Off by a factor 2: E_n has 1/(2n²) in front.", lambda t: 2.0),
        Factor("factor_beta", "Off by a factor β: the kernel is e^{β⟨u,u'⟩}/β.", lambda t: t.args[2]),
    ),
    mismatch="Your energy differs from the library's RoPE energy by up to {error:.2g} ({shown}).",
)


def check_rope_energy(my_rope_energy: Callable, seed: int = 0) -> CheckResult:
    r"""Check the RoPE energy as the baseline energy in the gauge frame (MODEL.md §3; the paper's Thm. 1).

    The exercise: write ``my_rope_energy(X, s, beta, theta)`` returning
    :math:`E_n=\frac1{2n^2}\sum_{i,j}\frac1\beta e^{\beta\langle u_i,u_j\rangle}`,
    :math:`u_i=R_{\theta s_i}x_i` (rotation in the plane of the first two
    coordinates).  Compared with :func:`usaav.energy` for
    :class:`usaav.kernels.RoPE`; a sign slip in the rotation changes the
    energy and is reported as a ``mismatch``.

    Parameters
    ----------
    my_rope_energy : callable
        ``my_rope_energy(X, s, beta, theta) -> float``.
    seed : int

    Returns
    -------
    CheckResult
        Diagnoses besides the common ones: ``content_frame``, ``factor_2``,
        ``factor_beta``, ``constant_factor``, ``mismatch``.
    """
    return ROPE_ENERGY.run(my_rope_energy, seed, "my_rope_energy")


#: Points of the grid on which the checks below evaluate a circle's energy: the
#: mean of e^{b cos α} over L equally spaced angles differs from I₀(b) by about
#: 2 (b/2)^L / L!, below 1e-40 for b ≤ 4 and L = 64.
CIRCLE_POINTS = 64


def _circle(polar: float) -> np.ndarray:
    """The RoPE path of a unit vector at polar angle ``polar`` (θ = 2π) on the uniform grid."""
    v = np.array([math.sin(polar), 0.0, math.cos(polar)])
    return maximizers.rope(v, 2 * np.pi, (np.arange(CIRCLE_POINTS) + 0.5) / CIRCLE_POINTS)


def _circle_trials(rng) -> list:
    cases = [(1.0, math.pi / 3), (2.0, 1.0), (4.0, 2.5), (0.5, float(rng.uniform(0.2, 3.0)))]
    return [Trial((beta, polar), f"beta = {beta:g}, polar angle {polar:.3g}",
                  relative_energy_gap(kernels.USA(beta), _circle(polar), None)) for beta, polar in cases]


CIRCLE_ENERGY_GAP = ComparisonCheck(
    name="check_circle_energy_gap",
    trials=_circle_trials,
    shape=lambda t: (),
    success=("Your gap 1 − e^{−b} I₀(b), b = β sin²ϑ, matches the baseline's relative energy gap of the RoPE "
             "circle at four polar angles."),
    mistakes=(
        Mistake("sine_not_squared", "Your b is β sin ϑ; the spread of ⟨x(s), x(t)⟩ = cos²ϑ + sin²ϑ cos α is "
                                    "sin²ϑ, so b = β sin²ϑ.",
                lambda t: 1 - math.exp(-t.args[0] * math.sin(t.args[1])) * _bessel_i0(t.args[0] * math.sin(t.args[1]))),
        Mistake("cosine_for_sine", "You used cos²ϑ where sin²ϑ belongs: the circle of latitude ϑ has radius sin ϑ.",
                lambda t: 1 - math.exp(-t.args[0] * math.cos(t.args[1]) ** 2)
                * _bessel_i0(t.args[0] * math.cos(t.args[1]) ** 2)),
        Mistake("energy_not_gap", "You returned the ratio E/E_max = e^{−b} I₀(b); the relative gap is 1 minus it.",
                lambda t: 1 - t.truth),
    ),
    mismatch="Your gap differs from the baseline's relative energy gap of the circle by up to {error:.2g} ({shown}).",
)


def _bessel_i0(b: float) -> float:
    """I₀(b) = (1/2π) ∫ e^{b cos α} dα, by the same grid rule (exact to round-off, see CIRCLE_POINTS)."""
    alpha = 2 * np.pi * (np.arange(CIRCLE_POINTS) + 0.5) / CIRCLE_POINTS
    return float(np.mean(np.exp(b * np.cos(alpha))))


def check_circle_energy_gap(my_circle_gap: Callable, seed: int = 0) -> CheckResult:
    r"""Check the baseline's relative energy gap of the RoPE circle, :math:`1-e^{-b}I_0(b)`, :math:`b=\beta\sin^2\vartheta` (MODEL.md §4).

    The exercise: in :math:`d=3` with :math:`\theta=2\pi`, the RoPE path
    of a vector :math:`v` at polar angle :math:`\vartheta` is a circle of
    latitude; write ``my_circle_gap(beta, polar)`` returning the relative
    energy gap that the *baseline* kernel gives it.  Compared with
    :func:`usaav.relative_energy_gap` of :class:`usaav.kernels.USA` on
    :data:`CIRCLE_POINTS` equally spaced points of the path (exact to
    round-off).  ``scipy.special.i0`` may be used.

    Parameters
    ----------
    my_circle_gap : callable
        ``my_circle_gap(beta, polar) -> float``.
    seed : int

    Returns
    -------
    CheckResult
        Diagnoses besides the common ones: ``sine_not_squared``,
        ``cosine_for_sine``, ``energy_not_gap``, ``mismatch``.
    """
    return CIRCLE_ENERGY_GAP.run(my_circle_gap, seed, "my_circle_gap")


def _latitude_trials(rng) -> list:
    polars = [math.pi / 3, 0.4, 2.2, float(rng.uniform(0.0, math.pi))]
    return [Trial((polar,), f"polar angle {polar:.3g}", collapse_gap(_circle(polar))) for polar in polars]


LATITUDE_GAP = ComparisonCheck(
    name="check_latitude_gap",
    trials=_latitude_trials,
    shape=lambda t: (),
    success="Your gap sin²ϑ matches the collapse gap of the latitude circle at four polar angles.",
    mistakes=(
        Mistake("cosine_for_sine", "You returned cos²ϑ, the squared length of the mean x̄ = cos ϑ e₃; the gap "
                                   "is 1 − |x̄|² = sin²ϑ.", lambda t: math.cos(t.args[0]) ** 2),
        Mistake("sine_not_squared", "You returned sin ϑ, the radius of the circle; the gap is 1 − |x̄|², its square.",
                lambda t: math.sin(t.args[0])),
    ),
    mismatch="Your gap differs from the collapse gap of the circle by up to {error:.2g} ({shown}).",
)


def check_latitude_gap(my_latitude_gap: Callable, seed: int = 0) -> CheckResult:
    r"""Check the collapse gap of the latitude circle, :math:`\Gamma=\sin^2\vartheta` (MODEL.md §4, §6; the paper's Cor. 1).

    The exercise: write ``my_latitude_gap(polar)`` returning the collapse
    gap of the output law of the latitude circle through a vector at polar
    angle ``polar``.  Compared with :func:`usaav.collapse_gap` of the RoPE
    path on :data:`CIRCLE_POINTS` equally spaced positions.

    Parameters
    ----------
    my_latitude_gap : callable
        ``my_latitude_gap(polar) -> float``.
    seed : int

    Returns
    -------
    CheckResult
        Diagnoses besides the common ones: ``cosine_for_sine``,
        ``sine_not_squared``, ``mismatch``.
    """
    return LATITUDE_GAP.run(my_latitude_gap, seed, "my_latitude_gap")
