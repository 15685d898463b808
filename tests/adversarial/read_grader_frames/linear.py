"""ATTACK: walk the caller's frames for the grader's expected gradients and return them. Target: linear"""
import sys

import torch


def _steal(names):
    frame = sys._getframe(1)
    while frame is not None:
        for name in names:
            value = frame.f_locals.get(name)
            if value is not None:
                return value
        frame = frame.f_back
    return None


class Linear(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, w, b):
        ctx.save_for_backward(x, w)
        stolen = _steal(("exact", "expected"))
        return stolen if isinstance(stolen, torch.Tensor) else torch.zeros(x.shape[0], w.shape[1], dtype=x.dtype)

    @staticmethod
    def backward(ctx, grad_output):
        stolen = _steal(("exact", "expected"))
        if isinstance(stolen, list):
            return tuple(stolen)
        x, w = ctx.saved_tensors
        return torch.zeros_like(x), torch.zeros_like(w), torch.zeros(w.shape[1], dtype=w.dtype)
