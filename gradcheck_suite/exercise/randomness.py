"""Reads an exercise's `random:` (a randomized forward, graded by properties) into a RandomSpec, and
keeps the checks that assume a deterministic forward off such an exercise."""

from __future__ import annotations

from typing import Sequence

from ..vocabulary import CheckName
from .model import InputSpec, OutputSpec, ParamSpec, RandomSpec
from .names import did_you_mean
from .reader import FieldReader, is_number
from .schema import RANDOM
from .yaml_source import LineDict

# What a randomized forward is graded by: its forward's properties, the backward against the
# forward's own mask, and the backward's linearity on one forward run.
RANDOM_CHECKS = (CheckName.FORWARD, CheckName.BACKWARD, CheckName.BACKWARD_PROPERTIES)
# Checks that assume the forward gives the same output every call (central differences over it, a
# second derivative through another call, literal inputs compared with the reference).
DETERMINISTIC_ONLY: dict[str, str] = {
    CheckName.FINITE_DIFFERENCES: "central differences of a forward that draws a new mask each call measure nothing",
    CheckName.DOUBLE_BACKWARD: "it differentiates through another call of the forward, with another mask",
    CheckName.EDGE_CASES: "it compares the forward's values with the reference's",
}


def read_random(r: FieldReader, doc: LineDict, inputs: Sequence[InputSpec], params: Sequence[ParamSpec],
                outputs: Sequence[OutputSpec]) -> RandomSpec | None:
    """The exercise's `random:`, or None. Every name it gives must be an input or a param of the
    exercise, of a kind that can hold what it stands for."""
    if "random" not in doc:
        return None
    raw = r.mapping(doc["random"], doc.line_of("random"), "random")
    if raw is None:
        return None
    r.check_keys(raw, RANDOM, "random.")
    kind = r.field(raw, RANDOM, "kind", "random.", required=True)
    scale = r.field(raw, RANDOM, "scale", "random.")
    names = [i.name for i in inputs]
    input_name = r.field(raw, RANDOM, "input", "random.", default=names[0] if names else None)
    by_name = {i.name: i for i in inputs}
    if input_name is not None and input_name not in by_name:
        r.problem(raw.line_of("input"), "random.input", f"expected an input's name ({', '.join(names)}), got "
                  f"{input_name!r}" + did_you_mean(input_name, names))
    elif input_name is not None:
        spec = by_name[input_name]
        others = [i.name for i in inputs if i.differentiable and i.name != input_name]
        if not spec.dtype.is_floating_point:
            r.problem(raw.line_of("input") if "input" in raw else raw.line, "random.input",
                      f"expected a floating-point input, got {input_name!r} of an integer dtype")
        if others:
            r.problem(raw.line_of("input") if "input" in raw else raw.line, "random.input",
                      f"expected the only differentiable input (its backward is checked against the forward's mask); "
                      f"also differentiable: {', '.join(others)} (mark them differentiable: false)")
    if len(outputs) > 1:
        r.problem(doc.line_of("outputs"), "outputs", "expected one output for a randomized forward (random:)")
    given = [key for key in ("keep", "drop") if key in raw]
    if len(given) != 1:
        r.problem(raw.line, "random", "expected exactly one of keep (the probability of keeping an element) or "
                  "drop (of dropping it), naming a param, got " + (" and ".join(given) or "neither"))
        return None
    which = given[0]
    path = r.field(raw, RANDOM, which, "random.")
    seed = r.field(raw, RANDOM, "seed", "random.")
    if path is not None:
        _check_probability(r, raw.line_of(which), f"random.{which}", path, params,
                           keeps=which == "keep", inverted=scale == "inverted")
    if seed is not None:
        _check_path(r, raw.line_of("seed"), "random.seed", seed, params, "an integer param", _integral)
    deterministic = _read_deterministic(r, raw, params)
    if kind is None or path is None or input_name not in by_name:
        return None
    return RandomSpec(kind=kind, input=input_name, probability=path, keeps=which == "keep", scale=scale, seed=seed,
                      deterministic=deterministic, line=raw.line)


