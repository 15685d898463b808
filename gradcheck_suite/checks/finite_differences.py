"""The finite-difference check: the backward against central differences of the student's own forward."""

from __future__ import annotations

from typing import Sequence

import torch

from ..exercise.model import ExerciseSpec
from ..inputs.tensors import generator_for, make_inputs
from ..inputs.trial import Trial
from ..numerics import reference_eval as reference
from ..numerics.central_differences import (
    BatchedForward,
    central_points,
    coordinate_directions,
    estimate,
    random_directions,
)
from ..numerics.tolerances import FD_DEFAULT_ATOL, FD_DEFAULT_RTOL, Mismatch, compare, shape_text
from .backward import student_gradients
from .kept import remembered_gradients
from .subject import ExerciseUnderTest, call_student, for_trial, student_raised
from .verdicts import CheckFailure, KinkCrossed


def _evaluate(ex: ExerciseUnderTest, batched: BatchedForward, theta, directions, upstream, f0):
    try:
        return call_student(estimate, batched, theta, directions, upstream, f0)
    except CheckFailure:
        raise
    except Exception as exc:  # noqa: BLE001 - raised inside the student's forward
        raise student_raised(ex, "forward", exc) from None


def check_finite_differences(ex: ExerciseUnderTest, trial: Trial) -> None:
    ex = for_trial(ex, trial)
    inputs = [reference.as_reference_dtype(t).to(ex.device) for t in make_inputs(ex.spec, trial).values()]
    compare_finite_differences(ex, inputs, trial.values_seed, computed=remembered_gradients(ex, trial, inputs))


def compare_finite_differences(ex: ExerciseUnderTest, inputs: Sequence[torch.Tensor], seed: int,
                               own_autograd: bool = False, computed=None) -> None:
    """The student's backward against central differences of their own forward (float64 inputs).

    Large inputs are checked along random directions; the elementwise comparison that makes a
    single wrong entry visible is the backward check's (against autograd on the reference), or,
    with `own_autograd` (no reference), against autograd through the student's own forward.
    """
    spec = ex.spec
    # The output's shape is the forward check's business; here only self-consistency counts.
    run, upstream, grads = computed or student_gradients(ex, inputs, seed, check_output_shape=False)
    differentiable = [i for i, s in enumerate(spec.inputs) if s.differentiable]
    layout, theta = flat_layout(spec, inputs)
    student = _flat([grads[i].to(torch.float64) for i in differentiable])
    assert ex.op is not None  # checks run only on an exercise whose file loaded (run_check)
    batched = ex.op.batched_forward(list(inputs), layout)
    # sum_k <u_k, out_k> over the differentiable outputs: the flat forward returns their elements in turn
    flat_upstream = _flat([u.to(torch.float64) for u in upstream if u is not None])
    fd = spec.finite_differences
    rtol = fd.tolerance.rtol if fd.tolerance.rtol is not None else FD_DEFAULT_RTOL
    atol = fd.tolerance.atol if fd.tolerance.atol is not None else FD_DEFAULT_ATOL
    f0 = _flat([o.detach() for o, wanted in zip(run.outputs, spec.differentiable_outputs) if wanted])
    small = theta.numel() <= fd.max_full

    def elementwise():
        directions = coordinate_directions(theta)
        scale = directions.diagonal()
        est = _evaluate(ex, batched, theta, directions, flat_upstream, f0)
        _report_elementwise(ex, layout, student, est.values / scale, lambda: est.allowance / scale,
                            lambda: est.kink, rtol, atol, "central differences of your own forward")

    if fd.mode == "full" or (fd.mode == "auto" and small):
        elementwise()
        return
    directions = first_directions(spec, theta, seed)
    est = _evaluate(ex, batched, theta, directions, flat_upstream, f0)
    projected = directions @ student
    off = (projected - est.values).abs() - (atol + rtol * est.values.abs())
    bad = off > est.allowance if bool((off > 0).any()) else off > 0  # the bound only when needed
    real = bad & ~est.kink if bool(bad.any()) else bad
    if bool(real.any()):
        if fd.mode == "adaptive" and small:
            elementwise()  # name the element that is off (or find that the projection was a fluke)
            return
        if own_autograd:
            _compare_with_own_autograd(ex, layout, inputs, upstream, student, rtol, atol)  # names the element
        k = int(torch.nonzero(real)[0])
        expected, actual = float(est.values[k]), float(projected[k])
        allowed = float(atol + rtol * est.values[k].abs() + est.allowance[k])
        along = Mismatch.of_values(int(real.sum()), len(bad), (k,), expected, actual, allowed)
        raise CheckFailure(
            "backward is inconsistent with your own forward: along random direction "
            f"{k + 1} of {len(bad)}, u.J.d from central differences is {expected:.6g} but "
            f"your backward gives {actual:.6g} (allowed {allowed:.3g})", mismatches=[along])
    if bool(bad.any()):
        raise KinkCrossed()
    if own_autograd:
        _compare_with_own_autograd(ex, layout, inputs, upstream, student, rtol, atol)


