"""Reads an exercise's `outputs:` (the forward's outputs, each differentiable or not) into OutputSpecs."""

from __future__ import annotations

from .model import ONE_OUTPUT, InputSpec, OutputSpec
from .reader import IDENTIFIER_PATTERN, FieldReader
from .schema import OUTPUT_FIELDS, OUTPUTS
from .yaml_source import LineDict, LineList


def read_outputs(r: FieldReader, doc: LineDict, inputs: list[InputSpec]) -> tuple[OutputSpec, ...]:
    """`outputs: [h, c]` or `outputs: {h: {}, argmax: {differentiable: false}}`; one differentiable
    output when the field is absent. Names are identifiers, distinct from each other and from the inputs'."""
    raw = doc.get("outputs")
    if raw is None:
        return ONE_OUTPUT
    line = doc.line_of("outputs")
    entries: list[tuple[object, bool, int | None]] = []  # (name, differentiable, line)
    if isinstance(raw, LineList) and raw:
        entries = [(name, True, raw.line_of(index)) for index, name in enumerate(raw)]
    elif isinstance(raw, LineDict) and raw:
        for name, value in raw.items():
            fields = LineDict() if value is None else r.mapping(value, raw.line_of(name), f"outputs.{name}")
            if fields is None:
                continue
            r.check_keys(fields, OUTPUT_FIELDS, f"outputs.{name}.")
            differentiable = r.field(fields, OUTPUT_FIELDS, "differentiable", f"outputs.{name}.")
            entries.append((name, bool(differentiable), raw.line_of(name)))
    else:
        r.problem(line, "outputs", f"expected {OUTPUTS.expected}, got {raw!r}")
        return ONE_OUTPUT
    outputs: list[OutputSpec] = []
    taken = {i.name for i in inputs}
    for name, differentiable, where in entries:
        if not isinstance(name, str) or not IDENTIFIER_PATTERN.match(name):
            r.problem(where, "outputs", f"expected an identifier such as h as an output's name, got {name!r}")
        elif name in taken or any(o.name == name for o in outputs):
            r.problem(where, f"outputs.{name}", "expected a name no input or other output has")
        else:
            outputs.append(OutputSpec(name, differentiable, where))
    if outputs and not any(o.differentiable for o in outputs):
        r.problem(line, "outputs", "expected at least one differentiable output (the backward has nothing to check)")
    return tuple(outputs) or ONE_OUTPUT