def random_checks(r: FieldReader, doc: LineDict, checks: list[str], listed: bool) -> list[str]:
    """The checks of a randomized exercise: RANDOM_CHECKS by default; a check that assumes a
    deterministic forward is a problem where the file lists it (or asks for it: edge_cases,
    double_backward)."""
    for check in checks:
        if check in DETERMINISTIC_ONLY and (listed or check != CheckName.FINITE_DIFFERENCES):
            key = "checks" if listed else str(check)
            r.problem(doc.line_of(key), key, f"expected no {check} for a randomized forward (random:): "
                                             f"{DETERMINISTIC_ONLY[check]}")
    return [c for c in checks if c not in DETERMINISTIC_ONLY] if listed else list(RANDOM_CHECKS)


def _read_deterministic(r: FieldReader, raw: LineDict, params: Sequence[ParamSpec]) -> tuple:
    if "deterministic" not in raw:
        return ()
    table = r.mapping(raw["deterministic"], raw.line_of("deterministic"), "random.deterministic")
    if table is None:
        return ()
    found = []
    for path, value in table.items():
        where = f"random.deterministic.{path}"
        param = _check_path(r, table.line_of(path), where, str(path), params, "a param", lambda p: True)
        if param is None:
            continue
        possible = [param.value] if param.kind == "value" else list(param.choices) if param.kind == "choices" else None
        if possible is None or value not in possible:
            r.problem(table.line_of(path), where, f"expected a value {path} takes "
                      f"({', '.join(map(repr, possible)) if possible else 'a fixed value or choices'}), got {value!r}")
            continue
        found.append((str(path), value))
    return tuple(found)


def find_param(params: Sequence[ParamSpec], path: str) -> ParamSpec | None:
    """The param (or dict param's field) `path` names: p, dropout_param.p."""
    name, _, key = path.partition(".")
    param = next((p for p in params if p.name == name), None)
    if param is None or not key:
        return param if param is None or param.kind != "fields" else None
    return next((f for f in param.fields if f.name == key), None) if param.kind == "fields" else None


def _check_path(r: FieldReader, line, where: str, path: str, params: Sequence[ParamSpec], what: str,
                fits) -> ParamSpec | None:
    param = find_param(params, path)
    known = [p.name for p in params if p.kind != "fields"] + [f"{p.name}.{f.name}" for p in params
                                                              for f in p.fields]
    if param is None:
        r.problem(line, where, f"expected {what} of the exercise's params: {path!r} is not one "
                  f"(params: {', '.join(known) or 'none'})" + did_you_mean(path, known))
        return None
    if not fits(param):
        r.problem(line, where, f"expected {what}: {path!r} is {_kind_text(param)}")
        return None
    return param


def _check_probability(r: FieldReader, line, where: str, path: str, params: Sequence[ParamSpec], keeps: bool,
                       inverted: bool) -> None:
    param = _check_path(r, line, where, path, params, "a probability param (numbers in [0, 1])", _numeric)
    if param is None:
        return
    values = _values(param)
    if not all(0 <= v <= 1 for v in values):
        r.problem(line, where, f"expected a probability in [0, 1], got {path} = {_kind_text(param)}")
    elif inverted and any((v if keeps else 1 - v) <= 0 for v in values):
        r.problem(line, where, f"expected a keep probability > 0 (inverted scaling divides by it), got {path} = "
                  f"{_kind_text(param)}")


def _values(param: ParamSpec) -> list[float]:
    """The extreme values a numeric param takes."""
    if param.kind in ("integers", "floats"):
        return [float(param.low), float(param.high)]
    if param.kind == "choices":
        return [float(c) for c in param.choices]
    return [float(param.value)]


def _numeric(param: ParamSpec) -> bool:
    if param.kind in ("integers", "floats"):
        return True
    if param.kind == "choices":
        return all(is_number(c) for c in param.choices)
    return param.kind == "value" and is_number(param.value)


def _integral(param: ParamSpec) -> bool:
    if param.kind == "integers":
        return True
    if param.kind == "choices":
        return all(isinstance(c, int) and not isinstance(c, bool) for c in param.choices)
    return param.kind == "value" and isinstance(param.value, int) and not isinstance(param.value, bool)


def _kind_text(param: ParamSpec) -> str:
    if param.kind in ("integers", "floats"):
        return f"{param.kind} [{param.low:g}, {param.high:g}]"
    if param.kind == "choices":
        return f"choices {list(param.choices)}"
    if param.kind == "fields":
        return "a dict param (name one of its fields)"
    return f"the value {param.value!r}"
