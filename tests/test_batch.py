r"""Batches of systems: bitwise the same as separate runs, shapes, errors, memory (MODEL.md §2, §5).

The reference of every batch is the same computation done one system at a
time with the public single-system calls; agreement is exact
(``np.array_equal``), not within a tolerance: a batch must not change a
single bit of any system's result.  The single-system calls themselves are
checked against loops and finite differences in ``test_forces.py`` and
``test_dynamics.py``.
"""

from __future__ import annotations

import itertools
import tracemalloc

import numpy as np
import pytest

import usaav
from usaav import kernels
from usaav._pairwise import BATCH_ENTRIES
from references import ALL_CASES, random_orthogonal, random_sphere, signed_weight

CASE_IDS = [case.name for case in ALL_CASES]

#: (B, n): one system, a few systems, many systems; n below one row block (5),
#: not a multiple of the 64-row blocks (100) or of the tiles (257).
BATCH_SHAPES = [(1, 100), (3, 5), (3, 257), (32, 100)]


def batch_of(case, B, n, d, seed):
    rng = np.random.default_rng(seed)
    X = np.stack([random_sphere(n, d, rng) for _ in range(B)])
    aux = np.stack([case.make_aux(n, rng) for _ in range(B)])
    return X, aux


# --------------------------------------------------------------------------
# Bitwise identity with separate runs, every kernel class
# --------------------------------------------------------------------------


@pytest.mark.parametrize("B, n", BATCH_SHAPES, ids=[f"B{B}-n{n}" for B, n in BATCH_SHAPES])
@pytest.mark.parametrize("d", [2, 3, 5])
@pytest.mark.parametrize("case", ALL_CASES, ids=CASE_IDS)
def test_batched_velocity_is_bitwise_the_separate_velocities(case, d, B, n):
    """velocity(kernel, X (B, n, d), aux (B, n))[b] == velocity(kernel, X[b], aux[b]) exactly."""
    X, aux = batch_of(case, B, n, d, seed=B * 1000 + n + d)
    kernel = case.make_kernel(d)

    batched = usaav.velocity(kernel, X, aux)

    assert batched.shape == (B, n, d)
    for b in range(B):
        assert np.array_equal(batched[b], usaav.velocity(kernel, X[b], aux[b])), b


@pytest.mark.parametrize("B, n", BATCH_SHAPES, ids=[f"B{B}-n{n}" for B, n in BATCH_SHAPES])
@pytest.mark.parametrize("case", ALL_CASES, ids=CASE_IDS)
def test_batched_energy_is_bitwise_the_separate_energies(case, B, n):
    """energy(kernel, X (B, n, d), aux)[b] == energy(kernel, X[b], aux[b]) exactly, in both clocks."""
    X, aux = batch_of(case, B, n, 3, seed=B + n)
    kernel = case.make_kernel(3)

    for clock in ("raw", "rescaled"):
        batched = usaav.energy(kernel, X, aux, clock=clock)
        assert batched.shape == (B,)
        separate = [usaav.energy(kernel, X[b], aux[b], clock=clock) for b in range(B)]
        assert np.array_equal(batched, separate)


@pytest.mark.parametrize("case", [ALL_CASES[0], ALL_CASES[2], ALL_CASES[3], ALL_CASES[7]], ids=lambda c: c.name)
@pytest.mark.parametrize("d", [2, 5])
def test_batch_of_large_systems_cut_into_column_tiles_is_bitwise_separate(case, d):
    """n = 1100 > 1024: strips are split into column tiles; still exact per system."""
    X, aux = batch_of(case, 3, 1100, d, seed=d)
    kernel = case.make_kernel(d)

    V = usaav.velocity(kernel, X, aux)
    E = usaav.energy(kernel, X, aux)

    for b in range(3):
        assert np.array_equal(V[b], usaav.velocity(kernel, X[b], aux[b]))
        assert E[b] == usaav.energy(kernel, X[b], aux[b])


