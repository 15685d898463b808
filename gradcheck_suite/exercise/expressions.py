"""Integer expressions of dims and params (`D: d1 * d2`, `(H + 2 * pad - HH) % stride == 0`), parsed
with `ast`: names, integer literals, + - * // %, parentheses and, in constraints, comparisons."""

from __future__ import annotations

import ast
import operator
from dataclasses import dataclass, field
from typing import Callable, Mapping

_BINARY: dict[type, Callable[[int, int], int]] = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
    ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod,
}
_COMPARE: dict[type, Callable[[int, int], bool]] = {
    ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt, ast.LtE: operator.le,
    ast.Gt: operator.gt, ast.GtE: operator.ge,
}
ALLOWED = "names, integers, + - * // % and parentheses"


class ExpressionError(ValueError):
    """An expression that is not one of the allowed forms; the message says what is wrong."""


@dataclass(frozen=True)
class Expression:
    """A parsed expression: its text, the names it reads, and a function of their values."""

    text: str
    names: frozenset[str]
    evaluate: Callable[[Mapping[str, int]], int] = field(compare=False, repr=False)

    def __str__(self) -> str:
        return self.text


def parse(text: str, comparison: bool = False) -> Expression:
    """`text` as an Expression; with `comparison`, one comparison of two such expressions (a constraint)."""
    try:
        tree = ast.parse(text.strip(), mode="eval").body
    except SyntaxError:
        raise ExpressionError(f"cannot parse {text!r}") from None
    names: set[str] = set()
    if comparison:
        if not isinstance(tree, ast.Compare):
            raise ExpressionError(f"expected a comparison such as 'H % stride == 0', got {text!r}")
        left = _compile(tree.left, names, text)
        steps = [(_op(_COMPARE, type(o), text), _compile(c, names, text)) for o, c in zip(tree.ops, tree.comparators)]

        def compare(values: Mapping[str, int]) -> int:
            a = left(values)
            for test, right in steps:
                b = right(values)
                if not test(a, b):
                    return False
                a = b
            return True
        return Expression(text, frozenset(names), compare)
    evaluate = _compile(tree, names, text)
    return Expression(text, frozenset(names), evaluate)


def _op(table: dict, kind: type, text: str):
    if kind not in table:
        raise ExpressionError(f"{text!r} uses an operator other than {ALLOWED}"
                              + (" (use // for division: a size is an integer)" if kind is ast.Div else ""))
    return table[kind]


def _compile(node: ast.AST, names: set[str], text: str) -> Callable[[Mapping[str, int]], int]:
    if isinstance(node, ast.Constant) and isinstance(node.value, int) and not isinstance(node.value, bool):
        value = node.value
        return lambda values: value
    if isinstance(node, ast.Name):
        name = node.id
        names.add(name)
        return lambda values: values[name]
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
        name = f"{node.value.id}.{node.attr}"  # a dict param's field: conv_param.stride
        names.add(name)
        return lambda values: values[name]
    if isinstance(node, ast.BinOp):
        op = _op(_BINARY, type(node.op), text)
        left, right = _compile(node.left, names, text), _compile(node.right, names, text)
        return lambda values: op(left(values), right(values))
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        inner = _compile(node.operand, names, text)
        sign = -1 if isinstance(node.op, ast.USub) else 1
        return lambda values: sign * inner(values)
    raise ExpressionError(f"{text!r}: expected only {ALLOWED}, found {ast.unparse(node)!r}"
                          if not isinstance(node, ast.Constant) else
                          f"{text!r}: {node.value!r} is not an integer (expected only {ALLOWED})")


def evaluate_all(derived: Mapping[str, Expression], values: dict[str, int]) -> dict[str, int]:
    """`values` with every derived dim added (in the order given: each after those it reads);
    a division or modulo by zero leaves the dim out, for the caller to reject the trial."""
    for name, expression in derived.items():
        try:
            values[name] = expression.evaluate(values)
        except (ZeroDivisionError, KeyError):
            continue
    return values


def in_order(derived: Mapping[str, Expression]) -> tuple[list[str], list[str]]:
    """(the derived dims, each after the ones it reads; the dims caught in a cycle)."""
    done: list[str] = []
    pending = dict(derived)
    while pending:
        ready = [n for n, e in pending.items() if not (e.names & set(pending))]
        if not ready:
            return done, sorted(pending)
        for name in ready:
            done.append(name)
            del pending[name]
    return done, []
