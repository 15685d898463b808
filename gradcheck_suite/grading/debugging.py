"""`pytest --pdb` on a graded check: the debugger opens in the student's own frame, not the grader's.

pytest's --pdb starts a post-mortem on the exception a test raises, whose innermost frame would be
the grader's. For a failed check, the grader re-runs the failing example in this process and gives
pytest a traceback that ends in the student's code instead: where their code raised, or, for a
wrong answer, their function (the forward for the forward check, else the backward) as it returned
its result on that example, every one of its local variables as it was then.

And `breakpoint()`: the calls the report makes beyond the check (the heatmap of a failed backward)
are the grader's, so a breakpoint() in the student's code does not stop in them.
"""

from __future__ import annotations

import os
import sys
from contextlib import contextmanager
from types import FrameType, TracebackType
from typing import Iterator

from ..checks.edge_cases import check_edge_cases
from ..checks.registry import TRIAL_CHECKS
from ..checks.subject import ExerciseUnderTest
from ..checks.verdicts import CheckFailure, KinkCrossed
from ..inputs.trial import Trial
from ..student.op import StudentOp
from ..vocabulary import CheckName


def student_traceback(exercise: ExerciseUnderTest, check: str, example: str | None) -> TracebackType | None:
    """A traceback whose innermost frame is the student's, from re-running `check` on `example` (a
    Trial.describe() string; None for the edge cases); None where there is none to give (the code
    runs in a worker process, or the example passes this time)."""
    op = exercise.op
    if not isinstance(op, StudentOp):
        return None
    student_file = os.path.realpath(exercise.student_path)
    wanted = _function_name(op, CheckName.FORWARD if check == CheckName.FORWARD else CheckName.BACKWARD)
    returned: list[FrameType] = []
    same_file: dict[str, bool] = {}

    def in_student_file(frame: FrameType) -> bool:
        name = frame.f_code.co_filename
        if name not in same_file:
            same_file[name] = os.path.realpath(name) == student_file
        return same_file[name]

    def on_return(frame: FrameType, event: str, arg: object):
        if event == "return":
            returned.append(frame)
        return on_return

    def on_call(frame: FrameType, event: str, arg: object):
        if event == "call" and frame.f_code.co_name == wanted and in_student_file(frame):
            return on_return
        return None

    previous = sys.gettrace()
    sys.settrace(on_call)
    try:
        _rerun(exercise, check, example)
    except CheckFailure as failure:
        error = failure.student_error
        if error is not None and error.__traceback__ is not None:
            return _ending_in_student_code(error.__traceback__, in_student_file)
    except KinkCrossed:
        pass
    finally:
        sys.settrace(previous)
    if not returned:
        return None
    frame = returned[-1]
    return TracebackType(None, frame, frame.f_lasti, frame.f_lineno)


def _function_name(op: StudentOp, method: str) -> str:
    """The name of the student's function behind `method`: 'forward' for Linear.forward, and
    'affine_backward' for the function styles' affine_backward."""
    return op.phase(str(method)).split(" ")[0].rsplit(".", 1)[-1]


def _rerun(exercise: ExerciseUnderTest, check: str, example: str | None) -> None:
    if check == CheckName.EDGE_CASES or example is None:
        check_edge_cases(exercise)
    else:
        TRIAL_CHECKS[check](exercise, Trial.parse(example, exercise.spec))


def _ending_in_student_code(tb: TracebackType, in_student_file) -> TracebackType:
    """`tb` cut after its last frame in the student's file (the frames below are torch's or the
    grader's); `tb` itself where none is."""
    last = None
    entry: TracebackType | None = tb
    while entry is not None:
        if in_student_file(entry.tb_frame):
            last = entry
        entry = entry.tb_next
    if last is not None:
        last.tb_next = None
    return tb


@contextmanager
def breakpoints_off() -> Iterator[None]:
    """breakpoint() does nothing inside: for calls the report makes beyond the check itself."""
    previous = sys.breakpointhook
    sys.breakpointhook = lambda *args, **kwargs: None
    try:
        yield
    finally:
        sys.breakpointhook = previous
