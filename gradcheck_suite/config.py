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

from .errors import ConfigError, ConfigProblem
from .yaml_source import LineDict, LineList, YamlSyntaxError, load_yaml

BATCH = "..."
CHECK_NAMES = ("forward", "backward", "backward_properties", "finite_differences", "edge_cases", "double_backward")
DOMAIN_KINDS = ("real", "positive", "unit_interval", "probabilities", "interval", "integers")
FLOAT_DTYPES = {
    "float64": torch.float64,
    "float32": torch.float32,
    "float16": torch.float16,
    "bfloat16": torch.bfloat16,
}
INT_DTYPES = {"int64": torch.int64, "int32": torch.int32}
DTYPES = {**FLOAT_DTYPES, **INT_DTYPES}
FD_MODES = ("auto", "full", "projected", "adaptive")
# How the student's file provides the operation: a torch.autograd.Function subclass, or
# forward(*inputs) -> (out, cache) / backward(grad_out, cache) -> grads in torch or in NumPy.
STYLES = ("autograd_function", "functional", "numpy")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
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


_TOP_KEYS = (
    "name", "title", "points", "student", "reference", "dtype", "device", "dims", "batch",
    "inputs", "trials", "seed", "tolerance", "finite_differences", "double_backward", "hint",
    "edge_cases", "checks", "non_contiguous", "forbid", "allow_imports", "limits", "weights", "visibility",
    "check_visibility",
)
VISIBILITIES = ("visible", "hidden", "after_due_date", "after_published")
COURSE_FILE = "course.yaml"
_COURSE_KEYS = ("weights", "visibility")
_LIMIT_KEYS = ("time_seconds", "cpu_seconds", "memory_mb", "output_kb")
_DOTTED = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")
_INPUT_KEYS = ("name", "shape", "dtype", "domain", "differentiable", "tolerance")
_DOMAIN_KEYS = ("kind", "scale", "low", "high", "avoid", "margin", "distinct")


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
            raise ValueError(f"module {module_name!r} has no attribute {'.'.join(parts[split:])!r}")
        if not callable(obj):
            raise ValueError(f"{target!r} is not callable")
        return obj
    raise ValueError(f"no module found for {target!r}")


class _Reader:
    """Reads typed fields out of LineDicts, recording a problem instead of raising."""

    def __init__(self, path: Path):
        self.path = path
        self.problems: list[ConfigProblem] = []

    def problem(self, line, field_name, expected):
        self.problems.append(ConfigProblem(line, field_name, expected))

    def check_keys(self, mapping: LineDict, allowed, prefix: str):
        for key in mapping:
            if key not in allowed:
                close = difflib.get_close_matches(str(key), allowed, n=1)
                suggestion = f"; did you mean {close[0]!r}?" if close else ""
                self.problem(mapping.line_of(key), f"{prefix}{key}",
                             f"unknown key (allowed: {', '.join(allowed)}){suggestion}")

    def get(self, mapping, key, prefix, kind, expected, default=None, required=False, check=None):
        if key not in mapping or mapping[key] is None:
            if required:
                self.problem(getattr(mapping, "line", None), f"{prefix}{key}", f"missing; expected {expected}")
            return default
        value = mapping[key]
        ok = isinstance(value, kind) and not (kind is not bool and isinstance(value, bool) and bool not in _tuple(kind))
        if ok and check is not None:
            ok = check(value)
        if not ok:
            self.problem(mapping.line_of(key), f"{prefix}{key}", f"expected {expected}, got {value!r}")
            return default
        return value

    def mapping(self, value, line, field_name) -> LineDict | None:
        if not isinstance(value, dict):
            self.problem(line, field_name, f"expected a mapping, got {value!r}")
            return None
        return value


