"""The instructor's reference: a differentiable torch function, evaluated in float64 by default."""

from __future__ import annotations

from typing import Sequence

import torch

from ..exercise.model import ExerciseSpec


def as_reference_dtype(tensor: torch.Tensor, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    return tensor.detach().to(dtype) if tensor.is_floating_point() else tensor.detach()


def forward(spec: ExerciseSpec, inputs: Sequence[torch.Tensor]) -> torch.Tensor:
    with torch.no_grad():
        return spec.reference.function(*inputs, **spec.reference.kwargs)


class Traced:
    """The reference evaluated once with its autograd graph: its output, then the gradients of
    the differentiable inputs for an upstream gradient (in the inputs' dtype)."""

    def __init__(self, spec: ExerciseSpec, inputs: Sequence[torch.Tensor]):
        leaves = [t.detach().requires_grad_(i.differentiable) for t, i in zip(inputs, spec.inputs)]
        self._wrt = [leaf for leaf, i in zip(leaves, spec.inputs) if i.differentiable]
        with torch.enable_grad():
            self._output = spec.reference.function(*leaves, **spec.reference.kwargs)
        self.output = self._output.detach()

    def vjp(self, grad_output: torch.Tensor) -> list[torch.Tensor]:
        with torch.enable_grad():
            grads = torch.autograd.grad(project(self._output, grad_output), self._wrt, allow_unused=True)
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
    except (RuntimeError, TypeError, NotImplementedError):
        return None
