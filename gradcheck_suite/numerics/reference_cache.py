"""The reference's outputs and gradients, remembered by the exact bytes they were computed from.

Checks of one exercise ask the reference about the same trial several times (the forward check,
the backward check, the shapes a check expects), and every submission of a batch meets the same
trials (one secret seed per batch), so a job process that grades a class computes each answer
once. A key is everything the answer depends on: the reference function and its bound
arguments, the exercise's inputs and outputs as declared, and each tensor's dtype, shape and
bytes; a hit returns copies of what was computed (byte-identical to computing it again, the
reference being deterministic on the CPU). Tensors on another device, inputs of more than
MAX_ELEMENTS elements, and anything computed under random rounding (numerics.rounding), are not
remembered.

It is on only in a process that grades many submissions (a batch job, a Dask worker: they call
serve_a_class()): within one submission the checks meet few answers twice, and hashing the inputs
of every reference call costs more than it saves (10% of the whole course, measured).
GRADCHECK_SUITE_NO_REFERENCE_CACHE=1 turns it off there too (for comparisons: a test grades a
class both ways and gets byte-identical reports).
"""

from __future__ import annotations

import hashlib
import os
from collections import OrderedDict
from typing import Any, Callable, Hashable, Sequence, TypeVar

import torch

from ..exercise.model import ExerciseSpec
from . import rounding

SWITCH = "GRADCHECK_SUITE_NO_REFERENCE_CACHE"
MAX_BYTES = 256 << 20  # the tensors held, all entries together
# Inputs larger than this are not remembered: hashing their bytes costs about what computing does
# (and a class's trials are far smaller).
MAX_ELEMENTS = 1 << 16

_T = TypeVar("_T")


class _Store:
    def __init__(self, max_bytes: int = MAX_BYTES):
        self.max_bytes = max_bytes
        self.entries: OrderedDict[Hashable, tuple[Any, int]] = OrderedDict()
        self.bytes = 0
        self.hits = self.misses = 0

    def remember(self, key: Hashable, compute: Callable[[], _T]) -> _T:
        found = self.entries.get(key)
        if found is not None:
            self.entries.move_to_end(key)
            self.hits += 1
            return _copied(found[0])
        self.misses += 1
        value = compute()
        size = _size(value)
        if size <= self.max_bytes // 4:
            self.entries[key] = (_copied(value), size)
            self.bytes += size
            while self.bytes > self.max_bytes:
                _, (_, dropped) = self.entries.popitem(last=False)
                self.bytes -= dropped
        return value

    def clear(self) -> None:
        self.entries.clear()
        self.bytes = 0


STORE = _Store()
_serving = False  # serve_a_class() was called


def serve_a_class() -> None:
    """Remember the reference's answers from now on: this process grades many submissions, which
    meet the same trials."""
    global _serving
    _serving = True


def serving() -> bool:
    return _serving and not os.environ.get(SWITCH)


def remembered(kind: str, spec: ExerciseSpec, tensors: Sequence[torch.Tensor | None],
               compute: Callable[[], _T], *extra: Sequence[torch.Tensor | None]) -> _T:
    """compute(), or a copy of what it gave before for the same reference, kind and bytes."""
    if not serving() or rounding.active() or not _on_cpu(tensors, *extra) \
            or sum(t.numel() for group in (tensors, *extra) for t in group if t is not None) > MAX_ELEMENTS:
        return compute()
    key = (kind, reference_key(spec), _tensors_key(tensors), *(_tensors_key(e) for e in extra))
    return STORE.remember(key, compute)


def reference_key(spec: ExerciseSpec) -> tuple:
    """What a reference's answer depends on besides its tensor inputs."""
    ref = spec.reference
    return (ref.target, _value_key(ref.args), _value_key(ref.kwargs),
            tuple((i.name, i.differentiable) for i in spec.inputs),
            tuple((o.name, o.differentiable) for o in spec.outputs))


def _tensors_key(tensors: Sequence[torch.Tensor | None]) -> tuple:
    return tuple(None if t is None else _tensor_key(t) for t in tensors)


def _tensor_key(tensor: torch.Tensor) -> tuple:
    flat = tensor.detach().reshape(-1).contiguous()
    data = flat.view(torch.uint8).numpy().tobytes() if flat.numel() else b""
    return (str(tensor.dtype), tuple(tensor.shape), hashlib.blake2b(data, digest_size=20).digest())


def _value_key(value: Any) -> Hashable:
    """A params value (numbers, strings, dicts and lists of them, tensors, arrays) as a key."""
    if isinstance(value, torch.Tensor):
        return ("tensor", _tensor_key(value))
    if isinstance(value, dict):
        return ("dict", tuple((str(k), _value_key(v)) for k, v in value.items()))
    if isinstance(value, (list, tuple)):
        return (type(value).__name__, tuple(_value_key(v) for v in value))
    if type(value).__module__ == "numpy" and hasattr(value, "tobytes"):
        return ("array", str(getattr(value, "dtype", "")), tuple(getattr(value, "shape", ())),
                hashlib.blake2b(value.tobytes(), digest_size=20).digest())
    return (type(value).__name__, repr(value))


def _on_cpu(*groups: Sequence[torch.Tensor | None]) -> bool:
    return all(t is None or t.device.type == "cpu" for group in groups for t in group)


def _copied(value: Any) -> Any:
    if isinstance(value, torch.Tensor):
        return value.detach().clone()
    if isinstance(value, tuple):
        return tuple(_copied(v) for v in value)
    if isinstance(value, list):
        return [_copied(v) for v in value]
    return value


def _size(value: Any) -> int:
    if isinstance(value, torch.Tensor):
        return value.numel() * value.element_size()
    if isinstance(value, (tuple, list)):
        return sum(_size(v) for v in value)
    return 0
