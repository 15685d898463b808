"""`gradcheck-suite release SRC DEST`: the student version of an instructor's course folder.

SRC holds one folder per exercise: exercise.yaml and the student file written as the solution,
with `# BEGIN SOLUTION` / `# END SOLUTION` lines around the code students write (optionally
`# BEGIN SOLUTION: message`), plus any other files (copied as they are); optionally course.yaml.
In the YAML files, `# BEGIN HIDDEN` / `# END HIDDEN` regions are for the autograder only.

The release is built in a temporary folder and checked there: every exercise file validates (as
the instructor wrote it and without its hidden regions), the markers are well formed, the
solution passes every check, the released stub compiles and scores nothing. Only then is the
result moved to DEST, so that a refused release leaves DEST as it was. DEST also gets the
requirements.txt students install from (environment.py) and, with --wheel, the wheel it names.
"""

from __future__ import annotations

import ast
import os
import re
import shutil
import tempfile
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from ..errors import ConfigError, ConfigProblem, MarkerError, ReleaseMisuse
from ..exercise.load import load_exercise, with_overrides
from ..exercise.model import ExerciseSpec
from ..exercise.names import COURSE_FILE, EXERCISE_FILE
from ..grading.options import RunOptions
from ..grading.runner import grade_submission, skip_reason
from ..report.model import ExerciseResult
from ..report.text import plural
from ..vocabulary import Status
from .environment import REQUIREMENTS_FILE, build_wheel, check_wheel, requirements_text

CACHES = ("__pycache__", "*.pyc", ".pytest_cache", ".hypothesis")
_MARKER = re.compile(r"^(?P<indent>[ \t]*)#+\s*(?P<edge>BEGIN|END)\s+(?P<kind>SOLUTION|HIDDEN)\b(?P<rest>.*?)\s*$",
                     re.IGNORECASE)
_MODELINE = re.compile(r"^(?P<head>#\s*yaml-language-server:\s*\$schema=)(?P<target>\S+)(?P<tail>.*)$")






# ----------------------------------------------------------------------------- markers

@dataclass(frozen=True)
class Region:
    begin: int  # 1-based lines of the BEGIN and END markers
    end: int
    indent: str
    message: str | None


def find_regions(lines: list[str], kind: str, where: str) -> list[Region]:
    """The `# BEGIN <kind>` ... `# END <kind>` regions of `lines`; MarkerError listing every
    problem (with `where:line`) when they are not well formed."""
    problems: list[str] = []
    regions: list[Region] = []
    opened: list[tuple[int, str, str | None]] = []
    for number, line in enumerate(lines, 1):
        match = _MARKER.match(line.rstrip("\r\n"))
        if match is None or match["kind"].upper() != kind:
            continue
        rest = match["rest"]
        if match["edge"].upper() == "BEGIN":
            if rest and not rest.startswith(":"):
                problems.append(f"{where}:{number}: expected '# BEGIN {kind}' or '# BEGIN {kind}: message', "
                                f"got {line.strip()!r}")
            if opened:
                problems.append(f"{where}:{number}: BEGIN {kind} inside the region opened at line {opened[-1][0]}; "
                                "regions cannot be nested")
            message = rest[1:].strip() if rest.startswith(":") else ""
            opened.append((number, match["indent"], message or None))
            continue
        if rest:
            problems.append(f"{where}:{number}: expected '# END {kind}' alone on its line, got {line.strip()!r}")
        if not opened:
            problems.append(f"{where}:{number}: END {kind} without a BEGIN {kind} before it")
            continue
        begin, indent, message = opened.pop()
        if not opened:
            regions.append(Region(begin, number, indent, message))
    for begin, _, _ in opened:
        problems.append(f"{where}:{begin}: BEGIN {kind} is never closed (no END {kind} after it)")
    if problems:
        raise MarkerError(problems)
    return regions


def marker_lines(text: str, where: str) -> list[str]:
    """`where:line` of every marker in `text` (for files that are copied as they are)."""
    return [f"{where}:{n}" for n, line in enumerate(text.splitlines(), 1) if _MARKER.match(line)]


@dataclass(frozen=True)
class Transformed:
    """A released file's text, and for each of its lines the source line it came from."""

    text: str
    origin: tuple[int, ...]
    regions: int

    def source_line(self, line: int | None) -> int | None:
        if line is None or not 1 <= line <= len(self.origin):
            return line
        return self.origin[line - 1]


