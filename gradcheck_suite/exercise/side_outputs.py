"""Reads an exercise's `side_outputs:` (entries of a dict param the forward writes, such as CS231n's
bn_param['running_mean']) into SideOutputs, and checks the shapes of a dict param's array fields."""

from __future__ import annotations

from typing import Collection

from .model import ParamSpec, SideOutput
from .names import BATCH, did_you_mean
from .reader import FieldReader
from .schema import EXERCISE
from .yaml_source import LineDict


def read_side_outputs(r: FieldReader, doc: LineDict, params: list[ParamSpec]) -> tuple[SideOutput, ...]:
    """`side_outputs: [bn_param.running_mean]`: each names a dict param (one with fields) and a key,
    once. The key need not be a declared field (a forward may add an entry), but one usually is."""
    raw = doc.get("side_outputs")
    if raw is None:
        return ()
    if r.field(doc, EXERCISE, "side_outputs", "") is None:
        return ()
    dicts = {p.name: p for p in params if p.kind == "fields"}
    found: list[SideOutput] = []
    for index, text in enumerate(raw):
        line = raw.line_of(index)
        name, _, key = text.partition(".")
        if name not in dicts:
            r.problem(line, "side_outputs", f"expected a dict param's entry (param.key), and {name!r} is not a dict "
                      f"param (dict params: {', '.join(dicts) or 'none'})" + did_you_mean(name, dicts))
            continue
        if any(s.param == name and s.key == key for s in found):
            r.problem(line, "side_outputs", f"expected each entry once, got {text} twice")
            continue
        found.append(SideOutput(name, key, line))
    return tuple(found)


def check_array_shapes(r: FieldReader, params: list[ParamSpec], sizes: Collection[str]) -> None:
    """Every dim an array field's shape names is a dim, a derived dim or an integer param."""
    for param in params:
        for field in param.arrays:
            for s in field.shape:
                if isinstance(s, str) and (s == BATCH or s not in sizes):
                    r.problem(field.line, f"params.{param.name}.fields.{field.name}.shape",
                              f"expected dims declared under dims, got {s!r} (declared: {', '.join(sizes) or 'none'})"
                              + ("" if s == BATCH else did_you_mean(s, sizes)))
