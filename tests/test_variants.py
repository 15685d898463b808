"""Every student-style variant gets the verdict its label promises, graded in-process.

Each file in tests/variants/<exercise>/ starts with a docstring line
``CORRECT: ...`` or ``BUG: ... Caught by: <check>[ (<input names>)]``.
"""

from __future__ import annotations

import re

import pytest

from conftest import (
    EXERCISES,
    REPORT_WORDING,
    SOLUTIONS,
    VARIANTS,
    describe_results,
    example_replay_command,
    exercise_names,
    exercise_result,
    exercise_yaml,
    parse_label,
)
from gradcheck_suite.exercise.schema import CHECK_NAMES
from gradcheck_suite.grading.options import RunOptions
from gradcheck_suite.grading.runner import prepare, run_check

VARIANT_FILES = sorted(VARIANTS.glob("*/*.py"))
SOLUTION_FILES = sorted(SOLUTIONS.glob("*/*.py"))
FAILING = ("failed", "error")
OPTIONS = RunOptions(replay_command=example_replay_command)


def _skip_without_exercise(name: str) -> None:
    if not exercise_yaml(name).is_file():
        pytest.skip(f"exercise {name!r} has no exercises/{name}/exercise.yaml yet; its variants are not graded")


def test_a_variant_folder_without_an_exercise_is_skipped_with_a_reason():
    with pytest.raises(pytest.skip.Exception, match=r"'no_such_exercise' has no exercises/no_such_exercise/exercise.yaml"):
        _skip_without_exercise("no_such_exercise")
    _skip_without_exercise("linear")  # an exercise with a file is not skipped


def test_variants_were_found():
    assert len(VARIANT_FILES) >= 10
    graded = {p.parent.name for p in VARIANT_FILES}
    assert set(exercise_names()) - {"cube"} <= graded
    assert graded <= {p.name for p in EXERCISES.iterdir() if p.is_dir()}


@pytest.mark.parametrize("path", VARIANT_FILES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_variant(path, grade_file):
    name = path.parent.name
    _skip_without_exercise(name)
    label = parse_label(path)
    graded = grade_file(name, path, OPTIONS)
    spec, results = graded.spec, graded.results
    assert list(results) == list(spec.checks)

    if label.correct:
        failing = {c: r for c, r in results.items() if r.status != "passed"}
        assert not failing, f"{label.text}\n{describe_results(failing)}"
        assert exercise_result(spec, results).status == "passed"
        return

    # The label itself must be usable: the checks it names run for this exercise, its inputs exist.
    assert label.checks and all(c in CHECK_NAMES for c in label.checks), f"label names an unknown check: {label.text}"
    assert set(label.checks) <= set(spec.checks), \
        f"label names a check this exercise does not run ({', '.join(spec.checks)}): {label.text}"
    input_names = {i.name for i in spec.inputs}
    assert set(label.inputs) <= input_names, f"label names an unknown input ({', '.join(input_names)}): {label.text}"

    assert exercise_result(spec, results).status in FAILING, f"{label.text}\n{describe_results(results)}"
    caught = {c: results[c] for c in label.checks if results[c].status in FAILING}
    assert caught, f"none of {label.checks} failed: {label.text}\n{describe_results(results)}"

    wrong_answers = {c: r for c, r in caught.items() if r.status == "failed"}
    if label.inputs and wrong_answers:
        # A wrong answer (as opposed to the student's code raising) names each input the label
        # names, with a worst-element or structure report.
        for input_name in label.inputs:
            naming = [r for r in wrong_answers.values() if f"'{input_name}'" in r.message]
            assert naming, f"no failure of {list(wrong_answers)} names '{input_name}':\n" \
                           f"{describe_results(wrong_answers)}"
            assert any(REPORT_WORDING.search(r.message) for r in naming), describe_results(wrong_answers)

    exercise = prepare(spec, graded.submission)
    for check, result in caught.items():
        if result.status == "error":
            # The student's code raised: say what, and where in their file.
            assert "raised" in result.message, result.message
            assert f"at {spec.student_file}, line " in result.message, result.message
        _assert_feedback(spec, check, result)
        if result.trial is not None:
            # The printed example, replayed on its own, gives the same verdict.
            replayed = run_check(exercise, check, RunOptions(replay=result.trial))
            assert replayed.status == result.status, replayed.message
            assert replayed.message.splitlines()[0] == result.message.splitlines()[0]


def _assert_feedback(spec, check, result):
    lines = result.message.splitlines()
    if spec.hint:
        assert f"  hint: {spec.hint}" in lines, result.message
    if check == "edge_cases":
        assert result.trial is None  # fixed inputs, nothing to replay
        assert not any("replay:" in line for line in lines), result.message
        return
    if result.trial is None and re.match(rf"{re.escape(spec.student_file)}, line \d+: ", lines[0]):
        return  # found in the source before anything ran: the line is the example
    # A failure found on a random trial shows the example and how to replay it.
    assert result.trial is not None, result.message
    assert any(line.startswith("  smallest failing input: ") and line.endswith(f"[{result.trial}]")
               for line in lines), result.message
    assert f"  replay: {example_replay_command(spec, check, result.trial)}" in lines, result.message


def test_feedback_has_no_replay_line_without_a_replay_command(grade_file):
    graded = grade_file("sigmoid", VARIANTS / "sigmoid" / "bug_sign_error.py")
    result = graded.results["backward"]
    assert result.status == "failed"
    assert "  smallest failing input: " in result.message
    assert "replay:" not in result.message


def test_a_wrong_gradient_shows_the_upstream_gradient_it_was_given(grade_file):
    """The student can redo the backward by hand: for b (added to every row), the expected gradient
    is the sum of the upstream gradient's rows, which the feedback shows."""
    graded = grade_file("linear", VARIANTS / "linear" / "bug_grad_b_mean.py")
    result = graded.results["backward"]
    assert result.status == "failed", result.message
    shown = re.search(r"^  upstream gradient given to the backward: grad_output \((\d+), 1\) = \[(.*)\]$",
                      result.message, re.M)
    expected = re.search(r"gradient for 'b' .* expected (-?[0-9.e+-]+), got", result.message)
    assert shown and expected, result.message
    values = [float(v) for v in shown.group(2).split(",")]
    assert len(values) == int(shown.group(1)) and sum(values) == pytest.approx(float(expected.group(1)), abs=1e-3)


@pytest.mark.parametrize("path", SOLUTION_FILES, ids=lambda p: p.stem)
def test_solution_passes_every_check(path, grade_file):
    _skip_without_exercise(path.stem)
    graded = grade_file(path.stem, path)
    failing = {c: r for c, r in graded.results.items() if r.status != "passed"}
    assert not failing, describe_results(failing)
    assert exercise_result(graded.spec, graded.results).status == "passed"


def test_every_exercise_has_a_solution():
    assert set(exercise_names()) <= {p.stem for p in SOLUTION_FILES}
