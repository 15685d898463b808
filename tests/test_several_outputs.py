"""Several outputs, several upstream gradients (`outputs:`): real student code for two-output ops,
in the autograd.Function, CS231n (numpy) and functional styles, graded in-process and isolated.

`torch.std_mean(x, dim=-1)` returns two differentiable outputs, (std, mean); `torch.max(x, dim=-1)`
returns (values, indices), the indices non-differentiable (compared in the forward check only)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from conftest import grade
from gradcheck_suite.errors import ConfigError
from gradcheck_suite.exercise.load import load_exercise
from gradcheck_suite.grading.options import RunOptions
from gradcheck_suite.grading.runner import prepare, run_check

OPTIONS = RunOptions(trials=6)

STD_MEAN_YAML = """\
name: std_mean
student: {student}
reference: {{function: torch.std_mean, kwargs: {{dim: -1}}}}
inputs:
  - {{name: x, shape: [N, D]}}
dims: {{N: [1, 3], D: [2, 5]}}
outputs: [std, mean]
"""

FUNCTION = {"file": "std_mean.py", "class": "StdMean"}
NUMPY = {"file": "std_mean.py", "style": "numpy", "forward": "std_mean_forward", "backward": "std_mean_backward"}
FUNCTIONAL = {**NUMPY, "style": "functional"}

# The std's derivative is centered / ((D - 1) std): the mean's own term sums to zero.
STD_MEAN_FUNCTION = """\
import torch