def _tuple(kind):
    return kind if isinstance(kind, tuple) else (kind,)


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _read_tolerance(r: _Reader, mapping, key, prefix) -> Tolerance:
    raw = mapping.get(key) if isinstance(mapping, dict) else None
    if raw is None:
        return Tolerance()
    tol = r.mapping(raw, mapping.line_of(key), f"{prefix}{key}")
    if tol is None:
        return Tolerance()
    r.check_keys(tol, ("rtol", "atol"), f"{prefix}{key}.")
    nonneg = lambda v: _number(v) and v >= 0  # noqa: E731
    rtol = r.get(tol, "rtol", f"{prefix}{key}.", (int, float), "a number >= 0", check=nonneg)
    atol = r.get(tol, "atol", f"{prefix}{key}.", (int, float), "a number >= 0", check=nonneg)
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
    r.check_keys(domain, _DOMAIN_KEYS, prefix)
    kind = r.get(domain, "kind", prefix, str, f"one of {', '.join(DOMAIN_KINDS)}", default="real",
                 check=lambda v: v in DOMAIN_KINDS)
    scale = r.get(domain, "scale", prefix, (int, float), "a number > 0", default=1.0,
                  check=lambda v: _number(v) and v > 0)
    low = r.get(domain, "low", prefix, (int, float), "a finite number", check=_number)
    high = r.get(domain, "high", prefix, (int, float), "a finite number", check=_number)
    margin = r.get(domain, "margin", prefix, (int, float), "a number >= 0", default=1e-2,
                   check=lambda v: _number(v) and v >= 0)
    distinct = r.get(domain, "distinct", prefix, bool, "true or false", default=False)
    avoid = domain.get("avoid", [])
    if not isinstance(avoid, list) or not all(_number(a) for a in avoid):
        r.problem(domain.line_of("avoid"), f"{prefix}avoid", f"expected a list of numbers, got {avoid!r}")
        avoid = []
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
        r.check_keys(entry, _INPUT_KEYS, prefix)
        name = r.get(entry, "name", prefix, str, "an identifier such as x", required=True,
                     check=_NAME.match)
        if name is not None:
            prefix = f"inputs.{name}."
        shape = entry.get("shape")
        shape_ok = isinstance(shape, list) and all(
            (isinstance(s, int) and not isinstance(s, bool) and s >= 0)
            or (isinstance(s, str) and (s == BATCH or _NAME.match(s)))
            for s in shape
        ) and sum(s == BATCH for s in shape) <= 1
        if not shape_ok:
            r.problem(entry.line_of("shape"), f"{prefix}shape",
                      f"expected a list of dim names, integers and at most one '...', e.g. [N, D], got {shape!r}")
            shape = []
        dtype_name = r.get(entry, "dtype", prefix, str, f"one of {', '.join(DTYPES)}", check=lambda v: v in DTYPES)
        dtype = DTYPES[dtype_name] if dtype_name else default_dtype
        domain = _read_domain(r, entry.get("domain"), entry.line_of("domain"), f"{prefix}domain.")
        differentiable = r.get(entry, "differentiable", prefix, bool, "true or false",
                               default=dtype.is_floating_point)
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
                          f"dim {s!r} is not declared under dims (declared: {', '.join(dims) or 'none'})")
    return dims


