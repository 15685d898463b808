"""The trial-based checks by YAML name, and the ones a randomized forward (`random:`) runs instead."""

from __future__ import annotations

from typing import Callable

from ..exercise.model import ExerciseSpec
from ..inputs.trial import Trial
from ..vocabulary import CheckName
from .backward import check_backward
from .backward_properties import check_backward_properties
from .double_backward import check_double_backward
from .finite_differences import check_finite_differences
from .forward import check_forward
from .randomized import check_random_backward, check_random_forward
from .subject import ExerciseUnderTest

TRIAL_CHECKS: dict[str, Callable[[ExerciseUnderTest, Trial], None]] = {
    CheckName.FORWARD: check_forward,
    CheckName.BACKWARD: check_backward,
    CheckName.BACKWARD_PROPERTIES: check_backward_properties,
    CheckName.FINITE_DIFFERENCES: check_finite_differences,
    CheckName.DOUBLE_BACKWARD: check_double_backward,
}

# A randomized forward: forward and backward graded by properties (checks.randomized);
# backward_properties as for any exercise (it calls the backward several times on one forward run).
RANDOM_TRIAL_CHECKS: dict[str, Callable[[ExerciseUnderTest, Trial], None]] = {
    **TRIAL_CHECKS,
    CheckName.FORWARD: check_random_forward,
    CheckName.BACKWARD: check_random_backward,
}


def trial_check(spec: ExerciseSpec, name: str) -> Callable[[ExerciseUnderTest, Trial], None]:
    """The function that runs check `name` of this exercise on one trial."""
    return (RANDOM_TRIAL_CHECKS if spec.random is not None else TRIAL_CHECKS)[name]
