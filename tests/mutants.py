"""Mutation pass over the formulas of MODEL.md §3–§5: does some test fail when a formula is broken?

A development script, not a test module (pytest collects ``test_*.py`` only):

    python tests/mutants.py            # every mutation
    python tests/mutants.py --list     # names only
    python tests/mutants.py heun rope  # mutations whose name contains a word

Each mutation replaces one exact piece of source text (it must occur exactly
once, else the mutation is reported as "stale": the code moved and the
mutation must be updated) in a temporary copy of ``usaav/`` and ``tests/``,
then runs the tests named for it with ``pytest -x`` from that copy (its
``usaav`` comes first on ``sys.path``; checked on every run).  A mutation is
*caught* when a test fails and *survived* when all pass; the first failing
test is printed.  Exit status 1 if any mutation survived or is stale.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

#: Each mutant runs with its data segment capped (a broken memory guard then
#: fails with a MemoryError instead of filling the machine) and a time limit.
MEMORY_LIMIT = 3 << 30
TIME_LIMIT = 900


@dataclass(frozen=True)
class Mutation:
    name: str
    path: str
    old: str
    new: str
    tests: tuple[str, ...]


GEOMETRY = "tests/test_geometry.py"
FORCES = "tests/test_forces.py"
THEOREMS = "tests/test_theorems.py"
DYNAMICS = "tests/test_dynamics.py"
ERRORS = "tests/test_errors.py"
MEMORY = "tests/test_memory.py"
REDUCED = "tests/test_reduced.py"
EXPERIMENTS = "tests/test_experiments.py"
TWISTED = "tests/test_twisted.py"
RELIABILITY = "tests/test_reliability.py"
EXERCISES = "tests/test_exercises.py"
EDITIONS = "tests/test_editions.py"
ATTENTION = "tests/test_attention.py"

MUTATIONS = [
    # MODEL.md §1: R_φ e_i = cos φ e_i + sin φ e_j -- the matrix and the O(n) shortcut.
    Mutation("rotation matrix R_phi -> R_-phi", "usaav/sphere.py",
             "    R[..., j, i] = sin\n    R[..., i, j] = -sin\n", "    R[..., j, i] = -sin\n    R[..., i, j] = sin\n",
             (GEOMETRY,)),
    Mutation("rotate_in_plane R_phi -> R_-phi", "usaav/sphere.py",
             "out[..., i] = cos * X[..., i] - sin * X[..., j]\n    out[..., j] = sin * X[..., i] + cos * X[..., j]",
             "out[..., i] = cos * X[..., i] + sin * X[..., j]\n    out[..., j] = -sin * X[..., i] + cos * X[..., j]",
             (FORCES, THEOREMS)),
    Mutation("RoPE/phase gauge frame: back-rotation by +phi", "usaav/_interaction.py",
             "return rotate_in_plane(U, -self.angles, self.plane)", "return rotate_in_plane(U, self.angles, self.plane)",
             (FORCES,)),
    # MODEL.md §3, gauge: ∇_x K = e^{...} G(a)^T G(b) y; the frame u = G(a) x.
    Mutation("gauge frame G -> G^T", "usaav/_interaction.py",
             "        U = G[..., :, 0] * X[..., 0, None]\n        for b in range(1, X.shape[-1]):\n"
             "            U += G[..., :, b] * X[..., b, None]\n",
             "        U = G[..., 0, :] * X[..., 0, None]\n        for b in range(1, X.shape[-1]):\n"
             "            U += G[..., b, :] * X[..., b, None]\n",
             (FORCES,)),
    # MODEL.md §1: periodic distance min(r, 1 - r).
    Mutation("periodic distance min(r, 1-r) -> r", "usaav/kernels.py",
             "    return np.minimum(r, 1.0 - r)\n", "    return r\n", (GEOMETRY, FORCES)),
    # MODEL.md §1: P_x = I - x x^T.
    Mutation("projection P_x dropped", "usaav/sphere.py",
             "    radial = _row_dot(X, V)\n", "    radial = 0.0 * _row_dot(X, V)\n", (FORCES,)),
    Mutation("projection P_x halved", "usaav/sphere.py",
             "    radial = _row_dot(X, V)\n", "    radial = 0.5 * _row_dot(X, V)\n", (FORCES,)),
    # MODEL.md §2: 1/n in the force, 1/(2n²) in the energy.
    Mutation("force 1/n -> 1/(n-1)", "usaav/_pairwise.py",
             "force = acc[..., :d] / n if ones else np.divide(acc, n, out=acc)",
             "force = acc[..., :d] / max(n - 1, 1) if ones else np.divide(acc, max(n - 1, 1), out=acc)",
             (FORCES,)),
    Mutation("energy 1/(2n^2) -> 1/(2n(n-1))", "usaav/dynamics.py",
             "(interaction.pair_sum(batch) / (2.0 * interaction.n**2))",
             "(interaction.pair_sum(batch) / (2.0 * interaction.n * max(interaction.n - 1, 1)))", (FORCES,)),
    # MODEL.md §3, large β: e^{β<x,y>} = e^β e^{β(<x,y>-1)}.
    Mutation("e^-beta shift in the tiles", "usaav/_pairwise.py",
             "    right_t[:, d] = -beta[:, None]\n", "    right_t[:, d] = -0.5 * beta[:, None]\n",
             (FORCES,)),
    Mutation("e^beta raw clock factor", "usaav/dynamics.py",
             "    return np.exp(interaction.log_scale)\n", "    return np.exp(0.5 * interaction.log_scale)\n",
             (FORCES,)),
    # MODEL.md §3, Toeplitz: ĉ(0) = c_0, ĉ(±k) = c_k / 2.
    Mutation("Toeplitz c-hat(k) = c_k/2 -> c_k", "usaav/kernels.py",
             "return {k: (c if k == 0 else c / 2) for k, c in self.coefficients.items()}",
             "return {k: c for k, c in self.coefficients.items()}", (THEOREMS,)),
    # MODEL.md §4, Prop. 10 row: the finite-n bound, not the mean-field one.
    Mutation("Toeplitz gap against 1/2 max c-hat", "usaav/kernels.py",
             "            np.array([n * self._top_eigenvalue(s)]),\n", "            np.array([2.0 * n**2 * self.energy_bound()]),\n",
             (THEOREMS,)),
    Mutation("Toeplitz bound without the eigenvalue 0", "usaav/kernels.py",
             "            top = max(top, 0.0)\n", "            pass\n", (THEOREMS,)),
    # MODEL.md §4, Prop. 11: the maximum energy of a nonnegative weight.
    Mutation("pair_sum_max of weighted kernels: weight ignored", "usaav/_interaction.py",
             "        totals = self.pair_sums(constant)\n", "        totals = np.full(B, float(n) ** 2)\n", (THEOREMS,)),
    # MODEL.md §4, Thm. 2 (ii): Q(s) = α_(⌊sm⌋+1) from the sorted samples.
    Mutation("quantile floor -> ceil", "usaav/maximizers.py",
             "index = np.floor(_quantile_levels(s) * atoms.size)", "index = np.ceil(_quantile_levels(s) * atoms.size)",
             (THEOREMS,)),
    Mutation("quantile of samples sorted descending", "usaav/maximizers.py",
             'atoms = np.sort(as_float_array(angles_target, "angles_target").ravel())',
             'atoms = np.sort(as_float_array(angles_target, "angles_target").ravel())[::-1]', (THEOREMS,)),
    # MODEL.md §4, Thm. 4 (ii): Householder reflection, identity below |v - T| = sqrt(eps).
    Mutation("Householder threshold raised", "usaav/maximizers.py",
             "reflect = norms > np.finfo(np.float64).eps", "reflect = norms > 1e-3", (THEOREMS,)),
    Mutation("Householder threshold dropped", "usaav/maximizers.py",
             "reflect = norms > np.finfo(np.float64).eps", "reflect = norms > 0.0", (THEOREMS,)),
    # MODEL.md §5: projected Heun, not another second-order step.
    Mutation("Heun -> explicit midpoint", "usaav/integrate.py",
             "    k2 = field(normalize(X + dt * k1))\n    return normalize(X + 0.5 * dt * (k1 + k2))\n",
             "    k2 = field(normalize(X + 0.5 * dt * k1))\n    return normalize(X + dt * k2)\n", (FORCES,)),
    Mutation("Heun -> Ralston", "usaav/integrate.py",
             "    k2 = field(normalize(X + dt * k1))\n    return normalize(X + 0.5 * dt * (k1 + k2))\n",
             "    k2 = field(normalize(X + 2.0 / 3.0 * dt * k1))\n    return normalize(X + dt * (0.25 * k1 + 0.75 * k2))\n",
             (FORCES,)),
    Mutation("Heun without renormalisation", "usaav/integrate.py",
             "    return normalize(X + 0.5 * dt * (k1 + k2))\n", "    return X + 0.5 * dt * (k1 + k2)\n", (DYNAMICS,)),
    # The checks themselves.
    Mutation("weight symmetry tolerance loosened to allclose's", "usaav/kernels.py",
             "SYMMETRY_RTOL = 1e-12\n", "SYMMETRY_RTOL = 1e-5\n", (ERRORS,)),
    Mutation("weight symmetry checked on diagonal tiles only", "usaav/kernels.py",
             "        for j0 in range(i0, n, side):\n            cols = aux[j0:j0 + side]",
             "        for j0 in range(i0, min(n, i0 + 1), side):\n            cols = aux[j0:j0 + side]", (ERRORS,)),
    Mutation("count_clusters skips tiles within the threshold", "usaav/observables.py",
             "if first_coordinate[j0] - first_coordinate[i1 - 1] > threshold + 1e-12:",
             "if first_coordinate[j0] - first_coordinate[i1 - 1] > 0.5 * threshold:", (GEOMETRY,)),
    Mutation("count_clusters keeps only the first guess of a dense tile", "usaav/observables.py",
             "    if missed.any():\n", "    if False:\n", (GEOMETRY,)),
    Mutation("conditional_diameter not centred", "usaav/observables.py", "        Y = Y - Y[0]\n", "", (GEOMETRY,)),
    Mutation("only the first frame checked", "usaav/_validation.py",
             "    norms = _row_norms(frames)\n", "    norms = _row_norms(frames[:1])\n", (ERRORS,)),
    Mutation("count_clusters ties excluded", "usaav/observables.py",
             "near[bi, bj] = _pdist_pairs(X, bi + i0, bj + j0) <= threshold",
             "near[bi, bj] = _pdist_pairs(X, bi + i0, bj + j0) < threshold", (GEOMETRY,)),
    Mutation("raw-clock Heun warning threshold 1e3", "usaav/dynamics.py", "RAW_STEP_LIMIT = 2.0\n", "RAW_STEP_LIMIT = 1e3\n",
             (ERRORS,)),
    Mutation("memory guard off", "usaav/dynamics.py", "    if needed > max_bytes:\n", "    if False:\n", (ERRORS,)),
    Mutation("sphere_target array budget off", "usaav/targets.py",
             "    check_array_bytes(3.0 * n, f\"sphere_target(", "    (3.0 * n, f\"sphere_target(", ("tests/test_targets.py",)),
    Mutation("observables imports dynamics' private checks again", "usaav/observables.py",
             "from .kernels import check_finite_result, check_kernel\n",
             "from .dynamics import _check_finite_result as check_finite_result, _check_kernel as check_kernel\n",
             ("tests/test_layout.py",)),
    Mutation("gallery writes its own Toeplitz default", "usaav/experiments/gallery.py",
             '    toeplitz: tuple = DEFAULTS["toeplitz"],\n    wavy', "    toeplitz: tuple = (0.2, 1.0, 3),\n    wavy",
             ("tests/test_scenarios.py",)),
    Mutation("from_gauge_frame applies G instead of its transpose", "usaav/kernels.py",
             "        X = self._frame(aux, *frames.shape[1:]).from_gauge(frames[:, None])[:, 0]\n",
             "        X = self._frame(aux, *frames.shape[1:]).to_gauge(frames[:, None])[:, 0]\n", (GEOMETRY,)),
    # MODEL.md §6, App. C: the first merger time is interpolated linearly inside the step (issue 18).
    Mutation("merger time not interpolated inside the step", "usaav/experiments/metastability.py",
             "merger_times[k - groups_now] = dt * (step - 1 + fraction)", "merger_times[k - groups_now] = dt * step",
             (REDUCED,)),
    Mutation("reduced first merger not interpolated inside the step", "usaav/reduced.py",
             "return dt * (step - 1 + (previous - merge_angle) / (previous - current))", "return dt * step",
             (REDUCED,)),
    # Thm. 5 (1), (3) and the App. C set-up (usaav.reduced, experiments/metastability.py).
    Mutation("cap heights cos(uniform(0, r)), not uniform in the cap", "usaav/experiments/metastability.py",
             "height = rng.uniform(np.cos(radius), 1.0, m)", "height = np.cos(rng.uniform(0.0, radius, m))",
             (EXPERIMENTS + "::test_cap_sample_is_uniform_in_the_cap",)),
    Mutation("linear contraction rate: sign of the -cos term", "usaav/reduced.py",
             "(-cos * P + beta * np.outer(tangent, tangent))", "(cos * P + beta * np.outer(tangent, tangent))",
             (EXPERIMENTS + "::test_linear_contraction_rate_matches_a_finite_difference_jacobian",)),
    Mutation("reduced merger time times the coupling", "usaav/reduced.py",
             "return math.exp(_log_reduced_integral(beta, angle, merge_angle)) / coupling",
             "return math.exp(_log_reduced_integral(beta, angle, merge_angle)) * coupling",
             (EXPERIMENTS + "::test_reduced_merger_time_with_weights_matches_the_angle_ode",)),
    Mutation("reduced merger integrand 1/sin -> 1/angle", "usaav/reduced.py",
             "/ math.sin(a), merge_angle, angle,", "/ a, merge_angle, angle,",
             (EXPERIMENTS + "::test_reduced_merger_time_matches_the_angle_ode",)),
    Mutation("reduced velocity not projected", "usaav/reduced.py",
             "return project_tangent(M, (W * np.exp(beta * (M @ M.T - 1.0))) @ M)",
             "return (W * np.exp(beta * (M @ M.T - 1.0))) @ M", (REDUCED,)),
    Mutation("Laplace merger time: sign of the first correction", "usaav/reduced.py",
             "1.0 + 2.0 * math.cos(angle) / (beta * sin2))", "1.0 - 2.0 * math.cos(angle) / (beta * sin2))", (REDUCED,)),
    Mutation("Laplace merger time without 1/beta", "usaav/reduced.py",
             "/ (coupling * beta * sin2) * (", "/ (coupling * sin2) * (",
             (EXPERIMENTS + "::test_metastability_verdicts_pass_on_the_small_right_set_up",)),
    Mutation("contraction rates linearised at the initial centres, not along the path", "usaav/experiments/metastability.py",
             "spread, rate, shift = modes[:, a, j, 0], modes[:, a, j, 1], modes[:, a, j, 2]",
             "spread, rate, shift = modes[:, a, j, 0], np.full(len(t), modes[0, a, j, 1]), modes[:, a, j, 2]",
             (EXPERIMENTS + "::test_metastability_verdicts_pass_on_the_small_right_set_up",)),
    Mutation("coarse weights without the mass fraction 1/k", "usaav/experiments/metastability.py",
             "return np.exp(kernels.DistanceBias(1.0, length).log_weight(p, p)) / k",
             "return np.exp(kernels.DistanceBias(1.0, length).log_weight(p, p))",
             (EXPERIMENTS + "::test_coarse_weights_are_mass_fraction_times_mean_weight_between_clusters",)),
    Mutation("merger crossing fraction measured from the wrong end", "usaav/experiments/metastability.py",
             "crossing = (angles - merge_angle) / np.where(", "crossing = (merge_angle - new_angles) / np.where(",
             (REDUCED,)),
    Mutation("cluster centre = its first particle", "usaav/experiments/metastability.py",
             "return normalize(X.reshape(k, -1, X.shape[-1]).mean(axis=1))",
             "return normalize(X.reshape(k, -1, X.shape[-1])[:, 0])",
             (EXPERIMENTS + "::test_metastability_verdicts_pass_on_the_small_right_set_up",)),
    # Prop. 4's reference: the zonal mean-field flow (usaav.zonal) and the exact W2 (usaav.transport).
    Mutation("zonal height velocity: sign of the I1 term", "usaav/zonal.py",
             "ive(0, a) * zr * s**2 - ive(1, a) * s * s_ring * zz", "ive(0, a) * zr * s**2 + ive(1, a) * s * s_ring * zz",
             (EXPERIMENTS + "::test_zonal_height_velocity_is_the_particle_velocity_on_rings",)),
    Mutation("zonal rescaled clock without e^-beta", "usaav/zonal.py",
             'shift = beta if clock == "rescaled" else 0.0', "shift = 0.0",
             (EXPERIMENTS + "::test_zonal_height_velocity_is_the_particle_velocity_on_rings",)),
    Mutation("vMF height quantile with e^kappa - 1", "usaav/zonal.py",
             "np.log1p(u * np.expm1(2.0 * kappa)) / kappa", "np.log1p(u * np.expm1(kappa)) / kappa",
             (EXPERIMENTS + "::test_vmf_height_quantile_inverts_its_distribution_function",)),
    Mutation("zonal Gauss masses not halved", "usaav/zonal.py",
             "levels, masses = (nodes + 1.0) / 2.0, weights / 2.0", "levels, masses = (nodes + 1.0) / 2.0, weights",
             (EXPERIMENTS + "::test_zonal_flow_matches_a_particle_system_started_on_rings",)),
    Mutation("vMF azimuth over half a turn", "usaav/zonal.py",
             "phi = rng.uniform(0.0, 2.0 * np.pi, n)", "phi = rng.uniform(0.0, np.pi, n)",
             (EXPERIMENTS + "::test_vmf_sample_has_the_known_mean_height",)),
    Mutation("joint W2: position distance not squared", "usaav/transport.py",
             "cost = cost + (kappa * gap) ** 2", "cost = cost + kappa * gap", ("tests/test_transport.py",)),
    Mutation("mean-field reference law taken at t = 0", "usaav/experiments/mean_field.py",
             "*reference_law(kernel, reference_size, t=t, **grid)) for X, t in zip(frames, times)]",
             "*reference_law(kernel, reference_size, t=0.0, **grid)) for X, t in zip(frames, times)]",
             (EXPERIMENTS + "::test_mean_field_verdicts_pass_on_the_small_right_set_up",)),
    # MODEL.md §3, Prop. 10: the Toeplitz phase 2π{ks}, reduced exactly, shared by the bound and the energy.
    Mutation("Toeplitz bound phase formed as 2 pi k s", "usaav/kernels.py",
             "phase = 2 * np.pi * mode_turns(s, k)  # the same phases as bind's", "phase = 2 * np.pi * k * s  #",
             (THEOREMS + "::test_prop10_relative_gap_of_the_issue_case_is_not_negative",)),
    Mutation("Toeplitz turns: fractional part of the low product taken", "usaav/kernels.py",
             "turns = (product_high - np.floor(product_high)) + product_low\n",
             "turns = (product_high - np.floor(product_high)) + (product_low - np.floor(product_low))\n",
             (THEOREMS + "::test_mode_turns_is_the_fraction_of_k_times_s_to_one_rounding",)),
    Mutation("mean-field particles run 15 % too long", "usaav/experiments/mean_field.py",
             "steps = [int(round(t / dt)) for t in times]", "steps = [int(round(1.15 * t / dt)) for t in times]",
             (EXPERIMENTS + "::test_mean_field_verdicts_pass_on_the_small_right_set_up",)),
    # Twisted states (usaav.twisted).
    Mutation("twisted h': sign of the beta sin^2 term", "usaav/twisted.py",
             "(np.cos(phi) - beta * np.sin(phi) ** 2)", "(np.cos(phi) + beta * np.sin(phi) ** 2)",
             (TWISTED + "::test_circle_eigenvalues_match_a_finite_difference_jacobian",)),
    Mutation("twisted normal eigenvalues: -1 for -cos(2 pi q m/n)", "usaav/twisted.py",
             "- np.cos(phi)[None, :]) @ weight", "- 1.0) @ weight",
             (TWISTED + "::test_sphere_normal_eigenvalues_match_a_finite_difference_jacobian",)),
    Mutation("circle winding steps not wrapped", "usaav/twisted.py",
             "steps = (steps + np.pi) % (2 * np.pi) - np.pi", "steps = steps",
             (TWISTED + "::test_circle_winding_counts_the_twist_and_ignores_the_row_order_given_positions",)),
    Mutation("twisted state turns half as fast", "usaav/twisted.py",
             "angles = 2 * np.pi * q * grid_positions(n) + float(phase)", "angles = np.pi * q * grid_positions(n) + float(phase)",
             (TWISTED + "::test_circle_winding_counts_the_twist_and_ignores_the_row_order_given_positions",)),
    # Issue 16: reliability.  Each mutation undoes one fix; tests/test_reliability.py names the fact.
    Mutation("library digest read from the disk, not the loaded code", "usaav/experiments/_provenance.py",
             "        files = dict(_source.LOADED)\n",
             "        files = _source.source_hashes(_source.PACKAGE_DIRECTORY)\n",
             (RELIABILITY + "::test_a_worker_that_imported_older_code_is_refused_by_name",)),
    Mutation("a stale store saves without comparing with the disk", "usaav/experiments/_pieces.py",
             "        check_library_unchanged()\n        record = {", "        record = {",
             (RELIABILITY + "::test_a_session_whose_files_changed_after_import_stores_nothing_and_names_the_file",)),
    Mutation("output files 0600 whatever the umask", "usaav/experiments/_pieces.py",
             "os.fchmod(handle, 0o666 & ~_umask())", "os.fchmod(handle, 0o600)",
             (RELIABILITY + "::test_every_file_reproduce_writes_is_readable_by_others_under_umask_022",)),
    Mutation("barycentric nodes shuffled by an unseeded generator", "usaav/zonal.py",
             "BarycentricInterpolator(nodes, values, **_BARYCENTRIC_SEED)", "BarycentricInterpolator(nodes, values)",
             (RELIABILITY + "::test_every_experiment_gives_the_same_bits_in_two_runs_with_any_workers_and_after_a_kill",)),
    Mutation("verdicts: 'passed' may be a string", "usaav/experiments/_results.py",
             '    "passed": (bool,),\n', '    "passed": (bool, str),\n',
             (RELIABILITY + "::test_merge_verdicts_refuses_a_passed_field_that_is_a_string",)),
    Mutation("a crash exits 1 like a failed prediction", "usaav/cli.py",
             "EXIT_CRASH, EXIT_INTERRUPTED, EXIT_TERMINATED = 1, 2, 3, 130, 143",
             "EXIT_CRASH, EXIT_INTERRUPTED, EXIT_TERMINATED = 1, 2, 1, 130, 143",
             (RELIABILITY + "::test_a_crash_has_its_own_exit_status_and_keeps_the_pieces",)),
    Mutation("a write error names the temporary file", "usaav/experiments/_pieces.py",
             "            raise OSError(error.errno, error.strerror, str(path)) from error\n", "            raise\n",
             (RELIABILITY + "::test_a_full_disk_is_one_line_naming_the_file",)),
    Mutation("no Dask handshake probe", "usaav/cli.py", "            _check_dask_handshake(address, deadline)\n", "",
             (RELIABILITY + "::test_a_web_server_given_as_dask_scheduler_is_one_line_within_the_deadline",)),
    Mutation("Prompts pickled by state (gauges writeable)", "usaav/kernels.py",
             "        return (type(self), (self.beta, np.array(self.gauges)))\n",
             "        return object.__reduce__(self)\n",
             (RELIABILITY + "::test_prompt_gauges_stay_read_only_and_equal_after_a_copy",)),
    Mutation("Toeplitz coefficients a plain dict", "usaav/kernels.py",
             "MappingProxyType(dict(sorted(clean.items())))", "dict(sorted(clean.items()))",
             (RELIABILITY + "::test_toeplitz_coefficients_stay_immutable_and_equal_after_a_copy",)),
    Mutation("spec tables looked up by label without the check", "usaav/specs.py",
             "    for rows in (table, table.T) if square else (table,):", "    for rows in ():",
             (RELIABILITY + "::test_a_table_that_is_not_a_function_of_the_labels_is_refused",)),
    Mutation("Toeplitz keys read by int()", "usaav/specs.py",
             '_CANONICAL_KEY = re.compile(r"0|[1-9][0-9]*")', '_CANONICAL_KEY = re.compile(r"\\s*[+]?[0-9_]+\\s*")',
             (RELIABILITY + "::test_a_toeplitz_key_not_in_canonical_decimal_is_refused",)),
    Mutation("prompt ids cast before their range is checked", "usaav/specs.py",
             "    outside = (aux < 0) | (aux >= len(gauges))\n", "    outside = np.zeros(len(aux), dtype=bool)\n",
             (RELIABILITY + "::test_a_hostile_spec_is_refused_naming_the_field",)),
    Mutation("symmetry scan: exact equality skips nothing", "usaav/kernels.py",
             "            if np.array_equal(upper, lower.T):\n", "            if True:\n", (ERRORS,)),
    Mutation("pool workers start with SIGINT", "usaav/cli.py",
             "signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})", "signal.pthread_sigmask(signal.SIG_BLOCK, set())",
             (RELIABILITY + "::test_ctrl_c_prints_the_resume_hint_and_no_worker_traceback",)),
    # The self-checks that grade (issue 17 item 2): each part of the guard, and the new diagnoses.
    Mutation("self-check guard blind to stack and heap inspection", "usaav/exercises/guard.py",
             "    if event in _INSPECTING or", "    if False and event in _INSPECTING or", (EXERCISES,)),
    Mutation("self-check guard allows every library call", "usaav/exercises/guard.py",
             "known = (not self.policy.allowed(code)) if", "known = False if", (EXERCISES,)),
    Mutation("self-check guard does not follow threads", "usaav/exercises/guard.py",
             "        threading.setprofile(self._thread_hook)\n", "", (EXERCISES,)),
    Mutation("merger-time check accepts a closed form", "usaav/exercises/metastability.py",
             "if time < SIMULATED_FRACTION * out]", "if time < 0.0 * out]", (EXERCISES,)),
    Mutation("self-check accepts complex output", "usaav/exercises/checking.py",
             "    if np.iscomplexobj(value):\n", "    if False:\n", (EXERCISES,)),
    Mutation("self-check calls a zero answer a multiple", "usaav/exercises/checking.py",
             "    if all(c == 0.0 and not np.any(found[i]) for c, i in known):\n", "    if False:\n", (EXERCISES,)),
    Mutation("two-token rate read with the wrong sign", "usaav/exercises/collapse.py",
             "return -float(V[0] @ X[1] + X[0] @ V[1]) / math.sin(phi)",
             "return float(V[0] @ X[1] + X[0] @ V[1]) / math.sin(phi)", (EXERCISES,)),
    Mutation("circulant spectrum off the grid", "usaav/exercises/toeplitz.py",
             "_spectrum(c, np.arange(n) / n)", "_spectrum(c, np.arange(n) / (n + 1))", (EXERCISES,)),
    Mutation("autograder keeps a notebook's patches of the library", "usaav/exercises/grading.py",
             "        module.__dict__.clear()\n        module.__dict__.update(state)\n", "",
             ("tests/test_grading.py",)),
    Mutation("contraction rates: one-sided difference", "usaav/exercises/metastability.py",
             "rates.append(-float(direction @ (ahead - behind)) / (2 * h))",
             "rates.append(-float(direction @ (ahead - behind)) / h)", (EXERCISES,)),
    # The notebook editions (book/_ext/usaav_editions.py): the book's numbers, solutions kept from students.
    Mutation("editions: one count for every kind of statement", "book/_ext/usaav_editions.py",
             "counts[kind] = counts.get(kind, 0) + 1\n            return _number(chapter, counts[kind])",
             "counts[\"all\"] = counts.get(\"all\", 0) + 1\n            return _number(chapter, counts[\"all\"])",
             (EDITIONS,)),
    Mutation("editions: a solution's text after its code is not in the solution", "book/_ext/usaav_editions.py",
             "_split_solutions(text, solution)", "_split_solutions(text)", (EDITIONS,)),
    Mutation("Colab cell without the experiments extra (no POT)", "book/_ext/usaav_book.py",
             'COLAB_EXTRAS = "plot,experiments"', 'COLAB_EXTRAS = "plot"', (EDITIONS,)),
    # MODEL.md §7, the attention block (usaav.attention).
    Mutation("attention: causal mask drops the diagonal", "usaav/attention.py",
             "scores[:, np.arange(n)[None, :] > i] = -np.inf", "scores[:, np.arange(n)[None, :] >= i] = -np.inf",
             (ATTENTION,)),
    Mutation("attention: rotated values not turned back by G_i^T", "usaav/attention.py",
             "out = _apply(G, out, transpose=True)", "out = _apply(G, out, transpose=False)", (ATTENTION,)),
    Mutation("attention: Z = n e^beta and Z = n swapped", "usaav/attention.py",
             'part if block.normalisation == "rescaled" else part * np.exp(beta)',
             'part * np.exp(beta) if block.normalisation == "rescaled" else part', (ATTENTION,)),
    Mutation("attention: paper's block without the e^beta factor", "usaav/attention.py",
             "return interaction.drift(Xb) * scale", "return interaction.drift(Xb)", (ATTENTION,)),
    Mutation("attention: LLM RoPE turns by -theta_k s", "usaav/attention.py",
             "G[:, even + 1, even] = w\n        G[:, even, even + 1] = -w",
             "G[:, even + 1, even] = -w\n        G[:, even, even + 1] = w", (ATTENTION,)),
    Mutation("attention: LayerNorm layers without centring", "usaav/attention.py",
             "lambda Y: normalize(_hyperplane_projection(Y))", "lambda Y: normalize(Y)", (ATTENTION,)),
    Mutation("attention: softmax shift beta even with Q, K given", "usaav/attention.py",
             "    row_max = block.normalisation == \"softmax\" and not (",
             "    row_max = False and not (", (ATTENTION,)),
    Mutation("attention: flow's last step not shortened", "usaav/attention.py",
             "dt = h if step < steps else depth - (steps - 1) * h", "dt = h", (ATTENTION,)),
    # The explorers: the browser's last step and the one table of option ranges.
    Mutation("explorer run overshoots its end (last step not shortened)", "usaav/web/explorer.js",
             "    if (run.t + run.dt <= end + slack) {\n", "    if (true) {\n",
             ("tests/test_explorers.py",)),
    Mutation("explorer option range changed without its docstring", "usaav/explorers/options.py",
             '"distance bias")),\n        "beta": ("number", 0.25, 4.0, False, 0.25),',
             '"distance bias")),\n        "beta": ("number", 0.25, 5.0, False, 0.25),',
             ("tests/test_explorers.py",)),
    Mutation("classic bundle not wrapped in a function (its names leak into the page)", "usaav/explorers/bundling.py",
             'f"(function () {{\\n\\"use strict\\";\\n{rest}\\n}})();\\n")', 'f"{rest}\\n")', ("tests/test_explorers.py",)),
    # Issue 20: bound interactions kept per kernel and labels; unit rows accepted without a copy.
    Mutation("kept interaction keyed by the labels' shape only", "usaav/dynamics.py",
             "labels = (array.dtype.str, array.shape, array.tobytes())",
             "labels = (array.dtype.str, array.shape, array.tobytes()[:0])", (FORCES,)),
    Mutation("fast unit-row check accepts rows 1e-10 off", "usaav/dynamics.py",
             "    return bool(abs(norms - 1.0).max() <= PROJECT_ABOVE)",
             "    return bool(abs(norms - 1.0).max() <= 1e-10)", (FORCES,)),
    # Chapter 8's self-checks: the truth they compare with.
    Mutation("exercise check: softmax direction graded against USA", "usaav/exercises/transformer.py",
             'normalisation="softmax", **options)', 'normalisation="n", **options)',
             ("tests/test_exercises_transformer.py",)),
    Mutation("exercise check: LayerNorm graded without centring", "usaav/exercises/transformer.py",
             'f"Y of shape ({m}, {d})", layer_norm(Y)))', 'f"Y of shape ({m}, {d})", normalize(Y)))',
             ("tests/test_exercises_transformer.py",)),
]


def copy_tree(target: Path) -> None:
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache", ".hypothesis")
    for name in ("usaav", "tests", "book", "tools"):
        shutil.copytree(ROOT / name, target / name, ignore=ignore)
    for name in ("pyproject.toml", "_toc.yml", "_config.yml"):
        shutil.copy2(ROOT / name, target / name)


def environment(target: Path) -> dict:
    env = dict(os.environ, PYTHONPATH=str(target), PYTHONDONTWRITEBYTECODE="1")
    env.pop("PYTEST_ADDOPTS", None)
    return env


def check_isolation(target: Path) -> None:
    """The copy's usaav must be the one imported (not the editable install of the repository)."""
    where = subprocess.run([sys.executable, "-c", "import usaav; print(usaav.__file__)"], cwd=target,
                           env=environment(target), capture_output=True, text=True, check=True).stdout.strip()
    if not Path(where).resolve().is_relative_to(target.resolve()):
        raise SystemExit(f"the mutated copy is not the usaav imported (got {where}); cannot run mutations")


