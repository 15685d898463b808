"""Checking one autograd.Function on given tensors, without a YAML file.

    from gradcheck_suite.api import check_function
    problems = check_function(MyLinear, [x, w, b], reference=lambda x, w, b: x @ w + b)

Runs the same checks as the grader: the backward against torch.autograd on the reference (when
one is given) and against central differences of the function's own forward.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Callable, Sequence

import torch

from .checks.backward import compare_backward
from .checks.finite_differences import compare_finite_differences
from .checks.subject import ExerciseUnderTest
from .checks.verdicts import CheckFailure, KinkCrossed
from .exercise.model import Domain, ExerciseSpec, FiniteDifferences, InputSpec, Reference, Tolerance
from .student.op import StudentOp
from .vocabulary import CheckName


def _spec(function, inputs: Sequence[torch.Tensor], reference: Callable | None, fd: FiniteDifferences) -> ExerciseSpec:
    specs = tuple(
        InputSpec(f"input{i}", tuple(t.shape), t.dtype, Domain(), bool(t.requires_grad), Tolerance())
        for i, t in enumerate(inputs)
    )
    return ExerciseSpec(
        path=Path(f"<{function.__name__}>"), name=function.__name__, title=function.__name__, points=0.0,
        student_file="", student_class=function.__name__,
        reference=Reference(getattr(reference, "__name__", "reference"), reference or function.apply, {}),
        inputs=specs, dims={}, batch_rank=(0, 0), batch_size=(1, 1), trials=1, seed=0, tolerance=Tolerance(),
        hint="", edge_cases=(), device=str(inputs[0].device.type), finite_differences=fd,
        checks=(CheckName.BACKWARD, CheckName.FINITE_DIFFERENCES),
    )


def check_function(function: type[torch.autograd.Function], inputs: Sequence[torch.Tensor],
                   reference: Callable | None = None, *, seed: int = 0, fd_mode: str = "adaptive",
                   max_full: int = 128, directions: int = 2) -> list[str]:
    """Problems found (empty when the function passes). Inputs that require grad are differentiated.

    `fd_mode` "adaptive" (the default here) checks finite differences along random directions and
    goes element by element (up to `max_full` elements) only to report a disagreement; "auto",
    the grader's default, always goes element by element for small inputs.
    """
    fd = FiniteDifferences(mode=fd_mode, max_full=max_full, directions=directions)
    spec = _spec(function, inputs, reference, fd)
    source = Path(getattr(sys.modules.get(function.__module__), "__file__", None) or ".")
    op = StudentOp(function, [i.name for i in spec.inputs], [i.differentiable for i in spec.inputs], source)
    exercise = ExerciseUnderTest(spec, source, op)
    problems = []
    exact = [t.detach().double() for t in inputs]
    computed = None
    if reference is not None:
        try:
            computed = compare_backward(exercise, inputs, seed)
        except CheckFailure as failure:
            problems.append(f"backward: {failure.message}")
    if any(t.dtype != torch.float64 for t in inputs):
        computed = None  # finite differences need the float64 run
    try:
        compare_finite_differences(exercise, exact, seed, own_autograd=reference is None, computed=computed)
    except CheckFailure as failure:
        problems.append(f"finite_differences: {failure.message}")
    except KinkCrossed:
        pass
    return problems
