"""One student file for many exercises (CS231n's layers.py): each exercise grades its own functions,
a stub or a mistake in one function costs only the exercises that call it, and what the file does
at module level counts for every exercise that reads it — in-process and isolated."""

from __future__ import annotations

import shutil
import sys
import textwrap
from pathlib import Path

import pytest

from conftest import EXERCISES
from gradcheck_suite.exercise.load import load_exercise
from gradcheck_suite.grading.runner import grade_submission
from gradcheck_suite.sandbox.supervisor import Sandbox, WorkerLimits

LAYERS = '''
from builtins import range
import numpy as np
import torch
{module_level}

def affine_forward(x, w, b):
    out = None
    {affine_forward}
    cache = (x, w, b)
    return out, cache


def affine_backward(dout, cache):
    x, w, b = cache
    dx, dw, db = None, None, None
    {affine_backward}
    return dx, dw, db


def _mask(x):
    {mask}


def relu_forward(x):
    out = np.maximum(0, x)
    return out, x


def relu_backward(dout, cache):
    dx = dout
    dx[_mask(cache)] = 0
    return dx
'''
IMPLEMENTED = {
    "module_level": "",
    "affine_forward": "out = x @ w + b",
    "affine_backward": "dx, dw, db = dout @ w.T, x.T @ dout, dout.sum(dim=0)",
    "mask": "return x <= 0",
}


def _course(root: Path) -> list:
    for name in ("affine", "relu_numpy"):
        shutil.copytree(EXERCISES / name, root / name, ignore=shutil.ignore_patterns("*.py"))
        yaml = root / name / "exercise.yaml"
        yaml.write_text(yaml.read_text().replace(f"file: {name}.py", "file: layers.py"))
    return [load_exercise(root / name / "exercise.yaml") for name in ("affine", "relu_numpy")]


@pytest.fixture(scope="module")
def sandbox():
    if not sys.platform.startswith("linux"):
        pytest.skip("autograder mode needs Linux")
    box = Sandbox(WorkerLimits(time_seconds=30))
    yield box
    box.close()


def _grade(tmp_path, sandbox=None, **parts):
    specs = _course(tmp_path / "course")
    folder = tmp_path / "submission"
    folder.mkdir()
    (folder / "layers.py").write_text(textwrap.dedent(LAYERS).format(**{**IMPLEMENTED, **parts}))
    book = grade_submission(specs, folder, sandbox)
    return {name: (e.status, e.score, e.max_score, e.not_implemented, [c.message for c in e.checks if c.message])
            for name, e in book.exercises.items()}


@pytest.mark.parametrize("isolated", [False, True], ids=["in-process", "isolated"])
def test_one_file_many_exercises_each_graded_on_its_own_functions(tmp_path, isolated, request):
    sandbox = request.getfixturevalue("sandbox") if isolated else None
    graded = _grade(tmp_path / "all", sandbox)
    assert {n: g[:3] for n, g in graded.items()} == {"affine": ("passed", 10, 10), "relu_numpy": ("passed", 10, 10)}
    stubbed = _grade(tmp_path / "stub", sandbox, affine_forward="pass", affine_backward="pass")
    assert stubbed["affine"][:4] == ("error", 0, 10, True)
    assert "affine_forward is not implemented yet (it returns (None, cache))" in stubbed["affine"][4][0]
    assert stubbed["relu_numpy"][:3] == ("passed", 10, 10)


def test_a_forbidden_call_fails_only_the_exercise_whose_functions_make_it(tmp_path):
    graded = _grade(tmp_path, affine_backward="dx, dw, db = dout @ w.T, x.T @ dout, dout.sum(dim=0)\n"
                                              "    torch.nn.functional.linear(x, w.T, b)")
    assert graded["affine"][:2] == ("failed", 0)
    assert "torch.nn.functional.linear, which this exercise forbids" in graded["affine"][4][0]
    assert graded["relu_numpy"][:2] == ("passed", 10)


def test_a_flag_in_a_helper_counts_for_the_exercises_that_call_it_and_module_level_for_all(tmp_path):
    helper = _grade(tmp_path / "helper", mask="return getattr(np, 'less_equal')(x, 0)")
    assert helper["relu_numpy"][:2] == ("flagged", 0) and "uses getattr" in helper["relu_numpy"][4][0]
    assert helper["affine"][:2] == ("passed", 10)
    module = _grade(tmp_path / "module", module_level="import os")
    assert {name: graded[:2] for name, graded in module.items()} == {"affine": ("flagged", 0),
                                                                      "relu_numpy": ("flagged", 0)}
