"""Trial: one random example (dims, batch shape, a values seed) and its replay string."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from typing import Any

from ..exercise.expressions import evaluate_all
from ..exercise.model import ExerciseSpec, InputSpec
from ..exercise.names import BATCH
from .params import flat_items, least_params, parse_value


@dataclass(frozen=True)
class Trial:
    """One random example. Small and printable: shapes, params and a seed, from which every value follows."""

    dims: dict[str, int] = field(default_factory=dict)
    batch: tuple[int, ...] = ()
    values_seed: int = 0
    params: dict[str, Any] = field(default_factory=dict)  # every param's value (exercises with params:)
    drawn: tuple[tuple[str, Any], ...] = ()  # the drawn ones as name=value, for describe()
    sizes: dict[str, int] = field(default_factory=dict)  # dims, derived dims and integer params, by name

    @classmethod
    def of(cls, spec: ExerciseSpec, dims: dict[str, int], batch: tuple[int, ...], values_seed: int,
           params: dict[str, Any] | None = None) -> "Trial":
        """A trial of `spec`, its params (by default their least values) recorded for describe(), its
        derived dims worked out."""
        if not spec.sized:
            return cls(dims, batch, values_seed)
        params = least_params(spec) if params is None else params
        return cls(dims, batch, values_seed, params, tuple(flat_items(spec, params)), sizes_of(spec, dims, params))

    @functools.cached_property
    def key(self) -> str:
        """The trial as a dict key, worked out once (its fields hold dicts, so a Trial does not
        hash): its repr, which names every field."""
        return repr(self)

    def satisfies(self, spec: ExerciseSpec) -> bool:
        """Whether every derived dim is a size (>= 0) and every constraint holds."""
        if not spec.sized:
            return True
        if any(self.sizes.get(name, -1) < 0 for name in spec.derived):
            return False
        try:
            return all(c.evaluate(self.sizes) for c in spec.constraints) and all(map(self._bounded, spec.inputs))
        except (ZeroDivisionError, KeyError):
            return False

    def _bounded(self, spec_input: InputSpec) -> bool:
        """A domain whose bound names a dim (high: C) is not empty for this trial."""
        domain = spec_input.domain
        if domain.low_expr is None and domain.high_expr is None:
            return True
        low = domain.low if domain.low_expr is None else domain.low_expr.evaluate(self.sizes)
        high = domain.high if domain.high_expr is None else domain.high_expr.evaluate(self.sizes)
        return low is None or high is None or low < high

    def describe(self) -> str:
        parts = [f"{name}={size}" for name, size in self.dims.items()]
        parts.extend(f"{name}={value}" for name, value in self.drawn)
        if self.batch:
            parts.append("batch=" + "x".join(str(b) for b in self.batch))
        parts.append(f"values={self.values_seed}")
        return ",".join(parts)

    def explain(self) -> str:
        """describe() in words, for a student reading it for the first time."""
        parts = []
        if self.dims:
            parts.append(", ".join(f"{name}={size}" for name, size in self.dims.items()) + " the sizes drawn")
        if self.drawn:
            parts.append(", ".join(f"{name}={value}" for name, value in self.drawn) + " the parameters drawn")
        if self.batch:
            parts.append("batch=" + "x".join(str(b) for b in self.batch) + " the extra leading (batch) dimensions")
        parts.append(f"values={self.values_seed} the seed every value is drawn from")
        return "; ".join(parts)

    @classmethod
    def parse(cls, text: str, spec: ExerciseSpec) -> "Trial":
        """Inverse of describe(); raises ValueError naming the part it cannot read."""
        dims: dict[str, int] = {}
        batch: tuple[int, ...] = ()
        values_seed = 0
        params = least_params(spec)
        for part in filter(None, (p.strip() for p in text.split(","))):
            key, sep, value = part.partition("=")
            if not sep:
                raise ValueError(f"expected NAME=VALUE, got {part!r}")
            if key == "values":
                values_seed = int(value)
            elif key == "batch":
                batch = tuple(int(v) for v in re.split(r"x", value) if v) if value else ()
            elif key in spec.dims:
                dims[key] = int(value)
            else:
                try:
                    name, sub, drawn = parse_value(spec, key, value)
                except KeyError:
                    raise ValueError(f"unknown dim {key!r} (dims are: {', '.join(spec.dims) or 'none'})") from None
                if sub is None:
                    params[name] = drawn
                else:
                    params[name] = {**params[name], sub: drawn}
        missing = [name for name in spec.dims if name not in dims]
        if missing:
            raise ValueError(f"missing dims: {', '.join(missing)}")
        trial = cls.of(spec, dims, batch, values_seed, params)
        if not trial.satisfies(spec):
            broken = [c.text for c in spec.constraints if not _holds(c, trial.sizes)]
            raise ValueError(f"{text!r} breaks the exercise's constraints: " + (
                ", ".join(broken) or "a derived dim is negative"))
        return trial


def uses_batch(spec: ExerciseSpec) -> bool:
    return any(BATCH in i.shape for i in spec.inputs)


def shape_of(spec: InputSpec, trial: Trial) -> tuple[int, ...]:
    shape: list[int] = []
    for s in spec.shape:
        if s == BATCH:
            shape.extend(trial.batch)
        elif isinstance(s, str):
            shape.append(trial.sizes[s] if trial.sizes else trial.dims[s])
        else:
            shape.append(s)
    return tuple(shape)


def sizes_of(spec: ExerciseSpec, dims: dict[str, int], params: dict[str, Any]) -> dict[str, int]:
    """Every size a shape or an expression may name: the dims, the integer params (a dict's as
    name.key) and the derived dims."""
    sizes = dict(dims)
    for name, value in params.items():
        if isinstance(value, dict):
            sizes.update({f"{name}.{k}": v for k, v in value.items() if isinstance(v, int) and not isinstance(v, bool)})
        elif isinstance(value, int) and not isinstance(value, bool):
            sizes[name] = value
    return evaluate_all(spec.derived, sizes)


def _holds(constraint, sizes: dict[str, int]) -> bool:
    try:
        return bool(constraint.evaluate(sizes))
    except (ZeroDivisionError, KeyError):
        return False