class StdMean(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        D = x.shape[-1]
        mean = x.sum(-1) / D
        centered = x - mean[..., None]
        std = torch.sqrt((centered * centered).sum(-1) / (D - 1))
        ctx.save_for_backward(centered, std)
        return {returned}

    @staticmethod
    def backward(ctx, {upstream}):
        centered, std = ctx.saved_tensors
        D = centered.shape[-1]
        return {dx}
"""
CORRECT_FUNCTION = {"returned": "std, mean", "upstream": "grad_std, grad_mean",
                    "dx": "grad_std[..., None] * centered / ((D - 1) * std[..., None]) + grad_mean[..., None] / D"}

STD_MEAN_ARRAYS = """\
{imports}


def std_mean_forward(x):
    D = x.shape[-1]
    mean = x.sum(-1) / D
    centered = x - mean[..., None]
    std = {sqrt}((centered * centered).sum(-1) / (D - 1))
    return {returned}, (centered, std)


def std_mean_backward({upstream}, cache):
    centered, std = cache
    D = centered.shape[-1]
    return {dx}
"""
NUMPY_PARTS = {"imports": "import numpy as np", "sqrt": "np.sqrt"}
TORCH_PARTS = {"imports": "import torch", "sqrt": "torch.sqrt"}
CORRECT_ARRAYS = {"returned": "std, mean", "upstream": "dstd, dmean",
                  "dx": "dstd[..., None] * centered / ((D - 1) * std[..., None]) + dmean[..., None] / D"}

ROWMAX_YAML = """\
name: rowmax
student: {student}
reference: {{function: torch.max, kwargs: {{dim: -1}}}}
inputs:
  - {{name: x, shape: [N, D], domain: {{kind: real, distinct: true}}}}
dims: {{N: [1, 3], D: [1, 5]}}
outputs:
  values: {{}}
  indices: {{differentiable: false}}
"""

# The Function style's backward gets zeros of the indices' shape there, as PyTorch passes for an
# output marked non-differentiable; this one refuses anything else.
ROWMAX_FUNCTION = """\
import torch


class RowMax(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        rows = torch.arange(x.shape[0])
        indices = torch.zeros(x.shape[0], dtype=torch.int64)
        for j in range(1, x.shape[1]):
            indices = torch.where(x[:, j] > x[rows, indices], j, indices)
        ctx.mark_non_differentiable(indices)
        ctx.save_for_backward(x, indices)
        return x[rows, indices], {indices}

    @staticmethod
    def backward(ctx, grad_values, grad_indices):
        x, indices = ctx.saved_tensors
        if not (grad_indices.shape == indices.shape and not grad_indices.any()):
            raise ValueError(f"expected zeros for the indices' gradient, got {{grad_indices}}")
        dx = torch.zeros_like(x)
        dx[torch.arange(x.shape[0]), indices] = grad_values
        return dx
"""

ROWMAX_NUMPY = """\
import numpy as np


def rowmax_forward(x):
    indices = x.argmax(axis=-1)
    return x[np.arange(x.shape[0]), indices], {indices}, (x.shape, indices)


def rowmax_backward(dvalues, cache):  # one upstream gradient: the indices have none
    shape, indices = cache
    dx = np.zeros(shape, dtype=dvalues.dtype)
    dx[np.arange(shape[0]), indices] = dvalues
    return dx
"""


def _exercise(tmp_path: Path, yaml_text: str, student: dict, source: str):
    folder = tmp_path / "course" / yaml_text.split("\n", 1)[0].split(": ")[1]
    folder.mkdir(parents=True)
    block = "{" + ", ".join(f"{k}: {v}" for k, v in student.items()) + "}"
    (folder / "exercise.yaml").write_text(yaml_text.format(student=block))
    (folder / student["file"]).write_text(source)
    return load_exercise(folder / "exercise.yaml"), folder


def _verdicts(spec, folder, sandbox=None) -> dict[str, tuple[str, str]]:
    if sandbox is None:
        results = grade(spec, folder, OPTIONS)
    else:
        from gradcheck_suite.sandbox.staging import Submission

        staged = Submission.collect({spec.student_file: folder / spec.student_file})
        exercise = prepare(spec, folder, sandbox, staged)
        try:
            results = {check: run_check(exercise, check, OPTIONS) for check in spec.checks}
        finally:
            exercise.close()
    return {str(check): (str(r.status), r.message) for check, r in results.items()}


def _passed(verdicts) -> set[str]:
    return {check for check, (status, _) in verdicts.items() if status == "passed"}


# ----------------------------------------------------------------------------- the submissions

def _std_mean(style: str, **changes) -> tuple[dict, str]:
    if style == "autograd_function":
        return FUNCTION, STD_MEAN_FUNCTION.format(**{**CORRECT_FUNCTION, **changes})
    parts = NUMPY_PARTS if style == "numpy" else TORCH_PARTS
    return (NUMPY if style == "numpy" else FUNCTIONAL), STD_MEAN_ARRAYS.format(**parts, **{**CORRECT_ARRAYS, **changes})


IGNORES_MEAN = {"autograd_function": {"dx": "grad_std[..., None] * centered / ((D - 1) * std[..., None])"},
                "numpy": {"dx": "dstd[..., None] * centered / ((D - 1) * std[..., None])"},
                "functional": {"dx": "dstd[..., None] * centered / ((D - 1) * std[..., None])"}}
# Outputs returned swapped, the backward taking its upstream gradients in the same swapped order:
# forward and backward agree with each other, only the reference's outputs, by name, catch it.
SWAPPED = {"autograd_function": {"returned": "mean, std", "upstream": "grad_mean, grad_std"},
           "numpy": {"returned": "mean, std", "upstream": "dmean, dstd"},
           "functional": {"returned": "mean, std", "upstream": "dmean, dstd"}}
STYLES = ("autograd_function", "numpy", "functional")


@pytest.mark.parametrize("style", STYLES)
def test_a_correct_two_output_op_gets_full_marks(tmp_path, style):
    student, source = _std_mean(style)
    spec, folder = _exercise(tmp_path, STD_MEAN_YAML, student, source)
    assert [o.name for o in spec.outputs] == ["std", "mean"] and spec.differentiable_outputs == (True, True)
    verdicts = _verdicts(spec, folder)
    assert _passed(verdicts) == set(verdicts), verdicts


@pytest.mark.parametrize("style", STYLES)
def test_a_backward_that_ignores_the_second_upstream_gradient_fails_backward(tmp_path, style):
    student, source = _std_mean(style, **IGNORES_MEAN[style])
    spec, folder = _exercise(tmp_path, STD_MEAN_YAML, student, source)
    verdicts = _verdicts(spec, folder)
    # Linear, zero for zero and repeatable all the same: only the values are wrong.
    assert _passed(verdicts) == {"forward", "backward_properties"}, verdicts
    status, message = verdicts["backward"]
    assert status == "failed" and "gradient for 'x'" in message, message
    assert "likely cause: the upstream gradient of output 'mean' is ignored" in message, message
    assert "inconsistent with your own forward" in verdicts["finite_differences"][1]


@pytest.mark.parametrize("style", STYLES)
def test_outputs_returned_swapped_fail_forward_naming_the_output(tmp_path, style):
    student, source = _std_mean(style, **SWAPPED[style])
    spec, folder = _exercise(tmp_path, STD_MEAN_YAML, student, source)
    verdicts = _verdicts(spec, folder)
    status, message = verdicts["forward"]
    assert status == "failed", verdicts
    assert message.startswith("forward output 'std' differs from the reference (torch.std_mean)"), message
    assert "likely cause: this is the reference's output 'mean': outputs returned in the wrong order?" in message
    assert "finite_differences" in _passed(verdicts), verdicts  # self-consistent: only the reference catches it


def test_a_forward_returning_one_tensor_where_two_are_declared_is_named(tmp_path):
    student, source = _std_mean("autograd_function", returned="torch.stack([std, mean])")
    spec, folder = _exercise(tmp_path, STD_MEAN_YAML, student, source)
    status, message = _verdicts(spec, folder)["forward"]
    assert status == "failed" and "StdMean.forward returned Tensor, expected a tuple of 2 tensors (std, mean)" \
        in message, message


def test_a_cs231n_forward_without_its_second_output_is_named(tmp_path):
    student, source = _std_mean("numpy", returned="std")
    spec, folder = _exercise(tmp_path, STD_MEAN_YAML, student, source)
    status, message = _verdicts(spec, folder)["forward"]
    assert status == "failed" and "std_mean_forward returned a tuple of 2 values, expected (std, mean, cache)" \
        in message, message


def test_an_upstream_gradient_changed_in_place_is_named(tmp_path):
    dx = "grad_mean.div_(D)[..., None] + grad_std[..., None] * centered / ((D - 1) * std[..., None])"
    student, source = _std_mean("autograd_function", dx=dx)
    spec, folder = _exercise(tmp_path, STD_MEAN_YAML, student, source)
    status, message = _verdicts(spec, folder)["backward"]
    assert status == "failed" and "StdMean.backward modified 'grad_mean'" in message, message
    assert "work on grad_mean.clone()" in message and "'grad_std'" not in message, message


def test_a_stub_returning_nones_is_not_implemented(tmp_path):
    source = "def std_mean_forward(x):\n    return None, None, None\n\n\ndef std_mean_backward(dstd, dmean, cache):\n" \
             "    return None\n"
    spec, folder = _exercise(tmp_path, STD_MEAN_YAML, NUMPY, source)
    results = grade(spec, folder, OPTIONS)
    assert all(r.not_implemented for r in results.values()), {c: r.message for c, r in results.items()}


# ----------------------------------------------------------------------------- non-differentiable outputs

ROWMAX_STUDENTS = {"autograd_function": {"file": "rowmax.py", "class": "RowMax"},
                   "numpy": {"file": "rowmax.py", "style": "numpy", "forward": "rowmax_forward",
                             "backward": "rowmax_backward"}}
ROWMAX_SOURCES = {"autograd_function": ROWMAX_FUNCTION, "numpy": ROWMAX_NUMPY}
RIGHT_INDICES = "indices"
WRONG_INDICES = "x.shape[1] - 1 - indices"  # the values still follow the right ones


@pytest.mark.parametrize("style", sorted(ROWMAX_STUDENTS))
def test_a_non_differentiable_output_is_compared_in_forward_only(tmp_path, style):
    source = ROWMAX_SOURCES[style].format(indices=RIGHT_INDICES)
    spec, folder = _exercise(tmp_path, ROWMAX_YAML, ROWMAX_STUDENTS[style], source)
    assert spec.differentiable_outputs == (True, False)
    verdicts = _verdicts(spec, folder)
    # The Function's backward raises unless it gets zeros for the indices: passing shows it did.
    assert _passed(verdicts) == set(verdicts), verdicts


@pytest.mark.parametrize("style", sorted(ROWMAX_STUDENTS))
def test_wrong_indices_fail_the_forward_check_and_nothing_else(tmp_path, style):
    source = ROWMAX_SOURCES[style].format(indices=WRONG_INDICES)
    spec, folder = _exercise(tmp_path, ROWMAX_YAML, ROWMAX_STUDENTS[style], source)
    verdicts = _verdicts(spec, folder)
    status, message = verdicts["forward"]
    assert status == "failed" and message.startswith("forward output 'indices' differs from the reference "
                                                     "(torch.max): 'indices'"), message
    assert _passed(verdicts) == set(verdicts) - {"forward"}, verdicts


# ----------------------------------------------------------------------------- the YAML

@pytest.mark.parametrize("outputs, expected", [
    ("[a, a]", "outputs.a: expected a name no input or other output has"),
    ("[x, y]", "outputs.x: expected a name no input or other output has"),
    ("{a: {differentiable: false}}", "outputs: expected at least one differentiable output"),
    ("{a: {differentiable: maybe}}", "outputs.a.differentiable: expected true or false, got 'maybe'"),
    ("{a: {diferentiable: false}}", "outputs.a.diferentiable: unknown key; did you mean 'differentiable'?"),
    ("[]", "outputs: expected a non-empty list of output names such as [h, c], or a mapping"),
    ("[1-a]", "outputs: expected an identifier such as h as an output's name, got '1-a'"),
])
def test_a_mistake_under_outputs_is_one_line_with_its_place(tmp_path, outputs, expected):
    text = STD_MEAN_YAML.format(student="{file: s.py, class: S}").replace("outputs: [std, mean]", f"outputs: {outputs}")
    folder = tmp_path / "std_mean"
    folder.mkdir()
    (folder / "exercise.yaml").write_text(text)
    with pytest.raises(ConfigError) as raised:
        load_exercise(folder / "exercise.yaml")
    assert f"exercise.yaml:7: {expected}" in str(raised.value), str(raised.value)


@pytest.mark.parametrize("extra, expected", [
    ("double_backward: true\n", "double_backward: expected an exercise with one output"),
])
def test_what_takes_one_output_says_so(tmp_path, extra, expected):
    folder = tmp_path / "std_mean"
    folder.mkdir()
    (folder / "exercise.yaml").write_text(STD_MEAN_YAML.format(student="{file: s.py, class: S}") + extra)
    with pytest.raises(ConfigError) as raised:
        load_exercise(folder / "exercise.yaml")
    assert expected in str(raised.value), str(raised.value)


def test_the_loss_style_takes_one_output(tmp_path):
    folder = tmp_path / "std_mean"
    folder.mkdir()
    (folder / "exercise.yaml").write_text(STD_MEAN_YAML.format(student="{file: s.py, style: loss, forward: f}"))
    with pytest.raises(ConfigError) as raised:
        load_exercise(folder / "exercise.yaml")
    assert "exercise.yaml:7: outputs: expected one output for the loss style" in str(raised.value)


# ----------------------------------------------------------------------------- isolated
# A few seconds in all (one sandbox, small inputs): not marked heavy.

@pytest.fixture(scope="module")
def sandbox():
    from gradcheck_suite.sandbox.supervisor import Sandbox, WorkerLimits

    box = Sandbox(WorkerLimits(time_seconds=30))
    yield box
    box.close()


ISOLATED = {
    "std_mean correct (numpy)": (STD_MEAN_YAML, "numpy", {}),
    "std_mean ignores dmean (numpy)": (STD_MEAN_YAML, "numpy", IGNORES_MEAN["numpy"]),
    "std_mean swapped (Function)": (STD_MEAN_YAML, "autograd_function", SWAPPED["autograd_function"]),
    "rowmax (Function, zeros for the indices)": (ROWMAX_YAML, "autograd_function", None),
}


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="autograder mode needs Linux")
@pytest.mark.parametrize("case", sorted(ISOLATED))
def test_isolated_verdicts_equal_in_process_verdicts(tmp_path, sandbox, case):
    yaml_text, style, changes = ISOLATED[case]
    if changes is None:
        student, source = ROWMAX_STUDENTS[style], ROWMAX_FUNCTION.format(indices="indices")
    else:
        student, source = _std_mean(style, **changes)
    spec, folder = _exercise(tmp_path, yaml_text, student, source)
    assert _verdicts(spec, folder, sandbox) == _verdicts(spec, folder)
