"""Each check as a function of an exercise and one trial; a wrong answer raises CheckFailure."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Callable, Sequence

import torch

from . import diagnoses, reference
from .config import ExerciseSpec, InputSpec
from .diagnoses import Closeness
from .finite_differences import BatchedForward, coordinate_directions, estimate, random_directions
from .strategies import Trial, edge_case_inputs, generator_for, make_inputs, upstream_gradient
from .student import ProtocolViolation, StudentCallError, StudentOp, located, non_contiguous_copy, second_order
from .tolerances import compare, resolve, rounding_allowance, shape_text

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
    op: StudentOp | None = None  # or a sandbox.RemoteOp: the same interface, run in a worker
    load_error: str | None = None
    load_status: str = "error"  # or "crashed" / "timeout" when a worker died loading the file
    rule_failure: str | None = None  # forbidden calls found in the source: every check fails
    review: str | None = None  # constructs that flag the submission for review
    close: Callable[[], None] = lambda: None  # stops the worker, in autograder mode

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


def student_raised(ex: Exercise, method: str, exc: BaseException) -> CheckFailure:
    """The verdict for an exception from the student's code reached outside call_student."""
    return CheckFailure(StudentCallError(f"{ex.op.name}.{method}", exc, located(exc, ex.student_path)).describe(),
                        status="error", not_implemented=isinstance(exc, NotImplementedError))


def _on_device(ex: Exercise, tensors: dict[str, torch.Tensor]) -> list[torch.Tensor]:
    return [t.to(ex.device) for t in tensors.values()]


def _dtype(dtype: torch.dtype) -> str:
    return str(dtype).replace("torch.", "")


# ----------------------------------------------------------------------------- forward

def compare_forward(ex: Exercise, inputs: Sequence[torch.Tensor]) -> None:
    spec = ex.spec
    run = call_student(ex.op.forward, inputs)
    out = run.output
    exact = reference.forward(spec, [reference.as_reference_dtype(t) for t in inputs])
    low = reference.low_precision(spec, reference.forward, inputs)
    expected_dtype = low.dtype if low is not None else _float_dtype(inputs, exact.dtype)
    where = "forward"
    if out.shape != exact.shape:
        raise CheckFailure(f"{where} returned shape {shape_text(out)}, expected {shape_text(exact)}")
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
                           f"output {shape_text(out)}: {mismatch.describe()}")


def _float_dtype(inputs: Sequence[torch.Tensor], fallback: torch.dtype) -> torch.dtype:
    floats = [t.dtype for t in inputs if t.is_floating_point()]
    return floats[0] if floats else fallback


def check_forward(ex: Exercise, trial: Trial) -> None:
    compare_forward(ex, _on_device(ex, make_inputs(ex.spec, trial)))


# ----------------------------------------------------------------------------- backward

def structure_problem(spec_input: InputSpec, grad, like: torch.Tensor, expected_dtype: torch.dtype,
                      explain: Callable[[torch.Tensor], list[str]] | None = None) -> str | None:
    """Missing gradient, wrong shape, dtype or device: the problems that come before values.
    `explain(grad)`: the likely causes of a wrong shape, found with the reference's gradient;
    without it, only what the shapes alone show."""
    name = spec_input.name
    if grad is None:
        return f"missing gradient for '{name}': backward returned None, but '{name}' is differentiable"
    if grad.shape != like.shape:
        hint = ""
        if grad.dim() > like.dim() or (grad.dim() == like.dim() and grad.numel() > like.numel()):
            hint = " (a broadcast or batch dimension not summed over?)"
        causes = explain(grad) if explain is not None else [diagnoses.transposed_shape(grad, like)]
        return (f"gradient for '{name}' has shape {shape_text(grad)}, expected {shape_text(like)}, the shape of "
                f"{name}{hint}" + _cause_lines(causes))
    if grad.dtype != expected_dtype:
        return f"gradient for '{name}' has dtype {_dtype(grad.dtype)}, expected {_dtype(expected_dtype)}, the dtype of {name}"
    if grad.device.type != like.device.type:
        return f"gradient for '{name}' is on {grad.device}, expected {like.device}, where {name} is"
    return None


