"""Exercise YAML -> a typed, validated ExerciseSpec.

Every problem in a file is collected and raised together as one ConfigError whose lines read
``path:line: field: what was expected``.
"""

from __future__ import annotations

import difflib
import importlib
import math
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable

import torch

from . import schema
from .errors import ConfigError, ConfigProblem
from .schema import (
    CHECK_NAMES, COURSE, DOMAIN_FIELDS, DOMAIN_KINDS, EDGE_CASE, EXERCISE, FD_MODES, INPUT, NO_DEFAULT, STUDENT, STYLES,
    VISIBILITIES,
)
from .yaml_source import LineDict, YamlSyntaxError, load_yaml

BATCH = "..."
FLOAT_DTYPES = {
    "float64": torch.float64,
    "float32": torch.float32,
    "float16": torch.float16,
    "bfloat16": torch.bfloat16,
}
INT_DTYPES = {"int64": torch.int64, "int32": torch.int32}
DTYPES = {**FLOAT_DTYPES, **INT_DTYPES}
_NAME = re.compile(schema.IDENTIFIER)
RESERVED_DIMS = ("batch", "values")  # words of the replay format (strategies.Trial.describe)


@dataclass(frozen=True)
class Tolerance:
    rtol: float | None = None
    atol: float | None = None


@dataclass(frozen=True)
class Domain:
    kind: str = "real"
    scale: float = 1.0
    low: float | None = None
    high: float | None = None
    avoid: tuple[float, ...] = ()
    margin: float = 1e-2
    distinct: bool = False


@dataclass(frozen=True)
class InputSpec:
    name: str
    shape: tuple[str | int, ...]
    dtype: torch.dtype
    domain: Domain
    differentiable: bool
    tolerance: Tolerance
    line: int | None = None


@dataclass(frozen=True)
class EdgeCase:
    name: str
    inputs: dict[str, Any]
    line: int | None = None


@dataclass(frozen=True)
class FiniteDifferences:
    mode: str = "auto"
    max_full: int = 128
    directions: int = 2
    tolerance: Tolerance = Tolerance()


@dataclass(frozen=True)
class ExerciseLimits:
    """Per exercise, for all its checks together, in autograder mode (--isolate)."""

    time_seconds: float = 60.0
    cpu_seconds: float | None = None  # defaults to the wall-clock limit
    memory_mb: int = 4096
    output_kb: int = 1024


@dataclass(frozen=True)
class Reference:
    target: str
    function: Callable
    kwargs: dict


@dataclass(frozen=True)
class ExerciseSpec:
    path: Path
    name: str
    title: str
    points: float
    student_file: str
    student_class: str | None  # None for the functional and numpy styles
    reference: Reference
    inputs: tuple[InputSpec, ...]
    dims: dict[str, tuple[int, int]]
    batch_rank: tuple[int, int]
    batch_size: tuple[int, int]
    trials: int
    seed: int
    tolerance: Tolerance
    hint: str
    edge_cases: tuple[EdgeCase, ...]
    device: str
    finite_differences: FiniteDifferences
    checks: tuple[str, ...]
    non_contiguous: bool = False
    forbid: tuple[str, ...] = ()
    allow_imports: tuple[str, ...] = ()
    limits: ExerciseLimits = ExerciseLimits()
    weights: dict | None = None  # {check: weight}; None: all or nothing
    visibility: str = "visible"
    check_visibility: dict | None = None  # {check: visibility}
    student_style: str = "autograd_function"
    student_functions: tuple[str, str] = ("forward", "backward")  # functional and numpy styles

    @property
    def directory(self) -> Path:
        return self.path.parent

    @property
    def differentiable_inputs(self) -> tuple[InputSpec, ...]:
        return tuple(i for i in self.inputs if i.differentiable)

    def input(self, name: str) -> InputSpec:
        return next(i for i in self.inputs if i.name == name)


COURSE_FILE = "course.yaml"