def test_shared_labels_and_per_system_labels_give_the_same_batch():
    """aux of shape (n,) serves every system: the same numbers as the (B, n) array repeating it."""
    case = ALL_CASES[5]  # RoPE
    X, aux = batch_of(case, 4, 50, 3, seed=3)
    kernel = case.make_kernel(3)

    shared = usaav.velocity(kernel, X, aux[0])
    repeated = usaav.velocity(kernel, X, np.tile(aux[0], (4, 1)))

    assert np.array_equal(shared, repeated)
    assert np.array_equal(shared[2], usaav.velocity(kernel, X[2], aux[0]))


def per_system_kernels(d: int) -> dict:
    """For each kernel class, three kernels with different parameters (and one mixed list)."""
    rng = np.random.default_rng(d)
    families = {
        "usa": [kernels.USA(b) for b in (0.5, 1.0, 2.0)],
        "distance_bias": [kernels.DistanceBias(1.0, 0.2), kernels.DistanceBias(1.5, 0.4),
                          kernels.DistanceBias(0.7, 0.3)],
        "distance_bias_mixed_profiles": [kernels.DistanceBias(1.0, 0.2, "gaussian"), kernels.DistanceBias(1.5, 0.4),
                                         kernels.DistanceBias(0.7, 0.3, "gaussian")],
        "separated": [kernels.Separated(0.9, signed_weight), kernels.Separated(1.2, lambda a, b: 1.0 + 0 * np.subtract.outer(a, b)),
                      kernels.Separated(0.5, signed_weight)],
        "rope": [kernels.RoPE(1.0), kernels.RoPE(1.5, 3.0), kernels.RoPE(0.8, 1.0, (1, 0))],
        "phase_field": [kernels.PhaseField(1.0, np.sin), kernels.PhaseField(0.5, np.cos)] * 1
        + [kernels.PhaseField(2.0, lambda s: 3 * s)],
        "gauge": [kernels.Gauge(b, lambda a, b_=b: np.stack([usaav.rotation(b_ * x, d) for x in a])) for b in (0.6, 1.0, 1.4)],
        "prompts": [kernels.Prompts(1.0, random_orthogonal(3, d, rng)) for _ in range(3)],
        "toeplitz": [kernels.Toeplitz({0: 0.3, 1: 1.0}), kernels.Toeplitz({0: 0.1, 2: 0.5}),
                     kernels.Toeplitz({1: 1.0, 2: 0.2, 3: -0.5})],
    }
    families["mixed"] = [kernels.USA(1.0), kernels.RoPE(1.2), kernels.Toeplitz({1: 1.0}),
                         kernels.DistanceBias(1.1, 0.3), families["prompts"][0], kernels.USA(0.7),
                         families["gauge"][1], kernels.Separated(0.9, signed_weight)]
    return families


FAMILIES = list(per_system_kernels(3))


@pytest.mark.parametrize("d", [3, 5])
@pytest.mark.parametrize("family", FAMILIES)
def test_a_batch_of_different_kernels_is_bitwise_separate_runs(family, d):
    """One kernel per system (other β, θ, lengths, gauges, modes, classes): exact per system."""
    kernel_list = per_system_kernels(d)[family]
    B, n = len(kernel_list), 70
    rng = np.random.default_rng(7)
    X = np.stack([random_sphere(n, d, rng) for _ in range(B)])
    # Prompt ids are positions times 3 rounded down: valid labels for every class.
    positions = rng.random((B, n))
    aux = np.where(np.array([isinstance(k, kernels.Prompts) for k in kernel_list])[:, None],
                   np.floor(3 * positions), positions)

    V = usaav.velocity(kernel_list, X, aux)
    E = usaav.energy(kernel_list, X, aux)

    for b, kernel in enumerate(kernel_list):
        assert np.array_equal(V[b], usaav.velocity(kernel, X[b], aux[b])), b
        assert E[b] == usaav.energy(kernel, X[b], aux[b]), b


