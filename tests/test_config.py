"""Exercise-file validation: a valid file loads; each malformed one gives ONE ConfigError whose
line reads ``path:line: field: what was expected``."""

from __future__ import annotations

import shutil
import textwrap

import pytest
import torch

from conftest import EXERCISES, exercise_names, exercise_yaml
from gradcheck_suite.errors import ConfigError
from gradcheck_suite.exercise.load import load_exercise

VALID = """\
name: demo
student:
  file: demo.py
  class: Demo
reference: torch.sigmoid
dims:
  N: [1, 3]
inputs:
  - name: x
    shape: [N, 2]
"""


def write(tmp_path, text: str):
    # Not named exercise.yaml: nothing here is meant to be collected by the plugin.
    path = tmp_path / "demo.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def line_of(path, fragment: str, occurrence: int = 1) -> int:
    """1-based number of the line holding the `occurrence`-th appearance of `fragment`."""
    hits = [n for n, line in enumerate(path.read_text().splitlines(), 1) if fragment in line]
    assert len(hits) >= occurrence, f"{fragment!r} not in {path}"
    return hits[occurrence - 1]


def single_error(path) -> str:
    with pytest.raises(ConfigError) as info:
        load_exercise(path)
    error = info.value
    assert len(error.problems) == 1, str(error)
    message = str(error)
    assert "\n" not in message
    assert message.startswith(str(path))
    return message


def test_valid_minimal_exercise_loads(tmp_path):
    path = write(tmp_path, VALID)
    spec = load_exercise(path)
    assert spec.path == path
    assert spec.name == "demo" and spec.title == "demo"
    assert (spec.student_file, spec.student_class) == ("demo.py", "Demo")
    assert spec.reference.function is torch.sigmoid and spec.reference.kwargs == {}
    assert spec.dims == {"N": (1, 3)}
    (x,) = spec.inputs
    assert x.name == "x" and x.shape == ("N", 2)
    assert x.dtype == torch.float64 and x.differentiable and x.domain.kind == "real"
    assert spec.checks[:2] == ("forward", "backward") and "finite_differences" in spec.checks
    assert "edge_cases" not in spec.checks  # none are given
    assert spec.directory == tmp_path


def test_sample_course_exercises_all_load():
    for name in exercise_names():
        spec = load_exercise(exercise_yaml(name))
        assert spec.name == name
        assert (exercise_yaml(name).parent / spec.student_file).is_file()


def test_missing_student(tmp_path):
    path = write(tmp_path, VALID.replace("student:\n  file: demo.py\n  class: Demo\n", ""))
    message = single_error(path)
    assert message.startswith(f"{path}:1: student: missing; expected")
    assert "file:" in message and "class:" in message


def test_unknown_top_level_key_suggests_the_closest(tmp_path):
    path = write(tmp_path, VALID + "hnt: differentiate carefully\n")
    message = single_error(path)
    assert message.startswith(f"{path}:{line_of(path, 'hnt:')}: hnt: unknown key")
    assert "did you mean 'hint'?" in message


def test_shape_not_a_list(tmp_path):
    path = write(tmp_path, VALID.replace("shape: [N, 2]", "shape: N"))
    message = single_error(path)
    assert message.startswith(f"{path}:{line_of(path, 'shape:')}: inputs.x.shape: expected a list")
    assert "got 'N'" in message


def test_undeclared_dim_is_named(tmp_path):
    path = write(tmp_path, VALID.replace("shape: [N, 2]", "shape: [N, M]"))
    message = single_error(path)
    assert ": inputs.x.shape: dim 'M' is not declared under dims (declared: N)" in message


def test_undeclared_dim_points_at_the_shape_line(tmp_path):
    path = write(tmp_path, VALID.replace("shape: [N, 2]", "shape: [N, M]"))
    message = single_error(path)
    assert message.startswith(f"{path}:{line_of(path, 'shape:')}: inputs.x.shape:")


@pytest.mark.parametrize("where", ["input", "top level"])
def test_bad_dtype(tmp_path, where):
    if where == "input":
        path = write(tmp_path, VALID + "    dtype: float128\n")
        field = "inputs.x.dtype"
    else:
        path = write(tmp_path, VALID + "dtype: float128\n")
        field = "dtype"
    message = single_error(path)
    assert message.startswith(f"{path}:{line_of(path, 'dtype:')}: {field}: expected one of float64, float32")
    assert "got 'float128'" in message


