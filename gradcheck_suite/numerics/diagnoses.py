"""Likely causes of a wrong gradient, named in the failure message ("  likely cause: ...").

Each pattern is a pure function of tensors that returns a short sentence or None: it compares
the student's gradient with a transformation of the expected one (a constant multiple, the
transpose, a sum over a dimension, the gradient for an all-ones grad_output) with the check's own
tolerance. A pattern says nothing when the gradient is right, nor when the mistake it names would
not change the values (a factor on a zero gradient, the transpose of a symmetric matrix), so a
hint never contradicts a pass. They run only when a check has already failed."""

from __future__ import annotations

import math
from typing import Mapping, Sequence

import torch

from ..exercise.model import InputSpec
from ..exercise.names import BATCH
from .tolerances import Closeness, shape_text

_NOT_A_FACTOR = 1e-3  # a ratio this close to 1 is a precision problem, not a factor
_NAMED_AT_MOST = 3  # dimension names offered for one factor


# ----------------------------------------------------------------------------- the patterns

def ignores_upstream(grad: torch.Tensor, expected: torch.Tensor, all_ones: torch.Tensor,
                     tol: Closeness) -> str | None:
    """`all_ones`: the reference's gradient for an all-ones grad_output."""
    # Where that gradient is zero (softmax), a zero gradient is what ignoring grad_output gives.
    if not _explains(grad, expected, _f64(all_ones), tol, zero_ok=True):
        return None
    return ("grad_output is ignored: this is the gradient for an all-ones grad_output; "
            "multiply by grad_output (the chain rule)")


def wrong_sign(grad: torch.Tensor, expected: torch.Tensor, tol: Closeness) -> str | None:
    if not _explains(grad, expected, -_f64(expected), tol):
        return None
    return "wrong sign: this is exactly the negative of the expected gradient"


def constant_factor(grad: torch.Tensor, expected: torch.Tensor, tol: Closeness,
                    sizes: Mapping[str, int] | None = None) -> str | None:
    """grad == c * expected for one c other than 1, 0 and -1 (see wrong_sign). `sizes`: labelled
    dimension sizes (dimension_sizes) that c or 1/c may be named after."""
    if grad.shape != expected.shape:
        return None
    g, e = _f64(grad), _f64(expected)
    norm = float((e * e).sum())
    if norm == 0.0:
        return None
    fitted = float((g * e).sum()) / norm  # least squares
    if not math.isfinite(fitted) or abs(fitted - 1.0) < _NOT_A_FACTOR:
        return None
    simple = _simple_ratio(fitted)
    if simple is not None and _explains(grad, expected, simple[0] * e, tol, abs(simple[0])):
        return None if simple[0] == -1 else _factor_sentence(*simple, sizes or {})  # -1: wrong_sign
    # An arbitrary ratio fits any single element, and any antisymmetric pair (softmax over two
    # classes): ask for three elements that agree on it.
    if _explains(grad, expected, fitted * e, tol, abs(fitted), evidence=3):
        return f"this is {fitted:.4g} times the expected gradient: a constant factor is wrong or missing"
    return None


def transposed(grad: torch.Tensor, expected: torch.Tensor, tol: Closeness) -> str | None:
    """grad == expected with its last two dims swapped: of the same (square) or the transposed shape."""
    if grad.dim() < 2 or expected.dim() < 2 or not _explains(grad, expected, _f64(expected).mT, tol):
        return None
    return ("this is the transpose of the expected gradient: the factors of a matrix product in the "
            "wrong order, or a missing .T?")


def kept_dims(grad: torch.Tensor, expected: torch.Tensor, tol: Closeness) -> str | None:
    """grad holds the expected values with extra dimensions of size 1 (dgamma of shape (1, D) for
    gamma of shape (D,)): a reduction with keepdims=True, not reshaped back."""
    if grad.dim() <= expected.dim() or grad.numel() != expected.numel():
        return None
    if [s for s in grad.shape if s != 1] != [s for s in expected.shape if s != 1]:
        return None
    if not tol.close(_f64(grad).reshape(expected.shape), _f64(expected)):
        return None
    shapes = f"({shape_text(grad)} for {shape_text(expected)})"
    if _broadcast_dims(grad.shape, expected.shape) is None:
        return (f"keepdims: these are the right values with an extra dimension of size 1 {shapes}, as a sum "
                "with keepdims=True (keepdim=True) leaves them; sum without it, or reshape to the input's shape")
    # One example cannot tell these apart: a broadcast dimension of size 1 needs no sum to give the same values.
    return (f"keepdims, or a missing sum: these are the right values with an extra dimension of size 1 {shapes}; "
            "a sum with keepdims=True (keepdim=True) leaves one, and so does a gradient not summed over a "
            "broadcast dimension that has size 1 in this example; the gradient must have the input's shape")


