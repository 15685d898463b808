"""Derived dims (`D: d1 * d2`), constraints and domain bounds that name a dim (`high: C`): parsed
safely, validated with their line, drawn so that every trial satisfies them, graded with students'
code (correct and buggy)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from hypothesis import given, settings

from gradcheck_suite.errors import ConfigError
from gradcheck_suite.exercise.expressions import ExpressionError, parse
from gradcheck_suite.exercise.load import load_exercise
from gradcheck_suite.grading.options import RunOptions
from gradcheck_suite.grading.runner import grade_submission
from gradcheck_suite.inputs.strategies import seeded_trials, trials
from gradcheck_suite.inputs.tensors import make_inputs
from gradcheck_suite.inputs.trial import Trial

REFERENCES = '''
import torch


def flat_linear(x, w):
    """x (N, d1, d2) flattened to (N, d1 * d2), times w (d1 * d2, M)."""
    return x.reshape(x.shape[0], -1) @ w
'''

FLAT = """\
name: flat
student: {file: flat.py, style: functional, forward: flat_forward, backward: flat_backward}
reference: references.flat_linear
inputs:
  - {name: x, shape: [N, d1, d2]}
  - {name: w, shape: [D, M]}
dims: {N: [1, 3], d1: [1, 3], d2: [1, 3], D: d1 * d2, M: [1, 3]}
trials: 10
"""

CONV = """\
name: conv
student: {file: conv.py, class: Conv}
reference: torch.nn.functional.conv1d
inputs:
  - {name: x, shape: [N, C, L]}
  - {name: w, shape: [F, C, K]}
