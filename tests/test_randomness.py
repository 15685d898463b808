"""Randomized forwards graded by properties (`random:`): the binomial test's bounds against exact tail
sums, its false-failure rate and its power at the drawn sizes, a correct dropout over many draws, the
`random:` field's mistakes, and the dropout exercises graded in-process and in autograder mode."""

from __future__ import annotations

import math
import shutil
import sys
from fractions import Fraction
from pathlib import Path

import pytest
import torch

from conftest import REPO_ROOT, SOLUTIONS, VARIANTS, exercise_yaml, submit
from gradcheck_suite.checks.randomized import check_random_backward, check_random_forward
from gradcheck_suite.checks.verdicts import CheckFailure
from gradcheck_suite.errors import ConfigError
from gradcheck_suite.exercise.load import load_exercise
from gradcheck_suite.grading.runner import grade_submission, prepare
from gradcheck_suite.inputs.strategies import seeded_trials
from gradcheck_suite.numerics import binomial

CS231N = REPO_ROOT / "examples" / "cs231n"


# ----------------------------------------------------------------------------- the binomial test

def _exact_pmf(n: int, q: Fraction) -> list[Fraction]:
    return [math.comb(n, k) * q ** k * (1 - q) ** (n - k) for k in range(n + 1)]


def _brute_force_acceptance(n: int, q: Fraction, alpha: Fraction) -> tuple[int, int]:
    """The definition, with exact rational tails: lo the largest count with P(K < lo) <= alpha/2,
    hi the smallest with P(K > hi) <= alpha/2."""
    pmf = _exact_pmf(n, q)
    lo = max(k for k in range(n + 1) if sum(pmf[:k]) <= alpha / 2)
    hi = min(k for k in range(n + 1) if sum(pmf[k + 1:]) <= alpha / 2)
    return lo, hi


@pytest.mark.parametrize("q", ["1/10", "1/4", "1/2", "2/3", "9/10"])
def test_the_tails_are_the_exact_sums(q):
    n, exact_q = 30, Fraction(q)
    lower, upper = binomial.tails(n, float(exact_q))
    pmf = _exact_pmf(n, exact_q)
    for k in range(n + 1):
        assert float(lower[k]) == pytest.approx(float(sum(pmf[:k + 1])), rel=1e-10, abs=1e-300)
        assert float(upper[k]) == pytest.approx(float(sum(pmf[k:])), rel=1e-10, abs=1e-300)


@pytest.mark.parametrize("n", [1, 2, 5, 12, 40, 60])
@pytest.mark.parametrize("q", ["1/20", "3/10", "1/2", "7/10", "19/20"])
@pytest.mark.parametrize("alpha", ["1/100", "1/100000000"])
def test_the_bounds_are_those_of_the_exact_tails(n, q, alpha):
    assert binomial.acceptance(n, float(Fraction(q)), float(Fraction(alpha))) == \
        _brute_force_acceptance(n, Fraction(q), Fraction(alpha))


@pytest.mark.parametrize("n,q", [(813, 0.4), (2000, 0.1), (2000, 0.5), (4000, 0.9), (10_000, 0.25)])
def test_a_correct_op_fails_less_often_than_the_rate_and_the_bounds_are_tight(n, q):
    lo, hi = binomial.acceptance(n, q)
    lower, upper = binomial.tails(n, q)
    rejected = (float(lower[lo - 1]) if lo > 0 else 0.0) + (float(upper[hi + 1]) if hi < n else 0.0)
    assert rejected <= binomial.FALSE_FAILURE_RATE
    # one count further in on either side would break the rate: the bounds are as wide as they must be
    assert float(lower[lo]) > binomial.FALSE_FAILURE_RATE / 2 and float(upper[hi]) > binomial.FALSE_FAILURE_RATE / 2


def test_the_fewest_elements_tell_q_from_1_minus_q():
    n = binomial.min_elements()
    low, high = 0.5 - binomial.SEPARATION, 0.5 + binomial.SEPARATION
    assert binomial.acceptance(n, low)[1] < binomial.acceptance(n, high)[0]
    assert binomial.acceptance(n - 1, low)[1] >= binomial.acceptance(n - 1, high)[0]
    assert 500 < n < 2000  # the shipped exercises draw at least 2000