def test_bad_domain_kind(tmp_path):
    path = write(tmp_path, VALID + "    domain: {kind: gaussian, scale: 2.0}\n")
    message = single_error(path)
    assert message.startswith(f"{path}:{line_of(path, 'domain:')}: inputs.x.domain.kind: expected one of real, ")
    assert "got 'gaussian'" in message


@pytest.mark.parametrize("target, reason", [
    ("torch.no_such_function", "module 'torch' has no attribute 'no_such_function'"),
    ("no_such_package_xyz.fn", "no module found for 'no_such_package_xyz.fn'"),
])
def test_reference_that_cannot_be_imported(tmp_path, target, reason):
    path = write(tmp_path, VALID.replace("reference: torch.sigmoid", f"reference: {target}"))
    message = single_error(path)
    assert message == f"{path}:{line_of(path, 'reference:')}: reference: cannot import {target!r}: {reason}"


def test_reference_mapping_with_kwargs(tmp_path):
    path = write(tmp_path, VALID.replace("reference: torch.sigmoid",
                                         "reference:\n  function: torch.softmax\n  kwargs: {dim: -1}"))
    spec = load_exercise(path)
    assert spec.reference.function is torch.softmax and spec.reference.kwargs == {"dim": -1}


def test_edge_case_naming_an_unknown_input(tmp_path):
    path = write(tmp_path, VALID + textwrap.dedent("""\
        edge_cases:
          - name: big values
            inputs:
              x: [[1000.0, -1000.0]]
              q: [1.0]
        """))
    message = single_error(path)
    assert message.startswith(f"{path}:{line_of(path, 'q: [1.0]')}: edge_cases[0].inputs.q: unknown input")
    assert "(inputs are: x)" in message


def test_edge_cases_enable_the_edge_case_check(tmp_path):
    path = write(tmp_path, VALID + "edge_cases:\n  - name: zeros\n    inputs: {x: [[0.0, 0.0]]}\n")
    spec = load_exercise(path)
    assert "edge_cases" in spec.checks
    (case,) = spec.edge_cases
    assert case.name == "zeros" and case.inputs == {"x": [[0.0, 0.0]]}


def test_yaml_syntax_error_has_its_line(tmp_path):
    path = write(tmp_path, VALID.replace("reference: torch.sigmoid", "reference: torch.sigmoid\n  points: 3"))
    message = single_error(path)
    assert message.startswith(f"{path}:{line_of(path, 'points: 3')}: syntax: not valid YAML: ")


def test_duplicate_key_is_a_syntax_error(tmp_path):
    path = write(tmp_path, VALID + "name: again\n")
    message = single_error(path)
    assert message.startswith(f"{path}:{line_of(path, 'name: again')}: syntax: not valid YAML: duplicate key 'name'")


def test_no_differentiable_input(tmp_path):
    path = write(tmp_path, VALID + "    differentiable: false\n")
    message = single_error(path)
    assert message == f"{path}:{line_of(path, 'inputs:')}: inputs: at least one input must be differentiable"


def test_negative_points(tmp_path):
    path = write(tmp_path, VALID + "points: -5\n")
    message = single_error(path)
    assert message == f"{path}:{line_of(path, 'points:')}: points: expected a number >= 0, got -5"


def test_empty_file(tmp_path):
    path = write(tmp_path, "")
    message = single_error(path)
    assert message == f"{path}: file: expected a mapping of exercise fields at the top level"


def test_missing_file(tmp_path):
    path = tmp_path / "nowhere.yaml"
    message = single_error(path)
    assert message == f"{path}: file: not found"


def test_every_problem_is_reported_together(tmp_path):
    path = write(tmp_path, VALID.replace("shape: [N, 2]", "shape: N") + "points: -5\nhnt: x\n")
    with pytest.raises(ConfigError) as info:
        load_exercise(path)
    lines = str(info.value).splitlines()
    assert len(lines) == len(info.value.problems) == 3
    assert {line.split(": ")[1] for line in lines} == {"inputs.x.shape", "points", "hnt"}
    assert all(line.startswith(f"{path}:") for line in lines)


