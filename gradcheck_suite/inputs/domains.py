"""Draw tensor values from an input's value domain, seeded, away from kinks and ties."""

from __future__ import annotations

import math
from dataclasses import replace

import torch

from ..exercise.model import Domain


def sample(domain: Domain, shape: tuple[int, ...], generator: torch.Generator) -> torch.Tensor:
    """float64 (or int64 for integer domains) CPU tensor of `shape` drawn from `domain`."""
    kind = domain.kind
    if kind == "integers":
        assert domain.low is not None and domain.high is not None  # load_exercise requires both for integers
        return torch.randint(int(domain.low), int(domain.high), shape, generator=generator)
    if kind == "probabilities":
        logits = _normal(shape, generator) * domain.scale
        return torch.softmax(logits, dim=-1) if logits.dim() else torch.ones((), dtype=torch.float64)
    low, high = bounds(domain)
    if kind == "real" and low is None:
        values = _normal(shape, generator) * domain.scale
    elif kind == "positive":
        assert low is not None and high is not None  # bounds() gives None only for the unbounded real domain
        u = torch.rand(shape, generator=generator, dtype=torch.float64)
        values = torch.exp(math.log(low) * (1 - u) + math.log(high) * u)
    else:
        assert low is not None and high is not None  # as above
        values = low + (high - low) * torch.rand(shape, generator=generator, dtype=torch.float64)
    return keep_away(values, domain)


def resolved(domain: Domain, sizes: dict[str, int]) -> Domain:
    """The domain with bounds that name dims (high: C) evaluated for one trial's sizes."""
    if domain.low_expr is None and domain.high_expr is None:
        return domain
    low = domain.low if domain.low_expr is None else float(domain.low_expr.evaluate(sizes))
    high = domain.high if domain.high_expr is None else float(domain.high_expr.evaluate(sizes))
    return replace(domain, low=low, high=high)


def bounds(domain: Domain) -> tuple[float | None, float | None]:
    """The interval a domain's values lie in; (None, None) for the unbounded normal."""
    if domain.kind == "real" and domain.low is None and domain.high is None:
        return None, None
    if domain.kind == "positive":
        defaults = (0.1 * domain.scale, 4.0 * domain.scale)
    elif domain.kind == "unit_interval":
        defaults = (0.0, 1.0)
    else:
        defaults = (-domain.scale, domain.scale)
    return (domain.low if domain.low is not None else defaults[0],
            domain.high if domain.high is not None else defaults[1])


def _normal(shape: tuple[int, ...], generator: torch.Generator) -> torch.Tensor:
    # float32 draws are several times faster than float64 ones, and exactly representable in
    # every exercise dtype down to float32.
    return torch.randn(shape, generator=generator).to(torch.float64)


def keep_away(values: torch.Tensor, domain: Domain) -> torch.Tensor:
    """Move values at least `margin` from every avoided point and, if `distinct`, from each other.

    A monotone map, so the order of the values is kept and gaps only grow: first, if `distinct`,
    the k-th smallest value moves up by k * margin; then each avoided point opens a gap of
    2 * margin around itself, the values on either side moving away from it by margin (with
    several points, the shifts add up). In a bounded domain the values are first squeezed by the
    room these steps need, so they stay inside it.
    """
    points = sorted(set(domain.avoid))
    if not points and not domain.distinct:
        return values
    margin = domain.margin
    flat = values.reshape(-1).to(torch.float64)
    n = flat.numel()
    gaps = margin * len(points)
    room = (margin * (n - 1) if domain.distinct else 0.0) + 2 * gaps
    low, high = bounds(domain)
    if low is not None and high is not None:
        if room >= high - low:
            raise ValueError(f"a domain [{low}, {high}] cannot hold {n} values with margin {margin} "
                             f"from each other and from {points}")
        flat = low + gaps + (flat - low) * ((high - low - room) / (high - low))
    if domain.distinct and n > 1:
        ranks = torch.empty(n, dtype=torch.long).scatter_(0, torch.argsort(flat), torch.arange(n))
        flat = flat + margin * ranks.to(flat.dtype)
        if low is None:
            flat = flat - margin * (n - 1) / 2  # keep the unbounded distribution centred
    if points:
        # Where the j-th gap opens, in the coordinates before any gap opened; a value moves up by
        # margin for each opening at or below it and down by margin for each one above it.
        k = len(points)
        openings = torch.tensor([p - margin * (2 * j + 1 - k) for j, p in enumerate(points)], dtype=flat.dtype)
        below = torch.searchsorted(openings, flat, right=True)
        flat = flat + margin * (2 * below - k).to(flat.dtype)
    return flat.reshape(values.shape)
