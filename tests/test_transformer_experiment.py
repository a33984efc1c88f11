"""The transformer experiment (usaav.experiments.transformer, MODEL.md §7): its verdicts pass, and fail on planted wrong variants.

The quick experiment runs once (module fixture); each planted wrong variant
recomputes only the piece it changes and must make its verdicts fail.
"""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

from usaav.experiments import TransformerResult, transformer_experiment
from usaav.experiments import transformer as tr


@pytest.fixture(scope="module")
def quick() -> TransformerResult:
    return transformer_experiment(quick=True)


def _failed(result, words: str) -> list:
    return [v for v in result.verdicts() if words in v.name and not v.passed]


def test_quick_run_passes_every_verdict(quick):
    verdicts = quick.verdicts()
    assert len(verdicts) == 12
    assert all(v.passed for v in verdicts), [str(v) for v in verdicts if not v.passed]


def test_result_shapes_and_json(quick):
    V, Bb, S, D = quick.phase_gap.shape
    assert (V, Bb, S, D) == (len(tr.PHASE_VARIANTS), 6, 2, 6)
    assert quick.clustered_fraction.shape == (V, Bb, D) and quick.boundary.shape == (V, Bb)
    data = json.loads(quick.to_json())
    assert data["variants"] == list(tr.PHASE_VARIANTS) and len(data["phase_gap"]) == V
    assert len(quick.table()) == V * Bb


def test_planted_unrotated_values_fail_the_softmax_anti_collapse(quick):
    """With values not rotated, the gauge-frame argument does not apply: the gauge-frame gap stays O(1)."""
    planted = [tr.anti_collapse_piece(m, 32, (0, 1), "unrotated", 0.05, 30.0) for m in tr.ANTI_COLLAPSE_MODELS]
    result = replace(quick, gauge_gap=np.array([p["gauge_gap"] for p in planted]),
                     collapse_gap=np.array([p["collapse_gap"] for p in planted]),
                     predicted_gap=np.array([p["predicted_gap"] for p in planted]))
    for name in ("RoPE", "phase field", "prompts"):
        assert _failed(result, f"SA, {name}: largest gauge-frame gap")


def test_planted_wrong_flow_fails_the_first_order(quick):
    """Layers against the flow of another β: the error tends to a constant, fitted order ≈ 0."""
    planted = tr.order_piece((3, 4, 5, 6), 1.2)
    result = replace(quick, order_steps=planted["steps"], order_errors=planted["errors"])
    assert _failed(result, "fitted order")


def test_planted_plain_softmax_fails_the_never_clustered_prediction(quick):
    """SA without positions in place of SA + RoPE clusters, so the prediction for 'sa' fails."""
    planted = tr.phase_piece("sa", "sa_plain", tuple(quick.betas), tuple(quick.phase_seeds), 16, 6)["gap"]
    gap = quick.phase_gap.copy()
    gap[list(quick.variants).index("sa")] = planted
    assert _failed(replace(quick, phase_gap=gap), "phase diagram, sa:")


def test_planted_rope_fails_the_plain_softmax_prediction(quick):
    """SA + RoPE in place of SA without positions never clusters, so the prediction for 'sa_plain' fails."""
    planted = tr.phase_piece("sa_plain", "sa", tuple(quick.betas), tuple(quick.phase_seeds), 16, 6)["gap"]
    gap = quick.phase_gap.copy()
    gap[list(quick.variants).index("sa_plain")] = planted
    assert _failed(replace(quick, phase_gap=gap), "phase diagram, sa_plain")


def test_boundary_is_the_first_depth_with_half_the_seeds_clustered(quick):
    """Against a hand-made array: seeds clustered from depth index 2 (one of two) and 3 (both)."""
    gap = np.ones((1, 2, 2, 4))
    gap[0, 0, 0, 2:] = 0.0   # β₀: seed 0 clustered from depth index 2 → half the seeds
    gap[0, 0, 1, 3:] = 0.0
    result = replace(quick, variants=np.array(["sa"]), phase_gap=gap, depths=np.array([1.0, 2.0, 3.0, 4.0]),
                     betas=np.array([1.0, 2.0]))
    np.testing.assert_array_equal(result.clustered_fraction[0, 0], [0.0, 0.0, 0.5, 1.0])
    np.testing.assert_array_equal(result.boundary[0], [3.0, np.inf])


def test_batched_phase_piece_is_the_loop_of_separate_runs():
    """One batch of every β and seed gives the numbers of separate runs (to rounding: BLAS sums in other orders)."""
    betas, seeds = (0.5, 4.0), (0, 1)
    together = tr.phase_piece("sa_qkv", "sa_qkv", betas, seeds, 8, 3)["gap"]
    apart = tr.phase_piece("sa_qkv", "sa_qkv", betas, seeds, 8, 3, batch=False)["gap"]
    # gaps of order 1 to 1e-6: rounding of ~240 layers ~ 1e-13 relative (measured ≤ 1e-14)
    np.testing.assert_allclose(together, apart, rtol=1e-10, atol=1e-14)


def test_bad_arguments_are_refused_by_name():
    with pytest.raises(ValueError, match="values must be one of"):
        transformer_experiment(quick=True, values="turned")
    with pytest.raises(ValueError, match="substitute key must be one of"):
        transformer_experiment(quick=True, substitute={"gpt": "sa"})
    with pytest.raises(ValueError, match="flow_beta must be"):
        transformer_experiment(quick=True, flow_beta=-1.0)
    with pytest.raises(ValueError, match="variant must be one of"):
        tr.phase_block("bert", [1.0])


@pytest.mark.slow
def test_usaav_reproduce_transformer_quick(tmp_path, capsys):
    """The command runs the experiment, records its verdicts and exits 0 when they pass."""
    from usaav import cli

    status = cli.main(["reproduce", "transformer", "--quick", "--no-figures", "--workers", "0",
                       "--out", str(tmp_path)])
    assert status == 0
    summary = json.loads((tmp_path / "verdicts.json").read_text(encoding="utf-8"))
    assert "transformer" in json.dumps(summary)
    assert "12 passed, 0 failed" in capsys.readouterr().out


def test_pieces_computed_in_parts_are_all_the_experiment_needs(tmp_path):
    """transformer_pieces lists exactly the experiment's pieces: computed in two parts, the experiment recomputes none."""
    from usaav.experiments import PieceStore, run_pieces

    store = PieceStore(tmp_path)
    pieces = tr.transformer_pieces(quick=True)
    run_pieces(pieces[:5], None, store)
    run_pieces(pieces[5:], None, store)
    computed = []
    transformer_experiment(quick=True, store=store, progress=lambda name, cached, total: computed.append(not cached))
    assert len(computed) == len(pieces) and not any(computed)
