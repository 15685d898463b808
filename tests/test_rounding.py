"""The rounding allowance in float32: a correct low-precision result is held to the spread of
rounding errors the reference shows under random rounding (numerics.rounding), not to the one
error one evaluation happens to make; a bug still fails."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import torch

from conftest import REPO_ROOT, parse_label
from gradcheck_suite.exercise.load import load_exercise, with_overrides
from gradcheck_suite.grading.options import RunOptions
from gradcheck_suite.grading.runner import prepare, run_check
from gradcheck_suite.numerics import reference_eval, rounding

COURSE = REPO_ROOT / "examples" / "cs231n"
# Found by `check-tolerances --trials 1000 --dtype float32`: two nearly equal values in a row of
# two, so layernorm's gradient for an all-ones upstream gradient cancels the rounded row mean to
# three significant digits; the NumPy solution lands 6.4 times as far off as torch's float32 reference.
CANCELLING = "N=3,D=2,values=482975692"


def _layernorm(source: Path, tmp_path: Path):
    spec = with_overrides(load_exercise(COURSE / "layernorm" / "exercise.yaml"), "float32")
    shutil.copy(source, tmp_path / "layers.py")
    return spec, prepare(spec, tmp_path)


def test_random_rounding_is_reproducible_and_within_the_unit_roundoff():
    x = torch.linspace(-3, 3, 50, dtype=torch.float32)
    exact = torch.exp(x.double())
    first = rounding.sampled(lambda: torch.exp(x))
    assert len(first) == rounding.DRAWS
    assert all(torch.equal(a, b) for a, b in zip(first, rounding.sampled(lambda: torch.exp(x))))
    assert any(not torch.equal(first[0], other) for other in first[1:])
    unit = torch.finfo(torch.float32).eps / 2
    for sample in first:  # one rounding in exp, one perturbation, one rounding of the product
        assert bool(((sample.double() - exact).abs() <= 4 * unit * exact.abs()).all())


def test_random_rounding_leaves_float64_and_views_alone():
    x = torch.linspace(-3, 3, 50, dtype=torch.float64)
    assert torch.equal(rounding.sampled(lambda: torch.exp(x), draws=1)[0], torch.exp(x))
    y = torch.ones(4, 3)
    view = rounding.sampled(lambda: y.t(), draws=1)[0]
    assert view.data_ptr() == y.data_ptr()


def test_a_cancelling_float32_gradient_of_a_correct_solution_passes(tmp_path):
    spec, exercise = _layernorm(COURSE / "solutions" / "layers.py", tmp_path)
    result = run_check(exercise, "backward", RunOptions(replay=CANCELLING))
    assert result.status == "passed", result.message


def test_without_random_rounding_the_same_gradient_fails(tmp_path, monkeypatch):
    monkeypatch.setattr(reference_eval, "low_precision_sampled", lambda *args: [])
    spec, exercise = _layernorm(COURSE / "solutions" / "layers.py", tmp_path)
    result = run_check(exercise, "backward", RunOptions(replay=CANCELLING))
    assert result.status == "failed"
    assert "all-ones grad_output" in result.message


BUGS = sorted(p for p in (COURSE / "variants").glob("*/bug_*.py")
              if p.parent.name in ("layernorm", "batchnorm", "affine", "softmax_loss"))


@pytest.mark.parametrize("path", BUGS, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_a_bug_still_fails_in_float32(path, tmp_path):
    spec = with_overrides(load_exercise(COURSE / path.parent.name / "exercise.yaml"), "float32")
    shutil.copy(path, tmp_path / "layers.py")
    exercise = prepare(spec, tmp_path)
    label = parse_label(path)
    statuses = {check: run_check(exercise, check, RunOptions()).status for check in label.checks}
    assert {"failed", "error"} & set(statuses.values()), statuses


def test_the_reference_is_measured_in_float32_only_for_a_gradient_outside_the_plain_tolerance(tmp_path, monkeypatch):
    """A rounding allowance only widens the tolerance: a gradient within it without one passes
    without the reference's gradients in float32 (a traced forward and a VJP each); the cancelling
    one needs them, and gets them."""
    measured: list[str] = []
    original = reference_eval.low_precision

    def counting(spec, function, *args):
        if function is reference_eval.vjp:
            measured.append(spec.name)
        return original(spec, function, *args)

    monkeypatch.setattr(reference_eval, "low_precision", counting)
    spec, exercise = _layernorm(COURSE / "solutions" / "layers.py", tmp_path)
    assert run_check(exercise, "backward", RunOptions()).status == "passed"
    assert measured == []
    assert run_check(exercise, "backward", RunOptions(replay=CANCELLING)).status == "passed"
    assert measured