def stub_source(text: str, where: str) -> Transformed:
    """The solution with each SOLUTION region replaced by `raise NotImplementedError(...)` at the
    BEGIN marker's indentation. The solution must parse (SyntaxError otherwise): a region's default
    message names the function it is in."""
    lines = text.splitlines(keepends=True)
    regions = find_regions(lines, "SOLUTION", where)
    owner = _function_at(ast.parse(text, filename=where), Path(where).name)
    out: list[str] = []
    origin: list[int] = []
    starts = {r.begin: r for r in regions}
    skip_to = 0
    for number, line in enumerate(lines, 1):
        if number <= skip_to:
            continue
        region = starts.get(number)
        if region is None:
            out.append(line)
            origin.append(number)
            continue
        message = region.message or f"{owner(number)}: not implemented yet"
        out.append(f"{region.indent}raise NotImplementedError({_python_string(message)})\n")
        origin.append(number)
        skip_to = region.end
    return Transformed("".join(out), tuple(origin), len(regions))


def _function_at(tree: ast.AST, module: str) -> Callable[[int], str]:
    """line -> the qualified name of the innermost function or class around it (else the module's)."""
    spans: list[tuple[int, int, str]] = []

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                name = f"{prefix}{child.name}"
                spans.append((child.lineno, child.end_lineno or child.lineno, name))
                visit(child, f"{name}.")

    visit(tree, "")

    def owner(line: int) -> str:
        around = [s for s in spans if s[0] <= line <= s[1]]
        return max(around, key=lambda s: s[0])[2] if around else module

    return owner


def _python_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def student_yaml(text: str, where: str, source_dir: Path, target_dir: Path) -> Transformed:
    """The YAML without its HIDDEN regions (marker lines included), with a relative schema
    modeline on the first line made relative to `target_dir` instead of `source_dir`."""
    lines = text.splitlines(keepends=True)
    regions = find_regions(lines, "HIDDEN", where)
    hidden = {n for r in regions for n in range(r.begin, r.end + 1)}
    kept = [(n, line) for n, line in enumerate(lines, 1) if n not in hidden]
    if kept and kept[0][0] == 1:
        kept[0] = (1, rewrite_modeline(kept[0][1], source_dir, target_dir))
    return Transformed("".join(line for _, line in kept), tuple(n for n, _ in kept), len(regions))


def rewrite_modeline(line: str, source_dir: Path, target_dir: Path) -> str:
    """`# yaml-language-server: $schema=REL` pointing at the same schema file from `target_dir`;
    any other line, an absolute path or a URL, as it is."""
    body = line.rstrip("\r\n")
    match = _MODELINE.match(body)
    if match is None or "://" in match["target"] or os.path.isabs(match["target"]):
        return line
    schema = os.path.normpath(os.path.join(os.path.abspath(source_dir), match["target"]))
    try:
        target = Path(os.path.relpath(schema, os.path.abspath(target_dir))).as_posix()
    except ValueError:  # another drive (Windows): no relative path exists
        target = Path(schema).as_posix()
    return f"{match['head']}{target}{match['tail']}{line[len(body):]}"


# ----------------------------------------------------------------------------- the release

@dataclass
class ExerciseReport:
    folder: str
    problems: list[str] = field(default_factory=list)
    summary: str = ""

    def lines(self) -> list[str]:
        if not self.problems:
            return [f"{self.folder}: ok ({self.summary})"]
        return [f"{self.folder}: refused"] + [f"  - {p}".replace("\n", "\n    ") for p in self.problems]


