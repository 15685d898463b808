"""`gradcheck-suite build-autograder SRC --platform P --out PATH`: the bundle a grading platform takes.

From the instructor's course source (solutions between markers, hidden regions), after the release
checks pass (release.py, in a temporary folder), the bundle holds:

- exercises/: the released course (the stubs, never the solutions; the support modules and
  references beside course.yaml) with the instructor's exercise.yaml and course.yaml, hidden
  checks included, on the platforms students cannot read (Gradescope, PrairieLearn);
- manifest.json (grading.manifest): every exercise and its points, so that an exercise that cannot
  be read is still reported, with its points in the maximum;
- secret-seed (grading.seeds): the trials the autograder draws, which students never run;
- the pinned environment (environment.py): the gradcheck-suite wheel, requirements.txt with a CPU
  torch range, and the platform's entry scripts (platforms/<platform>/).

GitHub Classroom runs its workflow in the student's own repository, where students can read and
edit everything, so its bundle is the released course alone: no hidden checks, no secret.

Before anything is written, every file of the bundle, archives unpacked, is scanned for solution
lines: a line inside a SOLUTION region that students are not given anyway (in the released stubs or
in gradcheck-suite itself). The bundle is built in a temporary folder and moved to PATH only when
everything passed, so that a refused build leaves PATH as it was.
"""

from __future__ import annotations

import io
import json
import shutil
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from ..errors import ConfigError, MarkerError
from ..exercise.load import load_exercise
from ..exercise.names import COURSE_FILE, EXERCISE_FILE
from ..grading.manifest import MANIFEST_FILE, manifest_json
from ..grading.options import RunOptions
from ..grading.seeds import fingerprint, new_secret, read_secret
from ..report.text import plural
from .environment import REQUIREMENTS_FILE, build_wheel, check_wheel, requirements_text
from .release import CACHES, check_paths, find_regions, install, release

__all__ = ["PLATFORMS", "SECRET_FILE", "build_autograder", "solution_lines", "leaks"]

PLATFORMS = ("gradescope", "github-classroom", "prairielearn")
SECRET_FILE = "secret-seed"
COURSE_FOLDER = "exercises"  # the course's folder in every bundle, as the entry scripts name it
TEMPLATES = Path(__file__).parent / "platforms"
PACKAGE = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Layout:
    """Where each part of a platform's bundle goes, relative to PATH."""

    course: str  # the folder holding exercises/, manifest.json and secret-seed
    environment: str  # the folder holding requirements.txt and the wheel
    scripts: dict[str, str]  # template file -> its place in the bundle
    hidden: bool  # the instructor's YAML (hidden checks) and a secret seed: only where students cannot read them
    zipped: str | None = None  # the archive the whole bundle goes in (Gradescope's autograder.zip)


LAYOUTS = {
    "gradescope": Layout(".", ".", {"setup.sh": "setup.sh", "run_autograder": "run_autograder"}, hidden=True,
                         zipped="autograder.zip"),
    "prairielearn": Layout("tests", "image", {"run.sh": "tests/run.sh", "Dockerfile": "image/Dockerfile"},
                           hidden=True),
    "github-classroom": Layout(".", ".", {"classroom.yml": ".github/workflows/classroom.yml"}, hidden=False),
}


def build_autograder(src: Path, out: Path, platform: str, *, force: bool = False, options: RunOptions = RunOptions(),
                     wheel: Path | None = None, secret_file: Path | None = None,
                     echo: Callable[[str], None] = print) -> bool:
    """Check `src` as release does and write `platform`'s bundle to `out`; False (PATH untouched)
    when refused. ReleaseMisuse when the paths cannot be used, BundleError when the environment
    cannot be pinned (no wheel) or a given secret cannot be read."""
    src, out = Path(src), Path(out)
    layout = LAYOUTS[platform]
    folders = check_paths(src, out, force)
    if wheel is not None:
        check_wheel(wheel)
    secret = read_secret(secret_file) if secret_file is not None and layout.hidden else None
    with tempfile.TemporaryDirectory(prefix="gradcheck-bundle-") as tmp:
        released = Path(tmp) / "released"
        if not release(src, released, options=options, echo=lambda line: _echo_release(line, echo),
                       requirements=False):
            echo(f"build-autograder refused: the release checks failed; {out} was not touched")
            return False
        stage = Path(tmp) / "bundle"
        course = stage / layout.course / COURSE_FOLDER
        shutil.copytree(released, course, ignore=shutil.ignore_patterns(*CACHES))
        if layout.hidden:
            _restore_hidden_regions(src, course, folders)
        problems = _write_manifest(course, folders, stage / layout.course / MANIFEST_FILE)
        if problems:
            for line in problems:
                echo(line)
            echo(f"build-autograder refused: the bundle's exercise files do not load; {out} was not touched")
            return False
        if layout.hidden:
            secret = secret or new_secret()
            (stage / layout.course / SECRET_FILE).write_text(secret + "\n", encoding="utf-8")
        environment = stage / layout.environment
        built = build_wheel(environment, wheel)
        (environment / REQUIREMENTS_FILE).write_text(requirements_text(wheel=built.name), encoding="utf-8")
        for template, place in layout.scripts.items():
            target = stage / place
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(TEMPLATES / platform / template, target)
            if target.read_bytes().startswith(b"#!"):  # a script the platform runs, whatever mode it was installed with
                target.chmod(0o755)
        found = leaks(stage, solution_lines(src, released))
        if found:
            for where, line in found[:20]:
                echo(f"{where}: solution line {line!r}")
            echo(f"build-autograder refused: {plural(len(found), 'solution line')} in the bundle (a course file "
                 f"copies the solution?); {out} was not touched")
            return False
        final = stage
        if layout.zipped:
            final = Path(tmp) / "zipped"
            final.mkdir()
            _zip(stage, final / layout.zipped)
        install(final, out)
    what = f"{out / layout.zipped}" if layout.zipped else str(out)
    hidden = f"hidden checks kept, secret seed {fingerprint(secret)}" if secret else "no hidden checks, no secret"
    echo(f"built the {platform} autograder of {plural(len(folders), 'exercise')} from {src}: {what} "
         f"({hidden}; {built.name})")
    return True


