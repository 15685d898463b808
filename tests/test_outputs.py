"""Every report format, written from one grade book, agrees on statuses and points."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest

from conftest import EXERCISES, REPO_ROOT, SOLUTIONS, VARIANTS, copy_solutions
from gradcheck_suite.exercise.load import load_exercise
from gradcheck_suite.grading.options import RunOptions
from gradcheck_suite.grading.runner import grade_submission
from gradcheck_suite.report import formats

GRADESCOPE_VISIBILITY = {"visible", "hidden", "after_due_date", "after_published"}
GRADESCOPE_FORMATS = {"text", "html", "simple_format", "md", "ansi"}
WEIGHTS = "weights: {forward: 20, backward: 50, finite_differences: 20, backward_properties: 10}\n"


def validate_gradescope(report: dict) -> None:
    """The fields and types of Gradescope's autograder results.json."""
    number = (int, float)
    assert isinstance(report["score"], number) and isinstance(report["max_score"], number)
    assert isinstance(report["execution_time"], number) and report["execution_time"] >= 0
    assert isinstance(report["output"], str) and report["output_format"] in GRADESCOPE_FORMATS
    assert report["visibility"] in GRADESCOPE_VISIBILITY and report["stdout_visibility"] in GRADESCOPE_VISIBILITY
    assert set(report) <= {"score", "max_score", "execution_time", "output", "output_format", "visibility",
                           "stdout_visibility", "tests", "extra_data", "test_output_format", "test_name_format"}
    assert isinstance(report["tests"], list) and report["tests"]
    for test in report["tests"]:
        assert set(test) <= {"name", "number", "score", "max_score", "status", "output", "output_format",
                             "visibility", "tags", "name_format", "extra_data"}
        assert isinstance(test["name"], str) and test["name"]
        assert isinstance(test["number"], str)
        assert isinstance(test["score"], number) and isinstance(test["max_score"], number)
        assert 0 <= test["score"] <= test["max_score"] + 1e-9
        assert test["status"] in ("passed", "failed")
        assert isinstance(test["output"], str) and test["output_format"] in GRADESCOPE_FORMATS
        assert test["visibility"] in GRADESCOPE_VISIBILITY
        assert isinstance(test["tags"], list) and all(isinstance(t, str) for t in test["tags"])


def _book(tmp_path, relu_source, weights=True, hidden=()):
    """Grades linear (solution) and relu (`relu_source`), relu with partial credit."""
    course = tmp_path / "course"
    for name in ("linear", "relu"):
        shutil.copytree(EXERCISES / name, course / name, ignore=shutil.ignore_patterns("*.py"))
    yaml = course / "relu" / "exercise.yaml"
    extra = (WEIGHTS if weights else "") + (f"check_visibility: {{{', '.join(f'{c}: hidden' for c in hidden)}}}\n"
                                            if hidden else "")
    yaml.write_text(yaml.read_text() + extra)
    submission = tmp_path / "submission"
    copy_solutions(submission)
    shutil.copyfile(relu_source, submission / "relu.py")
    specs = [load_exercise(course / name / "exercise.yaml") for name in ("linear", "relu")]
    return grade_submission(specs, submission, options=RunOptions(trials=5))


def test_partial_credit_follows_the_weights(tmp_path):
    book = _book(tmp_path, VARIANTS / "relu" / "bug_ignores_grad_output.py")
    relu = book.exercises["relu"]
    statuses = {c.check: c.status for c in relu.checks}
    assert statuses["forward"] == "passed" and statuses["backward"] == "failed"
    expected = 10 * sum(w for c, w in relu.weights.items() if statuses[c] == "passed") / 100
    assert relu.score == pytest.approx(expected) and 0 < relu.score < 10
    assert book.score == pytest.approx(10 + expected)


def test_gradescope_report_follows_the_specification_and_the_book(tmp_path):
    book = _book(tmp_path, VARIANTS / "relu" / "bug_ignores_grad_output.py")
    report = formats.gradescope(book, execution_time=1.5)
    validate_gradescope(report)
    assert report["score"] == pytest.approx(book.score) and report["max_score"] == book.max_score
    relu_tests = [t for t in report["tests"] if t["tags"][0] == "relu"]
    assert [t["tags"][1] for t in relu_tests] == list(book.exercises["relu"].expected_checks)
    assert sum(t["score"] for t in relu_tests) == pytest.approx(book.exercises["relu"].score)
    backward = next(t for t in relu_tests if t["tags"][1] == "backward")
    assert backward["status"] == "failed" and "differs from torch.autograd" in backward["output"]
    linear = next(t for t in report["tests"] if t["tags"] == ["linear"])  # all or nothing: one test
    assert linear["score"] == linear["max_score"] == 10 and linear["status"] == "passed"


