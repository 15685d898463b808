"""Side outputs and modes: CS231n's batchnorm, whose forward writes bn_param['running_mean'] and
bn_param['running_var'] in train mode and normalises with them in test mode, graded from real
student code (NumPy in CS231n's style, and an autograd.Function), correct and buggy, in-process
and isolated.

The exercise draws running_mean and running_var per trial (`shape: [D]` fields of bn_param),
names them under `side_outputs:`, and draws `mode` from [train, test] with `checks: {test:
[forward]}`: test mode is graded by the forward check alone."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from conftest import REPO_ROOT, grade
from gradcheck_suite.cli import main
from gradcheck_suite.errors import ConfigError
from gradcheck_suite.exercise.load import load_exercise
from gradcheck_suite.grading.options import RunOptions
from gradcheck_suite.grading.runner import prepare, run_check
from gradcheck_suite.inputs.params import drawn_for, for_check

OPTIONS = RunOptions(trials=8)
CS231N = REPO_ROOT / "examples" / "cs231n"

YAML = """\
name: batchnorm
student: {student}
reference: references.batchnorm_forward
dims: {{N: [2, 4], D: [1, 3]}}
params:
  - name: bn_param
    positional: true
    fields:
      - {{name: mode, choices: [train, test], checks: {{test: [forward]}}}}
      - {{name: eps, value: 1.0e-5}}
      - {{name: momentum, floats: [0.5, 0.95]}}
      - {{name: running_mean, shape: [D]}}
      - {{name: running_var, shape: [D], domain: positive}}
side_outputs: [bn_param.running_mean, bn_param.running_var]
inputs:
  - {{name: x, shape: [N, D]}}
  - {{name: gamma, shape: [D]}}
  - {{name: beta, shape: [D]}}
"""

NUMPY = "{file: layers.py, style: numpy, forward: batchnorm_forward, backward: batchnorm_backward}"
FUNCTION = "{file: layers.py, class: BatchNorm}"

# CS231n's batchnorm as students write it; {train} and {test} are the two modes' bodies.
NUMPY_SOURCE = """\
import numpy as np


def batchnorm_forward(x, gamma, beta, bn_param):
    mode = bn_param["mode"]
    eps = bn_param.get("eps", 1e-5)
    momentum = bn_param.get("momentum", 0.9)
    N, D = x.shape
    running_mean = bn_param.get("running_mean", np.zeros(D, dtype=x.dtype))
    running_var = bn_param.get("running_var", np.zeros(D, dtype=x.dtype))
    if mode == "train":
        sample_mean = x.mean(axis=0)
        sample_var = x.var(axis=0)
        inv_std = 1.0 / np.sqrt(sample_var + eps)
        xhat = (x - sample_mean) * inv_std
{train}
    elif mode == "test":
{test}
    else:
        raise ValueError('Invalid forward batchnorm mode "%s"' % mode)
    out = gamma * xhat + beta
    return out, (xhat, inv_std, gamma)


def batchnorm_backward(dout, cache):
    xhat, inv_std, gamma = cache
    dxhat = dout * gamma
    dx = (dxhat - dxhat.mean(axis=0) - xhat * (dxhat * xhat).mean(axis=0)) * inv_std
    return dx, (dout * xhat).sum(axis=0), dout.sum(axis=0)
