"""Exercise params (`params:`): non-tensor arguments, fixed or drawn, given to the student's forward
and to the reference as keywords or positionally, in every style, in-process and isolated; shown
in failure messages and carried by the replay string."""

from __future__ import annotations

import random
import re
import sys
import textwrap
from pathlib import Path

import pytest

from gradcheck_suite.errors import ConfigError
from gradcheck_suite.exercise.load import load_exercise
from gradcheck_suite.grading.options import RunOptions
from gradcheck_suite.grading.runner import grade_submission
from gradcheck_suite.inputs.strategies import seeded_trials
from gradcheck_suite.inputs.tensors import make_inputs
from gradcheck_suite.inputs.trial import Trial
from gradcheck_suite.sandbox.supervisor import Sandbox, WorkerLimits

REFERENCES = '''
import torch


def scale_power(x, p):
    """p: {alpha: float, power: 1 or 2}, passed positionally (CS231n's conv_param style)."""
    return p["alpha"] * x ** p["power"]


def tile(x, k, offset=0.0):
    """x (N,) -> (N, k): each row x repeated k times, plus offset."""
    return x[:, None].expand(-1, k) + offset
'''

LEAKY = """\
name: leaky
student: {file: leaky.py, %s}
reference: torch.nn.functional.leaky_relu
inputs:
  - name: x
    shape: [N, D]
    domain: {kind: real, avoid: [0.0], margin: 0.05}
dims: {N: [1, 3], D: [1, 4]}
params:
  - name: negative_slope
    floats: [0.05, 0.5]
trials: 8
"""

SCALE = """\
name: scale
student: {file: scale.py, style: numpy, forward: scale_forward, backward: scale_backward}
reference: references.scale_power
inputs:
  - name: x
    shape: [N]
    domain: {kind: positive}
dims: {N: [1, 4]}
params:
  - name: p
    positional: true
    fields:
      - {name: alpha, floats: [0.5, 2.0]}
      - {name: power, choices: [1, 2]}
      - {name: note, value: fixed}
trials: 10
"""

TILE = """\
name: tile
student: {file: tile.py, class: Tile}
reference: references.tile
inputs:
  - name: x
    shape: [N]
dims: {N: [1, 3]}
params:
  - {name: k, integers: [1, 4]}
  - {name: offset, value: 0.5}
trials: 8
"""

STUDENTS = {
    "leaky_functional": ("style: functional, forward: leaky_forward, backward: leaky_backward", """
        import torch

        def leaky_forward(x, negative_slope):
            return torch.where(x > 0, x, negative_slope * x), (x, negative_slope)

        def leaky_backward(dout, cache):
            x, slope = cache
            return (torch.where(x > 0, dout, {slope} * dout),)
        """),
    "leaky_function": ("class: Leaky", """
        import torch

        class Leaky(torch.autograd.Function):
            @staticmethod
            def forward(ctx, x, negative_slope=0.01):
                ctx.save_for_backward(x)
                ctx.slope = negative_slope
                return torch.where(x > 0, x, negative_slope * x)

            @staticmethod
            def backward(ctx, grad_output):
                (x,) = ctx.saved_tensors
                slope = ctx.slope
                return torch.where(x > 0, grad_output, {slope} * grad_output), None
        """),
}

SCALE_PY = """
    import numpy as np

    def scale_forward(x, p):
        p["alpha"] = p["alpha"]  # writing into the dict changes no other call's
        return p["alpha"] * x ** p["power"], (x, p)

    def scale_backward(dout, cache):
        x, p = cache
        return ({grad},)
    """

TILE_PY = """
    import torch

    class Tile(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x, k, offset):
            ctx.k = k
            return x[:, None].expand(-1, k).clone() + offset

        @staticmethod
        def backward(ctx, grad_output):
            return {grad}, None, None
    """


def _course(root: Path, files: dict[str, str]) -> list:
    (root / "references.py").parent.mkdir(parents=True, exist_ok=True)
    (root / "references.py").write_text(REFERENCES)
    (root / "course.yaml").write_text("visibility: visible\n")  # references.py is found beside it
    specs = []
    for name, text in files.items():
        (root / name).mkdir()
        (root / name / "exercise.yaml").write_text(text)
        specs.append(load_exercise(root / name / "exercise.yaml"))
    return specs


def _grade(tmp_path: Path, yaml: str, file_name: str, source: str, sandbox=None):
    spec = _course(tmp_path / "course", {file_name.removesuffix(".py"): yaml})[0]
    folder = tmp_path / "submission"
    folder.mkdir()
    (folder / file_name).write_text(textwrap.dedent(source))
    book = grade_submission([spec], folder, sandbox, RunOptions(replay_command=lambda s, c, t: t))
    exercise = book.exercises[spec.name]
    return spec, {str(c.check): (str(c.status), c.message) for c in exercise.checks}


@pytest.fixture(scope="module")
def sandbox():
    if not sys.platform.startswith("linux"):
        pytest.skip("autograder mode needs Linux")
    box = Sandbox(WorkerLimits(time_seconds=30))
    yield box
    box.close()


@pytest.mark.parametrize("style", sorted(STUDENTS))
def test_a_drawn_keyword_param_reaches_the_student_and_the_reference(tmp_path, style):
    student, source = STUDENTS[style]
    _, right = _grade(tmp_path / "right", LEAKY % student, "leaky.py", source.format(slope="slope"))
    assert {s for s, _ in right.values()} == {"passed"}, right
    spec, wrong = _grade(tmp_path / "wrong", LEAKY % student, "leaky.py", source.format(slope="0.01"))
    assert wrong["forward"][0] == "passed"
    status, message = wrong["backward"]
    assert status == "failed"
    slope = re.search(r"negative_slope=([0-9.e-]+)", message.split("replay:")[1]).group(1)
    assert f"negative_slope={float(slope)!r}" in message.split("smallest failing input:")[1].split("[")[1]
    replay = message.split("replay: ")[1].strip()
    assert Trial.parse(replay, spec).params == {"negative_slope": float(slope)}
    assert Trial.parse(replay, spec).describe() == replay


