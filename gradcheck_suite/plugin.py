"""pytest front end: collects exercise.yaml files, one item per check, and prints the grade table.

Registered through the ``pytest11`` entry point (module name as plugin name, so the root
conftest.py of a checkout can also list it in ``pytest_plugins`` without a double registration).
"""

from __future__ import annotations

import gc
import shlex
from pathlib import Path

import pytest

from .config import FLOAT_DTYPES, ExerciseSpec, load_exercise, with_overrides
from .errors import ConfigError
from .report import summary_lines, write_json_atomically
from .results import GradeBook
from .runner import RunOptions, prepare, run_check

EXERCISE_FILE = "exercise.yaml"
_BOOK = pytest.StashKey[GradeBook]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("gradcheck-suite", "gradient-checking grader")
    group.addoption("--submission", metavar="DIR", default=None,
                    help="grade the student files found in DIR (by file name) instead of those beside each exercise.yaml")
    group.addoption("--grade-json", metavar="PATH", default=None, help="write the grades as JSON to PATH")
    group.addoption("--replay", metavar="EXAMPLE", default=None,
                    help="run exactly one example, as printed by a failure (e.g. 'N=2,D_in=3,values=17')")
    group.addoption("--gradcheck-seed", metavar="SEED", type=int, default=None,
                    help="override every exercise's seed")
    group.addoption("--trials", metavar="N", type=int, default=None,
                    help="override every exercise's number of random trials")
    group.addoption("--dtype", choices=sorted(FLOAT_DTYPES), default=None,
                    help="run every exercise's floating-point inputs in this dtype (the reference stays float64)")
    group.addoption("--device", choices=("cpu", "cuda"), default=None,
                    help="run every exercise's student code on this device")


def pytest_configure(config: pytest.Config) -> None:
    config.stash[_BOOK] = GradeBook()
    # torch leaves about a million long-lived objects; freezing them keeps every later garbage
    # collection (pytest runs several at the end of a session) from walking them again.
    gc.freeze()
    submission = config.getoption("--submission")
    if submission is not None and not Path(submission).is_dir():
        raise pytest.UsageError(f"--submission {submission}: not a directory")


def pytest_collect_file(file_path: Path, parent: pytest.Collector):
    if file_path.name == EXERCISE_FILE:
        return ExerciseFile.from_parent(parent, path=file_path)
    return None


def _options(config: pytest.Config) -> RunOptions:
    def replay_command(spec: ExerciseSpec, check: str, example: str) -> str:
        node = f"{_relative(spec.path, config)}::{spec.name}::{check}"
        parts = ["pytest", node]
        submission = config.getoption("--submission")
        if submission:
            parts += ["--submission", submission]
        parts += ["--replay", example]
        return shlex.join(parts)

    return RunOptions(seed=config.getoption("--gradcheck-seed"), trials=config.getoption("--trials"),
                      replay=config.getoption("--replay"), replay_command=replay_command)


def _relative(path: Path, config: pytest.Config) -> str:
    try:
        return str(path.resolve().relative_to(Path(config.invocation_params.dir).resolve()))
    except ValueError:
        return str(path)


class ExerciseFile(pytest.File):
    def collect(self):
        book = self.config.stash[_BOOK]
        try:
            spec = with_overrides(load_exercise(self.path), self.config.getoption("--dtype"),
                                  self.config.getoption("--device"))
        except ConfigError as exc:
            name = self.path.parent.name
            book.exercise(name, name, 0.0, ()).config_error = str(exc)
            yield ConfigErrorItem.from_parent(self, name="config", message=str(exc))
            return
        book.exercise(spec.name, spec.title, spec.points, spec.checks)
        yield ExerciseNode.from_parent(self, name=spec.name, spec=spec)


class ExerciseNode(pytest.Collector):
    def __init__(self, *, spec: ExerciseSpec, **kwargs):
        super().__init__(**kwargs)
        self.spec = spec
        self._exercise = None

    def exercise(self):
        """The student's file is loaded once, when the first check of this exercise runs."""
        if self._exercise is None:
            submission = self.config.getoption("--submission")
            self._exercise = prepare(self.spec, Path(submission) if submission else None)
        return self._exercise

    def collect(self):
        for check in self.spec.checks:
            yield CheckItem.from_parent(self, name=check, check=check)


class GradeFailure(Exception):
    """Raised by an item to fail with a message that is shown as it is, without a traceback."""


class _GradeItem(pytest.Item):
    def repr_failure(self, excinfo, style=None):
        if isinstance(excinfo.value, GradeFailure):
            return str(excinfo.value)
        return super().repr_failure(excinfo, style)


class CheckItem(_GradeItem):
    def __init__(self, *, check: str, **kwargs):
        super().__init__(**kwargs)
        self.check = check

    def runtest(self) -> None:
        node: ExerciseNode = self.parent
        result = run_check(node.exercise(), self.check, _options(self.config))
        book = self.config.stash[_BOOK]
        book.exercises[node.spec.name].checks.append(result)
        if result.status == "skipped":
            pytest.skip(result.message)
        if result.status != "passed":
            message = result.message.replace("\n", "\n  ")
            raise GradeFailure(f"{node.spec.name}::{self.check} {result.status}: {message}")

    def reportinfo(self):
        return self.path, None, f"{self.parent.spec.name}::{self.check}"


class ConfigErrorItem(_GradeItem):
    def __init__(self, *, message: str, **kwargs):
        super().__init__(**kwargs)
        self.message = message

    def runtest(self) -> None:
        raise GradeFailure(f"invalid exercise file:\n{self.message}")

    def reportinfo(self):
        return self.path, None, "config"


def pytest_terminal_summary(terminalreporter, exitstatus, config: pytest.Config) -> None:
    book = config.stash.get(_BOOK, None)
    if not book or not any(e.checks or e.config_error for e in book.exercises.values()):
        return
    terminalreporter.section("gradcheck-suite grades")
    for line in summary_lines(book):
        terminalreporter.write_line(line)


def pytest_sessionfinish(session: pytest.Session, exitstatus) -> None:
    path = session.config.getoption("--grade-json", None)
    book = session.config.stash.get(_BOOK, None)
    if path and book is not None:
        write_json_atomically(Path(path), book.to_json())
