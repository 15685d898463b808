"""Central differences of the student's own forward, in float64, batched.

For each direction d (a column of the identity scaled by max(1, |x|), or a random unit-norm
Gaussian direction for large inputs) we evaluate f(x), f(x + t d) and f(x - t d) in one batched
call (torch.func.vmap when the forward supports it, else a loop) and return, per direction:

- the estimate u . J d of the directional derivative projected on the upstream gradient u;
- an allowance for the estimate's own error: the gap between the one-sided differences
  (t |d^T H d|, which bounds the truncation error) plus round-off;
- a kink flag: a one-sided gap of the size of the derivative itself means the step crossed a
  point where the function is not differentiable, so the estimate says nothing about the student.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch

EPS = torch.finfo(torch.float64).eps
STEP = EPS ** (1.0 / 3.0)
ROUNDOFF_FACTOR = 64.0
KINK_THRESHOLD = 1e-3
SMALL_BATCH = 32  # evaluations
STACK_LIMIT = 1 << 16  # elements


@dataclass
class Estimates:
    values: torch.Tensor     # (k,) u . J d_k
    allowance: torch.Tensor  # (k,) error bound of each estimate
    kink: torch.Tensor       # (k,) bool


class BatchedForward:
    """f(theta) for flat parameter vectors: one vmapped call for many points where possible."""

    def __init__(self, flat_forward: Callable[[torch.Tensor], torch.Tensor], chunk: int = 512):
        self.flat_forward = flat_forward
        self.chunk = chunk
        self.vmap_works: bool | None = None

    def batches(self, count: int) -> bool:
        # vmap costs about a millisecond to set up: for a few points a loop is faster.
        return self.vmap_works is not False and count > SMALL_BATCH

    def __call__(self, batch: torch.Tensor) -> torch.Tensor:
        if self.vmap_works is not False:
            try:
                out = torch.func.vmap(self.flat_forward, chunk_size=self.chunk)(batch)
                self.vmap_works = True
                return out
            except Exception:  # noqa: BLE001 - any vmap failure means: evaluate one by one
                if self.vmap_works:
                    raise
                self.vmap_works = False
        return torch.stack([self.flat_forward(theta) for theta in batch])

    def one(self, theta: torch.Tensor) -> torch.Tensor:
        return self.flat_forward(theta).to(torch.float64)


def estimate(f: BatchedForward, theta: torch.Tensor, directions: torch.Tensor,
             upstream: torch.Tensor, f0: torch.Tensor | None = None) -> Estimates:
    """Estimates along each row of `directions`; `f0` = f(theta) when the caller already has it."""
    k = directions.shape[0]
    if f.batches(2 * k + 1):
        batch = torch.cat([theta[None], theta + STEP * directions, theta - STEP * directions])
        outputs = f(batch).to(torch.float64)
        return _summarise(outputs[0], outputs[1:k + 1], outputs[k + 1:], upstream)
    f0 = f.one(theta) if f0 is None else f0.reshape(-1).to(torch.float64)
    if k * f0.numel() <= STACK_LIMIT:  # small: one summary over stacked rows is cheapest
        fp = torch.stack([f.one(torch.add(theta, d, alpha=STEP)) for d in directions])
        fm = torch.stack([f.one(torch.add(theta, d, alpha=-STEP)) for d in directions])
        return _summarise(f0, fp, fm, upstream)
    weight, roundoff = _error_weights(f0, upstream)  # large: one direction at a time, no big copies
    parts = [_summarise(f0, f.one(torch.add(theta, d, alpha=STEP))[None], f.one(torch.add(theta, d, alpha=-STEP))[None],
                        upstream, weight, roundoff)
             for d in directions]
    return Estimates(*(torch.cat([getattr(p, name) for p in parts])
                       for name in ("values", "allowance", "kink")))


def _error_weights(f0: torch.Tensor, upstream: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    weight = upstream.abs()
    magnitude = f0.abs()
    magnitude += magnitude.mean() + 1e-300
    return weight, ROUNDOFF_FACTOR * EPS * (magnitude @ weight) / STEP


def _summarise(f0: torch.Tensor, fp: torch.Tensor, fm: torch.Tensor, upstream: torch.Tensor,
               weight: torch.Tensor | None = None, roundoff: torch.Tensor | None = None) -> Estimates:
    """From f(x), f(x + t d_i) and f(x - t d_i) (rows of fp, fm) to the estimates of each direction."""
    if weight is None:
        weight, roundoff = _error_weights(f0, upstream)
    k = fp.shape[0]
    central = torch.sub(fp, fm).div_(2 * STEP)
    gap = torch.add(fp, fm).sub_(f0, alpha=2.0).abs_().div_(STEP)  # |one-sided difference gap|
    values = central @ upstream
    allowance = gap @ weight + roundoff
    if not central.shape[1]:
        return Estimates(values, allowance, torch.zeros(k, dtype=torch.bool, device=values.device))
    kink = gap.amax(dim=1) > KINK_THRESHOLD * (1.0 + central.abs_().amax(dim=1))
    return Estimates(values, allowance, kink)


def coordinate_directions(theta: torch.Tensor) -> torch.Tensor:
    """One direction per element, scaled by max(1, |x|) as the step should be."""
    return torch.diag(theta.abs().clamp_min(1.0))


def random_directions(theta: torch.Tensor, count: int, generator: torch.Generator) -> torch.Tensor:
    """`count` Gaussian unit directions, scaled by max(1, |x|) per element.

    One Gaussian vector is drawn (in float32, several times faster than float64, then widened);
    direction i is that vector rolled by i elements, so every element meets an independent
    Gaussian coefficient in each direction, for a single draw.
    """
    n = theta.numel()
    base = torch.randn(n, generator=generator).to(theta.device, torch.float64)
    v = torch.stack([torch.roll(base, i) for i in range(count)]) if n > 1 else base.expand(count, n).clone()
    norms = v.norm(dim=1, keepdim=True).clamp_min_(1e-300)
    return v.mul_(theta.abs().clamp_min_(1.0)).div_(norms)
