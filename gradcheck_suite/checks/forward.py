"""The forward check: the student's output against the reference's, inputs left unchanged."""

from __future__ import annotations

from typing import Sequence

import torch

from ..inputs.tensors import make_inputs
from ..inputs.trial import Trial
from ..numerics import reference_eval as reference
from ..numerics.tolerances import compare, resolve, rounding_allowance, shape_text
from .subject import ExerciseUnderTest, call_student, dtype_name, for_trial, on_device
from .verdicts import CheckFailure


def compare_forward(ex: ExerciseUnderTest, inputs: Sequence[torch.Tensor]) -> None:
    spec = ex.spec
    assert ex.op is not None  # checks run only on an exercise whose file loaded (run_check)
    run = call_student(ex.op.forward, inputs)
    out = run.output
    exact = reference.forward(spec, [reference.as_reference_dtype(t) for t in inputs])
    low = reference.low_precision(spec, reference.forward, inputs)
    expected_dtype = low.dtype if low is not None else _float_dtype(inputs, exact.dtype)
    where = "forward"
    if out.shape != exact.shape:
        raise CheckFailure(f"{where} returned shape {shape_text(out)}, expected {shape_text(exact)}")
    if out.dtype != expected_dtype:
        raise CheckFailure(f"{where} returned dtype {dtype_name(out.dtype)}, expected {dtype_name(expected_dtype)} "
                           "(keep the dtype of the inputs)")
    if out.device.type != ex.device.type:
        raise CheckFailure(f"{where} returned a tensor on {out.device}, expected {ex.device}")
    rtol, atol = resolve(out.dtype, spec.tolerance)
    allowance = rounding_allowance(low, exact) if low is not None else 0.0
    mismatch = compare(out, exact, rtol, atol, allowance)
    if mismatch:
        raise CheckFailure(f"{where} output differs from the reference ({spec.reference.target}): "
                           f"output {shape_text(out)}: {mismatch.describe()}", mismatches=[mismatch])


def _float_dtype(inputs: Sequence[torch.Tensor], fallback: torch.dtype) -> torch.dtype:
    floats = [t.dtype for t in inputs if t.is_floating_point()]
    return floats[0] if floats else fallback


def check_forward(ex: ExerciseUnderTest, trial: Trial) -> None:
    ex = for_trial(ex, trial)
    compare_forward(ex, on_device(ex, make_inputs(ex.spec, trial)))