dims: {N: [1, 2], C: [1, 2], L: [1, 9], F: [1, 2], K: [1, 4], Lout: (L + 2 * padding - K) // stride + 1}
params:
  - {name: stride, integers: [1, 3]}
  - {name: padding, integers: [0, 2]}
constraints:
  - "(L + 2 * padding - K) % stride == 0"
  - Lout >= 1
"""

LOSS = """\
name: loss
student: {file: loss.py, style: functional, forward: loss_forward, backward: loss_backward}
reference: torch.nn.functional.cross_entropy
inputs:
  - {name: x, shape: [N, C]}
  - {name: y, shape: [N], dtype: int64, domain: {kind: integers, low: 0, high: C}}
dims: {N: [1, 4], C: [2, 6]}
trials: 10
"""

FLAT_PY = """
    import torch

    def flat_forward(x, w):
        flat = x.{flatten}.reshape(x.shape[0], -1)
        return flat @ w, (x, flat, w)

    def flat_backward(dout, cache):
        x, flat, w = cache
        return (dout @ w.T).reshape(x.shape), flat.T @ dout
    """

LOSS_PY = """
    import torch

    def loss_forward(x, y):
        shifted = x - x.max(dim=1, keepdim=True).values
        log_p = shifted - shifted.exp().sum(dim=1, keepdim=True).log()
        return -log_p[torch.arange(x.shape[0]), y].mean(), (log_p, y)

    def loss_backward(dout, cache):
        log_p, y = cache
        grad = log_p.exp()
        grad[torch.arange(y.shape[0]), y] -= 1
        return dout * grad / {count}, None
    """


def _course(root: Path, files: dict[str, str]) -> list:
    root.mkdir(parents=True, exist_ok=True)
    (root / "references.py").write_text(REFERENCES)
    (root / "course.yaml").write_text("visibility: visible\n")
    specs = []
    for name, text in files.items():
        (root / name).mkdir()
        (root / name / "exercise.yaml").write_text(text)
        specs.append(load_exercise(root / name / "exercise.yaml"))
    return specs


def _grade(tmp_path: Path, yaml: str, file_name: str, source: str):
    spec = _course(tmp_path / "course", {file_name.removesuffix(".py"): yaml})[0]
    folder = tmp_path / "submission"
    folder.mkdir()
    (folder / file_name).write_text(textwrap.dedent(source))
    book = grade_submission([spec], folder, None, RunOptions(replay_command=lambda s, c, t: t))
    return spec, {str(c.check): (str(c.status), c.message) for c in book.exercises[spec.name].checks}


def test_a_derived_dim_sizes_a_shape_and_grades_a_flatten(tmp_path):
    spec, right = _grade(tmp_path / "right", FLAT, "flat.py", FLAT_PY.format(flatten="contiguous()"))
    assert {s for s, _ in right.values()} == {"passed"}, right
    trial = Trial.parse("N=2,d1=2,d2=3,M=1,values=4", spec)
    assert trial.sizes["D"] == 6 and make_inputs(spec, trial)["w"].shape == (6, 1)
    assert trial.describe() == "N=2,d1=2,d2=3,M=1,values=4"  # a derived dim is not drawn: not in the replay
    _, wrong = _grade(tmp_path / "wrong", FLAT, "flat.py", FLAT_PY.format(flatten="transpose(1, 2)"))
    assert wrong["forward"][0] == "failed" and "d1=" in wrong["forward"][1], wrong["forward"]


def test_every_drawn_trial_satisfies_the_constraints(tmp_path):
    spec = _course(tmp_path, {"conv": CONV})[0]
    drawn = seeded_trials(spec, 200, seed=1)
    for trial in drawn:
        s = trial.sizes
        assert (s["L"] + 2 * s["padding"] - s["K"]) % s["stride"] == 0 and s["Lout"] >= 1
    assert {t.params["stride"] for t in drawn} == {1, 2, 3}

    @settings(max_examples=60, database=None, deadline=None)
    @given(trials(spec))
    def drawn_by_hypothesis(trial):
        s = trial.sizes
        assert (s["L"] + 2 * s["padding"] - s["K"]) % s["stride"] == 0 and s["Lout"] >= 1

    drawn_by_hypothesis()
    with pytest.raises(ValueError, match=r"breaks the exercise's constraints: \(L \+ 2 \* padding - K\) % stride == 0"):
        Trial.parse("N=1,C=1,L=4,F=1,K=2,stride=3,padding=0,values=1", spec)


def test_an_integer_bound_that_names_a_dim(tmp_path):
    spec, right = _grade(tmp_path / "right", LOSS, "loss.py", LOSS_PY.format(count="y.shape[0]"))
    assert {s for s, _ in right.values()} == {"passed"}, right
    labels = [make_inputs(spec, t) for t in seeded_trials(spec, 100, seed=2)]
    assert all(0 <= int(i["y"].max()) < i["x"].shape[1] for i in labels)
    assert max(int(i["y"].max()) for i in labels) == 5  # C reaches 6: labels reach 5
    _, wrong = _grade(tmp_path / "wrong", LOSS, "loss.py", LOSS_PY.format(count="log_p.shape[1]"))
    assert wrong["backward"][0] == "failed", wrong["backward"]


@pytest.mark.parametrize(("text", "expected"), [
    ("__import__('os').system('true')", "expected only names, integers, + - * // % and parentheses"),
    ("d1 / d2", "use // for division"),
    ("d1 * 1.5", "1.5 is not an integer"),
    ("d1 ** 2", "uses an operator other than"),
    ("d1 +", "cannot parse"),
])
def test_expressions_are_parsed_never_evaluated_as_python(text, expected):
    with pytest.raises(ExpressionError, match=expected.replace("+", r"\+").replace("*", r"\*").replace("(", r"\(")
                       .replace(")", r"\)").replace("/", "/")):
        parse(text)


def test_a_constraint_is_a_comparison():
    assert parse("a % b == 0", comparison=True).evaluate({"a": 6, "b": 3})
    assert not parse("1 <= a < b", comparison=True).evaluate({"a": 3, "b": 3})
    with pytest.raises(ExpressionError, match="expected a comparison"):
        parse("a % b", comparison=True)


@pytest.mark.parametrize(("extra", "expected"), [
    ("dims: {N: [1, 2], D: N * Q}", "dims.D: unknown name 'Q' in 'N * Q' (dims and integer params are: D, N)"),
    ("dims: {N: [1, 2], D: N / 2}", "dims.D: expected an expression of dims and integer params: 'N / 2' uses"),
    ("dims: {N: E, E: N}", "dims.E: expected derived dims that do not depend on each other in a circle (E, N)"),
    ("dims: {N: [1, 2]}\nconstraints: [N + 1]", "constraints[0]: expected an expression of dims and integer params: "
                                               "expected a comparison"),
    ("dims: {N: [1, 2]}\nconstraints: ['N % stide == 0']\nparams: [{name: stride, integers: [1, 2]}]",
     "constraints[0]: unknown name 'stide' in 'N % stide == 0' (dims and integer params are: N, stride); "
     "did you mean 'stride'?"),
    ("dims: {N: [1, 2]}\nparams: [{name: p, fields: [{name: s, integers: [1, 2]}]}]\nconstraints: ['N % p.t == 0']",
     "unknown name 'p.t' in 'N % p.t == 0' (dims and integer params are: N, p.s)"),
])
def test_a_wrong_expression_is_one_line_naming_the_field(tmp_path, extra, expected):
    path = tmp_path / "e" / "exercise.yaml"
    path.parent.mkdir()
    path.write_text("name: e\nstudent: {file: e.py, class: E}\nreference: torch.sin\n"
                    "inputs:\n  - {name: x, shape: [N]}\n" + extra + "\n")
    with pytest.raises(ConfigError) as caught:
        load_exercise(path)
    assert expected in str(caught.value), str(caught.value)


def test_a_bound_naming_an_unknown_dim(tmp_path):
    path = tmp_path / "e" / "exercise.yaml"
    path.parent.mkdir()
    path.write_text("name: e\nstudent: {file: e.py, class: E}\nreference: torch.sin\ndims: {N: [1, 2]}\n"
                    "inputs:\n  - {name: x, shape: [N]}\n"
                    "  - {name: y, shape: [N], dtype: int64, domain: {kind: integers, low: 0, high: K}}\n")
    with pytest.raises(ConfigError) as caught:
        load_exercise(path)
    assert "e/exercise.yaml:7: inputs.y.domain.high: unknown name 'K' in 'K'" in str(caught.value), str(caught.value)
