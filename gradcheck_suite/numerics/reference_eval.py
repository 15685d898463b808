"""The instructor's reference: a differentiable torch function, evaluated in float64 by default."""

from __future__ import annotations

from typing import Sequence

import torch

from ..errors import ExerciseBroken
from ..exercise.model import ExerciseSpec


def as_reference_dtype(tensor: torch.Tensor, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    return tensor.detach().to(dtype) if tensor.is_floating_point() else tensor.detach()


def forward(spec: ExerciseSpec, inputs: Sequence[torch.Tensor]) -> torch.Tensor:
    with torch.no_grad():
        return call_reference(spec, inputs)


def call_reference(spec: ExerciseSpec, inputs: Sequence[torch.Tensor]) -> torch.Tensor:
    """The reference on `inputs`; ExerciseBroken (the exercise's problem, not the student's) when it
    raises or returns something other than a tensor."""
    target = spec.reference.target
    shapes = ", ".join(f"{i.name} {tuple(t.shape)}" for i, t in zip(spec.inputs, inputs))
    try:
        output = spec.reference.function(*inputs, *spec.reference.args, **spec.reference.kwargs)
    except Exception as exc:  # noqa: BLE001 - whatever the instructor's function raises
        raise ExerciseBroken(f"the reference {target} raised {type(exc).__name__}: {exc} (on {shapes})") from None
    if not isinstance(output, torch.Tensor):
        raise ExerciseBroken(f"the reference {target} returned {type(output).__name__}, expected a tensor "
                             f"(on {shapes})")
    return output


class Traced:
    """The reference evaluated once with its autograd graph: its output, then the gradients of
    the differentiable inputs for an upstream gradient (in the inputs' dtype)."""

    def __init__(self, spec: ExerciseSpec, inputs: Sequence[torch.Tensor]):
        leaves = [t.detach().requires_grad_(i.differentiable) for t, i in zip(inputs, spec.inputs)]
        self._wrt = [leaf for leaf, i in zip(leaves, spec.inputs) if i.differentiable]
        self._target = spec.reference.target
        with torch.enable_grad():
            self._output = call_reference(spec, leaves)
        self.output = self._output.detach()

    def vjp(self, grad_output: torch.Tensor) -> list[torch.Tensor]:
        try:
            with torch.enable_grad():
                grads = torch.autograd.grad(project(self._output, grad_output), self._wrt, allow_unused=True)
        except RuntimeError as exc:
            raise ExerciseBroken(f"torch.autograd cannot differentiate the reference {self._target}: {exc}") from None
        return [torch.zeros_like(w) if g is None else g.detach() for g, w in zip(grads, self._wrt)]


def vjp(spec: ExerciseSpec, inputs: Sequence[torch.Tensor], grad_output: torch.Tensor,
        ) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """(output, gradients of the differentiable inputs) by torch.autograd, in the inputs' dtype."""
    traced = Traced(spec, inputs)
    return traced.output, traced.vjp(grad_output)


def project(output: torch.Tensor, grad_output: torch.Tensor) -> torch.Tensor:
    """sum(output * grad_output): its gradient is exactly the vector-Jacobian product.

    Used instead of passing grad_outputs to torch.autograd.grad, whose first call imports sympy
    (about a second of start-up) to compare shapes.
    """
    return (output * grad_output.to(output.dtype)).sum()


def low_precision(spec: ExerciseSpec, function, inputs: Sequence[torch.Tensor], *args):
    """Run `function` on the inputs as given (the exercise's dtype) to measure the reference's own
    rounding error; None when all inputs are float64 (nothing to measure) or the reference cannot."""
    if all(t.dtype == torch.float64 for t in inputs if t.is_floating_point()):
        return None
    try:
        return function(spec, inputs, *args)
    except (RuntimeError, TypeError, NotImplementedError, ExerciseBroken):
        return None
