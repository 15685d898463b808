"""Names an exercise file can use: file names, reserved words, dotted references, did-you-mean."""

from __future__ import annotations

import difflib
import hashlib
import importlib
import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Callable

EXERCISE_FILE = "exercise.yaml"  # one per exercise folder
COURSE_FILE = "course.yaml"  # beside the exercise folders: defaults for all of them
BATCH = "..."  # the batch dims in a shape
RESERVED_DIMS = ("batch", "values")  # words of the replay format (inputs.trial.Trial.describe)


def support_module_name(entry: Path) -> str:
    """The name a course support entry (course.yaml's support:) is imported by: its folder's name,
    or its file's stem."""
    return entry.stem if entry.suffix == ".py" else entry.name


def did_you_mean(word, choices, cutoff: float = 0.6) -> str:
    """'; did you mean 'x'?' for the closest of `choices`, or ''."""
    close = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1, cutoff=cutoff)
    return f"; did you mean {close[0]!r}?" if close else ""


def resolve_dotted(target: str, course_root: Path | None = None) -> Callable:
    """Import ``package.module.attr`` (attributes may be nested); raise ValueError with a reason.

    A module that is not installed is looked for beside course.yaml (`course_root`), e.g. the
    course's own ``references.py``: loaded under a private name, never put on sys.path, so that
    the grader can use it and student code cannot import it."""
    parts = target.split(".")
    for split in range(len(parts) - 1, 0, -1):
        module_name = ".".join(parts[:split])
        try:
            try:
                obj = importlib.import_module(module_name)
            except ModuleNotFoundError as missing:
                if missing.name is not None and not module_name.startswith(missing.name):
                    raise  # the module was found, and something it imports is missing
                found = _course_module(course_root, parts[:split]) if course_root is not None else None
                if found is None:
                    continue
                obj = found
        except Exception as exc:  # noqa: BLE001 - whatever importing the instructor's module raises
            raise ValueError(f"importing {module_name!r} raised {type(exc).__name__}: {exc}") from None
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


def _course_module(root: Path, parts: list[str]) -> ModuleType | None:
    """The module `parts` (e.g. ["references"] or ["refs", "layers"]) from the course folder `root`,
    imported under a private name; None where the course has no such file."""
    top = root / parts[0]
    init = top / "__init__.py" if top.is_dir() else top.with_suffix(".py")
    if not init.is_file():
        return None
    private = f"_gradcheck_course_{hashlib.sha1(str(root.resolve()).encode()).hexdigest()[:10]}"
    name = f"{private}.{parts[0]}"
    module = sys.modules.get(name)
    if module is None:
        package = sys.modules.setdefault(private, ModuleType(private))
        package.__path__ = [str(root)]  # a namespace for the course's modules
        spec = importlib.util.spec_from_file_location(name, init, submodule_search_locations=[str(top)]
                                                      if top.is_dir() else None)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        try:
            spec.loader.exec_module(module)
        except BaseException:
            del sys.modules[name]
            raise
    for part in parts[1:]:
        module = importlib.import_module(f"{module.__name__}.{part}")
    return module