"""

TRAIN = """\
        running_mean = momentum * running_mean + (1 - momentum) * sample_mean
        running_var = momentum * running_var + (1 - momentum) * sample_var
        bn_param["running_mean"] = running_mean
        bn_param["running_var"] = running_var"""
TEST = """\
        inv_std = 1.0 / np.sqrt(running_var + eps)
        xhat = (x - running_mean) * inv_std"""

NUMPY_CASES = {
    "correct": {},
    "in-place update": {"train": """\
        running_mean *= momentum
        running_mean += (1 - momentum) * sample_mean
        running_var *= momentum
        running_var += (1 - momentum) * sample_var"""},  # the arrays in bn_param itself
    "never written back": {"train": """\
        running_mean = momentum * running_mean + (1 - momentum) * sample_mean
        running_var = momentum * running_var + (1 - momentum) * sample_var"""},
    "momentum swapped": {"train": TRAIN.replace("momentum * running_mean + (1 - momentum) * sample_mean",
                                                "(1 - momentum) * running_mean + momentum * sample_mean")},
    "unbiased running variance": {"train": TRAIN.replace("(1 - momentum) * sample_var",
                                                         "(1 - momentum) * x.var(axis=0, ddof=1)")},
    "a list written": {"train": TRAIN + '\n        bn_param["running_var"] = list(running_var)'},
    "test mode with batch statistics": {"test": """\
        inv_std = 1.0 / np.sqrt(x.var(axis=0) + eps)
        xhat = (x - x.mean(axis=0)) * inv_std"""},
}

FUNCTION_SOURCE = """\
import torch


class BatchNorm(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, gamma, beta, bn_param):
        eps, momentum = bn_param["eps"], bn_param["momentum"]
        if bn_param["mode"] == "train":
            mean, var = x.mean(dim=0), x.var(dim=0, unbiased=False)
{update}
        else:
            mean, var = bn_param["running_mean"], bn_param["running_var"]
        inv_std = 1.0 / torch.sqrt(var + eps)
        xhat = (x - mean) * inv_std
        ctx.save_for_backward(xhat, inv_std, gamma)
        return gamma * xhat + beta

    @staticmethod
    def backward(ctx, grad_output):
        xhat, inv_std, gamma = ctx.saved_tensors
        dxhat = grad_output * gamma
        dx = (dxhat - dxhat.mean(dim=0) - xhat * (dxhat * xhat).mean(dim=0)) * inv_std
        return dx, (grad_output * xhat).sum(dim=0), grad_output.sum(dim=0), None
"""

FUNCTION_CASES = {
    "correct": """\
            bn_param["running_mean"] = momentum * bn_param["running_mean"] + (1 - momentum) * mean
            bn_param["running_var"] = momentum * bn_param["running_var"] + (1 - momentum) * var""",
    "in place on the tensors": """\
            bn_param["running_mean"].mul_(momentum).add_((1 - momentum) * mean)
            bn_param["running_var"].mul_(momentum).add_((1 - momentum) * var)""",
    "never written back": "            pass",
}


def _course(tmp_path: Path, student: str, source: str):
    """A course holding the batchnorm exercise above, CS231n's references beside it, and `source`."""
    root = tmp_path / "course"
    folder = root / "batchnorm"
    folder.mkdir(parents=True)
    (root / "course.yaml").write_text("exercises: {batchnorm: 1}\n")
    shutil.copy(CS231N / "references.py", root / "references.py")
    (folder / "exercise.yaml").write_text(YAML.format(student=student))
    (folder / "layers.py").write_text(source)
    return load_exercise(folder / "exercise.yaml"), folder


def _numpy(case: str):
    parts = {"train": TRAIN, "test": TEST, **NUMPY_CASES[case]}
    return NUMPY, NUMPY_SOURCE.format(**parts)


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


def _failing(verdicts) -> dict[str, str]:
    return {check: message for check, (status, message) in verdicts.items() if status != "passed"}


# ----------------------------------------------------------------------------- in process

@pytest.mark.parametrize("case", ["correct", "in-place update"])
def test_a_correct_numpy_batchnorm_passes_both_modes_and_its_running_averages(tmp_path, case):
    spec, folder = _course(tmp_path, *_numpy(case))
    assert [s.label for s in spec.side_outputs] == ["bn_param['running_mean']", "bn_param['running_var']"]
    assert _failing(_verdicts(spec, folder)) == {}