@pytest.mark.parametrize("n", [binomial.min_elements(), 2000])
def test_p_is_always_told_from_1_minus_p_at_the_drawn_size(n):
    """For every keep probability at least SEPARATION from 1/2, the counts a correct op and one that
    keeps with 1 - q produce fall in disjoint ranges; and 200 masks drawn with 1 - q all fail."""
    generator = torch.Generator().manual_seed(5)
    for q in [0.1, 0.2, 0.3, 0.4, 0.6, 0.75, 0.9]:
        lo, hi = binomial.acceptance(n, q)
        wrong_lo, wrong_hi = binomial.acceptance(n, 1 - q)
        assert wrong_hi < lo or wrong_lo > hi, q
        kept = (torch.rand(200, n, generator=generator) < 1 - q).sum(dim=1)
        assert bool(((kept < lo) | (kept > hi)).all()), q


# ----------------------------------------------------------------------------- many draws

def _solution_exercise(spec, source: Path, tmp_path: Path):
    submission = tmp_path / "submission"
    submit(source, spec, submission)
    return prepare(spec, submission)


@pytest.mark.parametrize("course", ["sample", "cs231n"])
def test_a_correct_dropout_passes_on_200_draws(course, tmp_path):
    if course == "sample":
        spec, source = load_exercise(exercise_yaml("dropout")), SOLUTIONS / "dropout" / "dropout.py"
    else:
        spec, source = load_exercise(CS231N / "dropout" / "exercise.yaml"), CS231N / "solutions" / "layers.py"
    exercise = _solution_exercise(spec, source, tmp_path)
    for trial in seeded_trials(spec, 200, 31):
        check_random_forward(exercise, trial)
        check_random_backward(exercise, trial)


def test_a_correct_dropout_passes_on_20_draws_and_p_as_keep_fails_where_p_is_far_from_half(tmp_path):
    spec = load_exercise(exercise_yaml("dropout"))
    correct = _solution_exercise(spec, SOLUTIONS / "dropout" / "dropout.py", tmp_path / "a")
    wrong = _solution_exercise(spec, VARIANTS / "dropout" / "bug_p_as_keep_probability.py", tmp_path / "b")
    caught = 0
    for trial in seeded_trials(spec, 20, 3):
        check_random_forward(correct, trial)
        if abs(trial.params["p"] - 0.5) >= binomial.SEPARATION:
            with pytest.raises(CheckFailure, match="keeps too (few|many) elements"):
                check_random_forward(wrong, trial)
            caught += 1
    assert caught >= 5


# ----------------------------------------------------------------------------- random: mistakes

HEAD = ("name: e\nstudent: {file: e.py, class: E}\nreference: gradcheck_suite.references.dropout\n"
        "dims: {N: [40, 50], D: [50, 60]}\n")
MISTAKES = {
    "keep and drop": (
        "inputs:\n  - {name: x, shape: [N, D]}\nparams:\n  - {name: p, floats: [0.1, 0.9]}\n"
        "random: {kind: dropout, keep: p, drop: p}\n",
        "exercise.yaml:9: random: expected exactly one of keep (the probability of keeping an element) or drop "
        "(of dropping it), naming a param, got keep and drop"),
    "a probability above 1": (
        "inputs:\n  - {name: x, shape: [N, D]}\nparams:\n  - {name: p, floats: [0.1, 1.5]}\n"
        "random: {kind: dropout, drop: p}\n",
        "exercise.yaml:9: random.drop: expected a probability in [0, 1], got p = floats [0.1, 1.5]"),
    "a seed that is not an integer param": (
        "inputs:\n  - {name: x, shape: [N, D]}\nparams:\n  - {name: p, floats: [0.1, 0.9]}\n"
        "  - {name: s, floats: [0, 1]}\nrandom: {kind: dropout, drop: p, seed: s}\n",
        "exercise.yaml:10: random.seed: expected an integer param: 's' is floats [0, 1]"),
    "a deterministic value the param never takes": (
        "inputs:\n  - {name: x, shape: [N, D]}\nparams:\n  - name: dp\n    fields:\n"
        "      - {name: p, floats: [0.1, 0.9]}\n      - {name: mode, choices: [train, test]}\n"
        "random: {kind: dropout, keep: dp.p, deterministic: {dp.mode: eval}}\n",
        "exercise.yaml:12: random.deterministic.dp.mode: expected a value dp.mode takes ('train', 'test'), "
        "got 'eval'"),
    "a second differentiable input": (
        "inputs:\n  - {name: x, shape: [N, D]}\n  - {name: w, shape: [N, D]}\nparams:\n"
        "  - {name: p, floats: [0.1, 0.9]}\nrandom: {kind: dropout, input: x, drop: p}\n",
        "exercise.yaml:10: random.input: expected the only differentiable input (its backward is checked against "
        "the forward's mask); also differentiable: w (mark them differentiable: false)"),
    "double_backward asked for": (
        "inputs:\n  - {name: x, shape: [N, D]}\nparams:\n  - {name: p, floats: [0.1, 0.9]}\n"
        "random: {kind: dropout, drop: p}\ndouble_backward: true\n",
        "exercise.yaml:10: double_backward: expected no double_backward for a randomized forward (random:): it "
        "differentiates through another call of the forward, with another mask"),
}


