"""The course's support modules (e.g. CS231n's im2col helpers), importable by the student's file without PYTHONPATH.

A meta path finder that finds the declared modules and nothing else: the course folder itself is
never put on sys.path, so the course's references module (or anything else beside course.yaml)
stays out of the student's reach.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys
from importlib.machinery import ModuleSpec
from pathlib import Path
from types import ModuleType
from typing import Sequence

from ..exercise.names import support_module_name

__all__ = ["files", "install", "install_sources"]


class SupportFinder(importlib.abc.MetaPathFinder):
    """Finds each support module by its top-level name, in the folder that holds it; submodules
    of a support package are found through the package's own __path__ as usual."""

    def __init__(self, entries: Sequence[Path]):
        self.locations = {support_module_name(entry): str(entry.parent) for entry in entries}

    def find_spec(self, fullname: str, path: Sequence[str] | None = None,
                  target: ModuleType | None = None) -> ModuleSpec | None:
        if path is not None or fullname not in self.locations:
            return None
        return importlib.machinery.PathFinder.find_spec(fullname, [self.locations[fullname]])


_installed: dict[tuple[str, ...], SupportFinder] = {}


def install(entries: Sequence[Path]) -> None:
    """Make `entries` importable from here on (once per set of entries)."""
    key = tuple(sorted(str(Path(e).resolve()) for e in entries))
    if not key or key in _installed:
        return
    finder = _installed[key] = SupportFinder([Path(e) for e in key])
    sys.meta_path.append(finder)


def files(entries: Sequence[Path]) -> dict[str, bytes]:
    """Every file of the support entries, by its path relative to the folder holding the entry
    (what a sandboxed worker needs to import them): cs231n/__init__.py, cs231n/im2col.py, ..."""
    found: dict[str, bytes] = {}
    for entry in entries:
        paths = [entry] if entry.is_file() else sorted(p for p in entry.rglob("*") if p.is_file())
        for path in paths:
            if "__pycache__" not in path.parts and path.suffix not in (".pyc", ".so", ".pyd"):
                found[str(path.relative_to(entry.parent))] = path.read_bytes()
    return found


class _SourceLoader(importlib.abc.Loader):
    """Runs a support module from its source text (a worker has it in memory, not on disk)."""

    def __init__(self, path: str, source: bytes):
        self.path, self.source = path, source

    def create_module(self, spec: ModuleSpec) -> ModuleType | None:
        return None

    def exec_module(self, module: ModuleType) -> None:
        exec(compile(self.source, self.path, "exec"), module.__dict__)  # noqa: S102 - the course's own module


class SourceFinder(importlib.abc.MetaPathFinder):
    """Finds the support modules in `sources` ({"cs231n/__init__.py": b"...", "helpers.py": b"..."})."""

    def __init__(self, sources: dict[str, bytes]):
        self.sources = sources

    def find_spec(self, fullname: str, path: Sequence[str] | None = None,
                  target: ModuleType | None = None) -> ModuleSpec | None:
        stem = fullname.replace(".", "/")
        for relative, package in ((f"{stem}/__init__.py", True), (f"{stem}.py", False)):
            if relative in self.sources:
                spec = importlib.machinery.ModuleSpec(fullname, _SourceLoader(relative, self.sources[relative]),
                                                      origin=relative, is_package=package)
                spec.has_location = True
                if package:
                    spec.submodule_search_locations = []
                return spec
        return None


def install_sources(sources: dict[str, bytes]) -> None:
    """Make support modules importable from their source text (in a sandboxed worker)."""
    if sources:
        sys.meta_path.append(SourceFinder(dict(sources)))
