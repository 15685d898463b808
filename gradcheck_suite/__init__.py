"""gradcheck-suite: a gradient-checking test harness and teaching grader for backprop courses.

The supported API, importable from here::

    from gradcheck_suite import check_function, load_exercise, GradeBook, Status

and, in a notebook, ``from gradcheck_suite import notebook; notebook.check("exercises/linear", Linear)``
(the submodule, imported when named).

Importing the package imports nothing heavy: each name is loaded from its module (and torch with
it) when first used, so that the pytest plugin costs nothing in projects that never grade.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# name -> module that defines it
_EXPORTS = {
    "check_function": "gradcheck_suite.api",
    "load_exercise": "gradcheck_suite.exercise.load",
    "with_overrides": "gradcheck_suite.exercise.load",
    "ExerciseSpec": "gradcheck_suite.exercise.model",
    "CheckResult": "gradcheck_suite.report.model",
    "ExerciseResult": "gradcheck_suite.report.model",
    "GradeBook": "gradcheck_suite.report.model",
    "Status": "gradcheck_suite.vocabulary",
    "CheckName": "gradcheck_suite.vocabulary",
    "GradcheckSuiteError": "gradcheck_suite.errors",
    "ConfigError": "gradcheck_suite.errors",
    "ConfigProblem": "gradcheck_suite.errors",
    "StudentCodeError": "gradcheck_suite.errors",
    "IsolationUnavailable": "gradcheck_suite.errors",
}

__all__ = [
    "__version__", "check_function", "load_exercise", "with_overrides", "ExerciseSpec", "CheckResult", "ExerciseResult",
    "GradeBook", "Status", "CheckName", "GradcheckSuiteError", "ConfigError", "ConfigProblem", "StudentCodeError",
    "IsolationUnavailable",
]

if TYPE_CHECKING:
    from .api import check_function
    from .errors import ConfigError, ConfigProblem, GradcheckSuiteError, IsolationUnavailable, StudentCodeError
    from .exercise.load import load_exercise, with_overrides
    from .exercise.model import ExerciseSpec
    from .report.model import CheckResult, ExerciseResult, GradeBook
    from .vocabulary import CheckName, Status


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'gradcheck_suite' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
