r"""One constructor per phenomenon: each checks its options and returns an :class:`Explorer`.

The ranges are those of :data:`usaav.explorers.options.OPTION_RANGES`; each
docstring states them in the words of
:func:`usaav.explorers.options.describe_rule` (a test checks it).
"""

from __future__ import annotations

import numpy as np

from .. import targets as _targets
from .options import checked_options, scenario_data
from .widget import Explorer

__all__ = ["baseline_collapse", "collapse", "collapse_layers", "kernel_gallery", "latitude", "metastability", "orbit_law", "prompt_law",
           "prompts", "scenario_knob", "sphere_viewer", "toeplitz"]


def baseline_collapse(*, beta: float = 1.0, n: int = 256, seed: int = 0):
    r"""Mode collapse under the baseline flow alone (chapter 1, first explorer; MODEL.md §2, §6).

    ``n`` tokens start uniform on :math:`\mathbb S^2` (drawn in the browser
    from ``seed``), coloured by their position :math:`s_i=i/n`, and follow
    the USA flow of the baseline scenario of :data:`usaav.scenarios.TABLE`
    up to :math:`T=30`: they collapse to one point.  It shows only what
    chapter 1 has defined when the reader meets it: one readout, the
    collapse gap :math:`\Gamma`, and its chart against time on a log axis.
    :func:`collapse` adds the kernels with auxiliary variables.

    Parameters
    ----------
    beta : float
        In [0.25, 4], a multiple of 0.25.
    n : int
        In [16, 256], a multiple of 16.
    seed : int
        In [0, 20].

    Returns
    -------
    Explorer
    """
    options = checked_options("baseline_collapse", beta=beta, n=n, seed=seed)
    summary = f"collapse of {options['n']} tokens under the baseline flow, β = {options['beta']:g}"
    return Explorer("baseline_collapse", {**options, **scenario_data("baseline_collapse")}, summary=summary)


def collapse(*, kernel: str = "baseline", beta: float = 1.0, n: int = 128, seed: int = 0):
    r"""Mode collapse and what prevents it (chapter 1; MODEL.md §2–§3, §6).

    ``n`` tokens start uniform on :math:`\mathbb S^2` (drawn in the browser
    from ``seed``) and follow the USA-AV flow of the chosen kernel, a
    scenario of :data:`usaav.scenarios.TABLE` with the explorer's
    :data:`SCENARIO_OVERRIDES`: the baseline USA flow collapses to one point;
    RoPE with :math:`\theta=2\pi` and four fixed prompts (random phases in
    the :math:`(x_1,x_2)`-plane) keep the tokens apart while the gauge frame
    :math:`u_i=G(a_i)x_i` collapses (Thm. 1, Cor. 2); an exponential distance
    bias (length 0.1) only slows the collapse down (Prop. 11).  Readouts: the
    collapse gap :math:`\Gamma`, the gauge-frame gap and the relative energy
    gap; the chart shows both gaps against time on a log axis.

    Parameters
    ----------
    kernel : {"baseline", "RoPE", "prompts", "distance bias"}
    beta : float
        In [0.25, 4], a multiple of 0.25.
    n : int
        In [16, 256], a multiple of 16.
    seed : int
        In [0, 20].

    Returns
    -------
    Explorer
    """
    options = checked_options("collapse", kernel=kernel, beta=beta, n=n, seed=seed)
    summary = f"collapse of {options['n']} tokens under the {kernel} kernel, β = {options['beta']:g}"
    return Explorer("collapse", {**options, **scenario_data("collapse")}, summary=summary)


def kernel_gallery(*, beta: float = 2.0, n: int = 96, seed: int = 0, t_max: float = 10):
    r"""What each kernel does to the same cloud (chapter 2; MODEL.md §3, §6.2).

    Six spheres share one initial cloud of ``n`` uniform tokens and one
    camera: the six scenarios of :data:`usaav.scenarios.TABLE` with their
    parameters (the baseline USA, an exponential distance bias of length
    0.25, the Toeplitz kernel :math:`c(r)=0.2+\cos4\pi r`, RoPE with
    :math:`\theta=2\pi`, a generalised RoPE
    :math:`G(s)=R^{(12)}_{2\pi s}R^{(13)}_{0.5\sin6\pi s}` and five
    Haar-random prompts) and ``beta`` for every kernel that has one.  The
    clouds move together up to time ``t_max``; a chart follows each collapse
    gap.

    Parameters
    ----------
    beta : float
        In [0.5, 6], a multiple of 0.5.
    n : int
        In [24, 240], a multiple of 24.
    seed : int
        In [0, 20].
    t_max : {5, 10, 20, 40}

    Returns
    -------
    Explorer
    """
    options = checked_options("kernel_gallery", beta=beta, n=n, seed=seed, t_max=t_max)
    return Explorer("kernel_gallery", {**options, **scenario_data("kernel_gallery")},
                    summary=f"six kernels on one cloud of {options['n']} tokens, β = {options['beta']:g}, T = {t_max:g}")


