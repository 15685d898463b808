"""Names an exercise file can use: file names, reserved words, dotted references, did-you-mean."""

from __future__ import annotations

import difflib
import importlib
from typing import Callable

EXERCISE_FILE = "exercise.yaml"  # one per exercise folder
COURSE_FILE = "course.yaml"  # beside the exercise folders: defaults for all of them
BATCH = "..."  # the batch dims in a shape
RESERVED_DIMS = ("batch", "values")  # words of the replay format (inputs.trial.Trial.describe)


def did_you_mean(word, choices, cutoff: float = 0.6) -> str:
    """'; did you mean 'x'?' for the closest of `choices`, or ''."""
    close = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1, cutoff=cutoff)
    return f"; did you mean {close[0]!r}?" if close else ""


def resolve_dotted(target: str) -> Callable:
    """Import ``package.module.attr`` (attributes may be nested); raise ValueError with a reason."""
    parts = target.split(".")
    for split in range(len(parts) - 1, 0, -1):
        module_name = ".".join(parts[:split])
        try:
            obj = importlib.import_module(module_name)
        except ModuleNotFoundError:
            continue
        try:
            for attr in parts[split:]:
                obj = getattr(obj, attr)
        except AttributeError:
            public = [name for name in dir(obj) if not name.startswith("_")]
            raise ValueError(f"module {module_name!r} has no attribute {'.'.join(parts[split:])!r}"
                             + did_you_mean(parts[-1], public, cutoff=0.8)) from None
        if not callable(obj):
            raise ValueError(f"{target!r} is not callable")
        return obj
    raise ValueError(f"no module found for {target!r}")
