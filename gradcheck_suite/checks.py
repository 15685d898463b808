"""Each check as a function of an exercise and one trial; a wrong answer raises CheckFailure."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import torch

from . import reference
from .config import ExerciseSpec, InputSpec
from .finite_differences import BatchedForward, coordinate_directions, estimate, random_directions
from .strategies import Trial, edge_case_inputs, generator_for, make_inputs, upstream_gradient
from .student import ProtocolViolation, StudentCallError, StudentOp
from .tolerances import compare, resolve, rounding_allowance

FD_DEFAULT_RTOL = 1e-5
FD_DEFAULT_ATOL = 1e-6


class CheckFailure(Exception):
    """A verdict against the student: status 'failed' (wrong answer) or 'error' (their code raised)."""

    def __init__(self, message: str, status: str = "failed", not_implemented: bool = False):
        super().__init__(message)
        self.message = message
        self.status = status
        self.not_implemented = not_implemented
        self.trial: Trial | None = None


class KinkCrossed(Exception):
    """A finite-difference step crossed a non-differentiable point: the trial says nothing; redraw."""


@dataclass
class Exercise:
    """An exercise ready to grade: its spec and the student's op (or why it could not be loaded)."""

    spec: ExerciseSpec
    student_path: Path
    op: StudentOp | None = None
    load_error: str | None = None
    _batched: BatchedForward | None = field(default=None, repr=False)

    @property
    def device(self) -> torch.device:
        return torch.device(self.spec.device)


def call_student(function: Callable, *args):
    """Call into student code, turning its errors into verdicts."""
    try:
        return function(*args)
    except StudentCallError as exc:
        raise CheckFailure(exc.describe(), status="error", not_implemented=exc.not_implemented) from None
    except ProtocolViolation as exc:
        raise CheckFailure(str(exc)) from None


def _on_device(ex: Exercise, tensors: dict[str, torch.Tensor]) -> list[torch.Tensor]:
    return [t.to(ex.device) for t in tensors.values()]


def _shape(t: torch.Tensor) -> str:
    return "(" + ", ".join(map(str, t.shape)) + ("," if t.dim() == 1 else "") + ")"


def _dtype(dtype: torch.dtype) -> str:
    return str(dtype).replace("torch.", "")


# ----------------------------------------------------------------------------- forward

def compare_forward(ex: Exercise, inputs: Sequence[torch.Tensor], context: str = "") -> None:
    spec = ex.spec
    run = call_student(ex.op.forward, inputs)
    out = run.output
    exact = reference.forward(spec, [reference.as_reference_dtype(t) for t in inputs])
    low = reference.low_precision(spec, reference.forward, inputs)
    expected_dtype = low.dtype if low is not None else torch.promote_types(spec.inputs[0].dtype, exact.dtype)
    where = f"{context}forward"
    if out.shape != exact.shape:
        raise CheckFailure(f"{where} returned shape {_shape(out)}, expected {_shape(exact)}")
    if out.dtype != expected_dtype:
        raise CheckFailure(f"{where} returned dtype {_dtype(out.dtype)}, expected {_dtype(expected_dtype)} "
                           "(keep the dtype of the inputs)")
    if out.device.type != ex.device.type:
        raise CheckFailure(f"{where} returned a tensor on {out.device}, expected {ex.device}")
    rtol, atol = resolve(out.dtype, spec.tolerance)
    allowance = rounding_allowance(low, exact) if low is not None else 0.0
    mismatch = compare(out, exact, rtol, atol, allowance)
    if mismatch:
        raise CheckFailure(f"{where} output differs from the reference ({spec.reference.target}): "
                           f"output {_shape(out)}: {mismatch.describe()}")


def check_forward(ex: Exercise, trial: Trial) -> None:
    compare_forward(ex, _on_device(ex, make_inputs(ex.spec, trial)))


# ----------------------------------------------------------------------------- backward

def structure_problem(spec_input: InputSpec, grad, like: torch.Tensor, expected_dtype: torch.dtype) -> str | None:
    """Missing gradient, wrong shape, dtype or device: the problems that come before values."""
    name = spec_input.name
    if grad is None:
        return f"missing gradient for '{name}': backward returned None, but '{name}' is differentiable"
    if grad.shape != like.shape:
        hint = ""
        if grad.dim() > like.dim() or (grad.dim() == like.dim() and grad.numel() > like.numel()):
            hint = " (a broadcast or batch dimension not summed over?)"
        return f"gradient for '{name}' has shape {_shape(grad)}, expected {_shape(like)}, the shape of {name}{hint}"
    if grad.dtype != expected_dtype:
        return f"gradient for '{name}' has dtype {_dtype(grad.dtype)}, expected {_dtype(expected_dtype)}, the dtype of {name}"
    if grad.device.type != like.device.type:
        return f"gradient for '{name}' is on {grad.device}, expected {like.device}, where {name} is"
    return None


