"""The calls a check will make on its trials, worked out before it runs them: a sandboxed worker
answers them all in one round trip (StudentOpLike.prefetch) instead of one round trip each.

A plan is a prediction, never a verdict: each answer computed ahead is used only for the very
request it was computed for, so a check that goes another way (a student's output of another
shape or dtype, a trial that fails) just makes its remaining calls one by one. The plans follow
the checks' own code: the forward; then, for a backward, the upstream gradients the check draws
from the shapes and dtypes of the outputs it expects.
"""

from __future__ import annotations

from typing import Callable, Sequence

import torch

from ..inputs.tensors import make_inputs, ones_for, upstream_gradients
from ..inputs.trial import Trial
from ..numerics import reference_eval as reference
from ..student.op import PlannedCall
from ..vocabulary import CheckName
from .backward_properties import COMBINATION, OTHER_STREAM
from .finite_differences import first_points
from .kept import continued_gradients, keeps, kept_run, remembered_gradients
from .subject import ExerciseUnderTest, for_trial, on_device


def plan(ex: ExerciseUnderTest, check: str, trials: Sequence[Trial]) -> list[PlannedCall]:
    """The calls `check` makes on `trials`, in order, as far as they can be told in advance."""
    planner = PLANNERS.get(check)
    if planner is None or ex.spec.random is not None:
        return []
    calls: list[PlannedCall] = []
    for trial in trials:
        bound = for_trial(ex, trial)
        calls += planner(bound, trial, len(calls))
    return calls


def _expected_outputs(ex: ExerciseUnderTest, trial: Trial, inputs: Sequence[torch.Tensor]) -> list[torch.Tensor]:
    """Empty tensors shaped as the reference's outputs, in the dtype a correct forward returns. The
    shapes are worked out once per trial (every check plans it; they follow from its sizes and params)."""
    shapes = ex.output_shapes.get(trial.key)
    if shapes is None:
        exact = reference.forward(ex.spec, [reference.as_reference_dtype(t) for t in inputs])
        shapes = ex.output_shapes[trial.key] = [(o.shape, o.dtype) for o in exact]
    floats = [t.dtype for t in inputs if t.is_floating_point()]
    return [torch.empty(shape, dtype=floats[0] if dtype.is_floating_point and floats else dtype, device=ex.device)
            for shape, dtype in shapes]


def _forward(ex: ExerciseUnderTest, trial: Trial, start: int) -> list[PlannedCall]:
    inputs = on_device(ex, make_inputs(ex.spec, trial))
    return [PlannedCall(ex.op, inputs, keep=keeps(ex, trial, inputs))]


def _backward(ex: ExerciseUnderTest, trial: Trial, start: int) -> list[PlannedCall]:
    """check_backward: the forward (the forward check's, when kept), the backward for random
    upstream gradients, then for all ones."""
    inputs = on_device(ex, make_inputs(ex.spec, trial))
    wanted = ex.spec.differentiable_outputs
    run = kept_run(ex, trial, inputs)
    if run is not None:
        return [PlannedCall(run=run, grad_outputs=upstream_gradients(run.outputs, wanted, trial.values_seed)),
                PlannedCall(run=run, grad_outputs=ones_for(run.outputs, wanted))]
    outputs = _expected_outputs(ex, trial, inputs)
    return [PlannedCall(ex.op, inputs, keep=keeps(ex, trial, inputs)),
            PlannedCall(backward_of=start, grad_outputs=upstream_gradients(outputs, wanted, trial.values_seed)),
            PlannedCall(backward_of=start, grad_outputs=ones_for(outputs, wanted))]


def _backward_properties(ex: ExerciseUnderTest, trial: Trial, start: int) -> list[PlannedCall]:
    """check_backward_properties: the forward and its backward (the backward check's, when kept),
    then again, zero, combined, other."""
    inputs = on_device(ex, make_inputs(ex.spec, trial))
    wanted = ex.spec.differentiable_outputs
    continued = continued_gradients(ex, trial, inputs)
    outputs = continued[0].outputs if continued is not None else _expected_outputs(ex, trial, inputs)
    upstream = continued[1] if continued is not None else upstream_gradients(outputs, wanted, trial.values_seed)
    other = upstream_gradients(outputs, wanted, trial.values_seed, stream=OTHER_STREAM)
    a, b = COMBINATION
    sequence = [upstream, [None if u is None else torch.zeros_like(u) for u in upstream],
                [None if u is None or v is None else a * u + b * v for u, v in zip(upstream, other)], other]
    if continued is not None:
        return [PlannedCall(run=continued[0], grad_outputs=g) for g in sequence]
    return [PlannedCall(ex.op, inputs)] + [PlannedCall(backward_of=start, grad_outputs=g) for g in [upstream] + sequence]


def _finite_differences(ex: ExerciseUnderTest, trial: Trial, start: int) -> list[PlannedCall]:
    """check_finite_differences: the forward on float64 inputs and its backward (unless the backward
    check kept them), and the batched forward at the points of the first central differences (a
    second batch, in mode adaptive after a disagreement, is asked for when it comes)."""
    inputs = [reference.as_reference_dtype(t).to(ex.device) for t in make_inputs(ex.spec, trial).values()]
    layout, points = first_points(ex.spec, inputs, trial.values_seed)
    batch = PlannedCall(ex.op, inputs, points=points.to(ex.device), layout=layout)
    if remembered_gradients(ex, trial, inputs) is not None:
        return [batch]  # the backward check's calls on this trial, kept: only the batch is new
    outputs = _expected_outputs(ex, trial, inputs)
    return [PlannedCall(ex.op, inputs),
            PlannedCall(backward_of=start, grad_outputs=upstream_gradients(outputs, ex.spec.differentiable_outputs,
                                                                           trial.values_seed)),
            batch]


PLANNERS: dict[str, Callable[[ExerciseUnderTest, Trial, int], list[PlannedCall]]] = {
    CheckName.FORWARD: _forward,
    CheckName.BACKWARD: _backward,
    CheckName.BACKWARD_PROPERTIES: _backward_properties,
    CheckName.FINITE_DIFFERENCES: _finite_differences,
}
