"""The CS231n example course (examples/cs231n/): CS231n's own signatures (NumPy, conv_param and
pool_param dicts passed positionally, (loss, dx) losses, lstm_step's two outputs and two upstream
gradients, one layers.py for every exercise); the
solutions pass every check, each variant gets the verdict its label promises."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from conftest import REPO_ROOT, parse_label
from gradcheck_suite.exercise.load import load_exercise
from gradcheck_suite.grading.runner import grade_submission

COURSE = REPO_ROOT / "examples" / "cs231n"
EXERCISES = sorted(p.parent.name for p in COURSE.glob("*/exercise.yaml"))
VARIANTS = sorted((COURSE / "variants").glob("*/*.py"))
FAILING = ("failed", "error")


def _grade(names: list[str], source: Path, tmp_path: Path) -> dict:
    folder = tmp_path / "submission"
    folder.mkdir()
    shutil.copy(source, folder / "layers.py")
    specs = [load_exercise(COURSE / name / "exercise.yaml") for name in names]
    book = grade_submission(specs, folder)
    return {name: {str(c.check): (str(c.status), c.message) for c in e.checks} for name, e in book.exercises.items()}


def test_the_course_is_complete():
    assert EXERCISES == ["affine", "batchnorm", "batchnorm_alt", "conv_naive", "dropout", "layernorm", "lstm_step", "max_pool_naive", "relu",
                         "rnn_step", "softmax_loss", "svm_loss"]
    for name in EXERCISES:
        bugs = [p for p in VARIANTS if p.parent.name == name and p.name.startswith("bug_")]
        assert len(bugs) >= 3, name


def test_the_solutions_pass_every_check(tmp_path):
    graded = _grade(EXERCISES, COURSE / "solutions" / "layers.py", tmp_path)
    failing = {(n, c): r for n, checks in graded.items() for c, r in checks.items() if r[0] != "passed"}
    assert not failing, failing


@pytest.mark.parametrize("path", VARIANTS, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_variant(path, tmp_path):
    name, label = path.parent.name, parse_label(path)
    results = _grade([name], path, tmp_path)[name]
    if label.correct:
        assert {s for s, _ in results.values()} == {"passed"}, results
        return
    caught = {c: results[c] for c in label.checks if results[c][0] in FAILING}
    assert caught, f"none of {label.checks} failed: {label.text}\n{results}"
    for input_name in label.inputs:
        assert any(f"'{input_name}'" in message for status, message in caught.values() if status == "failed"), caught


@pytest.fixture(scope="module")
def sandbox():
    from gradcheck_suite.sandbox.supervisor import Sandbox, WorkerLimits

    box = Sandbox(WorkerLimits(time_seconds=60))
    yield box
    box.close()


BATCHNORM = [p for p in VARIANTS if p.parent.name in ("batchnorm", "batchnorm_alt")]


@pytest.mark.heavy
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="autograder mode needs Linux")
@pytest.mark.parametrize("path", BATCHNORM, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_batchnorm_variants_get_the_same_verdicts_isolated(path, tmp_path, sandbox):
    """Side outputs cross from the worker as data: the isolated verdicts are the in-process ones."""
    from gradcheck_suite.grading.runner import prepare, run_check
    from gradcheck_suite.sandbox.staging import Submission

    spec = load_exercise(COURSE / path.parent.name / "exercise.yaml")
    folder = tmp_path / "submission"
    folder.mkdir()
    shutil.copy(path, folder / "layers.py")
    exercise = prepare(spec, folder, sandbox, Submission.collect({"layers.py": folder / "layers.py"}))
    try:
        isolated = {str(c): (str(r.status), r.message) for c in spec.checks for r in [run_check(exercise, c)]}
    finally:
        exercise.close()
    (tmp_path / "local").mkdir()
    assert isolated == _grade([path.parent.name], path, tmp_path / "local")[path.parent.name]


def test_the_starter_code_scores_nothing_and_reads_not_implemented(tmp_path):
    """CS231n-style starter code (examples/cs231n/starter/layers.py: each result None, the cache
    still returned) earns no point, and every check of every exercise says "not implemented"
    rather than blaming a wrong answer."""
    folder = tmp_path / "submission"
    folder.mkdir()
    shutil.copy(COURSE / "starter" / "layers.py", folder / "layers.py")
    book = grade_submission([load_exercise(COURSE / name / "exercise.yaml") for name in EXERCISES], folder)
    assert book.score == 0 and set(book.exercises) == set(EXERCISES)
    for name, exercise in book.exercises.items():
        assert exercise.score == 0, name
        late = [(c.check, c.status, c.message[:200]) for c in exercise.checks if not c.not_implemented]
        assert not late, f"{name}: {late}"
