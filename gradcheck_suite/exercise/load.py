"""Exercise YAML -> a typed, validated ExerciseSpec.

Every problem in a file is collected and raised together as one ConfigError whose lines read
``path:line: field: what was expected``."""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path
from typing import Any, Collection

import torch

from ..errors import ConfigError, ConfigProblem
from ..exercise import schema
from ..vocabulary import CheckName
from .course import read_course
from .model import (
    DTYPES,
    FLOAT_DTYPES,
    Domain,
    EdgeCase,
    ExerciseLimits,
    ExerciseSpec,
    FiniteDifferences,
    InputSpec,
    Reference,
)
from .names import BATCH, COURSE_FILE, RESERVED_DIMS, did_you_mean, resolve_dotted, support_module_name
from .outputs import read_outputs
from .params import read_params
from .randomness import random_checks, read_random
from .reader import (
    IDENTIFIER_PATTERN,
    FieldReader,
    is_number,
    read_range,
    read_tolerance,
    read_weight_mapping,
    short_repr,
)
from .schema import CHECK_NAMES, DOMAIN_FIELDS, EDGE_CASE, EXERCISE, INPUT, STUDENT, STYLES, VISIBILITIES
from .side_outputs import check_array_shapes, read_side_outputs
from .sizes import read_expression, read_sizes, size_names
from .yaml_source import LineDict, LineList, YamlSyntaxError, load_yaml


def _mapping_node(node: schema.Node) -> schema.Mapping:
    """A schema node that describes a mapping (the schema's tables make it one)."""
    assert isinstance(node, schema.Mapping)
    return node


def _read_domain(r: FieldReader, raw, line, prefix) -> Domain:
    if raw is None:
        return Domain()
    if isinstance(raw, str):
        raw_map = LineDict(kind=raw)
        raw_map.line, raw_map.key_lines = line, {"kind": line}
        raw = raw_map
    domain = r.mapping(raw, line, prefix[:-1])
    if domain is None:
        return Domain()
    r.check_keys(domain, DOMAIN_FIELDS, prefix)
    kind, scale, low, high, margin, distinct = (
        r.field(domain, DOMAIN_FIELDS, key, prefix) for key in ("kind", "scale", "low", "high", "margin", "distinct"))
    avoid = r.field(domain, DOMAIN_FIELDS, "avoid", prefix, default=[])
    if kind in ("interval", "integers") and (low is None or high is None):
        r.problem(domain.line, f"{prefix}low/high", f"domain {kind!r} needs both low and high")
    low_expr = read_expression(r, low, domain.line_of("low"), f"{prefix}low") if isinstance(low, str) else None
    high_expr = read_expression(r, high, domain.line_of("high"), f"{prefix}high") if isinstance(high, str) else None
    if isinstance(low, str) or isinstance(high, str):
        low, high = (None if isinstance(low, str) else low), (None if isinstance(high, str) else high)
    elif low is not None and high is not None and low >= high:
        r.problem(domain.line_of("high"), f"{prefix}high", f"expected high > low, got low={low}, high={high}")
    return Domain(kind=kind, scale=float(scale), low=low, high=high, avoid=tuple(float(a) for a in avoid),
                  margin=float(margin), distinct=distinct, low_expr=low_expr, high_expr=high_expr)


