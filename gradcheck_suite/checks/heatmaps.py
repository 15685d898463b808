"""|student - reference| of each gradient as a grid, against what the check allows, for the HTML report's pictures."""

from __future__ import annotations

from typing import Sequence

import torch

from ..inputs.tensors import upstream_gradients
from ..numerics import reference_eval as reference
from ..numerics.tolerances import resolve
from .subject import ExerciseUnderTest, call_student

HEATMAP_SIDE = 48  # rows and columns shown at most


def gradient_differences(ex: ExerciseUnderTest, inputs: Sequence[torch.Tensor], seed: int) -> list[dict]:
    """|student - reference| of each differentiable input's gradient, as a grid for a picture of
    where they differ (the last dimension across, the others down). Empty where the gradients
    cannot be compared element by element (a missing gradient, a wrong shape)."""
    spec = ex.spec
    assert ex.op is not None  # checks run only on an exercise whose file loaded (run_check)
    traced = reference.Traced(spec, [reference.as_reference_dtype(t) for t in inputs])
    run = call_student(ex.op.forward, inputs)
    if any(out.shape != ref.shape for out, ref in zip(run.outputs, traced.outputs)):
        return []
    upstream = upstream_gradients(run.outputs, spec.differentiable_outputs, seed)
    grads = call_student(ex.op.backward, run, upstream)
    exact = traced.vjp([None if u is None else u.double() for u in upstream])
    pictures = []
    differentiable = [(i, s) for i, s in enumerate(spec.inputs) if s.differentiable]
    for (index, spec_input), expected in zip(differentiable, exact):
        grad = grads[index]
        if grad is None or grad.shape != expected.shape:
            continue
        diff = (grad.detach().to("cpu", torch.float64) - expected.to("cpu")).abs()
        rtol, atol = resolve(grad.dtype, spec.tolerance, spec_input.tolerance)
        excess = diff / (atol + rtol * expected.to("cpu").abs())  # 1 is the most the backward check allows
        grid = diff.reshape(1, 1) if diff.dim() == 0 else diff.reshape(-1, diff.shape[-1])
        times = excess.reshape(grid.shape)
        pictures.append({"input": spec_input.name, "shape": list(diff.shape),
                         "dims": [str(s) for s in spec_input.shape],
                         "max": float(diff.max()) if diff.numel() else 0.0,
                         "max_excess": float(excess.max()) if excess.numel() else 0.0,
                         "grid": grid[:HEATMAP_SIDE, :HEATMAP_SIDE].tolist(),
                         "excess": times[:HEATMAP_SIDE, :HEATMAP_SIDE].tolist()})
    return pictures