def _student_gradients(ex: Exercise, inputs: Sequence[torch.Tensor], seed: int):
    run = call_student(ex.op.forward, inputs)
    expected_shape = reference.forward(ex.spec, [reference.as_reference_dtype(t) for t in inputs]).shape
    if run.output.shape != expected_shape:
        raise CheckFailure(f"forward returned shape {_shape(run.output)}, expected "
                           f"{_shape(torch.empty(expected_shape))}; fix the forward before the backward can be checked")
    upstream = upstream_gradient(run.output, seed)
    grads = call_student(ex.op.backward, run, upstream)
    problems = []
    for index, spec_input in enumerate(ex.spec.inputs):
        if spec_input.differentiable:
            problem = structure_problem(spec_input, grads[index], inputs[index], inputs[index].dtype)
            if problem:
                problems.append(problem)
    if problems:
        raise CheckFailure("; ".join(problems))
    return run, upstream, grads


def compare_backward(ex: Exercise, inputs: Sequence[torch.Tensor], seed: int, context: str = "") -> None:
    spec = ex.spec
    _, upstream, grads = _student_gradients(ex, inputs, seed)
    exact_inputs = [reference.as_reference_dtype(t) for t in inputs]
    _, exact = reference.vjp(spec, exact_inputs, upstream.double())
    low = reference.low_precision(spec, reference.vjp, inputs, upstream)
    low_grads = low[1] if low is not None else [None] * len(exact)
    problems = []
    differentiable = [(i, s) for i, s in enumerate(spec.inputs) if s.differentiable]
    for (index, spec_input), expected, low_grad in zip(differentiable, exact, low_grads):
        grad = grads[index]
        rtol, atol = resolve(grad.dtype, spec.tolerance, spec_input.tolerance)
        allowance = rounding_allowance(low_grad, expected) if low_grad is not None else 0.0
        mismatch = compare(grad, expected, rtol, atol, allowance)
        if mismatch:
            problems.append(f"gradient for '{spec_input.name}' {_shape(grad)} differs from torch.autograd on the "
                            f"reference: {mismatch.describe()}")
    if problems:
        raise CheckFailure(f"{context}{'backward: ' if context else ''}" + "\n".join(problems))


def check_backward(ex: Exercise, trial: Trial) -> None:
    compare_backward(ex, _on_device(ex, make_inputs(ex.spec, trial)), trial.values_seed)


# ----------------------------------------------------------------------------- finite differences

def _batched_forward(ex: Exercise, fixed: list[torch.Tensor], layout: list[tuple[int, torch.Size]]) -> BatchedForward:
    """The student's forward as f(flat differentiable inputs) -> flat output."""

    def flat_forward(theta: torch.Tensor) -> torch.Tensor:
        args = list(fixed)
        offset = 0
        for index, shape in layout:
            size = shape.numel()
            args[index] = theta[offset:offset + size].reshape(shape)
            offset += size
        out = ex.op.pure_forward(*args)
        if not isinstance(out, torch.Tensor):
            raise ProtocolViolation(f"{ex.op.name}.forward returned {type(out).__name__}, expected a tensor")
        return out.reshape(-1)

    if ex._batched is None:
        ex._batched = BatchedForward(flat_forward)
    else:
        ex._batched.flat_forward = flat_forward
    return ex._batched


def _evaluate(ex: Exercise, batched: BatchedForward, theta, directions, upstream):
    try:
        return estimate(batched, theta, directions, upstream)
    except ProtocolViolation as exc:
        raise CheckFailure(str(exc)) from None
    except Exception as exc:  # noqa: BLE001 - raised inside the student's forward
        from .student import located
        raise CheckFailure(StudentCallError(f"{ex.op.name}.forward", exc, located(exc, ex.student_path)).describe(),
                           status="error", not_implemented=isinstance(exc, NotImplementedError)) from None