def _read_reference(r: _Reader, doc: LineDict) -> Reference | None:
    raw = doc.get("reference")
    line = doc.line_of("reference")
    if isinstance(raw, str):
        target, kwargs = raw, {}
    elif isinstance(raw, dict):
        r.check_keys(raw, ("function", "kwargs"), "reference.")
        target = r.get(raw, "function", "reference.", str, "a dotted path such as torch.sigmoid", required=True)
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
        r.check_keys(entry, ("name", "inputs"), prefix)
        name = r.get(entry, "name", prefix, str, "a short description", default=f"case {index + 1}")
        values = r.mapping(entry.get("inputs"), entry.line_of("inputs"), f"{prefix}inputs")
        if values is None:
            continue
        for key in values:
            if key not in names:
                r.problem(values.line_of(key), f"{prefix}inputs.{key}",
                          f"unknown input (inputs are: {', '.join(sorted(names))})")
        missing = names - set(values)
        if missing:
            r.problem(values.line, f"{prefix}inputs",
                      f"every input needs a value; missing: {', '.join(sorted(missing))}")
        for key, value in values.items():
            if not _edge_value_ok(value):
                r.problem(values.line_of(key), f"{prefix}inputs.{key}",
                          "expected a number, a nested list of numbers, or {shape: [...], fill: number} "
                          "or {shape: [...], random: true}")
        cases.append(EdgeCase(name, dict(values), entry.line))
    return cases


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
    r.check_keys(doc, _TOP_KEYS, "")

    name = r.get(doc, "name", "", str, "an identifier such as linear", required=True, check=_NAME.match)
    title = r.get(doc, "title", "", str, "a string", default=name or "")
    points = r.get(doc, "points", "", (int, float), "a number >= 0", default=1,
                   check=lambda v: _number(v) and v >= 0)
    student = r.mapping(doc.get("student"), doc.line_of("student"), "student") if "student" in doc else None
    student_style, student_functions = STYLES[0], ("forward", "backward")
    if student is None:
        r.problem(doc.line, "student", "missing; expected {file: name.py, class: ClassName}")
        student_file = student_class = None
    else:
        r.check_keys(student, ("file", "style", "class", "forward", "backward"), "student.")
        student_file = r.get(student, "file", "student.", str, "a file name ending in .py", required=True,
                             check=lambda v: v.endswith(".py") and "/" not in v and "\\" not in v)
        student_style = r.get(student, "style", "student.", str, f"one of {', '.join(STYLES)}",
                              default=STYLES[0], check=lambda v: v in STYLES)
        if student_style == "autograd_function":
            student_class = r.get(student, "class", "student.", str, "a class name", required=True,
                                  check=_NAME.match)
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
            student_functions = tuple(
                r.get(student, key, "student.", str, "a function name", default=key, check=_NAME.match)
                for key in ("forward", "backward"))
    reference = _read_reference(r, doc)
    dtype_name = r.get(doc, "dtype", "", str, f"one of {', '.join(FLOAT_DTYPES)}", default="float64",
                       check=lambda v: v in FLOAT_DTYPES)
    device = r.get(doc, "device", "", str, "cpu or cuda", default="cpu", check=lambda v: v in ("cpu", "cuda"))
    inputs = _read_inputs(r, doc, FLOAT_DTYPES[dtype_name])
    dims = _read_dims(r, doc, inputs)

    batch = doc.get("batch") or LineDict()
    batch_rank, batch_size = (0, 3), (1, 4)
    if r.mapping(batch, doc.line_of("batch"), "batch") is not None:
        r.check_keys(batch, ("rank", "size"), "batch.")
        if "rank" in batch:
            batch_rank = _read_range(r, batch, "rank", "batch.") or batch_rank
        if "size" in batch:
            batch_size = _read_range(r, batch, "size", "batch.") or batch_size

    trials = r.get(doc, "trials", "", int, "an integer >= 1", default=25, check=lambda v: v >= 1)
    seed = r.get(doc, "seed", "", int, "an integer >= 0", default=0, check=lambda v: v >= 0)
    tolerance = _read_tolerance(r, doc, "tolerance", "")
    hint = r.get(doc, "hint", "", str, "a string", default="")
    edge_cases = _read_edge_cases(r, doc, inputs)

    fd = FiniteDifferences()
    if "finite_differences" in doc:
        raw_fd = r.mapping(doc["finite_differences"], doc.line_of("finite_differences"), "finite_differences")
        if raw_fd is not None:
            r.check_keys(raw_fd, ("mode", "max_full", "directions", "tolerance"), "finite_differences.")
            fd = FiniteDifferences(
                mode=r.get(raw_fd, "mode", "finite_differences.", str, f"one of {', '.join(FD_MODES)}",
                           default="auto", check=lambda v: v in FD_MODES),
                max_full=r.get(raw_fd, "max_full", "finite_differences.", int, "an integer >= 1",
                               default=128, check=lambda v: v >= 1),
                directions=r.get(raw_fd, "directions", "finite_differences.", int, "an integer >= 1",
                                 default=2, check=lambda v: v >= 1),
                tolerance=_read_tolerance(r, raw_fd, "tolerance", "finite_differences."),
            )
    double_backward = r.get(doc, "double_backward", "", bool, "true or false", default=False)
    non_contiguous = r.get(doc, "non_contiguous", "", bool, "true or false", default=False)
    checks = ["forward", "backward", "backward_properties", "finite_differences"]
    if edge_cases:
        checks.append("edge_cases")
    if double_backward:
        checks.append("double_backward")
    if "checks" in doc:
        raw_checks = doc["checks"]
        if not isinstance(raw_checks, list) or not raw_checks or not all(c in CHECK_NAMES for c in raw_checks):
            r.problem(doc.line_of("checks"), "checks", f"expected a non-empty list drawn from {', '.join(CHECK_NAMES)}")
        else:
            checks = list(dict.fromkeys(raw_checks))
            if "edge_cases" in checks and not edge_cases:
                r.problem(doc.line_of("checks"), "checks", "edge_cases is listed but no edge_cases are given")

    forbid = _read_names(r, doc, "forbid", "dotted names such as torch.nn.functional.softmax", dotted=True)
    allow_imports = _read_names(r, doc, "allow_imports", "module names such as scipy.special", dotted=False)
    limits = _read_limits(r, doc)
    course = _read_course(path.parent.parent / COURSE_FILE)
    weights = _read_weights(r, doc, checks) if "weights" in doc else _course_weights(course, checks)
    visibility = r.get(doc, "visibility", "", str, f"one of {', '.join(VISIBILITIES)}",
                       default=course.get("visibility", "visible"), check=lambda v: v in VISIBILITIES)
    check_visibility = _read_check_visibility(r, doc, checks)

    if r.problems:
        raise ConfigError(path, r.problems)
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
            r.problem(where, f"{field_name}.{check}", f"not a check of this exercise ({', '.join(checks)})")
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
            r.problem(raw.line_of(check), f"check_visibility.{check}", f"not a check of this exercise ({', '.join(checks)})")
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
    r.check_keys(doc, _COURSE_KEYS, "")
    course = {}
    if "weights" in doc:
        course["weights"] = _read_weight_mapping(r, doc["weights"], doc.line_of("weights"), "weights", CHECK_NAMES)
    if "visibility" in doc:
        course["visibility"] = r.get(doc, "visibility", "", str, f"one of {', '.join(VISIBILITIES)}",
                                     check=lambda v: v in VISIBILITIES)
    if r.problems:
        raise ConfigError(path, r.problems)
    return {k: v for k, v in course.items() if v is not None}


