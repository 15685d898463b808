"""RunOptions: what a front end may override for a whole run (seed, trials, one example to replay)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from ..exercise.model import ExerciseSpec


@dataclass(frozen=True)
class RunOptions:
    seed: int | None = None           # overrides every exercise's seed
    secret: str | None = None         # the autograder's secret: every exercise's seed derived from it (grading.seeds)
    trials: int | None = None         # overrides every exercise's number of trials
    replay: str | None = None         # run exactly this trial (Trial.describe() format)
    replay_command: Callable[[ExerciseSpec, str, str], str] | None = None
