"""Draw tensor values from an input's value domain, seeded, away from kinks and ties."""

from __future__ import annotations

import torch

from .config import Domain

_ROUNDS = 8


def sample(domain: Domain, shape: tuple[int, ...], generator: torch.Generator) -> torch.Tensor:
    """float64 (or int64 for integer domains) CPU tensor of `shape` drawn from `domain`."""
    kind = domain.kind
    if kind == "integers":
        return torch.randint(int(domain.low), int(domain.high), shape, generator=generator)
    if kind == "real" and domain.low is None and domain.high is None:
        values = _normal(shape, generator) * domain.scale
    elif kind == "probabilities":
        logits = _normal(shape, generator) * domain.scale
        return torch.softmax(logits, dim=-1) if logits.dim() else torch.ones((), dtype=torch.float64)
    elif kind == "positive":
        low = domain.low if domain.low is not None else 0.1 * domain.scale
        high = domain.high if domain.high is not None else 4.0 * domain.scale
        u = torch.rand(shape, generator=generator, dtype=torch.float64)
        values = torch.exp(torch.log(torch.tensor(low, dtype=torch.float64)) * (1 - u)
                           + torch.log(torch.tensor(high, dtype=torch.float64)) * u)
    else:
        default_low, default_high = (0.0, 1.0) if kind == "unit_interval" else (-domain.scale, domain.scale)
        low = domain.low if domain.low is not None else default_low
        high = domain.high if domain.high is not None else default_high
        values = low + (high - low) * torch.rand(shape, generator=generator, dtype=torch.float64)
    return keep_away(values, domain)


def _normal(shape: tuple[int, ...], generator: torch.Generator) -> torch.Tensor:
    # float32 draws are several times faster than float64 ones, and exactly representable in
    # every exercise dtype down to float32.
    return torch.randn(shape, generator=generator).to(torch.float64)


def keep_away(values: torch.Tensor, domain: Domain) -> torch.Tensor:
    """Move values at least `margin` from every avoided point and, if `distinct`, from each other."""
    if not domain.avoid and not domain.distinct:
        return values
    for _ in range(_ROUNDS):
        for point in domain.avoid:
            offset = values - point
            near = offset.abs() < domain.margin
            direction = torch.where(offset >= 0, 1.0, -1.0).to(values.dtype)
            values = torch.where(near, point + direction * (domain.margin + offset.abs()), values)
        if domain.distinct and values.numel() > 1:
            flat = values.reshape(-1)
            order = torch.argsort(flat)
            ordered = flat[order]
            gaps = torch.diff(ordered)
            if bool((gaps < domain.margin).any()):
                widened = ordered + domain.margin * torch.arange(flat.numel(), dtype=flat.dtype)
                flat = torch.empty_like(flat).scatter_(0, order, widened)
                values = flat.reshape(values.shape)
        if _is_clear(values, domain):
            return values
    return values


def _is_clear(values: torch.Tensor, domain: Domain) -> bool:
    for point in domain.avoid:
        if bool(((values - point).abs() < domain.margin).any()):
            return False
    if domain.distinct and values.numel() > 1:
        gaps = torch.diff(torch.sort(values.reshape(-1)).values)
        if bool((gaps < domain.margin).any()):
            return False
    return True