def collapse_layers(*, beta: float = 1.0, n: int = 64, seed: int = 0):
    r"""Collapse through many layers: baseline, RoPE and prompts from one gauge-frame cloud (MODEL.md §6.1).

    With four tokens per label, one cloud :math:`u_i` uniform on the sphere
    starts all three models, :math:`x_i(0)=G(a_i)^\top u_i`.  The three
    spheres move side by side; the chart shows each collapse gap, the common
    gauge-frame gap and the prediction :math:`1-v_3^2` (:math:`v` the
    normalised mean of the gauge-frame points), up to :math:`T=20`.

    Parameters
    ----------
    beta : float
        In [0.25, 4], a multiple of 0.25.
    n : int
        In [16, 128], a multiple of 16.
    seed : int
        In [0, 9].

    Returns
    -------
    Explorer
    """
    options = checked_options("collapse_layers", beta=beta, n=n, seed=seed)
    return Explorer("collapse_layers", options,
                    summary=f"baseline, RoPE and prompts, {options['n']} tokens, β = {options['beta']:g}")


def scenario_knob(*, scenario: str = "toeplitz", m: int = 3, beta: float = 1.0):
    r"""One §6.2 scenario and its integer knob ``m`` (MODEL.md §6.2; :func:`usaav.experiments.gallery_setup`).

    ``m`` is the Toeplitz mode (:math:`c(r)=0.2+\cos2\pi mr`: a great circle
    run ``m`` times), the number of waves of the generalised RoPE
    (:math:`\alpha=0.5`) or the number of (Haar-random) prompts; the other
    scenarios have no knob, and the Toeplitz kernel no β (their sliders are
    disabled there).  The other parameters are those of
    :data:`usaav.scenarios.TABLE`.  150 tokens run up to :math:`T=40`; the
    readouts give the collapse gap, the relative energy gap and the number
    of distinct points.

    Parameters
    ----------
    scenario : {"baseline", "distance_bias", "toeplitz", "rope", "generalized_rope", "prompts"}
    m : int
        In [1, 6].
    beta : float
        In [0.5, 3], a multiple of 0.5.

    Returns
    -------
    Explorer
    """
    options = checked_options("scenario_knob", scenario=scenario, m=m, beta=beta)
    return Explorer("scenario_knob", {**options, **scenario_data("scenario_knob")}, summary=f"scenario {scenario}, m = {options['m']}, β = {options['beta']:g}")


def sphere_viewer(X, *, values=None, title: str | None = None, label: str = "", vmin=None, vmax=None):
    """Any configuration on the common sphere view; drag (or use the arrow keys) to turn it.

    Nothing runs: the explorer shows ``X`` as given, coloured by ``values``
    (viridis, with a colour bar labelled ``label``).

    Parameters
    ----------
    X : (n, 3) array_like
        Points on the sphere (finite; rows are drawn as given).
    values : (n,) array_like, optional
        Colour values, e.g. positions or prompt ids.
    title : str, optional
    label : str
        What the colours mean, e.g. ``"position s"``.
    vmin, vmax : float, optional
        Colour range (default: the range of ``values``).

    Returns
    -------
    Explorer
    """
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[1] != 3 or len(X) == 0:
        raise ValueError(f"X must have shape (n, 3) with n >= 1 to be shown on S^2, got shape {X.shape}")
    if not np.all(np.isfinite(X)):
        raise ValueError("X must be finite")
    options = {"X": np.round(X, 6).tolist(), "title": title or f"{len(X)} points", "label": str(label)}
    if values is not None:
        values = np.asarray(values, dtype=np.float64)
        if values.shape != (len(X),):
            raise ValueError(f"values must have shape ({len(X)},) to match X, got shape {values.shape}")
        if not np.all(np.isfinite(values)):
            raise ValueError("values must be finite")
        options["values"] = np.round(values, 6).tolist()
        options["vmin"] = float(values.min() if vmin is None else vmin)
        options["vmax"] = float(values.max() if vmax is None else vmax)
    return Explorer("sphere_viewer", options, summary=f"{options['title']} on the sphere, drag to turn")


