"""pytest front end: collects exercise.yaml files, one item per check, and prints the grade table.

Registered through the ``pytest11`` entry point (module name as plugin name, so the root
conftest.py of a checkout can also list it in ``pytest_plugins`` without a double registration).

Installing the package loads this plugin into every pytest run in the environment, also in
projects with no exercises, so at load it imports only pytest: torch, Hypothesis and the grader
are imported when the first exercise.yaml is collected, or when --isolate asks for workers.
"""

from __future__ import annotations

import gc
import shlex
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Iterator

import pytest

from .exercise.names import EXERCISE_FILE  # no torch: names.py imports only the standard library

if TYPE_CHECKING:
    from .checks.subject import ExerciseUnderTest
    from .exercise.model import ExerciseSpec
    from .grading.options import RunOptions
    from .report.model import GradeBook
    from .sandbox.staging import Submission
    from .sandbox.supervisor import Sandbox

FLOAT_DTYPE_CHOICES = ("bfloat16", "float16", "float32", "float64")  # exercise.schema.FLOAT_DTYPE_NAMES, sorted
NOT_IMPLEMENTED = "not implemented"  # a check whose student code is still the stub (its own report category)
_BOOK = pytest.StashKey["GradeBook"]()
_ISOLATION = pytest.StashKey["Isolation"]()


def _left_unrewritten(packages: tuple[str, ...]) -> None:
    """pytest rewrites the asserts of every module in the distribution of a plugin it loads, as it
    does a test file's: the grader's own modules, and Hypothesis's (it ships a plugin too), though
    neither holds a test. Where the rewritten bytecode is not cached (a fresh autograder container,
    PYTHONDONTWRITEBYTECODE, a read-only install) every run parses and rewrites each module again:
    0.3 s for Hypothesis alone, more than grading a small exercise. pytest has no public switch for
    this: its import hook's set of marked names loses these packages (where the set is not there,
    nothing changes but the time)."""
    for finder in sys.meta_path:
        marked = getattr(finder, "_must_rewrite", None)
        if isinstance(marked, set):
            for name in [n for n in marked if any(n == p or str(n).startswith(f"{p}.") for p in packages)]:
                marked.discard(name)


_left_unrewritten((__package__,))


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
    group.addoption("--dtype", choices=FLOAT_DTYPE_CHOICES, default=None,
                    help="run every exercise's floating-point inputs in this dtype (the reference stays float64)")
    group.addoption("--device", choices=("cpu", "cuda"), default=None,
                    help="run every exercise's student code on this device")
    group.addoption("--isolate", action="store_true", default=False,
                    help="autograder mode: run the student's code in confined worker processes (untrusted code)")
    group.addoption("--time-limit", metavar="SECONDS", type=float, default=None,
                    help="with --isolate: wall-clock seconds per exercise, all its checks together "
                         "(default: the exercise's limits.time_seconds, else 60)")
    group.addoption("--secret-seed-file", metavar="PATH", default=None,
                    help="with --isolate: draw every exercise's trials from the secret in PATH (default: "
                         "$GRADCHECK_SECRET_SEED, else a new one, recorded in --grade-json), not the public seeds")
    group.addoption("--isolate-user", metavar="USER", default=None,
                    help="with --isolate, as root: run the workers as USER (default nobody, or uid 65534)")
    group.addoption("--require-isolation", metavar="LEVEL", default=None, choices=("processes", "namespaces", "full"),
                    help="with --isolate: refuse to grade (exit 2) unless the workers reach LEVEL "
                         "(processes < namespaces < full; see the README's threat model)")
    group.addoption("--submission-time-limit", metavar="SECONDS", type=float, default=None,
                    help="with --isolate: wall-clock seconds for every exercise together; what is left after "
                         "it is a timeout (set it below the platform's own timeout)")
    group.addoption("--isolation-ceiling", metavar="LEVEL", default=None, choices=("processes", "namespaces", "full"),
                    help=argparse_suppress())


def argparse_suppress() -> str:
    """Hidden options (tests stand for a grader without root with --isolation-ceiling)."""
    import argparse

    return argparse.SUPPRESS


def grade_book(config: pytest.Config) -> GradeBook | None:
    """The session's grades, for front ends that run pytest in-process (the CLI); None when no
    exercise was collected."""
    return config.stash.get(_BOOK, None)


