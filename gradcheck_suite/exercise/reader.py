"""Reads typed fields out of YAML mappings, recording each problem with its line instead of raising."""

from __future__ import annotations

import math
import re
from pathlib import Path

from ..errors import ConfigProblem
from ..exercise import schema
from .model import Tolerance
from .names import did_you_mean
from .schema import NO_DEFAULT
from .yaml_source import LineDict

IDENTIFIER_PATTERN = re.compile(schema.IDENTIFIER)


class FieldReader:
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
        if not isinstance(value, LineDict):  # every mapping load_yaml reads is one
            self.problem(line, field_name, f"expected a mapping, got {value!r}")
            return None
        return value


def is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def read_tolerance(r: FieldReader, mapping, key, prefix) -> Tolerance:
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


def read_range(r: FieldReader, mapping, key, prefix, minimum=0) -> tuple[int, int] | None:
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


def short_repr(value, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def read_weight_mapping(r: FieldReader, raw, line, field_name: str, checks) -> dict | None:
    if not isinstance(raw, dict) or not raw:
        r.problem(line, field_name, "expected a mapping of check names to weights, e.g. {forward: 20, backward: 80}")
        return None
    weights = {}
    for check, weight in raw.items():
        where = raw.line_of(check) if hasattr(raw, "line_of") else line
        if check not in checks:
            r.problem(where, f"{field_name}.{check}",
                      f"not a check of this exercise ({', '.join(checks)})" + did_you_mean(check, checks))
        elif not is_number(weight) or weight < 0:
            r.problem(where, f"{field_name}.{check}", f"expected a number >= 0, got {weight!r}")
        else:
            weights[check] = float(weight)
    if weights and not sum(weights.values()) > 0:
        r.problem(line, field_name, "expected at least one weight > 0")
        return None
    return weights or None