def test_a_positional_dict_param_with_drawn_fields_in_the_numpy_style(tmp_path):
    right = "np.where(True, p['alpha'] * p['power'] * x ** (p['power'] - 1), 0) * dout"
    spec, graded = _grade(tmp_path / "right", SCALE, "scale.py", SCALE_PY.format(grad=right))
    assert {s for s, _ in graded.values()} == {"passed"}, graded
    _, wrong = _grade(tmp_path / "wrong", SCALE, "scale.py", SCALE_PY.format(grad="p['alpha'] * dout"))
    status, message = wrong["backward"]
    assert status == "failed" and "p.power=2" in message, message
    replay = message.split("replay: ")[1].strip()
    trial = Trial.parse(replay, spec)
    assert trial.params["p"]["power"] == 2 and trial.params["p"]["note"] == "fixed"
    assert "p.note" not in replay  # a fixed value is not drawn: the replay string leaves it out


def test_an_integer_param_sizes_a_shape_and_a_fixed_one_is_passed_too(tmp_path):
    spec, graded = _grade(tmp_path / "right", TILE, "tile.py", TILE_PY.format(grad="grad_output.sum(dim=1)"))
    assert {s for s, _ in graded.values()} == {"passed"}, graded
    trial = Trial.parse("N=2,k=3,values=5", spec)
    assert trial.params == {"k": 3, "offset": 0.5}
    assert make_inputs(spec, trial)["x"].shape == (2,)
    _, wrong = _grade(tmp_path / "wrong", TILE, "tile.py", TILE_PY.format(grad="grad_output[:, 0]"))
    status, message = wrong["backward"]
    assert status == "failed" and re.search(r"k=[2-4]", message), message


def test_params_in_autograder_mode(tmp_path, sandbox):
    student, source = STUDENTS["leaky_functional"]
    _, right = _grade(tmp_path / "leaky", LEAKY % student, "leaky.py", source.format(slope="slope"), sandbox)
    assert {s for s, _ in right.values()} == {"passed"}, right
    wrong_grad = "p['alpha'] * dout"
    _, wrong = _grade(tmp_path / "scale", SCALE, "scale.py", SCALE_PY.format(grad=wrong_grad), sandbox)
    assert wrong["backward"][0] == "failed" and "p.power=2" in wrong["backward"][1]


def test_seeded_trials_draw_params_and_leave_other_exercises_as_they_were(tmp_path):
    spec = _course(tmp_path, {"scale": SCALE})[0]
    trials = seeded_trials(spec, 50, seed=3)
    assert {t.params["p"]["power"] for t in trials} == {1, 2}
    assert all(0.5 <= t.params["p"]["alpha"] <= 2.0 for t in trials)
    plain = load_exercise(Path(__file__).parent.parent / "exercises" / "linear" / "exercise.yaml")
    rng = random.Random(3)
    first = seeded_trials(plain, 1, seed=3)[0]
    assert first.params == {} and first.dims == {name: rng.randint(lo, hi) for name, (lo, hi) in plain.dims.items()}


@pytest.mark.parametrize(("params", "expected"), [
    ("  - {name: s}", "params.s: expected exactly one of value, integers, floats, choices, fields, got none"),
    ("  - {name: s, value: 1, floats: [0, 1]}", "params.s: expected exactly one of value, integers, floats, "
                                                "choices, fields, got value, floats"),
    ("  - {name: s, integers: [3, 1]}", "params.s.integers: expected [low, high] with integers low <= high"),
    ("  - {name: x, value: 1}", "params.x.name: expected a name no input or other param has"),
    ("  - {name: s, floats: [0, 1], positional: yes please}", "params.s.positional: expected true or false"),
    ("  - {name: s, fields: [{name: a, value: 1, positional: true}]}", "params.s.fields[0].positional: unknown key"),
    ("  - {name: s, valu: 1}", "params[0].valu: unknown key; did you mean 'value'?"),
])
def test_a_wrong_param_is_one_line_naming_the_field(tmp_path, params, expected):
    path = tmp_path / "e" / "exercise.yaml"
    path.parent.mkdir()
    path.write_text("name: e\nstudent: {file: e.py, class: E}\nreference: torch.sin\n"
                    "inputs:\n  - {name: x, shape: [N]}\ndims: {N: [1, 2]}\nparams:\n" + params + "\n")
    with pytest.raises(ConfigError) as caught:
        load_exercise(path)
    assert expected in str(caught.value), str(caught.value)


def test_a_shape_may_name_an_integer_param_but_not_a_float_one(tmp_path):
    path = tmp_path / "e" / "exercise.yaml"
    path.parent.mkdir()
    path.write_text("name: e\nstudent: {file: e.py, class: E}\nreference: torch.sin\n"
                    "inputs:\n  - {name: x, shape: [k, s]}\nparams:\n  - {name: k, integers: [1, 2]}\n"
                    "  - {name: s, floats: [1, 2]}\n")
    with pytest.raises(ConfigError) as caught:
        load_exercise(path)
    assert "dim 's' is not declared under dims" in str(caught.value)
    assert "'k'" not in str(caught.value)
