"""Error rates of the grader: correct code never fails, buggy code always does.

The sweep (marker `sweep`) grades every solution over SOLUTION_TRIALS seeded trials per exercise
(100 by default, GRADCHECK_SWEEP_TRIALS=1000 for the full measurement), in float64 and float32,
every correct variant over a quarter of that, and every bug case under several run seeds.
Deselect it with `-m "not sweep"` for a quick run.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
import torch

from gradcheck_suite.checks.finite_differences import compare_finite_differences
from gradcheck_suite.checks.verdicts import CheckFailure, KinkCrossed
from gradcheck_suite.exercise.load import load_exercise, with_overrides
from gradcheck_suite.grading.options import RunOptions
from gradcheck_suite.grading.runner import prepare, run_check
from gradcheck_suite.instructor.sweep import Sweep, load_solution, sweep

ROOT = Path(__file__).resolve().parents[1]
EXERCISES = sorted(p.parent.name for p in (ROOT / "exercises").glob("*/exercise.yaml"))
KINK_EXERCISES = {"clamp": ROOT / "tests" / "kinks" / "clamp.yaml", "max": ROOT / "tests" / "kinks" / "max.yaml"}
# With 32 exercises, 1000 trials each in two dtypes take about 15 minutes on two cores, more than
# CI's ten for the whole suite: the default run sweeps 100, a regression guard; GRADCHECK_SWEEP_TRIALS=1000
# (or `gradcheck-suite check-tolerances --trials 1000`) is the full error-rate measurement.
SOLUTION_TRIALS = int(os.environ.get("GRADCHECK_SWEEP_TRIALS", "100"))
VARIANT_TRIALS = max(SOLUTION_TRIALS // 4, 25)
# With the exercise's own seed, graded in test_variants.py (which also checks that the labelled
# checks are the ones that fail), every bug case is graded under three run seeds.
BUG_SEEDS = (1, 2)


def _variants(exercise: str, kind: str) -> list[Path]:
    return sorted((ROOT / "tests" / "variants" / exercise).glob(f"{kind}_*.py"))


def _sweep(spec, source: Path, tmp_path: Path, count: int, seed: int) -> Sweep:
    """Every trial-based check on `count` seeded trials, as `gradcheck-suite check-tolerances` runs them."""
    shutil.copy(source, tmp_path / spec.student_file)
    return sweep(load_solution(spec, tmp_path), count, seed)


def _prepared(spec, source: Path, tmp_path: Path):
    """The exercise, ready to grade, with `source` handed in as its student file."""
    shutil.copy(source, tmp_path / spec.student_file)
    return prepare(spec, tmp_path)


def _grade(spec, source: Path, tmp_path: Path, options: RunOptions) -> dict:
    exercise = _prepared(spec, source, tmp_path)
    return {check: run_check(exercise, check, options) for check in spec.checks}


def _failures(results: dict) -> str:
    return "\n".join(f"{c}: {r.status}: {r.message}" for c, r in results.items() if r.status != "passed")


@pytest.mark.sweep
@pytest.mark.parametrize("dtype", [None, "float32"], ids=["float64", "float32"])
@pytest.mark.parametrize("name", EXERCISES + sorted(KINK_EXERCISES))
def test_solution_never_fails_over_the_sweeps_trials(name, dtype, tmp_path):
    path = KINK_EXERCISES.get(name, ROOT / "exercises" / name / "exercise.yaml")
    spec = with_overrides(load_exercise(path), dtype)
    source = path.parent / spec.student_file if name in KINK_EXERCISES else ROOT / "tests" / "solutions" / name / spec.student_file
    result = _sweep(spec, source, tmp_path, SOLUTION_TRIALS, seed=2026)
    assert not result.failures, "\n".join(result.failures[:5])
    assert result.kinks <= SOLUTION_TRIALS // 100  # a redraw is rare: domains keep samples off the kinks


@pytest.mark.sweep
@pytest.mark.parametrize("dtype", [None, "float32"], ids=["float64", "float32"])
@pytest.mark.parametrize("variant", [v for e in EXERCISES for v in _variants(e, "correct")],
                         ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_correct_variant_never_fails(variant, dtype, tmp_path):
    spec = with_overrides(load_exercise(ROOT / "exercises" / variant.parent.name / "exercise.yaml"), dtype)
    failures = _sweep(spec, variant, tmp_path, VARIANT_TRIALS, seed=7).failures
    assert not failures, "\n".join(failures[:5])


@pytest.mark.sweep
@pytest.mark.parametrize("variant", [v for e in EXERCISES for v in _variants(e, "bug")],
                         ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_bug_is_caught_under_every_seed(variant, tmp_path):
    spec = load_exercise(ROOT / "exercises" / variant.parent.name / "exercise.yaml")
    exercise = _prepared(spec, variant, tmp_path)
    for seed in BUG_SEEDS:
        # The exercise fails when one check does: the checks after the first failing one are not run.
        caught = next((check for check in spec.checks
                       if run_check(exercise, check, RunOptions(seed=seed)).status in ("failed", "error")), None)
        assert caught is not None, f"seed {seed}: the bug passed every check"


def test_a_step_across_a_kink_never_fails_a_correct_student(tmp_path):
    """relu at 1e-7: the central difference straddles the kink. The one-sided differences disagree
    there, which both flags the kink and widens that element's allowance: no verdict against the
    student (it passes, or the trial is redrawn)."""
    spec = load_exercise(ROOT / "exercises" / "relu" / "exercise.yaml")
    shutil.copy(ROOT / "tests" / "solutions" / "relu" / "relu.py", tmp_path / "relu.py")
    exercise = prepare(spec, tmp_path)
    at_kink = torch.tensor([1e-7, -2e-7, 0.5, -0.7], dtype=torch.float64)
    try:
        compare_finite_differences(exercise, [at_kink], seed=0)
    except KinkCrossed:
        pass


def test_kink_is_flagged_only_where_the_step_crosses_it():
    from gradcheck_suite.numerics.central_differences import BatchedForward, coordinate_directions, estimate

    theta = torch.tensor([1e-7, 0.5, -0.7], dtype=torch.float64)
    upstream = torch.tensor([0.3, -1.2, 0.8], dtype=torch.float64)
    est = estimate(BatchedForward(torch.relu), theta, coordinate_directions(theta), upstream)
    assert est.kink.tolist() == [True, False, False]
    smooth = estimate(BatchedForward(torch.sigmoid), theta, coordinate_directions(theta), upstream)
    assert not bool(smooth.kink.any())


def test_kink_does_not_hide_a_wrong_gradient_elsewhere(tmp_path):
    spec = load_exercise(ROOT / "exercises" / "relu" / "exercise.yaml")
    shutil.copy(ROOT / "tests" / "variants" / "relu" / "bug_no_mask.py", tmp_path / "relu.py")
    exercise = prepare(spec, tmp_path)
    at_kink = torch.tensor([1e-7, -2e-7, 0.5, -0.7], dtype=torch.float64)
    with pytest.raises(CheckFailure, match=r"worst at \[3\]"):
        compare_finite_differences(exercise, [at_kink], seed=0)


def test_kinky_exercises_pass_their_solutions_by_default(tmp_path):
    for name, path in KINK_EXERCISES.items():
        spec = load_exercise(path)
        results = _grade(spec, path.parent / spec.student_file, tmp_path, RunOptions())
        assert not _failures(results), f"{name}: {_failures(results)}"


@pytest.mark.parametrize("source, passes", [
    (ROOT / "tests" / "solutions" / "linear" / "linear.py", True),
    (ROOT / "tests" / "variants" / "linear" / "bug_grad_b_mean.py", False),
])
def test_adaptive_finite_differences_still_name_the_element(source, passes, tmp_path):
    from dataclasses import replace

    spec = load_exercise(ROOT / "exercises" / "linear" / "exercise.yaml")
    spec = replace(spec, finite_differences=replace(spec.finite_differences, mode="adaptive"))
    shutil.copy(source, tmp_path / "linear.py")
    result = run_check(prepare(spec, tmp_path), "finite_differences")
    if passes:
        assert result.status == "passed", result.message
    else:
        assert result.status == "failed"
        assert "gradient for 'b'" in result.message and "worst at [0]" in result.message