def _read_inputs(r: FieldReader, doc: LineDict, default_dtype) -> list[InputSpec]:
    raw = doc.get("inputs")
    if not isinstance(raw, LineList) or not raw:  # every list load_yaml reads is one
        r.problem(doc.line_of("inputs"), "inputs", "expected a non-empty list of inputs (name, shape, ...)")
        return []
    inputs: list[InputSpec] = []
    for index, item in enumerate(raw):
        prefix = f"inputs[{index}]."
        entry = r.mapping(item, raw.line_of(index), f"inputs[{index}]")
        if entry is None:
            continue
        r.check_keys(entry, INPUT, prefix)
        name = r.field(entry, INPUT, "name", prefix, required=True)
        if name is not None:
            prefix = f"inputs.{name}."
        shape: Any = entry.get("shape")
        shape_ok = isinstance(shape, list) and all(
            (isinstance(s, int) and not isinstance(s, bool) and s >= 0)
            or (isinstance(s, str) and (s == BATCH or IDENTIFIER_PATTERN.match(s)))
            for s in shape
        ) and sum(s == BATCH for s in shape) <= 1
        if not shape_ok:
            if not (shape is None and r.misspelled(entry, "shape")):
                r.problem(entry.line_of("shape"), f"{prefix}shape",
                          f"expected a list of dim names, integers and at most one '...', e.g. [N, D], got {shape!r}")
            shape = []
        dtype_name = r.field(entry, INPUT, "dtype", prefix)
        dtype = DTYPES[dtype_name] if dtype_name else default_dtype
        domain = _read_domain(r, entry.get("domain"), entry.line_of("domain"), f"{prefix}domain.")
        differentiable = r.field(entry, INPUT, "differentiable", prefix, default=dtype.is_floating_point)
        if differentiable and not dtype.is_floating_point:
            r.problem(entry.line_of("differentiable"), f"{prefix}differentiable",
                      f"an input of dtype {dtype_name} cannot be differentiable")
        if domain.kind == "integers" and dtype.is_floating_point:
            r.problem(entry.line_of("domain"), f"{prefix}domain", "domain 'integers' needs an integer dtype")
        if not dtype.is_floating_point and domain.kind != "integers":
            r.problem(entry.line_of("domain"), f"{prefix}domain", "an integer input needs domain kind 'integers'")
        tolerance = read_tolerance(r, entry, "tolerance", prefix)
        if name is not None:
            if any(i.name == name for i in inputs):
                r.problem(entry.line_of("name"), f"{prefix}name", "input names must be unique")
            inputs.append(InputSpec(name, tuple(shape), dtype, domain, bool(differentiable), tolerance,
                                    entry.line_of("shape")))
    if inputs and not any(i.differentiable for i in inputs):
        r.problem(doc.line_of("inputs"), "inputs", "at least one input must be differentiable")
    return inputs


def _read_dims(r: FieldReader, doc: LineDict, inputs: list[InputSpec],
               sizes: Collection[str] = ()) -> dict[str, tuple[int, int]]:
    """The dims; `sizes`: integer params, which a shape may name like a dim."""
    raw = doc.get("dims", LineDict())
    dims: dict[str, tuple[int, int]] = {}
    if r.mapping(raw, doc.line_of("dims"), "dims") is None:
        return dims
    for key in raw:
        if not isinstance(key, str) or not IDENTIFIER_PATTERN.match(key) or key in RESERVED_DIMS:
            r.problem(raw.line_of(key), f"dims.{key}",
                      f"expected an identifier as dim name, other than {' and '.join(RESERVED_DIMS)}")
            continue
        if isinstance(raw[key], str):
            continue  # a derived dim (sizes.read_sizes)
        span = read_range(r, raw, key, "dims.", minimum=0)
        if span:
            dims[key] = span
    rejected = set(raw)  # named under dims but invalid: already reported
    for spec in inputs:
        for s in spec.shape:
            if isinstance(s, str) and s != BATCH and s not in dims and s not in rejected and s not in sizes:
                r.problem(spec.line, f"inputs.{spec.name}.shape",
                          f"dim {s!r} is not declared under dims (declared: {', '.join(dims) or 'none'})"
                          + did_you_mean(s, dims))
    return dims


def _read_reference(r: FieldReader, doc: LineDict, course_root: Path | None) -> Reference | None:
    raw = doc.get("reference")
    line = doc.line_of("reference")
    kwargs: dict
    if isinstance(raw, str):
        target, kwargs = raw, {}
    elif isinstance(raw, LineDict):
        node = _mapping_node(schema.REFERENCE.options[1])
        r.check_keys(raw, node, "reference.")
        target = r.field(raw, node, "function", "reference.", required=True)
        kwargs = raw.get("kwargs") or {}
        if not isinstance(kwargs, dict):
            r.problem(raw.line_of("kwargs"), "reference.kwargs", f"expected a mapping, got {kwargs!r}")
            kwargs = {}
        line = raw.line_of("function")
    else:
        r.problem(line, "reference",
                  "expected a dotted path to a differentiable torch function (e.g. torch.sigmoid) "
                  "or a mapping with function and kwargs")
        return None
    if target is None:
        return None
    try:
        function = resolve_dotted(target, course_root)
    except ValueError as exc:
        r.problem(line, "reference", f"cannot import {target!r}: {exc}")
        return None
    return Reference(target, function, dict(kwargs))


