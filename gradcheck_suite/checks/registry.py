"""The trial-based checks by YAML name."""

from __future__ import annotations

from typing import Callable

from ..inputs.trial import Trial
from ..vocabulary import CheckName
from .backward import check_backward
from .backward_properties import check_backward_properties
from .double_backward import check_double_backward
from .finite_differences import check_finite_differences
from .forward import check_forward
from .subject import ExerciseUnderTest

TRIAL_CHECKS: dict[str, Callable[[ExerciseUnderTest, Trial], None]] = {
    CheckName.FORWARD: check_forward,
    CheckName.BACKWARD: check_backward,
    CheckName.BACKWARD_PROPERTIES: check_backward_properties,
    CheckName.FINITE_DIFFERENCES: check_finite_differences,
    CheckName.DOUBLE_BACKWARD: check_double_backward,
}
