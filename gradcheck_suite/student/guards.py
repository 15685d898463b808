"""Watchers around student calls: autograd used inside a backward, forbidden functions, inputs
changed in place."""

from __future__ import annotations

import functools
from typing import Iterable, TypeVar

import torch
from torch.overrides import TorchFunctionMode, _get_current_function_mode_stack
from torch.utils._python_dispatch import TorchDispatchMode, _get_current_dispatch_mode_stack

_T = TypeVar("_T")

_AUTOGRAD_CALLS = {
    torch.autograd.grad: "torch.autograd.grad",
    torch.autograd.backward: "torch.autograd.backward",
    torch.Tensor.backward: "Tensor.backward()",
    torch.Tensor.requires_grad_: "Tensor.requires_grad_()",
}


@functools.lru_cache(maxsize=256)
def _by_leaf(forbid: tuple[str, ...]) -> dict[str, str]:
    """The forbid entries by their last name ("softmax" for "torch.nn.functional.softmax"); read only.
    (Every call of the student's code makes its guards: this is worked out once per forbid list.)"""
    return {name.rsplit(".", 1)[-1]: name for name in forbid}


@functools.lru_cache(maxsize=256)
def _by_aten_name(forbid: tuple[str, ...]) -> dict[str, str]:
    """The forbid entries by the aten operators that stand for them: softmax and _softmax; read only."""
    leaves = _by_leaf(forbid)
    return {**leaves, **{f"_{leaf}": name for leaf, name in leaves.items()}}


class CallWatch(TorchFunctionMode):
    """Records, while a student's forward or backward runs, any call of a forbidden function
    (matched by name: ``torch.nn.functional.softmax`` also stands for ``torch.softmax`` and
    ``Tensor.softmax``) and, with `autograd`, any use of autograd in a 'by hand' backward.

    The backward is called with grad mode off, as the autograd engine calls it. Reaching for
    autograd then needs one of: an explicit autograd call, turning grad mode back on
    (torch.enable_grad, torch.func transforms), or an op whose result requires grad.
    """

    _plain_under: dict[tuple, set] = {}  # the rules (forbidden names, autograd) -> their fast path

    def __init__(self, forbid: Iterable[str] = (), autograd: bool = False):
        super().__init__()
        forbid = tuple(forbid)
        self.forbidden = _by_leaf(forbid)
        self.autograd = autograd
        self.violations: list[str] = []  # autograd use
        self.forbidden_calls: list[tuple[str, str]] = []  # (what was called, the forbid entry)
        # functions seen that are neither forbidden nor autograd (the fast path), shared by the watches
        # with the same rules: every call of a student's op gets a fresh watch
        self._plain = CallWatch._plain_under.setdefault((forbid, autograd), set())

    def _record(self, found: list[_T], what: _T):
        if what not in found:
            found.append(what)

    def __torch_function__(self, func, types, args=(), kwargs=None):
        if func not in self._plain:
            self._inspect(func, args)
        result = func(*args, **(kwargs or {}))
        if self.autograd and isinstance(result, torch.Tensor) and result.grad_fn is not None:
            self._record(self.violations, "built an autograd graph")
        return result

    def _inspect(self, func, args) -> None:
        """Record a forbidden function or an autograd call; remember a function that is neither."""
        banned = self.forbidden.get(getattr(func, "__name__", ""))
        if banned is not None:
            self._record(self.forbidden_calls, (getattr(func, "__name__", str(func)), banned))
        name = _AUTOGRAD_CALLS.get(func) if self.autograd else None
        if name is not None:
            self._record(self.violations, f"called {name}")
        if self.autograd and func is torch._C._set_grad_enabled:
            if args and args[0]:
                self._record(self.violations, "turned gradient tracking back on "
                                              "(torch.enable_grad, torch.set_grad_enabled or torch.func)")
            return  # (turning it off is fine, on is not: looked at on every call)
        if banned is None and name is None:
            try:
                self._plain.add(func)
            except TypeError:  # an unhashable callable: inspected every time
                pass


BACKWARD_KERNELS = "torch's own backward kernels"  # every aten operator named *backward*, in every exercise


def guards_switched_off(watch: TorchFunctionMode, trace: TorchDispatchMode) -> list[str]:
    """Which of the grader's modes student code took off the stacks they were pushed on (checked
    right after each call, while both should still be in force). Native code can still toggle them
    around a call and put them back: the threat model says so."""
    off = []
    if watch not in _get_current_function_mode_stack():
        off.append("the torch-function watch")
    if trace not in _get_current_dispatch_mode_stack():
        off.append("the operator trace")
    return off


class OpTrace(TorchDispatchMode):
    """The aten operators a call ran, below every Python-level alias: ``torch.ops.aten._softmax``
    called directly is still seen. Also tells whether anything was seen at all."""

    @classmethod
    def _should_skip_dynamo(cls) -> bool:
        # Nothing here is compiled; not wrapping __torch_dispatch__ for torch.compile spares the
        # first use an import of torch._dynamo (seconds).
        return False

    def __init__(self, forbid: Iterable[str] = ()):
        super().__init__()
        self.forbidden = _by_aten_name(tuple(forbid))
        self.ops = 0
        self.forbidden_calls: list[tuple[str, str]] = []

    _names: dict = {}  # operator -> (its name, BACKWARD_KERNELS for a backward kernel): looked up once each

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        self.ops += 1
        known = self._names.get(func)
        if known is None:
            name = func.overloadpacket.__name__
            known = self._names[func] = (name, BACKWARD_KERNELS if "backward" in name else None)
        name, kernel = known
        banned = self.forbidden.get(name) or kernel
        if banned is not None and (f"aten.{name}", banned) not in self.forbidden_calls:
            self.forbidden_calls.append((f"aten.{name}", banned))
        return func(*args, **(kwargs or {}))


class InputSnapshot:
    """Remembers the values and version counters of tensors to tell whether they were changed."""

    def __init__(self, tensors: dict[str, torch.Tensor], copies: dict[str, torch.Tensor] | None = None):
        """`copies` may give, per name, a tensor known to hold the same values (saves a clone)."""
        copies = copies or {}
        self._tensors = tensors
        self._versions = {name: t._version for name, t in tensors.items()}
        self.values = {name: copies[name] if name in copies else t.detach().clone() for name, t in tensors.items()}

    def changed(self) -> list[str]:
        """Descriptions of each tensor that was modified in place since the snapshot."""
        found = []
        for name, tensor in self._tensors.items():
            values_changed = not _same_values(tensor.detach(), self.values[name])
            if values_changed:
                found.append(f"'{name}' (its values changed)")
            elif tensor._version != self._versions[name]:
                found.append(f"'{name}' (an in-place operation was applied to it)")
        return found


def _same_values(a: torch.Tensor, b: torch.Tensor) -> bool:
    if a.shape != b.shape or a.dtype != b.dtype:
        return False
    if torch.equal(a, b):
        return True
    if a.is_floating_point():  # NaN != NaN: equal when the NaNs sit in the same places
        return bool(torch.equal(torch.nan_to_num(a, nan=0.0), torch.nan_to_num(b, nan=0.0))
                    and torch.equal(torch.isnan(a), torch.isnan(b)))
    return bool(torch.equal(a, b))
