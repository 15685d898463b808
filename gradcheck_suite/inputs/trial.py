"""Trial: one random example (dims, batch shape, a values seed) and its replay string."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

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

    @classmethod
    def of(cls, spec: ExerciseSpec, dims: dict[str, int], batch: tuple[int, ...], values_seed: int,
           params: dict[str, Any] | None = None) -> "Trial":
        """A trial of `spec`, its params (by default their least values) recorded for describe()."""
        if not spec.params:
            return cls(dims, batch, values_seed)
        params = least_params(spec) if params is None else params
        return cls(dims, batch, values_seed, params, tuple(flat_items(spec, params)))

    def describe(self) -> str:
        parts = [f"{name}={size}" for name, size in self.dims.items()]
        parts.extend(f"{name}={value}" for name, value in self.drawn)
        if self.batch:
            parts.append("batch=" + "x".join(str(b) for b in self.batch))
        parts.append(f"values={self.values_seed}")
        return ",".join(parts)

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
        return cls.of(spec, dims, batch, values_seed, params)


def uses_batch(spec: ExerciseSpec) -> bool:
    return any(BATCH in i.shape for i in spec.inputs)


def shape_of(spec: InputSpec, trial: Trial) -> tuple[int, ...]:
    shape: list[int] = []
    for s in spec.shape:
        if s == BATCH:
            shape.extend(trial.batch)
        elif isinstance(s, str):
            shape.append(trial.dims[s] if s in trial.dims else int(trial.params[s]))
        else:
            shape.append(s)
    return tuple(shape)
