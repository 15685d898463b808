"""Folders as plain data, so that a Dask worker needs no filesystem shared with the client.

A submission travels with its task as a `FolderBundle`: every regular file's bytes, symbolic links
as links (never followed: staging refuses them, as locally) and files over the staging limit as
their size alone (staging reports the size and never reads them), so that the worker's copy is
graded exactly as the folder would be locally. The course travels once per worker (in the worker
plugin) as a `CourseBundle`: the exercise folders graded, and from each course folder above them
its course.yaml and its own modules (top-level `*.py` files and packages), which exercise files may
name as references.
"""

from __future__ import annotations

import hashlib
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import ClusterError
from ..exercise.model import ExerciseSpec
from ..exercise.names import COURSE_FILE
from ..sandbox.staging import MAX_FILE_BYTES

__all__ = ["CourseBundle", "FolderBundle", "MAX_COURSE_BYTES", "course_bundle", "pack_folder"]

SKIPPED_PARTS = {"__pycache__", ".git", ".hypothesis", ".pytest_cache"}  # never graded, possibly large
MAX_COURSE_BYTES = 64 << 20  # the course is held by the scheduler and sent to every worker


@dataclass(frozen=True)
class FolderBundle:
    """A folder's contents by relative path (POSIX separators)."""

    files: dict[str, bytes] = field(default_factory=dict)
    links: dict[str, str] = field(default_factory=dict)  # path -> the link's target, as written
    oversized: dict[str, int] = field(default_factory=dict)  # path -> size: recreated sparse, never sent

    @property
    def size(self) -> int:
        return sum(len(data) for data in self.files.values())

    def unpack(self, destination: Path) -> Path:
        """Write the folder under `destination` (created); nothing is written outside it."""
        destination.mkdir(parents=True, exist_ok=True)
        root = destination.resolve()
        for relative, data in self.files.items():
            _inside(root, relative).parent.mkdir(parents=True, exist_ok=True)
            _inside(root, relative).write_bytes(data)
        for relative, size in self.oversized.items():
            path = _inside(root, relative)
            path.parent.mkdir(parents=True, exist_ok=True)
            with open(path, "wb") as handle:
                handle.truncate(size)
        for relative, target in self.links.items():
            path = _inside(root, relative)
            path.parent.mkdir(parents=True, exist_ok=True)
            os.symlink(target, path)
        return destination


def _inside(root: Path, relative: str) -> Path:
    if Path(relative).is_absolute() or ".." in Path(relative).parts:
        raise ClusterError(f"{relative!r}: a path outside the bundle's folder")
    return root / relative


def pack_folder(folder: Path, skip=SKIPPED_PARTS) -> FolderBundle:
    """Every entry of `folder`, recursively, as `FolderBundle` describes; other kinds of file (a FIFO,
    a socket) are left out, as staging would refuse them anyway."""
    bundle = FolderBundle()
    for entry in sorted(folder.rglob("*")):
        relative = entry.relative_to(folder)
        if any(part in skip for part in relative.parts):
            continue
        info = entry.lstat()
        key = relative.as_posix()
        if stat.S_ISLNK(info.st_mode):
            bundle.links[key] = os.readlink(entry)
        elif stat.S_ISREG(info.st_mode):
            if info.st_size > MAX_FILE_BYTES:
                bundle.oversized[key] = info.st_size
            else:
                bundle.files[key] = entry.read_bytes()
    return bundle


@dataclass(frozen=True)
class CourseBundle:
    """The exercises of a batch, laid out as course folders `0/`, `1/`, ... (one per folder above the
    exercise folders); `exercise_files`: each spec's exercise.yaml, relative, in the batch's order."""

    folder: FolderBundle
    exercise_files: tuple[str, ...]

    @property
    def digest(self) -> str:
        """What identifies the course on a worker (the same files, the same digest)."""
        hashed = hashlib.sha256()
        for relative in sorted(self.folder.files):
            hashed.update(relative.encode() + b"\0" + hashlib.sha256(self.folder.files[relative]).digest())
        for relative in sorted(self.folder.links):
            hashed.update(b"link:" + relative.encode() + b"\0" + self.folder.links[relative].encode())
        hashed.update("\n".join(self.exercise_files).encode())
        return hashed.hexdigest()


def course_bundle(specs: list[ExerciseSpec]) -> CourseBundle:
    """The files the specs were loaded from; ClusterError when the course is over MAX_COURSE_BYTES."""
    roots: list[Path] = []
    bundle = FolderBundle()
    exercise_files = []
    for spec in specs:
        exercise = Path(spec.path).resolve()
        root = exercise.parent.parent
        if root not in roots:
            roots.append(root)
            _add(bundle, str(len(roots) - 1), _course_level(root))
        prefix = f"{roots.index(root)}/{exercise.parent.name}"
        _add(bundle, prefix, pack_folder(exercise.parent))
        exercise_files.append(f"{prefix}/{exercise.name}")
    if bundle.size > MAX_COURSE_BYTES:
        raise ClusterError(f"the exercises' folders hold {bundle.size} bytes, more than the {MAX_COURSE_BYTES} "
                           "a batch sends to its workers; keep data files out of the exercise folders")
    return CourseBundle(bundle, tuple(exercise_files))


def _course_level(root: Path) -> FolderBundle:
    """course.yaml and the course's own modules (top-level *.py files and packages) of a course folder."""
    found = FolderBundle()
    for entry in sorted(root.iterdir()):
        if entry.name.startswith(".") or entry.is_symlink():
            continue
        if entry.is_file() and (entry.name == COURSE_FILE or entry.suffix == ".py"):
            found.files[entry.name] = entry.read_bytes()
        elif entry.is_dir() and (entry / "__init__.py").is_file():
            _add(found, entry.name, pack_folder(entry))
    return found


def _add(bundle: FolderBundle, prefix: str, part: FolderBundle) -> None:
    bundle.files.update({f"{prefix}/{k}": v for k, v in part.files.items()})
    bundle.links.update({f"{prefix}/{k}": v for k, v in part.links.items()})
    bundle.oversized.update({f"{prefix}/{k}": v for k, v in part.oversized.items()})
