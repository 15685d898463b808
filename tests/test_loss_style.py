"""The loss style: one NumPy function returning (loss, gradients), as CS231n's softmax_loss(x, y)
-> (loss, dx); the loss is checked against the reference's value and the gradients against
torch.autograd's gradient of the reference, in-process and isolated."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

from gradcheck_suite.errors import ConfigError
from gradcheck_suite.exercise.load import load_exercise
from gradcheck_suite.grading.options import RunOptions
from gradcheck_suite.grading.runner import grade_submission
from gradcheck_suite.sandbox.supervisor import Sandbox, WorkerLimits

REFERENCES = '''
import torch


def svm_loss(x, y):
    """CS231n's multiclass SVM loss: mean over rows of sum_j max(0, x_j - x_y + 1), j != y."""
    correct = x.gather(1, y[:, None])
    margins = (x - correct + 1).clamp(min=0)
    margins = margins.scatter(1, y[:, None], 0.0)
    return margins.sum() / x.shape[0]


def mse(a, b):
    return ((a - b) ** 2).mean()
'''

SOFTMAX = """\
name: softmax_loss
student: {file: layers.py, style: loss, forward: softmax_loss}
reference: torch.nn.functional.cross_entropy
inputs:
  - {name: x, shape: [N, C], domain: {kind: real, scale: 2.0}}
  - {name: y, shape: [N], dtype: int64, domain: {kind: integers, low: 0, high: C}}
dims: {N: [1, 5], C: [2, 6]}
trials: 10
"""

SVM = """\
name: svm_loss
student: {file: layers.py, style: loss, forward: svm_loss}
reference: references.svm_loss
inputs:
  - {name: x, shape: [N, C], domain: {kind: real, scale: 2.0, distinct: true, margin: 0.05}}
  - {name: y, shape: [N], dtype: int64, domain: {kind: integers, low: 0, high: C}}
dims: {N: [1, 5], C: [2, 6]}
trials: 10
checks: [forward, backward, backward_properties]
"""

MSE = """\
name: mse
student: {file: layers.py, style: loss, forward: mse_loss}
reference: references.mse
inputs:
  - {name: a, shape: [N]}
  - {name: b, shape: [N]}
dims: {N: [1, 5]}
trials: 10
"""

SOFTMAX_PY = """
def softmax_loss(x, y):
    shifted = x - x.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    N = x.shape[0]
    loss = -log_probs[np.arange(N), y].sum() / N
    dx = np.exp(log_probs)
    dx[np.arange(N), y] -= 1
    {scale}
    return loss, dx
"""

SVM_PY = """
def svm_loss(x, y):
    N = x.shape[0]
    correct = x[np.arange(N), y][:, None]
    margins = np.maximum(0, x - correct + 1.0)
    margins[np.arange(N), y] = 0
    loss = margins.sum() / N
    dx = (margins > 0).astype(x.dtype)
    dx[np.arange(N), y] -= dx.sum(axis=1){sign}
    dx /= N
    return loss, dx
"""

MSE_PY = """
def mse_loss(a, b):
    d = a - b
    return (d ** 2).mean(), ({grads})
"""


def _grade(tmp_path: Path, files: dict[str, str], source: str, sandbox=None) -> dict:
    root = tmp_path / "course"
    root.mkdir(parents=True)
    (root / "references.py").write_text(REFERENCES)
    (root / "course.yaml").write_text("visibility: visible\n")
    specs = []
    for name, text in files.items():
        (root / name).mkdir()
        (root / name / "exercise.yaml").write_text(text)
        specs.append(load_exercise(root / name / "exercise.yaml"))
    folder = tmp_path / "submission"
    folder.mkdir()
    (folder / "layers.py").write_text("import numpy as np\n" + textwrap.dedent(source))
    book = grade_submission(specs, folder, sandbox, RunOptions(replay_command=lambda s, c, t: t))
    return {name: {str(c.check): (str(c.status), c.message) for c in e.checks} for name, e in book.exercises.items()}


@pytest.fixture(scope="module")
def sandbox():
    if not sys.platform.startswith("linux"):
        pytest.skip("autograder mode needs Linux")
    box = Sandbox(WorkerLimits(time_seconds=30))
    yield box
    box.close()


def _statuses(graded: dict) -> dict:
    return {name: {check: status for check, (status, _) in checks.items()} for name, checks in graded.items()}


def test_cs231n_losses_from_one_file(tmp_path):
    right = SOFTMAX_PY.format(scale="dx /= N") + SVM_PY.format(sign="")
    graded = _grade(tmp_path, {"softmax_loss": SOFTMAX, "svm_loss": SVM}, right)
    assert {s for checks in _statuses(graded).values() for s in checks.values()} == {"passed"}, graded


def test_a_wrong_gradient_fails_backward_and_a_wrong_loss_fails_forward(tmp_path):
    wrong = SOFTMAX_PY.format(scale="") + SVM_PY.format(sign=" - 1")
    graded = _grade(tmp_path, {"softmax_loss": SOFTMAX, "svm_loss": SVM}, wrong)
    soft, svm = graded["softmax_loss"], graded["svm_loss"]
    assert soft["forward"][0] == "passed"
    assert soft["backward"][0] == "failed" and "gradient for 'x'" in soft["backward"][1], soft["backward"]
    assert soft["finite_differences"][0] == "failed"
    assert svm["forward"][0] == "passed" and svm["backward"][0] == "failed"
    bad_loss = SOFTMAX_PY.format(scale="dx /= N").replace(".sum() / N", ".sum()")
    loss_wrong = _grade(tmp_path / "loss", {"softmax_loss": SOFTMAX}, bad_loss)["softmax_loss"]
    assert loss_wrong["forward"][0] == "failed" and "differs from the reference" in loss_wrong["forward"][1]


def test_gradients_of_two_inputs_a_stub_and_a_missing_gradient(tmp_path):
    right = _grade(tmp_path / "right", {"mse": MSE}, MSE_PY.format(grads="2 * d / d.size, -2 * d / d.size"))
    assert set(_statuses(right)["mse"].values()) == {"passed"}, right
    one = _grade(tmp_path / "one", {"mse": MSE}, MSE_PY.format(grads="2 * d / d.size"))["mse"]
    assert one["backward"][0] == "failed"
    assert "mse_loss returned 1 gradient, expected 2: one per differentiable input, in order" in one["backward"][1]
    stub = _grade(tmp_path / "stub", {"mse": MSE}, "def mse_loss(a, b):\n    loss, grads = None, None\n"
                                                   "    return loss, grads\n")["mse"]
    assert stub["forward"][0] == "error" and "not implemented" in stub["forward"][1], stub["forward"]


def test_the_loss_style_in_autograder_mode(tmp_path, sandbox):
    right = SOFTMAX_PY.format(scale="dx /= N")
    assert set(_statuses(_grade(tmp_path / "r", {"softmax_loss": SOFTMAX}, right, sandbox))["softmax_loss"].values()) \
        == {"passed"}
    wrong = _grade(tmp_path / "w", {"softmax_loss": SOFTMAX}, SOFTMAX_PY.format(scale=""), sandbox)["softmax_loss"]
    assert wrong["backward"][0] == "failed" and wrong["forward"][0] == "passed"


def test_the_loss_style_names_one_function(tmp_path):
    path = tmp_path / "e" / "exercise.yaml"
    path.parent.mkdir()
    path.write_text(SOFTMAX.replace("forward: softmax_loss}", "forward: softmax_loss, backward: softmax_grad}"))
    with pytest.raises(ConfigError, match="student.backward: not for the loss style"):
        load_exercise(path)
