"""Runs one check of one exercise over seeded Hypothesis trials and turns the verdict into a result."""

from __future__ import annotations

import os
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable

import torch
from hypothesis import HealthCheck, Phase, Verbosity, given, reject, seed, settings
from hypothesis.configuration import set_hypothesis_home_dir
from hypothesis.errors import Flaky, Unsatisfiable

from .checks import TRIAL_CHECKS, CheckFailure, Exercise, KinkCrossed, check_edge_cases, gradient_differences
from .config import ExerciseSpec
from .errors import StudentCodeError
from .results import CheckResult, GradeBook
from .sandbox.staging import Submission
from .sandbox.supervisor import Limits, RemoteOp, Sandbox, WorkerFailure
from .source_rules import Finding, scan_file, scan_source
from .strategies import Trial, make_inputs, trials
from .student import StudentOp
from .styles import Style, load_student, unsupported
from .tolerances import shape_text

SMALL_TENSOR = 12
FLAGGED = "flagged for review (no points until a person has looked): "


@dataclass(frozen=True)
class RunOptions:
    seed: int | None = None           # overrides every exercise's seed
    trials: int | None = None         # overrides every exercise's number of trials
    replay: str | None = None         # run exactly this trial (Trial.describe() format)
    replay_command: Callable[[ExerciseSpec, str, str], str] | None = None


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
            staged: Submission | None = None) -> Exercise:
    """Load the student's file for `spec`; a load problem is kept and reported by every check.

    With a `sandbox` (autograder mode) the file's contents come from `staged`, read before any
    student code ran, and the student's code runs in a worker process.
    """
    path = student_path(spec, submission)
    exercise = Exercise(spec, path)
    style = Style.of(spec)
    exercise.load_error = unsupported(spec)
    if exercise.load_error:
        return exercise
    if sandbox is None:
        _apply_findings(exercise, scan_file(path, spec.forbid, spec.allow_imports, style.backward_name))
        try:
            function = load_student(path, style)
        except StudentCodeError as exc:
            exercise.load_error = str(exc)
            return exercise
        exercise.op = StudentOp(function, [i.name for i in spec.inputs], [i.differentiable for i in spec.inputs], path,
                                spec.forbid, style=style)
        return exercise
    staged = staged or Submission.collect({spec.student_file: path})
    contents = staged.files.get(spec.student_file)
    if contents is None:
        exercise.load_error = staged.problems.get(spec.student_file, f"{spec.student_file} not found")
        return exercise
    _apply_findings(exercise, scan_source(contents, spec.forbid, spec.allow_imports, style.backward_name))
    worker = sandbox.worker(spec.name, spec.student_file, contents, style,
                            [i.name for i in spec.inputs], [i.differentiable for i in spec.inputs], spec.device,
                            worker_limits(spec, sandbox), spec.forbid)
    exercise.op = RemoteOp(worker)
    exercise.close = worker.close
    try:
        exercise.op.load()
    except StudentCodeError as exc:
        exercise.load_error = str(exc)
    except WorkerFailure as failure:
        exercise.load_error, exercise.load_status = failure.message, failure.status
    return exercise


def grade_submission(specs: list[ExerciseSpec], folder: Path, sandbox: Sandbox | None = None,
                     options: RunOptions = RunOptions()) -> GradeBook:
    """Every check of every exercise in `specs` on the student's files in `folder`; with a
    `sandbox`, in autograder mode (the files read once first, a worker per exercise)."""
    staged = Submission.collect({spec.student_file: student_path(spec, folder) for spec in specs}, folder) \
        if sandbox is not None else None
    book = GradeBook()
    for spec in specs:
        result = book.exercise(spec.name, spec.title, spec.points, spec.checks, weights=spec.weights,
                               visibility=spec.visibility, check_visibility=spec.check_visibility)
        exercise = prepare(spec, folder, sandbox, staged)
        try:
            result.checks = [run_check(exercise, check, options) for check in spec.checks]
        finally:
            exercise.close()
    return book


def worker_limits(spec: ExerciseSpec, sandbox: Sandbox) -> Limits:
    """The exercise's limits from its YAML, its time limit overridden by the session's (e.g.
    --time-limit) where one was given."""
    limits = spec.limits
    time_seconds = sandbox.limits.time_seconds if sandbox.time_limit_given else limits.time_seconds
    return replace(sandbox.limits, time_seconds=time_seconds, cpu_seconds=limits.cpu_seconds or time_seconds,
                   memory_bytes=limits.memory_mb << 20, output_bytes=limits.output_kb << 10)


def _apply_findings(exercise: Exercise, findings: list[Finding]) -> None:
    name = exercise.spec.student_file
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