def test_a_running_average_never_written_back_is_named(tmp_path):
    failing = _failing(_verdicts(*_course(tmp_path, *_numpy("never written back"))))
    assert set(failing) == {"forward"}, failing
    assert failing["forward"].startswith(
        "bn_param['running_mean'] after the forward still holds the value it was given, and the reference "
        "(references.batchnorm_forward) updates it: expected your forward to write the new value back into "
        "bn_param (bn_param['running_mean'] = ...)"), failing["forward"]
    # The failing input shows what bn_param held, the drawn arrays included.
    assert "bn_param['running_mean'] (" in failing["forward"] and "bn_param.mode=train" in failing["forward"]


@pytest.mark.parametrize("case, entry", [("momentum swapped", "running_mean"), ("unbiased running variance", "running_var")])
def test_a_wrong_running_average_fails_the_forward_check_alone(tmp_path, case, entry):
    failing = _failing(_verdicts(*_course(tmp_path, *_numpy(case))))
    assert set(failing) == {"forward"}, failing
    assert failing["forward"].startswith(f"bn_param['{entry}'] after the forward differs from the reference's "
                                         "(references.batchnorm_forward): "), failing["forward"]


def test_a_running_average_of_another_type_is_named(tmp_path):
    failing = _failing(_verdicts(*_course(tmp_path, *_numpy("a list written"))))
    assert failing["forward"].startswith("bn_param['running_var'] after the forward is a list, expected a NumPy "
                                         "array of shape ("), failing["forward"]


def test_test_mode_is_graded_by_the_forward_check_and_the_backward_draws_train_mode(tmp_path):
    failing = _failing(_verdicts(*_course(tmp_path, *_numpy("test mode with batch statistics"))))
    assert set(failing) == {"forward"}, failing  # the backward checks never meet test mode
    assert "bn_param.mode=test" in failing["forward"], failing["forward"]
    assert failing["forward"].startswith("forward output differs from the reference"), failing["forward"]


def test_a_mode_listed_under_checks_is_drawn_for_those_checks_only(tmp_path):
    spec, _ = _course(tmp_path, *_numpy("correct"))
    mode = spec.params[0].fields[0]
    assert mode.choices == ("train", "test") and mode.checks == (("test", ("forward",)),)
    assert for_check(spec, "forward").params[0].fields[0].choices == ("train", "test")
    assert for_check(spec, "backward").params[0].fields[0].choices == ("train",)
    test_mode = {"bn_param": {"mode": "test", "eps": 1e-5, "momentum": 0.9}}
    assert drawn_for(spec, "forward", test_mode) and not drawn_for(spec, "finite_differences", test_mode)


@pytest.mark.parametrize("case", sorted(FUNCTION_CASES))
def test_an_autograd_function_finds_tensors_in_bn_param_and_its_updates_are_compared(tmp_path, case):
    spec, folder = _course(tmp_path, FUNCTION, FUNCTION_SOURCE.format(update=FUNCTION_CASES[case]))
    failing = _failing(_verdicts(spec, folder))
    if case == "never written back":
        assert set(failing) == {"forward"} and "still holds the value it was given" in failing["forward"], failing
    else:
        assert failing == {}


# ----------------------------------------------------------------------------- config mistakes

MISTAKES = {
    "a side output of a param that is no dict": (
        ("side_outputs: [bn_param.running_mean, bn_param.running_var]", "side_outputs: [momentum.running_mean]"),
        "exercise.yaml:14: side_outputs: expected a dict param's entry (param.key), and 'momentum' is not a dict "
        "param (dict params: bn_param)"),
    "a side output that is not param.key": (
        ("side_outputs: [bn_param.running_mean, bn_param.running_var]", "side_outputs: [running_mean]"),
        "exercise.yaml:14: side_outputs: expected a non-empty list of dict-param entries such as "
        "bn_param.running_mean"),
    "checks for a choice that is not one": (
        ("checks: {{test: [forward]}}", "checks: {{tset: [forward]}}"),
        "exercise.yaml:9: params.bn_param.fields.mode.checks.tset: expected one of the choices (train, test), "
        "got 'tset'"),
    "every choice kept from a check": (
        ("checks: {{test: [forward]}}", "checks: {{test: [forward], train: [forward]}}"),
        "exercise.yaml:9: params.bn_param.fields.mode.checks: expected some choice drawn for every check, and none "
        "is drawn for backward"),
    "an array field sized by an unknown dim": (
        ("{{name: running_mean, shape: [D]}}", "{{name: running_mean, shape: [E]}}"),
        "exercise.yaml:12: params.bn_param.fields.running_mean.shape: expected dims declared under dims, got 'E'"),
    "a domain beside a value": (
        ("{{name: eps, value: 1.0e-5}}", "{{name: eps, value: 1.0e-5, domain: positive}}"),
        "exercise.yaml:10: params.bn_param.fields.eps.domain: expected domain only beside shape (an array field)"),
}


