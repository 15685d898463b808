"""Hypothesis search over an exercise's trials: seeded, shrinking a failure to its smallest input."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, Phase, Verbosity, given, reject, seed, settings
from hypothesis.configuration import set_hypothesis_home_dir
from hypothesis.errors import Flaky, Unsatisfiable

from ..checks.registry import trial_check
from ..checks.subject import ExerciseUnderTest
from ..checks.verdicts import CheckFailure, KinkCrossed
from ..inputs.params import for_check
from ..inputs.strategies import trials
from ..inputs.trial import Trial
from ..vocabulary import Status


def _keep_hypothesis_files_out_of_the_graded_tree() -> None:
    """Hypothesis writes caches under ./.hypothesis even without an example database; send them
    to the temporary directory unless the user chose a place (HYPOTHESIS_STORAGE_DIRECTORY)."""
    if not os.environ.get("HYPOTHESIS_STORAGE_DIRECTORY"):
        set_hypothesis_home_dir(Path(tempfile.gettempdir()) / "gradcheck-suite-hypothesis")


def search(exercise: ExerciseUnderTest, check: str, run_seed: int, examples: int) -> None:
    check_fn = trial_check(exercise.spec, check)
    _keep_hypothesis_files_out_of_the_graded_tree()

    @settings(max_examples=examples, database=None, deadline=None, derandomize=False,
              suppress_health_check=list(HealthCheck), verbosity=Verbosity.quiet, print_blob=False,
              report_multiple_bugs=False, phases=(Phase.explicit, Phase.generate, Phase.shrink))
    @seed(run_seed)
    @given(trials(for_check(exercise.spec, check)))
    def property_(trial: Trial) -> None:
        try:
            check_fn(exercise, trial)
        except KinkCrossed:
            reject()
        except CheckFailure as failure:
            failure.trial = trial
            raise

    try:
        property_()
    except Unsatisfiable:
        raise CheckFailure("could not draw inputs whose finite-difference steps avoid the function's kinks; "
                           "the exercise's domains need `avoid:` or `distinct:`", status=Status.ERROR) from None
    except Flaky as exc:
        raise CheckFailure(f"the student's code gives different results on the same input "
                           f"(is it random or does it keep state between calls?): {exc}") from None
