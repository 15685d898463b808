"""What a student reads under a failure: the smallest failing input, the hint, the replay command."""

from __future__ import annotations

import torch

from ..checks.heatmaps import gradient_differences
from ..checks.subject import ExerciseUnderTest, for_trial
from ..checks.verdicts import CheckFailure
from ..errors import ExerciseBroken
from ..exercise.model import ExerciseSpec
from ..inputs.tensors import make_inputs, param_arrays
from ..inputs.trial import Trial
from ..numerics.tolerances import shape_text
from ..sandbox.supervisor import WorkerFailure
from .debugging import breakpoints_off
from .options import RunOptions

SMALL_TENSOR = 12


def display_trial(spec: ExerciseSpec, seed: int) -> Trial:
    """A large example (every dim and the batch at their largest) to picture a failure on: the
    shrunk example that replays it is often a single element."""
    rank, size = spec.batch_rank[1], spec.batch_size[1]
    return Trial.of(spec, {name: high for name, (_, high) in spec.dims.items()}, (size,) * rank, seed)


def failure_heatmaps(exercise: ExerciseUnderTest, seed: int) -> tuple:
    try:
        trial = display_trial(exercise.spec, seed)
        inputs = [t.to(exercise.device) for t in make_inputs(exercise.spec, trial).values()]
        with breakpoints_off():  # the grader's own calls: a student's breakpoint() stops in the check's only
            return tuple(gradient_differences(for_trial(exercise, trial), inputs, seed))
    except (CheckFailure, WorkerFailure, ExerciseBroken, RuntimeError, ValueError):
        return ()  # only a picture: without it the failure still reads in full


def feedback(exercise: ExerciseUnderTest, check: str, failure: CheckFailure, options: RunOptions) -> str:
    spec = exercise.spec
    lines = [failure.message]
    if failure.not_implemented:
        return failure.message
    if failure.trial is not None:
        lines.append("  smallest failing input: " + describe_inputs(spec, failure.trial))
        if failure.upstream:
            lines.append("  upstream gradient given to the backward: " + describe_tensors(dict(failure.upstream)))
    if spec.hint:
        lines.append(f"  hint: {spec.hint}")
    if failure.trial is not None and options.replay_command is not None:
        lines.append(f"  the example [{failure.trial.describe()}]: {failure.trial.explain()}; this runs it alone:")
        lines.append(f"  replay: {options.replay_command(spec, check, failure.trial.describe())}")
    return "\n".join(lines)


def describe_inputs(spec: ExerciseSpec, trial: Trial) -> str:
    tensors: dict[str, torch.Tensor] = dict(make_inputs(spec, trial))
    arrays = param_arrays(spec, trial.sizes or trial.dims, trial.values_seed) if spec.params else {}
    tensors.update((f"{path.split('.')[0]}[{path.split('.', 1)[1]!r}]", array) for path, array in arrays.items())
    parts = [describe_tensors(tensors)] if tensors else []
    parts.extend(f"{name}={value!r}" for name, value in trial.params.items())
    return "; ".join(parts) + f"  [{trial.describe()}]"


def describe_tensors(tensors: dict[str, torch.Tensor]) -> str:
    """name, shape and (for a few elements) values of each tensor; a 0-d one reads as a scalar."""
    parts = []
    for name, tensor in tensors.items():
        shape = shape_text(tensor)
        if tensor.dim() == 0:
            value = tensor.item()
            parts.append(f"{name} (a scalar, shape ()) = {round(value, 4) if isinstance(value, float) else value}")
        elif tensor.numel() <= SMALL_TENSOR:
            values = [round(v, 4) if isinstance(v, float) else v for v in tensor.reshape(-1).tolist()]
            parts.append(f"{name} {shape} = {values}")
        else:
            parts.append(f"{name} {shape}")
    return "; ".join(parts)