def latitude(*, polar: int = 60, theta: float = 2.0, plane: str = "x1x2", flow: bool = True, copies: int = 4):
    r"""The RoPE maximiser :math:`x(s)=R_{-\theta s}v` and its latitude circle (chapter 3; Thm. 1, Cor. 1).

    Shows the maximiser for :math:`v` at polar angle ``polar`` (degrees)
    from the axis of the rotation ``plane``, the frequency
    :math:`\theta=` ``theta`` :math:`\pi`, with the orbit of :math:`v` and
    the axis; readouts: the relative energy gap (0: the ceiling
    :math:`e^\beta/(2\beta)`), the height :math:`\cos\vartheta` along the
    axis and its spread (0).  With ``flow`` the RoPE dynamics run next to
    it from a uniform cloud of 256 tokens, ``copies`` per position: the
    tokens of a position meet (conditional diameter → 0, Thm. 3) and the
    positions settle on a latitude circle of their own height.

    Parameters
    ----------
    polar : int
        ϑ in degrees.  In [0, 180], a multiple of 5.
    theta : float
        θ/π.  In [0.25, 4], a multiple of 0.25.
    plane : {"x1x2", "x1x3", "x2x3"}
    flow : bool
    copies : {1, 4}
        Tokens per position in the flow.

    Returns
    -------
    Explorer
    """
    options = checked_options("latitude", polar=polar, theta=theta, plane=plane, flow=flow, copies=copies)
    return Explorer("latitude", options,
                    summary=f"RoPE maximiser, ϑ = {options['polar']}°, θ = {options['theta']:g}π"
                            + (", with the flow" if options["flow"] else ""))


def orbit_law(*, law: str = "bimodal mixture", width: float = 0.4, quantile: str = "pi * (2*s - 1)**3",
              n: int = 400):
    r"""Any law on the orbit, realised exactly (chapter 3; Thm. 2 (ii)).

    The maximiser :math:`x(s_i)=R_{Q(s_i)}v` at :math:`s_i=(i+\frac12)/n`
    for the quantile :math:`Q` of the target law (:func:`usaav.targets.angle_law`;
    ``"your quantile"`` reads the formula ``quantile`` with the safe parser
    of :func:`usaav.targets.parse_formula`), drawn on the orbit of
    :math:`v`, with the histogram of the realised angles against the target
    density; readouts: the phase-field kernel's relative energy gap (0), the
    Kolmogorov–Smirnov distance and its best value :math:`1/(2n)`.

    Parameters
    ----------
    law : one of :data:`usaav.targets.ANGLE_LAWS`
    width : float
        In [0.1, 1], a multiple of 0.05.
    quantile : str
        Formula of :math:`Q(s)`; a formula the parser refuses raises its ``ValueError`` here.
        At most 200 characters.
    n : int
        In [50, 800], a multiple of 50.

    Returns
    -------
    Explorer
    """
    options = checked_options("orbit_law", law=law, width=width, quantile=quantile, n=n)
    _targets.user_quantile(quantile)  # the browser parses the same grammar: fail here, with the same message
    return Explorer("orbit_law", options, summary=f"{law} realised on an orbit by {options['n']} tokens")