def transposed_shape(grad: torch.Tensor, expected: torch.Tensor) -> str | None:
    """The shape alone (`expected` may be any tensor of the expected shape): the transposed one."""
    if expected.dim() < 2 or grad.shape == expected.shape or grad.shape != expected.mT.shape:
        return None
    return ("the shape is transposed: the factors of a matrix product in the wrong order, "
            "or a missing .T?")


def not_summed_over_broadcast(grad: torch.Tensor, expected: torch.Tensor, tol: Closeness,
                              name: str = "the input") -> str | None:
    """grad has the shape `expected`'s input was broadcast to in the forward, and summing it over
    the broadcast dims gives the expected gradient."""
    dims = _broadcast_dims(grad.shape, expected.shape)
    if dims is None:
        return None
    lead, kept = dims
    summed, bound = _sum_with_bound(_f64(grad), lead + kept, tol)
    if not tol.close(summed.reshape(expected.shape), _f64(expected), bound.reshape(expected.shape)):
        return None
    return (f"not summed over a broadcast dimension: {name} was broadcast over {_dims_text(lead + kept)} "
            f"in the forward, and {_sum_code(lead, kept)} of this gradient is the expected one")


def summed_where_no_sum_belongs(grad: torch.Tensor, expected: torch.Tensor, tol: Closeness,
                                name: str = "the input") -> str | None:
    """grad is the expected gradient summed over a dim, the dim dropped, kept (keepdim) or
    expanded back to the full shape."""
    e = _f64(expected)
    for dim in range(e.dim()):
        summed, bound = _sum_with_bound(e, (dim,), tol)
        candidates = ((summed.squeeze(dim), bound.squeeze(dim)), (summed, bound),
                      (summed.expand_as(e), bound.expand_as(e)))
        if any(c.shape == grad.shape and _explains(grad, expected, c, tol, extra=b) for c, b in candidates):
            return (f"this is the expected gradient summed over dim {dim}, where no sum belongs: "
                    f"{name} is not broadcast over that dimension, so each of its elements has its own gradient")
    return None


def diagnose(grad: torch.Tensor | None, expected: torch.Tensor, tol: Closeness,
             all_ones: torch.Tensor | None = None, sizes: Mapping[str, int] | None = None,
             name: str = "the input") -> list[str]:
    """The likely causes of `grad` differing from `expected`: the first pattern that explains it,
    most specific first; empty when none does, or when `grad` is right."""
    if grad is None or not (_finite(grad) and _finite(expected)):
        return []
    if grad.shape == expected.shape:
        patterns = [
            lambda: ignores_upstream(grad, expected, all_ones, tol) if all_ones is not None else None,
            lambda: wrong_sign(grad, expected, tol),
            lambda: constant_factor(grad, expected, tol, sizes),
            lambda: transposed(grad, expected, tol),
            lambda: summed_where_no_sum_belongs(grad, expected, tol, name),
        ]
    else:
        patterns = [
            lambda: kept_dims(grad, expected, tol),
            lambda: transposed(grad, expected, tol),
            lambda: transposed_shape(grad, expected),
            lambda: not_summed_over_broadcast(grad, expected, tol, name),
            lambda: summed_where_no_sum_belongs(grad, expected, tol, name),
        ]
    for pattern in patterns:
        found = pattern()
        if found:
            return [found]
    return []


def dimension_sizes(spec_inputs: Sequence[InputSpec], inputs: Sequence[torch.Tensor]) -> dict[str, int]:
    """What a constant factor may be named after, {label: size}: each named dim ("N = 4"), each
    batch dimension, and each input's number of elements where no single dimension has it."""
    sizes: dict[str, int] = {}
    shapes_counted = set()
    for spec_input, tensor in zip(spec_inputs, inputs):
        axes = _axis_names(spec_input.shape, tensor.dim())
        if axes is None:
            continue  # an edge case's literal tensor that does not follow the declared shape
        batch_rank = axes.count(BATCH)
        batch_index = 0
        for axis, size in zip(axes, tensor.shape):
            if axis == BATCH:
                sizes.setdefault(_batch_label(batch_index, batch_rank, size), size)
                batch_index += 1
            elif isinstance(axis, str):
                sizes.setdefault(f"{axis} = {size}", size)
        if tensor.numel() > 1 and tensor.numel() not in tensor.shape and tensor.shape not in shapes_counted:
            shapes_counted.add(tensor.shape)
            sizes[f"{spec_input.name} has {tensor.numel()} elements"] = tensor.numel()
    return sizes


# ----------------------------------------------------------------------------- helpers

def _f64(tensor: torch.Tensor) -> torch.Tensor:
    return tensor.detach().to("cpu", torch.float64)


