"""`validate` runs the reference on drawn inputs and on every edge case, and looks up every forbid
name: a mistake of the exercise is one `file:line: field: expectation` line, never a traceback."""

from __future__ import annotations

import pytest

from gradcheck_suite.cli import main

HEAD = "name: e\nstudent: {file: e.py, class: E}\n"

CASES = {
    "kwargs the reference cannot take": (
        HEAD + "reference: {function: torch.sigmoid, kwargs: {dim: 1}}\ninputs:\n  - {name: x, shape: [N]}\n"
               "dims: {N: [1, 3]}\n",
        "e/exercise.yaml:3: reference: expected a reference that runs on the exercise's inputs on the trial "
        "N=1,values=0: the reference torch.sigmoid raised TypeError"),
    "an integer bound above the dim it indexes": (
        HEAD + "reference: torch.nn.functional.embedding\ndims: {N: [4, 6], V: [5, 5], D: [1, 2]}\ninputs:\n"
               "  - {name: idx, shape: [N], dtype: int64, domain: {kind: integers, low: 0, high: 7}}\n"
               "  - {name: weight, shape: [V, D]}\n",
        "e/exercise.yaml:3: reference: expected a reference that runs on the exercise's inputs on the trial"),
    "a misspelt forbid entry": (
        HEAD + "reference: torch.sigmoid\ninputs:\n  - {name: x, shape: [N]}\ndims: {N: [1, 3]}\n"
               "forbid: [torch.nn.functional.sigmod]\n",
        "e/exercise.yaml:7: forbid: expected a function that exists: torch.nn.functional.sigmod: module "
        "'torch.nn.functional' has no attribute 'sigmod'; did you mean 'sigmoid'?"),
    "an edge case of the wrong shape": (
        HEAD + "reference: torch.matmul\ninputs:\n  - {name: a, shape: [N, K]}\n  - {name: b, shape: [K, M]}\n"
               "dims: {N: [1, 3], K: [1, 3], M: [1, 3]}\nedge_cases:\n  - name: mismatched\n    inputs:\n"
               "      a: [[1.0, 2.0]]\n      b: [[1.0, 2.0, 3.0]]\n",
        "e/exercise.yaml:9: edge_cases[0]: expected a reference that runs on the exercise's inputs on edge case "
        "'mismatched': the reference torch.matmul raised RuntimeError"),
    "a reference returning more outputs than declared": (
        HEAD + "reference: {function: torch.max, kwargs: {dim: -1}}\ninputs:\n  - {name: x, shape: [N, D]}\n"
               "dims: {N: [1, 3], D: [1, 3]}\n",
        "e/exercise.yaml:3: outputs: expected as many outputs as the reference torch.max returns (2); declared: one "
        "output, the default (declare them: outputs: [out1, out2])"),
    "outputs declaring more than the reference returns": (
        HEAD + "reference: torch.sigmoid\ninputs:\n  - {name: x, shape: [N]}\ndims: {N: [1, 3]}\n"
               "outputs: [y, z]\n",
        "e/exercise.yaml:7: outputs: expected as many outputs as the reference torch.sigmoid returns (1); "
        "declared: y, z"),
    "outputs declaring fewer than the reference returns, with an edge case": (
        HEAD + "reference: torch.sort\ninputs:\n  - {name: x, shape: [N]}\ndims: {N: [1, 3]}\n"
               "outputs: {values: {}}\nedge_cases:\n  - {name: ties, inputs: {x: [1.0, 1.0]}}\n",
        "e/exercise.yaml:7: outputs: expected as many outputs as the reference torch.sort returns (2); "
        "declared: values (declare them: outputs: [out1, out2])"),
    "a randomized exercise whose keep probability names no param": (
        HEAD + "reference: gradcheck_suite.references.dropout\ninputs:\n  - {name: x, shape: [N, D]}\n"
               "dims: {N: [40, 50], D: [50, 60]}\nparams:\n  - {name: p, floats: [0.1, 0.9]}\n"
               "random: {kind: dropout, drop: rate}\n",
        "e/exercise.yaml:9: random.drop: expected a probability param (numbers in [0, 1]) of the exercise's "
        "params: 'rate' is not one (params: p)"),
    "a randomized exercise drawing too few elements to tell p from 1 - p": (
        HEAD + "reference: gradcheck_suite.references.dropout\ninputs:\n  - {name: x, shape: [N, D]}\n"
               "dims: {N: [4, 50], D: [5, 60]}\nparams:\n  - {name: p, floats: [0.1, 0.9]}\n"
               "random: {kind: dropout, drop: p}\n",
        "e/exercise.yaml:9: random.input: expected at least 813 elements of x in every trial, to tell a keep "
        "probability q from 1 - q (|q - 1/2| >= 0.1) by the binomial test; the smallest trial (N=4,D=5,p=0.1,"
        "values=0) draws 20: raise the lows of the dims its shape names"),
    "a randomized exercise declaring keep where its reference drops": (
        HEAD + "reference: gradcheck_suite.references.dropout\ninputs:\n  - {name: x, shape: [N, D]}\n"
               "dims: {N: [40, 50], D: [50, 60]}\nparams:\n  - {name: p, floats: [0.1, 0.3]}\n"
               "random: {kind: dropout, keep: p}\n",
        "e/exercise.yaml:9: random.keep: expected a reference with the properties random: declares: the "
        "reference's kept elements are not x * 10 (scale: inverted, keep probability 0.1)"),
    "a randomized exercise asking for finite differences": (
        HEAD + "reference: gradcheck_suite.references.dropout\ninputs:\n  - {name: x, shape: [N, D]}\n"
               "dims: {N: [40, 50], D: [50, 60]}\nparams:\n  - {name: p, floats: [0.1, 0.9]}\n"
               "random: {kind: dropout, drop: p}\nchecks: [forward, backward, finite_differences]\n",
        "e/exercise.yaml:10: checks: expected no finite_differences for a randomized forward (random:): central "
        "differences of a forward that draws a new mask each call measure nothing"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_broken_exercise_is_one_line(tmp_path, monkeypatch, capsys, case):
    text, expected = CASES[case]
    (tmp_path / "e").mkdir()
    (tmp_path / "e" / "exercise.yaml").write_text(text)
    monkeypatch.chdir(tmp_path)
    assert main(["validate", "e"]) == 1
    out = capsys.readouterr().out
    assert expected in out, out
    assert "Traceback" not in out and out.count("\n") == 2, out  # one problem line, then the count


def test_the_sample_course_and_the_cs231n_course_have_no_such_problem(capsys, monkeypatch):
    from conftest import REPO_ROOT

    monkeypatch.chdir(REPO_ROOT)
    assert main(["validate", "exercises", "examples/cs231n"]) == 0
    assert capsys.readouterr().out.rstrip().endswith("44 of 44 exercise files valid")
