"""The instructor's reference: a differentiable torch function, evaluated in float64 by default."""

from __future__ import annotations

import copy
from typing import Sequence

import torch

from ..errors import ExerciseBroken
from ..exercise.model import ExerciseSpec
from . import reference_cache, rounding


def as_reference_dtype(tensor: torch.Tensor, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    return tensor.detach().to(dtype) if tensor.is_floating_point() else tensor.detach()


def forward(spec: ExerciseSpec, inputs: Sequence[torch.Tensor]) -> tuple[torch.Tensor, ...]:
    """The reference's outputs, one per declared output (remembered: reference_cache)."""
    def compute() -> tuple[torch.Tensor, ...]:
        with torch.no_grad():
            return call_reference(spec, inputs)
    return reference_cache.remembered("forward", spec, inputs, compute)


class WrongOutputCount(ExerciseBroken):
    """The reference returns another number of outputs than the exercise's `outputs:` declares."""

    def __init__(self, detail: str, returned: int):
        super().__init__(detail)
        self.returned = returned


def call_reference(spec: ExerciseSpec, inputs: Sequence[torch.Tensor]) -> tuple[torch.Tensor, ...]:
    """The reference's outputs on `inputs`, one per declared output; ExerciseBroken (the exercise's
    problem, not the student's) when it raises or returns something else (WrongOutputCount when it
    returns another number of tensors)."""
    target = spec.reference.target
    output = _call(spec, inputs, copy.deepcopy(spec.reference.args), copy.deepcopy(spec.reference.kwargs))
    declared = len(spec.outputs)
    if declared == 1 and isinstance(output, torch.Tensor):
        return (output,)
    if isinstance(output, (tuple, list)) and all(isinstance(o, torch.Tensor) for o in output):
        if len(output) == declared and declared > 1:
            return tuple(output)
        raise WrongOutputCount(f"the reference {target} returned {len(output)} tensors, expected {_count(spec)} "
                               f"(on {_shapes(spec, inputs)})", len(output))
    if not isinstance(output, torch.Tensor):
        raise ExerciseBroken(f"the reference {target} returned {type(output).__name__}, expected "
                             f"{'a tensor' if declared == 1 else 'a tuple of ' + _count(spec)} "
                             f"(on {_shapes(spec, inputs)})")
    raise WrongOutputCount(f"the reference {target} returned one tensor, expected {_count(spec)} "
                           f"(on {_shapes(spec, inputs)})", 1)


def _shapes(spec: ExerciseSpec, inputs: Sequence[torch.Tensor]) -> str:
    """The inputs a message about the reference names: "x (4, 3), w (3, 2)"."""
    return ", ".join(f"{i.name} {tuple(t.shape)}" for i, t in zip(spec.inputs, inputs))


def _call(spec: ExerciseSpec, inputs: Sequence[torch.Tensor], args: tuple, kwargs: dict):
    """The reference called on `inputs` and its own copy of the params (a reference may write into a
    dict: every call starts from the trial's values)."""
    try:
        return spec.reference.function(*inputs, *args, **kwargs)
    except Exception as exc:  # noqa: BLE001 - whatever the instructor's function raises
        raise ExerciseBroken(f"the reference {spec.reference.target} raised {type(exc).__name__}: {exc} "
                             f"(on {_shapes(spec, inputs)})") from None


MISSING = "absent"  # what side_values records for an entry the dict does not have after the call


def side_values(spec: ExerciseSpec, inputs: Sequence[torch.Tensor]) -> dict[str, torch.Tensor | str]:
    """What the reference leaves in its copy of the params' dicts at each side output (param.key):
    a tensor, MISSING, or the name of another type."""
    args, kwargs = copy.deepcopy(spec.reference.args), copy.deepcopy(spec.reference.kwargs)
    names = [p.name for p in spec.params if p.positional]
    with torch.no_grad():
        _call(spec, inputs, args, kwargs)
    found: dict[str, torch.Tensor | str] = {}
    for side in spec.side_outputs:
        holder = args[names.index(side.param)] if side.param in names else kwargs.get(side.param)
        found[side.path] = read_entry(holder, side.key)
    return found


def given_values(spec: ExerciseSpec) -> dict[str, torch.Tensor | str]:
    """What each side output's entry held before any call (the trial's drawn array, or MISSING)."""
    names = [p.name for p in spec.params if p.positional]
    ref = spec.reference
    return {side.path: read_entry(ref.args[names.index(side.param)] if side.param in names
                                  else ref.kwargs.get(side.param), side.key) for side in spec.side_outputs}


def read_entry(holder, key: str) -> torch.Tensor | str:
    """A dict's entry after a call, as side_values records it (an array as a tensor)."""
    if not isinstance(holder, dict) or key not in holder:
        return MISSING
    value = holder[key]
    if isinstance(value, torch.Tensor):
        return value.detach()
    if type(value).__module__ == "numpy" and hasattr(value, "shape"):
        import numpy as np  # an entry a NumPy student wrote

        return torch.from_numpy(np.array(value, copy=True))
    return type(value).__name__


def _count(spec: ExerciseSpec) -> str:
    """'one tensor' or '2 tensors (h, c)': what the exercise's `outputs:` declares."""
    if len(spec.outputs) == 1:
        return "one tensor"
    return f"{len(spec.outputs)} tensors ({', '.join(o.name for o in spec.outputs)})"


class Traced:
    """The reference evaluated once with its autograd graph: its outputs, then the gradients of the
    differentiable inputs for one upstream gradient per output (None for a non-differentiable output:
    it gets none), in the inputs' dtype."""

    def __init__(self, spec: ExerciseSpec, inputs: Sequence[torch.Tensor]):
        leaves = [t.detach().requires_grad_(i.differentiable) for t, i in zip(inputs, spec.inputs)]
        self._wrt = [leaf for leaf, i in zip(leaves, spec.inputs) if i.differentiable]
        self._target = spec.reference.target
        self._differentiable = spec.differentiable_outputs
        with torch.enable_grad():
            self._outputs = call_reference(spec, leaves)
        self.outputs = tuple(o.detach() for o in self._outputs)

    def vjp(self, grad_outputs: Sequence[torch.Tensor | None], again: bool = False) -> list[torch.Tensor]:
        """The gradients of sum_k <grad_outputs[k], output_k> over the differentiable outputs; with
        `again`, the graph is kept for another VJP (else it is freed)."""
        pairs = [(o, g) for o, g, d in zip(self._outputs, grad_outputs, self._differentiable) if d and g is not None]
        try:
            with torch.enable_grad():
                grads = torch.autograd.grad(project_all(pairs), self._wrt, allow_unused=True, retain_graph=again)
        except RuntimeError as exc:
            raise ExerciseBroken(f"torch.autograd cannot differentiate the reference {self._target}: {exc}") from None
        return [torch.zeros_like(w) if g is None else g.detach() for g, w in zip(grads, self._wrt)]


class Remembered:
    """The reference on one set of inputs: its outputs and VJPs from the reference cache where it
    has them, otherwise from one autograd trace, made when first needed and shared by the outputs
    and the VJPs (what a check on new inputs needs: one forward). `vjps`: how many VJPs will be
    asked for; the trace's graph is freed by the last (a VJP after it traces again)."""

    def __init__(self, spec: ExerciseSpec, inputs: Sequence[torch.Tensor], vjps: int = 1):
        self.spec, self.inputs = spec, list(inputs)
        self._traced: Traced | None = None
        self._outputs: tuple[torch.Tensor, ...] | None = None
        self._vjps_left = vjps

    def _trace(self) -> Traced:
        if self._traced is None:
            self._traced = Traced(self.spec, self.inputs)
        return self._traced

    @property
    def outputs(self) -> tuple[torch.Tensor, ...]:
        if self._outputs is None:
            self._outputs = reference_cache.remembered("forward", self.spec, self.inputs, lambda: self._trace().outputs)
        return self._outputs

    def vjp(self, grad_outputs: Sequence[torch.Tensor | None]) -> list[torch.Tensor]:
        def compute() -> tuple[tuple[torch.Tensor, ...], list[torch.Tensor]]:
            traced = self._trace()
            self._vjps_left -= 1
            if self._vjps_left <= 0:
                self._traced = None  # Traced.vjp frees the graph it runs through
            return traced.outputs, traced.vjp(grad_outputs, again=self._vjps_left > 0)
        return reference_cache.remembered("vjp", self.spec, self.inputs, compute, grad_outputs)[1]


def vjp(spec: ExerciseSpec, inputs: Sequence[torch.Tensor], grad_outputs: Sequence[torch.Tensor | None],
        ) -> tuple[tuple[torch.Tensor, ...], list[torch.Tensor]]:
    """(outputs, gradients of the differentiable inputs) by torch.autograd, in the inputs' dtype
    (remembered: reference_cache)."""
    def compute() -> tuple[tuple[torch.Tensor, ...], list[torch.Tensor]]:
        traced = Traced(spec, inputs)
        return traced.outputs, traced.vjp(grad_outputs)
    return reference_cache.remembered("vjp", spec, inputs, compute, grad_outputs)


def project(output: torch.Tensor, grad_output: torch.Tensor) -> torch.Tensor:
    """sum(output * grad_output): its gradient is exactly the vector-Jacobian product.

    Used instead of passing grad_outputs to torch.autograd.grad, whose first call imports sympy
    (about a second of start-up) to compare shapes.
    """
    return (output * grad_output.to(output.dtype)).sum()


def project_all(pairs: Sequence[tuple[torch.Tensor, torch.Tensor]]) -> torch.Tensor:
    """sum_k <grad_k, output_k> over (output, grad) pairs: the scalar whose gradient is the VJP of
    several outputs at once (the first pair's project() alone for one output)."""
    total = project(*pairs[0])
    for output, grad in pairs[1:]:
        total = total + project(output, grad)
    return total


# What a reference that cannot run in a low-precision dtype raises (no measurement, then).
CANNOT_EVALUATE = (RuntimeError, TypeError, NotImplementedError, ExerciseBroken)


def _low(inputs: Sequence[torch.Tensor]) -> bool:
    """Whether any floating input is below float64 (a rounding error to measure)."""
    return any(t.dtype != torch.float64 for t in inputs if t.is_floating_point())


def low_precision(spec: ExerciseSpec, function, inputs: Sequence[torch.Tensor], *args):
    """Run `function` on the inputs as given (the exercise's dtype) to measure the reference's own
    rounding error; None when all inputs are float64 (nothing to measure) or the reference cannot."""
    if not _low(inputs):
        return None
    try:
        return function(spec, inputs, *args)
    except CANNOT_EVALUATE:
        return None


def low_precision_sampled(spec: ExerciseSpec, function, inputs: Sequence[torch.Tensor], *args) -> list:
    """low_precision() evaluated several times under random rounding (numerics.rounding): the
    spread of the rounding errors a correct implementation may reach; [] where there is nothing to
    measure."""
    if not _low(inputs):
        return []
    try:
        return rounding.sampled(lambda: function(spec, inputs, *args))
    except CANNOT_EVALUATE:
        return []