def prompt_law(*, shape: str = "word", word: str = "USA-AV", n: int = 800):
    r"""Any law on the sphere, realised by prompts (chapter 4; Thm. 4 (ii)–(iii)).

    ``n`` prompts drawn from a nonatomic law are mapped to targets
    :math:`T_p` of ``shape`` (:func:`usaav.targets.sphere_target`; the word
    is drawn with the browser's font), the Householder reflection
    exchanging :math:`v=e_3` and :math:`T_p` is the gauge :math:`G_p`, and
    the maximiser :math:`x_p=G_p^\top v` is shown; readouts: the prompt
    kernel's relative energy gap and :math:`\max_p|G_p^\top v-T_p|`
    (both 0 up to round-off).

    Parameters
    ----------
    shape : one of :data:`usaav.targets.SHAPES`
    word : str
        At most 24 characters, with a visible one when ``shape="word"``.
    n : int
        In [100, 1600], a multiple of 100.

    Returns
    -------
    Explorer
    """
    options = checked_options("prompt_law", shape=shape, word=word, n=n)
    if shape == "word" and not word.strip():
        raise ValueError(f"word must contain visible characters, got {word!r}")
    what = f"the word {word!r}" if shape == "word" else f"the {shape} law"
    return Explorer("prompt_law", options, summary=f"{what} realised by {options['n']} prompts")


def prompts(*, m: int = 4, layout: str = "random rotations", seed: int = 0):
    r"""Finitely many prompts: one cluster per distinct point :math:`G_p^\top u` (chapter 4; Cor. 2).

    ``m`` prompts with 24 tokens each (gauges of ``layout``, see
    :func:`usaav.targets.prompt_gauges`; random ones drawn in the browser
    from ``seed``) start from a uniform cloud.  Readouts, live: the number
    of clusters, the number of distinct points :math:`G_p^\top u`
    (:math:`u` where the tokens agree in the gauge frame) and of distinct
    gauges, the gauge-frame and original-frame gaps, the relative energy
    gap; the chart follows both gaps.

    Parameters
    ----------
    m : int
        In [1, 10].
    layout : one of :data:`usaav.targets.PROMPT_LAYOUTS`
    seed : int
        In [0, 20].

    Returns
    -------
    Explorer
    """
    options = checked_options("prompts", m=m, layout=layout, seed=seed)
    return Explorer("prompts", options, summary=f"{options['m']} prompts, {layout}")


def toeplitz(*, c0: float = 0.2, c1: float = 0.0, c2: float = 1.0, c3: float = 0.0):
    r"""Toeplitz kernels: the strongest Fourier mode wins (chapter 5; Prop. 10).

    The flow of :math:`c(r)=c_0+c_1\cos2\pi r+c_2\cos4\pi r+c_3\cos6\pi r`
    from a uniform cloud of 200 tokens on the grid :math:`s_i=i/n`, with the
    spectrum :math:`\hat c(k)` (:math:`k^*` highlighted), the energy against
    :math:`\frac12\max_k\hat c(k)` and the finite-:math:`n` bound
    :math:`\lambda_{\max}(C)/(2n)`, and the winding number of the curve.

    Parameters
    ----------
    c0, c1, c2, c3 : float
        In [0, 1], a multiple of 0.05 (each).

    Returns
    -------
    Explorer
    """
    options = checked_options("toeplitz", c0=c0, c1=c1, c2=c2, c3=c3)
    terms = " + ".join(f"{options[f'c{k}']:g}·cos {2 * k}πr" if k else f"{options['c0']:g}" for k in range(4))
    return Explorer("toeplitz", options, summary=f"Toeplitz flow, c(r) = {terms}")


def metastability(*, beta: int = 6, gap: float = 1.0, clusters: int = 2):
    r"""Metastability: clusters wait exponentially long in β before they merge (chapter 7; Thm. 5).

    ``clusters`` clusters of 20 tokens start in caps of radius 0.05 around
    centres ``gap`` radians apart and follow the baseline flow in the
    rescaled clock :math:`t'=e^\beta t`; the chart shows the angles between
    the centres against :math:`\log t'` with the first merger :math:`T_1`
    (centres within 0.1 rad) and the prediction of the reduced
    :math:`k`-point flow.  The exponent :math:`c=1-\cos\Delta_0` of
    :math:`T_1\approx e^{c\beta}` is this book's reconstruction from the
    paper's statements, as the readout says.

    Parameters
    ----------
    beta : int
        In [2, 10].
    gap : float
        In [0.6, 1.2], a multiple of 0.1.
    clusters : int
        In [2, 3].

    Returns
    -------
    Explorer
    """
    options = checked_options("metastability", beta=beta, gap=gap, clusters=clusters)
    return Explorer("metastability", options,
                    summary=f"{options['clusters']} clusters, β = {options['beta']}, Δ = {options['gap']:g}")


