"""Where trials come from: Hypothesis's strategy for a search, seeded draws for sweeps."""

from __future__ import annotations

import itertools
import random
from typing import Iterator

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
    if spec.sized:
        return st.builds(lambda d, b, v, p: Trial.of(spec, d, b, v, p), dims, batch, st.integers(0, 2**32 - 1),
                         params_strategy(spec)).filter(lambda t: t.satisfies(spec))
    return st.builds(Trial, dims, batch, st.integers(0, 2**32 - 1))


def seeded_trials(spec: ExerciseSpec, count: int, seed: int) -> list[Trial]:
    """`count` trials drawn uniformly from the same space as `trials(spec)`, without Hypothesis:
    for sweeps over many examples, where Hypothesis's search and shrinking are not needed."""
    return list(itertools.islice(drawn_trials(spec, seed), count))


def drawn_trials(spec: ExerciseSpec, seed: int, smallest_first: bool = False) -> Iterator[Trial]:
    """seeded_trials(), drawn one at a time for as long as the caller wants. With `smallest_first`
    (a search's up-front trials), the first trial has every dim and batch size at its lowest, where
    Hypothesis starts too (size-1 bugs show there), its values drawn like the others'."""
    rng = random.Random(seed)
    batched = uses_batch(spec)
    (rank_lo, rank_hi), (size_lo, size_hi) = spec.batch_rank, spec.batch_size
    for k in itertools.count():
        dims = {name: rng.randint(lo, hi) for name, (lo, hi) in spec.dims.items()}
        batch = tuple(rng.randint(size_lo, size_hi) for _ in range(rng.randint(rank_lo, rank_hi))) if batched else ()
        if smallest_first and k == 0:
            dims = {name: lo for name, (lo, _) in spec.dims.items()}
            batch = (size_lo,) * rank_lo if batched else ()
        if spec.sized:  # params drawn after the shapes: other exercises draw as they always did
            yield _satisfying(spec, rng, dims, batch)
        else:
            yield Trial(dims, batch, rng.randrange(2**32))


REDRAWS = 1000


def _satisfying(spec: ExerciseSpec, rng: random.Random, dims: dict[str, int], batch: tuple[int, ...]) -> Trial:
    """A trial that satisfies the exercise's constraints: the dims and params redrawn until one does."""
    for _ in range(REDRAWS):
        params = {p.name: seeded(p, rng) for p in spec.params}
        trial = Trial.of(spec, dims, batch, rng.randrange(2**32), params)
        if trial.satisfies(spec):
            return trial
        dims = {name: rng.randint(lo, hi) for name, (lo, hi) in spec.dims.items()}
    raise ValueError(f"{spec.name}: no trial in {REDRAWS} draws satisfies the constraints "
                     f"({'; '.join(c.text for c in spec.constraints) or 'derived dims >= 0'})")
