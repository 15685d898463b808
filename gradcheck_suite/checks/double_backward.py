"""The double_backward check: the student's backward, differentiated, against the reference's."""

from __future__ import annotations

from ..inputs.tensors import make_inputs, upstream_gradient
from ..inputs.trial import Trial
from ..numerics import reference_eval as reference
from ..numerics.tolerances import FD_DEFAULT_ATOL, FD_DEFAULT_RTOL, compare
from ..student.op import second_order
from .backward import student_gradients
from .subject import ExerciseUnderTest, call_student, for_trial
from .verdicts import CheckFailure


def check_double_backward(ex: ExerciseUnderTest, trial: Trial) -> None:
    """gradgradcheck-style: the student's backward, differentiated by autograd, against the reference's."""
    ex = for_trial(ex, trial)
    spec = ex.spec
    inputs = [reference.as_reference_dtype(t).to(ex.device) for t in make_inputs(spec, trial).values()]
    # First order must already have the right structure; its output's shape is the reference's.
    run, _, _ = student_gradients(ex, inputs, trial.values_seed)
    upstream = upstream_gradient(run.output.detach(), trial.values_seed)
    directions = [upstream_gradient(t, trial.values_seed, stream=30_000 + i) for i, t in enumerate(inputs)]
    differentiable = [i for i, s in enumerate(spec.inputs) if s.differentiable]
    assert ex.op is not None  # checks run only on an exercise whose file loaded (run_check)
    actual = call_student(ex.op.second_order, inputs, upstream, directions)
    expected = second_order(lambda *args: spec.reference.function(*args, *spec.reference.args, **spec.reference.kwargs),
                            inputs,
                            [s.differentiable for s in spec.inputs], upstream, directions)
    names = [spec.inputs[i].name for i in differentiable] + ["grad_output"]
    problems, mismatches = [], []
    for name, got, want in zip(names, actual, expected):
        mismatch = compare(got, want, FD_DEFAULT_RTOL, FD_DEFAULT_ATOL)
        if mismatch:
            mismatches.append(mismatch)
            problems.append(f"second derivative with respect to '{name}': {mismatch.describe()}")
    if problems:
        raise CheckFailure("double backward: differentiating your backward does not give the reference's second "
                           "derivatives (build backward from differentiable torch ops on the saved tensors, "
                           "without .detach() or .data): " + "\n".join(problems), mismatches=mismatches)