def _read_edge_cases(r: FieldReader, doc: LineDict, inputs: list[InputSpec]) -> list[EdgeCase]:
    raw = doc.get("edge_cases") or LineList()
    if not isinstance(raw, LineList):
        r.problem(doc.line_of("edge_cases"), "edge_cases", "expected a list of {name, inputs}")
        return []
    names = {i.name for i in inputs}
    cases = []
    for index, item in enumerate(raw):
        entry = r.mapping(item, raw.line_of(index), f"edge_cases[{index}]")
        if entry is None:
            continue
        prefix = f"edge_cases[{index}]."
        r.check_keys(entry, EDGE_CASE, prefix)
        name = r.field(entry, EDGE_CASE, "name", prefix, default=f"case {index + 1}")
        values = r.mapping(entry.get("inputs"), entry.line_of("inputs"), f"{prefix}inputs")
        if values is None:
            continue
        for key in values:
            if key not in names:
                r.problem(values.line_of(key), f"{prefix}inputs.{key}",
                          f"unknown input (inputs are: {', '.join(sorted(names))})" + did_you_mean(key, names))
        missing = names - set(values)
        if missing:
            r.problem(values.line, f"{prefix}inputs",
                      f"every input needs a value; missing: {', '.join(sorted(missing))}")
        for key, value in values.items():
            if not _edge_value_ok(value):
                r.problem(values.line_of(key), f"{prefix}inputs.{key}",
                          "expected a number, a nested list of numbers, or {shape: [...], fill: number} "
                          f"or {{shape: [...], random: true}}, got {short_repr(value)}")
        visibility = r.field(entry, EDGE_CASE, "visibility", prefix, default=None)
        cases.append(EdgeCase(name, dict(values), entry.line, visibility))
    return cases


def _edge_value_ok(value) -> bool:
    if is_number(value) or (isinstance(value, float) and not math.isnan(value)):
        return True
    if isinstance(value, list):
        return all(_edge_value_ok(v) for v in value)
    if isinstance(value, dict):
        shape = value.get("shape")
        shape_ok = isinstance(shape, list) and all(isinstance(s, int) and s >= 0 for s in shape)
        kind_ok = ("fill" in value and isinstance(value["fill"], (int, float))) or value.get("random") is True
        return shape_ok and kind_ok and set(value) <= {"shape", "fill", "random"}
    return False


def declared_points(path: Path | str) -> tuple[str, float]:
    """The name and points of an exercise whose file cannot be used, read as far as they can be: its
    own `name` and `points` where the YAML parses, else the folder's name and the points course.yaml's
    `exercises` gives it; 0 only where neither says. A broken exercise keeps its points in the maximum."""
    path = Path(path)
    name, points = path.parent.name, None
    try:
        doc = load_yaml(path)
    except (OSError, YamlSyntaxError):
        doc = None
    if isinstance(doc, dict):
        if isinstance(doc.get("name"), str) and IDENTIFIER_PATTERN.match(doc["name"]):
            name = doc["name"]
        if is_number(doc.get("points")) and doc["points"] >= 0:
            points = float(doc["points"])
    if points is None:
        try:
            listed = read_course(path.parent.parent / COURSE_FILE).exercises
        except ConfigError:
            listed = {}
        points = listed.get(name, listed.get(path.parent.name, 0.0))
    return name, float(points)


