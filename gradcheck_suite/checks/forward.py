"""The forward check: the student's output against the reference's, inputs left unchanged."""

from __future__ import annotations

from typing import Sequence

import torch

from ..errors import ExerciseBroken
from ..exercise.model import ExerciseSpec, SideOutput
from ..inputs.tensors import make_inputs
from ..inputs.trial import Trial
from ..numerics import reference_eval as reference
from ..numerics.tolerances import compare, resolve, shape_text, widest_rounding_allowance
from ..student.styles import ON_ARRAYS
from .kept import keep_run, keeps
from .subject import ExerciseUnderTest, call_student, dtype_name, for_trial, on_device
from .verdicts import CheckFailure


def compare_forward(ex: ExerciseUnderTest, inputs: Sequence[torch.Tensor], trial: Trial | None = None) -> None:
    """Every output against the reference's, by name where there are several (a non-differentiable
    output is checked here and only here). With the `trial` the inputs were drawn for, the run is
    kept for the backward check of that trial to continue (checks.kept)."""
    spec = ex.spec
    assert ex.op is not None  # checks run only on an exercise whose file loaded (run_check)
    run = call_student(ex.op.forward, inputs, keeps(ex, trial, inputs))
    if trial is not None:
        keep_run(ex, trial, inputs, run)
    exact = reference.forward(spec, [reference.as_reference_dtype(t) for t in inputs])
    low = reference.low_precision(spec, reference.forward, inputs)
    for position, out in enumerate(run.outputs):
        low_k = low[position] if low is not None else None
        _compare_output(ex, position, out, exact[position], low_k, inputs, exact)
    if spec.side_outputs:
        _compare_side_outputs(ex, run.side, inputs)


def _compare_side_outputs(ex: ExerciseUnderTest, found: dict[str, torch.Tensor | str],
                          inputs: Sequence[torch.Tensor]) -> None:
    """Each side output (an entry of a dict param, such as bn_param['running_mean']) as the student's
    forward left it in its copy of the dict, against what the reference left in its own copy."""
    spec = ex.spec
    expected = reference.side_values(spec, [reference.as_reference_dtype(t) for t in inputs])
    given = reference.given_values(spec)
    for side in spec.side_outputs:
        exact = expected[side.path]
        if isinstance(exact, str):
            raise ExerciseBroken(f"the reference {spec.reference.target} leaves {side.label} "
                                 f"{'absent' if exact == reference.MISSING else 'a ' + exact} after its call, "
                                 "expected a tensor (side_outputs names an entry it never writes)")
        _compare_side_output(ex, side, found.get(side.path, reference.MISSING), exact, given[side.path])


def _compare_side_output(ex: ExerciseUnderTest, side: SideOutput, got: torch.Tensor | str, exact: torch.Tensor,
                         before: torch.Tensor | str) -> None:
    spec, label = ex.spec, side.label
    noun = "NumPy array" if spec.student_style in ON_ARRAYS else "tensor"
    if isinstance(got, str):
        if got == reference.MISSING:
            raise CheckFailure(f"{label} is missing after the forward: expected your forward to write it "
                               f"({label} = ...)")
        raise CheckFailure(f"{label} after the forward is a {got}, expected a {noun} of shape {shape_text(exact)}")
    if got.shape != exact.shape:
        raise CheckFailure(f"{label} after the forward has shape {shape_text(got)}, expected {shape_text(exact)}")
    rtol, atol = resolve(got.dtype if got.is_floating_point() else torch.float64, spec.tolerance)
    mismatch = compare(got, exact, rtol, atol)
    if not mismatch:
        return
    if isinstance(before, torch.Tensor) and before.shape == got.shape and compare(got, before, 0.0, 0.0) is None:
        raise CheckFailure(f"{label} after the forward still holds the value it was given, and the reference "
                           f"({spec.reference.target}) updates it: expected your forward to write the new value "
                           f"back into {side.param} ({label} = ...)", mismatches=[mismatch])
    raise CheckFailure(f"{label} after the forward differs from the reference's ({spec.reference.target}): "
                       f"{shape_text(got)}: {mismatch.describe()}", mismatches=[mismatch])


def _compare_output(ex: ExerciseUnderTest, position: int, out: torch.Tensor, exact: torch.Tensor,
                    low: torch.Tensor | None, inputs: Sequence[torch.Tensor], every: Sequence[torch.Tensor]) -> None:
    """Output `position` against the reference's; messages say "forward returned ..." for an
    exercise with one output, and name the output where there are several."""
    spec = ex.spec
    name = spec.outputs[position].name if spec.several_outputs else None
    if not exact.is_floating_point():
        expected_dtype = exact.dtype  # indices and counts keep the reference's integer dtype
    else:
        expected_dtype = low.dtype if low is not None else _float_dtype(inputs, exact.dtype)
    where = "forward" if name is None else f"forward output '{name}'"
    if out.shape != exact.shape:
        raise CheckFailure(f"{where} returned shape {shape_text(out)}, expected {shape_text(exact)}"
                           + _other_output(spec, name, out, every))
    if out.dtype != expected_dtype:
        raise CheckFailure(f"{where} returned dtype {dtype_name(out.dtype)}, expected {dtype_name(expected_dtype)} "
                           "(keep the dtype of the inputs)")
    if out.device.type != ex.device.type:
        raise CheckFailure(f"{where} returned a tensor on {out.device}, expected {ex.device}")
    rtol, atol = resolve(out.dtype, spec.tolerance) if out.is_floating_point() else (0.0, 0.0)
    lows = [low] if low is not None else []
    mismatch = compare(out, exact, rtol, atol, widest_rounding_allowance(lows, exact))
    if mismatch and lows:
        # Held to the spread of rounding errors random rounding shows before failing (numerics.rounding).
        lows += [s[position] for s in reference.low_precision_sampled(spec, reference.forward, inputs)]
        mismatch = compare(out, exact, rtol, atol, widest_rounding_allowance(lows, exact))
    if mismatch:
        # one output: "forward output differs ...: output (2, 3): ..."; several: "forward output 'c' differs ...: 'c' (2, 3): ..."
        subject, label = (f"{where} output", "output") if name is None else (where, f"'{name}'")
        raise CheckFailure(f"{subject} differs from the reference ({spec.reference.target}): {label} "
                           f"{shape_text(out)}: {mismatch.describe()}" + _other_output(spec, name, out, every),
                           mismatches=[mismatch])


def _other_output(spec: ExerciseSpec, name: str | None, out: torch.Tensor, every: Sequence[torch.Tensor]) -> str:
    """With several outputs, the likely cause when this one is another output of the reference
    (outputs returned in the wrong order)."""
    if name is None:
        return ""
    for other, exact in zip(spec.outputs, every):
        if other.name != name and exact.shape == out.shape and exact.dtype.is_floating_point == out.is_floating_point() \
                and compare(out.detach().to(exact.dtype), exact, *resolve(exact.dtype, spec.tolerance)) is None:
            return (f"\n  likely cause: this is the reference's output '{other.name}': outputs returned in the wrong "
                    f"order? (expected {', '.join(o.name for o in spec.outputs)})")
    return ""


def _float_dtype(inputs: Sequence[torch.Tensor], fallback: torch.dtype) -> torch.dtype:
    floats = [t.dtype for t in inputs if t.is_floating_point()]
    return floats[0] if floats else fallback


def check_forward(ex: ExerciseUnderTest, trial: Trial) -> None:
    ex = for_trial(ex, trial)
    compare_forward(ex, on_device(ex, make_inputs(ex.spec, trial)), trial)
