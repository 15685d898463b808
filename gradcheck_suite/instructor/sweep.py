"""`gradcheck-suite check-tolerances`: does a correct solution ever fail the checks?

Each exercise's solution runs through every trial-based check (checks.TRIAL_CHECKS) on many
seeded trials (strategies.seeded_trials: the same space Hypothesis draws from, without its search
and shrinking, which would cost more than the checks at this count), in the exercise's dtype and in
any other dtype asked for. A failure on a correct solution means a tolerance too tight for the
exercise's numerics (or a domain that lets samples land on a kink): the report names the check,
the worst margin and an example to replay with pytest.
"""

from __future__ import annotations

import math
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from ..checks.registry import TRIAL_CHECKS, trial_check
from ..checks.subject import ExerciseUnderTest
from ..checks.verdicts import CheckFailure, KinkCrossed
from ..errors import SolutionError
from ..exercise.load import with_overrides
from ..exercise.model import ExerciseSpec
from ..grading.runner import prepare, skip_reason, student_path
from ..inputs.params import drawn_for
from ..inputs.strategies import seeded_trials
from ..inputs.trial import Trial
from ..report.text import plural


@dataclass(frozen=True, order=True)
class Margin:
    """How far past its tolerance the worst element of a failure is."""

    ratio: float  # error / allowed (inf when nothing is allowed or the value is not finite)
    error: float
    allowed: float

    @classmethod
    def of(cls, error: float, allowed: float) -> "Margin":
        return cls(error / allowed if allowed > 0 else math.inf, error, allowed)

    def describe(self) -> str:
        if math.isinf(self.error):
            return "a NaN or infinite value"
        times = f"{self.ratio:.3g}x" if math.isfinite(self.ratio) else "none allowed"
        return f"error {self.error:.3g} where {self.allowed:.3g} is allowed ({times})"


@dataclass(frozen=True)
class Failure:
    trial: Trial
    message: str
    margin: Margin | None  # of the worst element named in the message

    def line(self, check: str) -> str:
        return f"{check} [{self.trial.describe()}]: {self.message}"


@dataclass
class CheckTally:
    trials: int = 0
    kinks: int = 0  # trials redrawn: a finite-difference step crossed a kink
    failures: list[Failure] = field(default_factory=list)

    @property
    def worst(self) -> Failure | None:
        if not self.failures:
            return None
        return max(self.failures, key=lambda f: (f.margin is not None, f.margin or 0))


@dataclass
class Sweep:
    spec: ExerciseSpec
    checks: dict[str, CheckTally]

    @property
    def kinks(self) -> int:
        return sum(t.kinks for t in self.checks.values())

    @property
    def failures(self) -> list[str]:
        """One line per failure: `check [trial]: message`."""
        return [f.line(check) for check, tally in self.checks.items() for f in tally.failures]


def margin(failure: CheckFailure) -> Margin | None:
    """The worst margin among the comparisons that failed; None where the failure measured none
    (a wrong shape, a rule broken)."""
    margins = [Margin.of(math.inf if m.kind != "values" else m.abs_err, m.allowed if m.kind == "values" else 0.0)
               for m in failure.mismatches]
    return max(margins) if margins else None


def load_solution(spec: ExerciseSpec, folder: Path) -> ExerciseUnderTest:
    """The solution in `folder` (named as the exercise's student file), loaded in-process."""
    exercise = prepare(spec, folder)
    if exercise.load_error:
        raise SolutionError(f"{exercise.student_path}: {exercise.load_error}")
    return exercise


