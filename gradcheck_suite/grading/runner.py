"""Runs one check of one exercise over seeded Hypothesis trials and turns the verdict into a result."""

from __future__ import annotations

import sys
import time
import traceback
from dataclasses import replace
from pathlib import Path
from types import ModuleType

import torch

from ..checks.edge_cases import check_edge_cases
from ..checks.registry import trial_check
from ..checks.subject import ExerciseUnderTest
from ..checks.verdicts import CheckFailure, KinkCrossed
from ..errors import ExerciseBroken, StudentCodeError
from ..exercise.model import ExerciseSpec
from ..inputs.params import bind_reference, call_params
from ..inputs.strategies import seeded_trials
from ..inputs.tensors import make_inputs
from ..inputs.trial import Trial
from ..numerics import reference_eval
from ..numerics.reference_eval import Traced, as_reference_dtype
from ..report.model import CheckResult, GradeBook
from ..sandbox.staging import Submission
from ..sandbox.supervisor import RemoteOp, Sandbox, WorkerFailure, WorkerLimits
from ..student.families import derived_forbid, traced_operators
from ..student.loading import load_student, operation_of
from ..student.op import StudentOp
from ..student.source_rules import Finding, scan_file, scan_source
from ..student.styles import Style, unsupported
from ..student.support import files as support_files
from ..student.support import install as install_support
from ..vocabulary import CheckName, Status
from .feedback import failure_heatmaps, feedback
from .options import RunOptions
from .search import search
from .seeds import run_seed

FLAGGED = "flagged for review (no points until a person has looked): "
UNGRADABLE = ("this check could not be run because of a problem in the exercise itself, not in your code; "
              "its points still count in the total (tell your course staff)")


def student_path(spec: ExerciseSpec, submission: Path | None) -> Path:
    """The student's file: beside the exercise file, or in the submission folder, either flat
    (DIR/<file>) or one folder per exercise (DIR/<exercise>/<file>, as a copy of exercises/ or an
    instructor's course source is laid out); the flat path when neither exists."""
    if submission is None:
        return spec.directory / spec.student_file
    flat = submission / spec.student_file
    if flat.exists() or flat.is_symlink():
        return flat
    for folder in dict.fromkeys((spec.directory.name, spec.name)):
        nested = submission / folder / spec.student_file
        if nested.exists() or nested.is_symlink():
            return nested
    return flat


def prepare(spec: ExerciseSpec, submission: Path | None = None, sandbox: Sandbox | None = None,
            staged: Submission | None = None, early: bool = False) -> ExerciseUnderTest:
    """Load the student's file for `spec`; a load problem is kept and reported by every check.

    With a `sandbox` (autograder mode) the file's contents come from `staged`, read before any
    student code ran, and the student's code runs in a worker process. With `early`, the worker
    is only started, loading the file while the grader goes on (grading the exercise before
    this one): its first check takes the answer (finish_loading).
    """
    path = student_path(spec, submission)
    exercise, style, forbid = _begin(spec, path)
    if exercise.load_error:
        return exercise
    if sandbox is None:
        _apply_findings(exercise, scan_file(path, forbid, spec.allow_imports, style.backward_name, style.entries))
        try:
            function = load_student(path, style, spec.support)
        except StudentCodeError as exc:
            exercise.load_error = str(exc)
            return exercise
        exercise.op = _local_op(spec, function, path, forbid, style)
        return exercise
    staged = staged or Submission.collect({spec.student_file: path})
    contents = staged.files.get(spec.student_file)
    if contents is None:
        exercise.load_error = staged.problems.get(spec.student_file, f"{spec.student_file} not found")
        return exercise
    _apply_findings(exercise, scan_source(contents, forbid, spec.allow_imports, style.backward_name, style.entries))
    worker = sandbox.worker(spec.name, spec.student_file, contents, style,
                            [i.name for i in spec.inputs], [i.differentiable for i in spec.inputs], spec.device,
                            worker_limits(spec, sandbox), forbid, support=support_files(spec.support),
                            masks=reference_files(spec), reply_elements=output_elements(spec))
    exercise.op = RemoteOp(worker)
    exercise.close = worker.close
    exercise.release = lambda: worker.close(wait=False)
    if early:
        worker.launch()
        exercise.loading = True
    else:
        _load(exercise)
    return exercise


def finish_loading(exercise: ExerciseUnderTest) -> None:
    """The answer of a worker started early (prepare): the exercise loaded, or its load error kept."""
    if exercise.loading:
        exercise.loading = False
        _load(exercise)


def _load(exercise: ExerciseUnderTest) -> None:
    assert exercise.op is not None
    try:
        exercise.op.load()
    except StudentCodeError as exc:
        exercise.load_error = str(exc)
    except WorkerFailure as failure:
        exercise.load_error, exercise.load_status = failure.message, failure.status