def load_exercise(path: Path | str) -> ExerciseSpec:
    """Read and validate one exercise file; raise ConfigError listing every problem."""
    path = Path(path)
    try:
        doc = load_yaml(path)
    except FileNotFoundError:
        raise ConfigError(path, [ConfigProblem(None, "file", "not found")]) from None
    except YamlSyntaxError as exc:
        raise ConfigError(path, [ConfigProblem(exc.line, "syntax", str(exc))]) from None
    r = FieldReader(path)
    if not isinstance(doc, LineDict):  # every mapping load_yaml reads is one
        raise ConfigError(path, [ConfigProblem(None, "file", "expected a mapping of exercise fields at the top level")])
    r.check_keys(doc, EXERCISE, "")

    name = r.field(doc, EXERCISE, "name", "", required=True)
    title = r.field(doc, EXERCISE, "title", "", default=name or "")
    points = r.field(doc, EXERCISE, "points", "")
    student = r.mapping(doc.get("student"), doc.line_of("student"), "student") if "student" in doc else None
    student_style, student_functions = STYLES[0], ("forward", "backward")
    if student is None:
        r.problem(doc.line, "student", "missing; expected {file: name.py, class: ClassName}")
        student_file = student_class = None
    else:
        r.check_keys(student, STUDENT, "student.")
        student_file = r.field(student, STUDENT, "file", "student.", required=True)
        student_style = r.field(student, STUDENT, "style", "student.")
        if student_style == "autograd_function":
            student_class = r.field(student, STUDENT, "class", "student.", required=True)
            for key in ("forward", "backward"):
                if key in student:
                    r.problem(student.line_of(key), f"student.{key}",
                              "only for the functional and numpy styles; an autograd_function names its class")
        else:
            student_class = None
            if "class" in student:
                r.problem(student.line_of("class"), "student.class",
                          f"only for the autograd_function style; the {student_style} style names its "
                          "functions with forward: and backward:")
            student_functions = tuple(r.field(student, STUDENT, key, "student.") for key in ("forward", "backward"))
            if student_style == "loss":
                if "backward" in student:
                    r.problem(student.line_of("backward"), "student.backward",
                              "not for the loss style: its one function (forward:) returns (loss, gradients)")
                student_functions = (student_functions[0], student_functions[0])
    course = read_course(path.parent.parent / COURSE_FILE)
    reference = _read_reference(r, doc, course.root)
    dtype_name = r.field(doc, EXERCISE, "dtype", "")
    device = r.field(doc, EXERCISE, "device", "")
    inputs = _read_inputs(r, doc, FLOAT_DTYPES[dtype_name])
    params = read_params(r, doc, {i.name for i in inputs}, _read_domain)
    side_outputs = read_side_outputs(r, doc, params)
    outputs = read_outputs(r, doc, inputs)
    if len(outputs) > 1 and student_style == "loss":
        r.problem(doc.line_of("outputs"), "outputs",
                  "expected one output for the loss style: its function returns (loss, gradients)")
    randomized = read_random(r, doc, inputs, params, outputs)
    dims = _read_dims(r, doc, inputs, size_names(params))
    derived, constraints = read_sizes(r, doc, dims, params, inputs)
    check_array_shapes(r, params, [*dims, *derived, *size_names(params)])

    batch = doc.get("batch") or LineDict()
    batch_rank, batch_size = (0, 3), (1, 4)
    if r.mapping(batch, doc.line_of("batch"), "batch") is not None:
        r.check_keys(batch, _mapping_node(EXERCISE.fields["batch"]), "batch.")
        if "rank" in batch:
            batch_rank = read_range(r, batch, "rank", "batch.") or batch_rank
        if "size" in batch:
            batch_size = read_range(r, batch, "size", "batch.") or batch_size

    trials = r.field(doc, EXERCISE, "trials", "")
    seed = r.field(doc, EXERCISE, "seed", "")
    tolerance = read_tolerance(r, doc, "tolerance", "")
    hint = r.field(doc, EXERCISE, "hint", "")
    edge_cases = _read_edge_cases(r, doc, inputs)

    fd = FiniteDifferences()
    if "finite_differences" in doc:
        raw_fd = r.mapping(doc["finite_differences"], doc.line_of("finite_differences"), "finite_differences")
        if raw_fd is not None:
            node, prefix = _mapping_node(EXERCISE.fields["finite_differences"]), "finite_differences."
            r.check_keys(raw_fd, node, prefix)
            fd = FiniteDifferences(
                mode=r.field(raw_fd, node, "mode", prefix),
                max_full=r.field(raw_fd, node, "max_full", prefix),
                directions=r.field(raw_fd, node, "directions", prefix),
                tolerance=read_tolerance(r, raw_fd, "tolerance", prefix),
            )
    double_backward = r.field(doc, EXERCISE, "double_backward", "")
    if double_backward and student_style != "autograd_function":
        r.problem(doc.line_of("double_backward"), "double_backward",
                  "needs the autograd_function style: " + (
                      "autograd cannot differentiate a NumPy backward" if student_style in ("numpy", "loss")
                      else "a functional backward is not differentiated through the values it caches"))
    if double_backward and len(outputs) > 1:
        r.problem(doc.line_of("double_backward"), "double_backward",
                  f"expected an exercise with one output: the double_backward check differentiates one upstream "
                  f"gradient, and this one has {len(outputs)} outputs ({', '.join(o.name for o in outputs)})")
    if student_style in ("numpy", "loss") and any(i.dtype == torch.bfloat16 for i in inputs):
        r.problem(doc.line_of("dtype"), "dtype", f"the {student_style} style cannot use bfloat16 (NumPy has no bfloat16)")
    non_contiguous = r.field(doc, EXERCISE, "non_contiguous", "")
    checks: list[str] = [CheckName.FORWARD, CheckName.BACKWARD, CheckName.BACKWARD_PROPERTIES,
                         CheckName.FINITE_DIFFERENCES]
    if edge_cases:
        checks.append(CheckName.EDGE_CASES)
    if double_backward:
        checks.append(CheckName.DOUBLE_BACKWARD)
    if "checks" in doc:
        raw_checks = doc["checks"]
        unknown = [c for c in raw_checks if c not in CHECK_NAMES] if isinstance(raw_checks, list) else []
        if unknown:
            for check in unknown:
                r.problem(raw_checks.line_of(raw_checks.index(check)), "checks",
                          f"unknown check {check!r} (checks are: {', '.join(CHECK_NAMES)})"
                          + did_you_mean(check, CHECK_NAMES))
        elif not isinstance(raw_checks, list) or not raw_checks:
            r.problem(doc.line_of("checks"), "checks", f"expected a non-empty list drawn from {', '.join(CHECK_NAMES)}")
        else:
            checks = [CheckName(c) for c in dict.fromkeys(raw_checks)]
            if "edge_cases" in checks and not edge_cases:
                r.problem(doc.line_of("checks"), "checks", "edge_cases is listed but no edge_cases are given")
    if "random" in doc:
        checks = random_checks(r, doc, checks, listed="checks" in doc)

    forbid = _read_names(r, doc, "forbid")
    allow_imports = _read_names(r, doc, "allow_imports") + course.allow_imports + \
        tuple(support_module_name(entry) for entry in course.support)
    limits = _read_limits(r, doc)
    weights = _read_weights(r, doc, checks) if "weights" in doc else course.weights_for(checks)
    visibility = r.field(doc, EXERCISE, "visibility", "", default=course.visibility or "visible")
    check_visibility = _read_check_visibility(r, doc, checks)

    if r.problems:
        raise ConfigError(path, r.sorted_problems())
    # Both are read above, and a missing or invalid one is a problem: with none, both are here.
    assert student_file is not None and reference is not None
    return ExerciseSpec(
        path=path, name=name, title=title, points=float(points), student_file=student_file,
        student_class=student_class, student_style=student_style, student_functions=student_functions,
        reference=reference, inputs=tuple(inputs), dims=dims,
        batch_rank=batch_rank, batch_size=batch_size, trials=trials, seed=seed, tolerance=tolerance,
        hint=hint.strip(), edge_cases=tuple(edge_cases), device=device, finite_differences=fd,
        checks=tuple(checks), non_contiguous=non_contiguous, forbid=forbid, allow_imports=allow_imports,
        limits=limits, weights=weights, visibility=visibility, check_visibility=check_visibility,
        support=course.support, params=tuple(params), derived=derived, constraints=constraints,
        outputs=outputs, side_outputs=side_outputs, random=randomized,
    )


