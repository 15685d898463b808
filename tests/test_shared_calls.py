"""The finite-difference check reads the student's outputs and gradients the backward check got
on the same trial (checks.backward.keep_gradients) instead of calling the student again: fewer
calls, the same verdicts, in this process and in a worker."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from conftest import REPO_ROOT
from gradcheck_suite.exercise.load import load_exercise
from gradcheck_suite.grading.runner import prepare, run_check
from gradcheck_suite.sandbox.supervisor import Sandbox
from gradcheck_suite.student.op import StudentOp
from gradcheck_suite.vocabulary import Status

LINEAR = REPO_ROOT / "exercises" / "linear" / "exercise.yaml"

# A student's Linear that counts its backward calls, the way students count calls to see what the
# grader does.
COUNTING = textwrap.dedent('''
    import torch

    calls = {"backward": 0}


    class Linear(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x, w, b):
            ctx.save_for_backward(x, w)
            return x @ w + b

        @staticmethod
        def backward(ctx, grad_output):
            calls["backward"] += 1
            x, w = ctx.saved_tensors
            grad_x = grad_output @ w.T
            grad_w = x.T @ grad_output
            grad_b = grad_output.sum(dim=0){bug}
            return grad_x, grad_w, grad_b
''')


def _backward_calls(folder: Path, spec, keep: bool) -> tuple[list[Status], list[str], int]:
    """The backward and finite-difference checks' verdicts and messages, and how many backward
    calls the finite-difference check made; `keep`: whether the backward check's calls are kept."""
    exercise = prepare(spec, folder)
    assert isinstance(exercise.op, StudentOp)
    calls = exercise.op.function.backward.__globals__["calls"]
    verdicts = [run_check(exercise, "backward")]
    if not keep:
        exercise.gradients.clear()
    before = calls["backward"]
    verdicts.append(run_check(exercise, "finite_differences"))
    return [v.status for v in verdicts], [v.message for v in verdicts], calls["backward"] - before


@pytest.mark.parametrize("bug", ["", " * 2"], ids=["correct", "grad_b doubled"])
def test_the_finite_difference_check_reuses_the_backward_checks_calls(tmp_path, bug):
    spec = load_exercise(LINEAR)
    (tmp_path / "linear.py").write_text(COUNTING.replace("{bug}", bug))
    shared = _backward_calls(tmp_path, spec, keep=True)
    alone = _backward_calls(tmp_path, spec, keep=False)
    assert shared[0] == alone[0] == ([Status.PASSED] * 2 if not bug else [Status.FAILED] * 2)
    assert shared[1] == alone[1]
    assert shared[2] == 0, "the finite-difference check called the student's backward again"
    assert alone[2] >= 1  # without the kept calls it makes its own: the count above can fail


def test_a_worker_gives_the_same_verdicts_with_the_kept_calls(tmp_path):
    spec = load_exercise(LINEAR)
    (tmp_path / "linear.py").write_text(COUNTING.replace("{bug}", " * 2"))
    local = [run_check(prepare(spec, tmp_path), check) for check in ("backward", "finite_differences")]
    sandbox = Sandbox()
    try:
        exercise = prepare(spec, tmp_path, sandbox)
        remote = [run_check(exercise, check) for check in ("backward", "finite_differences")]
        assert exercise.gradients, "the backward check kept nothing in the worker's exercise"
    finally:
        sandbox.close()
    assert [(r.status, r.message) for r in remote] == [(r.status, r.message) for r in local]