def test_forbid_allow_imports_and_limits_are_read_and_checked(tmp_path):
    from gradcheck_suite.exercise.model import ExerciseLimits
    good = EXERCISES / "softmax" / "exercise.yaml"
    spec = load_exercise(good)
    assert spec.forbid == ("torch.nn.functional.softmax",) and spec.limits == ExerciseLimits()
    text = good.read_text() + "allow_imports: [scipy.special]\nlimits: {time_seconds: 5, memory_mb: 512}\n"
    (tmp_path / "exercise.yaml").write_text(text)
    spec = load_exercise(tmp_path / "exercise.yaml")
    assert spec.allow_imports == ("scipy.special",)
    assert spec.limits.time_seconds == 5 and spec.limits.memory_mb == 512 and spec.limits.output_kb == 1024
    bad = good.read_text().replace("forbid: [torch.nn.functional.softmax]", "forbid: softmax") \
        + "limits: {time_seconds: -1, wall: 3}\n"
    (tmp_path / "exercise.yaml").write_text(bad)
    with pytest.raises(ConfigError) as info:
        load_exercise(tmp_path / "exercise.yaml")
    text = str(info.value)
    assert "forbid: expected a list of dotted names" in text
    assert "limits.time_seconds: expected a number of seconds > 0" in text
    assert "limits.wall: unknown key" in text


def test_weights_visibility_and_course_defaults(tmp_path):
    course = tmp_path / "course"
    shutil.copytree(EXERCISES / "relu", course / "relu", ignore=shutil.ignore_patterns("*.py"))
    yaml = course / "relu" / "exercise.yaml"
    (course / "course.yaml").write_text("weights: {forward: 1, backward: 3, double_backward: 5}\n"
                                        "visibility: after_due_date\n")
    spec = load_exercise(yaml)
    assert spec.weights == {"forward": 1.0, "backward": 3.0}  # relu has no double_backward check
    assert spec.visibility == "after_due_date" and spec.check_visibility is None
    yaml.write_text(yaml.read_text() + "weights: {backward: 1}\nvisibility: visible\ncheck_visibility: {forward: hidden}\n")
    spec = load_exercise(yaml)
    assert spec.weights == {"backward": 1.0} and spec.visibility == "visible"
    assert spec.check_visibility == {"forward": "hidden"}
    yaml.write_text(yaml.read_text().replace("weights: {backward: 1}", "weights: {backwards: 1, forward: -2}")
                    .replace("{forward: hidden}", "{forward: secret}"))
    with pytest.raises(ConfigError) as info:
        load_exercise(yaml)
    text = str(info.value)
    assert "weights.backwards: not a check of this exercise" in text
    assert "weights.forward: expected a number >= 0" in text
    assert "check_visibility.forward: expected one of visible, hidden" in text
    (course / "course.yaml").write_text("wieghts: {forward: 1}\n")
    with pytest.raises(ConfigError, match=r"course.yaml:1: wieghts: unknown key; did you mean 'weights'"):
        load_exercise(yaml)


def _lines(value, where="") -> list:
    """Every line a loaded YAML value records, with where in the value it sits."""
    from gradcheck_suite.exercise.yaml_source import LineDict, LineList
    found = []
    if isinstance(value, LineDict):
        found.append((where, value.line, sorted(value.key_lines.items(), key=repr)))
        for key, item in value.items():
            found += _lines(item, f"{where}.{key}")
    elif isinstance(value, LineList):
        found.append((where, value.line, value.item_lines))
        for index, item in enumerate(value):
            found += _lines(item, f"{where}[{index}]")
    return found


@pytest.mark.parametrize("name", exercise_names())
def test_libyaml_reads_each_exercise_as_the_python_parser_does(name):
    """The fast parser (libyaml) and PyYAML's own give the same values and the same lines, which
    error messages cite; PyYAML's own parses a file only when libyaml refuses it (for its message)."""
    import yaml

    from gradcheck_suite.exercise import yaml_source
    text = exercise_yaml(name).read_text()
    fast = yaml.load(text, Loader=yaml_source._FastLineLoader)  # noqa: S506 - SafeLoaders
    plain = yaml.load(text, Loader=yaml_source._LineLoader)  # noqa: S506
    assert fast == plain
    assert _lines(fast) == _lines(plain) and len(_lines(fast)) > 3
