"""The reference's rounding error in a low-precision dtype, sampled by Monte Carlo arithmetic.

One evaluation of the reference in float32 measures one realisation of its rounding error, and a
student's algorithm (another summation order, a mean rounded the other way) may land several
times further off on an ill-conditioned element: layernorm's gradient over two nearly equal
values cancels a rounded mean to three significant digits. Monte Carlo arithmetic (Parker, 1997)
perturbs the result of every low-precision operation by a random relative amount within the
dtype's unit roundoff, so a few evaluations sample the spread of rounding errors that any
reasonable order of operations can reach, the cancellations included. This is asked for only
after a comparison failed with the single measurement, so a passing check costs nothing more.
"""

from __future__ import annotations

from typing import Any, Callable

import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_flatten, tree_map

LOW_PRECISION = (torch.float32, torch.float16, torch.bfloat16)
# Evaluations sampled; fixed, with a fixed seed, so that a verdict is the same on every run.
DRAWS = 4
SEED = 20_261_130


class _RandomRounding(TorchDispatchMode):
    """Every low-precision result that is not a view of an argument comes back multiplied by
    1 + u * r, r uniform in [-1, 1], u the dtype's unit roundoff."""

    def __init__(self, generator: torch.Generator):
        super().__init__()
        self.generator = generator

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        arguments = [a for a in tree_flatten((args, kwargs or {}))[0] if isinstance(a, torch.Tensor)]
        shared = {_storage(a) for a in arguments}
        return tree_map(lambda t: self._perturb(t, shared), out)

    def _perturb(self, value: Any, shared: set[int]) -> Any:
        if not isinstance(value, torch.Tensor) or value.dtype not in LOW_PRECISION or not value.numel() \
                or _storage(value) in shared:
            return value
        unit = torch.finfo(value.dtype).eps / 2
        r = torch.rand(value.shape, generator=self.generator, dtype=torch.float64).mul_(2).sub_(1)
        return (value.double() * (1 + unit * r.to(value.device))).to(value.dtype)


def _storage(tensor: torch.Tensor) -> int:
    try:
        return tensor.untyped_storage().data_ptr()
    except (RuntimeError, NotImplementedError):  # a tensor without storage (sparse, functional)
        return id(tensor)


_active = 0  # sampled() calls under way: nothing computed then is a plain evaluation


def active() -> bool:
    """Whether random rounding is on (reference_cache then neither serves nor remembers)."""
    return _active > 0


def sampled(function: Callable[[], Any], draws: int = DRAWS) -> list[Any]:
    """`function()` evaluated `draws` times under random rounding."""
    global _active
    generator = torch.Generator().manual_seed(SEED)
    results = []
    _active += 1
    try:
        for _ in range(draws):
            with _RandomRounding(generator):
                results.append(function())
    finally:
        _active -= 1
    return results
