"""Shared paths, fixtures and helpers for the harness's own test suite.

The core API (load_exercise / prepare / run_check) is used in-process wherever possible; the
pytest front end is exercised with pytester (in-process unless a test says why it cannot be).
"""

from __future__ import annotations

import ast
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
import torch

from gradcheck_suite.exercise.load import load_exercise
from gradcheck_suite.exercise.model import ExerciseSpec
from gradcheck_suite.grading.options import RunOptions
from gradcheck_suite.grading.runner import prepare, run_check
from gradcheck_suite.report.model import CheckResult, ExerciseResult

pytest_plugins = ["pytester"]

# The tests' tensors are tiny: extra intra-op threads only contend with the other test workers
# (pytest -n auto), and some float32 kernels stall for milliseconds waking their OpenMP pool.
torch.set_num_threads(1)

REPO_ROOT = Path(__file__).resolve().parent.parent
EXERCISES = REPO_ROOT / "exercises"
SOLUTIONS = REPO_ROOT / "tests" / "solutions"
VARIANTS = REPO_ROOT / "tests" / "variants"
EXERCISE_FILE = "exercise.yaml"

# What a failure report says about the worst element or about a gradient's structure
# (tolerances.Mismatch.describe and checks.structure_problem).
REPORT_WORDING = re.compile(
    r"worst at|has shape|has dtype|missing gradient|elements are NaN|elements are infinite"
)


def exercise_names() -> list[str]:
    """Every exercise folder of the sample course that has an exercise.yaml."""
    return sorted(p.parent.name for p in EXERCISES.glob(f"*/{EXERCISE_FILE}"))


def exercise_yaml(name: str) -> Path:
    return EXERCISES / name / EXERCISE_FILE


def course_points() -> float:
    """The sample course's total points."""
    return sum(spec.points for spec in load_specs().values())


def load_specs() -> dict[str, ExerciseSpec]:
    return {name: load_exercise(exercise_yaml(name)) for name in exercise_names()}


def copy_solutions(submission: Path) -> Path:
    """Every reference solution's file, flat in `submission` (as a student hands them in)."""
    submission.mkdir(parents=True, exist_ok=True)
    for solution in SOLUTIONS.glob("*/*.py"):
        shutil.copyfile(solution, submission / solution.name)
    return submission


def submit(source: Path, spec: ExerciseSpec, submission: Path) -> Path:
    """Copy a student-style file into `submission` under the exercise's student file name."""
    submission.mkdir(parents=True, exist_ok=True)
    target = submission / spec.student_file
    shutil.copyfile(source, target)
    return target


def source_submission(tmp_path: Path, name: str, source: str) -> tuple[ExerciseSpec, Path]:
    """A submission folder holding `source` as the student's file for exercise `name`: (spec, folder)."""
    spec = load_exercise(exercise_yaml(name))
    folder = tmp_path / "submission"
    folder.mkdir()
    (folder / spec.student_file).write_text(source)
    return spec, folder


def example_replay_command(spec: ExerciseSpec, check: str, example: str) -> str:
    return f"REPLAY {spec.name}::{check} {example}"


def grade(spec: ExerciseSpec, submission: Path | None, options: RunOptions | None = None) -> dict[str, CheckResult]:
    """Run every check of `spec` on the student file found in `submission`; {check: CheckResult}."""
    exercise = prepare(spec, submission)
    options = options or RunOptions()
    return {check: run_check(exercise, check, options) for check in spec.checks}


def exercise_result(spec: ExerciseSpec, results: dict[str, CheckResult]) -> ExerciseResult:
    """The exercise-level verdict the grade book would give these check results."""
    return ExerciseResult(spec.name, spec.title, spec.points, spec.checks, list(results.values()))


def describe_results(results: dict[str, CheckResult]) -> str:
    return "\n".join(f"--- {c}: {r.status}\n{r.message}" for c, r in results.items())


@dataclass
class Graded:
    spec: ExerciseSpec
    results: dict[str, CheckResult]
    submission: Path


@pytest.fixture
def grade_file(tmp_path):
    """grade_file(exercise_name, source_file, options=None) -> Graded(spec, {check: CheckResult}, submission)."""

    def run(name: str, source: Path, options: RunOptions | None = None) -> Graded:
        spec = load_exercise(exercise_yaml(name))
        submission = tmp_path / "submission"
        submit(source, spec, submission)
        return Graded(spec, grade(spec, submission, options), submission)

    return run


# ----------------------------------------------------------------------------- variant labels

@dataclass(frozen=True)
class VariantLabel:
    correct: bool
    text: str
    checks: tuple[str, ...] = ()
    inputs: tuple[str, ...] = ()


_CAUGHT = re.compile(r"Caught by:\s*(?P<checks>[^()]+?)\s*(?:\((?P<inputs>[^()]*)\))?\s*$")


def parse_label(path: Path) -> VariantLabel:
    """Read the first docstring line: 'CORRECT: ...' or 'BUG: ... Caught by: check[ (a, b)]'."""
    docstring = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8")))
    if not docstring:
        raise ValueError(f"{path}: no docstring")
    first = docstring.splitlines()[0].strip()
    if first.startswith("CORRECT:"):
        return VariantLabel(True, first)
    if not first.startswith("BUG:"):
        raise ValueError(f"{path}: first docstring line starts with neither CORRECT: nor BUG:: {first!r}")
    match = _CAUGHT.search(first)
    if match is None:
        raise ValueError(f"{path}: BUG label without 'Caught by: <check>[ (<inputs>)]': {first!r}")
    checks = tuple(c.strip() for c in match["checks"].split(",") if c.strip())
    inputs = tuple(i.strip() for i in (match["inputs"] or "").split(",") if i.strip())
    return VariantLabel(False, first, checks, inputs)


# ----------------------------------------------------------------------------- pytester course

PLUGIN_CONFTEST = 'pytest_plugins = ["gradcheck_suite.plugin"]\n'


@pytest.fixture
def course(pytester):
    """A copy of the sample course in the pytester directory: exercises/, solutions/, conftest.py."""
    shutil.copytree(EXERCISES, pytester.path / "exercises",
                    ignore=shutil.ignore_patterns("__pycache__", ".hypothesis"))
    shutil.copytree(SOLUTIONS, pytester.path / "solutions", ignore=shutil.ignore_patterns("__pycache__"))
    pytester.makeconftest(PLUGIN_CONFTEST)
    return pytester.path
