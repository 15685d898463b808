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


@dataclass
class Estimates:
    values: torch.Tensor     # (k,) u . J d_k
    allowance: torch.Tensor  # (k,) error bound of each estimate
    kink: torch.Tensor       # (k,) bool


class BatchedForward:
    """f(theta) for a batch of flat parameter vectors, vmapped where possible."""

    def __init__(self, flat_forward: Callable[[torch.Tensor], torch.Tensor], chunk: int = 512):
        self.flat_forward = flat_forward
        self.chunk = chunk
        self.vmap_works: bool | None = None

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


def estimate(f: BatchedForward, theta: torch.Tensor, directions: torch.Tensor,
             upstream: torch.Tensor) -> Estimates:
    k = directions.shape[0]
    batch = torch.cat([theta[None], theta + STEP * directions, theta - STEP * directions])
    outputs = f(batch).to(torch.float64)
    f0, fp, fm = outputs[0], outputs[1:k + 1], outputs[k + 1:]
    central = (fp - fm) / (2 * STEP)
    gap = ((fp - f0) - (f0 - fm)).abs() / STEP
    weight = upstream.abs()
    magnitude = f0.abs() + f0.abs().mean() + 1e-300
    roundoff = ROUNDOFF_FACTOR * EPS * (magnitude @ weight) / STEP
    values = central @ upstream
    allowance = gap @ weight + roundoff
    scale = 1.0 + central.abs().amax(dim=1) if central.shape[1] else torch.ones(k, dtype=torch.float64)
    kink = gap.amax(dim=1) > KINK_THRESHOLD * scale if gap.shape[1] else torch.zeros(k, dtype=torch.bool)
    return Estimates(values, allowance, kink)


def coordinate_directions(theta: torch.Tensor) -> torch.Tensor:
    """One direction per element, scaled by max(1, |x|) as the step should be."""
    return torch.diag(theta.abs().clamp_min(1.0))


def random_directions(theta: torch.Tensor, count: int, generator: torch.Generator) -> torch.Tensor:
    v = torch.randn(count, theta.numel(), generator=generator, dtype=torch.float64).to(theta.device)
    v = v / v.norm(dim=1, keepdim=True).clamp_min(1e-300)
    return v * theta.abs().clamp_min(1.0)
