"""course.yaml: settings for every exercise beside it (weights, visibility, points, imports, support modules)."""

from __future__ import annotations

from pathlib import Path

from ..errors import ConfigError, ConfigProblem
from .reader import FieldReader, is_number, read_weight_mapping
from .schema import CHECK_NAMES, COURSE
from .yaml_source import LineDict, YamlSyntaxError, load_yaml


def course_weights(course: dict, checks) -> dict | None:
    """The course's weights, for the checks this exercise runs (None if it names none of them)."""
    weights = {c: w for c, w in (course.get("weights") or {}).items() if c in checks}
    return weights if sum(weights.values()) > 0 else None


def read_course(path: Path) -> dict:
    """Course-wide defaults (course.yaml beside the exercise folders); ConfigError names that file."""
    if not path.is_file():
        return {}
    try:
        doc = load_yaml(path)
    except YamlSyntaxError as exc:
        raise ConfigError(path, [ConfigProblem(exc.line, "syntax", str(exc))]) from None
    r = FieldReader(path)
    if not isinstance(doc, LineDict):  # every mapping load_yaml reads is one
        raise ConfigError(path, [ConfigProblem(None, "file", "expected a mapping of course defaults")])
    r.check_keys(doc, COURSE, "")
    course = {}
    if "weights" in doc:
        course["weights"] = read_weight_mapping(r, doc["weights"], doc.line_of("weights"), "weights", CHECK_NAMES)
    if "visibility" in doc:
        course["visibility"] = r.field(doc, COURSE, "visibility", "", default=None)
    if "exercises" in doc:
        points = r.field(doc, COURSE, "exercises", "", default=None)
        if points is not None:
            bad = [name for name, value in points.items() if not is_number(value) or value < 0]
            for name in bad:
                r.problem(points.line_of(name), f"exercises.{name}", f"expected points >= 0, got {points[name]!r}")
            course["exercises"] = {name: float(value) for name, value in points.items() if name not in bad}
    for key in ("allow_imports", "support"):
        if key in doc:
            course[key] = tuple(r.field(doc, COURSE, key, "", default=()))
    for entry in course.get("support", ()):
        if not (path.parent / entry).exists():
            r.problem(doc.line_of("support"), "support",
                      f"{entry!r}: no such file or folder beside {path.name} ({path.parent / entry})")
    if r.problems:
        raise ConfigError(path, r.sorted_problems())
    return {k: v for k, v in course.items() if v is not None}
