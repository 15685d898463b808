"""A worker started early (runner.prepare(early=True): the next exercise's, while one is graded)
loads the student's file meanwhile; its answer, its load errors and crashes, and its time budget
are those of a worker started when its first check runs."""

from __future__ import annotations

import textwrap
import time

import pytest

from conftest import SOLUTIONS, source_submission
from gradcheck_suite.grading.options import RunOptions
from gradcheck_suite.grading.runner import prepare, run_check
from gradcheck_suite.sandbox.supervisor import Sandbox, WorkerLimits

OPTIONS = RunOptions(trials=3)
TIME_LIMIT = 4.0

RELU = (SOLUTIONS / "relu" / "relu.py").read_text()
# a student's relu whose module runs a self-test at import that fails, as a half-finished file does
RAISES_AT_IMPORT = RELU + textwrap.dedent('''

    x = torch.tensor([-1.0, 2.0])
    assert torch.equal(ReLU.apply(x), x), "my relu is not right yet"
''')
# a file whose import takes the process down (os._exit in a leftover debugging line)
EXITS_AT_IMPORT = "import os\nos._exit(3)\n" + RELU


@pytest.mark.parametrize("source", [RELU, RAISES_AT_IMPORT, EXITS_AT_IMPORT], ids=["correct", "raises", "exits"])
def test_a_worker_started_early_gives_the_verdicts_of_one_started_late(tmp_path, source):
    spec, folder = source_submission(tmp_path, "relu", source)
    box = Sandbox(WorkerLimits(time_seconds=30))
    try:
        verdicts = []
        for early in (False, True):
            exercise = prepare(spec, folder, box, early=early)
            if early:
                assert exercise.loading and exercise.op.worker.pid is not None, "not started early"
                time.sleep(0.5)  # the grader grades another exercise meanwhile
            results = [run_check(exercise, check, OPTIONS) for check in ("forward", "backward")]
            exercise.close()
            verdicts.append([(r.status, r.message) for r in results])
    finally:
        box.close()
    assert verdicts[0] == verdicts[1]
    assert verdicts[0][0][0] == {RELU: "passed", RAISES_AT_IMPORT: "error", EXITS_AT_IMPORT: "crashed"}[source]


def test_the_time_budget_starts_at_the_first_check_not_at_the_early_start(tmp_path):
    spec, folder = source_submission(tmp_path, "relu", RELU)
    box = Sandbox(WorkerLimits(time_seconds=TIME_LIMIT))
    try:
        exercise = prepare(spec, folder, box, early=True)
        worker = exercise.op.worker
        assert worker.deadline is None
        time.sleep(1.0)
        result = run_check(exercise, "forward", OPTIONS)
        left = worker.deadline - time.monotonic()
        exercise.close()
    finally:
        box.close()
    assert result.status == "passed"
    assert left > TIME_LIMIT - 0.9, f"the budget started at the early start: {left:.2f} s left of {TIME_LIMIT}"


def test_a_worker_asked_for_and_never_used_is_gone_when_the_submission_settles(tmp_path):
    """The grader does not wait for the zygote to fork a worker (Sandbox.spawn gives a ticket, the pid
    is read when needed): a worker started early for an exercise that never ran is still killed,
    with every process it started, when the submission settles."""
    import os

    spec, folder = source_submission(tmp_path, "relu", RELU)
    box = Sandbox(WorkerLimits(time_seconds=30))
    try:
        box.begin_submission()
        known = set(box.keepers)
        exercise = prepare(spec, folder, box, early=True)
        assert exercise.op.worker._ticket is not None, "the spawn was waited for"
        box.settle()  # raises SandboxLeak if anything survived
        keepers = box.keepers - known
        assert len(keepers) == 1, "the worker's keeper was never known"
        with pytest.raises(ProcessLookupError):
            os.kill(keepers.pop(), 0)
    finally:
        box.close()
