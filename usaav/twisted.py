r"""Twisted states on the circle: positions can stop collapse *dynamically* on :math:`\mathbb S^1` (beyond the paper).

The paper's Prop. 11 (MODEL.md §4): with a nonnegative distance bias
:math:`w\ge0`, every maximiser of the energy is constant — positions alone
do not prevent collapse *at the maximum*.  The flow need not reach the
maximum.  On the circle :math:`\mathbb S^1` (:math:`d=2`) with positions on
the grid :math:`s_j=j/n` and a translation-invariant weight
:math:`w(s,s')=w(\mathrm d(s,s'))` (:class:`usaav.kernels.DistanceBias`),
write :math:`x_j=(\cos\theta_j,\sin\theta_j)`; the tangential part of
:math:`x_j` at :math:`x_i` is :math:`\sin(\theta_j-\theta_i)`, so in the
rescaled clock :math:`t'=e^\beta t`

.. math:: \dot\theta_i=\frac1n\sum_j w(s_j-s_i)\,h(\theta_j-\theta_i),
          \qquad h(\varphi)=e^{\beta(\cos\varphi-1)}\sin\varphi .

**q-twisted states** :math:`\theta_j=2\pi q s_j+\varphi_0` (:func:`twisted_state`)
are equilibria for every integer :math:`q`: on the grid the terms
:math:`m` and :math:`-m` cancel (:math:`w` even, :math:`h` odd).  The
curve :math:`s\mapsto x(s)` winds :math:`q` times around the circle
(:func:`circle_winding`), and the collapse gap is :math:`\Gamma=1` for
:math:`q\not\equiv0 \pmod n`.

**Linear stability (proved here).**  The Jacobian of the angle flow is
:math:`J_{ij}=\frac1n w(s_j-s_i)h'(\theta_j-\theta_i)` for :math:`i\ne j`,
:math:`J_{ii}=-\sum_{j\ne i}J_{ij}`.  At a q-twisted state it depends on
:math:`j-i` only and is even in it: :math:`J` is a symmetric circulant
matrix, diagonalised by the Fourier modes :math:`e^{2\pi\mathrm ikj/n}`, with
eigenvalues (:func:`twisted_eigenvalues`)

.. math:: \lambda_k=\frac1n\sum_{m=1}^{n-1}w(m/n)\,h'(2\pi qm/n)\,\big(\cos(2\pi km/n)-1\big),
          \qquad h'(\varphi)=e^{\beta(\cos\varphi-1)}\big(\cos\varphi-\beta\sin^2\varphi\big),

:math:`k=0,\dots,n-1`.  :math:`\lambda_0=0` is the rotation of all angles
(a symmetry).  The flow is the gradient ascent of the energy, so
:math:`J` is (a multiple of) its Hessian: if :math:`\lambda_k<0` for every
:math:`k\ne0`, the twisted state is a strict local maximum of the energy
modulo rotations, hence *asymptotically stable*: every start close enough
to it converges to a rotated copy and keeps its winding number :math:`q`
for all times — it never collapses, although every maximiser is constant
(Prop. 11).  :func:`stable_twists` lists the stable :math:`q`.

For :math:`\beta\to0` (:math:`h=\sin`) and the box weight :math:`w=1` on the
:math:`k` nearest neighbours on each side, the :math:`\lambda_k` are those of
the ring of identical phase oscillators studied by D. A. Wiley, S. H.
Strogatz and M. Girvan, "The size of the sync basin", Chaos 16, 015103
(2006): there every twisted state :math:`q\ne0` is unstable once :math:`k/n`
exceeds about 0.34, and the largest stable twist grows like :math:`n/k`.
Here the coupling is :math:`h` (it depends on β) and the weight any
:math:`w\ge0`; short correlation lengths :math:`\ell` play the role of small
:math:`k/n`.

**Why** :math:`\mathbb S^2` **differs (proved here).**  Put the twisted
state on the equator of :math:`\mathbb S^2`.  By the symmetry
:math:`x_3\mapsto-x_3` the heights :math:`z_i` decouple from the angles at
first order:
:math:`\dot z_i=\frac1n\sum_jw_{ij}g(\theta_j-\theta_i)z_j-\big[\frac1n\sum_jw_{ij}g(\theta_j-\theta_i)\cos(\theta_j-\theta_i)\big]z_i`,
:math:`g(\varphi)=e^{\beta(\cos\varphi-1)}`, again circulant, with eigenvalues
(:func:`normal_eigenvalues`)

.. math:: \mu_k=\frac1n\sum_{m=0}^{n-1}w(m/n)\,g(2\pi qm/n)\big(\cos(2\pi km/n)-\cos(2\pi qm/n)\big).

:math:`\mu_{\pm q}=0` (tilting the plane of the circle: a rotation) and
:math:`\mu_0=\frac1n\sum_mw(m/n)g(2\pi qm/n)(1-\cos2\pi qm/n)>0` for
:math:`q\ne0` (all terms are :math:`\ge0`, those with :math:`qm\not\equiv0`
positive): lifting every point towards one pole shrinks every distance and
raises the energy.  Every twisted state with :math:`q\ne0` is therefore
linearly *unstable* on :math:`\mathbb S^2`; :math:`\mu_0` is the largest
:math:`\mu_k` (:math:`\mu_k-\mu_0=\frac1n\sum w g(\cos2\pi km/n-1)\le0`).

**Observed, not proved.**  Which fraction of random starts ends trapped
(:func:`trapping_fraction`), and what happens over times longer than those
simulated.  Uncollapsed states with winding 0 (domains of nearly equal
angles separated by near-antipodal kinks, a metastability in position
space) also live long at short :math:`\ell` and do collapse later, so
:func:`trapping_fraction` reports the winding number and the distance to
the nearest twisted state, not only the gap.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import kernels as _kernels
from ._validation import as_float_array, check_aux, check_int, check_positive_scalar
from .dynamics import simulate
from .labels import grid_positions
from .observables import collapse_gap

__all__ = ["TrappingResult", "circle_winding", "normal_eigenvalues", "stability_margin", "stable_twists",
           "stability_table", "trapping_fraction", "twist_distance", "twisted_eigenvalues", "twisted_state"]


def twisted_state(n: int, q: int, phase: float = 0.0, d: int = 2) -> np.ndarray:
    r"""The q-twisted state :math:`x_j=(\cos(2\pi qs_j+\varphi_0),\sin(2\pi qs_j+\varphi_0),0,\dots)`, :math:`s_j=j/n`.

    >>> X = twisted_state(4, 1)
    >>> np.round(X, 12).tolist()
    [[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0], [-0.0, -1.0]]
    """
    n = check_int(n, "n", minimum=1)
    q = check_int(q, "q")
    d = check_int(d, "d", minimum=2)
    angles = 2 * np.pi * q * grid_positions(n) + float(phase)
    X = np.zeros((n, d))
    X[:, 0], X[:, 1] = np.cos(angles), np.sin(angles)
    return X


def circle_winding(X, positions=None) -> float:
    r"""Winding number of the closed curve :math:`s\mapsto x(s)` around the origin of the :math:`(x_1,x_2)`-plane.

    Points are ordered by ``positions`` (default: the row order); the
    increments of :math:`\arg(x_1+\mathrm ix_2)` between consecutive points,
    wrapped to :math:`(-\pi,\pi]`, are summed (closing the loop) and divided
    by :math:`2\pi`.  On :math:`\mathbb S^1` the result is an integer; it is
    the :math:`q` of a q-twisted state and 0 for a collapsed state.  It
    changes only when two neighbouring points pass through antipodal
    positions (a *phase slip*).  Unlike :func:`usaav.winding_number`
    (winding around the cloud's mean, in its principal plane), it is well
    defined for every configuration on the circle, collapsed or not.

    >>> circle_winding(twisted_state(12, -3))
    -3.0
    """
    X = as_float_array(X, "X")
    if X.ndim != 2 or X.shape[1] < 2:
        raise ValueError(f"X must have shape (n, d) with d >= 2, got shape {X.shape}")
    order = np.arange(len(X)) if positions is None else np.argsort(check_aux(positions, len(X)), kind="stable")
    angles = np.arctan2(X[order, 1], X[order, 0])
    steps = np.diff(np.r_[angles, angles[0]])
    steps = (steps + np.pi) % (2 * np.pi) - np.pi
    return float(np.round(steps.sum() / (2 * np.pi), 9))


def twist_distance(X, q: int) -> float:
    r"""How far ``X`` (on the grid :math:`s_j=j/n`) is from the nearest rotated q-twisted state.

    :math:`1-\big|\frac1n\sum_j e^{\mathrm i(\theta_j-2\pi qs_j)}\big|`: 0 exactly
    at a q-twisted state (any phase), up to 1.

    >>> round(twist_distance(twisted_state(10, 2, phase=0.3), 2), 12)
    0.0
    """
    X = as_float_array(X, "X")
    q = check_int(q, "q")
    theta = np.arctan2(X[:, 1], X[:, 0])
    return float(1.0 - abs(np.mean(np.exp(1j * (theta - 2 * np.pi * q * grid_positions(len(X)))))))


def _grid_weights(kernel, n: int) -> np.ndarray:
    r""":math:`w(0,s_m)`, :math:`m=0..n-1`, of a translation-invariant positional weight on the grid."""
    s = grid_positions(n)
    if isinstance(kernel, _kernels.USA):
        return np.ones(n)
    if isinstance(kernel, _kernels.DistanceBias):
        return np.exp(kernel.log_weight(np.zeros(1), s))[0]
    if isinstance(kernel, _kernels.Separated):
        W = as_float_array(kernel.weight(s, s), "weight(s, s)")
        row = W[0]
        circulant = np.array([np.roll(row, i) for i in range(n)])
        if W.shape != (n, n) or not np.allclose(W, circulant, rtol=1e-12, atol=1e-14):
            raise ValueError("the Separated kernel's weight must be translation invariant on the grid "
                             "(w(s_i, s_j) a function of j - i mod n) for twisted-state eigenvalues")
        if np.any(row < 0):
            raise ValueError("the Separated kernel's weight must be nonnegative (a distance bias)")
        return row
    raise TypeError(f"kernel must be USA, DistanceBias or a translation-invariant Separated kernel, "
                    f"got {type(kernel).__name__}")


def _check(kernel, n, q):
    n = check_int(n, "n", minimum=2)
    q = check_int(q, "q")
    return n, q, _grid_weights(kernel, n), float(kernel.beta)


def twisted_eigenvalues(kernel, n: int, q: int) -> np.ndarray:
    r"""Eigenvalues :math:`\lambda_k`, :math:`k=0..n-1`, of the angle Jacobian at the q-twisted state (module docstring).

    Rescaled clock; :math:`\lambda_0=0` (rotation).  Negative for every
    :math:`k\ne0`: linearly stable on :math:`\mathbb S^1`.

    >>> lam = twisted_eigenvalues(_kernels.DistanceBias(2.0, 0.05), 60, 1)
    >>> float(lam[0]), bool(np.all(lam[1:] < 0))
    (0.0, True)
    """
    n, q, w, beta = _check(kernel, n, q)
    m = np.arange(1, n)
    phi = 2 * np.pi * q * m / n
    dh = np.exp(beta * (np.cos(phi) - 1.0)) * (np.cos(phi) - beta * np.sin(phi) ** 2)
    k = np.arange(n)
    return (np.cos(2 * np.pi * np.outer(k, m) / n) - 1.0) @ (w[1:] * dh) / n


def normal_eigenvalues(kernel, n: int, q: int) -> np.ndarray:
    r"""Eigenvalues :math:`\mu_k` of the height Jacobian at the q-twisted state on the equator of :math:`\mathbb S^2` (module docstring).

    :math:`\mu_0>0` for :math:`q\ne0`: every twisted state is unstable on :math:`\mathbb S^2`.

    >>> mu = normal_eigenvalues(_kernels.DistanceBias(2.0, 0.05), 60, 1)
    >>> bool(mu[0] > 0), bool(abs(mu[1]) < 1e-15), bool(mu[0] == mu.max())
    (True, True, True)
    """
    n, q, w, beta = _check(kernel, n, q)
    m = np.arange(n)
    phi = 2 * np.pi * q * m / n
    weight = w * np.exp(beta * (np.cos(phi) - 1.0)) / n
    k = np.arange(n)
    return (np.cos(2 * np.pi * np.outer(k, m) / n) - np.cos(phi)[None, :]) @ weight


def stability_margin(kernel, n: int, q: int) -> float:
    r""":math:`\max_{k\ne0}\lambda_k`: negative iff the q-twisted state is linearly stable on :math:`\mathbb S^1`."""
    return float(twisted_eigenvalues(kernel, n, q)[1:].max())


def stable_twists(kernel, n: int) -> np.ndarray:
    r"""The twists :math:`q\ge0` whose twisted state is linearly stable on :math:`\mathbb S^1` (``-q`` mirrors ``q``).

    >>> stable_twists(_kernels.DistanceBias(2.0, 0.05), 60).tolist()
    [0, 1]
    """
    n = check_int(n, "n", minimum=2)
    return np.array([q for q in range(n // 2 + 1) if stability_margin(kernel, n, q) < 0.0], dtype=int)


def stability_table(lengths=(0.02, 0.05, 0.1, 0.2, 0.4), betas=(1.0, 2.0, 4.0), n: int = 60) -> list[dict]:
    r"""Largest linearly stable twist on :math:`\mathbb S^1` and the escape rate :math:`\mu_0` of the 1-twisted state on :math:`\mathbb S^2`.

    For the exponential distance bias :math:`w=e^{-\mathrm d(s,s')/\ell}`, per
    :math:`(\ell,\beta)`: ``largest_stable_q`` (0: only the collapsed state),
    ``stable_q`` (all of them, :func:`stable_twists`), and
    ``normal_rate_q1`` :math:`=\mu_0` at :math:`q=1` (positive: unstable on
    :math:`\mathbb S^2`).  Proved statements (module docstring), evaluated.

    >>> [row["largest_stable_q"] for row in stability_table(lengths=(0.05, 0.4), betas=(2.0,))]
    [1, 0]
    """
    rows = []
    for length in lengths:
        for beta in betas:
            kernel = _kernels.DistanceBias(beta, length)
            stable = stable_twists(kernel, n)
            rows.append({"length": float(length), "beta": float(beta), "n": int(n),
                         "stable_q": [int(q) for q in stable], "largest_stable_q": int(stable.max()),
                         "normal_rate_q1": float(normal_eigenvalues(kernel, n, 1)[0])})
    return rows


@dataclass(frozen=True, eq=False)
class TrappingResult:
    r"""Result of :func:`trapping_fraction` (observed, not proved).

    Attributes
    ----------
    lengths : (L,) ndarray
        Correlation lengths :math:`\ell`.
    seeds : (R,) ndarray
    initial_winding, final_winding : (L, R) ndarray
        :func:`circle_winding` at :math:`t'=0` and at the end.
    final_gap : (L, R) ndarray
        Collapse gap at the end.
    twist_distance : (L, R) ndarray
        :func:`twist_distance` of the final state to the twist :math:`q` = final winding.
    trapped : (L, R) ndarray of bool
        Final winding :math:`\ne0`, that twist linearly stable, and the state within
        ``tolerance`` of it: sitting at a stable twisted state.
    uncollapsed : (L, R) ndarray of bool
        Final gap above 0.5 (whatever the reason).
    params : dict
    """

    lengths: np.ndarray
    seeds: np.ndarray
    initial_winding: np.ndarray
    final_winding: np.ndarray
    final_gap: np.ndarray
    twist_distance: np.ndarray
    trapped: np.ndarray
    uncollapsed: np.ndarray
    params: dict

    def table(self) -> list[dict]:
        """One row per length: fractions trapped at a stable twisted state and uncollapsed."""
        return [{"length": float(ell), "trapped_fraction": float(self.trapped[i].mean()),
                 "uncollapsed_fraction": float(self.uncollapsed[i].mean()),
                 "final_windings": [int(q) for q in self.final_winding[i]]}
                for i, ell in enumerate(self.lengths)]


def trapping_piece(length: float, seed: int, n: int, beta: float, t_max: float, dt: float, sphere: bool,
                   lift: float) -> dict:
    """One run from uniform random angles (on S^1, or on S^2 lifted by small random heights)."""
    rng = np.random.default_rng([seed, n])
    theta = rng.uniform(0.0, 2 * np.pi, n)
    X0 = np.c_[np.cos(theta), np.sin(theta)]
    if sphere:
        heights = lift * rng.standard_normal(n)
        X0 = np.c_[X0 * np.sqrt(1.0 - heights**2)[:, None], heights]
    run = simulate(_kernels.DistanceBias(beta, length), X0, grid_positions(n), t_max, dt=dt, clock="rescaled",
                   record_every=max(1, int(round(t_max / dt))))
    X = run.final
    q = int(round(circle_winding(X)))
    return {"initial_winding": circle_winding(X0), "final_winding": float(q), "final_gap": collapse_gap(X),
            "twist_distance": twist_distance(X, q)}


def trapping_fraction(lengths=(0.02, 0.03, 0.05, 0.08, 0.2), n: int = 60, beta: float = 0.5, t_max: float = 2000.0,
                      seeds=range(10), *, dt: float = 0.25, sphere: bool = False, lift: float = 1e-2,
                      tolerance: float = 0.05) -> TrappingResult:
    r"""Fraction of uniform random starts that end at a stable twisted state, against :math:`\ell` (observed).

    Each run draws :math:`n` angles uniformly (``default_rng([seed, n])``),
    puts particle :math:`j` at position :math:`j/n`, and follows the
    distance-bias flow :math:`w=e^{-\mathrm d(s,s')/\ell}` in the rescaled
    clock up to ``t_max`` with Heun steps ``dt``.  With ``sphere=True`` the
    same angles are lifted to :math:`\mathbb S^2` by random heights of size
    ``lift`` (without a lift the equator is invariant and the run is the
    circle's run): the twisted states are then unstable (:math:`\mu_0>0`)
    and the runs collapse.

    A run is *trapped* when its final winding :math:`q\ne0`, the q-twisted
    state is linearly stable (:func:`stable_twists`) and the final state is
    within ``tolerance`` of it (:func:`twist_distance`); by linear stability
    a state close enough to a stable twisted state stays trapped forever,
    but "close enough" (the basin) is not computed: the fraction is an
    observation.  Defaults (β = 0.5, where the 1-twisted state is stable
    with a clear margin for ℓ up to 0.08; at β = 2 the margin at ℓ = 0.05 is
    1.2e-4 and random starts sit for thousands of time units in winding-0
    domain states that collapse in the end): about 2 minutes.

    Returns
    -------
    TrappingResult

    Examples
    --------
    >>> res = trapping_fraction(lengths=(0.05,), seeds=range(2), t_max=50.0, n=30)
    >>> res.trapped.shape
    (1, 2)
    """
    lengths = tuple(check_positive_scalar(ell, "lengths entry") for ell in lengths)
    n = check_int(n, "n", minimum=3)
    beta = check_positive_scalar(beta, "beta")
    t_max = check_positive_scalar(t_max, "t_max")
    dt = check_positive_scalar(dt, "dt")
    seeds = tuple(seeds)
    if not lengths or not seeds or any(isinstance(s, bool) or not isinstance(s, (int, np.integer)) or s < 0
                                       for s in seeds):
        raise ValueError(f"lengths must be nonempty and seeds nonnegative integers, got {lengths}, {seeds}")
    runs = [[trapping_piece(ell, int(s), n, beta, t_max, dt, sphere, lift) for s in seeds] for ell in lengths]

    def stack(key):
        return np.array([[run[key] for run in row] for row in runs], dtype=np.float64)

    final_winding = stack("final_winding")
    distance = stack("twist_distance")
    stable = [set(stable_twists(_kernels.DistanceBias(beta, ell), n).tolist()) for ell in lengths]
    trapped = np.array([[(q != 0) and (abs(int(q)) in stable[i]) and (distance[i, r] < tolerance)
                         for r, q in enumerate(final_winding[i])] for i in range(len(lengths))])
    gap = stack("final_gap")
    return TrappingResult(lengths=np.array(lengths), seeds=np.array(seeds, dtype=int),
                          initial_winding=stack("initial_winding"), final_winding=final_winding, final_gap=gap,
                          twist_distance=distance, trapped=trapped, uncollapsed=gap > 0.5,
                          params=dict(n=n, beta=beta, t_max=t_max, dt=dt, sphere=sphere, lift=lift,
                                      tolerance=tolerance, profile="exponential", clock="rescaled"))