def _book(config: pytest.Config) -> GradeBook:
    """The session's grade book, made (with the grader's imports) when the first exercise is collected."""
    book = config.stash.get(_BOOK, None)
    if book is None:
        from .report.model import GradeBook

        book = config.stash[_BOOK] = GradeBook()
        # Not at load: a session that imported Hypothesis rewritten (a test suite using it) keeps it
        # so, and pytest runs it starts in the same process have nothing to warn about.
        _left_unrewritten(("hypothesis",))
        # The grader's imports (torch, Hypothesis, the checks) with the collector off: they make
        # about a million long-lived objects, which its full passes would walk again and again
        # while they load (0.1 s). Frozen, no later collection (pytest runs several at the end of a
        # session) walks them either; the few thousand left unreachable stay.
        collecting = gc.isenabled()
        gc.disable()
        try:
            import torch  # noqa: F401

            from .grading import runner  # noqa: F401
        finally:
            gc.freeze()
            if collecting:
                gc.enable()
    return book


def pytest_configure(config: pytest.Config) -> None:
    submission = config.getoption("--submission")
    if submission is not None and not Path(submission).is_dir():
        raise pytest.UsageError(f"--submission {submission}: not a directory")
    if config.getoption("--isolate"):
        from .errors import IsolationUnavailable
        from .sandbox.launch import start_early

        _refuse_submitted_plugins(config, submission)
        limit = config.getoption("--time-limit")
        if limit is not None and limit <= 0:
            raise pytest.UsageError(f"--time-limit {limit}: expected a number of seconds > 0")
        budget = config.getoption("--submission-time-limit")
        if budget is not None and budget <= 0:
            raise pytest.UsageError(f"--submission-time-limit {budget}: expected a number of seconds > 0")
        # the zygote imports torch while this process does (the imports below): two cores, one wait
        start_early(config.getoption("--isolate-user"), config.getoption("--isolation-ceiling"))
        from .grading.seeds import SecretSeedError, autograder_secret, fingerprint
        from .sandbox.supervisor import Sandbox, WorkerLimits

        required = config.getoption("--require-isolation")
        try:
            sandbox = Sandbox(WorkerLimits(time_seconds=limit) if limit else None, user=config.getoption("--isolate-user"),
                              require=required, ceiling=config.getoption("--isolation-ceiling"),
                              submission_time_limit=budget)
            sandbox.start()
            if required:  # fail closed before anything is collected or run
                sandbox.ready()
        except IsolationUnavailable as exc:
            pytest.exit(f"--isolate: {exc}", returncode=2)
        try:
            secret, generated = autograder_secret(config.getoption("--secret-seed-file"))
        except SecretSeedError as exc:
            raise pytest.UsageError(f"--secret-seed-file: {exc}") from None
        config.stash[_ISOLATION] = Isolation(sandbox, Path(submission) if submission else None, secret)
        book = _book(config)
        book.run["trials"] = "secret seed" + (" (generated for this run)" if generated else "")
        book.run["secret_fingerprint"] = fingerprint(secret)
        if generated:  # the only record of it: a regrade with it reproduces every trial
            book.run["secret_seed"] = secret


def _refuse_submitted_plugins(config: pytest.Config, submission: str | None) -> None:
    """pytest may have imported a conftest.py from the submission folder before this plugin saw its
    options (when the plugin comes from a conftest.py rather than from its entry point or -p)."""
    if submission is None:
        return
    root = Path(submission).resolve()
    for plugin in config.pluginmanager.get_plugins():
        module_file = getattr(plugin, "__file__", None)
        if module_file and Path(module_file).resolve().is_relative_to(root):
            raise pytest.UsageError(
                f"--isolate: pytest loaded {module_file} from the submission before the grader could stop it; "
                "register the grader with its entry point (pip install) or -p gradcheck_suite.plugin, or use "
                "`gradcheck-suite grade`")


class Isolation:
    """Autograder mode for one session: the sandbox, and the student's files read before any runs."""

    def __init__(self, sandbox: Sandbox, submission: Path | None, secret: str):
        self.sandbox = sandbox
        self.submission_dir = submission
        self.secret = secret
        self.staged: Submission | None = None

    def stage(self, specs: list[ExerciseSpec]) -> None:
        from .grading.runner import student_path
        from .sandbox.staging import Submission

        paths = {spec.student_file: student_path(spec, self.submission_dir) for spec in specs}
        self.staged = Submission.collect(paths, self.submission_dir)
        self.sandbox.begin_submission()

    def levels(self) -> list[str]:
        return ["worker processes", f"level {self.sandbox.level}"] + self.sandbox.levels

    def close(self) -> None:
        self.sandbox.close()