def prepare_loaded(spec: ExerciseSpec, module: ModuleType, where: str, path: Path,
                   source: str | None) -> ExerciseUnderTest:
    """As prepare, for code already run in this process (a notebook's cells, gathered in `module`):
    the exercise's class or functions taken from it, named `where` in messages; `path`: the file
    their code objects name, where an error they raise is located; `source`: their text for the
    source rules (None: not scanned)."""
    exercise, style, forbid = _begin(spec, path)
    if exercise.load_error:
        return exercise
    if source is not None:
        _apply_findings(exercise, scan_source(source, forbid, spec.allow_imports, style.backward_name, style.entries),
                        where)
    install_support(spec.support)
    try:
        function = operation_of(module, where, style)
    except StudentCodeError as exc:
        exercise.load_error = str(exc)
        return exercise
    exercise.op = _local_op(spec, function, path, forbid, style)
    return exercise


def _begin(spec: ExerciseSpec, path: Path) -> tuple[ExerciseUnderTest, Style, tuple[str, ...]]:
    """The exercise before the student's code is loaded, its style and all it forbids; its
    load_error set (and nothing forbidden worked out) where this machine cannot grade it."""
    exercise = ExerciseUnderTest(spec, path)
    exercise.load_error = unsupported(spec)
    forbid = () if exercise.load_error else spec.forbid + family_forbid(spec)
    return exercise, Style.of(spec), tuple(forbid)


def _local_op(spec: ExerciseSpec, function, path: Path, forbid: tuple[str, ...], style: Style) -> StudentOp:
    """The student's op in this process, watched as a worker watches it."""
    return StudentOp(function, [i.name for i in spec.inputs], [i.differentiable for i in spec.inputs], path,
                     forbid, audit=style.computes_with_torch, style=style)


_FAMILY_FORBID: dict[tuple[str, str, str], tuple[str, ...]] = {}


def family_forbid(spec: ExerciseSpec) -> tuple[str, ...]:
    """What the exercise forbids beyond its `forbid:` list: the families (student.families) of the
    operators its reference runs, traced once per exercise and reference on a seeded trial."""
    key = (str(spec.path), spec.name, spec.reference.target)
    if key not in _FAMILY_FORBID:
        trial = seeded_trials(spec, 1, spec.seed)[0]
        inputs = [as_reference_dtype(t) for t in make_inputs(spec, trial).values()]
        bound = bind_reference(spec, call_params(spec, trial.params)) if spec.params else spec
        try:
            traced = traced_operators(lambda: Traced(bound, inputs))
        except Exception:  # noqa: BLE001 - a broken reference is reported by the checks, with its reason
            traced = set()
        _FAMILY_FORBID[key] = tuple(name for name in derived_forbid(traced) if name not in spec.forbid)
    return _FAMILY_FORBID[key]


def grade_submission(specs: list[ExerciseSpec], folder: Path, sandbox: Sandbox | None = None,
                     options: RunOptions = RunOptions()) -> GradeBook:
    """Every check of every exercise in `specs` on the student's files in `folder`; with a
    `sandbox`, in autograder mode (the files read once first, a worker per exercise)."""
    staged = Submission.collect({spec.student_file: student_path(spec, folder) for spec in specs}, folder) \
        if sandbox is not None else None
    book = GradeBook()
    upcoming: ExerciseUnderTest | None = None
    for index, spec in enumerate(specs):
        exercise = upcoming or prepare(spec, folder, sandbox, staged)
        if sandbox is not None and index + 1 < len(specs):  # its worker starts while this one is graded
            upcoming = prepare(specs[index + 1], folder, sandbox, staged, early=True)
        grade_prepared(book, exercise, options)
    return book


def grade_prepared(book: GradeBook, exercise: ExerciseUnderTest, options: RunOptions = RunOptions()) -> None:
    """Every check of a prepared exercise, into its result in `book`; its worker stopped after (gone
    before the next one starts: the submission's Sandbox.settle checks that all are)."""
    spec = exercise.spec
    result = book.exercise(spec.name, spec.title, spec.points, spec.checks, weights=spec.weights,
                           visibility=spec.visibility, check_visibility=spec.check_visibility)
    try:
        result.checks = [run_check(exercise, check, options) for check in spec.checks]
    finally:
        exercise.release()