@pytest.mark.parametrize("case", ALL_CASES, ids=CASE_IDS)
def test_batched_heun_trajectory_is_bitwise_the_separate_trajectories(case):
    """simulate on a batch: every frame, time, energy and drift of system b equals its own run's."""
    B, n = 3, 40
    X, aux = batch_of(case, B, n, 3, seed=11)
    kernel = case.make_kernel(3)

    batch = usaav.simulate(kernel, X, aux, t_max=1.0, dt=0.05, record_every=3)

    assert isinstance(batch, usaav.BatchTrajectory) and len(batch) == B
    assert batch.X.shape == (len(batch.t), B, n, 3) and batch.energy.shape == (len(batch.t), B)
    for b in range(B):
        alone = usaav.simulate(kernel, X[b], aux[b], t_max=1.0, dt=0.05, record_every=3)
        mine = batch[b]
        for field in ("t", "X", "energy", "sphere_drift"):
            assert np.array_equal(getattr(mine, field), getattr(alone, field)), (b, field)
        assert np.array_equal(mine.aux, alone.aux) and mine.kernel is kernel


def test_systems_of_a_batch_stop_early_on_their_own():
    """With stop_tol, each system stops when its own energy stalls; the others go on unchanged."""
    rng = np.random.default_rng(12)
    X = np.stack([random_sphere(24, 3, rng) for _ in range(4)])
    # Different β: the flows settle at different times.
    kernel_list = [kernels.USA(b) for b in (0.05, 2.0, 0.3, 1.0)]
    # Frames every 1.5 time units, stop checks every 1: most stops fall between frames.
    options = dict(t_max=400.0, dt=0.05, record_every=30, stop_tol=1e-10)

    batch = usaav.simulate(kernel_list, X, None, **options)
    alone = [usaav.simulate(k, X[b], None, **options) for b, k in enumerate(kernel_list)]

    stops = [run.t[-1] for run in alone]
    assert all(run.stopped_early for run in alone) and len(set(stops)) >= 3  # really staggered
    assert batch.stopped_early.all()
    for b in range(4):
        for field in ("t", "X", "energy", "sphere_drift"):
            assert np.array_equal(getattr(batch[b], field), getattr(alone[b], field)), (b, field)
        # A stopped system keeps its final configuration in later frames of the batch.
        assert np.array_equal(batch.X[-1, b], alone[b].final)
    assert batch.t[-1] == max(stops) and batch.recorded.sum() == sum(len(run.t) for run in alone)


def test_solve_ivp_on_a_batch_integrates_each_system_as_alone():
    """method='solve_ivp' loops over the systems: each equals its separate run."""
    case = ALL_CASES[5]
    X, aux = batch_of(case, 2, 8, 3, seed=13)
    kernel = case.make_kernel(3)

    batch = usaav.simulate(kernel, X, aux, t_max=1.0, dt=0.25, method="solve_ivp")

    for b in range(2):
        alone = usaav.simulate(kernel, X[b], aux[b], t_max=1.0, dt=0.25, method="solve_ivp")
        assert np.array_equal(batch[b].X, alone.X) and np.array_equal(batch[b].energy, alone.energy)


def test_batch_drawn_from_seeds_is_the_separate_runs_drawn_from_each_seed():
    """X0 = None with a sequence of seeds: system b starts from uniform_sphere(n, d, seeds[b])."""
    aux = np.arange(10) / 10
    batch = usaav.simulate(kernels.RoPE(1.0), None, aux, t_max=0.2, seed=[4, 9], d=4)

    assert batch.seeds == (4, 9)
    for b, seed in enumerate((4, 9)):
        alone = usaav.simulate(kernels.RoPE(1.0), None, aux, t_max=0.2, seed=seed, d=4)
        assert np.array_equal(batch[b].X, alone.X) and batch[b].seed == seed


# --------------------------------------------------------------------------
# Shapes of the results
# --------------------------------------------------------------------------


