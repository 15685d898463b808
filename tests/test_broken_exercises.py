"""A score never lies: an exercise that cannot be graded keeps its points in the maximum, is an
`error` with a line for the student and the reason for the instructor, and every front end exits
non-zero: `pytest`, `gradcheck-suite grade` and Gradescope's `run_autograder`.

Each way an exercise can be broken is one case, applied to `relu` in a two-exercise course graded
with the reference solutions (so an honest submission, which must lose nothing it earned).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import EXERCISES, REPO_ROOT, SOLUTIONS
from gradcheck_suite.exercise.load import load_exercise
from gradcheck_suite.grading.runner import prepare, run_check

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="autograder mode needs Linux")

COURSE = {"relu": 10.0, "sigmoid": 10.0}
TOTAL = sum(COURSE.values())
COURSE_YAML = "exercises: {relu: 10, sigmoid: 10}\n"


def _relu_yaml() -> str:
    return (EXERCISES / "relu" / "exercise.yaml").read_text()


# case -> (what to do to the course folder, what the instructor is told)
def _syntax(course: Path) -> None:
    (course / "relu" / "exercise.yaml").write_text("name: relu\npoints: [10\n")  # points from course.yaml


def _invalid_field(course: Path) -> None:
    (course / "relu" / "exercise.yaml").write_text(_relu_yaml().replace("trials: 20", "trials: many"))  # points read


def _unimportable_reference(course: Path) -> None:
    (course / "relu" / "exercise.yaml").write_text(_relu_yaml().replace("reference: torch.relu",
                                                                        "reference: no_such_module.relu"))


def _reference_raises(course: Path) -> None:
    (course / "relu" / "exercise.yaml").write_text(_relu_yaml().replace(
        "reference: torch.relu", "reference: {function: torch.relu, kwargs: {inplace: true}}"))


def _reference_returns_no_tensor(course: Path) -> None:
    (course / "relu" / "exercise.yaml").write_text(_relu_yaml().replace("reference: torch.relu",
                                                                        "reference: torch.Tensor.tolist"))


def _missing_support_module(course: Path) -> None:
    (course / "course.yaml").write_text(COURSE_YAML + "support: [cs231n]\n")


CASES = {
    "invalid YAML": (_syntax, "not valid YAML"),
    "an invalid field": (_invalid_field, "trials: expected"),
    "a reference that cannot be imported": (_unimportable_reference, "cannot import 'no_such_module.relu'"),
    "a reference that raises": (_reference_raises, "the reference torch.relu raised TypeError"),
    "a reference that returns no tensor": (_reference_returns_no_tensor, "returned list, expected a tensor"),
    "a missing support module": (_missing_support_module, "support: 'cs231n': no such file or folder"),
}


def _course(root: Path, case: str) -> Path:
    root.mkdir(parents=True)
    for name in COURSE:
        shutil.copytree(EXERCISES / name, root / name, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    (root / "course.yaml").write_text(COURSE_YAML)
    CASES[case][0](root)
    return root


def _submission(folder: Path) -> Path:
    folder.mkdir(parents=True)
    for name in COURSE:
        shutil.copy(SOLUTIONS / name / f"{name}.py", folder / f"{name}.py")
    return folder


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPO_ROOT)}


def _check_report(report: dict, case: str, broken_exercises: set[str]) -> None:
    by_name = {e["name"]: e for e in report["exercises"]}
    assert report["max_score"] == TOTAL, "a broken exercise keeps its points in the maximum"
    assert sum(e["max_score"] for e in by_name.values()) == TOTAL
    for name in COURSE:
        if name in broken_exercises:
            assert by_name[name]["status"] == "error" and by_name[name]["score"] == 0, by_name[name]
        else:
            assert by_name[name]["status"] == "passed" and by_name[name]["score"] == COURSE[name]


def _broken(case: str) -> set[str]:
    return set(COURSE) if case == "a missing support module" else {"relu"}


@pytest.mark.parametrize("case", CASES)
def test_pytest_keeps_the_points_and_fails(case, tmp_path):
    course = _course(tmp_path / "course", case)
    report_path = tmp_path / "r.json"
    done = subprocess.run([sys.executable, "-m", "pytest", "-p", "gradcheck_suite.plugin", "-p", "no:cacheprovider",
                           str(course), "--submission", str(_submission(tmp_path / "sub")), "--trials", "2",
                           "--grade-json", str(report_path), "-q"], capture_output=True, text=True, env=_env(),
                          cwd=tmp_path, timeout=600)
    assert done.returncode != 0, done.stdout[-3000:]
    _check_report(json.loads(report_path.read_text()), case, _broken(case))
    assert CASES[case][1] in done.stdout, done.stdout[-3000:]


@pytest.mark.heavy  # a CLI run per case; .ci/run runs these after the suite
@pytest.mark.parametrize("case", CASES)
def test_grade_keeps_the_points_exits_2_and_tells_the_instructor(case, tmp_path):
    course = _course(tmp_path / "course", case)
    report_path = tmp_path / "r.json"
    done = subprocess.run([sys.executable, "-m", "gradcheck_suite.cli", "grade", str(course), "--submission",
                           str(_submission(tmp_path / "sub")), "--trials", "2", "--json", str(report_path)],
                          capture_output=True, text=True, env=_env(), cwd=tmp_path, timeout=600)
    assert done.returncode == 2, done.stdout[-2000:] + done.stderr[-2000:]
    report = json.loads(report_path.read_text())
    _check_report(report, case, _broken(case))
    assert "could not be graded; its points stay in the maximum" in done.stderr
    assert CASES[case][1] in done.stderr
    relu = next(e for e in report["exercises"] if e["name"] == "relu")
    assert CASES[case][1] in relu["ungradable"], "the full JSON keeps the reason for the instructor"


@pytest.mark.heavy
@pytest.mark.parametrize("case", CASES)
def test_run_autograder_keeps_the_points_exits_non_zero_and_says_so(case, tmp_path):
    root = tmp_path / "autograder"
    _course(root / "source" / "exercises", case)
    for name in ("setup.sh", "run_autograder"):
        shutil.copy(REPO_ROOT / "examples" / "gradescope" / name, root / "source" / name)
    _submission(root / "submission")
    env = {**_env(), "AUTOGRADER_ROOT": str(root), "GRADCHECK_SUITE": f"{sys.executable} -m gradcheck_suite.cli"}
    done = subprocess.run(["bash", str(root / "source" / "run_autograder")], env=env, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode != 0, "Gradescope shows a failed autograder run to staff"
    results = json.loads((root / "results" / "results.json").read_text())
    assert results["max_score"] == TOTAL
    tests = {t["tags"][0]: t for t in results["tests"]}
    for name in _broken(case):
        assert tests[name]["score"] == 0 and tests[name]["max_score"] == COURSE[name]
        assert "could not be graded because of a problem in the exercise itself, not in your code" in \
            tests[name]["output"] or "could not be run because of a problem in the exercise itself" in \
            tests[name]["output"], tests[name]["output"]
    assert "have been told" not in json.dumps(results), "nobody tells the staff: the text must not say so"
    assert CASES[case][1] in done.stderr, "the reason is on standard error, which Gradescope shows staff only"


def test_a_grader_crash_is_an_error_of_the_exercise_not_a_failure_of_the_student(tmp_path, monkeypatch):
    """Whatever the grader itself raises while checking ends the check as `error`, the reason kept
    for the instructor, never as the student's failure."""
    from gradcheck_suite.checks import registry

    def crash(exercise, trial):
        raise KeyError("the grader's own bug")

    monkeypatch.setitem(registry.TRIAL_CHECKS, "forward", crash)
    spec = load_exercise(EXERCISES / "relu" / "exercise.yaml")
    result = run_check(prepare(spec, SOLUTIONS / "relu"), "forward")
    assert result.status == "error" and "not in your code" in result.message
    assert result.grader_error.startswith("the grader failed:") and "the grader's own bug" in result.grader_error
