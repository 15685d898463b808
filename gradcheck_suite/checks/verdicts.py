"""The signals a check raises: CheckFailure (a verdict against the student), KinkCrossed (redraw)."""

from __future__ import annotations

from typing import Sequence

from ..inputs.trial import Trial
from ..numerics.tolerances import Mismatch
from ..vocabulary import Status


class CheckFailure(Exception):
    """A verdict against the student: status 'failed' (wrong answer) or 'error' (their code raised).

    Internal: the grader turns it into a CheckResult. `mismatches` carries the data of every
    comparison that failed (the message is rendered from them), for tools that measure how far
    off an answer was (check-tolerances) without reading the text.
    """

    def __init__(self, message: str, status: Status = Status.FAILED, not_implemented: bool = False,
                 mismatches: Sequence[Mismatch] = ()):
        super().__init__(message)
        self.message = message
        self.status = status
        self.not_implemented = not_implemented
        self.mismatches: tuple[Mismatch, ...] = tuple(mismatches)
        self.trial: Trial | None = None
        self.student_error: BaseException | None = None  # what the student's code raised, for a debugger
        self.visibility: str | None = None  # the failing item's own (an edge case's), where it has one
        self.upstream: tuple = ()  # (name, tensor) of each upstream gradient the student's backward was given


class KinkCrossed(Exception):
    """A finite-difference step crossed a non-differentiable point: the trial says nothing; redraw."""