def pytest_collect_file(file_path: Path, parent: pytest.Collector):
    if file_path.name == EXERCISE_FILE:
        return ExerciseFile.from_parent(parent, path=file_path)
    return None


def _options(config: pytest.Config) -> RunOptions:
    from .grading.options import RunOptions

    isolation = config.stash.get(_ISOLATION, None)

    def replay_command(spec: ExerciseSpec, check: str, example: str) -> str:
        """What to run to see this example again. On the autograder, the command a student runs in
        their own checkout of the course: no grader paths, no submission folder (their files are
        beside each exercise.yaml)."""
        if isolation is None:
            node, submission = _relative(spec.path, config), config.getoption("--submission")
        else:
            node, submission = _in_checkout(spec.path, config), None
        parts = ["pytest", f"{node}::{spec.name}::{check}"]
        if submission:
            parts += ["--submission", submission]
        parts += ["--replay", example]
        return shlex.join(parts)

    return RunOptions(seed=config.getoption("--gradcheck-seed"), trials=config.getoption("--trials"),
                      secret=isolation.secret if isolation is not None else None,
                      replay=config.getoption("--replay"), replay_command=replay_command)


def _in_checkout(path: Path, config: pytest.Config) -> str:
    """The exercise file's path as a student's checkout of the course has it: relative to where the
    grader ran when it lies below, else <course folder>/<exercise folder>/exercise.yaml."""
    relative = _relative(path, config)
    if not Path(relative).is_absolute():
        return relative
    return str(Path(path.parent.parent.name, path.parent.name, path.name))


def _relative(path: Path, config: pytest.Config) -> str:
    try:
        return str(path.resolve().relative_to(Path(config.invocation_params.dir).resolve()))
    except ValueError:
        return str(path)


class ExerciseFile(pytest.File):
    def collect(self) -> Iterator[pytest.Item | pytest.Collector]:
        from .errors import ConfigError
        from .exercise.load import declared_points, load_exercise, with_overrides

        book = _book(self.config)
        try:
            spec = with_overrides(load_exercise(self.path), self.config.getoption("--dtype"),
                                  self.config.getoption("--device"))
        except ConfigError as exc:
            name, points = declared_points(self.path)
            book.exercise(name, name, points, ()).config_error = str(exc)
            yield ConfigErrorItem.from_parent(self, name="config", message=str(exc))
            return
        book.exercise(spec.name, spec.title, spec.points, spec.checks, weights=spec.weights,
                      visibility=spec.visibility, check_visibility=spec.check_visibility)
        yield ExerciseNode.from_parent(self, name=spec.name, spec=spec)


class ExerciseNode(pytest.Collector):
    def __init__(self, *, spec: ExerciseSpec, **kwargs):
        super().__init__(**kwargs)
        self.spec = spec
        self._exercise: ExerciseUnderTest | None = None
        self._next_launched = False

    def exercise(self) -> ExerciseUnderTest:
        """The student's file is loaded once, when the first check of this exercise runs; in
        autograder mode the next exercise's worker is started then, to load its file meanwhile."""
        if self._exercise is None:
            self._exercise = self._prepare(early=False)
        if not self._next_launched:
            self._next_launched = True
            following = self._following()
            if following is not None:
                following.launch()
        return self._exercise

    def launch(self) -> None:
        """In autograder mode, start this exercise's worker now (runner.prepare's `early`)."""
        if self._exercise is None and self.config.stash.get(_ISOLATION, None) is not None:
            self._exercise = self._prepare(early=True)

    def _prepare(self, early: bool) -> ExerciseUnderTest:
        from .grading.runner import prepare

        submission = self.config.getoption("--submission")
        folder = Path(submission) if submission else None
        isolation = self.config.stash.get(_ISOLATION, None)
        if isolation is None:
            return prepare(self.spec, folder)
        return prepare(self.spec, folder, isolation.sandbox, isolation.staged, early=early)

    def _following(self) -> ExerciseNode | None:
        """The exercise whose checks run after this one's."""
        after = False
        for item in self.session.items:
            if item.parent is self:
                after = True
            elif after and isinstance(item.parent, ExerciseNode):
                return item.parent
        return None

    def teardown(self) -> None:
        if self._exercise is not None:
            # in autograder mode the worker is killed; it and everything it started are gone before the
            # zygote starts another worker, and all are when the session closes the sandbox
            self._exercise.release()
            self._exercise = None  # with the calls it kept (checks.kept): nothing of it is needed now

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
    parent: ExerciseNode  # ExerciseNode.collect makes every CheckItem

    def __init__(self, *, check: str, **kwargs):
        super().__init__(**kwargs)
        self.check = check

    def runtest(self) -> None:
        from .grading.runner import run_check
        from .vocabulary import Status

        node = self.parent
        assert isinstance(node, ExerciseNode)
        result = run_check(node.exercise(), self.check, _options(self.config))
        book = self.config.stash[_BOOK]
        book.exercises[node.spec.name].checks.append(result)
        if result.status == Status.SKIPPED:
            pytest.skip(result.message)
        if result.status != Status.PASSED:
            if result.not_implemented:  # reported in one line per exercise, under the grade table
                self.user_properties.append((NOT_IMPLEMENTED, True))
            message = result.message.replace("\n", "\n  ")
            if result.grader_error:
                message += "\n  for your course staff: " + result.grader_error.replace("\n", "\n  ")
            failure = GradeFailure(f"{node.spec.name}::{self.check} {result.status}: {message}")
            if self.config.getoption("usepdb", False) and not result.not_implemented and not result.grader_error:
                from .grading.debugging import student_traceback

                # pytest's --pdb opens its post-mortem on the innermost frame: the student's
                where = student_traceback(node.exercise(), self.check, result.trial)
                if where is not None:
                    raise failure.with_traceback(where)
            raise failure

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