def test_batch_trajectory_shapes_and_views():
    X = np.stack([usaav.uniform_sphere(6, 3, rng=s) for s in range(5)])
    batch = usaav.simulate(kernels.USA(1.0), X, None, t_max=1.0, dt=0.1, record_every=5)

    frames = len(batch.t)
    assert frames == 3  # steps 0, 5, 10
    assert batch.X.shape == (frames, 5, 6, 3)
    assert batch.energy.shape == batch.sphere_drift.shape == batch.recorded.shape == (frames, 5)
    assert batch.stopped_early.shape == (5,) and not batch.stopped_early.any()
    assert batch.final.shape == (5, 6, 3) and len(list(batch)) == 5
    assert isinstance(batch[-1], usaav.Trajectory) and np.array_equal(batch[-1].X, batch.X[:, 4])
    assert batch.kernels == (kernels.USA(1.0),) * 5 and batch.aux is None
    with pytest.raises(IndexError, match="out of range"):
        batch[5]


def test_single_system_results_keep_their_shapes():
    """One system in, one system out: (n, d) velocity, float energy, Trajectory with X (frames, n, d)."""
    X = usaav.uniform_sphere(7, 3, rng=0)
    run = usaav.simulate(kernels.USA(1.0), X, None, t_max=0.5, dt=0.1)

    assert usaav.velocity(kernels.USA(1.0), X, None).shape == (7, 3)
    assert isinstance(usaav.energy(kernels.USA(1.0), X, None), float)
    assert isinstance(run, usaav.Trajectory) and run.X.shape == (6, 7, 3) and isinstance(run.stopped_early, bool)


# --------------------------------------------------------------------------
# Errors for inconsistent batches
# --------------------------------------------------------------------------

X_BATCH = np.stack([usaav.uniform_sphere(5, 3, rng=s) for s in range(3)])
S_BATCH = np.tile(np.arange(5) / 5, (3, 1))


@pytest.mark.parametrize("aux", [S_BATCH[:2], np.tile(np.arange(4) / 4, (3, 1)), S_BATCH[None]],
                         ids=["fewer-rows", "shorter-rows", "3d"])
def test_labels_that_do_not_match_the_batch_are_refused(aux):
    with pytest.raises(ValueError, match=r"aux must have shape \(n,\) = \(5,\).*\(B, n\) = \(3, 5\)"):
        usaav.velocity(kernels.RoPE(1.0), X_BATCH, aux)


def test_a_sequence_of_kernels_of_the_wrong_length_is_refused():
    with pytest.raises(ValueError, match=r"kernel must be one kernel or a sequence of B = 3 kernels.*got 2"):
        usaav.velocity([kernels.USA(1.0)] * 2, X_BATCH, None)


def test_a_sequence_with_a_non_kernel_is_refused():
    with pytest.raises(TypeError, match=r"kernel must be a usaav kernel .*got str at index 1"):
        usaav.velocity([kernels.USA(1.0), "usa", kernels.USA(1.0)], X_BATCH, None)


def test_a_sequence_of_kernels_needs_a_batch():
    with pytest.raises(TypeError, match=r"sequence of 2 kernels, which needs a batch"):
        usaav.velocity([kernels.USA(1.0)] * 2, X_BATCH[0], None)


def test_a_batch_with_a_row_off_the_sphere_is_refused():
    X = X_BATCH.copy()
    X[2, 4] *= 1.01
    with pytest.raises(ValueError, match="X must have unit rows"):
        usaav.simulate(kernels.USA(1.0), X, None, t_max=1.0)


def test_per_system_labels_are_checked_like_single_labels():
    aux = S_BATCH.copy()
    aux[1, 2] = 1.5
    with pytest.raises(ValueError, match=r"aux must hold positions in \[0, 1\]"):
        usaav.velocity(kernels.RoPE(1.0), X_BATCH, aux)


def test_seeds_that_do_not_match_the_labels_are_refused():
    with pytest.raises(ValueError, match=r"aux has 3 rows .* but seed holds 2 seeds"):
        usaav.simulate(kernels.RoPE(1.0), None, S_BATCH, t_max=1.0, seed=[1, 2])


# --------------------------------------------------------------------------
# Memory: no B n² array
# --------------------------------------------------------------------------


