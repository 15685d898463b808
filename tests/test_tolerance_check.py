"""`gradcheck-suite check-tolerances`: correct solutions over many seeded trials (few here, for speed)."""

from __future__ import annotations

import math
import re
import shutil

import torch

from conftest import EXERCISES, SOLUTIONS
from gradcheck_suite.checks.verdicts import CheckFailure
from gradcheck_suite.cli import main
from gradcheck_suite.exercise.load import load_exercise
from gradcheck_suite.grading.options import RunOptions
from gradcheck_suite.grading.runner import prepare, run_check
from gradcheck_suite.instructor.sweep import Margin, find_solution, margin
from gradcheck_suite.numerics.tolerances import Mismatch, compare


def test_a_correct_solution_never_fails_in_either_dtype(tmp_path, capsys):
    assert main(["check-tolerances", str(EXERCISES / "linear"), "--solutions", str(SOLUTIONS), "--trials", "15",
                 "--dtype", "float32"]) == 0
    out = capsys.readouterr().out
    assert f"linear (float64): 15 trials, seed 101, solution {SOLUTIONS / 'linear' / 'linear.py'}" in out
    assert "linear (float32): 15 trials" in out
    for check in ("forward", "backward", "backward_properties", "finite_differences"):
        assert re.search(rf"^  {check} +15 trials, 0 failures, 0 kink redraws$", out, re.MULTILINE), out
    assert "no failures: 1 exercise, 15 trials per check and dtype" in out


def test_a_too_tight_tolerance_is_reported_flaky_with_an_example_to_replay(tmp_path, capsys):
    """sigmoid in float32 with rtol = atol = 0: rounding alone fails a correct solution."""
    folder = tmp_path / "sigmoid"
    folder.mkdir()
    (folder / "exercise.yaml").write_text((EXERCISES / "sigmoid" / "exercise.yaml").read_text()
                                          + "dtype: float32\ntolerance: {rtol: 0, atol: 0}\n")
    assert main(["check-tolerances", str(folder), "--solutions", str(SOLUTIONS), "--trials", "20"]) == 1
    out = capsys.readouterr().out
    assert "sigmoid (float32): 20 trials, seed 202" in out and "sigmoid (float64)" not in out
    flaky = re.search(r"^  backward_properties +20 trials, (\d+) failures, 0 kink redraws  FLAKY$", out, re.MULTILINE)
    assert flaky and int(flaky[1]) > 0, out
    assert re.search(r"worst margin: error \S+ where 0 is allowed \(none allowed\), at \[", out)
    assert f"flaky on a correct solution: sigmoid::backward_properties (float32, {flaky[1]} of 20 trials)" in out
    replay = re.search(r"replay: pytest \S+::sigmoid::backward_properties --submission \S+ --replay (\S+)$",
                       out, re.MULTILINE)
    spec = load_exercise(folder / "exercise.yaml")
    result = run_check(prepare(spec, SOLUTIONS), "backward_properties", RunOptions(replay=replay[1]))
    assert result.status == "failed", "the replayed example fails as reported"


def test_solutions_are_found_flat_or_in_a_course_source_layout(tmp_path, capsys):
    course = tmp_path / "course"
    (course / "relu").mkdir(parents=True)
    shutil.copy(SOLUTIONS / "relu" / "relu.py", course / "relu" / "relu.py")
    spec = load_exercise(EXERCISES / "relu" / "exercise.yaml")
    assert find_solution(spec, course) == course / "relu"
    assert find_solution(spec, SOLUTIONS) == SOLUTIONS / "relu"
    flat = tmp_path / "flat"
    flat.mkdir()
    shutil.copy(SOLUTIONS / "relu" / "relu.py", flat / "relu.py")
    assert find_solution(spec, flat) == flat
    assert find_solution(spec, tmp_path) is None
    assert main(["check-tolerances", str(EXERCISES / "relu"), "--solutions", str(course), "--trials", "5"]) == 0
    assert f"solution {course / 'relu' / 'relu.py'}" in capsys.readouterr().out


def test_misuse_exits_2(tmp_path, capsys):
    assert main(["check-tolerances", str(EXERCISES / "relu"), "--solutions", str(tmp_path)]) == 2
    assert f"no solution for relu (looked for {tmp_path / 'relu' / 'relu.py'} and {tmp_path / 'relu.py'})" in \
        capsys.readouterr().err
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "exercise.yaml").write_text("name: broken\n")
    assert main(["check-tolerances", str(broken), "--solutions", str(SOLUTIONS)]) == 2
    assert "invalid exercise file" in capsys.readouterr().err
    assert main(["check-tolerances", str(EXERCISES / "relu"), "--solutions", str(tmp_path / "none")]) == 2
    assert main(["check-tolerances", str(EXERCISES / "relu"), "--solutions", str(SOLUTIONS), "--trials", "0"]) == 2


def test_margin_reads_the_data_of_the_failed_comparisons():
    """The margin comes from the Mismatch objects a failure carries, never from its text."""
    small = compare(torch.tensor([1.0, 1.5]), torch.tensor([1.0, 1.0]), rtol=0.0, atol=0.1)
    large = compare(torch.tensor([0.0, 2.0], dtype=torch.float64), torch.tensor([0.0, 1.1], dtype=torch.float64), rtol=0.0, atol=0.1)
    assert margin(CheckFailure("reworded: the text is not read", mismatches=[small])) == Margin.of(0.5, 0.1)
    assert math.isclose(margin(CheckFailure("two inputs", mismatches=[small, large])).error, 0.9)
    along = Mismatch.of_values(1, 2, (0,), expected=1.5, actual=1.2, allowed=0.1)
    assert math.isclose(margin(CheckFailure("a random direction", mismatches=[along])).ratio, 3.0)
    nan = compare(torch.tensor([float("nan")]), torch.tensor([1.0]), rtol=0.0, atol=0.1)
    assert margin(CheckFailure("not finite", mismatches=[nan])).describe() == "a NaN or infinite value"
    assert margin(CheckFailure("gradient for 'x' has shape (2,), expected (3,)")) is None
