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
