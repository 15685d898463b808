"""The closed vocabularies every layer shares: how a check ends (Status) and which checks exist (CheckName).

Both are string-valued enums: a member equals its string, so reports, JSON and YAML keep the plain
words ("passed", "backward") while the code names them once.
"""

from __future__ import annotations

import sys
from enum import Enum

__all__ = ["CheckName", "Status", "StrEnum"]

if sys.version_info >= (3, 11):
    from enum import StrEnum
else:  # pragma: no cover - Python 3.10
    class StrEnum(str, Enum):
        """enum.StrEnum of Python 3.11: members are strings and print as their value."""

        def __str__(self) -> str:
            return str(self.value)

        def __format__(self, format_spec: str) -> str:
            return str.__format__(self, format_spec)


class Status(StrEnum):
    """How a check ended; an exercise takes the first of its checks' statuses in this order."""

    ERROR = "error"
    """The exercise could not be graded as asked: the student's code raised, or the exercise itself is broken."""
    CRASHED = "crashed"
    """The worker running the student's code died (autograder mode)."""
    TIMEOUT = "timeout"
    """The student's code ran past the exercise's time limit."""
    FAILED = "failed"
    """A wrong answer, or a rule of the exercise broken."""
    FLAGGED = "flagged"
    """Passed, but the code uses something a person must look at first: no points until then."""
    SKIPPED = "skipped"
    """Not run here (e.g. a CUDA exercise on a machine without a GPU)."""
    PASSED = "passed"
    """The only status that earns points."""


class CheckName(StrEnum):
    """The checks an exercise can run, by their YAML names, in the order they run."""

    FORWARD = "forward"
    """The output matches the reference; the inputs are left unchanged."""
    BACKWARD = "backward"
    """Every gradient equals torch.autograd on the reference, element by element."""
    BACKWARD_PROPERTIES = "backward_properties"
    """Linear in grad_output, zero in gives zero out, repeatable."""
    FINITE_DIFFERENCES = "finite_differences"
    """The backward agrees with central differences of the student's own forward."""
    EDGE_CASES = "edge_cases"
    """Literal inputs from the YAML give finite results that match the reference."""
    DOUBLE_BACKWARD = "double_backward"
    """Differentiating the student's backward gives the reference's second derivatives."""


STATUSES: tuple[Status, ...] = tuple(Status)
CHECK_NAMES: tuple[str, ...] = tuple(c.value for c in CheckName)