@pytest.mark.parametrize("case", sorted(MISTAKES))
def test_a_side_output_or_mode_mistake_is_one_line_with_its_place(tmp_path, case):
    (old, new), expected = MISTAKES[case]
    text = YAML.replace(old, new)
    assert text != YAML, case
    root = tmp_path / "course" / "batchnorm"
    root.mkdir(parents=True)
    (root / "exercise.yaml").write_text(text.format(student=NUMPY))
    with pytest.raises(ConfigError) as raised:
        load_exercise(root / "exercise.yaml")
    assert expected in str(raised.value), str(raised.value)


def test_validate_names_a_side_output_the_reference_never_writes(tmp_path, monkeypatch, capsys):
    spec, folder = _course(tmp_path, *_numpy("correct"))
    text = (folder / "exercise.yaml").read_text()
    (folder / "exercise.yaml").write_text(text.replace("bn_param.running_var]", "bn_param.running_variance]"))
    monkeypatch.chdir(tmp_path / "course")
    assert main(["validate", "batchnorm"]) == 1
    out = capsys.readouterr().out
    assert ("batchnorm/exercise.yaml:14: side_outputs: expected an entry the reference writes: "
            "references.batchnorm_forward leaves bn_param['running_variance'] without it") in out, out
    assert "Traceback" not in out


def test_validate_names_an_entry_the_reference_leaves_as_given(tmp_path, monkeypatch, capsys):
    spec, folder = _course(tmp_path, *_numpy("correct"))
    text = (folder / "exercise.yaml").read_text()
    text = text.replace("      - {name: momentum, floats: [0.5, 0.95]}\n",
                        "      - {name: momentum, floats: [0.5, 0.95]}\n      - {name: spare, shape: [D]}\n")
    (folder / "exercise.yaml").write_text(text.replace("bn_param.running_var]", "bn_param.running_var, "
                                                                                 "bn_param.spare]"))
    monkeypatch.chdir(tmp_path / "course")
    assert main(["validate", "batchnorm"]) == 1
    out = capsys.readouterr().out
    assert ("side_outputs: expected an entry the reference writes: references.batchnorm_forward left "
            "bn_param['spare'] as given on every trial drawn") in out, out


# ----------------------------------------------------------------------------- isolated

@pytest.fixture(scope="module")
def sandbox():
    from gradcheck_suite.sandbox.supervisor import Sandbox, WorkerLimits

    box = Sandbox(WorkerLimits(time_seconds=60))
    yield box
    box.close()


ISOLATED = {
    "numpy correct": lambda: _numpy("correct"),
    "numpy never written back": lambda: _numpy("never written back"),
    "numpy a list written": lambda: _numpy("a list written"),
    "Function in place": lambda: (FUNCTION, FUNCTION_SOURCE.format(update=FUNCTION_CASES["in place on the tensors"])),
}


@pytest.mark.heavy
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="autograder mode needs Linux")
@pytest.mark.parametrize("case", sorted(ISOLATED))
def test_isolated_verdicts_equal_in_process_verdicts(tmp_path, sandbox, case):
    spec, folder = _course(tmp_path, *ISOLATED[case]())
    assert _verdicts(spec, folder, sandbox) == _verdicts(spec, folder)