def did_you_mean(word, choices, cutoff: float = 0.6) -> str:
    """'; did you mean 'x'?' for the closest of `choices`, or ''."""
    close = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1, cutoff=cutoff)
    return f"; did you mean {close[0]!r}?" if close else ""


def resolve_dotted(target: str) -> Callable:
    """Import ``package.module.attr`` (attributes may be nested); raise ValueError with a reason."""
    parts = target.split(".")
    for split in range(len(parts) - 1, 0, -1):
        module_name = ".".join(parts[:split])
        try:
            obj = importlib.import_module(module_name)
        except ModuleNotFoundError:
            continue
        try:
            for attr in parts[split:]:
                obj = getattr(obj, attr)
        except AttributeError:
            public = [name for name in dir(obj) if not name.startswith("_")]
            raise ValueError(f"module {module_name!r} has no attribute {'.'.join(parts[split:])!r}"
                             + did_you_mean(parts[-1], public, cutoff=0.8)) from None
        if not callable(obj):
            raise ValueError(f"{target!r} is not callable")
        return obj
    raise ValueError(f"no module found for {target!r}")


class _Reader:
    """Reads typed fields out of LineDicts, recording a problem instead of raising."""

    def __init__(self, path: Path):
        self.path = path
        self.problems: list[ConfigProblem] = []
        self._misspelled: set[tuple[int, str]] = set()

    def problem(self, line, field_name, expected):
        self.problems.append(ConfigProblem(line, field_name, expected))

    def check_keys(self, mapping: LineDict, parent: schema.Mapping, prefix: str):
        allowed = parent.allowed
        for key in mapping:
            if key not in allowed:
                close = did_you_mean(key, allowed)
                if close:
                    self._misspelled.add((id(mapping), close[len("; did you mean '"):-2]))
                self.problem(mapping.line_of(key), f"{prefix}{key}",
                             f"unknown key{close}" if close else f"unknown key (allowed: {', '.join(allowed)})")

    def sorted_problems(self) -> list[ConfigProblem]:
        """In the order of the file (problems without a line first)."""
        return sorted(self.problems, key=lambda p: p.line or 0)

    def misspelled(self, mapping, key: str) -> bool:
        """Whether an unknown key of `mapping` was already reported as a misspelling of `key`
        (a missing `key` is then the same problem, not a second one)."""
        return (id(mapping), key) in self._misspelled

    def field(self, mapping, parent: schema.Mapping, key: str, prefix: str, required=False, default=NO_DEFAULT):
        """mapping[key] if the schema's node for it accepts it; else its default, with the problem noted."""
        node = parent.fields[key]
        if default is NO_DEFAULT:
            default = None if node.default is NO_DEFAULT else node.default
        if key not in mapping or mapping[key] is None:
            if required and not self.misspelled(mapping, key):
                self.problem(getattr(mapping, "line", None), f"{prefix}{key}", f"missing; expected {node.expected}")
            return default
        value = mapping[key]
        if not node.accepts(value):
            self.problem(mapping.line_of(key), f"{prefix}{key}", f"expected {node.expected}, got {value!r}")
            return default
        return value

    def mapping(self, value, line, field_name) -> LineDict | None:
        if not isinstance(value, dict):
            self.problem(line, field_name, f"expected a mapping, got {value!r}")
            return None
        return value


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _read_tolerance(r: _Reader, mapping, key, prefix) -> Tolerance:
    raw = mapping.get(key) if isinstance(mapping, dict) else None
    if raw is None:
        return Tolerance()
    tol = r.mapping(raw, mapping.line_of(key), f"{prefix}{key}")
    if tol is None:
        return Tolerance()
    node = schema.tolerance("")
    r.check_keys(tol, node, f"{prefix}{key}.")
    rtol = r.field(tol, node, "rtol", f"{prefix}{key}.")
    atol = r.field(tol, node, "atol", f"{prefix}{key}.")
    return Tolerance(None if rtol is None else float(rtol), None if atol is None else float(atol))


