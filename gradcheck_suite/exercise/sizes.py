"""Reads derived dims (`D: d1 * d2`) and `constraints:`, and checks the names every expression reads."""

from __future__ import annotations

from .expressions import Expression, ExpressionError, in_order, parse
from .model import InputSpec, ParamSpec
from .names import did_you_mean
from .reader import FieldReader
from .yaml_source import LineDict


def size_names(params: list[ParamSpec]) -> set[str]:
    """The params an expression (or a shape) may read: integer ones, a dict's as name.key."""
    def integral(p: ParamSpec) -> bool:
        return p.kind == "integers" or (p.kind == "value" and isinstance(p.value, int) and not isinstance(p.value, bool))
    names = {p.name for p in params if integral(p)}
    names |= {f"{p.name}.{f.name}" for p in params if p.kind == "fields" for f in p.fields if integral(f)}
    return names


def read_expression(r: FieldReader, text: str, line, where: str, comparison: bool = False) -> Expression | None:
    try:
        return parse(text, comparison)
    except ExpressionError as exc:
        r.problem(line, where, f"expected an expression of dims and integer params: {exc}")
        return None


def read_sizes(r: FieldReader, doc: LineDict, dims: dict[str, tuple[int, int]], params: list[ParamSpec],
               inputs: list[InputSpec]) -> tuple[dict[str, Expression], tuple[Expression, ...]]:
    """(the derived dims, each after those it reads; the constraints), every name they read checked."""
    raw = doc.get("dims")
    known = set(dims) | size_names(params)
    derived: dict[str, Expression] = {}
    lines: dict[str, int | None] = {}
    if isinstance(raw, LineDict):
        for key, value in raw.items():
            if isinstance(key, str) and isinstance(value, str):
                expression = read_expression(r, value, raw.line_of(key), f"dims.{key}")
                if expression is not None:
                    derived[key], lines[key] = expression, raw.line_of(key)
    known |= set(derived)

    def check(expression: Expression, line, where: str) -> None:
        for name in sorted(expression.names - known):
            r.problem(line, where, f"unknown name {name!r} in {expression.text!r} (dims and integer params are: "
                                   f"{', '.join(sorted(known)) or 'none'})" + did_you_mean(name, known))

    for name, expression in derived.items():
        check(expression, lines[name], f"dims.{name}")
    ordered, cycle = in_order(derived)
    if cycle:
        r.problem(lines[cycle[0]], f"dims.{cycle[0]}", f"expected derived dims that do not depend on each other in a "
                                                        f"circle ({', '.join(cycle)})")
    constraints: list[Expression] = []
    raw_constraints = doc.get("constraints")
    if raw_constraints is not None:
        if not isinstance(raw_constraints, list) or not all(isinstance(c, str) for c in raw_constraints):
            r.problem(doc.line_of("constraints"), "constraints",
                      f"expected a list of comparisons such as 'H % stride == 0', got {raw_constraints!r}")
        else:
            for index, text in enumerate(raw_constraints):
                line = raw_constraints.line_of(index)  # type: ignore[attr-defined]
                expression = read_expression(r, text, line, f"constraints[{index}]", comparison=True)
                if expression is not None:
                    check(expression, line, f"constraints[{index}]")
                    constraints.append(expression)
    for spec in inputs:
        for bound in ("low", "high"):
            expression = getattr(spec.domain, f"{bound}_expr")
            if expression is not None:
                check(expression, spec.line, f"inputs.{spec.name}.domain.{bound}")
    return {name: derived[name] for name in ordered}, tuple(constraints)
