"""One source of truth for exercise files: the validator, the published JSON Schema and the
field reference all come from gradcheck_suite/exercise/schema.py, and a malformed course gets exactly one
precise message per problem."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import jsonschema
import pytest

from conftest import EXERCISES, REPO_ROOT
from gradcheck_suite.cli import main
from gradcheck_suite.errors import ConfigError
from gradcheck_suite.exercise import schema
from gradcheck_suite.exercise.load import load_exercise
from gradcheck_suite.exercise.model import ExerciseLimits, FiniteDifferences
from gradcheck_suite.exercise.yaml_source import load_yaml
from gradcheck_suite.instructor import field_docs

BROKEN = Path(__file__).parent / "broken_configs"
DOCS = REPO_ROOT / "docs"

# Each broken file and the exact messages it must get ("line: field: expectation"), nothing more.
EXPECTED = {
    "unknown_keys.yaml": [
        "2: pionts: unknown key; did you mean 'points'?",
        "8: inputs[0].shpae: unknown key; did you mean 'shape'?",
        "9: inputs.x.domain.margn: unknown key; did you mean 'margin'?",
        "10: finite_differences.max_ful: unknown key; did you mean 'max_full'?",
    ],
    "wrong_types.yaml": [
        "2: points: expected a number >= 0, got 'ten'",
        "9: inputs.x.differentiable: expected true or false, got 'yes'",
        "10: trials: expected an integer >= 1, got 2.5",
        "11: seed: expected an integer >= 0, got -1",
        "12: hint: expected a string, got ['use', 'a', 'mask']",
        "13: dtype: expected one of float64, float32, float16, bfloat16, got 'float128'",
    ],
    "bad_shapes.yaml": [
        "7: inputs.x.shape: expected a list of dim names, integers and at most one '...', e.g. [N, D], got ['N', -1]",
        "9: inputs.w.shape: expected a list of dim names, integers and at most one '...', e.g. [N, D], "
        "got ['...', 'D', '...']",
        "11: inputs.b.shape: expected a list of dim names, integers and at most one '...', e.g. [N, D], got 'D'",
    ],
    "unknown_dims.yaml": [
        "7: dims.D_out: expected [low, high] with integers 0 <= low <= high, got [4, 2]",
        "8: dims.batch: expected an identifier as dim name, other than batch and values",
        "11: inputs.x.shape: dim 'D_inn' is not declared under dims (declared: N, D_in); did you mean 'D_in'?",
        "13: inputs.w.shape: dim 'M' is not declared under dims (declared: N, D_in)",
    ],
    "bad_reference_attribute.yaml": [
        "3: reference: cannot import 'torch.sigmoidd': module 'torch' has no attribute 'sigmoidd'; "
        "did you mean 'sigmoid'?",
    ],
    "bad_reference_module.yaml": [
        "4: reference: cannot import 'torhc.softmax': no module found for 'torhc.softmax'",
        "6: reference.args: unknown key; did you mean 'kwargs'?",
    ],
    "bad_domains.yaml": [
        "8: inputs.logits.domain.kind: expected one of real, positive, unit_interval, probabilities, interval, "
        "integers, got 'gaussian'",
        "11: inputs.targets.domain.low/high: domain 'interval' needs both low and high",
        "15: inputs.weights.domain.scale: expected a number > 0, got 0",
        "15: inputs.weights.domain.high: expected high > low, got low=2.0, high=1.0",
    ],
    "bad_student.yaml": [
        "2: student.file: expected a file name ending in .py, got 'linear'",
        "2: student.class: expected a class name, got 3",
    ],
    "style_mismatch.yaml": [
        "5: student.class: only for the autograd_function style; the functional style names its functions "
        "with forward: and backward:",
        "6: student.backward: expected a function name, got 7",
    ],
    "bad_edge_cases.yaml": [
        "12: edge_cases[0].inputs: every input needs a value; missing: b",
        "14: edge_cases[0].inputs.bias: unknown input (inputs are: b, w, x)",
        "17: edge_cases[1].inputs.x: expected a number, a nested list of numbers, or {shape: [...], fill: number} "
        "or {shape: [...], random: true}, got 'big'",
        "19: edge_cases[1].inputs.b: expected a number, a nested list of numbers, or {shape: [...], fill: number} "
        "or {shape: [...], random: true}, got {'shape': [1], 'random': False}",
    ],
    "bad_limits_and_weights.yaml": [
        "7: limits.wall: unknown key (allowed: time_seconds, cpu_seconds, memory_mb, output_kb)",
        "7: limits.time_seconds: expected a number of seconds > 0, got 0",
        "7: limits.memory_mb: expected a number of MiB > 0, got 1.5",
        "8: weights.backwards: not a check of this exercise (forward, backward, backward_properties, "
        "finite_differences); did you mean 'backward'?",
        "9: visibility: expected one of visible, hidden, after_due_date, after_published, got 'secret'",
        "10: checks: unknown check 'gradcheck' (checks are: forward, backward, backward_properties, "
        "finite_differences, edge_cases, double_backward)",
    ],
    "integer_inputs.yaml": [
        "6: inputs.indices.domain: an integer input needs domain kind 'integers'",
        "9: inputs.indices.differentiable: an input of dtype int64 cannot be differentiable",
    ],
    "style_limits.yaml": [
        "4: dtype: the numpy style cannot use bfloat16 (NumPy has no bfloat16)",
        "8: double_backward: needs the autograd_function style: autograd cannot differentiate a NumPy backward",
    ],
    "syntax_error.yaml": ["3: syntax: not valid YAML: expected ',' or '}', but got ':'"],
    "not_a_mapping.yaml": ["file: expected a mapping of exercise fields at the top level"],
}
# Files whose every problem is one of type, key or range, which the JSON Schema can express too.
SCHEMA_LEVEL = ("unknown_keys.yaml", "wrong_types.yaml", "bad_shapes.yaml", "bad_student.yaml",
                "bad_limits_and_weights.yaml", "not_a_mapping.yaml")


def _messages(path: Path) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_exercise(path)
    prefix = f"{path}:"
    lines = str(info.value).splitlines()
    assert all(line.startswith(prefix) for line in lines), lines
    return [line[len(prefix):].lstrip() for line in lines]


def test_every_broken_file_is_covered():
    assert sorted(p.name for p in BROKEN.glob("*.yaml")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_a_malformed_file_gets_one_precise_message_per_problem(name):
    assert _messages(BROKEN / name) == EXPECTED[name]


def _rendered(path: Path, message: str) -> str:
    return f"{path}:{message}" if message[0].isdigit() else f"{path}: {message}"


def test_validate_reports_the_whole_malformed_course_and_fails(capsys):
    files = sorted(BROKEN.glob("*.yaml"))
    assert main(["validate", *map(str, files), str(EXERCISES / "relu")]) == 1
    out = capsys.readouterr().out
    for name, messages in EXPECTED.items():
        for message in messages:
            assert _rendered(BROKEN / name, message) in out
    assert out.rstrip().endswith(f"1 of {len(files) + 1} exercise files valid")


def _validator(kind: str = "exercise") -> jsonschema.protocols.Validator:
    published = json.loads((DOCS / "schema" / f"{kind}.schema.json").read_text())
    jsonschema.Draft202012Validator.check_schema(published)
    return jsonschema.Draft202012Validator(published)


def test_the_published_schema_accepts_every_sample_exercise():
    validator = _validator()
    files = sorted(EXERCISES.glob("*/exercise.yaml"))
    assert files
    for path in files:
        errors = [f"{'.'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(load_yaml(path))]
        assert not errors, f"{path}: {errors}"


@pytest.mark.parametrize("name", SCHEMA_LEVEL)
def test_the_published_schema_rejects_what_the_validator_rejects(name):
    """Each field the validator names is named by the schema too: in an error's path, or in its
    message for an unknown key (reported on the mapping that holds it)."""
    errors = list(_validator().iter_errors(load_yaml(BROKEN / name)))
    said = [" ".join(map(str, e.absolute_path)) + " " + e.message for e in errors]
    for message in EXPECTED[name]:
        field = message.split(": ")[0 if message.startswith("file") else 1]
        leaf = field.split(".")[-1].split("[")[0]
        if leaf == "file" and not message[0].isdigit():
            assert any(not e.absolute_path for e in errors), said
        else:
            assert any(leaf in text for text in said), f"{message!r} not in {said}"


def test_the_course_schema_accepts_course_defaults(tmp_path):
    course = tmp_path / "course.yaml"
    course.write_text("weights: {forward: 20, backward: 80}\nvisibility: after_published\n")
    assert not list(_validator("course").iter_errors(load_yaml(course)))
    course.write_text("weights: {forwards: 20}\n")
    assert list(_validator("course").iter_errors(load_yaml(course)))


def test_the_published_files_are_the_generated_ones():
    """docs/schema/*.json and docs/reference.md are regenerated with
    `python -m gradcheck_suite.instructor.field_docs docs` after a field changes."""
    for relative, text in field_docs.published_files().items():
        assert (DOCS / relative).read_text(encoding="utf-8") == text, f"docs/{relative} is stale"


def _fields(node, path=""):
    if isinstance(node, schema.Mapping):
        for name, child in node.fields.items():
            yield f"{path}.{name}" if path else name, child
            yield from _fields(child, f"{path}.{name}" if path else name)
    elif isinstance(node, schema.ListOf):
        yield from _fields(node.item, f"{path}[]")
    elif isinstance(node, schema.AnyOf):
        for option in node.options:
            yield from _fields(option, path)


def test_every_field_is_documented_with_a_type_and_a_default_or_example():
    reference = (DOCS / "reference.md").read_text()
    for kind, root in schema.SCHEMAS.items():
        for path, node in _fields(root):
            assert node.description, f"{kind}: {path} has no description"
            assert node.default is not schema.NO_DEFAULT or node.example is not schema.NO_DEFAULT, path
            assert f"| `{path}`" in reference, path


def test_the_dataclass_defaults_are_the_schema_defaults():
    nodes = {"limits": (ExerciseLimits, schema.EXERCISE.fields["limits"]),
             "finite_differences": (FiniteDifferences, schema.EXERCISE.fields["finite_differences"])}
    for name, (cls, node) in nodes.items():
        for f in dataclasses.fields(cls):
            default = node.fields[f.name].default
            if default is not schema.NO_DEFAULT:
                assert f.default == default, f"{name}.{f.name}"


def test_sample_exercise_files_point_editors_at_the_schema():
    for path in EXERCISES.glob("*/exercise.yaml"):
        first = path.read_text().splitlines()[0]
        assert first.startswith("# yaml-language-server: $schema="), path
        assert (path.parent / first.split("=", 1)[1]).resolve() == (DOCS / "schema" / "exercise.schema.json")


def test_numbers_in_exponent_notation_are_numbers(tmp_path):
    """YAML 1.1 would read 1e-5 as a string; editors (YAML 1.2) read a number: so do we."""
    text = (EXERCISES / "sigmoid" / "exercise.yaml").read_text()
    path = tmp_path / "sigmoid" / "exercise.yaml"
    path.parent.mkdir()
    path.write_text(text + "tolerance: {rtol: 1e-5, atol: 2E-8}\n")
    spec = load_exercise(path)
    assert (spec.tolerance.rtol, spec.tolerance.atol) == (1e-5, 2e-8)
