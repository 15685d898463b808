"""`gradcheck-suite batch`: a class of 50 submissions, graded in parallel, resumed after a loss."""

from __future__ import annotations

import csv
import html
import io
import json
import os
import shutil
import subprocess
import sys

import pytest

from conftest import EXERCISES, REPO_ROOT, VARIANTS, copy_solutions
from gradcheck_suite.exercise.load import load_exercise
from gradcheck_suite.grading.seeds import fingerprint

# heavy: a class of 50 graded twice (about a minute); .ci/run runs it after the suite
pytestmark = [pytest.mark.skipif(not sys.platform.startswith("linux"), reason="autograder mode needs Linux"),
              pytest.mark.heavy]

ADVERSARIAL = REPO_ROOT / "tests" / "adversarial"
# kind: (file replaced, with what, expected relu points, expected linear points, status)
KINDS = {
    "correct": (None, None, 10, 10, "passed"),
    "buggy": ("relu.py", VARIANTS / "relu" / "bug_no_mask.py", 0, 10, "failed"),
    "crashing": ("linear.py", ADVERSARIAL / "os_exit_at_import" / "linear.py", 10, 0, "crashed"),
    "hanging": ("relu.py", ADVERSARIAL / "infinite_loop" / "relu.py", 0, 10, "timeout"),
}
CLASS = ["correct"] * 30 + ["buggy"] * 10 + ["crashing"] * 5 + ["hanging"] * 5


def _make_class(root):
    expected = {}
    for number, kind in enumerate(CLASS):
        folder = root / f"student{number:02d}-{kind}"
        copy_solutions(folder)
        replaced, source, relu, linear, status = KINDS[kind]
        if replaced:
            shutil.copyfile(source, folder / replaced)
        expected[folder.name] = (relu, linear, status)
    return expected


def _batch(root, out, *extra):
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    return subprocess.run([sys.executable, "-m", "gradcheck_suite.cli", "batch", str(root), "--exercises",
                           str(EXERCISES / "relu"), str(EXERCISES / "linear"), "--out", str(out), "--jobs", "2",
                           "--trials", "2", "--time-limit", "3", *extra],
                          env=env, capture_output=True, text=True, timeout=600)


def _rows(out):
    return list(csv.reader(io.StringIO((out / "grades.csv").read_text())))


def test_a_class_is_graded_and_a_resumed_batch_grades_only_what_is_missing(tmp_path):
    root, out = tmp_path / "class", tmp_path / "out"
    expected = _make_class(root)
    first = _batch(root, out)
    assert first.returncode == 0, first.stderr[-3000:]
    assert "50 submissions: 50 to grade, 0 already graded" in first.stderr
    assert "50/50 graded" in first.stderr and "ETA" in first.stderr and "/min" in first.stderr
    rows = _rows(out)
    assert rows[0] == ["submission", "relu", "linear", "total", "max", "status"]
    assert rows[1] == ["(points)", "10", "10", "20", "20", ""]
    graded = {row[0]: row[1:] for row in rows[2:]}
    assert len(graded) == 50
    for name, (relu, linear, status) in expected.items():
        assert graded[name] == [str(relu), str(linear), str(relu + linear), "20", status], name

    page = (out / "class.html").read_text()  # the class report: every student, linked; the pass rates
    for name in expected:
        assert f"<tr class='student' data-student='{name}'><td><a href='submissions/{name}.html'>" in page, name
        assert (out / "submissions" / f"{name}.html").is_file()
    passes = {kind: sum(k == kind for k in CLASS) for kind in KINDS}
    relu = passes["correct"] + passes["crashing"]
    linear = passes["correct"] + passes["buggy"] + passes["hanging"]
    for name, passed in (("relu", relu), ("linear", linear)):
        title = html.escape(load_exercise(EXERCISES / name / "exercise.yaml").title)
        assert f"<td>{name}</td><td>{title}</td><td class='number'>{passed} / 50</td>" in page, name

    reports = out / "submissions"
    secret = out / "secret-seed"  # one secret for the class: every submission met the same trials
    assert secret.stat().st_mode & 0o777 == 0o600
    fingerprints = {json.loads(p.read_text())["run"]["secret_fingerprint"] for p in reports.glob("*.json")}
    assert fingerprints == {fingerprint(secret.read_text().strip())}
    lost = sorted(reports.glob("*.json"))[::7]
    kept = {p: p.stat().st_mtime_ns for p in reports.glob("*.json") if p not in lost}
    for path in lost:
        path.unlink()
    second = _batch(root, out)
    assert second.returncode == 0, second.stderr[-3000:]
    assert f"50 submissions: {len(lost)} to grade, {50 - len(lost)} already graded" in second.stderr
    assert all(path.stat().st_mtime_ns == mtime for path, mtime in kept.items())
    assert _rows(out) == rows
    assert {json.loads(p.read_text())["run"]["secret_fingerprint"] for p in lost} == fingerprints, \
        "a resumed batch grades the rest of the class on the same trials"