@pytest.mark.parametrize("case", sorted(MISTAKES))
def test_a_random_field_mistake_is_one_line(tmp_path, case):
    text, expected = MISTAKES[case]
    path = tmp_path / "exercise.yaml"
    path.write_text(HEAD + text)
    with pytest.raises(ConfigError) as raised:
        load_exercise(path)
    lines = str(raised.value).splitlines()
    assert any(line.endswith(expected) for line in lines), lines


def test_a_randomized_exercise_runs_the_three_checks_that_apply():
    for path in (exercise_yaml("dropout"), CS231N / "dropout" / "exercise.yaml"):
        spec = load_exercise(path)
        assert spec.random is not None
        assert spec.checks == ("forward", "backward", "backward_properties")


def test_the_cs231n_convention_keep_and_the_sample_course_drop():
    sample, cs231n = load_exercise(exercise_yaml("dropout")).random, load_exercise(CS231N / "dropout" / "exercise.yaml").random
    assert sample is not None and cs231n is not None
    assert sample.keep_probability({"p": 0.2}) == pytest.approx(0.8)
    assert sample.scale_factor({"p": 0.2}) == pytest.approx(1.25)
    assert cs231n.keep_probability({"dropout_param": {"p": 0.2}}) == pytest.approx(0.2)
    assert cs231n.scale_factor({"dropout_param": {"p": 0.2}}) == pytest.approx(5.0)
    assert cs231n.is_deterministic({"dropout_param": {"p": 0.2, "mode": "test"}})
    assert not cs231n.is_deterministic({"dropout_param": {"p": 0.2, "mode": "train"}})


# ----------------------------------------------------------------------------- whole gradings

def _statuses(book) -> dict:
    return {name: {str(c.check): str(c.status) for c in e.checks} for name, e in book.exercises.items()}


@pytest.mark.parametrize("source,passes", [("dropout.py", True), ("bug_p_as_keep_probability.py", False)])
def test_the_sample_dropout_graded_in_process(source, passes, tmp_path):
    spec = load_exercise(exercise_yaml("dropout"))
    path = SOLUTIONS / "dropout" / source if passes else VARIANTS / "dropout" / source
    submit(path, spec, tmp_path / "submission")
    statuses = _statuses(grade_submission([spec], tmp_path / "submission"))["dropout"]
    assert statuses == ({c: "passed" for c in spec.checks} if passes else
                        {"forward": "failed", "backward": "passed", "backward_properties": "passed"})


@pytest.mark.heavy
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="autograder mode needs Linux")
def test_both_dropout_exercises_graded_in_autograder_mode(tmp_path):
    from gradcheck_suite.sandbox.supervisor import Sandbox, WorkerLimits

    sample = load_exercise(exercise_yaml("dropout"))
    cs231n = load_exercise(CS231N / "dropout" / "exercise.yaml")
    submit(SOLUTIONS / "dropout" / "dropout.py", sample, tmp_path / "sample")
    (tmp_path / "cs231n").mkdir()
    shutil.copy(CS231N / "variants" / "dropout" / "correct_binomial.py", tmp_path / "cs231n" / "layers.py")
    shutil.copy(CS231N / "variants" / "dropout" / "bug_seed_ignored.py", tmp_path / "cs231n_bug.py")
    box = Sandbox(WorkerLimits(time_seconds=60))
    try:
        assert _statuses(grade_submission([sample], tmp_path / "sample", box))["dropout"] == \
            dict.fromkeys(sample.checks, "passed")
        assert _statuses(grade_submission([cs231n], tmp_path / "cs231n", box))["dropout"] == \
            dict.fromkeys(cs231n.checks, "passed")
        shutil.copy(tmp_path / "cs231n_bug.py", tmp_path / "cs231n" / "layers.py")
        book = grade_submission([cs231n], tmp_path / "cs231n", box)
        forward = next(c for c in book.exercises["dropout"].checks if c.check == "forward")
        assert forward.status == "failed" and "with the same seed" in forward.message, forward.message
    finally:
        box.close()
