"""`gradcheck-suite grade`: autograder mode from the command line."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from conftest import EXERCISES, REPO_ROOT, SOLUTIONS, course_points
from gradcheck_suite.cli import main

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="autograder mode needs Linux")


def _grade(*args, cwd):
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    return subprocess.Popen([sys.executable, "-m", "gradcheck_suite.cli", "grade", *map(str, args)], cwd=cwd,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def test_grade_scores_the_solutions_in_full_and_refuses_an_invalid_course(tmp_path):
    broken = tmp_path / "broken"
    shutil.copytree(EXERCISES / "relu", broken / "relu")
    text = (broken / "relu" / "exercise.yaml").read_text()
    (broken / "relu" / "exercise.yaml").write_text(text.replace("points: 10", "pionts: 10"))
    good = _grade(EXERCISES, "--submission", SOLUTIONS, "--json", tmp_path / "g.json", "--gradescope",
                  tmp_path / "r.json", "--junit", tmp_path / "j.xml", "--html", tmp_path / "h.html", "--markdown",
                  tmp_path / "m.md", "--trials", 3, cwd=tmp_path)
    bad = _grade(broken, "--submission", SOLUTIONS, "--json", tmp_path / "b.json", cwd=tmp_path)
    good_output, _ = good.communicate(timeout=300)
    bad_output, _ = bad.communicate(timeout=300)
    assert good.returncode == 0, good_output[-3000:]
    grades = json.loads((tmp_path / "g.json").read_text())
    total = course_points()
    assert grades["score"] == grades["max_score"] == total
    assert json.loads((tmp_path / "r.json").read_text())["score"] == total
    assert f'<property name="score" value="{total:g}" />' in (tmp_path / "j.xml").read_text()
    assert f"{total:g} / {total:g}" in (tmp_path / "h.html").read_text()
    assert f"**{total:g} / {total:g}**" in (tmp_path / "m.md").read_text()
    assert "isolation: worker processes" in good_output
    assert bad.returncode == 2, bad_output[-3000:]
    assert "pionts: unknown key" in bad_output


def test_grade_reports_a_missing_folder_with_status_2(tmp_path, capsys):
    assert main(["grade", str(tmp_path / "nowhere"), "--submission", str(SOLUTIONS)]) == 2
    assert "no such file or folder" in capsys.readouterr().err
    assert main(["grade", str(EXERCISES), "--submission", str(tmp_path / "none")]) == 2
    assert "not a folder" in capsys.readouterr().err


def test_validate_reports_every_problem_with_its_line(tmp_path, capsys):
    assert main(["validate", str(EXERCISES)]) == 0
    out = capsys.readouterr().out
    count = len(list(EXERCISES.glob("*/exercise.yaml")))
    assert f"{count} of {count} exercise files valid" in out
    broken = tmp_path / "relu"
    shutil.copytree(EXERCISES / "relu", broken, ignore=shutil.ignore_patterns("*.py"))
    text = (broken / "exercise.yaml").read_text()
    (broken / "exercise.yaml").write_text(text.replace("points: 10", "pionts: 10").replace("trials: 20", "trials: -1"))
    assert main(["validate", str(tmp_path), str(EXERCISES / "linear")]) == 1
    out = capsys.readouterr().out
    assert f"{broken / 'exercise.yaml'}:4: pionts: unknown key" in out and "did you mean 'points'" in out
    assert "trials: expected an integer >= 1, got -1" in out
    assert "1 of 2 exercise files valid" in out
    assert main(["validate", str(tmp_path / "nowhere")]) == 2