def reference_files(spec: ExerciseSpec) -> list[str]:
    """The file of the exercise's reference module (and its compiled copies), which workers must not
    see; none where the reference is torch's or NumPy's own (what every worker imports anyway)."""
    module = sys.modules.get(getattr(spec.reference.function, "__module__", None) or "")
    path = getattr(module, "__file__", None)
    if module is None or not path or module.__name__.split(".")[0] in ("torch", "numpy"):
        return []
    source = Path(path).resolve()
    return [str(source)] + [str(p) for p in (source.parent / "__pycache__").glob(f"{source.stem}.*")]


def output_elements(spec: ExerciseSpec):
    """inputs -> the number of elements of the reference's outputs for inputs of these shapes (the
    reference run once per shape; the meta device would cost a second of imports): what a worker's
    reply is capped by."""
    known: dict[tuple, int] = {}

    def count(inputs) -> int:
        key = tuple((tuple(t.shape), t.dtype) for t in inputs)
        if key not in known:
            known[key] = sum(int(out.numel()) for out in reference_eval.forward(spec, [t.detach() for t in inputs]))
        return known[key]

    return count


def worker_limits(spec: ExerciseSpec, sandbox: Sandbox) -> WorkerLimits:
    """The exercise's limits from its YAML, its time limit overridden by the session's (e.g.
    --time-limit) where one was given."""
    limits = spec.limits
    time_seconds = sandbox.limits.time_seconds if sandbox.time_limit_given else limits.time_seconds
    return replace(sandbox.limits, time_seconds=time_seconds, cpu_seconds=limits.cpu_seconds or time_seconds,
                   memory_bytes=limits.memory_mb << 20, output_bytes=limits.output_kb << 10)


def _apply_findings(exercise: ExerciseUnderTest, findings: list[Finding], name: str | None = None) -> None:
    name = name or exercise.spec.student_file
    forbidden = [f.describe(name) for f in findings if f.kind == "forbidden"]
    review = [f.describe(name) for f in findings if f.kind == "review"]
    if forbidden:
        exercise.rule_failure = "\n".join(forbidden)
    if review:
        exercise.review = FLAGGED + "; ".join(review)


def skip_reason(spec: ExerciseSpec) -> str | None:
    if spec.device == "cuda" and not torch.cuda.is_available():
        return f"{spec.name} runs on CUDA and no GPU is available here (not graded)"
    return None


def run_check(exercise: ExerciseUnderTest, check: str, options: RunOptions = RunOptions()) -> CheckResult:
    spec = exercise.spec
    started = time.perf_counter()
    seed = run_seed(spec, options)

    def result(status: Status, message: str = "", trial: Trial | None = None, not_implemented: bool = False,
               heatmaps: tuple = ()):
        return CheckResult(spec.name, check, status, message, seed,
                           trial.describe() if trial else None, time.perf_counter() - started, not_implemented,
                           heatmaps)

    reason = skip_reason(spec)
    if reason:
        return result(Status.SKIPPED, reason)
    finish_loading(exercise)
    if exercise.load_error:
        return result(exercise.load_status, exercise.load_error)
    if exercise.rule_failure:
        return result(Status.FAILED, feedback(exercise, check, CheckFailure(exercise.rule_failure), options))
    try:
        if check == CheckName.EDGE_CASES:
            check_edge_cases(exercise)
        elif options.replay is not None:
            trial = Trial.parse(options.replay, spec)
            try:
                trial_check(spec, check)(exercise, trial)
            except CheckFailure as failure:
                failure.trial = trial  # the input is shown as a search's smallest one is
                raise
            except KinkCrossed:
                return result(Status.PASSED, "this example's finite-difference step crosses a kink; nothing to check")
        else:
            search(exercise, check, seed, options.trials or spec.trials)
    except CheckFailure as failure:
        # (no pictures for a randomized forward: its reference draws another mask than the student's)
        heatmaps = failure_heatmaps(exercise, seed) if check == CheckName.BACKWARD and failure.status == Status.FAILED \
            and spec.random is None else ()
        return replace(result(failure.status, feedback(exercise, check, failure, options), failure.trial,
                              failure.not_implemented, heatmaps), visibility=failure.visibility)
    except WorkerFailure as failure:
        return result(failure.status, failure.message)
    except ExerciseBroken as broken:
        return replace(result(Status.ERROR, UNGRADABLE), grader_error=broken.detail)
    except Exception as exc:  # noqa: BLE001 - the grader's own failure: never the student's fault
        detail = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)[-6:]).rstrip()
        return replace(result(Status.ERROR, UNGRADABLE), grader_error=f"the grader failed: {detail}")
    review = exercise.review or _runtime_review(exercise)
    if review:
        return result(Status.FLAGGED, review)
    return result(Status.PASSED)


def _runtime_review(exercise: ExerciseUnderTest) -> str | None:
    notes = exercise.op.notes if exercise.op is not None else None
    return FLAGGED + "; ".join(notes) if notes else None