def _cause_lines(causes: Sequence[str | None]) -> str:
    """The lines that follow a gradient's report, one per diagnosis found (diagnoses.py)."""
    return "".join(f"\n  likely cause: {cause}" for cause in causes if cause)


def _differentiable(spec: ExerciseSpec) -> list[tuple[int, InputSpec]]:
    return [(i, s) for i, s in enumerate(spec.inputs) if s.differentiable]


class ReferenceGradients:
    """The reference's side of one backward trial: its gradients for the grader's upstream
    gradient, the tolerance each of the student's is held to, and the likely causes of a wrong
    one. Each part is computed when first asked for (positions count differentiable inputs)."""

    def __init__(self, spec: ExerciseSpec, inputs: Sequence[torch.Tensor], upstream: torch.Tensor,
                 traced: reference.Traced | None = None):
        self.spec, self.inputs, self.upstream = spec, inputs, upstream
        self._traced = traced

    @cached_property
    def exact_inputs(self) -> list[torch.Tensor]:
        return [reference.as_reference_dtype(t) for t in self.inputs]

    @cached_property
    def expected(self) -> list[torch.Tensor]:
        return self._vjp(self.upstream.double(), self._traced)

    @cached_property
    def all_ones(self) -> list[torch.Tensor]:
        """The gradients for an all-ones upstream gradient: what code that ignores it returns."""
        return self._vjp(torch.ones_like(self.upstream, dtype=torch.float64))

    def _vjp(self, grad_output: torch.Tensor, traced: reference.Traced | None = None) -> list[torch.Tensor]:
        # A fresh trace unless given one: Traced.vjp frees the graph it runs through.
        return (traced or reference.Traced(self.spec, self.exact_inputs)).vjp(grad_output)

    @cached_property
    def _low_precision(self) -> list[torch.Tensor | None]:
        low = reference.low_precision(self.spec, reference.vjp, self.inputs, self.upstream)
        return low[1] if low is not None else [None] * len(self.expected)

    def closeness(self, position: int, spec_input: InputSpec, dtype: torch.dtype) -> Closeness:
        rtol, atol = resolve(dtype, self.spec.tolerance, spec_input.tolerance)
        low, expected = self._low_precision[position], self.expected[position]
        return Closeness(rtol, atol, rounding_allowance(low, expected) if low is not None else 0.0)

    def likely_causes(self, position: int, spec_input: InputSpec, tol: Closeness, grad: torch.Tensor) -> list[str]:
        return diagnoses.diagnose(grad, self.expected[position], tol, self.all_ones[position],
                                  diagnoses.dimension_sizes(self.spec.inputs, self.inputs), f"'{spec_input.name}'")

    def explainer(self, position: int, spec_input: InputSpec,
                  dtype: torch.dtype) -> Callable[[torch.Tensor], list[str]]:
        """likely_causes() of a gradient, its tolerance (and the reference's gradients) worked out
        only when it is called: on failure."""
        def explain(grad: torch.Tensor) -> list[str]:
            return self.likely_causes(position, spec_input, self.closeness(position, spec_input, dtype), grad)
        return explain