def sweep(exercise: ExerciseUnderTest, count: int, seed: int) -> Sweep:
    """Every trial-based check of the exercise on `count` trials drawn with `seed`."""
    checks = [c for c in exercise.spec.checks if c in TRIAL_CHECKS]
    tallies = {check: CheckTally() for check in checks}
    for trial in seeded_trials(exercise.spec, count, seed):
        for check in checks:
            if not drawn_for(exercise.spec, check, trial.params):
                continue  # a choice only some checks draw (CS231n's test mode: the forward alone)
            tally = tallies[check]
            tally.trials += 1
            try:
                trial_check(exercise.spec, check)(exercise, trial)
            except KinkCrossed:
                tally.kinks += 1
            except CheckFailure as failure:
                tally.failures.append(Failure(trial, failure.message, margin(failure)))
    return Sweep(exercise.spec, tallies)


def find_solution(spec: ExerciseSpec, solutions: Path) -> Path | None:
    """The folder holding the exercise's solution: SOLUTIONS/<exercise>/ (a course source, the
    exercise's folder name or its name) or SOLUTIONS itself (a flat folder)."""
    path = student_path(spec, solutions)
    return path.parent if path.is_file() else None


def exercise_dtype(spec: ExerciseSpec) -> str:
    floats = [i.dtype for i in spec.inputs if i.dtype.is_floating_point]
    return str(floats[0]).replace("torch.", "") if floats else "float64"


def replay_command(spec: ExerciseSpec, check: str, folder: Path, trial: Trial, dtype: str | None) -> str:
    parts = ["pytest", f"{spec.path}::{spec.name}::{check}", "--submission", str(folder),
             "--replay", trial.describe()]
    return shlex.join(parts + (["--dtype", dtype] if dtype else []))


def report_lines(sweep_: Sweep, dtype: str, override: bool, folder: Path, seed: int) -> list[str]:
    spec = sweep_.spec
    count = max((t.trials for t in sweep_.checks.values()), default=0)
    lines = [f"{spec.name} ({dtype}): {count} trials, seed {seed}, solution {folder / spec.student_file}"]
    for check, tally in sweep_.checks.items():
        verdict = "  FLAKY" if tally.failures else ""
        lines.append(f"  {check:<20} {tally.trials} trials, {len(tally.failures)} failures, "
                     f"{tally.kinks} kink redraws{verdict}")
        worst = tally.worst
        if worst is None:
            continue
        how_far = "" if worst.margin is None else f"{worst.margin.describe()}, "
        lines.append(f"    worst margin: {how_far}at [{worst.trial.describe()}]")
        lines.append(f"      {worst.message.splitlines()[0]}")
        lines.append(f"    replay: {replay_command(spec, check, folder, worst.trial, dtype if override else None)}")
    return lines


def check_tolerances(specs: list[ExerciseSpec], folders: dict[str, Path], trials: int, seed: int | None,
                     dtypes: list[str], echo: Callable[[str], None] = print) -> bool:
    """Sweep each exercise's solution (in `folders`, by exercise name) in its own dtype and each of
    `dtypes`; True when no check failed on any trial."""
    flaky: list[str] = []
    for spec in specs:
        if skip_reason(spec):
            echo(f"{spec.name}: skipped ({skip_reason(spec)})")
            continue
        own = exercise_dtype(spec)
        for dtype in dict.fromkeys([own, *dtypes]):
            variant = spec if dtype == own else with_overrides(spec, dtype)
            run_seed = spec.seed if seed is None else seed
            try:
                result = sweep(load_solution(variant, folders[spec.name]), trials, run_seed)
            except SolutionError as exc:
                echo(f"{spec.name} ({dtype}): the solution does not load: {exc}")
                flaky.append(f"{spec.name} ({dtype}): solution does not load")
                continue
            for line in report_lines(result, dtype, dtype != own, folders[spec.name], run_seed):
                echo(line)
            flaky += [f"{spec.name}::{check} ({dtype}, {len(t.failures)} of {t.trials} trials)"
                      for check, t in result.checks.items() if t.failures]
    if flaky:
        echo(f"{len(flaky)} flaky on a correct solution: " + "; ".join(flaky))
        return False
    echo(f"no failures: {plural(len(specs), 'exercise')}, {trials} trials per check and dtype")
    return True