class _Release:
    """Stages the student version of SRC in `stage` and checks it; `dest` is where it will go."""

    def __init__(self, src: Path, stage: Path, dest: Path, options: RunOptions):
        self.src, self.stage, self.dest, self.options = src, stage, dest, options
        self.origins: dict[Path, tuple[Path, Transformed]] = {}  # staged YAML -> (source, line map)

    def stage_course_files(self, exercise_folders: list[Path]) -> list[str]:
        """course.yaml and every file outside the exercise folders; the problems found."""
        problems: list[str] = []
        for path in _files(self.src, skip=set(exercise_folders)):
            if path.relative_to(self.src) == Path(COURSE_FILE):
                problems += self._stage_yaml(path)
            else:
                problems += self._copy(path)
        return problems

    def release_exercise(self, folder: Path) -> ExerciseReport:
        report = ExerciseReport(folder.name)
        spec = self._load(folder / EXERCISE_FILE, report, "as the instructor wrote it")
        for path in _files(folder):
            if path == folder / EXERCISE_FILE:
                report.problems += self._stage_yaml(path)
            elif _is_solution(path, folder, spec):
                report.problems += self._stage_stub(path)
            else:
                report.problems += self._copy(path)
        if spec is None or report.problems:
            return report
        solution = folder / spec.student_file
        if not solution.is_file():
            report.problems.append(f"{solution}: not found (student.file of {folder / EXERCISE_FILE})")
            return report
        released = self._load(self._staged(folder / EXERCISE_FILE), report,
                              "as released, without its hidden regions")
        if released is None:
            return report
        graded = self._grade(spec, folder)
        failing = [c for c in graded.checks if c.status != Status.PASSED]
        for check in failing:
            report.problems.append(f"{solution}: the solution fails check '{check.check}' ({check.status}): "
                                   + _excerpt(check.message))
        stub = self._grade(released, self._staged(folder))
        if stub.score > 0 or stub.status == Status.PASSED:
            passed = ", ".join(c.check for c in stub.checks if c.status == Status.PASSED)
            verdict = "passes the exercise" if stub.status == Status.PASSED else \
                f"scores {stub.score:g} / {stub.max_score:g}"
            report.problems.append(
                f"{solution}: the released stub still {verdict} (checks it passes: {passed}); put the code "
                "students must write between '# BEGIN SOLUTION' and '# END SOLUTION' lines")
        if not report.problems:
            report.summary = (f"the solution passes its {len(graded.checks)} checks; the stub scores "
                              f"0 / {stub.max_score:g}")
        return report

    # -- staging

    def _staged(self, path: Path) -> Path:
        return self.stage / path.relative_to(self.src)

    def _write(self, path: Path, text: str) -> Path:
        target = self._staged(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        return target

    def _stage_yaml(self, path: Path) -> list[str]:
        final_dir = self.dest / path.parent.relative_to(self.src)
        try:
            released = student_yaml(path.read_text(encoding="utf-8"), str(path), path.parent, final_dir)
        except MarkerError as exc:
            return exc.problems
        self.origins[self._write(path, released.text)] = (path, released)
        return []

    def _stage_stub(self, path: Path) -> list[str]:
        try:
            stub = stub_source(path.read_text(encoding="utf-8"), str(path))
        except MarkerError as exc:
            return exc.problems
        except SyntaxError as exc:
            return [f"{path}:{exc.lineno}: the solution does not compile: {exc.msg}"]
        try:
            compile(stub.text, str(path), "exec")
        except SyntaxError as exc:
            return [f"{path}:{stub.source_line(exc.lineno)}: the released stub does not compile: {exc.msg} "
                    "(is the BEGIN SOLUTION marker indented like the code it replaces?)"]
        self._write(path, stub.text)
        return []

    def _copy(self, path: Path) -> list[str]:
        try:
            markers = marker_lines(path.read_text(encoding="utf-8"), str(path))
        except UnicodeDecodeError:
            markers = []
        if markers:
            return [f"{where}: a SOLUTION or HIDDEN marker in a file that is released as it is "
                    "(only the exercise's student file and its YAML are stripped)" for where in markers]
        target = self._staged(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)
        return []

    # -- checking

    def _load(self, path: Path, report: ExerciseReport, version: str) -> ExerciseSpec | None:
        try:
            return load_exercise(path)
        except ConfigError as exc:
            report.problems += [f"{line} ({version})" for line in self._config_problems(exc)]
            return None

    def _config_problems(self, exc: ConfigError) -> list[str]:
        """The error's lines, for a staged file in terms of its source file and source lines."""
        source, transformed = self.origins.get(Path(exc.path), (exc.path, None))
        if transformed is None:
            return [p.render(source) for p in exc.problems]
        return [ConfigProblem(transformed.source_line(p.line), p.field, p.expected).render(source)
                for p in exc.problems]

    def _grade(self, spec: ExerciseSpec, folder: Path) -> ExerciseResult:
        if skip_reason(spec):  # a CUDA exercise: the release is checked on the CPU here
            spec = with_overrides(spec, device="cpu")
        return grade_submission([spec], folder, options=self.options).exercises[spec.name]


def _is_solution(path: Path, folder: Path, spec: ExerciseSpec | None) -> bool:
    if spec is None:  # the YAML is invalid, the student file unknown: check every Python file as one
        return path.suffix == ".py"
    return path == folder / spec.student_file


def _files(root: Path, skip: AbstractSet[Path] = frozenset()) -> list[Path]:
    """Every file under `root`, caches and the folders in `skip` left out."""
    found = []
    for path in sorted(root.iterdir()):
        if path in skip or any(path.match(pattern) for pattern in CACHES):
            continue
        found += _files(path) if path.is_dir() else [path]
    return found


def _excerpt(message: str, lines: int = 2) -> str:
    return "\n".join(message.splitlines()[:lines])


def check_paths(src: Path, dest: Path, force: bool) -> list[Path]:
    """The exercise folders of SRC; ReleaseMisuse when SRC or DEST cannot be used."""
    if not src.is_dir():
        raise ReleaseMisuse(f"{src}: not a folder")
    inside = src.resolve(), dest.resolve()
    if inside[0] == inside[1] or inside[0] in inside[1].parents or inside[1] in inside[0].parents:
        raise ReleaseMisuse(f"{dest}: must be outside {src}, and {src} outside it")
    if dest.exists() and not dest.is_dir():
        raise ReleaseMisuse(f"{dest}: exists and is not a folder")
    if dest.is_dir() and any(dest.iterdir()) and not force:
        raise ReleaseMisuse(f"{dest}: not empty; pass --force to replace its contents")
    folders = sorted(p.parent for p in src.glob(f"*/{EXERCISE_FILE}"))
    if not folders:
        raise ReleaseMisuse(f"{src}: no <exercise>/{EXERCISE_FILE} in it")
    return folders


def install(stage: Path, dest: Path) -> None:
    """Put the staged tree at `dest`, replacing what was there, with renames in dest's folder."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    incoming = Path(tempfile.mkdtemp(prefix=f".{dest.name}.release-", dir=dest.parent))
    try:
        tree = incoming / "tree"
        shutil.copytree(stage, tree, ignore=shutil.ignore_patterns(*CACHES))
        old = incoming / "old"
        if dest.exists():
            os.replace(dest, old)
        try:
            os.replace(tree, dest)
        except OSError:
            if old.exists():
                os.replace(old, dest)
            raise
    finally:
        shutil.rmtree(incoming, ignore_errors=True)


def release(src: Path, dest: Path, force: bool = False, options: RunOptions = RunOptions(),
            echo: Callable[[str], None] = print, requirements: bool = True, wheel: Path | bool = False) -> bool:
    """Check and write the student version of `src` to `dest`; False (DEST untouched) when refused.
    ReleaseMisuse when the paths cannot be used.

    With `requirements`, DEST also gets the requirements.txt students install from (CPU torch in the
    range checked here, and this gradcheck-suite's wheel), unless SRC has its own; with `wheel`
    (True: built from the installed source, or a wheel file), the wheel itself beside it."""
    src, dest = Path(src), Path(dest)
    folders = check_paths(src, dest, force)
    if isinstance(wheel, Path):
        check_wheel(wheel)
    with tempfile.TemporaryDirectory(prefix="gradcheck-release-") as tmp:
        course = _Release(src, Path(tmp) / "course", dest, options)
        shared = course.stage_course_files(folders)
        reports = [course.release_exercise(folder) for folder in folders]
        for line in [f"course files: {p}" for p in shared] + [l for r in reports for l in r.lines()]:
            echo(line)
        refused = [r for r in reports if r.problems]
        if shared or refused:
            echo(f"release refused: {len(refused)} of {plural(len(reports), 'exercise')} {'has' if len(refused) == 1 else 'have'} problems"
                 + (", and the course files" if shared else "") + f"; {dest} was not touched")
            return False
        stage = Path(tmp) / "course"
        shipped = None
        if wheel is not False:
            shipped = build_wheel(stage, wheel if isinstance(wheel, Path) else None).name
            echo(f"environment: {shipped} beside {REQUIREMENTS_FILE}")
        if requirements and not (src / REQUIREMENTS_FILE).exists():
            (stage / REQUIREMENTS_FILE).write_text(requirements_text(wheel=shipped), encoding="utf-8")
        install(stage, dest)
    echo(f"released {plural(len(reports), 'exercise')} from {src} to {dest}")
    return True