def test_hidden_checks_never_show_their_message(tmp_path):
    # relu's backward and its edge case (which compares gradients too) are hidden
    book = _book(tmp_path, VARIANTS / "relu" / "bug_ignores_grad_output.py", hidden=("backward", "edge_cases"))
    for text in (json.dumps(formats.gradescope(book, 1.0)), formats.junit_xml(book), formats.markdown(book)):
        assert "differs from torch.autograd" not in text  # the hidden checks' messages, with their values
        assert formats.HIDDEN_MESSAGE in text
    assert "2 hidden checks also count toward the score" in formats.summary_sentence(book)
    solved = _book(tmp_path / "solved", SOLUTIONS / "relu" / "relu.py", hidden=("backward",))
    assert "All public checks passed; 1 hidden check" in formats.summary_sentence(solved)


def test_junit_xml_parses_and_carries_the_points(tmp_path):
    book = _book(tmp_path, VARIANTS / "relu" / "bug_ignores_grad_output.py")
    root = ET.fromstring(formats.junit_xml(book, 2.0))
    assert root.tag == "testsuites"
    suites = {s.get("name"): s for s in root.findall("testsuite")}
    relu = suites["relu"]
    props = {p.get("name"): p.get("value") for p in relu.find("properties")}
    assert float(props["score"]) == pytest.approx(book.exercises["relu"].score) and props["max_score"] == "10"
    cases = {c.get("name"): c for c in relu.findall("testcase")}
    assert cases["backward"].find("failure") is not None and cases["forward"].find("failure") is None
    assert int(relu.get("failures")) == sum(c.find("failure") is not None for c in cases.values())
    assert int(root.get("tests")) == sum(len(e.checks) for e in book.exercises.values())


def test_junit_xml_reads_with_a_junit_reader(tmp_path):
    """junitparser, the JUnit reader of the dev extras, sees the same cases, failures and points."""
    from junitparser import Error, Failure, JUnitXml

    book = _book(tmp_path, VARIANTS / "relu" / "bug_ignores_grad_output.py")
    path = tmp_path / "j.xml"
    path.write_text(formats.junit_xml(book, 2.0))
    report = JUnitXml.fromfile(str(path))
    suites = {suite.name: suite for suite in report}
    assert set(suites) == {"linear", "relu"}
    failing = {(suite.name, case.name) for suite in report for case in suite
               if any(isinstance(r, (Failure, Error)) for r in case.result)}
    assert failing == {(e.name, c.check) for e in book.exercises.values() for c in e.checks if c.status != "passed"}
    points = {p.name: p.value for p in suites["relu"].properties()}
    assert float(points["score"]) == pytest.approx(book.exercises["relu"].score)
    assert suites["relu"].tests == len(book.exercises["relu"].checks)


