"""The backward check: each gradient against torch.autograd on the reference, element by element, with
its shape, dtype and device; the student's gradients as the other checks use them."""

from __future__ import annotations

from contextlib import contextmanager
from functools import cached_property
from typing import Callable, Iterator, Sequence

import torch

from ..exercise.model import ExerciseSpec, InputSpec
from ..inputs.tensors import make_inputs, ones_for, upstream_gradients
from ..inputs.trial import Trial
from ..numerics import diagnoses
from ..numerics import reference_eval as reference
from ..numerics.tolerances import Closeness, Mismatch, resolve, shape_text, widest_rounding_allowance
from .kept import keep_gradients, keeps, kept_run
from .subject import ExerciseUnderTest, call_student, dtype_name, for_trial, indexed_differentiable, on_device
from .verdicts import CheckFailure


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
                f"{name}{hint}" + cause_lines(causes))
    if grad.dtype != expected_dtype:
        return f"gradient for '{name}' has dtype {dtype_name(grad.dtype)}, expected {dtype_name(expected_dtype)}, the dtype of {name}"
    if grad.device.type != like.device.type:
        return f"gradient for '{name}' is on {grad.device}, expected {like.device}, where {name} is"
    return None


def cause_lines(causes: Sequence[str | None]) -> str:
    """The lines that follow a gradient's report, one per diagnosis found (diagnoses.py)."""
    return "".join(f"\n  likely cause: {cause}" for cause in causes if cause)


class ReferenceGradients:
    """The reference's side of one backward trial: its gradients for the grader's upstream
    gradients (one per output, None for a non-differentiable one), the tolerance each of the
    student's is held to, and the likely causes of a wrong one. Each part is computed when first
    asked for (positions count differentiable inputs)."""

    def __init__(self, spec: ExerciseSpec, inputs: Sequence[torch.Tensor], upstream: Sequence[torch.Tensor | None],
                 remembered: reference.Remembered | None = None):
        self.spec, self.inputs, self.upstream = spec, inputs, list(upstream)
        self._given = remembered

    @cached_property
    def exact_inputs(self) -> list[torch.Tensor]:
        return [reference.as_reference_dtype(t) for t in self.inputs]

    @cached_property
    def expected(self) -> list[torch.Tensor]:
        return self._remembered.vjp([None if u is None else u.double() for u in self.upstream])

    @cached_property
    def _remembered(self) -> reference.Remembered:
        """The reference on these inputs (the caller's, whose trace gave it the outputs' shapes)."""
        return self._given or reference.Remembered(self.spec, self.exact_inputs)

    @cached_property
    def all_ones(self) -> list[torch.Tensor]:
        """The gradients for an all-ones upstream gradient: what code that ignores it returns."""
        return self._vjp([None if u is None else torch.ones_like(u, dtype=torch.float64) for u in self.upstream])

    @cached_property
    def without_each_output(self) -> list[tuple[str, list[torch.Tensor]]]:
        """With several differentiable outputs: per output, the gradients when its upstream gradient
        is left out (what a backward that ignores it returns)."""
        found = []
        for k, (output, u) in enumerate(zip(self.spec.outputs, self.upstream)):
            if u is None or sum(v is not None for v in self.upstream) < 2:
                continue
            found.append((output.name, self._vjp([None if j == k or v is None else v.double()
                                                  for j, v in enumerate(self.upstream)])))
        return found

    def _vjp(self, grad_outputs: Sequence[torch.Tensor | None]) -> list[torch.Tensor]:
        return reference.vjp(self.spec, self.exact_inputs, grad_outputs)[1]

    @cached_property
    def _low_precision(self) -> list[torch.Tensor | None]:
        low = reference.low_precision(self.spec, reference.vjp, self.inputs, self.upstream)
        return low[1] if low is not None else [None] * len(self.expected)

    @cached_property
    def _sampled_low_precision(self) -> list[list[torch.Tensor]]:
        """Per position, the reference's gradients in the exercise's dtype under random rounding."""
        samples = reference.low_precision_sampled(self.spec, reference.vjp, self.inputs, self.upstream)
        return [[sample[1][position] for sample in samples] for position in range(len(self.expected))]

    def closeness(self, position: int, spec_input: InputSpec, dtype: torch.dtype, sampled: bool = False) -> Closeness:
        """The tolerance for one gradient; its rounding allowance from the reference in the
        exercise's dtype, evaluated once, or with `sampled` also under random rounding."""
        rtol, atol = resolve(dtype, self.spec.tolerance, spec_input.tolerance)
        low, expected = self._low_precision[position], self.expected[position]
        lows = ([low] if low is not None else []) + (self._sampled_low_precision[position] if sampled else [])
        return Closeness(rtol, atol, widest_rounding_allowance(lows, expected))

    def mismatch(self, position: int, spec_input: InputSpec, grad: torch.Tensor) -> tuple[Closeness, Mismatch | None]:
        """The student's gradient against the reference's: the tolerance it is held to and the worst
        element outside it. A low-precision gradient outside the allowance one evaluation of the
        reference measures is held to the spread random rounding shows before it fails. (A rounding
        allowance only widens the tolerance: a gradient within it without one needs no measuring.)"""
        plain = Closeness(*resolve(grad.dtype, self.spec.tolerance, spec_input.tolerance))
        if plain.mismatch(grad, self.expected[position]) is None:
            return plain, None
        tol = self.closeness(position, spec_input, grad.dtype)
        found = tol.mismatch(grad, self.expected[position])
        if found is not None and self._low_precision[position] is not None:
            tol = self.closeness(position, spec_input, grad.dtype, sampled=True)
            found = tol.mismatch(grad, self.expected[position])
        return tol, found

    def likely_causes(self, position: int, spec_input: InputSpec, tol: Closeness, grad: torch.Tensor) -> list[str]:
        causes = diagnoses.diagnose(grad, self.expected[position], tol, self.all_ones[position],
                                    diagnoses.dimension_sizes(self.spec.inputs, self.inputs), f"'{spec_input.name}'")
        if grad.shape == self.expected[position].shape:
            for name, without in self.without_each_output:
                if tol.mismatch(grad, without[position]) is None:
                    causes.insert(0, f"the upstream gradient of output '{name}' is ignored: this is the gradient "
                                     f"of '{spec_input.name}' without it (every differentiable output's gradient "
                                     "reaches the inputs; add its path)")
        return causes

    def explainer(self, position: int, spec_input: InputSpec,
                  dtype: torch.dtype) -> Callable[[torch.Tensor], list[str]]:
        """likely_causes() of a gradient, its tolerance (and the reference's gradients) worked out
        only when it is called: on failure."""
        def explain(grad: torch.Tensor) -> list[str]:
            return self.likely_causes(position, spec_input, self.closeness(position, spec_input, dtype), grad)
        return explain


