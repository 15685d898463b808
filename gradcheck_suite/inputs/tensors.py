"""Trials: what Hypothesis draws (dims, batch shape, a values seed) and the tensors they become."""

from __future__ import annotations

import functools

import torch

from ..exercise.model import Domain, EdgeCase, ExerciseSpec, InputSpec
from .domains import keep_away, resolved, sample
from .params import least_params
from .trial import Trial, shape_of, sizes_of


def generator_for(seed: int, stream: int) -> torch.Generator:
    """An independent CPU generator for one (trial seed, stream) pair."""
    return torch.Generator().manual_seed((seed * 1_000_003 + stream) % (2**63))


def make_inputs(spec: ExerciseSpec, trial: Trial) -> dict[str, torch.Tensor]:
    """The trial's inputs in the exercise's dtypes, on the CPU (callers move them to the device).
    Every check of an exercise draws the same trials: each gets its own copy of one drawing."""
    drawn = _drawn_inputs(spec.inputs, tuple(trial.dims.items()), tuple(trial.sizes.items()), trial.batch,
                          trial.values_seed)
    return {name: tensor.clone() for name, tensor in drawn}


@functools.lru_cache(maxsize=256)
def _drawn_inputs(inputs: tuple[InputSpec, ...], dims: tuple[tuple[str, int], ...], sizes: tuple[tuple[str, int], ...],
                  batch: tuple[int, ...], seed: int) -> tuple[tuple[str, torch.Tensor], ...]:
    trial = Trial(dict(dims), batch, seed, sizes=dict(sizes))
    return tuple((i.name, sample(resolved(i.domain, trial.sizes), shape_of(i, trial),
                                 generator_for(seed, index)).to(i.dtype))
                 for index, i in enumerate(inputs))


ARRAY_STREAM = 50_021  # generator streams of a dict param's array fields, after the inputs'


def param_arrays(spec: ExerciseSpec, sizes: dict[str, int], seed: int) -> dict[str, torch.Tensor]:
    """The dict params' array fields (bn_param's running_mean: {shape: [D]}) by param.key, drawn from
    their domains like inputs, in the dtype of the exercise's first floating input, on the CPU."""
    dtype = next((i.dtype for i in spec.inputs if i.dtype.is_floating_point), torch.float64)
    arrays: dict[str, torch.Tensor] = {}
    index = 0
    for param in spec.params:
        for field in param.arrays:
            assert field.domain is not None  # read with every array field
            shape = tuple(s if isinstance(s, int) else sizes[s] for s in field.shape)
            arrays[f"{param.name}.{field.name}"] = sample(resolved(field.domain, sizes), shape,
                                                           generator_for(seed, ARRAY_STREAM + index)).to(dtype)
            index += 1
    return arrays


def edge_case_inputs(spec: ExerciseSpec, case: EdgeCase) -> dict[str, torch.Tensor]:
    """The literal inputs of an edge case, in the exercise's dtypes, on the CPU."""
    tensors = {}
    for index, i in enumerate(spec.inputs):
        value = case.inputs[i.name]
        if isinstance(value, dict):
            shape = tuple(value["shape"])
            if value.get("random"):
                domain = resolved(i.domain, edge_case_sizes(spec, case))
                tensor = sample(domain, shape, generator_for(spec.seed, 7919 + index))
            else:
                tensor = torch.full(shape, float(value["fill"]), dtype=torch.float64)
        else:
            tensor = torch.tensor(value, dtype=torch.float64)
        tensors[i.name] = tensor.to(i.dtype)
    return tensors


def edge_case_sizes(spec: ExerciseSpec, case: EdgeCase) -> dict[str, int]:
    """The dims an edge case's literal shapes give (x: {shape: [4, 3]} for x of shape [N, C]: N=4,
    C=3), for domain bounds that name a dim; params at their least values."""
    if not any(i.domain.low_expr or i.domain.high_expr for i in spec.inputs) and not any(p.arrays for p in spec.params):
        return {}
    dims: dict[str, int] = {}
    for i in spec.inputs:
        value = case.inputs[i.name]
        shape = tuple(value["shape"]) if isinstance(value, dict) else tuple(torch.tensor(value).shape)
        if "..." not in i.shape and len(shape) == len(i.shape):
            dims.update({s: n for s, n in zip(i.shape, shape) if isinstance(s, str)})
    return sizes_of(spec, dims, least_params(spec))


_UPSTREAM_DOMAIN = Domain(avoid=(0.0, 1.0, -1.0), margin=0.2)
_FEW = 16  # with more elements, some are far from 1 anyway


def upstream_gradient(like: torch.Tensor, seed: int, stream: int = 10_007) -> torch.Tensor:
    """A random upstream gradient, every element kept away from 0 and 1.

    Never all ones (code that ignores grad_output would pass); for small outputs no element near
    1 or 0, so that a 0-d loss also gets a cotangent that exposes an ignored grad_output.
    """
    draw = _remembered_upstream if like.numel() <= _REMEMBERED else _draw_upstream
    drawn = draw(tuple(like.shape), seed, stream)
    return drawn.to(dtype=like.dtype, device=like.device, copy=True)


_REMEMBERED = 1 << 16  # elements: the upstream gradients of a class's trials are far smaller


def _draw_upstream(shape: tuple[int, ...], seed: int, stream: int) -> torch.Tensor:
    g = torch.randn(shape, generator=generator_for(seed, stream)).to(torch.float64)
    return keep_away(g, _UPSTREAM_DOMAIN) if g.numel() <= _FEW else g


# Every check of a trial, and its plan, asks for the same upstream gradients: drawn once each.
_remembered_upstream = functools.lru_cache(maxsize=1024)(_draw_upstream)


OUTPUT_STREAM_STEP = 1009  # the streams of output k's upstream gradient: stream + k * step


def upstream_gradients(outputs, differentiable, seed: int, stream: int = 10_007) -> list[torch.Tensor | None]:
    """One independent random upstream gradient per differentiable output (None for the others,
    which are never given one). The first output's is upstream_gradient()'s, so that a one-output
    exercise draws exactly what it always drew."""
    return [upstream_gradient(out, seed, stream + k * OUTPUT_STREAM_STEP) if wanted else None
            for k, (out, wanted) in enumerate(zip(outputs, differentiable))]


def ones_for(outputs, differentiable) -> list[torch.Tensor | None]:
    """The all-ones upstream gradient, the one `loss.backward()` passes, for every differentiable output."""
    return [torch.ones_like(out) if wanted else None for out, wanted in zip(outputs, differentiable)]