def test_a_batch_far_larger_than_the_tile_budget_runs_in_bounded_memory():
    """B = 16 systems of n = 1024: a B n² array would take 128 MiB; the peak stays a few MiB."""
    B, n, d = 16, 1024, 3
    X = np.stack([usaav.uniform_sphere(n, d, rng=s) for s in range(B)])
    naive = B * n * n * 8
    assert naive > 100 * BATCH_ENTRIES * 8

    tracemalloc.start()  # NumPy reports its array buffers to tracemalloc
    try:
        usaav.velocity(kernels.RoPE(1.0), X, np.arange(n) / n)
        usaav.energy(kernels.DistanceBias(1.0, 0.3), X, np.arange(n) / n)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()

    # The state-sized arrays (points, factors, forces: about a dozen copies of
    # X, 393 KiB each) plus the tile buffer and a few tile-sized temporaries.
    assert peak < 16 * X.nbytes + 6 * BATCH_ENTRIES * 8, (peak, naive)
    assert peak < naive / 10


# --------------------------------------------------------------------------
# The experiments: batched and one-system-per-call runs agree bitwise
# --------------------------------------------------------------------------


def assert_same_result(a, b):
    from dataclasses import fields

    for field in fields(a):
        x, y = getattr(a, field.name), getattr(b, field.name)
        if field.name == "params":
            assert x == y
        else:
            assert np.array_equal(x, y, equal_nan=np.asarray(x).dtype.kind == "f"), field.name


def test_collapse_experiment_is_the_same_batched_or_not():
    """collapse_through_layers(batch=True) == (batch=False), every array, bit for bit (MODEL.md §6.1)."""
    from usaav.experiments import collapse_through_layers

    options = dict(sizes=(8, 12), seeds=(0, 3, 5), t_max=3.0, record_dt=0.5)
    assert_same_result(collapse_through_layers(**options), collapse_through_layers(batch=False, **options))


def test_gallery_experiment_is_the_same_batched_or_not():
    """representation_gallery(batch=True) == (batch=False), with scenarios stopping at different times (§6.2)."""
    from usaav.experiments import representation_gallery

    batched = representation_gallery(n=30, t_max=40.0, stop_tol=1e-9)
    alone = representation_gallery(n=30, t_max=40.0, stop_tol=1e-9, batch=False)

    assert len(set(batched.t_final)) > 1  # the scenarios really stopped at different times
    assert_same_result(batched, alone)


def test_gallery_batches_split_the_scenarios_by_the_force_evaluation_they_share():
    """BATCHES covers every scenario once; the scenarios of a batch stack into one pair engine, the others not."""
    from usaav import scenarios
    from usaav.experiments import gallery

    assert sorted(sum(gallery.BATCHES, ())) == sorted(gallery.SCENARIOS)
    n = 40
    bound = {}
    for name in gallery.SCENARIOS:
        built = scenarios.setup(name, n, np.random.default_rng(0))
        bound[name] = built.kernel.bind(built.aux, n, 3)
    for group in gallery.BATCHES:
        assert len(kernels.Interaction.stack([bound[name] for name in group]).engines) == 1, group
    for first, second in itertools.combinations(gallery.BATCHES, 2):
        assert len(kernels.Interaction.stack([bound[first[0]], bound[second[0]]]).engines) == 2, (first, second)


def test_batched_collapse_pieces_resume_from_a_store(tmp_path):
    """One piece per (model, size) covers all seeds, is saved, and a rerun reuses it."""
    from usaav.experiments import PieceStore, collapse_through_layers

    calls = []
    options = dict(sizes=(8,), seeds=(0, 1), t_max=1.0, store=PieceStore(tmp_path))
    first = collapse_through_layers(progress=lambda name, cached, total: calls.append((name, cached)), **options)
    again = collapse_through_layers(progress=lambda name, cached, total: calls.append((name, cached)), **options)

    assert [cached for _, cached in calls] == [False] * 3 + [True] * 3
    assert all("-2seeds" in name for name, _ in calls)
    assert_same_result(first, again)


