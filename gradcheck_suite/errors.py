"""Every error a person reads, under one root, GradcheckSuiteError: each message is meant to be read, not debugged.

Internal signals that never reach a person as exceptions live beside the code that raises them,
and say so: ``checks.verdicts.CheckFailure`` and ``KinkCrossed`` (a verdict or a redraw, turned
into a result), ``student.failures.StudentCallError`` and ``ProtocolViolation`` (the student's code
raised or broke a rule), ``sandbox.supervisor.WorkerFailure`` (a worker died) and
``sandbox.wire.WireError`` (a malformed reply).
"""

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


class ReleaseMisuse(GradcheckSuiteError):
    """The command cannot start (SRC or DEST unusable): nothing was checked or written."""


class BundleError(GradcheckSuiteError):
    """An autograder bundle or a course's environment cannot be built: no source to build the wheel
    of gradcheck-suite from, a failed build, or a solution line found in what would be shipped."""


class MarkerError(GradcheckSuiteError):
    """Unbalanced, nested, unterminated or malformed markers; one `file:line: problem` per item."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


class ScaffoldError(GradcheckSuiteError):
    """The exercise cannot be written (folder exists, bad name, reference not importable)."""


class SolutionError(GradcheckSuiteError):
    """The solution could not be loaded: nothing was swept."""


class ExerciseBroken(GradcheckSuiteError):
    """The exercise cannot be graded as written (its reference raised or returned no tensor, a
    support module is missing): a problem of the exercise, never of the student's code. `detail`
    is for the instructor."""

    def __init__(self, detail: str):
        self.detail = detail
        super().__init__(detail)


class IsolationUnavailable(GradcheckSuiteError):
    """This machine cannot run workers (not Linux, or the zygote would not start)."""


class YamlSyntaxError(GradcheckSuiteError):
    """A file that is not valid YAML, with the line where parsing stopped."""

    def __init__(self, line: int | None, message: str):
        self.line = line
        super().__init__(message)


class ClusterError(GradcheckSuiteError):
    """`batch --scheduler`: the cluster cannot be used as asked (an unsafe address, no workers, a course too large)."""
