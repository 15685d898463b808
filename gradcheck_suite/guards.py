"""Watchers around student calls: autograd used inside a backward, inputs changed in place."""

from __future__ import annotations

import torch
from torch.overrides import TorchFunctionMode

_AUTOGRAD_CALLS = {
    torch.autograd.grad: "torch.autograd.grad",
    torch.autograd.backward: "torch.autograd.backward",
    torch.Tensor.backward: "Tensor.backward()",
    torch.Tensor.requires_grad_: "Tensor.requires_grad_()",
}


class AutogradSpy(TorchFunctionMode):
    """Records any use of autograd while a 'by hand' backward runs.

    The backward is called with grad mode off, as the autograd engine calls it. Reaching for
    autograd then needs one of: an explicit autograd call, turning grad mode back on
    (torch.enable_grad, torch.func transforms), or an op whose result requires grad.
    """

    def __init__(self):
        super().__init__()
        self.violations: list[str] = []

    def _record(self, what: str):
        if what not in self.violations:
            self.violations.append(what)

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        name = _AUTOGRAD_CALLS.get(func)
        if name is not None:
            self._record(f"called {name}")
        elif func is torch._C._set_grad_enabled and args and args[0]:
            self._record("turned gradient tracking back on (torch.enable_grad, torch.set_grad_enabled or torch.func)")
        result = func(*args, **kwargs)
        if isinstance(result, torch.Tensor) and result.grad_fn is not None:
            self._record("built an autograd graph")
        return result


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
