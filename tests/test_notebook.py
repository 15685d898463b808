"""Notebooks: `notebook.check` grades objects defined in a notebook's cells, shown as an HTML table
inline; `gradcheck-suite grade --submission X.ipynb` grades the notebook's code cells (tagged
`gradcheck` where any is, IPython-only lines removed). A real notebook (tests/notebooks/) is
executed with nbclient and an IPython kernel, as a student runs it."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import EXERCISES, REPO_ROOT, SOLUTIONS, VARIANTS
from gradcheck_suite import notebook
from gradcheck_suite.errors import ConfigError, StudentCodeError
from gradcheck_suite.student.notebooks import notebook_source, source_of_cells

NOTEBOOKS = REPO_ROOT / "tests" / "notebooks"
LINEAR_NOTEBOOK = NOTEBOOKS / "linear.ipynb"
CLASS_CELL = 2  # the index of the cell defining Linear in linear.ipynb
BUGGY = VARIANTS / "linear" / "bug_missing_transpose_grad_w.py"


def _code(source: str, tags: tuple[str, ...] = ()) -> dict:
    return {"cell_type": "code", "metadata": {"tags": list(tags)} if tags else {}, "source": source}


# ----------------------------------------------------------------------------- notebook -> source

def test_only_tagged_cells_are_kept_where_any_cell_is_tagged():
    cells = [_code("import torch", ("gradcheck",)), _code("plot(losses)"), {"cell_type": "markdown", "source": "x"},
             _code(["def f(x):\n", "    return x\n"], ("gradcheck", "other"))]
    source = source_of_cells(cells)
    assert "plot(losses)" not in source and "import torch" in source and "def f(x):\n    return x" in source
    assert "# cell 1" in source and "# cell 4" in source  # cells keep their numbers, for error messages
    untagged = [_code("import torch"), _code("plot(losses)")]
    assert "plot(losses)" in source_of_cells(untagged)


def test_ipython_syntax_is_removed_and_python_kept():
    cell = _code("%matplotlib inline\n!pip install -q torch\nfiles = !ls\nif True:\n    !echo hi\ntorch.erf?\n"
                 "ratio = 7 % 2\nsame = ratio != 1\ntotal = (1\n    % 2)\ntext = '''\n%not a magic\n'''\n")
    magic = _code("%%timeit\nexpensive()")
    source = source_of_cells([cell, magic])
    compile(source, "notebook", "exec")  # still Python: an indented shell line became `pass`
    for gone in ("%matplotlib", "!pip", "!ls", "!echo", "erf?", "expensive()"):
        assert gone not in source, gone
    for kept in ("ratio = 7 % 2", "same = ratio != 1", "    % 2)", "%not a magic"):
        assert kept in source, kept
    namespace: dict = {}
    exec(source, namespace)
    assert namespace["ratio"] == 1 and namespace["total"] == 1 and namespace["text"] == "\n%not a magic\n"


def test_a_file_that_is_no_notebook_is_named(tmp_path):
    broken = tmp_path / "hw.ipynb"
    broken.write_text("{not json")
    with pytest.raises(StudentCodeError, match="hw.ipynb: not a Jupyter notebook"):
        notebook_source(broken)
    broken.write_text(json.dumps({"cells": "none"}))
    with pytest.raises(StudentCodeError, match="expected a JSON object with a list of 'cells'"):
        notebook_source(broken)


# ----------------------------------------------------------------------------- notebook.check, in process

def _module(path: Path, name: str):
    """A file's code as a notebook cell's: run in this process, its text known to linecache."""
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_check_grades_a_class_and_shows_an_html_table():
    correct = _module(SOLUTIONS / "linear" / "linear.py", "_nb_linear_ok").Linear
    buggy = _module(BUGGY, "_nb_linear_bug").Linear
    passed = notebook.check(EXERCISES / "linear", correct, trials=3)
    assert passed.passed and passed.score == passed.max_score == 10 and passed.notes == []
    assert '<td>linear</td><td class="passed">passed</td>' in passed._repr_html_()
    failed = notebook.check(str(EXERCISES / "linear"), buggy, trials=3)
    assert not failed.passed and failed.score == 0
    html = failed._repr_html_()
    assert '<td>linear</td><td class="failed">failed</td>' in html and 'class="heatmap"' in html
    assert "likely cause: this is the transpose" in repr(failed)
    assert "replay: notebook.check(" in repr(failed) and ", replay='" in repr(failed)


def test_check_takes_functions_in_order_or_a_namespace():
    module = _module(SOLUTIONS / "relu_numpy" / "relu_numpy.py", "_nb_relu_numpy")
    # named otherwise in the notebook: taken in the exercise's order, forward then backward
    assert notebook.check(EXERCISES / "relu_numpy", module.relu_forward, module.relu_backward, trials=3).passed
    assert notebook.check(EXERCISES / "relu_numpy", vars(module), trials=3).passed
    assert notebook.check(EXERCISES / "relu_numpy", module, trials=3).passed
    with pytest.raises(StudentCodeError, match="relu_numpy asks for relu_forward.*pass relu_forward, relu_backward"):
        notebook.check(EXERCISES / "relu_numpy", module.relu_forward)
    missing = notebook.check(EXERCISES / "relu_numpy", {"relu_forward": module.relu_forward}, trials=3)
    assert not missing.passed and "your notebook defines no function 'relu_backward'" in repr(missing)


def test_check_applies_the_source_rules_to_the_cell_and_says_when_it_cannot(tmp_path):
    autograd = _module(VARIANTS / "linear" / "bug_autograd_in_backward.py", "_nb_linear_autograd").Linear
    result = notebook.check(EXERCISES / "linear", autograd, trials=2)
    assert not result.passed and "your notebook, line" in repr(result)
    namespace: dict = {}
    exec(compile((SOLUTIONS / "linear" / "linear.py").read_text(), "<no linecache entry>", "exec"), namespace)
    unknown = notebook.check(EXERCISES / "linear", namespace["Linear"], trials=2)
    assert unknown.passed
    assert unknown.notes and "source rules (forbidden calls, autograd in backward) were not checked for Linear" \
        in unknown.notes[0]
    assert "note: the source rules" in unknown._repr_html_()


def test_check_names_a_missing_exercise_and_a_bad_replay(tmp_path):
    with pytest.raises(ConfigError, match="no exercise.yaml here"):
        notebook.check(tmp_path, object)
    correct = _module(SOLUTIONS / "linear" / "linear.py", "_nb_linear_replay").Linear
    with pytest.raises(ConfigError, match="replay: 'N=2,Q=1': unknown dim 'Q'"):
        notebook.check(EXERCISES / "linear", correct, replay="N=2,Q=1")
    replayed = notebook.check(EXERCISES / "linear", correct, replay="N=2,D_in=1,D_out=1,values=0")
    assert replayed.passed


# ----------------------------------------------------------------------------- a real notebook, executed

def _execute(nb, cwd: Path, monkeypatch) -> None:
    pytest.importorskip("nbclient", reason="the dev extra installs nbclient and ipykernel")
    from nbclient import NotebookClient

    # the kernel imports this checkout's gradcheck_suite
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")])))
    NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(cwd)}}).execute()


def _verdict_html(nb) -> str:
    outputs = [o for o in nb["cells"][-1]["outputs"] if o.get("output_type") == "execute_result"]
    assert outputs, nb["cells"][-1]["outputs"]
    return outputs[-1]["data"]["text/html"]


def _read_notebook():
    nbformat = pytest.importorskip("nbformat", reason="the dev extra installs nbformat")
    return nbformat.read(str(LINEAR_NOTEBOOK), as_version=4)


def test_a_students_notebook_runs_and_shows_its_verdict(monkeypatch):
    nb = _read_notebook()
    _execute(nb, REPO_ROOT, monkeypatch)
    html = _verdict_html(nb)
    assert '<td>linear</td><td class="passed">passed</td>' in html and "10 / 10" in html
    # the plotting cell (not tagged) ran in the notebook: its figure is there
    assert any("image/png" in o.get("data", {}) for cell in nb["cells"] for o in cell.get("outputs", []))


@pytest.mark.heavy  # a second kernel (about 15 s)
def test_a_buggy_notebook_shows_the_failure(monkeypatch):
    nb = _read_notebook()
    nb["cells"][CLASS_CELL]["source"] = BUGGY.read_text()
    _execute(nb, REPO_ROOT, monkeypatch)
    html = _verdict_html(nb)
    assert '<td>linear</td><td class="failed">failed</td>' in html and "0 / 10" in html
    assert "linear::backward" in html and 'class="heatmap"' in html


# ----------------------------------------------------------------------------- gradcheck-suite grade X.ipynb

@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="autograder mode needs Linux")
def test_grade_takes_a_notebook_submission(tmp_path):
    buggy = json.loads(LINEAR_NOTEBOOK.read_text())
    buggy["cells"][CLASS_CELL]["source"] = BUGGY.read_text()
    (tmp_path / "buggy.ipynb").write_text(json.dumps(buggy))
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    runs = {name: subprocess.Popen([sys.executable, "-m", "gradcheck_suite.cli", "grade", str(EXERCISES / "linear"),
                                    "--submission", str(path), "--json", str(tmp_path / f"{name}.json"),
                                    "--trials", "3"],
                                   env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=tmp_path)
            for name, path in (("correct", LINEAR_NOTEBOOK), ("buggy", tmp_path / "buggy.ipynb"))}
    outputs = {name: run.communicate(timeout=300)[0] for name, run in runs.items()}
    for name, run in runs.items():
        assert run.returncode == 0, outputs[name][-3000:]
    correct = json.loads((tmp_path / "correct.json").read_text())
    assert correct["score"] == correct["max_score"] == 10 and correct["run"]["submission"] == "linear.ipynb"
    wrong = json.loads((tmp_path / "buggy.json").read_text())
    backward = next(c for c in wrong["exercises"][0]["checks"] if c["name"] == "backward")
    assert wrong["score"] == 0 and backward["status"] == "failed" and "transpose" in backward["message"]
    not_a_notebook = tmp_path / "broken.ipynb"
    not_a_notebook.write_text("{")
    refused = subprocess.run([sys.executable, "-m", "gradcheck_suite.cli", "grade", str(EXERCISES / "linear"),
                              "--submission", str(not_a_notebook)], env=env, capture_output=True, text=True,
                             timeout=120)
    assert refused.returncode == 2 and "broken.ipynb: not a Jupyter notebook" in refused.stderr
