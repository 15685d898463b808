"""The grader as a user runs it: `python -m pytest exercises/` from the repository root, in a subprocess."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest

from conftest import REPO_ROOT, SOLUTIONS, VARIANTS, copy_solutions, load_specs, submit
from gradcheck_suite.grading.runner import grade_submission

SPECS = load_specs()
MAX_SCORE = sum(spec.points for spec in SPECS.values())


def run_grader(*args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTEST_ADDOPTS", "PYTEST_PLUGINS")}
    env["PYTHONPATH"] = str(REPO_ROOT)
    return subprocess.run(
        [sys.executable, "-m", "pytest", "exercises/", "-p", "no:cacheprovider", *args],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=240,
    )


def test_stubs_score_zero():
    result = run_grader()
    output = result.stdout + result.stderr
    assert result.returncode == pytest.ExitCode.TESTS_FAILED, output
    for name in SPECS:
        assert re.search(rf"^{name}: .*is not implemented yet", output, re.M), name
    assert re.search(rf"^total\s+0 / {MAX_SCORE:g}$", output, re.M), output
    assert "Traceback" not in output


def test_solutions_score_full_marks(tmp_path):
    report_path = tmp_path / "r.json"
    result = run_grader("--submission", str(SOLUTIONS.relative_to(REPO_ROOT)), "--grade-json", str(report_path))
    output = result.stdout + result.stderr
    assert result.returncode == pytest.ExitCode.OK, output
    report = json.loads(report_path.read_text())
    assert report["score"] == report["max_score"] == MAX_SCORE
    assert {e["name"]: e["score"] for e in report["exercises"]} == {n: s.points for n, s in SPECS.items()}
    assert all(e["status"] == "passed" for e in report["exercises"])
    assert re.search(rf"^total\s+{MAX_SCORE:g} / {MAX_SCORE:g}$", output, re.M), output


@pytest.mark.parametrize("half", [0, 1], ids=["even", "odd"])
def test_a_bug_fails_the_exercise_it_targets_and_no_other(half, tmp_path):
    """The whole course handed in at once, half of its exercises replaced by their first bug case:
    exactly those fail, and every other exercise keeps its full marks."""
    submission = copy_solutions(tmp_path / "submission")
    bugged = set()
    for name in sorted(SPECS)[half::2]:
        bugs = sorted((VARIANTS / name).glob("bug_*.py"))
        if bugs:
            submit(bugs[0], SPECS[name], submission)
            bugged.add(name)
    assert len(bugged) >= len(SPECS) // 2 - 1
    book = grade_submission(list(SPECS.values()), submission)
    verdicts = {name: result.status for name, result in book.exercises.items()}
    assert {name for name, status in verdicts.items() if status != "passed"} == bugged, verdicts
    for name, result in book.exercises.items():
        if name not in bugged:
            assert result.score == SPECS[name].points, name
