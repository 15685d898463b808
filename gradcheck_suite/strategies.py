"""Trials: what Hypothesis draws (dims, batch shape, a values seed) and the tensors they become."""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field

import torch
from hypothesis import strategies as st

from .config import BATCH, Domain, EdgeCase, ExerciseSpec, InputSpec
from .domains import keep_away, sample


@dataclass(frozen=True)
class Trial:
    """One random example. Small and printable: shapes and a seed, from which every value follows."""

    dims: dict[str, int] = field(default_factory=dict)
    batch: tuple[int, ...] = ()
    values_seed: int = 0

    def describe(self) -> str:
        parts = [f"{name}={size}" for name, size in self.dims.items()]
        if self.batch:
            parts.append("batch=" + "x".join(str(b) for b in self.batch))
        parts.append(f"values={self.values_seed}")
        return ",".join(parts)

    @classmethod
    def parse(cls, text: str, spec: ExerciseSpec) -> "Trial":
        """Inverse of describe(); raises ValueError naming the part it cannot read."""
        dims: dict[str, int] = {}
        batch: tuple[int, ...] = ()
        values_seed = 0
        for part in filter(None, (p.strip() for p in text.split(","))):
            key, sep, value = part.partition("=")
            if not sep:
                raise ValueError(f"expected NAME=VALUE, got {part!r}")
            if key == "values":
                values_seed = int(value)
            elif key == "batch":
                batch = tuple(int(v) for v in re.split(r"x", value) if v) if value else ()
            elif key in spec.dims:
                dims[key] = int(value)
            else:
                raise ValueError(f"unknown dim {key!r} (dims are: {', '.join(spec.dims) or 'none'})")
        missing = [name for name in spec.dims if name not in dims]
        if missing:
            raise ValueError(f"missing dims: {', '.join(missing)}")
        return cls(dims, batch, values_seed)


def uses_batch(spec: ExerciseSpec) -> bool:
    return any(BATCH in i.shape for i in spec.inputs)


def trials(spec: ExerciseSpec) -> st.SearchStrategy[Trial]:
    dims = st.fixed_dictionaries({name: st.integers(lo, hi) for name, (lo, hi) in spec.dims.items()})
    if uses_batch(spec):
        (rank_lo, rank_hi), (size_lo, size_hi) = spec.batch_rank, spec.batch_size
        batch = st.lists(st.integers(size_lo, size_hi), min_size=rank_lo, max_size=rank_hi).map(tuple)
    else:
        batch = st.just(())
    return st.builds(Trial, dims, batch, st.integers(0, 2**32 - 1))


def seeded_trials(spec: ExerciseSpec, count: int, seed: int) -> list[Trial]:
    """`count` trials drawn uniformly from the same space as `trials(spec)`, without Hypothesis:
    for sweeps over many examples, where Hypothesis's search and shrinking are not needed."""
    rng = random.Random(seed)
    batched = uses_batch(spec)
    (rank_lo, rank_hi), (size_lo, size_hi) = spec.batch_rank, spec.batch_size
    drawn = []
    for _ in range(count):
        dims = {name: rng.randint(lo, hi) for name, (lo, hi) in spec.dims.items()}
        batch = tuple(rng.randint(size_lo, size_hi) for _ in range(rng.randint(rank_lo, rank_hi))) if batched else ()
        drawn.append(Trial(dims, batch, rng.randrange(2**32)))
    return drawn


def shape_of(spec: InputSpec, trial: Trial) -> tuple[int, ...]:
    shape: list[int] = []
    for s in spec.shape:
        if s == BATCH:
            shape.extend(trial.batch)
        elif isinstance(s, str):
            shape.append(trial.dims[s])
        else:
            shape.append(s)
    return tuple(shape)


def generator_for(seed: int, stream: int) -> torch.Generator:
    """An independent CPU generator for one (trial seed, stream) pair."""
    return torch.Generator().manual_seed((seed * 1_000_003 + stream) % (2**63))


def make_inputs(spec: ExerciseSpec, trial: Trial) -> dict[str, torch.Tensor]:
    """The trial's inputs in the exercise's dtypes, on the CPU (callers move them to the device)."""
    return {
        i.name: sample(i.domain, shape_of(i, trial), generator_for(trial.values_seed, index)).to(i.dtype)
        for index, i in enumerate(spec.inputs)
    }


def edge_case_inputs(spec: ExerciseSpec, case: EdgeCase) -> dict[str, torch.Tensor]:
    """The literal inputs of an edge case, in the exercise's dtypes, on the CPU."""
    tensors = {}
    for index, i in enumerate(spec.inputs):
        value = case.inputs[i.name]
        if isinstance(value, dict):
            shape = tuple(value["shape"])
            if value.get("random"):
                tensor = sample(i.domain, shape, generator_for(spec.seed, 7919 + index))
            else:
                tensor = torch.full(shape, float(value["fill"]), dtype=torch.float64)
        else:
            tensor = torch.tensor(value, dtype=torch.float64)
        tensors[i.name] = tensor.to(i.dtype)
    return tensors


_UPSTREAM_DOMAIN = Domain(avoid=(0.0, 1.0, -1.0), margin=0.2)
_FEW = 16  # with more elements, some are far from 1 anyway


def upstream_gradient(like: torch.Tensor, seed: int, stream: int = 10_007) -> torch.Tensor:
    """A random upstream gradient, every element kept away from 0 and 1.

    Never all ones (code that ignores grad_output would pass); for small outputs no element near
    1 or 0, so that a 0-d loss also gets a cotangent that exposes an ignored grad_output.
    """
    g = torch.randn(like.shape, generator=generator_for(seed, stream)).to(torch.float64)
    if g.numel() <= _FEW:
        g = keep_away(g, _UPSTREAM_DOMAIN)
    return g.to(dtype=like.dtype, device=like.device)
