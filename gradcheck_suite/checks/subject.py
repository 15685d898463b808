"""ExerciseUnderTest (a spec and the student's loaded op) and the one way checks call student code."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable

import torch

from ..exercise.model import EdgeCase, ExerciseSpec, InputSpec
from ..inputs.params import bind_reference, call_params
from ..inputs.tensors import edge_case_sizes, param_arrays
from ..inputs.trial import Trial
from ..student.failures import ProtocolViolation, StudentCallError, located
from ..student.op import StudentOpLike
from ..vocabulary import Status
from .verdicts import CheckFailure


@dataclass
class ExerciseUnderTest:
    """An exercise ready to grade: its spec and the student's op (or why it could not be loaded)."""

    spec: ExerciseSpec
    student_path: Path
    op: StudentOpLike | None = None  # StudentOp in this process, or sandbox.RemoteOp in a worker
    load_error: str | None = None
    load_status: Status = Status.ERROR  # or CRASHED / TIMEOUT when a worker died loading the file
    rule_failure: str | None = None  # forbidden calls found in the source: every check fails
    review: str | None = None  # constructs that flag the submission for review
    close: Callable[[], None] = lambda: None  # stops the worker, in autograder mode
    release: Callable[[], None] = lambda: None  # the same, without waiting for it to be gone
    loading: bool = False  # its worker started early, its answer to loading the file not yet read
    # Per trial, the forward check's run and the backward check's outputs, upstream gradients and
    # gradients, which the later checks of the trial continue or read (checks.kept).
    runs: dict = field(default_factory=dict, repr=False)
    gradients: dict = field(default_factory=dict, repr=False)
    # The reference's output shapes and dtypes per trial, as the plans of calls need them (checks.plans).
    output_shapes: dict = field(default_factory=dict, repr=False)

    @property
    def device(self) -> torch.device:
        return torch.device(self.spec.device)


def for_trial(ex: ExerciseUnderTest, trial: Trial | None, case: EdgeCase | None = None) -> ExerciseUnderTest:
    """The exercise with the trial's params bound to the student's op and the reference (the least
    values without a trial, array fields sized by the edge case `case`); the same object for an
    exercise without params."""
    if not ex.spec.params:
        return ex
    spec = ex.spec
    if trial is not None:
        arrays = param_arrays(spec, trial.sizes or trial.dims, trial.values_seed)
    elif case is not None and any(p.arrays for p in spec.params):
        arrays = param_arrays(spec, edge_case_sizes(spec, case), spec.seed)
    else:
        arrays = {}
    call = call_params(spec, trial.params if trial is not None else {}, arrays)
    return replace(ex, spec=bind_reference(ex.spec, call), op=ex.op.with_params(call) if ex.op is not None else None)


def call_student(function: Callable, *args):
    """Call into student code, turning its errors into verdicts."""
    try:
        return function(*args)
    except StudentCallError as exc:
        failure = CheckFailure(exc.describe(), status=Status.ERROR, not_implemented=exc.not_implemented)
        failure.student_error = exc.original
        raise failure from None
    except ProtocolViolation as exc:
        raise CheckFailure(str(exc)) from None


def student_raised(ex: ExerciseUnderTest, method: str, exc: BaseException) -> CheckFailure:
    """The verdict for an exception from the student's code reached outside call_student."""
    assert ex.op is not None  # checks run only on an exercise whose file loaded (run_check)
    failure = CheckFailure(StudentCallError(f"{ex.op.name}.{method}", exc, located(exc, ex.student_path)).describe(),
                           status=Status.ERROR, not_implemented=isinstance(exc, NotImplementedError))
    failure.student_error = exc
    return failure


def on_device(ex: ExerciseUnderTest, tensors: dict[str, torch.Tensor]) -> list[torch.Tensor]:
    return [t.to(ex.device) for t in tensors.values()]


def dtype_name(dtype: torch.dtype) -> str:
    return str(dtype).replace("torch.", "")


def indexed_differentiable(spec: ExerciseSpec) -> list[tuple[int, InputSpec]]:
    return [(i, s) for i, s in enumerate(spec.inputs) if s.differentiable]
