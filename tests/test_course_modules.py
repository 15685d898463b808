"""A course's own modules: support modules the students' files import (course.yaml `support:`),
a references module beside course.yaml that only the grader can import, and course-wide
`allow_imports:` — all found without PYTHONPATH, in-process and in the autograder's workers."""

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

HELPERS = '''
"""Course helpers shipped to students (like CS231n's cs231n/ package)."""
from .matmul import mm


def affine_cache(x, w, b):
    return (x, w, b)
'''
MATMUL = "def mm(a, b):\n    return a @ b\n\n\ndef fast_affine_backward(dout, cache):\n    x, w, b = cache\n" \
         "    return dout @ w.T, x.T @ dout, dout.sum(0)\n"
REFERENCES = "import torch\n\n\ndef affine(x, w, b):\n    return torch.addmm(b, x, w)\n"

STUDENT = '''
from builtins import range
import torch
from cs231n import *
from cs231n.matmul import mm as matmul


def affine_forward(x, w, b):
    out = matmul(x, w) + b
    return out, affine_cache(x, w, b)


def affine_backward(dout, cache):
    x, w, b = cache
    return mm(dout, w.T), mm(x.T, dout), dout.sum(dim=0)
'''


@pytest.fixture
def course(tmp_path) -> Path:
    """The affine exercise in a course of its own: its reference in the course's references.py, a
    cs231n support package, and course-wide allow_imports."""
    root = tmp_path / "course"
    shutil.copytree(EXERCISES / "affine", root / "affine", ignore=shutil.ignore_patterns("*.py"))
    yaml = root / "affine" / "exercise.yaml"
    yaml.write_text(yaml.read_text().replace("reference: gradcheck_suite.references.linear", "reference: references.affine")
                    .replace("forbid: [torch.nn.functional.linear]",
                             "forbid: [torch.nn.functional.linear, cs231n.matmul.fast_affine_backward]"))
    (root / "cs231n").mkdir()
    (root / "cs231n" / "__init__.py").write_text(HELPERS)
    (root / "cs231n" / "matmul.py").write_text(MATMUL)
    (root / "references.py").write_text(REFERENCES)
    (root / "course.yaml").write_text("support: [cs231n]\nallow_imports: [statistics]\n")
    return root


def _grade(course: Path, source: str, folder: Path, sandbox=None):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "affine.py").write_text(textwrap.dedent(source))
    spec = load_exercise(course / "affine" / "exercise.yaml")
    return grade_submission([spec], folder, sandbox).exercises["affine"]


@pytest.fixture(scope="module")
def sandbox():
    if not sys.platform.startswith("linux"):
        pytest.skip("autograder mode needs Linux")
    box = Sandbox(WorkerLimits(time_seconds=30))
    yield box
    box.close()


@pytest.mark.parametrize("isolated", [False, True], ids=["in-process", "isolated"])
def test_a_file_that_imports_the_course_support_modules_gets_full_marks(course, tmp_path, isolated, request):
    sandbox = request.getfixturevalue("sandbox") if isolated else None
    result = _grade(course, STUDENT + "import statistics\n", tmp_path / "submission", sandbox)
    assert result.status == "passed" and result.score == result.max_score, \
        [(c.check, c.status, c.message) for c in result.checks]
    spec = load_exercise(course / "affine" / "exercise.yaml")
    assert spec.reference.function.__module__.startswith("_gradcheck_course_"), "loaded under a private name"
    assert "references" not in sys.modules and str(course) not in sys.path


@pytest.mark.parametrize("isolated", [False, True], ids=["in-process", "isolated"])
def test_the_course_references_module_is_not_importable_by_student_code(course, tmp_path, isolated, request):
    sandbox = request.getfixturevalue("sandbox") if isolated else None
    cheat = STUDENT.replace("import torch\n", "import torch\nfrom references import affine as solution\n")
    result = _grade(course, cheat, tmp_path / "submission", sandbox)
    assert result.status == "error" and result.score == 0
    assert "ModuleNotFoundError: No module named 'references'" in result.checks[0].message


def test_a_support_function_named_in_forbid_is_forbidden(course, tmp_path):
    uses = STUDENT.replace("    return mm(dout, w.T), mm(x.T, dout), dout.sum(dim=0)",
                           "    from cs231n.matmul import fast_affine_backward\n"
                           "    return fast_affine_backward(dout, cache)")
    result = _grade(course, uses, tmp_path / "submission")
    assert result.status == "failed" and result.score == 0
    assert "cs231n.matmul.fast_affine_backward, which this exercise forbids" in result.checks[0].message


def test_imports_beyond_the_course_allowance_are_still_flagged(course, tmp_path):
    result = _grade(course, STUDENT + "import os\n", tmp_path / "submission")
    assert result.status == "flagged" and "imports os" in result.checks[0].message