@contextmanager
def showing_upstream(spec: ExerciseSpec, upstream: Sequence[torch.Tensor | None]) -> Iterator[None]:
    """A failure inside carries the upstream gradients the backward was given, so that the student
    can redo the backward by hand on the smallest failing input (grading.feedback shows them)."""
    try:
        yield
    except CheckFailure as failure:
        if not failure.upstream:
            failure.upstream = tuple(
                ("grad_output" if not spec.several_outputs else f"grad_{output.name}", gradient)
                for output, gradient in zip(spec.outputs, upstream) if gradient is not None)
        raise


def output_shape_problem(spec: ExerciseSpec, outputs: Sequence[torch.Tensor], expected: Sequence[torch.Size]) -> str | None:
    """A forward output of the wrong shape, which no gradient can be checked against."""
    for output_spec, out, shape in zip(spec.outputs, outputs, expected):
        if out.shape != shape:
            where = "forward" if not spec.several_outputs else f"forward output '{output_spec.name}'"
            return (f"{where} returned shape {shape_text(out)}, expected {shape_text(torch.empty(shape))}; "
                    "fix the forward before the backward can be checked")
    return None


def student_gradients(ex: ExerciseUnderTest, inputs: Sequence[torch.Tensor], seed: int, check_output_shape: bool = True,
                      expected_shape: Sequence[torch.Size] | None = None, diagnose: bool = False,
                      trial: Trial | None = None):
    """The student's forward and raw gradients for seeded upstream gradients (one per
    differentiable output, None for the others), after checking the outputs' shapes (against
    `expected_shape`, or the reference's) and the gradients' structure. With `diagnose`, a
    gradient of the wrong shape is compared with the reference's to name the likely cause. With
    the `trial` the inputs were drawn for, the forward check's run of it is continued when kept
    (checks.kept), and a new forward is one to keep."""
    assert ex.op is not None  # checks run only on an exercise whose file loaded (run_check)
    run = kept_run(ex, trial, inputs) or call_student(ex.op.forward, inputs, keeps(ex, trial, inputs))
    if check_output_shape:
        if expected_shape is None:
            expected_shape = [o.shape for o in reference.forward(ex.spec, [reference.as_reference_dtype(t)
                                                                           for t in inputs])]
        problem = output_shape_problem(ex.spec, run.outputs, expected_shape)
        if problem:
            raise CheckFailure(problem)
    upstream = upstream_gradients(run.outputs, ex.spec.differentiable_outputs, seed)
    with showing_upstream(ex.spec, upstream):
        grads = call_student(ex.op.backward, run, upstream)
        ref = ReferenceGradients(ex.spec, inputs, upstream) if diagnose else None
        problems = []
        for position, (index, spec_input) in enumerate(indexed_differentiable(ex.spec)):
            like = inputs[index]
            explain = ref.explainer(position, spec_input, like.dtype) if ref is not None else None
            problem = structure_problem(spec_input, grads[index], like, like.dtype, explain)
            if problem:
                problems.append(problem)
        if problems:
            raise CheckFailure("\n".join(problems))
    return run, upstream, grads


