"""The search over an exercise's trials: seeded draws first, Hypothesis to shrink a failure.

A check's trials are drawn up front from the run seed (the same space Hypothesis draws from,
the smallest sizes first) and run in a plain loop: a passing check never pays for Hypothesis's
engine, which costs more than most checks themselves. When a trial fails, Hypothesis searches
with the same seed as before and shrinks its failure to the smallest input; should its search
miss what the up-front trials found, that failure stands as found (a verdict never goes from
failed to passed by searching again), and a failure that does not come back on the same input
is reported as the student's code being random or stateful.
"""

from __future__ import annotations

import itertools
import os
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, Phase, Verbosity, given, reject, seed, settings
from hypothesis.configuration import set_hypothesis_home_dir
from hypothesis.errors import Flaky, Unsatisfiable

from ..checks import plans
from ..checks.registry import trial_check
from ..checks.subject import ExerciseUnderTest
from ..checks.verdicts import CheckFailure, KinkCrossed
from ..inputs.params import for_check
from ..inputs.strategies import drawn_trials, trials
from ..inputs.trial import Trial
from ..vocabulary import Status


def _keep_hypothesis_files_out_of_the_graded_tree() -> None:
    """Hypothesis writes caches under ./.hypothesis even without an example database; send them
    to the temporary directory unless the user chose a place (HYPOTHESIS_STORAGE_DIRECTORY)."""
    if not os.environ.get("HYPOTHESIS_STORAGE_DIRECTORY"):
        set_hypothesis_home_dir(Path(tempfile.gettempdir()) / "gradcheck-suite-hypothesis")


# A check whose trials keep crossing kinks gives up after this many draws per trial wanted
# (Hypothesis's own limit on rejected examples is of the same order).
DRAWS_PER_TRIAL = 10
# Trials whose calls a worker answers in one round trip; it keeps the runs of its last 8 forwards
# (sandbox.worker.MAX_RUNS), and a check that leaves the plan must still reach the current one.
TRIALS_PER_ROUND_TRIP = 5


def search(exercise: ExerciseUnderTest, check: str, run_seed: int, examples: int) -> None:
    """Passes when `examples` trials pass; raises the CheckFailure of the smallest failing input."""
    found = _first_failure(exercise, check, run_seed, examples)
    if found is None:
        return
    failure, trial = found
    try:
        hypothesis_search(exercise, check, run_seed, examples)
    except CheckFailure as shrunk:
        if shrunk.trial is not None or shrunk.status == Status.FAILED:
            raise
    # Hypothesis's own trials all passed (or it drew none): the up-front failure stands, if it comes back.
    try:
        trial_check(exercise.spec, check)(exercise, trial)
    except CheckFailure as again:
        again.trial = trial
        raise again from None
    except KinkCrossed:
        pass
    raise CheckFailure("the student's code gives different results on the same input (is it random or does it "
                       f"keep state between calls?): the input [{trial.describe()}] failed once and passed the "
                       f"second time; the first time: {failure}") from None


def _first_failure(exercise: ExerciseUnderTest, check: str, run_seed: int, examples: int,
                   ) -> tuple[CheckFailure, Trial] | None:
    """The first of `examples` up-front trials that fails (a trial whose finite-difference step
    crosses a kink is replaced by another draw). A few trials at a time, their calls to the
    student's code told to the op one group ahead: a worker computes the next group's answers
    while this process checks the current one's."""
    check_fn = trial_check(exercise.spec, check)
    drawn = itertools.islice(drawn_trials(for_check(exercise.spec, check), run_seed, smallest_first=True),
                             examples * DRAWS_PER_TRIAL)

    def group(size: int) -> list[Trial]:
        trials = list(itertools.islice(drawn, max(0, min(TRIALS_PER_ROUND_TRIP, size))))
        if trials:
            _prefetch(exercise, check, trials)
        return trials

    passed = 0
    current = group(examples)
    while current:
        upcoming = group(examples - passed - len(current))  # (more only if a kink costs a trial)
        for trial in current:
            try:
                check_fn(exercise, trial)
            except KinkCrossed:
                continue
            except CheckFailure as failure:
                failure.trial = trial
                return failure, trial
            passed += 1
        current = upcoming or group(examples - passed)
    if passed < examples:
        raise CheckFailure("could not draw inputs whose finite-difference steps avoid the function's kinks; "
                           "the exercise's domains need `avoid:` or `distinct:`", status=Status.ERROR)
    return None


def _prefetch(exercise: ExerciseUnderTest, check: str, trials: list[Trial]) -> None:
    """Tell the op the calls the check will make on these trials. A plan that cannot be made (the
    reference fails on these inputs, say) is no plan: the check then meets the problem itself."""
    if exercise.op is None or not exercise.op.answers_ahead:
        return
    try:
        calls = plans.plan(exercise, check, trials)
    except Exception:  # noqa: BLE001 - see above
        return
    exercise.op.prefetch(calls)


def hypothesis_search(exercise: ExerciseUnderTest, check: str, run_seed: int, examples: int) -> None:
    """Hypothesis's search over the check's trials, shrinking a failure to its smallest input."""
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