def flat_layout(spec: ExerciseSpec, inputs: Sequence[torch.Tensor]) -> tuple[list[tuple[int, torch.Size]], torch.Tensor]:
    """Where each differentiable input sits in the flat vector the central differences move, and that vector."""
    differentiable = [i for i, s in enumerate(spec.inputs) if s.differentiable]
    return [(i, inputs[i].shape) for i in differentiable], _flat([inputs[i] for i in differentiable])


def first_directions(spec: ExerciseSpec, theta: torch.Tensor, seed: int) -> torch.Tensor:
    """The directions the check evaluates first: one per element up to `max_full` elements (mode
    auto) or always (full); random ones otherwise (and, in mode adaptive, per element only after
    a random one disagreed)."""
    fd = spec.finite_differences
    if fd.mode == "full" or (fd.mode == "auto" and theta.numel() <= fd.max_full):
        return coordinate_directions(theta)
    return random_directions(theta, fd.directions, generator_for(seed, 31337))


def first_points(spec: ExerciseSpec, inputs: Sequence[torch.Tensor], seed: int) -> tuple[list, torch.Tensor]:
    """(layout, points): the batch of points the check's first central differences evaluate the
    forward at, as estimate() builds it (checks.plans asks a worker for them ahead)."""
    layout, theta = flat_layout(spec, inputs)
    directions = first_directions(spec, theta, seed)
    return layout, central_points(theta, directions)


def _flat(tensors: list[torch.Tensor]) -> torch.Tensor:
    return tensors[0].reshape(-1) if len(tensors) == 1 else torch.cat([t.reshape(-1) for t in tensors])


def _report_elementwise(ex, layout, student, expected, allowance, kink, rtol, atol, source: str) -> None:
    """Elementwise verdict. `allowance()` and `kink()` are asked for only when something differs:
    the estimates' error bounds, and the elements whose estimate crossed a kink (which can neither
    fail nor pass the student)."""
    if compare(student, expected, rtol, atol) is None:
        return
    allowance = allowance()
    if compare(student, expected, rtol, atol, allowance) is None:
        return
    kinked = kink()
    excused = allowance + torch.where(kinked, float("inf"), 0.0)
    offset = 0
    problems, mismatches = [], []
    for index, shape in layout:
        part = slice(offset, offset + shape.numel())
        offset += shape.numel()
        mismatch = compare(student[part].reshape(shape), expected[part].reshape(shape), rtol, atol,
                           excused[part].reshape(shape))
        if mismatch:
            mismatches.append(mismatch)
            problems.append(f"gradient for '{ex.spec.inputs[index].name}' {shape_text(student[part].reshape(shape))} "
                            f"disagrees with {source}: {mismatch.describe()}")
    if problems:
        raise CheckFailure("backward is inconsistent with your own forward: " + "\n".join(problems),
                           mismatches=mismatches)
    raise KinkCrossed()


def _compare_with_own_autograd(ex, layout, inputs, upstream, student, rtol, atol) -> None:
    """Large inputs: also compare every element against autograd through the student's own forward."""
    leaves = [t.detach().clone() for t in inputs]
    for index, _ in layout:
        leaves[index].requires_grad_(True)
    try:
        with torch.enable_grad():
            out = ex.op.pure_forward(*leaves)
            outs = out if isinstance(out, (tuple, list)) else (out,)
            pairs = [(o, u) for o, u in zip(outs, upstream) if u is not None]
            grads = torch.autograd.grad(reference.project_all(pairs), [leaves[i] for i, _ in layout],
                                        allow_unused=True)
    except Exception:  # noqa: BLE001 - a forward autograd cannot follow; the projections stand alone
        return
    if any(g is None for g in grads):
        return
    expected = torch.cat([g.reshape(-1).double() for g in grads])
    zeros = torch.zeros_like(expected)
    _report_elementwise(ex, layout, student, expected, lambda: zeros, zeros.bool, rtol, atol,
                        "torch.autograd through your own forward")
