"""Later checks of a trial continue the calls earlier checks made on it (checks.kept) instead of
calling the student again: the backward check continues the forward check's run, the
finite-difference check reads the backward check's outputs and gradients, backward_properties
calls the backward again on its run. Fewer calls, the same verdicts, in this process and in a
worker, and a worker that no longer has a run is asked for a new one."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
import torch

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

    calls = {"forward": 0, "backward": 0}


    class Linear(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x, w, b):
            calls["forward"] += 1
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


CHECKS = ("forward", "backward", "finite_differences", "backward_properties")


def _graded(folder: Path, spec, keep: bool) -> tuple[list[Status], list[str], dict[str, tuple[int, int]]]:
    """The four checks' verdicts and messages, and the forward and backward calls each made;
    `keep`: whether what a check leaves is kept for the next (else it is forgotten in between)."""
    exercise = prepare(spec, folder)
    assert isinstance(exercise.op, StudentOp)
    calls = exercise.op.function.forward.__globals__["calls"]
    verdicts, made = [], {}
    for check in CHECKS:
        if not keep:
            exercise.runs.clear()
            exercise.gradients.clear()
        before = dict(calls)
        verdicts.append(run_check(exercise, check))
        made[check] = (calls["forward"] - before["forward"], calls["backward"] - before["backward"])
    return [v.status for v in verdicts], [v.message for v in verdicts], made


@pytest.mark.parametrize("bug", ["", " * 2"], ids=["correct", "grad_b doubled"])
def test_later_checks_continue_the_calls_of_earlier_ones(tmp_path, bug):
    spec = load_exercise(LINEAR)
    trials = spec.trials
    (tmp_path / "linear.py").write_text(COUNTING.replace("{bug}", bug))
    shared = _graded(tmp_path, spec, keep=True)
    alone = _graded(tmp_path, spec, keep=False)
    assert shared[0] == alone[0]
    # a doubled grad_b is still linear in grad_output, repeatable and zero for zero: backward_properties passes
    assert shared[0] == ([Status.PASSED] * 4 if not bug else [Status.PASSED, Status.FAILED, Status.FAILED, Status.PASSED])
    assert shared[1] == alone[1]
    def calls(made: dict[str, tuple[int, int]]) -> int:
        return sum(forwards + backwards for forwards, backwards in made.values())

    assert calls(shared[2]) < calls(alone[2])
    if bug:  # the backward check stops at its first failing trial (and shrinks it): fewer calls to count on
        return
    assert shared[2]["backward"] == (0, 2 * trials), "the backward check did not continue the forward check's runs"
    assert shared[2]["finite_differences"][1] == 0, "the finite-difference check called the student's backward again"
    assert shared[2]["backward_properties"] == (0, 4 * trials), \
        "backward_properties did not continue the backward check's runs (again, zero, combined, other)"
    # alone, each check makes its own forwards and backwards: the counts above can fail
    assert alone[2]["backward"] == (trials, 2 * trials)
    assert alone[2]["backward_properties"] == (trials, 5 * trials)


@pytest.mark.parametrize("bug", ["", " * 2"], ids=["correct", "grad_b doubled"])
def test_a_worker_gives_the_same_verdicts_with_the_kept_calls(tmp_path, bug):
    spec = load_exercise(LINEAR)
    (tmp_path / "linear.py").write_text(COUNTING.replace("{bug}", bug))
    local = [run_check(prepare(spec, tmp_path), check) for check in CHECKS]
    sandbox = Sandbox()
    try:
        exercise = prepare(spec, tmp_path, sandbox)
        remote = [run_check(exercise, check) for check in CHECKS]
        assert exercise.runs, "the forward check kept nothing in the worker's exercise"
        assert exercise.op is not None and all(exercise.op.holds(run) for run in exercise.runs.values())
    finally:
        sandbox.close()
    assert [(r.status, r.message) for r in remote] == [(r.status, r.message) for r in local]


def test_a_restarted_worker_is_asked_for_new_runs(tmp_path):
    """The runs an earlier check kept died with its worker: the next check makes its own forwards."""
    spec = load_exercise(LINEAR)
    (tmp_path / "linear.py").write_text(COUNTING.replace("{bug}", ""))
    sandbox = Sandbox()
    try:
        exercise = prepare(spec, tmp_path, sandbox)
        assert run_check(exercise, "forward").status == Status.PASSED
        assert exercise.op is not None and exercise.runs
        exercise.close()  # as after a crash: the next call starts a fresh worker
        assert not any(exercise.op.holds(run) for run in exercise.runs.values())
        results = [run_check(exercise, check) for check in CHECKS[1:]]
    finally:
        sandbox.close()
    assert [(r.status, r.message) for r in results] == [(Status.PASSED, "")] * 3


def test_a_worker_keeps_at_most_kept_runs_and_the_grader_knows_which(tmp_path):
    """A worker keeps the first KEPT_RUNS runs it is asked to keep for as long as it lives, and
    keeps a run asked for beyond them as it keeps any other (its last few); the grader counts on
    exactly those it kept: each can still be continued, and the others are refused by the worker."""
    from gradcheck_suite.sandbox.supervisor import RemoteOp
    from gradcheck_suite.sandbox.worker import MAX_RUNS
    from gradcheck_suite.student.failures import ProtocolViolation
    from gradcheck_suite.student.op import KEPT_RUNS

    spec = load_exercise(LINEAR)
    (tmp_path / "linear.py").write_text(COUNTING.replace("{bug}", ""))
    x, w, b = (torch.randn(2, 3, dtype=torch.float64), torch.randn(3, 4, dtype=torch.float64),
               torch.zeros(4, dtype=torch.float64))
    upstream = [torch.ones(2, 4, dtype=torch.float64)]
    sandbox = Sandbox()
    try:
        op = prepare(spec, tmp_path, sandbox).op
        assert isinstance(op, RemoteOp)
        runs = [op.forward([x, w, b], keep=True) for _ in range(KEPT_RUNS + 2)]
        assert [op.holds(run) for run in runs] == [True] * KEPT_RUNS + [False] * 2
        for _ in range(MAX_RUNS):  # pushes the two runs beyond KEPT_RUNS out of the worker's recent ones
            assert not op.holds(op.forward([x, w, b]))
        assert all(op.backward(run, upstream)[1] is not None for run in runs[:KEPT_RUNS])  # the first one too
        with pytest.raises(ProtocolViolation, match="no longer has"):
            op.backward(runs[KEPT_RUNS], upstream)
    finally:
        sandbox.close()


def test_a_worker_stops_keeping_runs_before_they_take_its_memory(tmp_path):
    """What a kept run holds is what the student's forward saved, which only the worker's size
    shows: a forward that keeps 32 MB on ctx would, kept for each of its 30 trials, take more than
    the exercise's 768 MB; the worker stops keeping runs at a quarter of its limit instead, and the
    correct submission passes every check."""
    from dataclasses import replace

    from gradcheck_suite.sandbox.worker import KEPT_MEMORY_SHARE

    spec = load_exercise(LINEAR)
    spec = replace(spec, trials=30, limits=replace(spec.limits, memory_mb=768))
    hungry = COUNTING.replace("{bug}", "").replace(
        "ctx.save_for_backward(x, w)",
        "ctx.save_for_backward(x, w)\n        ctx.scratch = torch.ones(4 << 20, dtype=torch.float64)  # 32 MB")
    (tmp_path / "linear.py").write_text(hungry)
    assert spec.trials * 32 > 768  # every run kept would not fit
    sandbox = Sandbox()
    try:
        exercise = prepare(spec, tmp_path, sandbox)
        results = [run_check(exercise, check) for check in CHECKS]
        assert exercise.op is not None
        held = sum(exercise.op.holds(run) for run in exercise.runs.values())
    finally:
        sandbox.close()
    assert [(r.status, r.message) for r in results] == [(Status.PASSED, "")] * 4
    assert 0 < held <= KEPT_MEMORY_SHARE * 768 / 32 + 1


def test_in_this_process_runs_are_kept_while_memory_allows(tmp_path, monkeypatch):
    """The same rule in this process (a student's own machine): past the growth a kept run may add,
    runs are no longer kept, later checks make their own calls, and the verdicts stay."""
    from gradcheck_suite.student import memory
    from gradcheck_suite.student.op import KEPT_RUNS

    spec = load_exercise(LINEAR)
    (tmp_path / "linear.py").write_text(COUNTING.replace("{bug}", ""))
    sizes = iter(range(0, 1 << 40, 1 << 20))  # the process grows by a MiB at each look
    monkeypatch.setattr(memory, "resident_bytes", lambda: next(sizes))
    exercise = prepare(spec, tmp_path)
    assert isinstance(exercise.op, StudentOp)
    exercise.op._keeper = memory.RunKeeper(KEPT_RUNS, 5 << 20)  # room for 5 MiB of growth, not a gigabyte
    results = [run_check(exercise, check) for check in CHECKS]
    assert exercise.op is not None
    held = [exercise.op.holds(run) for run in exercise.runs.values()]
    assert [(r.status, r.message) for r in results] == [(Status.PASSED, "")] * 4
    assert held[:4] == [True] * 4 and not any(held[4:]) and len(held) == spec.trials
