"""Regrading a whole class: `gradcheck-suite batch SUBMISSIONS_ROOT --out DIR --jobs N`.

Every folder directly under SUBMISSIONS_ROOT is one student's submission. N job processes grade
them in parallel, each with its own sandbox (one zygote, a worker per exercise, as in autograder
mode). Each submission's grades are written to DIR/submissions/<name>.json as soon as it is done,
so an interrupted batch continues where it stopped (`--force` regrades everything); grades.csv is
rebuilt from those files at the end, and so is class.html (report.class_page: pass rates, the
score distribution, the most common failures, a link per student to DIR/submissions/<name>.html,
each student's own HTML report, written beside the JSON). A submission whose code crashes or hangs costs at most its
exercises' time limits and never stops the batch.
"""

from __future__ import annotations

import concurrent.futures
import csv
import io
import json
import multiprocessing
import os
import sys
import time
from dataclasses import dataclass
from multiprocessing.util import Finalize
from pathlib import Path
from typing import Iterator, Protocol

from .exercise.load import load_exercise
from .exercise.model import ExerciseSpec
from .grading.options import RunOptions
from .grading.runner import grade_submission
from .grading.seeds import fingerprint, new_secret, read_secret
from .numerics import reference_cache
from .report import formats
from .report.class_page import ClassExercise, class_html, student_link
from .report.files import write_json_atomically, write_text_atomically
from .report.model import STATUSES, GradeBook
from .report.text import points_text
from .sandbox.supervisor import Sandbox, WorkerLimits
from .vocabulary import Status

_SANDBOX: Sandbox | None = None  # one per job process
_SPECS: dict[str, ExerciseSpec] = {}  # loaded once per job process (specs hold functions: not sent)


@dataclass(frozen=True)
class BatchOptions:
    time_limit: float | None = None
    trials: int | None = None
    require: str | None = None  # the lowest isolation level accepted (--require-isolation)
    ceiling: str | None = None
    submission_time_limit: float | None = None
    secret: str | None = None  # the trials' secret (grading.seeds); None: OUT/secret-seed, made on the first run

SECRET_FILE = "secret-seed"  # in OUT: every submission of the batch, resumed or not, meets the same trials


def _start_job(limits: WorkerLimits | None, options: BatchOptions) -> None:
    global _SANDBOX
    _SANDBOX = Sandbox(limits, require=options.require, ceiling=options.ceiling,
                       submission_time_limit=options.submission_time_limit)
    _SANDBOX.start()
    Finalize(_SANDBOX, _SANDBOX.close, exitpriority=10)  # multiprocessing children skip atexit
    reference_cache.serve_a_class()


def _grade_one(spec_paths: list[str], folder: str, target: str, trials: int | None, secret: str) -> dict:
    started = time.monotonic()
    for path in spec_paths:
        if path not in _SPECS:
            _SPECS[path] = load_exercise(path)
    specs = [_SPECS[path] for path in spec_paths]
    assert _SANDBOX is not None, "_start_job makes the job's sandbox"
    book = grade_in_sandbox(_SANDBOX, specs, Path(folder), trials, secret)
    return write_submission(Path(target), Path(folder).name, book, time.monotonic() - started)


def grade_in_sandbox(sandbox: Sandbox, specs: list[ExerciseSpec], folder: Path, trials: int | None,
                     secret: str) -> GradeBook:
    """One submission graded in `sandbox` (a job process's, or a Dask worker's: cluster/)."""
    sandbox.begin_submission()
    try:
        book = grade_submission(specs, folder, sandbox, RunOptions(trials=trials, secret=secret))
    finally:
        sandbox.settle()  # every process of this submission gone, its cgroups removed, before its report
    book.isolation = sandbox.isolation_report()
    book.run["secret_fingerprint"] = fingerprint(secret)
    return book


def write_submission(target: Path, name: str, book: GradeBook, duration: float) -> dict:
    """A submission's JSON report at `target` (DIR/submissions/<name>.json), as class.html reads
    it, and its HTML report beside it; returns the JSON's data."""
    return save_submission(target, *submission_files(name, book, duration))


def submission_files(name: str, book: GradeBook, duration: float) -> tuple[dict, str]:
    """What write_submission writes: the JSON's data and the HTML page (a Dask worker returns them)."""
    book.run["submission"] = name
    return {"submission": name, "duration": round(duration, 2), **book.to_full_json()}, formats.html(book)


def save_submission(target: Path, report: dict, page: str) -> dict:
    write_json_atomically(target, report)
    write_text_atomically(target.with_suffix(".html"), page)
    return report


def submissions_in(root: Path) -> list[Path]:
    return sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))


def _already_graded(target: Path) -> bool:
    try:
        return "exercises" in json.loads(target.read_text())
    except (OSError, ValueError):
        return False


class Progress:
    """A one-line progress bar with throughput and ETA on a terminal; a line per item otherwise."""

    def __init__(self, total: int, stream=None):
        self.total = total
        self.done = 0
        self.stream = stream or sys.stderr  # looked up when used, not when this module was imported
        self.started = time.monotonic()
        self.tty = stream.isatty()

    def advance(self, label: str) -> None:
        self.done += 1
        elapsed = time.monotonic() - self.started
        rate = self.done / elapsed * 60 if elapsed > 0 else 0.0
        left = (self.total - self.done) / (self.done / elapsed) if self.done and elapsed > 0 else 0.0
        width = 24
        filled = int(width * self.done / max(self.total, 1))
        line = (f"[{'#' * filled}{'-' * (width - filled)}] {self.done}/{self.total} graded, "
                f"{rate:.1f}/min, ETA {int(left) // 60}m{int(left) % 60:02d}s  {label}")
        if self.tty:
            self.stream.write("\r" + line[:120].ljust(120))
            if self.done == self.total:
                self.stream.write("\n")
        else:
            self.stream.write(line + "\n")
        self.stream.flush()


