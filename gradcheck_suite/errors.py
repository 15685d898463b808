"""Exceptions raised to people: each message is meant to be read, not debugged."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


class GradcheckSuiteError(Exception):
    """Base class of every error the harness raises on purpose."""


@dataclass(frozen=True)
class ConfigProblem:
    line: int | None
    field: str
    expected: str

    def render(self, path: Path | str) -> str:
        where = f"{path}:{self.line}" if self.line else f"{path}"
        return f"{where}: {self.field}: {self.expected}"


class ConfigError(GradcheckSuiteError):
    """An exercise file that cannot be used; lists every problem found in it."""

    def __init__(self, path: Path | str, problems: list[ConfigProblem]):
        self.path = path
        self.problems = problems
        super().__init__("\n".join(p.render(path) for p in problems))


class StudentCodeError(GradcheckSuiteError):
    """The student's file could not be loaded or does not define what the exercise asks for."""