def check_finite_differences(ex: Exercise, trial: Trial) -> None:
    spec = ex.spec
    inputs = [reference.as_reference_dtype(t).to(ex.device) for t in make_inputs(spec, trial).values()]
    run, upstream, grads = _student_gradients(ex, inputs, trial.values_seed)
    differentiable = [i for i, s in enumerate(spec.inputs) if s.differentiable]
    layout = [(i, inputs[i].shape) for i in differentiable]
    theta = torch.cat([inputs[i].reshape(-1) for i in differentiable])
    student = torch.cat([grads[i].reshape(-1).to(torch.float64) for i in differentiable])
    batched = _batched_forward(ex, list(inputs), layout)
    flat_upstream = upstream.reshape(-1).to(torch.float64)
    fd = spec.finite_differences
    rtol, atol = resolve(torch.float64, spec.tolerance, fd.tolerance) if fd.tolerance.rtol or fd.tolerance.atol \
        else (FD_DEFAULT_RTOL, FD_DEFAULT_ATOL)
    full = fd.mode == "full" or (fd.mode == "auto" and theta.numel() <= fd.max_full)
    if full:
        directions = coordinate_directions(theta)
        scale = directions.diagonal()
        est = _evaluate(ex, batched, theta, directions, flat_upstream)
        expected, allowance = est.values / scale, est.allowance / scale
        _report_elementwise(ex, layout, student, expected, allowance, est.kink, rtol, atol,
                            "central differences of your own forward")
    else:
        generator = generator_for(trial.values_seed, 31337)
        directions = random_directions(theta, fd.directions, generator)
        est = _evaluate(ex, batched, theta, directions, flat_upstream)
        projected = directions @ student
        bad = (projected - est.values).abs() > atol + rtol * est.values.abs() + est.allowance
        real = bad & ~est.kink
        if bool(real.any()):
            k = int(torch.nonzero(real)[0])
            raise CheckFailure(
                "backward is inconsistent with your own forward: along random direction "
                f"{k + 1} of {len(bad)}, u.J.d from central differences is {float(est.values[k]):.6g} but "
                f"your backward gives {float(projected[k]):.6g} "
                f"(allowed {float(atol + rtol * est.values[k].abs() + est.allowance[k]):.3g})")
        if bool(bad.any()):
            raise KinkCrossed()
        _compare_with_own_autograd(ex, layout, inputs, upstream, student, rtol, atol)


def _report_elementwise(ex, layout, student, expected, allowance, kink, rtol, atol, source: str) -> None:
    offset = 0
    problems = []
    crossed = False
    for index, shape in layout:
        size = shape.numel()
        part = slice(offset, offset + size)
        offset += size
        name = ex.spec.inputs[index].name
        kinked = kink[part]
        mismatch = compare(student[part].reshape(shape), expected[part].reshape(shape), rtol, atol,
                           (allowance[part] + torch.where(kinked, float("inf"), 0.0)).reshape(shape))
        if mismatch:
            problems.append(f"gradient for '{name}' {_shape(student[part].reshape(shape))} disagrees with {source}: "
                            f"{mismatch.describe()}")
        elif bool(kinked.any()) and compare(student[part].reshape(shape), expected[part].reshape(shape), rtol, atol,
                                            allowance[part].reshape(shape)):
            crossed = True
    if problems:
        raise CheckFailure("backward is inconsistent with your own forward: " + "\n".join(problems))
    if crossed:
        raise KinkCrossed()


def _compare_with_own_autograd(ex, layout, inputs, upstream, student, rtol, atol) -> None:
    """Large inputs: also compare every element against autograd through the student's own forward."""
    leaves = [t.detach().clone() for t in inputs]
    for index, _ in layout:
        leaves[index].requires_grad_(True)
    try:
        with torch.enable_grad():
            out = ex.op.pure_forward(*leaves)
            grads = torch.autograd.grad(out, [leaves[i] for i, _ in layout], upstream.to(out.dtype), allow_unused=True)
    except Exception:  # noqa: BLE001 - a forward autograd cannot follow; the projections stand alone
        return
    if any(g is None for g in grads):
        return
    expected = torch.cat([g.reshape(-1).double() for g in grads])
    zeros = torch.zeros_like(expected)
    _report_elementwise(ex, layout, student, expected, zeros, zeros.bool(), rtol, atol,
                        "torch.autograd through your own forward")


# ----------------------------------------------------------------------------- edge cases

def check_edge_cases(ex: Exercise) -> None:
    for case in ex.spec.edge_cases:
        inputs = _on_device(ex, edge_case_inputs(ex.spec, case))
        context = f"edge case '{case.name}': "
        compare_forward(ex, inputs, context)
        compare_backward(ex, inputs, ex.spec.seed, context)


TRIAL_CHECKS: dict[str, Callable[[Exercise, Trial], None]] = {
    "forward": check_forward,
    "backward": check_backward,
    "finite_differences": check_finite_differences,
}
