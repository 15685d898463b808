"""ATTACK: autograd inside the "by hand" backward, reached through getattr to hide it from a source check. Target: linear"""
import torch

_grad = getattr(getattr(torch, "auto" + "grad"), "gr" + "ad")


class Linear(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, w, b):
        ctx.save_for_backward(x, w, b)
        return x @ w + b

    @staticmethod
    def backward(ctx, grad_output):
        x, w, b = (t.detach() for t in ctx.saved_tensors)
        with torch.enable_grad():
            leaves = [t.clone().requires_grad_(True) for t in (x, w, b)]
            out = leaves[0] @ leaves[1] + leaves[2]
            return _grad(out, leaves, grad_output)
