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

from dataclasses import dataclass, field
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
    """Per direction k: the estimate u . J d_k, and (computed only when asked, since a passing
    comparison does not need them) its error bound and whether its step crossed a kink."""

    values: torch.Tensor
    rows: list = field(repr=False)  # (f0, fp, fm) pieces
    upstream: torch.Tensor = field(repr=False)
    _allowance: torch.Tensor | None = field(default=None, repr=False)
    _kink: torch.Tensor | None = field(default=None, repr=False)

    @property
    def allowance(self) -> torch.Tensor:
        """(k,) error bound: t |d^T H d| from the one-sided differences (which bounds the
        truncation error), plus round-off."""
        if self._allowance is None:
            weight = self.upstream.abs()
            magnitude = self.rows[0][0].abs()
            magnitude += magnitude.mean() + 1e-300
            roundoff = ROUNDOFF_FACTOR * EPS * (magnitude @ weight) / STEP
            self._allowance = torch.cat([_gap(f0, fp, fm) @ weight / STEP + roundoff for f0, fp, fm in self.rows])
        return self._allowance

    @property
    def kink(self) -> torch.Tensor:
        """(k,) bool: the step along d_k crossed a point where f is not differentiable."""
        if self._kink is None:
            self._kink = torch.cat([_kinks(f0, fp, fm) for f0, fp, fm in self.rows])
        return self._kink


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
                chunk = self.chunk if batch.shape[0] > self.chunk else None  # chunking has a cost of its own
                out = torch.func.vmap(self.flat_forward, chunk_size=chunk)(batch)
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
        outputs = f(central_points(theta, directions)).to(torch.float64)
        return _summarise([(outputs[0], outputs[1:k + 1], outputs[k + 1:])], upstream)
    f0 = f.one(theta) if f0 is None else f0.reshape(-1).to(torch.float64)
    if k * f0.numel() <= STACK_LIMIT:  # small: one summary over stacked rows is cheapest
        fp = torch.stack([f.one(torch.add(theta, d, alpha=STEP)) for d in directions])
        fm = torch.stack([f.one(torch.add(theta, d, alpha=-STEP)) for d in directions])
        return _summarise([(f0, fp, fm)], upstream)
    # large: one direction at a time, no big copies
    return _summarise([(f0, f.one(torch.add(theta, d, alpha=STEP))[None], f.one(torch.add(theta, d, alpha=-STEP))[None])
                       for d in directions], upstream)


def central_points(theta: torch.Tensor, directions: torch.Tensor) -> torch.Tensor:
    """theta, then theta + t d and theta - t d for each direction d: the rows of one batched call."""
    return torch.cat([theta[None], theta + STEP * directions, theta - STEP * directions])


def _summarise(rows: list, upstream: torch.Tensor) -> Estimates:
    """From f(x), f(x + t d_i) and f(x - t d_i) (rows of fp, fm) to the estimates of each direction."""
    values = torch.cat([(fp @ upstream - fm @ upstream) / (2 * STEP) for _, fp, fm in rows])
    return Estimates(values, rows, upstream)


def _gap(f0: torch.Tensor, fp: torch.Tensor, fm: torch.Tensor) -> torch.Tensor:
    """|f(x + t d) + f(x - t d) - 2 f(x)| = t * |difference of the one-sided slopes|."""
    return torch.add(fp, fm).sub_(f0, alpha=2.0).abs_()


def _kinks(f0: torch.Tensor, fp: torch.Tensor, fm: torch.Tensor) -> torch.Tensor:
    if not fp.shape[1]:
        return torch.zeros(fp.shape[0], dtype=torch.bool, device=fp.device)
    gap = _gap(f0, fp, fm).amax(dim=1) / STEP
    slope = torch.sub(fp, fm).abs_().amax(dim=1) / (2 * STEP)
    return gap > KINK_THRESHOLD * (1.0 + slope)


def coordinate_directions(theta: torch.Tensor) -> torch.Tensor:
    """One direction per element, scaled by max(1, |x|) as the step should be."""
    return torch.diag(theta.abs().clamp_min(1.0))


def random_directions(theta: torch.Tensor, count: int, generator: torch.Generator) -> torch.Tensor:
    """`count` Gaussian unit directions, scaled by max(1, |x|) per element.

    One Gaussian vector is drawn (in float32, several times faster than float64, then widened);
    direction i is that vector rolled by i elements, so every element meets an independent
    Gaussian coefficient in each direction, for a single draw (and one norm for all).
    """
    n = theta.numel()
    v = torch.empty(count, n, dtype=torch.float64, device=theta.device)
    v[0] = torch.randn(n, generator=generator)
    for i in range(1, count):
        v[i, i % max(n, 1):] = v[0, :n - i % max(n, 1)]
        v[i, :i % max(n, 1)] = v[0, n - i % max(n, 1):]
    scale = theta.abs().clamp_min_(1.0).div_(v[0].norm().clamp_min(1e-300))
    return v.mul_(scale)