def student_gradients(ex: Exercise, inputs: Sequence[torch.Tensor], seed: int, check_output_shape: bool = True,
                      expected_shape: torch.Size | None = None, diagnose: bool = False):
    """The student's forward and raw gradients for a seeded upstream gradient, after checking the
    output's shape (against `expected_shape`, or the reference's) and the gradients' structure.
    With `diagnose`, a gradient of the wrong shape is compared with the reference's to name the
    likely cause."""
    run = call_student(ex.op.forward, inputs)
    if not check_output_shape:
        expected_shape = run.output.shape
    elif expected_shape is None:
        expected_shape = reference.forward(ex.spec, [reference.as_reference_dtype(t) for t in inputs]).shape
    if run.output.shape != expected_shape:
        raise CheckFailure(f"forward returned shape {shape_text(run.output)}, expected "
                           f"{shape_text(torch.empty(expected_shape))}; fix the forward before the backward can be checked")
    upstream = upstream_gradient(run.output, seed)
    grads = call_student(ex.op.backward, run, upstream)
    ref = ReferenceGradients(ex.spec, inputs, upstream) if diagnose else None
    problems = []
    for position, (index, spec_input) in enumerate(_differentiable(ex.spec)):
        like = inputs[index]
        explain = ref.explainer(position, spec_input, like.dtype) if ref is not None else None
        problem = structure_problem(spec_input, grads[index], like, like.dtype, explain)
        if problem:
            problems.append(problem)
    if problems:
        raise CheckFailure("\n".join(problems))
    return run, upstream, grads


def compare_backward(ex: Exercise, inputs: Sequence[torch.Tensor], seed: int):
    """The student's gradients against torch.autograd on the reference. Returns the
    student_gradients() result, for callers that check the same run further."""
    spec = ex.spec
    traced = reference.Traced(spec, [reference.as_reference_dtype(t) for t in inputs])
    computed = student_gradients(ex, inputs, seed, expected_shape=traced.output.shape, diagnose=True)
    _, upstream, grads = computed
    ref = ReferenceGradients(spec, inputs, upstream, traced)
    problems = []
    for position, (index, spec_input) in enumerate(_differentiable(spec)):
        grad = grads[index]
        tol = ref.closeness(position, spec_input, grad.dtype)
        mismatch = tol.mismatch(grad, ref.expected[position])
        if mismatch:
            problems.append(f"gradient for '{spec_input.name}' {shape_text(grad)} differs from torch.autograd on the "
                            f"reference: {mismatch.describe()}"
                            + _cause_lines(ref.likely_causes(position, spec_input, tol, grad)))
    if problems:
        raise CheckFailure("\n".join(problems))
    return computed


HEATMAP_SIDE = 48  # rows and columns shown at most


def gradient_differences(ex: Exercise, inputs: Sequence[torch.Tensor], seed: int) -> list[dict]:
    """|student - reference| of each differentiable input's gradient, as a grid for a picture of
    where they differ (the last dimension across, the others down). Empty where the gradients
    cannot be compared element by element (a missing gradient, a wrong shape)."""
    spec = ex.spec
    traced = reference.Traced(spec, [reference.as_reference_dtype(t) for t in inputs])
    run = call_student(ex.op.forward, inputs)
    if run.output.shape != traced.output.shape:
        return []
    upstream = upstream_gradient(run.output, seed)
    grads = call_student(ex.op.backward, run, upstream)
    exact = traced.vjp(upstream.double())
    pictures = []
    differentiable = [(i, s) for i, s in enumerate(spec.inputs) if s.differentiable]
    for (index, spec_input), expected in zip(differentiable, exact):
        grad = grads[index]
        if grad is None or grad.shape != expected.shape:
            continue
        diff = (grad.detach().to("cpu", torch.float64) - expected.to("cpu")).abs()
        grid = diff.reshape(1, 1) if diff.dim() == 0 else diff.reshape(-1, diff.shape[-1])
        pictures.append({"input": spec_input.name, "shape": list(diff.shape),
                         "max": float(diff.max()) if diff.numel() else 0.0,
                         "grid": grid[:HEATMAP_SIDE, :HEATMAP_SIDE].tolist()})
    return pictures


def check_backward(ex: Exercise, trial: Trial) -> None:
    compare_backward(ex, _on_device(ex, make_inputs(ex.spec, trial)), trial.values_seed)


# ----------------------------------------------------------------------------- finite differences

def _evaluate(ex: Exercise, batched: BatchedForward, theta, directions, upstream, f0):
    try:
        return call_student(estimate, batched, theta, directions, upstream, f0)
    except CheckFailure:
        raise
    except Exception as exc:  # noqa: BLE001 - raised inside the student's forward
        raise student_raised(ex, "forward", exc) from None