def _finite(tensor: torch.Tensor) -> bool:
    return not tensor.is_floating_point() or bool(torch.isfinite(tensor).all())


def _explains(grad: torch.Tensor, expected: torch.Tensor, candidate: torch.Tensor, tol: Closeness,
              scale: float = 1.0, evidence: int = 1, extra=0.0, zero_ok: bool = False) -> bool:
    """`grad` matches `candidate` (a mistake applied to the expected gradient) and not `expected`,
    and, where the shapes agree, the mistake changes at least `evidence` elements beyond the
    tolerance. `scale` widens the allowance for a multiple of the expected values; `extra` adds to
    it (the rounding of a sum). A zero gradient has many explanations: a candidate of zeros is
    taken only with `zero_ok`."""
    loose = Closeness(tol.rtol, tol.atol, tol.allowance * scale)
    if not loose.close(grad, candidate, extra):
        return False
    if not zero_ok and tol.close(candidate, torch.zeros_like(candidate)):
        return False
    if grad.shape != expected.shape:
        return True
    if tol.close(grad, expected):
        return False
    visible = tol.mismatch(candidate, _f64(expected))
    return visible is not None and visible.count >= evidence


def _simple_ratio(ratio: float) -> tuple[float, str] | None:
    """(value, text) of the integer or 1/integer nearest to `ratio`: 2 -> '2', 0.25 -> '1/4'."""
    sign = "-" if ratio < 0 else ""
    magnitude = abs(ratio)
    if magnitude >= 1:
        k = round(magnitude)
        return math.copysign(k, ratio), f"{sign}{k}"
    if magnitude == 0:
        return None
    k = round(1 / magnitude)
    return math.copysign(1 / k, ratio), f"{sign}1/{k}"


def _factor_sentence(value: float, text: str, sizes: Mapping[str, int]) -> str:
    k = round(max(abs(value), 1 / abs(value)))
    named = [label for label, size in sizes.items() if size == k and k > 1][:_NAMED_AT_MOST]
    sentence = f"this is {text} times the expected gradient"
    if not named:
        return sentence + ": a constant factor is wrong or missing"
    if value > 0:
        sentence += (": looks like a mean where a sum is expected" if value < 1
                     else ": looks like a sum where a mean is expected")
    return f"{sentence} (factor {text}; {' or '.join(named)})"


def _axis_names(shape: Sequence[str | int], rank: int) -> list | None:
    """The declared name of each of a tensor's `rank` axes: a dim name, an int, or BATCH."""
    if BATCH not in shape:
        return list(shape) if len(shape) == rank else None
    at = shape.index(BATCH)
    batch_rank = rank - (len(shape) - 1)
    if batch_rank < 0:
        return None
    return list(shape[:at]) + [BATCH] * batch_rank + list(shape[at + 1:])


def _batch_label(index: int, rank: int, size: int) -> str:
    return f"the batch dimension has size {size}" if rank == 1 else f"batch dimension {index} has size {size}"


def _broadcast_dims(shape: torch.Size, target: torch.Size) -> tuple[tuple[int, ...], tuple[int, ...]] | None:
    """The dims of `shape` that broadcasting `target` to it added: (leading dims, dims kept with
    size 1 in `target`), in `shape`'s numbering; None when `target` does not broadcast to it."""
    if shape == target or len(shape) < len(target):
        return None
    try:
        if torch.broadcast_shapes(shape, target) != shape:
            return None
    except RuntimeError:
        return None
    lead = tuple(range(len(shape) - len(target)))
    kept = tuple(len(lead) + i for i, size in enumerate(target) if size == 1 and shape[len(lead) + i] != 1)
    return lead, kept


def _sum_with_bound(t: torch.Tensor, dims: tuple[int, ...], tol: Closeness):
    """t summed over `dims` (keepdim), and how far such a sum of terms that are each within the
    tolerance may drift: rtol * sum |t| + (atol + allowance) per extra term."""
    terms = math.prod(t.shape[d] for d in dims)
    bound = tol.rtol * t.abs().sum(dims, keepdim=True) + (terms - 1) * (tol.atol + tol.allowance)
    return t.sum(dims, keepdim=True), bound


def _dims_text(dims: Sequence[int]) -> str:
    return f"dim {dims[0]}" if len(dims) == 1 else "dims " + ", ".join(map(str, dims[:-1])) + f" and {dims[-1]}"


def _sum_code(lead: tuple[int, ...], kept: tuple[int, ...]) -> str:
    def dims(d):
        return str(d[0]) if len(d) == 1 else str(d)

    parts = []
    if lead:
        parts.append(f".sum({dims(lead)})")
    if kept:
        parts.append(f".sum({dims(tuple(k - len(lead) for k in kept))}, keepdim=True)")
    return "".join(parts)