def run_check(exercise: Exercise, check: str, options: RunOptions = RunOptions()) -> CheckResult:
    spec = exercise.spec
    started = time.perf_counter()
    run_seed = options.seed if options.seed is not None else spec.seed

    def result(status: str, message: str = "", trial: Trial | None = None, not_implemented: bool = False,
               heatmaps: tuple = ()):
        return CheckResult(spec.name, check, status, message, run_seed,
                           trial.describe() if trial else None, time.perf_counter() - started, not_implemented,
                           heatmaps)

    reason = skip_reason(spec)
    if reason:
        return result("skipped", reason)
    if exercise.load_error:
        return result(exercise.load_status, exercise.load_error)
    if exercise.rule_failure:
        return result("failed", _feedback(exercise, check, CheckFailure(exercise.rule_failure), options))
    try:
        if check == "edge_cases":
            check_edge_cases(exercise)
        elif options.replay is not None:
            trial = Trial.parse(options.replay, spec)
            try:
                TRIAL_CHECKS[check](exercise, trial)
            except KinkCrossed:
                return result("passed", "this example's finite-difference step crosses a kink; nothing to check")
        else:
            _search(exercise, check, run_seed, options.trials or spec.trials)
    except CheckFailure as failure:
        heatmaps = _heatmaps(exercise, run_seed) if check == "backward" and failure.status == "failed" else ()
        return result(failure.status, _feedback(exercise, check, failure, options), failure.trial,
                      failure.not_implemented, heatmaps)
    except WorkerFailure as failure:
        return result(failure.status, failure.message)
    review = exercise.review or _runtime_review(exercise)
    if review:
        return result("flagged", review)
    return result("passed")


def display_trial(spec: ExerciseSpec, seed: int) -> Trial:
    """A large example (every dim and the batch at their largest) to picture a failure on: the
    shrunk example that replays it is often a single element."""
    rank, size = spec.batch_rank[1], spec.batch_size[1]
    return Trial({name: high for name, (_, high) in spec.dims.items()}, (size,) * rank, seed)


def _heatmaps(exercise: Exercise, seed: int) -> tuple:
    try:
        inputs = [t.to(exercise.device) for t in make_inputs(exercise.spec, display_trial(exercise.spec, seed)).values()]
        return tuple(gradient_differences(exercise, inputs, seed))
    except (CheckFailure, WorkerFailure, RuntimeError, ValueError):
        return ()  # only a picture: without it the failure still reads in full


def _runtime_review(exercise: Exercise) -> str | None:
    notes = getattr(exercise.op, "notes", None)
    return FLAGGED + "; ".join(notes) if notes else None


def _keep_hypothesis_files_out_of_the_graded_tree() -> None:
    """Hypothesis writes caches under ./.hypothesis even without an example database; send them
    to the temporary directory unless the user chose a place (HYPOTHESIS_STORAGE_DIRECTORY)."""
    if not os.environ.get("HYPOTHESIS_STORAGE_DIRECTORY"):
        set_hypothesis_home_dir(Path(tempfile.gettempdir()) / "gradcheck-suite-hypothesis")


def _search(exercise: Exercise, check: str, run_seed: int, examples: int) -> None:
    check_fn = TRIAL_CHECKS[check]
    _keep_hypothesis_files_out_of_the_graded_tree()

    @settings(max_examples=examples, database=None, deadline=None, derandomize=False,
              suppress_health_check=list(HealthCheck), verbosity=Verbosity.quiet, print_blob=False,
              report_multiple_bugs=False, phases=(Phase.explicit, Phase.generate, Phase.shrink))
    @seed(run_seed)
    @given(trials(exercise.spec))
    def property_(trial: Trial) -> None:
        try:
            check_fn(exercise, trial)
        except KinkCrossed:
            reject()
        except CheckFailure as failure:
            failure.trial = trial
            raise

    try:
        property_()
    except Unsatisfiable:
        raise CheckFailure("could not draw inputs whose finite-difference steps avoid the function's kinks; "
                           "the exercise's domains need `avoid:` or `distinct:`", status="error") from None
    except Flaky as exc:
        raise CheckFailure(f"the student's code gives different results on the same input "
                           f"(is it random or does it keep state between calls?): {exc}") from None


def _feedback(exercise: Exercise, check: str, failure: CheckFailure, options: RunOptions) -> str:
    spec = exercise.spec
    lines = [failure.message]
    if failure.not_implemented:
        return failure.message
    if failure.trial is not None:
        lines.append("  smallest failing input: " + describe_inputs(spec, failure.trial))
    if spec.hint:
        lines.append(f"  hint: {spec.hint}")
    if failure.trial is not None and options.replay_command is not None:
        lines.append(f"  replay: {options.replay_command(spec, check, failure.trial.describe())}")
    return "\n".join(lines)


def describe_inputs(spec: ExerciseSpec, trial: Trial) -> str:
    tensors = make_inputs(spec, trial)
    parts = []
    for name, tensor in tensors.items():
        shape = shape_text(tensor)
        if tensor.numel() <= SMALL_TENSOR:
            values = [round(v, 4) if isinstance(v, float) else v for v in tensor.reshape(-1).tolist()]
            parts.append(f"{name} {shape} = {values}")
        else:
            parts.append(f"{name} {shape}")
    return "; ".join(parts) + f"  [{trial.describe()}]"
