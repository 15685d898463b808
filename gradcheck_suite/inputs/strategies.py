"""Where trials come from: Hypothesis's strategy for a search, seeded draws for sweeps."""

from __future__ import annotations

import random

from hypothesis import strategies as st

from ..exercise.model import ExerciseSpec
from .params import params_strategy, seeded
from .trial import Trial, uses_batch


def trials(spec: ExerciseSpec) -> st.SearchStrategy[Trial]:
    dims = st.fixed_dictionaries({name: st.integers(lo, hi) for name, (lo, hi) in spec.dims.items()})
    if uses_batch(spec):
        (rank_lo, rank_hi), (size_lo, size_hi) = spec.batch_rank, spec.batch_size
        batch = st.lists(st.integers(size_lo, size_hi), min_size=rank_lo, max_size=rank_hi).map(tuple)
    else:
        batch = st.just(())
    if spec.params:
        return st.builds(lambda d, b, v, p: Trial.of(spec, d, b, v, p), dims, batch, st.integers(0, 2**32 - 1),
                         params_strategy(spec))
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
        if spec.params:  # drawn after the shapes: exercises without params draw as they always did
            params = {p.name: seeded(p, rng) for p in spec.params}
            drawn.append(Trial.of(spec, dims, batch, rng.randrange(2**32), params))
        else:
            drawn.append(Trial(dims, batch, rng.randrange(2**32)))
    return drawn