def _read_range(r: _Reader, mapping, key, prefix, minimum=0) -> tuple[int, int] | None:
    value = mapping[key]
    if isinstance(value, int) and not isinstance(value, bool):
        value = [value, value]
    if (
        not isinstance(value, list) or len(value) != 2
        or not all(isinstance(v, int) and not isinstance(v, bool) for v in value)
        or value[0] < minimum or value[0] > value[1]
    ):
        r.problem(mapping.line_of(key), f"{prefix}{key}",
                  f"expected [low, high] with integers {minimum} <= low <= high, got {value!r}")
        return None
    return (value[0], value[1])


def _read_domain(r: _Reader, raw, line, prefix) -> Domain:
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
    if low is not None and high is not None and low >= high:
        r.problem(domain.line_of("high"), f"{prefix}high", f"expected high > low, got low={low}, high={high}")
    return Domain(kind=kind, scale=float(scale), low=low, high=high, avoid=tuple(float(a) for a in avoid),
                  margin=float(margin), distinct=distinct)


def _read_inputs(r: _Reader, doc: LineDict, default_dtype) -> list[InputSpec]:
    raw = doc.get("inputs")
    if not isinstance(raw, list) or not raw:
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
        shape = entry.get("shape")
        shape_ok = isinstance(shape, list) and all(
            (isinstance(s, int) and not isinstance(s, bool) and s >= 0)
            or (isinstance(s, str) and (s == BATCH or _NAME.match(s)))
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
        tolerance = _read_tolerance(r, entry, "tolerance", prefix)
        if name is not None:
            if any(i.name == name for i in inputs):
                r.problem(entry.line_of("name"), f"{prefix}name", "input names must be unique")
            inputs.append(InputSpec(name, tuple(shape), dtype, domain, bool(differentiable), tolerance,
                                    entry.line_of("shape")))
    if inputs and not any(i.differentiable for i in inputs):
        r.problem(doc.line_of("inputs"), "inputs", "at least one input must be differentiable")
    return inputs


def _read_dims(r: _Reader, doc: LineDict, inputs: list[InputSpec]) -> dict[str, tuple[int, int]]:
    raw = doc.get("dims", LineDict())
    dims: dict[str, tuple[int, int]] = {}
    if r.mapping(raw, doc.line_of("dims"), "dims") is None:
        return dims
    for key in raw:
        if not isinstance(key, str) or not _NAME.match(key) or key in RESERVED_DIMS:
            r.problem(raw.line_of(key), f"dims.{key}",
                      f"expected an identifier as dim name, other than {' and '.join(RESERVED_DIMS)}")
            continue
        span = _read_range(r, raw, key, "dims.", minimum=0)
        if span:
            dims[key] = span
    rejected = set(raw)  # named under dims but invalid: already reported
    for spec in inputs:
        for s in spec.shape:
            if isinstance(s, str) and s != BATCH and s not in dims and s not in rejected:
                r.problem(spec.line, f"inputs.{spec.name}.shape",
                          f"dim {s!r} is not declared under dims (declared: {', '.join(dims) or 'none'})"
                          + did_you_mean(s, dims))
    return dims


def _read_reference(r: _Reader, doc: LineDict) -> Reference | None:
    raw = doc.get("reference")
    line = doc.line_of("reference")
    if isinstance(raw, str):
        target, kwargs = raw, {}
    elif isinstance(raw, dict):
        node = schema.REFERENCE.options[1]
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
        function = resolve_dotted(target)
    except ValueError as exc:
        r.problem(line, "reference", f"cannot import {target!r}: {exc}")
        return None
    return Reference(target, function, dict(kwargs))


def _read_edge_cases(r: _Reader, doc: LineDict, inputs: list[InputSpec]) -> list[EdgeCase]:
    raw = doc.get("edge_cases") or []
    if not isinstance(raw, list):
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
                          f"or {{shape: [...], random: true}}, got {_short(value)}")
        cases.append(EdgeCase(name, dict(values), entry.line))
    return cases