def compare_backward(ex: ExerciseUnderTest, inputs: Sequence[torch.Tensor], seed: int, trial: Trial | None = None):
    """The student's gradients against torch.autograd on the reference, for independent random
    upstream gradients of every differentiable output. Returns the student_gradients() result,
    for callers that check the same run further; with the `trial` the inputs were drawn for, it
    continues the forward check's run of it and is kept for the later checks (checks.kept)."""
    spec = ex.spec
    # one trace of the reference for both VJPs: the random upstream gradients' and all ones'
    remembered = reference.Remembered(spec, [reference.as_reference_dtype(t) for t in inputs], vjps=2)
    computed = student_gradients(ex, inputs, seed, expected_shape=[o.shape for o in remembered.outputs], diagnose=True,
                                 trial=trial)
    if trial is not None:
        keep_gradients(ex, trial, inputs, computed)
    _, upstream, grads = computed
    ref = ReferenceGradients(spec, inputs, upstream, remembered)
    problems, mismatches = [], []
    for position, (index, spec_input) in enumerate(indexed_differentiable(spec)):
        found = _value_problem(spec_input, position, ref, grads[index], diagnose=True)
        if found:
            problems.append(found[0])
            mismatches.append(found[1])
    if problems:
        with showing_upstream(spec, upstream):
            raise CheckFailure("\n".join(problems), mismatches=mismatches)
    compare_for_all_ones(ex, inputs, computed[0], remembered)
    return computed


def _value_problem(spec_input: InputSpec, position: int, ref: ReferenceGradients, grad: torch.Tensor,
                   diagnose: bool = False) -> tuple[str, Mismatch] | None:
    """One gradient against the reference's, element by element; with `diagnose`, the likely cause."""
    tol, mismatch = ref.mismatch(position, spec_input, grad)
    if mismatch is None:
        return None
    causes = cause_lines(ref.likely_causes(position, spec_input, tol, grad)) if diagnose else ""
    return (f"gradient for '{spec_input.name}' {shape_text(grad)} differs from torch.autograd on the "
            f"reference: {mismatch.describe()}" + causes, mismatch)


def compare_for_all_ones(ex: ExerciseUnderTest, inputs: Sequence[torch.Tensor], run,
                         remembered: reference.Remembered | None = None) -> None:
    """The student's gradients for an all-ones grad_output (for every differentiable output), the
    one `loss.backward()` passes, on the same forward run. The random upstream gradients catch a
    backward that ignores grad_output; this one catches a backward that is wrong for exactly this one."""
    assert ex.op is not None
    ones = ones_for(run.outputs, ex.spec.differentiable_outputs)
    grads = call_student(ex.op.backward, run, ones)
    ref = ReferenceGradients(ex.spec, inputs, ones, remembered)
    problems, mismatches = [], []
    for position, (index, spec_input) in enumerate(indexed_differentiable(ex.spec)):
        like, grad = inputs[index], grads[index]
        problem = structure_problem(spec_input, grad, like, like.dtype)
        if problem:
            problems.append(problem)
            continue
        found = _value_problem(spec_input, position, ref, grad)
        if found:
            problems.append(found[0])
            mismatches.append(found[1])
    if problems:
        raise CheckFailure("with an all-ones grad_output (the one loss.backward() passes): " + "\n".join(problems),
                           mismatches=mismatches)


def check_backward(ex: ExerciseUnderTest, trial: Trial) -> None:
    ex = for_trial(ex, trial)
    compare_backward(ex, on_device(ex, make_inputs(ex.spec, trial)), trial.values_seed, trial)
