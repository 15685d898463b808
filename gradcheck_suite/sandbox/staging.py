"""The student's files, read once before any student code runs, and what else was submitted.

Each worker gets a fresh directory holding only its own file, written from the bytes read here:
code that runs in one worker cannot change the file another exercise will load. Anything else in
the submission is never copied, imported or run, and is listed with the reason.
"""

from __future__ import annotations

import stat
from dataclasses import dataclass, field
from pathlib import Path

MAX_FILE_BYTES = 1 << 20
_HARNESS_MODULES = {"gradcheck_suite", "torch", "pytest", "_pytest", "hypothesis", "yaml", "numpy", "pluggy",
                    "conftest", "sitecustomize", "usercustomize", "typing_extensions", "sympy", "functorch"}
_CONFIG_FILES = {"pytest.ini", "pyproject.toml", "setup.cfg", "tox.ini", "setup.py", ".pytest.ini"}


@dataclass
class Submission:
    files: dict[str, bytes] = field(default_factory=dict)     # expected name -> contents
    problems: dict[str, str] = field(default_factory=dict)    # expected name -> why it cannot be graded
    ignored: list[tuple[str, str]] = field(default_factory=list)  # (name, reason)

    @classmethod
    def collect(cls, paths: dict[str, Path], directory: Path | None = None) -> "Submission":
        """`paths`: each expected file name and where it is; `directory`: the submission folder
        whose other entries are reported as ignored."""
        submission = cls()
        for name, path in paths.items():
            problem = _unusable(path)
            if problem:
                submission.problems[name] = problem
                continue
            try:
                submission.files[name] = path.read_bytes()
            except OSError as exc:
                submission.problems[name] = f"{name} could not be read: {exc.strerror}"
        if directory is not None and directory.is_dir():
            used = set(paths.values())
            for entry in sorted(directory.rglob("*")):
                relative = entry.relative_to(directory)
                if entry in used:
                    continue
                if any(part in {"__pycache__", ".git"} for part in relative.parts) or entry.is_dir():
                    continue
                submission.ignored.append((str(relative), _reason(relative)))
        return submission


def _unusable(path: Path) -> str | None:
    try:
        info = path.lstat()
    except FileNotFoundError:
        return f"{path.name} not found in {path.parent}"
    except OSError as exc:
        return f"{path.name} could not be read: {exc.strerror}"
    if stat.S_ISLNK(info.st_mode):
        return f"{path.name} is a symbolic link; submit the file itself"
    if not stat.S_ISREG(info.st_mode):
        return f"{path.name} is not a regular file"
    if info.st_size > MAX_FILE_BYTES:
        return f"{path.name} is {info.st_size} bytes, more than the {MAX_FILE_BYTES} allowed"
    return None


def _reason(relative: Path) -> str:
    name = relative.name
    if name == "conftest.py" or name in _CONFIG_FILES:
        return "a pytest or Python project configuration file: never read by the grader"
    if name.endswith(".pth") or name in ("sitecustomize.py", "usercustomize.py"):
        return "a Python start-up hook: never run"
    if relative.suffix == ".py" and relative.stem in _HARNESS_MODULES or relative.parts[0] in _HARNESS_MODULES:
        return "named like a module of the grader or its libraries: never imported"
    return "not a file any exercise asks for: not copied to the grader"