def test_markdown_lists_each_exercise_and_what_failed(tmp_path):
    book = _book(tmp_path, VARIANTS / "relu" / "bug_ignores_grad_output.py")
    text = formats.markdown(book)
    relu = book.exercises["relu"]
    assert f"| relu | ❌ failed | {relu.score:g} / 10 |" in text
    assert "| linear | ✅ passed | 10 / 10 |" in text
    assert "<summary>relu::backward: failed</summary>" in text


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="autograder mode needs Linux")
def test_grade_writes_every_format_with_the_same_partial_score(tmp_path):
    course = tmp_path / "course"
    for name in ("linear", "relu"):
        shutil.copytree(EXERCISES / name, course / name, ignore=shutil.ignore_patterns("*.py"))
    (course / "course.yaml").write_text(WEIGHTS)
    submission = tmp_path / "submission"
    copy_solutions(submission)
    shutil.copyfile(VARIANTS / "relu" / "bug_ignores_grad_output.py", submission / "relu.py")
    summary = tmp_path / "step-summary.md"
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(summary)}
    done = subprocess.run([sys.executable, "-m", "gradcheck_suite.cli", "grade", str(course), "--submission",
                           str(submission), "--trials", "5", "--gradescope", "r.json", "--junit", "j.xml",
                           "--markdown", "m.md", "--json", "g.json", "--html", "h.html", "--fail-under", "20"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 1, done.stdout[-3000:] + done.stderr[-3000:]  # below --fail-under
    full = json.loads((tmp_path / "g.json").read_text())
    score = full["score"]
    assert 10 < score < 20
    gradescope = json.loads((tmp_path / "r.json").read_text())
    validate_gradescope(gradescope)
    assert gradescope["score"] == pytest.approx(score)
    junit = ET.parse(tmp_path / "j.xml").getroot()
    assert float(junit.find("properties/property[@name='score']").get("value")) == pytest.approx(score, abs=1e-3)
    markdown = (tmp_path / "m.md").read_text()
    assert f"**{score:g} / 20**" in markdown.replace(f"{round(score, 4):g}", f"{score:g}")
    assert summary.read_text() == markdown
    page = (tmp_path / "h.html").read_text()
    assert f"{round(score, 4):g} / 20" in page and 'class="heatmap"' in page and "relu::backward" in page
    assert f"::notice title=Autograding complete::Points {round(score, 4):g}/20" in done.stdout
    failing = {(e["name"], c["name"]) for e in full["exercises"] for c in e["checks"] if c["status"] != "passed"}
    assert failing == {(c.get("classname"), c.get("name")) for c in junit.iter("testcase")
                       if c.find("failure") is not None or c.find("error") is not None}
    relu_failing = {check for name, check in failing if name == "relu"}
    assert relu_failing == {t["tags"][1] for t in gradescope["tests"] if t["tags"][0] == "relu" and t["status"] == "failed"}
    assert all(f"<summary>relu::{check}:" in markdown and f"relu::{check}:" in page for check in relu_failing)
    relu_checks = full["exercises"][1]["checks"]
    assert {"score", "max_score", "seed", "replay", "duration", "visibility"} <= set(relu_checks[0])


def test_report_files_are_readable_as_any_new_file_is(tmp_path):
    from gradcheck_suite.report.files import write_json_atomically

    old = os.umask(0o022)
    try:
        write_json_atomically(tmp_path / "results.json", {"score": 1})
    finally:
        os.umask(old)
    assert (tmp_path / "results.json").stat().st_mode & 0o777 == 0o644
    assert not list(tmp_path.glob(".results.json.*")), "no temporary file left behind"


def _relu_with_cases(tmp_path, cases: str, check_visibility: str = "") -> dict:
    """relu graded with bug_mask_at_zero (relu'(0) = 1: only the kink's edge cases fail), its
    edge cases replaced by `cases`; the Gradescope report's edge_cases test."""
    course = tmp_path / "course"
    shutil.copytree(EXERCISES / "relu", course / "relu", ignore=shutil.ignore_patterns("*.py"))
    yaml = course / "relu" / "exercise.yaml"
    text = yaml.read_text()
    yaml.write_text(text[:text.index("edge_cases:")] + WEIGHTS + check_visibility + cases)
    submission = tmp_path / "submission"
    submission.mkdir()
    shutil.copyfile(VARIANTS / "relu" / "bug_mask_at_zero.py", submission / "relu.py")
    book = grade_submission([load_exercise(yaml)], submission, options=RunOptions(trials=5))
    report = formats.gradescope(book, execution_time=1.0)
    validate_gradescope(report)
    return next(t for t in report["tests"] if t["tags"] == ["relu", "edge_cases"])


def test_a_visible_edge_case_shows_its_failure_where_the_check_is_hidden(tmp_path):
    cases = ("edge_cases:\n"
             "  - name: a zero among negatives\n    visibility: hidden\n    inputs:\n      x: [-1.0, 0.0, -2.0]\n"
             "  - name: exactly at the kink\n    visibility: visible\n    inputs:\n      x: [-1.5, 0.0, 2.0, 0.0]\n")
    test = _relu_with_cases(tmp_path, cases, "check_visibility: {edge_cases: hidden}\n")
    # the visible case runs first and its failure is shown in full, though the check is hidden
    assert test["status"] == "failed" and test["visibility"] == "visible", test
    assert "edge case 'exactly at the kink'" in test["output"] and formats.HIDDEN_MESSAGE not in test["output"]


def test_a_hidden_edge_case_hides_its_failure_where_the_check_is_visible(tmp_path):
    cases = ("edge_cases:\n"
             "  - name: secret zeros\n    visibility: hidden\n    inputs:\n      x: [0.0, 0.0, 3.0]\n"
             "  - name: no zero at all\n    inputs:\n      x: [-1.5, 0.5, 2.0]\n")
    test = _relu_with_cases(tmp_path, cases)
    assert test["status"] == "failed" and test["visibility"] == "hidden", test
    assert "secret zeros" not in test["output"] and "[0.0, 0.0, 3.0]" not in test["output"]
