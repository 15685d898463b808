"""What one check's calls of the student's code leave for the next check of the same trial.

The checks of an exercise run one after the other on the same trials, and several begin with the
same calls: the forward check's forward is the one the backward check continues with its
backward; the backward check's outputs, upstream gradients and gradients are the ones the
finite-difference check reads and backward_properties continues (called again, zero, combined).
Each is made once and kept here, per trial, instead of being made again: the calls a student's
code would see in a network, forward once and backward several times on it (4602 calls for the
sample course instead of 6402).

A kept forward run is continued only while the op still holds it (an op keeps as many as its memory
allows, student.memory, and a restarted worker has none); otherwise the check makes its own
forward, as it would alone.
"""

from __future__ import annotations

from typing import Sequence

import torch

from ..inputs.trial import Trial
from ..student.op import ForwardRun
from .subject import ExerciseUnderTest

# Trials an exercise keeps calls of, and the most input elements a kept trial may have (a class's
# trials are far smaller); the op keeps as many forward runs, fewer where they grow too large
# (student.op.KEPT_RUNS).
KEPT_TRIALS = 64
KEPT_ELEMENTS = 1 << 16

Computed = tuple  # student_gradients()'s (run, upstream gradients, gradients)


def trial_key(trial: Trial, inputs: Sequence[torch.Tensor]) -> tuple | None:
    """What the student's calls on a trial depend on: the trial (its dims, params and seed) and the
    inputs' dtypes, shapes, strides and devices (the values follow from the trial and dtype);
    None for inputs too large to keep."""
    if sum(t.numel() for t in inputs) > KEPT_ELEMENTS:
        return None
    return trial.key, tuple((t.dtype, tuple(t.shape), t.stride(), t.device.type) for t in inputs)


def _key(ex: ExerciseUnderTest, trial: Trial | None, inputs: Sequence[torch.Tensor]) -> tuple | None:
    """trial_key() of a trial whose calls are kept: not a randomized forward's, whose every call draws anew."""
    return trial_key(trial, inputs) if trial is not None and ex.spec.random is None else None


def keeps(ex: ExerciseUnderTest, trial: Trial | None, inputs: Sequence[torch.Tensor]) -> bool:
    """Whether a forward on this trial is one to keep for the next check."""
    return _key(ex, trial, inputs) is not None


def _put(kept: dict, key: tuple, value) -> None:
    kept[key] = value
    while len(kept) > KEPT_TRIALS:
        del kept[next(iter(kept))]


def keep_run(ex: ExerciseUnderTest, trial: Trial, inputs: Sequence[torch.Tensor], run: ForwardRun) -> None:
    """Keep the forward check's run of a trial for the backward check (kept_run)."""
    key = _key(ex, trial, inputs)
    if key is not None:
        _put(ex.runs, key, run)


def kept_run(ex: ExerciseUnderTest, trial: Trial | None, inputs: Sequence[torch.Tensor]) -> ForwardRun | None:
    """The forward run an earlier check made on the same trial and inputs, if the op still holds it."""
    key = _key(ex, trial, inputs)
    run = ex.runs.get(key) if key is not None else None
    return run if run is not None and ex.op is not None and ex.op.holds(run) else None


def keep_gradients(ex: ExerciseUnderTest, trial: Trial, inputs: Sequence[torch.Tensor], computed: Computed) -> None:
    """Keep the backward check's student_gradients() result of a trial (remembered_gradients,
    continued_gradients)."""
    key = _key(ex, trial, inputs)
    if key is not None:
        _put(ex.gradients, key, computed)


def remembered_gradients(ex: ExerciseUnderTest, trial: Trial, inputs: Sequence[torch.Tensor]) -> Computed | None:
    """The student_gradients() result the backward check got on the same trial and inputs: the
    finite-difference check reads its outputs, upstream gradients and gradients instead of making
    the same calls again (read only: nothing may change them)."""
    key = _key(ex, trial, inputs)
    return ex.gradients.get(key) if key is not None else None


def continued_gradients(ex: ExerciseUnderTest, trial: Trial, inputs: Sequence[torch.Tensor]) -> Computed | None:
    """remembered_gradients(), when the op still holds its forward run for more backward calls."""
    computed = remembered_gradients(ex, trial, inputs)
    return computed if computed is not None and ex.op is not None and ex.op.holds(computed[0]) else None