def _short(value, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _edge_value_ok(value) -> bool:
    if _number(value) or (isinstance(value, float) and not math.isnan(value)):
        return True
    if isinstance(value, list):
        return all(_edge_value_ok(v) for v in value)
    if isinstance(value, dict):
        shape = value.get("shape")
        shape_ok = isinstance(shape, list) and all(isinstance(s, int) and s >= 0 for s in shape)
        kind_ok = ("fill" in value and isinstance(value["fill"], (int, float))) or value.get("random") is True
        return shape_ok and kind_ok and set(value) <= {"shape", "fill", "random"}
    return False


def load_exercise(path: Path | str) -> ExerciseSpec:
    """Read and validate one exercise file; raise ConfigError listing every problem."""
    path = Path(path)
    try:
        doc = load_yaml(path)
    except FileNotFoundError:
        raise ConfigError(path, [ConfigProblem(None, "file", "not found")]) from None
    except YamlSyntaxError as exc:
        raise ConfigError(path, [ConfigProblem(exc.line, "syntax", str(exc))]) from None
    r = _Reader(path)
    if not isinstance(doc, dict):
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
    reference = _read_reference(r, doc)
    dtype_name = r.field(doc, EXERCISE, "dtype", "")
    device = r.field(doc, EXERCISE, "device", "")
    inputs = _read_inputs(r, doc, FLOAT_DTYPES[dtype_name])
    dims = _read_dims(r, doc, inputs)

    batch = doc.get("batch") or LineDict()
    batch_rank, batch_size = (0, 3), (1, 4)
    if r.mapping(batch, doc.line_of("batch"), "batch") is not None:
        r.check_keys(batch, EXERCISE.fields["batch"], "batch.")
        if "rank" in batch:
            batch_rank = _read_range(r, batch, "rank", "batch.") or batch_rank
        if "size" in batch:
            batch_size = _read_range(r, batch, "size", "batch.") or batch_size

    trials = r.field(doc, EXERCISE, "trials", "")
    seed = r.field(doc, EXERCISE, "seed", "")
    tolerance = _read_tolerance(r, doc, "tolerance", "")
    hint = r.field(doc, EXERCISE, "hint", "")
    edge_cases = _read_edge_cases(r, doc, inputs)

    fd = FiniteDifferences()
    if "finite_differences" in doc:
        raw_fd = r.mapping(doc["finite_differences"], doc.line_of("finite_differences"), "finite_differences")
        if raw_fd is not None:
            node, prefix = EXERCISE.fields["finite_differences"], "finite_differences."
            r.check_keys(raw_fd, node, prefix)
            fd = FiniteDifferences(
                mode=r.field(raw_fd, node, "mode", prefix),
                max_full=r.field(raw_fd, node, "max_full", prefix),
                directions=r.field(raw_fd, node, "directions", prefix),
                tolerance=_read_tolerance(r, raw_fd, "tolerance", prefix),
            )
    double_backward = r.field(doc, EXERCISE, "double_backward", "")
    if double_backward and student_style != "autograd_function":
        r.problem(doc.line_of("double_backward"), "double_backward",
                  "needs the autograd_function style: " + (
                      "autograd cannot differentiate a NumPy backward" if student_style == "numpy"
                      else "a functional backward is not differentiated through the values it caches"))
    if student_style == "numpy" and any(i.dtype == torch.bfloat16 for i in inputs):
        r.problem(doc.line_of("dtype"), "dtype", "the numpy style cannot use bfloat16 (NumPy has no bfloat16)")
    non_contiguous = r.field(doc, EXERCISE, "non_contiguous", "")
    checks = ["forward", "backward", "backward_properties", "finite_differences"]
    if edge_cases:
        checks.append("edge_cases")
    if double_backward:
        checks.append("double_backward")
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
            checks = list(dict.fromkeys(raw_checks))
            if "edge_cases" in checks and not edge_cases:
                r.problem(doc.line_of("checks"), "checks", "edge_cases is listed but no edge_cases are given")

    forbid = _read_names(r, doc, "forbid")
    allow_imports = _read_names(r, doc, "allow_imports")
    limits = _read_limits(r, doc)
    course = _read_course(path.parent.parent / COURSE_FILE)
    weights = _read_weights(r, doc, checks) if "weights" in doc else _course_weights(course, checks)
    visibility = r.field(doc, EXERCISE, "visibility", "", default=course.get("visibility", "visible"))
    check_visibility = _read_check_visibility(r, doc, checks)

    if r.problems:
        raise ConfigError(path, r.sorted_problems())
    return ExerciseSpec(
        path=path, name=name, title=title, points=float(points), student_file=student_file,
        student_class=student_class, student_style=student_style, student_functions=student_functions,
        reference=reference, inputs=tuple(inputs), dims=dims,
        batch_rank=batch_rank, batch_size=batch_size, trials=trials, seed=seed, tolerance=tolerance,
        hint=hint.strip(), edge_cases=tuple(edge_cases), device=device, finite_differences=fd,
        checks=tuple(checks), non_contiguous=non_contiguous, forbid=forbid, allow_imports=allow_imports,
        limits=limits, weights=weights, visibility=visibility, check_visibility=check_visibility,
    )


def _read_weight_mapping(r: _Reader, raw, line, field_name: str, checks) -> dict | None:
    if not isinstance(raw, dict) or not raw:
        r.problem(line, field_name, "expected a mapping of check names to weights, e.g. {forward: 20, backward: 80}")
        return None
    weights = {}
    for check, weight in raw.items():
        where = raw.line_of(check) if hasattr(raw, "line_of") else line
        if check not in checks:
            r.problem(where, f"{field_name}.{check}",
                      f"not a check of this exercise ({', '.join(checks)})" + did_you_mean(check, checks))
        elif not _number(weight) or weight < 0:
            r.problem(where, f"{field_name}.{check}", f"expected a number >= 0, got {weight!r}")
        else:
            weights[check] = float(weight)
    if weights and not sum(weights.values()) > 0:
        r.problem(line, field_name, "expected at least one weight > 0")
        return None
    return weights or None


def _read_weights(r: _Reader, doc: LineDict, checks) -> dict | None:
    return _read_weight_mapping(r, doc["weights"], doc.line_of("weights"), "weights", checks)


def _course_weights(course: dict, checks) -> dict | None:
    """The course's weights, for the checks this exercise runs (None if it names none of them)."""
    weights = {c: w for c, w in (course.get("weights") or {}).items() if c in checks}
    return weights if sum(weights.values()) > 0 else None


def _read_check_visibility(r: _Reader, doc: LineDict, checks) -> dict | None:
    if "check_visibility" not in doc:
        return None
    raw = doc["check_visibility"]
    if not isinstance(raw, dict):
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


def _read_course(path: Path) -> dict:
    """Course-wide defaults (course.yaml beside the exercise folders); ConfigError names that file."""
    if not path.is_file():
        return {}
    try:
        doc = load_yaml(path)
    except YamlSyntaxError as exc:
        raise ConfigError(path, [ConfigProblem(exc.line, "syntax", str(exc))]) from None
    r = _Reader(path)
    if not isinstance(doc, dict):
        raise ConfigError(path, [ConfigProblem(None, "file", "expected a mapping of course defaults")])
    r.check_keys(doc, COURSE, "")
    course = {}
    if "weights" in doc:
        course["weights"] = _read_weight_mapping(r, doc["weights"], doc.line_of("weights"), "weights", CHECK_NAMES)
    if "visibility" in doc:
        course["visibility"] = r.field(doc, COURSE, "visibility", "", default=None)
    if r.problems:
        raise ConfigError(path, r.sorted_problems())
    return {k: v for k, v in course.items() if v is not None}


def _read_names(r: _Reader, doc: LineDict, key: str) -> tuple[str, ...]:
    return tuple(r.field(doc, EXERCISE, key, "", default=()))


def _read_limits(r: _Reader, doc: LineDict) -> ExerciseLimits:
    if "limits" not in doc:
        return ExerciseLimits()
    raw = r.mapping(doc["limits"], doc.line_of("limits"), "limits")
    if raw is None:
        return ExerciseLimits()
    node = EXERCISE.fields["limits"]
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
