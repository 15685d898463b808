"""manifest.json: the exercises an autograder bundle grades and their points, written when it is built.

A grading run reports every exercise of the manifest: one whose file cannot be read, whose
reference cannot be imported, or that is missing altogether is an error carrying the manifest's
points in the maximum, so that a broken exercise never raises a student's share of the points.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ..errors import GradcheckSuiteError
from ..exercise.model import ExerciseSpec
from ..report.model import GradeBook

__all__ = ["MANIFEST_FILE", "ManifestEntry", "ManifestError", "complete", "manifest_json", "read_manifest"]

MANIFEST_FILE = "manifest.json"
FORMAT = 1


class ManifestError(GradcheckSuiteError):
    """A manifest.json that cannot be read, or does not hold what build-autograder writes."""


@dataclass(frozen=True)
class ManifestEntry:
    name: str
    folder: str  # the exercise's folder in the course, which may differ from its name
    points: float
    student_file: str


def manifest_json(specs: Iterable[ExerciseSpec]) -> dict:
    """The manifest of a course's exercises, as JSON data."""
    entries = [{"name": s.name, "folder": s.directory.name, "points": s.points, "student_file": s.student_file}
               for s in specs]
    return {"format": FORMAT, "total_points": sum(e["points"] for e in entries), "exercises": entries}


def read_manifest(path: Path | str) -> list[ManifestEntry]:
    """The manifest's exercises; ManifestError naming the file and the field when it is not one."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ManifestError(f"{path}: cannot read the manifest ({exc.strerror or exc})") from None
    except ValueError as exc:
        raise ManifestError(f"{path}: not valid JSON ({exc})") from None
    if not isinstance(data, dict) or not isinstance(data.get("exercises"), list):
        raise ManifestError(f"{path}: expected an object with a list 'exercises', as build-autograder writes it")
    entries = []
    for index, item in enumerate(data["exercises"]):
        where = f"{path}: exercises[{index}]"
        if not isinstance(item, dict):
            raise ManifestError(f"{where}: expected an object with name, folder, points, student_file")
        for key, kind in (("name", str), ("folder", str), ("student_file", str), ("points", (int, float))):
            if not isinstance(item.get(key), kind) or isinstance(item.get(key), bool):
                raise ManifestError(f"{where}.{key}: expected a {'number' if key == 'points' else 'string'}, "
                                    f"got {item.get(key)!r}")
        if item["points"] < 0:
            raise ManifestError(f"{where}.points: expected points >= 0, got {item['points']!r}")
        entries.append(ManifestEntry(item["name"], item["folder"], float(item["points"]), item["student_file"]))
    return entries


def complete(book: GradeBook, manifest: list[ManifestEntry]) -> GradeBook:
    """`book` with every exercise of the manifest in it: one that could not be read keeps the
    manifest's points (its own file may have said less, or nothing), one the run never met is added
    as an error with its points. Exercises the manifest does not list are left as they are."""
    for entry in manifest:
        result = book.exercises.get(entry.name) or book.exercises.get(entry.folder)
        if result is None:
            result = book.exercise(entry.name, entry.name, entry.points, ())
            result.config_error = (f"{entry.folder}/: listed in {MANIFEST_FILE} with {entry.points:g} points, "
                                   "but no exercise file of that name was graded (is it missing from the bundle?)")
        elif result.config_error is not None:
            result.max_score = entry.points
    return book
