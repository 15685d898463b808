"""What runs on each Dask worker: one sandbox per worker process, as in a local job process.

The client registers a `GradingPlugin` (the course, the limits, the isolation options) on the
cluster; Dask gives it to every worker, and to every worker that joins or is restarted later.
On its first task a worker unpacks the course into a private folder, loads the exercises and
starts its sandbox (a zygote, a worker per exercise); each task then grades one submission, sent
as bytes, in a private folder removed afterwards, and returns the report for the client to write.
A worker grades one submission at a time, whatever its thread count (one sandbox serves one
submission at a time): start workers with `--nthreads 1` and as many processes as cores.
"""

from __future__ import annotations

import shutil
import tempfile
import threading
import time
import warnings
from pathlib import Path

from ..batch import BatchOptions, grade_in_sandbox, submission_files
from ..exercise.load import load_exercise
from ..exercise.model import ExerciseSpec
from ..numerics import reference_cache
from ..sandbox.supervisor import Sandbox, WorkerLimits
from .bundle import CourseBundle, FolderBundle

__all__ = ["GradingPlugin", "grade_task", "isolation_task"]

try:
    from distributed import WorkerPlugin
except ImportError:  # pragma: no cover - the module is only used where dask is installed
    WorkerPlugin = object  # type: ignore[misc,assignment]


class GradingPlugin(WorkerPlugin):
    """One batch's course and sandbox settings, held by each worker (`name`: the batch's)."""

    def __init__(self, name: str, course: CourseBundle, limits: WorkerLimits | None, options: BatchOptions):
        self.name = name
        self.course = course
        self.limits = limits
        self.options = options
        self.address = ""
        self._lock = threading.Lock()
        self._sandbox: Sandbox | None = None
        self._specs: list[ExerciseSpec] = []
        self._folder: Path | None = None

    def __getstate__(self) -> dict:  # the lock and the sandbox stay where they were made
        return {"name": self.name, "course": self.course, "limits": self.limits, "options": self.options}

    def __setstate__(self, state: dict) -> None:
        self.__init__(**state)  # type: ignore[misc]

    def setup(self, worker) -> None:
        self.address = worker.address  # the rest waits for the first task: setup runs on the event loop

    def teardown(self, worker) -> None:
        with self._lock:
            if self._sandbox is not None:
                self._sandbox.close()
                self._sandbox = None
            if self._folder is not None:
                shutil.rmtree(self._folder, ignore_errors=True)
                self._folder = None

    def _ready(self) -> Sandbox:
        """The worker's sandbox and specs, made on first use (IsolationUnavailable: not the level required)."""
        if self._folder is None:
            # the worker's event loop uses the global `random` in another thread while Hypothesis draws a
            # trial, and Hypothesis takes that for the strategy's use of it: a false alarm here
            warnings.filterwarnings("ignore", message="Do not use the `random` module inside strategies")
            self._folder = Path(tempfile.mkdtemp(prefix="gradcheck-course-"))
            self.course.folder.unpack(self._folder)
            self._specs = [load_exercise(self._folder / path) for path in self.course.exercise_files]
            reference_cache.serve_a_class()
        if self._sandbox is None:
            options = self.options
            sandbox = Sandbox(self.limits, require=options.require, ceiling=options.ceiling,
                              submission_time_limit=options.submission_time_limit)
            sandbox.ready()  # closes itself and raises where the required level is not reached
            self._sandbox = sandbox
        return self._sandbox

    def isolation(self) -> dict:
        with self._lock:
            return {"worker": self.address, **self._ready().isolation_report()}

    def grade(self, submission: FolderBundle, name: str, trials: int | None, secret: str) -> tuple[dict, str]:
        with self._lock:
            started = time.monotonic()
            sandbox = self._ready()
            scratch = Path(tempfile.mkdtemp(prefix="gradcheck-submission-"))
            try:
                book = grade_in_sandbox(sandbox, self._specs, submission.unpack(scratch / name), trials, secret)
            finally:
                shutil.rmtree(scratch, ignore_errors=True)
            book.run["worker"] = self.address
            return submission_files(name, book, time.monotonic() - started)


def _plugin(name: str) -> GradingPlugin:
    from distributed import get_worker

    plugin = get_worker().plugins.get(name)
    if not isinstance(plugin, GradingPlugin):
        raise RuntimeError(f"this worker holds no gradcheck-suite plugin {name!r}: was it restarted without it?")
    return plugin


def grade_task(plugin: str, submission: FolderBundle, name: str, trials: int | None, secret: str) -> tuple[dict, str]:
    """The task of one submission: its JSON report's data and its HTML page (the client writes them)."""
    return _plugin(plugin).grade(submission, name, trials, secret)


def isolation_task(plugin: str) -> dict:
    """The isolation this worker reached (its sandbox started), or {'error': why} where it fell short."""
    from ..errors import IsolationUnavailable

    try:
        return _plugin(plugin).isolation()
    except IsolationUnavailable as exc:
        from distributed import get_worker

        return {"worker": get_worker().address, "error": str(exc)}
