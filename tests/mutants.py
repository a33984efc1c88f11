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
             '"beta": ("number", 0.25, 4.0, False, 0.25),\n        "n": ("number", 16, 256,',
             '"beta": ("number", 0.25, 5.0, False, 0.25),\n        "n": ("number", 16, 256,',
             ("tests/test_explorers.py",)),
    # Chapter 8's self-checks: the truth they compare with.
    Mutation("exercise check: softmax direction graded against USA", "usaav/exercises_transformer.py",
             'normalisation="softmax", **options)', 'normalisation="n", **options)',
             ("tests/test_exercises_transformer.py",)),
    Mutation("exercise check: LayerNorm graded without centring", "usaav/exercises_transformer.py",
             'f"Y of shape ({m}, {d})", layer_norm(Y)))', 'f"Y of shape ({m}, {d})", normalize(Y)))',
             ("tests/test_exercises_transformer.py",)),
]


def copy_tree(target: Path) -> None:
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache", ".hypothesis")
    for name in ("usaav", "tests"):
        shutil.copytree(ROOT / name, target / name, ignore=ignore)
    shutil.copy2(ROOT / "pyproject.toml", target / "pyproject.toml")


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
                [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", "-rf", "--no-header",
                 "-o", "addopts=", *mutation.tests],
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