@pytest.mark.parametrize("kwargs, error, message", [
    (dict(dt=0.0), ValueError, r"dt must be > 0"),
    (dict(t_max=-1.0), ValueError, r"t_max must be > 0"),
    (dict(per_label=0), ValueError, r"per_label must be an integer >= 1"),
    (dict(sizes=(30,)), ValueError, r"sizes must be multiples of per_label = 4.*\[30\]"),
    (dict(sizes=()), ValueError, r"sizes must be non-empty"),
    (dict(seeds=[1.5]), TypeError, r"seeds entry must be an integer, got float 1.5"),
    (dict(seeds=[2, 2]), ValueError, r"seeds must be distinct"),
    (dict(seeds=[-1]), ValueError, r"seeds entry must be an integer >= 0"),
    (dict(beta=0.0), ValueError, r"beta must be > 0"),
    (dict(record_dt=0.0), ValueError, r"record_dt must be > 0"),
], ids=["dt", "t_max", "per_label", "sizes-multiple", "sizes-empty", "seeds-float", "seeds-repeated",
        "seeds-negative", "beta", "record_dt"])
def test_collapse_refuses_bad_parameters_at_entry(kwargs, error, message):
    from usaav.experiments import collapse_through_layers

    with pytest.raises(error, match=message):
        collapse_through_layers(**{"sizes": (8,), "seeds": (0,), "t_max": 1.0, **kwargs})


@pytest.mark.parametrize("kwargs, error, message", [
    (dict(dt=0.0), ValueError, r"dt must be > 0"),
    (dict(n_prompts=0), ValueError, r"n_prompts must be an integer >= 1"),
    (dict(n_prompts=2.5), TypeError, r"n_prompts must be an integer"),
    (dict(n=0), ValueError, r"n must be an integer >= 1"),
    (dict(n=3, n_prompts=5), ValueError, r"n must exceed 2 m = 4"),
    (dict(n=6, n_prompts=8), ValueError, r"n must be at least n_prompts = 8"),
    (dict(stop_tol=0.0), ValueError, r"stop_tol must be > 0"),
    (dict(seed=1.5), TypeError, r"seed must be an integer"),
    (dict(toeplitz=(0.2, 1.0)), ValueError, r"toeplitz must be \(a0, a1, m\)"),
    (dict(toeplitz=(0.2, 1.0, 0)), ValueError, r"toeplitz m must be an integer >= 1"),
], ids=["dt", "n_prompts-zero", "n_prompts-float", "n-zero", "n-small", "n-below-prompts", "stop_tol", "seed",
        "toeplitz-short", "toeplitz-m"])
def test_gallery_refuses_bad_parameters_at_entry(kwargs, error, message):
    from usaav.experiments import representation_gallery

    with pytest.raises(error, match=message):
        representation_gallery(**{"n": 20, "t_max": 1.0, **kwargs})


@pytest.mark.parametrize("n", [1, 5, 63, 64, 65, 100, 257, 1100, 2048])
def test_tile_plan_covers_every_pair_once_whatever_the_batch(n):
    """Diagonal squares and strips cover each pair i <= j exactly once (i > j only inside diagonal squares)."""
    from usaav._pairwise import tile_plan

    plan = tile_plan(n)
    upper = np.zeros((n, n), dtype=int)
    lower = np.zeros((n, n), dtype=int)
    squares = [(k * plan.block, plan.block) for k in range(plan.blocks)] + [(plan.blocks * plan.block, plan.tail)]
    for start, size in squares:
        upper[start:start + size, start:start + size] += 1
    for i0, i1, j0, j1 in plan.strips:
        assert (i1 - i0) * (j1 - j0) <= 1 << 16  # a tile never exceeds the per-system budget
        upper[i0:i1, j0:j1] += 1
        lower[j0:j1, i0:i1] += 1  # the transposed contraction serves the mirror pairs
    covered = upper + lower
    assert np.all(covered == 1)


def test_a_seed_per_system_must_match_the_batch():
    with pytest.raises(ValueError, match=r"seed must be one seed or a sequence of B = 3 seeds, got 2"):
        usaav.simulate(kernels.USA(1.0), X_BATCH, None, t_max=0.1, seed=[1, 2])
    with pytest.raises(TypeError, match=r"seed must be an integer"):
        usaav.simulate(kernels.RoPE(1.0), None, S_BATCH, t_max=0.1, seed=[1, 2.5, 3])