class Engine(Protocol):
    """Where the submissions are graded, other than this machine's job processes (cluster.DaskEngine)."""

    def grade(self, specs: list[ExerciseSpec], todo: list[Path], reports: Path, secret: str,
              limits: WorkerLimits | None, options: BatchOptions) -> Iterator[str]:
        """Grade `todo`, writing each one's files in `reports` (save_submission) as it is done; yield a
        progress label for each. Fails closed (IsolationUnavailable) before any is graded where
        options.require is not met."""
        ...


def run_batch(specs: list[ExerciseSpec], root: Path, out: Path, jobs: int = 1, force: bool = False,
              options: BatchOptions = BatchOptions(), stream=None, engine: Engine | None = None) -> Path:
    """Grade every submission under `root` that is not graded yet; returns the path of grades.csv.
    `stream`: where progress goes (default: sys.stderr as it is at the call); `engine`: grade
    elsewhere (a Dask cluster) instead of in `jobs` local job processes."""
    stream = stream or sys.stderr
    folders = submissions_in(root)
    reports = out / "submissions"
    reports.mkdir(parents=True, exist_ok=True)
    todo = [f for f in folders if force or not _already_graded(reports / f"{f.name}.json")]
    stream.write(f"{len(folders)} submissions: {len(todo)} to grade, {len(folders) - len(todo)} already graded\n")
    limits = WorkerLimits(time_seconds=options.time_limit) if options.time_limit else None
    secret = options.secret or _batch_secret(out)
    if options.require and engine is None:  # fail closed before any submission is graded (an engine: on its workers)
        probe = Sandbox(limits, require=options.require, ceiling=options.ceiling)
        try:
            probe.ready()
        finally:
            probe.close()
    progress = Progress(len(todo), stream)
    if todo and engine is not None:
        for label in engine.grade(specs, todo, reports, secret, limits, options):
            progress.advance(label)
    elif todo:
        context = multiprocessing.get_context("spawn")  # a fresh interpreter per job: no forked torch state
        with concurrent.futures.ProcessPoolExecutor(max_workers=max(1, jobs), mp_context=context,
                                                    initializer=_start_job, initargs=(limits, options)) as pool:
            spec_paths = [str(spec.path) for spec in specs]
            futures = {pool.submit(_grade_one, spec_paths, str(folder), str(reports / f"{folder.name}.json"),
                                   options.trials, secret): folder for folder in todo}
            for future in concurrent.futures.as_completed(futures):
                folder = futures[future]
                try:
                    report = future.result()
                    label = f"{folder.name}: {report['score']:g}/{report['max_score']:g}"
                except Exception as exc:  # noqa: BLE001 - the grader itself failed on this one: say so, go on
                    write_json_atomically(reports / f"{folder.name}.json.failed", {"error": repr(exc)})
                    label = f"{folder.name}: not graded ({type(exc).__name__})"
                progress.advance(label)
    target = out / "grades.csv"
    write_text_atomically(target, grades_csv(specs, folders, reports))
    write_text_atomically(out / CLASS_PAGE, class_page(specs, folders, reports))
    return target


CLASS_PAGE = "class.html"


def class_page(specs: list[ExerciseSpec], folders: list[Path], reports: Path) -> str:
    """class.html from the submissions' reports in `reports` (DIR/submissions), linking to each
    student's HTML report where one was written."""
    graded = {folder.name: read_report(reports, folder.name) for folder in folders}
    links = {name: student_link(name, reports.name) for name in graded
             if (reports / f"{name}.html").is_file()}
    return class_html([ClassExercise(spec.name, spec.title, spec.points) for spec in specs], graded, links)


def read_report(reports: Path, name: str) -> dict | None:
    """A submission's JSON report, or None when it was not graded (missing or unreadable)."""
    try:
        report = json.loads((reports / f"{name}.json").read_text())
    except (OSError, ValueError):
        return None
    return report if isinstance(report, dict) and "exercises" in report else None


def _batch_secret(out: Path) -> str:
    """The batch's secret: kept in OUT (readable by its owner only), so that a resumed batch grades
    the rest of the class on the same trials."""
    path = out / SECRET_FILE
    if path.exists():
        return read_secret(path)
    secret = new_secret()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(secret + "\n")
    return secret


def grades_csv(specs: list[ExerciseSpec], folders: list[Path], reports: Path) -> str:
    """One row per submission: points per exercise, total, max, status; first a row of the maxima."""
    names = [spec.name for spec in specs]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["submission", *names, "total", "max", "status"])
    maximum = sum(spec.points for spec in specs)
    writer.writerow(["(points)", *[f"{spec.points:g}" for spec in specs], f"{maximum:g}", f"{maximum:g}", ""])
    for folder in folders:
        report = read_report(reports, folder.name)
        if report is None:
            writer.writerow([folder.name, *[""] * len(names), "", f"{maximum:g}", "not graded"])
            continue
        by_name = {e["name"]: e for e in report["exercises"]}
        scores = [points_text(by_name[n]["score"]) if n in by_name else "" for n in names]
        statuses = [by_name[n]["status"] for n in names if n in by_name]
        worst = next((s for s in STATUSES if s in statuses), Status.PASSED)
        writer.writerow([folder.name, *scores, points_text(report["score"]), points_text(report["max_score"]), worst])
    return buffer.getvalue()