def check_finite_differences(ex: Exercise, trial: Trial) -> None:
    inputs = [reference.as_reference_dtype(t).to(ex.device) for t in make_inputs(ex.spec, trial).values()]
    compare_finite_differences(ex, inputs, trial.values_seed)


def compare_finite_differences(ex: Exercise, inputs: Sequence[torch.Tensor], seed: int,
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
    layout = [(i, inputs[i].shape) for i in differentiable]
    theta = _flat([inputs[i] for i in differentiable])
    student = _flat([grads[i].to(torch.float64) for i in differentiable])
    batched = ex.op.batched_forward(list(inputs), layout)
    flat_upstream = upstream.reshape(-1).to(torch.float64)
    fd = spec.finite_differences
    rtol = fd.tolerance.rtol if fd.tolerance.rtol is not None else FD_DEFAULT_RTOL
    atol = fd.tolerance.atol if fd.tolerance.atol is not None else FD_DEFAULT_ATOL
    f0 = run.output.detach()
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
    directions = random_directions(theta, fd.directions, generator_for(seed, 31337))
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
        raise CheckFailure(
            "backward is inconsistent with your own forward: along random direction "
            f"{k + 1} of {len(bad)}, u.J.d from central differences is {float(est.values[k]):.6g} but "
            f"your backward gives {float(projected[k]):.6g} "
            f"(allowed {float(atol + rtol * est.values[k].abs() + est.allowance[k]):.3g})")
    if bool(bad.any()):
        raise KinkCrossed()
    if own_autograd:
        _compare_with_own_autograd(ex, layout, inputs, upstream, student, rtol, atol)


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
    problems = []
    for index, shape in layout:
        part = slice(offset, offset + shape.numel())
        offset += shape.numel()
        mismatch = compare(student[part].reshape(shape), expected[part].reshape(shape), rtol, atol,
                           excused[part].reshape(shape))
        if mismatch:
            problems.append(f"gradient for '{ex.spec.inputs[index].name}' {shape_text(student[part].reshape(shape))} "
                            f"disagrees with {source}: {mismatch.describe()}")
    if problems:
        raise CheckFailure("backward is inconsistent with your own forward: " + "\n".join(problems))
    raise KinkCrossed()


def _compare_with_own_autograd(ex, layout, inputs, upstream, student, rtol, atol) -> None:
    """Large inputs: also compare every element against autograd through the student's own forward."""
    leaves = [t.detach().clone() for t in inputs]
    for index, _ in layout:
        leaves[index].requires_grad_(True)
    try:
        with torch.enable_grad():
            out = ex.op.pure_forward(*leaves)
            grads = torch.autograd.grad(reference.project(out, upstream), [leaves[i] for i, _ in layout],
                                        allow_unused=True)
    except Exception:  # noqa: BLE001 - a forward autograd cannot follow; the projections stand alone
        return
    if any(g is None for g in grads):
        return
    expected = torch.cat([g.reshape(-1).double() for g in grads])
    zeros = torch.zeros_like(expected)
    _report_elementwise(ex, layout, student, expected, lambda: zeros, zeros.bool, rtol, atol,
                        "torch.autograd through your own forward")


# ----------------------------------------------------------------------------- edge cases

def check_edge_cases(ex: Exercise) -> None:
    for case in ex.spec.edge_cases:
        inputs = _on_device(ex, edge_case_inputs(ex.spec, case))
        context = f"edge case '{case.name}': "
        try:
            compare_forward(ex, inputs)
        except CheckFailure as failure:
            failure.message = context + failure.message
            raise
        try:
            compare_backward(ex, inputs, ex.spec.seed)
        except CheckFailure as failure:
            failure.message = context + "backward: " + failure.message
            raise


# ----------------------------------------------------------------------------- properties of backward

def check_backward_properties(ex: Exercise, trial: Trial) -> None:
    """What gradcheck checks beyond values: linear in grad_output, zero in -> zero out, repeatable,
    and the same answers for non-contiguous inputs."""
    spec = ex.spec
    inputs = _on_device(ex, make_inputs(spec, trial))
    run, upstream, grads = student_gradients(ex, inputs, trial.values_seed)
    differentiable = [(i, s) for i, s in enumerate(spec.inputs) if s.differentiable]
    other = upstream_gradient(run.output, trial.values_seed, stream=20_011)
    a, b = 0.75, -1.5

    def again(grad_output):
        return call_student(ex.op.backward, run, grad_output)

    def first_difference(actual, expected, scale=1.0):
        for index, spec_input in differentiable:
            rtol, atol = resolve(grads[index].dtype, spec.tolerance, spec_input.tolerance)
            mismatch = compare(actual[index], expected[index], rtol, atol * scale)
            if mismatch:
                return f"gradient for '{spec_input.name}': {mismatch.describe()}"
        return None

    repeat = again(upstream)
    problem = first_difference(repeat, grads)
    if problem:
        raise CheckFailure("backward gives a different answer when called twice with the same grad_output "
                           f"(does it change state it saved?): {problem}")
    zero = again(torch.zeros_like(upstream))
    for index, spec_input in differentiable:
        if zero[index] is not None and bool((zero[index] != 0).any()):
            raise CheckFailure(f"a zero grad_output must give zero gradients, but the gradient for "
                               f"'{spec_input.name}' is not zero (is something added instead of multiplied?)")
    combined = again(a * upstream + b * other)
    separate = again(other)
    expected = [None if g is None else a * g + b * s for g, s in zip(grads, separate)]
    problem = first_difference(combined, expected, scale=4.0)
    if problem:
        raise CheckFailure("backward is not linear in grad_output: backward(a*u + b*v) differs from "
                           f"a*backward(u) + b*backward(v): {problem}")
    if spec.non_contiguous:
        strided = [non_contiguous_copy(t) for t in inputs]
        _, _, strided_grads = student_gradients(ex, strided, trial.values_seed)
        problem = first_difference(strided_grads, grads, scale=4.0)
        if problem:
            raise CheckFailure("backward gives different gradients when the inputs are non-contiguous "
                               f"(strided views): {problem}")


# ----------------------------------------------------------------------------- double backward

def check_double_backward(ex: Exercise, trial: Trial) -> None:
    """gradgradcheck-style: the student's backward, differentiated by autograd, against the reference's."""
    spec = ex.spec
    inputs = [reference.as_reference_dtype(t).to(ex.device) for t in make_inputs(spec, trial).values()]
    # First order must already have the right structure; its output's shape is the reference's.
    run, _, _ = student_gradients(ex, inputs, trial.values_seed)
    upstream = upstream_gradient(run.output.detach(), trial.values_seed)
    directions = [upstream_gradient(t, trial.values_seed, stream=30_000 + i) for i, t in enumerate(inputs)]
    differentiable = [i for i, s in enumerate(spec.inputs) if s.differentiable]
    actual = call_student(ex.op.second_order, inputs, upstream, directions)
    expected = second_order(lambda *args: spec.reference.function(*args, **spec.reference.kwargs), inputs,
                            [s.differentiable for s in spec.inputs], upstream, directions)
    names = [spec.inputs[i].name for i in differentiable] + ["grad_output"]
    problems = []
    for name, got, want in zip(names, actual, expected):
        mismatch = compare(got, want, FD_DEFAULT_RTOL, FD_DEFAULT_ATOL)
        if mismatch:
            problems.append(f"second derivative with respect to '{name}': {mismatch.describe()}")
    if problems:
        raise CheckFailure("double backward: differentiating your backward does not give the reference's second "
                           "derivatives (build backward from differentiable torch ops on the saved tensors, "
                           "without .detach() or .data): " + "\n".join(problems))


TRIAL_CHECKS: dict[str, Callable[[Exercise, Trial], None]] = {
    "forward": check_forward,
    "backward": check_backward,
    "backward_properties": check_backward_properties,
    "finite_differences": check_finite_differences,
    "double_backward": check_double_backward,
}