def _read_weights(r: FieldReader, doc: LineDict, checks) -> dict | None:
    return read_weight_mapping(r, doc["weights"], doc.line_of("weights"), "weights", checks)


def _read_check_visibility(r: FieldReader, doc: LineDict, checks) -> dict | None:
    if "check_visibility" not in doc:
        return None
    raw = doc["check_visibility"]
    if not isinstance(raw, LineDict):  # every mapping load_yaml reads is one
        r.problem(doc.line_of("check_visibility"), "check_visibility",
                  "expected a mapping of check names to visibilities, e.g. {edge_cases: hidden}")
        return None
    found = {}
    for check, value in raw.items():
        if check not in checks:
            r.problem(raw.line_of(check), f"check_visibility.{check}",
                      f"not a check of this exercise ({', '.join(checks)})" + did_you_mean(check, checks))
        elif value not in VISIBILITIES:
            r.problem(raw.line_of(check), f"check_visibility.{check}", f"expected one of {', '.join(VISIBILITIES)}")
        else:
            found[check] = value
    return found


def _read_names(r: FieldReader, doc: LineDict, key: str) -> tuple[str, ...]:
    return tuple(r.field(doc, EXERCISE, key, "", default=()))


def _read_limits(r: FieldReader, doc: LineDict) -> ExerciseLimits:
    if "limits" not in doc:
        return ExerciseLimits()
    raw = r.mapping(doc["limits"], doc.line_of("limits"), "limits")
    if raw is None:
        return ExerciseLimits()
    node = _mapping_node(EXERCISE.fields["limits"])
    r.check_keys(raw, node, "limits.")
    return ExerciseLimits(**{key: r.field(raw, node, key, "limits.") for key in node.fields})


def with_overrides(spec: ExerciseSpec, dtype: str | None = None, device: str | None = None) -> ExerciseSpec:
    """The same exercise with every floating-point input in `dtype` and/or run on `device`."""
    changes: dict = {}
    if dtype is not None:
        new = FLOAT_DTYPES[dtype]
        changes["inputs"] = tuple(replace(i, dtype=new) if i.dtype.is_floating_point else i for i in spec.inputs)
    if device is not None:
        changes["device"] = device
    return replace(spec, **changes) if changes else spec