def _cap_memory() -> None:
    import resource  # POSIX only, like preexec_fn

    resource.setrlimit(resource.RLIMIT_DATA, (MEMORY_LIMIT, MEMORY_LIMIT))


def run(mutation: Mutation) -> tuple[str, str]:
    source = (ROOT / mutation.path).read_text()
    if source.count(mutation.old) != 1:
        return "stale", f"text to mutate found {source.count(mutation.old)} times in {mutation.path}"
    with tempfile.TemporaryDirectory(prefix="usaav-mutant-") as tmp:
        target = Path(tmp)
        copy_tree(target)
        check_isolation(target)
        (target / mutation.path).write_text(source.replace(mutation.old, mutation.new))
        try:
            result = subprocess.run(
                # --full: every tier of the named tests (tests/conftest.py), the memory test included
                [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", "-rf", "--no-header",
                 "-o", "addopts=", "--full", *mutation.tests],
                cwd=target, env=environment(target), capture_output=True, text=True, timeout=TIME_LIMIT,
                preexec_fn=_cap_memory,
            )
        except subprocess.TimeoutExpired:
            return "caught", f"the selected tests did not finish in {TIME_LIMIT} s"
    failed = re.findall(r"^(?:FAILED|ERROR) (\S+)", result.stdout, flags=re.MULTILINE)
    if result.returncode == 0:
        return "survived", "all selected tests pass"
    if failed:
        return "caught", failed[0]
    return "caught", (result.stdout + result.stderr).strip().splitlines()[-1]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("words", nargs="*", help="run only mutations whose name contains one of these words")
    parser.add_argument("--list", action="store_true", help="list the mutations and exit")
    args = parser.parse_args(argv)
    chosen = [m for m in MUTATIONS if not args.words or any(w.lower() in m.name.lower() for w in args.words)]
    if args.list:
        for mutation in chosen:
            print(f"{mutation.name:50s} {mutation.path}")
        return 0
    bad = 0
    for mutation in chosen:
        start = time.perf_counter()
        verdict, detail = run(mutation)
        bad += verdict != "caught"
        print(f"{verdict:8s} {mutation.name:50s} {time.perf_counter() - start:5.1f} s  {detail}", flush=True)
    print(f"{len(chosen) - bad} of {len(chosen)} mutations caught")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