def _echo_release(line: str, echo: Callable[[str], None]) -> None:
    """The release's report, but for its last line, which names the temporary folder."""
    if not line.startswith("released "):
        echo(line)


def _restore_hidden_regions(src: Path, course: Path, folders: list[Path]) -> None:
    """The instructor's exercise.yaml and course.yaml, hidden regions included, over the released ones."""
    for path in [folder / EXERCISE_FILE for folder in folders] + [src / COURSE_FILE]:
        if path.is_file():
            shutil.copy2(path, course / path.relative_to(src))


def _write_manifest(course: Path, folders: list[Path], target: Path) -> list[str]:
    """manifest.json from the exercises as the bundle holds them; the problems of any that do not load."""
    specs, problems = [], []
    for folder in folders:
        try:
            specs.append(load_exercise(course / folder.name / EXERCISE_FILE))
        except ConfigError as exc:
            problems.append(str(exc))
    if not problems:
        target.write_text(json.dumps(manifest_json(specs), indent=2) + "\n", encoding="utf-8")
    return problems


def _zip(root: Path, target: Path) -> None:
    """Every file under `root` at the archive's root, modes kept (run_autograder stays executable)."""
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(root.rglob("*")):
            if path.is_file():
                archive.write(path, path.relative_to(root).as_posix())


# ----------------------------------------------------------------------------- the solution-line scan

def solution_lines(src: Path, released: Path) -> dict[str, str]:
    """Each line inside a SOLUTION region of `src` (stripped; blank and comment lines left out) that
    students are not given anyway, and the file it is from. Given anyway: the lines of the released
    stubs (in `released`, the release of `src`) and of gradcheck-suite's own source, which every
    student installs. Other released files do not count as given: a course file that copies a
    solution is the leak this scan is for."""
    solutions: dict[Path, tuple[list[str], list]] = {}
    for path in sorted(src.rglob("*.py")):
        if any(path.match(pattern) for pattern in CACHES):
            continue
        lines = path.read_text(encoding="utf-8").splitlines()
        try:
            regions = find_regions(lines, "SOLUTION", str(path))
        except MarkerError:  # the release checks refuse these before any scan
            continue
        if regions:
            solutions[path] = (lines, regions)
    given = _lines_under(PACKAGE)
    for path in solutions:
        stub = released / path.relative_to(src)
        if stub.is_file():
            given |= {line.strip() for line in stub.read_text(encoding="utf-8").splitlines()}
    found: dict[str, str] = {}
    for path, (lines, regions) in solutions.items():
        for region in regions:
            for line in lines[region.begin:region.end - 1]:
                code = line.strip()
                if code and not code.startswith("#") and code not in given:
                    found.setdefault(code, str(path))
    return found


def leaks(root: Path, solution: dict[str, str]) -> list[tuple[str, str]]:
    """(file, line) for every solution line in a file under `root`, archives (zip, wheel) unpacked;
    an archive's member is named `archive!member`."""
    found = []
    for where, data in _contents(root):
        for line in data.decode("utf-8", errors="replace").splitlines():
            if line.strip() in solution:
                found.append((where, line.strip()))
    return found


def _contents(root: Path) -> Iterator[tuple[str, bytes]]:
    for path in sorted(root.rglob("*")):
        if path.is_file():
            yield from _unpacked(str(path.relative_to(root)), path.read_bytes())


def _unpacked(where: str, data: bytes) -> Iterator[tuple[str, bytes]]:
    """The file, or, for a zip archive (a wheel is one), each of its members, recursively."""
    if data[:4] == b"PK\x03\x04":
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            for member in archive.namelist():
                if not member.endswith("/"):
                    yield from _unpacked(f"{where}!{member}", archive.read(member))
        return
    yield where, data


def _lines_under(root: Path) -> set[str]:
    """The stripped lines of every text file under `root`."""
    lines: set[str] = set()
    for path in root.rglob("*"):
        if path.is_file() and not any(path.match(pattern) for pattern in CACHES):
            try:
                lines.update(line.strip() for line in path.read_text(encoding="utf-8").splitlines())
            except UnicodeDecodeError:
                continue
    return lines
