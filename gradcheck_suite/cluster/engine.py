"""`gradcheck-suite batch ROOT --out DIR --scheduler ADDRESS`: the class graded on a Dask cluster.

The client (this process) registers the batch's `worker.GradingPlugin` (the course travels in it,
once per worker), checks the isolation every worker reached against --require-isolation before any
submission is graded, then submits one task per submission (its files as bytes) and writes each
report to DIR/submissions/<name>.json as it arrives: the same files, grades.csv, resumability and
progress bar as the local run (batch.run_batch drives this engine like its job processes).

A worker that dies mid-task (killed, out of memory) loses nothing: the scheduler gives the task to
another worker. A submission whose task was on a dying worker `allowed-failures` times (the
scheduler's `distributed.scheduler.allowed-failures`, default 3) is not tried again: its report is
an `error` row naming why, so the batch never stalls on it. A task that fails for another reason
(the grader's own error) is recorded as DIR/submissions/<name>.json.failed, as locally, and graded
again when the batch resumes.
"""

from __future__ import annotations

import hashlib
import pickle
import uuid
from pathlib import Path
from typing import Iterator

from ..batch import BatchOptions, save_submission, submission_files
from ..errors import ClusterError, IsolationUnavailable
from ..exercise.model import ExerciseSpec
from ..grading.seeds import fingerprint
from ..report.files import write_json_atomically
from ..report.model import CheckResult, GradeBook
from ..sandbox.levels import check_level, rank
from ..sandbox.supervisor import WorkerLimits
from ..vocabulary import Status
from .bundle import course_bundle, pack_folder

__all__ = ["DaskEngine", "error_report"]

WAIT_FOR_WORKERS = 120.0  # seconds for the first worker to join before the batch gives up
CONNECT_SECONDS = 30.0
PROBE_SECONDS = 300.0  # for every worker to start its sandbox (a zygote importing torch) and say what held


class DaskEngine:
    """batch.Engine on the Dask scheduler at `address` (checked by security.check_address)."""

    def __init__(self, address: str, security=None, wait_for_workers: float = WAIT_FOR_WORKERS):
        self.address = address
        self.security = security
        self.wait_for_workers = wait_for_workers

    def grade(self, specs: list[ExerciseSpec], todo: list[Path], reports: Path, secret: str,
              limits: WorkerLimits | None, options: BatchOptions) -> Iterator[str]:
        from distributed import Client, KilledWorker, as_completed

        course = course_bundle(specs)
        try:
            client = Client(self.address, security=self.security, timeout=CONNECT_SECONDS)
        except OSError as exc:
            raise ClusterError(f"--scheduler {self.address}: no scheduler answered ({exc}); start one with "
                               "`dask scheduler` (see docs/instructors.md, 'Grading on a Dask cluster')") from None
        with client:
            try:
                client.wait_for_workers(1, timeout=self.wait_for_workers)
            except TimeoutError:
                raise ClusterError(f"--scheduler {self.address}: no worker joined in {self.wait_for_workers:g} s; "
                                   "start workers with `dask worker ADDRESS --nthreads 1`") from None
            name = _plugin_name(course.digest, limits, options)
            from .worker import GradingPlugin, grade_task

            client.register_plugin(GradingPlugin(name, course, limits, options), name=name)
            try:
                self._check_isolation(client, name, options)
                futures = {client.submit(grade_task, name, pack_folder(folder), folder.name, options.trials, secret,
                                         key=f"gradcheck-{folder.name}-{uuid.uuid4().hex[:8]}", pure=False): folder
                           for folder in todo}
                for future in as_completed(futures):
                    folder = futures[future]
                    target = reports / f"{folder.name}.json"
                    try:
                        report, page = future.result()
                    except KilledWorker as exc:
                        report, page = error_report(specs, folder.name, secret, _killed_why(exc))
                    except Exception as exc:  # noqa: BLE001 - the grader itself failed on this one: say so, go on
                        write_json_atomically(reports / f"{folder.name}.json.failed", {"error": repr(exc)})
                        yield f"{folder.name}: not graded ({type(exc).__name__})"
                        continue
                    save_submission(target, report, page)
                    yield f"{folder.name}: {report['score']:g}/{report['max_score']:g}"
            finally:
                try:
                    client.unregister_worker_plugin(name)  # each worker's sandbox closed, its course removed
                except Exception:  # noqa: BLE001 - a cluster going away takes its plugins with it
                    pass

    def _check_isolation(self, client, name: str, options: BatchOptions) -> None:
        """Start every worker's sandbox; IsolationUnavailable, naming the worker, where one is short
        of --require-isolation (or cannot start a sandbox at all)."""
        from distributed import wait

        from .worker import isolation_task

        workers = list(client.scheduler_info()["workers"])
        probes = [client.submit(isolation_task, name, workers=[w], allow_other_workers=False, pure=False,
                                key=f"gradcheck-isolation-{uuid.uuid4().hex[:8]}") for w in workers]
        try:
            wait(probes, timeout=PROBE_SECONDS)
        except TimeoutError:
            pass  # the workers that did not answer are named below
        problems = []
        for worker, probe in zip(workers, probes):
            if not probe.done():  # a worker gone since it was listed: it grades nothing, unless one comes back
                probe.cancel()
                if options.require:
                    problems.append(f"{worker}: no answer in {PROBE_SECONDS:g} s")
                continue
            if probe.status != "finished":
                problems.append(f"{worker}: {probe.exception()!r}")
                continue
            report = probe.result()
            if "error" in report:
                problems.append(f"{report['worker']}: {report['error']}")
            elif options.require and rank(report["level"]) < rank(check_level(options.require)):
                problems.append(f"{report['worker']}: level {report['level']} reached, {options.require} required")
        if problems:
            raise IsolationUnavailable("workers of the cluster cannot grade" + (
                f" at {options.require} (--require-isolation)" if options.require else "") + ":\n  "
                + "\n  ".join(problems))


def _plugin_name(digest: str, limits: WorkerLimits | None, options: BatchOptions) -> str:
    """One plugin per course and settings: two batches on one cluster keep their own sandboxes."""
    settings = pickle.dumps((limits, options.time_limit, options.require, options.ceiling,
                             options.submission_time_limit))
    return f"gradcheck-suite-{hashlib.sha256(digest.encode() + settings).hexdigest()[:16]}"


def _killed_why(exc: Exception) -> str:
    return (f"not graded: the Dask worker grading this submission died each time it was tried ({exc}); "
            "the scheduler's distributed.scheduler.allowed-failures bounds the tries. Regrade it with --force "
            "(or delete its JSON and resume) once the cause is known")


def error_report(specs: list[ExerciseSpec], submission: str, secret: str, why: str) -> tuple[dict, str]:
    """The report (JSON data, HTML page) of a submission that could not be graded: every check an
    `error` carrying `why`, no points, the maximum unchanged (a row of grades.csv like any other)."""
    book = GradeBook()
    for spec in specs:
        result = book.exercise(spec.name, spec.title, spec.points, spec.checks, weights=spec.weights,
                               visibility=spec.visibility, check_visibility=spec.check_visibility)
        result.checks = [CheckResult(spec.name, check, Status.ERROR, why, spec.seed, grader_error=why)
                         for check in spec.checks]
    book.run.update(secret_fingerprint=fingerprint(secret), cluster_error=why)
    return submission_files(submission, book, 0.0)
