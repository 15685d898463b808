"""Grading code written in a notebook (Jupyter, Colab): the verdict shown inline, under the cell.

    from gradcheck_suite import notebook
    notebook.check("exercises/linear", Linear)                        # a torch.autograd.Function class
    notebook.check("exercises/relu_numpy", relu_forward, relu_backward)  # the functional / numpy styles
    notebook.check("exercises/softmax_loss", softmax_loss)            # the loss style: one function
    notebook.check("exercises/relu_numpy", globals())                 # or a namespace: a dict, module or object

The objects are graded in this process exactly as the student's file would be (grading.runner:
the same op, checks, seeds and messages), and the result shows as an HTML table in the notebook
(report.formats.html_fragment). Positional objects are taken in the order the exercise names them
(its class; or its forward then backward function) whatever they are called; a namespace is looked
up by the exercise's own names. The source rules (forbidden calls, autograd in backward) read the
text of the cells that define the objects, when Python can find it (IPython keeps every cell's
text); where it cannot, they are skipped and the result says so, and only the run-time guards
apply. Helpers defined in other cells are not scanned.
"""

from __future__ import annotations

import html
import inspect
import linecache
import os
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, Mapping

from .errors import ConfigError, ConfigProblem, StudentCodeError
from .exercise.load import load_exercise
from .exercise.model import ExerciseSpec
from .exercise.names import EXERCISE_FILE
from .grading.options import RunOptions
from .grading.runner import grade_prepared, prepare_loaded
from .inputs.trial import Trial
from .report import formats
from .report.model import GradeBook
from .report.text import summary_lines
from .student.styles import AUTOGRAD_FUNCTION, LOSS, Style
from .vocabulary import Status

__all__ = ["NotebookResult", "check"]

WHERE = "your notebook"


@dataclass
class NotebookResult:
    """One exercise graded from a notebook: the grade book, and what was not checked."""

    book: GradeBook
    notes: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return bool(self.book.exercises) and all(e.status == Status.PASSED for e in self.book.exercises.values())

    @property
    def score(self) -> float:
        return self.book.score

    @property
    def max_score(self) -> float:
        return self.book.max_score

    def __repr__(self) -> str:
        lines = summary_lines(self.book)
        for exercise in self.book.exercises.values():
            for result in exercise.checks:
                if result.status not in (Status.PASSED, Status.SKIPPED):
                    lines += ["", f"{exercise.name}::{result.check}: {result.status}", result.message]
        return "\n".join(lines + [f"note: {note}" for note in self.notes])

    def _repr_html_(self) -> str:
        """What Jupyter shows: the grade table and each failure, as the HTML report shows them."""
        name = next(iter(self.book.exercises), "")
        notes = "".join(f"<p class='note'>note: {html.escape(note)}</p>" for note in self.notes)
        return formats.html_fragment(self.book, f"gradcheck-suite: {name}", level=3) + notes


def check(exercise: str | os.PathLike, *objects: Any, trials: int | None = None, seed: int | None = None,
          replay: str | None = None) -> NotebookResult:
    """Grade `objects` (see the module's docstring) as the student's code for `exercise`, an
    exercise folder or its exercise.yaml. `trials` / `seed` override the exercise's; `replay` runs
    every check on one example, as a failure's replay line gives it."""
    spec = load_exercise(_exercise_file(Path(exercise)))
    if replay is not None:
        try:
            Trial.parse(replay, spec)
        except ValueError as exc:
            raise ConfigError(spec.path, [ConfigProblem(None, "replay", f"{replay!r}: {exc} (expected an example as "
                                                                         "a failure's replay line gives it)")]) from None
    style = Style.of(spec)
    module = _namespace(spec, style, objects)
    entries = [getattr(module, name) for name in style.entries if hasattr(module, name)]
    source, notes = _sources(entries)
    path = _code_file(entries[0]) if entries else Path(WHERE)
    options = RunOptions(seed=seed, trials=trials, replay=replay, replay_command=_replay_line(exercise))
    book = GradeBook()
    grade_prepared(book, prepare_loaded(spec, module, WHERE, path or Path(WHERE), source), options)
    return NotebookResult(book, notes)


def _exercise_file(path: Path) -> Path:
    target = path / EXERCISE_FILE if path.is_dir() else path
    if not target.is_file():
        raise ConfigError(path, [ConfigProblem(None, "exercise", f"no {EXERCISE_FILE} here: expected an exercise "
                                               f"folder (holding {EXERCISE_FILE}) or the file itself")])
    return target


def _namespace(spec: ExerciseSpec, style: Style, objects: tuple) -> ModuleType:
    """The objects as a module holding the exercise's names, as the student's file would."""
    module = ModuleType("__main__")
    if len(objects) == 1 and _is_namespace(objects[0]):
        given = objects[0]
        values = dict(given) if isinstance(given, Mapping) else vars(given)
        module.__dict__.update({k: v for k, v in values.items() if isinstance(k, str) and not k.startswith("__")})
        return module
    names = [style.name] if style.kind in (AUTOGRAD_FUNCTION, LOSS) else list(style.functions)
    if len(objects) != len(names):
        asks = (f"its class {style.name}" if style.kind == AUTOGRAD_FUNCTION else f"{style.signatures()}")
        raise StudentCodeError(
            f"notebook.check({str(spec.path.parent)!r}, ...) got {len(objects)} object{'s' if len(objects) != 1 else ''}: "
            f"{spec.name} asks for {asks}; pass {', '.join(names)} (in that order), or a namespace such as globals()")
    module.__dict__.update(zip(names, objects))
    return module


def _is_namespace(value: object) -> bool:
    if isinstance(value, (Mapping, ModuleType)):
        return True
    return not callable(value) and hasattr(value, "__dict__")


def _replay_line(exercise: str | os.PathLike):
    def line(spec: ExerciseSpec, check_name: str, example: str) -> str:
        return f"notebook.check({str(exercise)!r}, ..., replay={example!r})"
    return line


# ----------------------------------------------------------------------------- the cells' text

def _code_file(value: object) -> Path | None:
    """The file (or IPython cell name) the object's code was compiled from."""
    for function in _functions(value):
        return Path(function.__code__.co_filename)
    return None


def _functions(value: object) -> list:
    """The plain functions of a function or class (staticmethods unwrapped)."""
    if inspect.isfunction(value):
        return [value]
    if isinstance(value, type):
        found = []
        for member in vars(value).values():
            member = getattr(member, "__func__", member)
            if inspect.isfunction(member):
                found.append(member)
        return found
    return []


def _sources(entries: list) -> tuple[str | None, list[str]]:
    """The text of the cells defining `entries` (each cell once, in order), and notes on any whose
    text could not be found."""
    texts: dict[str, str] = {}
    notes = []
    for value in entries:
        file = _code_file(value)
        text = "".join(linecache.getlines(str(file))) if file is not None else ""
        if not text:
            try:
                text = inspect.getsource(value)
            except (OSError, TypeError) as exc:
                name = getattr(value, "__name__", type(value).__name__)
                notes.append(f"the source rules (forbidden calls, autograd in backward) were not checked for "
                             f"{name}: its source text is not available ({exc}); the run-time guards still apply")
                continue
        texts.setdefault(str(file), text)
    return ("\n".join(texts.values()) if texts else None), notes
