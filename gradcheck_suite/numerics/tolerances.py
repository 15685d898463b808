"""Comparison in the style of torch.testing.assert_close, with reports a student can act on.

An element passes when |actual - expected| <= atol + rtol * |expected| (+ a measured rounding
allowance for low-precision dtypes, see ``rounding_allowance``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import torch

from ..exercise.model import Tolerance

# The same defaults as torch.testing.assert_close.
DEFAULT_TOLERANCES: dict[torch.dtype, tuple[float, float]] = {
    torch.float64: (1e-7, 1e-7),
    torch.float32: (1.3e-6, 1e-5),
    torch.float16: (1e-3, 1e-5),
    torch.bfloat16: (1.6e-2, 1e-5),
}
# A correct low-precision result may be off by a few times the reference's own rounding error.
ROUNDING_SAFETY = 4.0


def resolve(dtype: torch.dtype, *overrides: Tolerance) -> tuple[float, float]:
    """(rtol, atol) for `dtype`; each later override that sets a field wins."""
    rtol, atol = DEFAULT_TOLERANCES.get(dtype, DEFAULT_TOLERANCES[torch.float64])
    for tol in overrides:
        if tol.rtol is not None:
            rtol = tol.rtol
        if tol.atol is not None:
            atol = tol.atol
    return rtol, atol


def rounding_allowance(low_precision: torch.Tensor, exact: torch.Tensor) -> float:
    """Allowance from how far the reference itself moves when computed in the exercise's dtype.

    This grows with the size of a reduction exactly as the rounding error does, and not with the
    number of elements of the result.
    """
    if low_precision.dtype == torch.float64 or exact.numel() == 0:
        return 0.0
    diff = (low_precision.double() - exact.double()).abs()
    finite = diff[torch.isfinite(diff)]
    return ROUNDING_SAFETY * float(finite.max()) if finite.numel() else 0.0


def widest_rounding_allowance(low_precision: Sequence[torch.Tensor], exact: torch.Tensor) -> float:
    """rounding_allowance() over several evaluations of the reference in the low dtype (one, or
    that one and its random-rounding samples: numerics.rounding): the widest; 0 for none."""
    return max((rounding_allowance(t, exact) for t in low_precision), default=0.0)


@dataclass(frozen=True)
class Mismatch:
    count: int
    numel: int
    index: tuple[int, ...]
    expected: float
    actual: float
    abs_err: float
    rel_err: float
    allowed: float
    kind: str  # "values", "nan" or "inf"

    @classmethod
    def of_values(cls, count: int, numel: int, index: tuple[int, ...], expected: float, actual: float,
                  allowed: float) -> "Mismatch":
        """The worst of `count` differing values: errors worked out from the two values."""
        abs_err = abs(actual - expected)
        rel_err = abs_err / abs(expected) if expected != 0 else math.inf
        return cls(count, numel, index, expected, actual, abs_err, rel_err, allowed, "values")

    def describe(self) -> str:
        where = f"[{', '.join(map(str, self.index))}]" if self.index else "(scalar)"
        if self.kind in ("nan", "inf"):
            what = "NaN" if self.kind == "nan" else "infinite"
            return (f"{self.count} of {self.numel} elements are {what}; first at {where}: "
                    f"expected {self.expected:.6g}, got {self.actual}")
        return (f"{self.count} of {self.numel} elements differ; worst at {where}: "
                f"expected {self.expected:.6g}, got {self.actual:.6g} "
                f"(abs err {self.abs_err:.3g}, rel err {self.rel_err:.3g}, allowed {self.allowed:.3g})")


def compare(actual: torch.Tensor, expected: torch.Tensor, rtol: float, atol: float,
            extra_atol: float | torch.Tensor = 0.0) -> Mismatch | None:
    """None when every element is close; otherwise the report of the worst element."""
    a = actual.detach().to("cpu", torch.float64)
    e = expected.detach().to("cpu", torch.float64)
    extra = extra_atol.to("cpu", torch.float64) if isinstance(extra_atol, torch.Tensor) else extra_atol
    # The common case first, with two temporaries (allocations dominate for large tensors);
    # NaN never compares <=, and an infinite allowance (an infinite expected value) sends us to
    # the exact rule below.
    err = torch.sub(a, e).abs_()
    allowed = e.abs().mul_(rtol).add_(atol).add_(extra)
    if bool(torch.le(err, allowed).all()) and (not allowed.numel() or math.isfinite(float(allowed.max()))):
        return None
    # An infinite expected value allows only the same infinity, not |inf| slack.
    allowed = torch.broadcast_to(atol + rtol * torch.where(torch.isinf(e), 0.0, e.abs()) + extra, e.shape)
    both_nan = torch.isnan(a) & torch.isnan(e)
    same_inf = torch.isinf(a) & torch.isinf(e) & (a == e)
    ok = (err <= allowed) | both_nan | same_inf
    if bool(ok.all()):
        return None
    bad = ~ok
    count = int(bad.sum())
    for kind, mask in (("nan", torch.isnan(a) & ~torch.isnan(e)), ("inf", torch.isinf(a) & ~same_inf)):
        if bool(mask.any()):
            flat = int(torch.nonzero(mask.reshape(-1))[0])
            index = _unravel(flat, a.shape)
            return Mismatch(int(mask.sum()), a.numel(), index, float(e.reshape(-1)[flat]),
                            float(a.reshape(-1)[flat]), float("nan"), float("nan"), float(allowed.reshape(-1)[flat]), kind)
    excess = torch.where(bad, torch.nan_to_num(err / allowed.clamp_min(1e-300), nan=float("inf")), -1.0)
    flat = int(torch.argmax(excess.reshape(-1)))
    index = _unravel(flat, a.shape)
    exp_v, act_v = float(e.reshape(-1)[flat]), float(a.reshape(-1)[flat])
    return Mismatch.of_values(count, a.numel(), index, exp_v, act_v, float(allowed.reshape(-1)[flat]))


def shape_text(tensor: torch.Tensor) -> str:
    """(2, 3) for a matrix, (3,) for a vector, () for a scalar."""
    return "(" + ", ".join(map(str, tensor.shape)) + ("," if tensor.dim() == 1 else "") + ")"


def _unravel(flat: int, shape: torch.Size) -> tuple[int, ...]:
    index = []
    for size in reversed(shape):
        index.append(flat % size)
        flat //= size
    return tuple(reversed(index))



@dataclass(frozen=True)
class Closeness:
    """The check's tolerance for one gradient: |actual - expected| <= atol + rtol * |expected| +
    allowance, element by element, as in tolerances.compare."""

    rtol: float
    atol: float
    allowance: float = 0.0

    @classmethod
    def for_dtype(cls, dtype: torch.dtype, allowance: float = 0.0) -> "Closeness":
        return cls(*resolve(dtype), allowance)

    def mismatch(self, actual: torch.Tensor, expected: torch.Tensor, extra=0.0) -> Mismatch | None:
        return compare(actual, expected, self.rtol, self.atol, self.allowance + extra)

    def close(self, actual: torch.Tensor, expected: torch.Tensor, extra=0.0) -> bool:
        return actual.shape == expected.shape and self.mismatch(actual, expected, extra) is None


# The finite-difference and double-backward checks' fixed part of the tolerance (an estimate's own
# error bound is added to it).
FD_DEFAULT_RTOL = 1e-5
FD_DEFAULT_ATOL = 1e-6
