"""course.yaml: settings for every exercise beside it (weights, visibility, points, imports, support modules)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..errors import ConfigError, ConfigProblem
from .reader import FieldReader, is_number, read_weight_mapping
from .schema import CHECK_NAMES, COURSE
from .yaml_source import LineDict, YamlSyntaxError, load_yaml


@dataclass(frozen=True)
class Course:
    """What course.yaml says for every exercise beside it (all empty where there is no course.yaml)."""

    root: Path | None = None  # the folder holding course.yaml
    weights: dict[str, float] | None = None
    visibility: str | None = None
    exercises: dict[str, float] = field(default_factory=dict)  # every exercise's points
    allow_imports: tuple[str, ...] = ()
    support: tuple[Path, ...] = ()  # modules students may import: package folders or .py files

    def weights_for(self, checks) -> dict | None:
        """The course's weights, for the checks this exercise runs (None if it names none of them)."""
        weights = {c: w for c, w in (self.weights or {}).items() if c in checks}
        return weights if sum(weights.values()) > 0 else None


def read_course(path: Path) -> Course:
    """Course-wide settings (course.yaml beside the exercise folders); ConfigError names that file."""
    if not path.is_file():
        return Course()
    try:
        doc = load_yaml(path)
    except YamlSyntaxError as exc:
        raise ConfigError(path, [ConfigProblem(exc.line, "syntax", str(exc))]) from None
    r = FieldReader(path)
    if not isinstance(doc, LineDict):  # every mapping load_yaml reads is one
        raise ConfigError(path, [ConfigProblem(None, "file", "expected a mapping of course defaults")])
    r.check_keys(doc, COURSE, "")
    weights = None
    if "weights" in doc:
        weights = read_weight_mapping(r, doc["weights"], doc.line_of("weights"), "weights", CHECK_NAMES)
    visibility = r.field(doc, COURSE, "visibility", "", default=None)
    exercises: dict[str, float] = {}
    points = r.field(doc, COURSE, "exercises", "", default=None)
    if points is not None:
        for name, value in points.items():
            if not is_number(value) or value < 0:
                r.problem(points.line_of(name), f"exercises.{name}", f"expected points >= 0, got {value!r}")
            else:
                exercises[name] = float(value)
    allow_imports = tuple(r.field(doc, COURSE, "allow_imports", "", default=()))
    support = tuple(r.field(doc, COURSE, "support", "", default=()))
    for entry in support:
        if not (path.parent / entry).exists():
            r.problem(doc.line_of("support"), "support",
                      f"{entry!r}: no such file or folder beside {path.name} ({path.parent / entry})")
    if r.problems:
        raise ConfigError(path, r.sorted_problems())
    return Course(path.parent, weights, visibility, exercises, allow_imports,
                  tuple(path.parent / entry for entry in support))
