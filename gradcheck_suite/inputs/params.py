"""Drawing an exercise's params (non-tensor arguments) and turning them into call arguments."""

from __future__ import annotations

import copy
import random
from dataclasses import replace
from typing import Any

from hypothesis import strategies as st

from ..exercise.model import CallParams, ExerciseSpec, ParamSpec


def strategy(spec: ParamSpec) -> st.SearchStrategy:
    """Hypothesis's draws of one param (shrinking towards low ends and first choices)."""
    if spec.kind == "integers":
        return st.integers(int(spec.low), int(spec.high))
    if spec.kind == "floats":
        return st.floats(spec.low, spec.high, allow_nan=False, allow_infinity=False)
    if spec.kind == "choices":
        return st.sampled_from(spec.choices)
    if spec.kind == "fields":
        return st.fixed_dictionaries({f.name: strategy(f) for f in spec.fields if f.kind != "shape"})
    return st.just(spec.value)


def params_strategy(spec: ExerciseSpec) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries({p.name: strategy(p) for p in spec.params})


def seeded(spec: ParamSpec, rng: random.Random):
    """One uniform draw of a param, for seeded sweeps."""
    if spec.kind == "integers":
        return rng.randint(int(spec.low), int(spec.high))
    if spec.kind == "floats":
        return rng.uniform(spec.low, spec.high)
    if spec.kind == "choices":
        return rng.choice(spec.choices)
    if spec.kind == "fields":
        return {f.name: seeded(f, rng) for f in spec.fields if f.kind != "shape"}
    return copy.deepcopy(spec.value)


def least(spec: ParamSpec):
    """The value a param takes where nothing is drawn (edge cases): its low end, or its first choice."""
    if spec.kind in ("integers", "floats"):
        return int(spec.low) if spec.kind == "integers" else spec.low
    if spec.kind == "choices":
        return spec.choices[0]
    if spec.kind == "fields":
        return {f.name: least(f) for f in spec.fields if f.kind != "shape"}
    return copy.deepcopy(spec.value)


def least_params(spec: ExerciseSpec) -> dict[str, Any]:
    return {p.name: least(p) for p in spec.params}


def call_params(spec: ExerciseSpec, values: dict[str, Any], arrays: dict[str, Any] | None = None) -> CallParams:
    """The params' values as the student's forward and the reference take them; `arrays`: the
    values of the dict params' array fields, by param.key (inputs.tensors.param_arrays)."""
    if not spec.params:
        return CallParams()
    values = {p.name: values[p.name] if p.name in values else least(p) for p in spec.params}
    for path, array in (arrays or {}).items():
        name, _, key = path.partition(".")
        values[name] = {**values[name], key: array}
    return CallParams(tuple(values[p.name] for p in spec.params if p.positional),
                      {p.name: values[p.name] for p in spec.params if not p.positional},
                      tuple(p.name for p in spec.params if p.positional))


def for_check(spec: ExerciseSpec, check: str) -> ExerciseSpec:
    """`spec` whose choices are those drawn for `check` (a choice's `checks:` lists the only checks
    that draw it: CS231n's test mode, {test: [forward]}); the same spec when no choice says so."""
    if not any(p.checks or any(f.checks for f in p.fields) for p in spec.params):
        return spec
    return replace(spec, params=tuple(_for_check(p, check) for p in spec.params))


def drawn_for(spec: ExerciseSpec, check: str, values: dict[str, Any]) -> bool:
    """Whether a trial with these params' values is one `check` draws (see for_check)."""
    def allowed(param: ParamSpec, value) -> bool:
        if param.kind == "fields":
            return all(allowed(f, value.get(f.name)) for f in param.fields if isinstance(value, dict))
        only = dict(param.checks)
        return value not in only or check in only[value]

    return all(allowed(p, values[p.name]) for p in spec.params if p.name in values)


def _for_check(param: ParamSpec, check: str) -> ParamSpec:
    if param.kind == "fields":
        return replace(param, fields=tuple(_for_check(f, check) for f in param.fields))
    if not param.checks:
        return param
    only = dict(param.checks)
    kept = tuple(c for c in param.choices if c not in only or check in only[c])
    return replace(param, choices=kept or param.choices)


def flat_items(spec: ExerciseSpec, values: dict[str, Any]) -> list[tuple[str, Any]]:
    """The drawn params as (name, value) pairs, a dict param's fields as name.key."""
    items: list[tuple[str, Any]] = []
    for p in spec.params:
        if not p.drawn:
            continue
        if p.kind == "fields":
            items.extend((f"{p.name}.{f.name}", values[p.name][f.name]) for f in p.fields if f.drawn)
        else:
            items.append((p.name, values[p.name]))
    return items


def parse_value(spec: ExerciseSpec, key: str, text: str):
    """(param name, field key or None, value) of one `name=value` part of a replay string;
    KeyError when no drawn param has that name, ValueError when the value is not one of its."""
    name, _, sub = key.partition(".")
    param = next((p for p in spec.params if p.name == name and p.drawn), None)
    if param is None:
        raise KeyError(key)
    target: ParamSpec | None = param
    if param.kind == "fields":
        target = next((f for f in param.fields if f.name == sub and f.drawn), None)
    elif sub:
        target = None
    if target is None:
        raise KeyError(key)
    if target.kind == "integers":
        value: Any = int(text)
    elif target.kind == "floats":
        value = float(text)
    else:
        value = next((c for c in target.choices if str(c) == text), None)
        if value is None:
            raise ValueError(f"{key} must be one of {', '.join(map(str, target.choices))}, got {text!r}")
    return name, (sub or None), value


def bind_reference(spec: ExerciseSpec, call: CallParams) -> ExerciseSpec:
    """`spec` whose reference is called with these params (deep copies: a reference may write into a dict)."""
    ref = spec.reference
    call = copy.deepcopy(call)
    return replace(spec, reference=replace(ref, args=call.args, kwargs={**ref.kwargs, **call.kwargs}))
