"""A check's calls to a sandboxed worker, told ahead (checks.plans) and answered a few trials per
round trip: far fewer round trips, the same verdicts as in-process, also for code that leaves the
plan (another output shape, an error half-way, a backward that changes with each call)."""

from __future__ import annotations

import sys

import pytest

from conftest import SOLUTIONS, example_replay_command, exercise_yaml
from gradcheck_suite.checks import plans
from gradcheck_suite.exercise.load import load_exercise
from gradcheck_suite.grading.options import RunOptions
from gradcheck_suite.grading.runner import prepare, run_check
from gradcheck_suite.sandbox.staging import Submission
from gradcheck_suite.sandbox.supervisor import Sandbox, Worker, WorkerLimits

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="autograder mode needs Linux")

OPTIONS = RunOptions(replay_command=example_replay_command, trials=8)

LINEAR = '''
import torch


class Linear(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, w, b):
        ctx.save_for_backward(x, w)
        return {forward}

    @staticmethod
    def backward(ctx, grad_output):
        x, w = ctx.saved_tensors
{backward}
'''
PLAIN_BACKWARD = '''        return grad_output @ w.T, x.T @ grad_output, grad_output.sum(0)'''
OFF_PLAN = {
    # a transposed output: another shape than the plan's upstream gradients assume
    "transposed_output": ("(x @ w + b).T", PLAIN_BACKWARD),
    # right until a batch of three rows, then an error half-way through a round trip's calls
    "raises_from_three_rows": ("x @ w + b if x.shape[0] < 3 else (_ for _ in ()).throw(ValueError('too many rows'))",
                               PLAIN_BACKWARD),
    # a backward that scales its answer by how often it was called: not repeatable
    "counts_its_calls": ("x @ w + b", '''        global CALLS
        CALLS = globals().get("CALLS", 0) + 1
        scale = 1.0 if CALLS % 2 else 1.0001
        return scale * (grad_output @ w.T), x.T @ grad_output, grad_output.sum(0)'''),
}


@pytest.fixture(scope="module")
def sandbox():
    box = Sandbox(WorkerLimits(time_seconds=30))
    yield box
    box.close()


def _grade(spec, folder, sandbox=None):
    staged = Submission.collect({spec.student_file: folder / spec.student_file}) if sandbox else None
    exercise = prepare(spec, folder, sandbox, staged)
    try:
        return {check: run_check(exercise, check, OPTIONS) for check in spec.checks}
    finally:
        exercise.close()


def _verdicts(results):
    return {check: (r.status, r.message, r.trial) for check, r in results.items()}


@pytest.fixture
def round_trips(monkeypatch):
    """How many messages go to a worker."""
    counted = []
    exchange = Worker._exchange

    def counting(self, request, reply_elements=None):
        counted.append(request.get("op"))
        return exchange(self, request, reply_elements)

    monkeypatch.setattr(Worker, "_exchange", counting)
    return counted


def test_a_passing_exercise_takes_a_fraction_of_the_round_trips(sandbox, round_trips, monkeypatch):
    spec = load_exercise(exercise_yaml("linear"))
    folder = SOLUTIONS / "linear"
    planned = _grade(spec, folder, sandbox)
    with_plans = len(round_trips)
    round_trips.clear()
    monkeypatch.setattr(plans, "plan", lambda *args: [])
    unplanned = _grade(spec, folder, sandbox)
    assert _verdicts(planned) == _verdicts(unplanned)
    assert {r.status for r in planned.values()} == {"passed"}
    assert with_plans * 3 <= len(round_trips), (with_plans, len(round_trips))


@pytest.mark.parametrize("name", sorted(OFF_PLAN))
def test_code_that_leaves_the_plan_gets_the_in_process_verdict(name, sandbox, tmp_path):
    forward, backward = OFF_PLAN[name]
    (tmp_path / "linear.py").write_text(LINEAR.format(forward=forward, backward=backward))
    spec = load_exercise(exercise_yaml("linear"))
    local = _grade(spec, tmp_path)
    isolated = _grade(spec, tmp_path, sandbox)
    assert {r.status for r in local.values()} != {"passed"}, "the student's code must fail somewhere"
    if name == "counts_its_calls":
        # A worker runs a round trip's calls past the trial that fails (the verdict is the grader's,
        # not the worker's), so code that counts its calls is further along when Hypothesis shrinks:
        # the same verdict for the same reason; the input it is shown on and the numbers may differ.
        reason = {c: (r.status, r.message.split(":")[0]) for c, r in local.items()}
        assert {c: (r.status, r.message.split(":")[0]) for c, r in isolated.items()} == reason
        return
    assert _verdicts(isolated) == _verdicts(local)


def test_an_answer_serves_only_the_request_it_was_computed_for(sandbox, tmp_path):
    """Told one forward and then asked for another, the worker's answer to the first is dropped."""
    import torch

    spec = load_exercise(exercise_yaml("linear"))
    exercise = prepare(spec, SOLUTIONS / "linear", sandbox,
                       Submission.collect({"linear.py": SOLUTIONS / "linear" / "linear.py"}))
    try:
        op = exercise.op
        x, w, b = torch.ones(2, 3, dtype=torch.float64), torch.ones(3, 4, dtype=torch.float64), \
            torch.zeros(4, dtype=torch.float64)
        op.prefetch([plans.PlannedCall(op, [x, w, b])])
        assert len(op.worker.pending) == 1  # sent; the worker answers while the grader goes on
        run = op.forward([2 * x, w, b])
        assert not op.worker.prefetched and not op.worker.pending
        assert run.outputs[0].tolist() == [[6.0] * 4] * 2
        op.prefetch([plans.PlannedCall(op, [x, w, b])])
        assert op.forward([x, w, b]).outputs[0].tolist() == [[3.0] * 4] * 2  # the answer computed ahead
        assert not op.worker.prefetched and not op.worker.pending
    finally:
        exercise.close()
