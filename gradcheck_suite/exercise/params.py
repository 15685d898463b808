"""Reads an exercise's `params:` (non-tensor arguments, fixed or drawn) into ParamSpecs."""

from __future__ import annotations

from typing import Any, Callable

from ..vocabulary import CHECK_NAMES
from .model import Domain, ParamSpec
from .reader import FieldReader, is_number
from .schema import PARAM, PARAM_KINDS
from .yaml_source import LineDict, LineList

DomainReader = Callable[[FieldReader, Any, Any, str], Domain]


def read_params(r: FieldReader, doc: LineDict, taken: set[str], read_domain: DomainReader) -> list[ParamSpec]:
    """The exercise's params; `taken`: the input names, which a param may not reuse; `read_domain`
    reads an array field's domain: as an input's (load._read_domain)."""
    raw = doc.get("params")
    if raw is None:
        return []
    if not isinstance(raw, LineList):  # every list load_yaml reads is one
        r.problem(doc.line_of("params"), "params", f"expected {PARAM.expected_text or 'a list'}, got {raw!r}")
        return []
    params: list[ParamSpec] = []
    for index, item in enumerate(raw):
        spec = _read_param(r, item, raw.line_of(index), f"params[{index}]", PARAM, read_domain)
        if spec is None:
            continue
        if spec.name in taken or any(p.name == spec.name for p in params):
            r.problem(spec.line, f"params.{spec.name}.name", "expected a name no input or other param has")
            continue
        params.append(spec)
    return params


def _read_param(r: FieldReader, item, line, where: str, node, read_domain: DomainReader) -> ParamSpec | None:
    entry = r.mapping(item, line, where)
    if entry is None:
        return None
    r.check_keys(entry, node, where + ".")
    name = r.field(entry, node, "name", where + ".", required=True)
    if name is None:
        return None
    prefix = f"{where.rsplit('[', 1)[0]}.{name}."
    given = [k for k in PARAM_KINDS if k in entry and k in node.fields]
    if len(given) != 1:
        kinds = ", ".join(k for k in PARAM_KINDS if k in node.fields)
        r.problem(entry.line, prefix.rstrip("."), f"expected exactly one of {kinds}, got "
                  + (", ".join(given) if given else "none"))
        return None
    kind = given[0]
    positional = bool(r.field(entry, node, "positional", prefix)) if "positional" in node.fields else False
    common: dict[str, Any] = {"name": name, "kind": kind, "positional": positional, "line": entry.line_of(kind)}
    value = entry[kind]
    if "domain" in entry and kind != "shape":
        r.problem(entry.line_of("domain"), f"{prefix}domain", "expected domain only beside shape (an array field)")
    if "checks" in entry and kind != "choices":
        r.problem(entry.line_of("checks"), f"{prefix}checks", "expected checks only beside choices")
    if kind == "shape":
        shape = r.field(entry, node, "shape", prefix)
        if shape is None:
            return None
        domain = read_domain(r, entry.get("domain"), entry.line_of("domain"), f"{prefix}domain.")
        return ParamSpec(shape=tuple(shape), domain=domain, **common)
    if kind == "value":
        return ParamSpec(value=_plain(value), **common)
    if kind in ("integers", "floats"):
        low_high = r.field(entry, node, kind, prefix)
        if low_high is None:
            return None
        if len(low_high) != 2 or low_high[0] > low_high[1] or (kind == "floats" and not all(map(is_number, low_high))):
            r.problem(entry.line_of(kind), f"{prefix}{kind}", f"expected {node.fields[kind].expected}, got {low_high!r}")
            return None
        cast = int if kind == "integers" else float
        return ParamSpec(low=cast(low_high[0]), high=cast(low_high[1]), **common)
    if kind == "choices":
        choices = r.field(entry, node, kind, prefix)
        if choices is None:
            return None
        choices = tuple(_plain(c) for c in choices)
        return ParamSpec(choices=choices, checks=_read_checks(r, entry, node, prefix, choices), **common)
    fields_node = node.fields["fields"]
    if not fields_node.accepts(value):
        r.problem(entry.line_of(kind), f"{prefix}fields", f"expected {fields_node.expected}")
        return None
    fields: list[ParamSpec] = []
    for index, sub in enumerate(value):
        field = _read_param(r, sub, value.line_of(index), f"{prefix}fields[{index}]", fields_node.item, read_domain)
        if field is not None:
            if any(f.name == field.name for f in fields):
                r.problem(field.line, f"{prefix}fields.{field.name}", "expected a key no other field has")
            else:
                fields.append(field)
    return ParamSpec(fields=tuple(fields), **common)


def _read_checks(r: FieldReader, entry: LineDict, node, prefix: str, choices: tuple) -> tuple:
    """`checks: {test: [forward]}` beside choices: (choice, checks) pairs; every key one of the
    choices, every check a check name, and some choice left for every check."""
    raw = entry.get("checks")
    if raw is None:
        return ()
    if not node.fields["checks"].accepts(raw):
        r.problem(entry.line_of("checks"), f"{prefix}checks", f"expected {node.fields['checks'].expected}, got {raw!r}")
        return ()
    pairs = []
    for key, names in raw.items():
        choice = next((c for c in choices if str(c) == str(key)), None)
        if choice is None:
            r.problem(raw.line_of(key), f"{prefix}checks.{key}",
                      f"expected one of the choices ({', '.join(map(str, choices))}), got {key!r}")
            continue
        pairs.append((choice, tuple(names)))
    listed = {str(c) for c, _ in pairs}
    if all(str(c) in listed for c in choices):
        for check in CHECK_NAMES:
            if not any(check in names for _, names in pairs):
                r.problem(entry.line_of("checks"), f"{prefix}checks",
                          f"expected some choice drawn for every check, and none is drawn for {check} "
                          "(leave one choice out of checks: it is then drawn for every check)")
                break
    return tuple(pairs)


def _plain(value):
    """A YAML value as plain dicts and lists (LineDict/LineList are dict and list subclasses)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value