def pytest_collection_finish(session: pytest.Session) -> None:
    isolation = session.config.stash.get(_ISOLATION, None)
    if isolation is not None:
        specs = [item.parent.spec for item in session.items if isinstance(item, CheckItem)]
        isolation.stage(list({spec.name: spec for spec in specs}.values()))


def pytest_report_teststatus(report: pytest.TestReport, config: pytest.Config):
    """A check of an exercise that is not written yet still fails (the exit status says so), but
    as its own category: no failure block and no summary line per check, one line per exercise."""
    if report.when == "call" and report.failed and (NOT_IMPLEMENTED, True) in report.user_properties:
        return NOT_IMPLEMENTED, "N", "NOT IMPLEMENTED"
    return None


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_terminal_summary(terminalreporter, exitstatus, config: pytest.Config):
    """The grade table, after pytest's own sections: just above its final summary line."""
    result = yield
    _grade_summary(terminalreporter, config)
    return result


def _grade_summary(terminalreporter, config: pytest.Config) -> None:
    book = config.stash.get(_BOOK, None)
    if not book or not any(e.checks or e.config_error for e in book.exercises.values()):
        return
    from .report.text import next_step, not_implemented_lines, summary_lines

    terminalreporter.section("gradcheck-suite grades")
    for line in not_implemented_lines(book) + summary_lines(book) + next_step(book):
        terminalreporter.write_line(line)
    isolation = config.stash.get(_ISOLATION, None)
    if isolation is not None and isolation.sandbox.hello:
        terminalreporter.write_line("isolation: " + ", ".join(isolation.levels()))
        missing = isolation.sandbox.isolation_report()["missing"]
        if missing:
            terminalreporter.write_line(f"isolation below full: missing {', '.join(missing)} "
                                        "(see the README's threat model for what a submission can still do)")
        for name, reason in (isolation.staged.ignored if isolation.staged else []):
            terminalreporter.write_line(f"ignored in the submission: {name} ({reason})")


def pytest_sessionfinish(session: pytest.Session, exitstatus) -> None:
    isolation = session.config.stash.get(_ISOLATION, None)
    book = session.config.stash.get(_BOOK, None)
    if isolation is not None:
        from .errors import IsolationUnavailable

        try:
            isolation.close()  # every worker process is gone before any result is written
        except IsolationUnavailable as exc:  # something the submission started survived: no report
            del session.config.stash[_BOOK]
            pytest.exit(f"--isolate: {exc}; no report written", returncode=2)
        if book is not None and isolation.sandbox.hello:
            book.isolation = isolation.sandbox.isolation_report()
    path = session.config.getoption("--grade-json", None)
    if path and book is not None:
        from .report.files import write_json_atomically

        report = book.to_json()
        if book.run:
            report["run"] = dict(book.run)
        if isolation is not None and isolation.staged is not None:
            report["ignored_files"] = [{"name": n, "reason": r} for n, r in isolation.staged.ignored]
        write_json_atomically(Path(path), report)