def _read_names(r: _Reader, doc: LineDict, key: str, expected: str, dotted: bool) -> tuple[str, ...]:
    if key not in doc:
        return ()
    raw = doc[key]
    ok = isinstance(raw, list) and all(isinstance(v, str) and _DOTTED.match(v) and (not dotted or "." in v)
                                       for v in raw)
    if not ok:
        r.problem(doc.line_of(key), key, f"expected a list of {expected}, got {raw!r}")
        return ()
    return tuple(raw)


def _read_limits(r: _Reader, doc: LineDict) -> ExerciseLimits:
    if "limits" not in doc:
        return ExerciseLimits()
    raw = r.mapping(doc["limits"], doc.line_of("limits"), "limits")
    if raw is None:
        return ExerciseLimits()
    r.check_keys(raw, _LIMIT_KEYS, "limits.")
    positive = lambda v: _number(v) and v > 0  # noqa: E731
    default = ExerciseLimits()
    return ExerciseLimits(
        time_seconds=float(r.get(raw, "time_seconds", "limits.", (int, float), "a number of seconds > 0",
                                 default=default.time_seconds, check=positive)),
        cpu_seconds=r.get(raw, "cpu_seconds", "limits.", (int, float), "a number of seconds > 0", check=positive),
        memory_mb=r.get(raw, "memory_mb", "limits.", int, "a number of MiB > 0", default=default.memory_mb,
                        check=positive),
        output_kb=r.get(raw, "output_kb", "limits.", int, "a number of KiB > 0", default=default.output_kb,
                        check=positive),
    )


def with_overrides(spec: ExerciseSpec, dtype: str | None = None, device: str | None = None) -> ExerciseSpec:
    """The same exercise with every floating-point input in `dtype` and/or run on `device`."""
    changes: dict = {}
    if dtype is not None:
        new = FLOAT_DTYPES[dtype]
        changes["inputs"] = tuple(replace(i, dtype=new) if i.dtype.is_floating_point else i for i in spec.inputs)
    if device is not None:
        changes["device"] = device
    return replace(spec, **changes) if changes else spec
