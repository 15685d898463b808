"""The templates in examples/ work as their README says."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest
from test_outputs import validate_gradescope

from conftest import EXERCISES, REPO_ROOT, SOLUTIONS, VARIANTS

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="autograder mode needs Linux")

GRADESCOPE = REPO_ROOT / "examples" / "gradescope"


COURSE = ("linear", "relu", "cube")  # a part of the sample course keeps these runs short


def _autograder(tmp_path, files: dict):
    """An /autograder tree as Gradescope lays it out, with the student's `files` submitted."""
    root = tmp_path / "autograder"
    for name in COURSE:
        shutil.copytree(EXERCISES / name, root / "source" / "exercises" / name,
                        ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    for name in ("setup.sh", "run_autograder"):
        shutil.copy(GRADESCOPE / name, root / "source" / name)
    (root / "submission").mkdir(parents=True)
    for name, source in files.items():
        shutil.copyfile(source, root / "submission" / name)
    return root


def _run(root, exit_status: int = 0):
    env = {**os.environ, "AUTOGRADER_ROOT": str(root), "PYTHONPATH": str(REPO_ROOT),
           "GRADCHECK_SUITE": f"{sys.executable} -m gradcheck_suite.cli"}
    done = subprocess.run(["bash", str(root / "source" / "run_autograder")], env=env, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == exit_status, done.stdout[-2000:] + done.stderr[-2000:]
    return json.loads((root / "results" / "results.json").read_text())


def test_run_autograder_writes_a_valid_results_json(tmp_path):
    files = {p.name: p for p in SOLUTIONS.glob("*/*.py")}
    files["relu.py"] = VARIANTS / "relu" / "bug_no_mask.py"
    report = _run(_autograder(tmp_path, files))
    validate_gradescope(report)
    scores = {t["tags"][0]: t["score"] for t in report["tests"]}
    assert scores["relu"] == 0 and report["score"] == 20 == sum(scores.values())
    relu = next(t for t in report["tests"] if t["tags"][0] == "relu")
    assert relu["status"] == "failed" and "backward" in relu["output"]


# An exercise that cannot be graded (keeps its points, exits non-zero): tests/test_broken_exercises.py


def test_run_autograder_still_writes_results_when_grading_cannot_start(tmp_path):
    root = _autograder(tmp_path, {})
    shutil.rmtree(root / "source" / "exercises")
    report = _run(root, exit_status=2)
    assert report["score"] == 0 and report["tests"] == []
    assert "could not grade this submission" in report["output"] and report["visibility"] == "visible"


PRAIRIELEARN = REPO_ROOT / "examples" / "prairielearn"


def _prairielearn(tmp_path, files: dict, break_relu: bool = False) -> tuple[dict, subprocess.CompletedProcess]:
    """A /grade tree as PrairieLearn lays it out, graded by run.sh as its external grader runs it."""
    root = tmp_path / "grade"
    for name in COURSE:
        shutil.copytree(EXERCISES / name, root / "tests" / "exercises" / name,
                        ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    shutil.copy(PRAIRIELEARN / "run.sh", root / "tests" / "run.sh")
    (root / "tests" / "secret-seed").write_text("the course's secret\n")
    if break_relu:
        yaml = root / "tests" / "exercises" / "relu" / "exercise.yaml"
        yaml.write_text(yaml.read_text().replace("reference: torch.relu", "reference: no_such.relu"))
    (root / "student").mkdir(parents=True)
    for name, source in files.items():
        shutil.copyfile(source, root / "student" / name)
    env = {**os.environ, "PL_GRADE_ROOT": str(root), "PYTHONPATH": str(REPO_ROOT),
           "GRADCHECK_SUITE": f"{sys.executable} -m gradcheck_suite.cli"}
    done = subprocess.run(["bash", str(root / "tests" / "run.sh")], env=env, capture_output=True, text=True,
                          timeout=600)
    return json.loads((root / "results" / "results.json").read_text()), done


def _check_prairielearn_fields(results: dict) -> None:
    assert set(results) >= {"gradable", "score", "message", "tests"}
    assert isinstance(results["gradable"], bool) and 0 <= results["score"] <= 1
    for test in results["tests"]:
        assert set(test) >= {"name", "points", "max_points", "output", "message"}
        assert 0 <= test["points"] <= test["max_points"]


@pytest.mark.parametrize("case", ["solutions", "stubs", "broken exercise"])
def test_the_prairielearn_grader_writes_its_results_format(case, tmp_path):
    files = {p.name: p for name in COURSE for p in (SOLUTIONS if case != "stubs" else EXERCISES).glob(f"{name}/*.py")}
    results, done = _prairielearn(tmp_path, files, break_relu=case == "broken exercise")
    assert done.returncode == 0, done.stderr[-2000:]
    _check_prairielearn_fields(results)
    points = {t["description"]: (t["points"], t["max_points"]) for t in results["tests"]}
    if case == "solutions":
        assert results["gradable"] and results["score"] == 1.0
    elif case == "stubs":
        assert results["gradable"] and results["score"] == 0.0
    else:
        assert results["gradable"] is False and points["relu"] == (0.0, 10.0), "its points stay in the maximum"
        assert "not in your code" in results["message"]
