"""The search over a check's trials (grading.search): up-front seeded trials, Hypothesis only to
shrink a failure; the same number of trials as before, the same verdicts."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest

from conftest import REPO_ROOT
from gradcheck_suite.checks.verdicts import CheckFailure, KinkCrossed
from gradcheck_suite.exercise.load import load_exercise
from gradcheck_suite.grading import search as search_module
from gradcheck_suite.grading.options import RunOptions
from gradcheck_suite.grading.runner import prepare, run_check
from gradcheck_suite.vocabulary import Status

LINEAR = REPO_ROOT / "exercises" / "linear" / "exercise.yaml"

# A student's Linear that is right for batches of one or two rows and wrong from the third row on
# (grad_w sums only the first two rows of the batch), written the way students write it.
WRONG_FROM_THREE_ROWS = textwrap.dedent('''
    import torch


    class Linear(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x, w, b):
            ctx.save_for_backward(x, w)
            return x @ w + b

        @staticmethod
        def backward(ctx, grad_output):
            x, w = ctx.saved_tensors
            grad_x = grad_output @ w.T
            grad_w = x[:2].T @ grad_output[:2]
            grad_b = grad_output.sum(dim=0)
            return grad_x, grad_w, grad_b
''')


def _linear(tmp_path: Path, source: str | None = None):
    spec = load_exercise(LINEAR)
    if source is None:
        shutil.copy(REPO_ROOT / "tests" / "solutions" / "linear" / "linear.py", tmp_path / "linear.py")
    else:
        (tmp_path / "linear.py").write_text(source)
    return spec, prepare(spec, tmp_path)


class Counting:
    """A check function that counts its trials and fails or crosses a kink where told."""

    def __init__(self, fail=lambda trial, calls: False, kink=lambda trial: False):
        self.trials: list = []
        self.fail, self.kink = fail, kink

    def __call__(self, exercise, trial):
        self.trials.append(trial)
        if self.kink(trial):
            raise KinkCrossed()
        if self.fail(trial, self.trials.count(trial)):
            raise CheckFailure(f"wrong at {trial.describe()}")


def _no_hypothesis(*args, **kwargs):
    raise AssertionError("Hypothesis ran for a check that passed")


def test_a_passing_check_runs_its_trials_once_without_hypothesis(tmp_path, monkeypatch):
    spec, exercise = _linear(tmp_path)
    counting = Counting()
    monkeypatch.setattr(search_module, "trial_check", lambda spec, check: counting)
    monkeypatch.setattr(search_module, "hypothesis_search", _no_hypothesis)
    search_module.search(exercise, "backward", 101, spec.trials)
    assert len(counting.trials) == spec.trials == 20
    assert len({t.describe() for t in counting.trials}) == 20
    assert counting.trials[0].dims == {"N": 1, "D_in": 1, "D_out": 1}  # the smallest sizes first


def test_the_trials_depend_on_the_seed_alone(tmp_path, monkeypatch):
    spec, exercise = _linear(tmp_path)
    runs = [Counting(), Counting(), Counting()]
    for counting, seed in zip(runs, (101, 101, 7)):
        monkeypatch.setattr(search_module, "trial_check", lambda spec, check, c=counting: c)
        search_module.search(exercise, "forward", seed, spec.trials)
    described = [[t.describe() for t in c.trials] for c in runs]
    assert described[0] == described[1] != described[2]


def test_kinks_are_replaced_by_other_draws(tmp_path, monkeypatch):
    spec, exercise = _linear(tmp_path)
    counting = Counting(kink=lambda trial: trial.dims["N"] == 2)
    monkeypatch.setattr(search_module, "trial_check", lambda spec, check: counting)
    search_module.search(exercise, "finite_differences", 101, spec.trials)
    assert sum(t.dims["N"] != 2 for t in counting.trials) == 20
    assert len(counting.trials) > 20


def test_a_check_whose_every_trial_crosses_a_kink_is_the_exercises_error(tmp_path, monkeypatch):
    spec, exercise = _linear(tmp_path)
    monkeypatch.setattr(search_module, "trial_check", lambda spec, check: Counting(kink=lambda trial: True))
    with pytest.raises(CheckFailure) as raised:
        search_module.search(exercise, "finite_differences", 101, spec.trials)
    assert raised.value.status == Status.ERROR and "avoid:" in str(raised.value)


def test_a_failure_is_shrunk_by_hypothesis_to_the_smallest_input(tmp_path):
    spec, exercise = _linear(tmp_path, WRONG_FROM_THREE_ROWS)
    result = run_check(exercise, "backward", RunOptions())
    assert result.status == "failed"
    assert result.trial is not None and result.trial.startswith("N=3,D_in=1,D_out=1,"), result.trial
    assert "gradient for 'w'" in result.message


def test_a_failure_hypothesis_does_not_find_again_stands(tmp_path, monkeypatch):
    spec, exercise = _linear(tmp_path, WRONG_FROM_THREE_ROWS)
    monkeypatch.setattr(search_module, "hypothesis_search", lambda *args: None)
    result = run_check(exercise, "backward", RunOptions())
    assert result.status == "failed" and "gradient for 'w'" in result.message
    assert int(result.trial.split(",")[0].removeprefix("N=")) >= 3


def test_a_failure_that_does_not_come_back_is_reported_as_randomness_or_state(tmp_path, monkeypatch):
    spec, exercise = _linear(tmp_path)
    counting = Counting(fail=lambda trial, calls: calls == 1 and trial.dims["N"] == 4)
    monkeypatch.setattr(search_module, "trial_check", lambda spec, check: counting)
    monkeypatch.setattr(search_module, "hypothesis_search", lambda *args: None)
    with pytest.raises(CheckFailure) as raised:
        search_module.search(exercise, "forward", 101, spec.trials)
    assert "different results on the same input" in str(raised.value)
    assert raised.value.status == Status.FAILED
