"""How the student's code failed: an error it raised (located in their file) or a rule it broke."""

from __future__ import annotations

import traceback
from pathlib import Path


class Stub(NotImplementedError):
    """What a stub still returns instead of an answer: None, or CS231n's `(None, cache)` and
    `(None, None, None)`. Raised for the student's function, it reads as "not implemented"."""

    def __init__(self, returned: str):
        super().__init__(f"it returns {returned}")
        self.returned = returned


def stub_return(value: object) -> str | None:
    """How `value` reads when a stub returned it (None, or a tuple whose values are all None); None
    for anything else."""
    if value is None:
        return "None"
    if isinstance(value, (tuple, list)) and value and all(v is None for v in value):
        return "(" + ", ".join("None" for _ in value) + ("," if len(value) == 1 else "") + ")"
    return None


class StudentCallError(Exception):
    """The student's forward or backward raised; carries a short, located description."""

    def __init__(self, phase: str, exc: BaseException, where: str):
        self.phase = phase
        self.original = exc
        self.where = where
        self.not_implemented = isinstance(exc, NotImplementedError)
        super().__init__(self.describe())

    @classmethod
    def reported(cls, message: str, not_implemented: bool) -> "StudentCallError":
        """The same error as described by a worker process (only its text crosses back)."""
        error = cls("", RuntimeError(message), "")
        error.not_implemented = not_implemented
        error.reported_text = message
        return error

    reported_text: str | None = None

    def describe(self) -> str:
        if self.reported_text is not None:
            return self.reported_text
        if isinstance(self.original, Stub):
            return f"{self.phase} is not implemented yet ({self.original})"
        if self.not_implemented:
            return f"{self.phase} is not implemented yet (it raises NotImplementedError)"
        text = f"{self.phase} raised {type(self.original).__name__}: {self.original}"
        return f"{text}\n  at {self.where}" if self.where else text


class ProtocolViolation(Exception):
    """The student's code ran but broke a rule of the exercise (in-place change, autograd in backward...)."""


def located(exc: BaseException, path: Path) -> str:
    """'linear.py, line 12, in backward: <code>' for the deepest frame in the student's file."""
    target = str(path.resolve())
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if _same_file(f.filename, target)]
    if not frames:
        return ""
    frame = frames[-1]
    code = f": {frame.line.strip()}" if frame.line else ""
    return f"{path.name}, line {frame.lineno}, in {frame.name}{code}"


def _same_file(filename: str, target: str) -> bool:
    try:
        return str(Path(filename).resolve()) == target
    except OSError:
        return False
